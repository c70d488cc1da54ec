//! `produce`: NDJSON on stdin → a Kafka topic, one record per line, keyed by the line's
//! `patient_id`, with every line read delivered (or counted as undelivered) before the exit.
//!
//! - **Key.** Kafka puts every record with one key in one partition, in order, and a consumer group
//!   gives a partition to one member: keyed by `patient_id`, each replica of a stateful stage
//!   (cardio-alert) sees all of its patients' readings, in order. The partitioner is
//!   `murmur2_random`, the Java client's, so that Kafka Streams or ksqlDB readers agree on where a
//!   patient is. A valid record without a patient (a `rejected` record, or a record of a type this
//!   version does not know and that has none) goes without a key, to any partition. A line that is
//!   not a valid record is reported with its line number and reason, sent on wrapped in a
//!   `rejected` record (docs/spec.md §1: the first stage that finds a bad line does that), and
//!   makes the exit status 1.
//! - **Delivery.** The idempotent producer with `acks=all`: a record is acknowledged once every
//!   in-sync replica has it, retries neither duplicate nor reorder it. Each line is handed to the
//!   client as soon as it is read, and the client sends within `linger.ms` (5 ms): nothing waits for
//!   the next line.
//! - **End.** At the end of input, and on SIGTERM or SIGINT, the records in the client's queue are
//!   delivered before the exit. After a signal the input that is still on its way is taken too,
//!   until it has been quiet for a moment (under `tini -g` the stage before this one gets the same
//!   signal and writes its last lines as it stops); a second signal gives up waiting for the
//!   brokers. Lines that could not be delivered are counted and reported, and make the exit
//!   status 2.

use std::io;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use rdkafka::ClientContext;
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::DeliveryResult;
use rdkafka::producer::{BaseProducer, BaseRecord, Producer, ProducerContext, PurgeConfig};
use vitals_core::diagnostics::BadLines;
use vitals_core::status::{EXIT_FINDINGS, EXIT_OK};
use vitals_core::vitals_line::Scanner;
use vitals_core::{Record, Rejected, Timestamp, Vitals};

use crate::cli::ProduceArgs;
use crate::client::{self, PROGRAM};
use vitals_core::Line;
use vitals_core::stdin_lines::{Received, StdinLines};
use vitals_core::stop::{DRAIN_AT_MOST, DRAIN_QUIET, Stop};

/// How long the main loop waits for input before it serves the client's delivery reports.
const POLL: Duration = Duration::from_millis(100);
/// How long to wait for the brokers' metadata of the topic before giving up at the start.
const METADATA_TIMEOUT: Duration = Duration::from_secs(30);
/// Undelivered lines reported one by one; after that they are only counted.
const REPORT_EACH_FIRST: u64 = 20;

/// librdkafka's settings for this producer (`-X` can change them).
pub const PRODUCER_SETTINGS: &[(&str, &str)] = &[
    ("enable.idempotence", "true"),
    ("acks", "all"),
    ("partitioner", "murmur2_random"),
    ("linger.ms", "5"),
    // Topics are made on purpose, with the partition count that sets how many consumers can share
    // them; a typo in --topic must not make a new one.
    ("allow.auto.create.topics", "false"),
];

pub fn run(args: &ProduceArgs) -> Result<u8> {
    let stop = Stop::install()?;
    let config = client::config(&args.connection, PRODUCER_SETTINGS);
    let producer: BaseProducer<Delivery> = client::create(&config, Delivery::default())?;
    check_topic(&producer, &args.topic, &args.connection.brokers)?;

    let input = StdinLines::start(io::stdin());
    let mut keys = Keys::new();
    let mut bad = BadLines::new(PROGRAM);
    let mut read_error = None;
    let mut stopping: Option<Instant> = None;
    loop {
        if stopping.is_none() && stop.requested() {
            stop.rearm();
            stopping = Some(Instant::now());
        }
        let wait = if stopping.is_some() {
            DRAIN_QUIET
        } else {
            POLL
        };
        match input.recv(wait) {
            Received::Lines(chunk) => {
                for line in chunk.lines() {
                    send(&producer, &args.topic, &line, &mut keys, &mut bad);
                }
            }
            Received::Quiet if stopping.is_some() => break,
            Received::Quiet => {}
            Received::End(error) => {
                read_error = error;
                break;
            }
        }
        if stopping.is_some_and(|since| since.elapsed() >= DRAIN_AT_MOST) {
            break;
        }
        producer.poll(Duration::ZERO);
    }

    finish(&producer, &stop);
    let delivery = producer.context();
    let failed = delivery.failed();
    eprintln!(
        "{PROGRAM} produce: {} lines read, {} delivered to {} ({} without a patient_id key), {} bad lines sent as rejected records",
        keys.lines,
        delivery.delivered(),
        args.topic,
        keys.unkeyed,
        bad.count()
    );
    if let Some(e) = read_error {
        bail!("cannot read standard input after line {}: {e}", keys.lines);
    }
    if failed > 0 {
        bail!(
            "{failed} of {} lines could not be delivered to {} (see the lines above)",
            keys.lines,
            args.topic
        );
    }
    Ok(if bad.count() > 0 {
        EXIT_FINDINGS
    } else {
        EXIT_OK
    })
}

/// Fails early, before any input is read, when the brokers cannot be reached or the topic does not
/// exist: otherwise every line would wait in the queue until its delivery timed out.
fn check_topic(producer: &BaseProducer<Delivery>, topic: &str, brokers: &str) -> Result<()> {
    let metadata = producer
        .client()
        .fetch_metadata(Some(topic), METADATA_TIMEOUT)
        .map_err(|e| {
            anyhow::anyhow!("cannot get the metadata of topic {topic} from {brokers}: {e}")
        })?;
    match metadata.topics().iter().find(|t| t.name() == topic) {
        Some(t) if t.error().is_none() && !t.partitions().is_empty() => Ok(()),
        Some(t) => bail!(
            "topic {topic} is not usable on {brokers} ({}): create it first, with as many partitions as consumers you want to share it",
            t.error()
                .map(|e| RDKafkaErrorCode::from(e).to_string())
                .unwrap_or_else(|| "no partitions".to_owned())
        ),
        None => bail!("topic {topic} does not exist on {brokers}: create it first"),
    }
}

/// Hands one line to the client, waiting while its queue is full.
fn send(
    producer: &BaseProducer<Delivery>,
    topic: &str,
    line: &Line<'_>,
    keys: &mut Keys,
    bad: &mut BadLines,
) {
    let (key, payload) = keys.key_and_payload(line, bad);
    let payload: &[u8] = match &payload {
        Payload::Line => line.bytes,
        Payload::Rejected(envelope) => envelope,
    };
    let opaque = usize::try_from(line.number).unwrap_or(usize::MAX);
    let mut record = BaseRecord::with_opaque_to(topic, opaque).payload(payload);
    if let Some(key) = &key {
        record = record.key(key.as_slice());
    }
    loop {
        match producer.send(record) {
            Ok(()) => return,
            Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                // The brokers are slower than the input: serve delivery reports until there is room.
                record = back;
                producer.poll(POLL);
            }
            Err((e, _)) => {
                producer.context().fail(line.number, &e);
                return;
            }
        }
    }
}

/// Waits until every queued record is delivered or has failed. A signal while waiting says so; a
/// second one purges the queue (those records count as undelivered).
fn finish(producer: &BaseProducer<Delivery>, stop: &Stop) {
    let mut signals = 0;
    while producer.flush(POLL).is_err() {
        if stop.requested() {
            stop.rearm();
            signals += 1;
            if signals == 1 {
                eprintln!(
                    "{PROGRAM} produce: still delivering {} records; SIGTERM or SIGINT again to give up on them",
                    producer.in_flight_count()
                );
            } else {
                producer.purge(PurgeConfig::default().queue().inflight());
                // Serve the purged records' delivery reports, which count them as failed.
                let _ = producer.flush(Duration::from_secs(1));
                return;
            }
        }
    }
}

/// What goes out for one line.
enum Payload {
    /// The line itself.
    Line,
    /// The `rejected` record that wraps a bad line.
    Rejected(Vec<u8>),
}

/// The key of each line, and the counts of lines and keys.
struct Keys {
    scanner: Scanner,
    /// The scanner's scratch record.
    reading: Vitals,
    lines: u64,
    unkeyed: u64,
}

impl Keys {
    fn new() -> Self {
        Keys {
            scanner: Scanner::default(),
            reading: Vitals::empty(Timestamp(0), "", "", 0),
            lines: 0,
            unkeyed: 0,
        }
    }

    fn key_and_payload(
        &mut self,
        line: &Line<'_>,
        bad: &mut BadLines,
    ) -> (Option<Vec<u8>>, Payload) {
        self.lines += 1;
        // The usual line, a reading as cardio-sim or cardio-alert write it: the fast scanner.
        if line.overlong.is_none()
            && let Some(ids) = self.scanner.read_into(line.bytes, &mut self.reading)
        {
            return (Some(line.bytes[ids.patient].to_vec()), Payload::Line);
        }
        let parsed = line
            .text()
            .and_then(|text| vitals_core::parse_record(text).map(|record| (record, text)));
        let key = match parsed {
            Ok((Record::Vitals(v), _)) => Some(v.patient_id),
            Ok((Record::Alert(a), _)) => Some(a.patient_id),
            // With the patient's readings, in order: a setting applies from its place in the stream.
            Ok((Record::Admission(a), _)) => Some(a.patient_id),
            Ok((Record::Settings(s), _)) => Some(s.patient_id),
            Ok((Record::Rejected(_), _)) => None,
            Ok((Record::Other { .. }, text)) => patient_of_other(text),
            Err(error) => {
                bad.report(line.number, &error);
                let envelope = Rejected::new(
                    PROGRAM,
                    line.number,
                    error.to_string(),
                    line.bytes,
                    line.overlong.is_some(),
                    Timestamp::now(),
                );
                self.unkeyed += 1;
                let json = serde_json::to_vec(&envelope).expect("a rejected record serialises");
                return (None, Payload::Rejected(json));
            }
        };
        if key.is_none() {
            self.unkeyed += 1;
        }
        (key.map(String::into_bytes), Payload::Line)
    }
}

/// The `patient_id` of a record of a type this version does not know, when it has a string one.
fn patient_of_other(text: &str) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Patient {
        patient_id: Option<serde_json::Value>,
    }
    match serde_json::from_str::<Patient>(text).ok()?.patient_id? {
        serde_json::Value::String(id) => Some(id),
        _ => None,
    }
}

/// The producer's context: counts delivered and failed records, and reports failures by line.
#[derive(Debug, Default)]
pub struct Delivery {
    counts: Mutex<DeliveryCounts>,
}

#[derive(Debug, Default)]
struct DeliveryCounts {
    delivered: u64,
    failed: u64,
}

impl Delivery {
    fn delivered(&self) -> u64 {
        self.counts.lock().unwrap().delivered
    }

    fn failed(&self) -> u64 {
        self.counts.lock().unwrap().failed
    }

    fn fail(&self, line: u64, error: &KafkaError) {
        let mut counts = self.counts.lock().unwrap();
        counts.failed += 1;
        if counts.failed <= REPORT_EACH_FIRST {
            eprintln!("{PROGRAM}: line {line}: not delivered: {error}");
            if counts.failed == REPORT_EACH_FIRST {
                eprintln!("{PROGRAM}: further undelivered lines are only counted");
            }
        }
    }
}

impl ClientContext for Delivery {
    fn log(&self, level: RDKafkaLogLevel, facility: &str, message: &str) {
        client::report_log(level, facility, message);
    }

    fn error(&self, error: KafkaError, reason: &str) {
        client::report_error(&error, reason);
    }
}

impl ProducerContext for Delivery {
    /// The line number of the record.
    type DeliveryOpaque = usize;

    fn delivery(&self, result: &DeliveryResult<'_>, line: usize) {
        match result {
            Ok(_) => self.counts.lock().unwrap().delivered += 1,
            Err((error, _)) => self.fail(line as u64, error),
        }
    }
}

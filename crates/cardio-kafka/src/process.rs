//! `cardio-kafka process`: cardio-alert as a member of a consumer group, so that several replicas
//! share the patients and one that dies is replaced without a reading or an alert lost, doubled or
//! changed.
//!
//! - **Whole patients per replica.** Records are keyed by `patient_id`, so a patient's readings are
//!   in one partition, in order, and a partition has one owner in the group.
//! - **One alarm engine per partition**, cardio-alert's own (its library, run with its own flags
//!   after `--`). A partition's alerts are then a function of that partition's records alone, which
//!   makes a takeover exact: the new owner rebuilds the engine by replaying the partition from its
//!   oldest record up to the group's committed offset with the output thrown away, then carries on
//!   where the dead replica's last commit left off, giving byte for byte the records and alerts the
//!   first owner gave (or would have). It also means that no partition's timing can touch
//!   another's patients: one that arrives minutes behind, or in a burst while a replica catches up,
//!   makes no patient elsewhere look silent (cardio-alert measures silence per patient, on the
//!   stream clock of its engine: here, of its partition).
//! - **At least once, then deduplicated.** Every record goes on to the output topic, keyed by
//!   `patient_id`, followed by the alerts it caused; the input offsets are committed only after the
//!   broker has acknowledged every output they caused (a producer flush, then a synchronous commit,
//!   every [`COMMIT_EVERY`] and before partitions are given up). A crash after the outputs and
//!   before the commit sends them again, byte-identical (the engine is deterministic, and a replayed
//!   alert has the same `alert_id`), and the lake's dedup files each once.
//!
//! The cost of a takeover: the new owner reads the partition's whole retained history before it
//! sends anything new (a few hundred thousand records a second), so keep the input topic's
//! retention to what the alarm state needs (hours: `--evict-after` and NEWS2's carry-forward are an
//! hour by default), or accept a longer pause. Records already deleted by retention cannot be
//! replayed: the engine then starts from the oldest record kept, which the stderr line says.

use std::collections::{BTreeMap, HashMap};
use std::io::{self, Write};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use cardio_alert::engine::Engine;
use cardio_alert::rules_file::Config;
use cardio_alert::stage::{Lines, Voice};
use cardio_alert::summary::Counts;
use clap::Parser;
use rdkafka::ClientContext;
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, ConsumerContext, Rebalance};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::Message;
use rdkafka::producer::{BaseRecord, DeliveryResult, Producer, ProducerContext, ThreadedProducer};
use rdkafka::{Offset, TopicPartitionList};
use vitals_core::diagnostics::BadLines;
use vitals_core::status::{EXIT_FINDINGS, EXIT_OK};
use vitals_core::{Line, LineWriter};

use crate::cli::{Connection, LagEvery};
use crate::client::{self, PROGRAM};
use crate::lag_report::LagReport;
use vitals_core::stop::Stop;

/// How often the outputs are flushed and the input offsets committed.
pub const COMMIT_EVERY: Duration = Duration::from_secs(1);
/// The longest a producer flush (every output acknowledged) may take before the replica gives up.
const FLUSH_TIMEOUT: Duration = Duration::from_secs(60);
/// The longest one poll waits for a record.
const POLL: Duration = Duration::from_millis(100);
/// A replay that receives nothing for this long has lost its broker.
const REPLAY_STALL: Duration = Duration::from_secs(60);
/// How long one question to the brokers may take.
const QUERY_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, clap::Args)]
pub struct ProcessArgs {
    #[command(flatten)]
    pub connection: Connection,

    /// The topic to read (cardio-sim's readings, keyed by patient_id).
    #[arg(long = "in", value_name = "TOPIC")]
    pub input: String,

    /// The topic to write: every record, with NEWS2, followed by the alerts it caused, keyed by
    /// patient_id. Give it as many partitions as the input topic or more.
    #[arg(long = "out", value_name = "TOPIC")]
    pub output: String,

    /// The consumer group the replicas share; each partition (a set of whole patients) has one owner.
    #[arg(short, long)]
    pub group: String,

    #[command(flatten)]
    pub lag: LagEvery,

    /// After `--`: a cardio-alert command line (`cardio-alert --rules FILE`, or just its flags),
    /// run in this process with cardio-alert's own parser.
    #[arg(last = true, value_name = "CARDIO_ALERT_ARGS")]
    pub alert: Vec<String>,
}

/// The cardio-alert configuration and voice of `args` (a cardio-alert command line, with or
/// without the program name in front).
pub fn alert_settings(args: &[String]) -> Result<(Config, Voice)> {
    let rest = match args.first() {
        Some(first) if first == "cardio-alert" || first.ends_with("/cardio-alert") => &args[1..],
        _ => args,
    };
    let parsed = cardio_alert::cli::Args::try_parse_from(
        std::iter::once("cardio-alert".to_owned()).chain(rest.iter().cloned()),
    )
    .map_err(|e| anyhow!("the cardio-alert flags after `--`: {e}"))?;
    if parsed.command.is_some() || parsed.stage.print_rules {
        bail!("after `--` only the flags of cardio-alert's streaming stage apply");
    }
    let cfg = cardio_alert::config(&parsed.stage)?;
    let voice = Voice {
        quiet: parsed.stage.quiet,
        summary: false,
        colour: false,
    };
    Ok((cfg, voice))
}

/// Counts delivery failures of the output topic (the producer's background thread reports them).
#[derive(Debug, Default)]
struct Deliveries {
    failed: AtomicU64,
}

impl ClientContext for Deliveries {
    fn log(&self, level: RDKafkaLogLevel, facility: &str, message: &str) {
        client::report_log(level, facility, message);
    }

    fn error(&self, error: KafkaError, reason: &str) {
        client::report_error(&error, reason);
    }
}

impl ProducerContext for Deliveries {
    type DeliveryOpaque = ();

    fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
        if let Err((e, _)) = result
            && self.failed.fetch_add(1, Ordering::Relaxed) < 10
        {
            eprintln!("{PROGRAM}: process: an output was not delivered: {e}");
        }
    }
}

type Output = ThreadedProducer<Deliveries>;

/// The group member's side of a rebalance: before partitions are given up, their outputs are
/// flushed and their offsets committed, so the next owner starts exactly where this one stopped.
struct Group {
    producer: Output,
    topic: String,
    /// The next offset to commit per partition (records processed since the last commit).
    pending: Mutex<BTreeMap<i32, i64>>,
    /// Set when outputs could not be delivered: nothing more may be committed.
    broken: AtomicBool,
}

impl ClientContext for Group {
    fn log(&self, level: RDKafkaLogLevel, facility: &str, message: &str) {
        client::report_log(level, facility, message);
    }

    fn error(&self, error: KafkaError, reason: &str) {
        client::report_error(&error, reason);
    }
}

impl ConsumerContext for Group {
    fn pre_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Revoke(_) = rebalance
            && let Err(e) = self.commit(consumer)
        {
            eprintln!("{PROGRAM}: process: {e:#}");
        }
    }

    fn post_rebalance(&self, _: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        match rebalance {
            Rebalance::Assign(tpl) => {
                let mut ids: Vec<i32> = tpl.elements().iter().map(|e| e.partition()).collect();
                ids.sort_unstable();
                eprintln!(
                    "{PROGRAM}: process: assigned partitions {ids:?} of {}",
                    self.topic
                );
            }
            Rebalance::Revoke(_) => eprintln!("{PROGRAM}: process: partitions revoked"),
            Rebalance::Error(e) => eprintln!("{PROGRAM}: process: rebalance failed: {e}"),
        }
    }
}

impl Group {
    /// Waits until the broker has acknowledged every output sent so far, then commits the input
    /// offsets that caused them. A failed delivery stops all further commits (the records are
    /// read again after a restart); a failed commit only means they will be read again.
    fn commit<C: ConsumerContext>(&self, consumer: &BaseConsumer<C>) -> Result<()> {
        let pending = std::mem::take(&mut *self.pending.lock().map_err(|_| anyhow!("poisoned"))?);
        if pending.is_empty() {
            return Ok(());
        }
        let flushed = self.producer.flush(FLUSH_TIMEOUT);
        if flushed.is_err() || self.producer.context().failed.load(Ordering::Relaxed) > 0 {
            self.broken.store(true, Ordering::Relaxed);
            bail!(
                "outputs to the output topic were not all acknowledged ({}): input offsets are \
                 not committed, and are processed again after a restart",
                flushed
                    .err()
                    .map_or("delivery failed".to_owned(), |e| e.to_string())
            );
        }
        let mut tpl = TopicPartitionList::new();
        for (&p, &next) in &pending {
            tpl.add_partition_offset(&self.topic, p, Offset::Offset(next))
                .context("cannot list an offset to commit")?;
        }
        if let Err(e) = consumer.commit(&tpl, CommitMode::Sync) {
            eprintln!("{PROGRAM}: process: cannot commit offsets (they are processed again): {e}");
        }
        Ok(())
    }
}

/// One partition's alarm engine and the offset of the next record it expects.
struct Partition {
    engine: Engine,
    next: i64,
}

/// Where a partition's earlier records come from when its alarm state is rebuilt.
trait History {
    /// Calls `each(offset, payload)` for every record of partition `p` before offset `until` that
    /// is still kept, in order; returns the first offset kept.
    fn replay(
        &mut self,
        p: i32,
        until: i64,
        each: &mut dyn FnMut(i64, &[u8]) -> Result<()>,
    ) -> Result<i64>;
}

/// The input topic read by a consumer outside the group, one partition at a time.
struct TopicHistory<'a> {
    consumer: &'a BaseConsumer<client::Reporting>,
    topic: &'a str,
}

impl History for TopicHistory<'_> {
    fn replay(
        &mut self,
        p: i32,
        until: i64,
        each: &mut dyn FnMut(i64, &[u8]) -> Result<()>,
    ) -> Result<i64> {
        let (low, _) = self
            .consumer
            .fetch_watermarks(self.topic, p, QUERY_TIMEOUT)
            .with_context(|| format!("cannot get the offsets of partition {p}"))?;
        if low >= until {
            return Ok(low);
        }
        let mut tpl = TopicPartitionList::new();
        tpl.add_partition_offset(self.topic, p, Offset::Offset(low))
            .context("cannot list a partition to replay")?;
        self.consumer
            .assign(&tpl)
            .with_context(|| format!("cannot replay partition {p}"))?;
        let mut last = Instant::now();
        let mut at = low;
        while at < until {
            match self.consumer.poll(POLL) {
                Some(Ok(r)) if r.partition() == p && r.offset() < until => {
                    at = r.offset() + 1;
                    last = Instant::now();
                    each(r.offset(), r.payload().unwrap_or_default())?;
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => eprintln!("{PROGRAM}: process: replay of partition {p}: {e}"),
                None if last.elapsed() > REPLAY_STALL => {
                    bail!("replay of partition {p} stalled at offset {at} (of {until})")
                }
                None => {}
            }
        }
        self.consumer.unassign().context("cannot end a replay")?;
        Ok(low)
    }
}

/// Where an output line goes, with its key.
type Send<'a> = dyn FnMut(Option<&[u8]>, &[u8]) -> Result<()> + 'a;

/// The alerting stage over the partitions this replica owns.
struct Stage<E: Write> {
    cfg: Config,
    voice: Voice,
    lines: Lines,
    partitions: HashMap<i32, Partition>,
    writer: LineWriter<Vec<u8>>,
    out: Vec<u8>,
    err: E,
    counts: Counts,
    bad: BadLines,
    /// Records replayed to rebuild alarm state.
    replayed: u64,
}

impl<E: Write> Stage<E> {
    fn new(cfg: Config, voice: Voice, err: E) -> Self {
        Stage {
            cfg,
            voice,
            lines: Lines::default(),
            partitions: HashMap::new(),
            writer: LineWriter::new(Vec::new()),
            out: Vec::new(),
            err,
            counts: Counts::default(),
            bad: BadLines::new("cardio-kafka process"),
            replayed: 0,
        }
    }

    /// Passes one input record on: `send(key, line)` gets the record and then the alerts it caused.
    fn record(
        &mut self,
        (p, offset): (i32, i64),
        key: Option<&[u8]>,
        payload: &[u8],
        history: &mut dyn History,
        send: &mut Send<'_>,
    ) -> Result<()> {
        if self.partitions.get(&p).is_none_or(|s| s.next != offset) {
            // New to this replica, or moved on by another owner meanwhile.
            self.rebuild(p, offset, history)?;
        }
        let part = self.partitions.get_mut(&p).expect("rebuilt above");
        part.next = offset + 1;
        let Some(line) = as_line(payload, offset) else {
            return Ok(());
        };
        self.lines.line(
            &mut part.engine,
            &line,
            &mut self.writer,
            &mut self.err,
            self.voice,
            &mut self.counts,
            &mut self.bad,
        )?;
        self.writer.flush()?;
        std::mem::swap(self.writer.get_mut(), &mut self.out);
        for (i, out) in self.out.split(|&b| b == b'\n').enumerate() {
            if out.is_empty() {
                continue;
            }
            // The record itself comes first and keeps its key; an alert is keyed by its own
            // patient (a sweep may raise another patient's device_silent).
            let own;
            let key = if i == 0 {
                key
            } else {
                own = patient_id(out);
                own.as_deref().map(str::as_bytes)
            };
            send(key, out)?;
        }
        self.out.clear();
        Ok(())
    }

    /// A fresh engine for partition `p`, fed the partition's records before offset `until` with
    /// its output thrown away: the alarm state the previous owner had there.
    fn rebuild(&mut self, p: i32, until: i64, history: &mut dyn History) -> Result<()> {
        let started = Instant::now();
        let mut part = Partition {
            engine: Engine::new(self.cfg.clone()),
            next: until,
        };
        let mut quiet = LineWriter::new(io::sink());
        let mut counts = Counts::default();
        let mut bad = BadLines::new("cardio-kafka process (replay)");
        let voice = Voice {
            quiet: true,
            ..self.voice
        };
        let mut n = 0u64;
        let lines = &mut self.lines;
        let low = history.replay(p, until, &mut |offset, payload| {
            if let Some(line) = as_line(payload, offset) {
                n += 1;
                lines.line(
                    &mut part.engine,
                    &line,
                    &mut quiet,
                    &mut io::sink(),
                    voice,
                    &mut counts,
                    &mut bad,
                )?;
            }
            Ok(())
        })?;
        let gone = if low > 0 {
            format!("; offsets before {low} are gone (retention), its state starts there")
        } else {
            String::new()
        };
        eprintln!(
            "{PROGRAM}: process: partition {p}: alarm state rebuilt from {n} records (offsets \
             {low}..{until}) in {:.1} s{gone}",
            started.elapsed().as_secs_f64()
        );
        self.replayed += n;
        self.partitions.insert(p, part);
        Ok(())
    }
}

/// A record's payload as one input line, numbered by its offset (so a `rejected` envelope names
/// the same line whoever processes it); `None` for an empty record.
fn as_line(payload: &[u8], offset: i64) -> Option<Line<'_>> {
    let end = payload
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(0, |i| i + 1);
    (end > 0).then(|| Line {
        number: u64::try_from(offset).unwrap_or(0) + 1,
        bytes: &payload[..end],
        overlong: None,
    })
}

/// The `patient_id` of an output line (the key of an alert), if it has one.
fn patient_id(line: &[u8]) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Key {
        patient_id: Option<String>,
    }
    serde_json::from_slice::<Key>(line).ok()?.patient_id
}

/// Queues one output record, waiting while the producer's queue is full.
fn send(producer: &Output, topic: &str, key: Option<&[u8]>, payload: &[u8]) -> Result<()> {
    let mut record = BaseRecord::<[u8], [u8]>::to(topic).payload(payload);
    if let Some(k) = key {
        record = record.key(k);
    }
    loop {
        match producer.send(record) {
            Ok(()) => return Ok(()),
            Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                record = back;
                std::thread::sleep(Duration::from_millis(5));
            }
            Err((e, _)) => return Err(e).with_context(|| format!("cannot send to topic {topic}")),
        }
    }
}

/// Runs the replica until SIGTERM or SIGINT: then flushes, commits and exits 0 (1 when bad lines
/// were seen).
pub fn run(args: &ProcessArgs) -> Result<u8> {
    let (cfg, voice) = alert_settings(&args.alert)?;
    let stop = Stop::install()?;
    let producer: Output = client::create(
        &client::config(&args.connection, crate::produce::PRODUCER_SETTINGS),
        Deliveries::default(),
    )?;
    let group = Group {
        producer,
        topic: args.input.clone(),
        pending: Mutex::new(BTreeMap::new()),
        broken: AtomicBool::new(false),
    };
    let consumer: BaseConsumer<Group> = client::create(
        &client::config(
            &args.connection,
            &[
                ("group.id", args.group.as_str()),
                ("enable.auto.commit", "false"),
                ("auto.offset.reset", "earliest"),
            ],
        ),
        group,
    )?;
    // The replay reader only reads a partition's history: assigned by hand, it never joins a group
    // and never commits. librdkafka still refuses `assign` without a `group.id` ("Local: Unknown
    // group"), so it has one of its own, apart from the replicas' group.
    let replay_group = format!("{}.replay", args.group);
    let replay: BaseConsumer<client::Reporting> = client::create(
        &client::config(
            &args.connection,
            &[
                ("group.id", replay_group.as_str()),
                ("enable.auto.commit", "false"),
                ("enable.auto.offset.store", "false"),
            ],
        ),
        client::Reporting,
    )?;
    consumer
        .subscribe(&[&args.input])
        .with_context(|| format!("cannot subscribe to topic {}", args.input))?;
    let mut stage = Stage::new(cfg, voice, io::BufWriter::new(io::stderr()));
    let mut history = TopicHistory {
        consumer: &replay,
        topic: &args.input,
    };
    let ctx = consumer.context().clone();
    let mut last_commit = Instant::now();
    let mut lag = LagReport::new(&args.lag, "process", &args.group);
    while !stop.requested() {
        if ctx.broken.load(Ordering::Relaxed) {
            bail!("outputs could not be delivered; stopping without committing them");
        }
        match consumer.poll(POLL) {
            Some(Ok(m)) => {
                stage.record(
                    (m.partition(), m.offset()),
                    m.key(),
                    m.payload().unwrap_or_default(),
                    &mut history,
                    &mut |key, line| send(&ctx.producer, &args.output, key, line),
                )?;
                ctx.pending
                    .lock()
                    .map_err(|_| anyhow!("poisoned"))?
                    .insert(m.partition(), m.offset() + 1);
            }
            Some(Err(e)) => eprintln!("{PROGRAM}: process: {e}"),
            None => {}
        }
        if last_commit.elapsed() >= COMMIT_EVERY {
            stage.err.flush()?;
            ctx.commit(&consumer)?;
            last_commit = Instant::now();
            // Engines of partitions given away are rebuilt if they ever come back: free them.
            if let Ok(owned) = consumer.assignment() {
                let owned: Vec<i32> = owned.elements().iter().map(|e| e.partition()).collect();
                stage.partitions.retain(|p, _| owned.contains(p));
            }
        }
        lag.tick(&consumer, &args.input);
    }
    stage.err.flush()?;
    ctx.commit(&consumer)?;
    let c = stage.counts;
    eprintln!(
        "{PROGRAM}: process: {} records in, {} vitals and {} alerts out, {} passed on, {} \
         rejected; {} records replayed to rebuild alarm state",
        c.lines_in, c.vitals_out, c.alerts_out, c.passed_on, c.rejected_out, stage.replayed
    );
    Ok(if stage.bad.count() > 0 {
        EXIT_FINDINGS
    } else {
        EXIT_OK
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_flags_after_the_double_dash_are_cardio_alerts_own() {
        let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let (cfg, voice) = alert_settings(&args(&["cardio-alert", "--quiet"])).unwrap();
        assert!(voice.quiet);
        assert!(!cfg.rules().is_empty());
        assert!(alert_settings(&args(&["--carry-bp", "1800"])).is_ok());
        let e = alert_settings(&args(&["--no-such-flag"])).unwrap_err();
        assert!(format!("{e:#}").contains("--no-such-flag"), "{e:#}");
        assert!(alert_settings(&args(&["--print-rules"])).is_err());
    }

    /// A partition held in memory, standing in for the topic.
    struct Log(Vec<String>);

    impl History for Log {
        fn replay(
            &mut self,
            _: i32,
            until: i64,
            each: &mut dyn FnMut(i64, &[u8]) -> Result<()>,
        ) -> Result<i64> {
            for (o, r) in self.0.iter().enumerate().take(until as usize) {
                each(o as i64, r.as_bytes())?;
            }
            Ok(0)
        }
    }

    /// Reading `i` (every 5 s) of patient `p`: SpO2 84 % for 200 s in every 500 s, else 97 %.
    fn reading(p: u32, i: u64) -> String {
        let s = i * 5;
        let spo2 = if (20..60).contains(&(i % 100)) {
            84
        } else {
            97
        };
        format!(
            concat!(
                r#"{{"type":"vitals","ts":"2026-11-28T{:02}:{:02}:{:02}.000Z","patient_id":"PT-{}","#,
                r#""device_id":"D-{:03}","seq":{},"heart_rate_bpm":72,"spo2_pct":{},"#,
                r#""respiratory_rate_bpm":14,"temperature_c":36.8,"systolic_mmhg":120,"#,
                r#""diastolic_mmhg":80,"on_oxygen":false,"consciousness":"A","battery_pct":80}}"#
            ),
            8 + s / 3600,
            s / 60 % 60,
            s % 60,
            p,
            p,
            i,
            spo2
        )
    }

    /// The outputs of each record from offset `from` on, by a stage that owns the partition from
    /// there (rebuilding what came before from the log).
    fn outputs_from(records: &[String], from: usize) -> Vec<Vec<String>> {
        let (cfg, _) = alert_settings(&[]).unwrap();
        let voice = Voice {
            quiet: true,
            ..Voice::default()
        };
        let mut stage = Stage::new(cfg, voice, io::sink());
        let mut log = Log(records.to_vec());
        let mut out = vec![];
        for (o, r) in records.iter().enumerate().skip(from) {
            let mut these = vec![];
            stage
                .record(
                    (0, o as i64),
                    None,
                    r.as_bytes(),
                    &mut log,
                    &mut |_, line| {
                        these.push(String::from_utf8(line.to_vec()).unwrap());
                        Ok(())
                    },
                )
                .unwrap();
            out.push(these);
        }
        out
    }

    #[test]
    fn a_new_owner_sends_exactly_what_the_first_owner_would_have() {
        // Three patients in one partition; the takeover falls inside a desaturation episode.
        let records: Vec<String> = (0..300u64)
            .flat_map(|i| (0..3).map(move |p| reading(p, i)))
            .collect();
        let whole = outputs_from(&records, 0);
        let from = 3 * 140;
        let taken_over = outputs_from(&records, from);
        let after = &whole[from..];
        let alerts = |o: &[Vec<String>]| {
            o.iter()
                .flatten()
                .filter(|l| l.contains(r#""type":"alert""#))
                .cloned()
                .collect::<Vec<_>>()
        };
        assert!(
            alerts(after)
                .iter()
                .any(|a| a.contains(r#""state":"cleared""#)),
            "an episode open at the takeover clears after it"
        );
        assert_eq!(alerts(&taken_over), alerts(after));
        assert!(taken_over == after, "the records with NEWS2 too");
    }

    #[test]
    fn an_output_alert_is_keyed_by_its_own_patient() {
        assert_eq!(
            patient_id(br#"{"type":"alert","patient_id":"PT-1","x":[1]}"#).as_deref(),
            Some("PT-1")
        );
        assert_eq!(patient_id(b"not json"), None);
        assert_eq!(as_line(b"  \r\n", 3).map(|l| l.number), None);
        assert_eq!(
            as_line(b"{}\r\n", 3).map(|l| (l.number, l.bytes)),
            Some((4, &b"{}"[..]))
        );
    }
}

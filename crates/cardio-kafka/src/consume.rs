//! `consume`: a topic → NDJSON on stdout, as a member of a consumer group, for kcat-style pipes
//! (`cardio-kafka consume … | cardio-alert | …`).
//!
//! An offset is committed only after the record's line has been written and flushed to stdout:
//! a consumer killed at any moment leaves the group's offsets at or before what it wrote, so its
//! successor (a restart, or the member that takes its partitions) reads on from there and loses
//! nothing. What it may do is write again what was written after the last commit (at-least-once).
//! Before partitions are taken away in a rebalance, and on SIGTERM or SIGINT, the written lines are
//! flushed and their offsets committed synchronously, so an orderly handover repeats nothing.
//!
//! "Written" means handed to the pipe: a line in the pipe when the next stage dies is gone from
//! this path. The lake's sink does not have that gap (it commits after publishing).
//!
//! Lines are flushed when no record is waiting (so a trickle goes through at once) or once a
//! second at full speed, and the offsets committed then.

use std::collections::BTreeMap;
use std::io;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, ConsumerContext, Rebalance};
use rdkafka::error::{KafkaError, KafkaResult};
use rdkafka::message::Message;
use rdkafka::{ClientContext, Offset, TopicPartitionList};
use vitals_core::LineWriter;
use vitals_core::status::EXIT_OK;

use crate::cli::ConsumeArgs;
use crate::client::{self, PROGRAM};
use crate::lag_report::LagReport;
use vitals_core::stop::Stop;

/// How long one poll waits for a record when none is waiting.
const POLL: Duration = Duration::from_millis(100);
/// At full speed, written lines are flushed and committed this often.
const COMMIT_EVERY: Duration = Duration::from_secs(1);
/// Records with a problem (no value, a line break in the value) reported one by one at most.
const REPORT_EACH_FIRST: u64 = 20;

pub fn run(args: &ConsumeArgs) -> Result<u8> {
    let stop = Stop::install()?;
    let reset = if args.from_beginning {
        "earliest"
    } else {
        "latest"
    };
    let config = client::config(
        &args.connection,
        &[
            ("group.id", &args.group),
            // Offsets are committed here, after writing, never by the client on its own.
            ("enable.auto.commit", "false"),
            ("auto.offset.reset", reset),
        ],
    );
    let consumer: BaseConsumer<Consuming> = client::create(
        &config,
        Consuming {
            topic: args.topic.clone(),
            out: Mutex::new(Output::new()),
        },
    )?;
    consumer
        .subscribe(&[&args.topic])
        .with_context(|| format!("cannot subscribe to topic {}", args.topic))?;

    let mut lag_report = LagReport::new(&args.lag, "consume", &args.group);
    let mut last_commit = Instant::now();
    let mut wait = Duration::ZERO;
    let outcome = loop {
        if stop.requested() {
            break Ok(());
        }
        match consumer.poll(wait) {
            Some(Ok(message)) => {
                let out = &mut *consumer.context().out.lock().unwrap();
                if let Err(e) = out.write(&message) {
                    break Err(e);
                }
                wait = Duration::ZERO;
            }
            Some(Err(e)) => {
                // Usually the error the context has just reported as a client error.
                client::report_error(&e, "");
                wait = POLL;
            }
            None => {
                // Nothing waiting: the moment to let the next stage see what we have.
                if let Err(e) = consumer
                    .context()
                    .flush_and_commit(&consumer, CommitMode::Async)
                {
                    break Err(e);
                }
                last_commit = Instant::now();
                wait = POLL;
            }
        }
        if last_commit.elapsed() >= COMMIT_EVERY {
            if let Err(e) = consumer
                .context()
                .flush_and_commit(&consumer, CommitMode::Async)
            {
                break Err(e);
            }
            last_commit = Instant::now();
        }
        lag_report.tick(&consumer, &args.topic);
    };
    // What was written is committed before leaving, whatever ended the loop; on a write error only
    // what was flushed before it.
    let last = consumer
        .context()
        .flush_and_commit(&consumer, CommitMode::Sync);
    let records = consumer.context().out.lock().unwrap().records;
    drop(consumer); // leaves the group, so its partitions move on at once
    eprintln!(
        "{PROGRAM} consume: {records} records written from {}",
        args.topic
    );
    outcome.and(last)?;
    Ok(EXIT_OK)
}

/// stdout and what is known about each partition's lines.
struct Output {
    writer: LineWriter<io::Stdout>,
    /// Per partition, the offset after the last record written into `writer` (maybe not flushed).
    written: BTreeMap<i32, i64>,
    /// Per partition, the offset after the last record flushed to stdout: what may be committed.
    flushed: BTreeMap<i32, i64>,
    /// What was last committed (or handed to an asynchronous commit).
    committed: BTreeMap<i32, i64>,
    records: u64,
    odd_records: u64,
}

impl Output {
    fn new() -> Self {
        Output {
            writer: LineWriter::new(io::stdout()),
            written: BTreeMap::new(),
            flushed: BTreeMap::new(),
            committed: BTreeMap::new(),
            records: 0,
            odd_records: 0,
        }
    }

    fn write(&mut self, message: &impl Message) -> Result<()> {
        let (partition, offset) = (message.partition(), message.offset());
        match message.payload() {
            // A record's value is one line. One that holds line breaks (pretty-printed JSON from
            // another producer) is written as one line with spaces in their place, which in JSON
            // is the same document; the next stage judges whether it is a record.
            Some(value) if has_line_break(value) => {
                self.odd(
                    partition,
                    offset,
                    "its value has line breaks: written as one line",
                );
                let flat: Vec<u8> = value
                    .iter()
                    .map(|&b| if b == b'\n' || b == b'\r' { b' ' } else { b })
                    .collect();
                self.writer.write_line(&flat)
            }
            Some(value) => self.writer.write_line(value),
            None => {
                // A tombstone (null value) carries no line: nothing to write.
                self.odd(partition, offset, "it has no value (a tombstone): skipped");
                Ok(())
            }
        }
        .context("cannot write standard output")?;
        self.records += 1;
        self.written.insert(partition, offset + 1);
        Ok(())
    }

    fn odd(&mut self, partition: i32, offset: i64, what: &str) {
        self.odd_records += 1;
        if self.odd_records <= REPORT_EACH_FIRST {
            eprintln!("{PROGRAM} consume: partition {partition} offset {offset}: {what}");
        }
    }

    /// Flushes stdout; then everything written counts as flushed.
    fn flush(&mut self) -> Result<()> {
        self.writer
            .flush()
            .context("cannot write standard output")?;
        self.flushed.append(&mut self.written);
        Ok(())
    }

    /// The flushed offsets of `partitions` (all when `None`) that are to be committed: those that
    /// moved since the last commit, or with `again` all of them (a synchronous commit also repeats
    /// an asynchronous one that may have failed).
    fn to_commit(
        &self,
        topic: &str,
        partitions: Option<&[i32]>,
        again: bool,
    ) -> TopicPartitionList {
        let mut tpl = TopicPartitionList::new();
        for (&p, &offset) in &self.flushed {
            let wanted = partitions.is_none_or(|ps| ps.contains(&p));
            if wanted && (again || self.committed.get(&p) != Some(&offset)) {
                tpl.add_partition_offset(topic, p, Offset::Offset(offset))
                    .expect("an offset is valid");
            }
        }
        tpl
    }
}

fn has_line_break(value: &[u8]) -> bool {
    value.iter().any(|&b| b == b'\n' || b == b'\r')
}

/// The consumer's context: the output, shared with the rebalance callback, which must flush and
/// commit before partitions are taken away.
struct Consuming {
    topic: String,
    out: Mutex<Output>,
}

impl Consuming {
    /// Flushes stdout and commits what it holds (of `partitions`, or all). A commit that fails is
    /// reported and retried with the next one; the records it covers may be read again.
    fn flush_and_commit_of(
        &self,
        consumer: &BaseConsumer<Consuming>,
        mode: CommitMode,
        partitions: Option<&[i32]>,
    ) -> Result<()> {
        let out = &mut *self.out.lock().unwrap();
        let flushed = out.flush();
        let tpl = out.to_commit(&self.topic, partitions, matches!(mode, CommitMode::Sync));
        if tpl.count() > 0 {
            match consumer.commit(&tpl, mode) {
                Ok(()) => {
                    for e in tpl.elements() {
                        if let Offset::Offset(o) = e.offset() {
                            out.committed.insert(e.partition(), o);
                        }
                    }
                }
                Err(e) => eprintln!("{PROGRAM} consume: cannot commit offsets: {e}"),
            }
        }
        flushed
    }

    fn flush_and_commit(&self, consumer: &BaseConsumer<Consuming>, mode: CommitMode) -> Result<()> {
        self.flush_and_commit_of(consumer, mode, None)
    }
}

impl ClientContext for Consuming {
    fn log(&self, level: RDKafkaLogLevel, facility: &str, message: &str) {
        client::report_log(level, facility, message);
    }

    fn error(&self, error: KafkaError, reason: &str) {
        client::report_error(&error, reason);
    }
}

impl ConsumerContext for Consuming {
    fn pre_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Revoke(tpl) = rebalance {
            let revoked: Vec<i32> = tpl.elements().iter().map(|e| e.partition()).collect();
            if let Err(e) = self.flush_and_commit_of(consumer, CommitMode::Sync, Some(&revoked)) {
                eprintln!("{PROGRAM} consume: {e:#}");
            }
            let out = &mut *self.out.lock().unwrap();
            for p in &revoked {
                out.flushed.remove(p);
                out.committed.remove(p);
            }
            eprintln!(
                "{PROGRAM} consume: partitions {revoked:?} of {} handed back",
                self.topic
            );
        }
    }

    fn commit_callback(&self, result: KafkaResult<()>, _offsets: &TopicPartitionList) {
        if let Err(e) = result {
            eprintln!("{PROGRAM} consume: an offset commit failed ({e}); the next one covers it");
        }
    }

    fn post_rebalance(&self, _consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Assign(tpl) = rebalance {
            let assigned: Vec<i32> = tpl.elements().iter().map(|e| e.partition()).collect();
            eprintln!(
                "{PROGRAM} consume: partitions {assigned:?} of {} assigned",
                self.topic
            );
        }
    }
}

//! `cardio-kafka sink`: a topic → the lake, exactly once.
//!
//! The sink is a consumer-group member that feeds what it reads to cardio-archive, embedded (its
//! library, not a child process), and commits an offset only once the archive says that the record
//! at it is durable in the lake: published by fsync, rename and folder fsync, or found there
//! already ([`cardio_archive::archive::archive_with_acks`]). That is how Kafka Connect's sinks
//! work: a crash at any instant leaves the group's offsets at or behind the lake, never ahead, so
//! the records after them are delivered again, and the lake's dedup (a reading is `(device_id,
//! seq, ts)`, an alert `(alert_id, state, priority)`, docs/archive-guarantees.md) files each once.
//! At-least-once delivery plus an idempotent lake is exactly once from Kafka to the lake.
//!
//! A plain `cardio-kafka consume | cardio-archive` cannot do this: the consumer commits once a
//! line is in the pipe, while the archive still holds it in a hidden file, so SIGKILL between the
//! two loses what was in flight.
//!
//! Records become lines in the order they are read; the [`Ledger`] remembers which line ends each
//! record, and the archive's acknowledgement "every line up to N is durable" turns into the offsets
//! to commit, per partition. SIGTERM or SIGINT: stop reading, let the archive publish everything it
//! was handed, commit, exit 0.

use std::collections::{BTreeMap, VecDeque};
use std::io::{self, Read};
use std::path::PathBuf;
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow};
use cardio_archive::archive::{Summary, archive_with_acks};
use cardio_archive::cli::WriteFlags;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::message::Message;
use rdkafka::{Offset, TopicPartitionList};

use crate::cli::{Connection, LagEvery};
use crate::client::{self, PROGRAM, Reporting};
use crate::lag_report::LagReport;
use vitals_core::stop::Stop;

/// Bytes of records gathered before they are handed to the archive (sooner when the topic is idle).
const CHUNK_BYTES: usize = 256 * 1024;
/// Chunks in flight to the archive: a slow disk slows the consumer instead of growing memory.
const CHUNKS_IN_FLIGHT: usize = 8;
/// The longest one poll waits for a record.
const POLL: Duration = Duration::from_millis(100);

/// A test hook: with this variable set the sink stops, once, after the archive published records
/// and before their offsets are committed, and says so on stderr, so that a test can SIGKILL it in
/// exactly that window.
pub const HOLD_BEFORE_COMMIT: &str = "CARDIO_KAFKA_SINK_HOLD_BEFORE_COMMIT";

#[derive(Debug, clap::Args)]
pub struct SinkArgs {
    #[command(flatten)]
    pub connection: Connection,

    /// The topic to file (cardio-alert's output: vitals with NEWS2, and alerts).
    #[arg(short, long)]
    pub topic: String,

    /// The consumer group. Its committed offsets never run ahead of the lake. Run one sink per lake
    /// (a lake has one writer per `--writer-id`).
    #[arg(short, long)]
    pub group: String,

    /// The lake folder (created if missing).
    #[arg(long, value_name = "DIR")]
    pub lake: PathBuf,

    #[command(flatten)]
    pub write: WriteFlags,

    #[command(flatten)]
    pub lag: LagEvery,
}

/// Which line ends each record handed to the archive, so that "every line up to N is durable"
/// becomes the offsets to commit.
#[derive(Debug, Default)]
pub struct Ledger {
    /// Lines handed over so far (blank ones too: the archive counts them).
    lines: u64,
    /// (last line of the record, partition, offset), in the order handed over.
    records: VecDeque<(u64, i32, i64)>,
}

impl Ledger {
    /// Appends a record's payload to `chunk` as one line (or as many as it holds) and notes it.
    pub fn add(&mut self, chunk: &mut Vec<u8>, payload: &[u8], partition: i32, offset: i64) {
        chunk.extend_from_slice(payload);
        if payload.last() != Some(&b'\n') {
            chunk.push(b'\n');
        }
        self.lines += memchr::memchr_iter(b'\n', payload).count() as u64;
        if payload.last() != Some(&b'\n') {
            self.lines += 1;
        }
        self.records.push_back((self.lines, partition, offset));
    }

    /// The offsets to commit (the next offset to read, per partition) once every line up to
    /// `through` is durable.
    pub fn durable(&mut self, through: u64) -> BTreeMap<i32, i64> {
        let mut next = BTreeMap::new();
        while let Some(&(line, partition, offset)) = self.records.front() {
            if line > through {
                break;
            }
            next.insert(partition, offset + 1);
            self.records.pop_front();
        }
        next
    }
}

/// The archive's input: the chunks the consumer hands over, as one byte stream; end of input when
/// the consumer drops its end.
struct Chunks {
    rx: Receiver<Vec<u8>>,
    chunk: Vec<u8>,
    at: usize,
}

impl Read for Chunks {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.at == self.chunk.len() {
            match self.rx.recv() {
                Ok(c) => {
                    self.chunk = c;
                    self.at = 0;
                }
                Err(_) => return Ok(0),
            }
        }
        let n = buf.len().min(self.chunk.len() - self.at);
        buf[..n].copy_from_slice(&self.chunk[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

type Archiver = JoinHandle<Result<(u8, Summary)>>;

/// Runs the sink until SIGTERM or SIGINT; the exit status is the archive's (1: it refused bad lines).
pub fn run(args: &SinkArgs) -> Result<u8> {
    let stop = Stop::install()?;
    let config = client::config(
        &args.connection,
        &[
            ("group.id", args.group.as_str()),
            ("enable.auto.commit", "false"),
            ("auto.offset.reset", "earliest"),
        ],
    );
    let consumer: BaseConsumer<Reporting> = client::create(&config, Reporting)?;
    consumer
        .subscribe(&[&args.topic])
        .with_context(|| format!("cannot subscribe to topic {}", args.topic))?;

    let (chunk_tx, chunk_rx) = mpsc::sync_channel::<Vec<u8>>(CHUNKS_IN_FLIGHT);
    let (ack_tx, acks) = mpsc::channel::<u64>();
    let opts = args.write.options(&args.lake, false);
    // The archive ends when its input does (the sink drops `chunk_tx`), after publishing all of it;
    // its own stop flag is never set.
    let archiver: Archiver = std::thread::Builder::new()
        .name("archive".into())
        .spawn(move || {
            let input = Chunks {
                rx: chunk_rx,
                chunk: Vec::new(),
                at: 0,
            };
            archive_with_acks(input, &opts, &Stop::never(), move |n| {
                let _ = ack_tx.send(n);
            })
        })
        .context("cannot start the archive thread")?;

    let mut sink = Sink {
        consumer: &consumer,
        topic: &args.topic,
        ledger: Ledger::default(),
        acks,
        hold: std::env::var_os(HOLD_BEFORE_COMMIT).is_some(),
        committed: 0,
    };
    let mut chunk = Vec::with_capacity(CHUNK_BYTES);
    let mut chunk_tx = Some(chunk_tx);
    let mut lag = LagReport::new(&args.lag, "sink", &args.group);
    while !stop.requested() && !archiver.is_finished() {
        let idle = match consumer.poll(POLL) {
            Some(Ok(m)) => {
                let payload = m.payload().unwrap_or_default();
                sink.ledger
                    .add(&mut chunk, payload, m.partition(), m.offset());
                false
            }
            Some(Err(e)) => {
                eprintln!("{PROGRAM}: sink: {e}");
                true
            }
            None => true,
        };
        if !chunk.is_empty() && (idle || chunk.len() >= CHUNK_BYTES) {
            hand_over(&mut chunk, &chunk_tx, &archiver, &mut sink)?;
        }
        sink.commit_durable(CommitMode::Sync)?;
        lag.tick(&consumer, &args.topic);
    }
    // Stop: what was read goes to the archive, whose input then ends, so it publishes all of it.
    if !chunk.is_empty() && !archiver.is_finished() {
        hand_over(&mut chunk, &chunk_tx, &archiver, &mut sink)?;
    }
    chunk_tx.take();
    let outcome = archiver
        .join()
        .map_err(|_| anyhow!("the archive thread panicked"))?;
    // The acknowledgements of the last rounds are in the channel now.
    sink.commit_durable(CommitMode::Sync)?;
    let (status, s) = outcome?;
    eprintln!(
        "{PROGRAM}: sink: filed {} vitals, {} alerts, {} rejected; {} already in the lake skipped; \
         {} files published to {}; {} records committed",
        s.vitals,
        s.alerts,
        s.rejected,
        s.duplicates,
        s.files,
        args.lake.display(),
        sink.committed
    );
    Ok(status)
}

/// Hands `chunk` to the archive, committing what becomes durable while the archive is busy.
fn hand_over(
    chunk: &mut Vec<u8>,
    tx: &Option<SyncSender<Vec<u8>>>,
    archiver: &Archiver,
    sink: &mut Sink<'_>,
) -> Result<()> {
    let Some(tx) = tx else { return Ok(()) };
    let mut data = std::mem::replace(chunk, Vec::with_capacity(CHUNK_BYTES));
    loop {
        match tx.try_send(data) {
            Ok(()) => return Ok(()),
            Err(TrySendError::Full(back)) => {
                if archiver.is_finished() {
                    return Ok(());
                }
                data = back;
                sink.commit_durable(CommitMode::Sync)?;
                std::thread::sleep(Duration::from_millis(5));
            }
            // The archive stopped (its error comes from joining it).
            Err(TrySendError::Disconnected(_)) => return Ok(()),
        }
    }
}

struct Sink<'a> {
    consumer: &'a BaseConsumer<Reporting>,
    topic: &'a str,
    ledger: Ledger,
    acks: Receiver<u64>,
    hold: bool,
    committed: u64,
}

impl Sink<'_> {
    /// Commits the offsets of every record the archive has said is durable.
    fn commit_durable(&mut self, mode: CommitMode) -> Result<()> {
        let mut through = None;
        while let Ok(n) = self.acks.try_recv() {
            through = Some(n);
        }
        let Some(through) = through else {
            return Ok(());
        };
        let before = self.ledger.records.len();
        let next = self.ledger.durable(through);
        if next.is_empty() {
            return Ok(());
        }
        if self.hold {
            eprintln!(
                "{PROGRAM}: sink: published through line {through}; holding the commit \
                 ({HOLD_BEFORE_COMMIT} is set)"
            );
            let until = Instant::now() + Duration::from_secs(3600);
            while Instant::now() < until {
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        let mut tpl = TopicPartitionList::new();
        for (&p, &o) in &next {
            tpl.add_partition_offset(self.topic, p, Offset::Offset(o))
                .context("cannot list an offset to commit")?;
        }
        match self.consumer.commit(&tpl, mode) {
            Ok(()) => self.committed += (before - self.ledger.records.len()) as u64,
            // A rebalance in progress, say: the records are delivered again and the lake's dedup
            // drops them, so nothing is lost by not committing now.
            Err(e) => {
                eprintln!("{PROGRAM}: sink: cannot commit offsets (they are read again): {e}")
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ledger_commits_a_record_only_once_all_its_lines_are_durable() {
        let mut l = Ledger::default();
        let mut chunk = Vec::new();
        l.add(&mut chunk, b"{\"a\":1}", 0, 10);
        l.add(&mut chunk, b"", 1, 5); // a tombstone: one blank line
        l.add(&mut chunk, b"{\"b\":1}\n{\"c\":1}", 0, 11); // two lines in one record
        l.add(&mut chunk, b"{\"d\":1}\n", 2, 7);
        assert_eq!(chunk, b"{\"a\":1}\n\n{\"b\":1}\n{\"c\":1}\n{\"d\":1}\n");
        assert_eq!(l.durable(0), BTreeMap::new());
        assert_eq!(l.durable(2), BTreeMap::from([(0, 11), (1, 6)]));
        assert_eq!(
            l.durable(3),
            BTreeMap::new(),
            "line 4 ends the record at 0/11"
        );
        assert_eq!(l.durable(5), BTreeMap::from([(0, 12), (2, 8)]));
        assert!(l.records.is_empty());
    }
}

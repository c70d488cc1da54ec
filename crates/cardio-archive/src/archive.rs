//! The archiving run: lock, recovery, then the main loop that takes batches from the input side
//! in order, drops what the lake already holds, files the rest, publishes by size and age, and
//! stops cleanly at end of input, SIGINT or SIGTERM.
//!
//! A signal does not end the reading at once. Ctrl-C in a terminal and `tini -g` in a container
//! signal every stage of a pipe together, and the stage in front writes its last lines as it stops:
//! cardio-sim the rest of its round, `cardio-kafka consume` the lines whose offsets it then
//! commits. Those lines, and whatever fills the pipe before them, are in no other place, so the
//! archive files what its input still brings until the input ends or goes quiet, and only then
//! publishes and exits.

use std::io::Read;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow};
use vitals_core::diagnostics::BadLines;
use vitals_core::status::{EXIT_FINDINGS, EXIT_OK};
use vitals_core::stop::{Stop, Winding};
use vitals_core::{RecordError, Rejected, Timestamp};

use crate::classify::{STAGE, keyed_conflict};
use crate::dedup::{KeyedSeen, Marks, Seen};
use crate::intake::{Batch, BatchIdentity, Entry, Intake, Received};
use crate::lake_index::{LakeIndex, Verdict};
use crate::lock::lock_writer;
use crate::naming::validate_writer_id;
use crate::partition::{Partition, Table};
use crate::progress::Progress;
use crate::recovery::{checkpoint_text, recover, write_checkpoint};
use crate::writer::{LakeWriter, Publisher, Rolling};

/// How long the main loop sleeps at most between looks at the signal flag.
const POLL: Duration = Duration::from_millis(100);

/// Settings of an archiving run.
#[derive(Debug, Clone)]
pub struct Options {
    pub lake: PathBuf,
    pub writer_id: String,
    pub rolling: Rolling,
    /// Memory budget (bytes) for the tables of lake days that readings are looked up in.
    pub index_memory: usize,
    /// Draw the progress line (only sensible when stderr is a terminal).
    pub progress: bool,
}

/// Counts for the summary line.
#[derive(Debug, Default, Clone)]
pub struct Summary {
    pub lines: u64,
    /// Lines the archive itself refused (kept in `_rejected/` with the reason).
    pub bad: u64,
    pub vitals: u64,
    pub alerts: u64,
    pub admission: u64,
    pub settings: u64,
    pub rejected: u64,
    /// Records already in the lake (a replay), skipped.
    pub duplicates: u64,
    pub files: u64,
    pub salvaged_records: u64,
}

impl Summary {
    fn filed(&self) -> u64 {
        self.vitals + self.alerts + self.admission + self.settings + self.rejected
    }
}

struct Run {
    marks: Marks,
    /// The lake's answer for readings the marks cannot call new.
    index: LakeIndex,
    writer: LakeWriter,
    publisher: Publisher,
    summary: Summary,
    /// Bad lines, reported in input order: the batches arrive here in order, while the parsing
    /// threads that found them finish in any order.
    bad: BadLines,
    /// Every input line up to this number is filed (in a file open or handed to the publisher) or
    /// needed no file (a duplicate, a blank line).
    filed_through: u64,
    /// The highest such number already sent to the publisher as a durable mark.
    announced: u64,
}

impl Run {
    fn file(&mut self, batch: &Batch) -> Result<()> {
        for e in &batch.entries {
            if let Some(error) = &e.error {
                self.bad.report(e.line, error);
            }
            let table = e.partition.table;
            let new = match &e.identity {
                BatchIdentity::Reading { device, seq, ts } => {
                    match self.judge_reading(batch, e, batch.device(device), *seq, *ts)? {
                        Verdict::New => true,
                        Verdict::Archived => false,
                        Verdict::Conflict => {
                            self.quarantine_conflict(batch, e, *seq)?;
                            continue;
                        }
                    }
                }
                BatchIdentity::Keyed { key, fingerprint } => {
                    match self.marks.insert_keyed(*key, *fingerprint) {
                        KeyedSeen::New => true,
                        KeyedSeen::Same => false,
                        KeyedSeen::Other => {
                            let error = keyed_conflict(table, batch.line(e));
                            self.quarantine(batch, e, error)?;
                            continue;
                        }
                    }
                }
                BatchIdentity::Hash(h) if table == Table::Alerts => self.marks.insert_alert(*h),
                BatchIdentity::Hash(h) => self.marks.insert_rejected(*h),
            };
            if !new {
                self.summary.duplicates += 1;
                continue;
            }
            self.writer.append(e.partition, batch.line(e))?;
            match table {
                Table::Vitals => self.summary.vitals += 1,
                Table::Alerts => self.summary.alerts += 1,
                Table::Admission => self.summary.admission += 1,
                Table::Settings => self.summary.settings += 1,
                Table::Rejected => self.summary.rejected += 1,
            }
            if self.writer.round_due() {
                self.publish()?;
            }
        }
        Ok(())
    }

    /// Whether a reading is new, a record already in the lake, or a conflict with one. A seq the
    /// marks never saw is new without a look; any other is looked up in the lake's folder of its
    /// day, after publishing what this writer holds so that the folder holds all it filed.
    fn judge_reading(
        &mut self,
        batch: &Batch,
        e: &Entry,
        device: &[u8],
        seq: u64,
        ts: i64,
    ) -> Result<Verdict> {
        let day = e.partition.day;
        let seen = self.marks.add_reading(device, seq);
        if seen == Seen::Never && !self.index.has(day) {
            return Ok(Verdict::New);
        }
        let hasher = self.index.hasher();
        let key = hasher.key(device, seq, ts);
        let fingerprint = hasher.fingerprint(batch.line(e));
        let verdict = if seen == Seen::Never {
            Verdict::New
        } else {
            if !self.index.has(day) {
                self.publish()?;
                self.publisher.wait()?;
            }
            self.index.judge(day, key, fingerprint)?
        };
        if verdict == Verdict::New {
            self.index.filed(day, key, fingerprint);
        }
        Ok(verdict)
    }

    /// A reading whose `(device_id, seq, ts)` is in the lake with other bytes: a device whose
    /// clock reset to the same instant after a restart, say. Filing it under vitals/ would give
    /// two readings one identity and skipping it would lose a real reading, so it goes to
    /// `_rejected/` with the reason (see [`Run::quarantine`]).
    fn quarantine_conflict(&mut self, batch: &Batch, e: &Entry, seq: u64) -> Result<()> {
        let BatchIdentity::Reading { device, ts, .. } = &e.identity else {
            return Ok(());
        };
        let error = RecordError::Invalid {
            record_type: "vitals".into(),
            reason: format!(
                "device `{}` seq {seq} at {} is already in the lake as a different reading \
                 (the same device_id, seq and ts with other values); kept in _rejected/, not in \
                 vitals/",
                String::from_utf8_lossy(batch.device(device)),
                Timestamp::from_millis(*ts)
            ),
        };
        self.quarantine(batch, e, error)
    }

    /// Files a record whose identity the lake gives to another record in `_rejected/` with the
    /// reason, reported like a bad line (status 1). Its own identity there is its exact bytes, so
    /// a replay keeps it once.
    fn quarantine(&mut self, batch: &Batch, e: &Entry, error: RecordError) -> Result<()> {
        self.bad.report(e.line, &error);
        let now = Timestamp::now();
        let envelope = Rejected::new(STAGE, e.line, error.to_string(), batch.line(e), false, now);
        if !self.marks.insert_rejected(envelope.content_hash()) {
            self.summary.duplicates += 1;
            return Ok(());
        }
        let bytes = serde_json::to_vec(&envelope).context("cannot serialise a rejected record")?;
        let partition = Partition {
            table: Table::Rejected,
            day: now.day_number(),
        };
        self.writer.append(partition, &bytes)?;
        self.summary.rejected += 1;
        if self.writer.round_due() {
            self.publish()?;
        }
        Ok(())
    }

    /// Ends a round and hands it to the publisher with the checkpoint text: after the round
    /// nothing is open, so the marks are exactly those of the files published up to it.
    fn publish(&mut self) -> Result<()> {
        if let Some(round) = self.writer.close_round()? {
            let text = checkpoint_text(&self.marks, self.writer.next_file());
            self.publisher.submit(round, text)?;
        }
        self.announce()
    }

    /// Once nothing filed is left open, tells the publisher the input line everything up to which
    /// will be durable when the rounds already queued are published.
    fn announce(&mut self) -> Result<()> {
        if self.filed_through > self.announced && self.writer.open_files() == 0 {
            self.publisher.durable(self.filed_through)?;
            self.announced = self.filed_through;
        }
        Ok(())
    }
}

/// Archives `input` into the lake until its end, or after a signal on `stop` until it ends or goes
/// quiet ([`Winding`]).
/// Returns the exit status: 0, or 1 when the archive refused bad lines.
pub fn archive(
    input: impl Read + Send + 'static,
    opts: &Options,
    stop: &Stop,
) -> Result<(u8, Summary)> {
    archive_with_acks(input, opts, stop, |_| {})
}

/// [`archive`], telling `durable(n)` (on the publishing thread, in increasing `n`) each time every
/// input line up to line `n` (1-based, blank lines counted) is durable in the lake: published
/// (fsync, rename, folder fsync, checkpoint) or found there already. A caller that feeds the
/// input from a log (Kafka) commits its position up to line `n` then, and not before, so a crash
/// at any instant loses nothing and the lake's dedup drops what is delivered again.
pub fn archive_with_acks(
    input: impl Read + Send + 'static,
    opts: &Options,
    stop: &Stop,
    durable: impl FnMut(u64) + Send + 'static,
) -> Result<(u8, Summary)> {
    validate_writer_id(&opts.writer_id).map_err(|e| anyhow!(e))?;
    let lake = opts.lake.as_path();
    let _lock = lock_writer(lake, &opts.writer_id)?;
    let recovered = recover(lake, &opts.writer_id)
        .with_context(|| format!("cannot recover the lake {}", lake.display()))?;
    let (ckpt_lake, ckpt_writer) = (lake.to_owned(), opts.writer_id.clone());
    let publisher = Publisher::start(
        move |text| write_checkpoint(&ckpt_lake, &ckpt_writer, text),
        durable,
    )?;
    let mut run = Run {
        bad: BadLines::new("cardio-archive"),
        index: LakeIndex::new(lake, opts.index_memory),
        publisher,
        writer: LakeWriter::new(lake, &opts.writer_id, recovered.next_file, opts.rolling),
        marks: recovered.marks,
        summary: Summary {
            salvaged_records: recovered.salvaged_records,
            ..Summary::default()
        },
        filed_through: 0,
        announced: 0,
    };

    let mut intake = Intake::start(input)?;
    let mut progress = Progress::with(opts.progress);
    let mut winding = Winding::default();
    while winding.go_on(stop) {
        let now = Instant::now();
        let wait = run
            .writer
            .age_deadline()
            .map_or(POLL, |d| d.saturating_duration_since(now).min(POLL));
        match intake.recv(winding.wait(wait)) {
            Received::Batch(b) => {
                run.file(&b)?;
                run.filed_through = b.through;
                run.announce()?;
                if run.publisher.failed() {
                    run.publisher.finish()?;
                }
            }
            Received::End => break,
            Received::Idle if winding.stopping() => break,
            Received::Idle => {}
        }
        if run
            .writer
            .age_deadline()
            .is_some_and(|d| d <= Instant::now())
        {
            run.publish()?;
        }
        progress.tick(
            run.summary.filed() + run.summary.duplicates,
            "records",
            &format!(", {} files published", run.writer.published_files()),
        );
    }
    run.publish()?;
    run.publisher.finish()?;
    progress.finish();
    run.summary.files = run.writer.published_files();
    // Known from the end of the input; when a signal ended the reading first, what was filed.
    run.summary.lines = intake.lines().unwrap_or(run.filed_through);
    run.summary.bad = run.bad.count();
    if let Some(e) = intake.take_error() {
        return Err(e).context("cannot read standard input");
    }
    let status = if run.summary.bad > 0 {
        EXIT_FINDINGS
    } else {
        EXIT_OK
    };
    Ok((status, run.summary))
}

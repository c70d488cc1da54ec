//! The input side: a reader thread cuts stdin into batches of lines, classifier threads parse them,
//! and the main loop receives the classified batches in input order through a bounded channel.
//!
//! Why threads: signal-hook's flag handlers are installed with `SA_RESTART`, so a `read()` on an
//! idle stdin never returns for SIGTERM, and `--max-age` must publish while no input comes. The main
//! loop therefore waits on the channel with a timeout and checks the signal flag and file ages
//! itself. Parsing is most of the work per line, so it runs on as many threads as there are cores;
//! batches carry their index and the main loop puts them back in input order (and reports their bad
//! lines then, so the report follows the input). Every channel is bounded and a batch is cut at a
//! number of lines or of bytes, whichever comes first, so the data in flight is bounded in bytes
//! whatever the line length, and a slow disk slows the reader instead of growing memory.

use std::collections::BTreeMap;
use std::io::Read;
use std::ops::Range;
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result};
use vitals_core::{Line, LineReader, RecordError, Timestamp};

use crate::classify::{Classified, Device, Identity, classify};
use crate::partition::Partition;

/// Lines per batch: enough to make the channel's cost per line negligible.
pub const BATCH_LINES: usize = 2048;
/// Bytes of input per batch: about 2048 lines as cardio-alert writes them (300–500 bytes). A batch
/// is cut at the first line that reaches it, so it holds at most this plus one line (1 MiB), and
/// the refused lines' envelopes (each under 1 MiB).
pub const BATCH_BYTES: usize = 1 << 20;
/// Parsing threads at most (and at least one).
const MAX_WORKERS: usize = 4;

/// An identity whose device id is a byte range in the batch buffer.
#[derive(Debug, Clone)]
pub enum BatchIdentity {
    Reading {
        device: Range<usize>,
        seq: u64,
        /// Event time, ms since the epoch.
        ts: i64,
    },
    Hash(u64),
    Keyed {
        key: u64,
        fingerprint: u64,
    },
}

/// One line ready to file: where, its identity and its bytes in the batch buffer.
#[derive(Debug, Clone)]
pub struct Entry {
    pub partition: Partition,
    pub identity: BatchIdentity,
    pub bytes: Range<usize>,
    /// Line number in the input.
    pub line: u64,
    /// Why the archive refused the line (its envelope is what `bytes` holds).
    pub error: Option<Box<RecordError>>,
}

/// Lines read together; their bytes share one buffer.
#[derive(Debug, Default)]
pub struct Batch {
    pub buf: Vec<u8>,
    pub entries: Vec<Entry>,
    /// Every input line up to this number (blank ones too) is in this batch or an earlier one.
    pub through: u64,
}

impl Batch {
    pub fn line(&self, e: &Entry) -> &[u8] {
        &self.buf[e.bytes.clone()]
    }

    /// The device id's bytes (UTF-8: they come from a checked line or an unescaped string).
    pub fn device(&self, range: &Range<usize>) -> &[u8] {
        &self.buf[range.clone()]
    }

    /// Adds a classified line whose bytes are `buf[line]` (already in this batch's buffer).
    fn push(&mut self, line: Range<usize>, number: u64, classified: Classified) {
        let (filed, bytes, error) = match classified {
            Classified::Original(f) => (f, line.clone(), None),
            Classified::Refused(f, r) => {
                let start = self.buf.len();
                serde_json::to_writer(&mut self.buf, &r.envelope)
                    .expect("serialising into a Vec does not fail");
                (f, start..self.buf.len(), Some(Box::new(r.error)))
            }
        };
        let identity = match filed.identity {
            Identity::Hash(h) => BatchIdentity::Hash(h),
            Identity::Keyed { key, fingerprint } => BatchIdentity::Keyed { key, fingerprint },
            Identity::Reading { device, seq, ts } => {
                let device = match device {
                    Device::InLine(r) => line.start + r.start..line.start + r.end,
                    Device::Unescaped(s) => {
                        let from = self.buf.len();
                        self.buf.extend_from_slice(s.as_bytes());
                        from..self.buf.len()
                    }
                };
                BatchIdentity::Reading {
                    device,
                    seq,
                    ts: ts.millis(),
                }
            }
        };
        self.entries.push(Entry {
            partition: filed.partition,
            identity,
            bytes,
            line: number,
            error,
        });
    }
}

/// Lines as read, before parsing.
struct RawBatch {
    index: u64,
    buf: Vec<u8>,
    lines: Vec<RawLine>,
    /// The reader's line count when the batch was cut.
    through: u64,
}

struct RawLine {
    bytes: Range<usize>,
    number: u64,
    overlong: Option<usize>,
}

impl RawBatch {
    fn new(index: u64) -> Self {
        RawBatch {
            index,
            buf: Vec::with_capacity(BATCH_BYTES / 2),
            lines: Vec::with_capacity(BATCH_LINES),
            through: 0,
        }
    }
}

/// What the input side sends to the main loop.
#[derive(Debug)]
pub enum Msg {
    /// The batch with this index (0, 1, 2 … in input order).
    Batch(u64, Batch),
    /// No batch after the first `batches`: end of input or a read error.
    End {
        batches: u64,
        lines: u64,
        error: Option<std::io::Error>,
    },
}

/// The main loop's end of the input side: classified batches in input order.
pub struct Intake {
    rx: Receiver<Msg>,
    /// One token per batch the reader may have in flight; returned as batches are taken. Without
    /// it a stalled parsing thread would let the others fill the reorder buffer without bound.
    tokens: SyncSender<()>,
    pending: BTreeMap<u64, Batch>,
    next: u64,
    end: Option<(u64, u64)>,
    error: Option<std::io::Error>,
}

/// What `Intake::recv` returns.
pub enum Received {
    Batch(Batch),
    /// Nothing within the timeout.
    Idle,
    /// Every batch was received.
    End,
}

impl Intake {
    /// Starts reading `input` on its own thread, parsing on worker threads.
    pub fn start(input: impl Read + Send + 'static) -> Result<Self> {
        let workers = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .clamp(1, MAX_WORKERS);
        let (tx, rx) = sync_channel::<Msg>(2 * workers + 2);
        let (work_tx, work_rx) = sync_channel::<RawBatch>(2 * workers);
        let work_rx = Arc::new(Mutex::new(work_rx));
        let in_flight = 4 * workers;
        let (tokens, token_rx) = sync_channel::<()>(in_flight);
        for _ in 0..in_flight {
            tokens
                .send(())
                .expect("the channel has room for every token");
        }
        for i in 0..workers {
            let (work_rx, tx) = (work_rx.clone(), tx.clone());
            std::thread::Builder::new()
                .name(format!("parse-{i}"))
                .spawn(move || classify_batches(&work_rx, &tx))
                .context("cannot start a parsing thread")?;
        }
        // The reader is never joined: when the main loop stops before the end of the input, it may
        // sit in a read() that never returns (SA_RESTART), and the process ends with it.
        std::thread::Builder::new()
            .name("stdin".into())
            .spawn(move || read_lines(input, &work_tx, &token_rx, &tx))
            .context("cannot start the input thread")?;
        Ok(Intake {
            rx,
            tokens,
            pending: BTreeMap::new(),
            next: 0,
            end: None,
            error: None,
        })
    }

    /// The next batch in input order, waiting at most `timeout`.
    pub fn recv(&mut self, timeout: Duration) -> Received {
        loop {
            if let Some(b) = self.pending.remove(&self.next) {
                self.next += 1;
                // The reader may be gone (end of input); then nobody needs the token.
                let _ = self.tokens.try_send(());
                return Received::Batch(b);
            }
            if self.end.is_some_and(|(batches, _)| self.next >= batches) {
                return Received::End;
            }
            match self.rx.recv_timeout(timeout) {
                Ok(Msg::Batch(i, b)) => {
                    self.pending.insert(i, b);
                }
                Ok(Msg::End {
                    batches,
                    lines,
                    error,
                }) => {
                    self.end = Some((batches, lines));
                    self.error = error;
                }
                Err(RecvTimeoutError::Timeout) => return Received::Idle,
                // Every sender is gone: nothing more will come.
                Err(RecvTimeoutError::Disconnected) => return Received::End,
            }
        }
    }

    /// Lines read (known at the end).
    pub fn lines(&self) -> Option<u64> {
        self.end.map(|(_, lines)| lines)
    }

    /// The read error that ended the input, if one did.
    pub fn take_error(&mut self) -> Option<std::io::Error> {
        self.error.take()
    }
}

fn read_lines(
    input: impl Read,
    work: &SyncSender<RawBatch>,
    tokens: &Receiver<()>,
    tx: &SyncSender<Msg>,
) {
    let mut reader = LineReader::new(input);
    let mut index = 0u64;
    let mut batch = RawBatch::new(index);
    let send = |batch: &mut RawBatch, index: &mut u64| -> bool {
        if tokens.recv().is_err() {
            return false;
        }
        *index += 1;
        let full = std::mem::replace(batch, RawBatch::new(*index));
        work.send(full).is_ok()
    };
    let error = loop {
        // Hand over what we hold before a read that may block: a trickle is filed as it comes,
        // and the main loop, stopping, is never left waiting for lines already read.
        batch.through = reader.lines_read();
        if !batch.lines.is_empty()
            && (reader.would_block()
                || batch.lines.len() >= BATCH_LINES
                || batch.buf.len() >= BATCH_BYTES)
            && !send(&mut batch, &mut index)
        {
            return;
        }
        match reader.next_line() {
            Ok(Some(line)) => {
                let start = batch.buf.len();
                batch.buf.extend_from_slice(line.bytes);
                batch.lines.push(RawLine {
                    bytes: start..batch.buf.len(),
                    number: line.number,
                    overlong: line.overlong,
                });
            }
            Ok(None) => break None,
            Err(e) => break Some(e),
        }
    };
    batch.through = reader.lines_read();
    if !batch.lines.is_empty() && !send(&mut batch, &mut index) {
        return;
    }
    let _ = tx.send(Msg::End {
        batches: index,
        lines: reader.lines_read(),
        error,
    });
}

fn classify_batches(work: &Mutex<Receiver<RawBatch>>, tx: &SyncSender<Msg>) {
    loop {
        let raw = match work.lock() {
            Ok(rx) => match rx.recv() {
                Ok(raw) => raw,
                Err(_) => return,
            },
            Err(_) => return,
        };
        // The envelope time of bad lines is read once per batch: a clock read per line would cost
        // more than the rest of the line's work.
        let now = Timestamp::now();
        let mut batch = Batch {
            entries: Vec::with_capacity(raw.lines.len()),
            buf: raw.buf,
            through: raw.through,
        };
        for l in &raw.lines {
            let line = Line {
                number: l.number,
                bytes: &batch.buf[l.bytes.clone()],
                overlong: l.overlong,
            };
            let classified = classify(&line, now);
            batch.push(l.bytes.clone(), l.number, classified);
        }
        if tx.send(Msg::Batch(raw.index, batch)).is_err() {
            return;
        }
    }
}

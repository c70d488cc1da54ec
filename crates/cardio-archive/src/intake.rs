//! The input side: a thread that reads stdin, classifies each line and hands batches to the writer
//! through a bounded channel.
//!
//! Why a thread: signal-hook's flag handlers are installed with `SA_RESTART`, so a `read()` on an
//! idle stdin never returns for SIGTERM, and `--max-age` must publish while no input comes. The main
//! loop therefore waits on the channel with a timeout and checks the signal flag and file ages
//! itself. Parsing here also puts the JSON work on a second core. The channel is bounded, so a slow
//! disk slows the reader instead of growing memory.

use std::io::Read;
use std::ops::Range;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::SyncSender;

use vitals_core::diagnostics::BadLines;
use vitals_core::{LineReader, Timestamp};

use crate::partition::{Classified, Device, Identity, Partition, classify};

/// Lines per batch: enough to make the channel's cost per line negligible.
pub const BATCH_LINES: usize = 2048;
/// Batches in flight between the threads (bounds memory: about this many × 700 KB at most).
pub const CHANNEL_BATCHES: usize = 8;

/// An identity whose device id is a byte range in the batch buffer.
#[derive(Debug, Clone)]
pub enum BatchIdentity {
    Reading { device: Range<usize>, seq: u64 },
    Hash(u64),
}

/// One line ready to file: where, its identity and its bytes in the batch buffer.
#[derive(Debug, Clone)]
pub struct Entry {
    pub partition: Partition,
    pub identity: BatchIdentity,
    pub bytes: Range<usize>,
}

/// Lines read together; their bytes share one buffer.
#[derive(Debug, Default)]
pub struct Batch {
    pub buf: Vec<u8>,
    pub entries: Vec<Entry>,
    /// Input lines read and bad lines found so far, as of this batch (for the summary, also when
    /// a stop leaves the reader blocked and no `End` comes).
    pub lines_read: u64,
    pub bad_lines: u64,
}

impl Batch {
    fn with_capacity() -> Self {
        Batch {
            buf: Vec::with_capacity(BATCH_LINES * 400),
            entries: Vec::with_capacity(BATCH_LINES),
            lines_read: 0,
            bad_lines: 0,
        }
    }

    pub fn line(&self, e: &Entry) -> &[u8] {
        &self.buf[e.bytes.clone()]
    }

    pub fn device(&self, range: &Range<usize>) -> &str {
        // Ranges point at text that came from a `&str` (the line or the unescaped id).
        std::str::from_utf8(&self.buf[range.clone()]).unwrap_or("")
    }

    /// Adds a classified line. `line` is the input line's bytes.
    pub fn push(&mut self, line: &[u8], classified: Classified) {
        let start = self.buf.len();
        let (filed, own) = match classified {
            Classified::Original(f) => {
                self.buf.extend_from_slice(line);
                (f, true)
            }
            Classified::Refused(f, r) => {
                serde_json::to_writer(&mut self.buf, &r.envelope)
                    .expect("serialising into a Vec does not fail");
                (f, false)
            }
        };
        let bytes = start..self.buf.len();
        let identity = match filed.identity {
            Identity::Hash(h) => BatchIdentity::Hash(h),
            Identity::Reading { device, seq } => {
                let device = match device {
                    Device::InLine(r) if own => start + r.start..start + r.end,
                    Device::InLine(r) => {
                        let from = self.buf.len();
                        let text = line[r].to_vec();
                        self.buf.extend_from_slice(&text);
                        from..self.buf.len()
                    }
                    Device::Unescaped(s) => {
                        let from = self.buf.len();
                        self.buf.extend_from_slice(s.as_bytes());
                        from..self.buf.len()
                    }
                };
                BatchIdentity::Reading { device, seq }
            }
        };
        self.entries.push(Entry {
            partition: filed.partition,
            identity,
            bytes,
        });
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// What the reader thread sends.
#[derive(Debug)]
pub enum Msg {
    Batch(Batch),
    /// End of input (or a stop request): the number of lines read and of bad lines.
    End {
        lines: u64,
        bad: u64,
    },
    /// Reading failed.
    Failed(std::io::Error),
}

/// Reads `input` to its end (or until `stop`), sending batches on `tx`. Returns when the writer
/// side hung up, too.
pub fn read_input(input: impl Read, tx: SyncSender<Msg>, stop: Arc<AtomicBool>) {
    let mut reader = LineReader::new(input);
    let mut bad = BadLines::new("cardio-archive");
    let mut batch = Batch::with_capacity();
    // The envelope time for bad lines is refreshed per batch: a wall-clock read per line would cost
    // more than the rest of the line's work.
    let mut now = Timestamp::now();
    loop {
        // Hand over what we hold before a read that may block, and when asked to stop.
        let stopping = stop.load(Ordering::Relaxed);
        if (!batch.is_empty() && (reader.would_block() || batch.entries.len() >= BATCH_LINES))
            || stopping
        {
            if !batch.is_empty() {
                batch.lines_read = reader.lines_read();
                batch.bad_lines = bad.count();
                let full = std::mem::replace(&mut batch, Batch::with_capacity());
                if tx.send(Msg::Batch(full)).is_err() {
                    return;
                }
                now = Timestamp::now();
            }
            if stopping {
                let _ = tx.send(Msg::End {
                    lines: reader.lines_read(),
                    bad: bad.count(),
                });
                return;
            }
        }
        match reader.next_line() {
            Ok(Some(line)) => {
                let classified = classify(&line, now);
                if let Classified::Refused(_, r) = &classified {
                    bad.report(line.number, &r.error);
                }
                batch.push(line.bytes, classified);
            }
            Ok(None) => {
                batch.lines_read = reader.lines_read();
                batch.bad_lines = bad.count();
                if !batch.is_empty() && tx.send(Msg::Batch(batch)).is_err() {
                    return;
                }
                let _ = tx.send(Msg::End {
                    lines: reader.lines_read(),
                    bad: bad.count(),
                });
                return;
            }
            Err(e) => {
                batch.lines_read = reader.lines_read();
                batch.bad_lines = bad.count();
                if !batch.is_empty() {
                    let _ = tx.send(Msg::Batch(std::mem::take(&mut batch)));
                }
                let _ = tx.send(Msg::Failed(e));
                return;
            }
        }
    }
}

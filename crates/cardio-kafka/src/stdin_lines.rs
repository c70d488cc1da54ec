//! stdin read on a thread of its own and handed over in chunks through a bounded channel.
//!
//! Why a thread: signal-hook's handlers are installed with `SA_RESTART`, so a `read()` on an idle
//! stdin never returns for SIGTERM; the main loop waits on the channel with a timeout instead and
//! checks the signal flag itself. Why chunks end where they do: a chunk is handed over as soon as
//! the next read would wait for the writer ([`LineReader::would_block`]), so a line goes on the
//! moment it has arrived and nothing is held back for more input to come (the defect of `kcat -P`,
//! which ran a line or two behind a slow writer and lost them on SIGTERM). The channel is bounded,
//! so a slow broker slows the reader instead of growing memory.

use std::io::{self, Read};
use std::sync::mpsc::{Receiver, RecvTimeoutError, TryRecvError, sync_channel};
use std::time::Duration;

use vitals_core::LineReader;

/// Lines in one chunk at most (at full speed, where the reader never waits).
const CHUNK_LINES: usize = 1024;
/// Chunks waiting in the channel at most.
const CHANNEL_CHUNKS: usize = 16;

/// One line of input, without its line end.
#[derive(Debug)]
pub struct InputLine {
    /// 1-based line number in the input (blank lines count, as in every stage's reports).
    pub number: u64,
    /// The line; only its first 1 MiB when it was longer (then `overlong` is its length).
    pub bytes: Vec<u8>,
    pub overlong: Option<usize>,
}

/// What the reader thread has for the main loop.
#[derive(Debug)]
pub enum Received {
    Lines(Vec<InputLine>),
    /// Nothing arrived within the timeout.
    Quiet,
    /// The input ended, at its end or with a read error.
    End(Option<io::Error>),
}

/// The receiving end; the reader thread stops when the input ends or this is dropped.
#[derive(Debug)]
pub struct StdinLines {
    rx: Receiver<Result<Vec<InputLine>, io::Error>>,
}

impl StdinLines {
    pub fn start(input: impl Read + Send + 'static) -> Self {
        let (tx, rx) = sync_channel(CHANNEL_CHUNKS);
        std::thread::spawn(move || {
            let mut reader = LineReader::new(input);
            let mut chunk = Vec::new();
            loop {
                match reader.next_line() {
                    Ok(Some(line)) => {
                        chunk.push(InputLine {
                            number: line.number,
                            bytes: line.bytes.to_vec(),
                            overlong: line.overlong,
                        });
                        if (chunk.len() >= CHUNK_LINES || reader.would_block())
                            && tx.send(Ok(std::mem::take(&mut chunk))).is_err()
                        {
                            return;
                        }
                    }
                    Ok(None) => {
                        if !chunk.is_empty() {
                            let _ = tx.send(Ok(chunk));
                        }
                        return;
                    }
                    Err(e) => {
                        if !chunk.is_empty() && tx.send(Ok(std::mem::take(&mut chunk))).is_err() {
                            return;
                        }
                        let _ = tx.send(Err(e));
                        return;
                    }
                }
            }
        });
        StdinLines { rx }
    }

    /// The next chunk, waiting at most `timeout`.
    pub fn recv(&self, timeout: Duration) -> Received {
        match self.rx.recv_timeout(timeout) {
            Ok(Ok(lines)) => Received::Lines(lines),
            Ok(Err(e)) => Received::End(Some(e)),
            Err(RecvTimeoutError::Timeout) => Received::Quiet,
            Err(RecvTimeoutError::Disconnected) => Received::End(None),
        }
    }

    /// The next chunk if one is already waiting.
    pub fn try_recv(&self) -> Received {
        match self.rx.try_recv() {
            Ok(Ok(lines)) => Received::Lines(lines),
            Ok(Err(e)) => Received::End(Some(e)),
            Err(TryRecvError::Empty) => Received::Quiet,
            Err(TryRecvError::Disconnected) => Received::End(None),
        }
    }
}

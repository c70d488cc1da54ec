//! An input read on a thread of its own and handed over in chunks of lines through a bounded
//! channel, for the stages that must act on a signal while their input is idle (cardio-alert,
//! `cardio-kafka produce`).
//!
//! Why a thread: signal-hook's handlers are installed with `SA_RESTART`, so a `read()` on an idle
//! stdin never returns for SIGTERM; the main loop waits on the channel with a timeout instead and
//! checks the signal flag itself. Why chunks end where they do: a chunk is handed over as soon as
//! the next read would wait for the writer ([`LineReader::would_block`]), so a line goes on the
//! moment it has arrived and nothing is held back for more input to come (the defect of `kcat -P`,
//! which ran a line or two behind a slow writer and lost them on SIGTERM). A chunk is one buffer
//! with the lines' places in it, so a line costs no allocation of its own. The channel is bounded,
//! so a slow consumer slows the reader instead of growing memory.

use std::io::{self, Read};
use std::ops::Range;
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, sync_channel};
use std::time::Duration;

use crate::{Line, LineReader};

/// Lines in one chunk at most (at full speed, where the reader never waits).
const CHUNK_LINES: usize = 1024;
/// Chunks waiting in the channel at most.
const CHANNEL_CHUNKS: usize = 4;

/// Lines as they were read, in input order.
#[derive(Debug, Default)]
pub struct Chunk {
    buf: Vec<u8>,
    lines: Vec<Place>,
    /// The reader had taken everything that had arrived when it handed this chunk over: the next
    /// line may be a while (time to let the next stage see what was written).
    pub then_waits: bool,
}

#[derive(Debug)]
struct Place {
    bytes: Range<usize>,
    number: u64,
    overlong: Option<usize>,
}

impl Chunk {
    pub fn lines(&self) -> impl Iterator<Item = Line<'_>> {
        self.lines.iter().map(|p| Line {
            number: p.number,
            bytes: &self.buf[p.bytes.clone()],
            overlong: p.overlong,
        })
    }

    pub fn len(&self) -> usize {
        self.lines.len()
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    fn push(&mut self, line: &Line<'_>) {
        let start = self.buf.len();
        self.buf.extend_from_slice(line.bytes);
        self.lines.push(Place {
            bytes: start..self.buf.len(),
            number: line.number,
            overlong: line.overlong,
        });
    }
}

/// What the reader thread has for the main loop.
#[derive(Debug)]
pub enum Received {
    Lines(Chunk),
    /// Nothing arrived within the timeout.
    Quiet,
    /// The input ended, at its end or with a read error.
    End(Option<io::Error>),
}

/// What the reader thread sends: chunks, then always an explicit end, so that a thread that died
/// (a panic) is never taken for the end of the input.
#[derive(Debug)]
enum Msg {
    Chunk(Chunk),
    End(Option<io::Error>),
}

/// The receiving end; the reader thread stops when the input ends or this is dropped (a reader
/// blocked in `read()` then stays there until the process ends).
#[derive(Debug)]
pub struct StdinLines {
    rx: Receiver<Msg>,
}

impl StdinLines {
    pub fn start(input: impl Read + Send + 'static) -> Self {
        let (tx, rx) = sync_channel(CHANNEL_CHUNKS);
        std::thread::Builder::new()
            .name("input".into())
            .spawn(move || read_chunks(input, &tx))
            .expect("start the input thread");
        StdinLines { rx }
    }

    /// The next chunk, waiting at most `timeout`.
    pub fn recv(&self, timeout: Duration) -> Received {
        match self.rx.recv_timeout(timeout) {
            Ok(Msg::Chunk(chunk)) => Received::Lines(chunk),
            Ok(Msg::End(error)) => Received::End(error),
            Err(RecvTimeoutError::Timeout) => Received::Quiet,
            Err(RecvTimeoutError::Disconnected) => Received::End(Some(io::Error::other(
                "the input thread stopped before the end of the input",
            ))),
        }
    }
}

fn read_chunks(input: impl Read, tx: &SyncSender<Msg>) {
    let mut reader = LineReader::new(input);
    let mut chunk = Chunk::default();
    let error = loop {
        match reader.next_line() {
            Ok(Some(line)) => {
                chunk.push(&line);
                let then_waits = reader.would_block();
                if then_waits || chunk.len() >= CHUNK_LINES {
                    chunk.then_waits = then_waits;
                    if tx.send(Msg::Chunk(std::mem::take(&mut chunk))).is_err() {
                        return;
                    }
                }
            }
            Ok(None) => break None,
            Err(e) => break Some(e),
        }
    };
    if !chunk.is_empty() {
        chunk.then_waits = true;
        if tx.send(Msg::Chunk(chunk)).is_err() {
            return;
        }
    }
    let _ = tx.send(Msg::End(error));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_line_arrives_in_order_with_its_number_and_then_the_end() {
        let mut input = Vec::new();
        for i in 0..2500 {
            input.extend_from_slice(format!("{{\"n\":{i}}}\n").as_bytes());
            if i == 7 {
                input.push(b'\n'); // a blank line: skipped, but counted in the numbers
            }
        }
        let lines = StdinLines::start(io::Cursor::new(input));
        let mut got = Vec::new();
        loop {
            match lines.recv(Duration::from_secs(10)) {
                Received::Lines(chunk) => {
                    assert!(chunk.len() <= CHUNK_LINES);
                    got.extend(chunk.lines().map(|l| (l.number, l.bytes.to_vec())));
                }
                Received::Quiet => panic!("an in-memory input never waits"),
                Received::End(e) => {
                    assert!(e.is_none());
                    break;
                }
            }
        }
        assert_eq!(got.len(), 2500);
        assert_eq!(got[7], (8, b"{\"n\":7}".to_vec()));
        assert_eq!(got[8], (10, b"{\"n\":8}".to_vec()));
        assert_eq!(got[2499].1, b"{\"n\":2499}".to_vec());
    }
}

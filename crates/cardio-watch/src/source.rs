//! Where the records come from: stdin (optionally passed through to stdout byte for byte, for a
//! station in the middle of a chain) or a lake followed as it grows. Each source runs on its own
//! thread, parses lines with vitals-core's reader and codec, and hands batches to the display
//! thread, so a slow terminal never slows the stream and a fast stream never starves the screen.

use std::collections::HashSet;
use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::time::Duration;

use vitals_core::lake::{self, Table};
use vitals_core::{LineReader, Record, RecordError};

/// One line of input, parsed.
#[derive(Debug)]
pub enum Item {
    Record(Record),
    Bad { line: u64, error: RecordError },
}

/// What the source thread sends.
#[derive(Debug)]
pub enum Message {
    Batch(Vec<Item>),
    /// The input ended (or failed, with the reason).
    End(Result<(), String>),
    /// `--pass`: the reader of stdout went away; like every stage, take it as the end of the run.
    DownstreamClosed,
}

/// Lines per batch: big enough that the channel costs nothing per record, small enough that the
/// display sees a trickle at once (a batch is also sent whenever the input would block).
const BATCH: usize = 1024;
/// Batches in flight: bounds memory when the display thread falls behind (the source then waits,
/// and so does the pipe upstream, as with any stage).
const IN_FLIGHT: usize = 64;
/// How often a followed lake is looked at for new files.
const LAKE_POLL: Duration = Duration::from_millis(500);

/// A reader that copies every byte it reads to `out` before handing it on: with `--pass` the
/// stream goes downstream exactly as it came (BOM, CRLF, blank and bad lines included) whatever
/// the line reader makes of it.
struct Tee<R, W> {
    inner: R,
    out: W,
}

impl<R: Read, W: Write> Read for Tee<R, W> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.out.write_all(&buf[..n]).map_err(Downstream::wrap)?;
        self.out.flush().map_err(Downstream::wrap)?;
        Ok(n)
    }
}

/// Marks an error as the pass-through's, not the input's.
#[derive(Debug)]
struct Downstream(io::Error);

impl std::fmt::Display for Downstream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "cannot write stdout: {}", self.0)
    }
}

impl std::error::Error for Downstream {}

impl Downstream {
    fn wrap(e: io::Error) -> io::Error {
        io::Error::new(e.kind(), Downstream(e))
    }

    fn is(e: &io::Error) -> bool {
        e.get_ref().is_some_and(|inner| inner.is::<Downstream>())
    }
}

/// Reads stdin on a thread; with `pass`, every byte read is written to stdout first.
pub fn stdin(pass: bool) -> Receiver<Message> {
    let (tx, rx) = sync_channel(IN_FLIGHT);
    std::thread::spawn(move || {
        let stdin = io::stdin().lock();
        let end = if pass {
            let result = read_lines(
                Tee {
                    inner: stdin,
                    out: io::stdout().lock(),
                },
                &tx,
            );
            match result {
                Err(e) if Downstream::is(&e) => {
                    let _ = tx.send(Message::DownstreamClosed);
                    return;
                }
                other => {
                    close_stdout();
                    other
                }
            }
        } else {
            read_lines(stdin, &tx)
        };
        let _ = tx.send(Message::End(
            end.map_err(|e| format!("cannot read stdin: {e}")),
        ));
    });
    rx
}

/// At the end of input the next stage must see its end of input too, while the display stays
/// up: stdout is pointed at /dev/null, which closes this process's end of the pipe.
fn close_stdout() {
    let _ = io::stdout().flush();
    if let Ok(null) = File::options().write(true).open("/dev/null") {
        let _ = rustix::stdio::dup2_stdout(&null);
    }
}

/// Parses lines from `input` into batches until it ends (or the display thread is gone).
fn read_lines<R: Read>(input: R, tx: &SyncSender<Message>) -> io::Result<()> {
    let mut reader = LineReader::new(input);
    let mut batch = Vec::with_capacity(BATCH);
    while let Some(line) = reader.next_line()? {
        batch.push(parse(&line));
        if batch.len() == BATCH || reader.would_block() {
            let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
            if tx.send(Message::Batch(full)).is_err() {
                return Ok(());
            }
        }
    }
    if !batch.is_empty() {
        let _ = tx.send(Message::Batch(batch));
    }
    Ok(())
}

/// One line as the station takes it.
pub fn parse(line: &vitals_core::Line<'_>) -> Item {
    match line.text().and_then(vitals_core::parse_record) {
        Ok(record) => Item::Record(record),
        Err(error) => Item::Bad {
            line: line.number,
            error,
        },
    }
}

/// Reads a lake's published `vitals/` and `alerts/` files (docs/spec.md §2), and with `follow`
/// keeps looking for new ones. Hidden names (`.` in progress, `_` the archive's own) are skipped,
/// as the lake's readers skip them. Published files are never written again, so each is read once.
pub fn lake(dir: PathBuf, follow: bool) -> Receiver<Message> {
    let (tx, rx) = sync_channel(IN_FLIGHT);
    std::thread::spawn(move || {
        let mut seen = HashSet::new();
        loop {
            let result = read_new_files(&dir, &mut seen, &tx);
            if let Err(e) = result {
                let _ = tx.send(Message::End(Err(e)));
                return;
            }
            if !follow {
                let _ = tx.send(Message::End(Ok(())));
                return;
            }
            std::thread::sleep(LAKE_POLL);
        }
    });
    rx
}

fn read_new_files(
    dir: &Path,
    seen: &mut HashSet<PathBuf>,
    tx: &SyncSender<Message>,
) -> Result<(), String> {
    if !dir.is_dir() {
        return Err(format!("{} is not a lake folder", dir.display()));
    }
    for file in published_files(dir).map_err(|e| e.to_string())? {
        if seen.contains(&file) {
            continue;
        }
        let f = File::open(&file).map_err(|e| format!("cannot open {}: {e}", file.display()))?;
        read_lines(f, tx).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
        seen.insert(file);
    }
    Ok(())
}

/// `vitals/date=…/*.jsonl` then `alerts/date=…/*.jsonl`, each table in path order (date, then
/// file), by the lake's reading rules (`vitals_core::lake`).
pub fn published_files(lake: &Path) -> io::Result<Vec<PathBuf>> {
    let mut files = vec![];
    for table in [Table::Vitals, Table::Alerts] {
        files.extend(lake::published_files(&lake.join(table.dir_name()))?);
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tee_passes_every_byte_whatever_the_lines_are() {
        let input: &[u8] = b"\xEF\xBB\xBF{\"type\":\"x\"}\r\n\n  \nnot json\n\xff\xfe\n{\"a\":1}";
        let mut out = Vec::new();
        let (tx, rx) = sync_channel(16);
        read_lines(
            Tee {
                inner: input,
                out: &mut out,
            },
            &tx,
        )
        .unwrap();
        drop(tx);
        assert_eq!(out, input);
        let items: usize = rx
            .iter()
            .map(|m| match m {
                Message::Batch(b) => b.len(),
                _ => 0,
            })
            .sum();
        assert_eq!(items, 4, "blank lines carry no record");
    }

    #[test]
    fn hidden_and_underscore_names_are_not_read() {
        let lake = tempfile::tempdir().unwrap();
        for rel in [
            "vitals/date=2026-11-28/part-main-1.jsonl",
            "vitals/date=2026-11-28/.part-main-2.jsonl.tmp",
            "vitals/date=2026-11-28/_tmp.jsonl",
            "vitals/_staging/part.jsonl",
            "alerts/date=2026-11-27/part-main-1.jsonl",
            "_rejected/date=2026-11-28/part-main-1.jsonl",
        ] {
            let p = lake.path().join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, "{}\n").unwrap();
        }
        let files: Vec<String> = published_files(lake.path())
            .unwrap()
            .iter()
            .map(|p| p.strip_prefix(lake.path()).unwrap().display().to_string())
            .collect();
        assert_eq!(
            files,
            [
                "vitals/date=2026-11-28/part-main-1.jsonl",
                "alerts/date=2026-11-27/part-main-1.jsonl"
            ]
        );
    }
}

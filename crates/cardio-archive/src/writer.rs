//! Files in progress and their publication (docs/spec.md §2).
//!
//! A partition's records go to a hidden `.part-<writer>-<n>.jsonl.tmp`. Publishing is a round over
//! every open file, the way Kafka Connect commits all partitions at once: write out and fsync every
//! file, then rename each to `part-<writer>-<n>.jsonl`, then fsync each folder, then save the
//! checkpoint (the marks of everything now published). Since all data is durable before the first
//! rename, a crash in the middle of a round leaves only complete hidden files, which recovery
//! publishes. A published file is never opened for writing again.
//!
//! A round starts when one file reaches `--max-records`, when the oldest open file reaches
//! `--max-age` (checked by the main loop even while input is idle), when too many partitions are
//! open at once, and at the end.

use std::collections::{HashMap, HashSet};
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::naming::{part_name, tmp_name};
use crate::partition::Partition;

/// Bytes gathered in memory before a `write` to the file in progress.
const WRITE_CHUNK_BYTES: usize = 256 * 1024;
/// More open partitions than this (a stream jumping across many days) starts a round, so memory
/// and file handles stay bounded whatever the input.
pub const MAX_OPEN_FILES: usize = 64;

/// When files are published.
#[derive(Debug, Clone, Copy)]
pub struct Rolling {
    /// Records per file.
    pub max_records: u64,
    /// Age of the oldest open file.
    pub max_age: Duration,
}

struct OpenFile {
    n: u64,
    dir: PathBuf,
    tmp: PathBuf,
    file: File,
    buf: Vec<u8>,
    records: u64,
    opened: Instant,
}

impl OpenFile {
    fn write_out(&mut self) -> Result<()> {
        if !self.buf.is_empty() {
            self.file
                .write_all(&self.buf)
                .with_context(|| format!("cannot write {}", self.tmp.display()))?;
            self.buf.clear();
        }
        Ok(())
    }
}

/// The files one writer has in progress.
pub struct LakeWriter {
    lake: PathBuf,
    writer: String,
    next_file: u64,
    rolling: Rolling,
    open: HashMap<Partition, OpenFile>,
    /// Partition folders known to exist durably in this run.
    dirs: HashSet<Partition>,
    round_due: bool,
    published_files: u64,
}

impl LakeWriter {
    /// `next_file` is the first file number not used yet by this writer (from recovery).
    pub fn new(lake: &Path, writer: &str, next_file: u64, rolling: Rolling) -> Self {
        LakeWriter {
            lake: lake.to_owned(),
            writer: writer.to_owned(),
            next_file,
            rolling,
            open: HashMap::new(),
            dirs: HashSet::new(),
            round_due: false,
            published_files: 0,
        }
    }

    pub fn next_file(&self) -> u64 {
        self.next_file
    }

    pub fn published_files(&self) -> u64 {
        self.published_files
    }

    pub fn open_files(&self) -> usize {
        self.open.len()
    }

    /// Appends one line (without its `\n`) to the partition's file in progress.
    pub fn append(&mut self, partition: Partition, line: &[u8]) -> Result<()> {
        if !self.open.contains_key(&partition) {
            let f = self.open_file(partition)?;
            self.open.insert(partition, f);
            if self.open.len() >= MAX_OPEN_FILES {
                self.round_due = true;
            }
        }
        let f = self.open.get_mut(&partition).expect("opened above");
        f.buf.extend_from_slice(line);
        f.buf.push(b'\n');
        f.records += 1;
        if f.buf.len() >= WRITE_CHUNK_BYTES {
            f.write_out()?;
        }
        if f.records >= self.rolling.max_records {
            self.round_due = true;
        }
        Ok(())
    }

    fn open_file(&mut self, partition: Partition) -> Result<OpenFile> {
        let dir = partition.dir(&self.lake);
        if self.dirs.insert(partition) {
            create_dir_durably(&dir)?;
        }
        let n = self.next_file;
        self.next_file += 1;
        let tmp = dir.join(tmp_name(&self.writer, n));
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
            .with_context(|| format!("cannot create {}", tmp.display()))?;
        Ok(OpenFile {
            n,
            dir,
            tmp,
            file,
            buf: Vec::with_capacity(WRITE_CHUNK_BYTES + 4096),
            records: 0,
            opened: Instant::now(),
        })
    }

    /// True when a file reached its record limit or too many are open.
    pub fn round_due(&self) -> bool {
        self.round_due
    }

    /// When the oldest open file reaches `--max-age`.
    pub fn age_deadline(&self) -> Option<Instant> {
        self.open
            .values()
            .map(|f| f.opened + self.rolling.max_age)
            .min()
    }

    /// Publishes every open file (see the module comment for the order). Returns how many.
    pub fn publish_all(&mut self) -> Result<usize> {
        match self.close_round()? {
            Some(round) => round.publish(),
            None => Ok(0),
        }
    }

    /// Ends the current round: every open file's bytes are written out and the files leave this
    /// writer (new records go to new files). The fsync and rename are [`Round::publish`]'s, which
    /// may run on another thread while this writer carries on.
    pub fn close_round(&mut self) -> Result<Option<Round>> {
        self.round_due = false;
        if self.open.is_empty() {
            return Ok(None);
        }
        let mut files: Vec<OpenFile> = self.open.drain().map(|(_, f)| f).collect();
        files.sort_by_key(|f| f.n);
        for f in &mut files {
            f.write_out()?;
        }
        self.published_files += files.len() as u64;
        Ok(Some(Round {
            files,
            writer: self.writer.clone(),
        }))
    }
}

/// Files closed together, to be published together.
pub struct Round {
    files: Vec<OpenFile>,
    writer: String,
}

impl Round {
    /// fsync every file, then rename each to its published name, then fsync each folder.
    pub fn publish(self) -> Result<usize> {
        let mut files = self.files;
        for f in &mut files {
            f.file
                .sync_data()
                .with_context(|| format!("cannot fsync {}", f.tmp.display()))?;
        }
        let mut dirs: Vec<&Path> = Vec::new();
        for f in &files {
            let target = f.dir.join(part_name(&self.writer, f.n));
            if target.exists() {
                // File numbers only grow, so this means another process writes as this writer.
                bail!(
                    "refusing to overwrite the published file {}",
                    target.display()
                );
            }
            fs::rename(&f.tmp, &target).with_context(|| {
                format!("cannot publish {} as {}", f.tmp.display(), target.display())
            })?;
            if !dirs.contains(&f.dir.as_path()) {
                dirs.push(&f.dir);
            }
        }
        for d in dirs {
            sync_dir(d)?;
        }
        Ok(files.len())
    }
}

/// What the publishing thread is asked to do.
enum Job {
    /// Publish the round, then save the checkpoint text.
    Round(Round, String),
    /// Say when every round before this one is published.
    Barrier(std::sync::mpsc::SyncSender<()>),
    /// Every input line up to this number is in a round before this one (or needed no file): tell
    /// the `durable` callback once those rounds are published.
    Durable(u64),
}

/// A thread that publishes rounds in order and saves the checkpoint after each, so the fsyncs
/// (the slow part: the disk writes the whole file then) overlap with filing the next records.
/// One round waits at most while another is published, which bounds what is unpublished.
pub struct Publisher {
    tx: Option<std::sync::mpsc::SyncSender<Job>>,
    thread: Option<std::thread::JoinHandle<Result<()>>>,
    failed: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl Publisher {
    /// `checkpoint` saves the checkpoint text sent with each round, after that round is published;
    /// `durable` hears each [`Publisher::durable`] mark once every round before it is published.
    pub fn start(
        checkpoint: impl Fn(&str) -> Result<()> + Send + 'static,
        mut durable: impl FnMut(u64) + Send + 'static,
    ) -> Result<Self> {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Job>(1);
        let failed = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = failed.clone();
        let thread = std::thread::Builder::new()
            .name("publish".into())
            .spawn(move || -> Result<()> {
                for job in rx {
                    let (round, text) = match job {
                        Job::Round(round, text) => (round, text),
                        Job::Barrier(done) => {
                            let _ = done.send(());
                            continue;
                        }
                        Job::Durable(line) => {
                            durable(line);
                            continue;
                        }
                    };
                    let r = round.publish().and_then(|_| checkpoint(&text));
                    if r.is_err() {
                        flag.store(true, std::sync::atomic::Ordering::Relaxed);
                        return r;
                    }
                }
                Ok(())
            })
            .context("cannot start the publishing thread")?;
        Ok(Publisher {
            tx: Some(tx),
            thread: Some(thread),
            failed,
        })
    }

    /// Queues a round; fails (with the publisher's error) once publishing has failed.
    pub fn submit(&mut self, round: Round, checkpoint: String) -> Result<()> {
        let sent = self
            .tx
            .as_ref()
            .is_some_and(|tx| tx.send(Job::Round(round, checkpoint)).is_ok());
        if !sent || self.failed() {
            return self.finish();
        }
        Ok(())
    }

    /// Queues a mark: `durable(line)` is called once every round queued so far is published.
    pub fn durable(&mut self, line: u64) -> Result<()> {
        let sent = self
            .tx
            .as_ref()
            .is_some_and(|tx| tx.send(Job::Durable(line)).is_ok());
        if !sent || self.failed() {
            return self.finish();
        }
        Ok(())
    }

    /// Waits until every round submitted so far is published (and its checkpoint saved).
    pub fn wait(&mut self) -> Result<()> {
        let (done_tx, done_rx) = std::sync::mpsc::sync_channel(1);
        let sent = self
            .tx
            .as_ref()
            .is_some_and(|tx| tx.send(Job::Barrier(done_tx)).is_ok());
        if !sent || done_rx.recv().is_err() || self.failed() {
            self.finish()?;
            anyhow::bail!("the publishing thread stopped");
        }
        Ok(())
    }

    /// True once a round or checkpoint could not be written.
    pub fn failed(&self) -> bool {
        self.failed.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Waits until every queued round is published; the first error, if any.
    pub fn finish(&mut self) -> Result<()> {
        self.tx = None;
        match self.thread.take() {
            Some(t) => t
                .join()
                .unwrap_or_else(|_| Err(anyhow::anyhow!("the publishing thread panicked"))),
            None => Ok(()),
        }
    }
}

/// fsync of a folder, so that a rename or a new entry in it survives a power cut.
pub fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .with_context(|| format!("cannot fsync the folder {}", dir.display()))
}

/// Creates `dir` and its missing parents, fsyncing each parent so the new entries are durable.
pub fn create_dir_durably(dir: &Path) -> Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    if let Some(parent) = dir.parent()
        && !parent.as_os_str().is_empty()
    {
        create_dir_durably(parent)?;
    }
    match fs::create_dir(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && dir.is_dir() => return Ok(()),
        Err(e) => return Err(e).with_context(|| format!("cannot create {}", dir.display())),
    }
    if let Some(parent) = dir.parent()
        && !parent.as_os_str().is_empty()
    {
        sync_dir(parent)?;
    }
    Ok(())
}

/// Writes `bytes` to `path` atomically: hidden temporary file, fsync, rename, folder fsync.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().context("a file path has a folder")?;
    let name = path
        .file_name()
        .context("a file path has a name")?
        .to_string_lossy();
    let tmp = dir.join(format!(".{name}.tmp"));
    let mut f = File::create(&tmp).with_context(|| format!("cannot create {}", tmp.display()))?;
    f.write_all(bytes)
        .and_then(|()| f.sync_data())
        .with_context(|| format!("cannot write {}", tmp.display()))?;
    drop(f);
    fs::rename(&tmp, path)
        .with_context(|| format!("cannot rename {} to {}", tmp.display(), path.display()))?;
    sync_dir(dir)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::partition::Table;

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn files_are_hidden_until_published_and_never_reuse_a_name() {
        let lake = tempfile::tempdir().unwrap();
        let p = Partition {
            table: Table::Vitals,
            day: 20_785,
        };
        let rolling = Rolling {
            max_records: 2,
            max_age: Duration::from_secs(3600),
        };
        let mut w = LakeWriter::new(lake.path(), "main", 0, rolling);
        w.append(p, b"{\"a\":1}").unwrap();
        let dir = p.dir(lake.path());
        assert_eq!(names(&dir), vec![".part-main-0000000000.jsonl.tmp"]);
        w.append(p, b"{\"a\":2}").unwrap();
        assert!(w.round_due());
        assert_eq!(w.publish_all().unwrap(), 1);
        w.append(p, b"{\"a\":3}").unwrap();
        w.publish_all().unwrap();
        assert_eq!(
            names(&dir),
            vec!["part-main-0000000000.jsonl", "part-main-0000000001.jsonl"]
        );
        assert_eq!(
            fs::read_to_string(dir.join("part-main-0000000000.jsonl")).unwrap(),
            "{\"a\":1}\n{\"a\":2}\n"
        );
        assert_eq!(
            w.publish_all().unwrap(),
            0,
            "nothing open, nothing published"
        );
    }
}

//! The lake's own answer to "is this reading already here?", for the readings that the marks
//! (`dedup.rs`) cannot call new: a replay, a device that restarted its seq, a clock that stepped.
//!
//! A reading is filed in the `vitals/date=D` folder of its event time, so everything that could
//! match it is in that one folder. On the first question about a day the folder's published files
//! are read once (on one thread per core) into a hash table of `key → fingerprint` (about 20 to
//! 40 bytes per reading, with the table's spare room), where the key is a
//! hash of the identity `(device_id, seq, ts)` and the fingerprint a hash of the line's exact
//! bytes. The same key with the same fingerprint is the same record (a duplicate); the same key
//! with another fingerprint is a different reading under an identity the lake already gives to
//! another, which is quarantined rather than guessed about. Both hashes are seeded at random per
//! process: crafted lines cannot make a reading collide with another on purpose, and nothing
//! here is saved.
//!
//! Tables are kept while they fit in the memory budget (`--index-memory`); beyond it the least
//! recently used days are dropped and read again when asked about. One day is always kept, even
//! when it alone is over the budget (a warning says so): the answer must come from the lake.
//!
//! The caller publishes what it holds before a day is read (see `archive.rs`), so the folder holds
//! every record filed so far; records filed afterwards into a table that is in memory are added
//! to it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use vitals_core::{LineReader, Timestamp};

use crate::classify::{Classified, Identity, classify};
use crate::dedup::random_seed;
use crate::naming::holds_records;
use crate::partition::{Partition, Table};
use crate::recovery::file_names;

/// Memory per slot of a day's table: a key, a fingerprint and the hash table's control byte, with
/// its spare room (at most 7 of 8 slots are used).
const SLOT_BYTES: usize = 17 * 8 / 7;
/// Threads that read a day's files at most.
const MAX_READERS: usize = 4;
/// Readings filed into tables in memory between two looks at the budget.
const CHECK_EVERY: u64 = 4096;

/// What the lake says about a reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Not in the lake: file it.
    New,
    /// This very record is in the lake: skip it.
    Archived,
    /// Another reading with the same `(device_id, seq, ts)` is in the lake: quarantine it.
    Conflict,
}

/// The keys are already seeded xxh3 hashes, evenly spread: hashing them again would only cost.
#[derive(Default)]
struct PassThrough(u64);

impl std::hash::Hasher for PassThrough {
    fn write(&mut self, bytes: &[u8]) {
        // Only u64 keys are hashed here; this is the fallback for other types.
        self.0 = xxhash_rust::xxh3::xxh3_64_with_seed(bytes, self.0);
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

type Table64 = HashMap<u64, u64, std::hash::BuildHasherDefault<PassThrough>>;

struct DayTable {
    /// key → fingerprint of the readings in the day's folder, and of those filed since it was read.
    readings: Table64,
    last_used: u64,
}

impl DayTable {
    fn bytes(&self) -> usize {
        self.readings.capacity() * SLOT_BYTES
    }
}

/// The two hashes of a reading, seeded at random per process (see the module comment).
#[derive(Debug, Clone, Copy)]
pub struct ReadingHasher {
    seed: u64,
}

impl Default for ReadingHasher {
    fn default() -> Self {
        ReadingHasher {
            seed: random_seed(),
        }
    }
}

impl ReadingHasher {
    /// The key of the identity `(device_id, seq, ts)` (ts in ms).
    pub fn key(&self, device: &[u8], seq: u64, ts: i64) -> u64 {
        let id = xxhash_rust::xxh3::xxh3_64_with_seed(device, self.seed);
        let mut buf = [0u8; 24];
        buf[..8].copy_from_slice(&id.to_le_bytes());
        buf[8..16].copy_from_slice(&seq.to_le_bytes());
        buf[16..].copy_from_slice(&ts.to_le_bytes());
        xxhash_rust::xxh3::xxh3_64_with_seed(&buf, self.seed)
    }

    /// The fingerprint of a line's exact bytes.
    pub fn fingerprint(&self, line: &[u8]) -> u64 {
        xxhash_rust::xxh3::xxh3_64_with_seed(line, self.seed ^ 0x9e37_79b9_7f4a_7c15)
    }
}

/// Tables of the `vitals` days asked about, within a memory budget.
pub struct LakeIndex {
    lake: PathBuf,
    budget: usize,
    days: HashMap<i64, DayTable>,
    clock: u64,
    hasher: ReadingHasher,
    /// Days read from the lake in this run (a day dropped and read again counts twice).
    pub days_read: u64,
    filed_since_check: u64,
    warned_over_budget: bool,
}

impl LakeIndex {
    /// An index of `lake` that keeps its tables within `budget` bytes where it can.
    pub fn new(lake: &Path, budget: usize) -> Self {
        LakeIndex {
            lake: lake.to_owned(),
            budget,
            days: HashMap::new(),
            clock: 0,
            hasher: ReadingHasher::default(),
            days_read: 0,
            filed_since_check: 0,
            warned_over_budget: false,
        }
    }

    /// The hashes this index files readings under.
    pub fn hasher(&self) -> ReadingHasher {
        self.hasher
    }

    /// True when the day's table is in memory (asking about it reads nothing).
    pub fn has(&self, day: i64) -> bool {
        self.days.contains_key(&day)
    }

    /// What the lake holds under `key` on `day`, reading the day's folder if needed.
    pub fn judge(&mut self, day: i64, key: u64, fingerprint: u64) -> Result<Verdict> {
        self.clock += 1;
        if !self.has(day) {
            self.read_day(day)?;
        }
        let t = self.days.get_mut(&day).expect("read above");
        t.last_used = self.clock;
        Ok(match t.readings.get(&key) {
            None => Verdict::New,
            Some(&fp) if fp == fingerprint => Verdict::Archived,
            Some(_) => Verdict::Conflict,
        })
    }

    /// Notes a reading just filed, so that the day's table, if in memory, stays the lake's. A
    /// live stream into a day that is in memory grows its table, so the budget is checked every
    /// [`CHECK_EVERY`] readings; a table dropped then is read again, with those readings, when
    /// next asked about.
    pub fn filed(&mut self, day: i64, key: u64, fingerprint: u64) {
        if let Some(t) = self.days.get_mut(&day) {
            t.readings.insert(key, fingerprint);
            self.filed_since_check += 1;
            if self.filed_since_check >= CHECK_EVERY {
                self.filed_since_check = 0;
                self.keep_to_budget(None);
            }
        }
    }

    fn read_day(&mut self, day: i64) -> Result<()> {
        let dir = Partition {
            table: Table::Vitals,
            day,
        }
        .dir(&self.lake);
        let mut files = Vec::new();
        if dir.is_dir() {
            for name in file_names(&dir)? {
                if holds_records(&name) {
                    files.push(dir.join(name));
                }
            }
        }
        // The files are parsed on several threads (parsing is most of the work), each taking the
        // next file not taken yet.
        let next = std::sync::atomic::AtomicUsize::new(0);
        let hasher = self.hasher;
        let threads = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .clamp(1, MAX_READERS)
            .min(files.len().max(1));
        let parts: Vec<Result<Vec<(u64, u64)>>> = std::thread::scope(|scope| {
            let workers: Vec<_> = (0..threads)
                .map(|_| {
                    scope.spawn(|| {
                        let mut out = Vec::new();
                        loop {
                            let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                            let Some(path) = files.get(i) else {
                                return Ok(out);
                            };
                            read_file(hasher, day, path, &mut out)?;
                        }
                    })
                })
                .collect();
            workers
                .into_iter()
                .map(|w| {
                    w.join()
                        .unwrap_or_else(|_| Err(anyhow::anyhow!("a lake reading thread panicked")))
                })
                .collect()
        });
        let parts = parts.into_iter().collect::<Result<Vec<_>>>()?;
        // Sized once: growing would hold the old and the new table at the same time.
        let mut readings =
            Table64::with_capacity_and_hasher(parts.iter().map(Vec::len).sum(), Default::default());
        for part in parts {
            readings.extend(part);
        }
        self.days_read += 1;
        self.days.insert(
            day,
            DayTable {
                readings,
                last_used: self.clock,
            },
        );
        self.keep_to_budget(Some(day));
        Ok(())
    }

    /// Drops the least recently used tables (other than `keep`, the day just read) until the rest
    /// fit the budget.
    fn keep_to_budget(&mut self, keep: Option<i64>) {
        loop {
            let total: usize = self.days.values().map(DayTable::bytes).sum();
            if total <= self.budget {
                return;
            }
            let oldest = self
                .days
                .iter()
                .filter(|(d, _)| Some(**d) != keep)
                .min_by_key(|(_, t)| t.last_used)
                .map(|(d, _)| *d);
            match oldest {
                Some(d) => {
                    self.days.remove(&d);
                }
                None => {
                    // Only the day just read is left (with no `keep`, nothing is).
                    let Some(day) = keep else { return };
                    if !self.warned_over_budget {
                        self.warned_over_budget = true;
                        eprintln!(
                            "cardio-archive: the lookup table of vitals/{} takes {} MiB, more \
                             than --index-memory; it is kept anyway (raise --index-memory to \
                             keep more days)",
                            Partition {
                                table: Table::Vitals,
                                day
                            }
                            .folder_name(),
                            total >> 20
                        );
                    }
                    return;
                }
            }
        }
    }
}

/// Adds the `(key, fingerprint)` of each reading of `day` in the file at `path` to `out`.
fn read_file(
    hasher: ReadingHasher,
    day: i64,
    path: &Path,
    out: &mut Vec<(u64, u64)>,
) -> Result<()> {
    let f = std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut reader = LineReader::new(f);
    while let Some(line) = reader
        .next_line()
        .with_context(|| format!("cannot read {}", path.display()))?
    {
        // Lines that are not readings of this day are not this day's identities (`check`
        // reports them).
        let Classified::Original(filed) = classify(&line, Timestamp::from_millis(0)) else {
            continue;
        };
        let Identity::Reading { device, seq, ts } = filed.identity else {
            continue;
        };
        if filed.partition.table != Table::Vitals || filed.partition.day != day {
            continue;
        }
        out.push((
            hasher.key(device.bytes(line.bytes), seq, ts.millis()),
            hasher.fingerprint(line.bytes),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_day_is_read_once_and_tables_beyond_the_budget_are_dropped_least_recent_first() {
        let lake = tempfile::tempdir().unwrap();
        let mut ix = LakeIndex::new(lake.path(), 0);
        let h = ix.hasher();
        let k = h.key(b"D", 1, 1000);
        let fp = h.fingerprint(b"line");
        assert_eq!(ix.judge(1, k, fp).unwrap(), Verdict::New);
        ix.filed(1, k, fp);
        assert_eq!(ix.judge(1, k, fp).unwrap(), Verdict::Archived);
        assert_eq!(ix.judge(1, k, fp ^ 1).unwrap(), Verdict::Conflict);
        assert_ne!(h.key(b"D", 1, 1001), k);
        assert_ne!(h.key(b"D", 2, 1000), k);
        assert_ne!(h.key(b"E", 1, 1000), k);
        assert_eq!(ix.days_read, 1);
        // A budget of 0 keeps only the day asked about last.
        ix.judge(2, k, fp).unwrap();
        assert!(ix.has(2) && !ix.has(1));
        assert_eq!(ix.days_read, 2);
        // Readings filed into it count against the budget too.
        for seq in 0..CHECK_EVERY {
            ix.filed(2, h.key(b"D", seq, 0), fp);
        }
        assert!(!ix.has(2), "dropped, to be read again from the lake");
    }
}

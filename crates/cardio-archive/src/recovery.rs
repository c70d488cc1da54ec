//! Start-up recovery of one writer: rebuild the marks of everything in the lake and
//! publish what a crash left hidden.
//!
//! The checkpoint (`_archive/<writer>/checkpoint`) holds the marks of every file the writer had
//! published when it was saved, and the next file number. Files numbered from there on were
//! published or left in progress after it, so recovery reads just those:
//!
//! - a hidden `.part-<writer>-<n>.jsonl.tmp` is salvaged: its whole lines are published under the
//!   name it would have had, a torn last line is dropped and reported. Its records were never in a
//!   checkpoint, so nothing acknowledged depends on it; publishing them saves a re-feed, and the
//!   marks make a re-feed of them harmless.
//! - a published `part-<writer>-<n>.jsonl` with `n` at or past the checkpoint's number has its
//!   identities added to the marks.
//!
//! Without a checkpoint, every published file of the lake is read instead. Then a new checkpoint
//! is saved. Every step can be repeated after a crash in the middle of it
//! (truncate to the last newline, rename, re-read) and gives the same lake and the same marks.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use vitals_core::{LineReader, Timestamp};

use crate::classify::{Classified, Identity, classify};
use crate::dedup::Marks;
use crate::lock::writer_dir;
use crate::naming::{FileName, holds_records, parse_file_name, part_name};
use crate::partition::{Partition, Table};
use crate::writer::{sync_dir, write_atomically};
use vitals_core::lake::parse_partition_folder;

/// Version 2: device lines hold seq ranges only (version 1 also held a time, no longer used; a
/// version 1 checkpoint is not read, and the marks are rebuilt from the lake once).
const CHECKPOINT_HEADER: &str = "cardio-archive checkpoint 2";

/// What recovery found and did.
#[derive(Debug, Default)]
pub struct Recovered {
    pub marks: Marks,
    pub next_file: u64,
    /// Hidden files published by salvage.
    pub salvaged_files: u64,
    pub salvaged_records: u64,
    /// Torn or unreadable lines dropped from hidden files (their records come back with a re-feed).
    pub dropped_lines: u64,
    /// Published files read because the checkpoint did not cover them.
    pub rescanned_files: u64,
}

pub fn checkpoint_path(lake: &Path, writer: &str) -> PathBuf {
    writer_dir(lake, writer).join("checkpoint")
}

/// Saves the marks and the next file number atomically.
pub fn save_checkpoint(lake: &Path, writer: &str, marks: &Marks, next_file: u64) -> Result<()> {
    write_checkpoint(lake, writer, &checkpoint_text(marks, next_file))
}

/// The checkpoint's content.
pub fn checkpoint_text(marks: &Marks, next_file: u64) -> String {
    let mut text = format!("{CHECKPOINT_HEADER}\nnext_file {next_file}\n");
    marks.encode(&mut text);
    text.push_str("end\n");
    text
}

/// Writes a checkpoint made by [`checkpoint_text`] atomically.
pub fn write_checkpoint(lake: &Path, writer: &str, text: &str) -> Result<()> {
    crate::writer::create_dir_durably(&writer_dir(lake, writer))?;
    write_atomically(&checkpoint_path(lake, writer), text.as_bytes())
}

/// Loads a checkpoint; `None` when there is none or it is unreadable (then everything is rescanned,
/// which is slower but exact).
fn load_checkpoint(path: &Path) -> Result<Option<(Marks, u64)>> {
    let text = match fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    let mut lines = text.lines();
    let ok_header = lines.next() == Some(CHECKPOINT_HEADER);
    let next_file = lines
        .next()
        .and_then(|l| l.strip_prefix("next_file "))
        .and_then(|n| n.parse::<u64>().ok());
    let (true, Some(next_file), true) = (ok_header, next_file, text.ends_with("end\n")) else {
        eprintln!(
            "cardio-archive: {} is damaged; rebuilding the marks from the whole lake",
            path.display()
        );
        return Ok(None);
    };
    let mut marks = Marks::default();
    for line in lines {
        if line == "end" {
            break;
        }
        if !marks.decode_line(line) {
            eprintln!(
                "cardio-archive: {} has a bad line; rebuilding the marks from the whole lake",
                path.display()
            );
            return Ok(None);
        }
    }
    Ok(Some((marks, next_file)))
}

/// The partition folders of the lake: `(partition, path)`, in a stable order.
pub fn partitions(lake: &Path) -> Result<Vec<(Partition, PathBuf)>> {
    let mut out = Vec::new();
    for table in Table::ALL {
        let tdir = lake.join(table.dir_name());
        let entries = match fs::read_dir(&tdir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e).with_context(|| format!("cannot list {}", tdir.display())),
        };
        for e in entries {
            let e = e.with_context(|| format!("cannot list {}", tdir.display()))?;
            if let Some(day) = parse_partition_folder(&e.file_name().to_string_lossy()) {
                out.push((Partition { table, day }, e.path()));
            }
        }
    }
    out.sort();
    Ok(out)
}

/// The file names in a folder, sorted.
pub fn file_names(dir: &Path) -> Result<Vec<String>> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .with_context(|| format!("cannot list {}", dir.display()))?
        .map(|e| e.map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect::<std::io::Result<_>>()
        .with_context(|| format!("cannot list {}", dir.display()))?;
    names.sort();
    Ok(names)
}

/// Adds the identity of one lake line to `marks`; false when the line is not a record of
/// `partition`'s table and day.
pub fn mark_line(marks: &mut Marks, partition: Partition, line: &vitals_core::Line<'_>) -> bool {
    let Classified::Original(filed) = classify(line, Timestamp::from_millis(0)) else {
        return false;
    };
    if filed.partition != partition {
        return false;
    }
    match filed.identity {
        Identity::Reading { device, seq, .. } => {
            marks.add_reading(device.bytes(line.bytes), seq);
        }
        Identity::Hash(h) if partition.table == Table::Alerts => {
            marks.insert_alert(h);
        }
        Identity::Keyed { key, fingerprint } => {
            // A second record under a taken identity cannot be in a lake this archive wrote
            // (`check` reports one put there by hand); the first one read keeps the identity.
            marks.insert_keyed(key, fingerprint);
        }
        Identity::Hash(h) => {
            marks.insert_rejected(h);
        }
    }
    true
}

/// Reads a published file into `marks`; returns (records, lines that are not records of it).
pub fn mark_file(marks: &mut Marks, partition: Partition, path: &Path) -> Result<(u64, u64)> {
    let f = fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut reader = LineReader::new(f);
    let (mut good, mut bad) = (0, 0);
    while let Some(line) = reader
        .next_line()
        .with_context(|| format!("cannot read {}", path.display()))?
    {
        if mark_line(marks, partition, &line) {
            good += 1;
        } else {
            bad += 1;
        }
    }
    Ok((good, bad))
}

/// Recovers writer `writer` of `lake` (the caller holds its lock).
pub fn recover(lake: &Path, writer: &str) -> Result<Recovered> {
    let loaded = load_checkpoint(&checkpoint_path(lake, writer))?;
    // Without a checkpoint (a new writer id, or a damaged file) every published file is read, also
    // other writers' and compacted ones, so that nothing already in the lake is filed again.
    let full_scan = loaded.is_none();
    let (marks, covered) = loaded.unwrap_or_default();
    let mut r = Recovered {
        marks,
        next_file: covered,
        ..Recovered::default()
    };
    for (partition, dir) in partitions(lake)? {
        for name in file_names(&dir)? {
            match parse_file_name(&name) {
                FileName::InProgress { writer: w, n } if w == writer => {
                    r.next_file = r.next_file.max(n + 1);
                    salvage(&mut r, partition, &dir, &name, writer, n)?;
                }
                FileName::Published { writer: w, n } if w == writer => {
                    r.next_file = r.next_file.max(n + 1);
                    if n >= covered {
                        mark_file(&mut r.marks, partition, &dir.join(&name))?;
                        r.rescanned_files += 1;
                    }
                }
                _ if full_scan && holds_records(&name) => {
                    mark_file(&mut r.marks, partition, &dir.join(&name))?;
                    r.rescanned_files += 1;
                }
                _ if name.starts_with(&format!(".part-{writer}-"))
                    && name.ends_with(".salvage.tmp") =>
                {
                    // A salvage copy whose crash interrupted it: the hidden original is still
                    // there (it is removed only after the copy is published), so start again.
                    let p = dir.join(&name);
                    match fs::remove_file(&p) {
                        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                            return Err(e)
                                .with_context(|| format!("cannot remove {}", p.display()));
                        }
                        _ => {}
                    }
                }
                _ => {}
            }
        }
    }
    save_checkpoint(lake, writer, &r.marks, r.next_file)?;
    Ok(r)
}

/// Publishes the whole lines of a hidden file left by a crash.
fn salvage(
    r: &mut Recovered,
    partition: Partition,
    dir: &Path,
    name: &str,
    writer: &str,
    n: u64,
) -> Result<()> {
    let tmp = dir.join(name);
    let target = dir.join(part_name(writer, n));
    if target.exists() {
        // Published already (a salvage copy was renamed, then the crash came before this removal).
        fs::remove_file(&tmp).with_context(|| format!("cannot remove {}", tmp.display()))?;
        return sync_dir(dir);
    }
    let bytes = fs::read(&tmp).with_context(|| format!("cannot read {}", tmp.display()))?;
    let whole = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    let torn = bytes.len() - whole;
    // Check each whole line: after a power cut a file can hold zeros or stale blocks.
    let mut keep: Vec<std::ops::Range<usize>> = Vec::new();
    let mut unreadable = 0u64;
    let mut at = 0;
    let mut scratch = Marks::default();
    for (no, raw) in bytes[..whole].split(|&b| b == b'\n').enumerate() {
        let range = at..at + raw.len();
        at += raw.len() + 1;
        if range.start >= whole {
            break;
        }
        let line = vitals_core::Line {
            number: no as u64 + 1,
            bytes: raw,
            overlong: None,
        };
        if mark_line(&mut scratch, partition, &line) {
            keep.push(range);
        } else {
            unreadable += 1;
        }
    }
    let records = keep.len() as u64;
    if records == 0 {
        fs::remove_file(&tmp).with_context(|| format!("cannot remove {}", tmp.display()))?;
    } else if unreadable == 0 {
        let f = fs::OpenOptions::new()
            .write(true)
            .open(&tmp)
            .with_context(|| format!("cannot open {}", tmp.display()))?;
        f.set_len(whole as u64)
            .and_then(|()| f.sync_data())
            .with_context(|| format!("cannot truncate {}", tmp.display()))?;
        fs::rename(&tmp, &target)
            .with_context(|| format!("cannot publish {} as {}", tmp.display(), target.display()))?;
    } else {
        let copy = dir.join(format!("{name}.salvage.tmp"));
        let mut f =
            fs::File::create(&copy).with_context(|| format!("cannot create {}", copy.display()))?;
        for range in &keep {
            f.write_all(&bytes[range.clone()])
                .and_then(|()| f.write_all(b"\n"))
                .with_context(|| format!("cannot write {}", copy.display()))?;
        }
        f.sync_data()
            .with_context(|| format!("cannot fsync {}", copy.display()))?;
        fs::rename(&copy, &target).with_context(|| {
            format!("cannot publish {} as {}", copy.display(), target.display())
        })?;
        sync_dir(dir)?;
        fs::remove_file(&tmp).with_context(|| format!("cannot remove {}", tmp.display()))?;
    }
    sync_dir(dir)?;
    if records > 0 {
        // Its identities go into the marks like any published file's.
        mark_file(&mut r.marks, partition, &target)?;
        r.salvaged_files += 1;
        r.salvaged_records += records;
    }
    let dropped = unreadable + u64::from(torn > 0);
    r.dropped_lines += dropped;
    let mut note = format!(
        "cardio-archive: recovered {}: {records} records published",
        tmp.display()
    );
    if torn > 0 {
        note.push_str(&format!(", a torn last line of {torn} bytes dropped"));
    }
    if unreadable > 0 {
        note.push_str(&format!(", {unreadable} unreadable lines dropped"));
    }
    eprintln!("{note}");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::naming::tmp_name;

    const DAY: i64 = 20_785;

    fn vitals(device: &str, seq: u64) -> String {
        format!(
            r#"{{"type":"vitals","ts":"2026-11-28T05:40:01.000Z","patient_id":"PT-1","device_id":"{device}","seq":{seq},"heart_rate_bpm":72,"spo2_pct":98,"respiratory_rate_bpm":14,"temperature_c":36.8,"systolic_mmhg":null,"diastolic_mmhg":null,"battery_pct":99}}"#
        )
    }

    #[test]
    fn a_torn_hidden_file_is_published_without_its_last_line_and_recovery_is_idempotent() {
        let lake = tempfile::tempdir().unwrap();
        let p = Partition {
            table: Table::Vitals,
            day: DAY,
        };
        let dir = p.dir(lake.path());
        fs::create_dir_all(&dir).unwrap();
        let mut content = format!("{}\n{}\n", vitals("D-1", 0), vitals("D-1", 1));
        content.push_str(&vitals("D-1", 2)[..50]);
        fs::write(dir.join(tmp_name("main", 3)), &content).unwrap();

        let r = recover(lake.path(), "main").unwrap();
        assert_eq!(r.salvaged_records, 2);
        assert_eq!(r.dropped_lines, 1);
        assert_eq!(r.next_file, 4);
        assert!(r.marks.devices[b"D-1".as_slice()].contains(1));
        assert!(!r.marks.devices[b"D-1".as_slice()].contains(2));
        let published = fs::read_to_string(dir.join(part_name("main", 3))).unwrap();
        assert_eq!(published.lines().count(), 2);

        let again = recover(lake.path(), "main").unwrap();
        assert_eq!(again.marks, r.marks);
        assert_eq!(again.next_file, 4);
        assert_eq!(again.salvaged_files, 0);
        assert_eq!(file_names(&dir).unwrap(), vec![part_name("main", 3)]);
    }

    #[test]
    fn unreadable_lines_in_a_hidden_file_are_dropped_and_the_rest_kept() {
        let lake = tempfile::tempdir().unwrap();
        let p = Partition {
            table: Table::Vitals,
            day: DAY,
        };
        let dir = p.dir(lake.path());
        fs::create_dir_all(&dir).unwrap();
        let content = format!("{}\n\0\0\0\0\n{}\n", vitals("D-1", 0), vitals("D-2", 0));
        fs::write(dir.join(tmp_name("main", 0)), content).unwrap();
        let r = recover(lake.path(), "main").unwrap();
        assert_eq!((r.salvaged_records, r.dropped_lines), (2, 1));
        assert_eq!(file_names(&dir).unwrap(), vec![part_name("main", 0)]);
    }

    #[test]
    fn another_writers_hidden_files_are_left_alone() {
        let lake = tempfile::tempdir().unwrap();
        let dir = Partition {
            table: Table::Vitals,
            day: DAY,
        }
        .dir(lake.path());
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join(tmp_name("other", 0)), vitals("D-1", 0) + "\n").unwrap();
        let r = recover(lake.path(), "main").unwrap();
        assert_eq!(r.salvaged_files, 0);
        assert!(dir.join(tmp_name("other", 0)).exists());
    }
}

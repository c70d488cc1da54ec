//! `cardio-archive compact --before DATE`: merges each closed day's small files into a few large
//! ones with the same records, so a dashboard refresh after months of 1-minute files stays fast.
//!
//! Per partition folder `<table>/date=X`, atomically: the merged files are written and fsynced in
//! `_archive/compact/<table>/date=X`, then the two folders are swapped in one
//! `renameat2(RENAME_EXCHANGE)` (readers see either all old files or all new ones, never both or
//! neither), then the staging folder, which now holds the old files, is removed. The staging
//! folder is outside the tables on purpose: DuckDB's `vitals/*/*.jsonl` glob also matches hidden
//! folders. A crash before the swap leaves the old folder as it was; after it, the new one. Either
//! way what is left under `_archive/compact` is safe to delete, and the next `compact` does so.
//!
//! It needs the lake to itself (the exclusive lake lock): a writer could otherwise be publishing
//! into the folder being swapped. First it runs every writer's recovery, so each checkpoint covers
//! the files about to be merged (writers do not rescan the merged files).

use std::collections::BTreeSet;
use std::fs::{self, File};
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::Path;

use anyhow::{Context, Result, anyhow, bail};
use vitals_core::status::EXIT_OK;

use crate::lock::{state_dir, try_lock_exclusive};
use crate::naming::{
    COMPACT_STAGING, COMPACTED_WRITER, FileName, holds_records, parse_file_name, part_name,
    validate_writer_id,
};
use crate::partition::Table;
use crate::progress::Progress;
use crate::recovery::{file_names, partitions, recover};
use crate::writer::sync_dir;
use vitals_core::lake::parse_date;

/// Compacts the days before `before` (YYYY-MM-DD). Returns the exit status.
pub fn compact(lake: &Path, before: &str, records_per_file: u64) -> Result<u8> {
    let before_day = parse_date(before)
        .ok_or_else(|| anyhow!("--before `{before}` is not a date such as 2026-11-28"))?;
    if !lake.is_dir() {
        bail!("{} is not a lake folder", lake.display());
    }
    let Some(_lock) = try_lock_exclusive(lake)? else {
        bail!(
            "a cardio-archive is writing to {}; compact needs the lake to itself (stop the \
             writer, compact, start it again: it resumes exactly where it was)",
            lake.display()
        );
    };
    for writer in writers(lake)? {
        recover(lake, &writer)
            .with_context(|| format!("cannot recover writer `{writer}` before compacting"))?;
    }
    remove_leftovers(lake)?;

    let mut progress = Progress::new();
    let (mut days, mut files_in, mut files_out, mut records) = (0u64, 0u64, 0u64, 0u64);
    for (partition, dir) in partitions(lake)? {
        if partition.day >= before_day {
            continue;
        }
        let names: Vec<String> = file_names(&dir)?
            .into_iter()
            .filter(|n| holds_records(n))
            .collect();
        if names.len() <= 1 {
            continue;
        }
        let table_dir = dir.parent().context("a partition has a table folder")?;
        let staging_parent = compact_dir(lake).join(partition.table.dir_name());
        crate::writer::create_dir_durably(&staging_parent)?;
        let staging = staging_parent.join(partition.folder_name());
        let (written, n_out) = merge(&dir, &names, &staging, records_per_file)?;
        swap(&staging, &dir)?;
        sync_dir(table_dir)?;
        sync_dir(&staging_parent)?;
        fs::remove_dir_all(&staging)
            .with_context(|| format!("cannot remove {}", staging.display()))?;
        sync_dir(&staging_parent)?;
        days += 1;
        files_in += names.len() as u64;
        files_out += n_out;
        records += written;
        progress.tick(records, "records compacted", &format!(", {days} days"));
    }
    progress.finish();
    eprintln!(
        "cardio-archive: compacted {days} partitions before {before}: {files_in} files into \
         {files_out}, {records} records"
    );
    Ok(EXIT_OK)
}

/// Writer ids with state in the lake or hidden files in it (not the staging folder, whose name
/// no writer may take).
fn writers(lake: &Path) -> Result<BTreeSet<String>> {
    let mut ids = BTreeSet::new();
    if let Ok(entries) = fs::read_dir(state_dir(lake)) {
        for e in entries.flatten() {
            if e.path().is_dir() {
                let id = e.file_name().to_string_lossy().into_owned();
                if validate_writer_id(&id).is_ok() {
                    ids.insert(id);
                }
            }
        }
    }
    for (_, dir) in partitions(lake)? {
        for name in file_names(&dir)? {
            if let FileName::InProgress { writer, .. } = parse_file_name(&name)
                && validate_writer_id(&writer).is_ok()
            {
                ids.insert(writer);
            }
        }
    }
    Ok(ids)
}

/// Where compact stages merged files: `_archive/compact`.
pub fn compact_dir(lake: &Path) -> std::path::PathBuf {
    state_dir(lake).join(COMPACT_STAGING)
}

/// Removes what an interrupted compact left in `_archive/compact` (see the module comment:
/// always safe).
fn remove_leftovers(lake: &Path) -> Result<()> {
    for table in Table::ALL {
        let tdir = compact_dir(lake).join(table.dir_name());
        let Ok(entries) = fs::read_dir(&tdir) else {
            continue;
        };
        for e in entries.flatten() {
            eprintln!(
                "cardio-archive: removing {} left by an interrupted compact",
                e.path().display()
            );
            fs::remove_dir_all(e.path())
                .with_context(|| format!("cannot remove {}", e.path().display()))?;
            sync_dir(&tdir)?;
        }
    }
    Ok(())
}

/// Copies every line of `names` (in order) into files of `per_file` lines in `staging`, fsynced.
/// Returns (records, files).
fn merge(dir: &Path, names: &[String], staging: &Path, per_file: u64) -> Result<(u64, u64)> {
    if staging.exists() {
        fs::remove_dir_all(staging)
            .with_context(|| format!("cannot remove {}", staging.display()))?;
    }
    fs::create_dir(staging).with_context(|| format!("cannot create {}", staging.display()))?;
    let (mut records, mut files) = (0u64, 0u64);
    let mut out: Option<(BufWriter<File>, std::path::PathBuf, u64)> = None;
    let mut line = Vec::new();
    for name in names {
        let path = dir.join(name);
        let f = File::open(&path).with_context(|| format!("cannot open {}", path.display()))?;
        let mut r = BufReader::with_capacity(1 << 16, f);
        loop {
            line.clear();
            let n = r
                .read_until(b'\n', &mut line)
                .with_context(|| format!("cannot read {}", path.display()))?;
            if n == 0 {
                break;
            }
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            if line.last() != Some(&b'\n') {
                line.push(b'\n');
            }
            if out.as_ref().is_none_or(|(_, _, k)| *k >= per_file) {
                if let Some((w, p, _)) = out.take() {
                    finish(w, &p)?;
                }
                let p = staging.join(part_name(COMPACTED_WRITER, files));
                let f =
                    File::create(&p).with_context(|| format!("cannot create {}", p.display()))?;
                out = Some((BufWriter::with_capacity(1 << 20, f), p, 0));
                files += 1;
            }
            let (w, p, k) = out.as_mut().expect("opened above");
            w.write_all(&line)
                .with_context(|| format!("cannot write {}", p.display()))?;
            *k += 1;
            records += 1;
        }
    }
    if let Some((w, p, _)) = out.take() {
        finish(w, &p)?;
    }
    sync_dir(staging)?;
    Ok((records, files))
}

fn finish(w: BufWriter<File>, path: &Path) -> Result<()> {
    let f = w
        .into_inner()
        .map_err(|e| e.into_error())
        .with_context(|| format!("cannot write {}", path.display()))?;
    f.sync_data()
        .with_context(|| format!("cannot fsync {}", path.display()))
}

/// Exchanges two folders atomically.
#[cfg(target_os = "linux")]
fn swap(a: &Path, b: &Path) -> Result<()> {
    use rustix::fs::{CWD, RenameFlags, renameat_with};
    renameat_with(CWD, a, CWD, b, RenameFlags::EXCHANGE)
        .map_err(std::io::Error::from)
        .with_context(|| format!("cannot swap {} and {}", a.display(), b.display()))
}

/// Without `RENAME_EXCHANGE`: move the old folder aside, then the new one in (a reader may see
/// the day missing for an instant, never doubled).
#[cfg(not(target_os = "linux"))]
fn swap(a: &Path, b: &Path) -> Result<()> {
    let aside = b.with_extension("old");
    fs::rename(b, &aside).with_context(|| format!("cannot move {}", b.display()))?;
    fs::rename(a, b).with_context(|| format!("cannot move {}", a.display()))?;
    fs::rename(&aside, a).with_context(|| format!("cannot move {}", aside.display()))
}

//! `cardio-archive check`: the lake's owner asks "is everything in order?".
//!
//! Wrong (exit status 1): a published line that does not parse or sits in the wrong partition, a
//! record identity found twice (for readings `(device_id, seq, ts)`, see `lake_index.rs`; for
//! admission `(patient_id, ts)` and for settings `(settings_id, ts)`, whether the two lines are the same
//! bytes or not), a folder readers would misread, or hidden in-progress files while
//! no writer runs (a crash that a restart of the archive will salvage). Listed but not wrong: gaps
//! in `seq` per device (readings lost upstream) and files in progress of a running writer.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};
use vitals_core::status::{EXIT_FINDINGS, EXIT_OK};
use vitals_core::{LineReader, Timestamp};

use crate::classify::{Classified, Identity, classify};
use crate::dedup::SeqSet;
use crate::lake_index::ReadingHasher;
use crate::lock::try_lock_exclusive;
use crate::naming::{FileName, holds_records, parse_file_name};
use crate::partition::Table;
use crate::progress::Progress;
use crate::recovery::{file_names, partitions};

/// Problems listed one by one before the rest are only counted.
const LIST_FIRST: usize = 20;

#[derive(Debug, Default)]
struct Findings {
    problems: u64,
    listed: Vec<String>,
}

impl Findings {
    fn problem(&mut self, text: String) {
        self.problems += 1;
        if self.listed.len() < LIST_FIRST {
            self.listed.push(text);
        }
    }
}

/// Checks `lake` and writes the report to `out`. Returns 0 when all is well, 1 otherwise.
pub fn check(lake: &Path, out: &mut impl Write) -> Result<u8> {
    if !lake.is_dir() {
        anyhow::bail!("{} is not a lake folder", lake.display());
    }
    // Only a probe: a writer holds the lake lock shared, so failing to take it exclusively means
    // one is running. Released at once, so `check` never keeps a writer from starting.
    let writer_running = try_lock_exclusive(lake)?.is_none();
    let mut f = Findings::default();
    let mut leftovers = Vec::new();
    let mut staged: Vec<String> = Vec::new();
    let mut devices: HashMap<String, SeqSet> = HashMap::new();
    // Reading identities as seeded 64-bit hashes: 8 bytes a reading instead of the id's text.
    let hasher = ReadingHasher::default();
    let mut readings: HashSet<u64> = HashSet::new();
    let mut alerts: HashMap<u64, String> = HashMap::new();
    let mut rejected: HashMap<u64, String> = HashMap::new();
    // Admission and settings identities: key → (content hash, where first seen).
    let mut keyed: HashMap<u64, (u64, String)> = HashMap::new();
    let (mut files, mut counts) = (0u64, [0u64; Table::ALL.len()]);
    let mut progress = Progress::new();

    for table in Table::ALL {
        // Folders an interrupted compact left in its staging area.
        let staging = crate::compact::compact_dir(lake).join(table.dir_name());
        if let Ok(entries) = fs::read_dir(&staging) {
            for e in entries.flatten() {
                staged.push(e.path().display().to_string());
            }
        }
        let tdir = lake.join(table.dir_name());
        if let Ok(entries) = fs::read_dir(&tdir) {
            for e in entries.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                if vitals_core::lake::parse_partition_folder(&name).is_none() {
                    if name.starts_with('.') {
                        leftovers.push(e.path().display().to_string());
                    } else {
                        f.problem(format!(
                            "{}: not a date=YYYY-MM-DD partition (readers would misread it)",
                            e.path().display()
                        ));
                    }
                }
            }
        }
    }

    for (partition, dir) in partitions(lake)? {
        for name in file_names(&dir)? {
            let path = dir.join(&name);
            let is_jsonl = holds_records(&name);
            match parse_file_name(&name) {
                FileName::InProgress { .. } => {
                    leftovers.push(path.display().to_string());
                    continue;
                }
                _ if name.starts_with('.') => {
                    leftovers.push(path.display().to_string());
                    continue;
                }
                _ if !is_jsonl => continue,
                _ => {}
            }
            files += 1;
            let file =
                fs::File::open(&path).with_context(|| format!("cannot open {}", path.display()))?;
            let bytes = file
                .metadata()
                .with_context(|| format!("cannot stat {}", path.display()))?
                .len();
            if bytes == 0 {
                f.problem(format!("{}: empty file", path.display()));
            }
            let mut reader = LineReader::new(file);
            while let Some(line) = reader
                .next_line()
                .with_context(|| format!("cannot read {}", path.display()))?
            {
                let at = || format!("{}:{}", path.display(), line.number);
                let Classified::Original(filed) = classify(&line, Timestamp::from_millis(0)) else {
                    f.problem(format!("{}: not a valid record", at()));
                    continue;
                };
                if filed.partition != partition {
                    f.problem(format!(
                        "{}: a {} record of {} filed under {}/{}",
                        at(),
                        filed.partition.table,
                        filed.partition.folder_name(),
                        partition.table,
                        partition.folder_name()
                    ));
                    continue;
                }
                counts[table_index(partition.table)] += 1;
                match filed.identity {
                    Identity::Reading { device, seq, ts } => {
                        let id_bytes = device.bytes(line.bytes);
                        let id = String::from_utf8_lossy(id_bytes).into_owned();
                        if !readings.insert(hasher.key(id_bytes, seq, ts.millis())) {
                            f.problem(format!(
                                "{}: reading ({id}, {seq}, {ts}) is in the lake twice",
                                at()
                            ));
                        }
                        devices.entry(id).or_default().insert_exact(seq);
                    }
                    Identity::Keyed { key, fingerprint } => match keyed.get(&key) {
                        Some((first_fp, first)) => {
                            let how = if *first_fp == fingerprint {
                                "the same record"
                            } else {
                                "another record with the same identity"
                            };
                            let text = format!(
                                "{}: {} record: {how} is already at {first}",
                                at(),
                                partition.table
                            );
                            f.problem(text);
                        }
                        None => {
                            keyed.insert(key, (fingerprint, at()));
                        }
                    },
                    Identity::Hash(h) => {
                        let seen = if partition.table == Table::Alerts {
                            &mut alerts
                        } else {
                            &mut rejected
                        };
                        match seen.get(&h) {
                            Some(first) => {
                                let what = if partition.table == Table::Alerts {
                                    "alert event"
                                } else {
                                    "rejected line"
                                };
                                let text = format!("{}: {what} already at {first}", at());
                                f.problem(text);
                            }
                            None => {
                                seen.insert(h, at());
                            }
                        }
                    }
                }
            }
            // A published file ends with a newline: anything else was cut short.
            if bytes > 0 && !ends_with_newline(&path)? {
                f.problem(format!(
                    "{}: last line has no newline (cut short)",
                    path.display()
                ));
            }
            progress.tick(files, "files checked", "");
        }
    }
    progress.finish();

    let total: u64 = counts.iter().sum();
    let mut gaps: Vec<(String, u64, u64)> = Vec::new();
    let mut gap_count = 0u64;
    let mut ids: Vec<&String> = devices.keys().collect();
    ids.sort();
    for id in ids {
        for (lo, hi) in devices[id].gaps() {
            gap_count += 1;
            if gaps.len() < LIST_FIRST {
                gaps.push((id.clone(), lo, hi));
            }
        }
    }
    let leftovers_wrong = !staged.is_empty() || (!leftovers.is_empty() && !writer_running);
    let w = |e: std::io::Error| anyhow::Error::from(e).context("cannot write the report");
    writeln!(
        out,
        "{}: {files} files, {total} records (vitals {}, alerts {}, admission {}, settings {}, \
         rejected {}), {} devices",
        lake.display(),
        counts[table_index(Table::Vitals)],
        counts[table_index(Table::Alerts)],
        counts[table_index(Table::Admission)],
        counts[table_index(Table::Settings)],
        counts[table_index(Table::Rejected)],
        devices.len()
    )
    .map_err(w)?;
    for p in &f.listed {
        writeln!(out, "problem: {p}").map_err(w)?;
    }
    if f.problems > f.listed.len() as u64 {
        writeln!(
            out,
            "… and {} more problems",
            f.problems - f.listed.len() as u64
        )
        .map_err(w)?;
    }
    for l in &staged {
        writeln!(
            out,
            "leftover: {l}: left by an interrupted compact: run compact again to remove it"
        )
        .map_err(w)?;
    }
    for l in &leftovers {
        let note = if writer_running {
            "in progress (a writer is running)"
        } else {
            "left by a crash: start cardio-archive on this lake to salvage it"
        };
        writeln!(out, "leftover: {l}: {note}").map_err(w)?;
    }
    for (id, lo, hi) in &gaps {
        if lo == hi {
            writeln!(out, "gap: device {id}: seq {lo} missing").map_err(w)?;
        } else {
            writeln!(
                out,
                "gap: device {id}: seq {lo}–{hi} missing ({})",
                hi - lo + 1
            )
            .map_err(w)?;
        }
    }
    if gap_count > gaps.len() as u64 {
        writeln!(out, "… and {} more gaps", gap_count - gaps.len() as u64).map_err(w)?;
    }
    let ok = f.problems == 0 && !leftovers_wrong;
    writeln!(
        out,
        "{}: {} problems, {} leftovers, {gap_count} seq gaps",
        if ok { "OK" } else { "NOT OK" },
        f.problems,
        leftovers.len() + staged.len()
    )
    .map_err(w)?;
    Ok(if ok { EXIT_OK } else { EXIT_FINDINGS })
}

fn table_index(t: Table) -> usize {
    Table::ALL
        .iter()
        .position(|&x| x == t)
        .expect("every table is in Table::ALL")
}

fn ends_with_newline(path: &Path) -> Result<bool> {
    use std::io::{Read, Seek, SeekFrom};
    let mut f = fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    f.seek(SeekFrom::End(-1))
        .with_context(|| format!("cannot read {}", path.display()))?;
    let mut b = [0u8; 1];
    f.read_exact(&mut b)
        .with_context(|| format!("cannot read {}", path.display()))?;
    Ok(b[0] == b'\n')
}

//! The data lake's layout (docs/spec.md §2), spelled once: the table folders, the Hive partition
//! folder `date=YYYY-MM-DD`, which names a reader skips, and which files hold records. The archive
//! that writes the lake, cardio-report and cardio-watch that read it, and the tests that check it
//! all take these rules from here, so a change to the layout is a change to this file.

use std::io;
use std::path::{Path, PathBuf};

use crate::Timestamp;

const DAY_MS: i64 = 86_400_000;

/// A top-level folder of the lake: one per record type of the stream, and `_rejected`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Table {
    Vitals,
    Alerts,
    /// `admission` records: who each patient is (unit, bed, age band, conditions, SpO2 scale).
    Admission,
    /// `settings` records: the alarm limits in force for a patient from their `ts` on.
    Settings,
    Rejected,
}

impl Table {
    pub const ALL: [Table; 5] = [
        Table::Vitals,
        Table::Alerts,
        Table::Admission,
        Table::Settings,
        Table::Rejected,
    ];

    /// The folder's name; `_rejected` starts with `_` so that readers of the records skip it.
    pub fn dir_name(self) -> &'static str {
        match self {
            Table::Vitals => "vitals",
            Table::Alerts => "alerts",
            Table::Admission => "admission",
            Table::Settings => "settings",
            Table::Rejected => "_rejected",
        }
    }
}

impl std::fmt::Display for Table {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.dir_name())
    }
}

/// The extension of a file that holds records: one JSON object a line.
pub const RECORDS_EXTENSION: &str = ".jsonl";

/// The partition folder of a UTC day (days since 1970-01-01): `date=YYYY-MM-DD`.
pub fn partition_folder_name(day: i64) -> String {
    format!("date={}", day_string(day))
}

/// `YYYY-MM-DD` of a day number.
pub fn day_string(day: i64) -> String {
    Timestamp::from_millis(day * DAY_MS).date_string()
}

/// Parses a `date=YYYY-MM-DD` folder name back into a day number; `None` for anything else.
pub fn parse_partition_folder(name: &str) -> Option<i64> {
    parse_date(name.strip_prefix("date=")?)
}

/// Parses `YYYY-MM-DD` (within the years `Timestamp` accepts) into a day number.
pub fn parse_date(date: &str) -> Option<i64> {
    if date.len() != 10 {
        return None;
    }
    let ts = Timestamp::parse(&format!("{date}T00:00:00.000Z")).ok()?;
    Some(ts.day_number())
}

/// True for a file or folder name that lake readers skip: files in progress (`.part-….tmp`),
/// `_rejected/`, `_archive/` and anything else whose name starts with `.` or `_`.
pub fn is_skipped_name(name: &str) -> bool {
    name.starts_with('.') || name.starts_with('_')
}

/// True for the name of a file a reader reads: `*.jsonl` and not skipped.
pub fn is_published_file_name(name: &str) -> bool {
    !is_skipped_name(name) && name.ends_with(RECORDS_EXTENSION)
}

/// The published files under `dir` (a table folder, usually), at any depth, sorted by path: names
/// that readers skip are passed over at every level, folders that are symbolic links are not
/// followed. A missing folder holds no files (a lake that has no alerts yet is still a lake). An
/// error names the folder that could not be listed.
pub fn published_files(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    if dir.is_dir() {
        walk(dir, &mut files)?;
    }
    files.sort();
    Ok(files)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> io::Result<()> {
    let named = |what: &str, path: &Path, e: io::Error| {
        io::Error::new(e.kind(), format!("cannot {what} {}: {e}", path.display()))
    };
    let entries = std::fs::read_dir(dir).map_err(|e| named("list", dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| named("list", dir, e))?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if is_skipped_name(name) {
            continue;
        }
        let path = entry.path();
        let kind = entry.file_type().map_err(|e| named("stat", &path, e))?;
        if kind.is_dir() {
            walk(&path, out)?;
        } else if name.ends_with(RECORDS_EXTENSION) {
            out.push(path);
        }
    }
    Ok(())
}

/// The day of the `date=YYYY-MM-DD` folder that holds `file`, if it is in one: lets a reader
/// skip whole days outside a time window without opening their files.
pub fn partition_day(file: &Path) -> Option<i64> {
    parse_partition_folder(file.parent()?.file_name()?.to_str()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partition_folders_round_trip_and_nothing_else_parses() {
        assert_eq!(partition_folder_name(20_785), "date=2026-11-28");
        assert_eq!(parse_partition_folder("date=2026-11-28"), Some(20_785));
        assert_eq!(parse_partition_folder("date=0000-01-01"), None);
        assert_eq!(parse_partition_folder("date=2026-11-28x"), None);
        assert_eq!(parse_partition_folder("2026-11-28"), None);
    }

    #[test]
    fn hidden_and_underscore_names_are_skipped() {
        assert!(is_skipped_name(".part-1.jsonl.tmp"));
        assert!(is_skipped_name("_rejected"));
        assert!(!is_skipped_name("part-1.jsonl"));
        assert!(is_published_file_name("part-main-0000000001.jsonl"));
        assert!(!is_published_file_name(".part-main-0000000001.jsonl.tmp"));
        assert!(!is_published_file_name("_x.jsonl"));
        assert!(!is_published_file_name("notes.txt"));
    }

    #[test]
    fn partition_day_comes_from_the_hive_folder() {
        let day = partition_day(Path::new("lake/vitals/date=1970-01-02/part-1.jsonl"));
        assert_eq!(day, Some(1));
        assert_eq!(partition_day(Path::new("lake/vitals/part-1.jsonl")), None);
    }
}

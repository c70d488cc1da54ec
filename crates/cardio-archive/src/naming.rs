//! The names the archive gives its files (docs/spec.md §2): `part-<writer>-<n>.jsonl` when
//! published, hidden `.part-<writer>-<n>.jsonl.tmp` while written, and the writer ids that go into
//! them, restricted to a safe alphabet because they become part of a path.

use vitals_core::lake::RECORDS_EXTENSION;

/// A writer id goes into file names, so it is restricted to a safe alphabet.
pub fn validate_writer_id(id: &str) -> Result<(), String> {
    let ok = !id.is_empty()
        && id.len() <= 32
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        && id != COMPACTED_WRITER
        && id != COMPACT_STAGING;
    if ok {
        Ok(())
    } else {
        Err(format!(
            "writer id `{id}` must be 1–32 letters, digits, `-` or `_` (and not \
             `{COMPACTED_WRITER}` or `{COMPACT_STAGING}`)"
        ))
    }
}

/// The folder under `_archive/` where `compact` stages merged days; a writer's state folder has
/// the same parent, so this name is not a writer id.
pub const COMPACT_STAGING: &str = "compact";

/// The writer id under which `compact` publishes merged files.
pub const COMPACTED_WRITER: &str = "compacted";

/// Name of a published file: `part-<writer>-<n>.jsonl`, `n` counting up per writer for its whole
/// life (recovered from the lake at start), so two files of one writer can never share a name.
pub fn part_name(writer: &str, n: u64) -> String {
    format!("part-{writer}-{n:010}{RECORDS_EXTENSION}")
}

/// Name of the same file while it is being written: hidden and not `*.jsonl`.
pub fn tmp_name(writer: &str, n: u64) -> String {
    format!(".part-{writer}-{n:010}{RECORDS_EXTENSION}.tmp")
}

/// Whether the archive's own tools (dedup index, recovery, `check`, `compact`) count a file of a
/// partition folder as holding records: `*.jsonl` and not hidden by a leading dot. Readers also pass
/// over names that start with `_` (`vitals_core::lake::is_published_file_name`); the archive never
/// writes such a name, but one put there by hand is still checked and merged by `compact` (whose
/// swap replaces the whole folder) rather than dropped with the folder's other leftovers.
pub fn holds_records(name: &str) -> bool {
    name.ends_with(RECORDS_EXTENSION) && !name.starts_with('.')
}

/// What a file name in a partition folder is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileName {
    Published { writer: String, n: u64 },
    InProgress { writer: String, n: u64 },
    Other,
}

pub fn parse_file_name(name: &str) -> FileName {
    let split = |stem: &str| -> Option<(String, u64)> {
        let (w, n) = stem.rsplit_once('-')?;
        if n.len() != 10 || !n.bytes().all(|b| b.is_ascii_digit()) || w.is_empty() {
            return None;
        }
        Some((w.to_owned(), n.parse().ok()?))
    };
    if let Some(stem) = name
        .strip_prefix(".part-")
        .and_then(|s| s.strip_suffix(".tmp"))
        .and_then(|s| s.strip_suffix(RECORDS_EXTENSION))
        && let Some((writer, n)) = split(stem)
    {
        return FileName::InProgress { writer, n };
    }
    if let Some(stem) = name
        .strip_prefix("part-")
        .and_then(|s| s.strip_suffix(RECORDS_EXTENSION))
        && let Some((writer, n)) = split(stem)
    {
        return FileName::Published { writer, n };
    }
    FileName::Other
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_round_trip_and_writer_ids_are_checked() {
        assert_eq!(
            parse_file_name(&part_name("w-1", 42)),
            FileName::Published {
                writer: "w-1".into(),
                n: 42
            }
        );
        assert_eq!(
            parse_file_name(&tmp_name("main", 3)),
            FileName::InProgress {
                writer: "main".into(),
                n: 3
            }
        );
        assert_eq!(parse_file_name("part-x.jsonl"), FileName::Other);
        assert!(validate_writer_id("ward-7_b").is_ok());
        for bad in [
            "",
            "../x",
            "a/b",
            "compacted",
            "compact",
            &"x".repeat(33),
            "é",
        ] {
            assert!(validate_writer_id(bad).is_err(), "{bad}");
        }
    }
}

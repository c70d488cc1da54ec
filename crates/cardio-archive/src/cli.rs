//! Command-line arguments.

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use vitals_core::status::EXIT_STATUS_HELP;

use crate::archive::Options;
use crate::writer::Rolling;

/// Files the CardioStream NDJSON stream (stdin) into a data lake of Hive-partitioned JSON Lines.
///
/// Each valid line is kept byte for byte under <lake>/vitals/, alerts/, admission/ or settings/
/// (one folder per record type), in the folder date=YYYY-MM-DD of its UTC event time; a line that
/// is not a valid record (or arrives already wrapped as a `rejected` record by an earlier stage), or
/// an admission or settings record whose identity the lake gives to other bytes, goes to
/// <lake>/_rejected/ with the reason.
/// Files in progress are hidden (.part-….jsonl.tmp) and published by fsync and rename. Every record
/// lands exactly once: a replay of input already archived adds nothing, and after a crash
/// (even kill -9) a restart salvages what was in progress. Stops at end of input, or at SIGINT or
/// SIGTERM once the input has ended or gone quiet for 0.3 s (5 s at most; a second signal stops at
/// once: a stage signalled with it writes its last lines as it stops), after publishing what it
/// holds.
#[derive(Debug, Parser)]
#[command(name = "cardio-archive", version, after_help = EXIT_STATUS_HELP)]
pub struct Cli {
    /// The lake folder (created if missing).
    #[arg(
        long,
        value_name = "DIR",
        default_value = "./med_data_lake",
        global = true
    )]
    pub lake: PathBuf,

    #[command(flatten)]
    pub write: WriteFlags,

    #[command(subcommand)]
    pub command: Option<Command>,
}

/// How a writer files the stream: the flags `cardio-archive` shares with other programs that
/// embed it (cardio-kafka's `sink`).
#[derive(Debug, Clone, Args)]
pub struct WriteFlags {
    /// Records per file: a file is published when it holds this many records (count, at least 1).
    #[arg(long, value_name = "N", default_value_t = 100_000,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub max_records: u64,

    /// Age of a file in progress at which it is published even if input is idle, so readers see
    /// data at most this old. A number with a unit: ms, s, m or h (a bare number is seconds).
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = parse_duration)]
    pub max_age: Duration,

    /// Name of this writer, part of its file names. Only one process may write as one id (a lock);
    /// give concurrent writers on one lake distinct ids. Letters, digits, `-`, `_`, up to 32.
    #[arg(long, value_name = "ID", default_value = "main")]
    pub writer_id: String,

    /// Memory, in MiB, for the tables of lake days that a replay's readings are looked up in
    /// (20 to 40 bytes per reading of a day; least recently used days are dropped beyond it, and
    /// read again when needed).
    #[arg(long = "index-memory", value_name = "MIB", default_value_t = 256,
          value_parser = clap::value_parser!(u64).range(1..=1 << 20))]
    pub index_memory_mib: u64,
}

impl WriteFlags {
    /// The settings of an archiving run into `lake`.
    pub fn options(&self, lake: &Path, progress: bool) -> Options {
        Options {
            lake: lake.to_owned(),
            writer_id: self.writer_id.clone(),
            rolling: Rolling {
                max_records: self.max_records,
                max_age: self.max_age,
            },
            index_memory: usize::try_from(self.index_memory_mib)
                .unwrap_or(usize::MAX)
                .saturating_mul(1 << 20),
            progress,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Checks the lake: every published file parses and sits in the right partition, no record is
    /// there twice, seq gaps per device are listed, in-progress leftovers are listed. Exit status 1
    /// when something is wrong.
    Check,
    /// Merges each closed day's small files into a few large ones with the same records,
    /// atomically per day (a crash leaves the old files). Needs the lake to itself: it refuses
    /// while an archive is writing.
    Compact {
        /// Compact the days strictly before this UTC date (YYYY-MM-DD).
        #[arg(long, value_name = "DATE")]
        before: String,
        /// Records per merged file (count).
        #[arg(long, value_name = "N", default_value_t = 1_000_000,
              value_parser = clap::value_parser!(u64).range(1..))]
        records_per_file: u64,
    },
}

/// `500ms`, `30s`, `5m`, `1h`, or a bare number of seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let value: f64 = num
        .parse()
        .map_err(|_| format!("`{s}` is not a duration such as 500ms, 30s, 5m or 1h"))?;
    let secs = match unit.trim() {
        "ms" => value / 1000.0,
        "" | "s" => value,
        "m" | "min" => value * 60.0,
        "h" => value * 3600.0,
        other => {
            return Err(format!(
                "unknown unit `{other}` in `{s}`: use ms, s, m or h"
            ));
        }
    };
    if !secs.is_finite() || secs <= 0.0 || secs > 86_400.0 * 366.0 {
        return Err(format!("`{s}` must be more than 0 and at most a year"));
    }
    Ok(Duration::from_secs_f64(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_take_units() {
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_duration("2"), Ok(Duration::from_secs(2)));
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("5 parsecs").is_err());
    }

    #[test]
    fn cli_is_well_formed() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}

//! cardio-archive: the last stage of CardioStream. It files the NDJSON stream into a data lake of
//! Hive-partitioned JSON Lines (docs/spec.md §2) with these guarantees: no loss, no
//! duplicates on replay, recovery after kill -9, one writer per lake, status 2 on disk full, and no
//! path built from record content.
//!
//! `classify` decides where a line goes (a `partition`: table and day) and what identifies it,
//! `naming` names the files and checks writer ids, `intake` reads and classifies on its own thread,
//! `dedup` summarises what the lake already holds and `lake_index` looks up what the summary cannot
//! tell, `writer` writes and publishes, `recovery` salvages
//! after a crash, `lock` keeps writers apart, `check` and `compact` are the owner's tools.

pub mod archive;
pub mod check;
pub mod classify;
pub mod cli;
pub mod compact;
pub mod dedup;
pub mod intake;
pub mod lake_index;
pub mod lock;
pub mod naming;
pub mod partition;
pub mod progress;
pub mod recovery;
pub mod writer;

use std::io::IsTerminal;

use anyhow::Result;

use crate::cli::{Cli, Command};

/// Runs the command line and returns the exit status (errors become status 2 in `main`).
pub fn run(cli: Cli) -> Result<u8> {
    match cli.command {
        Some(Command::Check) => check::check(&cli.lake, &mut std::io::stdout().lock()),
        Some(Command::Compact {
            before,
            records_per_file,
        }) => compact::compact(&cli.lake, &before, records_per_file),
        None => {
            let stop = vitals_core::stop::Stop::install()?;
            let opts = cli
                .write
                .options(&cli.lake, std::io::stderr().is_terminal());
            let (status, s) = archive::archive(std::io::stdin(), &opts, &stop)?;
            let mut salvaged = String::new();
            if s.salvaged_records > 0 {
                salvaged = format!(", {} salvaged at start", s.salvaged_records);
            }
            eprintln!(
                "cardio-archive: {} lines in; filed {} vitals, {} alerts, {} admission, {} settings, \
                 {} rejected; {} already in the lake skipped; {} bad lines; {} files published to \
                 {}{salvaged}",
                s.lines,
                s.vitals,
                s.alerts,
                s.admission,
                s.settings,
                s.rejected,
                s.duplicates,
                s.bad,
                s.files,
                cli.lake.display()
            );
            Ok(status)
        }
    }
}

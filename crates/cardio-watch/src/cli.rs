//! Command-line arguments.

use std::path::PathBuf;

use clap::Parser;

/// A central monitoring station in the terminal: every bed of the ward with its vitals, NEWS2 and
/// risk band (sickest first), the sounding alarms by priority with technical alarms apart, and one
/// patient's last hour. Reads the stream (cardio-alert's output, or cardio-sim's) on stdin, or a
/// lake; draws on the controlling terminal.
///
/// Keys: ↑/↓ or j/k move, Enter opens a patient (Esc back), / filters (part of a bed or device
/// id, or a risk band: high, medium, low-medium, low), s changes the sort (risk, alarms, silent,
/// bed), p pauses the display (not the stream), q quits.
#[derive(Debug, Parser)]
#[command(
    name = "cardio-watch",
    version,
    after_help = "Exit status: 0 done; 1 finished, but bad input lines were found (counted on the \
status line and in the summary on stderr); 2 could not do the job (no terminal to draw on, bad \
arguments, unreadable lake)."
)]
pub struct Args {
    /// Pass every input line to stdout unchanged, byte for byte, so the station can sit in the
    /// middle of a chain: `cardio-alert | cardio-watch --pass | cardio-archive`. At the end of
    /// input stdout is closed (the next stage finishes) and the display stays until q.
    #[arg(long, conflicts_with = "lake")]
    pub pass: bool,

    /// Read a lake's published vitals/ and alerts/ files instead of stdin (files in progress and
    /// `_` folders are skipped).
    #[arg(long, value_name = "DIR")]
    pub lake: Option<PathBuf>,

    /// With --lake: keep reading new files as the archive publishes them (a second screen beside
    /// a running pipeline).
    #[arg(long, requires = "lake")]
    pub follow: bool,

    /// Forget a patient after this many seconds of event time without a reading (0: never), so
    /// memory stays bounded as patients come and go.
    #[arg(long, value_name = "SECONDS", default_value_t = 3600.0)]
    pub forget_after: f64,
}

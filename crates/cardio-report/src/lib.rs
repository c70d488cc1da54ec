//! cardio-report: one self-contained HTML page from the CardioStream data lake, for people without
//! Power BI: a ward overview, a Patients table (admission and the alarm limits in force),
//! per-patient trend charts with alarm episodes and normal ranges, an
//! alert timeline, and device battery and lost readings.
//!
//! `lake` reads the published files, `model` builds the ward from them, `chart` draws inline SVG
//! and `html` lays out the page. `run` ties them together for the binary.

pub mod chart;
pub mod html;
pub mod lake;
pub mod model;
pub mod synthetic;

use std::io::Write as _;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result};
use clap::Parser;
use vitals_core::Timestamp;
use vitals_core::status::{EXIT_FINDINGS, EXIT_OK, EXIT_STATUS_HELP};

use crate::model::{Filter, Ward};

/// Command-line arguments of `cardio-report`.
#[derive(Debug, Parser)]
#[command(
    name = "cardio-report",
    version,
    about = "Writes one self-contained HTML report (inline SVG, no network requests) from a CardioStream data lake.",
    long_about = "Writes one self-contained HTML report from a CardioStream data lake: a ward overview \
(latest vitals, NEWS2 coloured by risk band), a Patients table (unit, bed, age band, sex, conditions, \
NEWS2 SpO2 scale, the alarm limits in force and whether the nurse individualised them, alarm count), \
per-patient trend charts with alarm episodes and the \
normal ranges shaded, an alert timeline, and device battery and lost readings (seq gaps).\n\n\
Only published files are read: *.jsonl under <LAKE>/vitals, alerts, admission and settings (the \
last two may be absent: a lake written before them still gives a report), skipping every file \
or folder whose name starts with '.' or '_' (files still being written, _rejected/). The page needs \
no network and no script; open it from disk in any browser.",
    after_help = EXIT_STATUS_HELP
)]
pub struct Args {
    /// The lake folder, the one that holds vitals/, alerts/, admission/ and settings/.
    #[arg(long, value_name = "DIR", default_value = "./med_data_lake")]
    pub lake: PathBuf,

    /// The HTML file to write (replaced atomically: written beside it, then renamed).
    #[arg(long, value_name = "FILE", default_value = "report.html")]
    pub out: PathBuf,

    /// Only this patient (repeat the flag or separate ids with commas for several). Default: all.
    #[arg(long, value_name = "ID", value_delimiter = ',')]
    pub patient: Vec<String>,

    /// Start of the period, inclusive: an RFC 3339 time (2026-11-28T06:00:00Z) or a UTC date
    /// (2026-11-28, meaning its midnight). Default: the first record in the lake.
    #[arg(long, value_name = "TIME")]
    pub from: Option<String>,

    /// End of the period, exclusive, in the same forms as --from. Default: after the last record.
    #[arg(long, value_name = "TIME")]
    pub to: Option<String>,

    /// Draw trend charts for at most this many patients, sickest first (the ward table always lists
    /// every patient). Keeps the page light on a big ward.
    #[arg(long, value_name = "N", default_value_t = 100)]
    pub max_charts: usize,

    /// Rows in the table of latest alert events, newest first.
    #[arg(long, value_name = "N", default_value_t = 100)]
    pub max_alert_rows: usize,

    /// No summary line on stderr.
    #[arg(long, short)]
    pub quiet: bool,
}

/// Parses `--from`/`--to`: RFC 3339, or a bare `YYYY-MM-DD` for midnight UTC.
pub fn parse_time(s: &str) -> Result<i64> {
    let full = if s.len() == 10 && s.as_bytes()[4] == b'-' {
        format!("{s}T00:00:00.000Z")
    } else {
        s.to_owned()
    };
    Timestamp::parse(&full).map(Timestamp::millis).map_err(|e| {
        anyhow::anyhow!(
            "{e} (expected RFC 3339 such as 2026-11-28T06:00:00Z, or a date 2026-11-28)"
        )
    })
}

/// Reads the lake and writes the report; the exit status is 1 when lines of the lake were not
/// valid records (they are counted on the page and on stderr), else 0.
pub fn run(args: Args) -> Result<u8> {
    let started = Instant::now();
    let filter = Filter {
        patients: args.patient.clone(),
        from: args
            .from
            .as_deref()
            .map(parse_time)
            .transpose()
            .context("--from")?,
        to: args
            .to
            .as_deref()
            .map(parse_time)
            .transpose()
            .context("--to")?,
    };
    if let (Some(f), Some(t)) = (filter.from, filter.to) {
        anyhow::ensure!(f < t, "--from must be before --to");
    }
    let contents = lake::read_lake(&args.lake, &filter)?;
    let ward = Ward::build(contents);
    let mut described = Vec::new();
    if !args.patient.is_empty() {
        described.push(format!("patient {}", args.patient.join(", ")));
    }
    if let Some(f) = &args.from {
        described.push(format!("from {f}"));
    }
    if let Some(t) = &args.to {
        described.push(format!("to {t} (exclusive)"));
    }
    let info = html::PageInfo {
        lake: args.lake.display().to_string(),
        filter: described.join(", "),
        max_charts: args.max_charts,
        max_alert_rows: args.max_alert_rows,
    };
    let page = html::render(&ward, &info);
    write_atomically(&args.out, page.as_bytes())?;
    if !args.quiet {
        eprintln!(
            "cardio-report: {} readings and {} alert events of {} patients, {} devices, from {} files; wrote {} ({:.1} MB) in {:.2} s",
            ward.records,
            ward.alerts.len(),
            ward.patients.len(),
            ward.devices.len(),
            ward.files,
            args.out.display(),
            page.len() as f64 / 1e6,
            started.elapsed().as_secs_f64()
        );
    }
    if ward.bad_lines > 0 {
        eprintln!(
            "cardio-report: {} lines were not valid records and are not in the report (first: {})",
            ward.bad_lines,
            ward.first_bad.as_deref().unwrap_or("")
        );
        return Ok(EXIT_FINDINGS);
    }
    Ok(EXIT_OK)
}

/// Writes `bytes` to a hidden file beside `path`, then renames it over `path`, so a browser or a
/// web server never sees half a report. A `path` that names a folder is refused before anything is
/// written, and the hidden file is removed again when writing or renaming it fails.
fn write_atomically(path: &std::path::Path, bytes: &[u8]) -> Result<()> {
    let names_folder = path.as_os_str().as_encoded_bytes().ends_with(b"/") || path.is_dir();
    anyhow::ensure!(
        !names_folder,
        "--out {} is a folder; give the report's file name, such as {}",
        path.display(),
        path.join("report.html").display()
    );
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .with_context(|| format!("{} is not a file name", path.display()))?;
    let tmp = dir.join(format!(".{}.tmp", name.to_string_lossy()));
    let written = write_then_rename(&tmp, path, bytes);
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

fn write_then_rename(tmp: &std::path::Path, path: &std::path::Path, bytes: &[u8]) -> Result<()> {
    let mut f =
        std::fs::File::create(tmp).with_context(|| format!("cannot create {}", tmp.display()))?;
    f.write_all(bytes)
        .and_then(|()| f.sync_all())
        .with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(tmp, path)
        .with_context(|| format!("cannot rename {} to {}", tmp.display(), path.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_accept_rfc3339_and_bare_dates() {
        assert_eq!(parse_time("1970-01-02").unwrap(), 86_400_000);
        assert_eq!(parse_time("1970-01-01T00:00:01Z").unwrap(), 1000);
        assert!(parse_time("yesterday").is_err());
    }
}

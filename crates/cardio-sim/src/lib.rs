//! cardio-sim: a simulated hospital ward for testing patient-monitoring systems.
//!
//! Each patient ([`cohort`]) has baselines drawn from docs/spec.md §4 and vital signs that move
//! like a real patient's ([`physiology`]); deterioration follows a script or random draws
//! ([`scenario`], scripted in [`script`]); on a medical, surgical or ICU [`unit`] the patients
//! also have the [`spontaneous`] events real patients have; monitors misbehave on request
//! ([`artifact`]) and so does the [`network`] behind them; the [`ward`] reads every monitor in turn,
//! paced by the [`clock`], and writes one `vitals` line per reading ([`output`]), each patient's
//! `admission` and alarm `settings` records before its readings ([`settings`]), and every change
//! to the ground-truth file ([`truth`]).

pub mod admission;
pub mod artifact;
pub mod cli;
pub mod clock;
pub mod cohort;
pub mod network;
pub mod output;
pub mod physiology;
pub mod random;
pub mod scenario;
pub mod script;
pub mod settings;
pub mod spontaneous;
pub mod truth;
pub mod unit;
pub mod ward;

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use anyhow::Context;
use vitals_core::Timestamp;
use vitals_core::status::EXIT_OK;

pub use cli::{Args, ArtifactPreset};
pub use unit::Unit;

use crate::artifact::Rates;
use crate::network::Network;
use crate::truth::TruthWriter;
use crate::ward::{Config, Ward};

/// Resolves the command line into a run configuration (reads the scenario file).
pub fn config(args: &Args) -> anyhow::Result<Config> {
    // Default: the next whole second, so timestamps read cleanly and the first reading is on time
    // (not up to a second behind the clock, as rounding down would make it).
    let start = args.start.unwrap_or_else(|| {
        Timestamp::from_millis((Timestamp::now().millis().div_euclid(1000) + 1) * 1000)
    });
    let seed = args.seed.unwrap_or_else(clock_seed);
    let script = match &args.scenario {
        Some(path) => script::load_script(path, start, args.patients)?,
        None => Vec::new(),
    };
    let preset = |kind: artifact::Kind, flag: Option<f64>| {
        flag.unwrap_or(match args.artifacts {
            ArtifactPreset::Off => 0.0,
            ArtifactPreset::Realistic => kind.realistic_rate(),
        })
    };
    use artifact::Kind as A;
    let rates = Rates([
        preset(A::Motion, args.motion_rate),
        preset(A::ProbeOff, args.probe_off_rate),
        preset(A::FlatLine, args.flat_line_rate),
        preset(A::DeviceSilent, args.silent_rate),
        preset(A::BatteryDrain, args.battery_drain_rate),
        preset(A::Implausible, args.implausible_rate),
    ]);
    Ok(Config {
        patients: args.patients,
        interval_ms: args.interval,
        start,
        duration_ms: args.duration,
        count: args.count,
        speed: args.speed,
        seed,
        events_per_day: args.events_per_day,
        script,
        rates,
        network: Network {
            loss: args.net_loss,
            duplicate: args.net_duplicate,
            late: args.net_late,
            late_max_ms: args.net_late_max,
        },
        utc_offset_ms: args.utc_offset,
        unit: args.unit,
    })
}

/// A seed for a run without `--seed`: different every run, shown in the summary so the run can be
/// repeated.
fn clock_seed() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    nanos ^ (u64::from(std::process::id()) << 32)
}

/// The `cardio-sim` binary: simulates the ward described by `args`, writing vitals lines to stdout.
/// Returns the exit status; a closed stdout surfaces as a broken-pipe error, which
/// `vitals_core::status::exit_status` treats as a normal end.
pub fn run(args: Args) -> anyhow::Result<u8> {
    let cfg = config(&args)?;
    let mut truth = match &args.truth {
        Some(path) => TruthWriter::create(path)?,
        None => TruthWriter::discard(),
    };
    let (seed, patients) = (cfg.seed, cfg.patients);
    // A monitor runs until it is switched off: SIGTERM or SIGINT ends the run cleanly, with the
    // stream flushed, the truth file synced and the summary written.
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        signal_hook::flag::register(sig, Arc::clone(&stop))
            .context("cannot install the SIGTERM/SIGINT handlers")?;
    }
    let mut ward = Ward::new(cfg);
    if let Some(path) = &args.admission_rules {
        std::fs::write(path, ward.admission_rules(seed))
            .with_context(|| format!("cannot write admission rules {}", path.display()))?;
    }
    let summary = ward.run(std::io::stdout().lock(), &mut truth, &stop)?;
    if summary.reached_last_time {
        writeln!(
            std::io::stderr(),
            "cardio-sim: stopped at {}, the last event time the pipeline accepts (years {}–{})",
            vitals_core::Timestamp::LAST_ACCEPTED,
            vitals_core::time::MIN_YEAR,
            vitals_core::time::MAX_YEAR
        )
        .context("cannot write to stderr")?;
    }
    if !args.quiet {
        let span = match (summary.first_ts, summary.last_ts) {
            (Some(a), Some(b)) => format!(", event time {} to {}", a.to_rfc3339(), b.to_rfc3339()),
            _ => String::new(),
        };
        let lag = match args.speed {
            clock::Speed::Factor(_) => {
                format!(", worst lag behind schedule {:.0} ms", summary.max_lag_ms)
            }
            clock::Speed::Max => String::new(),
        };
        let truth_note = if truth.is_enabled() {
            format!(", {} truth lines", truth.written())
        } else {
            String::new()
        };
        let spontaneous = if args.unit == Unit::General {
            String::new()
        } else {
            format!(
                ", {} spontaneous events ({} unit)",
                summary.spontaneous,
                args.unit.as_str()
            )
        };
        writeln!(
            std::io::stderr(),
            "cardio-sim: {} vitals records from {patients} patients{span}; seed {seed}; {} scenarios, {} artifact episodes{spontaneous}{truth_note}{lag}",
            summary.records, summary.scenarios, summary.artifacts
        )
        .context("cannot write to stderr")?;
    }
    Ok(EXIT_OK)
}

//! The command line of `cardio-sim`. Flag names are public interface (README, scripts, the
//! end-to-end tests): change them only on purpose.

use std::path::PathBuf;

use clap::{Parser, ValueEnum};
use vitals_core::Timestamp;
use vitals_core::status::EXIT_STATUS_HELP;

use crate::clock::{Speed, parse_duration_ms, parse_speed};
use crate::unit::{self, Unit};

/// The artifact rates `--artifacts` starts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ArtifactPreset {
    /// No device artifacts unless a rate flag asks for them.
    Off,
    /// The realistic rates listed with each rate flag.
    Realistic,
}

/// A simulated hospital ward: one bedside monitor per patient, writing one JSON `vitals` line per
/// reading to stdout (docs/spec.md), with physiology that behaves like real patients, scripted or random
/// deterioration, device artifacts, and the ground truth in a separate file.
#[derive(Debug, Clone, Parser)]
#[command(name = "cardio-sim", version, after_help = EXIT_STATUS_HELP, max_term_width = 100)]
pub struct Args {
    /// Number of patients, one monitor each: PT-1000, PT-1001, … on devices D-001, D-002, ….
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=10_000_000))]
    pub patients: u32,

    /// Seconds between two readings of one monitor (decimals allowed, at least 0.001). The ward's
    /// monitors are spread evenly over the interval, not all at once.
    #[arg(long, value_name = "SECONDS", default_value = "1", value_parser = parse_interval_ms)]
    pub interval: i64,

    /// Stop after this much event time: a number with a unit ms, s, m, h or d (90s, 10m, 1h, 2d).
    /// [default: run until killed, like a device]
    #[arg(long, value_name = "SPAN", value_parser = parse_duration_ms)]
    pub duration: Option<i64>,

    /// Stop after this many vitals lines in total (whichever of --duration and --count comes
    /// first). [default: no limit]
    #[arg(long, value_name = "N")]
    pub count: Option<u64>,

    /// Pace of event time: 1 = real time; a factor (60 = one simulated minute per second); or max
    /// (as fast as the reader takes it). At 1, a past --start is backfilled at full speed up to now,
    /// then runs in real time.
    #[arg(long, value_name = "FACTOR|max", default_value = "1", value_parser = parse_speed)]
    pub speed: Speed,

    /// Event time of the first reading, RFC 3339 (2026-11-28T00:00:00Z). [default: the next
    /// whole second]
    #[arg(long, value_name = "TIME", value_parser = parse_start)]
    pub start: Option<Timestamp>,

    /// The ward's local time minus UTC, in hours (-5, 1, 5.5): the circadian rhythm (temperature
    /// lowest at 07 h, highest at 19 h; HR lowest at night) follows local time. Timestamps stay UTC.
    #[arg(long, value_name = "HOURS", default_value = "0", allow_negative_numbers = true,
          value_parser = parse_utc_offset_ms)]
    pub utc_offset: i64,

    /// The kind of ward, written in each `admission` record: medical, surgical and icu patients'
    /// cohort, baselines and spontaneous events are calibrated on real patients (docs/cardio-sim.md).
    #[arg(long, default_value = "general", value_parser = unit_parser())]
    pub unit: Unit,

    /// Seed of every random draw: the same seed and arguments give byte-identical output (and
    /// truth file). [default: drawn from the clock and shown in the summary]
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,

    /// Write the ground truth (admissions, scenario and artifact episodes with their phases) to
    /// FILE as JSON Lines; format in docs/truth-format.md. [default: none]
    #[arg(long, value_name = "FILE")]
    pub truth: Option<PathBuf>,

    /// Write the alarm limits a ward would set at admission to FILE, as per-patient overrides for
    /// `cardio-alert --rules FILE` (TOML): low HR and SBP limits for patients whose resting values
    /// sit below the defaults, NEWS2 SpO2 scale 2 and an 88–92 % target for COPD. [default: none]
    #[arg(long, value_name = "FILE")]
    pub admission_rules: Option<PathBuf>,

    /// Scripted scenarios, a JSON file such as
    /// {"events":[{"at":"00:10","patient":"PT-1003","scenario":"sepsis","severity":0.8,"over":"3h"}]}
    /// (format in docs/cardio-sim.md). [default: none]
    #[arg(long, value_name = "FILE")]
    pub scenario: Option<PathBuf>,

    /// Random scenarios per patient per simulated day (sepsis, haemorrhage, hypoxia, bradycardia,
    /// af_rvr, hypertensive_crisis, fever, recovery), reproducible from --seed.
    #[arg(long, value_name = "RATE", default_value_t = 0.0, value_parser = parse_rate)]
    pub events_per_day: f64,

    /// Starting point of the artifact rates below: off (all 0) or realistic (the rate given in
    /// brackets with each). A rate flag overrides its kind.
    #[arg(long, value_enum, default_value_t = ArtifactPreset::Off)]
    pub artifacts: ArtifactPreset,

    /// Motion artifacts per patient-hour: a false SpO2 dip of 5–25 % and HR spikes for 3–20 s.
    /// [realistic: 1]
    #[arg(long, value_name = "PER_HOUR", value_parser = parse_rate)]
    pub motion_rate: Option<f64>,

    /// SpO2 probe-off episodes per patient-hour: SpO2 null for 10–120 s. [realistic: 0.2]
    #[arg(long, value_name = "PER_HOUR", value_parser = parse_rate)]
    pub probe_off_rate: Option<f64>,

    /// ECG leads-off flat lines per patient-hour: HR and RR null (no valid reading) for 5–60 s.
    /// [realistic: 0.02]
    #[arg(long, value_name = "PER_HOUR", value_parser = parse_rate)]
    pub flat_line_rate: Option<f64>,

    /// Silent-device episodes per patient-hour: no readings for 30 s–10 min (seq continues without
    /// a gap). [realistic: 0.01]
    #[arg(long, value_name = "PER_HOUR", value_parser = parse_rate)]
    pub silent_rate: Option<f64>,

    /// Unplugged monitors per patient-hour: the battery drains at 1.5–3 %/min to empty, the device
    /// is silent for 5–20 min, then returns charging. [realistic: 0.005]
    #[arg(long, value_name = "PER_HOUR", value_parser = parse_rate)]
    pub battery_drain_rate: Option<f64>,

    /// Implausible readings per patient-hour: one value outside the plausibility gates (HR 310–400,
    /// SpO2 0, RR 85–120 or temperature 46–52 °C). [realistic: 0.05]
    #[arg(long, value_name = "PER_HOUR", value_parser = parse_rate)]
    pub implausible_rate: Option<f64>,

    /// Network: probability (0–1) that a reading is lost on the way (a gap in seq). [default: 0]
    #[arg(long, value_name = "P", default_value_t = 0.0, value_parser = parse_probability)]
    pub net_loss: f64,

    /// Network: probability (0–1) that a reading arrives twice. [default: 0]
    #[arg(long, value_name = "P", default_value_t = 0.0, value_parser = parse_probability)]
    pub net_duplicate: f64,

    /// Network: probability (0–1) that a reading arrives late, after later readings. [default: 0]
    #[arg(long, value_name = "P", default_value_t = 0.0, value_parser = parse_probability)]
    pub net_late: f64,

    /// Network: the longest delay of a late reading (a span as for --duration); each late reading
    /// is held back between one --interval and this.
    #[arg(long, value_name = "SPAN", default_value = "10s", value_parser = parse_duration_ms)]
    pub net_late_max: i64,

    /// No summary on stderr at the end.
    #[arg(long, short)]
    pub quiet: bool,
}

fn parse_interval_ms(s: &str) -> Result<i64, String> {
    match s.parse::<f64>() {
        Ok(v) if (0.001..=86_400.0).contains(&v) => Ok((v * 1000.0).round() as i64),
        _ => Err(format!(
            "`{s}` is not an interval: give seconds from 0.001 to 86400"
        )),
    }
}

fn parse_utc_offset_ms(s: &str) -> Result<i64, String> {
    match s.parse::<f64>() {
        Ok(v) if (-14.0..=14.0).contains(&v) => Ok((v * 3_600_000.0).round() as i64),
        _ => Err(format!(
            "`{s}` is not a UTC offset: give hours from -14 to 14"
        )),
    }
}

fn parse_rate(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
        _ => Err(format!("`{s}` is not a rate: give a number ≥ 0")),
    }
}

fn parse_probability(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if (0.0..=1.0).contains(&v) => Ok(v),
        _ => Err(format!(
            "`{s}` is not a probability: give a number from 0 to 1"
        )),
    }
}

fn parse_start(s: &str) -> Result<Timestamp, String> {
    Timestamp::parse(s).map_err(|e| e.to_string())
}

/// `--unit NAME`: one of the units' names, listed with their meaning in `--help`.
fn unit_parser() -> impl clap::builder::TypedValueParser<Value = Unit> {
    use clap::builder::TypedValueParser;
    clap::builder::PossibleValuesParser::new(unit::possible_values())
        .map(|name: String| Unit::from_name(&name).expect("clap accepts only the units' names"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn command_line_is_consistent() {
        Args::command().debug_assert();
    }

    #[test]
    fn help_ends_with_the_exit_status_paragraph() {
        let help = Args::command().render_long_help().to_string();
        assert!(help.trim_end().ends_with("unwritable lake)."), "{help}");
    }
}

//! Command-line arguments: every flag with its unit and default.

use std::path::PathBuf;

use clap::{Args as ClapArgs, Parser, Subcommand};
use vitals_core::status::EXIT_STATUS_HELP;

/// Reads vitals records (JSON Lines) on stdin and writes them to stdout with NEWS2 added, each
/// followed by the alert events (raised, escalated, cleared) it caused under the alarm rules of
/// docs/spec.md §3.2 or a rules file. Decisions use event time (`ts`) and arrival order, never the wall
/// clock, so replaying a file gives the same alerts. Each patient's alarms run on its own device's
/// clock, its readings ordered by `seq`; a device whose clock jumps or is set back raises the
/// technical alarm clock_skew and can silence no alarm. Other record types pass through
/// unchanged; bad lines are reported on stderr and passed on as `rejected` envelopes. One line
/// per alert event on stderr, and a summary line at the end. SIGTERM or SIGINT end it once what
/// the input still brings is passed on (until it ends or is quiet for 0.3 s, 5 s at most; a second
/// signal stops at once), with status 0.
#[derive(Debug, Parser)]
#[command(
    name = "cardio-alert",
    version,
    after_help = EXIT_STATUS_HELP,
    args_conflicts_with_subcommands = true
)]
pub struct Args {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub stage: StageArgs,
}

/// Flags of the alerting stage.
#[derive(Debug, Clone, Default, ClapArgs)]
pub struct StageArgs {
    /// Rules file (TOML, or JSON when it ends in .json): settings, added or replaced rules, disabled
    /// rules and per-patient overrides (NEWS2 SpO2 scale 2, individual limits). Default: the
    /// built-in rules of docs/spec.md §3.2, high-priority ones latching for 2 min (see --print-rules).
    /// Example: crates/cardio-alert/examples/rules.toml.
    #[arg(long, value_name = "FILE")]
    pub rules: Option<PathBuf>,

    /// Naive baseline for evaluation: every condition delay, clearing hold and latch set to 0 s,
    /// so each rule fires on the first reading that meets it.
    #[arg(long)]
    pub no_delays: bool,

    /// NEWS2 carry-forward of the last valid systolic BP, in seconds of event time [default: 3600,
    /// or the rules file's carry_bp_s]. Past it NEWS2 is null.
    #[arg(long, value_name = "SECONDS")]
    pub carry_bp: Option<f64>,

    /// NEWS2 carry-forward of the last valid temperature, in seconds of event time [default: 3600,
    /// or the rules file's carry_temp_s].
    #[arg(long, value_name = "SECONDS")]
    pub carry_temp: Option<f64>,

    /// Forget a patient after this many seconds of stream time without a reading from them, so
    /// memory stays bounded; 0 never forgets [default: 3600, or the rules file's evict_after_s].
    /// A patient with an open alarm (other than device_silent or clock_skew) is kept until the
    /// alarm clears, unless --max-patients is reached; forgetting never sends a `cleared`.
    #[arg(long, value_name = "SECONDS")]
    pub evict_after: Option<f64>,

    /// The most patients whose alarm state is held (about 1.3 KB each), so that a flood of bogus
    /// patient ids cannot exhaust memory. When it is reached, readings of further new patients are
    /// passed on unchanged but NOT scored (no NEWS2, no alarms) until patients silent for
    /// --evict-after are dropped; one stderr line says so (at most every 10 min of stream time).
    #[arg(long, value_name = "N", default_value_t = crate::rules_file::DEFAULT_MAX_PATIENTS)]
    pub max_patients: usize,

    /// No line per alert event or lost reading on stderr (the end summary line still prints).
    #[arg(long, short)]
    pub quiet: bool,

    /// At the end, print alerts raised by rule and priority and the alarm burden per patient-day on
    /// stderr.
    #[arg(long)]
    pub summary: bool,

    /// Print the effective rules (built-ins plus the rules file) as TOML on stdout and exit.
    #[arg(long)]
    pub print_rules: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Score alert events against cardio-sim's ground-truth file: sensitivity per scenario, time to
    /// detection (median, 90th percentile), false alarms per patient-day. Reads cardio-alert's output
    /// (vitals and alert records) from ALERTS or stdin; prints a Markdown table on stdout.
    Evaluate(EvaluateArgs),
}

#[derive(Debug, Clone, ClapArgs)]
#[command(after_help = EXIT_STATUS_HELP)]
pub struct EvaluateArgs {
    /// The truth file written by `cardio-sim --truth FILE`.
    #[arg(long, value_name = "FILE")]
    pub truth: PathBuf,

    /// cardio-alert outputs to score side by side, each FILE or LABEL=FILE (for example
    /// defaults=a.jsonl no-delays=b.jsonl); only their alert lines are read. [default: stdin]
    #[arg(value_name = "ALERTS")]
    pub alerts: Vec<String>,

    /// Hours of simulated time the cohort was monitored, for the per-patient-day rates [default:
    /// the span of the truth file's events].
    #[arg(long, value_name = "HOURS")]
    pub hours: Option<f64>,

    /// The column title of an ALERTS given without LABEL= (or of stdin).
    #[arg(long, default_value = "cardio-alert")]
    pub label: String,

    /// An alert raised this long after a scenario or spontaneous event ended still belongs to it,
    /// in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 300.0)]
    pub grace: f64,

    /// An alert raised this long after a device artifact ended is still put down to it, in
    /// seconds: an artifact changes the readings only while it lasts, and the SpO2 artifact hold
    /// lets its readings go at most 30 s after it started.
    #[arg(long, value_name = "SECONDS", default_value_t = 30.0)]
    pub artifact_grace: f64,

    /// An episode with no `end` line and no planned end (a scenario never treated within the run)
    /// stops counting this long after its peak, in seconds, so that it cannot take in the
    /// patient's alarms for the rest of the run. Episodes the run cut short end at their planned
    /// end (onset + treated_after + recovery; a spontaneous event's duration).
    #[arg(long, value_name = "SECONDS", default_value_t = 7200.0)]
    pub untreated_cap: f64,

    /// The truth file of a ward without scenarios (`cardio-sim --events-per-day 0`, same unit and
    /// artifacts), for the chance-hit rates: how often a window as long as each scenario's holds
    /// a relevant alarm anyway. [default: the scored ward's own time outside every scenario]
    #[arg(long, value_name = "FILE", requires = "chance")]
    pub chance_truth: Option<PathBuf>,

    /// The cardio-alert output over the --chance-truth ward for each variant, LABEL=FILE with the
    /// LABEL of the ALERTS it goes with (FILE alone: --label's); one per variant.
    #[arg(long, value_name = "LABEL=FILE", requires = "chance_truth")]
    pub chance: Vec<String>,

    /// Also write the figures as one JSON object to FILE.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
}

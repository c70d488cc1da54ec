//! Command-line arguments: every flag with its unit and default.

use std::path::PathBuf;

use clap::{Args as ClapArgs, Parser, Subcommand, ValueEnum};

/// The exit-status paragraph of `--help`: like the other stages, plus the delivery failures.
pub const EXIT_STATUS_HELP: &str = "Exit status: 0 done; 1 finished, but bad input lines or \
rejected records were found (reported on stderr; they cannot be exported); 2 could not do the job \
(bad arguments, I/O error, or a message the receiver rejected or never acknowledged: the error names \
it and its input line, and nothing after it was sent).";

/// Reads a CardioStream stream (JSON Lines from cardio-sim or cardio-alert) on stdin and exports it
/// in the hospital's standards: HL7 v2.6 messages (IHE PCD-01 readings, PCD-04 alarms) or FHIR R4
/// vital-signs Observations. Output is deterministic: the same input gives the same bytes.
#[derive(Debug, Parser)]
#[command(name = "cardio-export", version, after_help = EXIT_STATUS_HELP)]
pub struct Args {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// HL7 v2.6: one ORU^R01 (IHE PCD-01) per reading, MDC-coded with UCUM units, and one ORU^R40
    /// (IHE PCD-04) per alert event; to stdout, or over MLLP with an ACK for each message.
    Hl7(Hl7Args),
    /// FHIR R4: Observations (vital-signs profiles, LOINC, UCUM; NEWS2 as its own Observation) with
    /// the Patients and Devices they reference; as Bulk Data NDJSON files (--out) or as transaction
    /// Bundles POSTed to a FHIR server (--fhir-url).
    Fhir(FhirArgs),
}

/// How messages are separated on stdout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Framing {
    /// One segment per line (`\n`), each message starting with its MSH: a file people and most
    /// engines' file readers take.
    Lines,
    /// MLLP frames exactly as on the wire (0x0B, segments ended by \r, 0x1C 0x0D): for `nc`.
    Mllp,
}

#[derive(Debug, Clone, ClapArgs)]
pub struct Hl7Args {
    /// Send each message to this MLLP listener (HOST:PORT) and wait for its ACK, instead of
    /// writing to stdout. AE, a timeout or a broken connection: resend (reconnecting), up to
    /// --retries times; AR: stop. Either way the export never skips a message.
    #[arg(long, value_name = "HOST:PORT")]
    pub mllp: Option<String>,

    /// Separation of messages on stdout.
    #[arg(long, value_enum, default_value = "lines")]
    pub framing: Framing,

    #[command(flatten)]
    pub common: CommonArgs,

    #[command(flatten)]
    pub delivery: DeliveryArgs,
}

#[derive(Debug, Clone, ClapArgs)]
pub struct FhirArgs {
    /// Folder for the Bulk Data files Patient.ndjson, Device.ndjson, Observation.ndjson (created if
    /// missing; earlier files are replaced).
    #[arg(long, value_name = "DIR", required_unless_present = "fhir_url")]
    pub out: Option<PathBuf>,

    /// POST transaction Bundles (PUT entries with deterministic ids) to this FHIR base URL
    /// (http:// only) instead of writing files.
    #[arg(long, value_name = "URL", conflicts_with = "out")]
    pub fhir_url: Option<String>,

    /// Readings per transaction Bundle with --fhir-url.
    #[arg(long, value_name = "N", default_value_t = 100)]
    pub bundle_size: usize,

    #[command(flatten)]
    pub common: CommonArgs,

    #[command(flatten)]
    pub delivery: DeliveryArgs,
}

#[derive(Debug, Clone, ClapArgs)]
pub struct CommonArgs {
    /// Export at most one reading per device every this many seconds of event time (the first of
    /// each interval); 0 exports every reading. Alerts are always exported. Thinned readings are
    /// counted in the summary.
    #[arg(long, value_name = "SECONDS", default_value_t = 0.0)]
    pub interval: f64,

    /// No summary line on stderr.
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Debug, Clone, ClapArgs)]
pub struct DeliveryArgs {
    /// Seconds to wait for a connection, an ACK or an HTTP response.
    #[arg(long, value_name = "SECONDS", default_value_t = 10.0)]
    pub timeout: f64,

    /// Attempts for one message or Bundle before the export stops with status 2.
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub retries: u32,

    /// Seconds before the first resend; doubled after each further failure, up to 10.
    #[arg(long, value_name = "SECONDS", default_value_t = 0.5)]
    pub retry_delay: f64,
}

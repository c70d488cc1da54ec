//! `cardio-export`: the stream in the hospital's standards (HL7 v2 over MLLP, FHIR R4).
use clap::Parser;

fn main() -> std::process::ExitCode {
    let args = cardio_export::cli::Args::parse();
    vitals_core::status::exit_status("cardio-export", cardio_export::run(args))
}

//! `cardio-export`: the stream in the hospital's standards (HL7 v2 over MLLP, FHIR R4).
use clap::Parser;

fn main() -> std::process::ExitCode {
    vitals_core::status::run_main("cardio-export", || {
        cardio_export::run(cardio_export::cli::Args::parse())
    })
}

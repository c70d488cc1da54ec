//! `cardio-report --lake DIR --out report.html`: see `cardio_report::Args` for the flags.

use clap::Parser;

fn main() -> std::process::ExitCode {
    let args = cardio_report::Args::parse();
    vitals_core::status::exit_status("cardio-report", cardio_report::run(args))
}

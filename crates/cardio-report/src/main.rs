//! `cardio-report --lake DIR --out report.html`: see `cardio_report::Args` for the flags.

use clap::Parser;

fn main() -> std::process::ExitCode {
    vitals_core::status::run_main("cardio-report", || {
        cardio_report::run(cardio_report::Args::parse())
    })
}

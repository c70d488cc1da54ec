//! `cardio-alert`: the alerting stage of `cardio-sim | cardio-alert | cardio-archive`.
use clap::Parser;

fn main() -> std::process::ExitCode {
    vitals_core::status::run_main("cardio-alert", || {
        cardio_alert::run(cardio_alert::cli::Args::parse())
    })
}

//! `cardio-alert`: the alerting stage of `cardio-sim | cardio-alert | cardio-archive`.
use clap::Parser;

fn main() -> std::process::ExitCode {
    let args = cardio_alert::cli::Args::parse();
    vitals_core::status::exit_status("cardio-alert", cardio_alert::run(args))
}

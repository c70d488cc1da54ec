//! `cardio-watch`: a live terminal view of `cardio-sim | cardio-alert | …`.
use clap::Parser;

fn main() -> std::process::ExitCode {
    let args = cardio_watch::cli::Args::parse();
    vitals_core::status::exit_status("cardio-watch", cardio_watch::run(args))
}

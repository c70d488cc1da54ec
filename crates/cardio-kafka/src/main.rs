//! `cardio-kafka`: parse the arguments, run the subcommand, map the outcome to the exit status.
use clap::Parser;

fn main() -> std::process::ExitCode {
    vitals_core::status::run_main("cardio-kafka", || {
        cardio_kafka::run(cardio_kafka::cli::Cli::parse())
    })
}

//! `cardio-archive`: parse the arguments, run, map the outcome to the exit status (0, 1, 2).
use clap::Parser;

fn main() -> std::process::ExitCode {
    vitals_core::status::run_main("cardio-archive", || {
        cardio_archive::run(cardio_archive::cli::Cli::parse())
    })
}

//! `cardio-archive`: parse the arguments, run, map the outcome to the exit status (0, 1, 2).
use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = cardio_archive::cli::Cli::parse();
    vitals_core::status::exit_status("cardio-archive", cardio_archive::run(cli))
}

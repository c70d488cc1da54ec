//! `cardio-sim`: a simulated hospital ward writing vital signs as JSON Lines to stdout.

use clap::Parser;

fn main() -> std::process::ExitCode {
    let args = cardio_sim::Args::parse();
    vitals_core::status::exit_status("cardio-sim", cardio_sim::run(args))
}

//! `cardio-sim`: a simulated hospital ward writing vital signs as JSON Lines to stdout.

use clap::Parser;

fn main() -> std::process::ExitCode {
    vitals_core::status::run_main("cardio-sim", || cardio_sim::run(cardio_sim::Args::parse()))
}

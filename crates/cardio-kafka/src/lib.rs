//! cardio-kafka: the Kafka source and sink of CardioStream's NDJSON stages, so that the stages can
//! run as separate services bridged by Kafka (docs/docker-and-kafka.md) with nothing lost on the
//! way: `produce` sends stdin's lines keyed by `patient_id` and delivers every line it read before it
//! exits, `consume` writes a consumer group's records to stdout and commits an offset only once its
//! line has been written out, and `lag` shows how far a group is behind.
//!
//! The Kafka client is librdkafka through the `rdkafka` crate (docs/docker-and-kafka.md says why);
//! every subcommand takes `--brokers` and librdkafka's own properties as `-X key=value`, so security
//! and tuning settings of any cluster pass straight through.

pub mod cli;
pub mod client;
pub mod consume;
pub mod lag;
pub mod lag_report;
pub mod process;
pub mod produce;
pub mod sink;

use anyhow::Result;

use cli::{Cli, Command};

/// Runs one subcommand; the result is the exit status (vitals_core::status).
pub fn run(cli: Cli) -> Result<u8> {
    match cli.command {
        Command::Produce(args) => produce::run(&args),
        Command::Consume(args) => consume::run(&args),
        Command::Lag(args) => lag::run(&args),
        Command::Process(args) => process::run(&args),
        Command::Sink(args) => sink::run(&args),
    }
}

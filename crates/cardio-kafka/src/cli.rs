//! Command-line interface: one subcommand per direction (`produce`, `consume`) plus `lag`. Each
//! takes the connection options of [`Connection`]. The stages that run inside Kafka (`process`,
//! `sink`) are further subcommands with their own modules.

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "cardio-kafka",
    version,
    about = "Kafka source and sink for CardioStream's NDJSON stages",
    long_about = "Kafka source and sink for CardioStream's NDJSON stages.\n\n\
`cardio-sim | cardio-kafka produce` sends each line to a topic keyed by its patient_id; \
`cardio-kafka process -- cardio-alert` runs the alarm engine as one of a consumer group's \
replicas; `cardio-kafka sink` fills the lake and commits offsets only once the lake has the records; \
`cardio-kafka consume | …` reads a topic into a pipe; `cardio-kafka lag` shows how far a group is \
behind.",
    after_help = "Exit status: 0 done; 1 finished, but bad input lines were found (reported on stderr \
and sent on as `rejected` records); 2 could not do the job (bad arguments, unreachable brokers, \
lines that could not be delivered: their number is printed)."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// NDJSON on stdin → a topic, keyed by patient_id, every line delivered before exit.
    Produce(ProduceArgs),
    /// A topic → NDJSON on stdout, as a consumer group member; offsets committed after writing.
    Consume(ConsumeArgs),
    /// A group's committed offset, the high watermark and the lag of every partition of a topic.
    Lag(LagArgs),
    /// cardio-alert as a consumer-group member: a topic of readings → a topic of readings with
    /// NEWS2 and their alerts, one alarm engine per partition; run several to share the patients.
    Process(crate::process::ProcessArgs),
    /// A topic → cardio-archive's lake, committing offsets only after the lake holds the records.
    Sink(crate::sink::SinkArgs),
}

/// Where the cluster is and how to talk to it.
#[derive(Debug, Clone, Args)]
pub struct Connection {
    /// Bootstrap brokers, `host:port[,host:port…]` (librdkafka's `bootstrap.servers`).
    #[arg(short = 'b', long, value_name = "HOST:PORT[,…]")]
    pub brokers: String,

    /// A librdkafka property, repeatable: security (`-X security.protocol=SASL_SSL
    /// -X sasl.mechanism=SCRAM-SHA-512 -X sasl.username=… -X sasl.password=…`), timeouts, tuning.
    /// Applied after this tool's own settings, so it can change them.
    #[arg(short = 'X', value_name = "KEY=VALUE", value_parser = parse_property)]
    pub property: Vec<(String, String)>,
}

#[derive(Debug, Args)]
pub struct ProduceArgs {
    #[command(flatten)]
    pub connection: Connection,

    /// The topic to write to (it must exist: create it with the partition count you want).
    #[arg(short, long)]
    pub topic: String,
}

#[derive(Debug, Args)]
pub struct ConsumeArgs {
    #[command(flatten)]
    pub connection: Connection,

    /// The topic to read.
    #[arg(short, long)]
    pub topic: String,

    /// The consumer group. Members of one group share the topic's partitions; a new member, or one
    /// restarted, continues at the group's committed offsets.
    #[arg(short, long)]
    pub group: String,

    /// Where the group has no committed offset yet, start at the oldest record kept instead of the
    /// next one to arrive (as kafka-console-consumer's flag). Committed offsets always win.
    #[arg(long)]
    pub from_beginning: bool,

    #[command(flatten)]
    pub lag: LagEvery,
}

/// How often a consumer prints its lag on stderr.
#[derive(Debug, Clone, Args)]
pub struct LagEvery {
    /// Print this member's lag on stderr every this many seconds (0: never).
    #[arg(long, value_name = "SECONDS", default_value_t = 10)]
    pub lag_every: u64,
}

#[derive(Debug, Args)]
pub struct LagArgs {
    #[command(flatten)]
    pub connection: Connection,

    /// The consumer group.
    #[arg(short, long)]
    pub group: String,

    /// The topic the group reads.
    #[arg(short, long)]
    pub topic: String,

    /// Write the figures as one JSON object instead of a table.
    #[arg(long)]
    pub json: bool,
}

fn parse_property(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_owned(), v.to_owned())),
        _ => Err(format!("`{s}` is not KEY=VALUE (a librdkafka property)")),
    }
}

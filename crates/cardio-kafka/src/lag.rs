//! Consumer lag: for each partition of a topic, the group's committed offset, the high watermark
//! (the offset the next record will get) and their difference, the records the group has not
//! finished yet. `cardio-kafka lag` prints it for any group; the consumers print their own share
//! on stderr every `--lag-every` seconds, so `docker compose logs` shows whether they keep up.

use std::fmt::Write as _;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext};
use rdkafka::{Offset, TopicPartitionList};
use serde::Serialize;

use crate::cli::LagArgs;
use crate::client::{self, Reporting};

/// How long one question to the brokers may take.
pub const QUERY_TIMEOUT: Duration = Duration::from_secs(10);

/// One partition's figures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PartitionLag {
    pub partition: i32,
    /// The next offset the group will read; `None` when it has committed nothing here.
    pub committed: Option<i64>,
    /// The oldest offset still kept.
    pub low: i64,
    /// The offset the next record will get.
    pub high: i64,
    pub lag: i64,
}

impl PartitionLag {
    fn new(partition: i32, committed: Option<i64>, low: i64, high: i64) -> Self {
        // Without a committed offset the group starts at the oldest record (`--from-beginning`),
        // and records deleted by retention cannot be read any more: both count from `low`.
        let from = committed.unwrap_or(low).max(low);
        PartitionLag {
            partition,
            committed,
            low,
            high,
            lag: (high - from).max(0),
        }
    }
}

/// The partitions of `topic`, in order.
pub fn partitions<C: ConsumerContext>(consumer: &BaseConsumer<C>, topic: &str) -> Result<Vec<i32>> {
    let metadata = consumer
        .fetch_metadata(Some(topic), QUERY_TIMEOUT)
        .with_context(|| format!("cannot get the metadata of topic {topic}"))?;
    let Some(t) = metadata.topics().iter().find(|t| t.name() == topic) else {
        bail!("topic {topic} does not exist");
    };
    if let Some(e) = t.error() {
        bail!(
            "topic {topic}: {}",
            rdkafka::error::RDKafkaErrorCode::from(e)
        );
    }
    let mut ids: Vec<i32> = t.partitions().iter().map(|p| p.id()).collect();
    ids.sort_unstable();
    Ok(ids)
}

/// The figures of `partitions` of `topic` for the group `consumer` belongs to (its `group.id`).
pub fn of_partitions<C: ConsumerContext>(
    consumer: &BaseConsumer<C>,
    topic: &str,
    partitions: &[i32],
) -> Result<Vec<PartitionLag>> {
    let mut tpl = TopicPartitionList::new();
    for &p in partitions {
        tpl.add_partition(topic, p);
    }
    let committed = consumer
        .committed_offsets(tpl, QUERY_TIMEOUT)
        .with_context(|| format!("cannot get the committed offsets of topic {topic}"))?;
    partitions
        .iter()
        .map(|&p| {
            let offset = committed
                .find_partition(topic, p)
                .and_then(|e| match e.offset() {
                    Offset::Offset(o) => Some(o),
                    _ => None,
                });
            let (low, high) = consumer
                .fetch_watermarks(topic, p, QUERY_TIMEOUT)
                .with_context(|| format!("cannot get the watermarks of {topic} partition {p}"))?;
            Ok(PartitionLag::new(p, offset, low, high))
        })
        .collect()
}

/// One line for a consumer's stderr: `p0 12, p3 0 (total 12)`.
pub fn summary(lags: &[PartitionLag]) -> String {
    if lags.is_empty() {
        return "no partitions assigned".to_owned();
    }
    let mut out = String::new();
    for (i, l) in lags.iter().enumerate() {
        let sep = if i == 0 { "" } else { ", " };
        let _ = write!(out, "{sep}p{} {}", l.partition, l.lag);
    }
    let total: i64 = lags.iter().map(|l| l.lag).sum();
    let _ = write!(out, " (total {total})");
    out
}

/// `cardio-kafka lag`: the table (or JSON) for one group and topic.
pub fn run(args: &LagArgs) -> Result<u8> {
    let config = client::config(
        &args.connection,
        &[("group.id", &args.group), ("enable.auto.commit", "false")],
    );
    // Not subscribed: this client only asks, it never joins the group.
    let consumer: BaseConsumer<Reporting> = client::create(&config, Reporting)?;
    let partitions = partitions(&consumer, &args.topic)?;
    let lags = of_partitions(&consumer, &args.topic, &partitions)?;
    let total: i64 = lags.iter().map(|l| l.lag).sum();
    if args.json {
        let doc = serde_json::json!({
            "group": args.group,
            "topic": args.topic,
            "partitions": lags,
            "total_lag": total,
        });
        println!("{doc}");
    } else {
        print!("{}", table(&args.group, &args.topic, &lags, total));
    }
    Ok(vitals_core::status::EXIT_OK)
}

fn table(group: &str, topic: &str, lags: &[PartitionLag], total: i64) -> String {
    let mut out = format!("group {group}, topic {topic}\n");
    let _ = writeln!(
        out,
        "{:>9} {:>12} {:>12} {:>12}",
        "partition", "committed", "high", "lag"
    );
    for l in lags {
        let committed = l
            .committed
            .map_or_else(|| "-".to_owned(), |c| c.to_string());
        let _ = writeln!(
            out,
            "{:>9} {committed:>12} {:>12} {:>12}",
            l.partition, l.high, l.lag
        );
    }
    let _ = writeln!(out, "{:>9} {:>12} {:>12} {total:>12}", "total", "", "");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lag_counts_from_the_committed_offset_or_the_oldest_kept_record() {
        assert_eq!(PartitionLag::new(0, Some(7), 0, 10).lag, 3);
        assert_eq!(PartitionLag::new(0, None, 4, 10).lag, 6);
        // Committed before records that retention has deleted since.
        assert_eq!(PartitionLag::new(0, Some(2), 4, 10).lag, 6);
        assert_eq!(PartitionLag::new(0, Some(10), 0, 10).lag, 0);
    }

    #[test]
    fn summary_names_each_partition_and_the_total() {
        let lags = [
            PartitionLag::new(0, Some(8), 0, 10),
            PartitionLag::new(3, None, 0, 5),
        ];
        assert_eq!(summary(&lags), "p0 2, p3 5 (total 7)");
        assert_eq!(summary(&[]), "no partitions assigned");
    }
}

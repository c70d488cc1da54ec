//! A consuming stage's own lag on stderr every `--lag-every` seconds (`consume`, `process`,
//! `sink`): `docker compose logs` then shows whether each member keeps up, and after a
//! rebalance, how fast the new owner works off what it took over.

use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext};

use crate::cli::LagEvery;
use crate::client::PROGRAM;
use crate::lag;

#[derive(Debug)]
pub struct LagReport {
    every: Duration,
    next: Instant,
    stage: &'static str,
    group: String,
}

impl LagReport {
    pub fn new(every: &LagEvery, stage: &'static str, group: &str) -> Self {
        let every = Duration::from_secs(every.lag_every);
        LagReport {
            every,
            next: Instant::now() + every,
            stage,
            group: group.to_owned(),
        }
    }

    /// Prints the lag of the partitions `consumer` owns when it is time to.
    pub fn tick<C: ConsumerContext>(&mut self, consumer: &BaseConsumer<C>, topic: &str) {
        if self.every.is_zero() || Instant::now() < self.next {
            return;
        }
        self.next = Instant::now() + self.every;
        let (stage, group) = (self.stage, &self.group);
        let owned: Vec<i32> = match consumer.assignment() {
            Ok(tpl) => tpl.elements().iter().map(|e| e.partition()).collect(),
            Err(e) => return eprintln!("{PROGRAM} {stage}: lag unknown: {e}"),
        };
        match lag::of_partitions(consumer, topic, &owned) {
            Ok(lags) => eprintln!(
                "{PROGRAM} {stage}: lag of group {group} on {topic}: {}",
                lag::summary(&lags)
            ),
            Err(e) => eprintln!("{PROGRAM} {stage}: lag unknown: {e:#}"),
        }
    }
}

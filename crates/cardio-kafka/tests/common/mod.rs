//! What the Kafka tests share: the `cardio-kafka` binary, a reader of a topic that is independent
//! of the code under test (librdkafka assigned to each partition, no consumer group), and a child
//! process that is killed if the test fails before it ends.
#![allow(dead_code)] // each test file uses its own part

use std::path::PathBuf;
use std::process::{Child, Command};
use std::time::Duration;

use end_to_end::kafka::Broker;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;
use rdkafka::{Offset, TopicPartitionList};

pub fn cardio_kafka() -> PathBuf {
    end_to_end::bin("cardio-kafka")
}

/// A `cardio-kafka` command with `--brokers` set to `broker`.
pub fn cardio_kafka_cmd(subcommand: &str, broker: &Broker) -> Command {
    let mut cmd = Command::new(cardio_kafka());
    cmd.arg(subcommand).args(["--brokers", &broker.address]);
    if subcommand == "produce" || subcommand == "process" {
        cmd.args(end_to_end::kafka::TANSU_PRODUCER_SETTINGS);
    }
    cmd
}

/// One record as it is in the topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    pub partition: i32,
    pub offset: i64,
    pub key: Option<String>,
    pub value: String,
}

/// Every record of `topic`, partition by partition, in offset order: read with librdkafka assigned
/// to each partition from its start up to the high watermark seen when the read starts.
pub fn read_topic(broker: &Broker, topic: &str) -> Vec<Stored> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", &broker.address)
        .set("group.id", "test-reader")
        .set("enable.auto.commit", "false")
        .create()
        .expect("test reader");
    let timeout = Duration::from_secs(30);
    let metadata = consumer.fetch_metadata(Some(topic), timeout).unwrap();
    let partitions: Vec<i32> = metadata.topics()[0]
        .partitions()
        .iter()
        .map(|p| p.id())
        .collect();
    let mut out = vec![];
    for p in partitions {
        let (low, high) = consumer.fetch_watermarks(topic, p, timeout).unwrap();
        if high <= low {
            continue;
        }
        let mut tpl = TopicPartitionList::new();
        tpl.add_partition_offset(topic, p, Offset::Offset(low))
            .unwrap();
        consumer.assign(&tpl).unwrap();
        let mut next = low;
        while next < high {
            let m = consumer
                .poll(timeout)
                .unwrap_or_else(|| {
                    panic!("no record at {topic}/{p} offset {next} within {timeout:?}")
                })
                .unwrap();
            next = m.offset() + 1;
            out.push(Stored {
                partition: p,
                offset: m.offset(),
                key: m.key().map(|k| String::from_utf8_lossy(k).into_owned()),
                value: String::from_utf8_lossy(m.payload().unwrap_or_default()).into_owned(),
            });
        }
    }
    out
}

/// The values of `topic`, in any order across partitions.
pub fn values(broker: &Broker, topic: &str) -> Vec<String> {
    read_topic(broker, topic)
        .into_iter()
        .map(|r| r.value)
        .collect()
}

/// Sends `signal` (`"TERM"`, `"INT"`, `"KILL"`) to a process with the system's `kill`.
pub fn signal(child: &Child, signal: &str) {
    let status = Command::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(status.success(), "kill -{signal} {}", child.id());
}

/// A child process that is killed when dropped (a failing test leaves no process behind).
pub struct Guard(pub Option<Child>);

impl Guard {
    pub fn child(&mut self) -> &mut Child {
        self.0.as_mut().expect("running")
    }

    /// Waits for the exit and hands back the child (for its output).
    pub fn take(&mut self) -> Child {
        self.0.take().expect("running")
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        if let Some(c) = self.0.as_mut() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// A valid `vitals` line (docs/spec.md §1) of `patient`'s monitor, reading number `seq`.
pub fn reading(patient: u32, seq: u64) -> String {
    format!(
        concat!(
            r#"{{"type":"vitals","ts":"2026-11-28T08:{:02}:{:02}.000Z","patient_id":"PT-{}","#,
            r#""device_id":"D-{:03}","seq":{},"heart_rate_bpm":72,"spo2_pct":97,"#,
            r#""respiratory_rate_bpm":14,"temperature_c":36.8,"systolic_mmhg":null,"#,
            r#""diastolic_mmhg":null,"on_oxygen":false,"consciousness":"A","battery_pct":80}}"#
        ),
        (seq / 60) % 60,
        seq % 60,
        1000 + patient,
        patient + 1,
        seq
    )
}

/// The lines a child writes to one of its pipes, collected by a thread, for a test to wait on.
pub struct Lines {
    rx: std::sync::mpsc::Receiver<String>,
    pub seen: Vec<String>,
}

impl Lines {
    pub fn new(pipe: impl std::io::Read + Send + 'static) -> Self {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            use std::io::BufRead;
            for line in std::io::BufReader::new(pipe).lines() {
                let Ok(line) = line else { return };
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        Lines { rx, seen: vec![] }
    }

    /// Waits until `n` lines in all have come (panics after `within`, naming what came).
    pub fn wait_for_count(&mut self, n: usize, within: Duration) {
        let deadline = std::time::Instant::now() + within;
        while self.seen.len() < n {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match self.rx.recv_timeout(left) {
                Ok(line) => self.seen.push(line),
                Err(_) => panic!(
                    "{} of {n} lines within {within:?}; so far:\n{}",
                    self.seen.len(),
                    self.seen.join("\n")
                ),
            }
        }
    }

    /// Waits until a line containing `needle` has come; returns it.
    pub fn wait_for(&mut self, needle: &str, within: Duration) -> String {
        if let Some(l) = self.seen.iter().find(|l| l.contains(needle)) {
            return l.clone();
        }
        let deadline = std::time::Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match self.rx.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if line.contains(needle) {
                        return line;
                    }
                }
                Err(_) => panic!(
                    "no line with `{needle}` within {within:?}; so far:\n{}",
                    self.seen.join("\n")
                ),
            }
        }
    }

    /// Everything until the pipe closes.
    pub fn rest(mut self) -> Vec<String> {
        self.seen.extend(self.rx.iter());
        self.seen
    }
}

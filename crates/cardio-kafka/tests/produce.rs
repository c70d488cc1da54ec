//! `cardio-kafka produce` against a real broker (tansu, started per test): a slow writer's lines
//! all arrive even when the producer is stopped with SIGTERM right after the newest one, and so do
//! the records the broker had not acknowledged yet when the signal came; records
//! are keyed by patient so that a patient's readings stay in one partition in order, and bad lines
//! go on as `rejected` records with a report naming the line.

mod common;

use std::collections::BTreeMap;
use std::io::Write;
use std::process::{ChildStdin, Stdio};
use std::time::{Duration, Instant};

use common::{Guard, cardio_kafka_cmd, read_topic, reading, signal, values};
use end_to_end::kafka::Broker;

/// The defect of `kcat -P` in the Kafka profile: fed one line every half second (a slow monitor),
/// it held the newest line or two back until more input came, and SIGTERM lost them. Here the
/// writer keeps the pipe open (only the signal ends the run) and signals right after its last line:
/// every line must be in the topic, and the exit must be 0.
#[test]
fn a_slow_writers_lines_all_arrive_when_produce_is_stopped_by_sigterm() {
    let Some(broker) = Broker::start() else {
        return;
    };
    broker.create_topic("raw", 3);
    let (mut produce, mut stdin) = start_produce(&broker, "raw");
    let sent: Vec<String> = (0..8).map(|i| reading(i % 3, u64::from(i))).collect();
    for line in &sent {
        writeln!(stdin, "{line}").unwrap();
        stdin.flush().unwrap();
        std::thread::sleep(Duration::from_millis(500));
    }
    signal(produce.child(), "TERM");
    let out = produce.take().wait_with_output().unwrap();
    drop(stdin);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "exit {:?}: {stderr}", out.status);

    let stored = values(&broker, "raw");
    assert!(
        same_lines(&stored, &sent),
        "the topic must hold every line written, once: {}\nstderr: {stderr}",
        lost(&sent, &stored)
    );
}

/// The other half of that defect: records still in the client's queue when SIGTERM comes, because
/// the broker has not acknowledged them yet, are delivered before the exit, not dropped with the
/// process (`kcat -P`: "Program terminated while producing message"). The broker is frozen
/// (SIGSTOP) while the last lines are written and the producer is signalled, and let go on only
/// after a producer that does not wait would long have exited.
#[test]
fn records_not_yet_acknowledged_when_sigterm_comes_are_delivered_before_the_exit() {
    let Some(broker) = Broker::start() else {
        return;
    };
    broker.create_topic("raw", 3);
    let (mut produce, mut stdin) = start_produce(&broker, "raw");
    let sent: Vec<String> = (0..6).map(|i| reading(i % 3, u64::from(i))).collect();
    // The first line is delivered while the broker runs: the producer is connected.
    writeln!(stdin, "{}", sent[0]).unwrap();
    stdin.flush().unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while values(&broker, "raw").is_empty() {
        assert!(Instant::now() < deadline, "the first line never arrived");
        std::thread::sleep(Duration::from_millis(100));
    }

    broker.pause();
    for line in &sent[1..] {
        writeln!(stdin, "{line}").unwrap();
    }
    stdin.flush().unwrap();
    signal(produce.child(), "TERM");
    // Time for a producer that does not wait for its deliveries to exit and drop them (the one
    // under test takes the input still coming for 0.3 s after the signal, then waits).
    std::thread::sleep(Duration::from_secs(3));
    broker.resume();
    let out = produce.take().wait_with_output().unwrap();
    drop(stdin);
    let stderr = String::from_utf8_lossy(&out.stderr);

    let stored = values(&broker, "raw");
    assert!(
        same_lines(&stored, &sent),
        "the topic must hold every line written, once: {}\nstderr: {stderr}",
        lost(&sent, &stored)
    );
    assert!(out.status.success(), "exit {:?}: {stderr}", out.status);
}

/// `cardio-kafka produce --topic TOPIC` running, and the pipe to its stdin.
fn start_produce(broker: &Broker, topic: &str) -> (Guard, ChildStdin) {
    let mut produce = Guard(Some(
        cardio_kafka_cmd("produce", broker)
            .args(["--topic", topic])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    ));
    let stdin = produce.child().stdin.take().unwrap();
    (produce, stdin)
}

/// Whether `stored` holds the lines of `sent`, each once, in any order.
fn same_lines(stored: &[String], sent: &[String]) -> bool {
    let (mut a, mut b) = (stored.to_vec(), sent.to_vec());
    a.sort();
    b.sort();
    a == b
}

/// What a failure lost: the lines written that the topic does not hold, and how many records it has.
fn lost(sent: &[String], stored: &[String]) -> String {
    let missing: Vec<&String> = sent.iter().filter(|l| !stored.contains(l)).collect();
    let mut msg = format!(
        "{} of {} lines written are not in the topic ({} records there)",
        missing.len(),
        sent.len(),
        stored.len()
    );
    for l in missing {
        msg.push_str("\nlost: ");
        msg.push_str(l);
    }
    msg
}

/// End of input is the other way a run ends: everything is delivered before the exit (status 0),
/// each record keyed by its patient_id, and each patient's records are in one partition in the
/// order they were written, which is what lets one alert replica own a patient.
#[test]
fn records_are_keyed_by_patient_and_each_patient_stays_in_one_partition_in_order() {
    let Some(broker) = Broker::start() else {
        return;
    };
    broker.create_topic("raw", 4);
    let sent: Vec<String> = (0..400).map(|i| reading(i % 8, u64::from(i / 8))).collect();
    let mut input = sent.join("\n");
    input.push('\n');
    let out = end_to_end::feed(
        {
            let mut cmd = cardio_kafka_cmd("produce", &broker);
            cmd.args(["--topic", "raw"]);
            cmd
        },
        input.as_bytes(),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "exit {:?}: {stderr}", out.status);
    assert!(
        stderr.contains("400 lines read, 400 delivered to raw (0 without a patient_id key)"),
        "{stderr}"
    );

    let stored = read_topic(&broker, "raw");
    assert_eq!(stored.len(), 400);
    let mut by_patient: BTreeMap<String, Vec<(i32, String)>> = BTreeMap::new();
    for r in &stored {
        let v: serde_json::Value = serde_json::from_str(&r.value).unwrap();
        let patient = v["patient_id"].as_str().unwrap().to_owned();
        assert_eq!(
            r.key.as_deref(),
            Some(patient.as_str()),
            "key of {}",
            r.value
        );
        by_patient
            .entry(patient)
            .or_default()
            .push((r.partition, r.value.clone()));
    }
    assert_eq!(by_patient.len(), 8);
    let mut partitions_used = std::collections::BTreeSet::new();
    for (patient, records) in &by_patient {
        let first = records[0].0;
        assert!(
            records.iter().all(|(p, _)| *p == first),
            "{patient} is spread over partitions"
        );
        partitions_used.insert(first);
        let written: Vec<&String> = sent
            .iter()
            .filter(|l| l.contains(&format!("\"patient_id\":\"{patient}\"")))
            .collect();
        let in_topic: Vec<&String> = records.iter().map(|(_, v)| v).collect();
        assert_eq!(in_topic, written, "{patient}'s records out of order");
    }
    // Eight keys over four partitions: the key, not one fixed partition, decides.
    assert!(partitions_used.len() > 1, "{partitions_used:?}");
}

/// A line that is not a record is reported by line number and reason and sent on in a `rejected`
/// record (docs/spec.md §1), without a key; the valid lines around it are delivered as they are,
/// and the exit status is 1 (bad lines found). A `rejected` record from an earlier stage is a valid
/// record without a patient: sent on unchanged, unkeyed, not counted as bad.
#[test]
fn bad_lines_are_reported_and_sent_on_as_rejected_records() {
    let Some(broker) = Broker::start() else {
        return;
    };
    broker.create_topic("raw", 2);
    let earlier = r#"{"type":"rejected","ts":"2026-11-28T08:00:00.000Z","stage":"cardio-alert","line":9,"reason":"not JSON","raw":"x"}"#;
    let input = format!(
        "{}\nthis is not json\n{earlier}\n{}\n",
        reading(0, 0),
        reading(1, 0)
    );
    let mut cmd = cardio_kafka_cmd("produce", &broker);
    cmd.args(["--topic", "raw"]);
    let out = end_to_end::feed(cmd, input.as_bytes());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("line 2: not JSON"), "{stderr}");

    let stored = read_topic(&broker, "raw");
    assert_eq!(stored.len(), 4, "{stored:?}");
    let envelope = stored
        .iter()
        .find(|r| r.value.contains(r#""stage":"cardio-kafka""#))
        .expect("the bad line's rejected record");
    let v: serde_json::Value = serde_json::from_str(&envelope.value).unwrap();
    assert_eq!(v["type"], "rejected");
    assert_eq!(v["line"], 2);
    assert_eq!(v["raw"], "this is not json");
    assert_eq!(envelope.key, None);
    let passed_on = stored
        .iter()
        .find(|r| r.value == earlier)
        .expect("earlier rejected record");
    assert_eq!(passed_on.key, None);
    for patient in ["PT-1000", "PT-1001"] {
        assert!(stored.iter().any(|r| r.key.as_deref() == Some(patient)));
    }
}

/// No broker, or no such topic: the producer says so before it reads any input, with status 2,
/// instead of queueing lines that can only time out.
#[test]
fn a_missing_topic_is_reported_before_any_input_is_read() {
    let Some(broker) = Broker::start() else {
        return;
    };
    let mut cmd = cardio_kafka_cmd("produce", &broker);
    cmd.args(["--topic", "nowhere"]);
    let out = end_to_end::feed(cmd, format!("{}\n", reading(0, 0)).as_bytes());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("nowhere"), "{stderr}");
}

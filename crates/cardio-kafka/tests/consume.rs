//! `cardio-kafka consume` and `cardio-kafka lag` against a real broker (tansu, started per test):
//! a consumer stopped with SIGTERM has committed exactly what it wrote, so a restart of the group
//! continues where it left, losing and repeating nothing; the lag is visible in `lag` and on the
//! consumer's stderr. Consumer-group joins take about 22 s on tansu, so these tests are slow.

mod common;

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::{Guard, Lines, cardio_kafka_cmd, reading, signal};
use end_to_end::kafka::{Broker, GROUP_SETTINGS};

/// Long enough for a consumer-group join on tansu (about 22 s) and the records after it.
const JOIN_AND_READ: Duration = Duration::from_secs(120);

fn produce(broker: &Broker, topic: &str, lines: &[String]) {
    let mut cmd = cardio_kafka_cmd("produce", broker);
    cmd.args(["--topic", topic]);
    produce_with(cmd, lines);
}

/// `produce` with the client's own batching, as in production: not [`cardio_kafka_cmd`], which
/// sends one record per batch for tansu's high watermark (and takes minutes for 100,000 records).
fn produce_batched(broker: &Broker, topic: &str, lines: &[String]) {
    let mut cmd = Command::new(common::cardio_kafka());
    cmd.args(["produce", "--brokers", &broker.address, "--topic", topic]);
    produce_with(cmd, lines);
}

/// Runs `cmd`, a `produce` command, with `lines` as its input, and expects exit 0.
fn produce_with(cmd: Command, lines: &[String]) {
    let mut input = lines.join("\n");
    input.push('\n');
    let out = end_to_end::feed(cmd, input.as_bytes());
    assert!(
        out.status.success(),
        "produce: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn start_consumer(broker: &Broker, topic: &str, group: &str, extra: &[&str]) -> Guard {
    Guard(Some(
        cardio_kafka_cmd("consume", broker)
            .args(["--topic", topic, "--group", group, "--from-beginning"])
            .args(GROUP_SETTINGS)
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    ))
}

/// Stops a consumer with SIGTERM and returns its exit status and stderr.
fn stop(mut consumer: Guard, stderr: Lines) -> (std::process::ExitStatus, String) {
    signal(consumer.child(), "TERM");
    let mut child: Child = consumer.take();
    let status = child.wait().unwrap();
    (status, stderr.rest().join("\n"))
}

/// Runs a member of `group` until it has written `count` lines, stops it with SIGTERM (exit 0
/// expected), and returns everything it wrote and its stderr.
fn member_until(broker: &Broker, topic: &str, group: &str, count: usize) -> (Vec<String>, String) {
    let mut member = start_consumer(broker, topic, group, &[]);
    let mut out = Lines::new(member.child().stdout.take().unwrap());
    let err = Lines::new(member.child().stderr.take().unwrap());
    out.wait_for_count(count, JOIN_AND_READ);
    let (status, stderr) = stop(member, err);
    assert!(status.success(), "member of {group}: {status:?}\n{stderr}");
    (out.rest(), stderr)
}

fn lag(broker: &Broker, topic: &str, group: &str) -> serde_json::Value {
    let out = cardio_kafka_cmd("lag", broker)
        .args(["--topic", topic, "--group", group, "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "lag: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// First consumer reads the 60 records there are and is stopped; 40 more arrive; the group's next
/// member must write exactly those 40: nothing the first wrote again, nothing skipped. Between the
/// two, `lag` shows the 40 waiting, and at the end none.
#[test]
fn a_restarted_consumer_continues_where_the_group_left_off() {
    let Some(broker) = Broker::start() else {
        return;
    };
    broker.create_topic("enriched", 2);
    let all: Vec<String> = (0..100).map(|i| reading(i % 5, u64::from(i / 5))).collect();
    produce(&broker, "enriched", &all[..60]);

    let (first_lines, stderr) = member_until(&broker, "enriched", "archive", 60);
    assert_eq!(sorted(&first_lines), sorted(&all[..60]), "{stderr}");

    produce(&broker, "enriched", &all[60..]);
    let waiting = lag(&broker, "enriched", "archive");
    assert_eq!(waiting["total_lag"], 40, "{waiting}");

    let (second_lines, stderr) = member_until(&broker, "enriched", "archive", 40);
    assert_eq!(sorted(&second_lines), sorted(&all[60..]), "{stderr}");

    let done = lag(&broker, "enriched", "archive");
    assert_eq!(done["total_lag"], 0, "{done}");
    for p in done["partitions"].as_array().unwrap() {
        assert_eq!(p["committed"], p["high"], "{done}");
    }
}

/// A consumer killed with SIGKILL (no chance to commit on the way out) loses nothing: it committed
/// only what it had written, so its successor writes every record it had not, and repeats at most
/// what came after its last commit.
#[test]
fn a_killed_consumer_loses_nothing() {
    let Some(broker) = Broker::start() else {
        return;
    };
    broker.create_topic("raw", 2);
    let all: Vec<String> = (0..50).map(|i| reading(i % 4, u64::from(i / 4))).collect();
    produce(&broker, "raw", &all[..30]);

    let mut first = start_consumer(&broker, "raw", "alert", &[]);
    let mut out = Lines::new(first.child().stdout.take().unwrap());
    out.wait_for_count(30, JOIN_AND_READ);
    signal(first.child(), "KILL");
    first.take().wait().unwrap();
    let first_lines = out.rest();

    produce(&broker, "raw", &all[30..]);
    let mut second = start_consumer(&broker, "raw", "alert", &[]);
    let mut out = Lines::new(second.child().stdout.take().unwrap());
    let err = Lines::new(second.child().stderr.take().unwrap());
    out.wait_for_count(20, JOIN_AND_READ);
    // Whatever the first one had not committed comes again; wait until the lag is 0 to have it all.
    wait_for_no_lag(&broker, "raw", "alert");
    let (status, stderr) = stop(second, err);
    assert!(status.success(), "{stderr}");
    let second_lines = out.rest();

    let mut union: Vec<String> = first_lines.iter().chain(&second_lines).cloned().collect();
    union.sort();
    union.dedup();
    assert_eq!(union, sorted(&all), "a record was lost");
    for line in &all[30..] {
        assert_eq!(
            second_lines.iter().filter(|l| *l == line).count(),
            1,
            "{line} not written exactly once by the successor"
        );
    }
}

/// The consumer prints its lag on stderr every `--lag-every` seconds: the assigned partitions and
/// the total, down to 0 once it has written and committed everything. `lag` for a group that never
/// committed counts every record from the oldest kept, with `committed` null.
#[test]
fn lag_is_printed_by_the_consumer_and_by_the_lag_command() {
    let Some(broker) = Broker::start() else {
        return;
    };
    broker.create_topic("raw", 3);
    let all: Vec<String> = (0..30).map(|i| reading(i % 6, u64::from(i / 6))).collect();
    produce(&broker, "raw", &all);

    let never = lag(&broker, "raw", "nobody");
    assert_eq!(never["total_lag"], 30, "{never}");
    assert_eq!(never["partitions"].as_array().unwrap().len(), 3, "{never}");
    for p in never["partitions"].as_array().unwrap() {
        assert!(p["committed"].is_null(), "{never}");
    }
    let table = cardio_kafka_cmd("lag", &broker)
        .args(["--topic", "raw", "--group", "nobody"])
        .output()
        .unwrap();
    let table = String::from_utf8_lossy(&table.stdout);
    assert!(
        table.contains("partition") && table.contains("total"),
        "{table}"
    );
    assert!(
        table.lines().last().unwrap().trim_end().ends_with(" 30"),
        "{table}"
    );

    let mut consumer = start_consumer(&broker, "raw", "watcher", &["--lag-every", "1"]);
    let mut out = Lines::new(consumer.child().stdout.take().unwrap());
    let mut err = Lines::new(consumer.child().stderr.take().unwrap());
    out.wait_for_count(30, JOIN_AND_READ);
    let report = err.wait_for("(total 0)", JOIN_AND_READ);
    assert!(
        report.contains("lag of group watcher on raw: p0 0, p1 0, p2 0"),
        "{report}"
    );
    let (status, stderr) = stop(consumer, err);
    assert!(status.success(), "{stderr}");
}

/// The other tests produce one record per batch (tansu's lag figures need it); here `produce` runs
/// with the client's own batching (`linger.ms` 5, batches of up to 10,000 records or 1 MB), as in
/// `bench/kafka.sh` and in production, while a member of the group is already reading, so batches
/// are fetched as they are appended. Every line must come out of `consume` byte for byte as it went
/// into `produce`: none cut, glued to another, repeated or lost.
#[test]
fn records_produced_in_batches_come_out_byte_for_byte_while_the_topic_grows() {
    let Some(broker) = Broker::start() else {
        return;
    };
    broker.create_topic("batched", 3);
    let all: Vec<String> = (0..20_000)
        .map(|i| reading(i % 500, u64::from(i / 500)))
        .collect();

    let mut consumer = start_consumer(&broker, "batched", "archive", &[]);
    let mut out = Lines::new(consumer.child().stdout.take().unwrap());
    let mut err = Lines::new(consumer.child().stderr.take().unwrap());
    err.wait_for("assigned", JOIN_AND_READ);

    produce_batched(&broker, "batched", &all);

    out.wait_for_count(all.len(), JOIN_AND_READ);
    let (status, stderr) = stop(consumer, err);
    assert!(status.success(), "{stderr}");
    let written = out.rest();
    assert_eq!(written.len(), all.len(), "lines written\n{stderr}");
    let produced: std::collections::HashSet<&String> = all.iter().collect();
    assert!(
        sorted(&written) == sorted(&all),
        "the lines written differ from those produced; some not produced: {:?}",
        written
            .iter()
            .filter(|l| !produced.contains(l))
            .take(3)
            .collect::<Vec<_>>()
    );
}

/// Ctrl-C in a terminal, or `tini -g` in a container, signals every stage of `consume |
/// cardio-archive` (and of `consume | cardio-alert | cardio-archive`) at once, mid-stream. `consume`
/// writes and commits its last lines as it stops, so every record the group has committed must
/// reach the lake: the stages behind it take what the pipe still holds before they stop. A committed
/// record that is not in the lake is lost for good, since the group's next member starts after it.
/// (Before the stages drained their input, `consume | cardio-archive` lost what filled the pipe:
/// 210 committed records in a bench run.)
#[test]
fn a_pipe_stopped_as_a_whole_files_every_record_the_group_committed() {
    let Some(broker) = Broker::start() else {
        return;
    };
    broker.create_topic("raw", 2);
    let all: Vec<String> = (0..200_000)
        .map(|i| reading(i % 500, u64::from(i / 500)))
        .collect();
    produce_batched(&broker, "raw", &all);
    let alert = format!("{} --quiet", end_to_end::bin("cardio-alert").display());
    for (group, between) in [("archive", None), ("alert-archive", Some(alert.as_str()))] {
        stop_pipe_mid_stream(&broker, group, between, all.len());
    }
}

/// Runs `consume | [between |] cardio-archive` as one process group on topic `raw` (of `total`
/// records) for `group`, SIGTERMs the group mid-stream, and checks that every record the group
/// committed is in the lake.
fn stop_pipe_mid_stream(broker: &Broker, group: &str, between: Option<&str>, total: usize) {
    use std::os::unix::process::CommandExt;
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let log = dir.path().join("stderr");
    // `trap : TERM`: the shell outlives the signal and waits for the pipe, which gets it too.
    let pipe = format!(
        "trap : TERM; {kafka} consume --brokers {b} --topic raw --group {group} --from-beginning \
         --lag-every 0 {settings} | {between} {archive} --lake {lake}",
        kafka = common::cardio_kafka().display(),
        b = broker.address,
        settings = GROUP_SETTINGS.join(" "),
        between = between.map(|b| format!("{b} |")).unwrap_or_default(),
        archive = end_to_end::bin("cardio-archive").display(),
        lake = lake.display(),
    );
    let mut shell = Guard(Some(
        Command::new("sh")
            .arg("-c")
            .arg(&pipe)
            .process_group(0)
            .stdin(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap(),
    ));
    let pgid = shell.child().id();
    let deadline = std::time::Instant::now() + JOIN_AND_READ;
    // Once the group has committed some records and the lake holds some (mid-stream): the records
    // committed then, and those `consume` commits as it stops, are what must not be lost.
    let committed_some = || {
        lag(broker, "raw", group)["partitions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["committed"].as_i64().is_some_and(|c| c > 0))
    };
    while end_to_end::in_progress(&lake).is_empty() || !committed_some() {
        assert!(
            std::time::Instant::now() < deadline,
            "{group}: nothing reached the lake"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let killed = Command::new("kill")
        .args(["-TERM", "--", &format!("-{pgid}")])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = shell.take().wait().unwrap();
    let stderr = std::fs::read_to_string(&log).unwrap();
    assert!(status.success(), "{pipe}: {status:?}\n{stderr}");

    let committed: std::collections::HashMap<i64, i64> = lag(broker, "raw", group)["partitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let offset = p["committed"].as_i64().unwrap_or(0);
            (p["partition"].as_i64().unwrap(), offset)
        })
        .collect();
    let identity = |line: &str| {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let device = v["device_id"].as_str().unwrap().to_owned();
        (device, v["seq"].as_u64().unwrap())
    };
    let in_lake: std::collections::HashSet<(String, u64)> =
        end_to_end::lake_lines(&lake, end_to_end::Table::Vitals)
            .iter()
            .map(|l| identity(l))
            .collect();
    let committed_records: Vec<String> = common::read_topic(broker, "raw")
        .into_iter()
        .filter(|r| r.offset < committed[&i64::from(r.partition)])
        .map(|r| r.value)
        .collect();
    assert!(
        committed_records.len() < total,
        "{group}: the stream was through before the signal, so the stop was not tested"
    );
    let lost: Vec<&String> = committed_records
        .iter()
        .filter(|r| !in_lake.contains(&identity(r)))
        .collect();
    assert!(
        lost.is_empty(),
        "{pipe}: {} of the {} records the group committed are not in the lake, e.g. {}\n{stderr}",
        lost.len(),
        committed_records.len(),
        lost[0]
    );
}

fn wait_for_no_lag(broker: &Broker, topic: &str, group: &str) {
    let deadline = std::time::Instant::now() + JOIN_AND_READ;
    loop {
        let l = lag(broker, topic, group);
        if l["total_lag"] == 0 {
            return;
        }
        assert!(std::time::Instant::now() < deadline, "lag stays {l}");
        std::thread::sleep(Duration::from_millis(500));
    }
}

fn sorted(lines: &[String]) -> Vec<String> {
    let mut v = lines.to_vec();
    v.sort();
    v
}

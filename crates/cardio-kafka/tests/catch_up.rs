//! Catching up on a backlog, through a rebalance, on a real broker with real processes: two hours of
//! twelve patients' readings are in a six-partition topic before any `cardio-kafka process` replica
//! starts. One replica starts alone and reads the backlog, its partitions arriving at different
//! paces (librdkafka fetches each partition in batches of up to 1 MiB: hours of one partition's
//! readings before the next partition's); once it has committed some, a second replica joins and
//! partitions move to it. Each partition has an alarm engine of its own, so a partition that comes
//! first makes no patient of another look silent: the lake must hold exactly the plain pipeline's
//! records, and no technical alarm (`device_silent`, `clock_skew`) that the plain pipeline did not
//! raise. This needs no dead member, so it runs on any broker the tests start.

mod common;
mod running;

use std::time::{Duration, Instant};

use end_to_end::bin;
use end_to_end::kafka::Broker;
use running::{
    PATIENCE, Running, check, committed, difference, kafka, lake_records, produce, sh,
    wait_caught_up,
};

const RAW: &str = "cardio.vitals.raw";
const ENRICHED: &str = "cardio.vitals.enriched";
const ALERT_GROUP: &str = "cardio-alert";
const ARCHIVE_GROUP: &str = "cardio-archive";

#[test]
fn replicas_catching_up_on_a_backlog_through_a_rebalance_raise_no_spurious_technical_alarm() {
    let Some(broker) = Broker::start() else {
        return;
    };
    broker.create_topic(RAW, 6);
    broker.create_topic(ENRICHED, 6);
    let dir = tempfile::tempdir().unwrap();
    let (plain, lake) = (dir.path().join("plain"), dir.path().join("lake"));
    let sim = format!(
        "{} --seed 7 --patients 12 --interval 5 --duration 2h --start 2026-11-28T00:00:00Z \
         --speed max --events-per-day 24 2>/dev/null",
        bin("cardio-sim").display()
    );
    sh(&format!(
        "{sim} | {} --quiet 2>/dev/null | {} --lake {} 2>/dev/null",
        bin("cardio-alert").display(),
        bin("cardio-archive").display(),
        plain.display()
    ));
    // The whole backlog is in the topic before a replica reads it.
    produce(&broker, RAW, &sh(&sim));

    let replica = |i: usize| {
        let mut cmd = kafka(&broker, "process");
        cmd.args(["--in", RAW, "--out", ENRICHED, "--group", ALERT_GROUP])
            .args(["--", "cardio-alert", "--quiet"]);
        Running::start(cmd, dir.path(), &format!("process-{i}"))
    };
    let mut first = replica(0);
    let mut sink = {
        let mut cmd = kafka(&broker, "sink");
        cmd.args(["--topic", ENRICHED, "--group", ARCHIVE_GROUP, "--lake"])
            .arg(&lake)
            .args(["--max-age", "1s"]);
        Running::start(cmd, dir.path(), "sink")
    };
    // Once the first replica has committed part of the backlog, the second joins (usually while the
    // first is still catching up) and takes some of its partitions, rebuilding their alarm state.
    let deadline = Instant::now() + PATIENCE;
    while !committed(&broker, ALERT_GROUP, RAW)
        .iter()
        .any(|(_, c)| c.is_some_and(|c| c > 0))
    {
        if let Ok(Some(s)) = first.child.try_wait() {
            panic!("{} exited ({s}):\n{}", first.name, first.stderr_text());
        }
        assert!(
            Instant::now() < deadline,
            "the first replica committed nothing"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let mut second = replica(1);
    second.wait_for("assigned partitions");

    let mut all = [&mut first, &mut second, &mut sink];
    wait_caught_up(&broker, ALERT_GROUP, RAW, &mut all);
    wait_caught_up(&broker, ARCHIVE_GROUP, ENRICHED, &mut all);
    for r in all {
        assert_eq!(r.terminate(), 0, "{}: {}", r.name, r.stderr_text());
    }

    check(&lake);
    let want = lake_records(&plain);
    let got = lake_records(&lake);
    assert!(!want[1].is_empty(), "the run should raise alerts");
    let technical = |alerts: &[String]| -> Vec<String> {
        alerts
            .iter()
            .filter(|l| l.contains(r#""kind":"technical""#))
            .cloned()
            .collect()
    };
    let (want_technical, got_technical) = (technical(&want[1]), technical(&got[1]));
    assert!(
        got_technical == want_technical,
        "technical alarms the plain pipeline did not raise, or missing: {}",
        difference(&want_technical, &got_technical)
    );
    for (table, (w, g)) in ["vitals", "alerts", "admission", "settings", "_rejected"]
        .iter()
        .zip(want.iter().zip(&got))
    {
        assert!(w == g, "{table}: {}", difference(w, g));
    }
}

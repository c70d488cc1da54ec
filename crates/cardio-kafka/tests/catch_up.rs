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

use end_to_end::kafka::Broker;
use running::{
    ALERT_GROUP, ARCHIVE_GROUP, ENRICHED, RAW, assert_lake_of_plain_pipeline, committed, lake_sink,
    produce, readings_and_plain_lake, replica, wait_caught_up, wait_until,
};

#[test]
fn replicas_catching_up_on_a_backlog_through_a_rebalance_raise_no_spurious_technical_alarm() {
    let Some(broker) = Broker::start() else {
        return;
    };
    broker.create_topic(RAW, 6);
    broker.create_topic(ENRICHED, 6);
    let dir = tempfile::tempdir().unwrap();
    let (plain, lake) = (dir.path().join("plain"), dir.path().join("lake"));
    let readings = readings_and_plain_lake(
        "--seed 7 --patients 12 --interval 5 --duration 2h --start 2026-11-28T00:00:00Z \
         --speed max --events-per-day 24",
        &plain,
    );
    // The whole backlog is in the topic before a replica reads it.
    produce(&broker, RAW, &readings);

    let mut first = replica(&broker, dir.path(), 0);
    let mut sink = lake_sink(&broker, dir.path(), &lake);
    // Once the first replica has committed part of the backlog, the second joins (usually while the
    // first is still catching up) and takes some of its partitions, rebuilding their alarm state.
    wait_until("the first replica commits", &mut [&mut first], |_| {
        committed(&broker, ALERT_GROUP, RAW)
            .iter()
            .any(|(_, c)| c.is_some_and(|c| c > 0))
    });
    let mut second = replica(&broker, dir.path(), 1);
    second.wait_for("assigned partitions");

    let mut all = [&mut first, &mut second, &mut sink];
    wait_caught_up(&broker, ALERT_GROUP, RAW, &mut all);
    wait_caught_up(&broker, ARCHIVE_GROUP, ENRICHED, &mut all);
    for r in all {
        assert_eq!(r.terminate(), 0, "{}: {}", r.name, r.stderr_text());
    }
    assert_lake_of_plain_pipeline(&plain, &lake);
}

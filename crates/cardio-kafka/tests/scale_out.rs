//! Scale-out on a real broker with real processes: cardio-sim | cardio-kafka produce → three
//! `cardio-kafka process` replicas in one group → `cardio-kafka sink` → a lake; one replica is
//! SIGKILLed mid-run and the others take its partitions over. The lake must then hold exactly the
//! records of the plain pipeline's lake on the same seed (`cardio-sim | cardio-alert |
//! cardio-archive`): every reading and every alert once, byte for byte, and no technical alarm the
//! plain pipeline did not raise.

mod common;
mod running;

use std::time::{Duration, Instant};

use end_to_end::kafka::Broker;
use running::{
    ALERT_GROUP, ARCHIVE_GROUP, ENRICHED, PATIENCE, RAW, Running, assert_lake_of_plain_pipeline,
    committed, lake_sink, produce, readings_and_plain_lake, replica, wait_caught_up, wait_until,
};

const PARTITIONS: u32 = 6;

/// The partitions a replica was last assigned (from its stderr), if it was assigned any yet.
fn assignment(r: &Running) -> Option<Vec<i32>> {
    let text = r.stderr_text();
    let line = text
        .lines()
        .rev()
        .find(|l| l.contains("assigned partitions"))?;
    let list = line.split('[').nth(1)?.split(']').next()?;
    Some(
        list.split(',')
            .filter_map(|s| s.trim().parse().ok())
            .collect(),
    )
}

#[test]
fn three_replicas_one_killed_mid_run_fill_the_lake_of_the_plain_pipeline() {
    let Some(broker) = Broker::start() else {
        return;
    };
    broker.create_topic(RAW, PARTITIONS);
    broker.create_topic(ENRICHED, PARTITIONS);
    let dir = tempfile::tempdir().unwrap();
    let (plain, lake) = (dir.path().join("plain"), dir.path().join("lake"));
    let readings = readings_and_plain_lake(
        "--seed 5 --patients 12 --interval 5 --duration 4h --start 2026-11-28T00:00:00Z \
         --speed max --events-per-day 8",
        &plain,
    );
    let lines: Vec<&[u8]> = readings.split_inclusive(|&b| b == b'\n').collect();
    let (first, second) = lines.split_at(lines.len() / 2);

    let mut replicas: Vec<Running> = (0..3).map(|i| replica(&broker, dir.path(), i)).collect();
    let mut sink = lake_sink(&broker, dir.path(), &lake);
    // The three replicas share the partitions (the group's first join takes tansu ~22 s).
    wait_until(
        "the replicas all get partitions",
        &mut replicas.iter_mut().collect::<Vec<_>>(),
        |rs| {
            rs.iter()
                .all(|r| assignment(r).is_some_and(|a| !a.is_empty()))
        },
    );

    // Half the readings; once the victim has committed some of its own, SIGKILL it, and send the
    // rest while the survivors take over.
    produce(&broker, RAW, &first.concat());
    // The last replica to join. The pinned tansu build hands a dead follower's partitions on about
    // 11 s after the SIGKILL (6 s session timeout); when the first member (the group's leader)
    // dies it takes about 130 s, which would make this test slow without proving more of ours.
    let mut victim = replicas.pop().unwrap();
    let owned = assignment(&victim).unwrap();
    let deadline = Instant::now() + PATIENCE;
    // The victim's partitions where it has committed something: their new owner must replay them.
    let replayed: Vec<i32> = loop {
        let c: Vec<i32> = committed(&broker, ALERT_GROUP, RAW)
            .into_iter()
            .filter(|(p, c)| owned.contains(p) && c.is_some_and(|c| c > 0))
            .map(|(p, _)| p)
            .collect();
        if !c.is_empty() {
            break c;
        }
        assert!(Instant::now() < deadline, "the victim committed nothing");
        std::thread::sleep(Duration::from_millis(50));
    };
    victim.kill9();
    let killed = Instant::now();
    produce(&broker, RAW, &second.concat());

    // A survivor rebuilds each of those partitions from its history, then carries on.
    let deadline = Instant::now() + PATIENCE;
    let mut rebuilt = vec![];
    while rebuilt.len() < replayed.len() {
        rebuilt = replayed
            .iter()
            .filter(|p| {
                replicas.iter().any(|r| {
                    r.stderr_text().lines().any(|l| {
                        l.contains(&format!("partition {p}: alarm state rebuilt from"))
                            && !l.contains("from 0 records")
                    })
                })
            })
            .collect();
        assert!(
            Instant::now() < deadline,
            "the victim's partitions {replayed:?} were not taken over:\n{}",
            replicas
                .iter()
                .map(|r| format!("{}:\n{}", r.name, r.stderr_text()))
                .collect::<Vec<_>>()
                .join("\n")
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // A figure for docs/docker-and-kafka.md, not an assertion (the machine is shared).
    eprintln!(
        "takeover: the victim's partitions {replayed:?} rebuilt {:.1} s after the SIGKILL",
        killed.elapsed().as_secs_f64()
    );

    let mut survivors: Vec<&mut Running> = replicas.iter_mut().collect();
    survivors.push(&mut sink);
    wait_caught_up(&broker, ALERT_GROUP, RAW, &mut survivors);
    wait_caught_up(&broker, ARCHIVE_GROUP, ENRICHED, &mut survivors);
    for r in survivors {
        assert_eq!(r.terminate(), 0, "{}: {}", r.name, r.stderr_text());
    }
    assert_lake_of_plain_pipeline(&plain, &lake);
}

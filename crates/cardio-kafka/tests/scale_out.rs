//! Scale-out on a real broker with real processes: cardio-sim | cardio-kafka produce → three
//! `cardio-kafka process` replicas in one group → `cardio-kafka sink` → a lake; one replica is
//! SIGKILLed mid-run and the others take its partitions over. The lake must then hold exactly the
//! records of the plain pipeline's lake on the same seed (`cardio-sim | cardio-alert |
//! cardio-archive`): every reading and every alert once, byte for byte, and no technical alarm the
//! plain pipeline did not raise.

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
#[ignore = "tansu 0.6.0, the broker the tests start, never moves a SIGKILLed member's partitions to \
            the survivors (seen 2026-11-29 with a 6 s session timeout: they stay unowned for 240 s); \
            run with --ignored against a broker whose group coordinator expires dead members"]
fn three_replicas_one_killed_mid_run_fill_the_lake_of_the_plain_pipeline() {
    let Some(broker) = Broker::start() else {
        return;
    };
    broker.create_topic(RAW, PARTITIONS);
    broker.create_topic(ENRICHED, PARTITIONS);
    let dir = tempfile::tempdir().unwrap();
    let (plain, lake) = (dir.path().join("plain"), dir.path().join("lake"));
    let sim = format!(
        "{} --seed 5 --patients 12 --interval 5 --duration 4h --start 2026-11-28T00:00:00Z \
         --speed max --events-per-day 8 2>/dev/null",
        bin("cardio-sim").display()
    );
    sh(&format!(
        "{sim} | {} --quiet 2>/dev/null | {} --lake {} 2>/dev/null",
        bin("cardio-alert").display(),
        bin("cardio-archive").display(),
        plain.display()
    ));
    let readings = sh(&sim);
    let lines: Vec<&[u8]> = readings.split_inclusive(|&b| b == b'\n').collect();
    let (first, second) = lines.split_at(lines.len() / 2);

    let replica = |i: usize| {
        let mut cmd = kafka(&broker, "process");
        cmd.args(["--in", RAW, "--out", ENRICHED, "--group", "cardio-alert"])
            .args(["--", "cardio-alert", "--quiet"]);
        Running::start(cmd, dir.path(), &format!("process-{i}"))
    };
    let mut replicas: Vec<Running> = (0..3).map(replica).collect();
    let mut sink = {
        let mut cmd = kafka(&broker, "sink");
        cmd.args(["--topic", ENRICHED, "--group", "cardio-archive", "--lake"])
            .arg(&lake)
            .args(["--max-age", "1s"]);
        Running::start(cmd, dir.path(), "sink")
    };
    // The three replicas share the partitions (the group's first join takes tansu ~22 s).
    let deadline = Instant::now() + PATIENCE;
    while !replicas
        .iter()
        .all(|r| assignment(r).is_some_and(|a| !a.is_empty()))
    {
        for r in &mut replicas {
            if let Ok(Some(s)) = r.child.try_wait() {
                panic!("{} exited ({s}):\n{}", r.name, r.stderr_text());
            }
        }
        assert!(
            Instant::now() < deadline,
            "the replicas did not all get partitions"
        );
        std::thread::sleep(Duration::from_millis(200));
    }

    // Half the readings; once the victim has committed some of its own, SIGKILL it, and send the
    // rest while the survivors take over.
    produce(&broker, RAW, &first.concat());
    // The last replica to join: tansu 0.6.0 leaves a group stuck when its leader (the first member
    // to join) dies, which Apache Kafka does not; a follower's death is what it handles.
    let mut victim = replicas.pop().unwrap();
    let owned = assignment(&victim).unwrap();
    let deadline = Instant::now() + PATIENCE;
    // The victim's partitions where it has committed something: their new owner must replay them.
    let replayed: Vec<i32> = loop {
        let c: Vec<i32> = committed(&broker, "cardio-alert", RAW)
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
    wait_caught_up(&broker, "cardio-alert", RAW, &mut survivors);
    wait_caught_up(&broker, "cardio-archive", ENRICHED, &mut survivors);
    for r in survivors {
        assert_eq!(r.terminate(), 0, "{}: {}", r.name, r.stderr_text());
    }

    check(&lake);
    let want = lake_records(&plain);
    let got = lake_records(&lake);
    assert!(!want[1].is_empty(), "the run should raise alerts");
    for (table, (w, g)) in ["vitals", "alerts", "admission", "settings", "_rejected"]
        .iter()
        .zip(want.iter().zip(&got))
    {
        assert!(w == g, "{table}: {}", difference(w, g));
    }
    let technical = |a: &[String]| {
        a.iter()
            .filter(|l| l.contains(r#""kind":"technical""#))
            .count()
    };
    assert_eq!(
        technical(&got[1]),
        technical(&want[1]),
        "no spurious technical alarm"
    );
}

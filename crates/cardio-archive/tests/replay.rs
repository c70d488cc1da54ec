//! Replays that a per-device summary cannot judge alone, through the real binary: a device that
//! restarts its seq with its clock set back, replays with more holes than the summary keeps, and a
//! device whose clock steps back. Each reading must land once, whatever was fed before.

mod common;

use std::collections::BTreeSet;

use common::*;

/// Feeds `input`, expects status 0 and nothing in `_rejected/`.
fn feed_clean(lake: &std::path::Path, input: &[String]) {
    let out = run(lake, &[], &ndjson(input));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        lake_lines(lake, Table::Rejected).is_empty(),
        "{}",
        stderr(&out)
    );
}

/// `vitals/` holds exactly `expected`, each line once; says what is missing or extra if not.
fn assert_vitals_are<'a>(lake: &std::path::Path, expected: impl IntoIterator<Item = &'a String>) {
    let expected: BTreeSet<&String> = expected.into_iter().collect();
    let v = lake_lines(lake, Table::Vitals);
    let got: BTreeSet<&String> = v.iter().collect();
    assert_eq!(got.len(), v.len(), "a reading is in the lake twice");
    let missing: Vec<_> = expected.difference(&got).take(3).collect();
    let extra: Vec<_> = got.difference(&expected).take(3).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "{} readings in the lake, {} expected; missing {missing:?}; extra {extra:?}",
        got.len(),
        expected.len()
    );
}

#[test]
fn a_device_restarting_at_seq_0_with_its_clock_set_back_keeps_its_new_readings() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    // Seq 0..30 from 10:00; then the monitor reboots: seq from 0 again, clock 5 minutes behind.
    let before: Vec<String> = (0..30)
        .map(|s| vitals_at(1, s, 36_000 + s as i64))
        .collect();
    let after: Vec<String> = (0..20)
        .map(|s| vitals_at(1, s, 36_000 - 300 + s as i64))
        .collect();
    feed_clean(&lake, &before);
    feed_clean(&lake, &after);
    // Every reading of both boots, once; replaying both adds nothing and rejects nothing.
    assert_vitals_are(&lake, before.iter().chain(&after));
    feed_clean(&lake, &[before.clone(), after.clone()].concat());
    assert_vitals_are(&lake, before.iter().chain(&after));
    assert_check_passes(&lake);
}

#[test]
fn a_replay_with_more_than_64_holes_per_device_files_every_reading() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let all: Vec<String> = (0..200).map(|s| vitals(7, s)).collect();
    let every_other: Vec<String> = all.iter().step_by(2).cloned().collect();
    feed_clean(&lake, &every_other);
    feed_clean(&lake, &all);
    assert_vitals_are(&lake, &all);
    let check = archive(&lake).arg("check").output().unwrap();
    let report = String::from_utf8_lossy(&check.stdout);
    assert_eq!(check.status.code(), Some(0), "{report}");
    assert!(report.contains(" 0 seq gaps"), "{report}");
}

#[test]
fn replaying_a_device_whose_clock_steps_back_is_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    // seq 0..20 one per second, then the clock is corrected 40 s back (NTP step) and seq goes on.
    let input: Vec<String> = (0..40)
        .map(|s| {
            let t = if s < 20 { s as i64 } else { s as i64 - 40 };
            vitals_at(2, s, 3_600 + t)
        })
        .collect();
    feed_clean(&lake, &input);
    feed_clean(&lake, &input);
    feed_clean(&lake, &input[10..30]);
    assert_vitals_are(&lake, &input);
    assert_check_passes(&lake);
}

#[test]
fn a_different_reading_under_an_identity_already_in_the_lake_is_quarantined_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    // A monitor whose real-time clock resets to the same instant at every boot: the same
    // (device_id, seq, ts) twice, with different values.
    let first = vitals_at(3, 0, 0);
    let second = first.replace("\"spo2_pct\":97", "\"spo2_pct\":88");
    feed_clean(&lake, std::slice::from_ref(&first));
    for _ in 0..2 {
        let out = run(&lake, &[], &ndjson(&[first.clone(), second.clone()]));
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        assert!(
            stderr(&out).contains("line 2:") && stderr(&out).contains("already in the lake"),
            "{}",
            stderr(&out)
        );
    }
    assert_eq!(lake_lines(&lake, Table::Vitals), vec![first]);
    let rejected = lake_lines(&lake, Table::Rejected);
    assert_eq!(rejected.len(), 1, "kept once, also after a replay");
    let r: vitals_core::Rejected = serde_json::from_str(&rejected[0]).unwrap();
    assert_eq!(r.raw, second);
    assert!(r.reason.contains("different"), "{}", r.reason);
}

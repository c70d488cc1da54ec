//! Device artifacts and network faults happen at the configured rates, show in the stream the way
//! the truth file says, and never put the truth itself into the stream.

mod common;

use std::collections::{HashMap, HashSet};

use common::{json_lines, run, vitals};
use vitals_core::plausibility;

#[test]
fn artifact_rates_are_as_configured_and_match_the_stream() {
    let dir = tempfile::tempdir().unwrap();
    let truth = dir.path().join("truth.jsonl");
    // 50 patients × 2 h = 100 patient-hours.
    let out = run(&[
        "--patients",
        "50",
        "--interval",
        "2",
        "--duration",
        "2h",
        "--seed",
        "12",
        "--motion-rate",
        "3",
        "--probe-off-rate",
        "1",
        "--flat-line-rate",
        "0.5",
        "--silent-rate",
        "0.5",
        "--implausible-rate",
        "1",
        "--truth",
        truth.to_str().unwrap(),
    ]);
    let t = json_lines(&truth);
    let starts = |name: &str| {
        t.iter()
            .filter(|x| x["event"] == "start" && x["name"] == name)
            .count() as f64
    };
    // Expected episodes = rate × 100 patient-hours, a little fewer because an episode that falls
    // inside another waits for its end. Tolerance ±35 % (Poisson SD is 6–14 % at these counts).
    for (name, rate) in [
        ("motion", 3.0),
        ("probe_off", 1.0),
        ("flat_line", 0.5),
        ("device_silent", 0.5),
        ("implausible", 1.0),
    ] {
        let expected = rate * 100.0;
        let got = starts(name);
        assert!(
            (got - expected).abs() <= 0.35 * expected,
            "{name}: {got} episodes, expected about {expected}"
        );
    }
    let stream = vitals(&out);
    // Every implausible value in the stream is an `implausible` episode.
    let implausible = stream
        .iter()
        .filter(|v| !plausibility::check(v).is_empty())
        .count() as f64;
    assert_eq!(implausible, starts("implausible"));
    // Flat line (leads off): HR and RR null together, never a 0 that would read as asystole.
    let flat = stream.iter().filter(|v| v.heart_rate_bpm.is_none()).count();
    assert!(flat > 0);
    assert!(
        stream
            .iter()
            .filter(|v| v.heart_rate_bpm.is_none())
            .all(|v| v.respiratory_rate_bpm.is_none())
    );
    assert!(
        stream
            .iter()
            .all(|v| v.heart_rate_bpm != Some(0) && v.respiratory_rate_bpm != Some(0))
    );
    // Probe off: SpO2 null for about the planned time (within 10 %, at 2 s a reading).
    let planned_s: f64 = t
        .iter()
        .filter(|x| x["event"] == "start" && x["name"] == "probe_off")
        .map(|x| x["detail"]["duration_s"].as_f64().unwrap())
        .sum();
    let null_s = stream.iter().filter(|v| v.spo2_pct.is_none()).count() as f64 * 2.0;
    assert!(
        (null_s - planned_s).abs() <= 0.1 * planned_s,
        "SpO2 null {null_s} s, planned {planned_s} s"
    );
    // Silent devices: no readings from the episode's start to its end (a gap in event time, none
    // in seq), and every gap in a device's readings is a silent episode.
    let mut readings: HashMap<&str, Vec<(i64, u64)>> = HashMap::new();
    for v in &stream {
        readings
            .entry(&v.device_id)
            .or_default()
            .push((v.ts.millis(), v.seq));
    }
    let ms = |x: &serde_json::Value| {
        vitals_core::Timestamp::parse(x["ts"].as_str().unwrap())
            .unwrap()
            .millis()
    };
    let episode = |id: &serde_json::Value, event: &str| {
        t.iter()
            .find(|x| x["episode_id"] == *id && x["event"] == event)
    };
    let silences: Vec<(&str, i64, i64)> = t
        .iter()
        .filter(|x| x["event"] == "start" && x["name"] == "device_silent")
        .map(|x| {
            let end = episode(&x["episode_id"], "end").map_or(i64::MAX, ms);
            (x["device_id"].as_str().unwrap(), ms(x), end)
        })
        .collect();
    for (device, from, to) in &silences {
        assert!(
            readings[device].iter().all(|(ts, _)| ts < from || ts >= to),
            "{device} sent while silent"
        );
    }
    for (device, rows) in &readings {
        for w in rows.windows(2) {
            assert_eq!(w[1].1, w[0].1 + 1, "seq has no gap without network loss");
            if w[1].0 - w[0].0 > 2000 {
                assert!(
                    silences
                        .iter()
                        .any(|(d, from, _)| d == device && (w[0].0..w[1].0).contains(from)),
                    "{device}: a gap at {} without a silent episode",
                    w[0].0
                );
            }
        }
    }
    // The truth never enters the stream.
    assert!(!String::from_utf8_lossy(&out.stdout).contains("\"truth\""));
}

#[test]
fn network_faults_leave_exactly_the_gaps_duplicates_and_late_records_the_truth_reports() {
    let dir = tempfile::tempdir().unwrap();
    let truth = dir.path().join("truth.jsonl");
    let out = run(&[
        "--patients",
        "20",
        "--duration",
        "20m",
        "--seed",
        "8",
        "--net-loss",
        "0.01",
        "--net-duplicate",
        "0.005",
        "--net-late",
        "0.005",
        "--net-late-max",
        "8s",
        "--truth",
        truth.to_str().unwrap(),
    ]);
    let t = json_lines(&truth);
    let faults = |name: &str| -> HashSet<(String, u64)> {
        t.iter()
            .filter(|x| x["event"] == "start" && x["name"] == name)
            .map(|x| {
                (
                    x["device_id"].as_str().unwrap().to_owned(),
                    x["detail"]["seq"].as_u64().unwrap(),
                )
            })
            .collect()
    };
    let (lost, dup, late) = (
        faults("network_loss"),
        faults("network_duplicate"),
        faults("network_late"),
    );
    // 24,000 readings: about 240 lost, 120 duplicated, 120 late.
    assert!(
        (150..=330).contains(&lost.len())
            && (60..=180).contains(&dup.len())
            && (60..=180).contains(&late.len())
    );

    let stream = vitals(&out);
    let mut seen: HashMap<(String, u64), u32> = HashMap::new();
    let mut max_seq: HashMap<String, u64> = HashMap::new();
    let mut newest = i64::MIN;
    let mut out_of_order = HashSet::new();
    for v in &stream {
        *seen.entry((v.device_id.clone(), v.seq)).or_default() += 1;
        let m = max_seq.entry(v.device_id.clone()).or_default();
        *m = (*m).max(v.seq);
        if v.ts.millis() < newest {
            out_of_order.insert((v.device_id.clone(), v.seq));
        }
        newest = newest.max(v.ts.millis());
    }
    let duplicated: HashSet<_> = seen
        .iter()
        .filter(|(_, n)| **n == 2)
        .map(|(k, _)| k.clone())
        .collect();
    assert_eq!(duplicated, dup);
    assert!(seen.values().all(|n| *n <= 2));
    let missing: HashSet<_> = max_seq
        .iter()
        .flat_map(|(d, m)| (0..=*m).map(move |s| (d.clone(), s)))
        .filter(|k| !seen.contains_key(k))
        .collect();
    assert!(missing.is_subset(&lost));
    assert!(lost.iter().all(|k| !seen.contains_key(k)));
    assert_eq!(out_of_order, late);
}

//! The stream as a Unix tool and a device: reproducibility, limits, record shape, broken pipes.

mod common;

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::Stdio;

use common::{START, run, sim, vitals};

#[test]
fn same_seed_and_arguments_give_the_same_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let args = |truth: &str| {
        vec![
            "--patients".to_owned(),
            "12".to_owned(),
            "--duration".to_owned(),
            "20m".to_owned(),
            "--seed".to_owned(),
            "7".to_owned(),
            "--events-per-day".to_owned(),
            "24".to_owned(),
            "--artifacts".to_owned(),
            "realistic".to_owned(),
            "--truth".to_owned(),
            dir.path().join(truth).display().to_string(),
        ]
    };
    let a_args = args("a.jsonl");
    let b_args = args("b.jsonl");
    let a = run(&a_args.iter().map(String::as_str).collect::<Vec<_>>());
    let b = run(&b_args.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(a.stdout.len(), b.stdout.len());
    assert!(a.stdout == b.stdout, "streams differ");
    let ta = std::fs::read(dir.path().join("a.jsonl")).unwrap();
    let tb = std::fs::read(dir.path().join("b.jsonl")).unwrap();
    assert_eq!(ta, tb);
    assert!(ta.len() > 12 * 100, "truth has admissions and episodes");
}

#[test]
fn different_seeds_give_different_streams() {
    let a = run(&["--patients", "5", "--count", "500", "--seed", "1"]);
    let b = run(&["--patients", "5", "--count", "500", "--seed", "2"]);
    assert_ne!(a.stdout, b.stdout);
}

#[test]
fn count_is_exact_and_every_line_is_canonical() {
    let out = run(&["--patients", "7", "--count", "1000", "--seed", "3"]);
    let text = String::from_utf8(out.stdout.clone()).unwrap();
    let lines = common::vitals_lines(&out);
    assert_eq!(lines.len(), 1000, "--count counts vitals lines");
    assert_eq!(
        vitals(&out).len(),
        1000,
        "the rest are admission and settings"
    );
    assert!(text.ends_with('\n'));
    for (line, v) in lines.iter().zip(vitals(&out)) {
        assert!(line.starts_with("{\"type\":\"vitals\",\"ts\":\""));
        // Field order, number forms and nulls exactly as the shared record type writes them.
        assert_eq!(&serde_json::to_string(&v).unwrap(), line);
        assert_eq!(v.news2, None, "news2 is cardio-alert's to add");
    }
}

#[test]
fn ids_sequence_and_event_time_follow_the_contract() {
    let out = run(&[
        "--patients",
        "3",
        "--count",
        "9",
        "--seed",
        "3",
        "--interval",
        "2",
    ]);
    let v = vitals(&out);
    let ids: Vec<(&str, &str, u64)> = v
        .iter()
        .map(|r| (r.patient_id.as_str(), r.device_id.as_str(), r.seq))
        .collect();
    assert_eq!(
        ids[..4],
        [
            ("PT-1000", "D-001", 0),
            ("PT-1001", "D-002", 0),
            ("PT-1002", "D-003", 0),
            ("PT-1000", "D-001", 1)
        ]
    );
    assert_eq!(v[0].ts.to_rfc3339(), "2026-11-28T00:00:00.000Z");
    // Two seconds between one monitor's readings, monitors spread over the interval.
    assert_eq!(v[3].ts.millis() - v[0].ts.millis(), 2000);
    assert!(v.windows(2).all(|w| w[0].ts <= w[1].ts));
}

#[test]
fn duration_bounds_event_time() {
    let out = run(&["--patients", "4", "--duration", "90s", "--seed", "1"]);
    let v = vitals(&out);
    assert_eq!(v.len(), 4 * 90);
    let start = vitals_core::Timestamp::parse(START).unwrap().millis();
    assert!(v.iter().all(|r| r.ts.millis() < start + 90_000));
}

#[test]
fn nibp_is_null_between_cuff_cycles() {
    let dir = tempfile::tempdir().unwrap();
    let truth = dir.path().join("truth.jsonl");
    let out = run(&[
        "--patients",
        "6",
        "--duration",
        "1h",
        "--seed",
        "5",
        "--truth",
        truth.to_str().unwrap(),
    ]);
    let interval_s: HashMap<String, i64> = common::json_lines(&truth)
        .iter()
        .filter(|t| t["event"] == "admit")
        .map(|t| {
            (
                t["patient_id"].as_str().unwrap().to_owned(),
                t["detail"]["nibp_interval_s"].as_i64().unwrap(),
            )
        })
        .collect();
    let mut cuff: HashMap<String, Vec<i64>> = HashMap::new();
    let mut readings = 0;
    for v in vitals(&out) {
        readings += 1;
        assert_eq!(v.systolic_mmhg.is_some(), v.diastolic_mmhg.is_some());
        if let (Some(s), Some(d)) = (v.systolic_mmhg, v.diastolic_mmhg) {
            assert!(s > d, "SBP {s} above DBP {d}");
            cuff.entry(v.patient_id.clone())
                .or_default()
                .push(v.ts.millis());
        }
    }
    assert_eq!(readings, 6 * 3600);
    for (patient, times) in &cuff {
        let every = interval_s[patient];
        assert!((300..=900).contains(&every));
        assert!(
            times.len() as i64 >= 3600 / every,
            "{patient}: {} cycles",
            times.len()
        );
        for w in times.windows(2) {
            assert_eq!(w[1] - w[0], every * 1000, "{patient}");
        }
    }
    // Most readings have no BP: a cycle every 5–15 min at 1 Hz.
    let with_bp: usize = cuff.values().map(Vec::len).sum();
    assert!(with_bp * 100 < readings);
}

#[test]
fn closed_pipe_downstream_ends_quietly_with_status_0() {
    let mut child = sim()
        .args(["--speed", "max", "--patients", "50", "--seed", "1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    for _ in 0..3 {
        line.clear();
        stdout.read_line(&mut line).unwrap();
        assert!(vitals_core::parse_record(line.trim_end()).is_ok(), "{line}");
    }
    drop(stdout);
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
}

#[test]
fn real_time_mode_writes_promptly_and_ends_on_count() {
    // Three monitors at 10 Hz: 6 readings take about 0.2 s of real time.
    let out = sim()
        .args([
            "--patients",
            "3",
            "--interval",
            "0.1",
            "--count",
            "6",
            "--seed",
            "1",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(common::vitals_lines(&out).len(), 6);
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.starts_with("cardio-sim: 6 vitals records from 3 patients"),
        "{err}"
    );
}

#[test]
fn help_explains_every_flag_and_the_exit_status() {
    let out = sim().arg("--help").output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    for flag in [
        "--patients",
        "--interval",
        "--duration",
        "--count",
        "--speed",
        "--start",
        "--seed",
        "--truth",
        "--scenario",
        "--events-per-day",
        "--utc-offset",
        "--artifacts",
        "--motion-rate",
        "--probe-off-rate",
        "--flat-line-rate",
        "--silent-rate",
        "--battery-drain-rate",
        "--implausible-rate",
        "--net-loss",
        "--net-duplicate",
        "--net-late",
        "--net-late-max",
        "--quiet",
    ] {
        assert!(help.contains(flag), "{flag} missing from --help");
    }
    assert!(help.contains("Exit status: 0"));
}

#[test]
fn bad_arguments_and_bad_scenario_files_exit_2_with_the_reason() {
    let out = sim().args(["--speed", "fast"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a speed"));

    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("ward.json");
    std::fs::write(
        &script,
        r#"[{"at":"00:10","patient":"PT-1050","scenario":"sepsis"}]"#,
    )
    .unwrap();
    let out = sim()
        .args([
            "--patients",
            "10",
            "--count",
            "1",
            "--speed",
            "max",
            "--scenario",
        ])
        .arg(&script)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("ward.json") && err.contains("PT-1050"),
        "{err}"
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn sigterm_ends_the_run_with_everything_flushed_and_status_0() {
    let dir = tempfile::tempdir().unwrap();
    let truth = dir.path().join("truth.jsonl");
    // Real time, so the simulator is asleep between readings most of the time.
    let mut child = sim()
        .args([
            "--patients",
            "2",
            "--interval",
            "0.05",
            "--seed",
            "1",
            "--truth",
        ])
        .arg(&truth)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    // The first patient's settings and admission, then its first reading.
    let mut line = String::new();
    while !line.starts_with("{\"type\":\"vitals\"") {
        line.clear();
        stdout.read_line(&mut line).unwrap();
    }
    let status = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stdout, &mut rest).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let lines = 1 + rest
        .lines()
        .filter(|l| l.starts_with("{\"type\":\"vitals\""))
        .count();
    assert!(
        rest.is_empty() || rest.ends_with('\n'),
        "the last line is whole"
    );
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.starts_with(&format!("cardio-sim: {lines} vitals records")),
        "{err}"
    );
    assert_eq!(
        common::json_lines(&truth).len(),
        2,
        "both admissions are in the truth file"
    );
}

#[test]
fn a_past_start_in_real_time_is_backfilled_at_full_speed() {
    // Ten minutes of readings from two hours ago: all of it is in the past, so it is written at
    // once rather than over ten minutes (this test would take that long otherwise).
    let start =
        vitals_core::Timestamp::from_millis(vitals_core::Timestamp::now().millis() - 7_200_000);
    let out = sim()
        .args([
            "--patients",
            "2",
            "--duration",
            "10m",
            "--seed",
            "1",
            "--quiet",
            "--start",
        ])
        .arg(start.to_rfc3339())
        .output()
        .unwrap();
    assert!(out.status.success());
    let v = vitals(&out);
    assert_eq!(v.len(), 2 * 600);
    assert_eq!(v[0].ts, start);
}

#[test]
fn admission_rules_give_every_athlete_and_copd_patient_their_own_limits() {
    let dir = tempfile::tempdir().unwrap();
    let truth = dir.path().join("truth.jsonl");
    let rules = dir.path().join("limits.toml");
    run(&[
        "--patients",
        "300",
        "--duration",
        "1s",
        "--seed",
        "42",
        "--truth",
        truth.to_str().unwrap(),
        "--admission-rules",
        rules.to_str().unwrap(),
    ]);
    let text = std::fs::read_to_string(&rules).unwrap();
    for admit in common::json_lines(&truth) {
        let id = admit["patient_id"].as_str().unwrap();
        let table = format!("[patients.{id}]");
        let b = &admit["detail"]["baseline"];
        match admit["name"].as_str().unwrap() {
            "athlete" => assert!(
                text.contains(&format!("[patients.{id}.rules.hr_low]")),
                "{id}: athlete without an hr_low limit"
            ),
            "copd" => assert!(
                text.contains(&format!("{table}  # copd"))
                    && text.contains(&format!("[patients.{id}.rules.spo2_low]")),
                "{id}: COPD without scale 2"
            ),
            // Resting values whose limits keep their room from the built-in ones (docs/spec.md
            // §3.2): HR 63–96, SBP 113–165, RR 13–20, T ≤ 37.7.
            _ if (63.0..=96.0).contains(&b["heart_rate_bpm"].as_f64().unwrap())
                && (113.0..=165.0).contains(&b["systolic_mmhg"].as_f64().unwrap())
                && (13.0..=20.0).contains(&b["respiratory_rate_bpm"].as_f64().unwrap())
                && b["temperature_c"].as_f64().unwrap() <= 37.7 =>
            {
                assert!(
                    !text.contains(&format!("{table} ")),
                    "{id}: the defaults fit"
                )
            }
            _ => {}
        }
    }
}

/// A --start just before the end of year 2999 stops at the last event time the pipeline accepts,
/// saying so, instead of writing year-3000 readings that every other stage refuses.
#[test]
fn a_start_at_the_end_of_the_accepted_years_stops_there_with_a_message() {
    let out = sim()
        .args(["--start", "2999-12-31T23:59:59Z", "--patients", "10"])
        .args([
            "--count", "1000", "--speed", "max", "--seed", "3", "--quiet",
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(
        err.contains(
            "stopped at 2999-12-31T23:59:59.999Z, the last event time the pipeline accepts"
        ),
        "{err}"
    );
    let text = String::from_utf8(out.stdout.clone()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(!lines.is_empty() && lines.len() < 1000, "{}", lines.len());
    for line in lines {
        assert!(
            matches!(
                vitals_core::parse_record(line),
                Ok(vitals_core::Record::Vitals(_)
                    | vitals_core::Record::Admission(_)
                    | vitals_core::Record::Settings(_))
            ),
            "{line}"
        );
    }
}

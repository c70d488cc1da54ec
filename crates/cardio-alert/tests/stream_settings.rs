//! `admission` and `settings` records through the real `cardio-alert` binary over real pipes: limits
//! apply per patient from their event time on, alerts name the settings record behind their limit,
//! a bad record changes nothing, and the records reach the next stage byte for byte.

mod common;

use std::process::{Command, Output};

use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_cardio-alert");
/// 2026-11-28T00:00:00Z.
const T0: i64 = 1_795_824_000_000;

fn ts(s: i64) -> String {
    vitals_core::Timestamp(T0 + s * 1000).to_rfc3339()
}

/// A calm reading of PT-1 at second `s` with heart rate `hr` and SpO2 `spo2`.
fn reading(s: i64, hr: i32, spo2: i32) -> String {
    let mut v = common::calm_reading("PT-1", "D-1", T0 + s * 1000, s as u64, spo2);
    v.heart_rate_bpm = Some(hr);
    serde_json::to_string(&v).unwrap()
}

fn settings(s: i64, n: u32, source: &str, limits: Value) -> String {
    json!({
        "type": "settings", "ts": ts(s), "patient_id": "PT-1", "device_id": "D-1",
        "settings_id": format!("PT-1/{n}"), "source": source, "limits": limits,
    })
    .to_string()
}

fn admission(s: i64, spo2_scale: u8) -> String {
    json!({
        "type": "admission", "ts": ts(s), "patient_id": "PT-1", "device_id": "D-1",
        "unit": "general", "bed": "B-01", "age_band": "70-79", "sex": "F",
        "conditions": ["copd"], "spo2_scale": spo2_scale,
    })
    .to_string()
}

fn run(args: &[&str], lines: &[String]) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.args(args);
    end_to_end::feed(cmd, (lines.join("\n") + "\n").as_bytes())
}

fn records(out: &Output) -> Vec<Value> {
    String::from_utf8(out.stdout.clone())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// `(second, state, limit, settings_id)` of every alert of `rule`; each alert must carry the
/// `settings_id` field (null or a string).
fn alerts(recs: &[Value], rule: &str) -> Vec<(i64, String, f64, Option<String>)> {
    recs.iter()
        .filter(|r| r["type"] == "alert" && r["rule"] == rule)
        .map(|r| {
            assert!(
                r.as_object().unwrap().contains_key("settings_id"),
                "every alert says where its limit came from: {r}"
            );
            let t = vitals_core::Timestamp::parse(r["ts"].as_str().unwrap()).unwrap();
            (
                (t.millis() - T0) / 1000,
                r["state"].as_str().unwrap().to_owned(),
                r["limit"].as_f64().unwrap(),
                r["settings_id"].as_str().map(str::to_owned),
            )
        })
        .collect()
}

fn raised(s: i64, limit: f64, id: Option<&str>) -> (i64, String, f64, Option<String>) {
    (s, "raised".into(), limit, id.map(str::to_owned))
}

fn cleared(s: i64, limit: f64, id: Option<&str>) -> (i64, String, f64, Option<String>) {
    (s, "cleared".into(), limit, id.map(str::to_owned))
}

/// The unit profile at admission, then the nurse lowers `hr_low` (and `hr_extreme_low` under it)
/// for a patient resting at 45 bpm: the alarm raised on the unit limit ends at the reading of the
/// nurse's setting, nothing is raised after it, and every alert names the record of its limit.
#[test]
fn a_lower_hr_low_from_its_time_on_ends_the_alarm_and_alerts_name_the_setting() {
    let mut input = vec![settings(
        0,
        1,
        "unit_profile",
        json!({"hr_low": 50, "hr_extreme_low": 40}),
    )];
    for s in 0..120 {
        if s == 60 {
            input.push(settings(
                60,
                2,
                "nurse",
                json!({"hr_low": 42, "hr_extreme_low": 35}),
            ));
        }
        input.push(reading(s, 45, 97));
    }
    let out = run(&["--quiet"], &input);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let recs = records(&out);
    assert_eq!(
        alerts(&recs, "hr_low"),
        [
            raised(10, 50.0, Some("PT-1/1")),
            cleared(60, 42.0, Some("PT-1/2"))
        ]
    );
    let clear = recs
        .iter()
        .find(|r| r["rule"] == "hr_low" && r["state"] == "cleared")
        .unwrap();
    assert!(
        clear["message"]
            .as_str()
            .unwrap()
            .contains("no longer below the new limit of 42/min"),
        "{clear}"
    );
    // Both settings records go on byte for byte, where they were in the stream.
    let text = String::from_utf8(out.stdout).unwrap();
    let out_lines: Vec<&str> = text.lines().collect();
    assert_eq!(out_lines[0], input[0]);
    assert!(out_lines.contains(&input[61].as_str()));
}

/// A settings record that arrives ahead of its time (dated 30 s, before the first reading) waits
/// for the patient's clock: readings before 30 s are judged on the built-in limit (settings_id
/// null), later ones on the record's. A replay gives the same bytes.
#[test]
fn a_setting_dated_ahead_applies_from_its_time_and_replays_identically() {
    let mut input = vec![
        admission(0, 1),
        settings(30, 1, "nurse", json!({"hr_low": 42})),
    ];
    input.extend((0..90).map(|s| reading(s, 45, 97)));
    let a = run(&["--quiet"], &input);
    let b = run(&["--quiet"], &input);
    assert_eq!(a.stdout, b.stdout);
    assert_eq!(
        alerts(&records(&a), "hr_low"),
        [raised(10, 50.0, None), cleared(30, 42.0, Some("PT-1/1"))]
    );
}

/// A settings record dated 5 s that arrives after the reading of 40 s is late: the readings
/// already scored keep their alarm; it applies from the next reading on.
#[test]
fn a_late_setting_does_not_reach_back_to_readings_already_scored() {
    let mut input: Vec<String> = (0..=40).map(|s| reading(s, 45, 97)).collect();
    input.push(settings(5, 1, "nurse", json!({"hr_low": 42})));
    input.extend((41..60).map(|s| reading(s, 45, 97)));
    let recs = records(&run(&["--quiet"], &input));
    assert_eq!(
        alerts(&recs, "hr_low"),
        [raised(10, 50.0, None), cleared(41, 42.0, Some("PT-1/1"))]
    );
}

/// A raised limit makes a reading that was normal alarm, from the record's time: the condition
/// delay counts from there, and the clearing limit moves with the limit (hysteresis kept: the
/// built-in 50 clears at 53, a limit of 60 at 63).
#[test]
fn a_higher_limit_raises_after_its_delay_and_clears_with_the_rules_hysteresis() {
    let mut input = vec![settings(20, 1, "nurse", json!({"hr_low": 60}))];
    input.extend((0..60).map(|s| reading(s, 55, 97)));
    input.extend((60..80).map(|s| reading(s, 62, 97)));
    input.extend((80..100).map(|s| reading(s, 63, 97)));
    let recs = records(&run(&["--quiet"], &input));
    assert_eq!(
        alerts(&recs, "hr_low"),
        [
            raised(30, 60.0, Some("PT-1/1")),
            cleared(90, 63.0, Some("PT-1/1"))
        ]
    );
}

/// Bad settings records (an unknown rule, a limit outside the HR gate, a wrong type) are reported
/// on stderr with their line and reason, passed on unchanged, and change nothing: the nurse's
/// hr_low of 42 stays in force (no alarm at 45 bpm), and the patient at 38 bpm still alarms on
/// hr_extreme_low.
#[test]
fn a_bad_setting_keeps_the_limits_in_force_and_is_passed_on_unchanged() {
    let mut input = vec![settings(0, 1, "nurse", json!({"hr_low": 42}))];
    input.extend((0..30).map(|s| reading(s, 45, 97)));
    let bad = [
        settings(30, 2, "nurse", json!({"hr_lowe": 30})),
        settings(30, 3, "nurse", json!({"hr_extreme_low": 5})),
        settings(30, 4, "nurse", json!({"hr_low": "30"})),
        settings(30, 5, "nurse", json!({"hr_low": 130})),
    ];
    input.extend(bad.iter().cloned());
    input.extend((30..60).map(|s| reading(s, 45, 97)));
    input.extend((60..90).map(|s| reading(s, 38, 97)));
    let out = run(&["--quiet"], &input);
    assert_eq!(out.status.code(), Some(1), "bad lines are findings");
    let err = String::from_utf8_lossy(&out.stderr);
    for (line, why) in [
        (32, "unknown rule `hr_lowe`"),
        (
            33,
            "hr_extreme_low limit 5 is outside the plausible HR range 20–300",
        ),
        (34, "invalid settings record: invalid type: string \"30\""),
        (35, "hr_low limit 130 is not below hr_high limit 120"),
    ] {
        let l = err
            .lines()
            .find(|l| l.contains(&format!("line {line}:")))
            .unwrap_or_else(|| panic!("line {line} in {err}"));
        assert!(l.contains(why) && l.contains("not applied"), "{l}");
    }
    let text = String::from_utf8(out.stdout.clone()).unwrap();
    for b in &bad {
        assert!(text.lines().any(|l| l == b), "passed on unchanged: {b}");
    }
    assert!(!text.contains("\"rejected\""));
    let recs = records(&out);
    let hr_low = alerts(&recs, "hr_low");
    assert_eq!(hr_low.len(), 1, "{hr_low:?}");
    assert_eq!(hr_low[0].0, 70, "38 bpm is below 42 after the delay");
    assert_eq!(hr_low[0].3.as_deref(), Some("PT-1/1"));
    assert_eq!(alerts(&recs, "hr_extreme_low")[0].0, 65);
}

/// The admission record's NEWS2 SpO2 scale applies from its time: SpO2 89 % on air scores 3 on
/// scale 1 and 0 on scale 2.
#[test]
fn the_admission_scale_scores_spo2_on_scale_2() {
    let news2 = |scale: u8| {
        let input = vec![admission(0, scale), reading(0, 75, 89)];
        let recs = records(&run(&["--quiet"], &input));
        assert_eq!(recs[0]["type"], "admission");
        recs[1]["news2"].as_u64().unwrap()
    };
    assert_eq!((news2(1), news2(2)), (3, 0));
}

/// A rules file's `[patients.<id>]` entry for a rule wins over the stream's setting of it (and its
/// alerts say so with a null settings_id); the stream still sets the rules the file leaves alone.
#[test]
fn a_patients_rules_file_entry_wins_over_the_stream() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules.toml");
    std::fs::write(
        &rules,
        "[patients.PT-1.rules.hr_low]\nwhen = { op = \"<\", limit = 48 }\n\
         clear = { op = \">=\", limit = 51 }\n",
    )
    .unwrap();
    let mut input = vec![settings(
        0,
        1,
        "nurse",
        json!({"hr_low": 42, "spo2_low": 96}),
    )];
    input.extend((0..40).map(|s| reading(s, 45, 95)));
    let recs = records(&run(
        &["--quiet", "--rules", rules.to_str().unwrap()],
        &input,
    ));
    assert_eq!(alerts(&recs, "hr_low"), [raised(10, 48.0, None)]);
    assert_eq!(
        alerts(&recs, "spo2_low"),
        [raised(15, 96.0, Some("PT-1/1"))]
    );
}

/// PT-1's reading at second `s` with systolic `sbp` over a diastolic of 50 (a cuff reading every
/// second, to keep it simple).
fn reading_sbp(s: i64, sbp: i32) -> String {
    let mut v = common::calm_reading("PT-1", "D-1", T0 + s * 1000, s as u64, 97);
    v.systolic_mmhg = Some(sbp);
    v.diastolic_mmhg = Some(50);
    serde_json::to_string(&v).unwrap()
}

/// A nurse who lowers `sbp_low` to 80 for a patient whose usual systolic is in the 80s has judged
/// an SBP of 86 this patient's normal: NEWS2 still scores it 3 (≤ 90) and adds it to the aggregate,
/// but `news2_single_3` does not announce on its own what the nurse's limit accepts. Under the
/// built-in limit the same readings raise `sbp_low` (and so no `news2_single_3` either, as
/// before), and below the nurse's limit `sbp_low` is raised as usual.
#[test]
fn a_three_on_a_vital_the_nurse_has_individualised_past_does_not_raise_news2_single_3() {
    let nurse = settings(0, 1, "nurse", json!({"sbp_low": 80}));
    let mut input = vec![nurse.clone()];
    input.extend((0..400).map(|s| reading_sbp(s, 86)));
    let recs = records(&run(&["--quiet"], &input));
    assert_eq!(alerts(&recs, "news2_single_3"), []);
    assert_eq!(alerts(&recs, "sbp_low"), []);

    // The built-in limit: sbp_low announces the 3, as before.
    let input: Vec<String> = (0..400).map(|s| reading_sbp(s, 86)).collect();
    let recs = records(&run(&["--quiet"], &input));
    assert_eq!(alerts(&recs, "sbp_low"), [raised(0, 90.0, None)]);
    assert_eq!(alerts(&recs, "news2_single_3"), []);

    // Below the nurse's limit the patient's own alarm sounds.
    let mut input = vec![nurse];
    input.extend((0..400).map(|s| reading_sbp(s, if s < 200 { 86 } else { 78 })));
    let recs = records(&run(&["--quiet"], &input));
    assert_eq!(
        alerts(&recs, "sbp_low"),
        [raised(200, 80.0, Some("PT-1/1"))]
    );
    assert_eq!(alerts(&recs, "news2_single_3"), []);
}

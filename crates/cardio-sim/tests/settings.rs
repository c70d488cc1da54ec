//! The `admission` and `settings` records of the real `cardio-sim` binary: where they are in the
//! stream, what they say, and the rates at which the nurse individualises and changes limits.

mod common;

use std::collections::HashMap;

use cardio_sim::settings::{CHANGES_PER_DAY, NURSE_LIMITS};
use common::run;
use vitals_core::{Admission, Record, Settings, SettingsSource, parse_record};

/// Every line of a run, parsed.
fn records(args: &[&str]) -> Vec<Record> {
    let out = run(args);
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| parse_record(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

fn patient(r: &Record) -> &str {
    match r {
        Record::Vitals(v) => &v.patient_id,
        Record::Admission(a) => &a.patient_id,
        Record::Settings(s) => &s.patient_id,
        other => panic!("unexpected {other:?}"),
    }
}

/// Per patient: its records in stream order.
fn by_patient(recs: &[Record]) -> HashMap<String, Vec<&Record>> {
    let mut out: HashMap<String, Vec<&Record>> = HashMap::new();
    for r in recs {
        out.entry(patient(r).to_owned()).or_default().push(r);
    }
    out
}

/// Each patient's records start with the unit profile, maybe the nurse's limits, then the
/// admission on the line right before the first reading, all at that reading's time; settings ids
/// count 1, 2 … per patient; a COPD patient is scored on SpO2 scale 2 with a low SpO2 limit for
/// its 88–92 % target.
#[test]
fn every_patient_is_admitted_on_the_line_before_its_first_reading() {
    let recs = records(&["--patients", "60", "--duration", "30s", "--seed", "4"]);
    let patients = by_patient(&recs);
    assert_eq!(patients.len(), 60);
    for (id, rs) in &patients {
        let first = rs
            .iter()
            .position(|r| matches!(r, Record::Vitals(_)))
            .unwrap();
        let Record::Vitals(v) = rs[first] else {
            unreachable!()
        };
        let Record::Admission(a) = rs[first - 1] else {
            panic!("{id}: no admission right before the first reading: {rs:?}")
        };
        assert_eq!(a.ts, v.ts);
        assert_eq!(
            (a.device_id.as_str(), a.unit.as_str()),
            (v.device_id.as_str(), "general")
        );
        let settings: Vec<&Settings> = rs
            .iter()
            .filter_map(|r| match r {
                Record::Settings(s) => Some(s),
                _ => None,
            })
            .collect();
        assert!(matches!(first, 2 | 3), "{id}: {rs:?}");
        assert_eq!(settings[0].source, SettingsSource::UnitProfile);
        assert_eq!(settings[0].ts, v.ts);
        for (n, s) in settings.iter().enumerate() {
            assert_eq!(s.settings_id, format!("{id}/{}", n + 1));
        }
        let in_force = &settings[first - 2].limits;
        if a.conditions.iter().any(|c| c == "copd") {
            assert_eq!(a.spo2_scale, vitals_core::news2::Spo2Scale::Scale2);
            assert!(in_force["spo2_low"] <= 86.0, "{id}: {in_force:?}");
        } else {
            assert_eq!(a.spo2_scale, vitals_core::news2::Spo2Scale::Scale1);
        }
    }
}

/// At admission the nurse individualises each limit for about the share of patients the real ICU
/// stays show (more, by the patients whose own baseline calls for a limit, such as an athlete's
/// low heart rate or a COPD patient's SpO2 target).
#[test]
fn nurse_individualises_limits_at_the_real_rates() {
    let n = 1500;
    let recs = records(&[
        "--patients",
        &n.to_string(),
        "--duration",
        "1s",
        "--seed",
        "8",
    ]);
    let mut unit = None;
    let mut differs: HashMap<&str, usize> = HashMap::new();
    let mut admitted: Vec<&Admission> = Vec::new();
    for r in &recs {
        match r {
            Record::Settings(s) if s.source == SettingsSource::UnitProfile => {
                unit = Some(&s.limits)
            }
            Record::Settings(s) => {
                let unit = unit.unwrap();
                for row in &NURSE_LIMITS {
                    if s.limits[row.rule] != unit[row.rule] {
                        *differs.entry(row.rule).or_default() += 1;
                    }
                }
            }
            Record::Admission(a) => admitted.push(a),
            _ => {}
        }
    }
    assert_eq!(admitted.len(), n);
    for rule in ["hr_low", "hr_high", "spo2_low", "rr_high"] {
        let real = NURSE_LIMITS.iter().find(|r| r.rule == rule).unwrap().share;
        let share = differs[rule] as f64 / n as f64;
        assert!(
            (real - 0.05..real + 0.1).contains(&share),
            "{rule}: {share:.3} of patients, real stays {real:.3}"
        );
    }
}

/// During the stay the nurse changes limits at the real rate (about one change a patient-day);
/// each change is dated when it happened and written before the patient's next reading.
#[test]
fn limits_change_during_the_stay_at_the_real_rate() {
    let (n, days) = (100, 2.0);
    let recs = records(&[
        "--patients",
        &n.to_string(),
        "--duration",
        "2d",
        "--interval",
        "300",
        "--seed",
        "5",
    ]);
    let mut changes = 0;
    for (id, rs) in by_patient(&recs) {
        let mut last_reading = None;
        let mut waiting = Vec::new();
        for r in rs {
            match r {
                Record::Vitals(v) => {
                    for ts in waiting.drain(..) {
                        assert!(ts <= v.ts, "{id}: a change is written before its reading");
                    }
                    last_reading = Some(v.ts);
                }
                Record::Settings(s) if last_reading.is_some() => {
                    assert_eq!(s.source, SettingsSource::Nurse);
                    assert!(Some(s.ts) > last_reading, "{id}: {s:?}");
                    waiting.push(s.ts);
                    changes += 1;
                }
                _ => {}
            }
        }
    }
    let expected = CHANGES_PER_DAY * n as f64 * days;
    // Poisson: ±4 SD, and a change can leave the limits as they were (no record).
    let sd = expected.sqrt();
    assert!(
        (expected - 4.0 * sd - 0.1 * expected..=expected + 4.0 * sd).contains(&(changes as f64)),
        "{changes} changes, {expected:.0} expected"
    );
}

/// `--unit` is the unit every admission record names, and the truth file's `admit` lines agree.
#[test]
fn the_unit_on_the_command_line_is_the_unit_of_every_admission() {
    for unit in ["medical", "surgical", "icu"] {
        let recs = records(&[
            "--patients",
            "5",
            "--duration",
            "10s",
            "--seed",
            "4",
            "--unit",
            unit,
        ]);
        let admissions: Vec<&Admission> = recs
            .iter()
            .filter_map(|r| match r {
                Record::Admission(a) => Some(a),
                _ => None,
            })
            .collect();
        assert_eq!(admissions.len(), 5);
        assert!(
            admissions.iter().all(|a| a.unit.as_str() == unit),
            "{admissions:?}"
        );
    }
}

/// The ICU loads the real ICU monitors' usual limits (RR high 30, NIBP high 160), the wards the
/// built-in rules (RR high 25, SBP high 180): the unit profile record of the real binary says so.
#[test]
fn the_icu_profile_carries_the_real_icu_monitors_limits() {
    for (unit, rr_high, sbp_high) in [("icu", 30.0, 160.0), ("general", 25.0, 180.0)] {
        let recs = records(&[
            "--patients",
            "3",
            "--duration",
            "2s",
            "--seed",
            "2",
            "--unit",
            unit,
        ]);
        let profiles: Vec<&Settings> = recs
            .iter()
            .filter_map(|r| match r {
                Record::Settings(s) if s.source == SettingsSource::UnitProfile => Some(s),
                _ => None,
            })
            .collect();
        assert_eq!(profiles.len(), 3);
        for p in profiles {
            let l = &p.limits;
            assert_eq!(
                (l["rr_high"], l["sbp_high"]),
                (rr_high, sbp_high),
                "{unit}: {l:?}"
            );
            assert_eq!(
                (
                    l["hr_low"],
                    l["hr_high"],
                    l["spo2_low"],
                    l["rr_low"],
                    l["sbp_low"]
                ),
                (50.0, 120.0, 90.0, 8.0, 90.0),
                "{unit}: {l:?}"
            );
        }
    }
}

/// An ICU patient resting at a heart rate, respiratory rate or systolic on or past the unit's
/// limit does not alarm all day: the limits in force from its first reading (the last settings
/// record before it) leave room above (below) its resting values, as the truth file gives them.
#[test]
fn icu_limits_in_force_leave_room_around_each_patients_resting_values() {
    let dir = tempfile::tempdir().unwrap();
    let truth = dir.path().join("truth.jsonl");
    let recs = records(&[
        "--unit",
        "icu",
        "--patients",
        "80",
        "--duration",
        "2s",
        "--seed",
        "11",
        "--truth",
        truth.to_str().unwrap(),
    ]);
    let mut in_force: HashMap<String, &Settings> = HashMap::new();
    for r in &recs {
        if let Record::Settings(s) = r {
            in_force.entry(s.patient_id.clone()).insert_entry(s);
        }
    }
    let mut tachycardic = 0;
    for admit in common::json_lines(&truth)
        .iter()
        .filter(|l| l["event"] == "admit")
    {
        let id = admit["patient_id"].as_str().unwrap();
        let b = &admit["detail"]["baseline"];
        let l = &in_force[id].limits;
        let (hr, rr) = (
            b["heart_rate_bpm"].as_f64().unwrap(),
            b["respiratory_rate_bpm"].as_f64().unwrap(),
        );
        if hr > 100.0 {
            tachycardic += 1;
        }
        assert!(l["hr_high"] >= hr / 0.8, "{id}: resting HR {hr}, {l:?}");
        assert!(l["hr_extreme_high"] >= l["hr_high"] + 10.0, "{id}: {l:?}");
        assert!(l["rr_high"] >= rr + 5.0, "{id}: resting RR {rr}, {l:?}");
        assert!(
            l["rr_low"] <= (rr - 5.0).max(6.0),
            "{id}: resting RR {rr}, {l:?}"
        );
        assert!(
            l["sbp_high"] >= b["systolic_mmhg"].as_f64().unwrap() + 15.0,
            "{id}: {l:?}"
        );
        assert!(
            l["temp_high"] > b["temperature_c"].as_f64().unwrap(),
            "{id}: {l:?}"
        );
    }
    assert!(
        tachycardic > 0,
        "no ICU patient resting above 100 bpm among 80"
    );
}

//! Each scripted scenario moves the vital signs and NEWS2 the way the clinical picture says
//! (docs/spec.md §4), and the truth file tells when.

mod common;

use std::collections::HashMap;

use common::{START, json_lines, mean, run, short_term_sd, vitals};
use serde_json::Value;
use vitals_core::Vitals;
use vitals_core::news2::{Observations, Spo2Scale, score};

const SEED: &str = "31";
const MIN: i64 = 60_000;

/// Indices of the first `n` patients of the ward with no chronic profile, so a scenario's effect is
/// not mixed with a baseline shift.
fn general_patients(n: usize) -> Vec<u32> {
    let dir = tempfile::tempdir().unwrap();
    let truth = dir.path().join("admit.jsonl");
    run(&[
        "--patients",
        "60",
        "--count",
        "60",
        "--seed",
        SEED,
        "--truth",
        truth.to_str().unwrap(),
    ]);
    let picked: Vec<u32> = json_lines(&truth)
        .iter()
        .filter(|t| t["event"] == "admit" && t["name"] == "general")
        .map(|t| {
            t["patient_id"].as_str().unwrap()[3..]
                .parse::<u32>()
                .unwrap()
                - 1000
        })
        .take(n)
        .collect();
    assert_eq!(picked.len(), n);
    picked
}

/// Runs the ward with a script; returns each patient's readings and the truth lines.
fn ward(
    script: &str,
    patients: u32,
    interval: &str,
    duration: &str,
) -> (HashMap<String, Vec<Vitals>>, Vec<Value>) {
    let dir = tempfile::tempdir().unwrap();
    let (file, truth) = (
        dir.path().join("script.json"),
        dir.path().join("truth.jsonl"),
    );
    std::fs::write(&file, script).unwrap();
    let out = run(&[
        "--patients",
        &patients.to_string(),
        "--interval",
        interval,
        "--duration",
        duration,
        "--seed",
        SEED,
        "--scenario",
        file.to_str().unwrap(),
        "--truth",
        truth.to_str().unwrap(),
    ]);
    let mut by_patient: HashMap<String, Vec<Vitals>> = HashMap::new();
    for v in vitals(&out) {
        by_patient.entry(v.patient_id.clone()).or_default().push(v);
    }
    (by_patient, json_lines(&truth))
}

/// NEWS2 at each reading, with BP and temperature carried forward up to 60 min (docs/spec.md §3.1).
fn news2(readings: &[Vitals]) -> Vec<(i64, Option<u8>)> {
    let mut last_sbp: Option<(i64, i32)> = None;
    readings
        .iter()
        .map(|v| {
            let t = v.ts.millis();
            if let Some(s) = v.systolic_mmhg {
                last_sbp = Some((t, s));
            }
            let sbp = last_sbp
                .filter(|(at, _)| t - at <= 60 * MIN)
                .map(|(_, s)| s);
            let obs = Observations {
                respiratory_rate_bpm: v.respiratory_rate_bpm,
                spo2_pct: v.spo2_pct,
                on_oxygen: v.on_oxygen,
                systolic_mmhg: sbp,
                heart_rate_bpm: v.heart_rate_bpm,
                consciousness: v.consciousness,
                temperature_c: v.temperature_c,
            };
            (t, score(&obs, Spo2Scale::Scale1).map(|s| s.total()))
        })
        .collect()
}

fn start_ms() -> i64 {
    vitals_core::Timestamp::parse(START).unwrap().millis()
}

/// Readings with event time in `[from, to)` minutes after the start of the run.
fn window(readings: &[Vitals], from_min: i64, to_min: i64) -> Vec<&Vitals> {
    let s = start_ms();
    readings
        .iter()
        .filter(|v| (s + from_min * MIN..s + to_min * MIN).contains(&v.ts.millis()))
        .collect()
}

fn avg(rows: &[&Vitals], f: impl Fn(&Vitals) -> Option<f64>) -> f64 {
    let xs: Vec<f64> = rows.iter().filter_map(|v| f(v)).collect();
    assert!(!xs.is_empty(), "no values in window");
    mean(&xs)
}

fn median_news2(scores: &[(i64, Option<u8>)], from_min: i64, to_min: i64) -> f64 {
    let s = start_ms();
    let mut xs: Vec<u8> = scores
        .iter()
        .filter(|(t, _)| (s + from_min * MIN..s + to_min * MIN).contains(t))
        .filter_map(|(_, n)| *n)
        .collect();
    assert!(!xs.is_empty());
    xs.sort_unstable();
    f64::from(xs[xs.len() / 2])
}

fn pid(i: u32) -> String {
    format!("PT-{}", 1000 + i)
}

#[test]
fn sepsis_reaches_news2_5_within_its_onset_and_meets_sirs() {
    let pts = general_patients(4);
    let script: Vec<String> = pts
        .iter()
        .map(|i| {
            format!(
                r#"{{"at":"00:20","patient":"{}","scenario":"sepsis","severity":0.8,"over":"3h"}}"#,
                pid(*i)
            )
        })
        .collect();
    let n = pts.iter().max().unwrap() + 1;
    let (by, truth) = ward(
        &format!("{{\"events\":[{}]}}", script.join(",")),
        n,
        "10",
        "3h40m",
    );
    for i in &pts {
        let r = &by[&pid(*i)];
        let scores = news2(r);
        // Before: a resting patient (NEWS2 median ≤ 2 once BP is known).
        assert!(median_news2(&scores, 0, 20) <= 2.0, "{} baseline", pid(*i));
        // Within the stated 3 h the 5-minute median NEWS2 reaches 5 (urgent response).
        let reached = (20..200)
            .step_by(5)
            .find(|m| median_news2(&scores, *m, m + 5) >= 5.0);
        let reached = reached.unwrap_or_else(|| panic!("{}: NEWS2 never 5 within 3 h", pid(*i)));
        assert!(reached + 5 <= 200, "{}: NEWS2 5 at {reached} min", pid(*i));
        // At the peak: SIRS (T > 38, HR > 90, RR > 20) and qSOFA signs (RR ≥ 22, SBP ≤ 100, confusion).
        let peak = window(r, 205, 220);
        assert!(avg(&peak, |v| v.temperature_c) > 38.0);
        assert!(avg(&peak, |v| v.heart_rate_bpm.map(f64::from)) > 90.0);
        assert!(avg(&peak, |v| v.respiratory_rate_bpm.map(f64::from)) >= 22.0);
        assert!(
            window(r, 190, 220)
                .iter()
                .filter_map(|v| v.systolic_mmhg)
                .all(|s| s <= 105)
        );
        assert!(
            peak.iter()
                .all(|v| v.consciousness == vitals_core::Consciousness::C)
        );
    }
    // Truth: a start and a peak phase for each, nothing in the stream itself.
    let of = |event: &str| {
        truth
            .iter()
            .filter(|t| t["event"] == event && t["name"] == "sepsis")
            .count()
    };
    assert_eq!((of("start"), of("phase")), (4, 4));
}

#[test]
fn each_scenario_moves_the_vitals_the_clinical_way() {
    // Three haemorrhages: BP comes from a few cuff cycles per window, so one patient's own BP
    // variability (SD about 8 mmHg) could hide or mimic the class II picture.
    let kinds = [
        "haemorrhage",
        "haemorrhage_2",
        "haemorrhage_3",
        "hypoxia",
        "bradycardia",
        "af_rvr",
        "hypertensive_crisis",
        "fever",
        "recovery",
    ];
    let pts = general_patients(kinds.len());
    let script: Vec<String> = kinds
        .iter()
        .zip(&pts)
        .map(|(k, i)| {
            // Haemorrhage over 2 h, so that class II lasts long enough for several cuff cycles.
            let kind = k.split("_2").next().unwrap().split("_3").next().unwrap();
            let over = if kind == "haemorrhage" { r#","over":"2h""# } else { "" };
            format!(r#"{{"at":"00:30","patient":"{}","scenario":"{kind}","severity":0.9,"treated_after":"40m"{over}}}"#, pid(*i))
        })
        .collect();
    let n = pts.iter().max().unwrap() + 1;
    let (by, truth) = ward(&format!("[{}]", script.join(",")), n, "5", "5h");
    let r = |k: &str| &by[&pid(pts[kinds.iter().position(|x| *x == k).unwrap()])];
    let hr = |v: &Vitals| v.heart_rate_bpm.map(f64::from);
    let sbp = |v: &Vitals| v.systolic_mmhg.map(f64::from);
    let base = |k: &str, f: &dyn Fn(&Vitals) -> Option<f64>| avg(&window(r(k), 0, 30), f);
    let phase_min = |k: &str, phase: &str| {
        let patient = r(k)[0].patient_id.clone();
        truth
            .iter()
            .find(|t| t["patient_id"] == patient.as_str() && t["phase"] == phase)
            .map(|t| {
                (vitals_core::Timestamp::parse(t["ts"].as_str().unwrap())
                    .unwrap()
                    .millis()
                    - start_ms())
                    / MIN
            })
            .unwrap_or_else(|| panic!("{k}: no {phase} in the truth"))
    };

    // Haemorrhage (onset 2 h): HR up and pulse pressure narrowed in class II with SBP held; SBP
    // falls only in class III–IV. BP is compared with the same seed's run without the script (the
    // same patient's cuff readings at the same moments without the bleed): a class II window holds
    // only a few cuff cycles, whose own variability would otherwise hide a change of 5 mmHg.
    let (unbled, _) = ward("[]", n, "5", "5h");
    let pp = |v: &Vitals| Some(f64::from(v.systolic_mmhg? - v.diastolic_mmhg?));
    let (mut pp_change, mut sbp_change) = (0.0, 0.0);
    for k in ["haemorrhage", "haemorrhage_2", "haemorrhage_3"] {
        let (c2, c3) = (phase_min(k, "class_ii"), phase_min(k, "class_iii"));
        let class2 = window(r(k), c2, c3);
        let without = window(&unbled[&r(k)[0].patient_id], c2, c3);
        assert!(
            avg(&class2, hr) > base(k, &hr) + 10.0,
            "{k}: HR up in class II"
        );
        pp_change += (avg(&class2, pp) - avg(&without, pp)) / 3.0;
        sbp_change += (avg(&class2, sbp) - avg(&without, sbp)) / 3.0;
    }
    assert!(
        pp_change < -5.0,
        "pulse pressure {pp_change:+.1} mmHg: narrows in class II"
    );
    assert!(
        sbp_change > -8.0,
        "SBP {sbp_change:+.1} mmHg: held in class II"
    );
    let h = r("haemorrhage");
    let peak = window(h, 155, 190);
    assert!(avg(&peak, hr) > 120.0);
    assert!(avg(&peak, sbp) < base("haemorrhage", &sbp) - 25.0);

    // Hypoxia (onset 4 min): SpO2 down ≥ 10 points at the peak; on oxygen once treated.
    let hy = r("hypoxia");
    let spo2 = |v: &Vitals| v.spo2_pct.map(f64::from);
    assert!(avg(&window(hy, 36, 70), spo2) < base("hypoxia", &spo2) - 10.0);
    assert!(window(hy, 76, 78).iter().all(|v| v.on_oxygen));

    // Bradycardia: HR below 50.
    assert!(avg(&window(r("bradycardia"), 42, 70), hr) < 50.0);

    // AF with rapid ventricular response: HR ≥ 140 and irregular.
    let af = window(r("af_rvr"), 35, 70);
    assert!(avg(&af, hr) >= 140.0);
    // Irregular: the displayed rate (the mean of the last 12 beats) scatters around its own
    // one-minute mean at least twice as much as the same patient's in sinus rhythm before.
    let short_term_spread = |rows: &[&Vitals]| {
        let xs: Vec<f64> = rows.iter().filter_map(|v| hr(v)).collect();
        short_term_sd(&xs, 6)
    };
    let (af_spread, sinus_spread) = (
        short_term_spread(&af),
        short_term_spread(&window(r("af_rvr"), 0, 30)),
    );
    assert!(
        af_spread > 2.0 * sinus_spread,
        "irregularly irregular: {af_spread:.2} against {sinus_spread:.2} bpm"
    );

    // Hypertensive crisis (onset 30 min): SBP ≥ 180.
    assert!(avg(&window(r("hypertensive_crisis"), 62, 100), sbp) >= 180.0);

    // Fever (onset 2 h): T ≥ 38.5, HR up through the coupling.
    let f = window(r("fever"), 155, 190);
    assert!(avg(&f, |v| v.temperature_c) >= 38.5);
    assert!(avg(&f, hr) > base("fever", &hr) + 10.0);

    // Recovery (over 4 h): on oxygen and scoring at first, settled and on air at the end.
    let rec = r("recovery");
    let scores = news2(rec);
    assert!(window(rec, 31, 40).iter().all(|v| v.on_oxygen));
    assert!(window(rec, 280, 300).iter().all(|v| !v.on_oxygen));
    assert!(median_news2(&scores, 40, 100) >= median_news2(&scores, 270, 300) + 2.0);

    // NEWS2 at each scenario's peak is above its own baseline. Not for a hypertensive crisis: the
    // chart scores SBP only from 220 mmHg, so 190/115 leaves NEWS2 where it was (sbp_high alarms).
    for (k, peak) in [
        ("haemorrhage", (155, 190)),
        ("hypoxia", (36, 70)),
        ("bradycardia", (42, 70)),
        ("af_rvr", (35, 70)),
        ("fever", (155, 190)),
    ] {
        let s = news2(r(k));
        assert!(
            median_news2(&s, peak.0, peak.1) >= median_news2(&s, 0, 30) + 1.0,
            "{k}: NEWS2 does not rise"
        );
    }

    // Truth: every scenario starts, peaks, is treated; the quick ones end within the run.
    for k in kinds {
        let events: Vec<&str> = truth
            .iter()
            .filter(|t| {
                t["patient_id"] == r(k)[0].patient_id.as_str() && t["category"] == "scenario"
            })
            .map(|t| t["event"].as_str().unwrap())
            .collect();
        assert_eq!(events.first(), Some(&"start"), "{k}");
        if ["hypoxia", "bradycardia", "af_rvr"].contains(&k) {
            assert_eq!(events.last(), Some(&"end"), "{k}: {events:?}");
        }
    }
}

#[test]
fn random_events_follow_the_rate_per_patient_day() {
    let dir = tempfile::tempdir().unwrap();
    let truth = dir.path().join("truth.jsonl");
    // 40 patients × 1 day at 3 events a day: about 120 draws, fewer starts (no scenario on top of
    // another); every start in the truth.
    run(&[
        "--patients",
        "40",
        "--interval",
        "60",
        "--duration",
        "24h",
        "--seed",
        "4",
        "--events-per-day",
        "3",
        "--truth",
        truth.to_str().unwrap(),
    ]);
    let starts = json_lines(&truth)
        .iter()
        .filter(|t| t["event"] == "start" && t["category"] == "scenario")
        .count();
    assert!((50..=140).contains(&starts), "{starts} random scenarios");
}

/// Haemorrhage recovery gives the patient back their own pulse pressure. The same seed is run
/// with and without a scripted haemorrhage (the scenario draws no random numbers, so each reading
/// pairs with the same patient's reading without the bleed). Over the second half of the treated
/// phase the mean pulse pressure is within 2 mmHg of the paired one; a recovery that retraces the
/// bleed through class II (diastolic up, systolic held) reads about 4 mmHg narrower there.
#[test]
fn haemorrhage_recovery_restores_the_patients_own_pulse_pressure() {
    let patients = 60u32;
    let script: Vec<String> = (0..patients)
        .map(|i| {
            format!(
                r#"{{"at":"00:30","patient":"{}","scenario":"haemorrhage","severity":{},"treated_after":"30m"}}"#,
                pid(i),
                0.5 + 0.5 * f64::from(i % 3) / 2.0
            )
        })
        .collect();
    let (bled, truth) = ward(&format!("[{}]", script.join(",")), patients, "60", "4h");
    let (paired, _) = ward("[]", patients, "60", "4h");
    let ts = |t: &Value| {
        vitals_core::Timestamp::parse(t["ts"].as_str().unwrap())
            .unwrap()
            .millis()
    };
    let pp = |v: &Vitals| Some(f64::from(v.systolic_mmhg? - v.diastolic_mmhg?));
    let mut change = Vec::new();
    for i in 0..patients {
        let patient = pid(i);
        let when = |event: &str, phase: Option<&str>| {
            truth
                .iter()
                .find(|t| {
                    t["patient_id"] == patient.as_str()
                        && t["category"] == "scenario"
                        && t["event"] == event
                        && phase.is_none_or(|p| t["phase"] == p)
                })
                .map(ts)
                .expect("the haemorrhage is treated and ends within the run")
        };
        let (treated, end) = (when("phase", Some("treated")), when("end", None));
        let second_half = (treated + end) / 2..end;
        for (a, b) in bled[&patient].iter().zip(&paired[&patient]) {
            assert_eq!(a.ts, b.ts);
            if second_half.contains(&a.ts.millis())
                && let (Some(x), Some(y)) = (pp(a), pp(b))
            {
                change.push(x - y);
            }
        }
    }
    assert!(change.len() > 100, "{} cuff readings", change.len());
    let m = mean(&change);
    assert!(
        m.abs() < 2.0,
        "pulse pressure {m:+.1} mmHg from the patient's own in the second half of recovery"
    );
}

//! Statistical checks of the resting ward against docs/spec.md §4: each vital's mean and spread
//! per cohort, the circadian rhythm, the fever coupling slope. Tolerances are stated per check.

mod common;

use std::collections::HashMap;
use std::sync::OnceLock;

use common::{json_lines, mean, run, sd, short_term_sd, vitals};
use vitals_core::Vitals;

/// A day of a 240-bed ward read every two minutes, with each patient's profile from the truth file.
struct Day {
    readings: Vec<Vitals>,
    profile: HashMap<String, String>,
}

fn day() -> &'static Day {
    static DAY: OnceLock<Day> = OnceLock::new();
    DAY.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let truth = dir.path().join("truth.jsonl");
        let out = run(&[
            "--patients",
            "240",
            "--interval",
            "120",
            "--duration",
            "24h",
            "--seed",
            "2026",
            "--truth",
            truth.to_str().unwrap(),
        ]);
        let profile = json_lines(&truth)
            .iter()
            .filter(|t| t["event"] == "admit")
            .map(|t| {
                (
                    t["patient_id"].as_str().unwrap().to_owned(),
                    t["name"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        Day {
            readings: vitals(&out),
            profile,
        }
    })
}

/// Values of one field over the readings of one profile.
fn values(profile: &str, field: impl Fn(&Vitals) -> Option<f64>) -> Vec<f64> {
    let d = day();
    d.readings
        .iter()
        .filter(|v| d.profile[&v.patient_id] == profile)
        .filter_map(field)
        .collect()
}

fn hr(v: &Vitals) -> Option<f64> {
    v.heart_rate_bpm.map(f64::from)
}
fn rr(v: &Vitals) -> Option<f64> {
    v.respiratory_rate_bpm.map(f64::from)
}
fn spo2(v: &Vitals) -> Option<f64> {
    v.spo2_pct.map(f64::from)
}
fn temp(v: &Vitals) -> Option<f64> {
    v.temperature_c
}
fn sbp(v: &Vitals) -> Option<f64> {
    v.systolic_mmhg.map(f64::from)
}
fn dbp(v: &Vitals) -> Option<f64> {
    v.diastolic_mmhg.map(f64::from)
}

fn share(xs: &[f64], keep: impl Fn(f64) -> bool) -> f64 {
    xs.iter().filter(|x| keep(**x)).count() as f64 / xs.len() as f64
}

#[test]
fn general_cohort_rests_within_spec_section_4() {
    // HR 60–100: mean 72–82, SD 6–13, at least 90 % of readings in 55–100.
    let h = values("general", hr);
    assert!((72.0..=82.0).contains(&mean(&h)), "HR mean {}", mean(&h));
    assert!((6.0..=13.0).contains(&sd(&h)), "HR sd {}", sd(&h));
    assert!(share(&h, |x| (55.0..=100.0).contains(&x)) >= 0.9);
    // RR 12–20: mean 14.5–17, at least 90 % in 12–20.
    let r = values("general", rr);
    assert!((14.5..=17.0).contains(&mean(&r)), "RR mean {}", mean(&r));
    assert!(
        share(&r, |x| (12.0..=20.0).contains(&x)) >= 0.9,
        "RR share {}",
        share(&r, |x| (12.0..=20.0).contains(&x))
    );
    // SpO2 95–100 % on air (oximeter ±2 %): mean 96.5–98.5, at least 90 % at 95 or above.
    let s = values("general", spo2);
    assert!((96.5..=98.5).contains(&mean(&s)), "SpO2 mean {}", mean(&s));
    assert!(
        share(&s, |x| x >= 95.0) >= 0.9,
        "SpO2 ≥ 95 share {}",
        share(&s, |x| x >= 95.0)
    );
    assert!(s.iter().all(|x| *x <= 100.0));
    // Temperature mean 36.7 °C (SD 0.6): mean within ±0.15, SD 0.4–0.7.
    let t = values("general", temp);
    assert!((36.55..=36.85).contains(&mean(&t)), "T mean {}", mean(&t));
    assert!((0.4..=0.7).contains(&sd(&t)), "T sd {}", sd(&t));
    // BP below 120/80 in health (older ward patients a little above): SBP mean 110–128, DBP 66–80.
    let (sy, di) = (values("general", sbp), values("general", dbp));
    assert!(
        (110.0..=128.0).contains(&mean(&sy)),
        "SBP mean {}",
        mean(&sy)
    );
    assert!((66.0..=80.0).contains(&mean(&di)), "DBP mean {}", mean(&di));
}

#[test]
fn chronic_profiles_shift_their_baselines() {
    // COPD: SpO2 88–92 %.
    let copd = values("copd", spo2);
    assert!(
        (88.5..=92.0).contains(&mean(&copd)),
        "COPD SpO2 mean {}",
        mean(&copd)
    );
    assert!(share(&copd, |x| (86.0..=94.0).contains(&x)) >= 0.9);
    // Hypertension: SBP mean ≥ 140.
    let ht = values("hypertension", sbp);
    assert!(mean(&ht) >= 140.0, "hypertensive SBP mean {}", mean(&ht));
    // Athlete: resting bradycardia, mean HR < 60.
    let ath = values("athlete", hr);
    assert!(
        !ath.is_empty() && mean(&ath) < 60.0,
        "athlete HR mean {}",
        mean(&ath)
    );
    // AF: irregularly irregular. The display is the mean rate of the last 12 beats, so two readings
    // two minutes apart differ by the slow wander plus what the irregularity leaves in a 12-beat
    // mean: more than in sinus rhythm (by about a fifth here), not by the beat-to-beat jump itself.
    let jump = |profile: &str| {
        let d = day();
        let mut last: HashMap<&str, i32> = HashMap::new();
        let mut diffs = vec![];
        for v in d
            .readings
            .iter()
            .filter(|v| d.profile[&v.patient_id] == profile)
        {
            if let Some(h) = v.heart_rate_bpm
                && let Some(prev) = last.insert(&v.patient_id, h)
            {
                diffs.push(f64::from((h - prev).abs()));
            }
        }
        mean(&diffs)
    };
    assert!(
        jump("af") > 1.1 * jump("general"),
        "AF {} vs sinus {}",
        jump("af"),
        jump("general")
    );
}

#[test]
fn circadian_rhythm_peaks_where_spec_says() {
    let d = day();
    let mut temp_by_hour = vec![vec![]; 24];
    let mut hr_by_hour = vec![vec![]; 24];
    for v in &d.readings {
        let hour = (v.ts.millis_of_day() / 3_600_000) as usize;
        temp_by_hour[hour].extend(v.temperature_c);
        hr_by_hour[hour].extend(v.heart_rate_bpm.map(f64::from));
    }
    let t: Vec<f64> = temp_by_hour.iter().map(|x| mean(x)).collect();
    let argmax = (0..24).max_by(|a, b| t[*a].total_cmp(&t[*b])).unwrap();
    let argmin = (0..24).min_by(|a, b| t[*a].total_cmp(&t[*b])).unwrap();
    // Temperature highest 18–20 h and lowest 06–08 h (±1 h for noise), swing about 0.5 °C.
    assert!(
        (17..=21).contains(&argmax),
        "temperature peaks at {argmax} h"
    );
    assert!(
        (5..=9).contains(&argmin),
        "temperature lowest at {argmin} h"
    );
    let swing = t[argmax] - t[argmin];
    assert!((0.35..=0.7).contains(&swing), "daily swing {swing}");
    // HR commonly ≥ 10 % lower at night: 01–05 h at least 8 % below 13–17 h.
    let h = |hours: std::ops::Range<usize>| {
        mean(
            &hours
                .flat_map(|i| hr_by_hour[i].clone())
                .collect::<Vec<_>>(),
        )
    };
    let ratio = h(1..5) / h(13..17);
    assert!(ratio <= 0.92, "night/afternoon HR ratio {ratio}");
}

#[test]
fn fever_raises_hr_about_7_and_rr_about_1_4_per_degree() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("fever.json");
    let events: Vec<String> = (0..20)
        .map(|i| {
            format!(
                r#"{{"at":"00:30","patient":"PT-{}","scenario":"fever","severity":1,"over":"2h"}}"#,
                1000 + i
            )
        })
        .collect();
    std::fs::write(&script, format!("[{}]", events.join(","))).unwrap();
    let out = run(&[
        "--patients",
        "20",
        "--interval",
        "10",
        "--duration",
        "4h",
        "--seed",
        "9",
        "--scenario",
        script.to_str().unwrap(),
    ]);
    // Least-squares slope of HR (and RR) on temperature, within each patient (demeaned), pooled.
    let mut by_patient: HashMap<String, Vec<(f64, f64, f64)>> = HashMap::new();
    for v in vitals(&out) {
        if let (Some(t), Some(h), Some(r)) =
            (v.temperature_c, v.heart_rate_bpm, v.respiratory_rate_bpm)
        {
            by_patient
                .entry(v.patient_id)
                .or_default()
                .push((t, f64::from(h), f64::from(r)));
        }
    }
    let (mut sxx, mut sxh, mut sxr) = (0.0, 0.0, 0.0);
    for rows in by_patient.values() {
        let n = rows.len() as f64;
        let mt = rows.iter().map(|r| r.0).sum::<f64>() / n;
        let mh = rows.iter().map(|r| r.1).sum::<f64>() / n;
        let mr = rows.iter().map(|r| r.2).sum::<f64>() / n;
        for (t, h, r) in rows {
            sxx += (t - mt) * (t - mt);
            sxh += (t - mt) * (h - mh);
            sxr += (t - mt) * (r - mr);
        }
    }
    let (hr_slope, rr_slope) = (sxh / sxx, sxr / sxx);
    // docs/spec.md §4: about 7 bpm and 1.4 /min per °C; tolerance ±1.5 bpm and ±0.4 /min.
    assert!(
        (5.5..=8.5).contains(&hr_slope),
        "HR slope {hr_slope} bpm/°C"
    );
    assert!(
        (1.0..=1.8).contains(&rr_slope),
        "RR slope {rr_slope} /min/°C"
    );
}

#[test]
fn utc_offset_moves_the_rhythm_to_local_time() {
    // UTC+6: local 19 h is 13 h UTC, local 07 h is 01 h UTC.
    let out = run(&[
        "--patients",
        "120",
        "--interval",
        "300",
        "--duration",
        "24h",
        "--seed",
        "5",
        "--utc-offset",
        "6",
    ]);
    let mut by_hour = vec![vec![]; 24];
    for v in vitals(&out) {
        by_hour[(v.ts.millis_of_day() / 3_600_000) as usize].extend(v.temperature_c);
    }
    let t: Vec<f64> = by_hour.iter().map(|x| mean(x)).collect();
    let argmax = (0..24).max_by(|a, b| t[*a].total_cmp(&t[*b])).unwrap();
    let argmin = (0..24).min_by(|a, b| t[*a].total_cmp(&t[*b])).unwrap();
    assert!(
        (11..=15).contains(&argmax),
        "temperature peaks at {argmax} h UTC"
    );
    assert!(
        argmin <= 3 || argmin == 23,
        "temperature lowest at {argmin} h UTC"
    );
}

/// Each patient's readings in order, from a run of `args`.
fn by_patient(out: &std::process::Output) -> HashMap<String, Vec<Vitals>> {
    let mut by: HashMap<String, Vec<Vitals>> = HashMap::new();
    for v in vitals(out) {
        by.entry(v.patient_id.clone()).or_default().push(v);
    }
    by
}

/// AF with rapid ventricular response, read every second: the displayed HR is the mean rate over
/// the last 12 R-R intervals, so it moves a few bpm a second (median |ΔHR| below 5 bpm; white
/// noise per reading moved it 19), while the irregular rhythm still shows: the short-term spread
/// of the HR is at least twice the same patients' in sinus rhythm before the episode.
#[test]
fn af_rvr_heart_rate_changes_smoothly_but_stays_irregular() {
    let patients = 20;
    let script: Vec<String> = (0..patients)
        .map(|i| {
            format!(
                r#"{{"at":"00:20","patient":"PT-{}","scenario":"af_rvr","severity":{},"treated_after":"20m"}}"#,
                1000 + i,
                f64::from(i % 5) / 4.0
            )
        })
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("script.json");
    std::fs::write(&file, format!("[{}]", script.join(","))).unwrap();
    let out = run(&[
        "--patients",
        &patients.to_string(),
        "--interval",
        "1",
        "--duration",
        "45m",
        "--seed",
        "77",
        "--scenario",
        file.to_str().unwrap(),
    ]);
    let start = vitals_core::Timestamp::parse(common::START)
        .unwrap()
        .millis();
    let minute = |v: &Vitals| (v.ts.millis() - start) / 60_000;
    let (mut steps, mut sinus_sd, mut af_sd) = (Vec::new(), Vec::new(), Vec::new());
    for readings in by_patient(&out).values() {
        let hr_in = |from: i64, to: i64| -> Vec<f64> {
            readings
                .iter()
                .filter(|v| (from..to).contains(&minute(v)))
                .filter_map(hr)
                .collect()
        };
        // Onset is 2 min: minutes 23–40 are the peak, before treatment.
        let peak = hr_in(23, 40);
        steps.extend(peak.windows(2).map(|w| (w[1] - w[0]).abs()));
        af_sd.push(short_term_sd(&peak, 30));
        sinus_sd.push(short_term_sd(&hr_in(0, 19), 30));
    }
    steps.sort_by(f64::total_cmp);
    let median_step = steps[steps.len() / 2];
    assert!(
        median_step < 5.0,
        "median |ΔHR| {median_step} bpm per second in AF-RVR"
    );
    let (af, sinus) = (mean(&af_sd), mean(&sinus_sd));
    assert!(
        af >= 2.0 * sinus,
        "short-term HR spread {af:.2} bpm in AF-RVR against {sinus:.2} before"
    );
}

/// The oximeter averages noisy samples, so the displayed SpO2 at rest changes smoothly: the median
/// over patients of its lag-1 autocorrelation at 1 s readings is above 0.9 (noise added after the
/// averaging gave 0.56).
#[test]
fn resting_spo2_is_strongly_autocorrelated_second_to_second() {
    let out = run(&[
        "--patients",
        "40",
        "--interval",
        "1",
        "--duration",
        "1h",
        "--seed",
        "7",
    ]);
    let mut lag1: Vec<f64> = by_patient(&out)
        .values()
        .map(|readings| {
            let xs: Vec<f64> = readings.iter().filter_map(spo2).collect();
            let m = mean(&xs);
            let var: f64 = xs.iter().map(|x| (x - m).powi(2)).sum();
            let cov: f64 = xs.windows(2).map(|w| (w[0] - m) * (w[1] - m)).sum();
            cov / var
        })
        .filter(|r| r.is_finite())
        .collect();
    lag1.sort_by(f64::total_cmp);
    let median = lag1[lag1.len() / 2];
    assert!(median > 0.9, "median lag-1 autocorrelation {median:.3}");
}

//! `--unit`: a unit's simulated vital signs have the percentiles of the real patients it is
//! calibrated on, within the tolerance the calibration table states; spontaneous events are
//! labelled in the truth file with the fields docs/truth-format.md gives them, and shape the stream.

mod common;

use std::collections::HashMap;

use cardio_sim::unit::{ICU_PERCENTILES, Unit};
use vitals_core::Spontaneous;

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let k = (sorted.len() - 1) as f64 * p / 100.0;
    let (f, c) = (
        k.floor() as usize,
        (k.ceil() as usize).min(sorted.len() - 1),
    );
    sorted[f] + (sorted[c] - sorted[f]) * (k - k.floor())
}

/// 200 ICU patients over a day (the whole daily rhythm), read once a minute: HR, SpO2, RR and
/// temperature sampled on the hour (as ICU charting samples them), cuff pressures as measured. Each percentile p5–p95 is
/// within the tolerance of the real one in `ICU_PERCENTILES`.
#[test]
fn icu_percentiles_stay_within_the_calibration_tolerance() {
    let out = common::run(&[
        "--unit",
        "icu",
        "--patients",
        "200",
        "--duration",
        "24h",
        "--interval",
        "60",
        "--seed",
        "11",
    ]);
    let mut values: HashMap<&str, Vec<f64>> = HashMap::new();
    let mut readings: HashMap<String, u64> = HashMap::new();
    for v in common::vitals(&out) {
        let n = readings.entry(v.patient_id.clone()).or_default();
        if (*n).is_multiple_of(60) {
            let hourly = [
                ("heart_rate_bpm", v.heart_rate_bpm.map(f64::from)),
                ("spo2_pct", v.spo2_pct.map(f64::from)),
                (
                    "respiratory_rate_bpm",
                    v.respiratory_rate_bpm.map(f64::from),
                ),
                ("temperature_c", v.temperature_c),
            ];
            for (name, x) in hourly {
                values
                    .entry(name)
                    .or_default()
                    .push(x.expect("no artifacts"));
            }
        }
        *n += 1;
        if let (Some(s), Some(d)) = (v.systolic_mmhg, v.diastolic_mmhg) {
            values
                .entry("systolic_mmhg")
                .or_default()
                .push(f64::from(s));
            values
                .entry("diastolic_mmhg")
                .or_default()
                .push(f64::from(d));
        }
    }
    for real in ICU_PERCENTILES {
        let xs = values.get_mut(real.vital).expect("vital sampled");
        xs.sort_by(f64::total_cmp);
        for (q, want) in [5.0, 25.0, 50.0, 75.0, 95.0].iter().zip(real.p) {
            let got = percentile(xs, *q);
            assert!(
                (got - want).abs() <= real.tolerance,
                "{} p{q}: simulated {got} against {want} ({}), tolerance ±{}",
                real.vital,
                real.source,
                real.tolerance
            );
        }
    }
}

/// A surgical ward with random scenarios and realistic artifacts: spontaneous events run beside
/// both and each is labelled as docs/truth-format.md says: `start` and `end` with the same
/// episode id, ids `E-0001`, `E-0002`… in start order over the ward, a name from vitals-core's
/// list, `duration_s`, a `cause` and the one extreme that fits the name; the end comes
/// `duration_s` after the start. A desaturation is in the stream: the patient's displayed SpO2
/// falls to near the labelled nadir.
#[test]
fn spontaneous_events_are_labelled_in_the_truth_file() {
    let dir = tempfile::tempdir().unwrap();
    let truth = dir.path().join("truth.jsonl");
    let out = common::run(&[
        "--unit",
        "surgical",
        "--patients",
        "40",
        "--duration",
        "24h",
        "--interval",
        "30",
        "--seed",
        "5",
        "--events-per-day",
        "1",
        "--artifacts",
        "realistic",
        "--truth",
        truth.to_str().unwrap(),
    ]);
    let lines = common::json_lines(&truth);
    let categories: std::collections::HashSet<&str> = lines
        .iter()
        .map(|l| l["category"].as_str().unwrap())
        .collect();
    for c in ["patient", "scenario", "artifact", "spontaneous"] {
        assert!(categories.contains(c), "no {c} line in {categories:?}");
    }
    for admit in lines.iter().filter(|l| l["event"] == "admit") {
        assert_eq!(admit["detail"]["unit"], "surgical");
    }

    // Every displayed SpO2 by patient, in time order, with its event time.
    let mut spo2: HashMap<String, Vec<(String, i32)>> = HashMap::new();
    for v in common::vitals(&out) {
        if let Some(s) = v.spo2_pct {
            spo2.entry(v.patient_id.clone())
                .or_default()
                .push((v.ts.to_rfc3339(), s));
        }
    }

    let spontaneous: Vec<&serde_json::Value> = lines
        .iter()
        .filter(|l| l["category"] == "spontaneous")
        .collect();
    let mut started = HashMap::new();
    let mut next_id = 1;
    let mut names = HashMap::<&str, u32>::new();
    let mut desaturations_seen = 0;
    for l in &spontaneous {
        let id = l["episode_id"].as_str().unwrap();
        let name = l["name"].as_str().unwrap();
        let kind = Spontaneous::from_name(name).unwrap_or_else(|| panic!("unknown name {name}"));
        assert!(l["phase"].is_null() && l["severity"].is_null(), "{l}");
        match l["event"].as_str().unwrap() {
            "start" => {
                assert_eq!(id, format!("E-{next_id:04}"), "ids in start order");
                next_id += 1;
                *names.entry(name).or_default() += 1;
                let d = &l["detail"];
                let duration_s = d["duration_s"].as_i64().expect("duration_s");
                assert!(duration_s > 0, "{l}");
                let cause = d["cause"].as_str().expect("cause");
                assert!(
                    ["sleep", "opioid", "pain", "anxiety", "mobilisation"].contains(&cause),
                    "{l}"
                );
                let extreme = match kind {
                    Spontaneous::Desaturation => "nadir_spo2_pct",
                    Spontaneous::Bradypnoea => "nadir_rr_bpm",
                    Spontaneous::TachycardiaRun => "peak_hr_bpm",
                    Spontaneous::MobilisationHypotension => "nadir_sbp_mmhg",
                };
                assert!(d[extreme].is_number(), "{l} lacks {extreme}");
                assert_eq!(d.as_object().unwrap().len(), 3, "{l}");
                started.insert(id.to_owned(), (*l).clone());
            }
            "end" => {
                let start = started
                    .remove(id)
                    .unwrap_or_else(|| panic!("{id} ends unstarted"));
                assert_eq!(start["name"], l["name"]);
                assert_eq!(start["patient_id"], l["patient_id"]);
                let t0 = vitals_core::Timestamp::parse(start["ts"].as_str().unwrap()).unwrap();
                let t1 = vitals_core::Timestamp::parse(l["ts"].as_str().unwrap()).unwrap();
                let span_s = (t1.millis() - t0.millis()) as f64 / 1000.0;
                let duration_s = start["detail"]["duration_s"].as_f64().unwrap();
                // Ends at the first reading at or after its time (one 30 s interval, and the
                // duration is whole seconds); a silent device may hold the end back further.
                assert!(span_s >= duration_s, "{id}: {span_s} s for {duration_s} s");
                if kind == Spontaneous::Desaturation && duration_s >= 300.0 {
                    let nadir = start["detail"]["nadir_spo2_pct"].as_f64().unwrap();
                    let (from, to) = (start["ts"].as_str().unwrap(), l["ts"].as_str().unwrap());
                    let lowest = spo2[start["patient_id"].as_str().unwrap()]
                        .iter()
                        .filter(|(ts, _)| ts.as_str() >= from && ts.as_str() <= to)
                        .map(|(_, s)| *s)
                        .min()
                        .expect("readings during the event");
                    // The probe's fixed error (±2) and the noise sit on top of the true nadir.
                    assert!(
                        f64::from(lowest) <= nadir + 3.5,
                        "{id}: lowest SpO2 {lowest} for a nadir of {nadir}"
                    );
                    desaturations_seen += 1;
                }
            }
            other => panic!("event {other} in {l}"),
        }
    }
    assert!(desaturations_seen > 0, "no long desaturation to check");
    for kind in Spontaneous::ALL {
        assert!(
            names.contains_key(kind.name()),
            "no {} in 40 patient-days: {names:?}",
            kind.name()
        );
    }
}

/// The general ward has no spontaneous events, and says it is the general ward; the same seed
/// gives the same surgical ward, truth file included.
#[test]
fn general_ward_has_none_and_units_repeat_by_seed() {
    let dir = tempfile::tempdir().unwrap();
    let truth = dir.path().join("general.jsonl");
    common::run(&[
        "--patients",
        "20",
        "--duration",
        "12h",
        "--interval",
        "60",
        "--seed",
        "2",
        "--truth",
        truth.to_str().unwrap(),
    ]);
    let lines = common::json_lines(&truth);
    assert!(lines.iter().all(|l| l["category"] != "spontaneous"));
    assert!(
        lines
            .iter()
            .filter(|l| l["event"] == "admit")
            .all(|l| l["detail"]["unit"] == Unit::General.as_str())
    );

    let run = |name: &str| {
        let path = dir.path().join(name);
        let out = common::run(&[
            "--unit",
            "surgical",
            "--patients",
            "10",
            "--duration",
            "12h",
            "--interval",
            "60",
            "--seed",
            "8",
            "--truth",
            path.to_str().unwrap(),
        ]);
        (out.stdout, std::fs::read(&path).unwrap())
    };
    let (a, b) = (run("a.jsonl"), run("b.jsonl"));
    assert!(String::from_utf8_lossy(&a.1).contains("\"spontaneous\""));
    assert!(a == b, "same seed, different ward");
}

//! The real `cardio-alert evaluate` binary over small hand-made truth and alert files: which class
//! each alarm lands in, the cap on episodes that never end, the chance-hit rate and the burden row.
//! Each file is a few lines written here, so the expected counts can be read off the lines.

use std::path::Path;
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_cardio-alert");

/// One truth line at hour `h` (decimal) of 2026-11-28.
fn truth(h: f64, event: &str, category: &str, name: &str, id: &str, detail: &str) -> String {
    format!(
        r#"{{"type":"truth","ts":"{}","event":"{event}","category":"{category}","name":"{name}","episode_id":"{id}","patient_id":"PT-1","device_id":"D-1","phase":null,"severity":0.5,"detail":{detail}}}"#,
        at(h)
    )
}

fn at(h: f64) -> String {
    let ms = (h * 3_600_000.0).round() as i64;
    format!(
        "2026-11-28T{:02}:{:02}:{:02}.{:03}Z",
        ms / 3_600_000,
        ms / 60_000 % 60,
        ms / 1000 % 60,
        ms % 1000
    )
}

/// One raised alert at hour `h`, with the `settings_id` field the stream contract adds.
fn alert(h: f64, rule: &str, kind: &str) -> String {
    format!(
        r#"{{"type":"alert","ts":"{}","patient_id":"PT-1","device_id":"D-1","alert_id":"x","rule":"{rule}","kind":"{kind}","priority":"medium","state":"raised","vital":null,"value":null,"limit":null,"news2":null,"message":"m","settings_id":null}}"#,
        at(h)
    )
}

/// The `start` line of an episode at hour `from` and, with `to`, its `end` line.
fn episode(
    category: &str,
    name: &str,
    id: &str,
    (from, to): (f64, Option<f64>),
    detail: &str,
) -> Vec<String> {
    let mut lines = vec![truth(from, "start", category, name, id, detail)];
    lines.extend(to.map(|h| truth(h, "end", category, name, id, "null")));
    lines
}

fn admit(unit: &str) -> Vec<String> {
    let detail = format!(r#"{{"unit":"{unit}"}}"#);
    vec![truth(0.0, "admit", "patient", "general", "P-1", &detail)]
}

/// Hour 23.9: the last truth lines, so that the file spans the day.
fn last_line() -> Vec<String> {
    let seq = r#"{"seq":1}"#;
    episode("artifact", "network_loss", "A-9", (23.9, Some(23.9)), seq)
}

fn write(dir: &Path, name: &str, lines: &[String]) -> String {
    let p = dir.join(name);
    std::fs::write(&p, lines.join("\n") + "\n").unwrap();
    p.to_str().unwrap().to_owned()
}

/// The truth file of one patient on `unit` with `episodes` over a day, and an alerts file:
/// their paths.
fn ward(dir: &Path, unit: &str, episodes: &[Vec<String>], alerts: &[String]) -> (String, String) {
    let truth = [admit(unit), episodes.concat(), last_line()].concat();
    (
        write(dir, "truth.jsonl", &truth),
        write(dir, "a.jsonl", alerts),
    )
}

/// Runs `evaluate` and returns its output and the first variant's JSON figures.
fn evaluate(dir: &Path, args: &[&str]) -> (Output, serde_json::Value) {
    let json = dir.join("scores.json");
    let out = Command::new(BIN)
        .arg("evaluate")
        .args(["--hours", "24", "--json", json.to_str().unwrap()])
        .args(args)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(json).unwrap()).unwrap();
    (out, v[0].clone())
}

/// An alarm raised during a hypoxia on a rule that has nothing to do with it (hr_low) is false;
/// before, any alarm in a scenario's window was left out of the false count.
#[test]
fn an_alarm_during_an_episode_on_an_unrelated_rule_is_false() {
    let dir = tempfile::tempdir().unwrap();
    let (t, a) = ward(
        dir.path(),
        "general",
        &[episode(
            "scenario",
            "hypoxia",
            "S-1",
            (1.0, Some(1.5)),
            r#"{"onset_s":240,"treated_after_s":600,"recover_s":300}"#,
        )],
        &[
            alert(1.05, "spo2_low", "physiological"),
            alert(1.1, "hr_low", "physiological"),
        ],
    );
    let (_, s) = evaluate(dir.path(), &["--truth", &t, &a]);
    assert_eq!(s["false_physiological"], 1, "{s}");
    assert_eq!(s["detection"], 1);
    assert_eq!(s["false_unrelated"], 1);
    assert_eq!(s["false_by_rule"]["hr_low"], 1);
}

/// A sepsis never treated (no `end`, `treated_after_s` null) stops taking in alarms 2 h (the
/// default cap) after its peak: an hr_high 8 h later is false, one in the peak is a detection.
/// Before, the episode took in every alarm up to the truth file's last line.
#[test]
fn an_episode_that_never_ends_is_capped_after_its_peak() {
    let dir = tempfile::tempdir().unwrap();
    let (t, a) = ward(
        dir.path(),
        "general",
        &[episode(
            "scenario",
            "sepsis",
            "S-1",
            (1.0, None),
            r#"{"onset_s":3600,"treated_after_s":null,"recover_s":21600}"#,
        )],
        &[
            alert(2.5, "hr_high", "physiological"),
            alert(10.0, "hr_high", "physiological"),
        ],
    );
    let (_, s) = evaluate(dir.path(), &["--truth", &t, &a]);
    assert_eq!(s["false_physiological"], 1, "{s}");
    assert_eq!(s["detection"], 1);
    assert_eq!(s["false_unrelated"], 0);
    // A longer cap takes the late alarm in again: the cap is what made it false.
    let (_, s) = evaluate(dir.path(), &["--truth", &t, "--untreated-cap", "36000", &a]);
    assert_eq!(s["false_physiological"], 0, "{s}");
}

/// A labelled spontaneous desaturation makes an spo2_low during it true but not actionable, not a
/// false alarm (before, the `spontaneous` category was not read and the alarm counted as false); a
/// motion artifact's spo2_low stays false, counted as during an artifact; the three classes add up
/// to the physiological alarms raised, and the burden row counts the technical alarm as well.
#[test]
fn alarms_fall_into_three_classes_and_the_burden_counts_them_all() {
    let dir = tempfile::tempdir().unwrap();
    let (t, a) = ward(
        dir.path(),
        "surgical",
        &[
            episode(
                "scenario",
                "af_rvr",
                "S-1",
                (1.0, Some(1.75)),
                r#"{"onset_s":120,"treated_after_s":600,"recover_s":1800}"#,
            ),
            episode(
                "spontaneous",
                "desaturation",
                "E-0001",
                (3.0, Some(3.0 + 120.0 / 3600.0)),
                r#"{"duration_s":120,"cause":"sleep","nadir_spo2_pct":84}"#,
            ),
            episode(
                "artifact",
                "motion",
                "A-1",
                (5.0, Some(5.0 + 20.0 / 3600.0)),
                r#"{"duration_s":20,"spo2_dip_pct":9}"#,
            ),
        ],
        &[
            alert(1.02, "hr_high", "physiological"),
            alert(3.01, "spo2_low", "physiological"),
            alert(5.001, "spo2_low", "physiological"),
            alert(5.001, "device_silent", "technical"),
        ],
    );
    let (out, s) = evaluate(dir.path(), &["--truth", &t, &format!("defaults={a}")]);
    assert_eq!(s["physiological_raised"], 3);
    assert_eq!(s["false_physiological"], 1, "{s}");
    assert_eq!(s["detection"], 1);
    assert_eq!(s["not_actionable"], 1);
    assert_eq!(s["false_during_artifact"], 1);
    assert_eq!(s["technical_raised"], 1);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("(unit surgical)"), "{text}");
    assert!(out.stderr.is_empty(), "every name is known");
    // One patient-day: 3 physiological + 1 technical.
    assert!(
        text.contains("| **all alarms** (physiological + technical) | 4.00 |"),
        "{text}"
    );
    assert!(
        text.contains("| … true but not actionable (relevant, during a spontaneous event or a recovery) | 1.00 |"),
        "{text}"
    );
}

/// The chance-hit rate on a ward without scenarios: its one patient has one spo2_low, at 12:00 of
/// a 24 h day. The hypoxia's window is 1 h (55 min to its end plus the 5 min grace): a window that
/// long holds the alarm for starts 11:00–12:00 out of 00:00–23:00, 1/23. Its clinical window (the
/// 4 min onset): starts 11:56–12:00 out of 00:00–23:56.
#[test]
fn the_chance_hit_rate_is_measured_on_the_ward_without_scenarios() {
    let dir = tempfile::tempdir().unwrap();
    let (t, a) = ward(
        dir.path(),
        "general",
        &[
            // Ends 55 min after its start: with the 5 min grace a 1 h window.
            episode(
                "scenario",
                "hypoxia",
                "S-1",
                (1.0, Some(1.0 + 55.0 / 60.0)),
                r#"{"onset_s":240,"treated_after_s":600,"recover_s":300}"#,
            ),
        ],
        &[alert(1.05, "spo2_low", "physiological")],
    );
    let calm = write(
        dir.path(),
        "calm.jsonl",
        &[admit("general"), last_line()].concat(),
    );
    let calm_a = write(
        dir.path(),
        "calm-a.jsonl",
        &[
            alert(12.0, "spo2_low", "physiological"),
            // Not about hypoxia: no chance hit.
            alert(6.0, "hr_low", "physiological"),
        ],
    );
    let (out, s) = evaluate(
        dir.path(),
        &[
            "--truth",
            &t,
            "--chance-truth",
            &calm,
            "--chance",
            &format!("defaults={calm_a}"),
            &format!("defaults={a}"),
        ],
    );
    let h = &s["scenarios"]["hypoxia"];
    assert_eq!(h["detected"], 1);
    assert_eq!(h["before_peak"], 1);
    let rate = |c: &serde_json::Value| c["sum"].as_f64().unwrap() / c["episodes"].as_f64().unwrap();
    assert!((rate(&h["chance"]) - 1.0 / 23.0).abs() < 1e-6, "{h}");
    assert!(
        (rate(&h["chance_before_peak"]) - 4.0 / (24.0 * 60.0 - 4.0)).abs() < 1e-6,
        "{h}"
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("| hypoxia | 1 | 1/1 (100 %) | 4 % | 1/1 (100 %) | 0 % | 3 min | 3 min |"),
        "{text}"
    );
}

/// A --chance file whose label names no scored variant is refused, naming the label; --chance
/// without --chance-truth is a usage error; an episode name the evaluation does not know is
/// named on stderr.
#[test]
fn chance_files_must_match_a_variant_and_unknown_names_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let (t, a) = ward(dir.path(), "general", &[], &[]);
    // A spontaneous event the evaluation does not know is named on stderr, and scored.
    let (t2, _) = ward(
        dir.path(),
        "general",
        &[episode(
            "spontaneous",
            "hiccups",
            "E-0001",
            (2.0, Some(2.1)),
            "null",
        )],
        &[],
    );
    let (out, _) = evaluate(dir.path(), &["--truth", &t2, &a]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("`hiccups`"));
    let out = Command::new(BIN)
        .args(["evaluate", "--truth", &t, "--chance-truth", &t])
        .args([
            "--chance",
            &format!("nodelays={a}"),
            &format!("defaults={a}"),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nodelays"));
    let out = Command::new(BIN)
        .args(["evaluate", "--truth", &t, "--chance", &a, &a])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--chance-truth"));
}

/// A device artifact affects the readings while it lasts: an alarm it sets off is raised during
/// it, or at the latest when the SpO2 artifact hold lets go (30 s). An alarm 3 min after a 10 s
/// motion artifact is false, but not "during a device artifact"; before, every episode's window,
/// an artifact's too, ran on for the 5 min grace, and a tenth of the day counted as artifact time
/// on a ward with one motion episode an hour.
#[test]
fn an_alarm_minutes_after_an_artifact_is_not_put_down_to_it() {
    let dir = tempfile::tempdir().unwrap();
    let ten_s = 10.0 / 3600.0;
    let (t, a) = ward(
        dir.path(),
        "general",
        &[episode(
            "artifact",
            "motion",
            "A-1",
            (2.0, Some(2.0 + ten_s)),
            r#"{"duration_s":10.0,"spo2_dip_pct":12.0}"#,
        )],
        &[
            alert(2.0 + ten_s / 2.0, "hr_high", "physiological"),
            alert(2.05, "hr_high", "physiological"),
            alert(2.0 + ten_s / 2.0, "sensor_fault", "technical"),
            alert(2.05, "device_silent", "technical"),
        ],
    );
    let (_, s) = evaluate(dir.path(), &["--truth", &t, &a]);
    assert_eq!(s["false_physiological"], 2, "{s}");
    assert_eq!(s["false_during_artifact"], 1, "{s}");
    assert_eq!(s["technical_matching_artifact"], 1, "{s}");
    // The grace of the scored episodes is unchanged, and --artifact-grace widens an artifact's.
    let (_, s) = evaluate(dir.path(), &["--truth", &t, "--artifact-grace", "300", &a]);
    assert_eq!(s["false_during_artifact"], 2, "{s}");
    assert_eq!(s["technical_matching_artifact"], 2, "{s}");
}

/// A spontaneous event is about every vital cardio-sim's physiology moves during it: the
/// compensatory heart rate of a mobilisation hypotension (HR + half the SBP fall), the faster
/// breathing of a tachycardia run, the SpO2 a bradypnoea lowers. Alarms on those are true but not
/// actionable; before, they counted as false alarms on a rule unrelated to the event. An alarm
/// on a vital the event leaves alone (SpO2 during a tachycardia run) is still false.
#[test]
fn alarms_on_every_vital_a_spontaneous_event_moves_are_true_but_not_actionable() {
    let dir = tempfile::tempdir().unwrap();
    let two_min = 120.0 / 3600.0;
    let (t, a) = ward(
        dir.path(),
        "surgical",
        &[
            episode(
                "spontaneous",
                "mobilisation_hypotension",
                "E-0001",
                (2.0, Some(2.0 + two_min)),
                r#"{"duration_s":120,"cause":"mobilisation","nadir_sbp_mmhg":88}"#,
            ),
            episode(
                "spontaneous",
                "tachycardia_run",
                "E-0002",
                (4.0, Some(4.0 + two_min)),
                r#"{"duration_s":120,"cause":"pain","peak_hr_bpm":135}"#,
            ),
            episode(
                "spontaneous",
                "bradypnoea",
                "E-0003",
                (6.0, Some(6.0 + two_min)),
                r#"{"duration_s":120,"cause":"opioid","nadir_rr_bpm":7}"#,
            ),
        ],
        &[
            alert(2.01, "hr_high", "physiological"),
            alert(4.01, "rr_high", "physiological"),
            alert(4.02, "spo2_low", "physiological"),
            alert(6.01, "spo2_low", "physiological"),
        ],
    );
    let (_, s) = evaluate(dir.path(), &["--truth", &t, &a]);
    assert_eq!(s["not_actionable"], 3, "{s}");
    assert_eq!(s["false_physiological"], 1, "{s}");
    assert_eq!(s["false_unrelated"], 1, "{s}");
    assert_eq!(s["false_by_rule"]["spo2_low"], 1, "{s}");
}

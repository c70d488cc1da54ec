//! Scores alert events against cardio-sim's ground truth (docs/truth-format.md): for each scripted
//! deterioration, whether a relevant physiological alarm was raised between its onset and its end
//! (plus a grace time) and how long after onset; and how many physiological alarms matched no
//! scenario at all (false alarms), per patient-day. Several alert files (rule variants over the same
//! simulated stream) are scored side by side.
//!
//! The parts: `truth` reads the truth file and the alerts, `relevance` says which rule detects
//! which scenario (names checked against vitals-core's scenario list and rule table), `score`
//! scores one variant and `table` prints them side by side.

mod relevance;
mod score;
mod table;
mod truth;

use std::io::{BufReader, Write};
use std::path::PathBuf;

use anyhow::{Context, bail};

pub use relevance::{NEWS2_RULES, relevant, rules_for, scored};
pub use score::{Detection, Score, score};
pub use table::table;
pub use truth::{Episode, Truth, read_alerts};

use crate::cli::EvaluateArgs;
use crate::wording::duration;

/// `cardio-alert evaluate`: prints the table on stdout.
pub fn run(a: &EvaluateArgs) -> anyhow::Result<u8> {
    let truth = Truth::read(&a.truth)?;
    if truth.patients == 0 {
        bail!("truth file {} names no patient", a.truth.display());
    }
    let hours = a
        .hours
        .unwrap_or((truth.last_ts - truth.first_ts) as f64 / 3_600_000.0);
    let patient_days = truth.patients as f64 * hours / 24.0;
    let grace_ms = (a.grace * 1000.0).round() as i64;
    let mut inputs: Vec<(String, Option<PathBuf>)> = a
        .alerts
        .iter()
        .map(|s| match s.split_once('=') {
            Some((label, path)) => (label.to_owned(), Some(PathBuf::from(path))),
            None => (a.label.clone(), Some(PathBuf::from(s))),
        })
        .collect();
    if inputs.is_empty() {
        inputs.push((a.label.clone(), None));
    }
    let mut scores = Vec::new();
    for (label, path) in &inputs {
        let alerts = match path {
            Some(p) => read_alerts(BufReader::new(
                std::fs::File::open(p)
                    .with_context(|| format!("cannot open alerts file {}", p.display()))?,
            ))
            .with_context(|| format!("alerts file {}", p.display()))?,
            None => read_alerts(std::io::stdin().lock()).context("standard input")?,
        };
        let end_ms = truth.first_ts + (hours * 3_600_000.0) as i64;
        scores.push(score(
            &truth,
            &alerts,
            label,
            grace_ms,
            patient_days,
            end_ms,
        ));
    }
    let mut stdout = std::io::stdout().lock();
    writeln!(
        stdout,
        "{} patients, {hours:.1} h ({patient_days:.1} patient-days); a scenario counts as detected \
         by a relevant physiological alarm raised or escalated between its onset and {} after \
         its end; times are from onset. {} episodes that had not reached their peak when the run \
         ended are left out.\n",
        truth.patients,
        duration(grace_ms),
        scores.first().map_or(0, |s| s.censored)
    )?;
    stdout.write_all(table(&scores).as_bytes())?;
    for s in &scores {
        if s.missed.is_empty() {
            continue;
        }
        let mut sev: Vec<f64> = s.missed.iter().filter_map(|m| m.3).collect();
        sev.sort_by(f64::total_cmp);
        writeln!(
            stdout,
            "\n{}: {} missed (severity 0–1 as drawn: median {}):",
            s.label,
            s.missed.len(),
            sev.get(sev.len() / 2)
                .map_or("–".to_owned(), |v| format!("{v:.2}"))
        )?;
        for (name, patient, ts, severity) in &s.missed {
            writeln!(
                stdout,
                "  {name} {patient} from {ts} severity {}",
                severity.map_or("–".to_owned(), |v| format!("{v:.2}"))
            )?;
        }
    }
    if let Some(path) = &a.json {
        std::fs::write(path, serde_json::to_vec_pretty(&scores)?)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(vitals_core::status::EXIT_OK)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TRUTH: &str = r#"{"type":"truth","ts":"2026-11-28T00:00:00.000Z","event":"admit","category":"patient","name":"general","episode_id":"P-1","patient_id":"PT-1","device_id":"D-1","phase":null,"severity":null,"detail":null}
{"type":"truth","ts":"2026-11-28T01:00:00.000Z","event":"start","category":"scenario","name":"hypoxia","episode_id":"S-1","patient_id":"PT-1","device_id":"D-1","phase":"onset","severity":0.8,"detail":null}
{"type":"truth","ts":"2026-11-28T02:00:00.000Z","event":"end","category":"scenario","name":"hypoxia","episode_id":"S-1","patient_id":"PT-1","device_id":"D-1","phase":null,"severity":0.8,"detail":null}
{"type":"truth","ts":"2026-11-29T00:00:00.000Z","event":"start","category":"artifact","name":"motion","episode_id":"A-1","patient_id":"PT-1","device_id":"D-1","phase":null,"severity":null,"detail":null}
"#;

    fn alert(ts: &str, rule: &str, state: &str) -> String {
        format!(
            r#"{{"type":"alert","ts":"{ts}","patient_id":"PT-1","device_id":"D-1","alert_id":"x","rule":"{rule}","kind":"physiological","priority":"medium","state":"{state}","vital":null,"value":null,"limit":null,"news2":null,"message":"m"}}"#
        )
    }

    #[test]
    fn a_relevant_alarm_inside_the_window_detects_and_one_outside_is_false() {
        let truth = Truth::from_reader(TRUTH.as_bytes()).unwrap();
        assert_eq!(truth.patients, 1);
        let text = [
            alert("2026-11-28T00:30:00.000Z", "hr_high", "raised"),
            alert("2026-11-28T01:02:00.000Z", "hr_high", "raised"),
            alert("2026-11-28T01:03:00.000Z", "spo2_low", "raised"),
            alert("2026-11-28T01:30:00.000Z", "spo2_low", "cleared"),
        ]
        .join("\n");
        let alerts = read_alerts(text.as_bytes()).unwrap();
        let s = score(&truth, &alerts, "defaults", 300_000, 1.0, i64::MAX);
        assert_eq!(s.scenarios["hypoxia"].0, 1);
        assert_eq!(s.scenarios["hypoxia"].1, 1);
        assert_eq!(
            s.scenarios["hypoxia"].2,
            vec![180_000],
            "hr_high is not a hypoxia alarm"
        );
        assert_eq!(s.false_physiological, 1);
        assert_eq!(s.physiological_raised, 3);
        assert_eq!(s.false_by_profile["general"], (1, 1.0));
        let t = table(&[s]);
        assert!(
            t.contains("| hypoxia | 1 | 1/1 (100 %) | 3 min | 3 min |"),
            "{t}"
        );
        assert!(
            t.contains("| … per general patient-day (1.0 patient-days) | 1.00 |"),
            "{t}"
        );
    }
}

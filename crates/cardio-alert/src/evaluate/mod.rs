//! Scores alert events against cardio-sim's ground truth (docs/truth-format.md): for each scripted
//! deterioration, whether a relevant physiological alarm was raised in its window (onset to its
//! end, or its capped end, plus a grace time), whether before its peak, and how long after onset,
//! beside how often an equally long window holds such an alarm by chance; and every raised
//! physiological alarm in one of three classes (detection, true but not actionable, false) per
//! patient-day, with the technical alarms and the total burden. Several alert files (rule variants
//! over the same simulated stream) are scored side by side.
//!
//! The parts: `truth` reads the truth file and the alerts, `relevance` says which rule is about
//! which episode (names checked against vitals-core's scenario list and rule table), `score`
//! scores one variant, `chance` measures chance hits on a calm ward and `table` prints them.

mod chance;
mod relevance;
mod score;
mod table;
mod truth;

use std::io::{BufReader, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use vitals_core::Alert;

pub use chance::{CalmWard, add_chance};
pub use relevance::{NEWS2_RULES, SPONTANEOUS, relevant, relevant_spontaneous, rules_for, scored};
pub use score::{Chance, Detection, Score, Windows, score};
pub use table::table;
pub use truth::{Episode, Truth, read_alerts};

use crate::cli::EvaluateArgs;
use crate::wording::duration;

/// `LABEL=FILE` or `FILE` (labelled `default`).
fn labelled(s: &str, default: &str) -> (String, PathBuf) {
    match s.split_once('=') {
        Some((label, path)) => (label.to_owned(), PathBuf::from(path)),
        None => (default.to_owned(), PathBuf::from(s)),
    }
}

fn alerts_file(p: &Path) -> anyhow::Result<Vec<Alert>> {
    read_alerts(BufReader::new(std::fs::File::open(p).with_context(
        || format!("cannot open alerts file {}", p.display()),
    )?))
    .with_context(|| format!("alerts file {}", p.display()))
}

/// The end of the monitored time: `hours` after the truth's first event, or its last event.
fn monitored(truth: &Truth, hours: Option<f64>) -> (f64, i64) {
    let hours = hours.unwrap_or((truth.last_ts - truth.first_ts) as f64 / 3_600_000.0);
    (hours, truth.first_ts + (hours * 3_600_000.0) as i64)
}

/// The scenario and spontaneous-event names of the truth file that [`relevant`] and
/// [`relevant_spontaneous`] do not know (a simulator newer than this evaluation, or a misspelling).
fn unknown_names(truth: &Truth) -> Vec<&str> {
    let mut names: Vec<&str> = truth
        .scenarios
        .iter()
        .filter(|e| vitals_core::Scenario::from_name(&e.name).is_none())
        .chain(
            truth
                .spontaneous
                .iter()
                .filter(|e| !SPONTANEOUS.iter().any(|(n, _)| *n == e.name)),
        )
        .map(|e| e.name.as_str())
        .collect();
    names.sort_unstable();
    names.dedup();
    names
}

/// `cardio-alert evaluate`: prints the tables on stdout.
pub fn run(a: &EvaluateArgs) -> anyhow::Result<u8> {
    let truth = Truth::read(&a.truth)?;
    if truth.patients == 0 {
        bail!("truth file {} names no patient", a.truth.display());
    }
    for name in unknown_names(&truth) {
        eprintln!(
            "cardio-alert evaluate: truth file {}: episode name `{name}` is not one the evaluation \
             knows; only NEWS2 alarms count as about it",
            a.truth.display()
        );
    }
    let (hours, end_ms) = monitored(&truth, a.hours);
    let patient_days = truth.patients as f64 * hours / 24.0;
    let windows = Windows {
        grace_ms: (a.grace * 1000.0).round() as i64,
        artifact_grace_ms: (a.artifact_grace * 1000.0).round() as i64,
        untreated_cap_ms: (a.untreated_cap * 1000.0).round() as i64,
        end_ms,
    };
    let calm_truth = a.chance_truth.as_deref().map(Truth::read).transpose()?;
    let calm_windows = calm_truth.as_ref().map(|t| Windows {
        end_ms: monitored(t, a.hours).1,
        ..windows
    });
    let chance_files: Vec<(String, PathBuf)> =
        a.chance.iter().map(|s| labelled(s, &a.label)).collect();
    let mut inputs: Vec<(String, Option<PathBuf>)> = a
        .alerts
        .iter()
        .map(|s| labelled(s, &a.label))
        .map(|(l, p)| (l, Some(p)))
        .collect();
    if inputs.is_empty() {
        inputs.push((a.label.clone(), None));
    }
    for (label, _) in &chance_files {
        if !inputs.iter().any(|(l, _)| l == label) {
            bail!("--chance {label}=…: no ALERTS labelled {label}");
        }
    }
    let mut scores = Vec::new();
    for (label, path) in &inputs {
        let alerts = match path {
            Some(p) => alerts_file(p)?,
            None => read_alerts(std::io::stdin().lock()).context("standard input")?,
        };
        let mut s = score(&truth, &alerts, label, &windows, patient_days);
        match (&calm_truth, &calm_windows) {
            (Some(calm), Some(w)) => {
                let Some((_, p)) = chance_files.iter().find(|(l, _)| l == label) else {
                    bail!("no --chance {label}=FILE for the ALERTS labelled {label}");
                };
                let calm_alerts = alerts_file(p)?;
                add_chance(&mut s, &truth, &CalmWard::new(calm, &calm_alerts, w), w);
            }
            _ => add_chance(
                &mut s,
                &truth,
                &CalmWard::new(&truth, &alerts, &windows),
                &windows,
            ),
        }
        scores.push(s);
    }
    let mut stdout = std::io::stdout().lock();
    writeln!(
        stdout,
        "{} patients{}, {hours:.1} h ({patient_days:.1} patient-days). A scenario counts as \
         detected by a relevant physiological alarm raised or escalated between its onset and {} \
         after its end (an episode without an end: its planned end, or {} after its peak when \
         never treated); \"before the peak\" within its onset time; times are from onset. \"By \
         chance\": how often a window as long holds a relevant alarm on {}. {} episodes that had \
         not reached their peak when the run ended are left out.\n",
        truth.patients,
        match truth.units.as_slice() {
            [] => String::new(),
            units => format!(" (unit {})", units.join(", ")),
        },
        duration(windows.grace_ms),
        duration(windows.untreated_cap_ms),
        match &a.chance_truth {
            Some(p) => format!("the ward without scenarios of {}", p.display()),
            None => "this ward outside every scenario".to_owned(),
        },
        scores.first().map_or(0, |s| s.censored)
    )?;
    stdout.write_all(table(&scores).as_bytes())?;
    for s in &scores {
        if !s.after_peak.is_empty() {
            writeln!(
                stdout,
                "\n{}: {} detected only after the peak:",
                s.label,
                s.after_peak.len()
            )?;
        }
        for (name, patient, ts, severity, delay) in &s.after_peak {
            writeln!(
                stdout,
                "  {name} {patient} from {ts} severity {}: first relevant alarm after {}",
                severity.map_or("–".to_owned(), |v| format!("{v:.2}")),
                duration(*delay)
            )?;
        }
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
{"type":"truth","ts":"2026-11-28T01:00:00.000Z","event":"start","category":"scenario","name":"hypoxia","episode_id":"S-1","patient_id":"PT-1","device_id":"D-1","phase":"onset","severity":0.8,"detail":{"onset_s":240}}
{"type":"truth","ts":"2026-11-28T02:00:00.000Z","event":"end","category":"scenario","name":"hypoxia","episode_id":"S-1","patient_id":"PT-1","device_id":"D-1","phase":null,"severity":0.8,"detail":null}
{"type":"truth","ts":"2026-11-28T20:00:00.000Z","event":"start","category":"scenario","name":"sepsis","episode_id":"S-2","patient_id":"PT-1","device_id":"D-1","phase":"onset","severity":0.8,"detail":{"onset_s":3600,"treated_after_s":3600,"recover_s":21600}}
{"type":"truth","ts":"2026-11-29T00:00:00.000Z","event":"start","category":"artifact","name":"motion","episode_id":"A-1","patient_id":"PT-1","device_id":"D-1","phase":null,"severity":null,"detail":null}
"#;

    fn alert(ts: &str, rule: &str, state: &str) -> String {
        format!(
            r#"{{"type":"alert","ts":"{ts}","patient_id":"PT-1","device_id":"D-1","alert_id":"x","rule":"{rule}","kind":"physiological","priority":"medium","state":"{state}","vital":null,"value":null,"limit":null,"news2":null,"message":"m"}}"#
        )
    }

    fn windows() -> Windows {
        Windows {
            grace_ms: 300_000,
            artifact_grace_ms: 30_000,
            untreated_cap_ms: 7_200_000,
            // 2026-11-29T00:00:00Z: the day of TRUTH.
            end_ms: 1_795_824_000_000 + 86_400_000,
        }
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
            // In the sepsis's recovery, which the run cut short: the planned end (onset 1 h, 1 h
            // at the peak, 6 h back to baseline) keeps it the sepsis's.
            alert("2026-11-28T23:00:00.000Z", "hr_high", "raised"),
        ]
        .join("\n");
        let alerts = read_alerts(text.as_bytes()).unwrap();
        let w = windows();
        let mut s = score(&truth, &alerts, "defaults", &w, 1.0);
        let h = &s.scenarios["hypoxia"];
        assert_eq!((h.episodes, h.detected, h.before_peak), (1, 1, 1));
        assert_eq!(h.delays_ms, vec![180_000], "hr_high is not a hypoxia alarm");
        assert_eq!(s.scenarios["sepsis"].detected, 1);
        // 00:30 hr_high: nothing under way; 01:02 hr_high: during the hypoxia, unrelated to it.
        assert_eq!(s.false_physiological, 2);
        assert_eq!(s.false_unrelated, 1);
        assert_eq!(s.detection, 2);
        assert_eq!(s.physiological_raised, 4);
        assert_eq!(s.false_by_profile["general"], (2, 1.0));
        // The ward's own calm time (00:00–01:05 and 02:05–20:00) for the chance: one spo2_low,
        // at 01:03, inside the hypoxia's window, so no relevant alarm is ever there by chance.
        add_chance(&mut s, &truth, &CalmWard::new(&truth, &alerts, &w), &w);
        assert_eq!(s.scenarios["hypoxia"].chance.rate(), Some(0.0));
        let t = table(&[s]);
        assert!(
            t.contains("| hypoxia | 1 | 1/1 (100 %) | 0 % | 1/1 (100 %) | 0 % | 3 min | 3 min |"),
            "{t}"
        );
        assert!(
            t.contains("| …… false per general patient-day (1.0 patient-days) | 2.00 |"),
            "{t}"
        );
    }

    /// An alarm after the onset but found only after the peak is detected, not before the peak.
    #[test]
    fn a_detection_after_the_onset_time_is_not_before_the_peak() {
        let truth = Truth::from_reader(TRUTH.as_bytes()).unwrap();
        let alerts =
            read_alerts(alert("2026-11-28T01:10:00.000Z", "spo2_desat", "raised").as_bytes())
                .unwrap();
        let s = score(&truth, &alerts, "defaults", &windows(), 1.0);
        let h = &s.scenarios["hypoxia"];
        assert_eq!((h.detected, h.before_peak), (1, 0));
        assert_eq!(s.after_peak[0].4, 600_000);
        assert_eq!(s.missed.len(), 1, "the sepsis");
    }
}

//! Scores alert events against cardio-sim's ground truth (docs/truth-format.md): for each scripted
//! deterioration, whether a relevant physiological alarm was raised between its onset and its end
//! (plus a grace time) and how long after onset; and how many physiological alarms matched no
//! scenario at all (false alarms), per patient-day. Several alert files (rule variants over the same
//! simulated stream) are scored side by side.

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::Deserialize;
use vitals_core::{Alert, AlertKind, AlertState, Timestamp};

use crate::cli::EvaluateArgs;
use crate::wording::duration;

/// The alarms that count as detecting each scenario: the vitals its physiology moves (docs/spec.md §4),
/// and NEWS2, which aggregates them.
pub const RELEVANT: &[(&str, &[&str])] = &[
    (
        "sepsis",
        &[
            "hr_high",
            "hr_extreme_high",
            "rr_high",
            "temp_high",
            "temp_low",
            "sbp_low",
            "spo2_low",
            "spo2_desat",
        ],
    ),
    (
        "haemorrhage",
        &["hr_high", "hr_extreme_high", "sbp_low", "rr_high"],
    ),
    ("hypoxia", &["spo2_low", "spo2_desat", "rr_high"]),
    ("bradycardia", &["hr_low", "hr_extreme_low"]),
    ("af_rvr", &["hr_high", "hr_extreme_high"]),
    ("hypertensive_crisis", &["sbp_high"]),
    ("fever", &["temp_high", "hr_high"]),
];

const NEWS2_RULES: [&str; 3] = ["news2_single_3", "news2_urgent", "news2_emergency"];

/// Scenarios that are not a deterioration: not scored for sensitivity, but alarms during them are
/// not false either.
const NOT_SCORED: &[&str] = &["recovery"];

fn relevant(scenario: &str, rule: &str) -> bool {
    NEWS2_RULES.contains(&rule)
        || RELEVANT
            .iter()
            .find(|(s, _)| *s == scenario)
            .is_some_and(|(_, rules)| rules.contains(&rule))
}

#[derive(Debug, Deserialize)]
struct TruthLine {
    ts: Timestamp,
    event: String,
    category: String,
    name: String,
    episode_id: String,
    patient_id: String,
    #[serde(default)]
    severity: Option<f64>,
    #[serde(default)]
    detail: Option<serde_json::Value>,
}

/// One scripted deterioration (or artifact) episode.
#[derive(Debug, Clone)]
pub struct Episode {
    pub name: String,
    pub patient_id: String,
    pub start: i64,
    pub end: Option<i64>,
    pub severity: Option<f64>,
    /// Planned time from first sign to the peak (the truth's `detail.onset_s`).
    pub onset_ms: Option<i64>,
}

/// What the truth file says happened.
#[derive(Debug, Default)]
pub struct Truth {
    pub scenarios: Vec<Episode>,
    pub artifacts: Vec<Episode>,
    pub patients: usize,
    /// Each admitted patient's chronic profile (`general`, `athlete`, …: the admission's `name`).
    pub profiles: HashMap<String, String>,
    pub first_ts: i64,
    pub last_ts: i64,
}

impl Truth {
    pub fn read(path: &Path) -> anyhow::Result<Self> {
        let f = std::fs::File::open(path)
            .with_context(|| format!("cannot open truth file {}", path.display()))?;
        Self::from_reader(BufReader::new(f))
            .with_context(|| format!("truth file {}", path.display()))
    }

    pub fn from_reader<R: BufRead>(r: R) -> anyhow::Result<Self> {
        let mut t = Truth {
            first_ts: i64::MAX,
            last_ts: i64::MIN,
            ..Truth::default()
        };
        let mut open: HashMap<String, (bool, usize)> = HashMap::new();
        for (i, line) in r.lines().enumerate() {
            let line = line?;
            if line.trim().is_empty() {
                continue;
            }
            let l: TruthLine =
                serde_json::from_str(&line).with_context(|| format!("line {}", i + 1))?;
            let ts = l.ts.millis();
            t.first_ts = t.first_ts.min(ts);
            t.last_ts = t.last_ts.max(ts);
            let scenario = l.category == "scenario";
            match (l.event.as_str(), l.category.as_str()) {
                ("admit", _) => {
                    t.patients += 1;
                    t.profiles.insert(l.patient_id, l.name);
                }
                ("start", "scenario" | "artifact") => {
                    let list = if scenario {
                        &mut t.scenarios
                    } else {
                        &mut t.artifacts
                    };
                    open.insert(l.episode_id.clone(), (scenario, list.len()));
                    list.push(Episode {
                        name: l.name,
                        patient_id: l.patient_id,
                        start: ts,
                        end: None,
                        severity: l.severity,
                        onset_ms: l
                            .detail
                            .as_ref()
                            .and_then(|d| d.get("onset_s"))
                            .and_then(serde_json::Value::as_f64)
                            .map(|s| (s * 1000.0) as i64),
                    });
                }
                ("end", _) => {
                    if let Some((scenario, i)) = open.remove(&l.episode_id) {
                        let list = if scenario {
                            &mut t.scenarios
                        } else {
                            &mut t.artifacts
                        };
                        list[i].end = Some(ts);
                    }
                }
                _ => {}
            }
        }
        if t.patients == 0 {
            t.patients = t
                .scenarios
                .iter()
                .chain(&t.artifacts)
                .map(|e| e.patient_id.as_str())
                .collect::<std::collections::HashSet<_>>()
                .len();
        }
        Ok(t)
    }
}

/// Reads the alert records of a cardio-alert output (other lines are skipped unparsed).
pub fn read_alerts<R: BufRead>(mut r: R) -> anyhow::Result<Vec<Alert>> {
    let mut out = Vec::new();
    let mut buf = Vec::new();
    let mut n = 0u64;
    loop {
        buf.clear();
        if r.read_until(b'\n', &mut buf)? == 0 {
            break;
        }
        n += 1;
        if !buf.starts_with(b"{\"type\":\"alert\"") {
            continue;
        }
        let a: Alert =
            serde_json::from_slice(&buf).with_context(|| format!("alert on line {n}"))?;
        out.push(a);
    }
    Ok(out)
}

/// Episodes of one kind, how many were detected, and each detection's delay from onset (ms).
pub type Detection = (usize, usize, Vec<i64>);

/// The scores of one rule variant.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Score {
    pub label: String,
    /// Per scenario name.
    pub scenarios: BTreeMap<String, Detection>,
    pub physiological_raised: usize,
    pub false_physiological: usize,
    pub false_by_rule: BTreeMap<String, usize>,
    /// False physiological alarms and patient-days per chronic profile (when the truth names them):
    /// a baseline that sits at a default limit (an athlete's resting HR below 50) shows here.
    pub false_by_profile: BTreeMap<String, (usize, f64)>,
    /// Scenario episodes no relevant alarm caught: (scenario, patient, onset, severity).
    pub missed: Vec<(String, String, Timestamp, Option<f64>)>,
    /// Episodes left out because the run ended before they reached their peak.
    pub censored: usize,
    pub technical_raised: usize,
    /// Technical alarms raised while a device artifact was going on.
    pub technical_matching_artifact: usize,
    pub patient_days: f64,
}

/// Scores one set of alerts against the truth.
pub fn score(
    truth: &Truth,
    alerts: &[Alert],
    label: &str,
    grace_ms: i64,
    patient_days: f64,
    end_ms: i64,
) -> Score {
    let mut by_patient: HashMap<&str, Vec<&Alert>> = HashMap::new();
    for a in alerts {
        by_patient.entry(a.patient_id.as_str()).or_default().push(a);
    }
    let window = |e: &Episode| (e.start, e.end.unwrap_or(truth.last_ts) + grace_ms);
    let mut s = Score {
        label: label.to_owned(),
        patient_days,
        ..Score::default()
    };
    for profile in truth.profiles.values() {
        s.false_by_profile.entry(profile.clone()).or_default().1 +=
            patient_days / truth.patients as f64;
    }
    for e in &truth.scenarios {
        if NOT_SCORED.contains(&e.name.as_str()) {
            continue;
        }
        if e.end.is_none() && e.start + e.onset_ms.unwrap_or(0) > end_ms {
            // Still developing when the data ends: neither a hit nor a miss.
            s.censored += 1;
            continue;
        }
        let (from, to) = window(e);
        let first = by_patient
            .get(e.patient_id.as_str())
            .into_iter()
            .flatten()
            .filter(|a| {
                a.kind == AlertKind::Physiological
                    && a.state != AlertState::Cleared
                    && relevant(&e.name, &a.rule)
            })
            .map(|a| a.ts.millis())
            .filter(|&t| t >= from && t <= to)
            .min();
        let entry = s.scenarios.entry(e.name.clone()).or_default();
        entry.0 += 1;
        if let Some(t) = first {
            entry.1 += 1;
            entry.2.push(t - e.start);
        } else {
            s.missed.push((
                e.name.clone(),
                e.patient_id.clone(),
                Timestamp(e.start),
                e.severity,
            ));
        }
    }
    for a in alerts.iter().filter(|a| a.state == AlertState::Raised) {
        let t = a.ts.millis();
        let during = |list: &[Episode]| {
            list.iter().any(|e| {
                let (from, to) = window(e);
                e.patient_id == a.patient_id && t >= from && t <= to
            })
        };
        match a.kind {
            AlertKind::Physiological => {
                s.physiological_raised += 1;
                if !during(&truth.scenarios) {
                    s.false_physiological += 1;
                    *s.false_by_rule.entry(a.rule.clone()).or_default() += 1;
                    if let Some(p) = truth.profiles.get(&a.patient_id) {
                        s.false_by_profile.entry(p.clone()).or_default().0 += 1;
                    }
                }
            }
            AlertKind::Technical => {
                s.technical_raised += 1;
                if during(&truth.artifacts) {
                    s.technical_matching_artifact += 1;
                }
            }
        }
    }
    s
}

fn percentile(sorted: &[i64], p: f64) -> Option<i64> {
    if sorted.is_empty() {
        return None;
    }
    // Nearest rank.
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    Some(sorted[rank - 1])
}

/// The Markdown table of one or more variants side by side.
pub fn table(scores: &[Score]) -> String {
    let mut out = String::new();
    let mut names: Vec<&String> = scores.iter().flat_map(|s| s.scenarios.keys()).collect();
    names.sort();
    names.dedup();
    out.push_str("| scenario | episodes |");
    for s in scores {
        out.push_str(&format!(
            " {0}: detected | {0}: median | {0}: p90 |",
            s.label
        ));
    }
    out.push('\n');
    out.push_str("|---|---:|");
    for _ in scores {
        out.push_str("---:|---:|---:|");
    }
    out.push('\n');
    let row = |out: &mut String, name: &str, pick: &dyn Fn(&Score) -> Detection| {
        let n = scores.first().map_or(0, |s| pick(s).0);
        out.push_str(&format!("| {name} | {n} |"));
        for s in scores {
            let (n, d, mut times) = pick(s);
            times.sort_unstable();
            let pct = if n > 0 {
                100.0 * d as f64 / n as f64
            } else {
                0.0
            };
            let fmt = |v: Option<i64>| v.map_or("–".to_owned(), duration);
            out.push_str(&format!(
                " {d}/{n} ({pct:.0} %) | {} | {} |",
                fmt(percentile(&times, 0.5)),
                fmt(percentile(&times, 0.9))
            ));
        }
        out.push('\n');
    };
    for name in &names {
        row(&mut out, name, &|s: &Score| {
            s.scenarios.get(*name).cloned().unwrap_or_default()
        });
    }
    row(&mut out, "**all deteriorations**", &|s: &Score| {
        s.scenarios
            .values()
            .fold((0, 0, vec![]), |(n, d, mut t), (n2, d2, t2)| {
                t.extend(t2);
                (n + n2, d + d2, t)
            })
    });
    out.push('\n');
    out.push_str("| per patient-day |");
    for s in scores {
        out.push_str(&format!(" {} |", s.label));
    }
    out.push_str("\n|---|");
    for _ in scores {
        out.push_str("---:|");
    }
    out.push('\n');
    let line = |out: &mut String, what: &str, f: &dyn Fn(&Score) -> String| {
        out.push_str(&format!("| {what} |"));
        for s in scores {
            out.push_str(&format!(" {} |", f(s)));
        }
        out.push('\n');
    };
    let per_day = |n: usize, s: &Score| {
        if s.patient_days > 0.0 {
            format!("{:.2}", n as f64 / s.patient_days)
        } else {
            "–".to_owned()
        }
    };
    line(
        &mut out,
        "false physiological alarms (raised outside every scenario)",
        &|s| per_day(s.false_physiological, s),
    );
    let mut rules: Vec<&String> = scores.iter().flat_map(|s| s.false_by_rule.keys()).collect();
    rules.sort();
    rules.dedup();
    for rule in rules {
        line(&mut out, &format!("… of which {rule}"), &|s| {
            per_day(s.false_by_rule.get(rule).copied().unwrap_or(0), s)
        });
    }
    let mut profiles: Vec<(&String, f64)> = scores
        .iter()
        .flat_map(|s| s.false_by_profile.iter().map(|(p, (_, days))| (p, *days)))
        .collect();
    profiles.sort_by(|a, b| a.0.cmp(b.0));
    profiles.dedup_by(|a, b| a.0 == b.0);
    for (profile, days) in profiles {
        line(
            &mut out,
            &format!("… per {profile} patient-day ({days:.1} patient-days)"),
            &|s| match s.false_by_profile.get(profile) {
                Some(&(n, d)) if d > 0.0 => format!("{:.2}", n as f64 / d),
                _ => "–".to_owned(),
            },
        );
    }
    line(&mut out, "physiological alarms raised, all", &|s| {
        per_day(s.physiological_raised, s)
    });
    line(&mut out, "technical alarms raised", &|s| {
        per_day(s.technical_raised, s)
    });
    line(
        &mut out,
        "technical alarms during a device artifact",
        &|s| per_day(s.technical_matching_artifact, s),
    );
    out
}

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

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let v: Vec<i64> = (1..=10).collect();
        assert_eq!(percentile(&v, 0.5), Some(5));
        assert_eq!(percentile(&v, 0.9), Some(9));
        assert_eq!(percentile(&[], 0.5), None);
    }
}

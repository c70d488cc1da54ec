//! Scoring one set of alerts against the truth: which scripted deteriorations a relevant
//! physiological alarm caught and how soon, and which alarms matched no scenario (false alarms).

use std::collections::{BTreeMap, HashMap};

use vitals_core::{Alert, AlertKind, AlertState, Scenario, Timestamp};

use super::relevance::{relevant, scored};
use super::truth::{Episode, Truth};

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
        if Scenario::from_name(&e.name).is_some_and(|s| !scored(s)) {
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

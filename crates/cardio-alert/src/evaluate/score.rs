//! Scoring one set of alerts against the truth: which scripted deteriorations a relevant
//! physiological alarm caught and how soon, and which class each raised physiological alarm is in:
//! a detection (relevant to a deterioration under way), true but not actionable (relevant to a
//! labelled spontaneous event or a recovery), or false (anything else: an artifact, nothing real,
//! or a rule unrelated to every episode going on).

use std::collections::{BTreeMap, HashMap};

use vitals_core::{Alert, AlertKind, AlertState, Scenario, Timestamp};

use super::relevance::{relevant, relevant_spontaneous, scored};
use super::truth::{Episode, Truth};

/// How long each episode counts, the same for every variant scored in one run.
#[derive(Debug, Clone, Copy)]
pub struct Windows {
    /// An alarm raised this long after a scenario or spontaneous event ended still belongs to it.
    pub grace_ms: i64,
    /// An alarm raised this long after a device artifact ended is still put down to it (an
    /// artifact changes the readings only while it lasts).
    pub artifact_grace_ms: i64,
    /// An episode without an `end` line whose end nothing plans (a scenario never treated) stops
    /// counting this long after its peak: see [`Episode::capped_end`].
    pub untreated_cap_ms: i64,
    /// The end of the monitored time (the evaluation's `--hours`).
    pub end_ms: i64,
}

impl Windows {
    /// The windows of device artifacts: [`Windows::of`] with the artifact grace.
    fn for_artifacts(&self) -> Windows {
        Windows {
            grace_ms: self.artifact_grace_ms,
            ..*self
        }
    }

    /// The time an alarm must fall in to belong to `e`: from its start to its (capped) end plus
    /// the grace.
    pub fn of(&self, e: &Episode) -> (i64, i64) {
        (
            e.start,
            e.capped_end(self.untreated_cap_ms)
                .saturating_add(self.grace_ms),
        )
    }

    /// The length of `e`'s window within the monitored time.
    pub fn length(&self, e: &Episode) -> i64 {
        let (from, to) = self.of(e);
        to.min(self.end_ms) - from
    }
}

/// The chance that a window of some length on a ward without scenarios holds a relevant alarm,
/// summed over the episodes it was measured for (see `chance.rs`).
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct Chance {
    pub sum: f64,
    pub episodes: usize,
}

impl Chance {
    pub fn add(&mut self, p: Option<f64>) {
        if let Some(p) = p {
            self.sum += p;
            self.episodes += 1;
        }
    }

    /// The mean chance over the episodes measured: the share of them a ward without the
    /// deterioration would have "detected" anyway.
    pub fn rate(&self) -> Option<f64> {
        (self.episodes > 0).then(|| self.sum / self.episodes as f64)
    }

    pub fn merge(&mut self, o: &Chance) {
        self.sum += o.sum;
        self.episodes += o.episodes;
    }
}

/// The episodes of one scenario name and how they were detected.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Detection {
    pub episodes: usize,
    /// Detected by a relevant alarm in the episode's window (onset to capped end plus grace).
    pub detected: usize,
    /// Detected before the peak: within the clinical window, the scenario's `onset_s`.
    pub before_peak: usize,
    /// Each detection's delay from onset (ms).
    pub delays_ms: Vec<i64>,
    /// Chance hits of windows as long as each episode's window, and as long as its clinical window.
    pub chance: Chance,
    pub chance_before_peak: Chance,
}

impl Detection {
    pub fn merge(&mut self, o: &Detection) {
        self.episodes += o.episodes;
        self.detected += o.detected;
        self.before_peak += o.before_peak;
        self.delays_ms.extend(&o.delays_ms);
        self.chance.merge(&o.chance);
        self.chance_before_peak.merge(&o.chance_before_peak);
    }
}

/// The scores of one rule variant.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Score {
    pub label: String,
    /// Per scenario name.
    pub scenarios: BTreeMap<String, Detection>,
    /// Every physiological alarm raised (escalations and clears are not new alarms), in three
    /// classes: `detection + not_actionable + false_physiological == physiological_raised`.
    pub physiological_raised: usize,
    /// Raised on a rule relevant to a scripted deterioration under way.
    pub detection: usize,
    /// Raised on a rule relevant to a labelled spontaneous event or a recovery under way.
    pub not_actionable: usize,
    /// Raised with nothing real under way that its rule is about.
    pub false_physiological: usize,
    /// False alarms raised while a device artifact was going on.
    pub false_during_artifact: usize,
    /// False alarms raised during a scenario or spontaneous event, on a rule unrelated to it.
    pub false_unrelated: usize,
    pub false_by_rule: BTreeMap<String, usize>,
    /// False physiological alarms and patient-days per chronic profile (when the truth names them):
    /// a baseline that sits at a default limit (an athlete's resting HR below 50) shows here.
    pub false_by_profile: BTreeMap<String, (usize, f64)>,
    /// Scenario episodes no relevant alarm caught: (scenario, patient, onset, severity).
    pub missed: Vec<(String, String, Timestamp, Option<f64>)>,
    /// Scenario episodes caught only after their peak: (scenario, patient, onset, severity,
    /// time from onset to the first relevant alarm in ms).
    pub after_peak: Vec<(String, String, Timestamp, Option<f64>, i64)>,
    /// Episodes left out because the run ended before they reached their peak.
    pub censored: usize,
    pub technical_raised: usize,
    /// Technical alarms raised while a device artifact was going on.
    pub technical_matching_artifact: usize,
    pub patient_days: f64,
}

/// Whether a truth episode named `name` is a deterioration scored for sensitivity (a name
/// vitals-core does not know is scored, so that it shows up rather than vanish).
fn is_scored(name: &str) -> bool {
    Scenario::from_name(name).is_none_or(scored)
}

/// Whether `e` is still developing when the data ends: neither a hit nor a miss.
pub fn censored(e: &Episode, end_ms: i64) -> bool {
    e.end.is_none() && e.start + e.onset_ms.unwrap_or(0) > end_ms
}

/// The relevant physiological alarm times (raised or escalated) of each patient for one scenario,
/// sorted.
pub fn relevant_times<'a>(
    alerts: impl IntoIterator<Item = &'a Alert>,
    scenario: &str,
) -> HashMap<&'a str, Vec<i64>> {
    let mut out: HashMap<&str, Vec<i64>> = HashMap::new();
    for a in alerts {
        if a.kind == AlertKind::Physiological
            && a.state != AlertState::Cleared
            && relevant(scenario, &a.rule)
        {
            out.entry(a.patient_id.as_str())
                .or_default()
                .push(a.ts.millis());
        }
    }
    for v in out.values_mut() {
        v.sort_unstable();
    }
    out
}

/// Episodes by patient, so that finding those under way at an alarm does not scan the ward's.
struct ByPatient<'e>(HashMap<&'e str, Vec<&'e Episode>>);

impl<'e> ByPatient<'e> {
    fn new(list: &'e [Episode]) -> Self {
        let mut m: HashMap<&str, Vec<&Episode>> = HashMap::new();
        for e in list {
            m.entry(e.patient_id.as_str()).or_default().push(e);
        }
        ByPatient(m)
    }

    /// The episodes whose window holds `patient`'s time `t`.
    fn during(&self, w: &Windows, patient: &str, t: i64) -> Vec<&'e Episode> {
        self.0
            .get(patient)
            .into_iter()
            .flatten()
            .copied()
            .filter(|e| {
                let (from, to) = w.of(e);
                t >= from && t <= to
            })
            .collect()
    }
}

/// Scores one set of alerts against the truth.
pub fn score(
    truth: &Truth,
    alerts: &[Alert],
    label: &str,
    w: &Windows,
    patient_days: f64,
) -> Score {
    let mut s = Score {
        label: label.to_owned(),
        patient_days,
        ..Score::default()
    };
    for profile in truth.profiles.values() {
        s.false_by_profile.entry(profile.clone()).or_default().1 +=
            patient_days / truth.patients as f64;
    }
    let mut times: HashMap<&str, HashMap<&str, Vec<i64>>> = HashMap::new();
    for e in &truth.scenarios {
        if !is_scored(&e.name) {
            continue;
        }
        if censored(e, w.end_ms) {
            s.censored += 1;
            continue;
        }
        let (from, to) = w.of(e);
        let first = times
            .entry(e.name.as_str())
            .or_insert_with(|| relevant_times(alerts, &e.name))
            .get(e.patient_id.as_str())
            .and_then(|t| t.iter().find(|&&t| t >= from && t <= to));
        let entry = s.scenarios.entry(e.name.clone()).or_default();
        entry.episodes += 1;
        if let Some(&t) = first {
            entry.detected += 1;
            entry.delays_ms.push(t - e.start);
            if e.onset_ms.is_none_or(|onset| t - e.start <= onset) {
                entry.before_peak += 1;
            } else {
                s.after_peak.push((
                    e.name.clone(),
                    e.patient_id.clone(),
                    Timestamp(e.start),
                    e.severity,
                    t - e.start,
                ));
            }
        } else {
            s.missed.push((
                e.name.clone(),
                e.patient_id.clone(),
                Timestamp(e.start),
                e.severity,
            ));
        }
    }
    let (scenarios, spontaneous, artifacts) = (
        ByPatient::new(&truth.scenarios),
        ByPatient::new(&truth.spontaneous),
        ByPatient::new(&truth.artifacts),
    );
    let artifact_windows = w.for_artifacts();
    for a in alerts.iter().filter(|a| a.state == AlertState::Raised) {
        let t = a.ts.millis();
        let artifact = !artifacts
            .during(&artifact_windows, &a.patient_id, t)
            .is_empty();
        match a.kind {
            AlertKind::Physiological => {
                s.physiological_raised += 1;
                let scenarios = scenarios.during(w, &a.patient_id, t);
                let spontaneous = spontaneous.during(w, &a.patient_id, t);
                let about = |e: &&Episode| relevant(&e.name, &a.rule);
                if scenarios.iter().filter(|e| is_scored(&e.name)).any(about) {
                    s.detection += 1;
                } else if scenarios.iter().any(about)
                    || spontaneous
                        .iter()
                        .any(|e| relevant_spontaneous(&e.name, &a.rule))
                {
                    s.not_actionable += 1;
                } else {
                    s.false_physiological += 1;
                    s.false_during_artifact += usize::from(artifact);
                    s.false_unrelated +=
                        usize::from(!scenarios.is_empty() || !spontaneous.is_empty());
                    *s.false_by_rule.entry(a.rule.clone()).or_default() += 1;
                    if let Some(p) = truth.profiles.get(&a.patient_id) {
                        s.false_by_profile.entry(p.clone()).or_default().0 += 1;
                    }
                }
            }
            AlertKind::Technical => {
                s.technical_raised += 1;
                s.technical_matching_artifact += usize::from(artifact);
            }
        }
    }
    s
}

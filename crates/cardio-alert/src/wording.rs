//! The words of an alert: its id, and the message a clinician reads for each rule's raise,
//! escalation and clearing (docs/spec.md §3.3). Kept apart from the engine so that rewording an
//! alert never touches when it fires, and the engine's decisions never hide between format strings.

use vitals_core::news2::Score;
use vitals_core::plausibility::{self, Implausible};
use vitals_core::record::AlertTag;
use vitals_core::rules::Trigger;
use vitals_core::{Alert, AlertState, Priority, Timestamp, Vital, Vitals};

use crate::alarm::Transition;
use crate::rules_file::CompiledRule;
use crate::sat_seconds::{SatIntegral, SatSettings};

/// `PT-1003/spo2_low/2026-11-28T05:40:01.000Z`: the patient, the rule and the event time of the
/// raise, so the same stream always gives the same id and no two episodes share one.
pub fn alert_id(patient_id: &str, rule: &str, raised_at: i64) -> String {
    let mut s = String::with_capacity(patient_id.len() + rule.len() + 26);
    s.push_str(patient_id);
    s.push('/');
    s.push_str(rule);
    s.push('/');
    s.push_str(&Timestamp(raised_at).to_rfc3339());
    s
}

fn base_alert(
    rule: &CompiledRule,
    patient_id: &str,
    device_id: &str,
    now: i64,
    raised_at: i64,
) -> Alert {
    Alert {
        record_type: AlertTag,
        ts: Timestamp(now),
        patient_id: patient_id.to_owned(),
        device_id: device_id.to_owned(),
        alert_id: alert_id(patient_id, &rule.rule.name, raised_at),
        rule: rule.rule.name.clone(),
        kind: rule.rule.kind,
        priority: rule.rule.priority,
        state: AlertState::Raised,
        vital: match rule.rule.trigger {
            Trigger::Threshold { vital, .. } => Some(vital),
            Trigger::SatSeconds { .. } => Some(Vital::Spo2),
            _ => None,
        },
        value: None,
        limit: None,
        news2: None,
        message: String::new(),
        settings_id: None,
    }
}

/// The `device_silent` raise the sweep makes: no reading has arrived for `silent_ms` of stream time.
pub(crate) fn silence(
    rule: &CompiledRule,
    patient_id: &str,
    device_id: &str,
    now: i64,
    raised_at: i64,
    silent_ms: i64,
) -> Alert {
    let mut alert = base_alert(rule, patient_id, device_id, now, raised_at);
    alert.state = AlertState::Raised;
    alert.message = format!(
        "no reading from {device_id} for {} of stream time",
        duration(silent_ms)
    );
    alert
}

/// Everything needed to word one alert event.
pub(crate) struct Wording<'a> {
    pub rule: &'a CompiledRule,
    pub v: &'a Vitals,
    pub value: Option<f64>,
    /// The patient's SatSeconds integral, for a `sat_seconds` rule.
    pub sat: Option<&'a SatIntegral>,
    pub score: Option<&'a Score>,
    pub faults: &'a [Implausible],
    /// Stream time since the patient's previous reading.
    pub silent_ms: i64,
    /// The patient's clock at this reading (durations are measured on it).
    pub clock: i64,
    /// How far the device's clock has stepped from the patient's clock (+: ahead).
    pub skew_ms: i64,
    /// The `settings` record the rule's limit comes from (none: built-in or rules file).
    pub settings_id: Option<&'a str>,
    /// The alarm ends because its limit changed and the reading no longer meets it.
    pub limit_changed: bool,
}

/// The name of each NEWS2 parameter, in the order of [`Score::parameters`].
const PARAMETERS: [&str; 7] = [
    "respiration rate",
    "SpO2",
    "air or oxygen",
    "systolic BP",
    "pulse",
    "consciousness",
    "temperature",
];

impl Wording<'_> {
    /// The alert event for transition `tr` of an alarm raised at `raised_at` (patient clock).
    pub fn alert(&self, tr: Transition, raised_at: i64, old_priority: Option<Priority>) -> Alert {
        let rule = &self.rule.rule;
        let now = self.v.ts.millis();
        let mut a = base_alert(
            self.rule,
            &self.v.patient_id,
            &self.v.device_id,
            now,
            raised_at,
        );
        a.value = self.value;
        a.news2 = self.score.map(|s| s.total());
        a.settings_id = self.settings_id.map(str::to_owned);
        let (state, priority) = match tr {
            Transition::Raised { priority, .. } => (AlertState::Raised, priority),
            Transition::Escalated { to, .. } => (AlertState::Escalated, to),
            Transition::Cleared { .. } => {
                (AlertState::Cleared, old_priority.unwrap_or(rule.priority))
            }
        };
        a.state = state;
        a.priority = priority;
        let x = self.value.unwrap_or(f64::NAN);
        match &rule.trigger {
            Trigger::Threshold { vital, when, clear } => {
                let vital = *vital;
                let (op, limit) = match tr {
                    Transition::Raised { .. } => (when.op, when.limit),
                    Transition::Escalated { to, .. } => rule
                        .escalate
                        .iter()
                        .find(|e| e.priority == to && e.when.holds(x))
                        .map_or((when.op, when.limit), |e| (e.when.op, e.when.limit)),
                    Transition::Cleared { .. } if self.limit_changed => (when.op, when.limit),
                    Transition::Cleared { .. } => (clear.op, clear.limit),
                };
                a.limit = Some(limit);
                if self.limit_changed {
                    a.message = format!(
                        "{} {}{} no longer {} the new limit of {}{}: cleared after {}",
                        vital.label(),
                        number(vital, x),
                        vital.unit(),
                        op.words(),
                        number(vital, limit),
                        vital.unit(),
                        duration(self.clock - raised_at)
                    );
                    return a;
                }
                let mut m = format!(
                    "{} {}{} {} {}{}",
                    vital.label(),
                    number(vital, x),
                    vital.unit(),
                    op.words(),
                    number(vital, limit),
                    vital.unit()
                );
                match tr {
                    Transition::Raised { held_ms, .. } if held_ms > 0 => {
                        m.push_str(&format!(" for {}", duration(held_ms)));
                    }
                    Transition::Raised { .. } => {}
                    Transition::Escalated { from, to } => m.push_str(&format!(
                        " for {}: priority up from {from} to {to}",
                        duration(self.clock - raised_at)
                    )),
                    Transition::Cleared { active_ms, held_ms } => {
                        if held_ms > 0 {
                            m.push_str(&format!(" for {}", duration(held_ms)));
                        }
                        m.push_str(&format!(": cleared after {}", duration(active_ms)));
                    }
                }
                a.message = m;
            }
            Trigger::SatSeconds { limit, .. } => {
                a.limit = Some(*limit);
                let spo2 = format!("SpO2 {}%", number(Vital::Spo2, x));
                let limit = number(Vital::Spo2, *limit);
                a.message = match (tr, self.sat, SatSettings::of(&rule.trigger)) {
                    (Transition::Cleared { active_ms, .. }, ..) => {
                        format!(
                            "{spo2} back at or above {limit}%: cleared after {}",
                            duration(active_ms)
                        )
                    }
                    (_, Some(sat), Some(s)) if sat.sum < s.sat_seconds => format!(
                        "{spo2} below {limit}%: {} falls below it within {} (SatSeconds safety net)",
                        sat.falls(),
                        duration(s.window_ms)
                    ),
                    (_, Some(sat), Some(s)) => format!(
                        "{spo2} below {limit}%: {:.0} SatSeconds reach the setting of {}",
                        sat.sum, s.sat_seconds
                    ),
                    _ => format!("{spo2} below {limit}%: SatSeconds"),
                };
            }
            Trigger::News2SingleThree => {
                a.limit = Some(3.0);
                a.message = match (tr, self.score) {
                    (Transition::Cleared { active_ms, .. }, _) => format!(
                        "no NEWS2 parameter scores 3 any more: cleared after {}",
                        duration(active_ms)
                    ),
                    (_, Some(s)) => {
                        let which: Vec<_> = s
                            .parameters()
                            .iter()
                            .zip(PARAMETERS)
                            .filter(|(p, _)| **p == 3)
                            .map(|(_, n)| n)
                            .collect();
                        format!(
                            "NEWS2 scores 3 in {} (aggregate {}): low-medium risk",
                            which.join(", "),
                            s.total()
                        )
                    }
                    (_, None) => "a NEWS2 parameter scores 3".to_owned(),
                };
            }
            Trigger::News2Range { min, max } => {
                a.limit = Some(f64::from(*min));
                let t = self.score.map_or(0, |s| s.total());
                let band = match max {
                    Some(m) => format!("in {min}–{m}"),
                    None => format!("at or above {min}"),
                };
                a.message = match tr {
                    Transition::Cleared { active_ms, .. } => format!(
                        "NEWS2 {t} below {min}: cleared after {}",
                        duration(active_ms)
                    ),
                    _ => format!(
                        "NEWS2 {t} {band}: {} response",
                        if rule.priority >= Priority::High {
                            "emergency"
                        } else {
                            "urgent"
                        }
                    ),
                };
            }
            Trigger::DeviceSilent { .. } => {
                a.message = format!(
                    "readings from {} resumed after {} without one",
                    self.v.device_id,
                    duration(self.silent_ms)
                );
            }
            Trigger::ClockSkew => {
                a.message = match tr {
                    Transition::Cleared { active_ms, .. } => format!(
                        "clock of {} agrees with the stream again: cleared after {}",
                        self.v.device_id,
                        duration(active_ms)
                    ),
                    _ => format!(
                        "clock of {} is {} {} the time the stream has seen pass: its readings are \
                         ordered by seq and timed by the stream until it is set right",
                        self.v.device_id,
                        duration(self.skew_ms.abs()),
                        if self.skew_ms > 0 {
                            "ahead of"
                        } else {
                            "behind"
                        }
                    ),
                };
            }
            Trigger::SensorFault => {
                if let Some(f) = self.faults.first() {
                    a.vital = Some(f.vital);
                    a.limit = Some(f.limit);
                }
                a.message = match tr {
                    Transition::Cleared { active_ms, .. } => format!(
                        "plausible readings again: cleared after {}",
                        duration(active_ms)
                    ),
                    _ => {
                        let all: Vec<_> = self.faults.iter().map(|f| f.describe()).collect();
                        format!("{}: sensor fault, not scored", all.join("; "))
                    }
                };
            }
        }
        a
    }
}

/// A value as a clinician writes it: temperature with one decimal, the rest as integers, and
/// absurd magnitudes (a rules file's limit of 1e300) in exponent form, never 300 digits.
fn number(vital: Vital, x: f64) -> String {
    if vital == Vital::Temperature && x.abs() < 1e9 {
        format!("{x:.1}")
    } else {
        plausibility::fmt_num(x)
    }
}

/// "15 s", "2 min 5 s", "1 h 3 min".
pub fn duration(ms: i64) -> String {
    let s = ms.max(0).saturating_add(500) / 1000;
    if s < 60 {
        format!("{s} s")
    } else if s < 3600 {
        if s % 60 == 0 {
            format!("{} min", s / 60)
        } else {
            format!("{} min {} s", s / 60, s % 60)
        }
    } else {
        format!("{} h {} min", s / 3600, (s % 3600) / 60)
    }
}

//! The alarm rule table (docs/spec.md §3.2) as data. cardio-alert's state machine interprets it; users
//! replace or extend it with a rules file, which deserialises into the same types.

use serde::{Deserialize, Serialize};

use crate::record::{AlertKind, Priority, Vital};

/// A comparison of a reading against a limit.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Condition {
    pub op: Op,
    pub limit: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Op {
    #[serde(rename = "<")]
    Lt,
    #[serde(rename = "<=")]
    Le,
    #[serde(rename = ">")]
    Gt,
    #[serde(rename = ">=")]
    Ge,
}

impl Op {
    pub fn symbol(self) -> &'static str {
        match self {
            Op::Lt => "<",
            Op::Le => "≤",
            Op::Gt => ">",
            Op::Ge => "≥",
        }
    }

    /// Words for messages: "SpO2 86% below 90%".
    pub fn words(self) -> &'static str {
        match self {
            Op::Lt => "below",
            Op::Le => "at or below",
            Op::Gt => "above",
            Op::Ge => "at or above",
        }
    }
}

impl Condition {
    pub const fn new(op: Op, limit: f64) -> Self {
        Condition { op, limit }
    }

    pub fn holds(&self, value: f64) -> bool {
        match self.op {
            Op::Lt => value < self.limit,
            Op::Le => value <= self.limit,
            Op::Gt => value > self.limit,
            Op::Ge => value >= self.limit,
        }
    }
}

/// What starts an alarm condition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "trigger", rename_all = "snake_case")]
pub enum Trigger {
    /// One vital crosses a limit; clears when `clear` holds (for `clear_hold_s`).
    Threshold {
        vital: Vital,
        when: Condition,
        clear: Condition,
    },
    /// A score of 3 in any single NEWS2 parameter; clears when none is left.
    News2SingleThree,
    /// NEWS2 aggregate within `min..=max` (`max` absent: no upper end); clears below `min`.
    News2Range { min: u8, max: Option<u8> },
    /// No reading from the device for `after_s` seconds of stream (event) time; clears on the next.
    DeviceSilent { after_s: f64 },
    /// An implausible value (docs/spec.md §3.3); clears on the next plausible reading.
    SensorFault,
    /// The device's clock stepped (jumped ahead, or was set back) by more than the engine tolerates
    /// between two of its readings: its `ts` no longer agree with the time the stream has seen
    /// pass. Clears when its clock agrees again.
    ClockSkew,
    /// Nellcor SatSeconds on SpO2 (docs/spec.md §3.2, an option, not a default): while SpO2 is below
    /// `limit`, each reading adds (`limit` − SpO2) × the seconds since the previous SpO2 reading;
    /// the alarm sounds when the sum reaches `sat_seconds` (monitors offer 10, 25, 50 and 100), or
    /// when SpO2 has fallen below `limit` `excursions` times within `excursion_window_s` (the
    /// safety net: Nellcor 3 in 60 s). The sum starts again from 0, and the alarm clears, when
    /// SpO2 is back at or above `limit`.
    SatSeconds {
        limit: f64,
        sat_seconds: f64,
        #[serde(default = "default_excursions")]
        excursions: u32,
        #[serde(default = "default_excursion_window_s")]
        excursion_window_s: f64,
    },
}

/// The SatSeconds safety net of Nellcor's oximeters: 3 falls below the limit …
pub const SAT_SECONDS_EXCURSIONS: u32 = 3;
/// … within 60 s.
pub const SAT_SECONDS_EXCURSION_WINDOW_S: f64 = 60.0;

fn default_excursions() -> u32 {
    SAT_SECONDS_EXCURSIONS
}

fn default_excursion_window_s() -> f64 {
    SAT_SECONDS_EXCURSION_WINDOW_S
}

/// Raise the priority while the condition worsens past a further limit, or persists.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Escalation {
    pub when: Condition,
    pub priority: Priority,
    /// The escalation applies only once the alarm has been raised this long (event time): with
    /// `when` equal to the rule's own condition this escalates an alarm that persists. 0: at once.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub after_s: f64,
}

fn is_zero(v: &f64) -> bool {
    *v == 0.0
}

/// One alarm rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rule {
    /// Public name used in alert records (`spo2_low`, …).
    pub name: String,
    pub kind: AlertKind,
    pub priority: Priority,
    #[serde(flatten)]
    pub trigger: Trigger,
    /// Condition delay: the condition must hold this long (event time) before the alarm sounds.
    /// 0 raises on the first reading that meets it.
    #[serde(default)]
    pub delay_s: f64,
    /// The clearing condition must hold this long before the alarm clears.
    #[serde(default)]
    pub clear_hold_s: f64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub escalate: Vec<Escalation>,
    /// Latching: once raised, the alarm stays raised at least this long after the last reading
    /// that met its condition, even when the clearing condition holds sooner (IEC 60601-1-8 latching
    /// alarm signals, without an operator to acknowledge them). 0: not latching.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub latch_s: f64,
}

fn threshold(
    name: &str,
    vital: Vital,
    when: Condition,
    priority: Priority,
    delay_s: f64,
    clear: Condition,
    clear_hold_s: f64,
) -> Rule {
    Rule {
        name: name.to_owned(),
        kind: if vital == Vital::Battery {
            AlertKind::Technical
        } else {
            AlertKind::Physiological
        },
        priority,
        trigger: Trigger::Threshold { vital, when, clear },
        delay_s,
        clear_hold_s,
        escalate: Vec::new(),
        latch_s: 0.0,
    }
}

fn rule(name: &str, kind: AlertKind, priority: Priority, trigger: Trigger) -> Rule {
    Rule {
        name: name.to_owned(),
        kind,
        priority,
        trigger,
        delay_s: 0.0,
        clear_hold_s: 0.0,
        escalate: Vec::new(),
        latch_s: 0.0,
    }
}

/// How long a high-priority threshold alarm stays raised after the last reading that met its
/// condition. IEC 60601-1-8 latches high-priority alarm signals until an operator acknowledges them;
/// a stream has no operator, so the condition's absence for this long stands in for the
/// acknowledgement. Without it a value hovering at an extreme limit announced a new episode every
/// few seconds (hr_extreme_high during AF: median 14 s between a clear and the next raise);
/// `bench/alert-eval.sh` with latches of 60, 120 and 300 s cut the raised physiological alarms from
/// 11.1 to 8.4, 8.1 and 7.6 per patient-day, and no median or p90 detection time moved. 2 min
/// keeps the clear event timely enough to tell the station that the patient has recovered.
pub const HIGH_PRIORITY_LATCH_S: f64 = 120.0;

/// The defaults of docs/spec.md §3.2, row for row, and the technical alarm `clock_skew` (a device whose
/// clock stepped); high-priority physiological threshold rules latch for [`HIGH_PRIORITY_LATCH_S`]
/// (docs/spec.md §3.2 gives no latch time).
#[rustfmt::skip]
pub fn default_rules() -> Vec<Rule> {
    use AlertKind::*;
    use Op::*;
    use Priority::*;
    use Vital::*;
    let c = Condition::new;
    let mut rules = vec![
        //        name               vital            condition      priority delay  clears when    hold s
        threshold("spo2_low",        Spo2,            c(Lt, 90.0),   Medium,  15.0,  c(Ge, 92.0),   10.0),
        threshold("spo2_desat",      Spo2,            c(Lt, 85.0),   High,     0.0,  c(Ge, 90.0),    0.0),
        threshold("hr_high",         HeartRate,       c(Gt, 120.0),  Medium,  10.0,  c(Le, 115.0),  10.0),
        threshold("hr_extreme_high", HeartRate,       c(Ge, 150.0),  High,     5.0,  c(Lt, 140.0),   0.0),
        threshold("hr_low",          HeartRate,       c(Lt, 50.0),   Medium,  10.0,  c(Ge, 53.0),   10.0),
        threshold("hr_extreme_low",  HeartRate,       c(Le, 40.0),   High,     5.0,  c(Gt, 45.0),    0.0),
        threshold("rr_high",         RespiratoryRate, c(Ge, 25.0),   High,    15.0,  c(Le, 22.0),    0.0),
        threshold("rr_low",          RespiratoryRate, c(Le, 8.0),    High,    15.0,  c(Ge, 10.0),    0.0),
        threshold("sbp_low",         Systolic,        c(Le, 90.0),   High,     0.0,  c(Ge, 95.0),    0.0),
        threshold("sbp_high",        Systolic,        c(Ge, 180.0),  Medium,   0.0,  c(Le, 170.0),   0.0),
        threshold("temp_high",       Temperature,     c(Ge, 38.1),   Low,     60.0,  c(Le, 37.9),    0.0),
        threshold("temp_low",        Temperature,     c(Le, 35.0),   Medium,  60.0,  c(Ge, 35.3),    0.0),
        rule("news2_single_3",  Physiological, Low,    Trigger::News2SingleThree),
        rule("news2_urgent",    Physiological, Medium, Trigger::News2Range { min: 5, max: Some(6) }),
        rule("news2_emergency", Physiological, High,   Trigger::News2Range { min: 7, max: None }),
        rule("device_silent",   Technical,     Medium, Trigger::DeviceSilent { after_s: 30.0 }),
        rule("sensor_fault",    Technical,     Low,    Trigger::SensorFault),
        rule("clock_skew",      Technical,     Low,    Trigger::ClockSkew),
        threshold("battery_low",     Battery,         c(Lt, 20.0),   Low,      0.0,  c(Ge, 25.0),    0.0),
    ];
    for r in &mut rules {
        if r.priority == High && r.kind == Physiological && matches!(r.trigger, Trigger::Threshold { .. }) {
            r.latch_s = HIGH_PRIORITY_LATCH_S;
        }
        match r.name.as_str() {
            "temp_high" => r.escalate.push(Escalation { when: c(Ge, 39.1), priority: Medium, after_s: 0.0 }),
            "battery_low" => r.escalate.push(Escalation { when: c(Lt, 10.0), priority: Medium, after_s: 0.0 }),
            _ => {}
        }
    }
    rules
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_hold_every_rule_of_the_spec_once() {
        let names: Vec<_> = default_rules().into_iter().map(|r| r.name).collect();
        for n in [
            "spo2_low",
            "spo2_desat",
            "hr_high",
            "hr_extreme_high",
            "hr_low",
            "hr_extreme_low",
            "rr_high",
            "rr_low",
            "sbp_low",
            "sbp_high",
            "temp_high",
            "temp_low",
            "news2_single_3",
            "news2_urgent",
            "news2_emergency",
            "device_silent",
            "sensor_fault",
            "battery_low",
            "clock_skew",
        ] {
            assert_eq!(names.iter().filter(|x| *x == n).count(), 1, "{n}");
        }
        assert_eq!(names.len(), 19);
    }

    #[test]
    fn rules_round_trip_through_json() {
        let rules = default_rules();
        let text = serde_json::to_string(&rules).unwrap();
        let back: Vec<Rule> = serde_json::from_str(&text).unwrap();
        assert_eq!(back, rules);
    }

    #[test]
    fn high_priority_physiological_thresholds_latch_and_nothing_else_does() {
        for r in default_rules() {
            let latches = r.priority == Priority::High
                && r.kind == AlertKind::Physiological
                && matches!(r.trigger, Trigger::Threshold { .. });
            let want = if latches { HIGH_PRIORITY_LATCH_S } else { 0.0 };
            assert_eq!(r.latch_s, want, "{}", r.name);
        }
        let latching: Vec<_> = default_rules()
            .into_iter()
            .filter(|r| r.latch_s > 0.0)
            .map(|r| r.name)
            .collect();
        assert_eq!(
            latching,
            [
                "spo2_desat",
                "hr_extreme_high",
                "hr_extreme_low",
                "rr_high",
                "rr_low",
                "sbp_low"
            ]
        );
    }

    #[test]
    fn clearing_leaves_a_hysteresis_gap() {
        for r in default_rules() {
            if let Trigger::Threshold { when, clear, .. } = r.trigger {
                // A value that meets the alarm condition never meets the clearing one.
                for v in [when.limit - 0.1, when.limit, when.limit + 0.1] {
                    assert!(!(when.holds(v) && clear.holds(v)), "{} at {v}", r.name);
                }
            }
        }
    }
}

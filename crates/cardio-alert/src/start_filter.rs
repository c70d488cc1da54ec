//! Which readings can start no alarm at all, so that the engine lets them through without visiting
//! every rule: most readings of a ward are normal, and with thousands of patients a visit to each
//! rule's state costs more than scoring the reading.

use std::cmp::Ordering;

use vitals_core::Vital;
use vitals_core::news2::Score;
use vitals_core::plausibility::Implausible;
use vitals_core::rules::{Condition, Op, Trigger};

use crate::rules_file::RuleSet;

/// What can start an alarm of one rule set, gathered so that a reading can be let through without
/// visiting every rule: per vital, the widest "below" and "above" alarm condition of the enabled
/// threshold rules (conditions of one direction are nested half-lines, so a value that meets any
/// of them meets the widest; a SatSeconds rule counts as "SpO2 below its limit"), the lowest NEWS2 band, and whether any rule watches for a single
/// NEWS2 parameter of 3, for a sensor fault or for a clock step.
#[derive(Debug)]
pub(crate) struct StartFilter {
    below: [Option<Condition>; 7],
    above: [Option<Condition>; 7],
    news2_min: Option<u8>,
    single_three: bool,
    sensor_fault: bool,
    clock_skew: bool,
    /// False when the set has more rules than `Patient::busy` has bits: then an alarm past the
    /// 64th can be busy unseen, and every reading visits every rule.
    usable: bool,
}

impl StartFilter {
    pub fn new(set: &RuleSet) -> Self {
        let mut q = StartFilter {
            below: [None; 7],
            above: [None; 7],
            news2_min: None,
            single_three: false,
            sensor_fault: false,
            clock_skew: false,
            usable: set.rules.len() <= 64,
        };
        // Orders the conditions of one direction by the values they take in: the limit, then
        // whether it is included.
        let reach = |c: &Condition| (c.limit, matches!(c.op, Op::Le | Op::Ge));
        for rule in set.rules.iter().filter(|r| r.enabled) {
            // A SatSeconds rule can start only on a reading below its limit (one at or above it
            // only resets the integral, which the engine does before the rules are visited).
            let start = match rule.rule.trigger {
                Trigger::Threshold { vital, when, .. } => Some((vital, when)),
                Trigger::SatSeconds { limit, .. } => {
                    Some((Vital::Spo2, Condition::new(Op::Lt, limit)))
                }
                _ => None,
            };
            match rule.rule.trigger {
                Trigger::Threshold { .. } | Trigger::SatSeconds { .. } => {
                    let Some((vital, when)) = start else {
                        continue;
                    };
                    let (slot, wider) = match when.op {
                        Op::Lt | Op::Le => (&mut q.below[vital as usize], Ordering::Greater),
                        Op::Gt | Op::Ge => (&mut q.above[vital as usize], Ordering::Less),
                    };
                    if when.limit.is_nan() {
                        // Never holds, so never starts an alarm.
                        continue;
                    }
                    let widest = match *slot {
                        None => when,
                        Some(w) => {
                            let (a, b) = (reach(&when), reach(&w));
                            let by_limit = a.0.partial_cmp(&b.0).expect("limits are not NaN");
                            let by_bound = if matches!(when.op, Op::Lt | Op::Le) {
                                a.1.cmp(&b.1)
                            } else {
                                a.1.cmp(&b.1).reverse()
                            };
                            if by_limit.then(by_bound) == wider {
                                when
                            } else {
                                w
                            }
                        }
                    };
                    *slot = Some(widest);
                }
                Trigger::News2SingleThree => q.single_three = true,
                Trigger::News2Range { min, .. } => {
                    q.news2_min = Some(q.news2_min.map_or(min, |m| m.min(min)));
                }
                // A reading is the evidence that its device is not silent.
                Trigger::DeviceSilent { .. } => {}
                Trigger::SensorFault => q.sensor_fault = true,
                Trigger::ClockSkew => q.clock_skew = true,
            }
        }
        q
    }

    /// Whether this reading might start one of the set's alarms (when in doubt, true).
    pub fn may_start(
        &self,
        vals: &[Option<f64>; 7],
        score: Option<&Score>,
        faults: &[Implausible],
        skewed: bool,
    ) -> bool {
        if !self.usable || (self.sensor_fault && !faults.is_empty()) || (self.clock_skew && skewed)
        {
            return true;
        }
        if let Some(s) = score
            && ((self.single_three && s.has_single_three())
                || self.news2_min.is_some_and(|m| s.total() >= m))
        {
            return true;
        }
        vals.iter()
            .zip(self.below.iter().zip(&self.above))
            .any(|(x, (lo, hi))| {
                x.is_some_and(|x| lo.is_some_and(|c| c.holds(x)) || hi.is_some_and(|c| c.holds(x)))
            })
    }
}

#[cfg(test)]
mod tests {
    use vitals_core::Vital;

    use super::*;
    use crate::engine::evidence;
    use crate::rules_file::{Config, Overrides, RulesFile};

    /// `StartFilter` must never let through a reading that meets a rule's alarm condition.
    #[test]
    fn a_reading_that_starts_an_alarm_is_never_filtered_out() {
        let file = RulesFile {
            defaults: true,
            ..Default::default()
        };
        let cfg = Config::build_with(&file, &Overrides::default()).unwrap();
        let set = &cfg.sets[0];
        let filter = StartFilter::new(set);
        let mut checked = 0;
        for vital in Vital::ALL {
            for tenth in -10..=4000 {
                let mut vals = [None; 7];
                vals[vital as usize] = Some(f64::from(tenth) / 10.0);
                let starts = set.rules.iter().filter(|r| r.enabled).any(|r| {
                    matches!(r.rule.trigger, Trigger::Threshold { .. })
                        && evidence(r, &vals, None, &[], false).is_some_and(|(e, _)| e.alarm)
                });
                assert_eq!(
                    filter.may_start(&vals, None, &[], false),
                    starts,
                    "{vital} {vals:?}"
                );
                checked += 1;
            }
        }
        assert!(checked > 0);
    }
}

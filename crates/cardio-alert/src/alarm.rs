//! The state machine of one alarm rule for one patient (docs/spec.md §3.2): condition delay, clearing
//! hold, escalation and latching, all in event time (milliseconds of the readings' `ts`), so a replay
//! of the same stream walks through the same states.
//!
//! ```text
//!   Idle ──condition──▶ Pending ──held for delay──▶ Active ──clear held for hold (and latch)──▶ Idle
//!     ▲                    │ condition gone                │ worse: escalated (once per step)
//!     └────────────────────┘
//! ```

use vitals_core::Priority;

/// What one reading says about one rule's condition. A reading without the watched value (null,
/// implausible) gives no evidence and is not passed to [`Alarm::step`] at all.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Evidence {
    /// The alarm condition holds.
    pub alarm: bool,
    /// The clearing condition holds.
    pub clear: bool,
}

/// The timing of a rule, in milliseconds of event time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Timing {
    pub delay_ms: i64,
    pub clear_hold_ms: i64,
    pub latch_ms: i64,
}

impl Timing {
    pub fn from_seconds(delay_s: f64, clear_hold_s: f64, latch_s: f64) -> Self {
        let ms = |s: f64| (s.max(0.0) * 1000.0).round() as i64;
        Timing {
            delay_ms: ms(delay_s),
            clear_hold_ms: ms(clear_hold_s),
            latch_ms: ms(latch_s),
        }
    }
}

/// An alarm episode in progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Active {
    /// Event time of the raise: also the episode's identity.
    pub raised_at: i64,
    /// When the condition began (before the raise by the condition delay).
    pub onset: i64,
    pub priority: Priority,
    /// Since when the clearing condition has held without a break.
    pub clear_since: Option<i64>,
    /// The last reading that met the alarm condition (for latching).
    pub last_alarm: i64,
}

/// Where one rule stands for one patient.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Alarm {
    #[default]
    Idle,
    /// The condition holds, but not yet for the condition delay.
    Pending {
        since: i64,
    },
    Active(Active),
}

/// A change of state worth an alert record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    /// Raised at this priority; `held_ms` is how long the condition had held.
    Raised {
        priority: Priority,
        held_ms: i64,
    },
    Escalated {
        from: Priority,
        to: Priority,
    },
    /// Cleared; `active_ms` is how long the episode lasted, `held_ms` how long the clear held.
    Cleared {
        active_ms: i64,
        held_ms: i64,
    },
}

impl Alarm {
    pub fn is_active(&self) -> bool {
        matches!(self, Alarm::Active(_))
    }

    /// The episode in progress, if any.
    pub fn active(&self) -> Option<&Active> {
        match self {
            Alarm::Active(a) => Some(a),
            _ => None,
        }
    }

    /// Feeds one reading at event time `now`. `target` gives the priority the rule asks for after
    /// the alarm has been raised for the given milliseconds (the base priority, or an escalation).
    pub fn step(
        &mut self,
        timing: &Timing,
        now: i64,
        ev: Evidence,
        target: impl Fn(i64) -> Priority,
    ) -> Option<Transition> {
        match *self {
            Alarm::Idle | Alarm::Pending { .. } => {
                self.pend(now, ev);
                let Alarm::Pending { since } = *self else {
                    return None;
                };
                let held = now - since;
                if held >= timing.delay_ms {
                    let priority = target(0);
                    *self = Alarm::Active(Active {
                        raised_at: now,
                        onset: since,
                        priority,
                        clear_since: None,
                        last_alarm: now,
                    });
                    Some(Transition::Raised {
                        priority,
                        held_ms: held,
                    })
                } else {
                    *self = Alarm::Pending { since };
                    None
                }
            }
            Alarm::Active(mut a) => {
                let mut out = None;
                if ev.alarm {
                    a.last_alarm = a.last_alarm.max(now);
                    a.clear_since = None;
                    let to = target(now - a.raised_at);
                    if to > a.priority {
                        out = Some(Transition::Escalated {
                            from: a.priority,
                            to,
                        });
                        a.priority = to;
                    }
                } else if ev.clear {
                    let since = *a.clear_since.get_or_insert(now);
                    let held = now - since;
                    if held >= timing.clear_hold_ms && now - a.last_alarm >= timing.latch_ms {
                        *self = Alarm::Idle;
                        return Some(Transition::Cleared {
                            active_ms: now - a.raised_at,
                            held_ms: held,
                        });
                    }
                } else {
                    // Between the two thresholds (hysteresis band): the clear must start again.
                    a.clear_since = None;
                }
                *self = Alarm::Active(a);
                out
            }
        }
    }

    /// Feeds the evidence of a reading that was held back and is judged later (an SpO2 drop held
    /// as motion artifact that turned out real, docs/spec.md §3.2): the condition delay counts from
    /// such readings as from any other, but nothing is raised at their time, only by the next
    /// [`Alarm::step`]. An episode in progress is left as it is.
    pub fn pend(&mut self, now: i64, ev: Evidence) {
        *self = match *self {
            Alarm::Active(_) => return,
            _ if !ev.alarm => Alarm::Idle,
            Alarm::Pending { since } => Alarm::Pending {
                since: since.min(now),
            },
            Alarm::Idle => Alarm::Pending { since: now },
        };
    }

    /// Ends an episode without evidence (the patient's state is being dropped).
    pub fn force_clear(&mut self, now: i64) -> Option<Transition> {
        let a = *self.active()?;
        *self = Alarm::Idle;
        Some(Transition::Cleared {
            active_ms: now - a.raised_at,
            held_ms: 0,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOW: Evidence = Evidence {
        alarm: true,
        clear: false,
    };
    const MID: Evidence = Evidence {
        alarm: false,
        clear: false,
    };
    const OK: Evidence = Evidence {
        alarm: false,
        clear: true,
    };

    fn run(timing: Timing, readings: &[(i64, Evidence)]) -> Vec<(i64, Transition)> {
        let mut a = Alarm::default();
        readings
            .iter()
            .filter_map(|&(t, e)| a.step(&timing, t, e, |_| Priority::Medium).map(|x| (t, x)))
            .collect()
    }

    fn secs(s: &[i64]) -> Vec<i64> {
        s.iter().map(|x| x * 1000).collect()
    }

    #[test]
    fn a_condition_shorter_than_the_delay_raises_nothing() {
        let t = Timing::from_seconds(15.0, 10.0, 0.0);
        let mut r: Vec<_> = secs(&[0, 1, 2, 14]).into_iter().map(|t| (t, LOW)).collect();
        r.push((15_000, OK));
        assert!(run(t, &r).is_empty());
    }

    #[test]
    fn a_condition_held_for_the_delay_raises_once_and_clears_once() {
        let t = Timing::from_seconds(15.0, 10.0, 0.0);
        let mut r: Vec<_> = (0..=40).map(|s| (s * 1000, LOW)).collect();
        r.extend((41..=60).map(|s| (s * 1000, OK)));
        let got = run(t, &r);
        assert_eq!(got.len(), 2, "{got:?}");
        assert!(matches!(
            got[0],
            (
                15_000,
                Transition::Raised {
                    held_ms: 15_000,
                    ..
                }
            )
        ));
        assert!(matches!(
            got[1],
            (
                51_000,
                Transition::Cleared {
                    held_ms: 10_000,
                    ..
                }
            )
        ));
    }

    #[test]
    fn held_evidence_never_raises_but_starts_the_delay_of_the_next_step() {
        let t = Timing::from_seconds(15.0, 10.0, 0.0);
        let mut a = Alarm::default();
        a.pend(0, MID);
        a.pend(1_000, LOW);
        a.pend(20_000, LOW);
        assert_eq!(a, Alarm::Pending { since: 1_000 }, "no raise for the past");
        let tr = a.step(&t, 21_000, LOW, |_| Priority::Medium);
        assert_eq!(
            tr,
            Some(Transition::Raised {
                priority: Priority::Medium,
                held_ms: 20_000
            })
        );
        a.pend(22_000, OK);
        assert!(a.is_active(), "an episode in progress is left as it is");
    }

    #[test]
    fn the_hysteresis_band_restarts_the_clearing_hold() {
        let t = Timing::from_seconds(0.0, 10.0, 0.0);
        let r = [
            (0, LOW),
            (1_000, OK),
            (9_000, MID),
            (10_000, OK),
            (19_000, OK),
            (20_000, OK),
        ];
        let got = run(t, &r);
        assert_eq!(got.len(), 2);
        assert_eq!(got[1].0, 20_000);
    }

    #[test]
    fn escalation_happens_once_per_priority_step() {
        let t = Timing::default();
        let mut a = Alarm::default();
        let target = |v: i64| {
            move |_: i64| {
                if v >= 2 {
                    Priority::High
                } else if v == 1 {
                    Priority::Medium
                } else {
                    Priority::Low
                }
            }
        };
        let mut events = vec![];
        for (i, v) in [0, 1, 1, 2, 1, 2, 2].into_iter().enumerate() {
            events.extend(a.step(&t, i as i64, LOW, target(v)));
        }
        assert_eq!(
            events,
            vec![
                Transition::Raised {
                    priority: Priority::Low,
                    held_ms: 0
                },
                Transition::Escalated {
                    from: Priority::Low,
                    to: Priority::Medium
                },
                Transition::Escalated {
                    from: Priority::Medium,
                    to: Priority::High
                },
            ]
        );
    }

    #[test]
    fn a_latching_alarm_stays_raised_after_the_condition_ends() {
        let t = Timing::from_seconds(0.0, 0.0, 30.0);
        let mut r = vec![(0, LOW)];
        r.extend((1..=40).map(|s| (s * 1000, OK)));
        let got = run(t, &r);
        assert_eq!(got.len(), 2);
        assert_eq!(got[1].0, 30_000, "clears 30 s after the last alarm reading");
        let unlatched = run(Timing::default(), &r);
        assert_eq!(unlatched[1].0, 1_000);
    }
}

//! Admission and alarm settings that travel in the stream (docs/spec.md §1): an `admission` record
//! sets a patient's NEWS2 SpO2 scale and a `settings` record the limits of its alarm rules, each
//! from its event time on, so `cardio-sim | cardio-alert` needs no side file.
//!
//! - **When.** A record is placed on its patient's clock the way its device's readings are
//!   ([`crate::clock`]): it applies to the first fresh reading at or after its time and to every
//!   later one, never to a reading already scored (a late record applies from the next reading
//!   on). Records that arrive before the patient's first reading wait for it. So a replay of the
//!   same bytes applies the same settings to the same readings.
//! - **What.** A `settings` record carries the complete set of limits in force: a rule it does not
//!   name is back on its built-in or `--rules` limit. A new limit moves the rule's clearing limit
//!   by as much, so the rule keeps its hysteresis.
//! - **Precedence.** Most specific first: a rules file's `[patients.<id>]` entry for a rule (or its
//!   `spo2_scale`) wins over the stream, which wins over the file's `[[rules]]` and the built-in
//!   rules. Each alert says where its limit came from: `settings_id` of the record, or null.
//! - **An alarm in progress** is judged again by the next reading with its vital: it clears at
//!   once when that reading no longer meets the new limit (as a monitor re-evaluates when a limit
//!   is changed), and goes on otherwise.
//! - **A bad record** (an unknown rule, a rule without a limit, a limit outside its vital's
//!   plausibility gate, a low limit not below the high one) changes nothing: the limits in force
//!   stay, so a bad record can never silence an alarm.

use std::collections::HashMap;
use std::sync::Arc;

use vitals_core::news2::Spo2Scale;
use vitals_core::plausibility::{self, fmt_num};
use vitals_core::rules::{Op, Rule, Trigger};
use vitals_core::{Settings, Vital};

use crate::alarm::Alarm;
use crate::rules_file::{CompiledRule, RuleSet};
use crate::start_filter::StartFilter;

/// At most this many records are held for one patient ahead of its readings; past that the
/// earliest is dropped (a settings record is a complete set, so a later one supersedes it).
const PENDING_MAX: usize = 64;

/// The limits of one valid `settings` record, by rule index.
#[derive(Debug)]
pub(crate) struct Limits {
    pub settings_id: String,
    pub by_rule: Vec<(usize, f64)>,
}

/// A change the stream asks for.
#[derive(Debug, Clone)]
pub(crate) enum Change {
    Limits(Arc<Limits>),
    Scale(Spo2Scale),
}

/// A change and the time (on the patient's clock) from which it applies.
#[derive(Debug, Clone)]
pub(crate) struct Pending {
    pub due: i64,
    pub change: Change,
}

/// A rule set with stream limits, ready to run.
#[derive(Debug)]
pub(crate) struct Compiled {
    pub set: RuleSet,
    pub filter: StartFilter,
}

/// Patients with the same rules-file set, stream limits and scale share one [`Compiled`] (most
/// patients run on the unit profile or a few common values): without this, every patient of a
/// `cardio-sim` stream would hold its own copy of every rule.
#[derive(Debug, Default)]
pub(crate) struct Shared(HashMap<SharedKey, Arc<Compiled>>);

/// The rules-file set, the stream's limits on it (rule index, limit's bits) and the scale.
type SharedKey = (u32, Vec<(usize, u64)>, Spo2Scale);

/// At most this many distinct rule sets are kept for sharing; past that the table starts again
/// (the sets in use live on in their patients).
const SHARED_MAX: usize = 10_000;

/// A patient's rules as the stream has set them.
#[derive(Debug)]
pub(crate) struct Own {
    pub rules: Arc<Compiled>,
    limits: Option<Arc<Limits>>,
}

impl Own {
    /// The `settings_id` behind rule `i`'s limit, or `None` when the limit is built-in or the rules
    /// file's.
    pub fn settings_id(&self, i: usize) -> Option<&str> {
        let l = self.limits.as_ref()?;
        (!self.rules.set.file_override[i] && l.by_rule.iter().any(|&(k, _)| k == i))
            .then_some(l.settings_id.as_str())
    }
}

/// What the stream has said about one patient.
#[derive(Debug, Default)]
pub(crate) struct StreamState {
    /// Changes not yet due, in order of `due` (then arrival).
    pending: Vec<Pending>,
    limits: Option<Arc<Limits>>,
    scale: Option<Spo2Scale>,
    /// The rules now in force, once a change has applied.
    pub own: Option<Arc<Own>>,
    /// Rules whose limit changed while their alarm was not idle: judged again by the next reading.
    recheck: Vec<usize>,
}

impl StreamState {
    /// Holds a change until the patient's clock reaches `due`. False when the earliest held
    /// change had to be dropped to make room.
    pub fn hold(&mut self, due: i64, change: Change) -> bool {
        let at = self.pending.partition_point(|q| q.due <= due);
        self.pending.insert(at, Pending { due, change });
        if self.pending.len() > PENDING_MAX {
            self.pending.remove(0);
            return false;
        }
        true
    }

    /// Applies every change due at `clock` to the patient's rules-file set `base` (number
    /// `base_index`). Returns how many changes applied.
    pub fn apply_due(
        &mut self,
        clock: i64,
        (base_index, base): (u32, &RuleSet),
        alarms: &[Alarm],
        shared: &mut Shared,
    ) -> usize {
        let n = self.pending.partition_point(|q| q.due <= clock);
        if n == 0 {
            return 0;
        }
        for q in self.pending.drain(..n) {
            match q.change {
                Change::Limits(l) => self.limits = Some(l),
                Change::Scale(s) => self.scale = Some(s),
            }
        }
        // What the stream changes in `base`: the limits the file leaves to it that differ from
        // the set's own (a rule whose limit stays is shared, not copied), and the scale.
        let limits: Vec<(usize, u64)> = self.limits.as_ref().map_or(Vec::new(), |l| {
            l.by_rule
                .iter()
                .filter(|&&(i, x)| {
                    !base.file_override[i] && limit_of(&base.rules[i].rule) != Some(x)
                })
                .map(|&(i, x)| (i, x.to_bits()))
                .collect()
        });
        let scale = match self.scale {
            Some(s) if !base.file_scale => s,
            _ => base.scale,
        };
        if shared.0.len() >= SHARED_MAX {
            shared.0.clear();
        }
        let rules = shared
            .0
            .entry((base_index, limits, scale))
            .or_insert_with_key(|(_, limits, scale)| {
                let mut set = base.clone();
                for &(i, bits) in limits {
                    let r = &mut set.rules[i];
                    let mut rule = r.rule.clone();
                    set_limit(&mut rule, f64::from_bits(bits));
                    *r = Arc::new(CompiledRule::new(rule, r.enabled));
                }
                set.scale = *scale;
                let filter = StartFilter::new(&set);
                Arc::new(Compiled { set, filter })
            })
            .clone();
        let before = self.own.as_ref().map_or(base, |o| &o.rules.set);
        for (i, (a, b)) in before.rules.iter().zip(&rules.set.rules).enumerate() {
            if a.rule.trigger != b.rule.trigger
                && alarms[i] != Alarm::Idle
                && !self.recheck.contains(&i)
            {
                self.recheck.push(i);
            }
        }
        self.own = Some(Arc::new(Own {
            rules,
            limits: self.limits.clone(),
        }));
        n
    }

    /// Whether rule `i`'s limit changed since its alarm was last judged (and forgets it).
    pub fn take_recheck(&mut self, i: usize) -> bool {
        match self.recheck.iter().position(|&k| k == i) {
            Some(k) => {
                self.recheck.swap_remove(k);
                true
            }
            None => false,
        }
    }

    /// The state kept while the patient is forgotten (its alarms start again from idle).
    pub fn park(mut self) -> Self {
        self.recheck.clear();
        self
    }
}

/// Moves a rule's alarm limit to `limit` and its clearing limit by as much, so the rule keeps its
/// hysteresis (docs/spec.md §3.2).
fn set_limit(rule: &mut Rule, limit: f64) {
    match &mut rule.trigger {
        Trigger::Threshold { when, clear, .. } => {
            let moved = clear.limit + (limit - when.limit);
            // Whole micro-units: 37.9 + 0.4 is 38.3, not 38.300000000000004, in the alert's limit.
            clear.limit = (moved * 1e6).round() / 1e6;
            when.limit = limit;
        }
        Trigger::SatSeconds { limit: l, .. } => *l = limit,
        _ => {}
    }
}

/// A rule's limit, if it has one.
fn limit_of(rule: &Rule) -> Option<f64> {
    match rule.trigger {
        Trigger::Threshold { when, .. } => Some(when.limit),
        Trigger::SatSeconds { limit, .. } => Some(limit),
        _ => None,
    }
}

/// The vital a rule's limit is on and whether the rule alarms below it; `None` for a rule without
/// a limit.
fn limited(rule: &Rule) -> Option<(Vital, bool)> {
    match rule.trigger {
        Trigger::Threshold { vital, when, .. } => Some((vital, matches!(when.op, Op::Lt | Op::Le))),
        Trigger::SatSeconds { .. } => Some((Vital::Spo2, true)),
        _ => None,
    }
}

/// Checks a `settings` record against the rules (names are the same in every rule set): every
/// name a rule with a limit, every limit inside its vital's plausibility gate (docs/spec.md §3.3),
/// and on each vital every low limit below every high one. The reason names the first fault.
pub(crate) fn check(s: &Settings, rules: &[Arc<CompiledRule>]) -> Result<Limits, String> {
    let mut by_rule = Vec::with_capacity(s.limits.len());
    for (name, &limit) in &s.limits {
        let Some(i) = rules.iter().position(|r| r.rule.name == *name) else {
            return Err(format!("unknown rule `{name}`"));
        };
        let Some((vital, _)) = limited(&rules[i].rule) else {
            return Err(format!("rule `{name}` has no limit to set"));
        };
        let gate = plausibility::gate(vital);
        if !(limit.is_finite() && gate.contains(limit)) {
            return Err(format!(
                "{name} limit {} is outside the plausible {} range {}–{}",
                fmt_num(limit),
                vital.label(),
                fmt_num(gate.min),
                fmt_num(gate.max)
            ));
        }
        by_rule.push((i, limit));
    }
    // The limits in force with this record: its own, and the rules' for the rest.
    let in_force = |i: usize| {
        by_rule
            .iter()
            .find(|(k, _)| *k == i)
            .map(|&(_, l)| l)
            .or(limit_of(&rules[i].rule))
    };
    for &(i, _) in &by_rule {
        let (vital, below) = limited(&rules[i].rule).expect("checked above");
        for (k, other) in rules.iter().enumerate() {
            if !other.enabled || limited(&other.rule) != Some((vital, !below)) {
                continue;
            }
            let (lo, hi) = if below { (i, k) } else { (k, i) };
            if let (Some(a), Some(b)) = (in_force(lo), in_force(hi))
                && a >= b
            {
                return Err(format!(
                    "{} limit {} is not below {} limit {}",
                    rules[lo].rule.name,
                    fmt_num(a),
                    rules[hi].rule.name,
                    fmt_num(b)
                ));
            }
        }
    }
    Ok(Limits {
        settings_id: s.settings_id.clone(),
        by_rule,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules_file::Config;

    fn settings(limits: &[(&str, f64)]) -> Settings {
        let line = serde_json::json!({
            "type": "settings", "ts": "2026-11-28T00:00:00.000Z", "patient_id": "PT-1",
            "device_id": "D-1", "settings_id": "PT-1/2", "source": "nurse",
            "limits": limits.iter().map(|(k, v)| (k.to_string(), serde_json::json!(v))).collect::<serde_json::Map<_, _>>(),
        });
        serde_json::from_value(line).unwrap()
    }

    #[test]
    fn bad_limits_are_named() {
        let cfg = Config::defaults();
        let err = |l: &[(&str, f64)]| check(&settings(l), cfg.rules()).unwrap_err();
        assert_eq!(err(&[("hr_lowe", 45.0)]), "unknown rule `hr_lowe`");
        assert_eq!(
            err(&[("news2_urgent", 5.0)]),
            "rule `news2_urgent` has no limit to set"
        );
        assert_eq!(
            err(&[("hr_low", 5.0)]),
            "hr_low limit 5 is outside the plausible HR range 20–300"
        );
        assert_eq!(
            err(&[("hr_low", 130.0)]),
            "hr_low limit 130 is not below hr_high limit 120"
        );
        assert_eq!(
            err(&[("hr_low", 45.0), ("hr_high", 40.0)]),
            "hr_low limit 45 is not below hr_high limit 40"
        );
        let ok = check(
            &settings(&[("hr_low", 45.0), ("spo2_low", 86.0)]),
            cfg.rules(),
        )
        .unwrap();
        assert_eq!(ok.by_rule.len(), 2);
    }

    #[test]
    fn a_new_limit_keeps_the_rules_hysteresis() {
        let mut rule = vitals_core::rules::default_rules()
            .into_iter()
            .find(|r| r.name == "temp_high")
            .unwrap();
        set_limit(&mut rule, 38.5);
        let Trigger::Threshold { when, clear, .. } = rule.trigger else {
            panic!()
        };
        assert_eq!((when.limit, clear.limit), (38.5, 38.3));
    }
}

//! The integral SpO2 trigger of Nellcor oximeters (SatSeconds), one per `sat_seconds` rule and
//! patient: a short deep dip and a long shallow one weigh the same, where a plain condition delay
//! lets a shallow dip through as readily as a deep one. The rule's alarm state machine
//! ([`crate::alarm`]) still decides raise and clear; this module only says whether the integral
//! (or the safety net) has reached the setting.
//!
//! What is implemented (docs/spec.md §3.2, docs/cardio-alert.md "SatSeconds"):
//! - each SpO2 reading below the limit adds (limit − SpO2) × the time since the patient's previous
//!   SpO2 reading the integral saw, counted as at most [`MAX_STEP_MS`] (a gap of lost or implausible
//!   readings is not counted as time spent at the new value);
//! - a reading at or above the limit sets the integral back to 0 (Covidien's N-600x and GE's
//!   description let it run down at the rate it ran up instead; a reset is the simpler, stricter
//!   rule and the one the rule's clearing needs: an alarm clears when SpO2 is back at the limit);
//! - the safety net: the `excursions`-th fall below the limit within `excursion_window_s` raises
//!   even when the integral is short of the setting (Nellcor: the 3rd within 60 s); 0 turns it off.
//!
//! Only readings the engine lets through reach the integral: implausible values never, SpO2 held
//! as motion artifact only once the hold has ended with SpO2 still down, in their own order.

use vitals_core::rules::Trigger;

use crate::alarm::Evidence;

/// The longest time one reading stands for: the simulator and bedside monitors send SpO2 every
/// second, so 5 s covers a few lost readings without counting a long gap at the new value.
pub const MAX_STEP_MS: i64 = 5_000;

/// The settings of one `sat_seconds` rule, in engine units.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SatSettings {
    pub limit: f64,
    pub sat_seconds: f64,
    pub excursions: u32,
    pub window_ms: i64,
}

impl SatSettings {
    /// The settings of a `sat_seconds` trigger (None for any other trigger).
    pub fn of(trigger: &Trigger) -> Option<Self> {
        match *trigger {
            Trigger::SatSeconds {
                limit,
                sat_seconds,
                excursions,
                excursion_window_s,
            } => Some(SatSettings {
                limit,
                sat_seconds,
                excursions,
                window_ms: (excursion_window_s * 1000.0).round() as i64,
            }),
            _ => None,
        }
    }
}

/// The integral of one patient under one rule.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SatIntegral {
    /// Percentage points × seconds below the limit since SpO2 last was at or above it.
    pub sum: f64,
    /// The time of the previous SpO2 reading, and whether it was below the limit.
    last: Option<(i64, bool)>,
    /// When SpO2 fell below the limit, within the safety net's window.
    falls: Vec<i64>,
}

impl SatIntegral {
    /// Adds one SpO2 reading at patient-clock time `now`.
    pub fn update(&mut self, s: &SatSettings, now: i64, spo2: f64) {
        let below = spo2 < s.limit;
        let prev = self.last.replace((now, below));
        if !below {
            self.sum = 0.0;
            return;
        }
        let step_ms = prev.map_or(0, |(t, _)| (now - t).clamp(0, MAX_STEP_MS));
        self.sum += (s.limit - spo2) * step_ms as f64 / 1000.0;
        if !prev.is_some_and(|(_, was_below)| was_below) {
            self.falls.push(now);
        }
        self.falls.retain(|&t| now - t < s.window_ms);
    }

    /// Falls below the limit within the safety net's window (as of the last reading).
    pub fn falls(&self) -> usize {
        self.falls.len()
    }

    /// Whether the safety net, not the integral, has been reached.
    pub fn by_safety_net(&self, s: &SatSettings) -> bool {
        s.excursions > 0 && self.falls.len() >= s.excursions as usize
    }

    /// What the last reading says about the rule: alarm once the integral reaches the setting or
    /// the safety net is reached, clear at or above the limit.
    pub fn evidence(&self, s: &SatSettings) -> Evidence {
        let below = self.last.is_some_and(|(_, b)| b);
        Evidence {
            alarm: below && (self.sum >= s.sat_seconds || self.by_safety_net(s)),
            clear: !below,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: SatSettings = SatSettings {
        limit: 90.0,
        sat_seconds: 25.0,
        excursions: 3,
        window_ms: 60_000,
    };

    fn feed(i: &mut SatIntegral, from_s: i64, values: &[f64]) {
        for (k, &x) in values.iter().enumerate() {
            i.update(&S, (from_s + k as i64) * 1000, x);
        }
    }

    #[test]
    fn depth_times_duration_and_a_reset_at_the_limit() {
        let mut i = SatIntegral::default();
        feed(&mut i, 0, &[95.0, 88.0, 86.0]);
        assert_eq!(i.sum, 2.0 + 4.0);
        assert!(!i.evidence(&S).alarm);
        feed(&mut i, 3, &[80.0, 80.0]);
        assert_eq!(i.sum, 26.0);
        assert!(i.evidence(&S).alarm);
        feed(&mut i, 5, &[90.0]);
        assert_eq!(i.sum, 0.0);
        assert!(i.evidence(&S).clear);
    }

    #[test]
    fn a_gap_counts_as_at_most_max_step() {
        let mut i = SatIntegral::default();
        i.update(&S, 0, 89.0);
        i.update(&S, 60_000, 89.0);
        assert_eq!(i.sum, 5.0);
    }

    #[test]
    fn the_third_fall_within_the_window_raises_and_older_falls_drop_out() {
        let mut i = SatIntegral::default();
        feed(&mut i, 0, &[89.0, 95.0, 89.0, 95.0]);
        assert!(!i.by_safety_net(&S));
        feed(&mut i, 70, &[89.0]);
        assert_eq!(i.falls(), 1, "the falls at 0 and 2 s are out of the window");
        feed(&mut i, 71, &[95.0, 89.0, 95.0, 89.0]);
        assert!(i.evidence(&S).alarm);
        let off = SatSettings { excursions: 0, ..S };
        assert!(!i.evidence(&off).alarm, "0: no safety net");
    }
}

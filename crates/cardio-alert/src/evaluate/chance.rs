//! The chance-hit rate: how often a window as long as a scenario's would hold a relevant alarm on a
//! ward where no deterioration is going on. A scenario "detected" by a rule that fires that often
//! anyway says little: a 10 h sepsis window on a ward whose NEWS2 alarms fire every few hours is
//! nearly always "detected". The rate is measured over the monitored time of a ward without
//! scenarios (or, when none is given, the scored ward's own time outside every scenario's window),
//! pooled over its patients: for a window length L, the share of window start times t, with
//! [t, t + L] inside that time, for which a relevant alarm is raised or escalated in [t, t + L].

use std::collections::HashMap;

use vitals_core::Alert;

use super::score::{Score, Windows, censored, relevant_times};
use super::truth::Truth;

/// The time of a ward during which no scenario was under way, and its alerts.
pub struct CalmWard<'a> {
    /// Per patient, the sorted stretches [from, to] (ms) outside every scenario window.
    calm: HashMap<&'a str, Vec<(i64, i64)>>,
    alerts: &'a [Alert],
}

impl<'a> CalmWard<'a> {
    /// The calm time of `truth`'s ward from each patient's admission (or the first event) to
    /// `w.end_ms`, minus every scenario's window (recovery included) under `w`.
    pub fn new(truth: &'a Truth, alerts: &'a [Alert], w: &Windows) -> Self {
        let mut busy: HashMap<&str, Vec<(i64, i64)>> = HashMap::new();
        for e in &truth.scenarios {
            busy.entry(e.patient_id.as_str()).or_default().push(w.of(e));
        }
        let mut patients: Vec<(&str, i64)> = truth
            .admitted
            .iter()
            .map(|(p, &t)| (p.as_str(), t))
            .collect();
        if patients.is_empty() {
            // A truth file without admissions: every patient it or the alerts name, from the
            // first event on.
            let mut names: Vec<&str> = truth
                .scenarios
                .iter()
                .chain(&truth.spontaneous)
                .chain(&truth.artifacts)
                .map(|e| e.patient_id.as_str())
                .chain(alerts.iter().map(|a| a.patient_id.as_str()))
                .collect();
            names.sort_unstable();
            names.dedup();
            patients = names.into_iter().map(|p| (p, truth.first_ts)).collect();
        }
        let calm = patients
            .into_iter()
            .map(|(p, from)| {
                let mut windows = busy.remove(p).unwrap_or_default();
                windows.sort_unstable();
                let mut stretches = Vec::new();
                let mut at = from;
                for (start, end) in windows {
                    if start > at {
                        stretches.push((at, start.min(w.end_ms)));
                    }
                    at = at.max(end);
                }
                if at < w.end_ms {
                    stretches.push((at, w.end_ms));
                }
                stretches.retain(|(a, b)| b > a);
                (p, stretches)
            })
            .collect();
        CalmWard { calm, alerts }
    }

    /// For each length, the chance that a window that long holds an alarm relevant to `scenario`
    /// (`None` when no calm stretch is that long).
    fn rates(&self, scenario: &str, lengths: &[i64]) -> Vec<Option<f64>> {
        let times = relevant_times(self.alerts, scenario);
        lengths
            .iter()
            .map(|&len| {
                let (mut hit, mut all) = (0i64, 0i64);
                for (p, stretches) in &self.calm {
                    let alarms = times.get(p).map_or(&[][..], Vec::as_slice);
                    for &(a, b) in stretches {
                        let (h, n) = hits_in(a, b, alarms, len);
                        hit += h;
                        all += n;
                    }
                }
                (all > 0).then(|| hit as f64 / all as f64)
            })
            .collect()
    }
}

/// Within the stretch [a, b], the measure of window starts t ∈ [a, b − len] whose window
/// [t, t + len] holds one of `alarms` (sorted), and the measure of all such t.
fn hits_in(a: i64, b: i64, alarms: &[i64], len: i64) -> (i64, i64) {
    if b - a <= len {
        return (0, 0);
    }
    let last = b - len;
    let mut hit = 0;
    // The window starting at t holds alarm x when t ∈ [x − len, x]; the union of those, in
    // [a, last], merged as x goes up.
    let (mut lo, mut hi) = (i64::MIN, i64::MIN);
    let from = alarms.partition_point(|&x| x < a);
    for &x in alarms[from..].iter().take_while(|&&x| x <= b) {
        let (s, e) = ((x - len).max(a), x.min(last));
        if s > e {
            continue;
        }
        if s > hi {
            if hi >= lo {
                hit += hi - lo;
            }
            (lo, hi) = (s, e);
        } else {
            hi = hi.max(e);
        }
    }
    if hi > lo {
        hit += hi - lo;
    }
    (hit, last - a)
}

/// Adds to each scored episode of `truth` in `s` the chance-hit rates of its window and of its
/// clinical window (its onset: time to the peak) on `ward`.
pub fn add_chance(s: &mut Score, truth: &Truth, ward: &CalmWard, w: &Windows) {
    let mut lengths: HashMap<&str, Vec<(i64, i64)>> = HashMap::new();
    for e in &truth.scenarios {
        if !s.scenarios.contains_key(&e.name) || censored(e, w.end_ms) {
            continue;
        }
        let whole = w.length(e);
        lengths
            .entry(e.name.as_str())
            .or_default()
            .push((whole, e.onset_ms.unwrap_or(whole)));
    }
    for (name, pairs) in lengths {
        let flat: Vec<i64> = pairs.iter().flat_map(|&(a, b)| [a, b]).collect();
        let rates = ward.rates(name, &flat);
        let d = s.scenarios.get_mut(name).expect("scored above");
        for pair in rates.chunks(2) {
            d.chance.add(pair[0]);
            d.chance_before_peak.add(pair[1]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_starts_that_hold_an_alarm_are_measured_once() {
        // Stretch 0..100, windows of 10: starts 0..=90. An alarm at 50 is held by starts 40..=50.
        assert_eq!(hits_in(0, 100, &[50], 10), (10, 90));
        // Two alarms whose start ranges overlap (40–50, 45–55) count once: 40–55.
        assert_eq!(hits_in(0, 100, &[50, 55], 10), (15, 90));
        // Alarms outside the stretch do not count; one at its start is held by the first start.
        assert_eq!(hits_in(0, 100, &[-5, 200], 10), (0, 90));
        assert_eq!(hits_in(0, 100, &[0, 100], 10), (0, 90));
        // A stretch no longer than the window holds no window.
        assert_eq!(hits_in(0, 10, &[5], 10), (0, 0));
        // Every start holds one when alarms come more often than the window is long.
        assert_eq!(
            hits_in(0, 100, &[5, 15, 25, 35, 45, 55, 65, 75, 85, 95], 10),
            (90, 90)
        );
    }
}

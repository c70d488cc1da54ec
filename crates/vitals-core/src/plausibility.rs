//! Plausibility gates (docs/spec.md §3.3): a value outside them is a sensor fault, not a clinical value.
//! It must never feed a clinical rule or NEWS2; cardio-alert raises `sensor_fault` for it instead.
//!
//! HR and RR of 0 are inside the gates on purpose: asystole and apnoea are never dropped as artifacts.

use crate::record::{Vital, Vitals};

/// `(vital, lowest accepted, highest accepted)`, both inclusive.
pub const GATES: &[(Vital, f64, f64)] = &[
    (Vital::HeartRate, 20.0, 300.0),
    (Vital::Spo2, 1.0, 100.0),
    (Vital::RespiratoryRate, 0.0, 80.0),
    (Vital::Temperature, 25.0, 45.0),
    (Vital::Systolic, 30.0, 300.0),
    (Vital::Diastolic, 10.0, 200.0),
    (Vital::Battery, 0.0, 100.0),
];

/// One implausible value in a reading.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Implausible {
    pub vital: Vital,
    pub value: f64,
    /// The gate edge it crossed (for systolic not above diastolic: the diastolic value).
    pub limit: f64,
}

impl Implausible {
    /// "HR 350 outside the plausible range 20–300", or "SBP 80 not above DBP 80".
    pub fn describe(&self) -> String {
        let g = gate(self.vital);
        if self.vital == Vital::Systolic && g.contains(self.value) {
            return format!(
                "SBP {} not above DBP {}",
                fmt_num(self.value),
                fmt_num(self.limit)
            );
        }
        format!(
            "{} {} outside the plausible range {}",
            self.vital.label(),
            fmt_num(self.value),
            g.describe()
        )
    }
}

/// A gate as a range.
#[derive(Debug, Clone, Copy)]
pub struct Gate {
    pub min: f64,
    pub max: f64,
}

impl Gate {
    pub fn contains(&self, v: f64) -> bool {
        v >= self.min && v <= self.max
    }

    fn describe(&self) -> String {
        format!("{}–{}", fmt_num(self.min), fmt_num(self.max))
    }
}

/// The gate of one vital.
pub fn gate(vital: Vital) -> Gate {
    let &(_, min, max) = GATES
        .iter()
        .find(|g| g.0 == vital)
        .expect("every vital has a gate");
    Gate { min, max }
}

/// A number for a message, at most about 25 characters whatever it is: whole numbers without a
/// fraction, others in their shortest exact form, and anything of a billion or more (or below a
/// thousandth) in exponent form. A device can send a temperature of 1e308, which `{:.0}` would write
/// as 309 digits.
pub fn fmt_num(v: f64) -> String {
    let a = v.abs();
    if !v.is_finite() || a >= 1e9 || (a != 0.0 && a < 1e-3) {
        format!("{v:e}")
    } else if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v}")
    }
}

/// Every implausible value in `v`, in field order. Null values are not judged: a null is "no reading".
pub fn check(v: &Vitals) -> Vec<Implausible> {
    let mut out = Vec::new();
    for &(vital, min, max) in GATES {
        if let Some(value) = v.get(vital)
            && (!value.is_finite() || value < min || value > max)
        {
            out.push(Implausible {
                vital,
                value,
                limit: if value < min { min } else { max },
            });
        }
    }
    if let Some((s, d)) = inverted_pressures(v)
        && !out.iter().any(|i| i.vital == Vital::Systolic)
    {
        out.push(Implausible {
            vital: Vital::Systolic,
            value: f64::from(s),
            limit: f64::from(d),
        });
    }
    out
}

/// The systolic and diastolic of a cuff cycle whose systolic is not above its diastolic: the one
/// gate that judges two values together (docs/spec.md §3.3). Such a cycle is a measurement fault,
/// so neither of its values is used. `None` when the pair is fine or either value is missing (a
/// null is not judged). Every stage that drops the pair asks this function.
pub fn inverted_pressures(v: &Vitals) -> Option<(i32, i32)> {
    let (s, d) = (v.systolic_mmhg?, v.diastolic_mmhg?);
    (s <= d).then_some((s, d))
}

/// Whether one vital's value in `v` is usable clinically (present and plausible).
pub fn plausible_value(v: &Vitals, vital: Vital) -> Option<f64> {
    let value = v.get(vital)?;
    let g = gate(vital);
    if !g.contains(value) {
        return None;
    }
    if matches!(vital, Vital::Systolic | Vital::Diastolic) && inverted_pressures(v).is_some() {
        return None;
    }
    Some(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::Timestamp;

    fn reading() -> Vitals {
        let mut v = Vitals::empty(Timestamp(0), "PT-1", "D-1", 0);
        v.heart_rate_bpm = Some(72);
        v.systolic_mmhg = Some(120);
        v.diastolic_mmhg = Some(80);
        v
    }

    #[test]
    fn gate_edges_are_inclusive() {
        for (hr, ok) in [
            (19, false),
            (20, true),
            (300, true),
            (301, false),
            (0, false),
        ] {
            let mut v = reading();
            v.heart_rate_bpm = Some(hr);
            assert_eq!(check(&v).is_empty(), ok, "HR {hr}");
        }
        for (t, ok) in [(24.9, false), (25.0, true), (45.0, true), (45.1, false)] {
            let mut v = reading();
            v.temperature_c = Some(t);
            assert_eq!(check(&v).is_empty(), ok, "T {t}");
        }
    }

    #[test]
    fn numbers_in_messages_stay_short() {
        assert_eq!(fmt_num(72.0), "72");
        assert_eq!(fmt_num(36.6), "36.6");
        assert_eq!(fmt_num(1e308), "1e308");
        assert_eq!(fmt_num(-1.5e300), "-1.5e300");
        assert_eq!(fmt_num(f64::INFINITY), "inf");
        let mut v = reading();
        v.temperature_c = Some(1e308);
        let text = check(&v)[0].describe();
        assert_eq!(text, "Temp 1e308 outside the plausible range 25–45");
    }

    #[test]
    fn apnoea_is_plausible() {
        let mut v = reading();
        v.respiratory_rate_bpm = Some(0);
        assert!(check(&v).is_empty());
    }

    #[test]
    fn systolic_must_exceed_diastolic() {
        let mut v = reading();
        v.systolic_mmhg = Some(80);
        v.diastolic_mmhg = Some(80);
        let found = check(&v);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].vital, Vital::Systolic);
        assert_eq!(plausible_value(&v, Vital::Systolic), None);
        assert_eq!(plausible_value(&v, Vital::HeartRate), Some(72.0));
    }
}

//! NEWS2, the National Early Warning Score 2 (Royal College of Physicians, 2017), chart 1 and the
//! clinical response thresholds of chart 2, as in docs/spec.md §3.1.
//!
//! The bands are tables, one row per chart cell, read left to right as on the published chart:
//! `(lowest, highest, score)`, both ends inclusive. Temperature is scored in tenths of a degree after
//! rounding to 0.1 °C, so the chart's 36.0 | 36.1 edge is exact.

use serde::{Deserialize, Serialize};

use crate::record::{Consciousness, Risk};

const LO: i32 = i32::MIN;
const HI: i32 = i32::MAX;

/// A NEWS2 parameter table: `(lowest, highest, score)` rows, both ends inclusive.
pub type Bands = &'static [(i32, i32, u8)];

/// Respiration rate, breaths/min.
pub const RESPIRATION: Bands = &[
    (LO, 8, 3),
    (9, 11, 1),
    (12, 20, 0),
    (21, 24, 2),
    (25, HI, 3),
];

/// SpO2 scale 1, %.
pub const SPO2_SCALE_1: Bands = &[(LO, 91, 3), (92, 93, 2), (94, 95, 1), (96, HI, 0)];

/// SpO2 scale 2 (hypercapnic respiratory failure), %, for a patient on air: ≥ 93 on air scores 0.
pub const SPO2_SCALE_2_AIR: Bands = &[(LO, 83, 3), (84, 85, 2), (86, 87, 1), (88, HI, 0)];

/// SpO2 scale 2, %, for a patient on supplemental oxygen: above 92 the score rises again.
pub const SPO2_SCALE_2_OXYGEN: Bands = &[
    (LO, 83, 3),
    (84, 85, 2),
    (86, 87, 1),
    (88, 92, 0),
    (93, 94, 1),
    (95, 96, 2),
    (97, HI, 3),
];

/// Supplemental oxygen scores 2, air 0.
pub const OXYGEN_SCORE: u8 = 2;

/// Systolic blood pressure, mmHg.
pub const SYSTOLIC: Bands = &[
    (LO, 90, 3),
    (91, 100, 2),
    (101, 110, 1),
    (111, 219, 0),
    (220, HI, 3),
];

/// Pulse, beats/min.
pub const PULSE: Bands = &[
    (LO, 40, 3),
    (41, 50, 1),
    (51, 90, 0),
    (91, 110, 1),
    (111, 130, 2),
    (131, HI, 3),
];

/// Consciousness: alert scores 0, any new confusion, voice, pain or unresponsive 3.
pub const NOT_ALERT_SCORE: u8 = 3;

/// Temperature in tenths of a degree Celsius.
pub const TEMPERATURE_DECI_C: Bands = &[
    (LO, 350, 3),
    (351, 360, 1),
    (361, 380, 0),
    (381, 390, 1),
    (391, HI, 2),
];

/// The `(lowest, highest)` of the row of `bands` that scores 0: the range a chart shades as normal.
/// Every table has exactly one such row.
pub const fn zero_band(bands: Bands) -> (i32, i32) {
    let mut i = 0;
    while i < bands.len() {
        let (lo, hi, score) = bands[i];
        if score == 0 {
            return (lo, hi);
        }
        i += 1;
    }
    panic!("every NEWS2 table has a zero-score row")
}

/// Which SpO2 scale a patient is scored on. Scale 2 only for hypercapnic respiratory failure,
/// prescribed per patient (a target of 88–92 %).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum Spo2Scale {
    #[default]
    #[serde(rename = "1")]
    Scale1,
    #[serde(rename = "2")]
    Scale2,
}

/// The observations NEWS2 scores. Every one must be known for an aggregate.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Observations {
    pub respiratory_rate_bpm: Option<i32>,
    pub spo2_pct: Option<i32>,
    pub on_oxygen: bool,
    pub systolic_mmhg: Option<i32>,
    pub heart_rate_bpm: Option<i32>,
    pub consciousness: Consciousness,
    pub temperature_c: Option<f64>,
}

/// The score of each parameter and their sum.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Score {
    pub respiration: u8,
    pub spo2: u8,
    pub air_or_oxygen: u8,
    pub systolic: u8,
    pub pulse: u8,
    pub consciousness: u8,
    pub temperature: u8,
}

impl Score {
    pub fn parameters(&self) -> [u8; 7] {
        [
            self.respiration,
            self.spo2,
            self.air_or_oxygen,
            self.systolic,
            self.pulse,
            self.consciousness,
            self.temperature,
        ]
    }

    /// The aggregate score, 0–20.
    pub fn total(&self) -> u8 {
        self.parameters().iter().sum()
    }

    /// A score of 3 in any single parameter ("red score").
    pub fn has_single_three(&self) -> bool {
        self.parameters().contains(&3)
    }

    /// The clinical risk band of chart 2.
    pub fn risk(&self) -> Risk {
        match self.total() {
            7.. => Risk::High,
            5..=6 => Risk::Medium,
            _ if self.has_single_three() => Risk::LowMedium,
            _ => Risk::Low,
        }
    }
}

fn band(table: Bands, value: i32) -> u8 {
    table
        .iter()
        .find(|&&(lo, hi, _)| (lo..=hi).contains(&value))
        .map(|&(_, _, s)| s)
        .expect("NEWS2 bands cover every integer")
}

pub fn respiration_score(rr: i32) -> u8 {
    band(RESPIRATION, rr)
}

pub fn spo2_score(spo2: i32, scale: Spo2Scale, on_oxygen: bool) -> u8 {
    match (scale, on_oxygen) {
        (Spo2Scale::Scale1, _) => band(SPO2_SCALE_1, spo2),
        (Spo2Scale::Scale2, false) => band(SPO2_SCALE_2_AIR, spo2),
        (Spo2Scale::Scale2, true) => band(SPO2_SCALE_2_OXYGEN, spo2),
    }
}

pub fn systolic_score(sbp: i32) -> u8 {
    band(SYSTOLIC, sbp)
}

pub fn pulse_score(hr: i32) -> u8 {
    band(PULSE, hr)
}

pub fn consciousness_score(c: Consciousness) -> u8 {
    if c.is_alert() { 0 } else { NOT_ALERT_SCORE }
}

/// Temperature rounded to 0.1 °C (half away from zero), as tenths.
pub fn temperature_deci(t: f64) -> i32 {
    (t * 10.0).round() as i32
}

pub fn temperature_score(t: f64) -> u8 {
    band(TEMPERATURE_DECI_C, temperature_deci(t))
}

/// Scores a full set of observations; `None` when any parameter is unknown.
pub fn score(obs: &Observations, scale: Spo2Scale) -> Option<Score> {
    Some(Score {
        respiration: respiration_score(obs.respiratory_rate_bpm?),
        spo2: spo2_score(obs.spo2_pct?, scale, obs.on_oxygen),
        air_or_oxygen: if obs.on_oxygen { OXYGEN_SCORE } else { 0 },
        systolic: systolic_score(obs.systolic_mmhg?),
        pulse: pulse_score(obs.heart_rate_bpm?),
        consciousness: consciousness_score(obs.consciousness),
        temperature: temperature_score(obs.temperature_c?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use Spo2Scale::*;

    /// Each case is a value on one side of a band edge of chart 1 and the score it must get.
    #[test]
    fn respiration_band_edges() {
        for (rr, s) in [
            (0, 3),
            (8, 3),
            (9, 1),
            (11, 1),
            (12, 0),
            (20, 0),
            (21, 2),
            (24, 2),
            (25, 3),
            (60, 3),
        ] {
            assert_eq!(respiration_score(rr), s, "RR {rr}");
        }
    }

    #[test]
    fn spo2_scale_1_band_edges() {
        for (v, s) in [
            (50, 3),
            (91, 3),
            (92, 2),
            (93, 2),
            (94, 1),
            (95, 1),
            (96, 0),
            (100, 0),
        ] {
            assert_eq!(spo2_score(v, Scale1, false), s, "SpO2 {v} air");
            assert_eq!(
                spo2_score(v, Scale1, true),
                s,
                "SpO2 {v} on O2: scale 1 ignores oxygen"
            );
        }
    }

    #[test]
    fn spo2_scale_2_band_edges_on_air() {
        for (v, s) in [
            (83, 3),
            (84, 2),
            (85, 2),
            (86, 1),
            (87, 1),
            (88, 0),
            (92, 0),
            (93, 0),
            (97, 0),
            (100, 0),
        ] {
            assert_eq!(spo2_score(v, Scale2, false), s, "SpO2 {v} air");
        }
    }

    #[test]
    fn spo2_scale_2_band_edges_on_oxygen() {
        for (v, s) in [
            (83, 3),
            (84, 2),
            (85, 2),
            (86, 1),
            (87, 1),
            (88, 0),
            (92, 0),
            (93, 1),
            (94, 1),
            (95, 2),
            (96, 2),
            (97, 3),
            (100, 3),
        ] {
            assert_eq!(spo2_score(v, Scale2, true), s, "SpO2 {v} O2");
        }
    }

    #[test]
    fn systolic_band_edges() {
        for (v, s) in [
            (60, 3),
            (90, 3),
            (91, 2),
            (100, 2),
            (101, 1),
            (110, 1),
            (111, 0),
            (219, 0),
            (220, 3),
        ] {
            assert_eq!(systolic_score(v), s, "SBP {v}");
        }
    }

    #[test]
    fn pulse_band_edges() {
        for (v, s) in [
            (30, 3),
            (40, 3),
            (41, 1),
            (50, 1),
            (51, 0),
            (90, 0),
            (91, 1),
            (110, 1),
            (111, 2),
            (130, 2),
            (131, 3),
        ] {
            assert_eq!(pulse_score(v), s, "HR {v}");
        }
    }

    #[test]
    fn temperature_band_edges_after_rounding_to_a_tenth() {
        for (t, s) in [
            (34.0, 3),
            (35.0, 3),
            (35.04, 3),
            (35.06, 1),
            (35.1, 1),
            (36.0, 1),
            (36.1, 0),
            (38.0, 0),
            (38.1, 1),
            (39.0, 1),
            (39.1, 2),
            (41.0, 2),
        ] {
            assert_eq!(temperature_score(t), s, "T {t}");
        }
    }

    #[test]
    fn consciousness_and_oxygen() {
        assert_eq!(consciousness_score(Consciousness::A), 0);
        for c in [
            Consciousness::C,
            Consciousness::V,
            Consciousness::P,
            Consciousness::U,
        ] {
            assert_eq!(consciousness_score(c), 3);
        }
        let mut obs = normal();
        obs.on_oxygen = true;
        assert_eq!(score(&obs, Scale1).unwrap().total(), 2);
    }

    fn normal() -> Observations {
        Observations {
            respiratory_rate_bpm: Some(16),
            spo2_pct: Some(97),
            on_oxygen: false,
            systolic_mmhg: Some(120),
            heart_rate_bpm: Some(72),
            consciousness: Consciousness::A,
            temperature_c: Some(36.8),
        }
    }

    #[test]
    fn aggregate_and_risk_bands() {
        let s = score(&normal(), Scale1).unwrap();
        assert_eq!((s.total(), s.risk()), (0, Risk::Low));

        let mut o = normal();
        o.respiratory_rate_bpm = Some(26); // 3 alone
        let s = score(&o, Scale1).unwrap();
        assert_eq!((s.total(), s.risk()), (3, Risk::LowMedium));

        o.heart_rate_bpm = Some(115); // +2 → 5
        let s = score(&o, Scale1).unwrap();
        assert_eq!((s.total(), s.risk()), (5, Risk::Medium));

        o.temperature_c = Some(39.5); // +2 → 7
        let s = score(&o, Scale1).unwrap();
        assert_eq!((s.total(), s.risk()), (7, Risk::High));

        let mut o = normal();
        o.heart_rate_bpm = Some(95);
        o.temperature_c = Some(38.5);
        o.spo2_pct = Some(95);
        o.respiratory_rate_bpm = Some(10); // 1+1+1+1 = 4, no single 3
        let s = score(&o, Scale1).unwrap();
        assert_eq!((s.total(), s.risk()), (4, Risk::Low));
    }

    #[test]
    fn any_unknown_parameter_gives_no_aggregate() {
        let mut o = normal();
        o.systolic_mmhg = None;
        assert_eq!(score(&o, Scale1), None);
        let mut o = normal();
        o.temperature_c = None;
        assert_eq!(score(&o, Scale1), None);
    }
}

//! The deterioration a ward sees: each scenario is a time course (onset ramp, peak, treatment,
//! recovery) and, at each level of it, the change it makes to the vital signs, following the
//! clinical picture of docs/spec.md §4.
//!
//! Scenarios come from a script (`--scenario FILE`, read by [`crate::script`]) or are drawn at
//! random (`--events-per-day`).

use vitals_core::{Consciousness, Scenario};

use crate::cohort::Baseline;
use crate::physiology::{FEVER_HR_BPM_PER_C, FEVER_RR_PER_C};
use crate::random::SimRng;

const MIN: i64 = 60_000;
const HOUR: i64 = 3_600_000;

/// Relative frequency of random events (`--events-per-day`), in the order of [`Scenario::ALL`].
const RANDOM_WEIGHTS: [f64; 8] = [0.18, 0.08, 0.16, 0.10, 0.12, 0.10, 0.20, 0.06];

/// The time course cardio-sim gives each scenario unless a script says otherwise.
pub trait TimeCourse {
    /// Default time from first sign to the peak (for `recovery`: to baseline).
    fn default_onset_ms(self) -> i64;
    /// Default time from treatment back to baseline.
    fn default_recover_ms(self) -> i64;
}

impl TimeCourse for Scenario {
    fn default_onset_ms(self) -> i64 {
        match self {
            Scenario::Sepsis => 3 * HOUR,
            Scenario::Haemorrhage => HOUR,
            Scenario::Hypoxia => 4 * MIN,
            Scenario::Bradycardia => 10 * MIN,
            Scenario::AfRvr => 2 * MIN,
            Scenario::HypertensiveCrisis => 30 * MIN,
            Scenario::Fever => 2 * HOUR,
            Scenario::Recovery => 4 * HOUR,
        }
    }

    fn default_recover_ms(self) -> i64 {
        match self {
            Scenario::Sepsis => 6 * HOUR,
            Scenario::Haemorrhage => HOUR,
            Scenario::Hypoxia => 5 * MIN,
            Scenario::Bradycardia => 5 * MIN,
            Scenario::AfRvr => 30 * MIN,
            Scenario::HypertensiveCrisis => 2 * HOUR,
            Scenario::Fever => 3 * HOUR,
            Scenario::Recovery => 0,
        }
    }
}

/// What one scenario will do to one patient.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Plan {
    pub kind: Scenario,
    /// 0–1: how far the deterioration goes at its peak.
    pub severity: f64,
    pub onset_ms: i64,
    /// Time at the peak before treatment starts; `None`: never treated within the run.
    pub hold_ms: Option<i64>,
    pub recover_ms: i64,
    /// Sepsis only: the hypothermic presentation (T < 36 rather than > 38).
    pub hypothermic: bool,
}

impl Plan {
    /// A random event for `--events-per-day`: severity 0–1 (every severity meets the scenario's
    /// clinical definition at its peak, see [`PEAK`]), always treated after 15 min to 2 h at the
    /// peak (minutes for the acute ones).
    pub fn random(rng: &mut SimRng) -> Plan {
        let kind = Scenario::ALL[rng.weighted(&RANDOM_WEIGHTS)];
        let hold_ms = match kind {
            Scenario::Hypoxia | Scenario::Bradycardia | Scenario::AfRvr => {
                rng.range(2.0, 15.0) * MIN as f64
            }
            _ => rng.range(15.0, 120.0) * MIN as f64,
        };
        Plan {
            kind,
            severity: rng.range(0.0, 1.0),
            onset_ms: kind.default_onset_ms(),
            hold_ms: Some(hold_ms as i64),
            recover_ms: kind.default_recover_ms(),
            hypothermic: kind == Scenario::Sepsis && rng.chance(0.15),
        }
    }
}

/// Where in its time course a scenario is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Stage {
    Onset,
    Peak,
    Treated,
    Done,
}

impl Stage {
    pub fn name(self) -> &'static str {
        match self {
            Stage::Onset => "onset",
            Stage::Peak => "peak",
            Stage::Treated => "treated",
            Stage::Done => "end",
        }
    }
}

/// What a scenario adds to the vital signs at one moment. Additive, in the record's units.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Effects {
    pub heart_rate_bpm: f64,
    pub respiratory_rate_bpm: f64,
    pub spo2_pct: f64,
    pub temperature_c: f64,
    pub systolic_mmhg: f64,
    pub diastolic_mmhg: f64,
    /// Beat-to-beat irregularity (SD of the instantaneous rate, bpm) instead of the baseline's.
    pub hr_irregularity_bpm: f64,
    pub on_oxygen: bool,
    pub consciousness: Consciousness,
}

impl Effects {
    pub const NONE: Effects = Effects {
        heart_rate_bpm: 0.0,
        respiratory_rate_bpm: 0.0,
        spo2_pct: 0.0,
        temperature_c: 0.0,
        systolic_mmhg: 0.0,
        diastolic_mmhg: 0.0,
        hr_irregularity_bpm: 0.0,
        on_oxygen: false,
        consciousness: Consciousness::A,
    };
}

/// Piecewise-linear interpolation in a table of `(x, y)` points sorted by `x`.
fn interpolate(table: &[(f64, f64)], x: f64) -> f64 {
    if x <= table[0].0 {
        return table[0].1;
    }
    for w in table.windows(2) {
        let ((x0, y0), (x1, y1)) = (w[0], w[1]);
        if x <= x1 {
            return y0 + (y1 - y0) * (x - x0) / (x1 - x0);
        }
    }
    table[table.len() - 1].1
}

/// Haemorrhage, ATLS (10th ed.) classes by fraction of blood volume lost: I < 15 %, II 15–30 %,
/// III 30–40 %, IV > 40 %, with HR < 100, 100–120, 120–140, > 140. Rows: (loss, change).
const BLEED_HR: &[(f64, f64)] = &[
    (0.0, 0.0),
    (0.15, 22.0),
    (0.30, 42.0),
    (0.40, 60.0),
    (0.45, 78.0),
];
/// Pulse pressure narrows in class II (diastolic up, systolic held) before systolic falls in III.
const BLEED_SBP: &[(f64, f64)] = &[
    (0.0, 0.0),
    (0.15, 0.0),
    (0.30, -5.0),
    (0.40, -30.0),
    (0.45, -50.0),
];
const BLEED_DBP: &[(f64, f64)] = &[
    (0.0, 0.0),
    (0.15, 5.0),
    (0.30, 9.0),
    (0.40, -8.0),
    (0.45, -22.0),
];
const BLEED_RR: &[(f64, f64)] = &[
    (0.0, 0.0),
    (0.15, 3.0),
    (0.30, 9.0),
    (0.40, 16.0),
    (0.45, 21.0),
];
/// ATLS class II–IV rates are absolute: HR > 100, 120, 140 and RR 20–30, 30–40, > 35 (ATLS 10th ed.).
const BLEED_HR_AT_LEAST: &[(f64, f64)] = &[
    (0.0, 0.0),
    (0.15, 102.0),
    (0.30, 122.0),
    (0.40, 142.0),
    (0.45, 155.0),
];
const BLEED_RR_AT_LEAST: &[(f64, f64)] = &[
    (0.0, 0.0),
    (0.15, 21.0),
    (0.30, 27.0),
    (0.40, 33.0),
    (0.45, 37.0),
];
/// Blood volume lost at the peak: 20 % (well inside class II, HR > 100) at severity 0, 45 %
/// (class IV) at severity 1.
const BLEED_MIN_LOSS: f64 = 0.20;
const BLEED_MAX_LOSS: f64 = 0.45;

/// ATLS class (1–4) for a fraction of blood volume lost.
pub fn atls_class(loss: f64) -> u8 {
    match loss {
        l if l < 0.15 => 1,
        l if l < 0.30 => 2,
        l if l < 0.40 => 3,
        _ => 4,
    }
}

/// A scenario under way in one patient.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Active {
    pub plan: Plan,
    pub started_ms: i64,
    /// Ground-truth episode number.
    pub episode: u32,
    /// The last stage announced in the truth file.
    pub stage: Stage,
    /// Haemorrhage: the last ATLS class announced.
    pub class: u8,
}

impl Active {
    pub fn new(plan: Plan, started_ms: i64, episode: u32) -> Self {
        Active {
            plan,
            started_ms,
            episode,
            stage: if plan.kind == Scenario::Recovery {
                Stage::Treated
            } else {
                Stage::Onset
            },
            class: 1,
        }
    }

    /// Level (0–1) of the deterioration and the stage at event time `t_ms`.
    pub fn level_at(&self, t_ms: i64) -> (f64, Stage) {
        let p = &self.plan;
        let t = (t_ms - self.started_ms).max(0);
        if p.kind == Scenario::Recovery {
            // Starts unwell and settles linearly over `onset`.
            return if t >= p.onset_ms {
                (0.0, Stage::Done)
            } else {
                (1.0 - t as f64 / p.onset_ms.max(1) as f64, Stage::Treated)
            };
        }
        if t < p.onset_ms {
            return (t as f64 / p.onset_ms.max(1) as f64, Stage::Onset);
        }
        let Some(hold) = p.hold_ms else {
            return (1.0, Stage::Peak);
        };
        let t = t - p.onset_ms;
        if t < hold {
            return (1.0, Stage::Peak);
        }
        let t = t - hold;
        if t < p.recover_ms {
            (1.0 - t as f64 / p.recover_ms.max(1) as f64, Stage::Treated)
        } else {
            (0.0, Stage::Done)
        }
    }

    /// Blood volume lost at `level` (haemorrhage): from 20 % (ATLS class II) at severity 0 to 45 %
    /// (class IV) at severity 1, so every haemorrhage reaches class II at its peak.
    pub fn blood_loss(&self, level: f64) -> f64 {
        let s = self.plan.severity;
        (BLEED_MIN_LOSS + (BLEED_MAX_LOSS - BLEED_MIN_LOSS) * s) * level
    }

    /// The change to the vital signs at `level` in `stage`. The peak of each scenario is set on the
    /// clinical definition of its name ([`PEAK`]): severity 0 is the definition's threshold (with
    /// room for the circadian rhythm, so it holds at any hour), severity 1 the severe end.
    pub fn effects(&self, level: f64, stage: Stage, base: &Baseline) -> Effects {
        let s = self.plan.severity;
        let x = s * level;
        let treated = stage == Stage::Treated;
        let mut e = Effects::NONE;
        // The change that takes the patient's own baseline to a peak value, scaled by the level.
        let to = |peak: (f64, f64), from: f64| (at_severity(peak, s) - from) * level;
        match self.plan.kind {
            Scenario::Sepsis => {
                // SIRS (T > 38 or < 36, HR > 90, RR > 20) and qSOFA (RR ≥ 22, SBP ≤ 100, altered
                // mentation), docs/spec.md §4: at severity 0 NEWS2 already reads 6 or more at the peak
                // (RR 2, HR 1, T 1, SBP 2, SpO2 0–1).
                let temp = if self.plan.hypothermic {
                    PEAK.sepsis_temp_hypothermic_c
                } else {
                    PEAK.sepsis_temp_c
                };
                let dt = at_severity(temp, s) - base.temperature_c;
                e.temperature_c = dt * level;
                // HR and RR also follow the temperature through the fever coupling: the scenario
                // adds what the coupling does not.
                e.heart_rate_bpm = (at_severity(PEAK.sepsis_hr_bpm, s)
                    - base.heart_rate_bpm
                    - FEVER_HR_BPM_PER_C * dt)
                    .max(0.0)
                    * level;
                e.respiratory_rate_bpm = (at_severity(PEAK.sepsis_rr_bpm, s)
                    - base.respiratory_rate_bpm
                    - FEVER_RR_PER_C * dt)
                    .max(0.0)
                    * level;
                e.spo2_pct = -(2.0 + 4.0 * s) * level;
                e.systolic_mmhg = to(PEAK.sepsis_sbp_mmhg, base.systolic_mmhg).min(-10.0 * level);
                e.diastolic_mmhg = to(PEAK.sepsis_dbp_mmhg, base.diastolic_mmhg).min(-5.0 * level);
                // qSOFA's altered mentation, late and in the more severe half.
                e.consciousness = if s >= 0.5 && level > 0.85 {
                    Consciousness::C
                } else {
                    Consciousness::A
                };
                e.on_oxygen = treated;
            }
            Scenario::Haemorrhage => {
                let loss = self.blood_loss(level);
                // ATLS HR and RR bands are absolute (class II HR 100–120, RR 20–30): a patient with
                // a low resting rate still reaches them; the relative rise applies where larger.
                e.heart_rate_bpm = interpolate(BLEED_HR, loss)
                    .max(interpolate(BLEED_HR_AT_LEAST, loss) - base.heart_rate_bpm);
                if treated {
                    // Haemostasis, fluids and blood restore the circulating volume first: the
                    // pressures go straight back from the peak's to the patient's own systolic and
                    // diastolic over the first half of the recovery (not back through the narrowed
                    // pulse pressure of class II), while HR and RR settle over all of it.
                    let peak = self.blood_loss(1.0);
                    let bp_level = (2.0 * level - 1.0).max(0.0);
                    e.systolic_mmhg = interpolate(BLEED_SBP, peak) * bp_level;
                    e.diastolic_mmhg = interpolate(BLEED_DBP, peak) * bp_level;
                } else {
                    e.systolic_mmhg = interpolate(BLEED_SBP, loss);
                    e.diastolic_mmhg = interpolate(BLEED_DBP, loss);
                }
                e.respiratory_rate_bpm = interpolate(BLEED_RR, loss)
                    .max(interpolate(BLEED_RR_AT_LEAST, loss) - base.respiratory_rate_bpm);
                e.spo2_pct = -2.0 * x;
                e.consciousness = match atls_class(loss) {
                    4 => Consciousness::V,
                    3 => Consciousness::C,
                    _ => Consciousness::A,
                };
            }
            Scenario::Hypoxia => {
                // Hypoxaemia: SpO2 < 90 % (a COPD patient: at least 6 below the usual 88–92 %).
                e.spo2_pct = to(PEAK.hypoxia_spo2_pct, base.spo2_pct).min(-6.0 * level);
                e.respiratory_rate_bpm = (4.0 + 6.0 * s) * level;
                e.heart_rate_bpm = (10.0 + 10.0 * s) * level;
                e.consciousness = if s > 0.7 && level > 0.9 {
                    Consciousness::C
                } else {
                    Consciousness::A
                };
                e.on_oxygen = treated;
            }
            Scenario::Bradycardia => {
                // Below the hr_low limit at any hour; a patient whose resting rate is already low
                // (an athlete) falls to 75 % of it.
                let peak = at_severity(PEAK.bradycardia_hr_bpm, s).min(0.75 * base.heart_rate_bpm);
                e.heart_rate_bpm = (peak - base.heart_rate_bpm).min(0.0) * level;
                e.systolic_mmhg = -15.0 * x;
                e.diastolic_mmhg = -8.0 * x;
                e.consciousness = if x > 0.85 {
                    Consciousness::C
                } else {
                    Consciousness::A
                };
            }
            Scenario::AfRvr => {
                e.heart_rate_bpm = to(PEAK.af_rvr_hr_bpm, base.heart_rate_bpm).max(0.0);
                e.hr_irregularity_bpm = 6.0 + 12.0 * level;
                e.systolic_mmhg = -12.0 * x;
                e.diastolic_mmhg = -6.0 * x;
            }
            Scenario::HypertensiveCrisis => {
                e.systolic_mmhg = to(PEAK.crisis_sbp_mmhg, base.systolic_mmhg).max(0.0);
                e.diastolic_mmhg = to(PEAK.crisis_dbp_mmhg, base.diastolic_mmhg).max(0.0);
                e.heart_rate_bpm = 8.0 * x;
                e.respiratory_rate_bpm = 2.0 * x;
                e.consciousness = if x > 0.9 {
                    Consciousness::C
                } else {
                    Consciousness::A
                };
            }
            Scenario::Fever => {
                e.temperature_c = to(PEAK.fever_temp_c, base.temperature_c).max(0.0);
            }
            Scenario::Recovery => {
                e.temperature_c = 1.0 * x;
                e.heart_rate_bpm = 22.0 * x;
                e.respiratory_rate_bpm = 6.0 * x;
                e.spo2_pct = -3.0 * x;
                e.systolic_mmhg = -12.0 * x;
                e.on_oxygen = level > 0.5;
            }
        }
        e
    }
}

/// The value at `severity` between a scenario's (severity 0, severity 1) peak values.
fn at_severity((mild, severe): (f64, f64), severity: f64) -> f64 {
    mild + (severe - mild) * severity
}

/// Where each scenario peaks, as (severity 0, severity 1), on the patient's daily mean (before the
/// circadian rhythm, docs/spec.md §4: T ±0.25 °C, HR ±6 %, BP ±4.5 %). Severity 0 is the clinical
/// definition's threshold plus the circadian swing, so the definition holds at the peak at any hour.
pub struct Peaks {
    /// Fever: T ≥ 38.1 °C, NEWS2's first temperature band (RCP 2017); 38.4 stays ≥ 38.1 at the 07 h
    /// low.
    pub fever_temp_c: (f64, f64),
    /// Sepsis (SIRS T > 38 °C) …
    pub sepsis_temp_c: (f64, f64),
    /// … or its hypothermic presentation (T < 36 °C).
    pub sepsis_temp_hypothermic_c: (f64, f64),
    /// SIRS HR > 90: 100 stays above it at the night-time low (−6 %).
    pub sepsis_hr_bpm: (f64, f64),
    /// qSOFA RR ≥ 22 (SIRS > 20).
    pub sepsis_rr_bpm: (f64, f64),
    /// qSOFA SBP ≤ 100, reached even in the afternoon (+4.5 % of the baseline); 75 is septic shock.
    pub sepsis_sbp_mmhg: (f64, f64),
    pub sepsis_dbp_mmhg: (f64, f64),
    /// Hypoxaemia: SpO2 < 90 %, with room for the oximeter's ±2 % error.
    pub hypoxia_spo2_pct: (f64, f64),
    /// Bradycardia below docs/spec.md §3.2's hr_low limit (50) even at the afternoon high (+6 %).
    pub bradycardia_hr_bpm: (f64, f64),
    /// AF with rapid ventricular response: rate > 110, untreated often ≥ 150 (docs/spec.md §4); 130 stays
    /// above hr_high's 120 at night.
    pub af_rvr_hr_bpm: (f64, f64),
    /// Hypertensive crisis: SBP ≥ 180 and/or DBP ≥ 110–120 (ACC/AHA 2017); 190 stays ≥ 180 with
    /// nocturnal dipping.
    pub crisis_sbp_mmhg: (f64, f64),
    pub crisis_dbp_mmhg: (f64, f64),
}

pub const PEAK: Peaks = Peaks {
    fever_temp_c: (38.4, 40.0),
    sepsis_temp_c: (38.5, 39.6),
    sepsis_temp_hypothermic_c: (35.6, 34.8),
    sepsis_hr_bpm: (100.0, 130.0),
    sepsis_rr_bpm: (23.0, 32.0),
    sepsis_sbp_mmhg: (92.0, 75.0),
    sepsis_dbp_mmhg: (58.0, 42.0),
    hypoxia_spo2_pct: (86.0, 72.0),
    bradycardia_hr_bpm: (43.0, 35.0),
    af_rvr_hr_bpm: (130.0, 175.0),
    crisis_sbp_mmhg: (190.0, 230.0),
    crisis_dbp_mmhg: (115.0, 130.0),
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cohort;

    fn base() -> Baseline {
        cohort::draw(&mut SimRng::new(1, 0)).1
    }

    #[test]
    fn time_course_ramps_holds_treats_and_ends() {
        let plan = Plan {
            kind: Scenario::Sepsis,
            severity: 1.0,
            onset_ms: 100,
            hold_ms: Some(50),
            recover_ms: 100,
            hypothermic: false,
        };
        let a = Active::new(plan, 1000, 1);
        assert_eq!(a.level_at(1050), (0.5, Stage::Onset));
        assert_eq!(a.level_at(1120), (1.0, Stage::Peak));
        assert_eq!(a.level_at(1200), (0.5, Stage::Treated));
        assert_eq!(a.level_at(1250).1, Stage::Done);
    }

    /// The peak of every scenario meets its clinical definition at any severity, for every profile's
    /// baselines, at the worst hour of the circadian rhythm (T ±0.25 °C, HR ±6 %, BP ±4.5 %).
    #[test]
    fn every_severity_meets_the_clinical_definition_at_its_peak() {
        let peak = |kind: Scenario, severity: f64, hypothermic: bool, b: &Baseline| {
            let plan = Plan {
                kind,
                severity,
                onset_ms: 1,
                hold_ms: None,
                recover_ms: 1,
                hypothermic,
            };
            Active::new(plan, 0, 1).effects(1.0, Stage::Peak, b)
        };
        for i in 0..3000 {
            let b = cohort::draw(&mut SimRng::new(5, i)).1;
            for severity in [0.0, 0.3, 0.7, 1.0] {
                let e = peak(Scenario::Fever, severity, false, &b);
                assert!(b.temperature_c - 0.25 + e.temperature_c >= 38.1);

                let e = peak(Scenario::HypertensiveCrisis, severity, false, &b);
                assert!(b.systolic_mmhg * 0.955 + e.systolic_mmhg >= 180.0);

                for hypothermic in [false, true] {
                    let e = peak(Scenario::Sepsis, severity, hypothermic, &b);
                    let t = b.temperature_c + e.temperature_c;
                    assert!(if hypothermic {
                        t + 0.25 < 36.0
                    } else {
                        t - 0.25 > 38.0
                    });
                    let dt = e.temperature_c;
                    let hr = b.heart_rate_bpm * 0.94 + e.heart_rate_bpm + FEVER_HR_BPM_PER_C * dt;
                    let rr = b.respiratory_rate_bpm * 0.97
                        + e.respiratory_rate_bpm
                        + FEVER_RR_PER_C * dt;
                    assert!(hr > 90.0, "SIRS HR {hr}");
                    assert!(rr >= 22.0, "qSOFA RR {rr}");
                    assert!(b.systolic_mmhg * 1.045 + e.systolic_mmhg <= 100.0);
                }

                let e = peak(Scenario::Haemorrhage, severity, false, &b);
                assert!(
                    b.heart_rate_bpm * 0.94 + e.heart_rate_bpm > 100.0,
                    "ATLS class II"
                );

                let e = peak(Scenario::Hypoxia, severity, false, &b);
                assert!(b.spo2_pct + 2.0 + e.spo2_pct < 90.0);

                let e = peak(Scenario::Bradycardia, severity, false, &b);
                assert!(b.heart_rate_bpm * 1.06 + e.heart_rate_bpm < 50.0);

                let e = peak(Scenario::AfRvr, severity, false, &b);
                assert!(b.heart_rate_bpm * 0.94 + e.heart_rate_bpm > 120.0);
            }
        }
    }

    #[test]
    fn haemorrhage_raises_hr_and_narrows_pulse_pressure_before_sbp_falls() {
        let plan = Plan {
            kind: Scenario::Haemorrhage,
            severity: 1.0,
            onset_ms: 1,
            hold_ms: None,
            recover_ms: 1,
            hypothermic: false,
        };
        let a = Active::new(plan, 0, 1);
        let b = base();
        // Class II: 15–30 % lost.
        let class2 = a.effects(0.5, Stage::Onset, &b);
        assert_eq!(atls_class(a.blood_loss(0.5)), 2);
        assert!(class2.heart_rate_bpm > 20.0);
        assert!(class2.systolic_mmhg > -5.0 && class2.diastolic_mmhg > 0.0);
        let class4 = a.effects(1.0, Stage::Peak, &b);
        assert!(class4.systolic_mmhg < -40.0);
        assert_eq!(atls_class(a.blood_loss(1.0)), 4);
    }
}

//! The kind of ward cardio-sim simulates (`--unit`): who its patients are and how their vital signs
//! sit, calibrated against real patients.
//!
//! - `general` is the ward the simulator always had (docs/spec.md §4's healthy-adult baselines on an
//!   older medical mix, no spontaneous events): its output is unchanged, so figures measured on it
//!   stand.
//! - `icu` draws each patient's baselines so that the vital signs, sampled hourly as ICU charting
//!   samples them, have the percentiles of real ICU patients ([`ICU_PERCENTILES`]).
//! - `surgical` and `medical` start from the healthy-adult baselines, shifted as post-operative and
//!   acute medical patients are, and get their realism mostly from the spontaneous events of
//!   [`crate::spontaneous`], whose rates are calibrated against continuous-monitoring studies of such
//!   wards ([`crate::spontaneous::PUBLISHED`]).
//!
//! `bench/realism.sh` prints every figure here against the simulated ward.

use clap::builder::PossibleValue;

use crate::cohort::{self, Baseline, Demographics, Profile, Sex};
use crate::random::SimRng;

/// A hospital unit: the cohort, baselines and spontaneous events of its patients. The type is
/// the stream's own (`admission.unit`, docs/spec.md §1); what each unit means for the simulated
/// patients is here.
pub use vitals_core::CareUnit as Unit;

/// `--unit`: the units' names, each with what it simulates, for `--help`.
pub fn possible_values() -> [PossibleValue; 4] {
    [
        PossibleValue::new("general")
            .help("The general adult ward: healthy-adult baselines, no spontaneous events"),
        PossibleValue::new("medical")
            .help("An acute medical ward: older patients, more COPD and AF, sleep desaturations"),
        PossibleValue::new("surgical").help(
            "A surgical ward in the first post-operative days: opioid and sleep desaturations, \
             bradypnoea, tachycardia, hypotension on getting up",
        ),
        PossibleValue::new("icu").help(
            "An intensive care unit: baselines spread like real ICU patients' charted values",
        ),
    ]
}

/// What a unit means for the simulated cohort.
pub trait Cohort {
    /// Share of each chronic profile, in the order of [`Profile::ALL`] (general, copd,
    /// hypertension, athlete, af).
    fn profile_mix(self) -> [f64; 5];
    /// A patient of this unit: who, and the baselines it reverts to.
    fn draw_patient(self, rng: &mut SimRng) -> (Demographics, Baseline);
}

impl Cohort for Unit {
    fn profile_mix(self) -> [f64; 5] {
        match self {
            Unit::General => Profile::WARD_MIX,
            // Acute medicine: COPD exacerbations and AF are among its commonest admissions.
            Unit::Medical => [0.42, 0.18, 0.28, 0.0, 0.12],
            Unit::Surgical => [0.62, 0.07, 0.25, 0.0, 0.06],
            Unit::Icu => [0.66, 0.10, 0.14, 0.0, 0.10],
        }
    }

    /// Draws one patient of this unit: the same `rng` state always gives the same patient. The
    /// general ward draws exactly as it always did.
    fn draw_patient(self, rng: &mut SimRng) -> (Demographics, Baseline) {
        if self == Unit::General {
            return cohort::draw(rng);
        }
        let profile = Profile::ALL[rng.weighted(&self.profile_mix())];
        let sex = cohort::draw_sex(rng);
        let (mean, sd, lo) = match self {
            // Acute medical admissions are old: mean age in the mid seventies.
            Unit::Medical => (74.0, 13.0, 18.0),
            // Sun et al. 2015 monitored patients over 45 after non-cardiac surgery.
            Unit::Surgical => (66.0, 11.0, 45.0),
            // MIMIC-III adult ICU stays: median age 65.8 (Johnson et al., Sci Data 2016).
            _ => (64.0, 16.0, 18.0),
        };
        let age = rng.normal_truncated(mean, sd, lo, 99.0);
        let (who, mut b) = cohort::draw_baseline(profile, sex, age, rng);
        match self {
            Unit::General => {}
            Unit::Medical => {
                // Acutely ill: a little faster HR and RR, SpO2 a little lower than at home.
                b.heart_rate_bpm += 4.0;
                b.respiratory_rate_bpm += 1.0;
                b.spo2_pct -= 0.8;
            }
            Unit::Surgical => {
                // Post-operative day 1–2: pain and the stress response raise HR, the inflammatory
                // response the temperature; atelectasis lowers SpO2.
                b.heart_rate_bpm += 6.0;
                b.temperature_c += 0.2;
                b.spo2_pct -= 1.5;
            }
            Unit::Icu => b = icu_baseline(&who, &b, rng),
        }
        (who, b)
    }
}

/// One vital's real distribution: percentiles p5, p25, p50, p75, p95 of values charted in real
/// ICUs, with the source they come from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Percentiles {
    /// The vital as the stream names it (`heart_rate_bpm`, …).
    pub vital: &'static str,
    /// p5, p25, p50, p75, p95.
    pub p: [f64; 5],
    /// How far (±, the vital's unit) each simulated percentile may sit from the real one: a fifth
    /// to a third of the real interquartile range (HR 5 of 25 bpm, SBP 8 of 34 mmHg); one whole
    /// per cent for SpO2, whose quartiles are 4 apart.
    pub tolerance: f64,
    pub source: &'static str,
}

/// The percentiles of real ICU vital signs the `icu` unit is drawn to match (values charted about
/// hourly; NIBP every 5–60 min). MIMIC-III Clinical Database Demo v1.4 (Johnson, Pollard, Mark,
/// PhysioNet, doi:10.13026/C2HM2Q; ODbL) for HR, SpO2, RR and temperature; eICU Collaborative
/// Research Database Demo v2.0 (Pollard et al., Sci Data 2018, doi:10.1038/sdata.2018.178; ODbL)
/// for the cuff pressures. PhysioNet/CinC Challenge 2012 sets a and b (Silva et al., Comput Cardiol
/// 2012) agree within 1–3 units at every percentile.
pub const ICU_PERCENTILES: [Percentiles; 6] = [
    Percentiles {
        vital: "heart_rate_bpm",
        p: [58.0, 75.0, 87.0, 100.0, 120.0],
        tolerance: 5.0,
        source: "MIMIC-III demo v1.4, 15,470 HR values",
    },
    Percentiles {
        vital: "spo2_pct",
        p: [92.0, 96.0, 98.0, 100.0, 100.0],
        tolerance: 1.0,
        source: "MIMIC-III demo v1.4, 15,286 SpO2 values",
    },
    Percentiles {
        vital: "respiratory_rate_bpm",
        p: [11.0, 15.0, 20.0, 25.0, 32.0],
        tolerance: 2.0,
        source: "MIMIC-III demo v1.4, 14,996 RR values",
    },
    Percentiles {
        vital: "temperature_c",
        p: [35.6, 36.3, 36.9, 37.5, 38.4],
        tolerance: 0.3,
        source: "MIMIC-III demo v1.4, 4,662 temperature values",
    },
    Percentiles {
        vital: "systolic_mmhg",
        p: [84.0, 103.0, 118.0, 137.0, 167.0],
        tolerance: 8.0,
        source: "eICU demo v2.0, 241,768 NIBP systolic values",
    },
    Percentiles {
        vital: "diastolic_mmhg",
        p: [43.0, 54.0, 63.0, 74.0, 94.0],
        tolerance: 6.0,
        source: "eICU demo v2.0, 241,730 NIBP diastolic values",
    },
];

/// Standard normal deviates of p5, p25, p50, p75, p95.
const Z_KNOTS: [f64; 5] = [-1.645, -0.674, 0.0, 0.674, 1.645];

/// How much of each vital's real spread ([`ICU_PERCENTILES`], same order) is spread between
/// patients' baselines: the rest comes from each patient's own variation (mean-reverting wander,
/// circadian rhythm, measurement noise; larger for the cuff than for HR). SpO2 is shifted rather
/// than shrunk, see [`icu_baseline`]. Tuned with `bench/realism.sh`.
const ICU_BETWEEN_PATIENT_SHARE: [f64; 6] = [0.96, 1.0, 0.97, 0.93, 0.93, 0.90];

/// The value at standard normal deviate `z` of a distribution with percentiles `p` (p5…p95):
/// piecewise linear between the percentiles and along the outer segments beyond them.
pub fn at_deviate(p: &[f64; 5], z: f64) -> f64 {
    let i = match Z_KNOTS.iter().position(|k| z < *k) {
        Some(0) => 1,
        Some(i) => i,
        None => 4,
    };
    let (z0, z1) = (Z_KNOTS[i - 1], Z_KNOTS[i]);
    p[i - 1] + (p[i] - p[i - 1]) * (z - z0) / (z1 - z0)
}

/// A standard normal deviate truncated to ±2.6 (p0.5–p99.5), drawn again when outside.
fn deviate(rng: &mut SimRng) -> f64 {
    rng.normal_truncated(0.0, 1.0, -2.6, 2.6)
}

/// An ICU patient's baselines: each vital drawn at a random deviate of its real distribution,
/// narrowed around the median by [`ICU_BETWEEN_PATIENT_SHARE`]. Systolic and diastolic share 70 %
/// of their deviate (they are correlated), and a pulse pressure of at least 20 mmHg. AF keeps its
/// irregular beat. SpO2 comes from the ICU's distribution for COPD too: on controlled oxygen, an
/// ICU's COPD patients read no lower than its others (an 88–92 % baseline for a tenth of patients
/// put the simulated p5 at 90 against the real 92).
fn icu_baseline(who: &Demographics, b: &Baseline, rng: &mut SimRng) -> Baseline {
    let draw = |i: usize, z: f64| {
        let p = &ICU_PERCENTILES[i].p;
        let share = ICU_BETWEEN_PATIENT_SHARE[i];
        p[2] + (at_deviate(p, z) - p[2]) * share
    };
    let hr = draw(0, deviate(rng));
    // SpO2: the real values pile up at 100 (a quarter of them), which a display capped at 100
    // reproduces only if a quarter of patients sit at or above it before the cap: the patient's true
    // saturation is capped at 100 too, so a baseline above 100 means "saturated with reserve".
    let spo2 = draw(1, deviate(rng)) + 0.9;
    let rr = draw(2, deviate(rng));
    let temp = draw(3, deviate(rng));
    let (sbp, dbp) = loop {
        let zs = deviate(rng);
        let zd = 0.7 * zs + 0.714 * deviate(rng);
        let (s, d) = (draw(4, zs), draw(5, zd));
        if s - d >= 20.0 {
            break (s, d);
        }
    };
    Baseline {
        heart_rate_bpm: hr,
        respiratory_rate_bpm: rr,
        spo2_pct: spo2,
        temperature_c: temp + if who.sex == Sex::Female { 0.1 } else { 0.0 },
        systolic_mmhg: sbp,
        diastolic_mmhg: dbp,
        hr_irregularity_bpm: b.hr_irregularity_bpm,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_mixes_add_up() {
        let flag_values = possible_values();
        for (u, value) in Unit::ALL.into_iter().zip(&flag_values) {
            assert_eq!(Unit::from_name(u.as_str()), Some(u));
            assert_eq!(value.get_name(), u.as_str(), "the flag value is the name");
            assert!((u.profile_mix().iter().sum::<f64>() - 1.0).abs() < 1e-9);
        }
        assert_eq!(Unit::default(), Unit::General);
    }

    #[test]
    fn at_deviate_passes_through_the_percentiles() {
        let p = [58.0, 75.0, 87.0, 100.0, 120.0];
        for (k, z) in Z_KNOTS.iter().enumerate() {
            assert!((at_deviate(&p, *z) - p[k]).abs() < 1e-9);
        }
        assert!(at_deviate(&p, -2.5) < 58.0 && at_deviate(&p, 2.5) > 120.0);
    }

    /// The general ward draws the same patients as before units existed.
    #[test]
    fn general_unit_draws_the_general_cohort() {
        for i in 0..200 {
            assert_eq!(
                Unit::General.draw_patient(&mut SimRng::new(9, i)),
                cohort::draw(&mut SimRng::new(9, i))
            );
        }
    }

    #[test]
    fn icu_baselines_are_spread_and_keep_a_pulse_pressure() {
        let mut hr = Vec::new();
        for i in 0..4000 {
            let (who, b) = Unit::Icu.draw_patient(&mut SimRng::new(4, i));
            assert!(b.systolic_mmhg - b.diastolic_mmhg >= 20.0);
            if who.profile == Profile::AtrialFibrillation {
                assert!(b.hr_irregularity_bpm > 0.0);
            }
            hr.push(b.heart_rate_bpm);
        }
        hr.sort_by(f64::total_cmp);
        let (p5, p95) = (hr[200], hr[3800]);
        assert!(p5 < 65.0 && p95 > 112.0, "ICU HR p5 {p5}, p95 {p95}");
    }
}

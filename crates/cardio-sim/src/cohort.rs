//! Who is on the ward: age, sex, an optional chronic profile and the resting baselines drawn from
//! them (docs/spec.md §4: adult at rest HR 60–100, RR 12–20, SpO2 95–100 % on air, temperature
//! 36.7 °C with SD 0.6, BP below 120/80).

use crate::random::SimRng;

/// A chronic condition that changes a patient's baseline (and, for COPD, how NEWS2 scores SpO2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Profile {
    /// No chronic condition that moves the vital signs.
    General,
    /// Chronic obstructive pulmonary disease with hypercapnic respiratory failure: SpO2 88–92 %,
    /// a prescribed target scored on NEWS2 SpO2 scale 2; RR a little higher.
    Copd,
    /// Treated hypertension: SBP around 150, DBP around 92.
    Hypertension,
    /// Trained athlete: resting bradycardia (HR 42–58) and lower BP.
    Athlete,
    /// Permanent atrial fibrillation with rate control: irregularly irregular HR around 85.
    AtrialFibrillation,
}

impl Profile {
    pub const ALL: [Profile; 5] = [
        Profile::General,
        Profile::Copd,
        Profile::Hypertension,
        Profile::Athlete,
        Profile::AtrialFibrillation,
    ];

    /// Share of each profile on a general adult ward, in the order of [`Profile::ALL`]. Chosen to
    /// resemble an older medical ward: about a quarter hypertensive, one in twelve with COPD, one in
    /// sixteen in AF.
    pub const WARD_MIX: [f64; 5] = [0.58, 0.08, 0.25, 0.03, 0.06];

    pub fn name(self) -> &'static str {
        match self {
            Profile::General => "general",
            Profile::Copd => "copd",
            Profile::Hypertension => "hypertension",
            Profile::Athlete => "athlete",
            Profile::AtrialFibrillation => "af",
        }
    }

    /// NEWS2 SpO2 scale: 2 only for hypercapnic respiratory failure.
    pub fn spo2_scale(self) -> u8 {
        if self == Profile::Copd { 2 } else { 1 }
    }
}

/// Sex at birth, as far as it shifts the baselines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sex {
    Female,
    Male,
}

impl Sex {
    pub fn code(self) -> &'static str {
        match self {
            Sex::Female => "F",
            Sex::Male => "M",
        }
    }
}

/// The resting values a patient's vital signs revert to, before circadian rhythm and scenarios.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Baseline {
    pub heart_rate_bpm: f64,
    pub respiratory_rate_bpm: f64,
    /// True arterial saturation at rest, %.
    pub spo2_pct: f64,
    /// Daily mean core temperature, °C.
    pub temperature_c: f64,
    pub systolic_mmhg: f64,
    pub diastolic_mmhg: f64,
    /// Beat-to-beat irregularity: SD (bpm) of each beat's instantaneous rate; 0 in sinus rhythm.
    pub hr_irregularity_bpm: f64,
}

/// A patient's fixed characteristics.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Demographics {
    pub age: u8,
    pub sex: Sex,
    pub profile: Profile,
}

/// Draws one patient of the general ward: the same `rng` state always gives the same patient.
pub fn draw(rng: &mut SimRng) -> (Demographics, Baseline) {
    let profile = Profile::ALL[rng.weighted(&Profile::WARD_MIX)];
    let sex = draw_sex(rng);
    let age = match profile {
        Profile::Athlete => rng.range(18.0, 40.0),
        Profile::Copd => rng.normal_truncated(70.0, 9.0, 45.0, 95.0),
        Profile::Hypertension | Profile::AtrialFibrillation => {
            rng.normal_truncated(71.0, 10.0, 40.0, 97.0)
        }
        Profile::General => rng.normal_truncated(60.0, 17.0, 18.0, 97.0),
    };
    draw_baseline(profile, sex, age, rng)
}

/// Female or male, even odds.
pub fn draw_sex(rng: &mut SimRng) -> Sex {
    if rng.chance(0.5) {
        Sex::Female
    } else {
        Sex::Male
    }
}

/// The resting baselines of a patient of this profile, sex and age (years, unrounded), drawn from
/// docs/spec.md §4's healthy-adult figures and the profile's own; the units of [`crate::unit`]
/// start from these too.
pub fn draw_baseline(
    profile: Profile,
    sex: Sex,
    age: f64,
    rng: &mut SimRng,
) -> (Demographics, Baseline) {
    let female = sex == Sex::Female;

    // Adult resting HR 60–100 (docs/spec.md §4); women run a few beats faster.
    let mut hr = rng.normal_truncated(75.0, 8.0, 60.0, 98.0) + if female { 3.0 } else { 0.0 };
    // RR 12–20.
    let mut rr = rng.normal_truncated(15.5, 1.8, 12.5, 19.5);
    // SpO2 95–100 % on air.
    let mut spo2 = rng.normal_truncated(97.6, 0.9, 95.5, 99.6);
    // Temperature mean 36.7 °C; the population SD of 0.6 includes the daily swing and noise, so the
    // between-patient part is smaller. Clamped so a healthy baseline never reads as fever.
    let temp = rng.normal_truncated(36.7, 0.42, 35.9, 37.5) + if female { 0.1 } else { 0.0 };
    // BP below 120/80 in health; systolic rises with age (about 0.4 mmHg a year past 45).
    let age_sbp = 0.4 * (age - 45.0).max(0.0);
    let mut sbp =
        rng.normal_truncated(112.0, 8.0, 95.0, 130.0) + age_sbp - if female { 4.0 } else { 0.0 };
    let mut dbp: (f64, f64, f64, f64) = (72.0, 6.0, 60.0, 84.0);
    let mut irregularity = 0.0;

    match profile {
        Profile::General => {}
        Profile::Copd => {
            spo2 = rng.normal_truncated(90.2, 1.0, 88.5, 92.0);
            rr = rng.normal_truncated(18.0, 1.5, 15.0, 20.5);
            hr += 5.0;
        }
        Profile::Hypertension => {
            sbp = rng.normal_truncated(150.0, 10.0, 135.0, 175.0);
            dbp = (91.0, 6.0, 80.0, 105.0);
        }
        Profile::Athlete => {
            hr = rng.normal_truncated(50.0, 4.0, 42.0, 58.0);
            rr = rng.normal_truncated(13.0, 1.0, 11.5, 15.0);
            sbp = rng.normal_truncated(112.0, 6.0, 100.0, 124.0);
            dbp = (68.0, 5.0, 58.0, 78.0);
        }
        Profile::AtrialFibrillation => {
            // Rate-controlled AF: mean rate under 100, irregularly irregular.
            hr = rng.normal_truncated(84.0, 7.0, 70.0, 98.0);
            irregularity = rng.range(6.0, 10.0);
        }
    }
    // Diastolic is drawn last, within its profile's range and at least 30 below this patient's
    // systolic (a resting pulse pressure of 30 or more): truncated rather than clamped, so no
    // patient sits exactly at a pulse pressure of 30.
    let (dbp_mean, dbp_sd, dbp_lo, dbp_hi) = dbp;
    let dbp_hi = dbp_hi.min(sbp - 30.0).max(dbp_lo + 1.0);
    let dbp = rng.normal_truncated(dbp_mean, dbp_sd, dbp_lo, dbp_hi);
    let demographics = Demographics {
        age: age.round() as u8,
        sex,
        profile,
    };
    let baseline = Baseline {
        heart_rate_bpm: hr,
        respiratory_rate_bpm: rr,
        spo2_pct: spo2,
        temperature_c: temp,
        systolic_mmhg: sbp,
        diastolic_mmhg: dbp,
        hr_irregularity_bpm: irregularity,
    };
    (demographics, baseline)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ward_mix_adds_up_and_every_profile_appears() {
        assert!((Profile::WARD_MIX.iter().sum::<f64>() - 1.0).abs() < 1e-9);
        let mut seen = std::collections::HashSet::new();
        for i in 0..500 {
            seen.insert(draw(&mut SimRng::new(3, i)).0.profile);
        }
        assert_eq!(seen.len(), Profile::ALL.len());
    }

    #[test]
    fn baselines_stay_in_their_profile_ranges() {
        for i in 0..2000 {
            let (d, b) = draw(&mut SimRng::new(11, i));
            assert!(b.systolic_mmhg > b.diastolic_mmhg + 25.0);
            match d.profile {
                Profile::Copd => assert!((88.0..=92.0).contains(&b.spo2_pct)),
                Profile::Athlete => assert!(b.heart_rate_bpm < 60.0),
                Profile::Hypertension => assert!(b.systolic_mmhg >= 135.0),
                Profile::AtrialFibrillation => assert!(b.hr_irregularity_bpm > 0.0),
                Profile::General => {
                    assert!((60.0..=101.0).contains(&b.heart_rate_bpm));
                    assert!((95.0..=100.0).contains(&b.spo2_pct));
                }
            }
        }
    }

    /// Baselines are drawn from truncated, not clamped, distributions: in 20,000 patients no value of
    /// any vital (nor the pulse pressure) is shared by more than 0.25 % of a profile's patients (the
    /// normal deviate is quantised, so two or three patients can tie by chance). A clamp puts every
    /// out-of-range draw on the bound: 1–3 % of patients on one identical value.
    #[test]
    fn no_patients_pile_up_at_a_baseline_bound() {
        use std::collections::HashMap;
        type Field = fn(&Baseline) -> f64;
        let fields: [(&str, Field); 7] = [
            ("hr", |b| b.heart_rate_bpm),
            ("rr", |b| b.respiratory_rate_bpm),
            ("spo2", |b| b.spo2_pct),
            ("temp", |b| b.temperature_c),
            ("sbp", |b| b.systolic_mmhg),
            ("dbp", |b| b.diastolic_mmhg),
            ("pulse pressure", |b| b.systolic_mmhg - b.diastolic_mmhg),
        ];
        let patients: Vec<(Demographics, Baseline)> =
            (0..20_000).map(|i| draw(&mut SimRng::new(17, i))).collect();
        for profile in Profile::ALL {
            let group: Vec<&Baseline> = patients
                .iter()
                .filter(|(d, _)| d.profile == profile)
                .map(|(_, b)| b)
                .collect();
            for (name, field) in fields {
                // Values equal to a micro-unit count as the same value (the pulse pressure is a
                // difference, so a clamped one is 30 only up to rounding).
                let mut count: HashMap<i64, usize> = HashMap::new();
                for b in &group {
                    *count.entry((field(b) * 1e6).round() as i64).or_default() += 1;
                }
                let (value, most) = count.iter().max_by_key(|(_, n)| **n).unwrap();
                let share = *most as f64 / group.len() as f64;
                assert!(
                    *most <= 3 || share <= 0.0025,
                    "{}: {most} of {} patients have {name} exactly {}",
                    profile.name(),
                    group.len(),
                    *value as f64 / 1e6
                );
            }
        }
    }
}

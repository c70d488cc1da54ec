//! `--admission-rules FILE`: the alarm limits a ward sets for each patient at admission, written as
//! the `[patients.<id>]` overrides that `cardio-alert --rules FILE` reads.
//!
//! Default limits (docs/spec.md §3.2) are right for most adults and wrong for some: a trained athlete
//! resting at 45–55 bpm or a patient whose usual systolic is 95 sits on or below `hr_low` and
//! `sbp_low` all day, and a COPD patient with hypercapnic respiratory failure has a prescribed SpO2
//! target of 88–92 % (BTS 2017) and is scored on NEWS2 SpO2 scale 2. Nurses individualise these at
//! admission from the patient's own baseline; this file does the same from the simulated baseline,
//! and is what `bench/alert-eval.sh` scores as "admission limits".

use std::fmt::Write as _;

use crate::cohort::{Baseline, Demographics};
use crate::output::patient_id;

/// A low limit at this fraction of a resting value already below the default limit; the extreme
/// low limit at the second.
const LOW_LIMIT_OF_BASELINE: f64 = 0.8;
const EXTREME_LOW_LIMIT_OF_BASELINE: f64 = 0.7;

/// The baseline as the truth file reports it (0.1 resolution), so the file can be rebuilt from the
/// truth file's `admit` lines.
fn r1(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

/// The overrides of one patient, as TOML tables; empty when the defaults fit.
pub fn patient_toml(index: u32, who: &Demographics, b: &Baseline) -> String {
    let mut rules: Vec<(&str, String)> = Vec::new();
    let hr1 = (r1(b.heart_rate_bpm) * LOW_LIMIT_OF_BASELINE).floor();
    let hr2 = (r1(b.heart_rate_bpm) * EXTREME_LOW_LIMIT_OF_BASELINE).floor();
    let sbp = (r1(b.systolic_mmhg) * LOW_LIMIT_OF_BASELINE).floor();
    // Below hr_low (< 50), hr_extreme_low (≤ 40) and sbp_low (≤ 90) of docs/spec.md §3.2; the clearing
    // margins keep the defaults' hysteresis (3, 5 and 5).
    if hr1 < 50.0 {
        rules.push((
            "hr_low",
            format!(
                "when = {{ op = \"<\", limit = {hr1} }}\nclear = {{ op = \">=\", limit = {} }}\n",
                hr1 + 3.0
            ),
        ));
    }
    if hr2 < 40.0 {
        rules.push((
            "hr_extreme_low",
            format!(
                "when = {{ op = \"<=\", limit = {hr2} }}\nclear = {{ op = \">\", limit = {} }}\n",
                hr2 + 5.0
            ),
        ));
    }
    if sbp < 90.0 {
        rules.push((
            "sbp_low",
            format!(
                "when = {{ op = \"<=\", limit = {sbp} }}\nclear = {{ op = \">=\", limit = {} }}\n",
                sbp + 5.0
            ),
        ));
    }
    let scale2 = who.profile.spo2_scale() == 2;
    if scale2 {
        // Target 88–92 %: alarm below 86, desaturation below 80.
        rules.push((
            "spo2_low",
            "when = { op = \"<\", limit = 86 }\nclear = { op = \">=\", limit = 88 }\n".into(),
        ));
        rules.push((
            "spo2_desat",
            "when = { op = \"<\", limit = 80 }\nclear = { op = \">=\", limit = 85 }\n".into(),
        ));
    }
    if rules.is_empty() && !scale2 {
        return String::new();
    }
    let id = patient_id(index);
    let mut out = format!(
        "\n[patients.{id}]  # {}, baseline HR {:.1}, SBP {:.1}, SpO2 {:.1}\n",
        who.profile.name(),
        r1(b.heart_rate_bpm),
        r1(b.systolic_mmhg),
        r1(b.spo2_pct)
    );
    if scale2 {
        out.push_str("spo2_scale = 2\n");
    }
    for (rule, body) in rules {
        let _ = write!(out, "[patients.{id}.rules.{rule}]\n{body}");
    }
    out
}

/// The header of the file.
pub fn header(seed: u64, patients: u32) -> String {
    format!(
        "# cardio-sim admission limits (seed {seed}, {patients} patients): per-patient overrides for\n\
         # `cardio-alert --rules FILE`. The built-in rules (docs/spec.md §3.2) apply to everyone else.\n\
         # Low HR / SBP limits at 80 % (extreme HR: 70 %) of a resting value below the default\n\
         # limit; COPD: NEWS2 SpO2 scale 2 and alarms below the prescribed 88–92 % target.\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cohort::{Profile, Sex};

    fn base(hr: f64, sbp: f64) -> Baseline {
        Baseline {
            heart_rate_bpm: hr,
            respiratory_rate_bpm: 15.0,
            spo2_pct: 97.0,
            temperature_c: 36.7,
            systolic_mmhg: sbp,
            diastolic_mmhg: 70.0,
            hr_irregularity_bpm: 0.0,
        }
    }

    fn who(profile: Profile) -> Demographics {
        Demographics {
            age: 30,
            sex: Sex::Male,
            profile,
        }
    }

    #[test]
    fn a_patient_the_defaults_fit_gets_no_table() {
        assert_eq!(
            patient_toml(3, &who(Profile::General), &base(75.0, 120.0)),
            ""
        );
    }

    #[test]
    fn an_athlete_gets_lower_heart_rate_limits() {
        let t = patient_toml(3, &who(Profile::Athlete), &base(48.0, 95.0));
        assert!(
            t.contains("[patients.PT-1003.rules.hr_low]\nwhen = { op = \"<\", limit = 38 }"),
            "{t}"
        );
        assert!(
            t.contains(
                "[patients.PT-1003.rules.hr_extreme_low]\nwhen = { op = \"<=\", limit = 33 }"
            ),
            "{t}"
        );
        assert!(
            t.contains("[patients.PT-1003.rules.sbp_low]\nwhen = { op = \"<=\", limit = 76 }"),
            "{t}"
        );
        assert!(!t.contains("spo2_scale"));
    }

    #[test]
    fn copd_is_scored_on_scale_2_with_its_target() {
        let t = patient_toml(0, &who(Profile::Copd), &base(80.0, 130.0));
        assert!(t.contains("[patients.PT-1000]"), "{t}");
        assert!(t.contains("spo2_scale = 2\n"), "{t}");
        assert!(t.contains("[patients.PT-1000.rules.spo2_low]\nwhen = { op = \"<\", limit = 86 }"));
    }
}

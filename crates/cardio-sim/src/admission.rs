//! `--admission-rules FILE`: the alarm limits a ward sets for each patient at admission, written as
//! the `[patients.<id>]` overrides that `cardio-alert --rules FILE` reads.
//!
//! Default limits (docs/spec.md §3.2) are right for most adults and wrong for some: a trained athlete
//! resting at 45–55 bpm or a patient whose usual systolic is 95 sits on or below `hr_low` and
//! `sbp_low` all day, and a COPD patient with hypercapnic respiratory failure has a prescribed SpO2
//! target of 88–92 % (BTS 2017) and is scored on NEWS2 SpO2 scale 2. Nurses individualise these at
//! admission from the patient's own baseline; this file does the same from the simulated baseline,
//! and is what `bench/alert-eval.sh` scores as "admission limits". [`baseline_limits`] is the one
//! place that decides these limits: the nurse's `settings` record at admission in the stream
//! ([`crate::settings`]) carries the same ones.

use std::fmt::Write as _;

use crate::cohort::{Baseline, Demographics};
use crate::output::patient_id;

/// A low limit at this fraction of a resting value already below the default limit; the extreme
/// low limit at the second. A nurse's own low limits keep at least the first margin too
/// ([`crate::settings`]).
pub const LOW_LIMIT_OF_BASELINE: f64 = 0.8;
const EXTREME_LOW_LIMIT_OF_BASELINE: f64 = 0.7;

/// The baseline as the truth file reports it (0.1 resolution), so the file can be rebuilt from the
/// truth file's `admit` lines.
fn r1(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

/// One rule whose limits a patient's own baseline moves: its alarm and clearing conditions, as
/// (operator, limit).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Moved {
    pub rule: &'static str,
    pub when: (&'static str, f64),
    pub clear: (&'static str, f64),
}

/// What a patient's baseline asks of the default limits: the one place that decides it, for the
/// `--admission-rules` file and for the nurse's `settings` record at admission alike.
#[derive(Debug, Clone, PartialEq)]
pub struct BaselineLimits {
    /// NEWS2 SpO2 scale 2 (hypercapnic respiratory failure).
    pub scale2: bool,
    pub moved: Vec<Moved>,
}

/// The limits a patient's resting values call for; empty when the defaults fit.
pub fn baseline_limits(who: &Demographics, b: &Baseline) -> BaselineLimits {
    let mut moved = Vec::new();
    let hr1 = (r1(b.heart_rate_bpm) * LOW_LIMIT_OF_BASELINE).floor();
    let hr2 = (r1(b.heart_rate_bpm) * EXTREME_LOW_LIMIT_OF_BASELINE).floor();
    let sbp = (r1(b.systolic_mmhg) * LOW_LIMIT_OF_BASELINE).floor();
    // Below hr_low (< 50), hr_extreme_low (≤ 40) and sbp_low (≤ 90) of docs/spec.md §3.2; the clearing
    // margins keep the defaults' hysteresis (3, 5 and 5).
    if hr1 < 50.0 {
        moved.push(Moved {
            rule: "hr_low",
            when: ("<", hr1),
            clear: (">=", hr1 + 3.0),
        });
    }
    if hr2 < 40.0 {
        moved.push(Moved {
            rule: "hr_extreme_low",
            when: ("<=", hr2),
            clear: (">", hr2 + 5.0),
        });
    }
    if sbp < 90.0 {
        moved.push(Moved {
            rule: "sbp_low",
            when: ("<=", sbp),
            clear: (">=", sbp + 5.0),
        });
    }
    let scale2 = who.profile.spo2_scale() == 2;
    if scale2 {
        // Target 88–92 %: alarm below 86, desaturation below 80.
        moved.push(Moved {
            rule: "spo2_low",
            when: ("<", 86.0),
            clear: (">=", 88.0),
        });
        moved.push(Moved {
            rule: "spo2_desat",
            when: ("<", 80.0),
            clear: (">=", 85.0),
        });
    }
    BaselineLimits { scale2, moved }
}

/// The overrides of one patient, as TOML tables; empty when the defaults fit.
pub fn patient_toml(index: u32, who: &Demographics, b: &Baseline) -> String {
    let limits = baseline_limits(who, b);
    if limits.moved.is_empty() && !limits.scale2 {
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
    if limits.scale2 {
        out.push_str("spo2_scale = 2\n");
    }
    for m in limits.moved {
        let _ = write!(
            out,
            "[patients.{id}.rules.{}]\nwhen = {{ op = \"{}\", limit = {} }}\nclear = {{ op = \"{}\", limit = {} }}\n",
            m.rule, m.when.0, m.when.1, m.clear.0, m.clear.1
        );
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

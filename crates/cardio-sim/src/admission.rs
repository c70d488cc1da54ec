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

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::cohort::{Baseline, Demographics};
use crate::output::patient_id;

/// A low limit at this fraction of a resting value already below the default limit; the extreme
/// low limit at the second. A nurse's own low limits keep at least the first margin too
/// ([`crate::settings`]).
pub const LOW_LIMIT_OF_BASELINE: f64 = 0.8;
const EXTREME_LOW_LIMIT_OF_BASELINE: f64 = 0.7;
/// RR limits stay this far from a resting rate that sits near them, a low one never below
/// [`RR_LOW_FLOOR_BPM`] (apnoea is its own matter); an SBP high limit [`SBP_HIGH_MARGIN_MMHG`]
/// above a resting systolic near it; a fever limit [`FEVER_MARGIN_C`] above a febrile resting
/// temperature (the circadian swing and the probe's noise stay under it).
pub const RR_MARGIN_BPM: f64 = 5.0;
const RR_LOW_FLOOR_BPM: f64 = 6.0;
const SBP_HIGH_MARGIN_MMHG: f64 = 15.0;
const FEVER_MARGIN_C: f64 = 0.4;

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

/// The limits a patient's resting values call for, against the limits of its unit's profile
/// (`unit`, [`crate::settings::unit_profile`]); empty when the unit's limits fit. A resting value
/// on or past a unit limit would alarm all day, so the limit moves to give the patient's own
/// ordinary variation room: low HR and SBP limits to 80 % of the resting value, HR high limits to
/// the resting value ÷ 0.8 (in steps of 5, extreme high at least 10 above), RR limits 5 breaths
/// either side of the resting rate (the low one not below 6), the SBP high limit 15 mmHg above
/// it, the fever limit 0.4 °C above a febrile resting temperature.
pub fn baseline_limits(
    who: &Demographics,
    b: &Baseline,
    unit: &BTreeMap<String, f64>,
) -> BaselineLimits {
    let mut moved = Vec::new();
    let (hr, rr, sbp_rest, temp) = (
        r1(b.heart_rate_bpm),
        r1(b.respiratory_rate_bpm),
        r1(b.systolic_mmhg),
        r1(b.temperature_c),
    );
    let hr1 = (hr * LOW_LIMIT_OF_BASELINE).floor();
    let hr2 = (hr * EXTREME_LOW_LIMIT_OF_BASELINE).floor();
    let sbp = (sbp_rest * LOW_LIMIT_OF_BASELINE).floor();
    // The operators are those of docs/spec.md §3.2; the clearing margins keep the defaults'
    // hysteresis.
    if hr1 < unit["hr_low"] {
        moved.push(Moved {
            rule: "hr_low",
            when: ("<", hr1),
            clear: (">=", hr1 + 3.0),
        });
    }
    if hr2 < unit["hr_extreme_low"] {
        moved.push(Moved {
            rule: "hr_extreme_low",
            when: ("<=", hr2),
            clear: (">", hr2 + 5.0),
        });
    }
    if sbp < unit["sbp_low"] {
        moved.push(Moved {
            rule: "sbp_low",
            when: ("<=", sbp),
            clear: (">=", sbp + 5.0),
        });
    }
    let hr_high = (hr / LOW_LIMIT_OF_BASELINE / 5.0).ceil() * 5.0;
    if hr_high > unit["hr_high"] {
        moved.push(Moved {
            rule: "hr_high",
            when: (">", hr_high),
            clear: ("<=", hr_high - 5.0),
        });
        let extreme = hr_high + 10.0;
        if extreme > unit["hr_extreme_high"] {
            moved.push(Moved {
                rule: "hr_extreme_high",
                when: (">=", extreme),
                clear: ("<", extreme - 10.0),
            });
        }
    }
    let rr_high = (rr + RR_MARGIN_BPM).ceil();
    if rr_high > unit["rr_high"] {
        moved.push(Moved {
            rule: "rr_high",
            when: (">=", rr_high),
            clear: ("<=", rr_high - 3.0),
        });
    }
    let rr_low = (rr - RR_MARGIN_BPM).floor().max(RR_LOW_FLOOR_BPM);
    if rr_low < unit["rr_low"] {
        moved.push(Moved {
            rule: "rr_low",
            when: ("<=", rr_low),
            clear: (">=", rr_low + 2.0),
        });
    }
    let sbp_high = (sbp_rest + SBP_HIGH_MARGIN_MMHG).ceil();
    if sbp_high > unit["sbp_high"] {
        moved.push(Moved {
            rule: "sbp_high",
            when: (">=", sbp_high),
            clear: ("<=", sbp_high - 10.0),
        });
    }
    let temp_high = r1(temp + FEVER_MARGIN_C);
    if temp_high > unit["temp_high"] {
        moved.push(Moved {
            rule: "temp_high",
            when: (">=", temp_high),
            clear: ("<=", r1(temp_high - 0.2)),
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
pub fn patient_toml(
    index: u32,
    who: &Demographics,
    b: &Baseline,
    unit: &BTreeMap<String, f64>,
) -> String {
    let limits = baseline_limits(who, b, unit);
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
         # limit, high HR / RR / SBP / fever limits above a resting value near the default one;\n\
         # COPD: NEWS2 SpO2 scale 2 and alarms below the prescribed 88–92 % target.\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cohort::{Profile, Sex};
    use crate::settings::unit_profile;
    use vitals_core::CareUnit;

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

    fn ward() -> BTreeMap<String, f64> {
        unit_profile(CareUnit::General)
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
            patient_toml(3, &who(Profile::General), &base(75.0, 120.0), &ward()),
            ""
        );
    }

    #[test]
    fn an_athlete_gets_lower_heart_rate_limits() {
        let t = patient_toml(3, &who(Profile::Athlete), &base(48.0, 95.0), &ward());
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
        let t = patient_toml(0, &who(Profile::Copd), &base(80.0, 130.0), &ward());
        assert!(t.contains("[patients.PT-1000]"), "{t}");
        assert!(t.contains("spo2_scale = 2\n"), "{t}");
        assert!(t.contains("[patients.PT-1000.rules.spo2_low]\nwhen = { op = \"<\", limit = 86 }"));
    }

    /// An ICU patient resting at 118 bpm, RR 33, SBP 85 and 38.2 °C sits on or past the ICU's
    /// limits: each moves to give the patient's own variation room.
    #[test]
    fn a_tachycardic_tachypnoeic_febrile_icu_patient_gets_limits_above_its_resting_values() {
        let mut b = base(118.0, 85.0);
        b.respiratory_rate_bpm = 33.0;
        b.temperature_c = 38.2;
        let moved = baseline_limits(&who(Profile::General), &b, &unit_profile(CareUnit::Icu)).moved;
        let limit = |rule: &str| moved.iter().find(|m| m.rule == rule).map(|m| m.when);
        assert_eq!(limit("hr_high"), Some((">", 150.0)), "{moved:?}");
        assert_eq!(limit("hr_extreme_high"), Some((">=", 160.0)));
        assert_eq!(limit("rr_high"), Some((">=", 38.0)));
        assert_eq!(limit("sbp_low"), Some(("<=", 68.0)));
        assert_eq!(limit("temp_high"), Some((">=", 38.6)));
        assert_eq!(limit("sbp_high"), None);
        // A resting rate of 10 leaves rr_low 8 two breaths' room: it moves to 6.
        b.respiratory_rate_bpm = 10.0;
        let moved = baseline_limits(&who(Profile::General), &b, &unit_profile(CareUnit::Icu)).moved;
        assert!(
            moved
                .iter()
                .any(|m| m.rule == "rr_low" && m.when == ("<=", 6.0))
        );
    }
}

//! The `admission` and `settings` records (docs/spec.md §1) that let `cardio-sim | cardio-alert`
//! run on individualised alarm limits without a side file.
//!
//! Real monitors load the unit's alarm profile when a patient is admitted, and nurses then adjust
//! limits to the patient (AACN practice alert "Managing alarms in acute care across the life span",
//! 2018). So each patient gets, on the lines before its first reading:
//!
//! 1. a `settings` record from the unit profile (`source: unit_profile`): the limits of the
//!    built-in rules (docs/spec.md §3.2) on the wards, the real ICU monitors' usual limits in the
//!    ICU ([`unit_profile`]);
//! 2. when the nurse individualises any limit at admission, a second `settings` record
//!    (`source: nurse`) with the complete set then in force: the limits the patient's own baseline
//!    calls for ([`crate::admission::baseline_limits`], also behind `--admission-rules`: an athlete's
//!    resting bradycardia, a COPD patient's 88–92 % target, an ICU patient resting at 118 bpm),
//!    and, for the share of patients nurses individualise ([`NURSE_INDIVIDUALISES`]) at each
//!    rule's real rate ([`NURSE_LIMITS`]), limits of the nurse's own choosing, drawn from the real
//!    values but only where they are sensible for this patient and not past the clinical
//!    definition of the deterioration the rule watches ([`sensible`]);
//! 3. the `admission` record, on the line right before the first reading.
//!
//! During the stay the nurse changes a limit at the real rate ([`CHANGES_PER_DAY`]): each change is
//! a new `settings` record, dated when it happens and written before the patient's next reading.
//! These records are drawn from their own random stream per patient, so the vitals of a seed are
//! the same with or without them, and they do not count toward `--count` (which counts vitals).
//!
//! The real figures are from the MIMIC-III Clinical Database Demo v1.4 (PhysioNet, ODbL v1.0):
//! the nurse-set alarm limits charted for 115 ICU stays (CareVue and MetaVision alarm-limit
//! items), 448.3 stay-days from each stay's first to its last charted limit. They are ICU nurses'
//! choices, the only per-patient limit data at hand; they stand for every unit until a unit has
//! its own.

use std::collections::BTreeMap;

use vitals_core::news2::Spo2Scale;
use vitals_core::rules::{Trigger, default_rules};
use vitals_core::{
    Admission, AgeBand, AlertKind, CareUnit, Settings, SettingsSource, Sex, Timestamp,
};

use crate::admission::{LOW_LIMIT_OF_BASELINE, RR_MARGIN_BPM, baseline_limits};
use crate::cohort::{self, Baseline, Demographics, Profile};
use crate::output::{device_id, patient_id};
use crate::random::SimRng;

/// The ICU's monitor profile: the most common nurse-set alarm limit of each item in the real ICU
/// stays (MIMIC-III Clinical Database Demo v1.4 alarm limits, 115 stays: HR 50/120, SpO2 90, SpO2
/// desaturation 85, RR 8/30, NIBP 90/160). ICU patients rest at values a ward's rules call
/// abnormal (RR in the twenties, SBP near 90), and their monitors are set accordingly.
#[rustfmt::skip]
pub const ICU_MONITOR_LIMITS: [(&str, f64); 8] = [
    ("hr_low", 50.0), ("hr_high", 120.0), ("spo2_low", 90.0), ("spo2_desat", 85.0),
    ("rr_low", 8.0), ("rr_high", 30.0), ("sbp_low", 90.0), ("sbp_high", 160.0),
];

/// The alarm limits a unit loads at admission: the limit of every physiological threshold rule of
/// docs/spec.md §3.2, with the ICU's own monitor limits ([`ICU_MONITOR_LIMITS`]) in the ICU; the
/// wards keep the built-in rules.
pub fn unit_profile(unit: CareUnit) -> BTreeMap<String, f64> {
    let mut limits: BTreeMap<String, f64> = default_rules()
        .into_iter()
        .filter(|r| r.kind == AlertKind::Physiological)
        .filter_map(|r| match r.trigger {
            Trigger::Threshold { when, .. } => Some((r.name, when.limit)),
            _ => None,
        })
        .collect();
    if unit == CareUnit::Icu {
        for (rule, limit) in ICU_MONITOR_LIMITS {
            limits.insert(rule.to_owned(), limit);
        }
    }
    limits
}

/// The baseline value a limit is judged against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Basis {
    HeartRate,
    Spo2,
    RespiratoryRate,
    Systolic,
}

impl Basis {
    fn of(self, b: &Baseline) -> f64 {
        match self {
            Basis::HeartRate => b.heart_rate_bpm,
            Basis::Spo2 => b.spo2_pct,
            Basis::RespiratoryRate => b.respiratory_rate_bpm,
            Basis::Systolic => b.systolic_mmhg,
        }
    }
}

/// One alarm limit as nurses set it in the real stays.
#[derive(Debug)]
pub struct NurseLimit {
    /// The rule (docs/spec.md §3.2) whose limit this is.
    pub rule: &'static str,
    basis: Basis,
    /// True for a limit the vital alarms below.
    below: bool,
    /// The rule this one nests inside (a low limit stays above its extreme-low partner, an
    /// upper one below its extreme-high partner) or, for `spo2_desat`, the rule it stays below.
    partner: Option<&'static str>,
    /// The most common value of the item in the real stays: the real values are carried over as
    /// offsets from it to the unit's own limit (the same for hr_low, hr_high, spo2_low, rr_low,
    /// sbp_low and spo2_desat; the wards' rr_high and sbp_high are 25 and 180; the ICU's profile
    /// is these modes, [`ICU_MONITOR_LIMITS`]).
    real_mode: f64,
    /// Share of stays whose own usual value differs from that mode.
    pub share: f64,
    /// Each such stay's usual value, with the number of stays (charting slips such as an SpO2 low
    /// limit of 8 or a heart-rate low of 5 left out).
    values: &'static [(f64, u32)],
    /// Value changes of this item within the stays: which limit a change during the stay touches.
    changes: u32,
    /// The clinical definition of the deterioration the rule watches (docs/cardio-sim.md
    /// "Scenarios"): a nurse's limit never lies past it, so an individualised limit cannot hide a
    /// deterioration a unit's limit would show. A limit the patient's baseline calls for may
    /// ([`crate::admission::baseline_limits`]).
    pub definition: f64,
}

/// Nurse-set limits per rule, MIMIC-III Clinical Database Demo v1.4 alarm limits (115 ICU stays):
/// the share of stays whose usual value differs from the unit value is the README's "stays whose
/// own usual value differs"; the values and the changes are counted from the charted limits.
/// Each `definition` is the clinical definition a scripted deterioration meets (docs/cardio-sim.md
/// "Scenarios"): bradycardia HR < 50; AF with rapid ventricular response > 120 even at night and
/// ATLS class III haemorrhage HR > 120; hypoxaemia SpO2 < 90 % less the probe's 2 %; the unit's
/// own desaturation limit 85 (no deeper definition); bradypnoea RR ≤ 8 (NEWS2's 3 band); ATLS
/// class II haemorrhage RR 20–30; hypotension SBP ≤ 90 (sepsis, haemorrhage class III);
/// hypertensive crisis SBP ≥ 180 (ACC/AHA 2017).
#[rustfmt::skip]
pub const NURSE_LIMITS: [NurseLimit; 8] = [
    NurseLimit { rule: "hr_low", basis: Basis::HeartRate, below: true, partner: Some("hr_extreme_low"),
        real_mode: 50.0, share: 47.0 / 115.0, changes: 132, definition: 50.0,
        values: &[(60.0, 32), (45.0, 5), (55.0, 3), (40.0, 1), (70.0, 1), (75.0, 1)] },
    NurseLimit { rule: "hr_high", basis: Basis::HeartRate, below: false, partner: Some("hr_extreme_high"),
        real_mode: 120.0, share: 24.0 / 115.0, changes: 117, definition: 120.0,
        values: &[(130.0, 6), (100.0, 4), (110.0, 4), (150.0, 4), (135.0, 3), (140.0, 2), (145.0, 1)] },
    NurseLimit { rule: "spo2_low", basis: Basis::Spo2, below: true, partner: Some("spo2_desat"),
        real_mode: 90.0, share: 37.0 / 115.0, changes: 101, definition: 88.0,
        values: &[(92.0, 17), (93.0, 15), (91.0, 1), (88.0, 1), (84.0, 1)] },
    NurseLimit { rule: "spo2_desat", basis: Basis::Spo2, below: true, partner: Some("spo2_low"),
        real_mode: 85.0, share: 4.0 / 74.0, changes: 42, definition: 85.0,
        values: &[(88.0, 2), (90.0, 1), (84.0, 1)] },
    NurseLimit { rule: "rr_low", basis: Basis::RespiratoryRate, below: true, partner: None,
        real_mode: 8.0, share: 7.0 / 113.0, changes: 25, definition: 8.0,
        values: &[(10.0, 2), (6.0, 1)] },
    NurseLimit { rule: "rr_high", basis: Basis::RespiratoryRate, below: false, partner: None,
        real_mode: 30.0, share: 49.0 / 113.0, changes: 192, definition: 30.0,
        values: &[(35.0, 29), (40.0, 15), (45.0, 3), (50.0, 1), (25.0, 1)] },
    NurseLimit { rule: "sbp_low", basis: Basis::Systolic, below: true, partner: None,
        real_mode: 90.0, share: 15.0 / 114.0, changes: 86, definition: 90.0,
        values: &[(85.0, 4), (60.0, 3), (80.0, 3), (55.0, 1), (100.0, 1), (110.0, 1), (50.0, 1)] },
    NurseLimit { rule: "sbp_high", basis: Basis::Systolic, below: false, partner: None,
        real_mode: 160.0, share: 22.0 / 114.0, changes: 99, definition: 180.0,
        values: &[(150.0, 6), (110.0, 4), (170.0, 3), (155.0, 2), (175.0, 1), (140.0, 1), (190.0, 1)] },
];

/// Share of stays in which the nurse had set any of these limits off the unit value by its first
/// charting: 82 of 115 (MIMIC-III Clinical Database Demo v1.4 alarm limits). Individualisation
/// comes in patients, not in independent rules: a patient the nurse individualises gets each
/// rule's limit with the rule's share divided by this one, so each rule keeps its real share.
pub const NURSE_INDIVIDUALISES: f64 = 82.0 / 115.0;

/// Times within a stay at which any of these limits changed: 463 over 448.3 stay-days (several
/// limits changed at one time count once), MIMIC-III Clinical Database Demo v1.4 alarm limits.
pub const CHANGES_PER_DAY: f64 = 463.0 / 448.3;

/// A nurse's low SpO2 limit stays at least this far below the patient's resting SpO2, and a low
/// (high) RR limit at least [`RR_MARGIN_BPM`] below (above) the resting rate: a limit any closer
/// alarms on ordinary variation. HR and SBP limits keep the margin of
/// [`crate::admission::LOW_LIMIT_OF_BASELINE`] (a high limit: resting value ÷ that fraction).
const SPO2_MARGIN_PCT: f64 = 3.0;

/// Whether a nurse would set `rule`'s limit to `value` for a patient resting at `b`, with the
/// other limits in force `limits`: far enough from the resting value that ordinary variation
/// does not alarm, nested with its partner rule, and not past the clinical definition of the
/// deterioration the rule watches.
fn sensible(row: &NurseLimit, value: f64, b: &Baseline, limits: &BTreeMap<String, f64>) -> bool {
    let rest = row.basis.of(b);
    let room = match (row.basis, row.below) {
        (Basis::HeartRate | Basis::Systolic, true) => value <= rest * LOW_LIMIT_OF_BASELINE,
        (Basis::HeartRate | Basis::Systolic, false) => value >= rest / LOW_LIMIT_OF_BASELINE,
        (Basis::Spo2, _) => value <= rest - SPO2_MARGIN_PCT,
        (Basis::RespiratoryRate, true) => value <= rest - RR_MARGIN_BPM,
        (Basis::RespiratoryRate, false) => value >= rest + RR_MARGIN_BPM,
    };
    let nested = row.partner.and_then(|p| limits.get(p)).is_none_or(|&p| {
        match (row.rule, row.below) {
            // spo2_desat is the deeper limit of the pair.
            ("spo2_desat", _) => value < p,
            (_, true) => value > p,
            (_, false) => value < p,
        }
    });
    let clinical = if row.below {
        value >= row.definition
    } else {
        value <= row.definition
    };
    room && nested && clinical && value > 0.0
}

/// A value for `row`'s limit drawn from the real values sensible for this patient (other than
/// `current`), weighted by how many stays used them; `None` when none is.
fn draw_value(
    row: &NurseLimit,
    unit: f64,
    current: f64,
    b: &Baseline,
    limits: &BTreeMap<String, f64>,
    rng: &mut SimRng,
) -> Option<f64> {
    let options: Vec<(f64, f64)> = row
        .values
        .iter()
        .map(|&(v, n)| (unit + (v - row.real_mode), f64::from(n)))
        .filter(|&(v, _)| v != current && sensible(row, v, b, limits))
        .collect();
    if options.is_empty() {
        return None;
    }
    let weights: Vec<f64> = options.iter().map(|o| o.1).collect();
    Some(options[rng.weighted(&weights)].0)
}

/// One patient's records: what is in force, when the next change is due.
#[derive(Debug)]
struct Patient {
    rng: SimRng,
    /// Settings records written so far (the `n` of `settings_id`).
    written: u32,
    /// When the next records are due (the first reading: at once).
    due_ms: i64,
    limits: BTreeMap<String, f64>,
    /// Rules whose limit the patient's baseline decides: the nurse leaves them alone.
    fixed: Vec<&'static str>,
}

/// The admission and settings records of a whole ward.
#[derive(Debug)]
pub struct StreamRecords {
    unit: CareUnit,
    profile: BTreeMap<String, f64>,
    patients: Vec<Patient>,
    rate_per_ms: f64,
}

impl StreamRecords {
    /// The records of `patients` beds; each patient's draws come from its own stream of `seed`,
    /// apart from the stream its vitals are drawn from.
    pub fn new(seed: u64, patients: u32, unit: CareUnit) -> Self {
        let profile = unit_profile(unit);
        StreamRecords {
            unit,
            patients: (0..patients)
                .map(|i| Patient {
                    rng: SimRng::new(seed, (1 << 40) + u64::from(i)),
                    written: 0,
                    due_ms: i64::MIN,
                    limits: profile.clone(),
                    fixed: Vec::new(),
                })
                .collect(),
            profile,
            rate_per_ms: CHANGES_PER_DAY / 86_400_000.0,
        }
    }

    /// When bed `i` next has records to write.
    pub fn due_ms(&self, i: u32) -> i64 {
        self.patients[i as usize].due_ms
    }

    /// The records of bed `i` due by its reading at `ts_ms`, as JSON lines (without line ends), in
    /// stream order: at the first reading the unit profile, the nurse's limits at admission and the
    /// admission record; later the nurse's changes since the previous reading.
    pub fn take_due(
        &mut self,
        i: u32,
        ts_ms: i64,
        who: &Demographics,
        b: &Baseline,
    ) -> Vec<String> {
        let unit = self.unit;
        let p = &mut self.patients[i as usize];
        let mut out = Vec::new();
        if p.due_ms == i64::MIN {
            out.push(settings_line(i, ts_ms, p, SettingsSource::UnitProfile));
            if admit(p, &self.profile, who, b) {
                out.push(settings_line(i, ts_ms, p, SettingsSource::Nurse));
            }
            out.push(admission_line(i, ts_ms, unit, who));
            p.due_ms = next_change(ts_ms, self.rate_per_ms, &mut p.rng);
            return out;
        }
        while p.due_ms <= ts_ms {
            let at = p.due_ms;
            if change(p, &self.profile, b) {
                out.push(settings_line(i, at, p, SettingsSource::Nurse));
            }
            p.due_ms = next_change(at, self.rate_per_ms, &mut p.rng);
        }
        out
    }
}

/// The nurse's limits at admission: those the baseline calls for, then each rule of
/// [`NURSE_LIMITS`] with its real share. True when anything differs from the unit profile.
fn admit(
    p: &mut Patient,
    profile: &BTreeMap<String, f64>,
    who: &Demographics,
    b: &Baseline,
) -> bool {
    for m in baseline_limits(who, b, profile).moved {
        p.limits.insert(m.rule.to_owned(), m.when.1);
        p.fixed.push(m.rule);
    }
    let individualises = p.rng.chance(NURSE_INDIVIDUALISES);
    for row in &NURSE_LIMITS {
        // One draw per rule whatever happens, so that one rule's outcome does not shift the next.
        let chosen = p.rng.chance(row.share / NURSE_INDIVIDUALISES) && individualises;
        if !chosen || p.fixed.contains(&row.rule) {
            continue;
        }
        let (unit, current) = (profile[row.rule], p.limits[row.rule]);
        if let Some(v) = draw_value(row, unit, current, b, &p.limits, &mut p.rng) {
            p.limits.insert(row.rule.to_owned(), v);
        }
    }
    p.limits != *profile
}

/// One change during the stay: a limit chosen as often as it changed in the real stays is set
/// back to the unit's value (half the time, when individualised) or to another sensible value.
/// False when the change leaves the limits as they were.
fn change(p: &mut Patient, profile: &BTreeMap<String, f64>, b: &Baseline) -> bool {
    let weights: Vec<f64> = NURSE_LIMITS.iter().map(|r| f64::from(r.changes)).collect();
    let row = &NURSE_LIMITS[p.rng.weighted(&weights)];
    let revert = p.rng.chance(0.5);
    if p.fixed.contains(&row.rule) {
        return false;
    }
    let (unit, current) = (profile[row.rule], p.limits[row.rule]);
    let next = if current != unit && revert {
        Some(unit).filter(|&u| sensible(row, u, b, &p.limits))
    } else {
        draw_value(row, unit, current, b, &p.limits, &mut p.rng)
    };
    match next {
        Some(v) if v != current => {
            p.limits.insert(row.rule.to_owned(), v);
            true
        }
        _ => false,
    }
}

fn next_change(t_ms: i64, rate_per_ms: f64, rng: &mut SimRng) -> i64 {
    let wait = rng.exponential(rate_per_ms);
    if wait.is_finite() && wait < 1e15 {
        t_ms + wait.ceil().max(1.0) as i64
    } else {
        i64::MAX
    }
}

fn settings_line(i: u32, ts_ms: i64, p: &mut Patient, source: SettingsSource) -> String {
    p.written += 1;
    let id = patient_id(i);
    let record = Settings {
        record_type: Default::default(),
        ts: Timestamp::from_millis(ts_ms),
        settings_id: Settings::id_of(&id, p.written),
        patient_id: id,
        device_id: device_id(i),
        source,
        limits: p.limits.clone(),
    };
    serde_json::to_string(&record).expect("a settings record serialises")
}

fn admission_line(i: u32, ts_ms: i64, unit: CareUnit, who: &Demographics) -> String {
    let conditions = match who.profile {
        Profile::Copd | Profile::Hypertension | Profile::AtrialFibrillation => {
            vec![who.profile.name().to_owned()]
        }
        // A trained athlete's bradycardia is no condition (its limits are in the settings).
        Profile::General | Profile::Athlete => Vec::new(),
    };
    let record = Admission {
        record_type: Default::default(),
        ts: Timestamp::from_millis(ts_ms),
        patient_id: patient_id(i),
        device_id: device_id(i),
        unit,
        bed: format!("B-{:02}", u64::from(i) + 1),
        age_band: AgeBand::of_age(u32::from(who.age)).unwrap_or(AgeBand::From18To29),
        sex: match who.sex {
            cohort::Sex::Female => Sex::F,
            cohort::Sex::Male => Sex::M,
        },
        conditions,
        spo2_scale: if who.profile.spo2_scale() == 2 {
            Spo2Scale::Scale2
        } else {
            Spo2Scale::Scale1
        },
    };
    serde_json::to_string(&record).expect("an admission record serialises")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base(hr: f64, spo2: f64) -> Baseline {
        Baseline {
            heart_rate_bpm: hr,
            respiratory_rate_bpm: 15.0,
            spo2_pct: spo2,
            temperature_c: 36.7,
            systolic_mmhg: 120.0,
            diastolic_mmhg: 75.0,
            hr_irregularity_bpm: 0.0,
        }
    }

    fn row(rule: &str) -> &'static NurseLimit {
        NURSE_LIMITS.iter().find(|r| r.rule == rule).unwrap()
    }

    #[test]
    fn every_rule_of_the_table_is_in_the_unit_profile_with_the_real_mode_where_they_agree() {
        let profile = unit_profile(CareUnit::General);
        for r in &NURSE_LIMITS {
            assert!(profile.contains_key(r.rule), "{}", r.rule);
            assert!(r.share > 0.0 && r.share < NURSE_INDIVIDUALISES);
        }
        assert_eq!(profile["hr_low"], row("hr_low").real_mode);
        assert_eq!(profile["spo2_low"], row("spo2_low").real_mode);
    }

    #[test]
    fn a_nurse_limit_keeps_its_distance_from_the_patients_resting_value() {
        let profile = unit_profile(CareUnit::General);
        // hr_low 60 is 80 % of 75: sensible at rest 75, not at rest 70.
        assert!(sensible(row("hr_low"), 60.0, &base(75.0, 97.0), &profile));
        assert!(!sensible(row("hr_low"), 60.0, &base(70.0, 97.0), &profile));
        // hr_low 40 would sit on hr_extreme_low (≤ 40).
        assert!(!sensible(row("hr_low"), 40.0, &base(75.0, 97.0), &profile));
        // SpO2 low 93 only for a patient resting at 96 % or more.
        assert!(sensible(row("spo2_low"), 93.0, &base(75.0, 96.0), &profile));
        assert!(!sensible(
            row("spo2_low"),
            93.0,
            &base(75.0, 95.5),
            &profile
        ));
    }

    fn who() -> Demographics {
        Demographics {
            age: 60,
            sex: cohort::Sex::Female,
            profile: Profile::General,
        }
    }

    /// Over many patients and two days of nurse changes each, on every unit, no nurse limit lies
    /// past the clinical definition its rule watches (the crises missed with a ward `sbp_high` of
    /// 210, the AF-RVRs seen late with `hr_high` 130). The patient rests at 70 bpm, RR 15, SpO2
    /// 98, SBP 120, so every real value is otherwise open to the nurse.
    #[test]
    fn no_nurse_limit_lies_past_the_clinical_definition_of_its_rule() {
        let b = base(70.0, 98.0);
        let mut seen = 0;
        for unit in [CareUnit::General, CareUnit::Icu] {
            for seed in 0..40 {
                let mut records = StreamRecords::new(seed, 20, unit);
                for i in 0..20 {
                    for t in 0..48 {
                        for line in records.take_due(i, t * 3_600_000, &who(), &b) {
                            let Ok(s) = serde_json::from_str::<Settings>(&line) else {
                                continue;
                            };
                            seen += 1;
                            for row in &NURSE_LIMITS {
                                let v = s.limits[row.rule];
                                let past = if row.below {
                                    v < row.definition
                                } else {
                                    v > row.definition
                                };
                                assert!(!past, "{unit:?} seed {seed}: {} {v}: {line}", row.rule);
                            }
                        }
                    }
                }
            }
        }
        assert!(seen > 2000, "{seen} settings records");
    }
}

//! The records of the stream (docs/spec.md §1): `vitals`, `alert`, `admission` and `settings`
//! (who a patient is and which alarm limits are in force for them, so the stream needs no side
//! file), and `rejected`, the envelope in which a line that was not a valid record travels on to
//! the lake's `_rejected/` folder.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::time::Timestamp;

/// A serde marker for the `"type"` field: writes its constant and accepts nothing else.
macro_rules! type_tag {
    ($name:ident, $value:literal) => {
        #[doc = concat!("The `\"type\": \"", $value, "\"` field.")]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
        pub struct $name;

        impl $name {
            pub const VALUE: &'static str = $value;
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str($value)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                if s == $value {
                    Ok($name)
                } else {
                    Err(serde::de::Error::custom(format!(
                        "type is `{s}`, expected `{}`",
                        $value
                    )))
                }
            }
        }
    };
}

type_tag!(VitalsTag, "vitals");
type_tag!(AlertTag, "alert");
type_tag!(RejectedTag, "rejected");
type_tag!(AdmissionTag, "admission");
type_tag!(SettingsTag, "settings");

/// Level of consciousness on the ACVPU scale (NEWS2): Alert, new Confusion, responds to Voice, to
/// Pain, Unresponsive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum Consciousness {
    #[default]
    A,
    C,
    V,
    P,
    U,
}

impl Consciousness {
    /// The scale in order, A to U.
    pub const ALL: [Consciousness; 5] = [
        Consciousness::A,
        Consciousness::C,
        Consciousness::V,
        Consciousness::P,
        Consciousness::U,
    ];

    pub fn is_alert(self) -> bool {
        self == Consciousness::A
    }
}

/// One reading of one bedside device.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Vitals {
    #[serde(rename = "type")]
    pub record_type: VitalsTag,
    /// Event time: when the device measured.
    pub ts: Timestamp,
    pub patient_id: String,
    pub device_id: String,
    /// 0, 1, 2 … per device; a gap means readings were lost upstream.
    pub seq: u64,
    pub heart_rate_bpm: Option<i32>,
    pub spo2_pct: Option<i32>,
    pub respiratory_rate_bpm: Option<i32>,
    pub temperature_c: Option<f64>,
    /// Non-invasive BP is intermittent: null between cuff cycles.
    pub systolic_mmhg: Option<i32>,
    pub diastolic_mmhg: Option<i32>,
    #[serde(default)]
    pub on_oxygen: bool,
    #[serde(default)]
    pub consciousness: Consciousness,
    pub battery_pct: Option<i32>,
    /// Added by cardio-alert: absent before it (outer `None`), `null` while NEWS2 cannot be scored.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub news2: Option<Option<u8>>,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub news2_risk: Option<Option<Risk>>,
}

/// Tells a field that is present with `null` (`Some(None)`) from one that is absent (`None`).
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

/// The vital signs a rule or gate can watch, named by their record field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Vital {
    #[serde(rename = "heart_rate_bpm")]
    HeartRate,
    #[serde(rename = "spo2_pct")]
    Spo2,
    #[serde(rename = "respiratory_rate_bpm")]
    RespiratoryRate,
    #[serde(rename = "temperature_c")]
    Temperature,
    #[serde(rename = "systolic_mmhg")]
    Systolic,
    #[serde(rename = "diastolic_mmhg")]
    Diastolic,
    #[serde(rename = "battery_pct")]
    Battery,
}

impl Vital {
    pub const ALL: [Vital; 7] = [
        Vital::HeartRate,
        Vital::Spo2,
        Vital::RespiratoryRate,
        Vital::Temperature,
        Vital::Systolic,
        Vital::Diastolic,
        Vital::Battery,
    ];

    /// The record field that carries this vital.
    pub fn field(self) -> &'static str {
        match self {
            Vital::HeartRate => "heart_rate_bpm",
            Vital::Spo2 => "spo2_pct",
            Vital::RespiratoryRate => "respiratory_rate_bpm",
            Vital::Temperature => "temperature_c",
            Vital::Systolic => "systolic_mmhg",
            Vital::Diastolic => "diastolic_mmhg",
            Vital::Battery => "battery_pct",
        }
    }

    /// A short clinical label for messages ("SpO2 86% below 90%").
    pub fn label(self) -> &'static str {
        match self {
            Vital::HeartRate => "HR",
            Vital::Spo2 => "SpO2",
            Vital::RespiratoryRate => "RR",
            Vital::Temperature => "Temp",
            Vital::Systolic => "SBP",
            Vital::Diastolic => "DBP",
            Vital::Battery => "Battery",
        }
    }

    /// The unit as written after a value in messages.
    pub fn unit(self) -> &'static str {
        match self {
            Vital::HeartRate | Vital::RespiratoryRate => "/min",
            Vital::Spo2 | Vital::Battery => "%",
            Vital::Temperature => " °C",
            Vital::Systolic | Vital::Diastolic => " mmHg",
        }
    }
}

impl fmt::Display for Vital {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.field())
    }
}

impl Vitals {
    /// A reading with every measured value null, for builders and tests.
    pub fn empty(ts: Timestamp, patient_id: &str, device_id: &str, seq: u64) -> Self {
        Vitals {
            record_type: VitalsTag,
            ts,
            patient_id: patient_id.to_owned(),
            device_id: device_id.to_owned(),
            seq,
            heart_rate_bpm: None,
            spo2_pct: None,
            respiratory_rate_bpm: None,
            temperature_c: None,
            systolic_mmhg: None,
            diastolic_mmhg: None,
            on_oxygen: false,
            consciousness: Consciousness::A,
            battery_pct: None,
            news2: None,
            news2_risk: None,
        }
    }

    /// The value of one vital as a number, or `None` when the reading is null.
    pub fn get(&self, vital: Vital) -> Option<f64> {
        match vital {
            Vital::HeartRate => self.heart_rate_bpm.map(f64::from),
            Vital::Spo2 => self.spo2_pct.map(f64::from),
            Vital::RespiratoryRate => self.respiratory_rate_bpm.map(f64::from),
            Vital::Temperature => self.temperature_c,
            Vital::Systolic => self.systolic_mmhg.map(f64::from),
            Vital::Diastolic => self.diastolic_mmhg.map(f64::from),
            Vital::Battery => self.battery_pct.map(f64::from),
        }
    }
}

/// NEWS2 clinical risk band (RCP 2017, chart 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Risk {
    Low,
    LowMedium,
    Medium,
    High,
}

impl Risk {
    /// The bands from lowest to highest.
    pub const ALL: [Risk; 4] = [Risk::Low, Risk::LowMedium, Risk::Medium, Risk::High];

    pub fn as_str(self) -> &'static str {
        match self {
            Risk::Low => "low",
            Risk::LowMedium => "low-medium",
            Risk::Medium => "medium",
            Risk::High => "high",
        }
    }
}

/// IEC 60601-1-8 keeps physiological and technical alarm conditions apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AlertKind {
    Physiological,
    Technical,
}

/// Alarm priority (IEC 60601-1-8), ordered low < medium < high.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Priority {
    Low,
    Medium,
    High,
}

impl Priority {
    pub fn as_str(self) -> &'static str {
        match self {
            Priority::Low => "low",
            Priority::Medium => "medium",
            Priority::High => "high",
        }
    }
}

impl fmt::Display for Priority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The change of state an alert event reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AlertState {
    Raised,
    /// The priority went up during the episode.
    Escalated,
    Cleared,
}

impl AlertState {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertState::Raised => "raised",
            AlertState::Escalated => "escalated",
            AlertState::Cleared => "cleared",
        }
    }
}

/// One change in the state of one alarm of one patient.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    #[serde(rename = "type")]
    pub record_type: AlertTag,
    /// Event time of the reading that changed the state.
    pub ts: Timestamp,
    pub patient_id: String,
    pub device_id: String,
    /// Stable for one episode, from raise to clear.
    pub alert_id: String,
    pub rule: String,
    pub kind: AlertKind,
    pub priority: Priority,
    pub state: AlertState,
    pub vital: Option<Vital>,
    pub value: Option<f64>,
    pub limit: Option<f64>,
    pub news2: Option<u8>,
    pub message: String,
    /// The `settings` record whose limit `limit` is; `None` (written as null) when the limit comes
    /// from the built-in rules or a `--rules` file. Absent in lines written before it existed.
    #[serde(default)]
    pub settings_id: Option<String>,
}

/// The kind of unit a patient is admitted to: it decides the cohort and the unit's alarm profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CareUnit {
    /// The general adult ward (the simulator's default).
    #[default]
    General,
    Medical,
    Surgical,
    Icu,
}

impl CareUnit {
    pub const ALL: [CareUnit; 4] = [
        CareUnit::General,
        CareUnit::Medical,
        CareUnit::Surgical,
        CareUnit::Icu,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CareUnit::General => "general",
            CareUnit::Medical => "medical",
            CareUnit::Surgical => "surgical",
            CareUnit::Icu => "icu",
        }
    }

    /// The unit of that name (`as_str`), if any.
    pub fn from_name(name: &str) -> Option<CareUnit> {
        CareUnit::ALL.into_iter().find(|u| u.as_str() == name)
    }
}

/// Sex as recorded at admission.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Sex {
    F,
    M,
}

/// A ten-year age band: the stream never carries an exact age (de-identification).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum AgeBand {
    #[serde(rename = "18-29")]
    From18To29,
    #[serde(rename = "30-39")]
    From30To39,
    #[serde(rename = "40-49")]
    From40To49,
    #[serde(rename = "50-59")]
    From50To59,
    #[serde(rename = "60-69")]
    From60To69,
    #[serde(rename = "70-79")]
    From70To79,
    #[serde(rename = "80-89")]
    From80To89,
    #[serde(rename = "90+")]
    From90,
}

impl AgeBand {
    pub const ALL: [AgeBand; 8] = [
        AgeBand::From18To29,
        AgeBand::From30To39,
        AgeBand::From40To49,
        AgeBand::From50To59,
        AgeBand::From60To69,
        AgeBand::From70To79,
        AgeBand::From80To89,
        AgeBand::From90,
    ];

    /// The band of an adult's age in years; `None` under 18 (the stream is for adult patients).
    pub fn of_age(years: u32) -> Option<AgeBand> {
        match years {
            0..=17 => None,
            18..=29 => Some(AgeBand::From18To29),
            _ => Some(Self::ALL[(years.min(90) / 10 - 2) as usize]),
        }
    }
}

/// The NEWS2 SpO2 scale as the integer 1 or 2 the `admission` record carries.
mod spo2_scale_number {
    use serde::{Deserialize, Deserializer, Serializer};

    use crate::news2::Spo2Scale;

    pub fn serialize<S: Serializer>(scale: &Spo2Scale, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u8(match scale {
            Spo2Scale::Scale1 => 1,
            Spo2Scale::Scale2 => 2,
        })
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Spo2Scale, D::Error> {
        match u8::deserialize(d)? {
            1 => Ok(Spo2Scale::Scale1),
            2 => Ok(Spo2Scale::Scale2),
            n => Err(serde::de::Error::custom(format!(
                "spo2_scale is {n}, expected 1 or 2"
            ))),
        }
    }
}

/// Who a patient is, as far as alarms and NEWS2 care: one per patient, on the line before the
/// patient's first reading, `ts` that reading's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Admission {
    #[serde(rename = "type")]
    pub record_type: AdmissionTag,
    pub ts: Timestamp,
    pub patient_id: String,
    pub device_id: String,
    pub unit: CareUnit,
    /// The bed the device is at, e.g. `B-04`.
    pub bed: String,
    pub age_band: AgeBand,
    pub sex: Sex,
    /// Chronic conditions relevant to alarm limits, e.g. `copd`, `af`, `hypertension`.
    pub conditions: Vec<String>,
    /// The NEWS2 SpO2 scale this patient is scored on (docs/spec.md §3.1).
    #[serde(with = "spo2_scale_number")]
    pub spo2_scale: crate::news2::Spo2Scale,
}

/// Where a patient's alarm settings came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SettingsSource {
    /// The unit's defaults, loaded when the monitor is admitted to the patient.
    UnitProfile,
    /// Individualised by the nurse for this patient.
    Nurse,
}

impl SettingsSource {
    pub fn as_str(self) -> &'static str {
        match self {
            SettingsSource::UnitProfile => "unit_profile",
            SettingsSource::Nurse => "nurse",
        }
    }
}

/// The alarm settings in force for one patient from `ts` on: the complete set of threshold
/// limits, not a change to the previous ones.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    #[serde(rename = "type")]
    pub record_type: SettingsTag,
    /// Event time from which these settings apply.
    pub ts: Timestamp,
    pub patient_id: String,
    pub device_id: String,
    /// Unique and stable: `<patient_id>/<n>`, n = 1, 2 … per patient in stream order.
    pub settings_id: String,
    pub source: SettingsSource,
    /// Rule name (docs/spec.md §3.2) → the limit of that rule's condition (`when.limit`).
    pub limits: BTreeMap<String, f64>,
}

impl Settings {
    /// The `settings_id` of a patient's `n`-th settings record (n from 1).
    pub fn id_of(patient_id: &str, n: u32) -> String {
        format!("{patient_id}/{n}")
    }
}

/// A line that was not a valid record, wrapped by the first stage that saw it so that it reaches
/// the lake's `_rejected/` folder with the reason (docs/spec.md: never silently gone).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rejected {
    #[serde(rename = "type")]
    pub record_type: RejectedTag,
    /// Wall-clock time at which the stage saw the line (a bad line has no trustworthy event time).
    pub ts: Timestamp,
    /// The stage that found the line bad.
    pub stage: String,
    /// Line number in that stage's input, counting from 1.
    pub line: u64,
    pub reason: String,
    /// The line as text (invalid UTF-8 replaced by U+FFFD; see `raw_base64` for the exact bytes).
    pub raw: String,
    /// The exact bytes, present only when the line was not valid UTF-8.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw_base64: Option<String>,
    /// Set when the line was longer than the reader's limit and only its start is kept in `raw`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub truncated: bool,
}

/// At most this much of a bad line is kept in its `rejected` record. JSON escaping can grow text
/// sixfold, so this keeps every envelope well under the line codec's 1 MiB limit: an envelope must
/// itself pass through the next stage as a valid line.
pub const MAX_REJECTED_RAW_BYTES: usize = 128 * 1024;

impl Rejected {
    /// Wraps a bad line. `raw` is the line without its line end; `truncated` says the reader
    /// already cut it. Lines over [`MAX_REJECTED_RAW_BYTES`] are cut here too.
    pub fn new(
        stage: &str,
        line: u64,
        reason: String,
        raw: &[u8],
        truncated: bool,
        now: Timestamp,
    ) -> Self {
        use base64::Engine as _;
        let truncated = truncated || raw.len() > MAX_REJECTED_RAW_BYTES;
        let mut raw = &raw[..raw.len().min(MAX_REJECTED_RAW_BYTES)];
        if truncated {
            // Do not let the cut itself split a UTF-8 character and turn good text into bytes.
            if let Err(e) = std::str::from_utf8(raw)
                && e.error_len().is_none()
            {
                raw = &raw[..e.valid_up_to()];
            }
        }
        let (text, exact) = match std::str::from_utf8(raw) {
            Ok(s) => (s.to_owned(), None),
            Err(_) => (
                String::from_utf8_lossy(raw).into_owned(),
                Some(base64::engine::general_purpose::STANDARD.encode(raw)),
            ),
        };
        Rejected {
            record_type: RejectedTag,
            ts: now,
            stage: stage.to_owned(),
            line,
            reason,
            raw: text,
            raw_base64: exact,
            truncated,
        }
    }

    /// The exact bytes of the original line.
    pub fn raw_bytes(&self) -> Vec<u8> {
        use base64::Engine as _;
        self.raw_base64
            .as_deref()
            .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
            .unwrap_or_else(|| self.raw.as_bytes().to_vec())
    }

    /// Identity of a rejected line in the lake: a stable hash of its exact bytes, so a replay of
    /// the same bad line is recognised whichever stage or line number wrapped it.
    pub fn content_hash(&self) -> u64 {
        xxhash_rust::xxh3::xxh3_64(&self.raw_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn age_bands_are_ten_years_wide_from_18_and_open_from_90() {
        assert_eq!(AgeBand::of_age(17), None);
        assert_eq!(AgeBand::of_age(18), Some(AgeBand::From18To29));
        assert_eq!(AgeBand::of_age(29), Some(AgeBand::From18To29));
        assert_eq!(AgeBand::of_age(30), Some(AgeBand::From30To39));
        assert_eq!(AgeBand::of_age(89), Some(AgeBand::From80To89));
        assert_eq!(AgeBand::of_age(90), Some(AgeBand::From90));
        assert_eq!(AgeBand::of_age(104), Some(AgeBand::From90));
    }

    #[test]
    fn rejected_keeps_exact_bytes_of_a_non_utf8_line() {
        let r = Rejected::new("t", 3, "bad".into(), b"a\xffb", false, Timestamp(0));
        assert_eq!(r.raw, "a\u{fffd}b");
        assert_eq!(r.raw_bytes(), b"a\xffb");
        assert_eq!(r.content_hash(), xxhash_rust::xxh3::xxh3_64(b"a\xffb"));
    }

    #[test]
    fn rejected_envelope_of_a_huge_line_stays_under_the_line_limit() {
        let line = "\"é".repeat(600_000);
        let r = Rejected::new(
            "t",
            1,
            "too long".into(),
            line.as_bytes(),
            false,
            Timestamp(0),
        );
        assert!(r.truncated);
        assert!(
            r.raw_base64.is_none(),
            "the cut falls on a character boundary"
        );
        let json = serde_json::to_string(&r).unwrap();
        assert!(
            json.len() < crate::codec::DEFAULT_MAX_LINE_BYTES,
            "{}",
            json.len()
        );
    }
}

//! The mapping tables: which record field becomes which coded observation in HL7 v2 (IEEE
//! 11073-10101 MDC terms, as IHE PCD-01 asks) and in FHIR R4 (LOINC, as the vital-signs profile
//! asks), with its UCUM unit. Kept as data, one row per field, so that the table can be read side by
//! side with its sources:
//!
//! - MDC codes: IEEE 11073-10101 nomenclature, as listed in the NIST Rosetta Terminology Mapping
//!   (RTM) that IHE PCD uses. A code is `partition × 65536 + term`; all numerics here are in
//!   partition 2 (SCADA), e.g. MDC_ECG_HEART_RATE = 2 × 65536 + 16770 = 147842.
//! - Units: MDC dimension codes (partition 4) with their UCUM equivalents from the same RTM.
//! - LOINC codes and FHIR profiles: the FHIR R4 Vital Signs profiles (§ "Vital Signs" of the R4
//!   Observation page), which fix the LOINC code and the UCUM unit of each vital sign.
//! - NEWS2: SNOMED CT (UK edition) 1104051000000101, "Royal College of Physicians NEWS2 (National
//!   Early Warning Score 2) total score", as the UK's FHIR profiles code it; there is no MDC term.

use vitals_core::Vitals;

/// A number as the record carries it: integers stay integers in the output.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Num {
    Int(i64),
    Dec(f64),
}

impl Num {
    /// Writes the number in the form both HL7 NM and JSON accept (`72`, `36.8`).
    pub fn write(self, out: &mut Vec<u8>) {
        use std::io::Write as _;
        let _ = match self {
            Num::Int(i) => write!(out, "{i}"),
            Num::Dec(f) => write!(out, "{f}"),
        };
    }
}

/// One numeric vital sign of a `vitals` record and its codes.
#[derive(Debug)]
pub struct Numeric {
    /// The record field (docs/spec.md §1).
    pub field: &'static str,
    pub get: fn(&Vitals) -> Option<Num>,
    /// IEEE 11073-10101 term code and reference id.
    pub mdc: u32,
    pub mdc_ref: &'static str,
    /// OBX-4 sub-id: the place of the metric in the monitor's containment tree
    /// (MDS.VMD.channel.metric), fixed per parameter so that a receiver can tell the metrics apart.
    pub sub_id: &'static str,
    /// IEEE 11073-10101 dimension (unit) code and reference id.
    pub mdc_unit: u32,
    pub mdc_unit_ref: &'static str,
    /// UCUM unit code, and the human-readable unit FHIR puts beside it.
    pub ucum: &'static str,
    pub unit_display: &'static str,
    /// LOINC code and display (FHIR R4 vital-signs profile).
    pub loinc: &'static str,
    pub loinc_display: &'static str,
}

fn int(v: Option<i32>) -> Option<Num> {
    v.map(|i| Num::Int(i64::from(i)))
}

/// Heart rate, SpO2, respiration rate, temperature, NIBP systolic and diastolic.
pub const NUMERICS: [Numeric; 6] = [
    Numeric {
        field: "heart_rate_bpm",
        get: |v| int(v.heart_rate_bpm),
        mdc: 147842,
        mdc_ref: "MDC_ECG_HEART_RATE",
        sub_id: "1.1.1.1",
        mdc_unit: 264864,
        mdc_unit_ref: "MDC_DIM_BEAT_PER_MIN",
        ucum: "/min",
        unit_display: "beats/minute",
        loinc: "8867-4",
        loinc_display: "Heart rate",
    },
    Numeric {
        field: "spo2_pct",
        get: |v| int(v.spo2_pct),
        mdc: 150456,
        mdc_ref: "MDC_PULS_OXIM_SAT_O2",
        sub_id: "1.2.1.1",
        mdc_unit: 262688,
        mdc_unit_ref: "MDC_DIM_PERCENT",
        ucum: "%",
        unit_display: "%",
        loinc: "59408-5",
        loinc_display: "Oxygen saturation in Arterial blood by Pulse oximetry",
    },
    Numeric {
        field: "respiratory_rate_bpm",
        get: |v| int(v.respiratory_rate_bpm),
        mdc: 151562,
        mdc_ref: "MDC_RESP_RATE",
        sub_id: "1.3.1.1",
        mdc_unit: 264928,
        mdc_unit_ref: "MDC_DIM_RESP_PER_MIN",
        ucum: "/min",
        unit_display: "breaths/minute",
        loinc: "9279-1",
        loinc_display: "Respiratory rate",
    },
    Numeric {
        field: "temperature_c",
        get: |v| v.temperature_c.map(Num::Dec),
        mdc: 150364,
        mdc_ref: "MDC_TEMP_BODY",
        sub_id: "1.4.1.1",
        mdc_unit: 268192,
        mdc_unit_ref: "MDC_DIM_DEGC",
        ucum: "Cel",
        unit_display: "C",
        loinc: "8310-5",
        loinc_display: "Body temperature",
    },
    // Non-invasive (cuff) pressure: MDC_PRESS_BLD_NONINV_* (150020 + 1, + 2), not the arterial-line
    // MDC_PRESS_BLD_ART_* terms (150033, 150034), which would tell the receiver it came from an
    // invasive catheter.
    Numeric {
        field: "systolic_mmhg",
        get: |v| int(v.systolic_mmhg),
        mdc: 150021,
        mdc_ref: "MDC_PRESS_BLD_NONINV_SYS",
        sub_id: "1.5.1.1",
        mdc_unit: 266016,
        mdc_unit_ref: "MDC_DIM_MMHG",
        ucum: "mm[Hg]",
        unit_display: "mmHg",
        loinc: "8480-6",
        loinc_display: "Systolic blood pressure",
    },
    Numeric {
        field: "diastolic_mmhg",
        get: |v| int(v.diastolic_mmhg),
        mdc: 150022,
        mdc_ref: "MDC_PRESS_BLD_NONINV_DIA",
        sub_id: "1.5.1.2",
        mdc_unit: 266016,
        mdc_unit_ref: "MDC_DIM_MMHG",
        ucum: "mm[Hg]",
        unit_display: "mmHg",
        loinc: "8462-4",
        loinc_display: "Diastolic blood pressure",
    },
];

/// Index of a field in [`NUMERICS`].
pub const HEART_RATE: usize = 0;
pub const SPO2: usize = 1;
pub const RESP_RATE: usize = 2;
pub const TEMPERATURE: usize = 3;
pub const SYSTOLIC: usize = 4;
pub const DIASTOLIC: usize = 5;

/// The row of a vital an alert names (battery has no MDC numeric term here: its alerts are
/// technical and name their rule as the source instead).
pub fn numeric_of(vital: vitals_core::Vital) -> Option<&'static Numeric> {
    use vitals_core::Vital;
    let i = match vital {
        Vital::HeartRate => HEART_RATE,
        Vital::Spo2 => SPO2,
        Vital::RespiratoryRate => RESP_RATE,
        Vital::Temperature => TEMPERATURE,
        Vital::Systolic => SYSTOLIC,
        Vital::Diastolic => DIASTOLIC,
        Vital::Battery => return None,
    };
    Some(&NUMERICS[i])
}

/// FHIR R4's second SpO2 code: the oxygensat profile requires LOINC 2708-6 ("Oxygen saturation in
/// Arterial blood"); 59408-5 (by pulse oximetry) is added beside it as the more exact code.
pub const SPO2_PROFILE_LOINC: (&str, &str) = ("2708-6", "Oxygen saturation in Arterial blood");

/// FHIR R4 blood pressure panel (bp profile): systolic and diastolic are its components.
pub const BP_PANEL_LOINC: (&str, &str) =
    ("85354-9", "Blood pressure panel with all children optional");

/// NEWS2 total score: SNOMED CT UK edition; unit `{score}` (UCUM annotation).
pub const NEWS2_SNOMED: (&str, &str) = (
    "1104051000000101",
    "Royal College of Physicians NEWS2 (National Early Warning Score 2) total score",
);

/// The HL7 v2 sub-id of the NEWS2 observation (outside the monitor's own tree: it is computed).
pub const NEWS2_SUB_ID: &str = "1.0.0.1";

/// The monitor itself (PCD-01's MDS-level OBX and FHIR's Device.type).
pub const MDS_MDC: (u32, &str) = (69965, "MDC_DEV_MON_PHYSIO_MULTI_PARAM_MDS");

/// PCD-04 alarm terms (IHE PCD TF-2, Report Alert): OBR-4 and the event identification OBX.
pub const EVT_ALARM: (u32, &str) = (196616, "MDC_EVT_ALARM");
pub const EVT_HI: (u32, &str) = (196648, "MDC_EVT_HI");
pub const EVT_LO: (u32, &str) = (196670, "MDC_EVT_LO");
pub const ATTR_ALERT_SOURCE: (u32, &str) = (68480, "MDC_ATTR_ALERT_SOURCE");
pub const ATTR_EVENT_PHASE: (u32, &str) = (68481, "MDC_ATTR_EVENT_PHASE");
pub const ATTR_ALARM_STATE: (u32, &str) = (68482, "MDC_ATTR_ALARM_STATE");
pub const ATTR_ALARM_INACTIVATION_STATE: (u32, &str) = (68483, "MDC_ATTR_ALARM_INACTIVATION_STATE");

/// Code systems as FHIR names them.
pub const LOINC_SYSTEM: &str = "http://loinc.org";
pub const MDC_SYSTEM: &str = "urn:iso:std:iso:11073:10101";
pub const UCUM_SYSTEM: &str = "http://unitsofmeasure.org";
pub const SNOMED_SYSTEM: &str = "http://snomed.info/sct";

#[cfg(test)]
mod tests {
    use super::*;

    /// MDC codes are partition × 65536 + term code (IEEE 11073-10101): check each against the term
    /// number the standard lists, so a typo in either column is caught.
    #[test]
    fn mdc_codes_are_partition_2_terms() {
        let terms = [16770, 19384, 20490, 19292, 18949, 18950];
        for (row, term) in NUMERICS.iter().zip(terms) {
            assert_eq!(row.mdc, 2 * 65536 + term, "{}", row.field);
        }
    }
}

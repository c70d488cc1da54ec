//! FHIR R4 resources for one reading: an Observation per measured vital sign, conforming to the R4
//! vital-signs profiles (category `vital-signs`, the profile's LOINC code, UCUM quantity, subject
//! Patient, `effectiveDateTime` = the reading's `ts`, the monitor as `device`), blood pressure as the
//! 85354-9 panel with systolic and diastolic components, NEWS2 as an Observation of its own derived
//! from the others; and the Patient and Device they reference, once per id.
//!
//! A null value gives no Observation (absent, never zero); a blood pressure with only one of its
//! two values keeps the other component with a `dataAbsentReason`, as the bp profile requires both.
//!
//! Ids are derived from the record (`D-001-42-hr`: device, seq, vital), never random, so the same
//! input gives byte-identical resources and a PUT of the same reading twice replaces, not doubles.
//! The JSON is written by hand from fixed pieces: a reading becomes about 4 kB of JSON, and building
//! a generic JSON tree for it would cost more than everything else the export does.

use std::collections::HashSet;

use vitals_core::Vitals;

use crate::codes::{self, NUMERICS, Num};

/// The resource types the export writes, in the order of their Bulk Data files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Patient,
    Device,
    Observation,
}

impl Kind {
    pub const ALL: [Kind; 3] = [Kind::Patient, Kind::Device, Kind::Observation];

    pub fn name(self) -> &'static str {
        match self {
            Kind::Patient => "Patient",
            Kind::Device => "Device",
            Kind::Observation => "Observation",
        }
    }
}

/// Receives each resource as compact JSON.
pub trait ResourceSink {
    fn resource(&mut self, kind: Kind, id: &str, json: &[u8]) -> anyhow::Result<()>;
}

/// Identifier systems of the ids the stream carries.
const PATIENT_ID_SYSTEM: &str = "urn:cardiostream:patient-id";
const DEVICE_ID_SYSTEM: &str = "urn:cardiostream:device-id";

/// The FHIR R4 vital-signs profile of each [`NUMERICS`] row, and the id suffix of its Observation.
const PROFILES: [(&str, &str); 4] = [
    ("http://hl7.org/fhir/StructureDefinition/heartrate", "hr"),
    ("http://hl7.org/fhir/StructureDefinition/oxygensat", "spo2"),
    ("http://hl7.org/fhir/StructureDefinition/resprate", "rr"),
    ("http://hl7.org/fhir/StructureDefinition/bodytemp", "temp"),
];
const BP_PROFILE: &str = "http://hl7.org/fhir/StructureDefinition/bp";

const CATEGORY_VITAL_SIGNS: &str = r#""category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"vital-signs","display":"Vital Signs"}],"text":"Vital Signs"}]"#;
const CATEGORY_SURVEY: &str = r#""category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"survey","display":"Survey"}],"text":"Survey"}]"#;

/// Turns readings into resources, remembering which Patients and Devices it has already written.
#[derive(Debug, Default)]
pub struct Encoder {
    patients: HashSet<String>,
    devices: HashSet<String>,
    buf: Vec<u8>,
    patient_ref: String,
    device_ref: String,
    base_id: String,
    derived: Vec<&'static str>,
    /// The fixed JSON of each [`NUMERICS`] row, built once: its `"code"` member (as an
    /// Observation's for the first four, as a BP component's start for the last two) and the
    /// unit members that follow a value. A reading writes a few large pieces instead of many
    /// small ones.
    codes: Vec<Vec<u8>>,
    units: Vec<Vec<u8>>,
}

impl Encoder {
    /// Emits the resources of one reading: a Patient or Device the first time it is seen, then the
    /// Observations.
    pub fn reading(&mut self, v: &Vitals, sink: &mut dyn ResourceSink) -> anyhow::Result<()> {
        self.patient_ref.clear();
        push_id(&mut self.patient_ref, &[&v.patient_id]);
        self.device_ref.clear();
        push_id(&mut self.device_ref, &[&v.device_id]);
        if !self.patients.contains(&v.patient_id) {
            self.patients.insert(v.patient_id.clone());
            self.patient(&v.patient_id, sink)?;
        }
        if !self.devices.contains(&v.device_id) {
            self.devices.insert(v.device_id.clone());
            self.device(&v.device_id, sink)?;
        }
        let mut ts = Vec::with_capacity(24);
        v.ts.write_rfc3339(&mut ts);
        let ts = std::str::from_utf8(&ts).expect("RFC 3339 is ASCII");
        let mut seq = Vec::with_capacity(20);
        Num::Int(v.seq as i64).write(&mut seq);
        let seq = std::str::from_utf8(&seq).expect("digits");

        if self.codes.is_empty() {
            self.build_fixed_pieces();
        }
        self.derived.clear();
        for (i, (profile, suffix)) in PROFILES.into_iter().enumerate() {
            let Some(value) = (NUMERICS[i].get)(v) else {
                continue;
            };
            self.begin(v, seq, suffix, profile, CATEGORY_VITAL_SIGNS);
            self.buf.extend_from_slice(&self.codes[i]);
            self.subject_time_device(ts);
            let b = &mut self.buf;
            b.extend_from_slice(br#","valueQuantity":{"value":"#);
            value.write(b);
            b.extend_from_slice(&self.units[i]);
            b.push(b'}');
            self.emit(suffix, sink)?;
        }

        let sys = (NUMERICS[codes::SYSTOLIC].get)(v);
        let dia = (NUMERICS[codes::DIASTOLIC].get)(v);
        if sys.is_some() || dia.is_some() {
            self.begin(v, seq, "bp", BP_PROFILE, CATEGORY_VITAL_SIGNS);
            let b = &mut self.buf;
            b.extend_from_slice(br#","code":{"coding":["#);
            coding(
                b,
                codes::LOINC_SYSTEM,
                codes::BP_PANEL_LOINC.0,
                codes::BP_PANEL_LOINC.1,
            );
            b.extend_from_slice(br#"],"text":"Blood pressure"}"#);
            self.subject_time_device(ts);
            let b = &mut self.buf;
            b.extend_from_slice(br#","component":["#);
            for (i, value) in [(codes::SYSTOLIC, sys), (codes::DIASTOLIC, dia)] {
                if i == codes::DIASTOLIC {
                    b.push(b',');
                }
                b.push(b'{');
                b.extend_from_slice(&self.codes[i][1..]);
                match value {
                    Some(value) => {
                        b.extend_from_slice(br#","valueQuantity":{"value":"#);
                        value.write(b);
                        b.extend_from_slice(&self.units[i]);
                    }
                    None => b.extend_from_slice(
                        br#","dataAbsentReason":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/data-absent-reason","code":"unknown","display":"Unknown"}]}"#,
                    ),
                }
                b.push(b'}');
            }
            b.extend_from_slice(b"]}");
            self.emit("bp", sink)?;
        }

        if let Some(Some(score)) = v.news2 {
            self.begin(v, seq, "news2", "", CATEGORY_SURVEY);
            let b = &mut self.buf;
            b.extend_from_slice(br#","code":{"coding":["#);
            coding(
                b,
                codes::SNOMED_SYSTEM,
                codes::NEWS2_SNOMED.0,
                codes::NEWS2_SNOMED.1,
            );
            b.extend_from_slice(br#"],"text":"NEWS2 total score"}"#);
            self.subject_time_device(ts);
            let b = &mut self.buf;
            b.extend_from_slice(br#","valueQuantity":"#);
            quantity(b, Num::Int(i64::from(score)), "score", "{score}");
            if let Some(Some(risk)) = v.news2_risk {
                b.extend_from_slice(br#","interpretation":[{"text":""#);
                b.extend_from_slice(risk.as_str().as_bytes());
                b.extend_from_slice(br#" clinical risk"}]"#);
            }
            // The vital signs the score was computed from, as far as this reading carries them
            // (cardio-alert may carry a BP or temperature forward from an earlier reading).
            if !self.derived.is_empty() {
                b.extend_from_slice(br#","derivedFrom":["#);
                for (i, suffix) in self.derived.iter().enumerate() {
                    if i > 0 {
                        b.push(b',');
                    }
                    b.extend_from_slice(br#"{"reference":"Observation/"#);
                    push_id_bytes(b, &[&v.device_id, seq, suffix]);
                    b.extend_from_slice(b"\"}");
                }
                b.push(b']');
            }
            b.push(b'}');
            self.emit("news2", sink)?;
        }
        Ok(())
    }

    fn build_fixed_pieces(&mut self) {
        for (i, row) in NUMERICS.iter().enumerate() {
            let mut b = br#","code":{"coding":["#.to_vec();
            if i == codes::SPO2 {
                let (code, display) = codes::SPO2_PROFILE_LOINC;
                coding(&mut b, codes::LOINC_SYSTEM, code, display);
                b.push(b',');
            }
            coding(&mut b, codes::LOINC_SYSTEM, row.loinc, row.loinc_display);
            b.push(b',');
            mdc_coding(&mut b, row);
            b.extend_from_slice(br#"],"text":""#);
            b.extend_from_slice(row.loinc_display.as_bytes());
            b.extend_from_slice(b"\"}");
            self.codes.push(b);
            let mut u = vec![];
            unit_members(&mut u, row.unit_display, row.ucum);
            self.units.push(u);
        }
    }

    /// Starts an Observation: resourceType, id, meta.profile (none when `profile` is empty),
    /// status and category.
    fn begin(&mut self, v: &Vitals, seq: &str, suffix: &str, profile: &str, category: &str) {
        let b = &mut self.buf;
        b.clear();
        b.extend_from_slice(br#"{"resourceType":"Observation","id":""#);
        self.base_id.clear();
        push_id(&mut self.base_id, &[&v.device_id, seq, suffix]);
        b.extend_from_slice(self.base_id.as_bytes());
        b.push(b'"');
        if !profile.is_empty() {
            b.extend_from_slice(br#","meta":{"profile":[""#);
            b.extend_from_slice(profile.as_bytes());
            b.extend_from_slice(br#""]}"#);
        }
        b.extend_from_slice(br#","status":"final","#);
        b.extend_from_slice(category.as_bytes());
    }

    fn subject_time_device(&mut self, ts: &str) {
        let b = &mut self.buf;
        b.extend_from_slice(br#","subject":{"reference":"Patient/"#);
        b.extend_from_slice(self.patient_ref.as_bytes());
        b.extend_from_slice(br#""},"effectiveDateTime":""#);
        b.extend_from_slice(ts.as_bytes());
        b.extend_from_slice(br#"","device":{"reference":"Device/"#);
        b.extend_from_slice(self.device_ref.as_bytes());
        b.extend_from_slice(b"\"}");
    }

    fn emit(&mut self, suffix: &'static str, sink: &mut dyn ResourceSink) -> anyhow::Result<()> {
        if suffix != "news2" {
            self.derived.push(suffix);
        }
        sink.resource(Kind::Observation, &self.base_id, &self.buf)
    }

    fn patient(&mut self, patient_id: &str, sink: &mut dyn ResourceSink) -> anyhow::Result<()> {
        start_identified(
            &mut self.buf,
            Kind::Patient,
            &self.patient_ref,
            PATIENT_ID_SYSTEM,
            patient_id,
        );
        self.buf.push(b'}');
        sink.resource(Kind::Patient, &self.patient_ref, &self.buf)
    }

    fn device(&mut self, device_id: &str, sink: &mut dyn ResourceSink) -> anyhow::Result<()> {
        start_identified(
            &mut self.buf,
            Kind::Device,
            &self.device_ref,
            DEVICE_ID_SYSTEM,
            device_id,
        );
        let b = &mut self.buf;
        b.extend_from_slice(br#","type":{"coding":[{"system":""#);
        b.extend_from_slice(codes::MDC_SYSTEM.as_bytes());
        b.extend_from_slice(br#"","code":""#);
        Num::Int(i64::from(codes::MDS_MDC.0)).write(b);
        b.extend_from_slice(br#"","display":""#);
        b.extend_from_slice(codes::MDS_MDC.1.as_bytes());
        b.extend_from_slice(br#""}],"text":"Multi-parameter patient monitor"}}"#);
        sink.resource(Kind::Device, &self.device_ref, &self.buf)
    }
}

/// Starts a Patient or Device in `b`: its type, resource id and the stream's id as identifier,
/// leaving the object open.
fn start_identified(b: &mut Vec<u8>, kind: Kind, id: &str, system: &str, value: &str) {
    b.clear();
    b.extend_from_slice(br#"{"resourceType":""#);
    b.extend_from_slice(kind.name().as_bytes());
    b.extend_from_slice(br#"","id":""#);
    b.extend_from_slice(id.as_bytes());
    b.extend_from_slice(br#"","identifier":[{"system":""#);
    b.extend_from_slice(system.as_bytes());
    b.extend_from_slice(br#"","value":"#);
    json_string(b, value);
    b.extend_from_slice(b"}]");
}

fn coding(b: &mut Vec<u8>, system: &str, code: &str, display: &str) {
    b.extend_from_slice(br#"{"system":""#);
    b.extend_from_slice(system.as_bytes());
    b.extend_from_slice(br#"","code":""#);
    b.extend_from_slice(code.as_bytes());
    b.extend_from_slice(br#"","display":""#);
    b.extend_from_slice(display.as_bytes());
    b.extend_from_slice(b"\"}");
}

fn mdc_coding(b: &mut Vec<u8>, row: &codes::Numeric) {
    b.extend_from_slice(br#"{"system":""#);
    b.extend_from_slice(codes::MDC_SYSTEM.as_bytes());
    b.extend_from_slice(br#"","code":""#);
    Num::Int(i64::from(row.mdc)).write(b);
    b.extend_from_slice(br#"","display":""#);
    b.extend_from_slice(row.mdc_ref.as_bytes());
    b.extend_from_slice(b"\"}");
}

fn quantity(b: &mut Vec<u8>, value: Num, unit: &str, ucum: &str) {
    b.extend_from_slice(br#"{"value":"#);
    value.write(b);
    unit_members(b, unit, ucum);
}

/// The members of a Quantity after its value, and its closing brace.
fn unit_members(b: &mut Vec<u8>, unit: &str, ucum: &str) {
    b.extend_from_slice(br#","unit":""#);
    b.extend_from_slice(unit.as_bytes());
    b.extend_from_slice(br#"","system":""#);
    b.extend_from_slice(codes::UCUM_SYSTEM.as_bytes());
    b.extend_from_slice(br#"","code":""#);
    b.extend_from_slice(ucum.as_bytes());
    b.extend_from_slice(b"\"}");
}

fn json_string(b: &mut Vec<u8>, s: &str) {
    serde_json::to_writer(&mut *b, s).expect("a string always serialises");
}

/// A FHIR id (`[A-Za-z0-9\-\.]{1,64}`) from parts joined with `-`: the parts themselves when they
/// fit, otherwise `h` and a stable 64-bit hash of them, so that any patient or device id the stream
/// carries still gives a valid, deterministic resource id.
pub fn push_id(out: &mut String, parts: &[&str]) {
    let len = parts.iter().map(|p| p.len()).sum::<usize>() + parts.len().saturating_sub(1);
    let valid = len <= 64
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.bytes()
                    .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'.')
        });
    if valid {
        for (i, p) in parts.iter().enumerate() {
            if i > 0 {
                out.push('-');
            }
            out.push_str(p);
        }
    } else {
        let mut h = xxhash_rust::xxh3::Xxh3::new();
        for p in parts {
            h.update(p.as_bytes());
            h.update(&[0]);
        }
        use std::fmt::Write as _;
        let _ = write!(out, "h{:016x}", h.digest());
    }
}

fn push_id_bytes(out: &mut Vec<u8>, parts: &[&str]) {
    let mut s = String::new();
    push_id(&mut s, parts);
    out.extend_from_slice(s.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_outside_fhir_syntax_become_stable_hashes() {
        let mut a = String::new();
        push_id(&mut a, &["D-001", "42", "hr"]);
        assert_eq!(a, "D-001-42-hr");
        let mut b = String::new();
        push_id(&mut b, &["bed 7/ICU", "42", "hr"]);
        let mut c = String::new();
        push_id(&mut c, &["bed 7/ICU", "42", "hr"]);
        assert!(b.starts_with('h') && b.len() == 17, "{b}");
        assert_eq!(b, c);
    }
}

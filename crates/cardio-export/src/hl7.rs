//! HL7 v2.6 messages as bedside-monitor gateways send them to an integration engine:
//! ORU^R01 in the IHE PCD-01 profile (one message per reading: MSH, PID, PV1, OBR, an MDS-level OBX
//! naming the monitor, then one NM OBX per measured value, coded with IEEE 11073 MDC terms, units
//! as MDC with UCUM alongside), and ORU^R40 in the IHE PCD-04 profile for alert events (OBR naming
//! the alarm, then the five OBX of PCD-04: event identification, source, event phase, alarm state,
//! inactivation state).
//!
//! Everything in a message derives from the record, nothing from the clock: the message time is the
//! event time and the control id (MSH-10) is `device.seq` for a reading and `alert_id.state.ms` for
//! an alert event, so the same input gives byte-identical messages, and a receiver that sees a
//! message twice (a resend after a lost ACK) can recognise it by MSH-10.

use vitals_core::{Alert, AlertKind, AlertState, Priority, Timestamp, Vitals};

use crate::codes::{self, NUMERICS, Num};

/// Segment terminator on the wire (HL7 v2 §2.5.2) and in MLLP frames.
pub const SEGMENT_END: u8 = b'\r';

const SENDING_APPLICATION: &str = "CARDIOSTREAM";
/// MSH-21, IHE PCD TF-2: the PCD-01 and PCD-04 (ACM) message profiles.
const PROFILE_PCD01: &str = "IHE_PCD_001^IHE PCD^1.3.6.1.4.1.19376.1.6.1.1.1^ISO";
const PROFILE_PCD04: &str = "IHE_PCD_ACM_001^IHE PCD^1.3.6.1.4.1.19376.1.6.4.4^ISO";
/// OBR-4 of PCD-01: SNOMED CT "monitoring of patient", as IHE PCD's examples use.
const OBR_SERVICE_PCD01: &str = "182777000^monitoring of patient^SCT";

/// One encoded message: its segments, each ended by `\r`, and its control id (MSH-10) as written.
#[derive(Debug, Default)]
pub struct Message {
    pub bytes: Vec<u8>,
    pub control_id: String,
}

/// Appends `text` with HL7's delimiters escaped (HL7 v2 §2.7: `\F\ \S\ \T\ \R\ \E\`), so an id or
/// an alarm text with a `|` cannot shift the fields after it.
pub fn push_escaped(out: &mut Vec<u8>, text: &str) {
    for &b in text.as_bytes() {
        match b {
            b'|' => out.extend_from_slice(b"\\F\\"),
            b'^' => out.extend_from_slice(b"\\S\\"),
            b'&' => out.extend_from_slice(b"\\T\\"),
            b'~' => out.extend_from_slice(b"\\R\\"),
            b'\\' => out.extend_from_slice(b"\\E\\"),
            b'\r' => out.extend_from_slice(b"\\X0D\\"),
            b'\n' => out.extend_from_slice(b"\\X0A\\"),
            _ => out.push(b),
        }
    }
}

/// HL7 DTM with milliseconds and offset: `20261128054001.000+0000`.
pub fn push_dtm(out: &mut Vec<u8>, ts: Timestamp) {
    let mut iso = Vec::with_capacity(24);
    ts.write_rfc3339(&mut iso);
    // YYYY-MM-DDTHH:MM:SS.mmmZ
    for &i in &[0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18] {
        out.push(iso[i]);
    }
    out.push(b'.');
    out.extend_from_slice(&iso[20..23]);
    out.extend_from_slice(b"+0000");
}

/// Builds messages, reusing one buffer for the timestamp.
#[derive(Debug, Default)]
pub struct Encoder {
    dtm: Vec<u8>,
}

impl Encoder {
    /// ORU^R01 (PCD-01) for one reading. A null value has no OBX: absent, not zero.
    pub fn reading(&mut self, v: &Vitals, msg: &mut Message) {
        let ctl = self.start(msg, v.ts, &[&v.device_id, &v.seq.to_string()]);
        let out = &mut msg.bytes;

        self.header(out, "ORU^R01^ORU_R01", &ctl, PROFILE_PCD01, &v.patient_id);
        out.extend_from_slice(b"OBR|1||");
        out.extend_from_slice(&ctl);
        out.extend_from_slice(b"^CARDIOSTREAM|");
        out.extend_from_slice(OBR_SERVICE_PCD01.as_bytes());
        out.extend_from_slice(b"|||");
        out.extend_from_slice(&self.dtm);
        out.push(SEGMENT_END);

        let mut set_id = 1;
        // The MDS: which monitor took the reading (OBX-18, equipment instance identifier).
        out.extend_from_slice(b"OBX|1||");
        push_mdc(out, codes::MDS_MDC);
        out.extend_from_slice(b"|1.0.0.0|||||||X|||");
        out.extend_from_slice(&self.dtm);
        self.equipment(out, &v.device_id);
        for row in &NUMERICS {
            if let Some(value) = (row.get)(v) {
                set_id += 1;
                self.numeric_obx(out, set_id, row, value);
                self.equipment(out, &v.device_id);
            }
        }
        if let Some(Some(score)) = v.news2 {
            set_id += 1;
            obx_head(out, set_id, "NM");
            out.extend_from_slice(codes::NEWS2_SNOMED.0.as_bytes());
            out.push(b'^');
            out.extend_from_slice(codes::NEWS2_SNOMED.1.as_bytes());
            out.extend_from_slice(b"^SCT|");
            out.extend_from_slice(codes::NEWS2_SUB_ID.as_bytes());
            out.push(b'|');
            Num::Int(i64::from(score)).write(out);
            out.extend_from_slice(b"|{score}^{score}^UCUM||");
            if let Some(Some(risk)) = v.news2_risk {
                // OBX-8 (interpretation, CWE): the NEWS2 clinical-risk band as text only, since
                // HL7 table 0078 has no code for it.
                out.push(b'^');
                out.extend_from_slice(risk.as_str().as_bytes());
            }
            out.extend_from_slice(b"|||R|||");
            out.extend_from_slice(&self.dtm);
            out.push(SEGMENT_END);
        }
    }

    /// ORU^R40 (PCD-04) for one alert event.
    pub fn alert(&mut self, a: &Alert, msg: &mut Message) {
        let ctl = self.start(
            msg,
            a.ts,
            &[&a.alert_id, a.state.as_str(), &a.ts.millis().to_string()],
        );
        let out = &mut msg.bytes;
        self.header(out, "ORU^R40^ORU_R40", &ctl, PROFILE_PCD04, &a.patient_id);
        // OBR-3: the alert's identity, stable from raise to clear, so that the receiver links the
        // start, escalation and end of one episode.
        out.extend_from_slice(b"OBR|1||");
        push_escaped(out, &a.alert_id);
        out.extend_from_slice(b"^CARDIOSTREAM|");
        push_mdc(out, codes::EVT_ALARM);
        out.extend_from_slice(b"|||");
        out.extend_from_slice(&self.dtm);
        out.push(SEGMENT_END);

        let row = a.vital.and_then(codes::numeric_of);
        let event = match (a.kind, a.value, a.limit) {
            (AlertKind::Physiological, Some(v), Some(l)) if v < l => codes::EVT_LO,
            (AlertKind::Physiological, Some(v), Some(l)) if v > l => codes::EVT_HI,
            _ => codes::EVT_ALARM,
        };
        // 1: event identification; OBX-8 = priority ~ kind (PCD-04: PH/PM/PL, SP/ST).
        obx_head(out, 1, "ST");
        push_mdc(out, event);
        out.extend_from_slice(b"|1.0.0.0.1|");
        push_escaped(out, &a.rule);
        out.extend_from_slice(b": ");
        push_escaped(out, &a.message);
        out.extend_from_slice(b"|||");
        out.extend_from_slice(match a.priority {
            Priority::High => b"PH",
            Priority::Medium => b"PM",
            Priority::Low => b"PL",
        });
        out.push(b'~');
        out.extend_from_slice(match a.kind {
            AlertKind::Physiological => b"SP",
            AlertKind::Technical => b"ST",
        });
        out.extend_from_slice(b"|||R|||");
        out.extend_from_slice(&self.dtm);
        self.equipment(out, &a.device_id);

        // 2: the source: the measured parameter with its value and limit, or the rule by name.
        match (row, a.value) {
            (Some(row), Some(value)) => {
                obx_head(out, 2, "NM");
                push_mdc(out, (row.mdc, row.mdc_ref));
                out.extend_from_slice(b"|1.0.0.0.2|");
                Num::Dec(value).write(out);
                out.push(b'|');
                push_unit(out, row);
                out.push(b'|');
                if let Some(limit) = a.limit {
                    // The limit as the normal range it guards: `>90` for a low alarm.
                    out.push(if event == codes::EVT_LO { b'>' } else { b'<' });
                    Num::Dec(limit).write(out);
                }
            }
            _ => {
                obx_head(out, 2, "ST");
                push_mdc(out, codes::ATTR_ALERT_SOURCE);
                out.extend_from_slice(b"|1.0.0.0.2|");
                push_escaped(out, &a.rule);
                out.extend_from_slice(b"||");
            }
        }
        out.extend_from_slice(b"||||R|||");
        out.extend_from_slice(&self.dtm);
        self.equipment(out, &a.device_id);

        // 3–5: event phase, alarm state, inactivation state (PCD-04's value sets).
        let (phase, state) = match a.state {
            AlertState::Raised => ("start", "active"),
            AlertState::Escalated => ("escalate", "active"),
            AlertState::Cleared => ("end", "inactive"),
        };
        for (set_id, attr, value) in [
            (3, codes::ATTR_EVENT_PHASE, phase),
            (4, codes::ATTR_ALARM_STATE, state),
            (5, codes::ATTR_ALARM_INACTIVATION_STATE, "enabled"),
        ] {
            obx_head(out, set_id, "ST");
            push_mdc(out, attr);
            out.extend_from_slice(b"|1.0.0.0.");
            Num::Int(set_id as i64).write(out);
            out.push(b'|');
            out.extend_from_slice(value.as_bytes());
            out.extend_from_slice(b"||||||R|||");
            out.extend_from_slice(&self.dtm);
            out.push(SEGMENT_END);
        }
    }

    /// Clears `msg`, sets the event time for the message's fields and its control id (MSH-10):
    /// `parts` escaped and joined with `.`. Returns the control id as written.
    fn start(&mut self, msg: &mut Message, ts: Timestamp, parts: &[&str]) -> Vec<u8> {
        self.dtm.clear();
        push_dtm(&mut self.dtm, ts);
        msg.bytes.clear();
        let mut ctl = Vec::with_capacity(48);
        for (i, part) in parts.iter().enumerate() {
            if i > 0 {
                ctl.push(b'.');
            }
            push_escaped(&mut ctl, part);
        }
        msg.control_id.clear();
        msg.control_id
            .push_str(std::str::from_utf8(&ctl).expect("escaped UTF-8 stays UTF-8"));
        ctl
    }

    /// MSH, PID and PV1.
    fn header(
        &self,
        out: &mut Vec<u8>,
        message_type: &str,
        control_id: &[u8],
        profile: &str,
        patient_id: &str,
    ) {
        out.extend_from_slice(b"MSH|^~\\&|");
        out.extend_from_slice(SENDING_APPLICATION.as_bytes());
        out.extend_from_slice(b"||||");
        out.extend_from_slice(&self.dtm);
        out.extend_from_slice(b"||");
        out.extend_from_slice(message_type.as_bytes());
        out.push(b'|');
        out.extend_from_slice(control_id);
        // Processing P, version 2.6, accept ACK always, application ACK never (original mode as
        // PCD-01 prescribes), UTF-8.
        out.extend_from_slice(b"|P|2.6|||AL|NE||UNICODE UTF-8|||");
        out.extend_from_slice(profile.as_bytes());
        out.push(SEGMENT_END);
        out.extend_from_slice(b"PID|||");
        push_escaped(out, patient_id);
        out.extend_from_slice(b"^^^CARDIOSTREAM^PI");
        out.push(SEGMENT_END);
        // Patient class I: the ward's patients are inpatients.
        out.extend_from_slice(b"PV1||I");
        out.push(SEGMENT_END);
    }

    fn numeric_obx(&self, out: &mut Vec<u8>, set_id: usize, row: &codes::Numeric, value: Num) {
        obx_head(out, set_id, "NM");
        push_mdc(out, (row.mdc, row.mdc_ref));
        out.push(b'|');
        out.extend_from_slice(row.sub_id.as_bytes());
        out.push(b'|');
        value.write(out);
        out.push(b'|');
        push_unit(out, row);
        // OBX-11 R: results as the device sent them, not verified by a clinician.
        out.extend_from_slice(b"|||||R|||");
        out.extend_from_slice(&self.dtm);
    }

    /// OBX-15..18 with OBX-18 naming the device, and the segment end.
    fn equipment(&self, out: &mut Vec<u8>, device_id: &str) {
        out.extend_from_slice(b"||||");
        push_escaped(out, device_id);
        out.extend_from_slice(b"^CARDIOSTREAM");
        out.push(SEGMENT_END);
    }
}

fn obx_head(out: &mut Vec<u8>, set_id: usize, value_type: &str) {
    out.extend_from_slice(b"OBX|");
    Num::Int(set_id as i64).write(out);
    out.push(b'|');
    out.extend_from_slice(value_type.as_bytes());
    out.push(b'|');
}

fn push_mdc(out: &mut Vec<u8>, (code, reference): (u32, &str)) {
    Num::Int(i64::from(code)).write(out);
    out.push(b'^');
    out.extend_from_slice(reference.as_bytes());
    out.extend_from_slice(b"^MDC");
}

/// OBX-6 as a CWE with the MDC unit first and its UCUM code as the alternate identifier.
fn push_unit(out: &mut Vec<u8>, row: &codes::Numeric) {
    push_mdc(out, (row.mdc_unit, row.mdc_unit_ref));
    out.push(b'^');
    out.extend_from_slice(row.ucum.as_bytes());
    out.push(b'^');
    out.extend_from_slice(row.ucum.as_bytes());
    out.extend_from_slice(b"^UCUM");
}

/// The acknowledgement code (MSA-1), control id (MSA-2) and text (MSA-3) of an ACK message.
pub fn parse_ack(message: &[u8]) -> Option<(String, String, String)> {
    let text = String::from_utf8_lossy(message);
    let msa = text.split(['\r', '\n']).find(|s| s.starts_with("MSA|"))?;
    let mut fields = msa.split('|').skip(1);
    let code = fields.next()?.to_owned();
    let control = fields.next().unwrap_or("").to_owned();
    let reason = fields.next().unwrap_or("").to_owned();
    Some((code, control, reason))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delimiters_in_ids_are_escaped() {
        let mut out = vec![];
        push_escaped(&mut out, "a|b^c&d~e\\f");
        assert_eq!(out, b"a\\F\\b\\S\\c\\T\\d\\R\\e\\E\\f");
    }

    #[test]
    fn dtm_has_milliseconds_and_utc_offset() {
        let mut out = vec![];
        push_dtm(
            &mut out,
            Timestamp::parse("2026-11-28T05:40:01.250Z").unwrap(),
        );
        assert_eq!(out, b"20261128054001.250+0000");
    }

    #[test]
    fn ack_fields_are_read_from_msa() {
        let ack = b"MSH|^~\\&|X||||20260101||ACK^R01^ACK|9|P|2.6\rMSA|AE|D-1.7|busy\r";
        assert_eq!(
            parse_ack(ack),
            Some(("AE".into(), "D-1.7".into(), "busy".into()))
        );
    }
}

//! Which table, day and identity a line has (docs/spec.md §2): its table (`vitals`, `alerts`,
//! `admission`, `settings`, `_rejected`) and day from the record itself, or a `rejected` envelope
//! made here when the line is not a record the archive can file; its identity is what exactly-once
//! compares.

use vitals_core::{Line, Record, RecordError, Rejected, Timestamp, parse_record};

use crate::partition::{Partition, Table};

/// The stage name written into the envelopes the archive makes itself.
pub const STAGE: &str = "cardio-archive";

/// What identifies a record in the lake, so that a replay adds nothing twice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Identity {
    /// `(device_id, seq)`, and the event time, which tells a replay (the same time) from a device
    /// that restarted its seq (a later time).
    Reading {
        device: Device,
        seq: u64,
        ts: Timestamp,
    },
    /// A hash of `(alert_id, state, priority)` for alerts, of the exact bad bytes for rejected lines.
    Hash(u64),
    /// An `admission` (identity `(patient_id, ts)`) or `settings` (identity `(settings_id, ts)`) record:
    /// a hash of the identity, and one of the line's exact bytes, so that the same identity with
    /// other content is told from a replay (docs/spec.md §2).
    Keyed { key: u64, fingerprint: u64 },
}

/// The device id of a reading: where its text sits in the line (the normal case, no copy), or a
/// copy when the line writes it with JSON escapes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Device {
    InLine(std::ops::Range<usize>),
    Unescaped(String),
}

impl Device {
    /// The id's UTF-8 bytes, given the line it was read from.
    pub fn bytes<'a>(&'a self, line: &'a [u8]) -> &'a [u8] {
        match self {
            Device::InLine(r) => &line[r.clone()],
            Device::Unescaped(s) => s.as_bytes(),
        }
    }
}

/// Hash identity of an alert event: one episode has one `raised`, one `cleared` and at most one
/// `escalated` per priority step, so the priority tells the escalations apart.
pub fn alert_identity(alert_id: &str, state: &str, priority: &str) -> u64 {
    let mut key = Vec::with_capacity(alert_id.len() + state.len() + priority.len() + 2);
    key.extend_from_slice(alert_id.as_bytes());
    key.push(0);
    key.extend_from_slice(state.as_bytes());
    key.push(0);
    key.extend_from_slice(priority.as_bytes());
    xxhash_rust::xxh3::xxh3_64(&key)
}

/// Identity hash of an `admission` record: the patient and the event time (ms) of its first reading.
pub fn admission_identity(patient_id: &str, ts: Timestamp) -> u64 {
    let mut key = Vec::with_capacity(patient_id.len() + 20);
    key.extend_from_slice(b"admission\0");
    key.extend_from_slice(patient_id.as_bytes());
    key.push(0);
    key.extend_from_slice(&ts.millis().to_le_bytes());
    xxhash_rust::xxh3::xxh3_64(&key)
}

/// Identity hash of a `settings` record: its `settings_id` and event time. The id alone is not
/// enough, like a device's `seq` alone is not: a simulator or monitor started again numbers its
/// patients' settings from `/1` again, and that later run's records are new, not conflicts.
pub fn settings_identity(settings_id: &str, ts: Timestamp) -> u64 {
    let mut key = Vec::with_capacity(settings_id.len() + 18);
    key.extend_from_slice(b"settings\0");
    key.extend_from_slice(settings_id.as_bytes());
    key.push(0);
    key.extend_from_slice(&ts.millis().to_le_bytes());
    xxhash_rust::xxh3::xxh3_64(&key)
}

/// Hash of a keyed record's exact bytes: the same identity with another hash is another record.
/// Not seeded, unlike the readings' (`lake_index.rs`): it is saved in the checkpoint.
pub fn content_fingerprint(line: &[u8]) -> u64 {
    xxhash_rust::xxh3::xxh3_64_with_seed(line, 0x9e37_79b9_7f4a_7c15)
}

/// Why a keyed record (an `admission` or `settings` line of `table`) whose identity the lake
/// already gives to other bytes is quarantined, naming that identity.
pub fn keyed_conflict(table: Table, line: &[u8]) -> RecordError {
    let identity = match std::str::from_utf8(line).map(parse_record) {
        Ok(Ok(Record::Admission(a))) => {
            format!("the admission of patient `{}` at {}", a.patient_id, a.ts)
        }
        Ok(Ok(Record::Settings(s))) => format!("settings_id `{}` at {}", s.settings_id, s.ts),
        _ => "its identity".to_owned(),
    };
    RecordError::Invalid {
        // The two folders are named as their record types.
        record_type: table.dir_name().into(),
        reason: format!(
            "{identity} is already in the lake as a different record (the same identity with \
             other values); kept in _rejected/, not in {table}/"
        ),
    }
}

/// A line classified for filing.
#[derive(Debug)]
pub struct Filed {
    pub partition: Partition,
    pub identity: Identity,
}

/// A line that the archive itself found bad: the envelope to file and the reason to report.
#[derive(Debug)]
pub struct Refused {
    pub error: RecordError,
    pub envelope: Rejected,
}

/// How a line is filed: its original bytes under a partition, or (when it is not a record the
/// archive can file) a `rejected` envelope made here.
#[derive(Debug)]
pub enum Classified {
    /// File the line's own bytes. Ranges in `identity` are relative to the line.
    Original(Filed),
    /// File the envelope's JSON instead of the line.
    Refused(Filed, Refused),
}

/// Classifies one input line. `now` dates the envelope of a refused line.
pub fn classify(line: &Line<'_>, now: Timestamp) -> Classified {
    // The fast reader of the line, which leaves anything unusual to `parse_record` below. Its
    // id strings are not copied: where the device id lies in the line is all the archive needs.
    let mut v = vitals_core::Vitals::empty(Timestamp::from_millis(0), "", "", 0);
    if line.overlong.is_none()
        && let Some(ids) = vitals_core::vitals_line::Scanner::default().scan(line.bytes, &mut v)
    {
        return Classified::Original(Filed {
            partition: Partition {
                table: Table::Vitals,
                day: v.ts.day_number(),
            },
            identity: Identity::Reading {
                device: Device::InLine(ids.device),
                seq: v.seq,
                ts: v.ts,
            },
        });
    }
    let parsed = line.text().and_then(parse_record);
    let refuse = |error: RecordError| {
        let envelope = Rejected::new(
            STAGE,
            line.number,
            error.to_string(),
            line.bytes,
            line.overlong.is_some(),
            now,
        );
        let filed = Filed {
            partition: Partition {
                table: Table::Rejected,
                day: now.day_number(),
            },
            identity: Identity::Hash(envelope.content_hash()),
        };
        Classified::Refused(filed, Refused { error, envelope })
    };
    match parsed {
        Ok(Record::Vitals(v)) => {
            let device = match device_range(line.bytes, &v.device_id) {
                Some(r) => Device::InLine(r),
                None => Device::Unescaped(v.device_id),
            };
            Classified::Original(Filed {
                partition: Partition {
                    table: Table::Vitals,
                    day: v.ts.day_number(),
                },
                identity: Identity::Reading {
                    device,
                    seq: v.seq,
                    ts: v.ts,
                },
            })
        }
        Ok(Record::Alert(a)) => Classified::Original(Filed {
            partition: Partition {
                table: Table::Alerts,
                day: a.ts.day_number(),
            },
            identity: Identity::Hash(alert_identity(
                &a.alert_id,
                a.state.as_str(),
                a.priority.as_str(),
            )),
        }),
        Ok(Record::Rejected(r)) => Classified::Original(Filed {
            partition: Partition {
                table: Table::Rejected,
                day: r.ts.day_number(),
            },
            identity: Identity::Hash(r.content_hash()),
        }),
        Ok(Record::Admission(a)) => Classified::Original(Filed {
            partition: Partition {
                table: Table::Admission,
                day: a.ts.day_number(),
            },
            identity: Identity::Keyed {
                key: admission_identity(&a.patient_id, a.ts),
                fingerprint: content_fingerprint(line.bytes),
            },
        }),
        Ok(Record::Settings(s)) => Classified::Original(Filed {
            partition: Partition {
                table: Table::Settings,
                day: s.ts.day_number(),
            },
            identity: Identity::Keyed {
                key: settings_identity(&s.settings_id, s.ts),
                fingerprint: content_fingerprint(line.bytes),
            },
        }),
        Ok(Record::Other { record_type }) => refuse(RecordError::Invalid {
            record_type,
            reason: "unknown record type: the lake files only vitals, alert, admission, \
                     settings and rejected"
                .into(),
        }),
        Err(e) => refuse(e),
    }
}

/// Where the device id's text sits in the line, when it is written without escapes (the normal
/// case): `"device_id":"<id>"`.
fn device_range(line: &[u8], device_id: &str) -> Option<std::ops::Range<usize>> {
    if device_id.is_empty() {
        return None;
    }
    const KEY: &[u8] = b"\"device_id\":\"";
    let at = find(line, KEY)? + KEY.len();
    let end = at + device_id.len();
    (line.get(at..end)? == device_id.as_bytes() && line.get(end) == Some(&b'"')).then_some(at..end)
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(text: &str) -> Line<'_> {
        Line {
            number: 7,
            bytes: text.as_bytes(),
            overlong: None,
        }
    }

    const NOW: Timestamp = Timestamp::from_millis(1_795_000_000_000);
    const VITALS: &str = r#"{"type":"vitals","ts":"2026-11-28T05:40:01.000Z","patient_id":"PT-1000","device_id":"D-001","seq":4,"heart_rate_bpm":72,"spo2_pct":98,"respiratory_rate_bpm":14,"temperature_c":36.8,"systolic_mmhg":null,"diastolic_mmhg":null,"on_oxygen":false,"consciousness":"A","battery_pct":99,"news2":0,"news2_risk":"low"}"#;

    #[test]
    fn vitals_go_to_their_event_date_with_device_and_seq_as_identity() {
        let Classified::Original(f) = classify(&line(VITALS), NOW) else {
            panic!()
        };
        assert_eq!(f.partition.table, Table::Vitals);
        assert_eq!(f.partition.folder_name(), "date=2026-11-28");
        let Identity::Reading {
            device: Device::InLine(device),
            seq,
            ..
        } = f.identity
        else {
            panic!()
        };
        assert_eq!(&VITALS.as_bytes()[device], b"D-001");
        assert_eq!(seq, 4);
    }

    #[test]
    fn the_fast_path_accepts_and_refuses_exactly_what_vitals_core_does() {
        let variants = [
            VITALS.to_owned(),
            VITALS.replace(r#","news2":0,"news2_risk":"low""#, ""),
            VITALS.replace(r#""news2":0"#, r#""news2":null"#),
            VITALS.replace(r#""news2":0"#, r#""news2":21.5"#),
            VITALS.replace(r#""news2":0"#, r#""news2":-1"#),
            VITALS.replace(r#""news2_risk":"low""#, r#""news2_risk":"severe""#),
            VITALS.replace(r#""seq":4"#, r#""seq":-4"#),
            VITALS.replace(r#""seq":4"#, r#""seq":"4""#),
            VITALS.replace(r#""heart_rate_bpm":72"#, r#""heart_rate_bpm":"72""#),
            VITALS.replace(r#""heart_rate_bpm":72"#, r#""heart_rate_bpm":72.5"#),
            VITALS.replace(r#""temperature_c":36.8"#, r#""temperature_c":true"#),
            VITALS.replace(r#""consciousness":"A""#, r#""consciousness":"X""#),
            VITALS.replace(r#","consciousness":"A""#, ""),
            VITALS.replace(r#""on_oxygen":false"#, r#""on_oxygen":1"#),
            VITALS.replace(r#""device_id":"D-001""#, r#""device_id":"D-\u0030""#),
            VITALS.replace(r#""device_id":"D-001""#, r#""device_id":7"#),
            VITALS.replace(r#","device_id":"D-001""#, ""),
            VITALS.replace(r#","patient_id":"PT-1000""#, ""),
            VITALS.replace(
                r#""battery_pct":99"#,
                r#""battery_pct":99,"extra":{"a":[1]}"#,
            ),
            VITALS.replace(
                r#""ts":"2026-11-28T05:40:01.000Z""#,
                r#""ts":"2026-11-28T06:40:01+01:00""#,
            ),
            VITALS.replace(r#""ts":"2026-11-28T05:40:01.000Z""#, r#""ts":1795000000"#),
            VITALS.replace('}', ",}"),
            VITALS.replace('}', "} x"),
            VITALS.replace(r#""type":"vitals""#, r#""type":"vitals","type":"alert""#),
            VITALS.replace(r#""heart_rate_bpm":72"#, r#""heart_rate_bpm":-0"#),
        ];
        for text in &variants {
            let core = parse_record(text).is_ok();
            let Classified::Original(f) = classify(&line(text), NOW) else {
                assert!(!core, "{text}");
                continue;
            };
            assert!(core, "{text}");
            let Identity::Reading { device, .. } = f.identity else {
                panic!()
            };
            let id = match device {
                Device::InLine(r) => String::from_utf8(text.as_bytes()[r].to_vec()).unwrap(),
                Device::Unescaped(s) => s,
            };
            assert!(id == "D-001" || id == "D-0", "{id}");
        }
    }

    #[test]
    fn absurd_timestamps_are_quarantined_not_turned_into_folders() {
        for ts in [
            "0000-01-01T00:00:00.000Z",
            "9999-12-31T23:59:59.999Z",
            "+275760-09-13T00:00:00.000Z",
            "2026-11-28T05:40:01.000Z/../../etc",
        ] {
            let text = VITALS.replace("2026-11-28T05:40:01.000Z", ts);
            let Classified::Refused(f, r) = classify(&line(&text), NOW) else {
                panic!("{ts} accepted")
            };
            assert_eq!(f.partition.table, Table::Rejected);
            assert_eq!(f.partition.day, NOW.day_number(), "{ts}");
            assert!(r.error.to_string().contains("vitals"), "{}", r.error);
        }
    }

    #[test]
    fn a_leap_second_stays_in_its_own_day() {
        let text = VITALS.replace("2026-11-28T05:40:01.000Z", "2016-12-31T23:59:60.500Z");
        let Classified::Original(f) = classify(&line(&text), NOW) else {
            panic!()
        };
        assert_eq!(f.partition.folder_name(), "date=2016-12-31");
    }

    const ADMISSION: &str = r#"{"type":"admission","ts":"2026-11-29T05:40:01.000Z","patient_id":"PT-1000","device_id":"D-001","unit":"icu","bed":"B-04","age_band":"70-79","sex":"F","conditions":["copd"],"spo2_scale":2}"#;
    const SETTINGS: &str = r#"{"type":"settings","ts":"2026-11-30T05:40:01.000Z","patient_id":"PT-1000","device_id":"D-001","settings_id":"PT-1000/2","source":"nurse","limits":{"hr_low":45.0,"spo2_low":88.0}}"#;

    fn keyed(text: &str) -> (Partition, u64, u64) {
        let Classified::Original(f) = classify(&line(text), NOW) else {
            panic!("{text} refused")
        };
        let Identity::Keyed { key, fingerprint } = f.identity else {
            panic!("{text}: {:?}", f.identity)
        };
        (f.partition, key, fingerprint)
    }

    #[test]
    fn admission_and_settings_go_to_their_folders_keyed_by_the_contracts_identity() {
        let (p, key, fp) = keyed(ADMISSION);
        assert_eq!(p.table, Table::Admission);
        assert_eq!(p.folder_name(), "date=2026-11-29");
        // Other values under the same (patient_id, ts): the same identity, other content.
        let (_, key2, fp2) = keyed(&ADMISSION.replace("B-04", "B-09"));
        assert_eq!((key2 == key, fp2 == fp), (true, false));
        let (_, key3, _) = keyed(&ADMISSION.replace("05:40:01", "05:40:02"));
        assert_ne!(key3, key, "another ts is another admission");

        let (p, key, fp) = keyed(SETTINGS);
        assert_eq!(p.table, Table::Settings);
        assert_eq!(p.folder_name(), "date=2026-11-30");
        let (_, key2, fp2) = keyed(&SETTINGS.replace("45.0", "40.0"));
        assert_eq!((key2 == key, fp2 == fp), (true, false));
        let (_, key3, _) = keyed(&SETTINGS.replace("PT-1000/2", "PT-1000/3"));
        assert_ne!(key3, key, "another settings_id is another record");
        let (_, key4, _) = keyed(&SETTINGS.replace("05:40:01", "07:00:00"));
        assert_ne!(
            key4, key,
            "the same settings_id at another time is another record"
        );
        assert_ne!(
            admission_identity("PT-1000/2", Timestamp::from_millis(0)),
            settings_identity("PT-1000/2", Timestamp::from_millis(0)),
            "the two types never share an identity"
        );
        let reason = keyed_conflict(Table::Settings, SETTINGS.as_bytes()).to_string();
        assert!(reason.contains("settings_id `PT-1000/2`"), "{reason}");
    }

    #[test]
    fn unknown_types_and_garbage_are_refused_with_a_reason() {
        for text in [r#"{"type":"ecg","x":1}"#, "garbage", "[1]", r#"{"a":1}"#] {
            let Classified::Refused(f, r) = classify(&line(text), NOW) else {
                panic!("{text}")
            };
            assert_eq!(f.partition.table, Table::Rejected);
            assert_eq!(r.envelope.stage, STAGE);
            assert_eq!(r.envelope.line, 7);
            assert_eq!(r.envelope.raw, text);
        }
    }
}

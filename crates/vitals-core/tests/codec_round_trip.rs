//! The line codec round-trips every record: whatever a stage writes with `LineWriter`, the next
//! stage's `LineReader` and `parse_record` read back as the same record, bit for bit, for any
//! text in the strings (quotes, backslashes, control characters, any Unicode), any integer in
//! range, any finite number and any event time in the accepted years.

mod common;

use proptest::prelude::*;
use vitals_core::news2::Spo2Scale;
use vitals_core::{
    Admission, AgeBand, Alert, AlertKind, AlertState, CareUnit, LineReader, LineWriter, Priority,
    Record, Rejected, Settings, SettingsSource, Sex, Timestamp, Vital, Vitals, parse_record,
};

fn ts() -> impl Strategy<Value = Timestamp> {
    (0..=Timestamp::LAST_ACCEPTED.millis()).prop_map(Timestamp)
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[A-Z]{2}-[0-9]{1,6}",
        any::<String>(),
        "[\"\\\\\u{0}-\u{1f}\u{7f}\u{2028}é\u{1F600} ]{0,8}",
    ]
}

fn finite() -> impl Strategy<Value = f64> {
    prop_oneof![
        (20.0f64..45.0).prop_map(|x| (x * 10.0).round() / 10.0),
        any::<f64>().prop_filter("finite", |x| x.is_finite()),
    ]
}

fn vitals() -> BoxedStrategy<Vitals> {
    common::vitals(common::Parts {
        ts: ts().boxed(),
        id: text().boxed(),
        temperature: finite().boxed(),
        news2: (
            proptest::option::of(proptest::option::of(any::<u8>())),
            proptest::option::of(proptest::option::of(0usize..4)),
        )
            .boxed(),
    })
}

fn alert() -> BoxedStrategy<Alert> {
    (
        (ts(), text(), text(), text(), text()),
        (
            any::<bool>(),
            0usize..3,
            0usize..3,
            proptest::option::of(0usize..7),
        ),
        (
            proptest::option::of(finite()),
            proptest::option::of(finite()),
            proptest::option::of(any::<u8>()),
            text(),
            proptest::option::of(text()),
        ),
    )
        .prop_map(
            |(
                (ts, patient_id, device_id, alert_id, rule),
                (tech, p, s, vital),
                (value, limit, news2, message, settings_id),
            )| {
                Alert {
                    record_type: Default::default(),
                    ts,
                    patient_id,
                    device_id,
                    alert_id,
                    rule,
                    kind: if tech {
                        AlertKind::Technical
                    } else {
                        AlertKind::Physiological
                    },
                    priority: [Priority::Low, Priority::Medium, Priority::High][p],
                    state: [
                        AlertState::Raised,
                        AlertState::Escalated,
                        AlertState::Cleared,
                    ][s],
                    vital: vital.map(|i| Vital::ALL[i]),
                    value,
                    limit,
                    news2,
                    message,
                    settings_id,
                }
            },
        )
        .boxed()
}

fn admission() -> BoxedStrategy<Admission> {
    (
        (ts(), text(), text(), text()),
        (0usize..4, 0usize..8, any::<bool>(), any::<bool>()),
        proptest::collection::vec(text(), 0..4),
    )
        .prop_map(
            |((ts, patient_id, device_id, bed), (unit, band, female, scale2), conditions)| {
                Admission {
                    record_type: Default::default(),
                    ts,
                    patient_id,
                    device_id,
                    unit: CareUnit::ALL[unit],
                    bed,
                    age_band: AgeBand::ALL[band],
                    sex: if female { Sex::F } else { Sex::M },
                    conditions,
                    spo2_scale: if scale2 {
                        Spo2Scale::Scale2
                    } else {
                        Spo2Scale::Scale1
                    },
                }
            },
        )
        .boxed()
}

fn settings() -> BoxedStrategy<Settings> {
    (
        (ts(), text(), text(), text(), any::<bool>()),
        proptest::collection::btree_map(text(), finite(), 0..8),
    )
        .prop_map(
            |((ts, patient_id, device_id, settings_id, nurse), limits)| Settings {
                record_type: Default::default(),
                ts,
                patient_id,
                device_id,
                settings_id,
                source: if nurse {
                    SettingsSource::Nurse
                } else {
                    SettingsSource::UnitProfile
                },
                limits,
            },
        )
        .boxed()
}

fn rejected() -> BoxedStrategy<Rejected> {
    (
        ts(),
        text(),
        1u64..1_000_000,
        text(),
        proptest::collection::vec(any::<u8>(), 0..200),
        any::<bool>(),
    )
        .prop_map(|(now, stage, line, reason, raw, truncated)| {
            Rejected::new(&stage, line, reason, &raw, truncated, now)
        })
        .boxed()
}

/// Writes the records as one stream and reads them back.
fn round_trip(records: &[Record]) -> Vec<Record> {
    let mut bytes = Vec::new();
    {
        let mut w = LineWriter::new(&mut bytes);
        for r in records {
            match r {
                Record::Vitals(v) => w.write_record(v),
                Record::Alert(a) => w.write_record(a),
                Record::Admission(a) => w.write_record(a),
                Record::Settings(s) => w.write_record(s),
                Record::Rejected(r) => w.write_record(r),
                Record::Other { .. } => unreachable!(),
            }
            .unwrap();
        }
        w.flush().unwrap();
    }
    let mut reader = LineReader::new(&bytes[..]);
    let mut out = Vec::new();
    while let Some(line) = reader.next_line().unwrap() {
        out.push(line.text().and_then(parse_record).unwrap());
    }
    out
}

/// The f64 fields as bits: `==` would let -0.0 pass for 0.0.
fn bits(r: &Record) -> Vec<Option<u64>> {
    match r {
        Record::Vitals(v) => vec![v.temperature_c.map(f64::to_bits)],
        Record::Alert(a) => vec![a.value.map(f64::to_bits), a.limit.map(f64::to_bits)],
        Record::Settings(s) => s.limits.values().map(|x| Some(x.to_bits())).collect(),
        _ => vec![],
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn every_record_reads_back_as_it_was_written(
        records in proptest::collection::vec(
            prop_oneof![
                vitals().prop_map(Record::Vitals),
                alert().prop_map(Record::Alert),
                admission().prop_map(Record::Admission),
                settings().prop_map(Record::Settings),
                rejected().prop_map(Record::Rejected),
            ],
            1..12,
        )
    ) {
        let back = round_trip(&records);
        prop_assert_eq!(&back, &records);
        for (a, b) in back.iter().zip(&records) {
            prop_assert_eq!(bits(a), bits(b));
        }
    }
}

//! The vitals line read two ways must read the same: the hand-written scanner (the stages' fast
//! path) against serde (`parse_record`, the definition), on lines built from every value form JSON
//! allows and on random byte edits of them. The scanner may leave a line to serde, but whatever it
//! reads must be what serde reads, bit for bit; and it must read every line our own writers write,
//! or the stages lose their speed.

mod common;

use proptest::prelude::*;
use vitals_core::vitals_line::{check_against_serde, scan_line};
use vitals_core::{Timestamp, Vitals};

/// A JSON number as text, in the forms a device or a hand-edited file may use.
fn number() -> BoxedStrategy<String> {
    prop_oneof![
        (-400i32..400).prop_map(|n| n.to_string()),
        any::<i32>().prop_map(|n| n.to_string()),
        any::<i64>().prop_map(|n| n.to_string()),
        any::<u64>().prop_map(|n| n.to_string()),
        (
            any::<bool>(),
            "[0-9]{1,17}",
            proptest::option::of("[0-9]{0,17}"),
            proptest::option::of("[eE][+-]?[0-9]{1,3}"),
        )
            .prop_map(|(neg, int, frac, exp)| format!(
                "{}{int}{}{}",
                if neg { "-" } else { "" },
                frac.map(|f| format!(".{f}")).unwrap_or_default(),
                exp.unwrap_or_default()
            )),
        (20.0f64..45.0).prop_map(|x| format!("{:.1}", x)),
        any::<f64>().prop_map(|x| x.to_string()),
        prop::sample::select(vec![
            "0",
            "-0",
            "-0.0",
            "0.0",
            "00",
            "01",
            "-",
            "1.",
            ".5",
            "1e2",
            "2147483647",
            "2147483648",
            "-2147483648",
            "-2147483649",
            "255",
            "256",
            "null",
            "true",
            "\"5\"",
            "18446744073709551615",
            "18446744073709551616",
            "1e400",
            "-1e400",
        ])
        .prop_map(str::to_owned),
    ]
    .boxed()
}

/// A JSON string as text: plain, with escapes, control characters or non-ASCII.
fn string() -> BoxedStrategy<String> {
    prop_oneof![
        "[A-Z]{1,3}-[0-9]{1,4}".prop_map(|s| format!("\"{s}\"")),
        "[a-zé\u{1F600} \\\\\"\u{1}\u{7f}-]{0,6}".prop_map(|s| format!("\"{s}\"")),
        Just("\"D-\\u0030\"".to_owned()),
        Just("\"\"".to_owned()),
        Just("7".to_owned()),
        Just("null".to_owned()),
    ]
    .boxed()
}

fn timestamp() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => (0i64..86_400_000 * 3).prop_map(|ms| format!(
            "\"{}\"",
            Timestamp(1_795_824_000_000 + ms).to_rfc3339()
        )),
        1 => prop::sample::select(vec![
            "\"2026-11-28T06:40:01+01:00\"",
            "\"2016-12-31T23:59:60.500Z\"",
            "\"2026-11-28T05:40:01Z\"",
            "\"2026-11-28T05:40:01.1234Z\"",
            "\"3000-01-01T00:00:00.000Z\"",
            "\"1969-12-31T23:59:59.999Z\"",
            "\"2026-02-30T00:00:00.000Z\"",
            "\"2026-11-28T24:00:00.000Z\"",
            "\"2026-11-28t05:40:01.000z\"",
            "\"2026-11-28T05:40:01.000Z\\u0000\"",
            "1795824000000",
        ])
        .prop_map(str::to_owned),
    ]
}

fn one_of(values: &[&'static str]) -> impl Strategy<Value = String> + use<> {
    prop::sample::select(values.to_vec()).prop_map(str::to_owned)
}

/// The members of a vitals object as `(key, value text)`, some with odd values.
fn members() -> BoxedStrategy<Vec<(String, String)>> {
    let int = || prop_oneof![3 => (-5i32..400).prop_map(|n| n.to_string()), 1 => Just("null".to_owned()), 2 => number()];
    (
        (
            prop_oneof![8 => Just("\"vitals\"".to_owned()), 1 => one_of(&["\"alert\"", "\"\\u0076itals\"", "\"Vitals\""])],
            timestamp(),
            string(),
            string(),
            prop_oneof![3 => (0u64..100_000).prop_map(|n| n.to_string()), 1 => number()],
        ),
        (int(), int(), int(), prop_oneof![3 => Just("36.8".to_owned()), 3 => number()]),
        (
            int(),
            int(),
            one_of(&["true", "false", "0", "null", "\"true\""]),
            one_of(&["\"A\"", "\"C\"", "\"V\"", "\"P\"", "\"U\"", "\"X\"", "\"a\"", "null", "{\"A\":null}"]),
            int(),
        ),
        (
            one_of(&["0", "7", "20", "255", "256", "-0", "-1", "3.0", "null"]),
            one_of(&["\"low\"", "\"low-medium\"", "\"medium\"", "\"high\"", "\"severe\"", "null", "{\"low\":null}"]),
        ),
    )
        .prop_map(|((ty, ts, pid, did, seq), (hr, spo2, rr, temp), (sbp, dbp, o2, c, bat), (n2, risk))| {
            [
                ("type", ty),
                ("ts", ts),
                ("patient_id", pid),
                ("device_id", did),
                ("seq", seq),
                ("heart_rate_bpm", hr),
                ("spo2_pct", spo2),
                ("respiratory_rate_bpm", rr),
                ("temperature_c", temp),
                ("systolic_mmhg", sbp),
                ("diastolic_mmhg", dbp),
                ("on_oxygen", o2),
                ("consciousness", c),
                ("battery_pct", bat),
                ("news2", n2),
                ("news2_risk", risk),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect()
        })
        .boxed()
}

/// A whole line: the members dropped, repeated, reordered, joined with or without spaces, with an
/// unknown field now and then.
fn line() -> BoxedStrategy<String> {
    (
        members(),
        proptest::collection::vec(0usize..20, 0..4),
        any::<bool>(),
        0usize..6,
        0usize..4,
    )
        .prop_map(|(mut m, picks, shuffle, extra, space)| {
            for p in picks {
                match p {
                    0..=14 => {
                        m.remove(p % m.len());
                    }
                    15 | 16 => {
                        let dup = m[p % m.len()].clone();
                        m.push(dup);
                    }
                    _ => m.push(("ward".into(), "\"7B\"".into())),
                }
            }
            if shuffle {
                m.reverse();
                let half = m.len() / 2;
                m.rotate_left(half);
            }
            if extra == 0 {
                m.push(("bed".into(), "{\"n\":[1,2]}".into()));
            }
            let sep = [",", ", ", ",\t", ","][space];
            let body: Vec<String> = m.iter().map(|(k, v)| format!("\"{k}\":{v}")).collect();
            format!("{{{}}}", body.join(sep))
        })
        .boxed()
}

/// A line with a few bytes changed, inserted or removed.
fn mutated(base: impl Strategy<Value = String>) -> impl Strategy<Value = Vec<u8>> {
    (
        base,
        proptest::collection::vec(
            (
                any::<prop::sample::Index>(),
                0usize..3,
                prop::sample::select(b"0123456789.-+eE\"\\ ,:{}[]nulAXtf\x01\xc3\xff".to_vec()),
            ),
            1..4,
        ),
    )
        .prop_map(|(line, edits)| {
            let mut b = line.into_bytes();
            for (at, op, byte) in edits {
                let at = at.index(b.len() + 1);
                match op {
                    0 if at < b.len() => b[at] = byte,
                    1 => b.insert(at, byte),
                    _ if at < b.len() => {
                        b.remove(at);
                    }
                    _ => {}
                }
            }
            b
        })
}

/// Any `Vitals` our writers could write.
fn vitals() -> BoxedStrategy<Vitals> {
    common::vitals(common::Parts {
        ts: (0i64..86_400_000 * 3)
            .prop_map(|ms| Timestamp(1_795_824_000_000 + ms))
            .boxed(),
        id: "[A-Z0-9-]{1,12}".boxed(),
        // Tenths, as devices write them (the scanner reads up to 15 significant digits).
        temperature: (-100.0f64..100.0)
            .prop_map(|x| (x * 10.0).round() / 10.0)
            .boxed(),
        // cardio-alert adds both NEWS2 fields or neither.
        news2: proptest::option::of((
            proptest::option::of(any::<u8>()),
            proptest::option::of(0usize..4),
        ))
        .prop_map(|n| n.map_or((None, None), |(n2, risk)| (Some(n2), Some(risk))))
        .boxed(),
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn the_scanner_reads_what_serde_reads_on_generated_lines(line in line()) {
        prop_assert_eq!(check_against_serde(line.as_bytes()), Ok(()));
    }

    #[test]
    fn the_scanner_reads_what_serde_reads_on_mutated_lines(line in mutated(line())) {
        prop_assert_eq!(check_against_serde(&line), Ok(()));
    }

    #[test]
    fn the_scanner_reads_what_serde_reads_on_mutated_canonical_lines(
        line in mutated(vitals().prop_map(|v| serde_json::to_string(&v).unwrap()))
    ) {
        prop_assert_eq!(check_against_serde(&line), Ok(()));
    }

    /// Many lines through one scanner: its remembered date must not leak from one line to the next.
    #[test]
    fn one_scanner_over_many_lines_reads_what_serde_reads(
        lines in proptest::collection::vec(line(), 1..8)
    ) {
        prop_assert_eq!(check_against_serde(lines.join("\n").as_bytes()), Ok(()));
    }

    /// The speed half of the contract: every line our writers write takes the fast path.
    #[test]
    fn the_scanner_reads_every_line_our_writers_write(v in vitals()) {
        let line = serde_json::to_string(&v).unwrap();
        prop_assert_eq!(scan_line(&line), Some(v));
    }
}

/// Inputs on which the scanner once disagreed with serde (kept so they stay fixed).
#[test]
fn known_disagreements_stay_fixed() {
    const LINE: &str = r#"{"type":"vitals","ts":"2026-11-28T05:40:01.000Z","patient_id":"PT-1","device_id":"D-1","seq":7,"heart_rate_bpm":72,"spo2_pct":98,"respiratory_rate_bpm":14,"temperature_c":36.8,"systolic_mmhg":null,"diastolic_mmhg":null,"on_oxygen":false,"consciousness":"A","battery_pct":99}"#;
    for (from, to) in [
        // cardio-alert's old scanner read this as 0; serde refuses it.
        ("\"heart_rate_bpm\":72", "\"heart_rate_bpm\":-0"),
        ("\"battery_pct\":99", "\"battery_pct\":-0"),
    ] {
        let line = LINE.replace(from, to);
        assert_eq!(check_against_serde(line.as_bytes()), Ok(()), "{line}");
        assert_eq!(scan_line(&line), None, "{line}");
    }
}

//! Property: every vitals record leaves cardio-alert exactly as it came, apart from the two NEWS2
//! fields it adds, whatever its values (null, out of range, implausible) and order of arrival.

use cardio_alert::engine::Engine;
use cardio_alert::rules_file::Config;
use cardio_alert::stage::{self, Voice};
use proptest::prelude::*;
use vitals_core::{Consciousness, Timestamp, Vitals};

fn vitals() -> impl Strategy<Value = Vitals> {
    let int = |lo: i32, hi: i32| proptest::option::of(lo..hi);
    (
        (0i64..3_600_000, 0usize..4, 0u64..50),
        (int(0, 400), int(-5, 120), int(-1, 100)),
        (
            proptest::option::of(20.0f64..48.0),
            int(0, 320),
            int(0, 220),
        ),
        (any::<bool>(), 0usize..5, int(-5, 110)),
    )
        .prop_map(
            |((ms, p, seq), (hr, spo2, rr), (t, sbp, dbp), (o2, c, bat))| {
                let mut v = Vitals::empty(
                    Timestamp(1_795_824_000_000 + ms),
                    &format!("PT-{p}"),
                    &format!("D-{p}"),
                    seq,
                );
                v.heart_rate_bpm = hr;
                v.spo2_pct = spo2;
                v.respiratory_rate_bpm = rr;
                v.temperature_c = t.map(|x| (x * 10.0).round() / 10.0);
                v.systolic_mmhg = sbp;
                v.diastolic_mmhg = dbp;
                v.on_oxygen = o2;
                v.consciousness = Consciousness::ALL[c];
                v.battery_pct = bat;
                v
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn vitals_pass_through_unchanged_apart_from_the_two_news2_fields(
        records in proptest::collection::vec(vitals(), 1..40)
    ) {
        let input: String = records
            .iter()
            .map(|v| serde_json::to_string(v).unwrap() + "\n")
            .collect();
        let mut out = Vec::new();
        let mut engine = Engine::new(Config::defaults());
        stage::run(
            &mut engine,
            std::io::Cursor::new(input.as_bytes().to_vec()),
            &mut out,
            std::io::sink(),
            Voice::default(),
            &vitals_core::stop::Stop::never(),
        )
            .unwrap();
        let text = String::from_utf8(out).unwrap();
        let vitals_out: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
            .filter(|v| v["type"] == "vitals")
            .collect();
        prop_assert_eq!(vitals_out.len(), records.len());
        for (v, got) in records.iter().zip(vitals_out) {
            let mut got = got.as_object().unwrap().clone();
            let news2 = got.remove("news2").expect("news2 added");
            let risk = got.remove("news2_risk").expect("news2_risk added");
            prop_assert!(news2.is_null() || news2.as_u64().is_some_and(|n| n <= 20));
            prop_assert_eq!(news2.is_null(), risk.is_null());
            let want = serde_json::to_value(v).unwrap();
            prop_assert_eq!(&serde_json::Value::Object(got), &want);
        }
    }
}

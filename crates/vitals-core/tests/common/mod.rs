//! The `Vitals` generator the property tests share; each test says what its strings, numbers
//! and NEWS2 fields may be.

use proptest::prelude::*;
use vitals_core::{Consciousness, Risk, Timestamp, Vitals};

/// `news2` and `news2_risk`, the risk as an index into [`Risk::ALL`].
pub type News2Fields = (Option<Option<u8>>, Option<Option<usize>>);

/// What a generated reading's free parts may be.
pub struct Parts {
    pub ts: BoxedStrategy<Timestamp>,
    pub id: BoxedStrategy<String>,
    pub temperature: BoxedStrategy<f64>,
    pub news2: BoxedStrategy<News2Fields>,
}

/// Readings with any `i32` in the integer vitals, any consciousness and oxygen flag, and the rest
/// as `parts` says.
pub fn vitals(parts: Parts) -> BoxedStrategy<Vitals> {
    let int = || proptest::option::of(any::<i32>());
    (
        (parts.ts, parts.id.clone(), parts.id, any::<u64>()),
        (int(), int(), int(), proptest::option::of(parts.temperature)),
        (int(), int(), any::<bool>(), 0usize..5, int()),
        parts.news2,
    )
        .prop_map(
            |((ts, p, d, seq), (hr, spo2, rr, t), (sbp, dbp, o2, c, bat), (n2, risk))| {
                let mut v = Vitals::empty(ts, &p, &d, seq);
                v.heart_rate_bpm = hr;
                v.spo2_pct = spo2;
                v.respiratory_rate_bpm = rr;
                v.temperature_c = t;
                v.systolic_mmhg = sbp;
                v.diastolic_mmhg = dbp;
                v.on_oxygen = o2;
                v.consciousness = Consciousness::ALL[c];
                v.battery_pct = bat;
                v.news2 = n2;
                v.news2_risk = risk.map(|r| r.map(|i| Risk::ALL[i]));
                v
            },
        )
        .boxed()
}

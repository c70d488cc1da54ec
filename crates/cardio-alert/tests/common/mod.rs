//! Readings the cardio-alert integration tests build their streams from.

use vitals_core::{Timestamp, Vitals};

/// A calm adult's reading with the given SpO2, dated `ts_ms` by `device`.
pub fn calm_reading(patient: &str, device: &str, ts_ms: i64, seq: u64, spo2: i32) -> Vitals {
    let mut v = Vitals::empty(Timestamp(ts_ms), patient, device, seq);
    v.heart_rate_bpm = Some(75);
    v.spo2_pct = Some(spo2);
    v.respiratory_rate_bpm = Some(16);
    v.temperature_c = Some(36.8);
    v.systolic_mmhg = Some(120);
    v.diastolic_mmhg = Some(80);
    v.battery_pct = Some(90);
    v
}

//! The vitals line, written by hand into one reused buffer: field order exactly as docs/spec.md's vitals
//! table, `"type":"vitals"` first (downstream stages have a fast path for that prefix), canonical
//! timestamps. At two million lines a second serde would be most of the cost; the integration tests
//! check that every line parses as a `vitals_core::Vitals` and serialises back to the same bytes.

use vitals_core::{Consciousness, Timestamp};

use crate::physiology::Reading;

/// Caches the canonical text of the last event time: the many readings stamped in one millisecond
/// (or one second) share it.
#[derive(Debug, Default)]
pub struct TsCache {
    ms: i64,
    text: [u8; 24],
    valid: bool,
}

impl TsCache {
    fn text(&mut self, ts: Timestamp) -> &[u8] {
        let ms = ts.millis();
        if !self.valid || ms != self.ms {
            if self.valid && ms.div_euclid(1000) == self.ms.div_euclid(1000) {
                // Same second: only the milliseconds change.
                let frac = ms.rem_euclid(1000) as u32;
                self.text[20] = b'0' + (frac / 100) as u8;
                self.text[21] = b'0' + (frac / 10 % 10) as u8;
                self.text[22] = b'0' + (frac % 10) as u8;
            } else {
                let mut v = Vec::with_capacity(24);
                ts.write_rfc3339(&mut v);
                if v.len() != 24 {
                    // Years outside 0000–9999 never reach here (`--start` is checked).
                    self.valid = false;
                    return b"1970-01-01T00:00:00.000Z";
                }
                self.text.copy_from_slice(&v);
            }
            self.ms = ms;
            self.valid = true;
        }
        &self.text
    }
}

const DIGIT_PAIRS: &[u8; 200] = b"0001020304050607080910111213141516171819\
2021222324252627282930313233343536373839\
4041424344454647484950515253545556575859\
6061626364656667686970717273747576777879\
8081828384858687888990919293949596979899";

/// Appends the decimal digits of `v`.
pub fn push_u64(out: &mut Vec<u8>, mut v: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    while v >= 100 {
        let d = (v % 100) as usize * 2;
        v /= 100;
        i -= 2;
        buf[i..i + 2].copy_from_slice(&DIGIT_PAIRS[d..d + 2]);
    }
    if v >= 10 {
        let d = v as usize * 2;
        i -= 2;
        buf[i..i + 2].copy_from_slice(&DIGIT_PAIRS[d..d + 2]);
    } else {
        i -= 1;
        buf[i] = b'0' + v as u8;
    }
    out.extend_from_slice(&buf[i..]);
}

pub fn push_i32(out: &mut Vec<u8>, v: i32) {
    if v < 0 {
        out.push(b'-');
    }
    push_u64(out, u64::from(v.unsigned_abs()));
}

fn push_opt(out: &mut Vec<u8>, v: Option<i32>) {
    match v {
        Some(v) => push_i32(out, v),
        None => out.extend_from_slice(b"null"),
    }
}

/// Tenths as a number with one decimal (`368` → `36.8`), as serde_json writes the `f64`.
fn push_tenths(out: &mut Vec<u8>, v: Option<i32>) {
    match v {
        Some(v) => {
            if v < 0 {
                out.push(b'-');
            }
            let a = v.unsigned_abs();
            push_u64(out, u64::from(a / 10));
            out.push(b'.');
            out.push(b'0' + (a % 10) as u8);
        }
        None => out.extend_from_slice(b"null"),
    }
}

/// `PT-1000` + index.
pub fn push_patient_id(out: &mut Vec<u8>, index: u32) {
    out.extend_from_slice(b"PT-");
    push_u64(out, 1000 + u64::from(index));
}

/// `D-001` for index 0: at least three digits (`D-100000` for the 100,000th).
pub fn push_device_id(out: &mut Vec<u8>, index: u32) {
    out.extend_from_slice(b"D-");
    let n = u64::from(index) + 1;
    if n < 10 {
        out.extend_from_slice(b"00");
    } else if n < 100 {
        out.push(b'0');
    }
    push_u64(out, n);
}

pub fn patient_id(index: u32) -> String {
    format!("PT-{}", 1000 + u64::from(index))
}

pub fn device_id(index: u32) -> String {
    format!("D-{:03}", u64::from(index) + 1)
}

fn consciousness_code(c: Consciousness) -> &'static [u8] {
    match c {
        Consciousness::A => b"A",
        Consciousness::C => b"C",
        Consciousness::V => b"V",
        Consciousness::P => b"P",
        Consciousness::U => b"U",
    }
}

/// Appends one vitals line, without the line end.
pub fn write_vitals(
    out: &mut Vec<u8>,
    ts_cache: &mut TsCache,
    ts: Timestamp,
    patient: u32,
    seq: u64,
    r: &Reading,
) {
    out.extend_from_slice(b"{\"type\":\"vitals\",\"ts\":\"");
    out.extend_from_slice(ts_cache.text(ts));
    out.extend_from_slice(b"\",\"patient_id\":\"");
    push_patient_id(out, patient);
    out.extend_from_slice(b"\",\"device_id\":\"");
    push_device_id(out, patient);
    out.extend_from_slice(b"\",\"seq\":");
    push_u64(out, seq);
    out.extend_from_slice(b",\"heart_rate_bpm\":");
    push_opt(out, r.heart_rate_bpm);
    out.extend_from_slice(b",\"spo2_pct\":");
    push_opt(out, r.spo2_pct);
    out.extend_from_slice(b",\"respiratory_rate_bpm\":");
    push_opt(out, r.respiratory_rate_bpm);
    out.extend_from_slice(b",\"temperature_c\":");
    push_tenths(out, r.temperature_deci_c);
    out.extend_from_slice(b",\"systolic_mmhg\":");
    push_opt(out, r.systolic_mmhg);
    out.extend_from_slice(b",\"diastolic_mmhg\":");
    push_opt(out, r.diastolic_mmhg);
    out.extend_from_slice(if r.on_oxygen {
        b",\"on_oxygen\":true,\"consciousness\":\""
    } else {
        b",\"on_oxygen\":false,\"consciousness\":\""
    });
    out.extend_from_slice(consciousness_code(r.consciousness));
    out.extend_from_slice(b"\",\"battery_pct\":");
    push_opt(out, r.battery_pct);
    out.push(b'}');
}

#[cfg(test)]
mod tests {
    use super::*;
    use vitals_core::{Record, parse_record};

    fn line(ts: Timestamp, patient: u32, seq: u64, r: &Reading) -> String {
        let mut out = Vec::new();
        write_vitals(&mut out, &mut TsCache::default(), ts, patient, seq, r);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn line_round_trips_through_the_shared_record_type() {
        let ts = Timestamp::parse("2026-11-28T05:40:01.000Z").unwrap();
        let readings = [
            Reading {
                heart_rate_bpm: Some(72),
                spo2_pct: Some(98),
                respiratory_rate_bpm: Some(14),
                temperature_deci_c: Some(370),
                systolic_mmhg: Some(118),
                diastolic_mmhg: Some(76),
                on_oxygen: true,
                consciousness: Consciousness::C,
                battery_pct: Some(100),
            },
            Reading::default(),
        ];
        for (i, r) in readings.iter().enumerate() {
            let text = line(ts, 99_999, 1_234_567_890_123, r);
            let Record::Vitals(v) = parse_record(&text).unwrap() else {
                panic!("{text}")
            };
            assert_eq!(serde_json::to_string(&v).unwrap(), text, "reading {i}");
            assert!(text.starts_with("{\"type\":\"vitals\",\"ts\":\"2026-11-28T05:40:01.000Z\""));
            assert!(text.contains("\"patient_id\":\"PT-100999\",\"device_id\":\"D-100000\""));
        }
        assert!(line(ts, 0, 0, &readings[0]).contains("\"temperature_c\":37.0,"));
    }

    #[test]
    fn device_ids_have_at_least_three_digits() {
        assert_eq!(device_id(0), "D-001");
        assert_eq!(device_id(99_999), "D-100000");
        for i in [0, 8, 9, 98, 99, 998, 999, 99_999] {
            let mut v = Vec::new();
            push_device_id(&mut v, i);
            assert_eq!(String::from_utf8(v).unwrap(), device_id(i));
        }
    }

    #[test]
    fn timestamp_cache_follows_milliseconds_and_seconds() {
        let mut c = TsCache::default();
        for ms in [
            0i64,
            1,
            999,
            1000,
            59_999,
            86_399_999,
            86_400_000,
            1_795_000_000_123,
        ] {
            let ts = Timestamp::from_millis(ms);
            assert_eq!(c.text(ts), ts.to_rfc3339().as_bytes());
        }
    }

    #[test]
    fn integers_format_like_display() {
        for v in [0u64, 9, 10, 99, 100, 12345, u64::MAX] {
            let mut out = Vec::new();
            push_u64(&mut out, v);
            assert_eq!(String::from_utf8(out).unwrap(), v.to_string());
        }
        let mut out = Vec::new();
        push_i32(&mut out, -40);
        assert_eq!(out, b"-40");
    }
}

//! The canonical vitals line, as cardio-sim and serde write it (SPEC.md field order, no spaces, no
//! escapes), read by a small hand-written scanner: at 1.5 million lines a second serde's generic
//! machinery is most of the stage's time.
//!
//! The scanner accepts only lines it can read with certainty and returns `None` for anything else
//! (another field order, whitespace, an escape, an extra field, a number in another form, a value
//! out of range), which then goes through `vitals_core::parse_record`. So whatever it accepts, serde
//! would have accepted with the same result; a property test holds it to that.

use vitals_core::{Consciousness, Timestamp, Vitals};

struct Cursor<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Cursor<'a> {
    #[inline(always)]
    fn bytes(&self) -> &'a [u8] {
        &self.text.as_bytes()[self.at..]
    }

    #[inline(always)]
    fn expect(&mut self, lit: &[u8]) -> Option<()> {
        if self.bytes().starts_with(lit) {
            self.at += lit.len();
            Some(())
        } else {
            None
        }
    }

    /// A string without escapes or control characters.
    #[inline(always)]
    fn string(&mut self) -> Option<&'a str> {
        self.expect(b"\"")?;
        let rest = self.bytes();
        let end = rest
            .iter()
            .position(|&b| b == b'"' || b == b'\\' || b < 0x20)?;
        if rest[end] != b'"' {
            return None;
        }
        let s = &self.text[self.at..self.at + end];
        self.at += end + 1;
        Some(s)
    }

    /// Digits of a JSON integer without sign: no leading zero, at most 18 digits (no overflow).
    #[inline(always)]
    fn digits(&mut self) -> Option<u64> {
        let rest = self.bytes();
        let n = rest.iter().take_while(|b| b.is_ascii_digit()).count();
        if n == 0 || n > 18 || (n > 1 && rest[0] == b'0') {
            return None;
        }
        // A fraction or exponent makes it a float: not for an integer field.
        if matches!(rest.get(n), Some(b'.' | b'e' | b'E')) {
            return None;
        }
        let v = rest[..n]
            .iter()
            .fold(0u64, |acc, &b| acc * 10 + u64::from(b - b'0'));
        self.at += n;
        Some(v)
    }

    #[inline(always)]
    fn opt_i32(&mut self) -> Option<Option<i32>> {
        if self.expect(b"null").is_some() {
            return Some(None);
        }
        let negative = self.expect(b"-").is_some();
        let v = i64::try_from(self.digits()?).ok()?;
        let v = if negative { -v } else { v };
        Some(Some(i32::try_from(v).ok()?))
    }

    /// `null` or a non-negative decimal without exponent and with at most 15 significant digits,
    /// where serde_json's and the standard library's parsing are both exact to the nearest double.
    #[inline(always)]
    fn opt_f64(&mut self) -> Option<Option<f64>> {
        if self.expect(b"null").is_some() {
            return Some(None);
        }
        let rest = self.bytes();
        let int = rest.iter().take_while(|b| b.is_ascii_digit()).count();
        if int == 0 || (int > 1 && rest[0] == b'0') {
            return None;
        }
        let mut len = int;
        if rest.get(len) == Some(&b'.') {
            let frac = rest[len + 1..]
                .iter()
                .take_while(|b| b.is_ascii_digit())
                .count();
            if frac == 0 {
                return None;
            }
            len += 1 + frac;
        }
        if len > 16 || matches!(rest.get(len), Some(b'e' | b'E')) {
            return None;
        }
        let v: f64 = self.text[self.at..self.at + len].parse().ok()?;
        self.at += len;
        Some(Some(v))
    }
}

/// Reads a canonical vitals line, or `None` when the line is not in exactly that form.
pub fn parse(text: &str) -> Option<Vitals> {
    let mut c = Cursor { text, at: 0 };
    c.expect(b"{\"type\":\"vitals\",\"ts\":")?;
    let ts = Timestamp::parse(c.string()?).ok()?;
    c.expect(b",\"patient_id\":")?;
    let patient_id = c.string()?;
    c.expect(b",\"device_id\":")?;
    let device_id = c.string()?;
    c.expect(b",\"seq\":")?;
    let seq = c.digits()?;
    let mut v = Vitals::empty(ts, patient_id, device_id, seq);
    c.expect(b",\"heart_rate_bpm\":")?;
    v.heart_rate_bpm = c.opt_i32()?;
    c.expect(b",\"spo2_pct\":")?;
    v.spo2_pct = c.opt_i32()?;
    c.expect(b",\"respiratory_rate_bpm\":")?;
    v.respiratory_rate_bpm = c.opt_i32()?;
    c.expect(b",\"temperature_c\":")?;
    v.temperature_c = c.opt_f64()?;
    c.expect(b",\"systolic_mmhg\":")?;
    v.systolic_mmhg = c.opt_i32()?;
    c.expect(b",\"diastolic_mmhg\":")?;
    v.diastolic_mmhg = c.opt_i32()?;
    c.expect(b",\"on_oxygen\":")?;
    v.on_oxygen = if c.expect(b"true").is_some() {
        true
    } else {
        c.expect(b"false")?;
        false
    };
    c.expect(b",\"consciousness\":\"")?;
    v.consciousness = match c.bytes().first()? {
        b'A' => Consciousness::A,
        b'C' => Consciousness::C,
        b'V' => Consciousness::V,
        b'P' => Consciousness::P,
        b'U' => Consciousness::U,
        _ => return None,
    };
    c.at += 1;
    c.expect(b"\",\"battery_pct\":")?;
    v.battery_pct = c.opt_i32()?;
    c.expect(b"}")?;
    (c.at == text.len()).then_some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LINE: &str = r#"{"type":"vitals","ts":"2026-11-28T05:40:01.000Z","patient_id":"PT-1000","device_id":"D-001","seq":7,"heart_rate_bpm":72,"spo2_pct":98,"respiratory_rate_bpm":14,"temperature_c":36.8,"systolic_mmhg":null,"diastolic_mmhg":null,"on_oxygen":false,"consciousness":"A","battery_pct":99}"#;

    #[test]
    fn the_canonical_line_reads_as_serde_reads_it() {
        let fast = parse(LINE).unwrap();
        let Ok(vitals_core::Record::Vitals(slow)) = vitals_core::parse_record(LINE) else {
            panic!()
        };
        assert_eq!(fast, slow);
    }

    #[test]
    fn anything_unusual_is_left_to_serde() {
        for bad in [
            LINE.replace("\"seq\":7", "\"seq\":07"),
            LINE.replace("\"seq\":7", "\"seq\":7.0"),
            LINE.replace("\"seq\":7", "\"seq\":-7"),
            LINE.replace("72", "72.5"),
            LINE.replace("72", "99999999999"),
            LINE.replace("36.8", "3.68e1"),
            LINE.replace("36.8", "-36.8"),
            LINE.replace("PT-1000", "PT-\\u0031"),
            LINE.replace("99}", "99 }"),
            LINE.replace("99}", "99,\"news2\":0}"),
            LINE.replace("\"A\"", "\"X\""),
            LINE.replace("false", "0"),
            format!("{LINE} "),
        ] {
            assert_eq!(parse(&bad), None, "{bad}");
        }
    }
}

//! The canonical vitals line, as cardio-sim and serde write it (SPEC.md field order, no spaces, no
//! escapes), read by a small hand-written scanner: at 1.5 million lines a second serde's generic
//! machinery is most of the stage's time.
//!
//! The scanner accepts only lines it can read with certainty and returns `None` for anything else
//! (another field order, whitespace, an escape, an extra field, a number in another form, a value
//! out of range), which then goes through `vitals_core::parse_record`. So whatever it accepts, serde
//! would have accepted with the same result; a property test holds it to that.

use vitals_core::{Consciousness, Timestamp, Vitals};

/// `10^k` for the digits of a decimal fraction, all exact in an f64.
const POW10: [f64; 16] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
];

/// `10^k` as integers, to put a decimal's integer and fraction digits together.
const POW10_INT: [u64; 16] = [
    1,
    10,
    100,
    1_000,
    10_000,
    100_000,
    1_000_000,
    10_000_000,
    100_000_000,
    1_000_000_000,
    10_000_000_000,
    100_000_000_000,
    1_000_000_000_000,
    10_000_000_000_000,
    100_000_000_000_000,
    1_000_000_000_000_000,
];

/// The scanner's memory between lines: the date of the last timestamp. A stream's timestamps
/// share their date for a whole day, and the calendar arithmetic and year check of
/// `Timestamp::parse` are a large part of reading a line.
#[derive(Debug, Default)]
pub struct Scanner {
    /// `YYYY-MM-DDT` of the last canonical timestamp and the epoch milliseconds of its midnight.
    day: Option<([u8; 11], i64)>,
}

struct Cursor<'a> {
    /// What is left of the line to read.
    rest: &'a [u8],
}

impl<'a> Cursor<'a> {
    #[inline(always)]
    fn bytes(&self) -> &'a [u8] {
        self.rest
    }

    /// Moves past `n` bytes already seen to be there.
    #[inline(always)]
    fn skip(&mut self, n: usize) {
        self.rest = &self.rest[n..];
    }

    #[inline(always)]
    fn expect(&mut self, lit: &[u8]) -> Option<()> {
        if self.bytes().starts_with(lit) {
            self.skip(lit.len());
            Some(())
        } else {
            None
        }
    }

    /// The raw bytes of a string without escapes or control characters.
    #[inline(always)]
    fn raw_string(&mut self) -> Option<&'a [u8]> {
        self.expect(b"\"")?;
        let rest = self.bytes();
        let end = rest
            .iter()
            .position(|&b| b == b'"' || b == b'\\' || b < 0x20)?;
        if rest[end] != b'"' {
            return None;
        }
        self.skip(end + 1);
        Some(&rest[..end])
    }

    /// Digits of a JSON integer without sign: no leading zero, at most 18 digits (no overflow).
    #[inline(always)]
    fn digits(&mut self) -> Option<u64> {
        let rest = self.bytes();
        let (v, n) = run_of_digits(rest);
        if n == 0 || n > 18 || (n > 1 && rest[0] == b'0') {
            return None;
        }
        // A fraction or exponent makes it a float: not for an integer field.
        if matches!(rest.get(n), Some(b'.' | b'e' | b'E')) {
            return None;
        }
        self.skip(n);
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

    /// `null` or a non-negative decimal without exponent and with at most 15 significant digits.
    /// Such a number is its digits as an integer (below 2^53) over a power of ten (at most 10^15),
    /// both exact in an f64, so one division is correctly rounded: the same double serde_json and
    /// the standard library give (Clinger's fast path, which they take too).
    #[inline(always)]
    fn opt_f64(&mut self) -> Option<Option<f64>> {
        if self.expect(b"null").is_some() {
            return Some(None);
        }
        let rest = self.bytes();
        let (int_value, int) = run_of_digits(rest);
        if int == 0 || (int > 1 && rest[0] == b'0') {
            return None;
        }
        let (mut mantissa, mut len, mut frac) = (int_value, int, 0);
        if rest.get(len) == Some(&b'.') {
            let (frac_value, n) = run_of_digits(&rest[len + 1..]);
            if n == 0 || int + n > 15 {
                return None;
            }
            mantissa = mantissa * POW10_INT[n] + frac_value;
            frac = n;
            len += 1 + n;
        }
        if int + frac > 15 || matches!(rest.get(len), Some(b'e' | b'E')) {
            return None;
        }
        self.skip(len);
        Some(Some(mantissa as f64 / POW10[frac]))
    }
}

/// The run of ASCII digits at the start of `b` as a number and its length, read in one pass; the
/// value is only meaningful for at most 19 digits.
#[inline(always)]
fn run_of_digits(b: &[u8]) -> (u64, usize) {
    let (mut v, mut n) = (0u64, 0);
    while let Some(&c) = b.get(n) {
        let d = c.wrapping_sub(b'0');
        if d > 9 {
            break;
        }
        v = v.wrapping_mul(10).wrapping_add(u64::from(d));
        n += 1;
    }
    (v, n)
}

/// Two ASCII digits as a number, or `None`.
#[inline(always)]
fn two(b: &[u8]) -> Option<i64> {
    let (h, l) = (b[0].wrapping_sub(b'0'), b[1].wrapping_sub(b'0'));
    (h < 10 && l < 10).then(|| i64::from(h * 10 + l))
}

/// Milliseconds since midnight of the `HH:MM:SS.mmmZ` after the date of a canonical timestamp
/// (`s` is 24 bytes), or `None` when it is not in exactly that form and range.
#[inline(always)]
fn time_of_day(s: &[u8]) -> Option<i64> {
    if s[13] != b':' || s[16] != b':' || s[19] != b'.' || s[23] != b'Z' {
        return None;
    }
    let (h, mi, sec) = (two(&s[11..13])?, two(&s[14..16])?, two(&s[17..19])?);
    let ms = two(&s[20..22])? * 10 + i64::from(s[22].wrapping_sub(b'0'));
    if h > 23 || mi > 59 || sec > 59 || s[22].wrapping_sub(b'0') > 9 {
        return None;
    }
    Some(((h * 60 + mi) * 60 + sec) * 1000 + ms)
}

impl Scanner {
    /// The event time: on the date of the previous line only the time of day is read; any other
    /// date goes through `Timestamp::parse`, which also holds the years to their accepted range.
    #[inline(always)]
    fn timestamp(&mut self, c: &mut Cursor) -> Option<Timestamp> {
        const LEN: usize = vitals_core::time::CANONICAL_LEN;
        // `"` + the canonical form + `"`: the remembered date and the time of day's digits and
        // marks are all the bytes, so the string needs no search for its end or check of its bytes.
        let quoted = c.bytes();
        if let Some((date, midnight)) = &self.day
            && quoted.len() > LEN + 1
            && quoted[0] == b'"'
            && quoted[LEN + 1] == b'"'
            && quoted[1..12] == date[..]
            && let Some(tod) = time_of_day(&quoted[1..=LEN])
        {
            c.skip(LEN + 2);
            return Some(Timestamp(midnight + tod));
        }
        let b = c.raw_string()?;
        let ts = Timestamp::parse(std::str::from_utf8(b).ok()?).ok()?;
        // Only a timestamp in exactly the canonical form was read by the calendar arithmetic
        // whose midnight this keeps (chrono's other forms, such as a leap second, are not cached).
        if b.len() == LEN
            && let Some(tod) = time_of_day(b)
        {
            let mut date = [0; 11];
            date.copy_from_slice(&b[..11]);
            self.day = Some((date, ts.millis() - tod));
        }
        Some(ts)
    }

    /// Reads a canonical vitals line into `v`, reusing its strings, or returns false when the line
    /// is not in exactly that form (and `v` then holds no meaning).
    pub fn read_into(&mut self, line: &[u8], v: &mut Vitals) -> bool {
        self.read(line, v).is_some()
    }

    #[inline(always)]
    fn read(&mut self, line: &[u8], v: &mut Vitals) -> Option<()> {
        let mut c = Cursor { rest: line };
        c.expect(b"{\"type\":\"vitals\",\"ts\":")?;
        v.ts = self.timestamp(&mut c)?;
        c.expect(b",\"patient_id\":")?;
        let from = line.len() - c.rest.len() + 1;
        let patient_len = c.raw_string()?.len();
        c.expect(b",\"device_id\":")?;
        let device_len = c.raw_string()?.len();
        // Every byte the scanner accepts outside the strings is ASCII, so checking the strings is
        // what makes an accepted line valid UTF-8, as serde requires. The two ids are checked in
        // one call over both (what lies between them is ASCII).
        let ids = std::str::from_utf8(&line[from..line.len() - c.rest.len() - 1]).ok()?;
        v.patient_id.clear();
        v.patient_id.push_str(&ids[..patient_len]);
        v.device_id.clear();
        v.device_id.push_str(&ids[ids.len() - device_len..]);
        c.expect(b",\"seq\":")?;
        v.seq = c.digits()?;
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
        c.skip(1);
        c.expect(b"\",\"battery_pct\":")?;
        v.battery_pct = c.opt_i32()?;
        c.expect(b"}")?;
        v.news2 = None;
        v.news2_risk = None;
        c.rest.is_empty().then_some(())
    }
}

/// Reads a canonical vitals line, or `None` when the line is not in exactly that form.
pub fn parse(text: &str) -> Option<Vitals> {
    let mut v = Vitals::empty(Timestamp(0), "", "", 0);
    Scanner::default()
        .read_into(text.as_bytes(), &mut v)
        .then_some(v)
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
    fn decimals_read_as_the_standard_library_reads_them() {
        for text in [
            "0",
            "0.1",
            "36.8",
            "37.25",
            "41.0",
            "99.99",
            "123456789012345",
            "0.00000000000001",
            "1.23456789012345",
            "98765.4321",
        ] {
            let line = LINE.replace("36.8", text);
            let want: f64 = text.parse().unwrap();
            assert_eq!(parse(&line).unwrap().temperature_c, Some(want), "{text}");
        }
    }

    #[test]
    fn the_remembered_date_gives_the_same_time_as_a_full_parse() {
        let mut s = Scanner::default();
        let mut v = Vitals::empty(Timestamp(0), "", "", 0);
        for ts in [
            "2026-11-28T05:40:01.000Z",
            "2026-11-28T23:59:59.999Z",
            "2026-11-29T00:00:00.000Z",
            "2026-11-29T00:00:00.000+01:00",
            "2016-12-31T23:59:60.500Z",
            "2016-12-31T23:59:59.500Z",
            "2016-12-31T00:00:00.001Z",
        ] {
            let line = LINE.replace("2026-11-28T05:40:01.000Z", ts);
            assert!(s.read_into(line.as_bytes(), &mut v), "{ts}");
            assert_eq!(v.ts, Timestamp::parse(ts).unwrap(), "{ts}");
        }
        for bad in [
            "2016-12-31T24:00:00.000Z",
            "2016-12-31T23:60:00.000Z",
            "2016-12-31T2a:00:00.000Z",
        ] {
            let line = LINE.replace("2026-11-28T05:40:01.000Z", bad);
            assert!(!s.read_into(line.as_bytes(), &mut v), "{bad}");
        }
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

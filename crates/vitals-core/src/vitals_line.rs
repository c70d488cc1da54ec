//! The one fast reader of a `vitals` line (docs/spec.md §1). At a million and more lines a second
//! serde's generic machinery is most of a stage's time, so the stages read the plain shape of the
//! line by hand; this module is the only place that does, so that adding a field or a value form
//! touches one file.
//!
//! The scanner is sound, not complete: it accepts a line only when it can read it with certainty
//! and returns `None` for anything else (whitespace, an escape, an unknown or repeated field, a
//! number in another form such as `-0` or `1e2`, a value out of range, an invalid time), and the
//! caller then asks `parse_record`, which accepts or refuses with the reason. So a line read
//! through "scanner, else serde" gets exactly serde's answer. The differential property test in
//! `tests/vitals_line.rs` and the fuzzer in `fuzz/` hold the scanner to that: whatever it accepts,
//! serde accepts with the same values, bit for bit.
//!
//! It reads the fields in the order our writers put them (cardio-sim's, then the two NEWS2 fields
//! cardio-alert appends), as one run of in-place compares; a line in any other order, or with a
//! field left out or added, is left to serde like anything else unusual.

use std::ops::Range;

use crate::record::{Consciousness, Risk, Vitals};
use crate::time::{CANONICAL_LEN, Timestamp};

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

/// Where the two ids lie in a line the scanner read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ids {
    pub patient: Range<usize>,
    pub device: Range<usize>,
}

/// The scanner's memory between lines: the date of the last timestamp. A stream's timestamps
/// share their date for a whole day, and the calendar arithmetic and year check of
/// `Timestamp::parse` are a large part of reading a line.
#[derive(Debug, Default)]
pub struct Scanner {
    /// `YYYY-MM-DDT` of the last canonical timestamp and the epoch milliseconds of its midnight.
    day: Option<([u8; 11], i64)>,
}

impl Scanner {
    /// Reads a vitals line into `v`, reusing its strings, or returns `None` when the line is not in
    /// the plain shape (then `v` holds no meaning and the caller asks `parse_record`).
    pub fn read_into(&mut self, line: &[u8], v: &mut Vitals) -> Option<Ids> {
        let (ids, both) = self.read(line, v)?;
        v.patient_id.clear();
        v.patient_id.push_str(&both[..ids.patient.len()]);
        v.device_id.clear();
        v.device_id.push_str(&both[both.len() - ids.device.len()..]);
        Some(ids)
    }

    /// Reads every value of a vitals line into `v` except the two ids, whose place in the line
    /// it returns (`v`'s id strings are left as they were): for a stage that needs only where the
    /// ids are, without copying them.
    pub fn scan(&mut self, line: &[u8], v: &mut Vitals) -> Option<Ids> {
        self.read(line, v).map(|(ids, _)| ids)
    }

    /// [`Self::scan`], and the text from the patient id to the device id, checked as UTF-8.
    #[inline(always)]
    fn read<'a>(&mut self, line: &'a [u8], v: &mut Vitals) -> Option<(Ids, &'a str)> {
        let mut c = Cursor {
            rest: line,
            len: line.len(),
        };
        c.word(b"{\"type\":\"vitals\",\"ts\":")?;
        v.ts = self.timestamp(&mut c)?;
        c.word(b",\"patient_id\":")?;
        let patient = c.string_range()?;
        c.word(b",\"device_id\":")?;
        let device = c.string_range()?;
        // Every byte the scanner accepts outside the strings is ASCII, so checking the strings is
        // what makes an accepted line valid UTF-8, as serde requires; the two ids are checked in
        // one go, with the ASCII between them.
        let both = std::str::from_utf8(&line[patient.start..device.end]).ok()?;
        c.word(b",\"seq\":")?;
        v.seq = c.digits(20)?;
        c.word(b",\"heart_rate_bpm\":")?;
        v.heart_rate_bpm = c.opt_int()?;
        c.word(b",\"spo2_pct\":")?;
        v.spo2_pct = c.opt_int()?;
        c.word(b",\"respiratory_rate_bpm\":")?;
        v.respiratory_rate_bpm = c.opt_int()?;
        c.word(b",\"temperature_c\":")?;
        v.temperature_c = c.opt_decimal()?;
        c.word(b",\"systolic_mmhg\":")?;
        v.systolic_mmhg = c.opt_int()?;
        c.word(b",\"diastolic_mmhg\":")?;
        v.diastolic_mmhg = c.opt_int()?;
        c.word(b",\"on_oxygen\":")?;
        v.on_oxygen = if c.word(b"true").is_some() {
            true
        } else {
            c.word(b"false")?;
            false
        };
        c.word(b",\"consciousness\":\"")?;
        v.consciousness = match c.rest().first()? {
            b'A' => Consciousness::A,
            b'C' => Consciousness::C,
            b'V' => Consciousness::V,
            b'P' => Consciousness::P,
            b'U' => Consciousness::U,
            _ => return None,
        };
        c.skip(1);
        c.word(b"\",\"battery_pct\":")?;
        v.battery_pct = c.opt_int()?;
        if c.word(b",\"news2\":").is_some() {
            v.news2 = Some(c.null_or(|c| u8::try_from(c.digits(3)?).ok())?);
            c.word(b",\"news2_risk\":")?;
            v.news2_risk = Some(c.null_or(Cursor::risk)?);
        } else {
            v.news2 = None;
            v.news2_risk = None;
        }
        c.word(b"}")?;
        c.rest.is_empty().then_some((Ids { patient, device }, both))
    }

    /// The event time: on the date of the previous line only the time of day is read; any other
    /// date goes through `Timestamp::parse`, which also holds the years to their accepted range.
    #[inline(always)]
    fn timestamp(&mut self, c: &mut Cursor) -> Option<Timestamp> {
        const LEN: usize = CANONICAL_LEN;
        // `"` + the canonical form + `"`: the remembered date and the time of day's digits and
        // marks are all the bytes, so the string needs no search for its end or check of its bytes.
        let quoted = c.rest();
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
        let b = c.plain_string()?;
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
}

/// Reads a vitals line with a fresh scanner, or `None` when it is not in the plain shape.
pub fn scan_line(text: &str) -> Option<Vitals> {
    let mut v = Vitals::empty(Timestamp(0), "", "", 0);
    Scanner::default().read_into(text.as_bytes(), &mut v)?;
    Some(v)
}

/// Writes the JSON object `text` to `out` without the members named in `drop` and without its
/// closing `}`, every other member as it came (its value's bytes untouched, unknown fields
/// included): for a stage that replaces fields of a record it passes on. `text` must be one
/// JSON object; `out` is cleared first.
pub fn object_without(text: &str, drop: &[&str], out: &mut Vec<u8>) -> serde_json::Result<()> {
    use serde::de::{Deserializer as _, MapAccess, Visitor};
    use serde_json::value::RawValue;

    struct Members<'o, 'd> {
        out: &'o mut Vec<u8>,
        drop: &'d [&'d str],
    }

    impl<'de> Visitor<'de> for Members<'_, '_> {
        type Value = ();

        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a JSON object")
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
            self.out.push(b'{');
            let mut first = true;
            while let Some((key, value)) =
                map.next_entry::<std::borrow::Cow<'de, str>, &'de RawValue>()?
            {
                if self.drop.contains(&key.as_ref()) {
                    continue;
                }
                if !first {
                    self.out.push(b',');
                }
                first = false;
                serde_json::to_writer(&mut *self.out, &key).map_err(serde::de::Error::custom)?;
                self.out.push(b':');
                self.out.extend_from_slice(value.get().as_bytes());
            }
            Ok(())
        }
    }

    out.clear();
    let mut de = serde_json::Deserializer::from_str(text);
    de.deserialize_map(Members { out, drop })?;
    de.end()
}

/// The differential check that the property test and the fuzzer hold the scanner to: for each
/// line of `input`, read by one scanner in turn (so the remembered date is exercised too), the
/// scanner either leaves the line to serde or reads exactly what `parse_record` reads, bit for bit,
/// with the ids where it says they are. `Err` names the line and the difference.
pub fn check_against_serde(input: &[u8]) -> Result<(), String> {
    let mut scanner = Scanner::default();
    let mut fast = Vitals::empty(Timestamp(0), "", "", 0);
    for line in input.split(|&b| b == b'\n') {
        let Some(ids) = scanner.read_into(line, &mut fast) else {
            continue;
        };
        let shown = String::from_utf8_lossy(line);
        let text = std::str::from_utf8(line)
            .map_err(|e| format!("scanner read a line that is not UTF-8 ({e}): {shown}"))?;
        let slow = match crate::codec::parse_record(text) {
            Ok(crate::codec::Record::Vitals(v)) => v,
            other => {
                return Err(format!(
                    "scanner read {fast:?}, serde gave {other:?}: {shown}"
                ));
            }
        };
        let bits = |v: &Vitals| v.temperature_c.map(f64::to_bits);
        if fast != slow || bits(&fast) != bits(&slow) {
            return Err(format!(
                "scanner read {fast:?}, serde read {slow:?}: {shown}"
            ));
        }
        if line[ids.patient] != *slow.patient_id.as_bytes()
            || line[ids.device] != *slow.device_id.as_bytes()
        {
            return Err(format!("ids not where the scanner says: {shown}"));
        }
    }
    Ok(())
}

/// The part of the line not read yet. Holding the rest as a slice, rather than an offset into the
/// line, spares a bounds check at every step.
struct Cursor<'a> {
    rest: &'a [u8],
    /// The whole line's length, to turn the rest back into offsets.
    len: usize,
}

impl<'a> Cursor<'a> {
    #[inline(always)]
    fn rest(&self) -> &'a [u8] {
        self.rest
    }

    /// How far the line has been read.
    #[inline(always)]
    fn at(&self) -> usize {
        self.len - self.rest.len()
    }

    /// Moves past `n` bytes already seen to be there.
    #[inline(always)]
    fn skip(&mut self, n: usize) {
        self.rest = &self.rest[n..];
    }

    #[inline(always)]
    fn word(&mut self, w: &[u8]) -> Option<()> {
        self.rest.starts_with(w).then(|| self.skip(w.len()))
    }

    /// `null` as `None`, or the value `read` finds.
    #[inline(always)]
    fn null_or<T>(&mut self, read: impl FnOnce(&mut Self) -> Option<T>) -> Option<Option<T>> {
        if self.word(b"null").is_some() {
            Some(None)
        } else {
            read(self).map(Some)
        }
    }

    /// The bytes of a string without escapes or control characters (not yet checked as UTF-8).
    #[inline(always)]
    fn plain_string(&mut self) -> Option<&'a [u8]> {
        self.word(b"\"")?;
        let rest = self.rest;
        let end = rest
            .iter()
            .position(|&b| b == b'"' || b == b'\\' || b < 0x20)?;
        if rest[end] != b'"' {
            return None;
        }
        self.skip(end + 1);
        Some(&rest[..end])
    }

    /// Where the text of a string without escapes or control characters lies in the line.
    #[inline(always)]
    fn string_range(&mut self) -> Option<Range<usize>> {
        let text = self.plain_string()?;
        let end = self.at() - 1;
        Some(end - text.len()..end)
    }

    /// The digits of an integer without sign: no leading zero, at most `max` digits (20 reach
    /// `u64::MAX`, and a 20-digit number over it is left to serde).
    #[inline(always)]
    fn digits(&mut self, max: usize) -> Option<u64> {
        let rest = self.rest();
        let (mut v, n) = run_of_digits(rest);
        if n == 0 || n > max || (n > 1 && rest[0] == b'0') {
            return None;
        }
        if n > 19 {
            // Past what `run_of_digits` holds without wrapping: checked, on this rare path.
            v = std::str::from_utf8(&rest[..n]).ok()?.parse().ok()?;
        }
        self.skip(n);
        Some(v)
    }

    /// `null` or an `i32` (written out rather than through [`Self::null_or`]: the hot path).
    #[inline(always)]
    fn opt_int(&mut self) -> Option<Option<i32>> {
        if self.word(b"null").is_some() {
            return Some(None);
        }
        self.int().map(Some)
    }

    /// `null` or a decimal, as [`Self::opt_int`].
    #[inline(always)]
    fn opt_decimal(&mut self) -> Option<Option<f64>> {
        if self.word(b"null").is_some() {
            return Some(None);
        }
        self.decimal().map(Some)
    }

    /// An `i32` in JSON integer form. `-0` is left to serde (serde_json reads it as a float and
    /// refuses it for an integer field).
    #[inline(always)]
    fn int(&mut self) -> Option<i32> {
        let negative = self.word(b"-").is_some();
        let v = i64::try_from(self.digits(18)?).ok()?;
        if negative && v == 0 {
            return None;
        }
        i32::try_from(if negative { -v } else { v }).ok()
    }

    /// A decimal without exponent and with at most 15 significant digits. Such a number is its
    /// digits as an integer (below 2^53) over a power of ten (at most 10^15), both exact in an f64,
    /// so one division is correctly rounded: the same double that serde_json and the standard
    /// library give (Clinger's fast path, which they take too). The sign is applied last, as
    /// serde_json does, so `-0` and `-0.0` are -0.0.
    #[inline(always)]
    fn decimal(&mut self) -> Option<f64> {
        let negative = self.word(b"-").is_some();
        let rest = self.rest();
        let (int_value, int) = run_of_digits(rest);
        if int == 0 || int > 15 || (int > 1 && rest[0] == b'0') {
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
        self.skip(len);
        let x = mantissa as f64 / POW10[frac];
        Some(if negative { -x } else { x })
    }

    #[inline(always)]
    fn risk(&mut self) -> Option<Risk> {
        Some(match self.plain_string()? {
            b"low" => Risk::Low,
            b"low-medium" => Risk::LowMedium,
            b"medium" => Risk::Medium,
            b"high" => Risk::High,
            _ => return None,
        })
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
    let last = s[22].wrapping_sub(b'0');
    if h > 23 || mi > 59 || sec > 59 || last > 9 {
        return None;
    }
    let ms = two(&s[20..22])? * 10 + i64::from(last);
    Some(((h * 60 + mi) * 60 + sec) * 1000 + ms)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Record, parse_record};

    const LINE: &str = r#"{"type":"vitals","ts":"2026-11-28T05:40:01.000Z","patient_id":"PT-1000","device_id":"D-001","seq":7,"heart_rate_bpm":72,"spo2_pct":98,"respiratory_rate_bpm":14,"temperature_c":36.8,"systolic_mmhg":null,"diastolic_mmhg":-3,"on_oxygen":false,"consciousness":"A","battery_pct":99}"#;

    fn serde(text: &str) -> Option<Vitals> {
        match parse_record(text) {
            Ok(Record::Vitals(v)) => Some(v),
            _ => None,
        }
    }

    #[test]
    fn the_canonical_line_reads_as_serde_reads_it() {
        assert_eq!(scan_line(LINE), serde(LINE));
        assert!(scan_line(LINE).is_some());
        let alerted = LINE.replace("99}", "99,\"news2\":3,\"news2_risk\":\"low-medium\"}");
        assert_eq!(scan_line(&alerted), serde(&alerted));
        assert_eq!(scan_line(&alerted).unwrap().news2, Some(Some(3)));
        let reordered = r#"{"ts":"2026-11-28T05:40:01.000Z","seq":0,"device_id":"D","patient_id":"P","type":"vitals"}"#;
        assert!(serde(reordered).is_some());
        assert_eq!(scan_line(reordered), None, "another order is left to serde");
    }

    #[test]
    fn negative_zero_in_an_integer_field_is_left_to_serde_which_refuses_it() {
        let line = LINE.replace("\"heart_rate_bpm\":72", "\"heart_rate_bpm\":-0");
        assert_eq!(scan_line(&line), None);
        assert_eq!(serde(&line), None);
    }

    #[test]
    fn decimals_read_as_serde_reads_them() {
        for text in [
            "0",
            "-0",
            "-0.0",
            "0.1",
            "36.8",
            "-36.8",
            "37.25",
            "41.0",
            "99.99",
            "123456789012345",
            "0.00000000000001",
            "1.23456789012345",
            "98765.4321",
        ] {
            let line = LINE.replace("36.8", text);
            let fast = scan_line(&line).unwrap().temperature_c.unwrap();
            let slow = serde(&line).unwrap().temperature_c.unwrap();
            assert_eq!(fast.to_bits(), slow.to_bits(), "{text}");
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
            assert!(s.read_into(line.as_bytes(), &mut v).is_some(), "{ts}");
            assert_eq!(v.ts, Timestamp::parse(ts).unwrap(), "{ts}");
        }
        for bad in [
            "2016-12-31T24:00:00.000Z",
            "2016-12-31T23:60:00.000Z",
            "2016-12-31T2a:00:00.000Z",
        ] {
            let line = LINE.replace("2026-11-28T05:40:01.000Z", bad);
            assert!(s.read_into(line.as_bytes(), &mut v).is_none(), "{bad}");
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
            LINE.replace("PT-1000", "PT-\\u0031"),
            LINE.replace("99}", "99 }"),
            LINE.replace("99}", "99,\"ward\":\"7B\"}"),
            LINE.replace("99}", "99,\"battery_pct\":98}"),
            LINE.replace("\"A\"", "\"X\""),
            LINE.replace("false", "0"),
            format!("{LINE} "),
        ] {
            assert_eq!(scan_line(&bad), None, "{bad}");
        }
    }

    #[test]
    fn object_without_keeps_every_other_member_as_it_came() {
        let mut out = Vec::new();
        let line = r#"{"type":"vitals", "ward":{"n": [1, 2]},"news2":3,"bed":"7\u0042","news2_risk":null}"#;
        object_without(line, &["news2", "news2_risk"], &mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"{"type":"vitals","ward":{"n": [1, 2]},"bed":"7\u0042""#
        );
    }

    #[test]
    fn scan_finds_the_ids_in_place() {
        let mut v = Vitals::empty(Timestamp(0), "", "", 0);
        let ids = Scanner::default().scan(LINE.as_bytes(), &mut v).unwrap();
        assert_eq!(&LINE[ids.patient], "PT-1000");
        assert_eq!(&LINE[ids.device], "D-001");
        assert_eq!(v.patient_id, "", "scan leaves the id strings alone");
    }
}

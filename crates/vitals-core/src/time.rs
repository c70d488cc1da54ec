//! Event time: milliseconds since the Unix epoch, written as RFC 3339 UTC with milliseconds and `Z`
//! (`2026-11-28T05:40:01.000Z`, docs/spec.md §1).
//!
//! Formatting and parsing of that one canonical shape are hand-rolled because they sit on every hot
//! path (the simulator writes two million of them a second); any other RFC 3339 form (an offset,
//! fewer or more fraction digits, a leap second) goes through chrono.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An instant in UTC with millisecond resolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(pub i64);

/// Length of the canonical form `YYYY-MM-DDTHH:MM:SS.mmmZ`.
pub const CANONICAL_LEN: usize = 24;

/// Years outside this range are not a plausible event time for a bedside device; a timestamp there
/// is rejected rather than written into a folder such as `date=0000-01-01` or `date=+275760-…`.
pub const MIN_YEAR: i64 = 1970;
pub const MAX_YEAR: i64 = 2999;

impl Timestamp {
    /// The last event time the pipeline accepts: `2999-12-31T23:59:59.999Z`, the end of
    /// [`MAX_YEAR`] (3000-01-01 is 32,503,680,000 s after the epoch).
    pub const LAST_ACCEPTED: Timestamp = Timestamp(32_503_680_000_000 - 1);

    pub const fn from_millis(ms: i64) -> Self {
        Timestamp(ms)
    }

    pub const fn millis(self) -> i64 {
        self.0
    }

    /// The current wall-clock time.
    pub fn now() -> Self {
        Timestamp(chrono::Utc::now().timestamp_millis())
    }

    /// Days since 1970-01-01 (negative before).
    pub fn day_number(self) -> i64 {
        self.0.div_euclid(86_400_000)
    }

    /// Milliseconds since midnight UTC.
    pub fn millis_of_day(self) -> i64 {
        self.0.rem_euclid(86_400_000)
    }

    /// The calendar date (UTC) as `(year, month, day)`.
    pub fn civil_date(self) -> (i64, u32, u32) {
        civil_from_days(self.day_number())
    }

    /// `YYYY-MM-DD` of the UTC date: the lake's partition value.
    pub fn date_string(self) -> String {
        let (y, m, d) = self.civil_date();
        format!("{y:04}-{m:02}-{d:02}")
    }

    /// Appends the canonical RFC 3339 form to `out` without allocating.
    pub fn write_rfc3339(self, out: &mut Vec<u8>) {
        let (y, mo, d) = self.civil_date();
        let ms_of_day = self.millis_of_day();
        let (h, rest) = (ms_of_day / 3_600_000, ms_of_day % 3_600_000);
        let (mi, rest) = (rest / 60_000, rest % 60_000);
        let (s, ms) = (rest / 1000, rest % 1000);
        if !(0..=9999).contains(&y) {
            // Outside four-digit years the canonical shape cannot hold the value; fall back.
            out.extend_from_slice(
                format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{ms:03}Z").as_bytes(),
            );
            return;
        }
        let y = y as u32;
        let mut b = *b"0000-00-00T00:00:00.000Z";
        put_digits(&mut b[0..4], y);
        put_digits(&mut b[5..7], mo);
        put_digits(&mut b[8..10], d);
        put_digits(&mut b[11..13], h as u32);
        put_digits(&mut b[14..16], mi as u32);
        put_digits(&mut b[17..19], s as u32);
        put_digits(&mut b[20..23], ms as u32);
        out.extend_from_slice(&b);
    }

    /// The canonical RFC 3339 string.
    pub fn to_rfc3339(self) -> String {
        let mut v = Vec::with_capacity(CANONICAL_LEN);
        self.write_rfc3339(&mut v);
        String::from_utf8(v).expect("ASCII")
    }

    /// Parses any RFC 3339 date-time (converted to UTC, truncated to milliseconds).
    pub fn parse(s: &str) -> Result<Self, TimeError> {
        let ts = match parse_canonical(s.as_bytes()) {
            Some(ts) => ts,
            None => {
                let dt = chrono::DateTime::parse_from_rfc3339(s).map_err(|e| {
                    TimeError(format!("`{}` is not an RFC 3339 time: {e}", clip(s)))
                })?;
                // A leap second (`23:59:60.5`) is held by chrono as a sub-second part over 1000 ms;
                // it stays in its own minute (and day) as the last millisecond of it.
                let sub_ms = i64::from(dt.timestamp_subsec_millis().min(999));
                Timestamp(dt.timestamp() * 1000 + sub_ms)
            }
        };
        let (y, _, _) = ts.civil_date();
        if !(MIN_YEAR..=MAX_YEAR).contains(&y) {
            return Err(TimeError(format!(
                "`{}` is outside the accepted years {MIN_YEAR}–{MAX_YEAR}",
                clip(s)
            )));
        }
        Ok(ts)
    }
}

fn clip(s: &str) -> &str {
    match s.char_indices().nth(40) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

fn put_digits(dst: &mut [u8], mut v: u32) {
    for slot in dst.iter_mut().rev() {
        *slot = b'0' + (v % 10) as u8;
        v /= 10;
    }
}

fn digits(b: &[u8]) -> Option<u32> {
    let mut v = 0u32;
    for &c in b {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + u32::from(c - b'0');
    }
    Some(v)
}

/// The fast path: exactly `YYYY-MM-DDTHH:MM:SS.mmmZ` with in-range fields; anything else is left to
/// chrono, which also knows leap seconds and offsets.
fn parse_canonical(b: &[u8]) -> Option<Timestamp> {
    if b.len() != CANONICAL_LEN
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
        || b[19] != b'.'
        || b[23] != b'Z'
    {
        return None;
    }
    let y = digits(&b[0..4])?;
    let mo = digits(&b[5..7])?;
    let d = digits(&b[8..10])?;
    let h = digits(&b[11..13])?;
    let mi = digits(&b[14..16])?;
    let s = digits(&b[17..19])?;
    let ms = digits(&b[20..23])?;
    if !(1..=12).contains(&mo) || d == 0 || d > days_in_month(y, mo) || h > 23 || mi > 59 || s > 59
    {
        return None;
    }
    let days = days_from_civil(i64::from(y), mo, d);
    let ms_total = days * 86_400_000
        + i64::from(h) * 3_600_000
        + i64::from(mi) * 60_000
        + i64::from(s) * 1000
        + i64::from(ms);
    Some(Timestamp(ms_total))
}

fn days_in_month(y: u32, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (y.is_multiple_of(4) && !y.is_multiple_of(100)) || y.is_multiple_of(400) => 29,
        _ => 28,
    }
}

/// Howard Hinnant's `days_from_civil` (proleptic Gregorian calendar).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Howard Hinnant's `civil_from_days`.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// A time field that is not an acceptable RFC 3339 event time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeError(pub String);

impl fmt::Display for TimeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TimeError {}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

impl std::str::FromStr for Timestamp {
    type Err = TimeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Timestamp::parse(s)
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        let mut buf = Vec::with_capacity(CANONICAL_LEN);
        self.write_rfc3339(&mut buf);
        ser.serialize_str(std::str::from_utf8(&buf).expect("ASCII"))
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Timestamp;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an RFC 3339 UTC time such as 2026-11-28T05:40:01.000Z")
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Timestamp, E> {
                Timestamp::parse(s).map_err(E::custom)
            }
        }
        de.deserialize_str(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_round_trip() {
        let t = Timestamp::parse("2026-11-28T05:40:01.000Z").unwrap();
        assert_eq!(t.to_rfc3339(), "2026-11-28T05:40:01.000Z");
        assert_eq!(t.date_string(), "2026-11-28");
        let t = Timestamp::parse("2024-02-29T23:59:59.999Z").unwrap();
        assert_eq!(t.to_rfc3339(), "2024-02-29T23:59:59.999Z");
    }

    #[test]
    fn fast_path_agrees_with_chrono_over_many_instants() {
        let mut ms = 0i64;
        while ms < 40 * 365 * 86_400_000 {
            let t = Timestamp(ms);
            let chrono_text = chrono::DateTime::from_timestamp_millis(ms)
                .unwrap()
                .format("%Y-%m-%dT%H:%M:%S%.3fZ")
                .to_string();
            assert_eq!(t.to_rfc3339(), chrono_text);
            assert_eq!(Timestamp::parse(&chrono_text).unwrap(), t);
            ms += 86_400_000 * 13 + 3_600_000 * 7 + 1237;
        }
    }

    #[test]
    fn offsets_are_converted_to_utc() {
        let t = Timestamp::parse("2026-11-28T06:40:01+01:00").unwrap();
        assert_eq!(t.to_rfc3339(), "2026-11-28T05:40:01.000Z");
    }

    #[test]
    fn leap_second_is_accepted_as_the_last_millisecond_region_of_its_minute() {
        let t = Timestamp::parse("2016-12-31T23:59:60.500Z").unwrap();
        assert_eq!(t.date_string(), "2016-12-31");
    }

    #[test]
    fn the_last_accepted_time_is_the_end_of_the_last_accepted_year() {
        let last = Timestamp::parse("2999-12-31T23:59:59.999Z").unwrap();
        assert_eq!(Timestamp::LAST_ACCEPTED, last);
        assert!(Timestamp::parse(&Timestamp(last.millis() + 1).to_rfc3339()).is_err());
    }

    #[test]
    fn absurd_years_and_garbage_are_refused() {
        assert!(Timestamp::parse("0000-01-01T00:00:00.000Z").is_err());
        assert!(Timestamp::parse("9999-12-31T23:59:59.999Z").is_err());
        assert!(Timestamp::parse("2026-13-01T00:00:00.000Z").is_err());
        assert!(Timestamp::parse("2026-02-30T00:00:00.000Z").is_err());
        assert!(Timestamp::parse("yesterday").is_err());
        assert!(Timestamp::parse("2026-11-28T05:40:01.000Z/../../etc").is_err());
    }
}

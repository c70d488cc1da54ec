//! A hand-written reader for the plain shape of a `vitals` line, because full serde parsing of
//! every field was most of the archive's CPU time (about 1 µs a line) and the archive needs only
//! the date and `(device_id, seq)` from it.
//!
//! It accepts a line only when it is a flat object of the known vitals fields, each at most once,
//! with plain values: strings without escapes, integers without exponent or leading zeros, short
//! decimals, `null`, `true`, `false`, and nothing around the object. Anything else (whitespace,
//! escapes, unknown or repeated fields, other number forms) returns `None` and the caller parses
//! the line with serde as before. So it can only be stricter than `vitals_core::Vitals`, never
//! looser: the tests compare both on mutated lines.

use vitals_core::Timestamp;

/// What the archive needs from a vitals line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reading {
    pub ts: Timestamp,
    /// Byte range of the device id's text in the line.
    pub device: std::ops::Range<usize>,
    pub seq: u64,
}

#[derive(Clone, Copy)]
enum Kind {
    Type,
    Ts,
    Str,
    Device,
    Seq,
    /// `Option<i32>`
    Int,
    /// `Option<f64>`
    Float,
    /// `bool`, may be absent
    Bool,
    /// ACVPU letter, may be absent
    Consciousness,
    /// `Option<u8>`
    News2,
    /// `Option<Risk>`
    Risk,
}

/// The fields of SPEC.md's vitals record and what their values may be.
const FIELDS: [(&[u8], Kind); 16] = [
    (b"type", Kind::Type),
    (b"ts", Kind::Ts),
    (b"patient_id", Kind::Str),
    (b"device_id", Kind::Device),
    (b"seq", Kind::Seq),
    (b"heart_rate_bpm", Kind::Int),
    (b"spo2_pct", Kind::Int),
    (b"respiratory_rate_bpm", Kind::Int),
    (b"temperature_c", Kind::Float),
    (b"systolic_mmhg", Kind::Int),
    (b"diastolic_mmhg", Kind::Int),
    (b"on_oxygen", Kind::Bool),
    (b"consciousness", Kind::Consciousness),
    (b"battery_pct", Kind::Int),
    (b"news2", Kind::News2),
    (b"news2_risk", Kind::Risk),
];

/// Fields that `Vitals` requires (the others are `Option` or have a default).
const REQUIRED: u32 = 0b1_1111;

/// Bytes that end the plain part of a string: the quote, an escape, a control character or the
/// start of a non-ASCII character. One table lookup per byte instead of four compares.
static STOPS: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = i == b'"' as usize || i == b'\\' as usize || i < 0x20 || i >= 0x80;
        i += 1;
    }
    t
};

struct Cursor<'a> {
    b: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    fn eat(&mut self, c: u8) -> Option<()> {
        (self.b.get(self.i) == Some(&c)).then(|| self.i += 1)
    }

    fn eat_word(&mut self, w: &[u8]) -> bool {
        if self.b[self.i..].starts_with(w) {
            self.i += w.len();
            true
        } else {
            false
        }
    }

    /// A string without escapes or control characters; returns its content's range.
    fn string(&mut self) -> Option<std::ops::Range<usize>> {
        self.eat(b'"')?;
        let start = self.i;
        let rest = &self.b[start..];
        let len = rest.iter().position(|&c| STOPS[usize::from(c)])?;
        if rest[len] != b'"' {
            // Non-ASCII text is rare in ids: leave it to serde's UTF-8 checks.
            return None;
        }
        self.i = start + len + 1;
        Some(start..start + len)
    }

    /// Digits of an integer without sign, leading zeros or more than 19 digits.
    fn digits(&mut self) -> Option<u64> {
        let start = self.i;
        while self.b.get(self.i).is_some_and(u8::is_ascii_digit) {
            self.i += 1;
        }
        let d = &self.b[start..self.i];
        if d.is_empty() || d.len() > 19 || (d.len() > 1 && d[0] == b'0') {
            return None;
        }
        Some(d.iter().fold(0u64, |v, &c| v * 10 + u64::from(c - b'0')))
    }

    fn int(&mut self) -> Option<i64> {
        let neg = self.eat(b'-').is_some();
        let v = i64::try_from(self.digits()?).ok()?;
        // `-0` is left to serde.
        if neg && v == 0 {
            return None;
        }
        Some(if neg { -v } else { v })
    }

    fn null(&mut self) -> bool {
        self.eat_word(b"null")
    }
}

/// Byte equality of short keys, inline (a `memcmp` call per key cost more than the compare).
#[inline]
fn same(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let (mut a8, mut b8) = (a.chunks_exact(8), b.chunks_exact(8));
    for (x, y) in (&mut a8).zip(&mut b8) {
        if u64::from_ne_bytes(x.try_into().expect("8 bytes"))
            != u64::from_ne_bytes(y.try_into().expect("8 bytes"))
        {
            return false;
        }
    }
    a8.remainder()
        .iter()
        .zip(b8.remainder())
        .all(|(x, y)| x == y)
}

/// When `rest` starts with `"name":`, its length.
#[inline]
fn key_at(rest: &[u8], name: &[u8]) -> Option<usize> {
    let n = name.len() + 3;
    let head = rest.get(..n)?;
    (head[0] == b'"' && same(&head[1..n - 2], name) && head[n - 2] == b'"' && head[n - 1] == b':')
        .then_some(n)
}

/// Reads a plain vitals line; `None` means "not sure, ask serde".
pub fn read(line: &[u8]) -> Option<Reading> {
    let mut c = Cursor { b: line, i: 0 };
    c.eat(b'{')?;
    let mut seen = 0u32;
    let (mut ts, mut device, mut seq) = (None, None, None);
    loop {
        // Our stages write the fields in this order, so the next one is the likely one: compare
        // `"name":` in place before scanning the key as a string.
        let guess = (seen.trailing_ones() as usize).min(FIELDS.len() - 1);
        let idx = if let Some(n) = key_at(&line[c.i..], FIELDS[guess].0) {
            c.i += n;
            guess
        } else {
            let key = c.string()?;
            let key = &line[key];
            let idx = FIELDS.iter().position(|(name, _)| same(name, key))?;
            c.eat(b':')?;
            idx
        };
        if seen & (1 << idx) != 0 {
            return None;
        }
        seen |= 1 << idx;
        match FIELDS[idx].1 {
            Kind::Type => {
                if !c.eat_word(b"\"vitals\"") {
                    return None;
                }
            }
            Kind::Ts => {
                let r = c.string()?;
                let text = std::str::from_utf8(&line[r]).ok()?;
                ts = Some(Timestamp::parse(text).ok()?);
            }
            Kind::Str => {
                c.string()?;
            }
            Kind::Device => device = Some(c.string()?),
            Kind::Seq => seq = Some(c.digits()?),
            Kind::Int => {
                if !c.null() {
                    i32::try_from(c.int()?).ok()?;
                }
            }
            Kind::Float => {
                if !c.null() {
                    c.int()?;
                    if c.eat(b'.').is_some() {
                        let start = c.i;
                        while c.b.get(c.i).is_some_and(u8::is_ascii_digit) {
                            c.i += 1;
                        }
                        if c.i == start || c.i - start > 6 {
                            return None;
                        }
                    }
                }
            }
            Kind::Bool => {
                if !(c.eat_word(b"true") || c.eat_word(b"false")) {
                    return None;
                }
            }
            Kind::Consciousness => {
                let r = c.string()?;
                if !matches!(&line[r], b"A" | b"C" | b"V" | b"P" | b"U") {
                    return None;
                }
            }
            Kind::News2 => {
                if !c.null() {
                    u8::try_from(c.digits()?).ok()?;
                }
            }
            Kind::Risk => {
                if !c.null() {
                    let r = c.string()?;
                    if !matches!(&line[r], b"low" | b"low-medium" | b"medium" | b"high") {
                        return None;
                    }
                }
            }
        }
        if c.eat(b',').is_some() {
            continue;
        }
        c.eat(b'}')?;
        break;
    }
    if c.i != line.len() || seen & REQUIRED != REQUIRED {
        return None;
    }
    Some(Reading {
        ts: ts?,
        device: device?,
        seq: seq?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use vitals_core::{Record, parse_record};

    const LINE: &str = r#"{"type":"vitals","ts":"2026-11-28T05:40:01.000Z","patient_id":"PT-1000","device_id":"D-001","seq":4,"heart_rate_bpm":72,"spo2_pct":98,"respiratory_rate_bpm":14,"temperature_c":36.8,"systolic_mmhg":null,"diastolic_mmhg":-3,"on_oxygen":false,"consciousness":"A","battery_pct":99,"news2":0,"news2_risk":"low-medium"}"#;

    /// Whenever the fast reader accepts a line, serde accepts it too, with the same identity.
    fn agrees(line: &[u8]) -> bool {
        let Some(fast) = read(line) else {
            return true;
        };
        let Ok(text) = std::str::from_utf8(line) else {
            return false;
        };
        match parse_record(text) {
            Ok(Record::Vitals(v)) => {
                v.ts == fast.ts && v.seq == fast.seq && v.device_id.as_bytes() == &line[fast.device]
            }
            _ => false,
        }
    }

    #[test]
    fn the_plain_shape_is_read() {
        let r = read(LINE.as_bytes()).unwrap();
        assert_eq!(&LINE.as_bytes()[r.device], b"D-001");
        assert_eq!(r.seq, 4);
        assert_eq!(r.ts.date_string(), "2026-11-28");
        let minimal = r#"{"type":"vitals","ts":"2026-11-28T05:40:01.000Z","patient_id":"P","device_id":"D","seq":0}"#;
        assert!(read(minimal.as_bytes()).is_some());
        assert!(agrees(minimal.as_bytes()));
    }

    #[test]
    fn anything_unusual_is_left_to_serde() {
        for (from, to) in [
            (r#""seq":4"#, r#""seq":04"#),
            (r#""seq":4"#, r#""seq": 4"#),
            (r#""seq":4"#, r#""seq":-4"#),
            (r#""D-001""#, r#""D-\u0030""#),
            (r#""heart_rate_bpm":72"#, r#""heart_rate_bpm":72.0"#),
            (r#""heart_rate_bpm":72"#, r#""heart_rate_bpm":3000000000"#),
            (r#""heart_rate_bpm":72"#, r#""heart_rate_bpm":-0"#),
            (r#""temperature_c":36.8"#, r#""temperature_c":3.68e1"#),
            (r#""news2":0"#, r#""news2":256"#),
            (r#""news2_risk":"low-medium""#, r#""news2_risk":"lowish""#),
            (r#""consciousness":"A""#, r#""consciousness":"a""#),
            (
                r#""battery_pct":99"#,
                r#""battery_pct":99,"battery_pct":98"#,
            ),
            (r#""battery_pct":99"#, r#""battery_pct":99,"extra":1"#),
            (r#","device_id":"D-001""#, ""),
            (r#""type":"vitals""#, r#""type":"alert""#),
            ("}", "} "),
        ] {
            assert!(LINE.contains(from), "{from}");
            let line = LINE.replacen(from, to, 1);
            assert!(read(line.as_bytes()).is_none(), "{line}");
        }
    }

    /// Random byte edits of valid lines: the fast reader never accepts what serde refuses.
    #[test]
    fn mutated_lines_never_pass_the_fast_reader_alone() {
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let alphabet = b"0123456789-.,:{}\"\\ aeElnrstu\x01\xff";
        let mut accepted = 0;
        for _ in 0..200_000 {
            let mut line = LINE.as_bytes().to_vec();
            for _ in 0..1 + next() % 3 {
                let at = (next() as usize) % line.len();
                match next() % 3 {
                    0 => line[at] = alphabet[(next() as usize) % alphabet.len()],
                    1 => {
                        line.remove(at);
                    }
                    _ => line.insert(at, alphabet[(next() as usize) % alphabet.len()]),
                }
            }
            assert!(agrees(&line), "{}", String::from_utf8_lossy(&line));
            accepted += u32::from(read(&line).is_some());
        }
        assert!(
            accepted > 1000,
            "the mutations also produce valid lines ({accepted})"
        );
    }
}

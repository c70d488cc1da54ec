//! The NDJSON line codec every binary shares (docs/spec.md §1): a buffered reader that reuses one
//! line buffer, tolerates CRLF and a leading BOM, caps line length and numbers the lines; a buffered
//! writer; and the classification of a line into a record or a typed error.

use std::fmt;
use std::io::{self, BufRead, BufReader, Read, Write};

use serde::Serialize;

use crate::record::{Admission, Alert, Rejected, Settings, Vitals};

/// Lines longer than this are not records (a real one is about 300 bytes); the reader keeps the
/// first this-many bytes for the `_rejected/` record and skips the rest without buffering it.
pub const DEFAULT_MAX_LINE_BYTES: usize = 1 << 20;

const READ_BUFFER_BYTES: usize = 1 << 16;

/// The UTF-8 byte order mark some Windows tools put before the first line.
const BOM: &[u8] = b"\xEF\xBB\xBF";
const WRITE_BUFFER_BYTES: usize = 1 << 16;

/// One input line, without its line end.
#[derive(Debug)]
pub struct Line<'a> {
    /// 1-based line number in this reader's input.
    pub number: u64,
    pub bytes: &'a [u8],
    /// Length of the whole line when it was longer than the limit (then `bytes` is its start).
    pub overlong: Option<usize>,
}

impl<'a> Line<'a> {
    /// The line as UTF-8 text, or the reason it is not a record at the byte level.
    pub fn text(&self) -> Result<&'a str, RecordError> {
        if let Some(len) = self.overlong {
            return Err(RecordError::TooLong {
                len,
                limit: self.bytes.len(),
            });
        }
        std::str::from_utf8(self.bytes).map_err(|e| RecordError::InvalidUtf8 {
            at: e.valid_up_to(),
        })
    }
}

/// Reads newline-delimited lines with a reused buffer.
pub struct LineReader<R> {
    inner: BufReader<R>,
    buf: Vec<u8>,
    line_no: u64,
    max_len: usize,
    /// Length (with its newline) of the line last returned straight from the read buffer, to be
    /// consumed on the next call: a line that lies whole in the buffer, as nearly all do, is lent
    /// from there instead of being copied into `buf`.
    lent: usize,
}

impl<R: Read> LineReader<R> {
    pub fn new(inner: R) -> Self {
        Self::with_max_line(inner, DEFAULT_MAX_LINE_BYTES)
    }

    pub fn with_max_line(inner: R, max_len: usize) -> Self {
        LineReader {
            inner: BufReader::with_capacity(READ_BUFFER_BYTES, inner),
            buf: Vec::with_capacity(1024),
            line_no: 0,
            max_len,
            lent: 0,
        }
    }

    /// True when the next read must go to the OS and may block: the moment to flush what has been
    /// written, so a downstream `tail -f` style reader sees records promptly in real-time mode
    /// without paying a flush per line at full speed.
    pub fn would_block(&self) -> bool {
        self.inner.buffer().len() == self.lent
    }

    /// Number of lines read so far (including blank ones).
    pub fn lines_read(&self) -> u64 {
        self.line_no
    }

    /// The next non-blank line, or `None` at end of input. Blank lines carry nothing and are skipped.
    pub fn next_line(&mut self) -> io::Result<Option<Line<'_>>> {
        self.inner.consume(std::mem::take(&mut self.lent));
        loop {
            // The usual case: the whole line and its newline are in the read buffer.
            let buffered = self.inner.buffer();
            if let Some(nl) = memchr::memchr(b'\n', buffered)
                && nl <= self.max_len
            {
                self.line_no += 1;
                let end = if nl > 0 && buffered[nl - 1] == b'\r' {
                    nl - 1
                } else {
                    nl
                };
                let start = if self.line_no == 1 && buffered[..end].starts_with(BOM) {
                    BOM.len()
                } else {
                    0
                };
                if buffered[start..end].iter().all(u8::is_ascii_whitespace) {
                    self.inner.consume(nl + 1);
                    continue;
                }
                self.lent = nl + 1;
                return Ok(Some(Line {
                    number: self.line_no,
                    bytes: &self.inner.buffer()[start..end],
                    overlong: None,
                }));
            }
            // A line across the buffer's end, over-long, or the last one without a newline: read
            // into `buf`.
            self.buf.clear();
            let limit = self.max_len as u64 + 1;
            let n = (&mut self.inner)
                .take(limit)
                .read_until(b'\n', &mut self.buf)?;
            if n == 0 {
                return Ok(None);
            }
            self.line_no += 1;
            let mut overlong = None;
            if self.buf.last() == Some(&b'\n') {
                self.buf.pop();
            } else if self.buf.len() > self.max_len {
                // Skip the rest of the over-long line without holding it in memory.
                let mut len = self.buf.len();
                loop {
                    let chunk = self.inner.fill_buf()?;
                    if chunk.is_empty() {
                        break;
                    }
                    match chunk.iter().position(|&b| b == b'\n') {
                        Some(i) => {
                            len += i;
                            self.inner.consume(i + 1);
                            break;
                        }
                        None => {
                            len += chunk.len();
                            let c = chunk.len();
                            self.inner.consume(c);
                        }
                    }
                }
                self.buf.truncate(self.max_len);
                overlong = Some(len);
            }
            if overlong.is_none() && self.buf.last() == Some(&b'\r') {
                self.buf.pop();
            }
            let mut start = 0;
            if self.line_no == 1 && self.buf.starts_with(BOM) {
                start = BOM.len();
            }
            if overlong.is_none() && self.buf[start..].iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            return Ok(Some(Line {
                number: self.line_no,
                bytes: &self.buf[start..],
                overlong,
            }));
        }
    }
}

/// Writes newline-delimited records through one buffer that is reused for serialisation.
pub struct LineWriter<W: Write> {
    inner: io::BufWriter<W>,
    scratch: Vec<u8>,
}

impl<W: Write> LineWriter<W> {
    pub fn new(inner: W) -> Self {
        LineWriter {
            inner: io::BufWriter::with_capacity(WRITE_BUFFER_BYTES, inner),
            scratch: Vec::with_capacity(512),
        }
    }

    /// Writes `line` (which must not contain a newline) and a `\n`.
    pub fn write_line(&mut self, line: &[u8]) -> io::Result<()> {
        self.inner.write_all(line)?;
        self.inner.write_all(b"\n")
    }

    /// Writes `head` then `tail` and a `\n` as one line (neither may contain a newline), without
    /// joining the two pieces first: for a stage that passes a line on with something added.
    pub fn write_line_parts(&mut self, head: &[u8], tail: &[u8]) -> io::Result<()> {
        self.inner.write_all(head)?;
        self.inner.write_all(tail)?;
        self.inner.write_all(b"\n")
    }

    /// Serialises `record` as one compact JSON line.
    pub fn write_record<T: Serialize>(&mut self, record: &T) -> io::Result<()> {
        self.scratch.clear();
        serde_json::to_writer(&mut self.scratch, record).map_err(io::Error::other)?;
        self.scratch.push(b'\n');
        self.inner.write_all(&self.scratch)
    }

    pub fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }

    pub fn get_mut(&mut self) -> &mut W {
        self.inner.get_mut()
    }
}

/// Why a line is not a valid record. The caller adds the line number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordError {
    TooLong {
        len: usize,
        limit: usize,
    },
    InvalidUtf8 {
        at: usize,
    },
    /// Not JSON at all, or truncated JSON.
    Json(String),
    NotAnObject,
    MissingType,
    /// A known type whose fields are missing or of the wrong type.
    Invalid {
        record_type: String,
        reason: String,
    },
}

impl fmt::Display for RecordError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecordError::TooLong { len, limit } => {
                write!(
                    f,
                    "line is {len} bytes, over the {limit}-byte limit (first {limit} kept)"
                )
            }
            RecordError::InvalidUtf8 { at } => write!(f, "not valid UTF-8 (byte {})", at + 1),
            RecordError::Json(e) => write!(f, "not JSON: {e}"),
            RecordError::NotAnObject => f.write_str("not a JSON object"),
            RecordError::MissingType => f.write_str("object has no string \"type\" field"),
            RecordError::Invalid {
                record_type,
                reason,
            } => write!(f, "invalid {record_type} record: {reason}"),
        }
    }
}

impl std::error::Error for RecordError {}

/// A line parsed as far as a stage needs it.
#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    Vitals(Vitals),
    Alert(Alert),
    Admission(Admission),
    Settings(Settings),
    Rejected(Rejected),
    /// A well-formed object of a type this version does not know: passed on unchanged.
    Other {
        record_type: String,
    },
}

impl Record {
    /// The record's `"type"`.
    pub fn type_name(&self) -> &str {
        match self {
            Record::Vitals(_) => crate::record::VitalsTag::VALUE,
            Record::Alert(_) => crate::record::AlertTag::VALUE,
            Record::Admission(_) => crate::record::AdmissionTag::VALUE,
            Record::Settings(_) => crate::record::SettingsTag::VALUE,
            Record::Rejected(_) => crate::record::RejectedTag::VALUE,
            Record::Other { record_type } => record_type,
        }
    }
}

/// The prefix our own writers produce; lines that start with it skip the type probe.
const VITALS_PREFIX: &str = "{\"type\":\"vitals\"";

/// Classifies and validates one line of text.
pub fn parse_record(text: &str) -> Result<Record, RecordError> {
    if text.starts_with(VITALS_PREFIX) {
        return parse_as::<Vitals>(text, "vitals").map(Record::Vitals);
    }
    let record_type = probe_type(text)?;
    match record_type.as_str() {
        "vitals" => parse_as::<Vitals>(text, "vitals").map(Record::Vitals),
        "alert" => parse_as::<Alert>(text, "alert").map(Record::Alert),
        "admission" => parse_as::<Admission>(text, "admission").map(Record::Admission),
        "settings" => parse_as::<Settings>(text, "settings").map(Record::Settings),
        "rejected" => parse_as::<Rejected>(text, "rejected").map(Record::Rejected),
        _ => Ok(Record::Other { record_type }),
    }
}

fn parse_as<T: serde::de::DeserializeOwned>(
    text: &str,
    record_type: &str,
) -> Result<T, RecordError> {
    serde_json::from_str(text).map_err(|e| {
        if e.is_syntax() || e.is_eof() {
            RecordError::Json(e.to_string())
        } else {
            RecordError::Invalid {
                record_type: record_type.to_owned(),
                reason: e.to_string(),
            }
        }
    })
}

/// Reads only the `"type"` of an object (the rest is validated as JSON but not kept).
fn probe_type(text: &str) -> Result<String, RecordError> {
    #[derive(serde::Deserialize)]
    struct Probe {
        #[serde(rename = "type")]
        record_type: Option<serde_json::Value>,
    }
    let trimmed = text.trim_start();
    if !trimmed.starts_with('{') {
        // Still tell "not JSON" from "JSON, but not an object".
        return match serde_json::from_str::<serde::de::IgnoredAny>(text) {
            Ok(_) => Err(RecordError::NotAnObject),
            Err(e) => Err(RecordError::Json(e.to_string())),
        };
    }
    let probe: Probe = serde_json::from_str(text).map_err(|e| RecordError::Json(e.to_string()))?;
    match probe.record_type {
        Some(serde_json::Value::String(s)) => Ok(s),
        _ => Err(RecordError::MissingType),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(input: &[u8], max: usize) -> Vec<(u64, Vec<u8>, Option<usize>)> {
        let mut r = LineReader::with_max_line(input, max);
        let mut out = vec![];
        while let Some(l) = r.next_line().unwrap() {
            out.push((l.number, l.bytes.to_vec(), l.overlong));
        }
        out
    }

    #[test]
    fn crlf_bom_and_blank_lines_are_tolerated() {
        let got = lines(b"\xEF\xBB\xBF{\"a\":1}\r\n\r\n  \n{\"b\":2}", 100);
        assert_eq!(
            got,
            vec![
                (1, b"{\"a\":1}".to_vec(), None),
                (4, b"{\"b\":2}".to_vec(), None)
            ]
        );
    }

    /// Hands out its bytes a few at a time, as a pipe may: lines then lie across the read
    /// buffer's end.
    struct Trickle<'a>(&'a [u8], usize);

    impl Read for Trickle<'_> {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            let n = self.1.min(self.0.len()).min(out.len());
            out[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    #[test]
    fn lines_across_reads_come_out_as_whole_lines() {
        let input: &[u8] = b"\xEF\xBB\xBF{\"a\":1}\r\n\n  \n{\"b\":22}\nxxxxxxxxxxxxxxxxxxxx\n{\"c\":333}\r\n{\"d\":4}";
        let whole = lines(input, 12);
        assert_eq!(whole.len(), 5);
        assert_eq!(whole[2], (5, vec![b'x'; 12], Some(20)));
        for chunk in 1..=input.len() {
            let mut r = LineReader::with_max_line(Trickle(input, chunk), 12);
            let mut got = vec![];
            while let Some(l) = r.next_line().unwrap() {
                got.push((l.number, l.bytes.to_vec(), l.overlong));
            }
            assert_eq!(got, whole, "reads of {chunk} bytes");
        }
    }

    #[test]
    fn would_block_only_once_the_buffer_is_used_up() {
        let mut r = LineReader::new(&b"{\"a\":1}\n{\"b\":2}\n"[..]);
        assert!(r.next_line().unwrap().is_some());
        assert!(!r.would_block());
        assert!(r.next_line().unwrap().is_some());
        assert!(r.would_block());
        assert!(r.next_line().unwrap().is_none());
    }

    #[test]
    fn overlong_line_is_cut_and_the_next_line_survives() {
        let mut input = vec![b'x'; 50];
        input.extend_from_slice(b"\n{\"ok\":1}\n");
        let got = lines(&input, 10);
        assert_eq!(got[0], (1, vec![b'x'; 10], Some(50)));
        assert_eq!(got[1], (2, b"{\"ok\":1}".to_vec(), None));
    }

    #[test]
    fn errors_say_what_is_wrong() {
        assert!(matches!(
            parse_record("{\"type\":\"vitals\",").unwrap_err(),
            RecordError::Json(_)
        ));
        assert_eq!(parse_record("[1,2]").unwrap_err(), RecordError::NotAnObject);
        assert_eq!(
            parse_record("{\"a\":1}").unwrap_err(),
            RecordError::MissingType
        );
        let e = parse_record(
            r#"{"type":"vitals","ts":"2026-11-28T05:40:01.000Z","patient_id":"PT-1","device_id":"D-1","seq":"x","heart_rate_bpm":null,"spo2_pct":null,"respiratory_rate_bpm":null,"temperature_c":null,"systolic_mmhg":null,"diastolic_mmhg":null,"battery_pct":null}"#,
        )
        .unwrap_err();
        assert!(e.to_string().contains("invalid vitals record"), "{e}");
        assert_eq!(
            parse_record(r#"{"type":"ecg_strip","x":[1]}"#).unwrap(),
            Record::Other {
                record_type: "ecg_strip".into()
            }
        );
    }

    #[test]
    fn vitals_round_trip_keeps_news2_absent_or_null() {
        let line = r#"{"type":"vitals","ts":"2026-11-28T05:40:01.000Z","patient_id":"PT-1000","device_id":"D-001","seq":0,"heart_rate_bpm":72,"spo2_pct":98,"respiratory_rate_bpm":14,"temperature_c":36.8,"systolic_mmhg":null,"diastolic_mmhg":null,"on_oxygen":false,"consciousness":"A","battery_pct":99}"#;
        let Record::Vitals(v) = parse_record(line).unwrap() else {
            panic!()
        };
        assert_eq!(v.news2, None);
        assert_eq!(serde_json::to_string(&v).unwrap(), line);
        let with_null = line.replace("}", ",\"news2\":null,\"news2_risk\":null}");
        let Record::Vitals(v) = parse_record(&with_null).unwrap() else {
            panic!()
        };
        assert_eq!(v.news2, Some(None));
        assert_eq!(serde_json::to_string(&v).unwrap(), with_null);
    }

    const ADMISSION: &str = r#"{"type":"admission","ts":"2026-11-28T05:40:01.000Z","patient_id":"PT-1003","device_id":"D-004","unit":"general","bed":"B-04","age_band":"70-79","sex":"F","conditions":["copd"],"spo2_scale":2}"#;
    const SETTINGS: &str = r#"{"type":"settings","ts":"2026-11-28T09:12:00.000Z","patient_id":"PT-1003","device_id":"D-004","settings_id":"PT-1003/2","source":"nurse","limits":{"hr_low":45.0,"spo2_low":86.0}}"#;

    #[test]
    fn admission_and_settings_read_back_byte_for_byte() {
        let Record::Admission(a) = parse_record(ADMISSION).unwrap() else {
            panic!()
        };
        assert_eq!(a.spo2_scale, crate::news2::Spo2Scale::Scale2);
        assert_eq!(a.age_band, crate::record::AgeBand::From70To79);
        assert_eq!(a.conditions, ["copd"]);
        assert_eq!(serde_json::to_string(&a).unwrap(), ADMISSION);
        let Record::Settings(s) = parse_record(SETTINGS).unwrap() else {
            panic!()
        };
        assert_eq!(s.source, crate::record::SettingsSource::Nurse);
        assert_eq!(s.limits["hr_low"], 45.0);
        assert_eq!(serde_json::to_string(&s).unwrap(), SETTINGS);
    }

    /// Each field of the new records is held to its type: a wrong one makes the line invalid
    /// (with the field named), never a record with a default in its place.
    #[test]
    fn admission_and_settings_are_strict_on_field_types() {
        let bad = [
            (
                ADMISSION,
                r#""spo2_scale":2"#,
                r#""spo2_scale":3"#,
                "spo2_scale",
            ),
            (ADMISSION, r#""spo2_scale":2"#, r#""spo2_scale":"2""#, "u8"),
            (ADMISSION, r#""spo2_scale":2"#, r#""spo2_scale":2.0"#, "u8"),
            (
                ADMISSION,
                r#""unit":"general""#,
                r#""unit":"ward 7""#,
                "unknown variant",
            ),
            (
                ADMISSION,
                r#""age_band":"70-79""#,
                r#""age_band":"74""#,
                "unknown variant",
            ),
            (
                ADMISSION,
                r#""sex":"F""#,
                r#""sex":"female""#,
                "unknown variant",
            ),
            (
                ADMISSION,
                r#""conditions":["copd"]"#,
                r#""conditions":"copd""#,
                "sequence",
            ),
            (ADMISSION, r#","bed":"B-04""#, "", "missing field `bed`"),
            (
                SETTINGS,
                r#""source":"nurse""#,
                r#""source":"doctor""#,
                "unknown variant",
            ),
            (SETTINGS, r#""hr_low":45.0"#, r#""hr_low":"45""#, "f64"),
            (SETTINGS, r#""hr_low":45.0"#, r#""hr_low":null"#, "f64"),
            (SETTINGS, r#""limits":{"#, r#""limits":[],"x":{"#, "map"),
            (
                SETTINGS,
                r#""settings_id":"PT-1003/2""#,
                r#""settings_id":2"#,
                "string",
            ),
            (
                SETTINGS,
                r#","ts":"2026-11-28T09:12:00.000Z""#,
                "",
                "missing field `ts`",
            ),
        ];
        for (line, from, to, why) in bad {
            let text = line.replacen(from, to, 1);
            assert_ne!(text, line, "{from}");
            let e = parse_record(&text).unwrap_err();
            assert!(
                matches!(&e, RecordError::Invalid { .. }) && e.to_string().contains(why),
                "{text}: {e}"
            );
        }
    }

    #[test]
    fn an_alert_without_settings_id_reads_as_null_and_is_written_with_it() {
        let old = r#"{"type":"alert","ts":"2026-11-28T00:00:00.000Z","patient_id":"PT-9","device_id":"D-9","alert_id":"x","rule":"hr_low","kind":"physiological","priority":"medium","state":"raised","vital":"heart_rate_bpm","value":45.0,"limit":50.0,"news2":null,"message":"m"}"#;
        let Record::Alert(a) = parse_record(old).unwrap() else {
            panic!()
        };
        assert_eq!(a.settings_id, None);
        let with = old.replace("}", r#","settings_id":"PT-9/2"}"#);
        let Record::Alert(a) = parse_record(&with).unwrap() else {
            panic!()
        };
        assert_eq!(a.settings_id.as_deref(), Some("PT-9/2"));
        assert_eq!(serde_json::to_string(&a).unwrap(), with);
    }
}

//! The streaming stage: read lines, pass every record on (vitals with `news2` and `news2_risk`
//! spliced in, alert events right after the reading that caused them, `admission` and `settings`
//! records unchanged after the engine has taken them), wrap bad lines in `rejected` envelopes, and
//! tell people on stderr. An `admission` or `settings` record the engine cannot use is reported
//! like a bad line but passed on as it came: it is the archive's to file, and it changes nothing
//! here (module [`crate::stream_settings`]).

use std::io::{self, Read, Write};
use std::time::Duration;

use anyhow::Context;
use vitals_core::diagnostics::BadLines;
use vitals_core::stdin_lines::{Received, StdinLines};
use vitals_core::stop::{Stop, Winding};
use vitals_core::{Line, LineWriter, Record, RecordError, Rejected, Timestamp, Vitals};

use crate::engine::{Engine, News2};
use crate::summary::{self, Counts};

/// The name on every stderr line and in `rejected` envelopes.
pub const PROGRAM: &str = "cardio-alert";

/// Gap reports shown one by one before only the summary counts them.
const GAPS_REPORTED: u64 = 20;
/// How long the main loop waits for input before it looks at the signal flag again.
const POLL: Duration = Duration::from_millis(100);

/// How the stage talks on stderr.
#[derive(Debug, Clone, Copy, Default)]
pub struct Voice {
    /// No line per alert event or gap (the end summary still prints).
    pub quiet: bool,
    /// The table of alerts by rule and priority at the end.
    pub summary: bool,
    pub colour: bool,
}

/// Runs the stage until end of input. A closed pipe downstream ends it normally, and so does a
/// signal on `stop`, once what the input still brings has been passed on ([`Winding`]: until it
/// ends or is quiet for [`DRAIN_QUIET`](vitals_core::stop::DRAIN_QUIET)).
pub fn run<R: Read + Send + 'static, W: Write, E: Write>(
    engine: &mut Engine,
    input: R,
    output: W,
    stderr: E,
    voice: Voice,
    stop: &Stop,
) -> anyhow::Result<Counts> {
    let mut counts = Counts::default();
    let mut bad = BadLines::new(PROGRAM);
    let mut err = io::BufWriter::with_capacity(1 << 14, stderr);
    let outcome = pump(
        engine,
        input,
        output,
        &mut err,
        voice,
        &mut counts,
        &mut bad,
        stop,
    );
    counts.bad_lines = bad.count();
    let broken_pipe = matches!(&outcome, Err(e) if vitals_core::status::is_broken_pipe(e));
    if broken_pipe || outcome.is_ok() {
        let _ = summary::write_end(&mut err, engine, &counts, voice);
        let _ = err.flush();
        return Ok(counts);
    }
    let _ = err.flush();
    outcome.map(|()| counts)
}

#[allow(clippy::too_many_arguments)]
fn pump<R: Read + Send + 'static, W: Write, E: Write>(
    engine: &mut Engine,
    input: R,
    output: W,
    err: &mut E,
    voice: Voice,
    counts: &mut Counts,
    bad: &mut BadLines,
    stop: &Stop,
) -> anyhow::Result<()> {
    // On a thread of its own, so that a signal is seen while the input is idle.
    let input = StdinLines::start(input);
    let mut writer = LineWriter::new(output);
    let mut lines = Lines::default();
    let mut winding = Winding::default();
    while winding.go_on(stop) {
        match input.recv(winding.wait(POLL)) {
            Received::Lines(chunk) => {
                for line in chunk.lines() {
                    lines.line(engine, &line, &mut writer, err, voice, counts, bad)?;
                }
                if chunk.then_waits {
                    // The next line may wait for the device: let downstream see what we have.
                    writer.flush().context("cannot write standard output")?;
                    err.flush()?;
                }
            }
            Received::Quiet if winding.stopping() => break,
            Received::Quiet => {}
            Received::End(None) => break,
            Received::End(Some(e)) => {
                writer.flush().context("cannot write standard output")?;
                return Err(e).context("cannot read standard input");
            }
        }
    }
    writer.flush().context("cannot write standard output")?;
    Ok(())
}

/// What the stage does to one line, for [`run`] and for callers that take lines from elsewhere
/// (cardio-kafka's `process`, which keeps one [`Engine`] per Kafka partition): the line goes on
/// (vitals with NEWS2, other records as they came, a bad line as a `rejected` envelope), followed
/// by the alert events it caused. The buffers are reused from line to line.
#[derive(Debug)]
pub struct Lines {
    alerts: Vec<vitals_core::Alert>,
    scratch: Vec<u8>,
    scanner: vitals_core::vitals_line::Scanner,
    /// One record reused for every canonical line: its id strings keep their allocation.
    reading: Vitals,
}

impl Default for Lines {
    fn default() -> Self {
        Lines {
            alerts: Vec::new(),
            scratch: Vec::with_capacity(1024),
            scanner: vitals_core::vitals_line::Scanner::default(),
            reading: Vitals::empty(Timestamp(0), "", "", 0),
        }
    }
}

impl Lines {
    /// Passes `line` through `engine` to `writer`, telling `err` what `voice` asks for.
    #[allow(clippy::too_many_arguments)]
    pub fn line<W: Write, E: Write>(
        &mut self,
        engine: &mut Engine,
        line: &Line<'_>,
        writer: &mut LineWriter<W>,
        err: &mut E,
        voice: Voice,
        counts: &mut Counts,
        bad: &mut BadLines,
    ) -> anyhow::Result<()> {
        counts.lines_in += 1;
        let number = line.number;
        let mut out = Sink {
            engine,
            writer,
            err,
            voice,
            counts,
            alerts: &mut self.alerts,
            scratch: &mut self.scratch,
        };
        if line.overlong.is_none()
            && self
                .scanner
                .read_into(line.bytes, &mut self.reading)
                .is_some()
        {
            return out.vitals(line.bytes, &self.reading);
        }
        match line.text().and_then(vitals_core::parse_record) {
            Ok(Record::Vitals(v)) => out.vitals(line.bytes, &v)?,
            Ok(other) => {
                match other {
                    Record::Settings(s) => {
                        if let Err(reason) = engine.on_settings(&s) {
                            bad.report(number, &not_applied("settings", reason));
                        }
                    }
                    Record::Admission(a) => engine.on_admission(&a),
                    _ => {}
                }
                writer
                    .write_line(line.bytes)
                    .context("cannot write standard output")?;
                counts.passed_on += 1;
            }
            Err(RecordError::Invalid {
                record_type,
                reason,
            }) if record_type == "settings" || record_type == "admission" => {
                bad.report(number, &not_applied(&record_type, reason));
                writer
                    .write_line(line.bytes)
                    .context("cannot write standard output")?;
                counts.passed_on += 1;
            }
            Err(e) => {
                bad.report(number, &e);
                let env = Rejected::new(
                    PROGRAM,
                    number,
                    e.to_string(),
                    line.bytes,
                    line.overlong.is_some(),
                    Timestamp::now(),
                );
                writer
                    .write_record(&env)
                    .context("cannot write standard output")?;
                counts.rejected_out += 1;
            }
        }
        Ok(())
    }
}

/// The report of an `admission` or `settings` record that changes nothing.
fn not_applied(record_type: &str, reason: String) -> RecordError {
    let kept = if record_type == "settings" {
        "the limits in force stay"
    } else {
        "the SpO2 scale in force stays"
    };
    RecordError::Invalid {
        record_type: record_type.to_owned(),
        reason: format!("{reason}; not applied, {kept}, passed on unchanged"),
    }
}

/// Where a reading's results go: the output stream, stderr and the counts.
struct Sink<'a, W: Write, E: Write> {
    engine: &'a mut Engine,
    writer: &'a mut LineWriter<W>,
    err: &'a mut E,
    voice: Voice,
    counts: &'a mut Counts,
    alerts: &'a mut Vec<vitals_core::Alert>,
    scratch: &'a mut Vec<u8>,
}

impl<W: Write, E: Write> Sink<'_, W, E> {
    /// Scores a reading, passes it on, then the alert events it caused, and tells stderr.
    fn vitals(&mut self, line: &[u8], v: &Vitals) -> anyhow::Result<()> {
        let Sink {
            engine,
            writer,
            err,
            voice,
            counts,
            alerts,
            scratch,
        } = self;
        match engine.on_vitals(v, alerts) {
            Some(n) => write_vitals(writer, scratch, line, v, n)?,
            // Past --max-patients: passed on as it came, unscored.
            None => writer
                .write_line(line)
                .context("cannot write standard output")?,
        }
        counts.vitals_out += 1;
        if let Some(f) = engine.full.take() {
            // Said even with --quiet: readings go unscored.
            writeln!(
                err,
                "{PROGRAM}: {} --max-patients {} reached: readings of new patients (first: {}) are \
                 passed on unchanged and not scored until patients silent for --evict-after are \
                 forgotten",
                f.ts, f.max_patients, f.patient_id
            )?;
        }
        for a in alerts.drain(..) {
            writer
                .write_record(&a)
                .context("cannot write standard output")?;
            counts.alerts_out += 1;
            if !voice.quiet {
                summary::write_event(err, &a, voice.colour)?;
            }
        }
        if !voice.quiet {
            for g in engine.gaps.drain(..) {
                counts.gap_reports += 1;
                if counts.gap_reports <= GAPS_REPORTED {
                    if g.counted {
                        writeln!(
                            err,
                            "{PROGRAM}: {} {} {}: {} reading{} lost (seq {} onwards)",
                            g.ts,
                            g.patient_id,
                            g.device_id,
                            g.lost,
                            if g.lost == 1 { "" } else { "s" },
                            g.from_seq
                        )?;
                    } else {
                        writeln!(
                            err,
                            "{PROGRAM}: {} {} {}: seq jumped by {} from {}, more than the device \
                             can have sent since its previous reading: a corrupt or re-based \
                             counter, not counted as lost readings",
                            g.ts,
                            g.patient_id,
                            g.device_id,
                            g.lost.saturating_add(1),
                            g.from_seq.saturating_sub(1)
                        )?;
                    }
                    if counts.gap_reports == GAPS_REPORTED {
                        writeln!(
                            err,
                            "{PROGRAM}: further gaps are only counted in the summary"
                        )?;
                    }
                }
            }
        } else {
            engine.gaps.clear();
        }
        Ok(())
    }
}

/// Writes a vitals line with the two NEWS2 fields. When the line has neither yet (the usual case),
/// its own bytes are kept and the fields spliced in before the final `}`: no re-serialisation, and
/// every field the line carried goes on exactly as it came. Otherwise the old NEWS2 fields are
/// replaced and the other members kept as they came.
fn write_vitals<W: Write>(
    writer: &mut LineWriter<W>,
    scratch: &mut Vec<u8>,
    line: &[u8],
    v: &Vitals,
    n: News2,
) -> anyhow::Result<()> {
    if v.news2.is_none()
        && v.news2_risk.is_none()
        && let Some(end) = final_brace(line)
    {
        news2_tail(n, scratch);
        // The line up to its `}` and the new ending go out as they are, not joined first.
        return writer
            .write_line_parts(&line[..end], scratch)
            .context("cannot write standard output");
    }
    // The line already carries NEWS2 fields (cardio-alert run over its own output): replace
    // them, keeping every other member as it came, unknown fields included.
    let text = std::str::from_utf8(line).context("a vitals line that is not UTF-8")?;
    let mut head = Vec::with_capacity(line.len());
    vitals_core::vitals_line::object_without(text, &["news2", "news2_risk"], &mut head)
        .context("a vitals line that is not a JSON object")?;
    news2_tail(n, scratch);
    writer
        .write_line_parts(&head, scratch)
        .context("cannot write standard output")
}

/// Where the line's final `}` is (only whitespace may follow it), or `None`.
fn final_brace(line: &[u8]) -> Option<usize> {
    let end = line.iter().rposition(|b| !b.is_ascii_whitespace())?;
    (line[end] == b'}' && end > 0).then_some(end)
}

/// `,"news2":N,"news2_risk":"…"}` in `out`: what replaces a vitals line's final `}`.
fn news2_tail(n: News2, out: &mut Vec<u8>) {
    out.clear();
    out.extend_from_slice(b",\"news2\":");
    match n.score {
        Some(s) => {
            if s >= 10 {
                out.push(b'0' + s / 10);
            }
            out.push(b'0' + s % 10);
        }
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b",\"news2_risk\":");
    match n.risk {
        Some(r) => {
            out.push(b'"');
            out.extend_from_slice(r.as_str().as_bytes());
            out.push(b'"');
        }
        None => out.extend_from_slice(b"null"),
    }
    out.push(b'}');
}

/// `{…}` → `{…,"news2":N,"news2_risk":"…"}` in `out`; false when the line does not end in `}`.
pub fn splice(line: &[u8], n: News2, out: &mut Vec<u8>) -> bool {
    let Some(end) = final_brace(line) else {
        return false;
    };
    let mut tail = Vec::new();
    news2_tail(n, &mut tail);
    out.clear();
    out.extend_from_slice(&line[..end]);
    out.extend_from_slice(&tail);
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use vitals_core::Risk;

    fn spliced(line: &str, n: News2) -> Option<String> {
        let mut out = Vec::new();
        splice(line.as_bytes(), n, &mut out).then(|| String::from_utf8(out).unwrap())
    }

    #[test]
    fn news2_fields_go_before_the_final_brace() {
        let n = News2 {
            score: Some(12),
            risk: Some(Risk::High),
        };
        assert_eq!(
            spliced(r#"{"a":1}"#, n).unwrap(),
            r#"{"a":1,"news2":12,"news2_risk":"high"}"#
        );
        assert_eq!(
            spliced(
                r#"{"a":1 }  "#,
                News2 {
                    score: None,
                    risk: None
                }
            )
            .unwrap(),
            r#"{"a":1 ,"news2":null,"news2_risk":null}"#
        );
        assert_eq!(spliced("[1]", n), None);
    }
}

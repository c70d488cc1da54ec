//! Words for people on stderr: one line per alert event, the end summary line, and with `--summary`
//! the table of alerts by rule and priority with the alarm burden per patient-day.

use std::io::{self, Write};

use vitals_core::{Alert, AlertKind, Priority};

use crate::engine::Engine;
use crate::stage::PROGRAM;

/// What went in and out of the stage.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Non-blank input lines.
    pub lines_in: u64,
    pub vitals_out: u64,
    pub alerts_out: u64,
    /// Records of other types (upstream alerts, rejected envelopes, unknown types) passed on as is.
    pub passed_on: u64,
    /// Bad lines wrapped in `rejected` envelopes.
    pub rejected_out: u64,
    pub bad_lines: u64,
    pub gap_reports: u64,
}

impl Counts {
    pub fn records_out(&self) -> u64 {
        self.vitals_out + self.alerts_out + self.passed_on + self.rejected_out
    }
}

fn paint(p: Priority) -> &'static str {
    match p {
        Priority::High => "\x1b[1;31m",
        Priority::Medium => "\x1b[33m",
        Priority::Low => "\x1b[36m",
    }
}

/// `cardio-alert: HIGH   raised    2026-11-28T05:40:01.000Z PT-1003 spo2_desat: SpO2 83% below 85%`
pub fn write_event<E: Write>(err: &mut E, a: &Alert, colour: bool) -> io::Result<()> {
    let tag = match a.priority {
        Priority::High => "HIGH  ",
        Priority::Medium => "MEDIUM",
        Priority::Low => "LOW   ",
    };
    let (on, off) = if colour {
        (paint(a.priority), "\x1b[0m")
    } else {
        ("", "")
    };
    writeln!(
        err,
        "{PROGRAM}: {on}{tag}{off} {:<9} {} {} {}: {}",
        a.state.as_str(),
        a.ts,
        a.patient_id,
        a.rule,
        a.message
    )
}

/// The line every run ends with, and the `--summary` table before it when asked.
pub fn write_end<E: Write>(
    err: &mut E,
    engine: &Engine,
    c: &Counts,
    voice: crate::stage::Voice,
) -> io::Result<()> {
    let s = &engine.stats;
    let raised: [u64; 3] = s.raised.iter().fold([0; 3], |mut acc, r| {
        for i in 0..3 {
            acc[i] += r[i];
        }
        acc
    });
    if voice.summary {
        write_table(err, engine)?;
    }
    // Faults that are rare enough to be worth a line of their own when they happened.
    if s.seq_jumps + s.clock_steps + s.unscored + s.evicted_with_open_alarm > 0 {
        writeln!(
            err,
            "{PROGRAM}: {} seq jumps (corrupt or re-based counters, not counted as lost); {} readings \
             from a device whose clock had stepped; {} readings of new patients not scored \
             (--max-patients {}); {} patients forgotten with an alarm still open",
            s.seq_jumps,
            s.clock_steps,
            s.unscored,
            engine.config().max_patients,
            s.evicted_with_open_alarm,
        )?;
    }
    let total: u64 = raised.iter().sum();
    writeln!(
        err,
        "{PROGRAM}: {} records in, {} out ({} vitals, {} alert events, {} passed on, {} rejected); \
         {total} alerts raised ({} high, {} medium, {} low); {} bad lines; {} readings lost in {} gaps; \
         {} late, {} duplicate",
        c.lines_in,
        c.records_out(),
        c.vitals_out,
        c.alerts_out,
        c.passed_on,
        c.rejected_out,
        raised[Priority::High as usize],
        raised[Priority::Medium as usize],
        raised[Priority::Low as usize],
        c.bad_lines,
        s.lost_readings,
        s.gaps,
        s.late,
        s.duplicates,
    )
}

fn write_table<E: Write>(err: &mut E, engine: &Engine) -> io::Result<()> {
    let s = &engine.stats;
    let days = engine.patient_days();
    let per_day = |n: u64| {
        if days > 0.0 {
            format!("{:.2}", n as f64 / days)
        } else {
            "-".to_owned()
        }
    };
    writeln!(
        err,
        "{PROGRAM}: alerts raised by rule and priority ({days:.2} patient-days monitored)"
    )?;
    writeln!(
        err,
        "  {:<18} {:<13} {:>6} {:>6} {:>6} {:>9} {:>8} {:>13}",
        "rule", "kind", "high", "medium", "low", "escalated", "cleared", "per pt-day"
    )?;
    let mut by_kind = [0u64; 2];
    for (rule, ((r, e), c)) in engine
        .config()
        .rules()
        .iter()
        .zip(s.raised.iter().zip(&s.escalated).zip(&s.cleared))
    {
        let n: u64 = r.iter().sum();
        let kind = rule.rule.kind;
        by_kind[(kind == AlertKind::Technical) as usize] += n;
        if n == 0 && *e == 0 && *c == 0 {
            continue;
        }
        writeln!(
            err,
            "  {:<18} {:<13} {:>6} {:>6} {:>6} {:>9} {:>8} {:>13}",
            rule.rule.name,
            match kind {
                AlertKind::Physiological => "physiological",
                AlertKind::Technical => "technical",
            },
            r[Priority::High as usize],
            r[Priority::Medium as usize],
            r[Priority::Low as usize],
            e,
            c,
            per_day(n)
        )?;
    }
    writeln!(
        err,
        "  alarm burden per patient-day: {} physiological, {} technical, {} in all",
        per_day(by_kind[0]),
        per_day(by_kind[1]),
        per_day(by_kind[0] + by_kind[1])
    )?;
    writeln!(
        err,
        "  patients in memory at the end: {}; evicted after silence: {}; SpO2 readings held as \
         motion artifact: {} ({} holds ended with SpO2 still down: real)",
        engine.patients(),
        s.evicted,
        s.spo2_artifact_readings,
        s.spo2_holds_real
    )?;
    if s.stream_settings > 0 {
        writeln!(
            err,
            "  admission and settings records taken in: {}; applied: {}; not kept (past \
             --max-patients, or superseded ahead of the readings): {}",
            s.stream_settings, s.stream_settings_applied, s.stream_settings_dropped
        )?;
    }
    Ok(())
}

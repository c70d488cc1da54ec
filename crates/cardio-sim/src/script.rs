//! The scenario script (`--scenario FILE`, format in docs/cardio-sim.md): a JSON file naming which
//! patient deteriorates when, and how. It is user input, so it lives apart from the clinical model
//! in [`crate::scenario`]: this module turns the file into [`Plan`]s and says which event is wrong
//! and why; the model never sees the file's text.

use std::path::Path;

use anyhow::{Context, bail};
use serde::Deserialize;
use vitals_core::{Scenario, Timestamp};

use crate::clock::{parse_duration_ms, parse_offset_ms};
use crate::scenario::{Plan, TimeCourse};

/// One line of a scenario script.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ScriptEntry {
    at: String,
    patient: String,
    scenario: Scenario,
    #[serde(default = "default_severity")]
    severity: f64,
    over: Option<String>,
    treated_after: Option<String>,
    recover_over: Option<String>,
    #[serde(default)]
    hypothermic: bool,
}

fn default_severity() -> f64 {
    0.7
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum ScriptFile {
    Object { events: Vec<ScriptEntry> },
    List(Vec<ScriptEntry>),
}

/// A scripted scenario: which patient (index on the ward), when, and what.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scripted {
    pub at_ms: i64,
    pub patient: u32,
    pub plan: Plan,
}

/// The index of `PT-1000`-style id on a ward of `patients`.
pub fn patient_index(id: &str, patients: u32) -> Option<u32> {
    let n: u32 = id.strip_prefix("PT-")?.parse().ok()?;
    let i = n.checked_sub(1000)?;
    (i < patients).then_some(i)
}

/// Reads a scenario script. Times are `HH:MM[:SS]` or a duration (`90m`) after `--start`, or an
/// RFC 3339 time. Sorted by time, stable for equal times.
pub fn load_script(path: &Path, start: Timestamp, patients: u32) -> anyhow::Result<Vec<Scripted>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read scenario file {}", path.display()))?;
    parse_script(&text, start, patients)
        .with_context(|| format!("scenario file {}", path.display()))
}

/// Parses the text of a scenario script (see [`load_script`]).
pub fn parse_script(text: &str, start: Timestamp, patients: u32) -> anyhow::Result<Vec<Scripted>> {
    let file: ScriptFile = serde_json::from_str(text)?;
    let entries = match file {
        ScriptFile::Object { events } => events,
        ScriptFile::List(events) => events,
    };
    let mut out = Vec::with_capacity(entries.len());
    for (n, e) in entries.into_iter().enumerate() {
        let which = format!("event {} ({} {})", n + 1, e.patient, e.scenario.name());
        let at_ms = if e.at.contains('T') {
            Timestamp::parse(&e.at)
                .map_err(|err| anyhow::anyhow!("{which}: {err}"))?
                .millis()
        } else {
            start.millis()
                + parse_offset_ms(&e.at).map_err(|err| anyhow::anyhow!("{which}: at: {err}"))?
        };
        let Some(patient) = patient_index(&e.patient, patients) else {
            bail!(
                "{which}: no patient {} on a ward of {patients} (PT-1000 to PT-{})",
                e.patient,
                999 + patients
            );
        };
        if !(0.0..=1.0).contains(&e.severity) {
            bail!("{which}: severity {} is outside 0–1", e.severity);
        }
        let span = |v: &Option<String>, field: &str, default: i64| -> anyhow::Result<i64> {
            match v {
                None => Ok(default),
                Some(s) => {
                    parse_duration_ms(s).map_err(|err| anyhow::anyhow!("{which}: {field}: {err}"))
                }
            }
        };
        let kind = e.scenario;
        let plan = Plan {
            kind,
            severity: e.severity,
            onset_ms: span(&e.over, "over", kind.default_onset_ms())?,
            hold_ms: match &e.treated_after {
                None => None,
                Some(_) => Some(span(&e.treated_after, "treated_after", 0)?),
            },
            recover_ms: span(&e.recover_over, "recover_over", kind.default_recover_ms())?,
            hypothermic: e.hypothermic,
        };
        out.push(Scripted {
            at_ms,
            patient,
            plan,
        });
    }
    out.sort_by_key(|s| s.at_ms);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_reads_offsets_absolute_times_and_defaults() {
        let start = Timestamp::parse("2026-11-28T00:00:00.000Z").unwrap();
        let s = parse_script(
            r#"{"events":[
                {"at":"01:00","patient":"PT-1001","scenario":"hypoxia","severity":1,"over":"4m","treated_after":"10m"},
                {"at":"00:10","patient":"PT-1003","scenario":"sepsis","severity":0.8,"over":"3h"},
                {"at":"2026-11-28T00:05:00Z","patient":"PT-1000","scenario":"fever"}
            ]}"#,
            start,
            10,
        )
        .unwrap();
        assert_eq!(s.iter().map(|e| e.patient).collect::<Vec<_>>(), [0, 3, 1]);
        assert_eq!(s[1].at_ms - start.millis(), 600_000);
        assert_eq!(s[1].plan.onset_ms, 3 * 3_600_000);
        assert_eq!(s[1].plan.hold_ms, None);
        assert_eq!(s[0].plan.severity, 0.7);
        assert_eq!(s[2].plan.hold_ms, Some(600_000));
    }

    #[test]
    fn script_errors_name_the_event() {
        let start = Timestamp::from_millis(0);
        let e = parse_script(
            r#"[{"at":"00:10","patient":"PT-1010","scenario":"sepsis"}]"#,
            start,
            10,
        )
        .unwrap_err();
        assert!(
            format!("{e:#}").contains("event 1 (PT-1010 sepsis)"),
            "{e:#}"
        );
        assert!(
            parse_script(
                r#"[{"at":"00:10","patient":"PT-1000","scenario":"flu"}]"#,
                start,
                10
            )
            .is_err()
        );
    }
}

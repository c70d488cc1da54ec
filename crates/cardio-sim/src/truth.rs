//! The ground truth (`--truth FILE`, format in docs/truth-format.md): one line per patient admission,
//! scenario, artifact or spontaneous event start, phase change and end, so an alerting system can be scored against
//! what really happened. The truth never enters the vitals stream.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::Serialize;
use serde_json::Value;
use vitals_core::Timestamp;

use crate::output::{device_id, patient_id};

/// What a truth line reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Event {
    /// A patient joins the ward (one per patient at the first reading): age, sex, profile.
    Admit,
    Start,
    Phase,
    End,
}

/// Clinical deterioration or a device/network fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Category {
    Patient,
    Scenario,
    Artifact,
    /// Real physiology that is not a deterioration (crate::spontaneous).
    Spontaneous,
}

/// One line of the truth file.
#[derive(Debug, Clone, PartialEq)]
pub struct TruthEvent {
    pub ts: Timestamp,
    pub event: Event,
    pub category: Category,
    pub name: &'static str,
    /// Episode number; the id is `S-0001` for scenarios, `A-0001` for artifacts, `E-0001` for
    /// spontaneous events, `P-<patient>` for admissions.
    pub episode: u32,
    pub patient: u32,
    pub phase: Option<&'static str>,
    pub severity: Option<f64>,
    pub detail: Option<Value>,
}

#[derive(Serialize)]
struct Line<'a> {
    #[serde(rename = "type")]
    record_type: &'static str,
    ts: Timestamp,
    event: Event,
    category: Category,
    name: &'a str,
    episode_id: String,
    patient_id: String,
    device_id: String,
    phase: Option<&'a str>,
    severity: Option<f64>,
    detail: Option<&'a Value>,
}

impl TruthEvent {
    pub fn episode_id(&self) -> String {
        match self.category {
            Category::Scenario => format!("S-{:04}", self.episode),
            Category::Artifact => format!("A-{:04}", self.episode),
            Category::Spontaneous => format!("E-{:04}", self.episode),
            Category::Patient => format!("P-{}", 1000 + u64::from(self.patient)),
        }
    }

    /// The JSON line, without the line end.
    pub fn to_line(&self) -> String {
        let line = Line {
            record_type: "truth",
            ts: self.ts,
            event: self.event,
            category: self.category,
            name: self.name,
            episode_id: self.episode_id(),
            patient_id: patient_id(self.patient),
            device_id: device_id(self.patient),
            phase: self.phase,
            // Two decimals are all a script or a draw means.
            severity: self.severity.map(|s| (s * 100.0).round() / 100.0),
            detail: self.detail.as_ref(),
        };
        serde_json::to_string(&line).expect("truth line serialises")
    }
}

/// Writes truth lines to a file, or discards them when there is no `--truth`.
#[derive(Debug)]
pub struct TruthWriter {
    out: Option<(BufWriter<File>, PathBuf)>,
    written: u64,
}

impl TruthWriter {
    pub fn discard() -> Self {
        TruthWriter {
            out: None,
            written: 0,
        }
    }

    pub fn create(path: &Path) -> anyhow::Result<Self> {
        let file = File::create(path)
            .with_context(|| format!("cannot create truth file {}", path.display()))?;
        Ok(TruthWriter {
            out: Some((BufWriter::with_capacity(1 << 16, file), path.to_owned())),
            written: 0,
        })
    }

    pub fn is_enabled(&self) -> bool {
        self.out.is_some()
    }

    pub fn write(&mut self, e: &TruthEvent) -> anyhow::Result<()> {
        if let Some((w, path)) = &mut self.out {
            let mut line = e.to_line();
            line.push('\n');
            w.write_all(line.as_bytes())
                .with_context(|| format!("cannot write truth file {}", path.display()))?;
            self.written += 1;
        }
        Ok(())
    }

    pub fn flush(&mut self) -> anyhow::Result<()> {
        if let Some((w, path)) = &mut self.out {
            w.flush()
                .with_context(|| format!("cannot write truth file {}", path.display()))?;
        }
        Ok(())
    }

    pub fn written(&self) -> u64 {
        self.written
    }

    /// Ends the file: flushes and syncs it, so a scorer started after the simulator sees all of it.
    pub fn finish(&mut self) -> anyhow::Result<()> {
        self.flush()?;
        if let Some((w, path)) = &mut self.out {
            w.get_ref()
                .sync_all()
                .or_else(|e| {
                    if e.kind() == io::ErrorKind::InvalidInput {
                        Ok(())
                    } else {
                        Err(e)
                    }
                })
                .with_context(|| format!("cannot sync truth file {}", path.display()))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_matches_the_documented_example() {
        let e = TruthEvent {
            ts: Timestamp::parse("2026-11-28T00:10:00.000Z").unwrap(),
            event: Event::Start,
            category: Category::Scenario,
            name: "sepsis",
            episode: 1,
            patient: 3,
            phase: Some("onset"),
            severity: Some(0.8),
            detail: Some(serde_json::json!({"duration_s": 10800})),
        };
        assert_eq!(
            e.to_line(),
            r#"{"type":"truth","ts":"2026-11-28T00:10:00.000Z","event":"start","category":"scenario","name":"sepsis","episode_id":"S-0001","patient_id":"PT-1003","device_id":"D-004","phase":"onset","severity":0.8,"detail":{"duration_s":10800}}"#
        );
    }
}

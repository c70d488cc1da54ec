//! What the evaluation reads: cardio-sim's truth file (docs/truth-format.md), as the episodes it
//! scripted, and the alert records of a cardio-alert output.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::Path;

use anyhow::Context;
use serde::Deserialize;
use vitals_core::{Alert, Timestamp};

#[derive(Debug, Deserialize)]
struct TruthLine {
    ts: Timestamp,
    event: String,
    category: String,
    name: String,
    episode_id: String,
    patient_id: String,
    #[serde(default)]
    severity: Option<f64>,
    #[serde(default)]
    detail: Option<serde_json::Value>,
}

/// One scripted deterioration (or artifact) episode.
#[derive(Debug, Clone)]
pub struct Episode {
    pub name: String,
    pub patient_id: String,
    pub start: i64,
    pub end: Option<i64>,
    pub severity: Option<f64>,
    /// Planned time from first sign to the peak (the truth's `detail.onset_s`).
    pub onset_ms: Option<i64>,
}

/// What the truth file says happened.
#[derive(Debug, Default)]
pub struct Truth {
    pub scenarios: Vec<Episode>,
    pub artifacts: Vec<Episode>,
    pub patients: usize,
    /// Each admitted patient's chronic profile (`general`, `athlete`, …: the admission's `name`).
    pub profiles: HashMap<String, String>,
    pub first_ts: i64,
    pub last_ts: i64,
}

impl Truth {
    pub fn read(path: &Path) -> anyhow::Result<Self> {
        let f = std::fs::File::open(path)
            .with_context(|| format!("cannot open truth file {}", path.display()))?;
        Self::from_reader(BufReader::new(f))
            .with_context(|| format!("truth file {}", path.display()))
    }

    pub fn from_reader<R: BufRead>(r: R) -> anyhow::Result<Self> {
        let mut t = Truth {
            first_ts: i64::MAX,
            last_ts: i64::MIN,
            ..Truth::default()
        };
        let mut open: HashMap<String, (bool, usize)> = HashMap::new();
        for (i, line) in r.lines().enumerate() {
            let line = line?;
            if line.trim().is_empty() {
                continue;
            }
            let l: TruthLine =
                serde_json::from_str(&line).with_context(|| format!("line {}", i + 1))?;
            let ts = l.ts.millis();
            t.first_ts = t.first_ts.min(ts);
            t.last_ts = t.last_ts.max(ts);
            let scenario = l.category == "scenario";
            match (l.event.as_str(), l.category.as_str()) {
                ("admit", _) => {
                    t.patients += 1;
                    t.profiles.insert(l.patient_id, l.name);
                }
                ("start", "scenario" | "artifact") => {
                    let list = if scenario {
                        &mut t.scenarios
                    } else {
                        &mut t.artifacts
                    };
                    open.insert(l.episode_id.clone(), (scenario, list.len()));
                    list.push(Episode {
                        name: l.name,
                        patient_id: l.patient_id,
                        start: ts,
                        end: None,
                        severity: l.severity,
                        onset_ms: l
                            .detail
                            .as_ref()
                            .and_then(|d| d.get("onset_s"))
                            .and_then(serde_json::Value::as_f64)
                            .map(|s| (s * 1000.0) as i64),
                    });
                }
                ("end", _) => {
                    if let Some((scenario, i)) = open.remove(&l.episode_id) {
                        let list = if scenario {
                            &mut t.scenarios
                        } else {
                            &mut t.artifacts
                        };
                        list[i].end = Some(ts);
                    }
                }
                _ => {}
            }
        }
        if t.patients == 0 {
            t.patients = t
                .scenarios
                .iter()
                .chain(&t.artifacts)
                .map(|e| e.patient_id.as_str())
                .collect::<std::collections::HashSet<_>>()
                .len();
        }
        Ok(t)
    }
}

/// Reads the alert records of a cardio-alert output (other lines are skipped unparsed).
pub fn read_alerts<R: BufRead>(mut r: R) -> anyhow::Result<Vec<Alert>> {
    let mut out = Vec::new();
    let mut buf = Vec::new();
    let mut n = 0u64;
    loop {
        buf.clear();
        if r.read_until(b'\n', &mut buf)? == 0 {
            break;
        }
        n += 1;
        if !buf.starts_with(b"{\"type\":\"alert\"") {
            continue;
        }
        let a: Alert =
            serde_json::from_slice(&buf).with_context(|| format!("alert on line {n}"))?;
        out.push(a);
    }
    Ok(out)
}

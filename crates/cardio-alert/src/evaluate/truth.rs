//! What the evaluation reads: cardio-sim's truth file (docs/truth-format.md), as the episodes it
//! scripted or labelled, and the alert records of a cardio-alert output.

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

/// One episode of the truth file: a scripted deterioration (category `scenario`), a labelled
/// spontaneous event (`spontaneous`) or a device artifact (`artifact`).
#[derive(Debug, Clone)]
pub struct Episode {
    pub name: String,
    pub patient_id: String,
    pub start: i64,
    /// The `end` line's time; `None` when the simulator stopped first (or never ends it).
    pub end: Option<i64>,
    pub severity: Option<f64>,
    /// Planned time from first sign to the peak (the truth's `detail.onset_s`).
    pub onset_ms: Option<i64>,
    /// The planned length from start to end, as far as the `start` line says it: onset, time at
    /// the peak and recovery of a scenario that will be treated (`onset_s + treated_after_s +
    /// recover_s`), or the `duration_s` of a spontaneous event or an artifact. `None` for a
    /// scenario never treated within the run.
    pub planned_ms: Option<i64>,
}

impl Episode {
    /// Where the episode stops absorbing alarms: its `end` line; without one (the run stopped, or
    /// the episode is never treated), its planned end, or `untreated_cap_ms` after the peak when
    /// nothing says when it would end.
    pub fn capped_end(&self, untreated_cap_ms: i64) -> i64 {
        self.end.unwrap_or_else(|| {
            self.start
                + self
                    .planned_ms
                    .unwrap_or(self.onset_ms.unwrap_or(0) + untreated_cap_ms)
        })
    }
}

/// What the truth file says happened.
#[derive(Debug, Default)]
pub struct Truth {
    pub scenarios: Vec<Episode>,
    pub spontaneous: Vec<Episode>,
    pub artifacts: Vec<Episode>,
    pub patients: usize,
    /// Each admitted patient's chronic profile (`general`, `athlete`, …: the admission's `name`).
    pub profiles: HashMap<String, String>,
    /// Each admitted patient's admission time.
    pub admitted: HashMap<String, i64>,
    /// The units named by the admissions' `detail.unit`, in first-seen order (none before
    /// cardio-sim had `--unit`).
    pub units: Vec<String>,
    pub first_ts: i64,
    pub last_ts: i64,
}

fn detail_ms(detail: Option<&serde_json::Value>, field: &str) -> Option<i64> {
    detail
        .and_then(|d| d.get(field))
        .and_then(serde_json::Value::as_f64)
        .map(|s| (s * 1000.0).round() as i64)
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
        // episode_id → (category, index in its list)
        let mut open: HashMap<String, (String, usize)> = HashMap::new();
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
            let detail = l.detail.as_ref();
            match l.event.as_str() {
                "admit" => {
                    t.patients += 1;
                    if let Some(unit) = detail.and_then(|d| d.get("unit")).and_then(|u| u.as_str())
                        && !t.units.iter().any(|u| u == unit)
                    {
                        t.units.push(unit.to_owned());
                    }
                    t.admitted.insert(l.patient_id.clone(), ts);
                    t.profiles.insert(l.patient_id, l.name);
                }
                "start" => {
                    let planned_ms = match l.category.as_str() {
                        "scenario" => detail_ms(detail, "treated_after_s").map(|hold| {
                            hold + detail_ms(detail, "onset_s").unwrap_or(0)
                                + detail_ms(detail, "recover_s").unwrap_or(0)
                        }),
                        _ => detail_ms(detail, "duration_s"),
                    };
                    let episode = Episode {
                        name: l.name,
                        patient_id: l.patient_id,
                        start: ts,
                        end: None,
                        severity: l.severity,
                        onset_ms: detail_ms(detail, "onset_s"),
                        planned_ms,
                    };
                    let Some(list) = t.list_mut(&l.category) else {
                        continue;
                    };
                    open.insert(l.episode_id, (l.category, list.len()));
                    list.push(episode);
                }
                "end" => {
                    if let Some((category, i)) = open.remove(&l.episode_id)
                        && let Some(list) = t.list_mut(&category)
                    {
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
                .chain(&t.spontaneous)
                .chain(&t.artifacts)
                .map(|e| e.patient_id.as_str())
                .collect::<std::collections::HashSet<_>>()
                .len();
        }
        Ok(t)
    }

    fn list_mut(&mut self, category: &str) -> Option<&mut Vec<Episode>> {
        match category {
            "scenario" => Some(&mut self.scenarios),
            "spontaneous" => Some(&mut self.spontaneous),
            "artifact" => Some(&mut self.artifacts),
            _ => None,
        }
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

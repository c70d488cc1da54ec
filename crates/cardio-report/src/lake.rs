//! Reading the data lake (docs/spec.md §2): only published `*.jsonl` files under `vitals/`,
//! `alerts/`, `admission/` and `settings/`, never a hidden in-progress `.part-….jsonl.tmp` file nor
//! anything under a name that starts with `.` or `_` (such as `_rejected/`). Those layout rules are
//! `vitals_core::lake`'s; this module turns the files' lines into the report's readings, alerts,
//! admissions and settings.

use std::borrow::Cow;
use std::path::Path;

use anyhow::{Context, Result};
use serde::Deserialize;
use vitals_core::lake::{Table, partition_day, published_files};
use vitals_core::{Admission, Alert, Settings, Timestamp};

use crate::model::{Filter, Reading};

/// What a vitals line carries that the report uses; ids are borrowed from the line when they hold
/// no escapes.
#[derive(Deserialize)]
struct VitalsLine<'a> {
    #[serde(rename = "type", borrow)]
    record_type: Cow<'a, str>,
    #[serde(borrow)]
    ts: Cow<'a, str>,
    #[serde(borrow)]
    patient_id: Cow<'a, str>,
    #[serde(borrow)]
    device_id: Cow<'a, str>,
    seq: u64,
    heart_rate_bpm: Option<f64>,
    spo2_pct: Option<f64>,
    respiratory_rate_bpm: Option<f64>,
    temperature_c: Option<f64>,
    systolic_mmhg: Option<f64>,
    diastolic_mmhg: Option<f64>,
    #[serde(default)]
    on_oxygen: bool,
    #[serde(default, borrow)]
    consciousness: Option<Cow<'a, str>>,
    battery_pct: Option<f64>,
    #[serde(default)]
    news2: Option<u8>,
    #[serde(default, borrow)]
    news2_risk: Option<Cow<'a, str>>,
}

/// Only the type, to tell an object of another type (passed over) from a bad line.
#[derive(Deserialize)]
struct TypeOnly<'a> {
    #[serde(rename = "type", borrow)]
    record_type: Cow<'a, str>,
}

/// The readings of one device on one patient, from one file.
#[derive(Debug)]
pub struct SeriesPart {
    pub patient: String,
    pub device: String,
    pub readings: Vec<Reading>,
}

/// Everything read from one file.
#[derive(Debug, Default)]
pub struct FileContents {
    pub series: Vec<SeriesPart>,
    pub alerts: Vec<Alert>,
    pub admissions: Vec<Admission>,
    pub settings: Vec<Settings>,
    /// Lines that were not a record of the folder's type, with the first reason seen.
    pub bad_lines: u64,
    pub first_bad: Option<String>,
}

/// Which folder a file came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Folder {
    Vitals,
    Alerts,
    Admission,
    Settings,
}

/// Reads one published file, keeping the records the filter accepts.
pub fn read_file(path: &Path, folder: Folder, filter: &Filter) -> Result<FileContents> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut out = FileContents::default();
    // "patient\0device" → index in out.series; the key buffer is reused so a lookup allocates nothing.
    let mut index: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    let mut key = String::new();
    // One UTF-8 check for the whole file lets serde parse from `&str` without re-checking every
    // string; a file with a bad byte falls back to a check per line, and only that line is bad.
    let whole = std::str::from_utf8(&bytes).ok();
    let mut text_lines = whole.map(|t| t.split('\n'));
    let mut byte_lines = whole.is_none().then(|| bytes.split(|&b| b == b'\n'));
    let mut next_line = move || -> Option<Result<&str, String>> {
        match (&mut text_lines, &mut byte_lines) {
            (Some(it), _) => it.next().map(Ok),
            (None, Some(it)) => it
                .next()
                .map(|l| std::str::from_utf8(l).map_err(|e| format!("not valid UTF-8: {e}"))),
            (None, None) => None,
        }
    };
    let mut i = 0;
    while let Some(line) = next_line() {
        i += 1;
        let outcome = line.and_then(|line| {
            let line = line.strip_suffix('\r').unwrap_or(line);
            let line = if i == 1 {
                line.strip_prefix('\u{FEFF}').unwrap_or(line)
            } else {
                line
            };
            if line.trim().is_empty() {
                return Ok(());
            }
            match folder {
                Folder::Vitals => parse_vitals(line, filter).map(|r| {
                    if let Some((patient, device, reading)) = r {
                        key.clear();
                        key.push_str(&patient);
                        key.push('\0');
                        key.push_str(&device);
                        let at = match index.get(key.as_str()) {
                            Some(&at) => at,
                            None => {
                                out.series.push(SeriesPart {
                                    patient: patient.into_owned(),
                                    device: device.into_owned(),
                                    readings: Vec::new(),
                                });
                                index.insert(key.clone(), out.series.len() - 1);
                                out.series.len() - 1
                            }
                        };
                        out.series[at].readings.push(reading);
                    }
                }),
                Folder::Alerts => parse_alert(line, filter).map(|a| {
                    if let Some(a) = a {
                        out.alerts.push(a);
                    }
                }),
                Folder::Admission => parse_of_type::<Admission>(line, "admission").map(|a| {
                    // Who the patient is holds for the whole stay: an admission before --from
                    // still describes the patients shown; one from --to on is not in the period.
                    if let Some(a) = a.filter(|a| {
                        filter.accepts_patient(&a.patient_id)
                            && filter.to.is_none_or(|to| a.ts.millis() < to)
                    }) {
                        out.admissions.push(a);
                    }
                }),
                Folder::Settings => parse_of_type::<Settings>(line, "settings").map(|s| {
                    // Settings stay in force until replaced, so those before --from count; those
                    // from --to on are not in force in the period.
                    if let Some(s) = s.filter(|s| {
                        filter.accepts_patient(&s.patient_id)
                            && filter.to.is_none_or(|to| s.ts.millis() < to)
                    }) {
                        out.settings.push(s);
                    }
                }),
            }
        });
        if let Err(reason) = outcome {
            out.bad_lines += 1;
            if out.first_bad.is_none() {
                out.first_bad = Some(format!("{}:{i}: {reason}", path.display()));
            }
        }
    }
    Ok(out)
}

/// `Ok(None)`: a valid line the report does not use (another type, or outside the filter).
type VitalsParts<'a> = (Cow<'a, str>, Cow<'a, str>, Reading);

fn parse_vitals<'a>(line: &'a str, filter: &Filter) -> Result<Option<VitalsParts<'a>>, String> {
    let v: VitalsLine<'a> = match serde_json::from_str(line) {
        Ok(v) => v,
        Err(e) => {
            return match serde_json::from_str::<TypeOnly>(line) {
                Ok(t) if t.record_type != "vitals" => Ok(None),
                _ => Err(e.to_string()),
            };
        }
    };
    if v.record_type != "vitals" {
        return Ok(None);
    }
    if !filter.accepts_patient(&v.patient_id) {
        return Ok(None);
    }
    let ts = Timestamp::parse(&v.ts).map_err(|e| e.to_string())?;
    if !filter.accepts_time(ts.millis()) {
        return Ok(None);
    }
    let reading = Reading {
        ts: ts.millis(),
        seq: v.seq,
        values: [
            v.heart_rate_bpm.map_or(f32::NAN, narrow),
            v.spo2_pct.map_or(f32::NAN, narrow),
            v.respiratory_rate_bpm.map_or(f32::NAN, narrow),
            v.temperature_c.map_or(f32::NAN, narrow),
            v.systolic_mmhg.map_or(f32::NAN, narrow),
            v.diastolic_mmhg.map_or(f32::NAN, narrow),
            v.news2.map_or(f32::NAN, f32::from),
        ],
        battery: v.battery_pct.map_or(f32::NAN, narrow),
        risk: v.news2_risk.as_deref().map_or(0, risk_code),
        on_oxygen: v.on_oxygen,
        consciousness: v
            .consciousness
            .as_deref()
            .and_then(|c| c.bytes().next())
            .unwrap_or(b'A'),
    };
    Ok(Some((v.patient_id, v.device_id, reading)))
}

/// A reading's value as the report keeps it. Read as f64 first: serde refuses a number beyond
/// f32's range outright, and such a value (1e39) is still a valid record of the lake; as an f32 it
/// is infinite, which the charts draw at their edge.
fn narrow(v: f64) -> f32 {
    v as f32
}

/// 0 unknown, 1 low, 2 low-medium, 3 medium, 4 high.
fn risk_code(risk: &str) -> u8 {
    match risk {
        "low" => 1,
        "low-medium" => 2,
        "medium" => 3,
        "high" => 4,
        _ => 0,
    }
}

fn parse_alert(line: &str, filter: &Filter) -> Result<Option<Alert>, String> {
    let t: TypeOnly = serde_json::from_str(line).map_err(|e| e.to_string())?;
    if t.record_type != "alert" {
        return Ok(None);
    }
    let a: Alert = serde_json::from_str(line).map_err(|e| e.to_string())?;
    if !filter.accepts_patient(&a.patient_id) || !filter.accepts_time(a.ts.millis()) {
        return Ok(None);
    }
    Ok(Some(a))
}

/// A line of `record_type`, checked as vitals-core checks it; `Ok(None)` for a valid object of
/// another type.
fn parse_of_type<T: serde::de::DeserializeOwned>(
    line: &str,
    record_type: &str,
) -> Result<Option<T>, String> {
    let t: TypeOnly = serde_json::from_str(line).map_err(|e| e.to_string())?;
    if t.record_type != record_type {
        return Ok(None);
    }
    serde_json::from_str(line)
        .map(Some)
        .map_err(|e| e.to_string())
}

/// All published files of a lake, read on the available cores, merged in path order.
#[derive(Debug, Default)]
pub struct LakeContents {
    pub files: usize,
    pub contents: Vec<FileContents>,
}

/// Reads `<lake>/vitals` and `<lake>/alerts`, skipping whole day partitions outside the filter,
/// and every day of `<lake>/admission` and `<lake>/settings` (what holds in the period may have
/// been recorded before it). A lake written before these two existed simply has no such folder.
pub fn read_lake(lake: &Path, filter: &Filter) -> Result<LakeContents> {
    if !lake.is_dir() {
        anyhow::bail!(
            "{} is not a folder (expected a lake with vitals/ and alerts/)",
            lake.display()
        );
    }
    let mut jobs = Vec::new();
    for (table, folder) in [
        (Table::Vitals, Folder::Vitals),
        (Table::Alerts, Folder::Alerts),
        (Table::Admission, Folder::Admission),
        (Table::Settings, Folder::Settings),
    ] {
        let by_day = matches!(folder, Folder::Vitals | Folder::Alerts);
        for file in published_files(&lake.join(table.dir_name()))? {
            if !by_day || partition_day(&file).is_none_or(|day| filter.accepts_day(day)) {
                jobs.push((file, folder));
            }
        }
    }
    // Bigger files first, so the threads finish together.
    let mut order: Vec<usize> = (0..jobs.len()).collect();
    let sizes: Vec<u64> = jobs
        .iter()
        .map(|(p, _)| std::fs::metadata(p).map_or(0, |m| m.len()))
        .collect();
    order.sort_by_key(|&i| std::cmp::Reverse(sizes[i]));

    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(jobs.len().max(1));
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut results: Vec<Option<Result<FileContents>>> = (0..jobs.len()).map(|_| None).collect();
    let slots = std::sync::Mutex::new(&mut results);
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                loop {
                    let k = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(&i) = order.get(k) else { break };
                    let (path, folder) = &jobs[i];
                    let r = read_file(path, *folder, filter);
                    slots.lock().unwrap()[i] = Some(r);
                }
            });
        }
    });
    let contents = results
        .into_iter()
        .map(|r| r.expect("every job ran"))
        .collect::<Result<Vec<_>>>()?;
    Ok(LakeContents {
        files: jobs.len(),
        contents,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_vitals_line_becomes_a_reading_and_other_types_pass() {
        let f = Filter::default();
        let line = r#"{"type":"vitals","ts":"2026-11-28T05:40:01.000Z","patient_id":"PT-1000","device_id":"D-001","seq":7,"heart_rate_bpm":72,"spo2_pct":null,"respiratory_rate_bpm":16,"temperature_c":36.8,"systolic_mmhg":null,"diastolic_mmhg":null,"battery_pct":88,"news2":null,"news2_risk":null}"#;
        let (p, d, r) = parse_vitals(line, &f).unwrap().unwrap();
        assert_eq!((&*p, &*d, r.seq), ("PT-1000", "D-001", 7));
        assert_eq!(r.values[0], 72.0);
        assert!(r.values[1].is_nan());
        assert_eq!(r.consciousness, b'A');
        assert!(
            parse_vitals(r#"{"type":"future","x":1}"#, &f)
                .unwrap()
                .is_none()
        );
        assert!(parse_vitals("{not json", &f).is_err());
        assert!(parse_vitals(r#"{"type":"vitals","ts":"x"}"#, &f).is_err());
    }
}

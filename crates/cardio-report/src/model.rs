//! The ward as the report shows it: patients with their readings and latest values, who they are
//! and the alarm limits in force for them, devices with battery and lost readings, alert
//! episodes. Built once from what `lake` read.

use std::collections::{BTreeMap, HashMap};

use vitals_core::{Admission, Alert, AlertState, Priority, Settings, Vital};

use crate::lake::LakeContents;

/// The charted quantities, in the order of `Reading::values`.
pub const HR: usize = 0;
pub const SPO2: usize = 1;
pub const RR: usize = 2;
pub const TEMP: usize = 3;
pub const SBP: usize = 4;
pub const DBP: usize = 5;
pub const NEWS2: usize = 6;
pub const QUANTITIES: usize = 7;

/// One vitals record, compact: `NaN` stands for null.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Reading {
    /// Event time, ms since the Unix epoch.
    pub ts: i64,
    pub seq: u64,
    /// HR, SpO2, RR, temperature, systolic, diastolic, NEWS2 (see the index constants).
    pub values: [f32; QUANTITIES],
    pub battery: f32,
    /// NEWS2 risk band: 0 unknown, 1 low, 2 low-medium, 3 medium, 4 high.
    pub risk: u8,
    pub on_oxygen: bool,
    /// ACVPU letter as an ASCII byte.
    pub consciousness: u8,
}

/// What `--patient`, `--from` and `--to` keep. Times are ms since the epoch; `to` is exclusive.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub patients: Vec<String>,
    pub from: Option<i64>,
    pub to: Option<i64>,
}

const DAY_MS: i64 = 86_400_000;

impl Filter {
    pub fn accepts_patient(&self, id: &str) -> bool {
        self.patients.is_empty() || self.patients.iter().any(|p| p == id)
    }

    pub fn accepts_time(&self, ts: i64) -> bool {
        self.from.is_none_or(|f| ts >= f) && self.to.is_none_or(|t| ts < t)
    }

    /// True when the UTC day (days since the epoch) overlaps the window.
    pub fn accepts_day(&self, day: i64) -> bool {
        let (start, end) = (day * DAY_MS, (day + 1) * DAY_MS);
        self.from.is_none_or(|f| end > f) && self.to.is_none_or(|t| start < t)
    }
}

/// Latest non-null value of one quantity and when it was measured.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Latest {
    pub ts: i64,
    pub value: f32,
}

#[derive(Debug)]
pub struct Patient {
    pub id: String,
    pub devices: Vec<String>,
    /// Sorted by event time.
    pub readings: Vec<Reading>,
    pub latest: [Option<Latest>; QUANTITIES],
    /// Risk band of the latest reading that has one (0 when none has).
    pub latest_risk: u8,
    pub last_seen: i64,
    pub on_oxygen: bool,
    pub consciousness: u8,
    /// Alarm episodes raised, by priority low, medium, high.
    pub raised: [u32; 3],
    /// The patient's latest `admission` record, if the lake has one.
    pub admission: Option<Admission>,
    /// The alarm settings in force at the end of the period: the latest `settings` record.
    pub settings: Option<Settings>,
}

impl Patient {
    /// Alarm episodes raised in the period, all priorities.
    pub fn alarms(&self) -> u32 {
        self.raised.iter().sum()
    }
}

/// Order of a patient's settings records: by event time, then by the `n` of `settings_id`
/// (`<patient_id>/<n>`, counting in stream order), so the last is the one in force.
fn settings_order(s: &Settings) -> (i64, u64) {
    let n = s
        .settings_id
        .rsplit('/')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    (s.ts.millis(), n)
}

#[derive(Debug)]
pub struct Device {
    pub id: String,
    pub patients: Vec<String>,
    pub readings: u64,
    pub first_seen: i64,
    pub last_seen: i64,
    /// Readings lost upstream: the sum of the holes in the device's `seq` counter.
    pub lost: u64,
    /// Number of holes, and the longest one (in readings).
    pub gaps: u64,
    pub largest_gap: u64,
    pub latest_battery: Option<f32>,
    pub min_battery: Option<f32>,
    /// (time, battery %) of every reading that reported a battery level, by time.
    pub battery: Vec<(i64, f32)>,
    /// `device_silent` episodes raised for this device.
    pub silent_episodes: u32,
}

/// One alarm condition from raise to clear (docs/spec.md §3.2: one raise, escalations, one clear).
#[derive(Debug, Clone)]
pub struct Episode {
    pub alert_id: String,
    pub patient: String,
    pub device: String,
    pub rule: String,
    pub technical: bool,
    /// Highest priority reached.
    pub priority: Priority,
    pub vital: Option<Vital>,
    pub start: i64,
    pub end: Option<i64>,
    /// False when the raise lies before the report window (only a later event was read).
    pub raise_seen: bool,
    pub message: String,
}

#[derive(Debug, Default)]
pub struct Ward {
    pub patients: Vec<Patient>,
    pub devices: Vec<Device>,
    /// Every alert event, by time.
    pub alerts: Vec<Alert>,
    pub episodes: Vec<Episode>,
    /// Time span of the data shown (ms), `None` for an empty lake.
    pub span: Option<(i64, i64)>,
    pub files: usize,
    pub records: u64,
    pub bad_lines: u64,
    pub first_bad: Option<String>,
}

/// (seq, event time, battery %) of one reading of a device.
type SeqSample = (u64, i64, f32);

pub fn priority_index(p: Priority) -> usize {
    match p {
        Priority::Low => 0,
        Priority::Medium => 1,
        Priority::High => 2,
    }
}

impl Ward {
    /// Merges what was read from all files.
    pub fn build(lake: LakeContents) -> Ward {
        let mut ward = Ward {
            files: lake.files,
            ..Ward::default()
        };
        let mut patients: BTreeMap<String, Vec<Reading>> = BTreeMap::new();
        let mut patient_devices: HashMap<String, Vec<String>> = HashMap::new();
        let mut devices: BTreeMap<String, (Vec<String>, Vec<SeqSample>)> = BTreeMap::new();
        let mut admissions: HashMap<String, Admission> = HashMap::new();
        let mut settings: HashMap<String, Settings> = HashMap::new();
        for file in lake.contents {
            ward.bad_lines += file.bad_lines;
            if ward.first_bad.is_none() {
                ward.first_bad = file.first_bad;
            }
            ward.alerts.extend(file.alerts);
            for a in file.admissions {
                match admissions.get(&a.patient_id) {
                    Some(known) if known.ts >= a.ts => {}
                    _ => {
                        admissions.insert(a.patient_id.clone(), a);
                    }
                }
            }
            for s in file.settings {
                match settings.get(&s.patient_id) {
                    Some(known) if settings_order(known) >= settings_order(&s) => {}
                    _ => {
                        settings.insert(s.patient_id.clone(), s);
                    }
                }
            }
            for part in file.series {
                ward.records += part.readings.len() as u64;
                let d = devices.entry(part.device.clone()).or_default();
                if !d.0.contains(&part.patient) {
                    d.0.push(part.patient.clone());
                }
                d.1.extend(part.readings.iter().map(|r| (r.seq, r.ts, r.battery)));
                let pd = patient_devices.entry(part.patient.clone()).or_default();
                if !pd.contains(&part.device) {
                    pd.push(part.device);
                }
                patients
                    .entry(part.patient)
                    .or_default()
                    .extend(part.readings);
            }
        }
        ward.alerts.sort_by_key(|a| a.ts);
        ward.episodes = episodes(&ward.alerts);

        for (id, mut readings) in patients {
            // Files arrive in order of time within a device; a stable sort merges those runs fast.
            readings.sort_by_key(|r| r.ts);
            let mut devices = patient_devices.remove(&id).unwrap_or_default();
            devices.sort();
            ward.patients.push(patient(id, devices, readings));
        }
        // Patients known only from alerts, an admission or settings still get a row.
        let mut index: HashMap<String, usize> = ward
            .patients
            .iter()
            .enumerate()
            .map(|(i, p)| (p.id.clone(), i))
            .collect();
        let known_elsewhere = ward
            .alerts
            .iter()
            .map(|a| (&a.patient_id, &a.device_id))
            .chain(admissions.values().map(|a| (&a.patient_id, &a.device_id)))
            .chain(settings.values().map(|s| (&s.patient_id, &s.device_id)));
        let mut extra = Vec::new();
        for (id, device) in known_elsewhere {
            if !index.contains_key(id) {
                index.insert(id.clone(), ward.patients.len() + extra.len());
                extra.push(patient(id.clone(), vec![device.clone()], Vec::new()));
            }
        }
        ward.patients.extend(extra);
        for p in &mut ward.patients {
            p.admission = admissions.remove(&p.id);
            p.settings = settings.remove(&p.id);
        }
        ward.patients.sort_by(|a, b| a.id.cmp(&b.id));
        let index: HashMap<&str, usize> = ward
            .patients
            .iter()
            .enumerate()
            .map(|(i, p)| (p.id.as_str(), i))
            .collect();
        let mut raised = vec![[0u32; 3]; ward.patients.len()];
        let mut silent: HashMap<&str, u32> = HashMap::new();
        for e in ward.episodes.iter().filter(|e| e.raise_seen) {
            raised[index[e.patient.as_str()]][priority_index(e.priority)] += 1;
            if e.rule == "device_silent" {
                *silent.entry(e.device.as_str()).or_default() += 1;
            }
        }
        drop(index);
        for (p, r) in ward.patients.iter_mut().zip(raised) {
            p.raised = r;
        }
        for (id, (patients, samples)) in devices {
            let silent = silent.get(id.as_str()).copied().unwrap_or(0);
            ward.devices.push(device(id, patients, samples, silent));
        }
        let first = ward
            .patients
            .iter()
            .filter_map(|p| p.readings.first().map(|r| r.ts))
            .chain(ward.alerts.first().map(|a| a.ts.millis()))
            .min();
        let last = ward
            .patients
            .iter()
            .filter_map(|p| p.readings.last().map(|r| r.ts))
            .chain(ward.alerts.last().map(|a| a.ts.millis()))
            .max();
        ward.span = first.zip(last);
        ward
    }

    /// Patients sickest first: risk band, then latest NEWS2, then id.
    pub fn patients_by_acuity(&self) -> Vec<&Patient> {
        let mut v: Vec<&Patient> = self.patients.iter().collect();
        v.sort_by(|a, b| {
            let news = |p: &Patient| p.latest[NEWS2].map_or(-1.0, |l| l.value);
            b.latest_risk
                .cmp(&a.latest_risk)
                .then(news(b).total_cmp(&news(a)))
                .then(a.id.cmp(&b.id))
        });
        v
    }
}

fn patient(id: String, devices: Vec<String>, readings: Vec<Reading>) -> Patient {
    let mut latest = [None; QUANTITIES];
    let mut latest_risk = 0;
    for r in &readings {
        for (slot, &v) in latest.iter_mut().zip(&r.values) {
            if !v.is_nan() {
                *slot = Some(Latest { ts: r.ts, value: v });
            }
        }
        if r.risk != 0 {
            latest_risk = r.risk;
        }
    }
    let last = readings.last();
    Patient {
        id,
        devices,
        latest,
        latest_risk,
        last_seen: last.map_or(0, |r| r.ts),
        on_oxygen: last.is_some_and(|r| r.on_oxygen),
        consciousness: last.map_or(b'A', |r| r.consciousness),
        raised: [0; 3],
        readings,
        admission: None,
        settings: None,
    }
}

fn device(
    id: String,
    patients: Vec<String>,
    mut samples: Vec<(u64, i64, f32)>,
    silent: u32,
) -> Device {
    samples.sort_unstable_by_key(|s| (s.0, s.1));
    let (mut lost, mut gaps, mut largest) = (0, 0, 0);
    for w in samples.windows(2) {
        let step = w[1].0 - w[0].0;
        if step > 1 {
            lost += step - 1;
            gaps += 1;
            largest = largest.max(step - 1);
        }
    }
    let mut battery: Vec<(i64, f32)> = samples
        .iter()
        .filter(|s| !s.2.is_nan())
        .map(|s| (s.1, s.2))
        .collect();
    battery.sort_by_key(|b| b.0);
    let min_battery = battery.iter().map(|b| b.1).min_by(f32::total_cmp);
    Device {
        id,
        patients,
        readings: samples.len() as u64,
        first_seen: samples.iter().map(|s| s.1).min().unwrap_or(0),
        last_seen: samples.iter().map(|s| s.1).max().unwrap_or(0),
        lost,
        gaps,
        largest_gap: largest,
        latest_battery: battery.last().map(|b| b.1),
        min_battery,
        battery,
        silent_episodes: silent,
    }
}

/// Pairs raise, escalations and clear of each alert_id. `alerts` is sorted by time.
fn episodes(alerts: &[Alert]) -> Vec<Episode> {
    let mut open: HashMap<&str, usize> = HashMap::new();
    let mut out: Vec<Episode> = Vec::new();
    for a in alerts {
        let at = match open.get(a.alert_id.as_str()) {
            Some(&i) => i,
            None => {
                out.push(Episode {
                    alert_id: a.alert_id.clone(),
                    patient: a.patient_id.clone(),
                    device: a.device_id.clone(),
                    rule: a.rule.clone(),
                    technical: a.kind == vitals_core::AlertKind::Technical,
                    priority: a.priority,
                    vital: a.vital,
                    start: a.ts.millis(),
                    end: None,
                    raise_seen: a.state == AlertState::Raised,
                    message: a.message.clone(),
                });
                open.insert(&a.alert_id, out.len() - 1);
                out.len() - 1
            }
        };
        let e = &mut out[at];
        e.priority = e.priority.max(a.priority);
        if a.state == AlertState::Cleared {
            e.end = Some(a.ts.millis());
            open.remove(a.alert_id.as_str());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seq_holes_count_as_lost_readings() {
        let samples = [0u64, 1, 2, 5, 6, 10]
            .iter()
            .map(|&s| (s, s as i64 * 1000, 50.0))
            .collect();
        let d = device("D-1".into(), vec![], samples, 0);
        assert_eq!((d.lost, d.gaps, d.largest_gap), (5, 2, 3));
    }

    #[test]
    fn a_duplicate_seq_is_not_a_gap() {
        let samples = vec![(0, 0, f32::NAN), (1, 1, 40.0), (1, 1, 40.0), (2, 2, 39.0)];
        let d = device("D-1".into(), vec![], samples, 0);
        assert_eq!(d.lost, 0);
        assert_eq!(d.min_battery, Some(39.0));
        assert_eq!(d.latest_battery, Some(39.0));
    }

    #[test]
    fn the_settings_in_force_are_the_latest_by_time_then_by_their_number() {
        let at = |ts: i64, id: &str| {
            let line = format!(
                r#"{{"type":"settings","ts":"{}","patient_id":"PT-1","device_id":"D-1","settings_id":"{id}","source":"nurse","limits":{{}}}}"#,
                vitals_core::Timestamp::from_millis(ts)
            );
            serde_json::from_str::<Settings>(&line).unwrap()
        };
        assert!(settings_order(&at(0, "PT-1/10")) > settings_order(&at(0, "PT-1/9")));
        assert!(settings_order(&at(1000, "PT-1/2")) > settings_order(&at(0, "PT-1/10")));
    }

    #[test]
    fn day_window_overlaps() {
        let f = Filter {
            from: Some(DAY_MS + 5),
            to: Some(2 * DAY_MS),
            ..Filter::default()
        };
        assert!(!f.accepts_day(0));
        assert!(f.accepts_day(1));
        assert!(!f.accepts_day(2));
        assert!(f.accepts_time(DAY_MS + 5) && !f.accepts_time(2 * DAY_MS));
    }
}

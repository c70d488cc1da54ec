//! A synthetic lake for tests and the benchmark: deterministic, shaped like cardio-archive's output
//! (docs/spec.md §2) with vitals as cardio-alert leaves them (`news2`, `news2_risk`) and alert
//! events. It is not a physiological simulator (that is cardio-sim): values wander around a
//! baseline, with desaturation episodes, NIBP every 10 minutes, battery drain and lost readings,
//! enough to exercise every part of the report.

use std::io::Write as _;
use std::path::Path;

use anyhow::{Context, Result};
use vitals_core::news2::{self, Observations, Spo2Scale};
use vitals_core::record::AlertTag;
use vitals_core::{Alert, AlertKind, AlertState, Priority, Timestamp, Vital, Vitals};

/// What to generate.
#[derive(Debug, Clone)]
pub struct LakeSpec {
    pub patients: usize,
    /// Readings per patient, one a second.
    pub seconds: u64,
    pub start: Timestamp,
    pub seed: u64,
    /// Records per file before a new part file starts.
    pub records_per_file: usize,
    /// Also write what a reader must skip: a hidden in-progress file, `_rejected/`, a non-jsonl file.
    pub decoys: bool,
}

impl Default for LakeSpec {
    fn default() -> Self {
        LakeSpec {
            patients: 4,
            seconds: 3600,
            start: Timestamp::parse("2026-11-28T00:00:00.000Z").expect("valid"),
            seed: 1,
            records_per_file: 50_000,
            decoys: false,
        }
    }
}

/// What was written, for tests to compare with.
#[derive(Debug, Default, Clone)]
pub struct Written {
    pub vitals: u64,
    pub alerts: u64,
    /// Readings dropped on purpose (holes in seq), per patient index.
    pub lost: Vec<u64>,
}

/// xorshift64*: small, fast and fixed, so a seed gives the same lake on every platform.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// Uniform in [-1, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 52) as f64 - 1.0
    }
}

/// Rolls `part-NNNNN.jsonl` files per `date=` folder.
struct Sink<'a> {
    root: &'a Path,
    kind: &'static str,
    day: String,
    file: Option<std::io::BufWriter<std::fs::File>>,
    in_file: usize,
    per_file: usize,
    parts: u32,
    buf: Vec<u8>,
}

impl<'a> Sink<'a> {
    fn new(root: &'a Path, kind: &'static str, per_file: usize) -> Self {
        Sink {
            root,
            kind,
            day: String::new(),
            file: None,
            in_file: 0,
            per_file,
            parts: 0,
            buf: Vec::with_capacity(512),
        }
    }

    fn write<T: serde::Serialize>(&mut self, ts: Timestamp, record: &T) -> Result<()> {
        let day = ts.date_string();
        if self.file.is_none() || day != self.day || self.in_file >= self.per_file {
            self.finish()?;
            let dir = self.root.join(self.kind).join(format!("date={day}"));
            std::fs::create_dir_all(&dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
            self.parts += 1;
            let path = dir.join(format!("part-{:05}.jsonl", self.parts));
            let f = std::fs::File::create(&path)
                .with_context(|| format!("cannot create {}", path.display()))?;
            self.file = Some(std::io::BufWriter::with_capacity(1 << 16, f));
            self.day = day;
            self.in_file = 0;
        }
        self.buf.clear();
        serde_json::to_writer(&mut self.buf, record)?;
        self.buf.push(b'\n');
        self.file.as_mut().expect("open").write_all(&self.buf)?;
        self.in_file += 1;
        Ok(())
    }

    fn finish(&mut self) -> Result<()> {
        if let Some(mut f) = self.file.take() {
            f.flush()?;
        }
        Ok(())
    }
}

/// State of one simulated patient.
struct Bed {
    id: String,
    device: String,
    hr: f64,
    rr: f64,
    spo2: f64,
    temp: f64,
    sbp: f64,
    battery: f64,
    seq: u64,
    /// Seconds left of a desaturation episode.
    desat: u32,
    spo2_alarm: Option<(String, u32)>,
    news2_alarm: Option<String>,
    episodes: u32,
}

/// Writes a lake under `root` and says what it holds.
pub fn write_lake(root: &Path, spec: &LakeSpec) -> Result<Written> {
    let mut rng = Rng(spec.seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let mut beds: Vec<Bed> = (0..spec.patients)
        .map(|i| Bed {
            id: format!("PT-{}", 1000 + i),
            device: format!("D-{:03}", i + 1),
            hr: 70.0 + 15.0 * rng.unit(),
            rr: 16.0 + 2.0 * rng.unit(),
            spo2: 97.0,
            temp: 36.8 + 0.4 * rng.unit(),
            sbp: 122.0 + 12.0 * rng.unit(),
            battery: 60.0 + 40.0 * rng.unit().abs(),
            seq: 0,
            desat: 0,
            spo2_alarm: None,
            news2_alarm: None,
            episodes: 0,
        })
        .collect();
    let mut vitals = Sink::new(root, "vitals", spec.records_per_file);
    let mut alerts = Sink::new(root, "alerts", spec.records_per_file);
    let mut written = Written {
        lost: vec![0; spec.patients],
        ..Written::default()
    };
    for s in 0..spec.seconds {
        let ts = Timestamp::from_millis(spec.start.millis() + s as i64 * 1000);
        for (i, b) in beds.iter_mut().enumerate() {
            // Mean-reverting wander around each baseline.
            b.hr += 0.02 * (72.0 + 6.0 * (i % 5) as f64 - b.hr) + 1.2 * rng.unit();
            b.rr += 0.02 * (16.0 + (i % 3) as f64 - b.rr) + 0.3 * rng.unit();
            b.temp += 0.001 * (36.9 - b.temp) + 0.004 * rng.unit();
            b.sbp += 0.01 * (120.0 - b.sbp) + 0.8 * rng.unit();
            b.battery = (b.battery - 0.0004).max(3.0);
            if b.desat == 0 && rng.next().is_multiple_of(5400) {
                b.desat = 60 + (rng.next() % 180) as u32;
            }
            let target = if b.desat > 0 { 84.0 } else { 97.0 };
            b.spo2 += 0.08 * (target - b.spo2) + 0.4 * rng.unit();
            if b.desat > 0 {
                b.desat -= 1;
                b.hr += 0.3;
            }
            // An occasional lost reading: a hole in seq.
            if rng.next().is_multiple_of(2000) {
                b.seq += 1;
                written.lost[i] += 1;
                continue;
            }
            let mut v = Vitals::empty(ts, &b.id, &b.device, b.seq);
            b.seq += 1;
            v.heart_rate_bpm = Some(b.hr.round() as i32);
            v.spo2_pct = Some(b.spo2.round().min(100.0) as i32);
            v.respiratory_rate_bpm = Some(b.rr.round() as i32);
            v.temperature_c = Some((b.temp * 10.0).round() / 10.0);
            // NIBP every 10 minutes, carried by the cuff cycle only.
            if s % 600 == (i as u64 * 37) % 600 {
                v.systolic_mmhg = Some(b.sbp.round() as i32);
                v.diastolic_mmhg = Some((b.sbp * 0.62).round() as i32);
            }
            v.battery_pct = Some(b.battery.round() as i32);
            let obs = Observations {
                respiratory_rate_bpm: v.respiratory_rate_bpm,
                spo2_pct: v.spo2_pct,
                on_oxygen: false,
                systolic_mmhg: Some(b.sbp.round() as i32),
                heart_rate_bpm: v.heart_rate_bpm,
                consciousness: v.consciousness,
                temperature_c: v.temperature_c,
            };
            let score = news2::score(&obs, Spo2Scale::Scale1);
            v.news2 = Some(score.map(|s| s.total()));
            v.news2_risk = Some(score.map(|s| s.risk()));
            vitals.write(ts, &v)?;
            written.vitals += 1;

            let spo2 = f64::from(v.spo2_pct.unwrap_or(100));
            let news = score.map_or(0, |s| s.total());
            let mut events = Vec::new();
            match &b.spo2_alarm {
                None if spo2 < 90.0 => {
                    b.episodes += 1;
                    let id = format!("{}-spo2_low-{}", b.id, b.episodes);
                    events.push((
                        id.clone(),
                        "spo2_low",
                        Priority::Medium,
                        AlertState::Raised,
                        Some(Vital::Spo2),
                        spo2,
                        90.0,
                    ));
                    b.spo2_alarm = Some((id, 0));
                }
                Some((id, _)) if spo2 >= 92.0 => {
                    events.push((
                        id.clone(),
                        "spo2_low",
                        Priority::Medium,
                        AlertState::Cleared,
                        Some(Vital::Spo2),
                        spo2,
                        92.0,
                    ));
                    b.spo2_alarm = None;
                }
                _ => {}
            }
            match &b.news2_alarm {
                None if news >= 5 => {
                    b.episodes += 1;
                    let id = format!("{}-news2_urgent-{}", b.id, b.episodes);
                    let p = if news >= 7 {
                        Priority::High
                    } else {
                        Priority::Medium
                    };
                    events.push((
                        id.clone(),
                        "news2_urgent",
                        p,
                        AlertState::Raised,
                        None,
                        f64::from(news),
                        5.0,
                    ));
                    b.news2_alarm = Some(id);
                }
                Some(id) if news < 5 => {
                    events.push((
                        id.clone(),
                        "news2_urgent",
                        Priority::Medium,
                        AlertState::Cleared,
                        None,
                        f64::from(news),
                        5.0,
                    ));
                    b.news2_alarm = None;
                }
                _ => {}
            }
            for (alert_id, rule, priority, state, vital, value, limit) in events {
                let message = match (vital, state) {
                    (Some(_), AlertState::Raised) => format!("SpO2 {value}% below {limit}%"),
                    (Some(_), _) => format!("SpO2 back to {value}%"),
                    (None, AlertState::Raised) => format!("NEWS2 {value} (urgent response)"),
                    (None, _) => format!("NEWS2 down to {value}"),
                };
                let a = Alert {
                    record_type: AlertTag,
                    ts,
                    patient_id: b.id.clone(),
                    device_id: b.device.clone(),
                    alert_id,
                    rule: rule.to_owned(),
                    kind: AlertKind::Physiological,
                    priority,
                    state,
                    vital,
                    value: Some(value),
                    limit: Some(limit),
                    news2: Some(news),
                    message,
                    settings_id: None,
                };
                alerts.write(ts, &a)?;
                written.alerts += 1;
            }
        }
    }
    vitals.finish()?;
    alerts.finish()?;
    if spec.decoys {
        write_decoys(root, spec.start)?;
    }
    Ok(written)
}

/// Files a lake reader must not read: each holds a vitals line of a patient that exists nowhere
/// else (`PT-DECOY`), so a test sees at once if one was read.
fn write_decoys(root: &Path, start: Timestamp) -> Result<()> {
    let day = format!("date={}", start.date_string());
    let mut v = Vitals::empty(start, "PT-DECOY", "D-DECOY", 0);
    v.heart_rate_bpm = Some(200);
    let line = serde_json::to_string(&v)? + "\n";
    for rel in [
        format!("vitals/{day}/.part-99999.jsonl.tmp"),
        format!("vitals/{day}/.hidden.jsonl"),
        format!("vitals/{day}/_partial.jsonl"),
        format!("vitals/{day}/notes.json"),
        format!("vitals/_staging/{day}/part-1.jsonl"),
        "vitals/.trash/part-1.jsonl".to_owned(),
        format!("_rejected/{day}/part-1.jsonl"),
    ] {
        let path = root.join(rel);
        std::fs::create_dir_all(path.parent().expect("has a parent"))?;
        std::fs::write(&path, &line).with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}

//! The ward as the station sees it, updated one record at a time: per patient the latest values,
//! NEWS2 and its risk band, lost readings, a fixed window of trends and a short alarm history; for
//! the ward the alarms that sound (and those that just cleared, which fade out) and the counters of
//! the status line. Pure state: the renderer, the tests and the benchmark drive it without a
//! terminal.
//!
//! Times are event time (docs/spec.md §1): "how long ago" is measured against the newest reading
//! seen, so a replayed file shows what the live stream showed.

use std::collections::{HashMap, VecDeque};

use vitals_core::news2::{self, Observations, Spo2Scale};
use vitals_core::plausibility;
use vitals_core::rules::{Condition, Trigger, default_rules};
use vitals_core::{
    Alert, AlertKind, AlertState, Consciousness, Priority, Record, RecordError, Risk, Timestamp,
    Vital, Vitals,
};

use crate::trend::{Combine, Series};

type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// The overview's sparkline: the worst NEWS2 of each 15 s over the last 5 min.
pub const SPARK_BUCKETS: usize = 20;
pub const SPARK_BUCKET_MS: i64 = 15_000;
/// The patient view's trends: each vital's mean per minute over the last hour.
pub const HOUR_BUCKETS: usize = 60;
pub const HOUR_BUCKET_MS: i64 = 60_000;
/// A cleared alarm stays on the list, dimmed, this long (event time) so that a glance catches it.
pub const CLEARED_FADE_MS: i64 = 30_000;
/// Alarm events kept per patient for the patient view.
pub const HISTORY_LEN: usize = 12;
/// NEWS2 carry-forward of BP and temperature when the stream has no `news2` of its own (raw
/// cardio-sim output), as cardio-alert does by default (docs/spec.md §3.1).
const CARRY_MS: i64 = 3_600_000;

/// The vitals drawn as trends in the patient view, with the factor that turns a value into the
/// stored `i16` (temperature in tenths).
pub const TRENDED: [(Vital, f64); 5] = [
    (Vital::HeartRate, 1.0),
    (Vital::Spo2, 1.0),
    (Vital::RespiratoryRate, 1.0),
    (Vital::Systolic, 1.0),
    (Vital::Temperature, 10.0),
];

/// One patient's state.
#[derive(Debug, Clone)]
pub struct Patient {
    pub id: String,
    pub device_id: String,
    /// Event time of the newest reading.
    pub last_ts: Timestamp,
    last_seq: Option<u64>,
    /// The newest reading's values (null: no valid reading, e.g. probe off).
    pub heart_rate: Option<i32>,
    pub spo2: Option<i32>,
    pub resp_rate: Option<i32>,
    /// Intermittent measurements: the last one taken, and when.
    pub systolic: Option<i32>,
    pub diastolic: Option<i32>,
    pub bp_ts: Option<Timestamp>,
    pub temperature: Option<f64>,
    pub temp_ts: Option<Timestamp>,
    pub on_oxygen: bool,
    pub consciousness: Consciousness,
    pub battery: Option<i32>,
    /// NEWS2 of the newest reading: cardio-alert's when the stream carries it, else scored here.
    pub news2: Option<u8>,
    pub risk: Option<Risk>,
    /// Readings missing from `seq` gaps.
    pub lost: u64,
    pub spark: Series<SPARK_BUCKETS>,
    pub hour: [Series<HOUR_BUCKETS>; TRENDED.len()],
    pub news2_hour: Series<HOUR_BUCKETS>,
    /// The newest alarm events, oldest first.
    pub history: VecDeque<AlarmEvent>,
}

impl Patient {
    fn new(id: &str, device_id: &str, ts: Timestamp) -> Self {
        Patient {
            id: id.to_owned(),
            device_id: device_id.to_owned(),
            last_ts: ts,
            last_seq: None,
            heart_rate: None,
            spo2: None,
            resp_rate: None,
            systolic: None,
            diastolic: None,
            bp_ts: None,
            temperature: None,
            temp_ts: None,
            on_oxygen: false,
            consciousness: Consciousness::A,
            battery: None,
            news2: None,
            risk: None,
            lost: 0,
            spark: Series::default(),
            hour: Default::default(),
            news2_hour: Series::default(),
            history: VecDeque::new(),
        }
    }

    /// The value shown for a vital: the newest reading, or the last cuff or temperature measured.
    pub fn value(&self, vital: Vital) -> Option<f64> {
        match vital {
            Vital::HeartRate => self.heart_rate.map(f64::from),
            Vital::Spo2 => self.spo2.map(f64::from),
            Vital::RespiratoryRate => self.resp_rate.map(f64::from),
            Vital::Temperature => self.temperature,
            Vital::Systolic => self.systolic.map(f64::from),
            Vital::Diastolic => self.diastolic.map(f64::from),
            Vital::Battery => self.battery.map(f64::from),
        }
    }

    fn record_event(&mut self, event: AlarmEvent) {
        if self.history.len() == HISTORY_LEN {
            self.history.pop_front();
        }
        self.history.push_back(event);
    }
}

/// One line of a patient's alarm history.
#[derive(Debug, Clone, PartialEq)]
pub struct AlarmEvent {
    pub ts: Timestamp,
    pub rule: String,
    pub priority: Priority,
    pub state: AlertState,
    pub message: String,
}

/// An alarm on the station's list: sounding, or cleared and fading out.
#[derive(Debug, Clone, PartialEq)]
pub struct Alarm {
    pub alert_id: String,
    pub patient_id: String,
    pub rule: String,
    pub kind: AlertKind,
    pub priority: Priority,
    pub vital: Option<Vital>,
    pub value: Option<f64>,
    pub limit: Option<f64>,
    /// Event time it was raised (or first seen, when the stream began mid-episode).
    pub raised: Timestamp,
    pub cleared: Option<Timestamp>,
}

/// Counters for the status line and the exit summary.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Every line read, good or bad.
    pub lines: u64,
    pub vitals: u64,
    pub alerts: u64,
    /// `rejected` envelopes of an earlier stage.
    pub rejected: u64,
    /// Lines that were not a valid record here.
    pub bad_lines: u64,
    /// Readings missing from `seq` gaps, over all patients.
    pub lost: u64,
}

/// A vital's alarm limits, read from the default rules (docs/spec.md §3.2) rather than restated.
#[derive(Debug, Clone)]
struct Limit {
    vital: Vital,
    when: Condition,
    priority: Priority,
}

/// The whole ward.
#[derive(Debug, Clone)]
pub struct Ward {
    index: FastMap<String, usize>,
    pub patients: Vec<Patient>,
    alarms: FastMap<String, Alarm>,
    /// Event time of the newest record: the station's "now".
    pub now: Timestamp,
    pub counts: Counts,
    /// The newest bad line, "line 12: not JSON: …", for the status line.
    pub last_bad: Option<String>,
    limits: Vec<Limit>,
    /// After this much event time without a reading a patient is forgotten (0: never).
    forget_after_ms: i64,
    next_sweep: i64,
    /// A monitor silent this long is marked stale (the `device_silent` rule's time).
    pub silent_after_ms: i64,
}

impl Default for Ward {
    fn default() -> Self {
        Ward::new(3_600_000)
    }
}

impl Ward {
    /// An empty ward that forgets patients silent for `forget_after_ms` of event time (0: never),
    /// so that memory stays bounded on a ward with admissions and discharges.
    pub fn new(forget_after_ms: i64) -> Self {
        let rules = default_rules();
        let limits = rules
            .iter()
            .filter(|r| r.kind == AlertKind::Physiological)
            .filter_map(|r| match r.trigger {
                Trigger::Threshold { vital, when, .. } => Some(Limit {
                    vital,
                    when,
                    priority: r.priority,
                }),
                _ => None,
            })
            .collect();
        let silent_after_ms = rules
            .iter()
            .find_map(|r| match r.trigger {
                Trigger::DeviceSilent { after_s } => Some((after_s * 1000.0) as i64),
                _ => None,
            })
            .unwrap_or(30_000);
        Ward {
            index: FastMap::default(),
            patients: Vec::new(),
            alarms: FastMap::default(),
            now: Timestamp::from_millis(i64::MIN),
            counts: Counts::default(),
            last_bad: None,
            limits,
            forget_after_ms,
            next_sweep: i64::MIN,
            silent_after_ms,
        }
    }

    /// Takes one parsed record.
    pub fn apply(&mut self, record: Record) {
        self.counts.lines += 1;
        match record {
            Record::Vitals(v) => self.apply_vitals(&v),
            Record::Alert(a) => self.apply_alert(a),
            Record::Rejected(_) => self.counts.rejected += 1,
            Record::Admission(_) | Record::Settings(_) | Record::Other { .. } => {}
        }
    }

    /// Counts a line that is not a valid record.
    pub fn apply_bad(&mut self, number: u64, error: &RecordError) {
        self.counts.lines += 1;
        self.counts.bad_lines += 1;
        self.last_bad = Some(format!("line {number}: {error}"));
    }

    fn advance(&mut self, ts: Timestamp) {
        if ts > self.now {
            self.now = ts;
        }
        if self.now.millis() >= self.next_sweep {
            self.sweep();
            self.next_sweep = self.now.millis().saturating_add(10_000);
        }
    }

    /// Drops faded alarms and forgotten patients.
    fn sweep(&mut self) {
        let now = self.now.millis();
        self.alarms
            .retain(|_, a| a.cleared.is_none_or(|c| now - c.millis() < CLEARED_FADE_MS));
        if self.forget_after_ms > 0
            && self
                .patients
                .iter()
                .any(|p| now - p.last_ts.millis() >= self.forget_after_ms)
        {
            let forget = self.forget_after_ms;
            self.patients.retain(|p| now - p.last_ts.millis() < forget);
            let kept: std::collections::HashSet<&str> =
                self.patients.iter().map(|p| p.id.as_str()).collect();
            self.alarms
                .retain(|_, a| kept.contains(a.patient_id.as_str()));
            self.index = self
                .patients
                .iter()
                .enumerate()
                .map(|(i, p)| (p.id.clone(), i))
                .collect();
        }
    }

    fn patient_mut(&mut self, id: &str, device_id: &str, ts: Timestamp) -> &mut Patient {
        let i = match self.index.get(id) {
            Some(&i) => i,
            None => {
                self.patients.push(Patient::new(id, device_id, ts));
                self.index.insert(id.to_owned(), self.patients.len() - 1);
                self.patients.len() - 1
            }
        };
        &mut self.patients[i]
    }

    pub fn patient(&self, id: &str) -> Option<&Patient> {
        self.index.get(id).map(|&i| &self.patients[i])
    }

    fn apply_vitals(&mut self, v: &Vitals) {
        self.counts.vitals += 1;
        self.advance(v.ts);
        let p = self.patient_mut(&v.patient_id, &v.device_id, v.ts);
        // A duplicate or late reading (same or older seq) is not the newest state; a gap in seq is
        // readings lost upstream (docs/spec.md §1).
        let mut lost = 0;
        if let Some(prev) = p.last_seq {
            if v.seq <= prev {
                return;
            }
            lost = v.seq - prev - 1;
        }
        p.last_seq = Some(v.seq);
        p.lost += lost;
        p.device_id.clone_from(&v.device_id);
        p.last_ts = p.last_ts.max(v.ts);
        let plausible =
            |vital: Vital, x: Option<f64>| x.filter(|&x| plausibility::gate(vital).contains(x));
        p.heart_rate = v.heart_rate_bpm;
        p.spo2 = v.spo2_pct;
        p.resp_rate = v.respiratory_rate_bpm;
        if v.systolic_mmhg.is_some() {
            p.systolic = v.systolic_mmhg;
            p.diastolic = v.diastolic_mmhg;
            p.bp_ts = Some(v.ts);
        }
        if v.temperature_c.is_some() {
            p.temperature = v.temperature_c;
            p.temp_ts = Some(v.ts);
        }
        p.on_oxygen = v.on_oxygen;
        p.consciousness = v.consciousness;
        p.battery = v.battery_pct;
        (p.news2, p.risk) = match (v.news2, v.news2_risk) {
            (Some(score), risk) => (score, risk.flatten()),
            // No cardio-alert upstream: score here with vitals-core's NEWS2, BP and temperature
            // carried forward as cardio-alert does, implausible values left out.
            (None, _) => {
                let fresh = |at: Option<Timestamp>| {
                    at.is_some_and(|t| v.ts.millis() - t.millis() <= CARRY_MS)
                };
                let obs = Observations {
                    respiratory_rate_bpm: plausible(
                        Vital::RespiratoryRate,
                        p.resp_rate.map(f64::from),
                    )
                    .map(|x| x as i32),
                    spo2_pct: plausible(Vital::Spo2, p.spo2.map(f64::from)).map(|x| x as i32),
                    on_oxygen: p.on_oxygen,
                    systolic_mmhg: if fresh(p.bp_ts) {
                        plausible(Vital::Systolic, p.systolic.map(f64::from)).map(|x| x as i32)
                    } else {
                        None
                    },
                    heart_rate_bpm: plausible(Vital::HeartRate, p.heart_rate.map(f64::from))
                        .map(|x| x as i32),
                    consciousness: p.consciousness,
                    temperature_c: if fresh(p.temp_ts) {
                        plausible(Vital::Temperature, p.temperature)
                    } else {
                        None
                    },
                };
                match news2::score(&obs, Spo2Scale::Scale1) {
                    Some(s) => (Some(s.total()), Some(s.risk())),
                    None => (None, None),
                }
            }
        };
        if let Some(score) = p.news2 {
            p.spark
                .push(v.ts, SPARK_BUCKET_MS, i16::from(score), Combine::Max);
            p.news2_hour
                .push(v.ts, HOUR_BUCKET_MS, i16::from(score), Combine::Max);
        }
        for (series, &(vital, factor)) in p.hour.iter_mut().zip(TRENDED.iter()) {
            if let Some(x) = plausible(vital, v.get(vital)) {
                series.push(
                    v.ts,
                    HOUR_BUCKET_MS,
                    (x * factor).round() as i16,
                    Combine::Mean,
                );
            }
        }
        self.counts.lost += lost;
    }

    fn apply_alert(&mut self, a: Alert) {
        self.counts.alerts += 1;
        self.advance(a.ts);
        let event = AlarmEvent {
            ts: a.ts,
            rule: a.rule.clone(),
            priority: a.priority,
            state: a.state,
            message: a.message,
        };
        self.patient_mut(&a.patient_id, &a.device_id, a.ts)
            .record_event(event);
        let alarm = self
            .alarms
            .entry(a.alert_id.clone())
            .or_insert_with(|| Alarm {
                alert_id: a.alert_id,
                patient_id: a.patient_id,
                rule: a.rule,
                kind: a.kind,
                priority: a.priority,
                vital: a.vital,
                value: a.value,
                limit: a.limit,
                raised: a.ts,
                cleared: None,
            });
        alarm.priority = a.priority;
        alarm.value = a.value.or(alarm.value);
        alarm.limit = a.limit.or(alarm.limit);
        match a.state {
            AlertState::Raised | AlertState::Escalated => alarm.cleared = None,
            AlertState::Cleared => alarm.cleared = Some(a.ts),
        }
    }

    /// The alarms of one kind, sounding ones first by priority (high first) and then the longest
    /// sounding first; cleared ones after them, newest clear first.
    pub fn alarms(&self, kind: AlertKind) -> Vec<&Alarm> {
        let now = self.now.millis();
        let mut list: Vec<&Alarm> = self
            .alarms
            .values()
            .filter(|a| a.kind == kind)
            .filter(|a| a.cleared.is_none_or(|c| now - c.millis() < CLEARED_FADE_MS))
            .collect();
        list.sort_by(|a, b| {
            a.cleared
                .is_some()
                .cmp(&b.cleared.is_some())
                .then(b.priority.cmp(&a.priority))
                .then(b.cleared.cmp(&a.cleared))
                .then(a.raised.cmp(&b.raised))
                .then(a.patient_id.cmp(&b.patient_id))
                .then(a.alert_id.cmp(&b.alert_id))
        });
        list
    }

    /// The highest priority among a patient's sounding physiological alarms, and how many sound.
    pub fn sounding(&self) -> FastMap<&str, (Priority, usize)> {
        let mut out: FastMap<&str, (Priority, usize)> = FastMap::default();
        for a in self.alarms.values().filter(|a| a.cleared.is_none()) {
            let e = out.entry(a.patient_id.as_str()).or_insert((a.priority, 0));
            e.0 = e.0.max(a.priority);
            e.1 += 1;
        }
        out
    }

    /// The priority of the most urgent default limit that `value` is beyond, if any: the mark
    /// beside a value on the overview.
    pub fn beyond_limit(&self, vital: Vital, value: f64) -> Option<Priority> {
        self.limits
            .iter()
            .filter(|l| l.vital == vital && l.when.holds(value))
            .map(|l| l.priority)
            .max()
    }

    /// Milliseconds since a patient's newest reading, in event time.
    pub fn since_last(&self, p: &Patient) -> i64 {
        (self.now.millis() - p.last_ts.millis()).max(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vitals(ts: i64, id: &str, seq: u64, hr: i32) -> Record {
        let mut v = Vitals::empty(Timestamp::from_millis(ts), id, "D-1", seq);
        v.heart_rate_bpm = Some(hr);
        Record::Vitals(v)
    }

    #[test]
    fn seq_gaps_count_as_lost_and_a_duplicate_does_not_move_the_values() {
        let mut w = Ward::default();
        w.apply(vitals(0, "PT-1", 0, 70));
        w.apply(vitals(3000, "PT-1", 3, 80));
        w.apply(vitals(1000, "PT-1", 1, 99));
        let p = w.patient("PT-1").unwrap();
        assert_eq!((p.lost, p.heart_rate), (2, Some(80)));
        assert_eq!(w.counts.lost, 2);
    }

    #[test]
    fn news2_is_scored_here_when_the_stream_has_none() {
        let mut w = Ward::default();
        let mut v = Vitals::empty(Timestamp::from_millis(0), "PT-1", "D-1", 0);
        (v.heart_rate_bpm, v.spo2_pct, v.respiratory_rate_bpm) = (Some(135), Some(97), Some(16));
        (v.systolic_mmhg, v.temperature_c) = (Some(120), Some(36.8));
        w.apply(Record::Vitals(v));
        let p = w.patient("PT-1").unwrap();
        assert_eq!((p.news2, p.risk), (Some(3), Some(Risk::LowMedium)));
    }

    #[test]
    fn patients_silent_past_the_limit_are_forgotten_with_their_alarms() {
        let mut w = Ward::new(60_000);
        w.apply(vitals(0, "PT-1", 0, 70));
        w.apply(vitals(0, "PT-2", 0, 70));
        w.apply(vitals(70_000, "PT-2", 70, 70));
        assert!(w.patient("PT-1").is_none());
        assert_eq!(w.patient("PT-2").unwrap().heart_rate, Some(70));
    }
}

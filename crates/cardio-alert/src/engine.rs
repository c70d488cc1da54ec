//! The alarm engine: per-patient state (last reading, carried NEWS2 parameters, one alarm state per
//! rule), NEWS2 per reading, the dispatch of each reading to the rules, the stream clock that
//! raises `device_silent`, and the eviction of patients who have gone quiet.
//!
//! Every decision is a function of the input alone (event times and arrival order, never the
//! wall clock), so a replay of the same bytes gives the same alerts, in the same order, with the
//! same ids.
//!
//! # Time: one clock per patient, and a stream clock no device can drag
//!
//! A monitor's clock can jump hours ahead, be set back, or write local time with `Z`. One device's
//! clock must never silence an alarm, its own patient's or anyone else's, so no decision compares
//! the `ts` of two different devices:
//!
//! - **Order within a patient** is the device's `seq`: a reading with a higher `seq` is the next
//!   one even if its `ts` is earlier (a clock set back); `seq` 0 after a higher one, or a lower
//!   `seq` at a later `ts`, is a restarted device (whose clock, which a restart may have reset,
//!   counts as right from then on); only a lower `seq` at an earlier `ts` is a late (reordered)
//!   record, which is scored but moves no alarm (docs/spec.md §3).
//! - **Each patient has its own clock** for condition delays, clearing holds, latches, NEWS2
//!   carry-forward and the SpO2 artifact hold. It advances by the device's own `ts` difference
//!   between two readings while that difference is believable: not negative, and no more than
//!   [`CLOCK_STEP_TOLERANCE_MS`] beyond the time the stream has seen pass since the patient's
//!   previous reading (when no other patient sent anything meanwhile: no more than
//!   [`READING_GAP_MAX_MS`] per `seq` step; a device alone in the stream is believed). Otherwise
//!   the device's clock stepped: the patient's clock advances by the stream's time instead, and
//!   the technical alarm `clock_skew` names the device and the size of the step until its clock
//!   agrees again. Alert records keep the reading's own `ts`; durations in messages and `alert_id`
//!   use the patient's clock.
//! - **The stream clock** (`device_silent`, eviction, the sweep) advances with the patients' own
//!   progress: each patient has a place on it (the stream clock at its first reading, plus every
//!   advance of its own clock since), and a reading moves the stream clock up to its patient's
//!   place, by at most [`STREAM_STEP_MAX_MS`] while other patients are sending. So one reading
//!   dated hours ahead moves it by nothing (its clock stepped, so its patient advances by the
//!   stream's time), a device whose clock is minutes off moves it at the same rate as any other,
//!   and a device that sends a backlog in a burst does not push it ahead.
//! - **Silence** is measured per patient on the stream clock from the patient's last arrival, so
//!   a Kafka partition that arrives minutes behind another (a replica catching up a backlog)
//!   raises no `device_silent` as long as its readings keep arriving.
//! - **`seq` gaps** are lost readings only as far as the device can have sent them (at most
//!   [`READINGS_PER_SECOND_MAX`] a second of its own clock, plus as many again); a larger jump (to
//!   2^64 − 1, say) is a corrupt or re-based counter, reported as such and not counted. Counts
//!   saturate.
//!
//! What arrival order alone cannot tell, and is not claimed: a partition that arrives in bursts
//! longer than `device_silent`'s 30 s leaves the other partition's patients without readings that
//! long, and they are reported silent; a device whose clock is wrong from its very first reading
//! is consistent with itself (its alarms run right, its records are dated wrong) and raises no
//! `clock_skew`; a jump of a device alone in the stream, or of under 15 min per `seq` step while
//! no other patient sent anything, is believed; a device that sends no usable `seq` (always the
//! same) is ordered by `ts` alone.
//!
//! # State that is dropped
//!
//! A patient without a reading for `--evict-after` of stream time is forgotten, but only when no
//! alarm about the patient (anything but `device_silent` and `clock_skew`) is open: forgetting
//! never sends a `cleared`, so an alarm downstream stays open until evidence clears it. Past
//! `--max-patients`, readings of new patients are passed on unscored, and silent patients are
//! forgotten even with an alarm open (which then stays open downstream).

use std::cmp::Ordering;
use std::collections::HashMap;
use std::hash::BuildHasher;

use vitals_core::news2::{self, Observations, Score};
use vitals_core::plausibility::{self, Implausible};
use vitals_core::record::AlertTag;
use vitals_core::rules::{Condition, Op, Trigger};
use vitals_core::{Alert, AlertState, Priority, Risk, Timestamp, Vital, Vitals};

use crate::alarm::{Alarm, Evidence, Transition};
use crate::carry::Carried;
use crate::rules_file::{CompiledRule, Config, RuleSet};

/// How often (stream time) the sweep looks for silent devices and idle patients.
const SWEEP_EVERY_MS: i64 = 1000;

/// How far a device's own clock may run beyond the time the stream has seen pass between two of its
/// readings before it counts as a step (`clock_skew`). A minute absorbs network jitter and a
/// Kafka partition that arrives a little behind; a monitor on local time, a DST change or a clock
/// set by hand is off by 30 min or more.
pub const CLOCK_STEP_TOLERANCE_MS: i64 = 60_000;

/// With no other patient's reading in between to compare with, while other patients are still
/// sending, the most one `seq` step may advance a device's clock: a monitor that measures NIBP
/// alone sends every 5–15 min. A device alone in the stream (no other patient has sent for
/// [`LIVE_WITHIN_MS`]) has nothing to compare with, and its clock is believed.
pub const READING_GAP_MAX_MS: i64 = 15 * 60_000;

/// A patient counts as still sending when a reading arrived within this much stream time.
const LIVE_WITHIN_MS: i64 = 60_000;

/// The most one reading may move the stream clock while other patients are sending (far less than
/// `device_silent`'s 30 s, so that no single device's clock can make every other patient look
/// silent).
pub const STREAM_STEP_MAX_MS: i64 = 5_000;

/// A device sends at most this many readings a second: a `seq` gap larger than that over the time
/// its clock says passed is a corrupt or re-based counter, not lost readings.
const READINGS_PER_SECOND_MAX: u64 = 10;

/// The "--max-patients reached" line is repeated at most this often (stream time).
const FULL_NOTE_EVERY_MS: i64 = 600_000;

/// Patient and device ids are hashed with foldhash's fixed-seed variant: the map is looked up once
/// per record, where SipHash's defence against chosen keys costs more than the rest of the lookup,
/// and the ids come from the hospital's own devices. The fixed seed keeps runs repeatable.
type IdHashing = foldhash::fast::FixedState;

type IdMap<V> = HashMap<String, V, IdHashing>;

/// What one patient's monitor has told us so far.
#[derive(Debug)]
struct Patient {
    device_id: String,
    seq: u64,
    /// The patient's clock at the first reading (for the patient-days monitored).
    first_ts: i64,
    /// The device's `ts` of the latest reading in order (the device's clock).
    last_ts: i64,
    /// The patient's clock: the event time every alarm, carry-forward and hold of this patient uses
    /// (module header). Equal to the device's `ts` until its clock steps.
    clock: i64,
    /// `last_ts - clock` when the device's clock was last taken to be right (its first reading).
    clock_base: i64,
    /// The stream clock when the latest reading in order arrived (silence is measured from it).
    seen_at: i64,
    /// Where the patient's own progress puts it on the stream clock: the stream clock at its first
    /// reading plus every advance of its clock since. A device that sends a backlog in a burst, or
    /// a partition that arrives behind, stays behind the stream clock and does not move it.
    at: i64,
    /// Hash of the device before the current one (0: none), to tell its late records from a
    /// device that takes over.
    prev_device: u64,
    set: u32,
    sbp: Carried<i32>,
    temp: Carried<f64>,
    /// The last plausible SpO2 and its time, to see a fall too fast to be real.
    spo2_prev: Option<(i32, i64)>,
    /// While SpO2 is held as a motion artifact: the level before the fall, and since when.
    spo2_hold: Option<(i32, i64)>,
    /// Bit i set while rule i's alarm is not idle (rules past the 64th are always visited). With
    /// 10,000 patients the alarm states do not fit in the CPU's cache; a reading that starts no
    /// alarm only needs this word to know that it has nothing to do.
    busy: u64,
    /// Hash of `device_id`, so that the per-record "same device?" check stays in this struct.
    device_hash: u64,
    alarms: Box<[Alarm]>,
}

fn id_hash(id: &str) -> u64 {
    IdHashing::default().hash_one(id)
}

/// The bit of rule `i` in `Patient::busy`, or 0 for rules past the 64th.
fn busy_bit(i: usize) -> u64 {
    if i < 64 { 1 << i } else { 0 }
}

/// Where a reading of a known patient stands (module header): its device's `seq` orders it, and
/// its `ts` only tells a restarted device or a late record apart when `seq` cannot.
fn arrival(p: &Patient, seq: u64, ts: i64, device_hash: u64) -> Arrival {
    if p.device_hash != device_hash {
        // A late record of the device this one took over from stays late; any other device
        // takes over, whatever its clock says.
        return if device_hash == p.prev_device && ts <= p.last_ts {
            Arrival::Late
        } else {
            Arrival::NewDevice
        };
    }
    if seq == p.seq && ts == p.last_ts {
        Arrival::Duplicate
    } else if seq > p.seq {
        Arrival::Next {
            seq_step: seq - p.seq,
        }
    } else if ts > p.last_ts || (seq == 0 && p.seq > 0) {
        // Counting again from a lower seq later, or from 0 at any time: the device restarted.
        Arrival::Restart
    } else {
        Arrival::Late
    }
}

/// A reading lost upstream, told by a gap in `seq`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gap {
    pub ts: Timestamp,
    pub patient_id: String,
    pub device_id: String,
    /// The first missing `seq`.
    pub from_seq: u64,
    pub lost: u64,
    /// False when the gap is larger than the device could have sent in the time since its previous
    /// reading ([`READINGS_PER_SECOND_MAX`]): a corrupt or re-based counter, not counted as lost.
    pub counted: bool,
}

/// Readings of new patients turned away because `--max-patients` was reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Full {
    pub ts: Timestamp,
    /// The first patient turned away since the last note.
    pub patient_id: String,
    pub max_patients: usize,
}

/// Where a reading stands in its patient's order (module header).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Arrival {
    New,
    /// The next reading of the current device, `seq_step` after the previous one.
    Next {
        seq_step: u64,
    },
    /// The current device counting again from a lower `seq` (it restarted).
    Restart,
    /// The first reading of a device that takes over from another.
    NewDevice,
    Late,
    Duplicate,
}

/// Counters for the end summary.
#[derive(Debug, Clone, Default)]
pub struct Stats {
    pub vitals: u64,
    /// Records older than the patient's latest (out of order): scored, but not fed to the alarms.
    pub late: u64,
    /// The same device and `seq` again.
    pub duplicates: u64,
    pub gaps: u64,
    pub lost_readings: u64,
    /// `seq` gaps too large to be lost readings (see [`Gap::counted`]).
    pub seq_jumps: u64,
    /// Readings whose device's clock had stepped (ahead or back) since its previous one.
    pub clock_steps: u64,
    pub evicted: u64,
    /// Of the evicted: patients with an alarm still open (only past `--max-patients`).
    pub evicted_with_open_alarm: u64,
    /// Readings of new patients passed on unscored past `--max-patients`.
    pub unscored: u64,
    /// SpO2 readings held back as motion artifact.
    pub spo2_artifact_readings: u64,
    /// Raised events per rule index, by priority (low, medium, high).
    pub raised: Vec<[u64; 3]>,
    pub escalated: Vec<u64>,
    pub cleared: Vec<u64>,
    /// Monitoring time of patients already evicted, in ms.
    pub evicted_span_ms: i64,
}

/// The NEWS2 fields added to a reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct News2 {
    pub score: Option<u8>,
    pub risk: Option<Risk>,
}

/// The engine for one stream.
#[derive(Debug)]
pub struct Engine {
    cfg: Config,
    patients: IdMap<Patient>,
    /// Indices of the `device_silent` rules (the same in every rule set).
    silent_rules: Vec<usize>,
    /// Per rule set (aligned with `cfg.sets`): which readings can start none of its alarms.
    quiet: Vec<Quiet>,
    /// The stream clock (module header).
    stream: i64,
    /// Patients still sending at the last sweep (a reading within [`LIVE_WITHIN_MS`]).
    live: usize,
    next_sweep: i64,
    /// When the last `Full` note was made.
    full_noted: Option<i64>,
    pub stats: Stats,
    pub gaps: Vec<Gap>,
    /// Set when `--max-patients` turns a new patient away (at most every [`FULL_NOTE_EVERY_MS`]).
    pub full: Option<Full>,
}

impl Engine {
    pub fn new(cfg: Config) -> Self {
        let n = cfg.rules().len();
        let silent_rules = cfg
            .rules()
            .iter()
            .enumerate()
            .filter(|(_, r)| matches!(r.rule.trigger, Trigger::DeviceSilent { .. }))
            .map(|(i, _)| i)
            .collect();
        let quiet = cfg.sets.iter().map(Quiet::new).collect();
        Engine {
            cfg,
            silent_rules,
            quiet,
            patients: IdMap::default(),
            stream: i64::MIN,
            live: 0,
            next_sweep: i64::MIN,
            full_noted: None,
            full: None,
            stats: Stats {
                raised: vec![[0; 3]; n],
                escalated: vec![0; n],
                cleared: vec![0; n],
                ..Stats::default()
            },
            gaps: Vec::new(),
        }
    }

    pub fn config(&self) -> &Config {
        &self.cfg
    }

    /// Patients currently held in memory.
    pub fn patients(&self) -> usize {
        self.patients.len()
    }

    /// Total monitoring time, in patient-days: first to last reading of every patient seen.
    pub fn patient_days(&self) -> f64 {
        let live: i64 = self.patients.values().map(|p| p.clock - p.first_ts).sum();
        (live + self.stats.evicted_span_ms) as f64 / 86_400_000.0
    }

    /// Scores one reading, feeds it to the patient's alarms, and appends the alert events it causes
    /// (in rule order, then those of the sweep) to `out`. `None`: a new patient past
    /// `--max-patients`, not scored; the reading is to be passed on as it came.
    pub fn on_vitals(&mut self, v: &Vitals, out: &mut Vec<Alert>) -> Option<News2> {
        self.stats.vitals += 1;
        let now = v.ts.millis();
        if self.stream == i64::MIN {
            self.stream = now;
        }
        let Engine {
            cfg,
            patients,
            stats,
            gaps,
            quiet,
            stream,
            full_noted,
            full,
            live,
            ..
        } = self;
        let held = patients.len();
        let mut is_new = false;
        let p = match patients.get_mut(v.patient_id.as_str()) {
            Some(p) => p,
            None if held >= cfg.max_patients => {
                stats.unscored += 1;
                if full_noted.is_none_or(|t| *stream - t >= FULL_NOTE_EVERY_MS) {
                    *full_noted = Some(*stream);
                    *full = Some(Full {
                        ts: v.ts,
                        patient_id: v.patient_id.clone(),
                        max_patients: cfg.max_patients,
                    });
                }
                return None;
            }
            None => {
                is_new = true;
                let set = cfg.patient_sets.get(&v.patient_id).copied().unwrap_or(0);
                let n = cfg.sets[set as usize].rules.len();
                patients.entry(v.patient_id.clone()).or_insert(Patient {
                    device_id: v.device_id.clone(),
                    seq: v.seq,
                    first_ts: now,
                    last_ts: now,
                    clock: now,
                    clock_base: 0,
                    seen_at: *stream,
                    at: *stream,
                    prev_device: 0,
                    set,
                    sbp: Carried::default(),
                    temp: Carried::default(),
                    spo2_prev: None,
                    spo2_hold: None,
                    busy: 0,
                    device_hash: id_hash(&v.device_id),
                    alarms: vec![Alarm::Idle; n].into_boxed_slice(),
                })
            }
        };
        let prev_seen = p.seen_at;
        let device_hash = id_hash(&v.device_id);
        let arrival = if is_new {
            Arrival::New
        } else {
            arrival(p, v.seq, now, device_hash)
        };
        match arrival {
            Arrival::Duplicate => stats.duplicates += 1,
            Arrival::Late => stats.late += 1,
            Arrival::New | Arrival::Next { .. } | Arrival::Restart | Arrival::NewDevice => {}
        }
        let fresh = !matches!(arrival, Arrival::Late | Arrival::Duplicate);
        // The patient's clock for this reading: a late record sits as far before the latest as
        // its device's clock says.
        let clock = if fresh {
            // The device's own advance since its previous reading, and the stream's.
            let own = now.saturating_sub(p.last_ts);
            let seen = *stream - p.seen_at;
            let mut seq_step = 1;
            if let Arrival::Next { seq_step: step } = arrival
                && step > 1
            {
                let lost = step - 1;
                let possible = (own.max(0) as u64 / 1000).saturating_mul(READINGS_PER_SECOND_MAX);
                let counted = lost <= possible.saturating_add(READINGS_PER_SECOND_MAX);
                if counted {
                    stats.gaps += 1;
                    stats.lost_readings = stats.lost_readings.saturating_add(lost);
                    seq_step = step;
                } else {
                    stats.seq_jumps += 1;
                }
                gaps.push(Gap {
                    ts: v.ts,
                    patient_id: v.patient_id.clone(),
                    device_id: v.device_id.clone(),
                    from_seq: p.seq.saturating_add(1),
                    lost,
                    counted,
                });
            }
            let believable = own >= 0
                && if seen > 0 {
                    own <= seen + CLOCK_STEP_TOLERANCE_MS
                } else {
                    *live <= 1 || own as u64 <= seq_step.saturating_mul(READING_GAP_MAX_MS as u64)
                };
            let advance = if believable { own } else { seen };
            if !believable && matches!(arrival, Arrival::Next { .. }) {
                stats.clock_steps += 1;
            }
            // The patient's own progress moves the stream clock, by at most a few seconds a reading
            // while other patients are sending too.
            p.at = p.at.saturating_add(advance);
            let cap = if *live <= 1 {
                i64::MAX
            } else {
                STREAM_STEP_MAX_MS
            };
            *stream = (*stream).max(p.at.min(stream.saturating_add(cap)));
            if arrival == Arrival::NewDevice {
                p.prev_device = p.device_hash;
                p.device_id.clone_from(&v.device_id);
                p.device_hash = device_hash;
            }
            p.clock += advance;
            if matches!(arrival, Arrival::NewDevice | Arrival::Restart) {
                // A new or restarted device's clock is what it is (a restart may well have
                // reset it): only its later steps are skew.
                p.clock_base = now - p.clock;
            }
            p.seq = v.seq;
            p.last_ts = now;
            p.seen_at = *stream;
            p.clock
        } else {
            p.clock - p.last_ts.saturating_sub(now).max(0)
        };
        let stream_now = *stream;
        let skew_ms = p.last_ts - p.clock - p.clock_base;
        let set = &cfg.sets[p.set as usize];

        let faults = plausibility::check(v);
        let mut vals = plausible_values(v, &faults);
        if fresh
            && cfg.spo2_drop_pct > 0
            && let Some(x) = vals[Vital::Spo2 as usize]
            && spo2_artifact(p, x as i32, clock, cfg.spo2_drop_pct, cfg.spo2_hold_ms)
        {
            vals[Vital::Spo2 as usize] = None;
            stats.spo2_artifact_readings += 1;
        }
        let int = |vital: Vital| vals[vital as usize].map(|x| x as i32);
        let sbp_now = int(Vital::Systolic);
        let temp_now = vals[Vital::Temperature as usize];
        if fresh {
            if let Some(s) = sbp_now {
                p.sbp.update(s, clock);
            }
            if let Some(t) = temp_now {
                p.temp.update(t, clock);
            }
        }
        let obs = Observations {
            respiratory_rate_bpm: int(Vital::RespiratoryRate),
            spo2_pct: int(Vital::Spo2),
            on_oxygen: v.on_oxygen,
            systolic_mmhg: sbp_now.or_else(|| p.sbp.at(clock, cfg.carry_bp_ms)),
            heart_rate_bpm: int(Vital::HeartRate),
            consciousness: v.consciousness,
            temperature_c: temp_now.or_else(|| p.temp.at(clock, cfg.carry_temp_ms)),
        };
        let score = news2::score(&obs, set.scale);
        let result = News2 {
            score: score.map(|s| s.total()),
            risk: score.map(|s| s.risk()),
        };
        if !fresh {
            // A late or repeated reading is passed on and scored, but never moves an alarm: it
            // must not re-raise what has cleared, nor count twice towards a delay.
            return Some(result);
        }
        let skewed = skew_ms.abs() > CLOCK_STEP_TOLERANCE_MS;

        // Most readings find every alarm idle and start none: then no rule needs a visit.
        let idle =
            p.busy == 0 && !quiet[p.set as usize].may_start(&vals, score.as_ref(), &faults, skewed);
        if !idle {
            for (i, rule) in set.rules.iter().enumerate() {
                if !rule.enabled {
                    continue;
                }
                let Some((mut ev, value)) = evidence(rule, &vals, score.as_ref(), &faults, skewed)
                else {
                    continue;
                };
                // A 3 already announced by its vital's own alarm does not raise news2_single_3.
                // The built-in threshold rules come before the NEWS2 rules, so an alarm this very
                // reading raises counts; a threshold rule a rules file adds comes after them and
                // counts from the next reading (news2_single_3 waits 2 min anyway).
                if ev.alarm
                    && cfg.single_three_skips_alarmed
                    && matches!(rule.rule.trigger, Trigger::News2SingleThree)
                    && !p.alarms[i].is_active()
                    && let Some(s) = &score
                {
                    ev.alarm = unalarmed_three(s, &set.rules, &p.alarms);
                }
                let bit = busy_bit(i);
                if bit != 0 && p.busy & bit == 0 && !ev.alarm {
                    // Idle and nothing to start: the state machine would stay as it is.
                    continue;
                }
                // device_silent is raised on the stream clock by the sweep, so it runs on that.
                let t = if matches!(rule.rule.trigger, Trigger::DeviceSilent { .. }) {
                    stream_now
                } else {
                    clock
                };
                let alarm = &mut p.alarms[i];
                let before = alarm.active().copied();
                let tr = alarm.step(&rule.timing, t, ev, |ms| rule.target(value, ms));
                if *alarm == Alarm::Idle {
                    p.busy &= !bit;
                } else {
                    p.busy |= bit;
                }
                let Some(tr) = tr else {
                    continue;
                };
                let ctx = Ctx {
                    rule,
                    v,
                    value,
                    score: score.as_ref(),
                    faults: &faults,
                    silent_ms: stream_now - prev_seen,
                    clock,
                    skew_ms,
                };
                let raised_at = alarm
                    .active()
                    .or(before.as_ref())
                    .map_or(t, |a| a.raised_at);
                out.push(ctx.alert(tr, raised_at, before.map(|a| a.priority)));
                count(stats, i, tr);
            }
        }

        if self.stream >= self.next_sweep {
            self.sweep(out);
            self.next_sweep = self.stream + SWEEP_EVERY_MS;
        }
        Some(result)
    }

    /// Raises `device_silent` for every patient without a reading for longer than the rule allows
    /// (stream time since the patient's latest reading arrived), and drops the state of patients
    /// silent for longer than the eviction time (module header: never with an alarm open about
    /// the patient unless `--max-patients` is reached, and never with a `cleared`).
    fn sweep(&mut self, out: &mut Vec<Alert>) {
        let now = self.stream;
        let start = out.len();
        let Engine {
            cfg,
            patients,
            stats,
            silent_rules,
            ..
        } = self;
        let evict_ms = cfg.evict_after_ms;
        let full = patients.len() >= cfg.max_patients;
        let mut live = 0;
        patients.retain(|id, p| {
            let set = &cfg.sets[p.set as usize];
            let silent_ms = now - p.seen_at;
            if evict_ms > 0 && silent_ms >= evict_ms {
                let open = set.rules.iter().zip(p.alarms.iter()).any(|(r, a)| {
                    a.is_active()
                        && !matches!(
                            r.rule.trigger,
                            Trigger::DeviceSilent { .. } | Trigger::ClockSkew
                        )
                });
                if !open || full {
                    stats.evicted += 1;
                    stats.evicted_with_open_alarm += u64::from(open);
                    stats.evicted_span_ms += p.clock - p.first_ts;
                    return false;
                }
            }
            live += usize::from(silent_ms < LIVE_WITHIN_MS);
            for &i in silent_rules.iter() {
                let (rule, alarm) = (&set.rules[i], &mut p.alarms[i]);
                let Trigger::DeviceSilent { after_s } = rule.rule.trigger else {
                    continue;
                };
                if !rule.enabled || alarm.is_active() || (silent_ms as f64) < after_s * 1000.0 {
                    continue;
                }
                let ev = Evidence {
                    alarm: true,
                    clear: false,
                };
                let tr = alarm.step(&rule.timing, now, ev, |_| rule.rule.priority);
                if *alarm != Alarm::Idle {
                    p.busy |= busy_bit(i);
                }
                if let Some(tr) = tr {
                    let raised_at = alarm.active().map_or(now, |a| a.raised_at);
                    let mut alert = base_alert(rule, id, &p.device_id, now, raised_at);
                    alert.state = AlertState::Raised;
                    alert.message = format!(
                        "no reading from {} for {} of stream time",
                        p.device_id,
                        duration(silent_ms)
                    );
                    out.push(alert);
                    count(stats, i, tr);
                }
            }
            true
        });
        self.live = live;
        // HashMap order is not stable between runs: sort so a replay gives the same lines.
        out[start..].sort_by(|a, b| a.patient_id.cmp(&b.patient_id));
    }
}

/// What can start an alarm of one rule set, gathered so that a reading can be let through without
/// visiting every rule: per vital, the widest "below" and "above" alarm condition of the enabled
/// threshold rules (conditions of one direction are nested half-lines, so a value that meets any
/// of them meets the widest), the lowest NEWS2 band, and whether any rule watches for a single
/// NEWS2 parameter of 3 or for a sensor fault.
#[derive(Debug)]
struct Quiet {
    below: [Option<Condition>; 7],
    above: [Option<Condition>; 7],
    news2_min: Option<u8>,
    single_three: bool,
    sensor_fault: bool,
    clock_skew: bool,
    /// False when the set has more rules than `Patient::busy` has bits: then an alarm past the
    /// 64th can be busy unseen, and every reading visits every rule.
    usable: bool,
}

impl Quiet {
    fn new(set: &RuleSet) -> Self {
        let mut q = Quiet {
            below: [None; 7],
            above: [None; 7],
            news2_min: None,
            single_three: false,
            sensor_fault: false,
            clock_skew: false,
            usable: set.rules.len() <= 64,
        };
        // Orders the conditions of one direction by the values they take in: the limit, then
        // whether it is included.
        let reach = |c: &Condition| (c.limit, matches!(c.op, Op::Le | Op::Ge));
        for rule in set.rules.iter().filter(|r| r.enabled) {
            match rule.rule.trigger {
                Trigger::Threshold { vital, when, .. } => {
                    let (slot, wider) = match when.op {
                        Op::Lt | Op::Le => (&mut q.below[vital as usize], Ordering::Greater),
                        Op::Gt | Op::Ge => (&mut q.above[vital as usize], Ordering::Less),
                    };
                    if when.limit.is_nan() {
                        // Never holds, so never starts an alarm.
                        continue;
                    }
                    let widest = match *slot {
                        None => when,
                        Some(w) => {
                            let (a, b) = (reach(&when), reach(&w));
                            let by_limit = a.0.partial_cmp(&b.0).expect("limits are not NaN");
                            let by_bound = if matches!(when.op, Op::Lt | Op::Le) {
                                a.1.cmp(&b.1)
                            } else {
                                a.1.cmp(&b.1).reverse()
                            };
                            if by_limit.then(by_bound) == wider {
                                when
                            } else {
                                w
                            }
                        }
                    };
                    *slot = Some(widest);
                }
                Trigger::News2SingleThree => q.single_three = true,
                Trigger::News2Range { min, .. } => {
                    q.news2_min = Some(q.news2_min.map_or(min, |m| m.min(min)));
                }
                // A reading is the evidence that its device is not silent.
                Trigger::DeviceSilent { .. } => {}
                Trigger::SensorFault => q.sensor_fault = true,
                Trigger::ClockSkew => q.clock_skew = true,
            }
        }
        q
    }

    /// Whether this reading might start one of the set's alarms (when in doubt, true).
    fn may_start(
        &self,
        vals: &[Option<f64>; 7],
        score: Option<&Score>,
        faults: &[Implausible],
        skewed: bool,
    ) -> bool {
        if !self.usable || (self.sensor_fault && !faults.is_empty()) || (self.clock_skew && skewed)
        {
            return true;
        }
        if let Some(s) = score
            && ((self.single_three && s.has_single_three())
                || self.news2_min.is_some_and(|m| s.total() >= m))
        {
            return true;
        }
        vals.iter()
            .zip(self.below.iter().zip(&self.above))
            .any(|(x, (lo, hi))| {
                x.is_some_and(|x| lo.is_some_and(|c| c.holds(x)) || hi.is_some_and(|c| c.holds(x)))
            })
    }
}

/// Whether this SpO2 reading is a motion artifact: the start of a fall faster than an averaging
/// oximeter shows a real one, or a reading before SpO2 is back near its level before that fall.
fn spo2_artifact(p: &mut Patient, x: i32, now: i64, drop_pct: i32, hold_ms: i64) -> bool {
    let prev = p.spo2_prev.replace((x, now));
    if let Some((before, since)) = p.spo2_hold {
        if x >= before - 2 || now - since >= hold_ms {
            p.spo2_hold = None;
            return false;
        }
        return true;
    }
    match prev {
        Some((last, t)) if now - t <= 2000 && last - x >= drop_pct => {
            p.spo2_hold = Some((last, now));
            true
        }
        _ => false,
    }
}

/// Every vital's value when present and plausible (`plausibility::plausible_value` for all seven at
/// once, from the faults already found), indexed by `Vital as usize`.
fn plausible_values(v: &Vitals, faults: &[Implausible]) -> [Option<f64>; 7] {
    let mut vals = [None; 7];
    for vital in Vital::ALL {
        vals[vital as usize] = v.get(vital);
    }
    for f in faults {
        vals[f.vital as usize] = None;
    }
    if let (Some(s), Some(d)) = (v.systolic_mmhg, v.diastolic_mmhg)
        && s <= d
    {
        vals[Vital::Systolic as usize] = None;
        vals[Vital::Diastolic as usize] = None;
    }
    vals
}

fn count(stats: &mut Stats, rule: usize, tr: Transition) {
    match tr {
        Transition::Raised { priority, .. } => stats.raised[rule][priority as usize] += 1,
        Transition::Escalated { .. } => stats.escalated[rule] += 1,
        Transition::Cleared { .. } => stats.cleared[rule] += 1,
    }
}

/// What one reading says about one rule, with the value the rule looks at; `skewed`: its device's
/// clock has stepped beyond [`CLOCK_STEP_TOLERANCE_MS`].
fn evidence(
    rule: &CompiledRule,
    vals: &[Option<f64>; 7],
    score: Option<&Score>,
    faults: &[Implausible],
    skewed: bool,
) -> Option<(Evidence, Option<f64>)> {
    match &rule.rule.trigger {
        Trigger::Threshold { vital, when, clear } => {
            let x = vals[*vital as usize]?;
            let alarm = when.holds(x);
            Some((
                Evidence {
                    alarm,
                    clear: !alarm && clear.holds(x),
                },
                Some(x),
            ))
        }
        Trigger::News2SingleThree => {
            let s = score?;
            let three = s.has_single_three();
            Some((
                Evidence {
                    alarm: three,
                    clear: !three,
                },
                Some(f64::from(s.total())),
            ))
        }
        Trigger::News2Range { min, max } => {
            let t = score?.total();
            Some((
                Evidence {
                    alarm: t >= *min && max.is_none_or(|m| t <= m),
                    clear: t < *min,
                },
                Some(f64::from(t)),
            ))
        }
        // A reading from the device is the evidence that it is not silent.
        Trigger::DeviceSilent { .. } => Some((
            Evidence {
                alarm: false,
                clear: true,
            },
            None,
        )),
        Trigger::SensorFault => Some((
            Evidence {
                alarm: !faults.is_empty(),
                clear: faults.is_empty(),
            },
            faults.first().map(|f| f.value),
        )),
        Trigger::ClockSkew => Some((
            Evidence {
                alarm: skewed,
                clear: !skewed,
            },
            None,
        )),
    }
}

/// `PT-1003/spo2_low/2026-11-28T05:40:01.000Z`: the patient, the rule and the event time of the
/// raise, so the same stream always gives the same id and no two episodes share one.
pub fn alert_id(patient_id: &str, rule: &str, raised_at: i64) -> String {
    let mut s = String::with_capacity(patient_id.len() + rule.len() + 26);
    s.push_str(patient_id);
    s.push('/');
    s.push_str(rule);
    s.push('/');
    s.push_str(&Timestamp(raised_at).to_rfc3339());
    s
}

fn base_alert(
    rule: &CompiledRule,
    patient_id: &str,
    device_id: &str,
    now: i64,
    raised_at: i64,
) -> Alert {
    Alert {
        record_type: AlertTag,
        ts: Timestamp(now),
        patient_id: patient_id.to_owned(),
        device_id: device_id.to_owned(),
        alert_id: alert_id(patient_id, &rule.rule.name, raised_at),
        rule: rule.rule.name.clone(),
        kind: rule.rule.kind,
        priority: rule.rule.priority,
        state: AlertState::Raised,
        vital: match rule.rule.trigger {
            Trigger::Threshold { vital, .. } => Some(vital),
            _ => None,
        },
        value: None,
        limit: None,
        news2: None,
        message: String::new(),
    }
}

/// Everything needed to word one alert event.
struct Ctx<'a> {
    rule: &'a CompiledRule,
    v: &'a Vitals,
    value: Option<f64>,
    score: Option<&'a Score>,
    faults: &'a [Implausible],
    /// Stream time since the patient's previous reading.
    silent_ms: i64,
    /// The patient's clock at this reading (durations are measured on it).
    clock: i64,
    /// How far the device's clock has stepped from the patient's clock (+: ahead).
    skew_ms: i64,
}

/// Whether a NEWS2 parameter scores 3 on a vital that no raised threshold alarm already announces
/// (air or oxygen and consciousness have no such vital). See
/// [`crate::rules_file::DEFAULT_NEWS2_SINGLE_3_SKIPS_ALARMED_VITALS`].
fn unalarmed_three(score: &Score, rules: &[CompiledRule], alarms: &[Alarm]) -> bool {
    let alarmed = |vital: Vital| {
        rules.iter().zip(alarms).any(|(r, a)| {
            r.enabled
                && a.is_active()
                && matches!(r.rule.trigger, Trigger::Threshold { vital: w, .. } if w == vital)
        })
    };
    score
        .parameters()
        .iter()
        .zip(PARAMETER_VITALS)
        .any(|(&points, vital)| points == 3 && !vital.is_some_and(alarmed))
}

/// The vital behind each NEWS2 parameter, in the order of [`Score::parameters`].
const PARAMETER_VITALS: [Option<Vital>; 7] = [
    Some(Vital::RespiratoryRate),
    Some(Vital::Spo2),
    None,
    Some(Vital::Systolic),
    Some(Vital::HeartRate),
    None,
    Some(Vital::Temperature),
];

const PARAMETERS: [&str; 7] = [
    "respiration rate",
    "SpO2",
    "air or oxygen",
    "systolic BP",
    "pulse",
    "consciousness",
    "temperature",
];

impl Ctx<'_> {
    fn alert(&self, tr: Transition, raised_at: i64, old_priority: Option<Priority>) -> Alert {
        let rule = &self.rule.rule;
        let now = self.v.ts.millis();
        let mut a = base_alert(
            self.rule,
            &self.v.patient_id,
            &self.v.device_id,
            now,
            raised_at,
        );
        a.value = self.value;
        a.news2 = self.score.map(|s| s.total());
        let (state, priority) = match tr {
            Transition::Raised { priority, .. } => (AlertState::Raised, priority),
            Transition::Escalated { to, .. } => (AlertState::Escalated, to),
            Transition::Cleared { .. } => {
                (AlertState::Cleared, old_priority.unwrap_or(rule.priority))
            }
        };
        a.state = state;
        a.priority = priority;
        let x = self.value.unwrap_or(f64::NAN);
        match &rule.trigger {
            Trigger::Threshold { vital, when, clear } => {
                let vital = *vital;
                let (op, limit) = match tr {
                    Transition::Raised { .. } => (when.op, when.limit),
                    Transition::Escalated { to, .. } => rule
                        .escalate
                        .iter()
                        .find(|e| e.priority == to && e.when.holds(x))
                        .map_or((when.op, when.limit), |e| (e.when.op, e.when.limit)),
                    Transition::Cleared { .. } => (clear.op, clear.limit),
                };
                a.limit = Some(limit);
                let mut m = format!(
                    "{} {}{} {} {}{}",
                    vital.label(),
                    number(vital, x),
                    vital.unit(),
                    op.words(),
                    number(vital, limit),
                    vital.unit()
                );
                match tr {
                    Transition::Raised { held_ms, .. } if held_ms > 0 => {
                        m.push_str(&format!(" for {}", duration(held_ms)));
                    }
                    Transition::Raised { .. } => {}
                    Transition::Escalated { from, to } => m.push_str(&format!(
                        " for {}: priority up from {from} to {to}",
                        duration(self.clock - raised_at)
                    )),
                    Transition::Cleared { active_ms, held_ms } => {
                        if held_ms > 0 {
                            m.push_str(&format!(" for {}", duration(held_ms)));
                        }
                        m.push_str(&format!(": cleared after {}", duration(active_ms)));
                    }
                }
                a.message = m;
            }
            Trigger::News2SingleThree => {
                a.limit = Some(3.0);
                a.message = match (tr, self.score) {
                    (Transition::Cleared { active_ms, .. }, _) => format!(
                        "no NEWS2 parameter scores 3 any more: cleared after {}",
                        duration(active_ms)
                    ),
                    (_, Some(s)) => {
                        let which: Vec<_> = s
                            .parameters()
                            .iter()
                            .zip(PARAMETERS)
                            .filter(|(p, _)| **p == 3)
                            .map(|(_, n)| n)
                            .collect();
                        format!(
                            "NEWS2 scores 3 in {} (aggregate {}): low-medium risk",
                            which.join(", "),
                            s.total()
                        )
                    }
                    (_, None) => "a NEWS2 parameter scores 3".to_owned(),
                };
            }
            Trigger::News2Range { min, max } => {
                a.limit = Some(f64::from(*min));
                let t = self.score.map_or(0, |s| s.total());
                let band = match max {
                    Some(m) => format!("in {min}–{m}"),
                    None => format!("at or above {min}"),
                };
                a.message = match tr {
                    Transition::Cleared { active_ms, .. } => format!(
                        "NEWS2 {t} below {min}: cleared after {}",
                        duration(active_ms)
                    ),
                    _ => format!(
                        "NEWS2 {t} {band}: {} response",
                        if rule.priority >= Priority::High {
                            "emergency"
                        } else {
                            "urgent"
                        }
                    ),
                };
            }
            Trigger::DeviceSilent { .. } => {
                a.message = format!(
                    "readings from {} resumed after {} without one",
                    self.v.device_id,
                    duration(self.silent_ms)
                );
            }
            Trigger::ClockSkew => {
                a.message = match tr {
                    Transition::Cleared { active_ms, .. } => format!(
                        "clock of {} agrees with the stream again: cleared after {}",
                        self.v.device_id,
                        duration(active_ms)
                    ),
                    _ => format!(
                        "clock of {} is {} {} the time the stream has seen pass: its readings are \
                         ordered by seq and timed by the stream until it is set right",
                        self.v.device_id,
                        duration(self.skew_ms.abs()),
                        if self.skew_ms > 0 {
                            "ahead of"
                        } else {
                            "behind"
                        }
                    ),
                };
            }
            Trigger::SensorFault => {
                if let Some(f) = self.faults.first() {
                    a.vital = Some(f.vital);
                    a.limit = Some(f.limit);
                }
                a.message = match tr {
                    Transition::Cleared { active_ms, .. } => format!(
                        "plausible readings again: cleared after {}",
                        duration(active_ms)
                    ),
                    _ => {
                        let all: Vec<_> = self.faults.iter().map(|f| f.describe()).collect();
                        format!("{}: sensor fault, not scored", all.join("; "))
                    }
                };
            }
        }
        a
    }
}

/// A value as a clinician writes it: temperature with one decimal, the rest as integers, and
/// absurd magnitudes (a rules file's limit of 1e300) in exponent form, never 300 digits.
fn number(vital: Vital, x: f64) -> String {
    if vital == Vital::Temperature && x.abs() < 1e9 {
        format!("{x:.1}")
    } else {
        plausibility::fmt_num(x)
    }
}

/// "15 s", "2 min 5 s", "1 h 3 min".
pub fn duration(ms: i64) -> String {
    let s = ms.max(0).saturating_add(500) / 1000;
    if s < 60 {
        format!("{s} s")
    } else if s < 3600 {
        if s % 60 == 0 {
            format!("{} min", s / 60)
        } else {
            format!("{} min {} s", s / 60, s % 60)
        }
    } else {
        format!("{} h {} min", s / 3600, (s % 3600) / 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules_file::{Overrides, RulesFile};

    /// `Quiet` must never let through a reading that meets a rule's alarm condition.
    #[test]
    fn a_reading_that_starts_an_alarm_is_never_taken_for_quiet() {
        let file = RulesFile {
            defaults: true,
            ..Default::default()
        };
        let cfg = Config::build_with(&file, &Overrides::default()).unwrap();
        let set = &cfg.sets[0];
        let quiet = Quiet::new(set);
        let mut checked = 0;
        for vital in Vital::ALL {
            for tenth in -10..=4000 {
                let mut vals = [None; 7];
                vals[vital as usize] = Some(f64::from(tenth) / 10.0);
                let starts = set.rules.iter().filter(|r| r.enabled).any(|r| {
                    matches!(r.rule.trigger, Trigger::Threshold { .. })
                        && evidence(r, &vals, None, &[], false).is_some_and(|(e, _)| e.alarm)
                });
                assert_eq!(
                    quiet.may_start(&vals, None, &[], false),
                    starts,
                    "{vital} {vals:?}"
                );
                checked += 1;
            }
        }
        assert!(checked > 0);
    }
}

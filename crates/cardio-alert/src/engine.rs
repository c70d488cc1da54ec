//! The alarm engine: per-patient state (its clock, carried NEWS2 parameters, one alarm state per
//! rule), NEWS2 per reading, the dispatch of each reading to the rules, the sweep that raises
//! `device_silent`, and the eviction of patients who have gone quiet. When time moves is the
//! [`crate::clock`] module's policy, what an alert says is [`crate::wording`]'s, which readings
//! can skip the rules is [`crate::start_filter`]'s, and how `admission` and `settings` records
//! change a patient's rules is [`crate::stream_settings`]'.
//!
//! Every decision is a function of the input alone (event times and arrival order, never the
//! wall clock), so a replay of the same bytes gives the same alerts, in the same order, with the
//! same ids.
//!
//! # State that is dropped
//!
//! A patient without a reading for `--evict-after` of stream time is forgotten, but only when no
//! alarm about the patient (anything but `device_silent` and `clock_skew`) is open: forgetting
//! never sends a `cleared`, so an alarm downstream stays open until evidence clears it. Past
//! `--max-patients`, readings of new patients are passed on unscored, and silent patients are
//! forgotten even with an alarm open (which then stays open downstream). A forgotten patient's
//! stream settings are kept, and apply again if it sends again within another `--evict-after`;
//! so are settings records of patients not yet seen. Patients held and patients whose settings
//! wait share the `--max-patients` bound.

use std::collections::HashMap;
use std::hash::BuildHasher;
use std::sync::Arc;

use vitals_core::news2::{self, Observations, Score};
use vitals_core::plausibility::{self, Implausible};
use vitals_core::rules::Trigger;
use vitals_core::{Admission, Alert, Risk, Settings, Timestamp, Vital, Vitals};

use crate::alarm::{Alarm, Evidence, Transition};
use crate::carry::Carried;
use crate::clock::{Arrival, CLOCK_STEP_TOLERANCE_MS, LIVE_WITHIN_MS, PatientClock};
use crate::rules_file::{CompiledRule, Config};
use crate::sat_seconds::{SatIntegral, SatSettings};
use crate::start_filter::StartFilter;
use crate::stream_settings::{self, Change, Shared, StreamState};
use crate::wording::{self, Wording};

/// How often (stream time) the sweep looks for silent devices and idle patients.
const SWEEP_EVERY_MS: i64 = 1000;

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
    /// The device, its order and clock, and the patient's clock (module [`crate::clock`]).
    time: PatientClock,
    set: u32,
    sbp: Carried<i32>,
    temp: Carried<f64>,
    /// The last plausible SpO2 and its time, to see a fall too fast to be real.
    spo2_prev: Option<(i32, i64)>,
    /// While SpO2 is held as a motion artifact.
    spo2_hold: Option<Spo2Hold>,
    /// Bit i set while rule i's alarm is not idle (rules past the 64th are always visited). With
    /// 10,000 patients the alarm states do not fit in the CPU's cache; a reading that starts no
    /// alarm only needs this word to know that it has nothing to do.
    busy: u64,
    alarms: Box<[Alarm]>,
    /// The SatSeconds integral of each enabled `sat_seconds` rule (by rule index; empty without
    /// such a rule, so other rule sets pay nothing for them).
    sat: Vec<(usize, SatIntegral)>,
    /// What `admission` and `settings` records have said (none for most streams).
    stream: Option<Box<StreamState>>,
}

/// SpO2 held as suspect after a fall too fast to be real (docs/spec.md §3.2).
#[derive(Debug)]
struct Spo2Hold {
    /// The level before the fall.
    before: i32,
    /// The first held reading's time.
    since: i64,
    /// Every held reading (time, SpO2): if the level stays down, the fall was real and these are
    /// the evidence its alarms' condition delays count from.
    held: Vec<(i64, i32)>,
}

/// What the motion-artifact check makes of one SpO2 reading.
#[derive(Debug, PartialEq)]
enum Spo2Check {
    /// Passed on as it is.
    Pass,
    /// Held back as suspect: no rule and no NEWS2 sees it.
    Held,
    /// Passed on, and it ends a hold with the level still down: the held readings were real.
    Real(Vec<(i64, i32)>),
}

fn id_hash(id: &str) -> u64 {
    IdHashing::default().hash_one(id)
}

/// The bit of rule `i` in `Patient::busy`, or 0 for rules past the 64th.
fn busy_bit(i: usize) -> u64 {
    if i < 64 { 1 << i } else { 0 }
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
    /// reading ([`crate::clock::READINGS_PER_SECOND_MAX`]): a corrupt or re-based counter, not counted as lost.
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
    /// Motion-artifact holds that ended with SpO2 still down (the fall was real).
    pub spo2_holds_real: u64,
    /// Raised events per rule index, by priority (low, medium, high).
    pub raised: Vec<[u64; 3]>,
    pub escalated: Vec<u64>,
    pub cleared: Vec<u64>,
    /// Monitoring time of patients already evicted, in ms.
    pub evicted_span_ms: i64,
    /// Valid `admission` and `settings` records taken in, and how many of them have applied.
    pub stream_settings: u64,
    pub stream_settings_applied: u64,
    /// Records not kept: past `--max-patients` patients not yet seen, or more than a patient's
    /// queue holds ahead of its readings (a later complete set supersedes them).
    pub stream_settings_dropped: u64,
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
    start_filters: Vec<StartFilter>,
    /// The stream clock (module [`crate::clock`]).
    stream: i64,
    /// Patients still sending at the last sweep (a reading within [`LIVE_WITHIN_MS`]).
    live: usize,
    /// Stream settings of patients not (or no longer) held: the stream clock when they were last
    /// touched, and the state, applied from the patient's next first reading.
    waiting: IdMap<(i64, StreamState)>,
    /// Rule sets with stream limits, shared by the patients that run on the same ones.
    shared: Shared,
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
        let start_filters = cfg.sets.iter().map(StartFilter::new).collect();
        Engine {
            cfg,
            silent_rules,
            start_filters,
            patients: IdMap::default(),
            waiting: IdMap::default(),
            shared: Shared::default(),
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
        let live: i64 = self.patients.values().map(|p| p.time.monitored_ms()).sum();
        (live + self.stats.evicted_span_ms) as f64 / 86_400_000.0
    }

    /// Takes a `settings` record: held until its time on the patient's clock (module
    /// [`crate::stream_settings`]). A record that does not fit the rules changes nothing: the
    /// reason is returned for the caller to report.
    pub fn on_settings(&mut self, s: &Settings) -> Result<(), String> {
        let limits = stream_settings::check(s, self.cfg.rules())?;
        self.hold(
            &s.patient_id,
            s.ts.millis(),
            Change::Limits(Arc::new(limits)),
        );
        Ok(())
    }

    /// Takes an `admission` record: the patient's NEWS2 SpO2 scale from its time on.
    pub fn on_admission(&mut self, a: &Admission) {
        self.hold(&a.patient_id, a.ts.millis(), Change::Scale(a.spo2_scale));
    }

    fn hold(&mut self, patient_id: &str, ts: i64, change: Change) {
        self.stats.stream_settings += 1;
        let held = self.patients.len();
        let kept = match self.patients.get_mut(patient_id) {
            Some(p) => {
                let due = p.time.on_patient_clock(ts);
                p.stream.get_or_insert_default().hold(due, change)
            }
            // Patients held and patients waiting share the --max-patients bound.
            None if !self.waiting.contains_key(patient_id)
                && held + self.waiting.len() >= self.cfg.max_patients =>
            {
                false
            }
            None => {
                let (seen, state) = self
                    .waiting
                    .entry(patient_id.to_owned())
                    .or_insert_with(|| (self.stream, StreamState::default()));
                *seen = (*seen).max(self.stream);
                // The patient's clock starts at its first reading's ts: the record's own time.
                state.hold(ts, change)
            }
        };
        if !kept {
            self.stats.stream_settings_dropped += 1;
        }
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
            start_filters,
            stream,
            full_noted,
            full,
            live,
            waiting,
            shared,
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
                    time: PatientClock::new(v, id_hash(&v.device_id), *stream),
                    set,
                    sbp: Carried::default(),
                    temp: Carried::default(),
                    spo2_prev: None,
                    spo2_hold: None,
                    busy: 0,
                    alarms: vec![Alarm::Idle; n].into_boxed_slice(),
                    sat: cfg.sets[set as usize]
                        .rules
                        .iter()
                        .enumerate()
                        .filter(|(_, r)| r.enabled && SatSettings::of(&r.rule.trigger).is_some())
                        .map(|(i, _)| (i, SatIntegral::default()))
                        .collect(),
                    stream: waiting
                        .remove(v.patient_id.as_str())
                        .map(|(_, s)| Box::new(s)),
                })
            }
        };
        let prev_seen = p.time.seen_at;
        let device_hash = id_hash(&v.device_id);
        let arrival = if is_new {
            Arrival::New
        } else {
            p.time.arrival(v.seq, now, device_hash)
        };
        match arrival {
            Arrival::Duplicate => stats.duplicates += 1,
            Arrival::Late => stats.late += 1,
            Arrival::New | Arrival::Next { .. } | Arrival::Restart | Arrival::NewDevice => {}
        }
        let fresh = !matches!(arrival, Arrival::Late | Arrival::Duplicate);
        // The patient's clock for this reading (module `clock`).
        let clock = if fresh {
            let step = p.time.advance(arrival, v, device_hash, stream, *live);
            if let Some(gap) = step.gap {
                if gap.counted {
                    stats.gaps += 1;
                    stats.lost_readings = stats.lost_readings.saturating_add(gap.lost);
                } else {
                    stats.seq_jumps += 1;
                }
                gaps.push(Gap {
                    ts: v.ts,
                    patient_id: v.patient_id.clone(),
                    device_id: v.device_id.clone(),
                    from_seq: gap.from_seq,
                    lost: gap.lost,
                    counted: gap.counted,
                });
            }
            if step.stepped {
                stats.clock_steps += 1;
            }
            p.time.clock
        } else {
            p.time.at_late(now)
        };
        let stream_now = *stream;
        let skew_ms = p.time.skew_ms();
        if fresh && let Some(st) = p.stream.as_deref_mut() {
            let base = (p.set, &cfg.sets[p.set as usize]);
            stats.stream_settings_applied += st.apply_due(clock, base, &p.alarms, shared) as u64;
        }
        // The patient's rules as the stream set them, else its rules-file set (an Arc, so that
        // the patient's state can be changed while its rules are read).
        let own = p.stream.as_ref().and_then(|s| s.own.clone());
        let set = own
            .as_ref()
            .map_or(&cfg.sets[p.set as usize], |o| &o.rules.set);
        let filter = own
            .as_ref()
            .map_or(&start_filters[p.set as usize], |o| &o.rules.filter);

        let faults = plausibility::check(v);
        let mut vals = plausible_values(v, &faults);
        if fresh
            && cfg.spo2_drop_pct > 0
            && let Some(x) = vals[Vital::Spo2 as usize]
        {
            match spo2_artifact(p, x as i32, clock, cfg.spo2_drop_pct, cfg.spo2_hold_ms) {
                Spo2Check::Pass => {}
                Spo2Check::Held => {
                    vals[Vital::Spo2 as usize] = None;
                    stats.spo2_artifact_readings += 1;
                }
                Spo2Check::Real(held) => {
                    stats.spo2_holds_real += 1;
                    pend_held_spo2(p, &set.rules, &held);
                }
            }
        }
        // The SatSeconds integrals see every SpO2 reading the rules see, in order, so that one
        // at or above the limit resets them even while their alarm is idle.
        if fresh && let Some(x) = vals[Vital::Spo2 as usize] {
            update_sat(p, &set.rules, clock, x);
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
        let idle = p.busy == 0 && !filter.may_start(&vals, score.as_ref(), &faults, skewed);
        if !idle {
            for (i, rule) in set.rules.iter().enumerate() {
                if !rule.enabled {
                    continue;
                }
                let found = match p.sat.iter().find(|(k, _)| *k == i) {
                    Some((_, sat)) => sat_evidence(rule, sat, &vals),
                    None => evidence(rule, &vals, score.as_ref(), &faults, skewed),
                };
                let Some((mut ev, value)) = found else {
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
                    let values = parameter_values(&obs);
                    ev.alarm =
                        unalarmed_three(s, &values, &set.rules, &cfg.sets[0].rules, &p.alarms);
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
                // A limit changed under an alarm in progress: it ends at once when this reading no
                // longer meets the new limit.
                let limit_changed = p.stream.as_deref_mut().is_some_and(|s| s.take_recheck(i))
                    && p.alarms[i].is_active()
                    && !ev.alarm;
                let alarm = &mut p.alarms[i];
                let before = alarm.active().copied();
                let tr = if limit_changed {
                    alarm.force_clear(t)
                } else {
                    alarm.step(&rule.timing, t, ev, |ms| rule.target(value, ms))
                };
                if *alarm == Alarm::Idle {
                    p.busy &= !bit;
                } else {
                    p.busy |= bit;
                }
                let Some(tr) = tr else {
                    continue;
                };
                let wording = Wording {
                    rule,
                    v,
                    value,
                    sat: p.sat.iter().find(|(k, _)| *k == i).map(|(_, s)| s),
                    score: score.as_ref(),
                    faults: &faults,
                    silent_ms: stream_now - prev_seen,
                    clock,
                    skew_ms,
                    settings_id: own.as_ref().and_then(|o| o.settings_id(i)),
                    limit_changed,
                };
                let raised_at = alarm
                    .active()
                    .or(before.as_ref())
                    .map_or(t, |a| a.raised_at);
                out.push(wording.alert(tr, raised_at, before.map(|a| a.priority)));
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
            waiting,
            ..
        } = self;
        let evict_ms = cfg.evict_after_ms;
        if evict_ms > 0 {
            waiting.retain(|_, (seen, _)| now - *seen < evict_ms);
        }
        let full = patients.len() >= cfg.max_patients;
        let mut live = 0;
        patients.retain(|id, p| {
            let set = &cfg.sets[p.set as usize];
            let silent_ms = now - p.time.seen_at;
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
                    stats.evicted_span_ms += p.time.monitored_ms();
                    if let Some(s) = p.stream.take()
                        && !full
                    {
                        waiting.insert(id.clone(), (now, s.park()));
                    }
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
                    out.push(wording::silence(
                        rule,
                        id,
                        &p.time.device_id,
                        now,
                        raised_at,
                        silent_ms,
                    ));
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

/// Whether this SpO2 reading is a motion artifact: the start of a fall faster than an averaging
/// oximeter shows a real one, or a reading before SpO2 is back near its level before that fall. A
/// hold that runs its full time with SpO2 still down was a real fall: its readings are handed back.
fn spo2_artifact(p: &mut Patient, x: i32, now: i64, drop_pct: i32, hold_ms: i64) -> Spo2Check {
    let prev = p.spo2_prev.replace((x, now));
    if let Some(hold) = &mut p.spo2_hold {
        if x >= hold.before - 2 {
            p.spo2_hold = None;
            return Spo2Check::Pass;
        }
        if now - hold.since >= hold_ms {
            let held = std::mem::take(&mut hold.held);
            p.spo2_hold = None;
            return Spo2Check::Real(held);
        }
        hold.held.push((now, x));
        return Spo2Check::Held;
    }
    match prev {
        Some((last, t)) if now - t <= 2000 && last - x >= drop_pct => {
            p.spo2_hold = Some(Spo2Hold {
                before: last,
                since: now,
                held: vec![(now, x)],
            });
            Spo2Check::Held
        }
        _ => Spo2Check::Pass,
    }
}

/// Feeds the readings of a hold found real to the SpO2 threshold and SatSeconds rules, in order,
/// so each rule's condition delay (or integral) runs from the first held reading that met it (not
/// from the hold's end). Nothing is raised for the past: the reading that ends the hold raises, at
/// max(hold end, onset + delay). NEWS2 is not re-scored: its readings have gone downstream already.
fn pend_held_spo2(p: &mut Patient, rules: &[Arc<CompiledRule>], held: &[(i64, i32)]) {
    for &(t, x) in held {
        update_sat(p, rules, t, f64::from(x));
        for (i, sat) in &p.sat {
            if let Some(s) = SatSettings::of(&rules[*i].rule.trigger) {
                p.alarms[*i].pend(t, sat.evidence(&s));
            }
        }
    }
    for (i, _) in &p.sat {
        if p.alarms[*i] != Alarm::Idle {
            p.busy |= busy_bit(*i);
        }
    }
    for (i, rule) in rules.iter().enumerate() {
        if !rule.enabled
            || !matches!(
                rule.rule.trigger,
                Trigger::Threshold {
                    vital: Vital::Spo2,
                    ..
                }
            )
        {
            continue;
        }
        let mut vals = [None; 7];
        for &(t, x) in held {
            vals[Vital::Spo2 as usize] = Some(f64::from(x));
            if let Some((ev, _)) = evidence(rule, &vals, None, &[], false) {
                p.alarms[i].pend(t, ev);
            }
        }
        if p.alarms[i] != Alarm::Idle {
            p.busy |= busy_bit(i);
        }
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
    if vitals_core::plausibility::inverted_pressures(v).is_some() {
        vals[Vital::Systolic as usize] = None;
        vals[Vital::Diastolic as usize] = None;
    }
    vals
}

/// Adds one SpO2 reading at `now` (patient clock) to every SatSeconds integral of the patient.
fn update_sat(p: &mut Patient, rules: &[Arc<CompiledRule>], now: i64, spo2: f64) {
    for (i, sat) in &mut p.sat {
        if let Some(s) = SatSettings::of(&rules[*i].rule.trigger) {
            sat.update(&s, now, spo2);
        }
    }
}

/// What the reading just added to a SatSeconds integral says about its rule (None: the reading
/// has no plausible SpO2, so no evidence).
fn sat_evidence(
    rule: &CompiledRule,
    sat: &SatIntegral,
    vals: &[Option<f64>; 7],
) -> Option<(Evidence, Option<f64>)> {
    let x = vals[Vital::Spo2 as usize]?;
    let s = SatSettings::of(&rule.rule.trigger)?;
    Some((sat.evidence(&s), Some(x)))
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
pub(crate) fn evidence(
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
        // Judged on the patient's integral, which one reading cannot tell (`sat_evidence`).
        Trigger::SatSeconds { .. } => None,
    }
}

/// Whether a NEWS2 parameter scores 3 on a vital that no raised threshold alarm already announces
/// and that no individualised limit accepts (air or oxygen and consciousness have no such vital).
/// See [`crate::rules_file::DEFAULT_NEWS2_SINGLE_3_SKIPS_ALARMED_VITALS`].
///
/// A limit is individualised when the patient's rule (from a `settings` record or the rules file's
/// `[patients.<id>]`) differs from the unit's rule of the same name (`unit_rules`, the built-in
/// rules or the rules file's): when the unit's limit would alarm at the parameter's value and the
/// patient's does not, someone has judged that value this patient's normal (a usual systolic of
/// 85 and a low limit set at 80), and `news2_single_3` would announce all day what that limit
/// accepts. The 3 still counts in the aggregate (`news2_urgent`, `news2_emergency`).
fn unalarmed_three(
    score: &Score,
    values: &[Option<f64>; 7],
    rules: &[Arc<CompiledRule>],
    unit_rules: &[Arc<CompiledRule>],
    alarms: &[Alarm],
) -> bool {
    let alarmed = |vital: Vital| {
        rules.iter().zip(alarms).any(|(r, a)| {
            r.enabled
                && a.is_active()
                && match r.rule.trigger {
                    Trigger::Threshold { vital: w, .. } => w == vital,
                    Trigger::SatSeconds { .. } => vital == Vital::Spo2,
                    _ => false,
                }
        })
    };
    let accepted = |vital: Vital, value: f64| {
        rules.iter().any(|r| {
            let Trigger::Threshold { vital: w, when, .. } = r.rule.trigger else {
                return false;
            };
            r.enabled
                && w == vital
                && !when.holds(value)
                && unit_rules.iter().any(|u| {
                    u.rule.name == r.rule.name
                        && matches!(u.rule.trigger, Trigger::Threshold { when: unit, .. }
                            if unit.op == when.op && unit.holds(value))
                })
        })
    };
    score
        .parameters()
        .iter()
        .zip(PARAMETER_VITALS)
        .zip(values)
        .any(|((&points, vital), value)| {
            points == 3
                && !vital.is_some_and(|v| alarmed(v) || value.is_some_and(|x| accepted(v, x)))
        })
}

/// The value NEWS2 scored for each of its parameters, in the order of [`Score::parameters`].
fn parameter_values(obs: &Observations) -> [Option<f64>; 7] {
    let int = |v: Option<i32>| v.map(f64::from);
    [
        int(obs.respiratory_rate_bpm),
        int(obs.spo2_pct),
        None,
        int(obs.systolic_mmhg),
        int(obs.heart_rate_bpm),
        None,
        obs.temperature_c,
    ]
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

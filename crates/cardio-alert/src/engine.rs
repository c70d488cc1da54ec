//! The alarm engine: per-patient state (last reading, carried NEWS2 parameters, one alarm state per
//! rule), NEWS2 per reading, the dispatch of each reading to the rules, the event-time watermark that
//! raises `device_silent`, and the eviction of patients who have gone quiet.
//!
//! Every decision uses event time, so a replay of the same stream gives the same alerts, in the same
//! order, with the same ids.

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

/// How often (event time) the watermark sweep looks for silent devices and idle patients.
const SWEEP_EVERY_MS: i64 = 1000;

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
    first_ts: i64,
    last_ts: i64,
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

/// A reading lost upstream, told by a gap in `seq`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gap {
    pub ts: Timestamp,
    pub patient_id: String,
    pub device_id: String,
    /// The first missing `seq`.
    pub from_seq: u64,
    pub lost: u64,
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
    pub evicted: u64,
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
    watermark: i64,
    next_sweep: i64,
    pub stats: Stats,
    pub gaps: Vec<Gap>,
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
            watermark: i64::MIN,
            next_sweep: i64::MIN,
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
        let live: i64 = self.patients.values().map(|p| p.last_ts - p.first_ts).sum();
        (live + self.stats.evicted_span_ms) as f64 / 86_400_000.0
    }

    /// Scores one reading, feeds it to the patient's alarms, and appends the alert events it causes
    /// (in rule order, then those of the watermark sweep) to `out`.
    pub fn on_vitals(&mut self, v: &Vitals, out: &mut Vec<Alert>) -> News2 {
        self.stats.vitals += 1;
        let now = v.ts.millis();
        let Engine {
            cfg,
            patients,
            stats,
            gaps,
            quiet,
            ..
        } = self;
        let mut is_new = false;
        let p = match patients.get_mut(v.patient_id.as_str()) {
            Some(p) => p,
            None => {
                is_new = true;
                let set = cfg.patient_sets.get(&v.patient_id).copied().unwrap_or(0);
                let n = cfg.sets[set as usize].rules.len();
                patients.entry(v.patient_id.clone()).or_insert(Patient {
                    device_id: v.device_id.clone(),
                    seq: v.seq,
                    first_ts: now,
                    last_ts: now,
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
        let prev_ts = p.last_ts;
        let device_hash = id_hash(&v.device_id);
        let fresh = if is_new {
            true
        } else if p.device_hash == device_hash {
            if v.seq == p.seq && now == p.last_ts {
                stats.duplicates += 1;
                false
            } else if now < p.last_ts || (v.seq <= p.seq && now == p.last_ts) {
                stats.late += 1;
                false
            } else {
                if v.seq > p.seq + 1 {
                    stats.gaps += 1;
                    stats.lost_readings += v.seq - p.seq - 1;
                    gaps.push(Gap {
                        ts: v.ts,
                        patient_id: v.patient_id.clone(),
                        device_id: v.device_id.clone(),
                        from_seq: p.seq + 1,
                        lost: v.seq - p.seq - 1,
                    });
                }
                // A lower seq at a later time is a restarted device, not a late record.
                true
            }
        } else if now < p.last_ts {
            stats.late += 1;
            false
        } else {
            p.device_id.clone_from(&v.device_id);
            p.device_hash = device_hash;
            true
        };
        let set = &cfg.sets[p.set as usize];

        let faults = plausibility::check(v);
        let mut vals = plausible_values(v, &faults);
        if fresh
            && cfg.spo2_drop_pct > 0
            && let Some(x) = vals[Vital::Spo2 as usize]
            && spo2_artifact(p, x as i32, now, cfg.spo2_drop_pct, cfg.spo2_hold_ms)
        {
            vals[Vital::Spo2 as usize] = None;
            stats.spo2_artifact_readings += 1;
        }
        let int = |vital: Vital| vals[vital as usize].map(|x| x as i32);
        let sbp_now = int(Vital::Systolic);
        let temp_now = vals[Vital::Temperature as usize];
        if fresh {
            if let Some(s) = sbp_now {
                p.sbp.update(s, now);
            }
            if let Some(t) = temp_now {
                p.temp.update(t, now);
            }
        }
        let obs = Observations {
            respiratory_rate_bpm: int(Vital::RespiratoryRate),
            spo2_pct: int(Vital::Spo2),
            on_oxygen: v.on_oxygen,
            systolic_mmhg: sbp_now.or_else(|| p.sbp.at(now, cfg.carry_bp_ms)),
            heart_rate_bpm: int(Vital::HeartRate),
            consciousness: v.consciousness,
            temperature_c: temp_now.or_else(|| p.temp.at(now, cfg.carry_temp_ms)),
        };
        let score = news2::score(&obs, set.scale);
        let result = News2 {
            score: score.map(|s| s.total()),
            risk: score.map(|s| s.risk()),
        };
        if !fresh {
            // A late or repeated reading is passed on and scored, but never moves an alarm: it
            // must not re-raise what has cleared, nor count twice towards a delay.
            return result;
        }
        p.seq = v.seq;
        p.last_ts = now;

        // Most readings find every alarm idle and start none: then no rule needs a visit.
        let idle = p.busy == 0 && !quiet[p.set as usize].may_start(&vals, score.as_ref(), &faults);
        if !idle {
            for (i, rule) in set.rules.iter().enumerate() {
                if !rule.enabled {
                    continue;
                }
                let Some((mut ev, value)) = evidence(rule, &vals, score.as_ref(), &faults) else {
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
                let alarm = &mut p.alarms[i];
                let before = alarm.active().copied();
                let tr = alarm.step(&rule.timing, now, ev, |ms| rule.target(value, ms));
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
                    silent_ms: now - prev_ts,
                };
                let raised_at = alarm
                    .active()
                    .or(before.as_ref())
                    .map_or(now, |a| a.raised_at);
                out.push(ctx.alert(tr, raised_at, before.map(|a| a.priority)));
                count(stats, i, tr);
            }
        }

        if now > self.watermark {
            self.watermark = now;
        }
        if self.watermark >= self.next_sweep {
            self.sweep(out);
            self.next_sweep = self.watermark + SWEEP_EVERY_MS;
        }
        result
    }

    /// Raises `device_silent` for every patient whose last reading is older than the rule allows at
    /// the watermark, and drops the state of patients silent for longer than the eviction time.
    fn sweep(&mut self, out: &mut Vec<Alert>) {
        let now = self.watermark;
        let start = out.len();
        let Engine {
            cfg,
            patients,
            stats,
            silent_rules,
            ..
        } = self;
        let evict_ms = cfg.evict_after_ms;
        patients.retain(|id, p| {
            let set = &cfg.sets[p.set as usize];
            let silent_ms = now - p.last_ts;
            if evict_ms > 0 && silent_ms >= evict_ms {
                for (i, (rule, alarm)) in set.rules.iter().zip(p.alarms.iter_mut()).enumerate() {
                    let Some(a) = alarm.active().copied() else {
                        continue;
                    };
                    if let Some(tr) = alarm.force_clear(now) {
                        let mut alert = base_alert(rule, id, &p.device_id, now, a.raised_at);
                        alert.state = AlertState::Cleared;
                        alert.priority = a.priority;
                        alert.message = format!(
                            "no reading for {}: patient state dropped, alarm closed",
                            duration(silent_ms)
                        );
                        out.push(alert);
                        count(stats, i, tr);
                    }
                }
                stats.evicted += 1;
                stats.evicted_span_ms += p.last_ts - p.first_ts;
                return false;
            }
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
    ) -> bool {
        if !self.usable || (self.sensor_fault && !faults.is_empty()) {
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

/// What one reading says about one rule, with the value the rule looks at.
fn evidence(
    rule: &CompiledRule,
    vals: &[Option<f64>; 7],
    score: Option<&Score>,
    faults: &[Implausible],
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
    /// Time since the patient's previous reading.
    silent_ms: i64,
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
                        duration(now - raised_at)
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

/// A value as a clinician writes it: temperature with one decimal, the rest as integers.
fn number(vital: Vital, x: f64) -> String {
    if vital == Vital::Temperature {
        format!("{x:.1}")
    } else if x.fract() == 0.0 {
        format!("{x:.0}")
    } else {
        format!("{x}")
    }
}

/// "15 s", "2 min 5 s", "1 h 3 min".
pub fn duration(ms: i64) -> String {
    let s = (ms.max(0) + 500) / 1000;
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
                        && evidence(r, &vals, None, &[]).is_some_and(|(e, _)| e.alarm)
                });
                assert_eq!(
                    quiet.may_start(&vals, None, &[]),
                    starts,
                    "{vital} {vals:?}"
                );
                checked += 1;
            }
        }
        assert!(checked > 0);
    }
}

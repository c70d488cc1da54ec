//! Spontaneous events: real physiology that is not a deterioration. Continuously monitored ward
//! patients desaturate in their sleep and on opioids, breathe slowly, run a sinus tachycardia with
//! pain and drop their blood pressure on getting up, every day, and recover on their own
//! ([`PUBLISHED`] lists the studies that measured how often). A ward without them makes every alarm
//! look either right or false; with them, an alarm can be true but not actionable, and the truth
//! file labels each one (category `spontaneous`, docs/truth-format.md).
//!
//! Each event has a shape: a smooth onset to its extreme, a plateau, a smooth offset, with the
//! duration drawn from a log-normal distribution (many short events, a few long ones) and the
//! extreme drawn per event. Events start as a Poisson process per patient, at the rates of
//! [`specs`] for the unit, some only at night (sleep) or by day (getting up); one runs at a time
//! per patient, on top of whatever scenario is running. Patients differ in how prone they are
//! (opioid-sensitive, sleep apnoea, COPD): a per-patient factor scales their respiratory events.
//! The general ward has none, so its output is what it always was.

use serde_json::{Value, json};
use vitals_core::Spontaneous;

use crate::cohort::{Baseline, Demographics, Profile};
use crate::random::SimRng;
use crate::scenario::Effects;
use crate::unit::Unit;

const MIN_MS: f64 = 60_000.0;
/// Periodic breathing under opioids: amplitude (SpO2 %) and the range of its period (s).
const PERIODIC_PCT: f64 = 1.5;
const PERIODIC_S: (f64, f64) = (40.0, 90.0);
const DAY_MS: f64 = 86_400_000.0;

/// What set the event off (the truth file's `detail.cause`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause {
    /// Sleep-disordered breathing: obstructive or central apnoeas and hypopnoeas.
    Sleep,
    /// Opioid analgesia (or ICU sedation) depressing the drive to breathe.
    Opioid,
    Pain,
    Anxiety,
    /// Getting up, or being turned in bed (orthostatic).
    Mobilisation,
}

impl Cause {
    pub fn name(self) -> &'static str {
        match self {
            Cause::Sleep => "sleep",
            Cause::Opioid => "opioid",
            Cause::Pain => "pain",
            Cause::Anxiety => "anxiety",
            Cause::Mobilisation => "mobilisation",
        }
    }
}

/// When in the ward's local day an event can start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Daypart {
    Any,
    /// 22–07 h: asleep.
    Night,
    /// 07–22 h: awake, getting up.
    Day,
}

impl Daypart {
    fn contains(self, hour: f64) -> bool {
        match self {
            Daypart::Any => true,
            Daypart::Night => !(7.0..22.0).contains(&hour),
            Daypart::Day => (7.0..22.0).contains(&hour),
        }
    }

    fn hours(self) -> f64 {
        match self {
            Daypart::Any => 24.0,
            Daypart::Night => 9.0,
            Daypart::Day => 15.0,
        }
    }
}

/// One kind of spontaneous event (one cause of it) on one unit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EventSpec {
    pub kind: Spontaneous,
    pub cause: Cause,
    /// Mean events per patient-day, for a patient of average proneness.
    pub per_day: f64,
    pub daypart: Daypart,
    /// The patient's proneness (sleep apnoea, opioid sensitivity, COPD) scales the rate.
    pub by_proneness: bool,
    /// Whole duration, minutes: median, SD of its logarithm, shortest, longest.
    pub duration_min: (f64, f64, f64, f64),
    /// Onset and offset, seconds (each drawn uniform in its range; shortened in a short event).
    pub onset_s: (f64, f64),
    pub offset_s: (f64, f64),
    /// The extreme, drawn uniform in this range. Desaturation: true SpO2 at the nadir (%), at least
    /// 3 below the patient's baseline; bradypnoea: RR at the nadir, at least 3 below; tachycardia
    /// run: HR at the peak, at least 15 above; mobilisation hypotension: the fall of SBP (mmHg).
    pub extreme: (f64, f64),
    /// How much further the extreme goes per e-fold of duration above the median (a long
    /// desaturation is a deep one: hypoventilation that goes on lowers the saturation further).
    pub deeper_when_longer: f64,
}

/// Sleep desaturation: a cluster of apnoeas read as one dip of a minute or a few, resaturating
/// faster than it fell.
const fn sleep_desaturation(
    per_day: f64,
    duration_min: (f64, f64, f64, f64),
    extreme: (f64, f64),
) -> EventSpec {
    EventSpec {
        kind: Spontaneous::Desaturation,
        cause: Cause::Sleep,
        per_day,
        daypart: Daypart::Night,
        by_proneness: true,
        duration_min,
        onset_s: (20.0, 60.0),
        offset_s: (15.0, 40.0),
        extreme,
        deeper_when_longer: 0.0,
    }
}

/// Opioid desaturation: a slow fall over minutes that can last hours (night-time hypoventilation
/// after surgery), breathing periodically on the plateau, so the saturation swings ±[`PERIODIC_PCT`]
/// around its mean with a period of [`PERIODIC_S`]: the minute-by-minute values cross a threshold
/// again and again while their moving mean may stay on one side of it (what set Sun et al.'s
/// cumulative minutes below 90 % apart from their smoothed episodes).
const fn opioid_desaturation(
    per_day: f64,
    duration_min: (f64, f64, f64, f64),
    extreme: (f64, f64),
) -> EventSpec {
    EventSpec {
        kind: Spontaneous::Desaturation,
        cause: Cause::Opioid,
        per_day,
        daypart: Daypart::Night,
        by_proneness: true,
        duration_min,
        onset_s: (300.0, 900.0),
        offset_s: (300.0, 1200.0),
        extreme,
        deeper_when_longer: 0.0,
    }
}

const fn bradypnoea(cause: Cause, per_day: f64) -> EventSpec {
    EventSpec {
        kind: Spontaneous::Bradypnoea,
        cause,
        per_day,
        daypart: Daypart::Night,
        by_proneness: true,
        duration_min: (8.0, 0.7, 2.0, 60.0),
        onset_s: (60.0, 240.0),
        offset_s: (60.0, 240.0),
        extreme: (5.5, 10.0),
        deeper_when_longer: 0.0,
    }
}

const fn tachycardia_run(cause: Cause, per_day: f64) -> EventSpec {
    EventSpec {
        kind: Spontaneous::TachycardiaRun,
        cause,
        per_day,
        daypart: Daypart::Any,
        by_proneness: false,
        duration_min: (6.0, 0.8, 1.0, 60.0),
        onset_s: (30.0, 90.0),
        offset_s: (60.0, 240.0),
        extreme: (105.0, 140.0),
        deeper_when_longer: 0.0,
    }
}

const fn mobilisation_hypotension(per_day: f64) -> EventSpec {
    EventSpec {
        kind: Spontaneous::MobilisationHypotension,
        cause: Cause::Mobilisation,
        per_day,
        daypart: Daypart::Day,
        by_proneness: false,
        duration_min: (3.0, 0.5, 1.0, 10.0),
        onset_s: (15.0, 45.0),
        offset_s: (60.0, 120.0),
        extreme: (20.0, 40.0),
        deeper_when_longer: 0.0,
    }
}

/// The surgical ward's events, per patient-day. Tuned with `bench/realism.sh` until the ward meets
/// the post-operative figures of [`PUBLISHED`] (Sun et al. 2015, Duus et al. 2018).
const SURGICAL: [EventSpec; 7] = [
    sleep_desaturation(3.0, (2.5, 0.7, 0.7, 20.0), (78.0, 89.0)),
    opioid_desaturation(0.9, (90.0, 0.9, 15.0, 600.0), (78.0, 89.0)),
    bradypnoea(Cause::Opioid, 1.0),
    tachycardia_run(Cause::Pain, 1.0),
    tachycardia_run(Cause::Anxiety, 0.3),
    mobilisation_hypotension(0.6),
    bradypnoea(Cause::Sleep, 0.3),
];

/// The medical ward's events, per patient-day: mostly sleep desaturation, deepest and commonest
/// in COPD (Elvekjaer et al. 2020), little opioid; older patients drop their pressure on standing.
const MEDICAL: [EventSpec; 6] = [
    // COPD patients' long desaturations are their deepest (Elvekjaer et al. 2020: 17 % under
    // 80 % for more than 10 min).
    EventSpec {
        deeper_when_longer: 1.5,
        ..sleep_desaturation(2.0, (3.0, 1.0, 0.7, 45.0), (80.5, 88.0))
    },
    opioid_desaturation(0.05, (40.0, 0.8, 15.0, 300.0), (82.0, 89.0)),
    bradypnoea(Cause::Sleep, 0.5),
    tachycardia_run(Cause::Anxiety, 0.6),
    tachycardia_run(Cause::Pain, 0.3),
    mobilisation_hypotension(0.8),
];

/// The ICU's events, per patient-day: sedated patients desaturate and breathe slowly, and drop
/// their pressure when turned; pain and agitation bring on runs of tachycardia.
const ICU: [EventSpec; 5] = [
    sleep_desaturation(1.0, (2.5, 0.7, 0.7, 20.0), (80.0, 89.0)),
    bradypnoea(Cause::Opioid, 0.5),
    tachycardia_run(Cause::Pain, 1.0),
    tachycardia_run(Cause::Anxiety, 0.8),
    mobilisation_hypotension(1.0),
];

/// The spontaneous events of a unit (none on the general ward).
pub fn specs(unit: Unit) -> &'static [EventSpec] {
    match unit {
        Unit::General => &[],
        Unit::Medical => &MEDICAL,
        Unit::Surgical => &SURGICAL,
        Unit::Icu => &ICU,
    }
}

/// A published figure a unit is calibrated against: what share of patients (%) had an episode of
/// a vital beyond a threshold, with its source. `bench/realism.sh` holds the same table and
/// measures each against the simulated unit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Published {
    pub unit: Unit,
    pub measure: &'static str,
    pub patients_pct: f64,
    pub source: &'static str,
}

/// Continuous-monitoring figures of real wards (measured at one SpO2 a minute in the script).
pub const PUBLISHED: [Published; 14] = [
    Published {
        unit: Unit::Surgical,
        measure: "SpO2 < 90 % for an average of >= 10 min/h over the recording (up to 48 h)",
        patients_pct: 21.0,
        source: "Sun et al., Anesth Analg 2015;121:709-15, 833 patients after non-cardiac surgery, SpO2 every minute",
    },
    Published {
        unit: Unit::Surgical,
        measure: "SpO2 < 90 % for an average of >= 20 min/h",
        patients_pct: 8.0,
        source: "Sun et al. 2015",
    },
    Published {
        unit: Unit::Surgical,
        measure: "SpO2 < 85 % for an average of >= 5 min/h",
        patients_pct: 8.0,
        source: "Sun et al. 2015",
    },
    Published {
        unit: Unit::Surgical,
        measure: "smoothed SpO2 < 90 % for >= 6 h at a stretch",
        patients_pct: 11.0,
        source: "Sun et al. 2015",
    },
    Published {
        unit: Unit::Surgical,
        measure: "smoothed SpO2 < 90 % for >= 1 h at a stretch",
        patients_pct: 37.0,
        source: "Sun et al. 2015",
    },
    Published {
        unit: Unit::Surgical,
        measure: "smoothed SpO2 < 80 % for >= 30 min at a stretch",
        patients_pct: 3.0,
        source: "Sun et al. 2015",
    },
    Published {
        unit: Unit::Surgical,
        measure: "SpO2 < 85 % for > 10 min at a stretch within 4 days",
        patients_pct: 52.0,
        source: "Duus et al., Acta Anaesthesiol Scand 2018, 50 patients after major abdominal surgery",
    },
    Published {
        unit: Unit::Surgical,
        measure: "SpO2 < 92 % for > 60 min at a stretch within 4 days",
        patients_pct: 58.0,
        source: "Duus et al. 2018",
    },
    Published {
        unit: Unit::Surgical,
        measure: "HR > 110 for >= 60 min, at least once per 24 h",
        patients_pct: 3.9,
        source: "Haahr-Raunkjaer et al., Acta Anaesthesiol Scand 2022;66:552-62, table 2, 309 patients without a serious adverse event after major abdominal surgery",
    },
    Published {
        unit: Unit::Surgical,
        measure: "SBP < 90 at two or more readings per 24 h",
        patients_pct: 9.4,
        source: "Haahr-Raunkjaer et al. 2022",
    },
    Published {
        unit: Unit::Medical,
        measure: "COPD patients: SpO2 < 92 % for >= 60 s within 4 days",
        patients_pct: 97.0,
        source: "Elvekjaer et al. 2020",
    },
    Published {
        unit: Unit::Medical,
        measure: "COPD patients: SpO2 < 88 % for >= 60 s within 4 days",
        patients_pct: 90.0,
        source: "Elvekjaer et al., J Clin Monit Comput 2020, 30 patients admitted with AECOPD",
    },
    Published {
        unit: Unit::Medical,
        measure: "COPD patients: SpO2 < 80 % for >= 60 s within 4 days",
        patients_pct: 63.0,
        source: "Elvekjaer et al. 2020",
    },
    Published {
        unit: Unit::Medical,
        measure: "COPD patients: SpO2 < 80 % for > 10 min within 4 days",
        patients_pct: 17.0,
        source: "Elvekjaer et al. 2020",
    },
];

/// How prone a patient of this unit is to the respiratory events (a factor on their rate, mean
/// about 1): post-operative patients split into opioid-sensitive or apnoeic ones and the rest;
/// COPD on a medical ward desaturates most.
pub fn proneness(unit: Unit, who: &Demographics, rng: &mut SimRng) -> f32 {
    match unit {
        Unit::General => 0.0,
        Unit::Surgical => {
            if rng.chance(0.35) {
                2.6
            } else {
                0.15
            }
        }
        Unit::Medical if who.profile == Profile::Copd => 1.5,
        Unit::Medical => {
            if rng.chance(0.2) {
                1.5
            } else {
                0.5
            }
        }
        Unit::Icu => 1.0,
    }
}

/// A spontaneous event under way.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Episode {
    spec: &'static EventSpec,
    number: u32,
    start_ms: i64,
    onset_ms: i64,
    offset_ms: i64,
    end_ms: i64,
    /// The change the event makes at its extreme (SpO2 %, RR /min, HR /min or SBP mmHg); for a
    /// periodic desaturation, at the mean of its swing.
    delta: f64,
    /// Period (ms) of periodic breathing on the plateau; 0: none.
    period_ms: i64,
    /// A mobilisation: the nurse has taken the standing blood pressure.
    cuff_taken: bool,
}

impl Episode {
    /// 0 → 1 → 0 over the event: smooth onset, plateau, smooth offset.
    fn level(&self, t_ms: i64) -> f64 {
        let smooth = |x: f64| {
            let x = x.clamp(0.0, 1.0);
            x * x * (3.0 - 2.0 * x)
        };
        let since = (t_ms - self.start_ms) as f64;
        let left = (self.end_ms - t_ms) as f64;
        smooth(since / self.onset_ms as f64).min(smooth(left / self.offset_ms as f64))
    }

    fn effects(&self, t_ms: i64, level: f64, fx: &mut Effects) {
        let d = self.delta * level;
        match self.spec.kind {
            Spontaneous::Desaturation => {
                fx.spo2_pct += d;
                if self.period_ms > 0 {
                    let phase = (t_ms - self.start_ms) as f64 / self.period_ms as f64;
                    fx.spo2_pct += level * PERIODIC_PCT * (std::f64::consts::TAU * phase).sin();
                }
                if self.spec.cause == Cause::Opioid {
                    fx.respiratory_rate_bpm -= 2.0 * level;
                }
            }
            Spontaneous::Bradypnoea => {
                fx.respiratory_rate_bpm += d;
                fx.spo2_pct -= 2.0 * level;
            }
            Spontaneous::TachycardiaRun => {
                fx.heart_rate_bpm += d;
                fx.respiratory_rate_bpm += 2.0 * level;
            }
            Spontaneous::MobilisationHypotension => {
                fx.systolic_mmhg -= d;
                fx.diastolic_mmhg -= 0.5 * d;
                fx.heart_rate_bpm += 0.5 * d;
            }
        }
    }
}

/// A start or end for the truth file.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    Start {
        kind: Spontaneous,
        episode: u32,
        detail: Value,
    },
    End {
        kind: Spontaneous,
        episode: u32,
    },
}

/// Spontaneous events as they happen, ward-wide: the running episode number and the changes of one
/// reading.
#[derive(Debug, Default)]
pub struct Log {
    pub episodes: u32,
    pub changes: Vec<Change>,
}

/// One patient's spontaneous events: nothing on the general ward, and on the heap otherwise, so
/// a bed stays small (a ward of 100,000 patients fits in a few tens of megabytes).
#[derive(Debug, Clone, PartialEq)]
pub struct Events(Option<Box<State>>);

#[derive(Debug, Clone, PartialEq)]
struct State {
    proneness: f32,
    /// Time of the next candidate start.
    next_ms: i64,
    active: Option<Episode>,
}

impl Events {
    /// The events of a patient of `unit`; on the general ward, none (and no random draws).
    pub fn new(unit: Unit, who: &Demographics, start_ms: i64, rng: &mut SimRng) -> Self {
        if specs(unit).is_empty() {
            return Events(None);
        }
        let mut state = State {
            proneness: proneness(unit, who, rng),
            next_ms: 0,
            active: None,
        };
        state.next_ms = start_ms + state.wait_ms(unit, rng);
        Events(Some(Box::new(state)))
    }

    /// At event time `t_ms` (`hour`: the ward's local hour of day): ends the running event when its
    /// time is up, starts one when due, and adds the running one's change to `fx`. A mobilisation
    /// moves the next cuff reading (`next_nibp_ms`) to the moment the patient stands.
    #[allow(clippy::too_many_arguments)]
    pub fn step(
        &mut self,
        unit: Unit,
        t_ms: i64,
        hour: f64,
        baseline: &Baseline,
        fx: &mut Effects,
        next_nibp_ms: &mut i64,
        rng: &mut SimRng,
        log: &mut Log,
    ) {
        let Some(state) = &mut self.0 else {
            return;
        };
        if state.active.as_ref().is_some_and(|e| t_ms >= e.end_ms) {
            let e = state.active.take().expect("checked");
            log.changes.push(Change::End {
                kind: e.spec.kind,
                episode: e.number,
            });
        }
        if t_ms >= state.next_ms {
            state.next_ms = t_ms + state.wait_ms(unit, rng);
            // Thinning: pick a spec in proportion to its rate while its daypart lasts; it starts
            // only if now is in that daypart (and nothing else is running).
            let weights: Vec<f64> = specs(unit).iter().map(|s| state.rate(s)).collect();
            let spec = &specs(unit)[rng.weighted(&weights)];
            if state.active.is_none() && spec.daypart.contains(hour) {
                log.episodes += 1;
                let (episode, detail) = start(spec, log.episodes, t_ms, baseline, rng);
                log.changes.push(Change::Start {
                    kind: spec.kind,
                    episode: log.episodes,
                    detail,
                });
                state.active = Some(episode);
            }
        }
        if let Some(e) = &mut state.active {
            let level = e.level(t_ms);
            e.effects(t_ms, level, fx);
            if e.spec.kind == Spontaneous::MobilisationHypotension
                && !e.cuff_taken
                && t_ms >= e.start_ms + e.onset_ms
            {
                e.cuff_taken = true;
                *next_nibp_ms = (*next_nibp_ms).min(t_ms);
            }
        }
    }
}

impl State {
    /// Rate (per ms) of a spec while its daypart lasts, for this patient.
    fn rate(&self, spec: &EventSpec) -> f64 {
        let prone = if spec.by_proneness {
            f64::from(self.proneness)
        } else {
            1.0
        };
        spec.per_day * prone * 24.0 / spec.daypart.hours() / DAY_MS
    }

    fn wait_ms(&self, unit: Unit, rng: &mut SimRng) -> i64 {
        let total: f64 = specs(unit).iter().map(|s| self.rate(s)).sum();
        let wait = rng.exponential(total);
        if wait.is_finite() && wait < 1e15 {
            wait.ceil() as i64
        } else {
            i64::MAX / 2
        }
    }
}

/// Draws one event of `spec` starting at `t_ms`: its time course and extreme, and the truth
/// file's detail (`duration_s`, `cause` and the extreme of the patient's true value, on the daily
/// mean: the displayed value lags and carries noise and the daily rhythm).
fn start(
    spec: &'static EventSpec,
    number: u32,
    t_ms: i64,
    b: &Baseline,
    rng: &mut SimRng,
) -> (Episode, Value) {
    let (median, log_sd, lo, hi) = spec.duration_min;
    let duration_ms = (rng
        .normal_truncated(median.ln(), log_sd, lo.ln(), hi.ln())
        .exp()
        * MIN_MS) as i64;
    let mut onset_ms = (rng.range(spec.onset_s.0, spec.onset_s.1) * 1000.0) as i64;
    let mut offset_ms = (rng.range(spec.offset_s.0, spec.offset_s.1) * 1000.0) as i64;
    // A short event has no plateau: onset and offset share its duration.
    if onset_ms + offset_ms > duration_ms {
        let scale = duration_ms as f64 / (onset_ms + offset_ms) as f64;
        onset_ms = ((onset_ms as f64 * scale) as i64).max(1);
        offset_ms = ((offset_ms as f64 * scale) as i64).max(1);
    }
    let longer = (duration_ms as f64 / (median * MIN_MS)).ln().max(0.0);
    let x = rng.range(spec.extreme.0, spec.extreme.1)
        + spec.deeper_when_longer
            * longer
            * if spec.kind == Spontaneous::Desaturation {
                -1.0
            } else {
                1.0
            };
    let r1 = |v: f64| (v * 10.0).round() / 10.0;
    let periodic = spec.kind == Spontaneous::Desaturation && spec.cause == Cause::Opioid;
    let (delta, extreme) = match spec.kind {
        Spontaneous::Desaturation => {
            let nadir = x.min(b.spo2_pct.min(100.0) - 3.0);
            let swing = if periodic { PERIODIC_PCT } else { 0.0 };
            (
                nadir + swing - b.spo2_pct.min(100.0),
                ("nadir_spo2_pct", nadir),
            )
        }
        Spontaneous::Bradypnoea => {
            let nadir = x.min(b.respiratory_rate_bpm - 3.0);
            (nadir - b.respiratory_rate_bpm, ("nadir_rr_bpm", nadir))
        }
        Spontaneous::TachycardiaRun => {
            let peak = x.max(b.heart_rate_bpm + 15.0);
            (peak - b.heart_rate_bpm, ("peak_hr_bpm", peak))
        }
        Spontaneous::MobilisationHypotension => (x, ("nadir_sbp_mmhg", b.systolic_mmhg - x)),
    };
    let mut detail = json!({
        "duration_s": duration_ms / 1000,
        "cause": spec.cause.name(),
    });
    detail[extreme.0] = json!(r1(extreme.1));
    let period_ms = if periodic {
        (rng.range(PERIODIC_S.0, PERIODIC_S.1) * 1000.0) as i64
    } else {
        0
    };
    let episode = Episode {
        spec,
        number,
        period_ms,
        start_ms: t_ms,
        onset_ms,
        offset_ms,
        end_ms: t_ms + duration_ms,
        delta,
        cuff_taken: false,
    };
    (episode, detail)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::unit::Cohort;

    fn patient(unit: Unit, i: u64) -> (Demographics, Baseline, SimRng) {
        let mut rng = SimRng::new(21, i);
        let (who, b) = unit.draw_patient(&mut rng);
        (who, b, rng)
    }

    #[test]
    fn general_ward_has_no_events_and_draws_nothing() {
        let (who, b, mut rng) = patient(Unit::General, 0);
        let before = rng.clone().next_u64();
        let mut events = Events::new(Unit::General, &who, 0, &mut rng);
        let mut log = Log::default();
        let mut fx = Effects::NONE;
        let mut cuff = i64::MAX;
        for t in 0..10_000 {
            events.step(
                Unit::General,
                t * 60_000,
                3.0,
                &b,
                &mut fx,
                &mut cuff,
                &mut rng,
                &mut log,
            );
        }
        assert_eq!(rng.next_u64(), before);
        assert!(log.changes.is_empty() && fx == Effects::NONE);
    }

    /// An event rises smoothly to its extreme and back: never past it, at it on the plateau, and
    /// back to nothing at the end.
    #[test]
    fn an_event_has_onset_plateau_and_offset() {
        let (_, b, mut rng) = patient(Unit::Surgical, 1);
        let spec = &SURGICAL[1];
        let (e, detail) = start(spec, 1, 0, &b, &mut rng);
        assert_eq!(detail["cause"], "opioid");
        let nadir = detail["nadir_spo2_pct"].as_f64().unwrap();
        assert!(nadir <= 89.05 && nadir <= b.spo2_pct - 3.0 + 0.05);
        let mut last = 0.0;
        let mut reached = false;
        for t in (0..=e.end_ms).step_by(1000) {
            let level = e.level(t);
            assert!((0.0..=1.0).contains(&level));
            if t <= e.onset_ms {
                assert!(level >= last, "falls during the onset");
            }
            reached |= level > 0.999;
            last = level;
        }
        assert!(reached && e.level(e.end_ms) == 0.0);
    }

    /// Rates come out as specified: over many patient-days the number of starts per kind is near
    /// the spec's mean rate, and sleep events start only at night.
    #[test]
    fn events_start_at_their_rate_and_daypart() {
        let mut log = Log::default();
        let mut starts = std::collections::HashMap::<&str, u32>::new();
        let days = 40;
        let patients = 50;
        for i in 0..patients {
            let (who, b, mut rng) = patient(Unit::Icu, i);
            let mut events = Events::new(Unit::Icu, &who, 0, &mut rng);
            let mut cuff = i64::MAX;
            for m in 0..days * 1440 {
                let mut fx = Effects::NONE;
                let hour = (m % 1440) as f64 / 60.0;
                events.step(
                    Unit::Icu,
                    m * 60_000,
                    hour,
                    &b,
                    &mut fx,
                    &mut cuff,
                    &mut rng,
                    &mut log,
                );
                for c in log.changes.drain(..) {
                    if let Change::Start { detail, .. } = c {
                        if detail["cause"] == "sleep" {
                            assert!(!(7.0..22.0).contains(&hour), "sleep event at {hour} h");
                        }
                        *starts
                            .entry(if detail["cause"] == "sleep" {
                                "sleep"
                            } else {
                                "other"
                            })
                            .or_default() += 1;
                    }
                }
            }
        }
        let per_day = f64::from(starts["sleep"]) / (days as f64 * patients as f64);
        // 1 a day, less the candidates that fell while another event ran.
        assert!(
            (0.75..=1.05).contains(&per_day),
            "{per_day} sleep events/day"
        );
    }
}

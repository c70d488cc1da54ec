//! The ward: every patient's monitor read in turn, paced against the clock, written to the stream;
//! scenarios and artifacts started and ended, and each change written to the truth file.

use std::collections::{HashMap, VecDeque};
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde_json::json;
use vitals_core::{Scenario, Timestamp};

use crate::artifact::{Artifacts, Battery, Change, Log, Outcome, Rates, Sample};
use crate::clock::{Pacer, Speed};
use crate::cohort::Demographics;
use crate::network::{Link, Network};
use crate::output::{TsCache, write_vitals};
use crate::physiology::{Circadian, Model, Physiology, Reading};
use crate::random::SimRng;
use crate::scenario::{self, Active, Effects, Plan, Stage};
use crate::script::Scripted;
use crate::settings::StreamRecords;
use crate::spontaneous::{self, Events};
use crate::truth::{Category, Event, TruthEvent, TruthWriter};
use crate::unit::{Cohort, Unit};

/// Everything a run needs, resolved from the command line.
#[derive(Debug, Clone)]
pub struct Config {
    pub patients: u32,
    pub interval_ms: i64,
    pub start: Timestamp,
    pub duration_ms: Option<i64>,
    pub count: Option<u64>,
    pub speed: Speed,
    pub seed: u64,
    pub events_per_day: f64,
    pub script: Vec<Scripted>,
    pub rates: Rates,
    pub network: Network,
    /// The ward's local time minus UTC, ms: the circadian rhythm follows local time.
    pub utc_offset_ms: i64,
    /// The kind of ward: who the patients are and their spontaneous events.
    pub unit: Unit,
}

/// What a run did, for the summary on stderr.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    pub records: u64,
    pub first_ts: Option<Timestamp>,
    pub last_ts: Option<Timestamp>,
    pub max_lag_ms: f64,
    pub scenarios: u32,
    pub artifacts: u32,
    pub spontaneous: u32,
    /// The run stopped at `Timestamp::LAST_ACCEPTED`, the last event time the pipeline accepts,
    /// before `--duration` or `--count` ended it.
    pub reached_last_time: bool,
}

/// One bed: the patient and their monitor.
#[derive(Debug)]
struct Bed {
    rng: SimRng,
    who: Demographics,
    body: Physiology,
    scenario: Option<Active>,
    artifacts: Artifacts,
    battery: Battery,
    spontaneous: Events,
    next_random_ms: i64,
    script_due_ms: i64,
    seq: u64,
}

/// The simulation of a whole ward.
pub struct Ward {
    cfg: Config,
    model: Model,
    beds: Vec<Bed>,
    /// Scripted scenarios not yet started, per patient (only patients that have any).
    script: HashMap<u32, VecDeque<Scripted>>,
    random_rate_per_ms: f64,
    scenario_episodes: u32,
    /// Artifact episodes so far and the changes of the current reading.
    artifacts: Log,
    /// Spontaneous events so far and the changes of the current reading.
    spontaneous: spontaneous::Log,
    /// Each patient's `admission` and `settings` records.
    records: StreamRecords,
}

impl Ward {
    pub fn new(cfg: Config) -> Self {
        let model = Model::new(cfg.interval_ms);
        let random_rate_per_ms = cfg.events_per_day / 86_400_000.0;
        let start = cfg.start.millis();
        let beds = (0..cfg.patients)
            .map(|i| {
                let mut rng = SimRng::new(cfg.seed, u64::from(i));
                let (who, baseline) = cfg.unit.draw_patient(&mut rng);
                let body = Physiology::new(baseline, &model, start, &mut rng);
                let artifacts = Artifacts::new(&cfg.rates, start, &mut rng);
                let battery = Battery::new(&mut rng);
                let next_random_ms = next_event(start, random_rate_per_ms, &mut rng);
                // Drawn last, and nothing on the general ward: its patients are what they were.
                let spontaneous = Events::new(cfg.unit, &who, start, &mut rng);
                Bed {
                    rng,
                    who,
                    body,
                    scenario: None,
                    artifacts,
                    battery,
                    spontaneous,
                    next_random_ms,
                    script_due_ms: i64::MAX,
                    seq: 0,
                }
            })
            .collect();
        let mut ward = Ward {
            model,
            beds,
            script: HashMap::new(),
            random_rate_per_ms,
            scenario_episodes: 0,
            artifacts: Log::default(),
            spontaneous: spontaneous::Log::default(),
            records: StreamRecords::new(cfg.seed, cfg.patients, cfg.unit),
            cfg,
        };
        for s in std::mem::take(&mut ward.cfg.script) {
            ward.script.entry(s.patient).or_default().push_back(s);
        }
        for (i, q) in &ward.script {
            ward.beds[*i as usize].script_due_ms = q.front().map_or(i64::MAX, |s| s.at_ms);
        }
        ward
    }

    /// The per-patient alarm limits a ward would set at admission (`--admission-rules`), as the
    /// TOML `[patients.<id>]` overrides cardio-alert's `--rules` reads.
    pub fn admission_rules(&self, seed: u64) -> String {
        let mut out = crate::admission::header(seed, self.cfg.patients);
        let unit = crate::settings::unit_profile(self.cfg.unit);
        for (i, bed) in self.beds.iter().enumerate() {
            out.push_str(&crate::admission::patient_toml(
                i as u32,
                &bed.who,
                &bed.body.baseline,
                &unit,
            ));
        }
        out
    }

    /// Runs until `--duration` or `--count` ends it, `stop` is set (SIGTERM, SIGINT) or the reader
    /// goes away, writing vitals lines to `out` and the truth to `truth`.
    pub fn run<W: Write>(
        &mut self,
        out: W,
        truth: &mut TruthWriter,
        stop: &AtomicBool,
    ) -> anyhow::Result<Summary> {
        let cfg = self.cfg.clone();
        let n = i64::from(cfg.patients);
        let interval = cfg.interval_ms;
        let start = cfg.start.millis();
        let end_ms = cfg
            .duration_ms
            .map_or(i64::MAX, |d| start.saturating_add(d));
        // Past the end of year 2999 every stage would refuse the readings: stop there.
        let last_ms = Timestamp::LAST_ACCEPTED.millis();
        let mut pacer = Pacer::new(cfg.speed, cfg.start);
        let mut link = Link::new(out, cfg.count.unwrap_or(u64::MAX));
        let mut summary = Summary::default();
        let mut ts_cache = TsCache::default();
        let mut circ_second = i64::MIN;
        let mut circ = Circadian::at(0);
        let network = cfg.network;
        let mut more = link.open();

        'run: for cycle in 0i64.. {
            if !more {
                break;
            }
            let cycle_ms = start + cycle * interval;
            for i in 0..cfg.patients {
                // Monitors spread evenly over the interval, in bed order, so the stream stays in
                // event-time order.
                let ts_ms = cycle_ms + i64::from(i) * interval / n;
                if ts_ms >= end_ms || stop.load(Ordering::Relaxed) {
                    break 'run;
                }
                if ts_ms > last_ms {
                    summary.reached_last_time = true;
                    break 'run;
                }
                if let Some(wait) = pacer.wait_for(ts_ms) {
                    link.flush()?;
                    truth.flush()?;
                    std::thread::sleep(wait.min(Duration::from_secs(1)));
                    // Wait out the rest, if any (a long wait for a future --start).
                    while let Some(w) = pacer.wait_for(ts_ms) {
                        if stop.load(Ordering::Relaxed) {
                            break 'run;
                        }
                        std::thread::sleep(w.min(Duration::from_secs(1)));
                    }
                }
                if link.holds_late() && !link.emit_late_until(ts_ms)? {
                    break 'run;
                }
                let second = ts_ms.div_euclid(1000);
                if second != circ_second {
                    circ_second = second;
                    circ = Circadian::at(
                        Timestamp::from_millis(second * 1000 + cfg.utc_offset_ms).millis_of_day(),
                    );
                }
                let ts = Timestamp::from_millis(ts_ms);
                let Some(reading) = self.read(i, ts, cycle == 0, &circ, truth)? else {
                    continue;
                };
                if ts_ms >= self.records.due_ms(i) {
                    let bed = &self.beds[i as usize];
                    for line in self
                        .records
                        .take_due(i, ts_ms, &bed.who, &bed.body.baseline)
                    {
                        link.write_other(line.as_bytes())?;
                    }
                }
                let bed = &mut self.beds[i as usize];
                let seq = bed.seq;
                bed.seq += 1;
                link.line.clear();
                write_vitals(&mut link.line, &mut ts_cache, ts, i, seq, &reading);
                summary.first_ts.get_or_insert(ts);
                summary.last_ts = Some(ts);

                // On its way the network may lose, delay or repeat the record: an artifact episode
                // of one reading in the truth file.
                if let Some(fault) = network.draw(interval, &mut bed.rng) {
                    more = link.divert(fault, ts_ms)?;
                    self.artifacts.episodes += 1;
                    let episode = self.artifacts.episodes;
                    for event in fault.truth_events(ts, i, seq, episode) {
                        truth.write(&event)?;
                    }
                    if !fault.delivers_now() {
                        continue;
                    }
                    if !more {
                        break 'run;
                    }
                }
                more = link.emit()?;
                if !more {
                    break 'run;
                }
            }
        }
        // Late records still held arrive after the last reading.
        if more {
            link.emit_late_until(i64::MAX)?;
        }
        link.flush()?;
        truth.finish()?;
        summary.records = link.written();
        summary.max_lag_ms = pacer.max_lag_ms();
        summary.scenarios = self.scenario_episodes;
        summary.artifacts = self.artifacts.episodes;
        summary.spontaneous = self.spontaneous.episodes;
        Ok(summary)
    }

    /// One reading of bed `i` at `ts`: starts and ends scenarios and artifacts, steps the
    /// physiology. `None` when the device sends nothing.
    fn read(
        &mut self,
        i: u32,
        ts: Timestamp,
        first: bool,
        circ: &Circadian,
        truth: &mut TruthWriter,
    ) -> anyhow::Result<Option<Reading>> {
        let t = ts.millis();
        let bed = &mut self.beds[i as usize];
        if first && truth.is_enabled() {
            truth.write(&admission(i, ts, bed, self.cfg.unit))?;
        }

        if t >= bed.script_due_ms {
            let queue = self.script.get_mut(&i).expect("a due script has a queue");
            while queue.front().is_some_and(|s| s.at_ms <= t) {
                let s = queue.pop_front().expect("front exists");
                if let Some(old) = bed.scenario.take() {
                    truth.write(&scenario_event(
                        ts,
                        Event::End,
                        i,
                        &old,
                        None,
                        Some(json!({"superseded": true})),
                    ))?;
                }
                self.scenario_episodes += 1;
                let active = Active::new(s.plan, t, self.scenario_episodes);
                truth.write(&scenario_start(ts, i, &active, "script"))?;
                bed.scenario = Some(active);
            }
            bed.script_due_ms = queue.front().map_or(i64::MAX, |s| s.at_ms);
        }
        if t >= bed.next_random_ms {
            bed.next_random_ms = next_event(t, self.random_rate_per_ms, &mut bed.rng);
            let plan = Plan::random(&mut bed.rng);
            // A patient already deteriorating is not given a second scenario on top.
            if bed.scenario.is_none() {
                self.scenario_episodes += 1;
                let active = Active::new(plan, t, self.scenario_episodes);
                truth.write(&scenario_start(ts, i, &active, "random"))?;
                bed.scenario = Some(active);
            }
        }

        let mut fx = Effects::NONE;
        if let Some(active) = &mut bed.scenario {
            let (level, stage) = active.level_at(t);
            if stage == Stage::Done {
                truth.write(&scenario_event(ts, Event::End, i, active, None, None))?;
                bed.scenario = None;
            } else {
                if stage != active.stage {
                    active.stage = stage;
                    truth.write(&scenario_event(
                        ts,
                        Event::Phase,
                        i,
                        active,
                        Some(stage.name()),
                        None,
                    ))?;
                }
                if active.plan.kind == Scenario::Haemorrhage {
                    let class = scenario::atls_class(active.blood_loss(level));
                    if class > active.class {
                        active.class = class;
                        let name = ["class_i", "class_ii", "class_iii", "class_iv"]
                            [usize::from(class - 1)];
                        truth.write(&scenario_event(
                            ts,
                            Event::Phase,
                            i,
                            active,
                            Some(name),
                            None,
                        ))?;
                    }
                }
                fx = active.effects(level, stage, &bed.body.baseline);
            }
        }

        self.spontaneous.changes.clear();
        let hour =
            Timestamp::from_millis(t + self.cfg.utc_offset_ms).millis_of_day() as f64 / 3_600_000.0;
        bed.spontaneous.step(
            self.cfg.unit,
            t,
            hour,
            &bed.body.baseline,
            &mut fx,
            &mut bed.body.next_nibp_ms,
            &mut bed.rng,
            &mut self.spontaneous,
        );
        for c in &self.spontaneous.changes {
            truth.write(&spontaneous_event(ts, i, c))?;
        }

        let mut reading = bed.body.step(t, &self.model, circ, &fx, &mut bed.rng);

        self.artifacts.changes.clear();
        let sample = Sample {
            t_ms: t,
            dt_s: self.model.dt_s(),
            reading: &mut reading,
        };
        let outcome = bed.artifacts.apply(
            sample,
            &mut bed.battery,
            &self.cfg.rates,
            &mut bed.rng,
            &mut self.artifacts,
        );
        for c in &self.artifacts.changes {
            let (event, kind, episode, phase, detail) = match c {
                Change::Start {
                    kind,
                    episode,
                    detail,
                } => (Event::Start, kind, episode, None, Some(detail.clone())),
                Change::Phase {
                    kind,
                    episode,
                    phase,
                } => (Event::Phase, kind, episode, Some(*phase), None),
                Change::End { kind, episode } => (Event::End, kind, episode, None, None),
            };
            truth.write(&TruthEvent {
                ts,
                event,
                category: Category::Artifact,
                name: kind.name(),
                episode: *episode,
                patient: i,
                phase,
                severity: None,
                detail,
            })?;
        }
        if outcome == Outcome::Silent {
            return Ok(None);
        }
        Ok(Some(reading))
    }
}

fn next_event(t_ms: i64, rate_per_ms: f64, rng: &mut SimRng) -> i64 {
    let wait = rng.exponential(rate_per_ms);
    if wait.is_finite() && wait < 1e15 {
        t_ms + wait.ceil() as i64
    } else {
        i64::MAX
    }
}

fn admission(i: u32, ts: Timestamp, bed: &Bed, unit: Unit) -> TruthEvent {
    let b = &bed.body.baseline;
    let r1 = |v: f64| (v * 10.0).round() / 10.0;
    TruthEvent {
        ts,
        event: Event::Admit,
        category: Category::Patient,
        name: bed.who.profile.name(),
        episode: 0,
        patient: i,
        phase: None,
        severity: None,
        detail: Some(json!({
            "unit": unit.as_str(),
            "age": bed.who.age,
            "sex": bed.who.sex.code(),
            "profile": bed.who.profile.name(),
            "spo2_scale": bed.who.profile.spo2_scale(),
            "nibp_interval_s": bed.body.nibp_every_s,
            "baseline": {
                "heart_rate_bpm": r1(b.heart_rate_bpm),
                "respiratory_rate_bpm": r1(b.respiratory_rate_bpm),
                "spo2_pct": r1(b.spo2_pct),
                "temperature_c": r1(b.temperature_c),
                "systolic_mmhg": r1(b.systolic_mmhg),
                "diastolic_mmhg": r1(b.diastolic_mmhg),
            },
        })),
    }
}

fn spontaneous_event(ts: Timestamp, patient: u32, c: &spontaneous::Change) -> TruthEvent {
    let (event, kind, episode, detail) = match c {
        spontaneous::Change::Start {
            kind,
            episode,
            detail,
        } => (Event::Start, kind, episode, Some(detail.clone())),
        spontaneous::Change::End { kind, episode } => (Event::End, kind, episode, None),
    };
    TruthEvent {
        ts,
        event,
        category: Category::Spontaneous,
        name: kind.name(),
        episode: *episode,
        patient,
        phase: None,
        severity: None,
        detail,
    }
}

fn scenario_event(
    ts: Timestamp,
    event: Event,
    patient: u32,
    a: &Active,
    phase: Option<&'static str>,
    detail: Option<serde_json::Value>,
) -> TruthEvent {
    TruthEvent {
        ts,
        event,
        category: Category::Scenario,
        name: a.plan.kind.name(),
        episode: a.episode,
        patient,
        phase,
        severity: Some(a.plan.severity),
        detail,
    }
}

fn scenario_start(ts: Timestamp, patient: u32, a: &Active, source: &str) -> TruthEvent {
    let p = &a.plan;
    let mut detail = json!({
        "source": source,
        "onset_s": p.onset_ms / 1000,
        "treated_after_s": p.hold_ms.map(|h| h / 1000),
        "recover_s": p.recover_ms / 1000,
    });
    if p.kind == Scenario::Sepsis {
        detail["hypothermic"] = json!(p.hypothermic);
    }
    let phase = if p.kind == Scenario::Haemorrhage {
        "class_i"
    } else {
        a.stage.name()
    };
    scenario_event(ts, Event::Start, patient, a, Some(phase), Some(detail))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bed_takes_a_few_hundred_bytes() {
        // 100,000 patients must fit in a few tens of megabytes (a few hundred bytes per patient, see
        // docs/benchmarks.md).
        assert!(
            std::mem::size_of::<Bed>() <= 400,
            "{} bytes",
            std::mem::size_of::<Bed>()
        );
    }

    #[test]
    fn scripted_scenario_starts_at_its_time_and_reports_its_phases() {
        let start = Timestamp::parse("2026-11-28T00:00:00Z").unwrap();
        let script = crate::script::parse_script(
            r#"[{"at":"00:01","patient":"PT-1001","scenario":"hypoxia","severity":1,"over":"1m","treated_after":"1m","recover_over":"1m"}]"#,
            start,
            2,
        )
        .unwrap();
        let cfg = Config {
            patients: 2,
            interval_ms: 1000,
            start,
            duration_ms: Some(300_000),
            count: None,
            speed: Speed::Max,
            seed: 1,
            events_per_day: 0.0,
            script,
            rates: Rates::default(),
            network: Network::default(),
            utc_offset_ms: 0,
            unit: Unit::General,
        };
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("truth.jsonl");
        let mut truth = TruthWriter::create(&path).unwrap();
        let mut out = Vec::new();
        let summary = Ward::new(cfg)
            .run(&mut out, &mut truth, &AtomicBool::new(false))
            .unwrap();
        assert_eq!(summary.records, 600);
        let lines: Vec<serde_json::Value> = std::fs::read_to_string(&path)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let events: Vec<(&str, &str, &str)> = lines
            .iter()
            .filter(|l| l["category"] == "scenario")
            .map(|l| {
                (
                    l["ts"].as_str().unwrap(),
                    l["event"].as_str().unwrap(),
                    l["phase"].as_str().unwrap_or("-"),
                )
            })
            .collect();
        assert_eq!(
            events,
            [
                ("2026-11-28T00:01:00.500Z", "start", "onset"),
                ("2026-11-28T00:02:00.500Z", "phase", "peak"),
                ("2026-11-28T00:03:00.500Z", "phase", "treated"),
                ("2026-11-28T00:04:00.500Z", "end", "-"),
            ]
        );
    }
}

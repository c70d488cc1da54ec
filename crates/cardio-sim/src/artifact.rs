//! Device artifacts and faults: what a monitor shows that is not the patient (docs/spec.md §4:
//! motion, probe off, flat line, device silent, battery drain; plus implausible values). Faults of
//! the network behind the device are in [`crate::network`].
//!
//! Each artifact kind starts as a Poisson process with its own rate per patient-hour; one episode
//! runs at a time per device (a start that falls inside another episode waits for its end).

use serde_json::json;

use crate::physiology::Reading;
use crate::random::SimRng;

/// A kind of device artifact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// Patient movement: a brief false SpO2 dip and HR spikes (3–20 s).
    Motion,
    /// The SpO2 probe falls off: SpO2 null (10–120 s).
    ProbeOff,
    /// ECG leads off: the trace goes flat and the monitor has no valid HR and no valid RR (5–60 s).
    FlatLine,
    /// The device sends nothing (30 s–10 min); its `seq` resumes where it stopped.
    DeviceSilent,
    /// Unplugged from mains: the battery drains to empty (about 1 %/30 s), the device goes silent
    /// for 5–20 min, then comes back charging.
    BatteryDrain,
    /// One reading with a value outside the plausibility gates (docs/spec.md §3.3).
    Implausible,
}

impl Kind {
    pub const ALL: [Kind; 6] = [
        Kind::Motion,
        Kind::ProbeOff,
        Kind::FlatLine,
        Kind::DeviceSilent,
        Kind::BatteryDrain,
        Kind::Implausible,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Kind::Motion => "motion",
            Kind::ProbeOff => "probe_off",
            Kind::FlatLine => "flat_line",
            Kind::DeviceSilent => "device_silent",
            Kind::BatteryDrain => "battery_drain",
            Kind::Implausible => "implausible",
        }
    }

    /// Episodes per patient-hour with `--artifacts realistic`. Motion is the most common source of
    /// false pulse-oximetry alarms on a ward; leads and probes come off a few times a day; a device
    /// fault or an unplugged monitor is rare.
    pub fn realistic_rate(self) -> f64 {
        match self {
            Kind::Motion => 1.0,
            Kind::ProbeOff => 0.2,
            Kind::FlatLine => 0.02,
            Kind::DeviceSilent => 0.01,
            Kind::BatteryDrain => 0.005,
            Kind::Implausible => 0.05,
        }
    }
}

/// Episodes per patient-hour of each kind, in the order of [`Kind::ALL`].
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Rates(pub [f64; 6]);

impl Rates {
    fn per_ms(&self) -> f64 {
        self.0.iter().sum::<f64>() / 3_600_000.0
    }
}

/// Battery: a monitor on mains charges about 0.5 %/min to full.
const BATTERY_CHARGE_PER_S: f64 = 0.5 / 60.0;

/// The monitor's battery: charging on mains, draining while a `battery_drain` episode has it
/// unplugged.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Battery {
    pub pct: f64,
    pub on_mains: bool,
}

impl Battery {
    /// A monitor on mains, its battery somewhere between 60 and 100 %.
    pub fn new(rng: &mut SimRng) -> Self {
        Battery {
            pct: rng.range(60.0, 100.0),
            on_mains: true,
        }
    }

    /// Charges for `dt_s` seconds if on mains.
    pub fn charge(&mut self, dt_s: f64) {
        if self.on_mains && self.pct < 100.0 {
            self.pct = (self.pct + BATTERY_CHARGE_PER_S * dt_s).min(100.0);
        }
    }

    /// The whole per cent the device reports.
    pub fn shown(&self) -> i32 {
        self.pct as i32
    }
}

/// Artifact episodes as they happen: the running episode number (shared by the ward) and the
/// changes of one reading, for the truth file.
#[derive(Debug, Default)]
pub struct Log {
    pub episodes: u32,
    pub changes: Vec<Change>,
}

/// A change of an artifact episode to report in the truth file.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    Start {
        kind: Kind,
        episode: u32,
        detail: serde_json::Value,
    },
    Phase {
        kind: Kind,
        episode: u32,
        phase: &'static str,
    },
    End {
        kind: Kind,
        episode: u32,
    },
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct Episode {
    kind: Kind,
    episode: u32,
    started_ms: i64,
    /// End of the episode; for a draining battery, `i64::MAX` until it is empty.
    until_ms: i64,
    /// Motion: depth of the false SpO2 dip; battery: drain in % per second.
    magnitude: f64,
    /// Battery drain: the battery is empty and the device silent.
    empty: bool,
}

/// One device's artifact state (40 bytes or so).
#[derive(Debug, Clone, PartialEq)]
pub struct Artifacts {
    active: Option<Episode>,
    next_ms: i64,
}

/// One reading on its way through the device: taken at event time `t_ms`, `dt_s` after the
/// device's last, its values still open to the artifact's changes.
#[derive(Debug)]
pub struct Sample<'a> {
    pub t_ms: i64,
    pub dt_s: f64,
    pub reading: &'a mut Reading,
}

/// What the device does with this reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Send,
    /// Nothing leaves the device (silent or out of battery); `seq` does not advance.
    Silent,
}

impl Artifacts {
    pub fn new(rates: &Rates, start_ms: i64, rng: &mut SimRng) -> Self {
        Artifacts {
            active: None,
            next_ms: next_after(start_ms, rates, rng),
        }
    }

    /// Applies the artifact state to `sample`: ends and starts episodes (reported in `log`), alters
    /// the reading, charges or drains the battery and shows its level.
    pub fn apply(
        &mut self,
        mut sample: Sample<'_>,
        battery: &mut Battery,
        rates: &Rates,
        rng: &mut SimRng,
        log: &mut Log,
    ) -> Outcome {
        battery.charge(sample.dt_s);
        let outcome = self.episode(&mut sample, battery, rates, rng, log);
        sample.reading.battery_pct = Some(battery.shown());
        outcome
    }

    /// Ends the running episode if its time is up, starts the next one if due, and lets the one
    /// running alter the reading.
    fn episode(
        &mut self,
        sample: &mut Sample<'_>,
        battery: &mut Battery,
        rates: &Rates,
        rng: &mut SimRng,
        log: &mut Log,
    ) -> Outcome {
        let (t_ms, dt_s) = (sample.t_ms, sample.dt_s);
        let reading = &mut *sample.reading;
        let changes = &mut log.changes;
        if let Some(ep) = self.active
            && t_ms >= ep.until_ms
        {
            changes.push(Change::End {
                kind: ep.kind,
                episode: ep.episode,
            });
            if ep.kind == Kind::BatteryDrain {
                // Plugged back in and restarted, charging from a few per cent.
                battery.pct = 5.0;
                battery.on_mains = true;
            }
            self.active = None;
        }
        if self.active.is_none() && t_ms >= self.next_ms {
            self.next_ms = next_after(t_ms, rates, rng);
            let kind = Kind::ALL[rng.weighted(&rates.0)];
            log.episodes += 1;
            let episode = log.episodes;
            let (until_ms, magnitude, detail) = match kind {
                Kind::Motion => {
                    let d = rng.range(3.0, 20.0);
                    let depth = rng.range(5.0, 25.0);
                    (
                        secs(t_ms, d),
                        depth,
                        json!({"duration_s": round1(d), "spo2_dip_pct": round1(depth)}),
                    )
                }
                Kind::ProbeOff => {
                    let d = rng.range(10.0, 120.0);
                    (secs(t_ms, d), 0.0, json!({"duration_s": round1(d)}))
                }
                Kind::FlatLine => {
                    let d = rng.range(5.0, 60.0);
                    (secs(t_ms, d), 0.0, json!({"duration_s": round1(d)}))
                }
                Kind::DeviceSilent => {
                    let d = rng.range(30.0, 600.0);
                    (secs(t_ms, d), 0.0, json!({"duration_s": round1(d)}))
                }
                Kind::BatteryDrain => {
                    let per_s = 1.0 / rng.range(20.0, 40.0);
                    battery.on_mains = false;
                    (
                        i64::MAX,
                        per_s,
                        json!({"drain_pct_per_min": round1(per_s * 60.0), "battery_pct": battery.shown()}),
                    )
                }
                Kind::Implausible => {
                    let (field, value) = make_implausible(reading, rng);
                    (t_ms, 0.0, json!({"field": field, "value": value}))
                }
            };
            changes.push(Change::Start {
                kind,
                episode,
                detail,
            });
            self.active = Some(Episode {
                kind,
                episode,
                started_ms: t_ms,
                until_ms,
                magnitude,
                empty: false,
            });
            if kind == Kind::Implausible {
                changes.push(Change::End { kind, episode });
                self.active = None;
                return Outcome::Send;
            }
        }
        let Some(ep) = &mut self.active else {
            return Outcome::Send;
        };
        match ep.kind {
            Kind::Motion => {
                // A triangular false dip: down and back up over the episode.
                let span = (ep.until_ms - ep.started_ms).max(1) as f64;
                let x = (t_ms - ep.started_ms) as f64 / span;
                let shape = 1.0 - (2.0 * x - 1.0).abs();
                if let Some(s) = &mut reading.spo2_pct {
                    *s = (*s - (ep.magnitude * shape).round() as i32).max(50);
                }
                if let Some(h) = &mut reading.heart_rate_bpm {
                    *h += rng.range(10.0, 50.0) as i32;
                }
            }
            Kind::ProbeOff => reading.spo2_pct = None,
            Kind::FlatLine => {
                // A flat trace from leads off is not asystole: a bedside monitor detects the lead
                // fault (IEC 60601-2-27 requires a "leads off" technical alarm) and blanks the
                // numerics it derives from those electrodes, HR and impedance-pneumography RR, to
                // "no valid reading". Sending 0 would claim asystole and apnoea, values docs/spec.md §3.2
                // says are never dropped as artifacts, so the stream carries null for both.
                reading.heart_rate_bpm = None;
                reading.respiratory_rate_bpm = None;
            }
            Kind::DeviceSilent => return Outcome::Silent,
            Kind::BatteryDrain => {
                if ep.empty {
                    return Outcome::Silent;
                }
                battery.pct -= ep.magnitude * dt_s;
                if battery.pct <= 0.0 {
                    battery.pct = 0.0;
                    ep.empty = true;
                    ep.until_ms = secs(t_ms, rng.range(300.0, 1200.0));
                    changes.push(Change::Phase {
                        kind: ep.kind,
                        episode: ep.episode,
                        phase: "empty",
                    });
                    return Outcome::Silent;
                }
            }
            Kind::Implausible => {}
        }
        Outcome::Send
    }
}

fn secs(t_ms: i64, s: f64) -> i64 {
    t_ms + (s * 1000.0) as i64
}

fn round1(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

fn next_after(t_ms: i64, rates: &Rates, rng: &mut SimRng) -> i64 {
    let wait = rng.exponential(rates.per_ms());
    if wait.is_finite() && wait < 1e15 {
        t_ms + wait.ceil() as i64
    } else {
        i64::MAX
    }
}

/// Puts one value outside the plausibility gates into the reading.
fn make_implausible(r: &mut Reading, rng: &mut SimRng) -> (&'static str, f64) {
    match rng.weighted(&[1.0, 1.0, 1.0, 1.0]) {
        0 => {
            let v = rng.range(310.0, 400.0).round() as i32;
            r.heart_rate_bpm = Some(v);
            ("heart_rate_bpm", f64::from(v))
        }
        1 => {
            r.spo2_pct = Some(0);
            ("spo2_pct", 0.0)
        }
        2 => {
            let v = rng.range(85.0, 120.0).round() as i32;
            r.respiratory_rate_bpm = Some(v);
            ("respiratory_rate_bpm", f64::from(v))
        }
        _ => {
            let v = rng.range(460.0, 520.0).round() as i32;
            r.temperature_deci_c = Some(v);
            ("temperature_c", f64::from(v) / 10.0)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reading() -> Reading {
        Reading {
            heart_rate_bpm: Some(80),
            spo2_pct: Some(97),
            respiratory_rate_bpm: Some(15),
            temperature_deci_c: Some(368),
            ..Reading::default()
        }
    }

    /// Applies the artifacts at each second from 0 until `until` says stop; returns how many
    /// readings were silent.
    fn seconds(
        a: &mut Artifacts,
        battery: &mut Battery,
        rates: &Rates,
        log: &mut Log,
        mut check: impl FnMut(Outcome, &Reading, &Log) -> bool,
    ) -> u32 {
        let mut rng = SimRng::new(1, 1);
        let mut silent = 0;
        for t in 0..10_000 {
            let mut r = reading();
            let sample = Sample {
                t_ms: t * 1000,
                dt_s: 1.0,
                reading: &mut r,
            };
            let outcome = a.apply(sample, battery, rates, &mut rng, log);
            if !check(outcome, &r, log) {
                break;
            }
            if outcome == Outcome::Silent {
                silent += 1;
            }
        }
        silent
    }

    #[test]
    fn no_rates_means_no_artifacts() {
        let rates = Rates::default();
        let mut a = Artifacts::new(&rates, 0, &mut SimRng::new(1, 0));
        let mut battery = Battery {
            pct: 90.0,
            on_mains: true,
        };
        let mut log = Log::default();
        let silent = seconds(&mut a, &mut battery, &rates, &mut log, |o, r, _| {
            let mut expected = reading();
            expected.battery_pct = r.battery_pct;
            assert_eq!((o, *r), (Outcome::Send, expected));
            true
        });
        assert_eq!(silent, 0);
        assert!(log.changes.is_empty());
        assert_eq!(battery.shown(), 100, "charged on mains");
    }

    #[test]
    fn battery_drains_to_empty_then_the_device_goes_silent_and_returns() {
        let mut rates = Rates::default();
        rates.0[4] = 1000.0;
        let mut a = Artifacts::new(&rates, 0, &mut SimRng::new(1, 0));
        let mut battery = Battery {
            pct: 50.0,
            on_mains: true,
        };
        let mut log = Log::default();
        let mut lowest = 100;
        let silent = seconds(&mut a, &mut battery, &rates, &mut log, |o, r, log| {
            if o == Outcome::Send {
                lowest = lowest.min(r.battery_pct.unwrap());
            }
            !log.changes.iter().any(|c| matches!(c, Change::End { .. }))
        });
        let ch = &log.changes;
        assert!(lowest <= 1, "drained to {lowest} %");
        assert!(matches!(
            ch[0],
            Change::Start {
                kind: Kind::BatteryDrain,
                ..
            }
        ));
        assert!(matches!(ch[1], Change::Phase { phase: "empty", .. }));
        assert!(matches!(ch[2], Change::End { .. }));
        assert!((300..=1200).contains(&silent), "{silent}");
    }
}

//! One patient's vital signs through time: mean-reverting variability (an Ornstein–Uhlenbeck process
//! per vital), a circadian rhythm, fever coupling, intermittent NIBP and an averaging pulse oximeter.
//!
//! Figures from docs/spec.md §4: fever adds about 7 bpm and 1.4 breaths/min per °C; temperature
//! swings about 0.5 °C a day, lowest 06–08 h and highest 18–20 h; HR at least 10 % lower at night;
//! the displayed SpO2 lags the true value (averaging 4–16 s, finger slower than ear); NIBP cycles
//! every 5–15 min.
//!
//! Two parts copy how a monitor computes its number rather than add noise to it. In atrial
//! fibrillation each beat comes at an irregular interval and the displayed HR is the mean rate over
//! the last [`HR_AVERAGE_BEATS`] R-R intervals, so the irregularity shows as a slow wander of the
//! number, not a jump of 20 bpm from one second to the next. The oximeter's measurement noise is
//! in the samples it averages, so the displayed SpO2 changes smoothly from second to second.

use std::collections::VecDeque;

use std::f64::consts::TAU;

use vitals_core::Consciousness;

use crate::cohort::Baseline;
use crate::random::SimRng;
use crate::scenario::Effects;

/// HR rise per °C of fever (docs/spec.md §4).
pub const FEVER_HR_BPM_PER_C: f64 = 7.0;
/// RR rise per °C of fever (docs/spec.md §4).
pub const FEVER_RR_PER_C: f64 = 1.4;

/// `(time constant s, stationary SD)` of the mean-reverting part of each vital. HR and SpO2 wander
/// over a minute or two, RR a little slower, BP over a quarter of an hour, core temperature over
/// half an hour.
const OU_HR: (f64, f64) = (90.0, 3.5);
const OU_RR: (f64, f64) = (120.0, 1.1);
const OU_SPO2: (f64, f64) = (30.0, 0.6);
const OU_TEMP: (f64, f64) = (1800.0, 0.12);
const OU_SBP: (f64, f64) = (900.0, 6.0);
const OU_DBP: (f64, f64) = (900.0, 4.0);

/// Reading-to-reading noise (SD) of the displayed value: HR beat detection, RR from impedance.
const WHITE_HR: f64 = 1.2;
const WHITE_RR: f64 = 0.6;
/// Noise (SD, %) of the saturation the oximeter measures, before its averaging: after a 4–16 s
/// average 0.25–0.12 % is left on the display, which then changes smoothly from second to second
/// (lag-1 autocorrelation above 0.9 at rest, as real 1 s oximeter output).
const SPO2_MEASUREMENT_NOISE: f64 = 0.7;
/// A bedside monitor displays HR as the mean rate over about the last 12 R-R intervals.
pub const HR_AVERAGE_BEATS: usize = 12;
/// NIBP measurement noise (SD), mmHg.
const WHITE_SBP: f64 = 4.0;
const WHITE_DBP: f64 = 3.0;

/// Circadian amplitudes (half the peak-to-trough swing) and the hour of the peak, on the ward's local
/// clock (`--utc-offset`). Temperature: 0.25 °C, so a 0.5 °C daily swing, highest at 19 h and
/// lowest at 7 h. HR: ±6 %, highest mid-afternoon and lowest at 3 h, so the night reads 11 % below
/// the afternoon. BP: ±4.5 % (nocturnal dipping of about 9 %). RR: ±3 %.
const CIRCADIAN_TEMP_C: (f64, f64) = (0.25, 19.0);
const CIRCADIAN_HR: (f64, f64) = (0.06, 15.0);
const CIRCADIAN_BP: (f64, f64) = (0.045, 15.0);
const CIRCADIAN_RR: (f64, f64) = (0.03, 15.0);

/// The time-of-day terms, shared by every patient reading in the same second.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Circadian {
    pub temperature_c: f64,
    pub heart_rate_factor: f64,
    pub bp_factor: f64,
    pub rr_factor: f64,
}

impl Circadian {
    /// The rhythm at `ms_of_day` (milliseconds since midnight UTC).
    pub fn at(ms_of_day: i64) -> Self {
        let hour = ms_of_day as f64 / 3_600_000.0;
        let wave = |(amp, peak): (f64, f64)| amp * (TAU * (hour - peak) / 24.0).cos();
        Circadian {
            temperature_c: wave(CIRCADIAN_TEMP_C),
            heart_rate_factor: 1.0 + wave(CIRCADIAN_HR),
            bp_factor: 1.0 + wave(CIRCADIAN_BP),
            rr_factor: 1.0 + wave(CIRCADIAN_RR),
        }
    }
}

/// Per-step coefficients of an Ornstein–Uhlenbeck process sampled every `dt`: the exact
/// discretisation `x' = a·x + b·N(0,1)`, `a = e^(−dt/τ)`, `b = σ·√(1−a²)`.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Ou {
    a: f64,
    b: f64,
}

impl Ou {
    fn new((tau, sd): (f64, f64), dt_s: f64) -> Self {
        let a = (-dt_s / tau).exp();
        Ou {
            a,
            b: sd * (1.0 - a * a).sqrt(),
        }
    }

    fn step(self, x: f64, rng: &mut SimRng) -> f64 {
        self.a * x + self.b * rng.gauss()
    }
}

/// The step coefficients for one `--interval`, shared by all patients.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Model {
    hr: Ou,
    rr: Ou,
    spo2: Ou,
    temp: Ou,
    dt_s: f64,
}

impl Model {
    pub fn new(interval_ms: i64) -> Self {
        let dt_s = interval_ms as f64 / 1000.0;
        Model {
            hr: Ou::new(OU_HR, dt_s),
            rr: Ou::new(OU_RR, dt_s),
            spo2: Ou::new(OU_SPO2, dt_s),
            temp: Ou::new(OU_TEMP, dt_s),
            dt_s,
        }
    }

    /// The interval between readings, in seconds.
    pub fn dt_s(&self) -> f64 {
        self.dt_s
    }
}

/// What the monitor displays at one reading, before device artifacts (the battery is the device's:
/// [`crate::artifact::Battery`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Reading {
    pub heart_rate_bpm: Option<i32>,
    pub spo2_pct: Option<i32>,
    pub respiratory_rate_bpm: Option<i32>,
    /// Tenths of a degree Celsius.
    pub temperature_deci_c: Option<i32>,
    pub systolic_mmhg: Option<i32>,
    pub diastolic_mmhg: Option<i32>,
    pub on_oxygen: bool,
    pub consciousness: Consciousness,
    pub battery_pct: Option<i32>,
}

/// The changing state of one patient's body and monitor.
#[derive(Debug, Clone, PartialEq)]
pub struct Physiology {
    pub baseline: Baseline,
    hr_x: f64,
    rr_x: f64,
    spo2_x: f64,
    temp_x: f64,
    sbp_x: f64,
    dbp_x: f64,
    /// The oximeter's running average of the measured saturation.
    spo2_shown: f64,
    /// Weight of a new sample in that average: `1 − e^(−dt/lag)`.
    spo2_alpha: f64,
    /// This probe's fixed error (oximeter accuracy ±2 %, docs/spec.md §4).
    spo2_bias: f64,
    /// Seconds between NIBP cuff cycles (300, 600 or 900).
    pub nibp_every_s: u16,
    pub next_nibp_ms: i64,
    last_nibp_ms: i64,
    /// In an irregular rhythm: the last [`HR_AVERAGE_BEATS`] R-R intervals (s), oldest first (empty
    /// in sinus rhythm), the interval under way and the time (s) left of it at the last reading.
    rr_intervals: VecDeque<f64>,
    beat_rr_s: f64,
    beat_left_s: f64,
}

impl Physiology {
    /// A patient at rest, with the first cuff cycle at a random moment of its first interval.
    pub fn new(baseline: Baseline, model: &Model, start_ms: i64, rng: &mut SimRng) -> Self {
        let ear_probe = rng.chance(0.25);
        // Averaging time of the oximeter: 4–16 s, an ear probe faster than a finger probe.
        let lag_s = if ear_probe {
            rng.range(4.0, 8.0)
        } else {
            rng.range(8.0, 16.0)
        };
        let nibp_every_s = [300u16, 600, 900][rng.weighted(&[0.3, 0.3, 0.4])];
        let first_nibp = start_ms + (rng.uniform() * f64::from(nibp_every_s) * 1000.0) as i64;
        let mut p = Physiology {
            baseline,
            hr_x: OU_HR.1 * rng.gauss(),
            rr_x: OU_RR.1 * rng.gauss(),
            spo2_x: OU_SPO2.1 * rng.gauss(),
            temp_x: OU_TEMP.1 * rng.gauss(),
            sbp_x: OU_SBP.1 * rng.gauss(),
            dbp_x: OU_DBP.1 * rng.gauss(),
            spo2_shown: 0.0,
            spo2_alpha: 1.0 - (-model.dt_s / lag_s).exp(),
            spo2_bias: rng.normal_truncated(0.0, 0.7, -2.0, 2.0),
            nibp_every_s,
            next_nibp_ms: first_nibp,
            last_nibp_ms: start_ms,
            rr_intervals: VecDeque::with_capacity(HR_AVERAGE_BEATS + 1),
            beat_rr_s: 0.0,
            beat_left_s: 0.0,
        };
        p.spo2_shown = (baseline.spo2_pct + p.spo2_x).min(100.0);
        p
    }

    /// Advances one `--interval` to event time `t_ms` and returns what the monitor shows.
    pub fn step(
        &mut self,
        t_ms: i64,
        model: &Model,
        circ: &Circadian,
        fx: &Effects,
        rng: &mut SimRng,
    ) -> Reading {
        let b = self.baseline;
        self.hr_x = model.hr.step(self.hr_x, rng);
        self.rr_x = model.rr.step(self.rr_x, rng);
        self.spo2_x = model.spo2.step(self.spo2_x, rng);
        self.temp_x = model.temp.step(self.temp_x, rng);

        // Fever: the rise of core temperature above this patient's own rhythm drives HR and RR.
        let fever_c = self.temp_x + fx.temperature_c;
        let temp = b.temperature_c + circ.temperature_c + fever_c;

        let irregular = fx.hr_irregularity_bpm.max(b.hr_irregularity_bpm);
        let mean_hr = b.heart_rate_bpm * circ.heart_rate_factor
            + self.hr_x
            + fx.heart_rate_bpm
            + FEVER_HR_BPM_PER_C * fever_c;
        let hr = self.displayed_rate(mean_hr, irregular, model.dt_s, rng) + WHITE_HR * rng.gauss();
        let rr = b.respiratory_rate_bpm * circ.rr_factor
            + self.rr_x
            + fx.respiratory_rate_bpm
            + FEVER_RR_PER_C * fever_c
            + WHITE_RR * rng.gauss();

        let spo2_true = (b.spo2_pct + self.spo2_x + fx.spo2_pct).clamp(40.0, 100.0);
        let spo2_measured = spo2_true + SPO2_MEASUREMENT_NOISE * rng.gauss();
        self.spo2_shown += self.spo2_alpha * (spo2_measured - self.spo2_shown);
        let spo2 = (self.spo2_shown + self.spo2_bias).min(100.0);

        let (mut sbp, mut dbp) = (None, None);
        if t_ms >= self.next_nibp_ms {
            // The BP process only matters when the cuff measures: step it over the whole gap.
            let gap_s = (t_ms - self.last_nibp_ms) as f64 / 1000.0;
            self.sbp_x = Ou::new(OU_SBP, gap_s).step(self.sbp_x, rng);
            self.dbp_x = Ou::new(OU_DBP, gap_s).step(self.dbp_x, rng);
            let s = b.systolic_mmhg * circ.bp_factor
                + self.sbp_x
                + fx.systolic_mmhg
                + WHITE_SBP * rng.gauss();
            let d = b.diastolic_mmhg * circ.bp_factor
                + self.dbp_x
                + fx.diastolic_mmhg
                + WHITE_DBP * rng.gauss();
            let s = s.clamp(45.0, 260.0);
            let d = d.clamp(20.0, s - 12.0);
            sbp = Some(s.round() as i32);
            dbp = Some(d.round() as i32);
            self.last_nibp_ms = t_ms;
            self.next_nibp_ms = t_ms + i64::from(self.nibp_every_s) * 1000;
        }

        Reading {
            heart_rate_bpm: Some(hr.clamp(25.0, 250.0).round() as i32),
            spo2_pct: Some(spo2.clamp(40.0, 100.0).round() as i32),
            respiratory_rate_bpm: Some(rr.clamp(4.0, 60.0).round() as i32),
            temperature_deci_c: Some((temp.clamp(30.0, 43.0) * 10.0).round() as i32),
            systolic_mmhg: sbp,
            diastolic_mmhg: dbp,
            on_oxygen: fx.on_oxygen,
            consciousness: fx.consciousness,
            battery_pct: None,
        }
    }
}

impl Physiology {
    /// The HR a monitor shows over the next `dt_s`. In sinus rhythm (`irregular` 0) the beats are
    /// regular and the display is the underlying rate. In an irregular rhythm each beat's
    /// instantaneous rate is `mean_hr` with SD `irregular`, and the display is the mean rate over
    /// the last [`HR_AVERAGE_BEATS`] R-R intervals.
    fn displayed_rate(&mut self, mean_hr: f64, irregular: f64, dt_s: f64, rng: &mut SimRng) -> f64 {
        if irregular <= 0.0 {
            self.rr_intervals.clear();
            return mean_hr;
        }
        let mean_hr = mean_hr.max(25.0);
        // An instantaneous rate of at least half the mean: no pause longer than two mean beats.
        let beat = |rng: &mut SimRng| 60.0 / (mean_hr + irregular * rng.gauss()).max(mean_hr / 2.0);
        if self.rr_intervals.is_empty() {
            // Entering the rhythm: the monitor's window fills with beats of the new rhythm.
            for _ in 0..HR_AVERAGE_BEATS {
                let rr = beat(rng);
                self.rr_intervals.push_back(rr);
            }
            self.beat_rr_s = beat(rng);
            self.beat_left_s = self.beat_rr_s;
        }
        let mut left = dt_s;
        while self.beat_left_s <= left {
            left -= self.beat_left_s;
            self.rr_intervals.push_back(self.beat_rr_s);
            if self.rr_intervals.len() > HR_AVERAGE_BEATS {
                self.rr_intervals.pop_front();
            }
            self.beat_rr_s = beat(rng);
            self.beat_left_s = self.beat_rr_s;
        }
        self.beat_left_s -= left;
        60.0 * self.rr_intervals.len() as f64 / self.rr_intervals.iter().sum::<f64>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temperature_peaks_at_19_and_bottoms_at_7() {
        let at = |h: i64| Circadian::at(h * 3_600_000).temperature_c;
        let hours: Vec<i64> = (0..24).collect();
        let peak = *hours
            .iter()
            .max_by(|a, b| at(**a).total_cmp(&at(**b)))
            .unwrap();
        let low = *hours
            .iter()
            .min_by(|a, b| at(**a).total_cmp(&at(**b)))
            .unwrap();
        assert_eq!((peak, low), (19, 7));
        assert!((at(19) - at(7) - 0.5).abs() < 1e-9);
    }

    #[test]
    fn night_heart_rate_is_at_least_ten_percent_lower() {
        let night = Circadian::at(3 * 3_600_000).heart_rate_factor;
        let afternoon = Circadian::at(15 * 3_600_000).heart_rate_factor;
        assert!(night / afternoon <= 0.9);
    }

    #[test]
    fn displayed_spo2_lags_a_sudden_fall() {
        let model = Model::new(1000);
        let mut rng = SimRng::new(2, 0);
        let (_, baseline) = crate::cohort::draw(&mut rng);
        let mut body = Physiology::new(baseline, &model, 0, &mut rng);
        let lag_s = -1.0 / (1.0 - body.spo2_alpha).ln();
        assert!((4.0..=16.0).contains(&lag_s), "averaging over {lag_s} s");
        let before = body.spo2_shown;
        let mut fx = Effects::NONE;
        fx.spo2_pct = -20.0;
        let circ = Circadian::at(0);
        body.step(1000, &model, &circ, &fx, &mut rng);
        // One second after a 20-point fall the display has moved less than half of it.
        assert!(
            before - body.spo2_shown < 10.0,
            "{before} → {}",
            body.spo2_shown
        );
        for t in 2..=60 {
            body.step(t * 1000, &model, &circ, &fx, &mut rng);
        }
        // After a minute it has caught up (within noise).
        assert!(
            before - body.spo2_shown > 16.0,
            "{before} → {}",
            body.spo2_shown
        );
    }

    #[test]
    fn ou_step_keeps_its_stationary_spread() {
        let ou = Ou::new((60.0, 3.0), 1.0);
        let mut rng = SimRng::new(5, 0);
        let mut x = 0.0;
        let (mut s, mut s2, n) = (0.0, 0.0, 400_000);
        for _ in 0..n {
            x = ou.step(x, &mut rng);
            s += x;
            s2 += x * x;
        }
        let sd = (s2 / n as f64 - (s / n as f64).powi(2)).sqrt();
        assert!((sd - 3.0).abs() < 0.25, "sd {sd}");
    }
}

//! Event time and wall time: how fast the simulated ward runs (`--speed`) and the parsing of the
//! time arguments (`--duration`, `--interval`, scenario offsets).
//!
//! Pacing is against absolute deadlines computed from one anchor instant, never `sleep(interval)`
//! after the work, so the time spent generating and writing does not accumulate into drift: after an
//! hour the stream is as close to the clock as after a second.

use std::time::{Duration, Instant};

use vitals_core::Timestamp;

/// How event time maps onto wall time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Speed {
    /// Event time runs this many times faster than the wall clock (1 = real time).
    Factor(f64),
    /// As fast as the machine and the reader allow.
    Max,
}

/// Parses `--speed`: `max`, or a positive factor (`1`, `60`, `0.5`).
pub fn parse_speed(s: &str) -> Result<Speed, String> {
    if s.eq_ignore_ascii_case("max") {
        return Ok(Speed::Max);
    }
    match s.parse::<f64>() {
        Ok(f) if f.is_finite() && f > 0.0 => Ok(Speed::Factor(f)),
        _ => Err(format!(
            "`{s}` is not a speed: give `max` or a factor above 0 (1 = real time, 60 = a minute a second)"
        )),
    }
}

/// Parses a span of time into milliseconds: numbers with a unit `ms`, `s`, `m`, `h` or `d`
/// (`90s`, `10m`, `1.5h`, `2d`, `3h40m`); a bare number is seconds.
pub fn parse_duration_ms(s: &str) -> Result<i64, String> {
    let bad = || format!("`{s}` is not a duration (examples: 90s, 10m, 1h, 3h40m, 2d)");
    let mut rest = s.trim();
    if rest.is_empty() {
        return Err(bad());
    }
    let mut total = 0.0;
    while !rest.is_empty() {
        let split = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let (num, tail) = rest.split_at(split);
        let unit_len = tail
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(tail.len());
        let (unit, tail) = tail.split_at(unit_len);
        let unit_ms = match unit.trim() {
            "ms" => 1.0,
            "" | "s" => 1_000.0,
            "m" | "min" => 60_000.0,
            "h" => 3_600_000.0,
            "d" => 86_400_000.0,
            _ => {
                return Err(format!(
                    "`{s}`: unknown unit `{unit}` (use ms, s, m, h or d, as in 90s, 10m, 1h, 2d)"
                ));
            }
        };
        let value: f64 = num.parse().map_err(|_| bad())?;
        total += value * unit_ms;
        rest = tail;
    }
    let ms = total.round();
    if !(0.0..=1e15).contains(&ms) {
        return Err(format!("`{s}` is out of range"));
    }
    Ok(ms as i64)
}

/// Parses an offset from the start of the run as `HH:MM` or `HH:MM:SS` (hours may exceed 24), or a
/// duration as [`parse_duration_ms`] reads it.
pub fn parse_offset_ms(s: &str) -> Result<i64, String> {
    if s.contains(':') {
        let parts: Vec<&str> = s.split(':').collect();
        if !(2..=3).contains(&parts.len()) {
            return Err(format!("`{s}` is not HH:MM or HH:MM:SS"));
        }
        let mut ms = 0i64;
        for (i, p) in parts.iter().enumerate() {
            let v: i64 = p
                .parse()
                .map_err(|_| format!("`{s}` is not HH:MM or HH:MM:SS"))?;
            if v < 0 || (i > 0 && v > 59) {
                return Err(format!("`{s}` is not HH:MM or HH:MM:SS"));
            }
            ms += v * [3_600_000, 60_000, 1_000][i];
        }
        return Ok(ms);
    }
    parse_duration_ms(s)
}

/// Holds the stream to its schedule: tells how long to wait before a record of a given event time
/// may be written, and records the worst lateness seen (the real-time lag).
#[derive(Debug)]
pub struct Pacer {
    speed: Speed,
    anchor: Instant,
    anchor_ms: i64,
    /// Worst lateness of a record behind its deadline, in milliseconds.
    max_lag_ms: f64,
    /// Event time up to which the deadline is known to have passed (saves a clock read per record).
    due_until_ms: i64,
}

impl Pacer {
    /// At `--speed 1` event time follows the wall clock: a past `--start` is backfilled at full speed
    /// until it reaches now, then runs in real time; a future one waits. At any other factor event
    /// time starts at `start` now and runs `factor` times faster.
    pub fn new(speed: Speed, start: Timestamp) -> Self {
        let anchor_ms = match speed {
            Speed::Factor(1.0) => Timestamp::now().millis(),
            _ => start.millis(),
        };
        Pacer {
            speed,
            anchor: Instant::now(),
            anchor_ms,
            max_lag_ms: 0.0,
            due_until_ms: i64::MIN,
        }
    }

    /// How long to wait before the record stamped `ts_ms` is due, or `None` when it is due now.
    pub fn wait_for(&mut self, ts_ms: i64) -> Option<Duration> {
        let Speed::Factor(f) = self.speed else {
            return None;
        };
        if ts_ms <= self.due_until_ms {
            return None;
        }
        let offset_s = (ts_ms - self.anchor_ms) as f64 / 1000.0 / f;
        let elapsed = self.anchor.elapsed().as_secs_f64();
        if offset_s > elapsed {
            return Some(Duration::from_secs_f64(offset_s - elapsed));
        }
        let lag = (elapsed - offset_s) * 1000.0;
        // Backfill (deadlines before the anchor) is not lag.
        if offset_s >= 0.0 && lag > self.max_lag_ms {
            self.max_lag_ms = lag;
        }
        // Every record up to the current event time is due too.
        self.due_until_ms = self.anchor_ms + (elapsed * 1000.0 * f) as i64;
        None
    }

    /// Worst lateness of a record behind its deadline so far, in milliseconds (0 at `--speed max`).
    pub fn max_lag_ms(&self) -> f64 {
        self.max_lag_ms
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_take_the_documented_units() {
        assert_eq!(parse_duration_ms("90s"), Ok(90_000));
        assert_eq!(parse_duration_ms("10m"), Ok(600_000));
        assert_eq!(parse_duration_ms("1h"), Ok(3_600_000));
        assert_eq!(parse_duration_ms("2d"), Ok(172_800_000));
        assert_eq!(parse_duration_ms("1.5"), Ok(1_500));
        assert_eq!(parse_duration_ms("250ms"), Ok(250));
        assert_eq!(parse_duration_ms("3h40m"), Ok(13_200_000));
        assert!(parse_duration_ms("5 weeks").is_err());
        assert!(parse_duration_ms("h").is_err());
    }

    #[test]
    fn offsets_read_clock_style_or_as_durations() {
        assert_eq!(parse_offset_ms("00:10"), Ok(600_000));
        assert_eq!(parse_offset_ms("26:00:30"), Ok(93_630_000));
        assert_eq!(parse_offset_ms("45m"), Ok(2_700_000));
        assert!(parse_offset_ms("00:75").is_err());
    }

    #[test]
    fn speed_is_max_or_a_positive_factor() {
        assert_eq!(parse_speed("max"), Ok(Speed::Max));
        assert_eq!(parse_speed("60"), Ok(Speed::Factor(60.0)));
        assert!(parse_speed("0").is_err());
        assert!(parse_speed("fast").is_err());
    }

    #[test]
    fn max_speed_never_waits_and_a_future_record_does() {
        let t0 = Timestamp::from_millis(1_000_000);
        assert_eq!(Pacer::new(Speed::Max, t0).wait_for(i64::MAX), None);
        let mut p = Pacer::new(Speed::Factor(2.0), t0);
        assert_eq!(p.wait_for(t0.millis() - 10), None);
        let w = p.wait_for(t0.millis() + 10_000).unwrap();
        assert!(
            w > Duration::from_secs(4) && w <= Duration::from_secs(5),
            "{w:?}"
        );
    }
}

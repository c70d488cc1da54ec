//! Trends of fixed size: a ring of time buckets per vital, so a patient's memory does not grow with
//! the length of the stream or its rate (a 1 Hz monitor and a 10 Hz one cost the same).
//!
//! Buckets are keyed by event time, so a replayed file draws the same trend as the live stream did.

use vitals_core::Timestamp;

/// A bucket with no reading in it.
const EMPTY: i16 = i16::MIN;

/// How readings that fall into one bucket are combined.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Combine {
    /// The mean: a vital's level over the bucket.
    Mean,
    /// The largest: a score's worst moment, which a mean would hide.
    Max,
}

/// `N` buckets of `bucket_ms` each, the newest last. Values are stored as `i16` in the caller's
/// unit (temperature in tenths of a degree), which keeps a patient's hour of trends under 1 KB.
#[derive(Debug, Clone)]
pub struct Series<const N: usize> {
    buckets: [i16; N],
    /// Bucket number (event time / `bucket_ms`) of the newest bucket; `None` before any reading.
    newest: Option<i64>,
    /// Running sum and count of the newest bucket, for the mean.
    sum: i32,
    count: u16,
}

impl<const N: usize> Default for Series<N> {
    fn default() -> Self {
        Series {
            buckets: [EMPTY; N],
            newest: None,
            sum: 0,
            count: 0,
        }
    }
}

impl<const N: usize> Series<N> {
    /// Adds a reading taken at `ts`. A reading older than the window, or older than the newest
    /// bucket by more than the window, is dropped; a late one inside the window joins its bucket.
    pub fn push(&mut self, ts: Timestamp, bucket_ms: i64, value: i16, combine: Combine) {
        let bucket = ts.millis().div_euclid(bucket_ms);
        match self.newest {
            Some(newest) if bucket < newest => {
                if newest - bucket < N as i64 {
                    let slot = &mut self.buckets[bucket.rem_euclid(N as i64) as usize];
                    *slot = if *slot == EMPTY {
                        value
                    } else {
                        match combine {
                            // A late reading nudges the finished bucket; its exact mean is gone.
                            Combine::Mean => ((i32::from(*slot) + i32::from(value)) / 2) as i16,
                            Combine::Max => (*slot).max(value),
                        }
                    };
                }
                return;
            }
            Some(newest) if bucket == newest => {}
            Some(newest) => {
                // Buckets between the newest and this one had no reading.
                for b in (newest + 1..bucket).take(N) {
                    self.buckets[b.rem_euclid(N as i64) as usize] = EMPTY;
                }
                self.start(bucket);
            }
            None => self.start(bucket),
        }
        let slot = &mut self.buckets[bucket.rem_euclid(N as i64) as usize];
        match combine {
            Combine::Mean => {
                self.sum += i32::from(value);
                self.count += 1;
                *slot = (self.sum as f64 / f64::from(self.count)).round() as i16;
            }
            Combine::Max => {
                *slot = if *slot == EMPTY {
                    value
                } else {
                    (*slot).max(value)
                }
            }
        }
    }

    fn start(&mut self, bucket: i64) {
        self.newest = Some(bucket);
        self.sum = 0;
        self.count = 0;
        self.buckets[bucket.rem_euclid(N as i64) as usize] = EMPTY;
    }

    /// The window ending at the bucket that holds `now`, oldest first; `None` where no reading fell.
    pub fn window(&self, now: Timestamp, bucket_ms: i64) -> [Option<i16>; N] {
        let mut out = [None; N];
        let Some(newest) = self.newest else {
            return out;
        };
        let last = now.millis().div_euclid(bucket_ms);
        for (i, o) in out.iter_mut().enumerate() {
            let b = last - (N as i64 - 1) + i as i64;
            if b <= newest && newest - b < N as i64 {
                let v = self.buckets[b.rem_euclid(N as i64) as usize];
                *o = (v != EMPTY).then_some(v);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: i64) -> Timestamp {
        Timestamp::from_millis(s * 1000)
    }

    #[test]
    fn readings_are_averaged_per_bucket_and_gaps_stay_empty() {
        let mut s = Series::<4>::default();
        s.push(at(0), 10_000, 70, Combine::Mean);
        s.push(at(5), 10_000, 80, Combine::Mean);
        s.push(at(31), 10_000, 90, Combine::Mean);
        assert_eq!(s.window(at(31), 10_000), [Some(75), None, None, Some(90)]);
        // The window follows the clock: 20 s later the oldest bucket has scrolled out.
        assert_eq!(s.window(at(51), 10_000), [None, Some(90), None, None]);
    }

    #[test]
    fn max_keeps_the_worst_and_a_late_reading_joins_its_bucket() {
        let mut s = Series::<3>::default();
        s.push(at(0), 10_000, 2, Combine::Max);
        s.push(at(3), 10_000, 5, Combine::Max);
        s.push(at(12), 10_000, 1, Combine::Max);
        s.push(at(4), 10_000, 7, Combine::Max);
        assert_eq!(s.window(at(12), 10_000), [None, Some(7), Some(1)]);
        // Older than the whole window: dropped, not wrapped onto a newer bucket.
        s.push(at(100), 10_000, 3, Combine::Max);
        s.push(at(50), 10_000, 9, Combine::Max);
        assert_eq!(s.window(at(100), 10_000), [None, None, Some(3)]);
    }
}

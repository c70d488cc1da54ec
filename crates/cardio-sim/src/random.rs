//! The simulator's random numbers: one Xoshiro256++ stream per patient, seeded from `--seed` and the
//! patient's index, so a run is byte-reproducible and does not depend on the rand crates' sampling
//! algorithms (which may change between releases).

use rand_xoshiro::Xoshiro256PlusPlus;
use rand_xoshiro::rand_core::{Rng, SeedableRng};

/// A small, fast, portable random stream (32 bytes of state).
#[derive(Debug, Clone)]
pub struct SimRng(Xoshiro256PlusPlus);

/// 1 / standard deviation of the sum of four independent uniform 16-bit integers.
const IRWIN_HALL_4_INV_SD: f64 = 1.0 / 37_837.228_1;
const IRWIN_HALL_4_MEAN: f64 = 2.0 * 65_535.0;

impl SimRng {
    /// The stream of one patient (or of the ward when `stream` is `u64::MAX`).
    pub fn new(seed: u64, stream: u64) -> Self {
        // SplitMix64 (inside `seed_from_u64`) decorrelates neighbouring inputs.
        let mixed = seed ^ stream.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        SimRng(Xoshiro256PlusPlus::seed_from_u64(mixed))
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0.next_u64()
    }

    /// Uniform in [0, 1).
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform in [lo, hi).
    pub fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.uniform()
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        p > 0.0 && self.uniform() < p
    }

    /// A standard normal deviate, approximated by the standardised sum of four uniforms (Irwin–Hall):
    /// one 64-bit draw, no logarithm or square root, and tails bounded at ±3.5 SD, which suits
    /// physiological noise (a monitor never shows a 6-sigma jump from noise alone).
    pub fn gauss(&mut self) -> f64 {
        let x = self.next_u64();
        let sum = (x & 0xFFFF) + ((x >> 16) & 0xFFFF) + ((x >> 32) & 0xFFFF) + (x >> 48);
        (sum as f64 - IRWIN_HALL_4_MEAN) * IRWIN_HALL_4_INV_SD
    }

    /// Normal with the given mean and SD, truncated to `[lo, hi]` by drawing again until the value
    /// falls inside. Clamping instead would put every out-of-range draw exactly on the bound (a
    /// pile-up of identical patients at the limit); truncation leaves no point mass anywhere. After
    /// 1000 misses (a range far in the tail) the value is uniform in the range, still without one.
    pub fn normal_truncated(&mut self, mean: f64, sd: f64, lo: f64, hi: f64) -> f64 {
        for _ in 0..1000 {
            let x = mean + sd * self.gauss();
            if (lo..=hi).contains(&x) {
                return x;
            }
        }
        self.range(lo, hi)
    }

    /// Waiting time (same unit as `1 / rate`) to the next event of a Poisson process.
    pub fn exponential(&mut self, rate: f64) -> f64 {
        if rate <= 0.0 {
            return f64::INFINITY;
        }
        -(1.0 - self.uniform()).ln() / rate
    }

    /// An index drawn with the given weights.
    pub fn weighted(&mut self, weights: &[f64]) -> usize {
        let total: f64 = weights.iter().sum();
        let mut x = self.uniform() * total;
        for (i, w) in weights.iter().enumerate() {
            if x < *w {
                return i;
            }
            x -= w;
        }
        weights.len() - 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gauss_has_unit_spread_and_zero_mean() {
        let mut r = SimRng::new(1, 0);
        let n = 200_000;
        let xs: Vec<f64> = (0..n).map(|_| r.gauss()).collect();
        let mean = xs.iter().sum::<f64>() / n as f64;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64;
        assert!(mean.abs() < 0.01, "mean {mean}");
        assert!((var.sqrt() - 1.0).abs() < 0.01, "sd {}", var.sqrt());
    }

    #[test]
    fn streams_differ_by_patient_and_repeat_by_seed() {
        let a: Vec<u64> = (0..4).map(|_| SimRng::new(7, 0).next_u64()).collect();
        assert!(a.windows(2).all(|w| w[0] == w[1]));
        assert_ne!(SimRng::new(7, 0).next_u64(), SimRng::new(7, 1).next_u64());
        assert_ne!(SimRng::new(7, 0).next_u64(), SimRng::new(8, 0).next_u64());
    }
}

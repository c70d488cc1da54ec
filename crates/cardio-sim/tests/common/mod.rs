//! Helpers shared by the integration tests: run the real binary and read what it wrote.

#![allow(dead_code)]

use std::process::{Command, Output};

use vitals_core::{Record, Vitals, parse_record};

pub const START: &str = "2026-11-28T00:00:00Z";

pub fn sim() -> Command {
    Command::new(env!("CARGO_BIN_EXE_cardio-sim"))
}

/// Runs `cardio-sim` at full speed from a fixed start with `args`; panics unless it exits 0.
pub fn run(args: &[&str]) -> Output {
    let out = sim()
        .args(["--speed", "max", "--start", START, "--quiet"])
        .args(args)
        .output()
        .expect("cardio-sim runs");
    assert!(
        out.status.success(),
        "cardio-sim {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Every vitals line of stdout, parsed; panics on a line that is neither a vitals record nor a
/// valid `admission` or `settings` record (those are checked in `tests/settings.rs`).
pub fn vitals(out: &Output) -> Vec<Vitals> {
    String::from_utf8(out.stdout.clone())
        .expect("UTF-8")
        .lines()
        .filter_map(|l| match parse_record(l) {
            Ok(Record::Vitals(v)) => Some(v),
            Ok(Record::Admission(_) | Record::Settings(_)) => None,
            other => panic!("not a vitals line: {l}: {other:?}"),
        })
        .collect()
}

/// The stdout lines that are vitals records, as text.
pub fn vitals_lines(out: &Output) -> Vec<String> {
    String::from_utf8(out.stdout.clone())
        .expect("UTF-8")
        .lines()
        .filter(|l| l.starts_with("{\"type\":\"vitals\""))
        .map(str::to_owned)
        .collect()
}

/// Lines of a JSON Lines file as JSON values.
pub fn json_lines(path: &std::path::Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .expect("file exists")
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect()
}

pub fn mean(xs: &[f64]) -> f64 {
    xs.iter().sum::<f64>() / xs.len() as f64
}

pub fn sd(xs: &[f64]) -> f64 {
    let m = mean(xs);
    (xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (xs.len() - 1) as f64).sqrt()
}

/// Spread (SD) of a series around its own centred moving mean over `half` readings either side:
/// the short-term variability left once the slow wander is taken out.
pub fn short_term_sd(xs: &[f64], half: usize) -> f64 {
    let residual: Vec<f64> = (half..xs.len().saturating_sub(half))
        .map(|i| xs[i] - mean(&xs[i - half..=i + half]))
        .collect();
    sd(&residual)
}

//! Writes a synthetic lake for the benchmark and for trying the report without the pipeline:
//! `cargo run --release -p cardio-report --example make_lake -- DIR PATIENTS SECONDS [SEED]`.

use std::path::PathBuf;

use anyhow::{Context, Result};
use cardio_report::synthetic::{LakeSpec, write_lake};

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [dir, patients, seconds, rest @ ..] = args.as_slice() else {
        anyhow::bail!("usage: make_lake DIR PATIENTS SECONDS [SEED]");
    };
    let spec = LakeSpec {
        patients: patients.parse().context("PATIENTS")?,
        seconds: seconds.parse().context("SECONDS")?,
        seed: rest.first().map_or(Ok(1), |s| s.parse()).context("SEED")?,
        records_per_file: 100_000,
        ..LakeSpec::default()
    };
    let written = write_lake(&PathBuf::from(dir), &spec)?;
    eprintln!(
        "make_lake: {} vitals and {} alert records under {dir}",
        written.vitals, written.alerts
    );
    Ok(())
}

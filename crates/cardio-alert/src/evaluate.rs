//! Scores alert events against cardio-sim's ground truth (docs/truth-format.md).

use crate::cli::EvaluateArgs;

pub fn run(_a: &EvaluateArgs) -> anyhow::Result<u8> {
    anyhow::bail!("evaluate: not implemented yet")
}

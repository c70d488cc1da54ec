//! `cardio-archive compact` (in progress).
use std::path::Path;

use anyhow::Result;

pub fn compact(_lake: &Path, _before: &str, _records_per_file: u64) -> Result<u8> {
    anyhow::bail!("compact is not available yet")
}

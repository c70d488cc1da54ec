//! One folder of the lake (docs/spec.md §2): a table and the UTC day of its `date=YYYY-MM-DD`
//! Hive partition.
//!
//! Path safety lives here: a folder name is built only from a [`Table`] constant and a day number
//! formatted as digits, never from a string found in a record, so no id, type or timestamp can name
//! a folder. An absurd time (year 0, 9999, `+275760`) is refused by `Timestamp::parse`, so its line
//! is quarantined in `_rejected/` under the day the archive saw it.

use std::path::{Path, PathBuf};

pub use vitals_core::lake::Table;
use vitals_core::lake::partition_folder_name;

/// One folder of the lake: a table and a UTC day (days since 1970-01-01).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Partition {
    pub table: Table,
    pub day: i64,
}

impl Partition {
    /// `date=YYYY-MM-DD`. The day comes from a `Timestamp` that parsed within 1970–2999, so this is
    /// always ten digits and dashes.
    pub fn folder_name(&self) -> String {
        partition_folder_name(self.day)
    }

    /// `lake/<table>/date=YYYY-MM-DD`.
    pub fn dir(&self, lake: &Path) -> PathBuf {
        lake.join(self.table.dir_name()).join(self.folder_name())
    }
}

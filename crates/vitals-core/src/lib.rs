//! vitals-core: what every CardioStream binary agrees on (docs/spec.md): the `vitals`, `alert`,
//! `admission`, `settings` and `rejected` records, event time, the NDJSON line codec, the data lake's layout, NEWS2, the
//! plausibility gates, the default alarm rules, the simulated scenarios' names and the exit-status
//! conventions.

pub mod codec;
pub mod diagnostics;
pub mod lake;
pub mod news2;
pub mod plausibility;
pub mod record;
pub mod rules;
pub mod scenario;
pub mod status;
pub mod stdin_lines;
pub mod stop;
pub mod time;
pub mod vitals_line;

pub use codec::{Line, LineReader, LineWriter, Record, RecordError, parse_record};
pub use record::{
    Admission, AgeBand, Alert, AlertKind, AlertState, CareUnit, Consciousness, Priority, Rejected,
    Risk, Settings, SettingsSource, Sex, Vital, Vitals,
};
pub use scenario::{Scenario, Spontaneous};
pub use time::Timestamp;

//! Human words on stderr: bad-line reports, rate-limited so a flood of garbage cannot drown the
//! terminal or slow the stage, and whether colour is allowed.

use std::io::{IsTerminal, Write};

use crate::codec::RecordError;

/// How many bad lines are reported one by one before the reporter only counts them.
const REPORT_EACH_FIRST: u64 = 20;
/// After that, one reminder line per this many further bad lines.
const REPORT_EVERY_AFTER: u64 = 10_000;

/// Reports bad input lines on stderr and counts them for the exit summary.
#[derive(Debug)]
pub struct BadLines {
    program: &'static str,
    count: u64,
}

impl BadLines {
    pub fn new(program: &'static str) -> Self {
        BadLines { program, count: 0 }
    }

    /// Counts one bad line and reports it while the rate limit allows.
    pub fn report(&mut self, line: u64, error: &RecordError) {
        self.count += 1;
        let mut err = std::io::stderr().lock();
        if self.count <= REPORT_EACH_FIRST {
            let _ = writeln!(err, "{}: line {line}: {error}", self.program);
            if self.count == REPORT_EACH_FIRST {
                let _ = writeln!(
                    err,
                    "{}: further bad lines are counted, with a reminder every {REPORT_EVERY_AFTER}",
                    self.program
                );
            }
        } else if self.count.is_multiple_of(REPORT_EVERY_AFTER) {
            let _ = writeln!(
                err,
                "{}: {} bad lines so far (latest: line {line}: {error})",
                self.program, self.count
            );
        }
    }

    pub fn count(&self) -> u64 {
        self.count
    }
}

/// Colour is for people: only when stderr is a terminal and `NO_COLOR` is not set (no-color.org).
pub fn stderr_wants_colour() -> bool {
    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

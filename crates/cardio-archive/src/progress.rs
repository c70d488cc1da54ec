//! The progress line for long runs: records per second and files published, redrawn in
//! place about once a second, only when stderr is a terminal (a log file gets the summary only).

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

const EVERY: Duration = Duration::from_secs(1);

#[derive(Debug)]
pub struct Progress {
    enabled: bool,
    started: Instant,
    last: Instant,
    drawn: bool,
}

impl Progress {
    pub fn new() -> Self {
        Self::with(std::io::stderr().is_terminal())
    }

    pub fn with(enabled: bool) -> Self {
        let now = Instant::now();
        Progress {
            enabled,
            started: now,
            last: now,
            drawn: false,
        }
    }

    /// Redraws the line when a second has passed. `what` is e.g. "records" or "files checked".
    pub fn tick(&mut self, done: u64, what: &str, extra: &str) {
        if !self.enabled || self.last.elapsed() < EVERY {
            return;
        }
        self.last = Instant::now();
        let secs = self.started.elapsed().as_secs_f64().max(1e-9);
        let rate = done as f64 / secs;
        let mut err = std::io::stderr().lock();
        let _ = write!(
            err,
            "\rcardio-archive: {done} {what}, {rate:.0}/s{extra}\x1b[K"
        );
        let _ = err.flush();
        self.drawn = true;
    }

    /// Clears the line before the summary.
    pub fn finish(&mut self) {
        if self.drawn {
            let _ = write!(std::io::stderr().lock(), "\r\x1b[K");
            self.drawn = false;
        }
    }
}

impl Default for Progress {
    fn default() -> Self {
        Self::new()
    }
}

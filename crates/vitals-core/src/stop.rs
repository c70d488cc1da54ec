//! SIGTERM and SIGINT as a flag the main loops poll (signal-hook), instead of the default action
//! that would end the process with records still unread in its input pipe, in its output buffer
//! or in a Kafka client's queues.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

/// Set when SIGTERM or SIGINT arrives. A loop that has started to wind down may [`Stop::rearm`] it
/// to notice a second signal, which means "give up waiting".
#[derive(Debug, Clone)]
pub struct Stop(Arc<AtomicBool>);

impl Stop {
    /// Installs the handlers. Call it before the work starts, so no signal finds the default action.
    pub fn install() -> Result<Self> {
        let flag = Arc::new(AtomicBool::new(false));
        for sig in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
            signal_hook::flag::register(sig, Arc::clone(&flag))
                .context("cannot install the SIGTERM/SIGINT handlers")?;
        }
        Ok(Stop(flag))
    }

    /// A flag no signal sets, for a caller that ends the input itself (or a test).
    pub fn never() -> Self {
        Stop(Arc::default())
    }

    pub fn requested(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }

    /// Clears the flag so that the next signal can be seen.
    pub fn rearm(&self) {
        self.0.store(false, Ordering::Relaxed);
    }
}

/// After a signal, a stage still takes its input until none has come for this long, or it ends:
/// Ctrl-C and `tini -g` signal every stage of a pipe together, and the stage in front writes its
/// last lines as it stops (cardio-sim the rest of its round, `cardio-kafka consume` the lines whose
/// offsets it then commits), lines that are in no other place…
pub const DRAIN_QUIET: Duration = Duration::from_millis(300);
/// …but for this long at most (a writer in front that got no signal keeps writing). A second
/// signal ends the wait at once.
pub const DRAIN_AT_MOST: Duration = Duration::from_secs(5);

/// A reading stage's way of stopping: until a signal it reads on; after it, it takes what its input
/// still brings until the input ends or is quiet for [`DRAIN_QUIET`], for [`DRAIN_AT_MOST`] at
/// most, and a second signal ends that at once.
#[derive(Debug, Default)]
pub struct Winding(Option<Instant>);

impl Winding {
    /// Looks at `stop` once per turn of the main loop: false when the reading must end now.
    pub fn go_on(&mut self, stop: &Stop) -> bool {
        if stop.requested() {
            if self.0.is_some() {
                return false;
            }
            stop.rearm(); // so that a second signal can be seen
            self.0 = Some(Instant::now());
        }
        self.0.is_none_or(|since| since.elapsed() < DRAIN_AT_MOST)
    }

    /// A signal has come: input that stays quiet for the wait now ends the reading.
    pub fn stopping(&self) -> bool {
        self.0.is_some()
    }

    /// How long to wait for input: `running` until a signal, then [`DRAIN_QUIET`].
    pub fn wait(&self, running: Duration) -> Duration {
        if self.stopping() {
            DRAIN_QUIET
        } else {
            running
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_first_signal_starts_the_wind_down_and_a_second_ends_it() {
        let stop = Stop::never();
        let mut winding = Winding::default();
        assert!(winding.go_on(&stop) && !winding.stopping());
        assert_eq!(winding.wait(Duration::from_secs(1)), Duration::from_secs(1));
        stop.0.store(true, Ordering::Relaxed);
        assert!(winding.go_on(&stop) && winding.stopping());
        assert_eq!(winding.wait(Duration::from_secs(1)), DRAIN_QUIET);
        assert!(winding.go_on(&stop), "the first signal was cleared");
        stop.0.store(true, Ordering::Relaxed);
        assert!(!winding.go_on(&stop));
    }
}

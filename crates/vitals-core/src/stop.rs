//! SIGTERM and SIGINT as a flag the main loops poll (signal-hook), instead of the default action
//! that would end the process with records still unread in its input pipe, in its output buffer
//! or in a Kafka client's queues.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

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
pub const DRAIN_QUIET: std::time::Duration = std::time::Duration::from_millis(300);
/// …but for this long at most (a writer in front that got no signal keeps writing). A second
/// signal ends the wait at once.
pub const DRAIN_AT_MOST: std::time::Duration = std::time::Duration::from_secs(5);

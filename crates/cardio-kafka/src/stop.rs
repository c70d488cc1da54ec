//! SIGTERM and SIGINT as a flag the main loops poll (signal-hook), instead of the default action
//! that would end the process with records still in the client's queues.

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

//! Interruption (SIGINT, SIGTERM): the binary's signal handler sets a flag; the pipeline checks
//! it between stages and stops with [`Error::Interrupted`], so the partial run folder is removed
//! and `latest` stays on the previous run. The library installs no handler itself.

use std::sync::atomic::{AtomicBool, Ordering};

use super::error::Error;

static REQUESTED: AtomicBool = AtomicBool::new(false);

/// Asks the running pipeline to stop at its next check.
pub fn request() {
    REQUESTED.store(true, Ordering::SeqCst);
}

/// `Err(Error::Interrupted)` once a stop was requested.
pub fn check() -> Result<(), Error> {
    if REQUESTED.load(Ordering::SeqCst) { Err(Error::Interrupted) } else { Ok(()) }
}

//! Holds on blobs that other nodes respect. A node's own uploads and sweeps already keep
//! out of each other's way in memory (`Pins`); with several nodes on one store, an upload on
//! one node re-storing the bytes of a blob that a purge on another is removing must not lose
//! its blob between storing it and recording it. The store asks a [`SharedHolds`] (the
//! database, in a running portal) before either step.

use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;

/// Holds every node sees; see `db::blob_holds`.
pub trait SharedHolds: Send + Sync {
    /// Holds a blob for an upload about to record it; false while a deletion of it runs.
    fn hold<'a>(&'a self, sha256: &'a str) -> BoxFuture<'a, anyhow::Result<bool>>;
    /// Gives one upload's hold back.
    fn release(&self, sha256: String) -> BoxFuture<'static, ()>;
    /// Marks a blob as being deleted; false while an upload holds it or another deletion runs.
    fn mark_deleting<'a>(&'a self, sha256: &'a str) -> BoxFuture<'a, anyhow::Result<bool>>;
    /// Ends a deletion's mark.
    fn unmark<'a>(&'a self, sha256: &'a str) -> BoxFuture<'a, ()>;
}

/// How long an upload waits for another node's deletion of the same blob to finish.
pub(super) const WAIT_FOR_DELETION: Duration = Duration::from_secs(30);

/// An upload's shared hold, given back when dropped (in the background: dropping is not
/// async). A hold that is never given back (the process died) runs out by itself.
pub(super) struct SharedHold {
    pub(super) holds: Arc<dyn SharedHolds>,
    pub(super) sha256: String,
}

impl Drop for SharedHold {
    fn drop(&mut self) {
        let release = self.holds.release(std::mem::take(&mut self.sha256));
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(release);
        }
    }
}

impl std::fmt::Debug for SharedHold {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedHold")
            .field("sha256", &self.sha256)
            .finish()
    }
}

//! The sweep of unreferenced blobs (left by uploads cut off between storing and recording):
//! at start and then periodically while serving, each time only blobs older than the age
//! guard, so an upload that has stored its blob but not yet recorded it never loses it.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::app::App;
use crate::db;

/// Removes unreferenced blobs and staging leftovers last written before `now - min_age`;
/// answers how many of each.
pub async fn sweep_unreferenced(
    state: &App,
    now: DateTime<Utc>,
    min_age: chrono::Duration,
) -> anyhow::Result<(u64, u64)> {
    let db = state.db.clone();
    state
        .files
        .sweep(now, min_age, move |sha| {
            let db = db.clone();
            async move { Ok(db::submissions::blob_referenced(&db, &sha).await?) }
        })
        .await
}

/// One sweep, logged.
pub async fn sweep_logged(state: &App) {
    let min_age = chrono::Duration::from_std(state.config.file_sweep_min_age)
        .unwrap_or(chrono::Duration::days(1));
    match sweep_unreferenced(state, Utc::now(), min_age).await {
        Ok((temps, orphans)) if temps + orphans > 0 => {
            tracing::info!(temps, orphans, "file store swept")
        }
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "file store sweep failed"),
    }
}

/// Sweeps every `config.file_sweep_every` while serving. Not under the scheduler's lease: the
/// store's folder belongs to one node, so each node sweeps its own.
pub fn spawn_sweeper(state: Arc<App>) {
    tokio::spawn(async move {
        let every = state.config.file_sweep_every;
        let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            sweep_logged(&state).await;
        }
    });
}

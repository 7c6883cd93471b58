//! What waits in the portal, for the operators' metrics: mails recorded and not yet sent,
//! submissions waiting for the Center's review. Counts only, never content.

use super::{App, Error};
use crate::db;

/// The backlog's counts.
#[derive(Debug, Clone, Copy, Default)]
pub struct Backlog {
    pub outbox: i64,
    pub review_waiting: i64,
}

/// Counts what waits (the metrics endpoint checks its own bearer token first).
pub async fn backlog(app: &App) -> Result<Backlog, Error> {
    Ok(Backlog {
        outbox: db::notifications::outbox_waiting(&app.db).await?,
        review_waiting: db::queue::waiting_count(&app.db).await?,
    })
}

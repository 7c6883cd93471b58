//! Changes seen by every node at once. A node reuses some reads for a moment (the session
//! behind a cookie, queue pages and counts, the catalogue's newest revision) and drops them
//! when its generation moves on. A change through this node moves it at once; on PostgreSQL,
//! several nodes share the database, so a change is also announced on a channel
//! (`NOTIFY`) that every node listens to, and moves theirs at once too: a sign-out or a
//! decision on one node holds on the next request to another.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use sqlx::postgres::PgListener;

use super::App;
use crate::db::Pool;

/// The channel changes are announced on.
pub const CHANNEL: &str = "secportal_changed";

/// How long the announcement of a change may take before the answer goes without it (the
/// other nodes then forget their reads within their own reuse time, a second at most).
const ANNOUNCE_WITHIN: Duration = Duration::from_secs(2);

impl App {
    /// Whatever the request just done changed: reads kept from before are not used again,
    /// here or (PostgreSQL) on any other node. The announcement goes out before the answer
    /// does, and the answer waits (at most a moment) until it has come back to this node:
    /// PostgreSQL hands it to every listening node at the same time, so by then the others
    /// have it too, before the next request of whoever made the change can reach them.
    pub async fn changed(&self) {
        self.generation.fetch_add(1, Ordering::Relaxed);
        let Pool::Postgres(pg) = self.db.pool() else {
            return;
        };
        let mut echo = self.echo.subscribe();
        let seq = self.announced.fetch_add(1, Ordering::Relaxed) + 1;
        let payload = format!("{} {seq}", self.instance);
        // Bounded: the answer is already made, and a database that stopped answering must not
        // hold it (the pool does not ping a connection before handing it out).
        let notify = sqlx::query("SELECT pg_notify($1, $2)")
            .bind(CHANNEL)
            .bind(&payload)
            .execute(pg);
        match tokio::time::timeout(ANNOUNCE_WITHIN, notify).await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "could not announce a change to the other nodes");
                return;
            }
            Err(_) => {
                tracing::warn!("could not announce a change to the other nodes in time");
                return;
            }
        }
        let back = echo.wait_for(|seen| *seen >= seq);
        let _ = tokio::time::timeout(Duration::from_millis(250), back).await;
    }

    /// Moves this node's generation on (another node changed something).
    fn forget_reads(&self) {
        self.generation.fetch_add(1, Ordering::Relaxed);
    }

    /// A notification received: another node's change, or this node's own coming back.
    fn received(&self, payload: &str) {
        match payload.split_once(' ') {
            Some((instance, seq)) if instance == self.instance => {
                if let Ok(seq) = seq.parse::<u64>() {
                    self.echo.send_if_modified(|seen| {
                        let newer = seq > *seen;
                        if newer {
                            *seen = seq;
                        }
                        newer
                    });
                }
            }
            _ => self.forget_reads(),
        }
    }
}

/// Listens for other nodes' changes (PostgreSQL only), on a connection of its own. While the
/// connection is down, changes may be missed: every reconnection forgets all kept reads.
pub fn spawn_listener(app: Arc<App>) {
    if !matches!(app.db.pool(), Pool::Postgres(_)) {
        return;
    }
    tokio::spawn(async move {
        loop {
            if app.stopping.load(Ordering::Relaxed) {
                return;
            }
            let mut listener = match PgListener::connect(&app.config.database_url).await {
                Ok(l) => l,
                Err(e) => {
                    tracing::warn!(error = %e, "change listener: no connection; trying again");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            };
            if let Err(e) = listener.listen(CHANNEL).await {
                tracing::warn!(error = %e, "change listener: LISTEN failed; trying again");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
            app.forget_reads();
            loop {
                match listener.try_recv().await {
                    Ok(Some(n)) => app.received(n.payload()),
                    // The connection dropped; the next call reconnects. What was announced
                    // meanwhile is unknown.
                    Ok(None) => app.forget_reads(),
                    Err(e) => {
                        tracing::warn!(error = %e, "change listener failed; reconnecting");
                        tokio::time::sleep(Duration::from_millis(200)).await;
                        break;
                    }
                }
            }
        }
    });
}

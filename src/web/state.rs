//! Shared application state.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::config::Config;
use crate::db::Db;
use crate::db::catalogue::Catalogue;
use crate::files::FileStore;
use crate::mail::Mailer;

use super::cookies::CookieNames;

/// Queue counts by filter key: when computed, and the counts per state.
pub type CountsCache = std::collections::HashMap<String, (std::time::Instant, Vec<(String, i64)>)>;

/// Queue pages by key: when built, and the page's rows as shown (see `review`).
pub type QueuePages =
    std::collections::HashMap<String, (std::time::Instant, Arc<crate::web::review::QueueRows>)>;

/// Sessions by token hash: generation, when read, the row.
pub type SessionCache =
    std::collections::HashMap<Vec<u8>, (u64, Instant, crate::db::sessions::SessionUser)>;

/// How long a session read is reused.
const SESSION_TTL: Duration = Duration::from_secs(1);

/// What every handler shares.
pub struct AppState {
    pub db: Db,
    pub config: Config,
    pub mailer: Mailer,
    pub cookies: CookieNames,
    pub files: FileStore,
    /// Queue counts per filter, kept for a couple of seconds: counting 100,000 rows on every
    /// page view would cost more than the page itself.
    pub queue_counts: std::sync::Mutex<CountsCache>,
    /// Bumped after every request that may change state; caches of query results carry the
    /// generation they were made in and are not used after it moves on.
    pub generation: std::sync::atomic::AtomicU64,
    /// Queue pages by filter, position and generation, kept for a moment (see `review`).
    pub queue_pages: std::sync::Mutex<QueuePages>,
    /// Published catalogue revisions never change: each is read from the database once.
    pub catalogues: std::sync::Mutex<std::collections::HashMap<i64, Arc<Catalogue>>>,
    /// Sessions as last read, by token hash: (generation, when, row). See [`AppState::session`].
    pub sessions: std::sync::Mutex<SessionCache>,
    /// The newest revision's number as last read: (generation, when, number).
    pub current_revision: std::sync::Mutex<Option<(u64, Instant, i64)>>,
    /// Request counts, latencies and upload bytes for `/metrics`.
    pub metrics: super::metrics::Metrics,
}

impl AppState {
    /// Runs one database step of a request that is not bounded as a whole (a large upload)
    /// within the request timeout; past it, 503.
    pub async fn bounded<T>(
        &self,
        step: impl std::future::Future<Output = super::error::AppResult<T>>,
    ) -> super::error::AppResult<T> {
        tokio::time::timeout(self.config.request_timeout, step)
            .await
            .unwrap_or(Err(super::error::AppError::Unavailable))
    }

    /// The newest catalogue revision (one small query; the items come from memory).
    pub async fn catalogue(&self) -> Result<Arc<Catalogue>, sqlx::Error> {
        // The number is reused for a second unless this process changed something meanwhile
        // (a revision published elsewhere shows within that second).
        let generation = self.generation.load(std::sync::atomic::Ordering::Relaxed);
        let known = self.current_revision.lock().ok().and_then(|c| {
            c.filter(|(g, at, _)| *g == generation && at.elapsed() < Duration::from_secs(1))
                .map(|(_, _, rev)| rev)
        });
        let rev = match known {
            Some(rev) => rev,
            None => {
                let rev = crate::db::catalogue::current_revision(&self.db).await?;
                if let Ok(mut c) = self.current_revision.lock() {
                    *c = Some((generation, Instant::now(), rev));
                }
                rev
            }
        };
        self.catalogue_revision(rev).await
    }

    /// The session behind a token hash. Every request needs it, so a read is reused for up to
    /// a second — unless this process changed anything meanwhile (logout, disabling a user,
    /// a password reset are all requests that retire it at once); a change made through
    /// another instance applies within that second. Expiry is checked by the caller on every
    /// request either way.
    pub async fn session(
        &self,
        hash: &[u8],
    ) -> Result<Option<crate::db::sessions::SessionUser>, sqlx::Error> {
        let generation = self.generation.load(std::sync::atomic::Ordering::Relaxed);
        if let Ok(cache) = self.sessions.lock()
            && let Some((g, at, row)) = cache.get(hash)
            && *g == generation
            && at.elapsed() < SESSION_TTL
        {
            return Ok(Some(row.clone()));
        }
        let row = crate::db::sessions::lookup(&self.db, hash).await?;
        if let Ok(mut cache) = self.sessions.lock() {
            if cache.len() > 10_000 {
                cache.retain(|_, (_, at, _)| at.elapsed() < SESSION_TTL);
            }
            match &row {
                Some(r) => {
                    cache.insert(hash.to_vec(), (generation, Instant::now(), r.clone()));
                }
                None => {
                    cache.remove(hash);
                }
            }
        }
        Ok(row)
    }

    /// Records in the cached session that its activity was just written.
    pub fn session_touched(&self, hash: &[u8], at: chrono::DateTime<chrono::Utc>) {
        if let Ok(mut cache) = self.sessions.lock()
            && let Some((_, _, row)) = cache.get_mut(hash)
        {
            row.last_seen_at = at;
        }
    }

    /// A published catalogue revision.
    pub async fn catalogue_revision(&self, rev: i64) -> Result<Arc<Catalogue>, sqlx::Error> {
        if let Ok(cache) = self.catalogues.lock()
            && let Some(c) = cache.get(&rev)
        {
            return Ok(c.clone());
        }
        let c = Arc::new(crate::db::catalogue::revision(&self.db, rev).await?);
        // A number not (yet) published reads as empty: never kept.
        if !c.items.is_empty()
            && let Ok(mut cache) = self.catalogues.lock()
        {
            cache.insert(rev, c.clone());
        }
        Ok(c)
    }
}

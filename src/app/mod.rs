//! The application layer: the use cases both interfaces (HTML pages and the JSON API) call,
//! one module per area, and the state they share. Arrows point down only: `web` calls `app`;
//! `app` calls `db`, `files`, `mail` and `domain`, never `web`.

pub mod account;
pub mod antivirus;
pub mod auth;
pub mod backlog;
pub mod blob_holds;
pub mod catalogue;
pub mod changes;
pub mod evidence;
pub mod exports;
pub mod followup;
pub mod gateway_logs;
pub mod home;
pub mod id_management;
pub mod inbox;
pub mod inhouse;
pub mod links;
pub mod log_mapping;
pub mod log_recheck;
pub mod log_search;
pub mod matrix;
pub mod notify;
pub mod onboarding;
pub mod orgs;
pub mod outside;
pub mod passkeys;
pub mod profile;
pub mod retention;
pub mod return_reasons;
pub mod review;
pub mod second_factor;
pub mod stream;
pub mod structure;
pub mod submissions;
pub mod tokens;
pub mod trail;
pub mod unlock;
pub mod users;

pub use errors::{Error, FieldErrors};

mod errors;

use std::sync::Arc;
use std::time::{Duration, Instant};

use uuid::Uuid;

use crate::config::Config;
use crate::db;
use crate::db::Db;
use crate::db::catalogue::Catalogue;
use crate::domain::{Role, Scope};
use crate::files::FileStore;
use crate::mail::{Mailer, Outgoing};

/// Queue counts by filter: generation, when read, the counts per state.
pub type CountsCache = std::collections::HashMap<String, (u64, Instant, Vec<(String, i64)>)>;

/// How long queue counts are reused (as long as the page they stand above).
const COUNTS_TTL: Duration = Duration::from_secs(1);

/// Sessions by token hash: generation, when read, the row.
pub type SessionCache =
    std::collections::HashMap<Vec<u8>, (u64, Instant, crate::db::sessions::SessionUser)>;

/// How long a session read is reused.
const SESSION_TTL: Duration = Duration::from_secs(1);

/// What every handler shares.
pub struct App {
    pub db: Db,
    pub config: Config,
    pub mailer: Mailer,
    pub files: FileStore,
    /// Queue counts per filter as last read from the counters, reused for a second unless this
    /// process changed something meanwhile (see [`App::queue_counts`]).
    pub queue_counts: std::sync::Mutex<CountsCache>,
    /// The names the queue's lines show, kept while the database's names' version stands.
    pub queue_names: review::NameBook,
    /// Bumped after every request that may change state; caches of query results carry the
    /// generation they were made in and are not used after it moves on.
    pub generation: std::sync::atomic::AtomicU64,
    /// Published catalogue revisions never change: each is read from the database once.
    pub catalogues: std::sync::Mutex<std::collections::HashMap<i64, Arc<Catalogue>>>,
    /// Sessions as last read, by token hash: (generation, when, row). See [`App::session`].
    pub sessions: std::sync::Mutex<SessionCache>,
    /// The newest revision's number as last read: (generation, when, number).
    pub current_revision: std::sync::Mutex<Option<(u64, Instant, i64)>>,
    /// Set when the server is shutting down: long background work (the retention purge)
    /// stops after the step in hand.
    pub stopping: std::sync::atomic::AtomicBool,
    /// This process's own name on the change channel (see [`changes`]), unique per start.
    pub instance: String,
    /// How many changes this process has announced, and the newest of them heard back.
    pub announced: std::sync::atomic::AtomicU64,
    pub echo: tokio::sync::watch::Sender<u64>,
    /// Places for the gateway-log searches running on this node (`Config::log_searches`).
    pub log_searches: Arc<log_search::Searches>,
}

impl App {
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
    /// another node retires it at once too, through the change channel (see [`changes`]). Expiry is checked by the caller on every
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

    /// The counts per state above the queue under a filter. Reading them costs a query on the
    /// counters (never a scan of the queue), but a page the page cache answers would otherwise
    /// still make it: they are reused like the page, for a second and only while this process
    /// changed nothing (a change through another instance shows within that second).
    pub async fn queue_counts(
        &self,
        f: &db::queue::QueueFilter,
    ) -> Result<Vec<(String, i64)>, sqlx::Error> {
        let generation = self.generation.load(std::sync::atomic::Ordering::Relaxed);
        // The state is not a dimension of the counts; every other filter is (mine included).
        let key = format!(
            "{:?}|{:?}|{:?}|{:?}|{}|{:?}",
            f.kind,
            f.org_code,
            // An age limit moves with the clock: to the second, well within the reuse.
            f.submitted_before.map(|t| t.timestamp()),
            f.assigned_to,
            f.unassigned,
            f.form
        );
        if let Ok(cache) = self.queue_counts.lock()
            && let Some((g, at, counts)) = cache.get(&key)
            && *g == generation
            && at.elapsed() < COUNTS_TTL
        {
            return Ok(counts.clone());
        }
        let counts = db::queue::counts(&self.db, f).await?;
        if let Ok(mut cache) = self.queue_counts.lock() {
            if cache.len() > 1000 {
                cache.retain(|_, (g, at, _)| *g == generation && at.elapsed() < COUNTS_TTL);
            }
            cache.insert(key, (generation, Instant::now(), counts.clone()));
        }
        Ok(counts)
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

/// Sends a mail, logging where it went (a file or SMTP) and never the content; answers
/// whether it was sent.
pub async fn send_logged(app: &App, out: Outgoing) -> bool {
    send_with(&app.mailer, out).await
}

/// Sends a mail in the background (logged, never awaited by the request).
pub fn send_in_background(app: &App, out: Outgoing) {
    let mailer = app.mailer.clone();
    tokio::spawn(async move {
        send_with(&mailer, out).await;
    });
}

/// [`send_logged`] with a mailer of its own (mail sent in the background).
async fn send_with(mailer: &Mailer, out: Outgoing) -> bool {
    let kind = out.kind.clone();
    match mailer.send(out).await {
        Ok(Some(path)) => tracing::info!(kind, file = %path.display(), "mail written"),
        Ok(None) => tracing::info!(kind, "mail sent"),
        Err(e) => {
            tracing::error!(kind, error = %e, "mail could not be sent");
            return false;
        }
    }
    true
}

/// Who is acting in a use case: the signed-in user of a page, or a token's owner on the API.
#[derive(Debug, Clone)]
pub struct Actor {
    pub id: Uuid,
    pub email: String,
    pub role: Role,
    pub org_id: Option<Uuid>,
    /// The client address, for the audit entry.
    pub ip: String,
}

impl Actor {
    /// The tenant scope of the actor's reads.
    pub fn scope(&self) -> Scope {
        match (self.role.is_center(), self.org_id) {
            (false, Some(org)) => Scope::Org(org),
            // An org role without an org cannot exist (a CHECK constraint); scope to nothing.
            (false, None) => Scope::Org(Uuid::nil()),
            (true, _) => Scope::Center,
        }
    }

    /// Whether the actor holds one of the roles.
    pub fn holds(&self, roles: &[Role]) -> bool {
        roles.contains(&self.role)
    }

    /// An audit entry by this actor.
    pub fn audit(
        &self,
        action: &'static str,
        org_id: Option<Uuid>,
        target: String,
    ) -> db::audit::Entry {
        db::audit::Entry {
            actor_id: Some(self.id),
            actor: self.email.clone(),
            org_id: org_id.or(self.org_id),
            action,
            target,
            ip: self.ip.clone(),
            detail: serde_json::Value::Null,
        }
    }
}

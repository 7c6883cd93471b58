//! The store: one `Db` over SQLite or PostgreSQL; every query lives in this module.
//!
//! Queries are written once with `$n` placeholders and run against whichever pool the `Db`
//! holds through [`on_db!`] and [`on_tx!`]; the macros expand the body once per backend so
//! each is type-checked against its own driver. Where dialects differ, the fork is visible.

pub mod appointments;
pub mod audit;
pub mod blob_holds;
pub mod blobs;
pub mod catalogue;
pub mod exports;
pub mod followup;
pub mod gateway_logs;
pub mod history;
pub mod idempotency;
pub mod kept;
pub mod links;
pub mod migrate;
pub mod names;
pub mod notifications;
pub mod orgs;
pub mod passkeys;
pub mod queue;
pub mod receipts;
pub mod renewals;
pub mod retention;
pub mod return_reasons;
pub mod review;
pub mod sealed;
pub mod second_factor;
pub mod sessions;
pub mod structure;
pub mod submissions;
pub mod throttle;
pub mod tokens;
pub mod unlock;
pub mod users;

use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, SubsecRound, Utc};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, Postgres, Sqlite, SqlitePool};

/// A connection pool to one of the two supported databases, with the key that signs the
/// audit chain (kept outside the database; see [`audit::AuditKey`]).
#[derive(Clone, Debug)]
pub struct Db {
    pool: Pool,
    audit_key: audit::AuditKey,
    kept: std::sync::Arc<kept::KeptConns>,
}

/// The concrete pool.
#[derive(Clone, Debug)]
pub enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// An open write transaction on either database.
pub struct Tx {
    conn: TxConn,
    audit_key: audit::AuditKey,
}

/// The concrete transaction.
pub enum TxConn {
    Sqlite(sqlx::Transaction<'static, Sqlite>),
    Postgres(sqlx::Transaction<'static, Postgres>),
}

/// Runs `$body` with `$pool` bound to the concrete pool.
#[macro_export]
macro_rules! on_db {
    ($db:expr, $pool:ident => $body:expr) => {
        match $crate::db::Db::pool(&$db) {
            $crate::db::Pool::Sqlite($pool) => $body,
            $crate::db::Pool::Postgres($pool) => $body,
        }
    };
}

/// Runs `$body` with `$conn` bound to the transaction's concrete connection.
#[macro_export]
macro_rules! on_tx {
    ($tx:expr, $conn:ident => $body:expr) => {
        match $crate::db::Tx::conn($tx) {
            $crate::db::TxConn::Sqlite(t) => {
                let $conn: &mut sqlx::SqliteConnection = &mut *t;
                $body
            }
            $crate::db::TxConn::Postgres(t) => {
                let $conn: &mut sqlx::PgConnection = &mut *t;
                $body
            }
        }
    };
}

pub use crate::{on_db, on_kept, on_tx};

/// The current time as stored: UTC, to the microsecond (what PostgreSQL keeps).
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

/// Whether a connection handed back to the pool may serve again: not while it still counts an
/// open transaction. After SQLite's "database or disk is full" the engine has already rolled
/// the transaction back, sqlx's `ROLLBACK` then fails and its count stays at 1, so every later
/// `BEGIN` on that connection failed ("non-zero transaction depth") until a restart. Such a
/// connection is closed; the pool opens a fresh one and writes work again once there is space.
async fn still_usable<C: sqlx::Connection>(c: &mut C) -> Result<bool, sqlx::Error> {
    if !c.is_in_transaction() {
        return Ok(true);
    }
    // A dropped transaction queues its rollback; let it run before judging.
    c.ping().await?;
    Ok(!c.is_in_transaction())
}

/// The most of an SQLite file read through a mapping (see [`Db::connect`]): 1 GiB of address
/// space, of which only the pages read are resident.
const MMAP_SIZE: u64 = 1 << 30;

/// Turns on SQLite's query planner stability guarantee for a new connection: a prepared
/// statement keeps its plan whatever values are bound. Without it, once `ANALYZE` has left
/// statistics (`sqlite_stat4`), every change of a bound value compared with an indexed column
/// (each queue page's cursor) makes SQLite parse and plan the statement again on its next
/// step: 8–12 % of a busy queue's CPU went to parsing and planning the same few statements.
/// The queries are written for their indexes, so the plan made without the values serves.
async fn stable_plans(c: &mut sqlx::SqliteConnection) -> Result<(), sqlx::Error> {
    let mut handle = c.lock_handle().await?;
    let db = handle.as_raw_handle().as_ptr();
    // SAFETY: the handle is locked out of the connection's worker thread for this call, and
    // SQLITE_DBCONFIG_ENABLE_QPSG takes an int and an int pointer (NULL: no answer wanted).
    let rc = unsafe {
        libsqlite3_sys::sqlite3_db_config(
            db,
            libsqlite3_sys::SQLITE_DBCONFIG_ENABLE_QPSG,
            1 as std::ffi::c_int,
            std::ptr::null_mut::<std::ffi::c_int>(),
        )
    };
    if rc != libsqlite3_sys::SQLITE_OK {
        return Err(sqlx::Error::Protocol(format!(
            "SQLite refused the query planner stability setting (code {rc})"
        )));
    }
    Ok(())
}

/// Whether an error means the database has no space left (SQLite `SQLITE_FULL`,
/// PostgreSQL `disk_full`): nothing was stored, and it is the server's trouble, not the user's.
pub fn is_storage_full(e: &sqlx::Error) -> bool {
    e.as_database_error()
        .and_then(|d| d.code())
        .is_some_and(|c| c == "53100" || c.parse::<i32>().is_ok_and(|n| n & 0xff == 13))
}

/// Whether an error is a unique-constraint violation.
pub fn is_unique_violation(e: &sqlx::Error) -> bool {
    e.as_database_error()
        .is_some_and(|d| d.is_unique_violation())
}

/// Whether an error means the database could not be reached (→ 503, not 500).
pub fn is_unavailable(e: &sqlx::Error) -> bool {
    matches!(
        e,
        sqlx::Error::PoolTimedOut
            | sqlx::Error::Io(_)
            | sqlx::Error::PoolClosed
            | sqlx::Error::Tls(_)
    ) || e
        .as_database_error()
        .and_then(|d| d.code())
        .is_some_and(|c| c.starts_with("08") || c == "57P01" || c == "57P03")
}

impl Db {
    /// The concrete pool (for the dialect forks and tests).
    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    /// The connections kept aside for the busiest reads ([`on_kept!`]).
    pub fn kept(&self) -> &kept::KeptConns {
        &self.kept
    }

    /// A store over an existing pool, without an audit key (read-only uses such as a backup's
    /// snapshot).
    pub fn from_pool(pool: Pool) -> Db {
        Db {
            pool,
            audit_key: audit::AuditKey::absent(),
            kept: Default::default(),
        }
    }

    /// The same pool, appending to the audit chain with this key.
    pub fn with_audit_key(mut self, key: audit::AuditKey) -> Db {
        self.audit_key = key;
        self
    }

    /// The key the audit chain is signed with (absent until [`Db::with_audit_key`]).
    pub fn audit_key(&self) -> &audit::AuditKey {
        &self.audit_key
    }

    /// Connects (creating the SQLite file and its folder if needed) without migrating; the
    /// audit key is absent until [`Db::with_audit_key`], and appending to the trail fails.
    pub async fn connect(url: &str) -> anyhow::Result<Db> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let opts = PgConnectOptions::from_str(url)?;
            let pool = PgPoolOptions::new()
                .max_connections(16)
                // No round trip to the server before every query (sqlx still tests each
                // connection as it is released): a connection that dropped while idle fails
                // one query, which answers 503, and is not returned to the pool.
                .test_before_acquire(false)
                .acquire_timeout(Duration::from_secs(3))
                .after_release(|c, _| Box::pin(still_usable(c)))
                .connect_with(opts)
                .await?;
            Ok(Db {
                pool: Pool::Postgres(pool),
                audit_key: audit::AuditKey::absent(),
                kept: Default::default(),
            })
        } else {
            let opts = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10))
                // Rows the SQLite worker thread may read ahead of the task consuming them
                // (default 50): large reads such as exports switch threads less often.
                .row_buffer_size(512)
                // Pages read through a shared mapping of the file instead of a copy into each
                // connection's own page cache (`pread` and its copies were 7 % of a busy
                // queue's CPU); the mapping's pages are the kernel's page cache, not the
                // process's heap.
                .pragma("mmap_size", MMAP_SIZE.to_string());
            if let Some(parent) = opts.get_filename().parent()
                && !parent.as_os_str().is_empty()
            {
                tokio::fs::create_dir_all(parent).await?;
            }
            let pool = SqlitePoolOptions::new()
                .max_connections(8)
                // A file opened in this process cannot drop away like a server connection: no
                // round trip to the connection's thread before every query.
                .test_before_acquire(false)
                .acquire_timeout(Duration::from_secs(3))
                .after_connect(|c, _| Box::pin(stable_plans(c)))
                .after_release(|c, _| Box::pin(still_usable(c)))
                .connect_with(opts)
                .await?;
            Ok(Db {
                pool: Pool::Sqlite(pool),
                audit_key: audit::AuditKey::absent(),
                kept: Default::default(),
            })
        }
    }

    /// The pool's connections: (open, idle, most it opens).
    pub fn pool_use(&self) -> (u32, usize, u32) {
        // A connection kept aside for the next read ([`kept`]) waits like an idle one.
        let kept = self.kept.sqlite.len() + self.kept.postgres.len();
        on_db!(self, p => (p.size(), p.num_idle() + kept, p.options().get_max_connections()))
    }

    /// Which backend this is, for logs and the readiness answer.
    pub fn backend(&self) -> &'static str {
        match self.pool {
            Pool::Sqlite(_) => "sqlite",
            Pool::Postgres(_) => "postgres",
        }
    }

    /// Begins a write transaction (on SQLite `BEGIN IMMEDIATE`, so writers queue instead of
    /// failing on lock upgrade).
    pub async fn begin(&self) -> Result<Tx, sqlx::Error> {
        let conn = match &self.pool {
            Pool::Sqlite(p) => TxConn::Sqlite(p.begin_with("BEGIN IMMEDIATE").await?),
            Pool::Postgres(p) => TxConn::Postgres(p.begin().await?),
        };
        Ok(Tx {
            conn,
            audit_key: self.audit_key.clone(),
        })
    }

    /// Answers whether the database responds.
    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        on_db!(self, p => sqlx::query("SELECT 1").execute(p).await.map(|_| ()))
    }

    /// Closes the pool.
    pub async fn close(&self) {
        self.kept.sqlite.release_all();
        self.kept.postgres.release_all();
        on_db!(self, p => p.close().await)
    }
}

impl Tx {
    /// The concrete transaction (for the dialect forks).
    pub fn conn(&mut self) -> &mut TxConn {
        &mut self.conn
    }

    /// Commits the transaction.
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        match self.conn {
            TxConn::Sqlite(t) => t.commit().await,
            TxConn::Postgres(t) => t.commit().await,
        }
    }
}

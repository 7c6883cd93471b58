//! Connections kept aside between the busiest reads (a queue page), so that each such read
//! costs one trip to the database instead of two.
//!
//! A connection given back to sqlx's pool is tested on the way in (`ping`: a round trip to
//! the server, or to the SQLite connection's thread) by a task spawned for it. A read that
//! finished cleanly leaves the connection in a known state, so [`KeptConn`] puts it aside
//! here instead, for the next such read, untested. A connection kept longer than [`FRESH`] is
//! not used but given back to the pool, which tests it as usual: after a quiet moment or an
//! outage, no read gets a connection nobody has used for a while. A read that failed, or was
//! dropped before its end, gives its connection back to the pool too. At most [`KEPT`]
//! connections wait here; [`super::Db::pool_use`] counts them as idle.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use sqlx::pool::PoolConnection;

/// The most connections kept aside per pool.
const KEPT: usize = 4;

/// How long a kept connection may wait to be used without the pool's test.
const FRESH: Duration = Duration::from_secs(1);

/// The connections kept aside for one pool, the most recently kept last.
pub struct Kept<DB: sqlx::Database> {
    conns: Mutex<Vec<(Instant, PoolConnection<DB>)>>,
}

impl<DB: sqlx::Database> Default for Kept<DB> {
    fn default() -> Self {
        Kept {
            conns: Mutex::new(Vec::new()),
        }
    }
}

impl<DB: sqlx::Database> Kept<DB> {
    /// A connection for one read: the one kept most recently if it is fresh, else the pool's.
    pub async fn take(&self, pool: &sqlx::Pool<DB>) -> Result<KeptConn<'_, DB>, sqlx::Error> {
        let now = Instant::now();
        let (fresh, stale) = {
            let mut conns = self.conns.lock().unwrap_or_else(|e| e.into_inner());
            match conns.pop() {
                Some((at, c)) if now.duration_since(at) < FRESH => (Some(c), Vec::new()),
                // The newest is stale, so all are: every one goes back to the pool.
                Some(last) => {
                    let mut all = std::mem::take(&mut *conns);
                    all.push(last);
                    (None, all)
                }
                None => (None, Vec::new()),
            }
        };
        // Dropped outside the lock: each goes back to the pool, which tests it.
        drop(stale);
        let conn = match fresh {
            Some(c) => c,
            None => pool.acquire().await?,
        };
        Ok(KeptConn { conn, home: self })
    }

    /// How many connections wait here.
    pub fn len(&self) -> usize {
        self.conns.lock().map(|c| c.len()).unwrap_or(0)
    }

    /// Whether none waits here.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Gives every kept connection back to the pool (before the pool closes: it waits for
    /// its connections).
    pub fn release_all(&self) {
        let all = std::mem::take(&mut *self.conns.lock().unwrap_or_else(|e| e.into_inner()));
        drop(all);
    }
}

/// A connection taken for one read. [`KeptConn::finished`] ends the read: a clean end keeps
/// the connection aside. Dropped before that (the read's future cancelled), the connection
/// goes back to the pool, which tests it.
pub struct KeptConn<'a, DB: sqlx::Database> {
    conn: PoolConnection<DB>,
    home: &'a Kept<DB>,
}

impl<DB: sqlx::Database> KeptConn<'_, DB> {
    /// The connection.
    pub fn conn(&mut self) -> &mut DB::Connection {
        &mut self.conn
    }

    /// Ends the read with its outcome, handed back as it is: after a clean end the connection
    /// waits aside (when there is room), otherwise it goes back to the pool.
    pub fn finished<T>(self, result: Result<T, sqlx::Error>) -> Result<T, sqlx::Error> {
        if result.is_ok() {
            let mut conns = self.home.conns.lock().unwrap_or_else(|e| e.into_inner());
            if conns.len() < KEPT {
                conns.push((Instant::now(), self.conn));
                return result;
            }
        }
        result
    }
}

/// The kept connections of a [`super::Db`] (one side used, by its backend).
#[derive(Default)]
pub struct KeptConns {
    pub sqlite: Kept<sqlx::Sqlite>,
    pub postgres: Kept<sqlx::Postgres>,
}

impl std::fmt::Debug for KeptConns {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeptConns")
    }
}

/// Runs `$body` with `$conn` bound to a kept connection of the concrete backend (see
/// [`Kept`]); `$body` is one read whose `Result<_, sqlx::Error>` is the macro's value.
#[macro_export]
macro_rules! on_kept {
    ($db:expr, $conn:ident => $body:expr) => {
        match $crate::db::Db::pool(&$db) {
            $crate::db::Pool::Sqlite(p) => {
                let mut kept = $db.kept().sqlite.take(p).await?;
                let $conn: &mut sqlx::SqliteConnection = kept.conn();
                let result = $body;
                kept.finished(result)
            }
            $crate::db::Pool::Postgres(p) => {
                let mut kept = $db.kept().postgres.take(p).await?;
                let $conn: &mut sqlx::PgConnection = kept.conn();
                let result = $body;
                kept.finished(result)
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn pool() -> sqlx::SqlitePool {
        sqlx::sqlite::SqlitePoolOptions::new()
            .max_connections(2)
            .connect("sqlite::memory:")
            .await
            .unwrap()
    }

    async fn read(kept: &Kept<sqlx::Sqlite>, pool: &sqlx::SqlitePool, sql: &str) -> bool {
        let mut c = kept.take(pool).await.unwrap();
        let r = sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(&mut *c.conn())
            .await
            .map(|_| ());
        c.finished(r).is_ok()
    }

    #[tokio::test]
    async fn only_a_read_that_ended_cleanly_leaves_its_connection_aside_and_a_stale_one_goes_back()
    {
        let pool = pool().await;
        let kept = Kept::default();
        assert!(read(&kept, &pool, "SELECT 1").await);
        assert_eq!(kept.len(), 1, "kept after a clean read");
        // The next read takes it (none left aside while it runs).
        let c = kept.take(&pool).await.unwrap();
        assert_eq!((kept.len(), pool.size()), (0, 1));
        drop(c); // dropped before its end: back to the pool
        assert_eq!(kept.len(), 0);
        assert!(!read(&kept, &pool, "SELECT * FROM missing").await);
        assert_eq!(
            kept.len(),
            0,
            "a failed read's connection goes back to the pool"
        );
        assert!(read(&kept, &pool, "SELECT 1").await);
        assert_eq!(kept.len(), 1);
        // Past its freshness it is not used: it goes back to the pool and the pool's is taken.
        std::thread::sleep(FRESH + Duration::from_millis(50));
        let c = kept.take(&pool).await.unwrap();
        assert_eq!(kept.len(), 0);
        drop(c);
        kept.release_all();
        assert_eq!(kept.len(), 0);
        pool.close().await;
    }

    #[tokio::test]
    async fn no_more_than_the_most_are_kept() {
        let pool = sqlx::sqlite::SqlitePoolOptions::new()
            .max_connections(8)
            .connect("sqlite::memory:")
            .await
            .unwrap();
        let kept = Kept::default();
        let mut held = Vec::new();
        for _ in 0..KEPT + 2 {
            held.push(kept.take(&pool).await.unwrap());
        }
        for mut c in held {
            let r = sqlx::query("SELECT 1")
                .execute(&mut *c.conn())
                .await
                .map(|_| ());
            c.finished(r).unwrap();
        }
        assert_eq!(kept.len(), KEPT);
        kept.release_all();
        pool.close().await;
    }
}

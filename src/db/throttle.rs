//! Login throttling: failures per account and per client IP within a window.

use chrono::{DateTime, Utc};

use super::{Db, on_db};

/// Failures since a moment: count and the oldest time, per account and per IP.
#[derive(Debug, Clone, Default)]
pub struct Failures {
    pub by_email: i64,
    pub oldest_email: Option<DateTime<Utc>>,
    pub by_ip: i64,
    pub oldest_ip: Option<DateTime<Utc>>,
}

/// Records a failed sign-in.
pub async fn record(db: &Db, email: &str, ip: &str) -> Result<(), sqlx::Error> {
    on_db!(db, p => sqlx::query("INSERT INTO login_failures (email, ip, at) VALUES ($1, $2, $3)")
        .bind(email)
        .bind(ip)
        .bind(super::now())
        .execute(p)
        .await.map(|_| ()))?;
    Ok(())
}

/// Counts failures since `since`.
pub async fn since(
    db: &Db,
    email: &str,
    ip: &str,
    since: DateTime<Utc>,
) -> Result<Failures, sqlx::Error> {
    let (by_email, oldest_email): (i64, Option<DateTime<Utc>>) = on_db!(db, p => sqlx::query_as(
        "SELECT COUNT(*), MIN(at) FROM login_failures WHERE email = $1 AND at > $2",
    )
    .bind(email)
    .bind(since)
    .fetch_one(p)
    .await)?;
    let (by_ip, oldest_ip): (i64, Option<DateTime<Utc>>) = on_db!(db, p => sqlx::query_as(
        "SELECT COUNT(*), MIN(at) FROM login_failures WHERE ip = $1 AND at > $2",
    )
    .bind(ip)
    .bind(since)
    .fetch_one(p)
    .await)?;
    Ok(Failures {
        by_email,
        oldest_email,
        by_ip,
        oldest_ip,
    })
}

/// Forgets an account's failures after a successful sign-in.
pub async fn clear_email(db: &Db, email: &str) -> Result<(), sqlx::Error> {
    on_db!(db, p => sqlx::query("DELETE FROM login_failures WHERE email = $1").bind(email).execute(p).await.map(|_| ()))?;
    Ok(())
}

/// Drops failures older than the window.
pub async fn prune(db: &Db, before: DateTime<Utc>) -> Result<u64, sqlx::Error> {
    on_db!(db, p => sqlx::query("DELETE FROM login_failures WHERE at < $1")
        .bind(before)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))
}

//! Login throttling: failures per account and per client IP within a window.

use chrono::{DateTime, Utc};

use super::{Db, on_db};

/// Failures since a moment: count and the oldest time, per account and per IP.
#[derive(Debug, Clone, Default)]
pub struct Failures {
    /// From every address: only slows sign-in down, never refuses it (else anyone could
    /// lock the owner out).
    pub by_email: i64,
    /// For this account from this address.
    pub by_pair: i64,
    pub oldest_pair: Option<DateTime<Utc>>,
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
    let (by_email, by_pair, oldest_pair): (i64, i64, Option<DateTime<Utc>>) = on_db!(db, p => sqlx::query_as(
        "SELECT COUNT(*), COUNT(CASE WHEN ip = $3 THEN 1 END), MIN(CASE WHEN ip = $3 THEN at END) \
         FROM login_failures WHERE email = $1 AND at > $2",
    )
    .bind(email)
    .bind(since)
    .bind(ip)
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
        by_pair,
        oldest_pair,
        by_ip,
        oldest_ip,
    })
}

/// Forgets an account's failures after a successful sign-in.
pub async fn clear_email(db: &Db, email: &str) -> Result<(), sqlx::Error> {
    on_db!(db, p => sqlx::query("DELETE FROM login_failures WHERE email = $1").bind(email).execute(p).await.map(|_| ()))?;
    Ok(())
}

/// Drops failures, reset and unlock requests older than `before`.
pub async fn prune(db: &Db, before: DateTime<Utc>) -> Result<u64, sqlx::Error> {
    on_db!(db, p => {
        let a = sqlx::query("DELETE FROM login_failures WHERE at < $1")
            .bind(before)
            .execute(p)
            .await?
            .rows_affected();
        let b = sqlx::query("DELETE FROM reset_requests WHERE at < $1")
            .bind(before)
            .execute(p)
            .await?
            .rows_affected();
        let c = sqlx::query("DELETE FROM unlock_requests WHERE at < $1")
            .bind(before)
            .execute(p)
            .await?
            .rows_affected();
        Ok(a + b + c)
    })
}

/// A request that mails a link to whoever owns an address, limited per address and per
/// client address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Request {
    PasswordReset,
    Unlock,
}

impl Request {
    fn table(self) -> &'static str {
        match self {
            Request::PasswordReset => "reset_requests",
            Request::Unlock => "unlock_requests",
        }
    }
}

/// Records a request and answers how many came before it: for the address since
/// `address_since`, from the client address since `ip_since`.
pub async fn record_request(
    db: &Db,
    kind: Request,
    email: &str,
    ip: &str,
    address_since: DateTime<Utc>,
    ip_since: DateTime<Utc>,
) -> Result<(i64, i64), sqlx::Error> {
    let table = kind.table();
    let count = format!(
        "SELECT (SELECT COUNT(*) FROM {table} WHERE email = $1 AND at > $3), \
         (SELECT COUNT(*) FROM {table} WHERE ip = $2 AND at > $4)"
    );
    let insert = format!("INSERT INTO {table} (email, ip, at) VALUES ($1, $2, $3)");
    on_db!(db, p => {
        let counts: (i64, i64) = sqlx::query_as(sqlx::AssertSqlSafe(count))
            .bind(email)
            .bind(ip)
            .bind(address_since)
            .bind(ip_since)
            .fetch_one(p)
            .await?;
        sqlx::query(sqlx::AssertSqlSafe(insert))
            .bind(email)
            .bind(ip)
            .bind(super::now())
            .execute(p)
            .await?;
        Ok(counts)
    })
}

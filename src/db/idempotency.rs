//! Stored answers to API requests by `Idempotency-Key`: the primary key (token, key) lets one
//! of several identical requests run; the others get its answer.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{Db, Tx, on_db, on_tx};

/// A stored answer.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Stored {
    pub fingerprint: Vec<u8>,
    pub status: Option<i32>,
    pub content_type: Option<String>,
    pub location: Option<String>,
    pub body: Option<Vec<u8>>,
}

/// What claiming a key found.
#[derive(Debug, Clone)]
pub enum Claim {
    /// This request is the first with the key: run it.
    First,
    /// The key was used before (its request may still be running: `status` is `None`).
    Seen(Stored),
}

/// Claims `key` for a request with this fingerprint (a conditional insert).
pub async fn claim(
    db: &Db,
    token: Uuid,
    key: &str,
    fingerprint: &[u8],
) -> Result<Claim, sqlx::Error> {
    let inserted = on_db!(db, p => sqlx::query(
        "INSERT INTO api_idempotency (token_id, idem_key, fingerprint, created_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (token_id, idem_key) DO NOTHING",
    )
    .bind(token)
    .bind(key)
    .bind(fingerprint)
    .bind(super::now())
    .execute(p)
    .await
    .map(|r| r.rows_affected() == 1))?;
    if inserted {
        return Ok(Claim::First);
    }
    let row = on_db!(db, p => sqlx::query_as::<_, Stored>(
        "SELECT fingerprint, status, content_type, location, body FROM api_idempotency \
         WHERE token_id = $1 AND idem_key = $2",
    )
    .bind(token)
    .bind(key)
    .fetch_optional(p)
    .await)?;
    match row {
        Some(s) => Ok(Claim::Seen(s)),
        // Pruned between the two statements: a day old, so this request is a new one.
        None => Box::pin(claim(db, token, key, fingerprint)).await,
    }
}

/// Stores the answer of the request that claimed the key.
pub async fn complete(
    tx: &mut Tx,
    token: Uuid,
    key: &str,
    status: u16,
    content_type: Option<&str>,
    location: Option<&str>,
    body: &[u8],
) -> Result<(), sqlx::Error> {
    on_tx!(tx, c => sqlx::query(
        "UPDATE api_idempotency SET status = $3, content_type = $4, location = $5, body = $6 \
         WHERE token_id = $1 AND idem_key = $2 AND status IS NULL",
    )
    .bind(token)
    .bind(key)
    .bind(i32::from(status))
    .bind(content_type)
    .bind(location)
    .bind(body)
    .execute(&mut *c)
    .await
    .map(|_| ()))
}

/// Lets go of a key whose request failed on the server's side, so a retry runs afresh.
pub async fn release(db: &Db, token: Uuid, key: &str) -> Result<(), sqlx::Error> {
    on_db!(db, p => sqlx::query(
        "DELETE FROM api_idempotency WHERE token_id = $1 AND idem_key = $2 AND status IS NULL",
    )
    .bind(token)
    .bind(key)
    .execute(p)
    .await
    .map(|_| ()))
}

/// Removes keys older than `before`.
pub async fn prune(db: &Db, before: DateTime<Utc>) -> Result<u64, sqlx::Error> {
    on_db!(db, p => sqlx::query("DELETE FROM api_idempotency WHERE created_at < $1")
        .bind(before)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))
}

//! Unlock links: one-time links mailed to the owner of an account whose sign-in is
//! throttled (only their hash is kept).

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{Db, Tx, on_db, on_tx};

/// Issues a link for a user, replacing the unused ones they had.
pub async fn insert(
    tx: &mut Tx,
    token_hash: &[u8],
    user_id: Uuid,
    expires_at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    on_tx!(tx, c => {
        sqlx::query("DELETE FROM unlock_links WHERE user_id = $1 AND used_at IS NULL")
            .bind(user_id)
            .execute(&mut *c)
            .await?;
        sqlx::query(
            "INSERT INTO unlock_links (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(token_hash)
        .bind(user_id)
        .bind(super::now())
        .bind(expires_at)
        .execute(&mut *c)
        .await
        .map(|_| ())
    })
}

/// The user of a live (unused, unexpired) link.
pub async fn live(db: &Db, token_hash: &[u8]) -> Result<Option<Uuid>, sqlx::Error> {
    on_db!(db, p => sqlx::query_scalar::<_, Uuid>(
        "SELECT user_id FROM unlock_links WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2",
    )
    .bind(token_hash)
    .bind(super::now())
    .fetch_optional(p)
    .await)
}

/// Uses a live link (a conditional write: of two uses at once one wins); answers its user.
pub async fn take(tx: &mut Tx, token_hash: &[u8]) -> Result<Option<Uuid>, sqlx::Error> {
    on_tx!(tx, c => sqlx::query_scalar::<_, Uuid>(
        "UPDATE unlock_links SET used_at = $2 \
         WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2 RETURNING user_id",
    )
    .bind(token_hash)
    .bind(super::now())
    .fetch_optional(&mut *c)
    .await)
}

/// Drops links that expired before `before`.
pub async fn prune(db: &Db, before: DateTime<Utc>) -> Result<u64, sqlx::Error> {
    on_db!(db, p => sqlx::query("DELETE FROM unlock_links WHERE expires_at < $1")
        .bind(before)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))
}

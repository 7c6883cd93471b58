//! One-time links: first-run setup, invitations and password resets.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{Db, Tx, on_db, on_tx};

/// What a link is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Setup,
    Invitation,
    PasswordReset,
}

impl Purpose {
    fn as_str(self) -> &'static str {
        match self {
            Purpose::Setup => "setup",
            Purpose::Invitation => "invitation",
            Purpose::PasswordReset => "password_reset",
        }
    }
}

/// A stored link.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LinkRow {
    pub user_id: Option<Uuid>,
    pub expires_at: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
}

/// Stores a link's token hash.
pub async fn insert(
    tx: &mut Tx,
    token_hash: &[u8],
    purpose: Purpose,
    user_id: Option<Uuid>,
    expires_at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    on_tx!(tx, c => sqlx::query(
        "INSERT INTO one_time_links (token_hash, purpose, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(token_hash)
    .bind(purpose.as_str())
    .bind(user_id)
    .bind(super::now())
    .bind(expires_at)
    .execute(&mut *c)
    .await.map(|_| ()))?;
    Ok(())
}

/// Finds a link of the given purpose.
pub async fn find(
    db: &Db,
    token_hash: &[u8],
    purpose: Purpose,
) -> Result<Option<LinkRow>, sqlx::Error> {
    on_db!(db, p => sqlx::query_as::<_, LinkRow>(
        "SELECT user_id, expires_at, used_at FROM one_time_links WHERE token_hash = $1 AND purpose = $2",
    )
    .bind(token_hash)
    .bind(purpose.as_str())
    .fetch_optional(p)
    .await)
}

/// Marks a link used if it is still unused and unexpired; false means someone else used it first.
pub async fn consume(
    tx: &mut Tx,
    token_hash: &[u8],
    purpose: Purpose,
) -> Result<bool, sqlx::Error> {
    let now = super::now();
    on_tx!(tx, c => sqlx::query(
        "UPDATE one_time_links SET used_at = $3 WHERE token_hash = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > $3",
    )
    .bind(token_hash)
    .bind(purpose.as_str())
    .bind(now)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected() == 1))
}

/// Withdraws every unused link of a purpose for a user (a newer one replaces them).
/// When the newest unused link of a purpose for a user runs out (expired ones included).
pub async fn open_until(
    db: &super::Db,
    user_id: Uuid,
    purpose: Purpose,
) -> Result<Option<DateTime<Utc>>, sqlx::Error> {
    on_db!(db, p => sqlx::query_scalar(
        "SELECT MAX(expires_at) FROM one_time_links WHERE user_id = $1 AND purpose = $2 AND used_at IS NULL",
    )
    .bind(user_id)
    .bind(purpose.as_str())
    .fetch_one(p)
    .await)
}

pub async fn revoke_for_user(
    tx: &mut Tx,
    user_id: Uuid,
    purpose: Purpose,
) -> Result<(), sqlx::Error> {
    on_tx!(tx, c => sqlx::query(
        "UPDATE one_time_links SET used_at = $3 WHERE user_id = $1 AND purpose = $2 AND used_at IS NULL",
    )
    .bind(user_id)
    .bind(purpose.as_str())
    .bind(super::now())
    .execute(&mut *c)
    .await.map(|_| ()))?;
    Ok(())
}

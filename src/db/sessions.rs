//! Server-side sessions: the cookie holds a random token, the table its SHA-256.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{Db, Tx, on_db, on_tx};

/// A live session joined with its user.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SessionUser {
    pub user_id: Uuid,
    pub csrf_token: String,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub email: String,
    pub display_name: String,
    pub role: String,
    pub status: String,
    pub org_id: Option<Uuid>,
    pub org_name: Option<String>,
    pub org_code: Option<String>,
    /// Notices in the user's inbox not yet opened (shown in the navigation).
    pub unread: i64,
    /// Whether the user has a confirmed second factor.
    pub second_factor: bool,
    /// Whether the user's organisation requires one.
    pub org_requires_second_factor: bool,
}

/// Stores a new session.
pub async fn insert(
    tx: &mut Tx,
    token_hash: &[u8],
    user_id: Uuid,
    csrf: &str,
    ip: &str,
    user_agent: &str,
) -> Result<(), sqlx::Error> {
    let now = super::now();
    let user_agent: String = user_agent.chars().take(300).collect();
    on_tx!(tx, c => sqlx::query(
        "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, last_seen_at, ip, user_agent) \
         VALUES ($1, $2, $3, $4, $4, $5, $6)",
    )
    .bind(token_hash)
    .bind(user_id)
    .bind(csrf)
    .bind(now)
    .bind(ip)
    .bind(user_agent)
    .execute(&mut *c)
    .await.map(|_| ()))?;
    Ok(())
}

/// The session and its user, if the token is known.
pub async fn lookup(db: &Db, token_hash: &[u8]) -> Result<Option<SessionUser>, sqlx::Error> {
    on_db!(db, p => sqlx::query_as::<_, SessionUser>(
        "SELECT s.user_id, s.csrf_token, s.created_at, s.last_seen_at, u.email, u.display_name, u.role, u.status, \
         u.org_id, o.name AS org_name, o.user_code AS org_code, \
         (SELECT COUNT(*) FROM notifications n WHERE n.user_id = s.user_id AND n.read_at IS NULL) AS unread, \
         (u.totp_enabled_at IS NOT NULL OR EXISTS (SELECT 1 FROM passkeys k WHERE k.user_id = u.id)) AS second_factor, \
         COALESCE(o.require_second_factor, FALSE) AS org_requires_second_factor \
         FROM sessions s JOIN users u ON u.id = s.user_id LEFT JOIN organisations o ON o.id = u.org_id \
         WHERE s.token_hash = $1",
    )
    .bind(token_hash)
    .fetch_optional(p)
    .await)
}

/// Records activity on a session.
pub async fn touch(db: &Db, token_hash: &[u8]) -> Result<(), sqlx::Error> {
    on_db!(db, p => sqlx::query("UPDATE sessions SET last_seen_at = $2 WHERE token_hash = $1")
        .bind(token_hash)
        .bind(super::now())
        .execute(p)
        .await.map(|_| ()))?;
    Ok(())
}

/// Ends one session; answers whether it existed.
pub async fn delete(tx: &mut Tx, token_hash: &[u8]) -> Result<bool, sqlx::Error> {
    on_tx!(tx, c => sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
        .bind(token_hash)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected() > 0))
}

/// Ends every session of a user.
pub async fn delete_for_user(tx: &mut Tx, user_id: Uuid) -> Result<u64, sqlx::Error> {
    on_tx!(tx, c => sqlx::query("DELETE FROM sessions WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected()))
}

/// Removes sessions idle or older than the limits.
pub async fn prune(
    db: &Db,
    idle_before: DateTime<Utc>,
    created_before: DateTime<Utc>,
) -> Result<u64, sqlx::Error> {
    on_db!(db, p => sqlx::query("DELETE FROM sessions WHERE last_seen_at < $1 OR created_at < $2")
        .bind(idle_before)
        .bind(created_before)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))
}

/// One of a user's sessions, as its owner sees it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OwnSession {
    pub token_hash: Vec<u8>,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub ip: String,
    pub user_agent: String,
}

/// A user's sessions, most recently used first.
pub async fn of_user(db: &Db, user_id: Uuid) -> Result<Vec<OwnSession>, sqlx::Error> {
    on_db!(db, p => sqlx::query_as::<_, OwnSession>(
        "SELECT token_hash, created_at, last_seen_at, ip, user_agent FROM sessions WHERE user_id = $1 \
         ORDER BY last_seen_at DESC",
    )
    .bind(user_id)
    .fetch_all(p)
    .await)
}

/// Ends one of a user's sessions; false when it is not theirs (or already ended).
pub async fn delete_own(
    tx: &mut Tx,
    user_id: Uuid,
    token_hash: &[u8],
) -> Result<bool, sqlx::Error> {
    on_tx!(tx, c => sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND token_hash = $2")
        .bind(user_id)
        .bind(token_hash)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected() == 1))
}

/// Ends every session of a user but one; answers how many ended.
pub async fn delete_others(tx: &mut Tx, user_id: Uuid, keep: &[u8]) -> Result<u64, sqlx::Error> {
    on_tx!(tx, c => sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2")
        .bind(user_id)
        .bind(keep)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected()))
}

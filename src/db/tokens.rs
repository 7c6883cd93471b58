//! Personal access tokens (個人用アクセストークン): the table holds the secret's SHA-256 and a
//! display prefix, never the secret.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{Db, Tx, on_db, on_tx};

/// A token to store.
#[derive(Debug, Clone)]
pub struct NewToken {
    pub id: Uuid,
    pub user_id: Uuid,
    pub org_id: Option<Uuid>,
    pub name: String,
    pub scopes: String,
    pub secret_hash: Vec<u8>,
    pub prefix: String,
    pub expires_at: DateTime<Utc>,
}

/// Stores a new token.
pub async fn insert(tx: &mut Tx, t: &NewToken) -> Result<(), sqlx::Error> {
    on_tx!(tx, c => sqlx::query(
        "INSERT INTO api_tokens (id, user_id, org_id, name, scopes, secret_hash, prefix, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(t.id)
    .bind(t.user_id)
    .bind(t.org_id)
    .bind(&t.name)
    .bind(&t.scopes)
    .bind(&t.secret_hash)
    .bind(&t.prefix)
    .bind(super::now())
    .bind(t.expires_at)
    .execute(&mut *c)
    .await
    .map(|_| ()))
}

/// A token as listed (to its owner or a Center admin).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TokenRow {
    pub id: Uuid,
    pub user_id: Uuid,
    pub owner_email: String,
    pub org_name: Option<String>,
    pub name: String,
    pub scopes: String,
    pub prefix: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub last_used_ip: Option<String>,
    pub revoked_at: Option<DateTime<Utc>>,
}

const LIST: &str = "SELECT t.id, t.user_id, u.email AS owner_email, o.name AS org_name, t.name, t.scopes, \
     t.prefix, t.created_at, t.expires_at, t.last_used_at, t.last_used_ip, t.revoked_at \
     FROM api_tokens t JOIN users u ON u.id = t.user_id LEFT JOIN organisations o ON o.id = t.org_id";

/// A user's tokens, newest first.
pub async fn of_user(db: &Db, user_id: Uuid) -> Result<Vec<TokenRow>, sqlx::Error> {
    let sql = format!("{LIST} WHERE t.user_id = $1 ORDER BY t.created_at DESC, t.id DESC");
    on_db!(db, p => sqlx::query_as::<_, TokenRow>(sqlx::AssertSqlSafe(sql.clone()))
        .bind(user_id)
        .fetch_all(p)
        .await)
}

/// Every token (the Center admin's list): live ones first, then newest first; at most `limit`.
pub async fn all(db: &Db, limit: i64) -> Result<Vec<TokenRow>, sqlx::Error> {
    let sql = format!(
        "{LIST} ORDER BY CASE WHEN t.revoked_at IS NULL THEN 0 ELSE 1 END, t.created_at DESC, t.id DESC LIMIT $1"
    );
    on_db!(db, p => sqlx::query_as::<_, TokenRow>(sqlx::AssertSqlSafe(sql.clone()))
        .bind(limit)
        .fetch_all(p)
        .await)
}

/// Revokes a live token (only the owner's when `owner` is given); answers the token's owner
/// and organisation, or `None` when there is no such live token.
pub async fn revoke(
    tx: &mut Tx,
    id: Uuid,
    owner: Option<Uuid>,
    by: Uuid,
) -> Result<Option<(Uuid, Option<Uuid>)>, sqlx::Error> {
    let sql = if owner.is_some() {
        "UPDATE api_tokens SET revoked_at = $2, revoked_by = $3 \
         WHERE id = $1 AND revoked_at IS NULL AND user_id = $4 RETURNING user_id, org_id"
    } else {
        "UPDATE api_tokens SET revoked_at = $2, revoked_by = $3 \
         WHERE id = $1 AND revoked_at IS NULL RETURNING user_id, org_id"
    };
    on_tx!(tx, c => {
        let q = sqlx::query_as::<_, (Uuid, Option<Uuid>)>(sql)
            .bind(id)
            .bind(super::now())
            .bind(by);
        match owner {
            Some(o) => q.bind(o).fetch_optional(&mut *c).await,
            None => q.fetch_optional(&mut *c).await,
        }
    })
}

/// A token presented on the API, with its owner as they are now.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Presented {
    pub id: Uuid,
    pub org_id: Option<Uuid>,
    pub scopes: String,
    pub prefix: String,
    pub expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub read_audited_at: Option<DateTime<Utc>>,
    pub user_id: Uuid,
    pub email: String,
    pub role: String,
    pub status: String,
    pub user_org_id: Option<Uuid>,
}

/// The token with this secret hash.
pub async fn by_hash(db: &Db, secret_hash: &[u8]) -> Result<Option<Presented>, sqlx::Error> {
    on_db!(db, p => sqlx::query_as::<_, Presented>(
        "SELECT t.id, t.org_id, t.scopes, t.prefix, t.expires_at, t.revoked_at, t.read_audited_at, \
         u.id AS user_id, u.email, u.role, u.status, u.org_id AS user_org_id \
         FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.secret_hash = $1",
    )
    .bind(secret_hash)
    .fetch_optional(p)
    .await)
}

/// Counts one request against the token's rate limit (`limit` requests per `window`) and
/// records the use, in one conditional update: answers `Ok(None)` when the request is
/// within the limit, or `Ok(Some(seconds))` to wait when it is not. Parallel requests
/// cannot both take the last place: the count is checked and raised in the same statement.
pub async fn count_use(
    db: &Db,
    id: Uuid,
    ip: &str,
    limit: i64,
    window: chrono::Duration,
) -> Result<Option<i64>, sqlx::Error> {
    let now = super::now();
    let fresh_before = now - window;
    let counted = on_db!(db, p => sqlx::query(
        "UPDATE api_tokens SET \
         window_count = CASE WHEN window_start IS NULL OR window_start <= $2 THEN 1 ELSE window_count + 1 END, \
         window_start = CASE WHEN window_start IS NULL OR window_start <= $2 THEN $3 ELSE window_start END, \
         last_used_at = $3, last_used_ip = $4 \
         WHERE id = $1 AND (window_start IS NULL OR window_start <= $2 OR window_count < $5)",
    )
    .bind(id)
    .bind(fresh_before)
    .bind(now)
    .bind(ip)
    .bind(limit)
    .execute(p)
    .await
    .map(|r| r.rows_affected() == 1))?;
    if counted {
        return Ok(None);
    }
    let start: Option<DateTime<Utc>> = on_db!(db, p => sqlx::query_scalar(
        "SELECT window_start FROM api_tokens WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(p)
    .await)?
    .flatten();
    let wait = start.map_or(1, |s| (s + window - now).num_seconds() + 1);
    Ok(Some(wait.clamp(1, window.num_seconds().max(1))))
}

/// Claims the audit of reads through a token for the period that began at `since`: true for
/// exactly one caller per period (a conditional update), who then writes the entry in `tx`.
pub async fn claim_read_audit(
    tx: &mut Tx,
    id: Uuid,
    since: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    on_tx!(tx, c => sqlx::query(
        "UPDATE api_tokens SET read_audited_at = $2 \
         WHERE id = $1 AND (read_audited_at IS NULL OR read_audited_at <= $3)",
    )
    .bind(id)
    .bind(super::now())
    .bind(since)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected() == 1))
}

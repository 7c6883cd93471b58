//! Users: Center staff and organisation members.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{Db, Tx, on_db, on_tx};
use crate::domain::{Role, Scope};

/// A stored user.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserRow {
    pub id: Uuid,
    pub org_id: Option<Uuid>,
    pub email: String,
    pub display_name: String,
    pub role: String,
    pub status: String,
    pub password_hash: Option<String>,
    pub created_at: DateTime<Utc>,
    /// The language they chose last (`ja`, `en`), if any.
    pub lang: Option<String>,
}

/// A user with the name of the organisation, for lists.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct UserListRow {
    pub id: Uuid,
    pub org_id: Option<Uuid>,
    pub org_name: Option<String>,
    pub org_code: Option<String>,
    pub email: String,
    pub display_name: String,
    pub role: String,
    pub status: String,
    pub created_at: DateTime<Utc>,
    /// An authenticator app or a passkey is set up.
    pub second_factor: bool,
    /// The organisation requires a second factor of its users.
    pub org_requires_second_factor: bool,
}

const COLS: &str = "id, org_id, email, display_name, role, status, password_hash, created_at, lang";

/// A user to create.
pub struct NewUser<'a> {
    pub org_id: Option<Uuid>,
    pub email: &'a str,
    pub display_name: &'a str,
    pub role: Role,
    pub status: &'static str,
    pub password_hash: Option<&'a str>,
}

/// Inserts a user; a taken e-mail is a unique violation.
pub async fn insert(tx: &mut Tx, u: &NewUser<'_>) -> Result<Uuid, sqlx::Error> {
    let id = Uuid::now_v7();
    let now = super::now();
    on_tx!(tx, c => sqlx::query(
        "INSERT INTO users (id, org_id, email, display_name, role, status, password_hash, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)",
    )
    .bind(id)
    .bind(u.org_id)
    .bind(u.email)
    .bind(u.display_name)
    .bind(u.role.as_str())
    .bind(u.status)
    .bind(u.password_hash)
    .bind(now)
    .execute(&mut *c)
    .await.map(|_| ()))?;
    Ok(id)
}

/// Finds a user by normalised e-mail (for sign-in and reset; not tenant data).
pub async fn by_email(db: &Db, email: &str) -> Result<Option<UserRow>, sqlx::Error> {
    let sql = format!("SELECT {COLS} FROM users WHERE email = $1");
    on_db!(db, p => sqlx::query_as::<_, UserRow>(sqlx::AssertSqlSafe(sql)).bind(email).fetch_optional(p).await)
}

/// Finds a user by id, within the caller's scope.
pub async fn get(db: &Db, scope: Scope, id: Uuid) -> Result<Option<UserRow>, sqlx::Error> {
    let sql = format!("SELECT {COLS} FROM users WHERE id = $1 AND ($2 IS NULL OR org_id = $2)");
    on_db!(db, p => sqlx::query_as::<_, UserRow>(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .bind(scope.org_filter())
        .fetch_optional(p)
        .await)
}

/// Users within the scope, optionally of one organisation or just one user.
pub async fn list(
    db: &Db,
    scope: Scope,
    org: Option<Uuid>,
    user: Option<Uuid>,
) -> Result<Vec<UserListRow>, sqlx::Error> {
    on_db!(db, p => sqlx::query_as::<_, UserListRow>(
        "SELECT u.id, u.org_id, o.name AS org_name, o.user_code AS org_code, u.email, u.display_name, u.role, \
         u.status, u.created_at, \
         (u.totp_enabled_at IS NOT NULL OR EXISTS (SELECT 1 FROM passkeys k WHERE k.user_id = u.id)) AS second_factor, \
         COALESCE(o.require_second_factor, FALSE) AS org_requires_second_factor \
         FROM users u LEFT JOIN organisations o ON o.id = u.org_id \
         WHERE ($1 IS NULL OR u.org_id = $1) AND ($2 IS NULL OR u.org_id = $2) AND ($3 IS NULL OR u.id = $3) \
         ORDER BY o.user_code IS NOT NULL, o.user_code, u.created_at",
    )
    .bind(scope.org_filter())
    .bind(org)
    .bind(user)
    .fetch_all(p)
    .await)
}

/// Changes an active user's own name; answers whether it changed (the same name: nothing written).
pub async fn set_name(tx: &mut Tx, id: Uuid, name: &str) -> Result<bool, sqlx::Error> {
    on_tx!(tx, c => sqlx::query(
        "UPDATE users SET display_name = $2, updated_at = $3 WHERE id = $1 AND status = 'active' AND display_name <> $2",
    )
    .bind(id)
    .bind(name)
    .bind(super::now())
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected() == 1))
}

/// Sets name and password and makes an invited user active.
pub async fn activate(tx: &mut Tx, id: Uuid, name: &str, hash: &str) -> Result<u64, sqlx::Error> {
    on_tx!(tx, c => sqlx::query(
        "UPDATE users SET display_name = $2, password_hash = $3, status = 'active', updated_at = $4 \
         WHERE id = $1 AND status = 'invited'",
    )
    .bind(id)
    .bind(name)
    .bind(hash)
    .bind(super::now())
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected()))
}

/// Replaces the password of an active user.
pub async fn set_password(tx: &mut Tx, id: Uuid, hash: &str) -> Result<u64, sqlx::Error> {
    on_tx!(tx, c => sqlx::query("UPDATE users SET password_hash = $2, updated_at = $3 WHERE id = $1 AND status = 'active'")
        .bind(id)
        .bind(hash)
        .bind(super::now())
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected()))
}

/// Sets the status of a user within the scope; answers how many rows changed.
pub async fn set_status(
    tx: &mut Tx,
    scope: Scope,
    id: Uuid,
    status: &str,
) -> Result<u64, sqlx::Error> {
    on_tx!(tx, c => sqlx::query(
        "UPDATE users SET status = $3, updated_at = $4 WHERE id = $1 AND ($2 IS NULL OR org_id = $2) AND status <> $3",
    )
    .bind(id)
    .bind(scope.org_filter())
    .bind(status)
    .bind(super::now())
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected()))
}

/// Whether the user is still invited (not signed up, not disabled), holding the row until the
/// transaction ends: a conditional write, so an acceptance racing with it waits.
pub async fn still_invited(tx: &mut Tx, id: Uuid) -> Result<bool, sqlx::Error> {
    on_tx!(tx, c => sqlx::query(
        "UPDATE users SET updated_at = $2 WHERE id = $1 AND status = 'invited'",
    )
    .bind(id)
    .bind(super::now())
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected() == 1))
}

/// Points an invitation never accepted (still invited, or disabled before it was) at another
/// role and organisation, within the scope, as invited again: its id, or `None` when the
/// address is someone's who signed up, or another scope's. A conditional write: an acceptance
/// racing with it either comes first (then `None`) or waits.
pub async fn reinvite(
    tx: &mut Tx,
    scope: Scope,
    email: &str,
    role: Role,
    org_id: Option<Uuid>,
) -> Result<Option<Uuid>, sqlx::Error> {
    on_tx!(tx, c => sqlx::query_scalar(
        "UPDATE users SET role = $3, org_id = $4, status = 'invited', updated_at = $5 \
         WHERE email = $1 AND password_hash IS NULL AND status IN ('invited', 'disabled') \
         AND ($2 IS NULL OR org_id = $2) RETURNING id",
    )
    .bind(email)
    .bind(scope.org_filter())
    .bind(role.as_str())
    .bind(org_id)
    .bind(super::now())
    .fetch_optional(&mut *c)
    .await)
}

/// Changes the role of a user within the scope (org roles stay org roles; the caller checks).
pub async fn set_role(tx: &mut Tx, scope: Scope, id: Uuid, role: Role) -> Result<u64, sqlx::Error> {
    on_tx!(tx, c => sqlx::query(
        "UPDATE users SET role = $3, updated_at = $4 WHERE id = $1 AND ($2 IS NULL OR org_id = $2) AND role <> $3",
    )
    .bind(id)
    .bind(scope.org_filter())
    .bind(role.as_str())
    .bind(super::now())
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected()))
}

/// How many active administrators an organisation has.
pub async fn active_org_admins(db: &Db, org_id: Uuid) -> Result<i64, sqlx::Error> {
    on_db!(db, p => sqlx::query_scalar(
        "SELECT COUNT(*) FROM users WHERE org_id = $1 AND role = 'org_admin' AND status = 'active'",
    )
    .bind(org_id)
    .fetch_one(p)
    .await)
}

/// How many active Center admins exist (none means first-run setup is open).
pub async fn count_active_center_admins(db: &Db) -> Result<i64, sqlx::Error> {
    on_db!(db, p => sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE role = 'center_admin' AND status = 'active'")
        .fetch_one(p)
        .await)
}

/// Keeps the language a person chose for their next sign-in; whether it changed.
pub async fn set_lang(tx: &mut Tx, id: Uuid, lang: &str) -> Result<bool, sqlx::Error> {
    on_tx!(tx, c => sqlx::query("UPDATE users SET lang = $2 WHERE id = $1 AND (lang IS NULL OR lang <> $2)")
        .bind(id)
        .bind(lang)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected() == 1))
}

//! Organisations (利用者): the user companies.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{Db, Tx, on_db, on_tx};
use crate::domain::Scope;

/// A stored organisation with its member count.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct OrgRow {
    pub id: Uuid,
    pub name: String,
    pub user_code: String,
    pub created_at: DateTime<Utc>,
    pub members: i64,
    /// The name in katakana as the organisation gave it in its profile (may be empty).
    pub name_kana: String,
    /// Its other NACCS user codes (filled by [`list`]; empty elsewhere).
    #[sqlx(skip)]
    pub other_codes: Vec<String>,
}

/// Inserts an organisation with its primary user code; a taken code is a unique violation.
pub async fn insert(tx: &mut Tx, name: &str, user_code: &str) -> Result<Uuid, sqlx::Error> {
    let id = Uuid::now_v7();
    on_tx!(tx, c => sqlx::query("INSERT INTO organisations (id, name, user_code, created_at) VALUES ($1, $2, $3, $4)")
        .bind(id)
        .bind(name)
        .bind(user_code)
        .bind(super::now())
        .execute(&mut *c)
        .await.map(|_| ()))?;
    insert_code(tx, id, user_code).await?;
    Ok(id)
}

const SELECT: &str = "SELECT o.id, o.name, o.user_code, o.created_at, o.name_kana, \
    (SELECT COUNT(*) FROM users u WHERE u.org_id = o.id AND u.status <> 'disabled') AS members \
    FROM organisations o";

/// Every organisation within the scope, by user code, with its other user codes.
pub async fn list(db: &Db, scope: Scope) -> Result<Vec<OrgRow>, sqlx::Error> {
    let sql = format!("{SELECT} WHERE ($1 IS NULL OR o.id = $1) ORDER BY o.user_code");
    let mut orgs = on_db!(db, p => sqlx::query_as::<_, OrgRow>(sqlx::AssertSqlSafe(sql)).bind(scope.org_filter()).fetch_all(p).await)?;
    let others: Vec<(Uuid, String)> = on_db!(db, p => sqlx::query_as(
        "SELECT c.org_id, c.code FROM org_user_codes c JOIN organisations o ON o.id = c.org_id \
         WHERE c.code <> o.user_code AND ($1 IS NULL OR c.org_id = $1) ORDER BY c.code",
    )
    .bind(scope.org_filter())
    .fetch_all(p)
    .await)?;
    if !others.is_empty() {
        let at: std::collections::HashMap<Uuid, usize> =
            orgs.iter().enumerate().map(|(i, o)| (o.id, i)).collect();
        for (org, code) in others {
            if let Some(&i) = at.get(&org) {
                orgs[i].other_codes.push(code);
            }
        }
    }
    Ok(orgs)
}

/// One organisation within the scope.
pub async fn get(db: &Db, scope: Scope, id: Uuid) -> Result<Option<OrgRow>, sqlx::Error> {
    let sql = format!("{SELECT} WHERE o.id = $1 AND ($2 IS NULL OR o.id = $2)");
    on_db!(db, p => sqlx::query_as::<_, OrgRow>(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .bind(scope.org_filter())
        .fetch_optional(p)
        .await)
}

/// Sets a new organisation's reading (フリガナ).
pub async fn set_name_kana(tx: &mut Tx, id: Uuid, kana: &str) -> Result<(), sqlx::Error> {
    on_tx!(tx, c => sqlx::query("UPDATE organisations SET name_kana = $2 WHERE id = $1")
        .bind(id)
        .bind(kana)
        .execute(&mut *c)
        .await
        .map(|_| ()))
}

/// The organisation holding a user code (Center tools only).
pub async fn by_code(tx: &mut Tx, user_code: &str) -> Result<Option<Uuid>, sqlx::Error> {
    on_tx!(tx, c => sqlx::query_scalar("SELECT id FROM organisations WHERE user_code = $1")
        .bind(user_code)
        .fetch_optional(&mut *c)
        .await)
}

/// An organisation's name, inside a transaction.
pub async fn name_in(tx: &mut Tx, id: Uuid) -> Result<Option<String>, sqlx::Error> {
    on_tx!(tx, c => sqlx::query_scalar("SELECT name FROM organisations WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *c)
        .await)
}

/// The organisation one of whose user codes (primary or additional) is `code`.
pub async fn holding_code(db: &Db, code: &str) -> Result<Option<Uuid>, sqlx::Error> {
    on_db!(db, p => sqlx::query_scalar("SELECT org_id FROM org_user_codes WHERE code = $1")
        .bind(code)
        .fetch_optional(p)
        .await)
}

/// Every NACCS user code of an organisation, primary first.
pub async fn codes(db: &Db, org_id: Uuid) -> Result<Vec<String>, sqlx::Error> {
    on_db!(db, p => sqlx::query_scalar(
        "SELECT c.code FROM org_user_codes c JOIN organisations o ON o.id = c.org_id \
         WHERE c.org_id = $1 ORDER BY c.code <> o.user_code, c.code",
    )
    .bind(org_id)
    .fetch_all(p)
    .await)
}

/// Records a user code for a new organisation (the primary one).
pub async fn insert_code(tx: &mut Tx, org_id: Uuid, code: &str) -> Result<(), sqlx::Error> {
    on_tx!(tx, c => sqlx::query("INSERT INTO org_user_codes (code, org_id, created_at) VALUES ($1, $2, $3)")
        .bind(code)
        .bind(org_id)
        .bind(super::now())
        .execute(&mut *c)
        .await
        .map(|_| ()))
}

/// The organisation's profile as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ProfileRow {
    pub id: Uuid,
    pub name: String,
    pub name_kana: String,
    pub user_code: String,
    pub postal_code: String,
    pub address: String,
    pub contact_name: String,
    pub contact_phone: String,
    pub contact_email: String,
    pub version: i64,
}

/// The profile of one organisation within the scope.
pub async fn profile(db: &Db, scope: Scope, id: Uuid) -> Result<Option<ProfileRow>, sqlx::Error> {
    on_db!(db, p => sqlx::query_as::<_, ProfileRow>(
        "SELECT id, name, name_kana, user_code, postal_code, address, contact_name, contact_phone, contact_email, version \
         FROM organisations WHERE id = $1 AND ($2 IS NULL OR id = $2)",
    )
    .bind(id)
    .bind(scope.org_filter())
    .fetch_optional(p)
    .await)
}

/// The editable part of a profile.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ProfileUpdate {
    pub name: String,
    pub name_kana: String,
    pub postal_code: String,
    pub address: String,
    pub contact_name: String,
    pub contact_phone: String,
    pub contact_email: String,
}

/// Saves the profile if it is still at `version`; false means someone saved first.
pub async fn update_profile(
    tx: &mut Tx,
    id: Uuid,
    version: i64,
    u: &ProfileUpdate,
) -> Result<bool, sqlx::Error> {
    on_tx!(tx, c => sqlx::query(
        "UPDATE organisations SET name = $3, name_kana = $4, postal_code = $5, address = $6, contact_name = $7, \
         contact_phone = $8, contact_email = $9, version = version + 1 WHERE id = $1 AND version = $2",
    )
    .bind(id)
    .bind(version)
    .bind(&u.name)
    .bind(&u.name_kana)
    .bind(&u.postal_code)
    .bind(&u.address)
    .bind(&u.contact_name)
    .bind(&u.contact_phone)
    .bind(&u.contact_email)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected() == 1))
}

/// Makes the organisation's extra user codes exactly `extra` (the primary code stays);
/// answers `Err(code)` with the first code another organisation holds (nothing is kept then:
/// the caller drops the transaction).
pub async fn set_extra_codes(
    tx: &mut Tx,
    id: Uuid,
    primary: &str,
    extra: &[String],
) -> Result<Result<(), String>, sqlx::Error> {
    let existing: Vec<String> = on_tx!(tx, c => sqlx::query_scalar("SELECT code FROM org_user_codes WHERE org_id = $1 AND code <> $2")
        .bind(id)
        .bind(primary)
        .fetch_all(&mut *c)
        .await)?;
    for old in existing.iter().filter(|c| !extra.contains(c)) {
        on_tx!(tx, c => sqlx::query("DELETE FROM org_user_codes WHERE org_id = $1 AND code = $2")
            .bind(id)
            .bind(old)
            .execute(&mut *c)
            .await
            .map(|_| ()))?;
    }
    for new in extra
        .iter()
        .filter(|c| !existing.contains(c) && c.as_str() != primary)
    {
        match insert_code(tx, id, new).await {
            Ok(()) => {}
            Err(e) if super::is_unique_violation(&e) => return Ok(Err(new.clone())),
            Err(e) => return Err(e),
        }
    }
    Ok(Ok(()))
}

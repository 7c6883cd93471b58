//! Canned return reasons (差戻し理由の定型文): kept by the Center's admins, offered on the
//! decision form. Every change is conditional on the version the admin saw.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{Db, Tx, on_db, on_tx};

/// A canned reason.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ReasonRow {
    pub id: Uuid,
    pub title: String,
    pub body: String,
    pub active: bool,
    pub version: i64,
    pub updated_at: DateTime<Utc>,
}

const COLS: &str = "id, title, body, active, version, updated_at";

/// The reasons in use (and, with `retired`, the retired ones after them), by title.
pub async fn list(db: &Db, retired: bool) -> Result<Vec<ReasonRow>, sqlx::Error> {
    let sql = format!(
        "SELECT {COLS} FROM return_reasons WHERE active OR $1 ORDER BY CASE WHEN active THEN 0 ELSE 1 END, title, id"
    );
    on_db!(db, p => sqlx::query_as::<_, ReasonRow>(sqlx::AssertSqlSafe(sql))
        .bind(retired)
        .fetch_all(p)
        .await)
}

/// One reason in use.
pub async fn active(db: &Db, id: Uuid) -> Result<Option<ReasonRow>, sqlx::Error> {
    let sql = format!("SELECT {COLS} FROM return_reasons WHERE id = $1 AND active");
    on_db!(db, p => sqlx::query_as::<_, ReasonRow>(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(p)
        .await)
}

/// Adds a reason; a title already in use is a unique violation.
pub async fn add(tx: &mut Tx, title: &str, body: &str) -> Result<Uuid, sqlx::Error> {
    let id = Uuid::now_v7();
    let now = super::now();
    on_tx!(tx, c => sqlx::query(
        "INSERT INTO return_reasons (id, title, body, active, version, created_at, updated_at) VALUES ($1, $2, $3, TRUE, 1, $4, $4)",
    )
    .bind(id)
    .bind(title)
    .bind(body)
    .bind(now)
    .execute(&mut *c)
    .await
    .map(|_| ()))?;
    Ok(id)
}

/// Changes a reason in use if it is still at `version`; false when it moved or was retired.
/// A title already in use is a unique violation.
pub async fn edit(
    tx: &mut Tx,
    id: Uuid,
    version: i64,
    title: &str,
    body: &str,
) -> Result<bool, sqlx::Error> {
    let n = on_tx!(tx, c => sqlx::query(
        "UPDATE return_reasons SET title = $3, body = $4, version = version + 1, updated_at = $5 \
         WHERE id = $1 AND version = $2 AND active",
    )
    .bind(id)
    .bind(version)
    .bind(title)
    .bind(body)
    .bind(super::now())
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// Retires a reason in use if it is still at `version`; answers its title, or `None` when it
/// moved or was retired already.
pub async fn retire(tx: &mut Tx, id: Uuid, version: i64) -> Result<Option<String>, sqlx::Error> {
    on_tx!(tx, c => sqlx::query_scalar(
        "UPDATE return_reasons SET active = FALSE, version = version + 1, updated_at = $3 \
         WHERE id = $1 AND version = $2 AND active RETURNING title",
    )
    .bind(id)
    .bind(version)
    .bind(super::now())
    .fetch_optional(&mut *c)
    .await)
}

//! Submissions: reports to the Center. This module stores the shape the review flow uses;
//! receipt numbers, versions beyond 1 and review states arrive with the review flow.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{Db, Tx, on_db, on_tx};
use crate::domain::ScopeKind;

/// A new submission, submitted at once.
pub struct NewSubmission<'a> {
    pub org_id: Uuid,
    pub kind: &'a str,
    pub scope_kind: ScopeKind,
    pub location_id: Option<Uuid>,
    pub data: serde_json::Value,
    pub catalogue_revision: i64,
    pub submitted_by: Uuid,
}

/// Stores a submission in state `submitted`.
pub async fn insert_submitted(tx: &mut Tx, s: &NewSubmission<'_>) -> Result<Uuid, sqlx::Error> {
    let id = Uuid::now_v7();
    let now = super::now();
    on_tx!(tx, c => sqlx::query(
        "INSERT INTO submissions (id, org_id, kind, scope_kind, location_id, state, version, data, catalogue_revision, \
         submitted_by, submitted_at, created_at) VALUES ($1, $2, $3, $4, $5, 'submitted', 1, $6, $7, $8, $9, $9)",
    )
    .bind(id)
    .bind(s.org_id)
    .bind(s.kind)
    .bind(s.scope_kind.as_str())
    .bind(s.location_id)
    .bind(s.data.to_string())
    .bind(s.catalogue_revision)
    .bind(s.submitted_by)
    .bind(now)
    .execute(&mut *c)
    .await
    .map(|_| ()))?;
    Ok(id)
}

/// The latest submission of each (kind, location) of an organisation.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LatestRow {
    pub id: Uuid,
    pub org_id: Uuid,
    pub kind: String,
    pub location_id: Option<Uuid>,
    pub state: String,
    pub submitted_at: Option<DateTime<Utc>>,
}

/// One organisation's submissions (`None`: every organisation's), newest first.
pub async fn latest(db: &Db, org_id: Option<Uuid>) -> Result<Vec<LatestRow>, sqlx::Error> {
    on_db!(db, p => sqlx::query_as::<_, LatestRow>(
        "SELECT id, org_id, kind, location_id, state, submitted_at FROM submissions WHERE ($1 IS NULL OR org_id = $1) ORDER BY created_at DESC",
    )
    .bind(org_id)
    .fetch_all(p)
    .await)
}

/// The data of one submission of the organisation.
pub async fn data(
    db: &Db,
    org_id: Uuid,
    id: Uuid,
) -> Result<Option<serde_json::Value>, sqlx::Error> {
    let raw: Option<String> = on_db!(db, p => sqlx::query_scalar("SELECT data FROM submissions WHERE id = $1 AND org_id = $2")
        .bind(id)
        .bind(org_id)
        .fetch_optional(p)
        .await)?;
    Ok(raw.and_then(|r| serde_json::from_str(&r).ok()))
}

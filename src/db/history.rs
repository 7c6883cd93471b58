//! The organisation's record of what it submitted (提出履歴): every sealed submission of every
//! item and place, with its decision, filtered and paged in SQL.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{Db, on_db};
use crate::domain::Scope;

/// One sealed submission as the history lists it.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct HistoryRow {
    pub id: Uuid,
    pub kind: String,
    pub location_id: Option<Uuid>,
    /// The place's name and kind (`office`, `gateway_site`), when the report is for one.
    pub location_name: Option<String>,
    pub location_kind: Option<String>,
    /// As the organisation sees it: a submitted one a reviewer took reads `under_review`.
    pub state: String,
    pub version: i64,
    pub receipt_no: Option<String>,
    pub submitted_at: Option<DateTime<Utc>>,
    /// `accepted` or `returned`, once decided.
    pub decision: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    /// A later version of the same item and place was sealed: this one is no longer current.
    pub replaced: bool,
}

/// What the history is narrowed to (`None`: any).
#[derive(Debug, Clone, Default)]
pub struct HistoryFilter<'a> {
    pub kind: Option<&'a str>,
    pub state: Option<&'a str>,
}

const STATE: &str = "CASE WHEN s.state = 'submitted' AND s.assigned_to IS NOT NULL THEN 'under_review' ELSE s.state END";

fn where_clause() -> String {
    format!(
        "WHERE s.org_id = $1 AND ($2 IS NULL OR s.org_id = $2) AND s.state <> 'draft' \
         AND ($3 IS NULL OR s.kind = $3) AND ($4 IS NULL OR {STATE} = $4)"
    )
}

/// One page of an organisation's sealed submissions within the scope, newest first.
pub async fn page(
    db: &Db,
    scope: Scope,
    org_id: Uuid,
    filter: &HistoryFilter<'_>,
    limit: i64,
    offset: i64,
) -> Result<Vec<HistoryRow>, sqlx::Error> {
    let sql = format!(
        "SELECT s.id, s.kind, s.location_id, l.name AS location_name, l.kind AS location_kind, \
         {STATE} AS state, s.version, s.receipt_no, s.submitted_at, d.decision, d.decided_at, \
         s.replaced_at IS NOT NULL AS replaced \
         FROM submissions s LEFT JOIN locations l ON l.id = s.location_id AND l.org_id = s.org_id \
         LEFT JOIN decisions d ON d.submission_id = s.id AND d.org_id = s.org_id {} \
         ORDER BY s.submitted_at DESC, s.id DESC LIMIT $5 OFFSET $6",
        where_clause()
    );
    on_db!(db, p => sqlx::query_as::<_, HistoryRow>(sqlx::AssertSqlSafe(sql))
        .bind(org_id)
        .bind(scope.org_filter())
        .bind(filter.kind)
        .bind(filter.state)
        .bind(limit)
        .bind(offset)
        .fetch_all(p)
        .await)
}

/// How many sealed submissions the filter finds.
pub async fn count(
    db: &Db,
    scope: Scope,
    org_id: Uuid,
    filter: &HistoryFilter<'_>,
) -> Result<i64, sqlx::Error> {
    let sql = format!("SELECT COUNT(*) FROM submissions s {}", where_clause());
    on_db!(db, p => sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql))
        .bind(org_id)
        .bind(scope.org_filter())
        .bind(filter.kind)
        .bind(filter.state)
        .fetch_one(p)
        .await)
}

/// The sealed submissions of one kind for one location of an organisation, newest first:
/// (id, receipt number, data as stored, state).
pub async fn sealed_at(
    db: &Db,
    org_id: Uuid,
    kind: &str,
    location_id: Uuid,
) -> Result<Vec<(Uuid, String, String, String)>, sqlx::Error> {
    on_db!(db, p => sqlx::query_as::<_, (Uuid, String, String, String)>(
        "SELECT id, receipt_no, data, state FROM submissions WHERE org_id = $1 AND kind = $2 AND location_id = $3 \
         AND receipt_no IS NOT NULL ORDER BY submitted_at DESC",
    )
    .bind(org_id)
    .bind(kind)
    .bind(location_id)
    .fetch_all(p)
    .await)
}

//! Renewals: the accepted report a draft was opened from (`submissions.renewed_from`, set
//! by [`super::submissions::open_draft`]), and the one a new draft of a place would start from.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{Db, on_db};

/// The report a draft was renewed from: its id, receipt number and when it was submitted
/// (`None` when the draft did not start from an accepted report).
pub async fn renewed_from(
    db: &Db,
    org_id: Uuid,
    draft: Uuid,
) -> Result<Option<(Uuid, String, DateTime<Utc>)>, sqlx::Error> {
    let row: Option<(Uuid, Option<String>, Option<DateTime<Utc>>)> = on_db!(db, p => sqlx::query_as(
        "SELECT a.id, a.receipt_no, a.submitted_at FROM submissions d JOIN submissions a ON a.id = d.renewed_from \
         WHERE d.id = $1 AND d.org_id = $2 AND a.org_id = $2",
    )
    .bind(draft)
    .bind(org_id)
    .fetch_optional(p)
    .await)?;
    Ok(row.and_then(|(id, no, at)| Some((id, no?, at?))))
}

/// The last accepted report of a kind and place of the organisation: the one a new draft
/// would start from (id, receipt number, when submitted).
pub async fn last_accepted(
    db: &Db,
    org_id: Uuid,
    kind: &str,
    location_id: Option<Uuid>,
) -> Result<Option<(Uuid, String, DateTime<Utc>)>, sqlx::Error> {
    let row: Option<(Uuid, Option<String>, Option<DateTime<Utc>>)> = on_db!(db, p => sqlx::query_as(
        "SELECT id, receipt_no, submitted_at FROM submissions WHERE org_id = $1 AND kind = $2 AND state = 'accepted' \
         AND (location_id = $3 OR ($3 IS NULL AND location_id IS NULL)) ORDER BY submitted_at DESC, id DESC LIMIT 1",
    )
    .bind(org_id)
    .bind(kind)
    .bind(location_id)
    .fetch_optional(p)
    .await)?;
    Ok(row.and_then(|(id, no, at)| Some((id, no?, at?))))
}

/// The last report of a kind and place of the organisation accepted among those submitted
/// before `before`, outside the series `series`: what a report not opened from it (a new
/// appointment, say) is compared with (id, receipt number).
pub async fn accepted_before(
    db: &Db,
    org_id: Uuid,
    kind: &str,
    location_id: Option<Uuid>,
    before: DateTime<Utc>,
    series: Uuid,
) -> Result<Option<(Uuid, String)>, sqlx::Error> {
    let row: Option<(Uuid, Option<String>)> = on_db!(db, p => sqlx::query_as(
        "SELECT id, receipt_no FROM submissions WHERE org_id = $1 AND kind = $2 AND state = 'accepted' \
         AND (location_id = $3 OR ($3 IS NULL AND location_id IS NULL)) AND submitted_at < $4 \
         AND id <> $5 AND (series_id IS NULL OR series_id <> $5) ORDER BY submitted_at DESC, id DESC LIMIT 1",
    )
    .bind(org_id)
    .bind(kind)
    .bind(location_id)
    .bind(before)
    .bind(series)
    .fetch_optional(p)
    .await)?;
    Ok(row.and_then(|(id, no)| Some((id, no?))))
}

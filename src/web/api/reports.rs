//! Organisation side of `/api/v1`: the organisation's submissions with their states and
//! receipts.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::problem::ApiResult;
use crate::app::Error;
use crate::app::tokens::Caller;
use crate::db;
use crate::domain::{Scope, TokenScope};
use crate::web::AppState;

/// The organisation a caller reports for (Center tokens have none: 403).
fn own_org(caller: &Caller) -> Result<uuid::Uuid, Error> {
    match caller.actor.scope() {
        Scope::Org(id) => Ok(id),
        Scope::Center => Err(Error::Forbidden),
    }
}

/// One of the organisation's submissions.
#[derive(Debug, Serialize, ToSchema)]
pub struct SubmissionItem {
    pub id: Uuid,
    /// The checklist item's key (e.g. `antivirus`).
    pub kind: String,
    /// The office or gateway site it is for; absent for the whole organisation.
    pub location_id: Option<Uuid>,
    /// `draft`, `submitted`, `under_review`, `accepted`, `returned`, ...
    pub state: String,
    pub submitted_at: Option<DateTime<Utc>>,
}

/// The organisation's submissions (drafts included), newest first.
#[utoipa::path(get, path = "/api/v1/submissions", tag = "reports",
    security(("token" = ["reports:read"])),
    responses(
        (status = 200, body = Vec<SubmissionItem>),
    ))]
pub async fn submissions(
    State(state): State<Arc<AppState>>,
    caller: Caller,
) -> ApiResult<Json<Vec<SubmissionItem>>> {
    caller.require(TokenScope::ReportsRead)?;
    let org = own_org(&caller)?;
    let rows = db::submissions::latest(&state.db, Some(org)).await?;
    Ok(Json(
        rows.into_iter()
            .map(|r| SubmissionItem {
                id: r.id,
                kind: r.kind,
                location_id: r.location_id,
                state: r.state,
                submitted_at: r.submitted_at,
            })
            .collect(),
    ))
}

/// One submission with its receipt.
#[derive(Debug, Serialize, ToSchema)]
pub struct SubmissionDetail {
    pub id: Uuid,
    pub kind: String,
    pub location_id: Option<Uuid>,
    pub state: String,
    pub version: i64,
    pub submitted_at: Option<DateTime<Utc>>,
    /// The receipt number (受付番号), once submitted.
    pub receipt_no: Option<String>,
    /// The receipt's verification code, which anyone can check on the receipt check page.
    pub receipt_code: Option<String>,
    /// What was reported (the sealed content once submitted; the draft's data before).
    #[schema(value_type = Object)]
    pub content: serde_json::Value,
}

/// One of the organisation's submissions; another organisation's is not found.
#[utoipa::path(get, path = "/api/v1/submissions/{id}", tag = "reports",
    params(("id" = Uuid, Path, description = "The submission")),
    security(("token" = ["reports:read"])),
    responses(
        (status = 200, body = SubmissionDetail),
    ))]
pub async fn submission(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<SubmissionDetail>> {
    caller.require(TokenScope::ReportsRead)?;
    let org = own_org(&caller)?;
    let s = db::submissions::get(&state.db, Scope::Org(org), id)
        .await?
        .ok_or(Error::NotFound)?;
    let receipt_code = match (&s.receipt_no, &s.snapshot) {
        (Some(no), Some(snap)) => Some(db::receipts::code(&state.db, no, snap)?),
        _ => None,
    };
    let content = s
        .snapshot
        .as_deref()
        .and_then(|t| serde_json::from_str(t).ok())
        .unwrap_or_else(|| serde_json::from_str(&s.data).unwrap_or(serde_json::Value::Null));
    Ok(Json(SubmissionDetail {
        id: s.id,
        kind: s.kind,
        location_id: s.location_id,
        state: s.state,
        version: s.version,
        submitted_at: s.submitted_at,
        receipt_no: s.receipt_no,
        receipt_code,
        content,
    }))
}

//! Organisation side of `/api/v1`, reading: the checklist with its statuses, the
//! organisation's submissions with their receipts and states, one submission.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::problem::ApiResult;
use crate::app::submissions::reads;
use crate::app::tokens::Caller;
use crate::app::{App, Error};
use crate::db;
use crate::db::submissions::SummaryRow;
use crate::domain::TokenScope;
use crate::web::AppState;

/// The organisation a token reads for (Center tokens have none: 403).
fn own_org(caller: &Caller) -> Result<Uuid, Error> {
    caller.require(TokenScope::ReportsRead)?;
    caller.actor.org_id.ok_or(Error::Forbidden)
}

/// Where a checklist item is due.
#[derive(Debug, Serialize, ToSchema)]
pub struct Unit {
    /// `organisation`, `office` or `gateway_site`.
    pub kind: String,
    /// The office or gateway site (absent: the whole organisation).
    pub location: Option<Uuid>,
    pub name: Option<String>,
}

/// One row of the checklist.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChecklistRow {
    /// The item's number in the catalogue (e.g. `7.4.1(3)`).
    pub number: String,
    /// The item's key (`antivirus`, `gateway_logs`, ...).
    pub item: String,
    pub title_ja: String,
    pub title_en: String,
    pub unit: Unit,
    /// `missing`, `draft`, `submitted`, `under_review`, `accepted`, `returned`,
    /// `not_requested`, `when_applicable`, `requested`, `instruction_open`,
    /// `instruction_answered` (the correction reported, waiting for the Center) or `overdue`.
    pub status: String,
    /// Whether the organisation has something to do.
    pub needs_action: bool,
    /// The open instruction behind the status, if one is.
    pub instruction: Option<Uuid>,
    /// The open request behind the status, if one is.
    pub request: Option<Uuid>,
}

/// The organisation's checklist, in catalogue then unit order.
#[utoipa::path(get, path = "/api/v1/checklist", tag = "reports", operation_id = "checklist",
    security(("token" = ["reports:read"])),
    responses((status = 200, body = Vec<ChecklistRow>)))]
pub async fn checklist(
    State(state): State<Arc<AppState>>,
    caller: Caller,
) -> ApiResult<Json<Vec<ChecklistRow>>> {
    let org = own_org(&caller)?;
    let rows = reads::checklist(&state, &caller.actor, org).await?;
    Ok(Json(
        rows.into_iter()
            .map(|r| ChecklistRow {
                number: r.number,
                item: r.item,
                title_ja: r.title_ja,
                title_en: r.title_en,
                unit: Unit {
                    kind: r.unit.kind.to_string(),
                    location: r.unit.location,
                    name: r.unit.name,
                },
                status: r.status.to_string(),
                needs_action: r.needs_action,
                instruction: r.open.as_ref().filter(|o| o.instruction).map(|o| o.id),
                request: r.open.as_ref().filter(|o| !o.instruction).map(|o| o.id),
            })
            .collect(),
    ))
}

/// One of the organisation's submissions.
#[derive(Debug, Serialize, ToSchema)]
pub struct SubmissionItem {
    pub id: Uuid,
    /// The checklist item's key (e.g. `antivirus`).
    pub kind: String,
    /// The gateway site it is for; absent for the whole organisation.
    pub location_id: Option<Uuid>,
    /// `draft`, `submitted`, `under_review`, `accepted`, `returned`, ...
    pub state: String,
    pub version: i64,
    /// The receipt number (受付番号), once submitted.
    pub receipt_no: Option<String>,
    pub submitted_at: Option<DateTime<Utc>>,
}

impl From<SummaryRow> for SubmissionItem {
    fn from(r: SummaryRow) -> Self {
        SubmissionItem {
            id: r.id,
            kind: r.kind,
            location_id: r.location_id,
            state: r.state,
            version: r.version,
            receipt_no: r.receipt_no,
            submitted_at: r.submitted_at,
        }
    }
}

/// The organisation's submissions (drafts included), newest first.
#[utoipa::path(get, path = "/api/v1/submissions", tag = "reports",
    security(("token" = ["reports:read"])),
    responses((status = 200, body = Vec<SubmissionItem>)))]
pub async fn submissions(
    State(state): State<Arc<AppState>>,
    caller: Caller,
) -> ApiResult<Json<Vec<SubmissionItem>>> {
    let org = own_org(&caller)?;
    let rows = reads::submissions(&state, &caller.actor, org).await?;
    Ok(Json(rows.into_iter().map(Into::into).collect()))
}

/// A file of a submission.
#[derive(Debug, Serialize, ToSchema)]
pub struct FileItem {
    pub id: Uuid,
    pub name: String,
    /// What the file is for (`diagram`, `equipment_list`, `evidence`, `logs`).
    pub role: String,
    pub mime: String,
    pub size: i64,
    pub sha256: String,
}

/// One submission with its receipt and content.
#[derive(Debug, Serialize, ToSchema)]
pub struct SubmissionDetail {
    #[serde(flatten)]
    pub summary: SubmissionItem,
    /// The receipt's verification code (anyone can check it on the receipt check page).
    pub receipt_code: Option<String>,
    /// What was reported (for a sealed one, what was sealed).
    #[schema(value_type = Object)]
    pub content: serde_json::Value,
    pub files: Vec<FileItem>,
}

/// The receipt's verification code of a sealed submission.
async fn receipt_code(app: &App, org: Uuid, id: Uuid) -> Result<Option<String>, Error> {
    let s = db::submissions::get(&app.db, crate::domain::Scope::Org(org), id)
        .await?
        .ok_or(Error::NotFound)?;
    Ok(match (s.receipt_no, s.snapshot) {
        (Some(no), Some(snap)) => Some(db::receipts::code(&app.db, &no, &snap)?),
        _ => None,
    })
}

/// One of the organisation's submissions; another organisation's is not found.
#[utoipa::path(get, path = "/api/v1/submissions/{id}", tag = "reports",
    params(("id" = Uuid, Path, description = "The submission")),
    security(("token" = ["reports:read"])),
    responses((status = 200, body = SubmissionDetail)))]
pub async fn submission(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<SubmissionDetail>> {
    let org = own_org(&caller)?;
    let d = reads::submission(&state, &caller.actor, org, id).await?;
    Ok(Json(SubmissionDetail {
        receipt_code: receipt_code(&state, org, id).await?,
        summary: d.summary.into(),
        content: d.data,
        files: d
            .files
            .into_iter()
            .map(|f| FileItem {
                id: f.id,
                name: f.name,
                role: f.role,
                mime: f.mime,
                size: f.size,
                sha256: f.sha256,
            })
            .collect(),
    }))
}

//! Center side of `/api/v1`: the review queue (keyset cursors), a submission's sealed
//! content, and decisions.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::problem::{ApiResult, ProblemDoc};
use crate::app::review::{DecideInput, Decision};
use crate::app::tokens::Caller;
use crate::app::{self, Error};
use crate::domain::TokenScope;
use crate::web::AppState;

/// The most rows one queue page answers.
const MAX_LIMIT: i64 = 200;

/// The queue's filters (those of the review page) and where the page starts.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct QueueQuery {
    /// A checklist item's key (e.g. `antivirus`).
    pub kind: Option<String>,
    /// `submitted` (waiting, the default), `accepted` or `returned`.
    pub state: Option<QueueState>,
    /// An organisation's user code.
    pub org: Option<String>,
    /// Only submissions waiting at least this many days.
    #[param(minimum = 0, maximum = 3650)]
    pub min_age_days: Option<i64>,
    /// `mine`: assigned to the token's owner; `unassigned`: nobody's yet.
    pub who: Option<Who>,
    /// Rows per page (1-200, default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// The `next` cursor of the previous page.
    pub after: Option<String>,
}

/// A queue state filter.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum QueueState {
    Submitted,
    Accepted,
    Returned,
}

impl QueueState {
    fn as_str(self) -> &'static str {
        match self {
            QueueState::Submitted => "submitted",
            QueueState::Accepted => "accepted",
            QueueState::Returned => "returned",
        }
    }
}

/// Whose submissions.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Who {
    Mine,
    Unassigned,
}

impl Who {
    fn as_str(self) -> &'static str {
        match self {
            Who::Mine => "mine",
            Who::Unassigned => "unassigned",
        }
    }
}

/// One line of the queue.
#[derive(Debug, Serialize, ToSchema)]
pub struct QueueItem {
    pub id: Uuid,
    pub receipt_no: String,
    pub org_id: Uuid,
    pub org_name: String,
    pub org_code: String,
    /// The checklist item's key.
    pub kind: String,
    pub version: i64,
    pub state: String,
    pub submitted_at: DateTime<Utc>,
    /// The reviewer who took it, if any.
    pub assignee: Option<String>,
    /// The office or gateway site it is about (none: the whole organisation).
    pub place: Option<String>,
    /// What to know before opening it: `resubmitted`, `renewal` (it renews an accepted report
    /// of the same item and place), `replaced` (a newer report of the same
    /// item and place was sent after it), `late` (answered a request after its due date),
    /// `stale` (antivirus definitions out of date), `counts` (antivirus reported for a number
    /// of computers other than the equipment list's), `log` (a gateway log check found problems),
    /// `successor` (another administrator takes over), `correction` (the same administrator's
    /// details corrected),
    /// `note` (the organisation wrote to the Center about it — a note when submitting, or a
    /// comment since — and the Center has not written back).
    pub flags: Vec<String>,
}

/// One page of the queue, oldest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct QueuePage {
    pub items: Vec<QueueItem>,
    /// Pass as `after` for the next page; absent on the last page.
    pub next: Option<String>,
}

/// The review queue, oldest first, a page at a time.
#[utoipa::path(get, path = "/api/v1/review/queue", tag = "review",
    params(QueueQuery),
    security(("token" = ["review:read"])),
    responses(
        (status = 200, body = QueuePage),
    ))]
pub async fn queue(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Query(q): Query<QueueQuery>,
) -> ApiResult<Json<QueuePage>> {
    caller.require(TokenScope::ReviewRead)?;
    let mut errors = app::FieldErrors::default();
    let limit = q.limit.unwrap_or(50);
    if !(1..=MAX_LIMIT).contains(&limit) {
        errors.add("limit", "error.api_limit_range");
    }
    if q.min_age_days.is_some_and(|d| !(0..=3650).contains(&d)) {
        errors.add("min_age_days", "error.api_days_range");
    }
    let after = q.after.clone().unwrap_or_default();
    if !after.is_empty() && !is_cursor(&after) {
        errors.add("after", "error.api_cursor_invalid");
    }
    if !errors.is_empty() {
        return Err(Error::Invalid(errors).into());
    }
    let params = app::review::QueueParams {
        kind: q.kind.unwrap_or_default(),
        state: q
            .state
            .map(QueueState::as_str)
            .unwrap_or_default()
            .to_string(),
        org: q.org.unwrap_or_default(),
        age: q.min_age_days.map(|d| d.to_string()).unwrap_or_default(),
        who: q.who.map(Who::as_str).unwrap_or_default().to_string(),
        form: String::new(),
        after,
        before: String::new(),
    };
    let page = app::review::queue(&state, &caller.actor, &params, limit).await?;
    Ok(Json(QueuePage {
        next: page.next.map(app::review::cursor_text),
        items: page
            .lines
            .into_iter()
            .map(|r| QueueItem {
                id: r.id,
                receipt_no: r.receipt_no,
                org_id: r.org_id,
                org_name: r.org_name,
                org_code: r.org_code,
                kind: r.kind,
                version: r.version,
                state: r.state,
                submitted_at: r.submitted_at,
                assignee: r.assignee,
                place: r.place,
                flags: r.flags.iter().map(|f| f.to_string()).collect(),
            })
            .collect(),
    }))
}

/// Whether a text reads as a queue cursor (`<RFC 3339 time>_<id>`).
fn is_cursor(s: &str) -> bool {
    s.split_once('_')
        .is_some_and(|(a, i)| DateTime::parse_from_rfc3339(a).is_ok() && Uuid::parse_str(i).is_ok())
}

/// A file sealed with a submission.
#[derive(Debug, Serialize, ToSchema)]
pub struct SealedFileOut {
    pub id: Uuid,
    pub name: String,
    /// What the file is for in the report (e.g. `diagram`).
    pub role: String,
    pub mime: String,
    pub size: i64,
    pub sha256: String,
}

/// The decision on a submission.
#[derive(Debug, Serialize, ToSchema)]
pub struct DecisionOut {
    /// `accepted` or `returned`.
    pub decision: String,
    pub reason: String,
    pub reviewer: String,
    pub decided_at: DateTime<Utc>,
}

/// A submission as the Center sees it: its state and its sealed content.
#[derive(Debug, Serialize, ToSchema)]
pub struct SealedSubmission {
    pub id: Uuid,
    pub org_id: Uuid,
    pub org_name: String,
    pub org_code: String,
    /// The checklist item's key.
    pub kind: String,
    pub location_id: Option<Uuid>,
    pub version: i64,
    pub state: String,
    pub receipt_no: Option<String>,
    pub submitted_at: Option<DateTime<Utc>>,
    /// The content exactly as sealed (data, files, submitter, catalogue revision).
    #[schema(value_type = Object)]
    pub content: serde_json::Value,
    pub files: Vec<SealedFileOut>,
    pub decision: Option<DecisionOut>,
    /// Whether it still waits for a decision.
    pub can_decide: bool,
    /// The newest report of the same item and place sealed after this one as a report of its
    /// own (not a version of this one), if any: read it before deciding on this one.
    pub newer_id: Option<Uuid>,
}

/// One sealed submission with its files and decision.
#[utoipa::path(get, path = "/api/v1/review/submissions/{id}", tag = "review", operation_id = "review_submission",
    params(("id" = Uuid, Path, description = "The submission")),
    security(("token" = ["review:read"])),
    responses(
        (status = 200, body = SealedSubmission),
    ))]
pub async fn submission(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<SealedSubmission>> {
    caller.require(TokenScope::ReviewRead)?;
    let s = app::review::sealed(&state, &caller.actor, id).await?;
    Ok(Json(SealedSubmission {
        id: s.id,
        org_id: s.org_id,
        org_name: s.org_name,
        org_code: s.org_code,
        kind: s.kind,
        location_id: s.location_id,
        version: s.version,
        state: s.state,
        receipt_no: s.receipt_no,
        submitted_at: s.submitted_at,
        content: s.snapshot,
        files: s
            .files
            .into_iter()
            .map(|f| SealedFileOut {
                id: f.id,
                name: f.name,
                role: f.role,
                mime: f.mime,
                size: f.size,
                sha256: f.sha256,
            })
            .collect(),
        decision: s.decision.map(|d| DecisionOut {
            decision: d.decision,
            reason: d.reason,
            reviewer: d.reviewer,
            decided_at: d.decided_at,
        }),
        can_decide: s.can_decide,
        newer_id: s.newer.map(|n| n.id),
    }))
}

/// 受理 or 差戻し.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DecisionChoice {
    Accepted,
    Returned,
}

impl From<DecisionChoice> for Decision {
    fn from(d: DecisionChoice) -> Decision {
        match d {
            DecisionChoice::Accepted => Decision::Accepted,
            DecisionChoice::Returned => Decision::Returned,
        }
    }
}

impl From<Decision> for DecisionChoice {
    fn from(d: Decision) -> DecisionChoice {
        match d {
            Decision::Accepted => DecisionChoice::Accepted,
            Decision::Returned => DecisionChoice::Returned,
        }
    }
}

/// A decision on a submission waiting for review.
#[derive(Debug, Deserialize, ToSchema)]
pub struct DecisionBody {
    pub decision: DecisionChoice,
    /// Required when returning (差戻し); up to 4,000 characters.
    #[serde(default)]
    pub reason: String,
    /// Accepting a report after a newer one of the same item and place was sent asks for
    /// `true` here: the newer one was read.
    #[serde(default)]
    pub newer_seen: bool,
}

/// What was decided.
#[derive(Debug, Serialize, ToSchema)]
pub struct DecisionDone {
    pub submission: Uuid,
    pub org_id: Uuid,
    pub decision: DecisionChoice,
}

/// Accepts (受理) or returns (差戻し) a submission; the organisation is notified. A second
/// decision is a conflict.
#[utoipa::path(post, path = "/api/v1/review/submissions/{id}/decision", tag = "review",
    params(("id" = Uuid, Path, description = "The submission"), super::IdempotencyKey),
    request_body = DecisionBody,
    security(("token" = ["review:write"])),
    responses(
        (status = 201, body = DecisionDone),
        (status = 409, description = "Decided already, or not in a state that allows it", body = ProblemDoc, content_type = "application/problem+json"),
    ))]
pub async fn decide(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<Uuid>,
    Json(body): Json<DecisionBody>,
) -> ApiResult<(StatusCode, Json<DecisionDone>)> {
    caller.require(TokenScope::ReviewWrite)?;
    let done = app::review::decide(
        &state,
        &caller.actor,
        DecideInput {
            submission: id,
            decision: Some(body.decision.into()),
            reason: body.reason,
            canned: None,
            newer_seen: body.newer_seen,
        },
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(DecisionDone {
            submission: done.submission,
            org_id: done.org,
            decision: done.decision.into(),
        }),
    ))
}

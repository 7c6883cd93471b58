//! Follow-up on `/api/v1`: the organisation reads its instructions and answers them; the
//! Center reads every open one and issues instructions and requests.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::problem::{ApiResult, ProblemDoc};
use crate::app::tokens::Caller;
use crate::app::{Error, followup};
use crate::db::followup::{InstructionRow, RequestRow};
use crate::domain::{Scope, TokenScope};
use crate::web::AppState;

/// An improvement instruction (改善措置の指示).
#[derive(Debug, Serialize, ToSchema)]
pub struct Instruction {
    pub id: Uuid,
    pub org_id: Uuid,
    pub org_name: String,
    pub org_code: String,
    /// The submission it follows from, with its receipt number.
    pub submission_id: Option<Uuid>,
    pub receipt_no: Option<String>,
    /// The checklist item's key.
    pub item_key: String,
    pub location_id: Option<Uuid>,
    pub problem: String,
    pub required_change: String,
    pub due_date: NaiveDate,
    /// `open`, `answered`, `closed`, ...
    pub state: String,
    pub extension_until: Option<NaiveDate>,
    pub issuer: String,
    pub created_at: DateTime<Utc>,
    /// Pass as `version` when answering, so an answer written against an older state is
    /// refused rather than applied over a change.
    pub version: i64,
}

impl From<InstructionRow> for Instruction {
    fn from(r: InstructionRow) -> Self {
        Instruction {
            id: r.id,
            org_id: r.org_id,
            org_name: r.org_name,
            org_code: r.org_code,
            submission_id: r.submission_id,
            receipt_no: r.receipt_no,
            item_key: r.item_key,
            location_id: r.location_id,
            problem: r.problem,
            required_change: r.required_change,
            due_date: r.due_date,
            state: r.state,
            extension_until: r.extension_until,
            issuer: r.issuer,
            created_at: r.created_at,
            version: r.version,
        }
    }
}

/// A request to submit (提出依頼).
#[derive(Debug, Serialize, ToSchema)]
pub struct SubmissionRequest {
    pub id: Uuid,
    pub org_id: Uuid,
    pub org_name: String,
    pub org_code: String,
    /// `inhouse_measures` or `gateway_logs`.
    pub item_key: String,
    pub location_id: Option<Uuid>,
    pub period_from: Option<NaiveDate>,
    pub period_to: Option<NaiveDate>,
    pub opens_on: Option<NaiveDate>,
    pub due_date: NaiveDate,
    pub note: String,
    pub state: String,
    /// Answered after the due date (期限後).
    pub answered_late: bool,
    /// The report that answered it, at its newest version (the revision of a returned
    /// answer), with its receipt number.
    pub submission_id: Option<Uuid>,
    pub receipt_no: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl From<RequestRow> for SubmissionRequest {
    fn from(r: RequestRow) -> Self {
        SubmissionRequest {
            id: r.id,
            org_id: r.org_id,
            org_name: r.org_name,
            org_code: r.org_code,
            item_key: r.item_key,
            location_id: r.location_id,
            period_from: r.period_from,
            period_to: r.period_to,
            opens_on: r.opens_on,
            due_date: r.due_date,
            note: r.note,
            state: r.state,
            answered_late: r.answered_late,
            submission_id: r.submission_id,
            receipt_no: r.receipt_no,
            created_at: r.created_at,
        }
    }
}

/// Instructions and requests.
#[derive(Debug, Serialize, ToSchema)]
pub struct FollowUp {
    pub instructions: Vec<Instruction>,
    pub requests: Vec<SubmissionRequest>,
}

impl From<followup::FollowUp> for FollowUp {
    fn from(f: followup::FollowUp) -> Self {
        FollowUp {
            instructions: f.instructions.into_iter().map(Into::into).collect(),
            requests: f.requests.into_iter().map(Into::into).collect(),
        }
    }
}

/// The organisation's instructions and requests, unclosed first.
#[utoipa::path(get, path = "/api/v1/followup", tag = "reports", operation_id = "org_followup",
    security(("token" = ["reports:read"])),
    responses(
        (status = 200, body = FollowUp),
    ))]
pub async fn org_followup(
    State(state): State<Arc<AppState>>,
    caller: Caller,
) -> ApiResult<Json<FollowUp>> {
    caller.require(TokenScope::ReportsRead)?;
    let Scope::Org(org) = caller.actor.scope() else {
        return Err(Error::Forbidden.into());
    };
    Ok(Json(
        followup::of_org(&state, &caller.actor, org).await?.into(),
    ))
}

/// A corrective-action report (是正報告) answering an instruction.
#[derive(Debug, Deserialize, ToSchema)]
pub struct AnswerBody {
    /// What was done.
    pub body: String,
    /// The instruction's `version` as read; absent: the current one.
    pub version: Option<i64>,
}

/// What a step on an instruction recorded.
#[derive(Debug, Serialize, ToSchema)]
pub struct StepDone {
    pub instruction: Uuid,
    pub event: Uuid,
}

/// Answers one of the organisation's open instructions (with files: `answer/files`).
#[utoipa::path(post, path = "/api/v1/instructions/{id}/answer", tag = "reports", operation_id = "answer_instruction",
    params(("id" = Uuid, Path, description = "The instruction"), super::IdempotencyKey),
    request_body = AnswerBody,
    security(("token" = ["reports:write"])),
    responses(
        (status = 201, body = StepDone),
        (status = 409, description = "Decided already, or not in a state that allows it", body = ProblemDoc, content_type = "application/problem+json"),
    ))]
pub async fn answer(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<Uuid>,
    Json(body): Json<AnswerBody>,
) -> ApiResult<(StatusCode, Json<StepDone>)> {
    caller.require(TokenScope::ReportsWrite)?;
    let Scope::Org(org) = caller.actor.scope() else {
        return Err(Error::Forbidden.into());
    };
    let done = followup::answer(
        &state,
        &caller.actor,
        org,
        id,
        followup::AnswerInput {
            version: body.version,
            body: body.body,
            files: Vec::new(),
        },
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(StepDone {
            instruction: done.instruction,
            event: done.event,
        }),
    ))
}

/// Every unclosed instruction and open request, by due date.
#[utoipa::path(get, path = "/api/v1/review/followup", tag = "review", operation_id = "center_followup",
    security(("token" = ["review:read"])),
    responses(
        (status = 200, body = FollowUp),
    ))]
pub async fn center_followup(
    State(state): State<Arc<AppState>>,
    caller: Caller,
) -> ApiResult<Json<FollowUp>> {
    caller.require(TokenScope::ReviewRead)?;
    Ok(Json(
        followup::of_center(&state, &caller.actor).await?.into(),
    ))
}

/// An instruction to issue.
#[derive(Debug, Deserialize, ToSchema)]
pub struct InstructionBody {
    /// The submission it follows from, if any (of the same organisation).
    pub submission: Option<Uuid>,
    /// The checklist item's key.
    pub item_key: String,
    pub location: Option<Uuid>,
    pub problem: String,
    pub required_change: String,
    /// `YYYY-MM-DD`, today or later.
    pub due_date: String,
}

/// What was issued.
#[derive(Debug, Serialize, ToSchema)]
pub struct Created {
    pub id: Uuid,
}

/// Issues an improvement instruction to an organisation; it is notified.
#[utoipa::path(post, path = "/api/v1/orgs/{org}/instructions", tag = "review", operation_id = "issue_instruction",
    params(("org" = Uuid, Path, description = "The organisation"), super::IdempotencyKey),
    request_body = InstructionBody,
    security(("token" = ["review:write"])),
    responses(
        (status = 201, body = Created),
    ))]
pub async fn issue_instruction(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(org): Path<Uuid>,
    Json(b): Json<InstructionBody>,
) -> ApiResult<(StatusCode, Json<Created>)> {
    caller.require(TokenScope::ReviewWrite)?;
    let input = followup::InstructionInput {
        submission: b.submission,
        item_key: b.item_key,
        location: b.location,
        problem: b.problem,
        required_change: b.required_change,
        due_date: b.due_date,
        // Repeats are the Idempotency-Key's to answer.
        key: None,
    };
    let issued = followup::issue(&state, &caller.actor, org, &input).await?;
    Ok((StatusCode::CREATED, Json(Created { id: issued.id })))
}

/// A request to submit item 5 or item 6.
#[derive(Debug, Deserialize, ToSchema)]
pub struct RequestBody {
    /// `inhouse_measures` or `gateway_logs`.
    pub item_key: String,
    /// The place that keeps the logs: a gateway site, or an office with a gateway
    /// connection (gateway logs only).
    pub location: Option<Uuid>,
    /// The period the logs cover (gateway logs only), `YYYY-MM-DD`.
    #[serde(default)]
    pub period_from: String,
    #[serde(default)]
    pub period_to: String,
    /// The day uploads open, `YYYY-MM-DD` (empty: at once).
    #[serde(default)]
    pub opens_on: String,
    /// `YYYY-MM-DD`, today or later.
    pub due_date: String,
    #[serde(default)]
    pub note: String,
}

/// Requests item 5 (in-house measures) or item 6 (gateway logs) of an organisation.
#[utoipa::path(post, path = "/api/v1/orgs/{org}/requests", tag = "review", operation_id = "issue_request",
    params(("org" = Uuid, Path, description = "The organisation"), super::IdempotencyKey),
    request_body = RequestBody,
    security(("token" = ["review:write"])),
    responses(
        (status = 201, body = Created),
        (status = 409, description = "Decided already, or not in a state that allows it", body = ProblemDoc, content_type = "application/problem+json"),
    ))]
pub async fn issue_request(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(org): Path<Uuid>,
    Json(b): Json<RequestBody>,
) -> ApiResult<(StatusCode, Json<Created>)> {
    caller.require(TokenScope::ReviewWrite)?;
    let input = followup::RequestInput {
        item_key: b.item_key,
        location: b.location,
        period_from: b.period_from,
        period_to: b.period_to,
        opens_on: b.opens_on,
        due_date: b.due_date,
        note: b.note,
        // Repeats are the Idempotency-Key's to answer.
        key: None,
    };
    let id = followup::issue_request(&state, &caller.actor, org, &input).await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

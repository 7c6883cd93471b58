//! Follow-up steps on `/api/v1` beyond issuing and answering: the organisation answers with
//! files (streamed) and asks for an extension; the Center grants or refuses it, closes or
//! reopens an instruction, and withdraws a request. Each handler calls the use case the page
//! calls (same checks, audit entry and notice).

use std::sync::Arc;

use axum::Json;
use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::followup::StepDone;
use super::problem::{ApiError, ApiResult, ProblemDoc};
use crate::app::tokens::Caller;
use crate::app::{Error, followup};
use crate::domain::{Scope, TokenScope};
use crate::files::UploadError;
use crate::web::AppState;

/// The organisation a token acts for on its own follow-up (Center tokens: 403).
fn org_of(caller: &Caller) -> Result<Uuid, Error> {
    caller.require(TokenScope::ReportsWrite)?;
    match caller.actor.scope() {
        Scope::Org(org) => Ok(org),
        _ => Err(Error::Forbidden),
    }
}

fn stepped(s: followup::Stepped) -> (StatusCode, Json<StepDone>) {
    (
        StatusCode::CREATED,
        Json(StepDone {
            instruction: s.instruction,
            event: s.event,
        }),
    )
}

/// A corrective-action report with files, as `multipart/form-data`.
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct AnswerForm {
    /// The instruction's `version` as read (absent: the current one).
    version: Option<i64>,
    /// What was done (required).
    body: String,
    /// One part per file (PDF, images, office documents, CSV, text, ZIP; the page's limits).
    #[schema(value_type = Vec<String>, format = Binary)]
    files: Vec<Vec<u8>>,
}

/// Answers one of the organisation's open instructions with a corrective-action report and
/// its files. The parts are `version` and `body`, then `files` (one part each); each file is
/// stored as it arrives and checked like on the page. A refused file: 422, nothing recorded.
#[utoipa::path(post, path = "/api/v1/instructions/{id}/answer/files", tag = "reports", operation_id = "answer_instruction_with_files",
    params(("id" = Uuid, Path, description = "The instruction"), super::IdempotencyKey),
    request_body(content = AnswerForm, content_type = "multipart/form-data"),
    security(("token" = ["reports:write"])),
    responses(
        (status = 201, body = StepDone),
        (status = 409, description = "The instruction changed or is not open", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 507, description = "The file store is full: nothing was recorded", body = ProblemDoc, content_type = "application/problem+json"),
    ))]
pub async fn answer_with_files(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<Uuid>,
    mut form: Multipart,
) -> ApiResult<(StatusCode, Json<StepDone>)> {
    let org = org_of(&caller)?;
    // Another organisation's instruction is not found before any byte is stored.
    followup::org_side(&state, &caller.actor, org, id).await?;
    let bad = |e: axum::extract::multipart::MultipartError| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::App(Error::TooLarge)
        } else {
            ApiError::BadRequest(e.body_text())
        }
    };
    let mut input = followup::AnswerInput::default();
    while let Some(field) = form.next_field().await.map_err(bad)? {
        match field.name() {
            Some("version") => {
                let v = field.text().await.map_err(bad)?;
                input.version =
                    Some(v.trim().parse().map_err(|_| {
                        ApiError::BadRequest("version is not a whole number".into())
                    })?);
            }
            Some("body") => input.body = field.text().await.map_err(bad)?,
            Some("files") => {
                let Some(name) = field.file_name().map(str::to_string) else {
                    return Err(Error::field("files", "error.required").into());
                };
                if input.files.len() >= state.files.max_files {
                    return Err(Error::Conflict("error.api_too_many_files").into());
                }
                match state.files.receive(&name, Box::pin(field)).await {
                    Ok(s) => {
                        state.metrics.uploaded(s.size);
                        input.files.push(s);
                    }
                    Err(UploadError::TooLarge) => return Err(Error::TooLarge.into()),
                    Err(UploadError::Refused(r)) => {
                        let n = input.files.len();
                        return Err(Error::field(&format!("files.{n}"), r.0).into());
                    }
                    Err(UploadError::Log(_)) => {
                        return Err(Error::field("files", "error.api_log_refused").into());
                    }
                    Err(UploadError::Interrupted(_)) => {
                        return Err(ApiError::BadRequest(
                            "the body ended before the file did".into(),
                        ));
                    }
                    Err(UploadError::Io(e)) => return Err(Error::Internal(e).into()),
                }
            }
            _ => {}
        }
    }
    let done = followup::answer(&state, &caller.actor, org, id, input).await?;
    Ok(stepped(done))
}

/// More time asked for an open instruction.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ExtensionBody {
    /// The instruction's `version` as read.
    pub version: i64,
    /// The new due date asked for, `YYYY-MM-DD`, after the current one.
    pub until: String,
    /// Why (required).
    pub reason: String,
}

/// Asks the Center for more time on one of the organisation's open instructions (one request
/// at a time). The issuer is notified.
#[utoipa::path(post, path = "/api/v1/instructions/{id}/extension", tag = "reports", operation_id = "ask_extension",
    params(("id" = Uuid, Path, description = "The instruction"), super::IdempotencyKey),
    request_body = ExtensionBody,
    security(("token" = ["reports:write"])),
    responses(
        (status = 201, body = StepDone),
    ))]
pub async fn ask_extension(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<Uuid>,
    Json(b): Json<ExtensionBody>,
) -> ApiResult<(StatusCode, Json<StepDone>)> {
    let org = org_of(&caller)?;
    let input = followup::ExtensionInput {
        version: b.version,
        until: b.until,
        reason: b.reason,
    };
    let done = followup::ask_extension(&state, &caller.actor, org, id, &input).await?;
    Ok(stepped(done))
}

/// What the Center decides on an instruction.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Grant the extension asked for (`date`: the new due date).
    Grant,
    /// Refuse the extension.
    Refuse,
    /// Satisfied with the answer: close it.
    Close,
    /// Not satisfied after all: reopen it (`reason` required, `date` optional).
    Reopen,
}

impl From<Action> for followup::InstructionAction {
    fn from(a: Action) -> Self {
        match a {
            Action::Grant => followup::InstructionAction::Grant,
            Action::Refuse => followup::InstructionAction::Refuse,
            Action::Close => followup::InstructionAction::Close,
            Action::Reopen => followup::InstructionAction::Reopen,
        }
    }
}

/// A decision on an instruction.
#[derive(Debug, Deserialize, ToSchema)]
pub struct DecisionBody {
    /// The instruction's `version` as read.
    pub version: i64,
    pub action: Action,
    /// `YYYY-MM-DD`: the new due date (grant: required; reopen: optional).
    #[serde(default)]
    pub date: String,
    /// Why (required to reopen).
    #[serde(default)]
    pub reason: String,
}

/// Grants or refuses an extension, closes an instruction, or reopens it. The organisation is
/// notified.
#[utoipa::path(post, path = "/api/v1/orgs/{org}/instructions/{id}/decision", tag = "review", operation_id = "decide_instruction",
    params(("org" = Uuid, Path, description = "The organisation"), ("id" = Uuid, Path, description = "The instruction"), super::IdempotencyKey),
    request_body = DecisionBody,
    security(("token" = ["review:write"])),
    responses(
        (status = 201, body = StepDone),
    ))]
pub async fn decide_instruction(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path((org, id)): Path<(Uuid, Uuid)>,
    Json(b): Json<DecisionBody>,
) -> ApiResult<(StatusCode, Json<StepDone>)> {
    caller.require(TokenScope::ReviewWrite)?;
    let input = followup::StepInput {
        version: b.version,
        action: Some(b.action.into()),
        date: b.date,
        reason: b.reason,
    };
    let done = followup::decide(&state, &caller.actor, org, id, &input).await?;
    Ok(stepped(done))
}

/// A request withdrawn.
#[derive(Debug, Serialize, ToSchema)]
pub struct Withdrawn {
    pub request: Uuid,
    /// Always `withdrawn`.
    pub state: String,
}

/// Withdraws an open request (one answered or withdrawn meanwhile: 409).
#[utoipa::path(post, path = "/api/v1/orgs/{org}/requests/{id}/withdraw", tag = "review", operation_id = "withdraw_request",
    params(("org" = Uuid, Path, description = "The organisation"), ("id" = Uuid, Path, description = "The request"), super::IdempotencyKey),
    security(("token" = ["review:write"])),
    responses(
        (status = 200, body = Withdrawn),
    ))]
pub async fn withdraw_request(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path((org, id)): Path<(Uuid, Uuid)>,
) -> ApiResult<Json<Withdrawn>> {
    caller.require(TokenScope::ReviewWrite)?;
    followup::withdraw_request(&state, &caller.actor, org, id, "").await?;
    Ok(Json(Withdrawn {
        request: id,
        state: "withdrawn".into(),
    }))
}

//! The comment thread of a sealed submission on `/api/v1`, from both sides: the organisation
//! on its own submissions, the Center on any. Posting calls `app::review::comment`, the use
//! case the pages call (audit entry, the other side notified).

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::problem::ApiResult;
use crate::app::submissions::reads;
use crate::app::tokens::Caller;
use crate::app::{self, Error};
use crate::domain::{Scope, TokenScope};
use crate::web::AppState;

/// A comment as read.
#[derive(Debug, Serialize, ToSchema)]
pub struct CommentOut {
    /// The author's name.
    pub author: String,
    /// Written by Center staff (otherwise by the organisation).
    pub center: bool,
    pub body: String,
    pub at: DateTime<Utc>,
}

fn out(list: Vec<app::review::Comment>) -> Vec<CommentOut> {
    list.into_iter()
        .map(|c| CommentOut {
            author: c.author,
            center: c.center,
            body: c.body,
            at: c.at,
        })
        .collect()
}

/// A comment to post.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CommentBody {
    /// 1 to 4,000 characters.
    pub body: String,
}

/// What was posted.
#[derive(Debug, Serialize, ToSchema)]
pub struct Commented {
    pub submission: Uuid,
    /// The thread after the comment, oldest first.
    pub comments: Vec<CommentOut>,
}

/// The organisation a token reports for (Center tokens: 403).
fn own_org(caller: &Caller, scope: TokenScope) -> Result<Uuid, Error> {
    caller.require(scope)?;
    match caller.actor.scope() {
        Scope::Org(org) => Ok(org),
        _ => Err(Error::Forbidden),
    }
}

/// The comment thread of one of the organisation's submissions, oldest first.
#[utoipa::path(get, path = "/api/v1/submissions/{id}/comments", tag = "reports", operation_id = "org_comments",
    params(("id" = Uuid, Path, description = "The submission")),
    security(("token" = ["reports:read"])),
    responses((status = 200, body = Vec<CommentOut>)))]
pub async fn org_comments(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<Vec<CommentOut>>> {
    let org = own_org(&caller, TokenScope::ReportsRead)?;
    reads::submission(&state, &caller.actor, org, id).await?;
    Ok(Json(out(app::review::comments(
        &state,
        Scope::Org(org),
        id,
    )
    .await?)))
}

/// Comments on one of the organisation's submitted reports; the reviewer who took it is
/// notified.
#[utoipa::path(post, path = "/api/v1/submissions/{id}/comments", tag = "reports", operation_id = "org_comment",
    params(("id" = Uuid, Path, description = "The submission"), super::IdempotencyKey),
    request_body = CommentBody,
    security(("token" = ["reports:write"])),
    responses((status = 201, body = Commented)))]
pub async fn org_comment(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<Uuid>,
    Json(b): Json<CommentBody>,
) -> ApiResult<(StatusCode, Json<Commented>)> {
    let org = own_org(&caller, TokenScope::ReportsWrite)?;
    app::review::comment(&state, &caller.actor, Some(org), id, &b.body).await?;
    let comments = out(app::review::comments(&state, Scope::Org(org), id).await?);
    Ok((
        StatusCode::CREATED,
        Json(Commented {
            submission: id,
            comments,
        }),
    ))
}

/// The comment thread of a submitted report, oldest first (Center).
#[utoipa::path(get, path = "/api/v1/review/submissions/{id}/comments", tag = "review", operation_id = "center_comments",
    params(("id" = Uuid, Path, description = "The submission")),
    security(("token" = ["review:read"])),
    responses((status = 200, body = Vec<CommentOut>)))]
pub async fn center_comments(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<Vec<CommentOut>>> {
    caller.require(TokenScope::ReviewRead)?;
    let s = app::review::sealed(&state, &caller.actor, id).await?;
    Ok(Json(out(s.comments)))
}

/// Comments on a submitted report (Center); the organisation is notified.
#[utoipa::path(post, path = "/api/v1/review/submissions/{id}/comments", tag = "review", operation_id = "center_comment",
    params(("id" = Uuid, Path, description = "The submission"), super::IdempotencyKey),
    request_body = CommentBody,
    security(("token" = ["review:write"])),
    responses((status = 201, body = Commented)))]
pub async fn center_comment(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<Uuid>,
    Json(b): Json<CommentBody>,
) -> ApiResult<(StatusCode, Json<Commented>)> {
    caller.require(TokenScope::ReviewWrite)?;
    if !caller.actor.role.is_center() {
        return Err(Error::Forbidden.into());
    }
    app::review::comment(&state, &caller.actor, None, id, &b.body).await?;
    let comments = app::review::sealed(&state, &caller.actor, id)
        .await?
        .comments;
    Ok((
        StatusCode::CREATED,
        Json(Commented {
            submission: id,
            comments: out(comments),
        }),
    ))
}

//! The organisation's side of review: revising a returned submission as version N+1, and
//! commenting under a sealed one (the receipt page shows the thread).

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use uuid::Uuid;

use super::show::{CommentForm, comment_refusal};
use crate::app::{self, review::Revision};
use crate::web::ctx::{CsrfForm, Ctx, CurrentUser};
use crate::web::error::{AppError, AppResult};
use crate::web::forms::Nothing;
use crate::web::html::common::comments::draft_page;
use crate::web::page::{redirect_with_flash, render};
use crate::web::state::AppState;

/// `POST /orgs/{org}/submissions/{id}/revise`: opens version N+1 of a returned submission.
pub async fn revise(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Path((org_id, id)): Path<(Uuid, Uuid)>,
    CsrfForm(_): CsrfForm<Nothing>,
) -> AppResult<Response> {
    let done = app::review::revise(&state, &me.actor(&ctx), org_id, id).await?;
    let page = match (done.kind.as_str(), done.location) {
        ("gateway_logs", Some(site)) => format!("locations/{site}/gateway-logs"),
        (kind, _) => draft_page(kind).ok_or(AppError::NotFound)?.to_string(),
    };
    let flash = match done.revision {
        // A repeated click lands on the version the first one opened.
        Revision::Opened(_) | Revision::Already(_) => "flash.revising",
        Revision::DraftOpen(_) => "flash.draft_already_open",
    };
    Ok(redirect_with_flash(
        &format!("/orgs/{org_id}/{page}"),
        flash,
        state.cookies.secure,
    ))
}

/// `POST /orgs/{org}/submissions/{id}/comments`
pub async fn comment_org(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Path((org_id, id)): Path<(Uuid, Uuid)>,
    CsrfForm(form): CsrfForm<CommentForm>,
) -> AppResult<Response> {
    let actor = me.actor(&ctx);
    if let Err(e) = app::review::comment(&state, &actor, Some(org_id), id, &form.body).await {
        let Some(key) = comment_refusal(&e) else {
            return Err(e.into());
        };
        // The receipt page, where the organisation's thread is.
        let mut view = crate::web::submissions::receipt_view(&state, &ctx, &me, org_id, id).await?;
        view.comment_box.draft = form.body;
        view.comment_box.error = Some(key);
        return render(StatusCode::UNPROCESSABLE_ENTITY, &view);
    }
    Ok(redirect_with_flash(
        &format!("/orgs/{org_id}/submissions/{id}/receipt#comments"),
        "flash.commented",
        state.cookies.secure,
    ))
}

//! The organisation's side of review: commenting under a sealed submission (the receipt page
//! shows the thread). Revising a returned one is in `submissions`.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use uuid::Uuid;

use super::show::{CommentForm, comment_refusal};
use crate::app;
use crate::web::ctx::{CsrfForm, Ctx, CurrentUser};
use crate::web::error::AppResult;
use crate::web::page::{redirect_with_flash, render};
use crate::web::state::AppState;

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
        let mut view =
            crate::web::html::submissions::receipt::receipt_view(&state, &ctx, &me, org_id, id)
                .await?;
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

//! A draft's files: removing one, and downloading or previewing any stored file of the
//! organisation (its own users and Center staff only).

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::response::Response;
use uuid::Uuid;

use crate::app;
use crate::web::ctx::{CsrfForm, Ctx, CurrentUser};
use crate::web::error::{AppError, AppResult};
use crate::web::forms::Nothing;
use crate::web::html::common::draft_path;
use crate::web::html::common::files::{Served, previewable, send_file};
use crate::web::page::redirect_with_flash;
use crate::web::state::AppState;

/// `POST /orgs/{org}/files/{id}/remove`: only from a draft.
pub async fn remove_file(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Path((org_id, id)): Path<(Uuid, Uuid)>,
    CsrfForm(_): CsrfForm<Nothing>,
) -> AppResult<Response> {
    let removed =
        app::submissions::upload::remove_file(&state, &me.actor(&ctx), org_id, id).await?;
    // Back to the page the file was listed on (a gateway site's log page included).
    let back = removed
        .place
        .map(|p| draft_path(&p))
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| "system-configuration".to_string());
    Ok(redirect_with_flash(
        &format!("/orgs/{org_id}/{back}"),
        "flash.file_removed_from_draft",
        state.cookies.secure,
    ))
}

/// `GET /files/{id}`: the owning organisation and Center staff only; always an attachment.
pub async fn download(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Path(id): Path<Uuid>,
) -> AppResult<Response> {
    let file = app::submissions::forms::file(&state, &me.actor(&ctx), id).await?;
    send_file(&state, &ctx, &me, Served::from(&file), false).await
}

/// `GET /files/{id}/preview`: a PDF or image shown inside the review page (same access as
/// the download; anything else 404).
pub async fn preview(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Path(id): Path<Uuid>,
) -> AppResult<Response> {
    let file = Some(app::submissions::forms::file(&state, &me.actor(&ctx), id).await?)
        .filter(|f| previewable(&f.mime))
        .ok_or(AppError::NotFound)?;
    send_file(&state, &ctx, &me, Served::from(&file), true).await
}

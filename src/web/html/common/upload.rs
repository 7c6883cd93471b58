//! The page side of uploads: reading a multipart form file by file into
//! [`app::submissions::upload::upload`], and the messages of files that were not kept.

use axum::extract::Multipart;
use axum::http::StatusCode;
use axum::response::Response;

use super::logcheck;
use crate::app;
use crate::app::submissions::Place;
use crate::app::submissions::upload::{UploadFailure, UploadInput};
use crate::web::ctx::{Ctx, CurrentUser, check_multipart_token, expect_field};
use crate::web::error::{AppError, AppResult};
use crate::web::page::redirect_with_flash;
use crate::web::state::AppState;

/// Why an upload form is shown again, and with which status.
pub struct Problems {
    /// 422 for the sender's mistakes; 507 when the server ran out of space.
    pub status: StatusCode,
    pub list: Vec<String>,
}

/// A file name as messages show it: no control characters, at most 80 characters.
fn shown(raw: &str) -> String {
    raw.chars().filter(|c| !c.is_control()).take(80).collect()
}

/// Reads a multipart upload (`csrf_token`, `role`, then `files`) into the open draft of the
/// place (created if needed). Answers the redirect back to the form's page (`back`) when
/// files were added, or else the problems for the caller to show on that page. A full disk
/// stops the upload with 507 and says which files were kept and which were not.
pub async fn receive_files(
    state: &AppState,
    ctx: &Ctx,
    me: &CurrentUser,
    place: Place,
    mut form: Multipart,
    back: &str,
) -> AppResult<Result<Response, Problems>> {
    let actor = me.actor(ctx);
    state
        .bounded(async { Ok(app::submissions::reporting_org(state, &actor, place.org).await?) })
        .await?;
    check_multipart_token(&mut form, me).await?;
    let role = expect_field(&mut form, "role")
        .await?
        .text()
        .await
        .map_err(|_| AppError::BadRequest)?;
    if !place.kind.file_roles().contains(&role.as_str()) {
        return Err(AppError::BadRequest);
    }
    let t = ctx.tr();
    let mut problems = vec![];
    let mut kept: Vec<String> = vec![];
    let mut status = StatusCode::UNPROCESSABLE_ENTITY;
    // A gateway log whose columns wait for the site's mapping.
    let mut to_map = false;
    while let Some(mut field) = form.next_field().await.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            AppError::TooLarge
        } else {
            AppError::BadRequest
        }
    })? {
        let Some(raw_name) = field.file_name().map(str::to_string) else {
            continue;
        };
        if raw_name.is_empty() {
            continue;
        }
        let name = shown(&raw_name);
        let input = UploadInput {
            place,
            role: role.clone(),
            name: raw_name,
        };
        match app::submissions::upload::upload(state, &actor, input, Box::pin(&mut field)).await {
            Ok(uploaded) => {
                state.metrics.uploaded(uploaded.size);
                to_map |= uploaded.needs_mapping;
                kept.push(uploaded.name);
            }
            Err(UploadFailure::TooMany { max }) => {
                problems.push(t.f(
                    "upload.too_many",
                    &[("name", &name), ("max", &max.to_string())],
                ));
                break;
            }
            Err(UploadFailure::Refused(key)) => {
                problems.push(t.f("upload.refused", &[("name", &name), ("reason", t.t(key))]))
            }
            Err(UploadFailure::Log(r)) => problems.push(t.f(
                "upload.refused",
                &[("name", &name), ("reason", &logcheck::refusal(&t, &r))],
            )),
            Err(UploadFailure::NotOpen { opens, due }) => {
                problems.push(t.f(
                    "gwlog.not_open",
                    &[("opens", &opens.to_string()), ("due", &due.to_string())],
                ));
                break;
            }
            Err(UploadFailure::DiskFull) => {
                drop(field);
                let mut lost = vec![name];
                lost.extend(drain_file_names(&mut form).await);
                status = StatusCode::INSUFFICIENT_STORAGE;
                problems.push(t.f(
                    "upload.disk_full",
                    &[("names", &lost.join(t.t("ui.list_sep")))],
                ));
                problems.push(if kept.is_empty() {
                    t.t("upload.none_kept").to_string()
                } else {
                    t.f("upload.kept", &[("names", &kept.join(t.t("ui.list_sep")))])
                });
                break;
            }
            Err(UploadFailure::Interrupted) => return Err(AppError::BadRequest),
            Err(UploadFailure::Failed(e)) => return Err(e.into()),
        }
    }
    if problems.is_empty() && kept.is_empty() {
        problems.push(t.t("upload.none").to_string());
    }
    if problems.is_empty() {
        return Ok(Ok(redirect_with_flash(
            back,
            if to_map {
                "flash.uploaded_to_map"
            } else {
                "flash.uploaded"
            },
            state.cookies.secure,
        )));
    }
    Ok(Err(Problems {
        status,
        list: problems,
    }))
}

/// The names of the files still to come in a multipart body, read past without storing
/// them (so the sender can be told which files were not kept).
async fn drain_file_names(form: &mut Multipart) -> Vec<String> {
    let mut names = vec![];
    while let Ok(Some(mut field)) = form.next_field().await {
        if let Some(name) = field.file_name().filter(|n| !n.is_empty()) {
            names.push(shown(name));
        }
        while let Ok(Some(_)) = field.chunk().await {}
    }
    names
}

/// Reads a small CSV upload (multipart: `csrf_token` first, then `file`) into memory; the
/// route's body limit caps it.
pub async fn read_csv_upload(form: &mut Multipart, me: &CurrentUser) -> AppResult<bytes::Bytes> {
    check_multipart_token(form, me).await?;
    expect_field(form, "file")
        .await?
        .bytes()
        .await
        .map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                AppError::TooLarge
            } else {
                AppError::BadRequest
            }
        })
}

//! ログインのロック解除: asking for an unlock link by mail when sign-in is throttled, and
//! using it (a page with a button: a mail scanner that opens the link unlocks nothing). The
//! use cases are `app::unlock`.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use crate::app::{self, unlock::Asked};
use crate::web::ctx::{CsrfForm, Ctx};
use crate::web::error::{AppError, AppResult};
use crate::web::html::common::ask_link::{self, Asking};
use crate::web::page::{Page, redirect_with_flash, render};
use crate::web::state::AppState;

/// `GET /login/unlock`
pub async fn ask_page(ctx: Ctx) -> AppResult<Response> {
    ask_link::form(&ctx, Asking::Unlock)
}

#[derive(Deserialize)]
pub struct AskForm {
    #[serde(default)]
    email: String,
}

/// `POST /login/unlock`: the same answer whether or not the address is known.
pub async fn ask(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    CsrfForm(form): CsrfForm<AskForm>,
) -> AppResult<Response> {
    let outcome = app::unlock::request(&state.app, &ctx.ip, &form.email)
        .await
        .map(|a| a == Asked::Taken);
    ask_link::answer(
        &ctx,
        Asking::Unlock,
        outcome,
        form.email,
        app::unlock::WINDOW_MINUTES,
    )
}

#[derive(Template)]
#[template(path = "auth/unlock_confirm.html")]
struct ConfirmView {
    page: Page,
    token: String,
}

#[derive(Deserialize, Default)]
pub struct TokenForm {
    #[serde(default)]
    token: String,
}

/// `GET /login/unlock/confirm?token=…`: the button, while the link is live.
pub async fn confirm_page(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    Query(q): Query<TokenForm>,
) -> AppResult<Response> {
    if !app::unlock::live(&state, &q.token).await? {
        return Err(AppError::LinkGone);
    }
    let mut page = Page::new(&ctx, None);
    page.path = format!(
        "/login/unlock/confirm?{}",
        url::form_urlencoded::Serializer::new(String::new())
            .append_pair("token", &q.token)
            .finish()
    );
    render(
        StatusCode::OK,
        &ConfirmView {
            page,
            token: q.token,
        },
    )
}

/// `POST /login/unlock/confirm`: unlocks, then on to the sign-in page.
pub async fn confirm(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    CsrfForm(form): CsrfForm<TokenForm>,
) -> AppResult<Response> {
    match app::unlock::unlock(&state, &ctx.ip, &form.token).await? {
        Some(()) => Ok(redirect_with_flash(
            "/login",
            "flash.unlocked",
            state.cookies.secure,
        )),
        None => Err(AppError::LinkGone),
    }
}

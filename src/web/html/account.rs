//! アカウント: one's own sessions (device, address, last seen; end one or all others) and
//! password change (the current password first; other sessions end; a mail says it happened).

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;

use crate::app::{self, account::NameInput, account::PasswordInput};
use crate::web::ctx::{CsrfForm, Ctx, CurrentUser};
use crate::web::error::{AppError, AppResult};
use crate::web::forms::{FieldErrors, Nothing};
use crate::web::page::{Page, jst, redirect_with_flash, render};
use crate::web::state::AppState;

/// One session as listed.
pub struct SessionItem {
    /// The session's handle in forms: the hex of its token's hash (never the token).
    pub handle: String,
    pub device: String,
    pub ip: String,
    pub signed_in: String,
    pub last_seen: String,
    pub current: bool,
}

#[derive(Template)]
#[template(path = "auth/account.html")]
struct AccountView {
    page: Page,
    sessions: Vec<SessionItem>,
    errors: FieldErrors,
    /// The name in its field: as typed when refused, else the account's.
    name: String,
    /// Whether a second factor is switched on.
    second_factor_on: bool,
}

/// "Browser / system" from a User-Agent, in the names people know; empty when unknown.
pub fn device(user_agent: &str) -> String {
    let ua = user_agent;
    let browser = if ua.contains("Edg/") {
        "Edge"
    } else if ua.contains("Firefox/") {
        "Firefox"
    } else if ua.contains("Chrome/") || ua.contains("Chromium/") {
        "Chrome"
    } else if ua.contains("Safari/") {
        "Safari"
    } else {
        ""
    };
    let system = if ua.contains("Windows") {
        "Windows"
    } else if ua.contains("iPhone") || ua.contains("iPad") {
        "iOS"
    } else if ua.contains("Mac OS X") || ua.contains("Macintosh") {
        "macOS"
    } else if ua.contains("Android") {
        "Android"
    } else if ua.contains("Linux") {
        "Linux"
    } else {
        ""
    };
    match (browser, system) {
        ("", "") => String::new(),
        (b, "") => b.to_string(),
        ("", s) => s.to_string(),
        (b, s) => format!("{b} / {s}"),
    }
}

async fn view(
    state: &AppState,
    ctx: &Ctx,
    me: &CurrentUser,
    errors: FieldErrors,
    name: Option<String>,
) -> AppResult<AccountView> {
    let t = ctx.tr();
    let account = app::account::account(state, &me.actor(ctx)).await?;
    let sessions = account
        .sessions
        .into_iter()
        .map(|s| {
            let device = device(&s.user_agent);
            SessionItem {
                current: s.token_hash == me.token_hash,
                handle: hex::encode(&s.token_hash),
                device: if device.is_empty() {
                    t.t("account.device_unknown").to_string()
                } else {
                    device
                },
                ip: s.ip,
                signed_in: jst(&s.created_at),
                last_seen: jst(&s.last_seen_at),
            }
        })
        .collect();
    let second_factor_on = account.second_factor_on;
    Ok(AccountView {
        page: Page::new(ctx, Some(me)),
        sessions,
        errors,
        name: name.unwrap_or_else(|| me.name.clone()),
        second_factor_on,
    })
}

/// `GET /account`
pub async fn page(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
) -> AppResult<Response> {
    render(
        StatusCode::OK,
        &view(&state, &ctx, &me, FieldErrors::default(), None).await?,
    )
}

/// `POST /account/sessions/{handle}/end`: ends one of one's sessions (this one: signs out).
pub async fn end_session(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Path(handle): Path<String>,
    CsrfForm(_): CsrfForm<Nothing>,
) -> AppResult<Response> {
    let hash = hex::decode(&handle).map_err(|_| AppError::NotFound)?;
    if app::account::end_session(&state, &me.actor(&ctx), &me.token_hash, &hash).await? {
        return Ok(redirect_with_flash(
            "/login",
            "flash.logged_out",
            state.cookies.secure,
        ));
    }
    Ok(redirect_with_flash(
        "/account",
        "flash.session_ended",
        state.cookies.secure,
    ))
}

/// `POST /account/sessions/end-others`
pub async fn end_others(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    CsrfForm(_): CsrfForm<Nothing>,
) -> AppResult<Response> {
    app::account::end_others(&state, &me.actor(&ctx), &me.token_hash).await?;
    Ok(redirect_with_flash(
        "/account",
        "flash.sessions_ended",
        state.cookies.secure,
    ))
}

/// `POST /account/password`: the current password, then the new one twice. Wrong current
/// passwords count as failed sign-ins (the same throttle), so this form cannot be used to
/// guess the password of a session left open.
pub async fn change_password(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    CsrfForm(form): CsrfForm<PasswordInput>,
) -> AppResult<Response> {
    // Wrong current passwords count as failed sign-ins: past the limit, none is checked.
    crate::web::html::common::access::refuse_if_throttled(&state, &me.email, &ctx.ip).await?;
    match app::account::change_password(&state, &me.actor(&ctx), &me.token_hash, form).await {
        Ok(()) => Ok(redirect_with_flash(
            "/account",
            "flash.password_changed",
            state.cookies.secure,
        )),
        Err(app::Error::Invalid(errors)) => render(
            StatusCode::UNPROCESSABLE_ENTITY,
            &view(&state, &ctx, &me, errors, None).await?,
        ),
        Err(e) => Err(e.into()),
    }
}

/// `POST /account/name`: one's own name, as the screens and the Center's records show it.
pub async fn rename(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    CsrfForm(form): CsrfForm<NameInput>,
) -> AppResult<Response> {
    let typed = form.display_name.clone();
    match app::account::rename(&state, &me.actor(&ctx), form).await {
        Ok(changed) => Ok(redirect_with_flash(
            "/account",
            if changed {
                "flash.name_changed"
            } else {
                "flash.name_unchanged"
            },
            state.cookies.secure,
        )),
        Err(app::Error::Invalid(errors)) => render(
            StatusCode::UNPROCESSABLE_ENTITY,
            &view(&state, &ctx, &me, errors, Some(typed)).await?,
        ),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::device;

    #[test]
    fn devices_are_named_as_people_know_them() {
        assert_eq!(
            device(
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0"
            ),
            "Edge / Windows"
        );
        assert_eq!(
            device(
                "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1"
            ),
            "Safari / iOS"
        );
        assert_eq!(device("curl/8.5.0"), "");
    }
}

//! Sign-in, sign-out and the language switch.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Duration;
use serde::Deserialize;

use super::cookies;
use super::ctx::{CsrfForm, Ctx, CurrentUser, MaybeUser};
use super::error::{AppError, AppResult};
use super::forms::FieldErrors;
use super::page::{Page, redirect_with_flash, render, safe_next};
use super::state::AppState;
use crate::db::{self, audit::Entry};
use crate::domain::Email;
use crate::security;

/// Failures per account, and per client IP, within the window, before 429.
pub const MAX_PER_ACCOUNT: i64 = 5;
pub const MAX_PER_IP: i64 = 20;
pub const WINDOW_MINUTES: i64 = 15;

/// For a signed-in user re-entering a secret (current password, app code): 429 once this
/// account has failed from this address as often as a sign-in may.
pub async fn refuse_if_throttled(state: &AppState, email: &str, ip: &str) -> AppResult<()> {
    let since = db::now() - Duration::minutes(WINDOW_MINUTES);
    if db::throttle::since(&state.db, email, ip, since)
        .await?
        .by_pair
        >= MAX_PER_ACCOUNT
    {
        return Err(AppError::TooManyAttempts {
            wait_minutes: WINDOW_MINUTES,
        });
    }
    Ok(())
}

#[derive(Template)]
#[template(path = "auth/login.html")]
struct LoginView {
    page: Page,
    errors: FieldErrors,
    email: String,
    next: String,
}

#[derive(Deserialize, Default)]
pub struct NextQuery {
    #[serde(default)]
    next: String,
}

/// `GET /login`
pub async fn login_page(
    ctx: Ctx,
    MaybeUser(user): MaybeUser,
    Query(q): Query<NextQuery>,
) -> AppResult<Response> {
    if user.is_some() {
        return Ok(Redirect::to(safe_next(&q.next).unwrap_or("/home")).into_response());
    }
    let view = LoginView {
        page: Page::new(&ctx, None),
        errors: FieldErrors::default(),
        email: String::new(),
        next: q.next,
    };
    render(StatusCode::OK, &view)
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
}

fn anon_entry(ctx: &Ctx, action: &'static str, email: &str, reason: &str) -> Entry {
    Entry {
        actor_id: None,
        actor: email.to_string(),
        org_id: None,
        action,
        target: email.to_string(),
        ip: ctx.ip.clone(),
        detail: serde_json::json!({ "reason": reason }),
    }
}

/// `POST /login`
pub async fn login(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    MaybeUser(existing): MaybeUser,
    headers: axum::http::HeaderMap,
    CsrfForm(form): CsrfForm<LoginForm>,
) -> AppResult<Response> {
    let email = Email::parse(&form.email)
        .map(|e| e.as_str().to_string())
        .unwrap_or_else(|_| form.email.trim().to_lowercase());
    let email: String = email.chars().take(254).collect();
    let now = db::now();
    let window_start = now - Duration::minutes(WINDOW_MINUTES);
    let f = db::throttle::since(&state.db, &email, &ctx.ip, window_start).await?;
    // Refused per account *and* address, and per address: a stranger failing from other
    // addresses cannot lock the owner out; failures from many addresses slow each attempt.
    let oldest = if f.by_pair >= MAX_PER_ACCOUNT {
        f.oldest_pair
    } else if f.by_ip >= MAX_PER_IP {
        f.oldest_ip
    } else {
        None
    };
    if let Some(oldest) = oldest {
        let wait = (oldest + Duration::minutes(WINDOW_MINUTES) - now).num_minutes() + 1;
        db::audit::append_alone(
            &state.db,
            &anon_entry(&ctx, "login.throttled", &email, "too many failures"),
        )
        .await?;
        return Err(AppError::TooManyAttempts {
            wait_minutes: wait.max(1),
        });
    }

    if f.by_email >= MAX_PER_ACCOUNT * 2 {
        let extra = (f.by_email - MAX_PER_ACCOUNT * 2 + 1).min(12) as u64;
        tokio::time::sleep(std::time::Duration::from_millis(250 * extra)).await;
    }
    let user = db::users::by_email(&state.db, &email).await?;
    let stored = user
        .as_ref()
        .filter(|u| u.status == "active")
        .and_then(|u| u.password_hash.clone());
    let ok = security::verify_password(stored, form.password).await?;
    let Some(user) = user.filter(|_| ok) else {
        db::throttle::record(&state.db, &email, &ctx.ip).await?;
        db::audit::append_alone(
            &state.db,
            &anon_entry(&ctx, "login.failure", &email, "bad credentials"),
        )
        .await?;
        let mut errors = FieldErrors::default();
        errors.add("_form", "error.login_failed");
        let view = LoginView {
            page: Page::new(&ctx, None),
            errors,
            email: form.email,
            next: form.next,
        };
        return render(StatusCode::UNAUTHORIZED, &view);
    };

    if db::second_factor::totp(&state.db, user.id)
        .await?
        .is_some_and(|t| t.totp_enabled_at.is_some())
    {
        // The password was right; the session waits for the second factor. Until then the
        // browser holds only a short-lived pending token, which opens nothing.
        let token = security::random_token();
        db::second_factor::insert_pending(
            &state.db,
            &security::token_hash(&token),
            user.id,
            safe_next(&form.next).unwrap_or(""),
        )
        .await?;
        let mut res = Redirect::to("/login/second-factor").into_response();
        *res.status_mut() = StatusCode::SEE_OTHER;
        if let Some(c) = cookies::set(
            state.cookies.pending,
            &token,
            Some(PENDING_MINUTES * 60),
            state.cookies.secure,
        ) {
            res.headers_mut().append(header::SET_COOKIE, c);
        }
        return Ok(res);
    }
    db::throttle::clear_email(&state.db, &email).await?;
    let existing = existing.map(|u| u.token_hash);
    open_session(
        &state,
        &ctx,
        &headers,
        existing,
        &user,
        serde_json::Value::Null,
        &form.next,
    )
    .await
}

/// Opens a session for a user who has shown everything sign-in asks for, and answers the
/// redirect to where they were going.
async fn open_session(
    state: &AppState,
    ctx: &Ctx,
    headers: &axum::http::HeaderMap,
    existing: Option<Vec<u8>>,
    user: &db::users::UserRow,
    detail: serde_json::Value,
    next: &str,
) -> AppResult<Response> {
    // A fresh token on every sign-in: a token planted before sign-in is never promoted.
    let token = security::random_token();
    let hash = security::token_hash(&token);
    let mut tx = state.db.begin().await?;
    if let Some(old) = existing {
        db::sessions::delete(&mut tx, &old).await?;
    }
    let user_agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    db::sessions::insert(
        &mut tx,
        &hash,
        user.id,
        &security::random_token(),
        &ctx.ip,
        user_agent,
    )
    .await?;
    db::audit::append(
        &mut tx,
        &Entry {
            actor_id: Some(user.id),
            actor: user.email.clone(),
            org_id: user.org_id,
            action: "login.success",
            target: user.email.clone(),
            ip: ctx.ip.clone(),
            detail,
        },
    )
    .await?;
    tx.commit().await?;

    let to = safe_next(next)
        .filter(|n| !n.starts_with("/login"))
        .unwrap_or("/home");
    let mut res = Redirect::to(to).into_response();
    *res.status_mut() = StatusCode::SEE_OTHER;
    if let Some(c) = cookies::set(state.cookies.session, &token, None, state.cookies.secure) {
        res.headers_mut().append(header::SET_COOKIE, c);
    }
    Ok(res)
}

/// How long the second step of a sign-in may take.
pub const PENDING_MINUTES: i64 = 5;

#[derive(Template)]
#[template(path = "auth/second_factor.html")]
struct SecondStepView {
    page: Page,
    errors: FieldErrors,
}

/// The pending sign-in behind the browser's pending cookie, if it is still open.
async fn pending_of(
    state: &AppState,
    headers: &axum::http::HeaderMap,
) -> AppResult<Option<(Vec<u8>, db::second_factor::Pending)>> {
    let Some(token) = cookies::get(headers, state.cookies.pending) else {
        return Ok(None);
    };
    let hash = security::token_hash(&token);
    let Some(p) = db::second_factor::pending(&state.db, &hash).await? else {
        return Ok(None);
    };
    if db::now() - p.created_at > Duration::minutes(PENDING_MINUTES)
        || p.attempts >= MAX_PER_ACCOUNT
    {
        db::second_factor::delete_pending(&state.db, &hash).await?;
        return Ok(None);
    }
    Ok(Some((hash, p)))
}

/// Back to the password, the pending token dropped.
fn restart(state: &AppState) -> Response {
    let mut res = redirect_with_flash(
        "/login",
        "flash.second_factor_expired",
        state.cookies.secure,
    );
    if let Some(c) = cookies::set(state.cookies.pending, "", Some(0), state.cookies.secure) {
        res.headers_mut().append(header::SET_COOKIE, c);
    }
    res
}

/// `GET /login/second-factor`: the code from the authenticator app, or a recovery code.
pub async fn second_step_page(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    headers: axum::http::HeaderMap,
) -> AppResult<Response> {
    if pending_of(&state, &headers).await?.is_none() {
        return Ok(restart(&state));
    }
    let view = SecondStepView {
        page: Page::new(&ctx, None),
        errors: FieldErrors::default(),
    };
    render(StatusCode::OK, &view)
}

#[derive(Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    code: String,
}

/// `POST /login/second-factor`: wrong codes count as failed sign-ins (the same throttle per
/// account and address) and against the pending sign-in, which ends after five.
pub async fn second_step(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    MaybeUser(existing): MaybeUser,
    headers: axum::http::HeaderMap,
    CsrfForm(form): CsrfForm<CodeForm>,
) -> AppResult<Response> {
    let Some((pending_hash, pending)) = pending_of(&state, &headers).await? else {
        return Ok(restart(&state));
    };
    let user = db::users::get(&state.db, crate::domain::Scope::Center, pending.user_id)
        .await?
        .filter(|u| u.status == "active");
    let Some(user) = user else {
        db::second_factor::delete_pending(&state.db, &pending_hash).await?;
        return Ok(restart(&state));
    };
    let now = db::now();
    let f = db::throttle::since(
        &state.db,
        &user.email,
        &ctx.ip,
        now - Duration::minutes(WINDOW_MINUTES),
    )
    .await?;
    if f.by_pair >= MAX_PER_ACCOUNT || f.by_ip >= MAX_PER_IP {
        db::audit::append_alone(
            &state.db,
            &anon_entry(&ctx, "login.throttled", &user.email, "too many failures"),
        )
        .await?;
        return Err(AppError::TooManyAttempts {
            wait_minutes: WINDOW_MINUTES,
        });
    }
    let Some(shown) = db::second_factor::check(&state.db, user.id, &form.code).await? else {
        db::throttle::record(&state.db, &user.email, &ctx.ip).await?;
        db::second_factor::pending_failed(&state.db, &pending_hash).await?;
        db::audit::append_alone(
            &state.db,
            &anon_entry(
                &ctx,
                "login.second_factor_failure",
                &user.email,
                "wrong or used code",
            ),
        )
        .await?;
        let mut errors = FieldErrors::default();
        errors.add("code", "error.second_factor_wrong");
        let view = SecondStepView {
            page: Page::new(&ctx, None),
            errors,
        };
        return render(StatusCode::UNAUTHORIZED, &view);
    };
    db::second_factor::delete_pending(&state.db, &pending_hash).await?;
    db::throttle::clear_email(&state.db, &user.email).await?;
    if shown == db::second_factor::Shown::RecoveryCode {
        // The owner hears of it: a recovery code in someone else's hands is a way in.
        let left = db::second_factor::recovery_left(&state.db, user.id).await?;
        let state2 = state.clone();
        let args = vec![
            ("time", super::page::jst(&now)),
            ("ip", ctx.ip.clone()),
            ("left", left.to_string()),
            ("link", state.config.link("/account/second-factor")),
        ];
        let to = user.email.clone();
        tokio::spawn(async move {
            crate::app::send_logged(
                &state2,
                crate::mail::Outgoing::new(to, "mail.recovery_code_used", args),
            )
            .await;
        });
    }
    let mut res = open_session(
        &state,
        &ctx,
        &headers,
        existing.map(|u| u.token_hash),
        &user,
        serde_json::json!({ "second_factor": shown.as_str() }),
        &pending.next,
    )
    .await?;
    if let Some(c) = cookies::set(state.cookies.pending, "", Some(0), state.cookies.secure) {
        res.headers_mut().append(header::SET_COOKIE, c);
    }
    Ok(res)
}

#[derive(Deserialize)]
pub struct Empty {}

/// `POST /logout`: deletes the session server-side.
pub async fn logout(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    user: CurrentUser,
    CsrfForm(_): CsrfForm<Empty>,
) -> AppResult<Response> {
    let mut tx = state.db.begin().await?;
    db::sessions::delete(&mut tx, &user.token_hash).await?;
    db::audit::append(
        &mut tx,
        &user.audit(&ctx, "logout", None, user.email.clone()),
    )
    .await?;
    tx.commit().await?;
    let mut res = redirect_with_flash("/login", "flash.logged_out", state.cookies.secure);
    if let Some(c) = cookies::set(state.cookies.session, "", Some(0), state.cookies.secure) {
        res.headers_mut().append(header::SET_COOKIE, c);
    }
    Ok(res)
}

#[derive(Deserialize)]
pub struct LangForm {
    #[serde(default)]
    lang: String,
    #[serde(default)]
    next: String,
}

/// `POST /lang`: remembers the chosen language for a year.
pub async fn set_lang(
    State(state): State<Arc<AppState>>,
    CsrfForm(form): CsrfForm<LangForm>,
) -> AppResult<Response> {
    let lang = crate::i18n::Lang::from_code(&form.lang).ok_or(AppError::BadRequest)?;
    let to = safe_next(&form.next).unwrap_or("/");
    let mut res = StatusCode::SEE_OTHER.into_response();
    res.headers_mut().insert(
        header::LOCATION,
        HeaderValue::from_str(to).map_err(|_| AppError::BadRequest)?,
    );
    if let Some(c) = cookies::set(
        cookies::LANG,
        lang.code(),
        Some(365 * 24 * 3600),
        state.cookies.secure,
    ) {
        res.headers_mut().append(header::SET_COOKIE, c);
    }
    Ok(res)
}

/// `GET /`: home when signed in, otherwise the sign-in page.
pub async fn root(MaybeUser(user): MaybeUser) -> Redirect {
    if user.is_some() {
        Redirect::to("/home")
    } else {
        Redirect::to("/login")
    }
}

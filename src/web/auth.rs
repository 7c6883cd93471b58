//! Sign-in, sign-out and the language switch as HTTP: forms, cookies, redirects and pages.
//! The workflow (throttle, password, second step, session, audit) is `app::auth`.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::cookies;
use super::ctx::{CsrfForm, Ctx, CurrentUser, MaybeUser};
use super::error::{AppError, AppResult};
use super::forms::FieldErrors;
use super::page::{Page, redirect_with_flash, render, safe_next};
use super::state::AppState;
use crate::app::auth::{self, Client, Credentials, Outcome, PENDING_MINUTES, SignInError};
use crate::app::passkeys::{Answer, Ceremony};

/// The client of a sign-in: address, browser, and the session it already holds.
fn client(ctx: &Ctx, headers: &axum::http::HeaderMap, existing: Option<CurrentUser>) -> Client {
    Client {
        ip: ctx.ip.clone(),
        user_agent: headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string(),
        existing: existing.map(|u| u.token_hash),
    }
}

/// A step that did not go through, as the page answers it (`form`: the page to show again).
fn refused(
    e: SignInError,
    form: impl FnOnce(&'static str) -> AppResult<Response>,
) -> AppResult<Response> {
    match e {
        SignInError::BadCredentials | SignInError::WrongCode => form("error.login_failed"),
        SignInError::Disabled => form("error.login_disabled"),
        SignInError::Throttled { wait_minutes } => Err(AppError::TooManyAttempts { wait_minutes }),
        SignInError::PendingGone => Err(AppError::BadRequest),
        SignInError::App(e) => Err(e.into()),
    }
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
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    MaybeUser(user): MaybeUser,
    headers: axum::http::HeaderMap,
    Query(q): Query<NextQuery>,
) -> AppResult<Response> {
    if user.is_some() {
        return Ok(Redirect::to(safe_next(&q.next).unwrap_or("/home")).into_response());
    }
    // Just signed up or given a new password: the address is filled in, once.
    let email = cookies::login_email(&headers);
    let view = LoginView {
        page: Page::new(&ctx, None),
        errors: FieldErrors::default(),
        email: email.clone().unwrap_or_default(),
        next: q.next,
    };
    let mut res = render(StatusCode::OK, &view)?;
    if email.is_some()
        && let Some(c) = cookies::set(cookies::LOGIN_EMAIL, "", Some(0), state.cookies.secure)
    {
        res.headers_mut().append(header::SET_COOKIE, c);
    }
    Ok(res)
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

/// `POST /login`
pub async fn login(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    MaybeUser(existing): MaybeUser,
    headers: axum::http::HeaderMap,
    CsrfForm(form): CsrfForm<LoginForm>,
) -> AppResult<Response> {
    let credentials = Credentials {
        email: form.email.clone(),
        password: form.password,
        next: safe_next(&form.next).unwrap_or("").to_string(),
    };
    let client = client(&ctx, &headers, existing);
    match auth::sign_in(&state, credentials, client).await {
        Ok(Outcome::SignedIn(session)) => Ok(signed_in(&state, session)),
        Ok(Outcome::NeedsSecondFactor(pending)) => {
            // Until the second factor is shown the browser holds only a short-lived pending
            // token, which opens nothing.
            let mut res = Redirect::to("/login/second-factor").into_response();
            *res.status_mut() = StatusCode::SEE_OTHER;
            if let Some(c) = cookies::set(
                state.cookies.pending,
                &pending.token,
                Some(PENDING_MINUTES * 60),
                state.cookies.secure,
            ) {
                res.headers_mut().append(header::SET_COOKIE, c);
            }
            Ok(res)
        }
        Err(e) => refused(e, |why| {
            let mut errors = FieldErrors::default();
            errors.add("_form", why);
            let view = LoginView {
                page: Page::new(&ctx, None),
                errors,
                email: form.email,
                next: form.next,
            };
            render(StatusCode::UNAUTHORIZED, &view)
        }),
    }
}

/// The redirect after a session was opened: its cookie, and where the user was going.
fn signed_in(state: &AppState, session: auth::Session) -> Response {
    let to = safe_next(&session.next)
        .filter(|n| !n.starts_with("/login"))
        .unwrap_or("/home");
    let mut res = Redirect::to(to).into_response();
    *res.status_mut() = StatusCode::SEE_OTHER;
    if let Some(c) = cookies::set(
        state.cookies.session,
        &session.token,
        None,
        state.cookies.secure,
    ) {
        res.headers_mut().append(header::SET_COOKIE, c);
    }
    // The language the person chose last, on whatever browser they sign in on.
    if let Some(lang) = session
        .lang
        .as_deref()
        .and_then(crate::i18n::Lang::from_code)
        && let Some(c) = cookies::set(
            cookies::LANG,
            lang.code(),
            Some(365 * 24 * 3600),
            state.cookies.secure,
        )
    {
        res.headers_mut().append(header::SET_COOKIE, c);
    }
    res
}

#[derive(Template)]
#[template(path = "auth/second_factor.html")]
struct SecondStepView {
    page: Page,
    errors: FieldErrors,
    /// Whether the user has the authenticator app (then the code form shows).
    totp: bool,
    /// The passkey sign-in (`static/passkey.js`), when the user has a key.
    passkey: Option<Ceremony>,
}

/// The second step's page (a fresh passkey challenge with it), or back to the password
/// when the pending sign-in is gone.
async fn step_page(
    state: &AppState,
    ctx: &Ctx,
    headers: &axum::http::HeaderMap,
    status: StatusCode,
    errors: FieldErrors,
) -> AppResult<Response> {
    let choices = match cookies::get(headers, state.cookies.pending) {
        Some(token) => auth::step_choices(state, &token).await?,
        None => None,
    };
    let Some(choices) = choices else {
        return Ok(restart(state));
    };
    let view = SecondStepView {
        page: Page::new(ctx, None),
        errors,
        totp: choices.totp,
        passkey: choices.passkey,
    };
    render(status, &view)
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

/// `GET /login/second-factor`: the code from the authenticator app, a recovery code, or a
/// passkey.
pub async fn second_step_page(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    headers: axum::http::HeaderMap,
) -> AppResult<Response> {
    step_page(
        &state,
        &ctx,
        &headers,
        StatusCode::OK,
        FieldErrors::default(),
    )
    .await
}

/// The answer to a second step: the session, or the page again with `message` under
/// `field` (a wrong answer), or back to the password.
async fn step_answered(
    state: &AppState,
    ctx: &Ctx,
    headers: &axum::http::HeaderMap,
    outcome: Result<auth::Session, SignInError>,
    (field, message): (&str, &'static str),
) -> AppResult<Response> {
    match outcome {
        Ok(session) => {
            let mut res = signed_in(state, session);
            if let Some(c) = cookies::set(state.cookies.pending, "", Some(0), state.cookies.secure)
            {
                res.headers_mut().append(header::SET_COOKIE, c);
            }
            Ok(res)
        }
        Err(SignInError::PendingGone) => Ok(restart(state)),
        Err(SignInError::WrongCode) => {
            let mut errors = FieldErrors::default();
            errors.add(field, message);
            let choices = match cookies::get(headers, state.cookies.pending) {
                Some(token) => auth::step_choices(state, &token).await?,
                None => None,
            };
            // The last attempt ended the pending sign-in: the message still shows, and the
            // next answer goes back to the password.
            let (totp, passkey) = choices.map_or((field == "code", None), |c| (c.totp, c.passkey));
            let view = SecondStepView {
                page: Page::new(ctx, None),
                errors,
                totp,
                passkey,
            };
            render(StatusCode::UNAUTHORIZED, &view)
        }
        Err(e) => refused(e, |_| Err(AppError::BadRequest)),
    }
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
    let Some(token) = cookies::get(&headers, state.cookies.pending) else {
        return Ok(restart(&state));
    };
    let client = client(&ctx, &headers, existing);
    let outcome = auth::second_step(&state, &token, &form.code, client).await;
    let wrong = ("code", "error.second_factor_wrong");
    step_answered(&state, &ctx, &headers, outcome, wrong).await
}

/// What `static/passkey.js` posts after `navigator.credentials.get` (base64url).
#[derive(Deserialize)]
pub struct PasskeyForm {
    #[serde(default)]
    credential_id: String,
    #[serde(default)]
    client_data: String,
    #[serde(default)]
    authenticator_data: String,
    #[serde(default)]
    signature: String,
}

/// `POST /login/second-factor/passkey`: the key's answer to the pending sign-in's challenge.
pub async fn passkey_step(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    MaybeUser(existing): MaybeUser,
    headers: axum::http::HeaderMap,
    CsrfForm(form): CsrfForm<PasskeyForm>,
) -> AppResult<Response> {
    let Some(token) = cookies::get(&headers, state.cookies.pending) else {
        return Ok(restart(&state));
    };
    let answer = Answer {
        credential_id: form.credential_id,
        client_data: form.client_data,
        data: form.authenticator_data,
        signature: form.signature,
    };
    let client = client(&ctx, &headers, existing);
    let outcome = auth::passkey_step(&state, &token, &answer, client).await;
    let wrong = ("passkey", "error.passkey_sign_in_failed");
    step_answered(&state, &ctx, &headers, outcome, wrong).await
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
    auth::sign_out(&state, &user.actor(&ctx), &user.token_hash).await?;
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

/// `POST /lang`: remembers the chosen language for a year (and, signed in, on the account).
pub async fn set_lang(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    MaybeUser(me): MaybeUser,
    CsrfForm(form): CsrfForm<LangForm>,
) -> AppResult<Response> {
    let lang = crate::i18n::Lang::from_code(&form.lang).ok_or(AppError::BadRequest)?;
    if let Some(me) = me {
        crate::app::account::remember_lang(&state, &me.actor(&ctx), lang).await?;
    }
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

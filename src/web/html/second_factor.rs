//! 二要素認証の設定 (a page of the account): set up TOTP (secret as text, `otpauth://` URI and
//! QR code; switched on only once a code confirms it), recovery codes shown once, and
//! switching it off with the current password and a code (the use cases are
//! `app::second_factor`); passkeys and security keys: register one with a name (the browser
//! side is `static/passkey.js`), list and remove them (`app::passkeys`).

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use crate::app::passkeys::{Answer, Ceremony};
use crate::app::{self, second_factor::Stage as Standing};
use crate::domain::totp;
use crate::web::ctx::{CsrfForm, Ctx, CurrentUser};
use crate::web::error::AppResult;
use crate::web::forms::{FieldErrors, Nothing};
use crate::web::page::{Page, jst, redirect_with_flash, render};
use crate::web::state::AppState;

/// Where the user stands, as the template tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Off,
    Enrolling,
    On,
}

#[derive(Template)]
#[template(path = "auth/second_factor_setup.html")]
struct SetupView {
    page: Page,
    errors: FieldErrors,
    stage: Stage,
    /// Whether the user may not go on without it.
    required: bool,
    secret: String,
    uri: String,
    qr: String,
    since: String,
    recovery_left: i64,
    /// The passkeys registered, and the ceremony to register another.
    keys: Vec<KeyRow>,
    registration: Ceremony,
    user_email: String,
    user_display: String,
    /// The passkey's name as typed, when the page comes back with an error.
    passkey_name: String,
}

/// A registered passkey as the list shows it.
struct KeyRow {
    id: String,
    name: String,
    created_at: String,
    last_used_at: String,
}

#[derive(Template)]
#[template(path = "auth/recovery_codes.html")]
struct RecoveryView {
    page: Page,
    codes: Vec<String>,
}

async fn view(
    state: &AppState,
    ctx: &Ctx,
    me: &CurrentUser,
    errors: FieldErrors,
) -> AppResult<SetupView> {
    let mut page = Page::new(ctx, Some(me));
    // The page says itself why the setup is needed: the redirect's flash would say it twice.
    if me.must_enrol && page.flash.as_deref() == Some("flash.second_factor_required") {
        page.flash = None;
    }
    let mut v = SetupView {
        page,
        errors,
        stage: Stage::Off,
        required: me.must_enrol,
        secret: String::new(),
        uri: String::new(),
        qr: String::new(),
        since: String::new(),
        recovery_left: 0,
        keys: app::passkeys::list(state, &me.actor(ctx))
            .await?
            .into_iter()
            .map(|k| KeyRow {
                id: k.id.to_string(),
                name: k.name,
                created_at: jst(&k.created_at),
                last_used_at: k.last_used_at.map(|t| jst(&t)).unwrap_or_default(),
            })
            .collect(),
        registration: app::passkeys::registration(state, &me.actor(ctx), &me.token_hash).await?,
        user_email: me.email.clone(),
        user_display: me.name.clone(),
        passkey_name: String::new(),
    };
    match app::second_factor::stage(state, &me.actor(ctx)).await? {
        Standing::On {
            since,
            recovery_left,
        } => {
            v.stage = Stage::On;
            v.since = jst(&since);
            v.recovery_left = recovery_left;
        }
        Standing::Enrolling { secret } => {
            v.stage = Stage::Enrolling;
            v.secret = totp::grouped(&secret);
            v.uri = totp::otpauth_uri(&secret, &me.email);
            v.qr = totp::qr_svg(&v.uri).unwrap_or_default();
        }
        Standing::Off => {}
    }
    Ok(v)
}

/// `GET /account/second-factor`
pub async fn page(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
) -> AppResult<Response> {
    render(
        StatusCode::OK,
        &view(&state, &ctx, &me, FieldErrors::default()).await?,
    )
}

/// `POST /account/second-factor/start`: a new secret, not yet switched on.
pub async fn start(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    CsrfForm(_): CsrfForm<Nothing>,
) -> AppResult<Response> {
    app::second_factor::start(&state, &me.actor(&ctx)).await?;
    Ok(redirect_with_flash(
        "/account/second-factor",
        "flash.second_factor_scan",
        state.cookies.secure,
    ))
}

/// The codes shown once, or the set-up page again with the message (422).
async fn codes_or_again(
    state: &AppState,
    ctx: &Ctx,
    me: &CurrentUser,
    outcome: Result<Vec<String>, app::Error>,
) -> AppResult<Response> {
    match outcome {
        Ok(codes) => show_codes(ctx, me, codes),
        Err(app::Error::Invalid(errors)) => render(
            StatusCode::UNPROCESSABLE_ENTITY,
            &view(state, ctx, me, errors).await?,
        ),
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct ConfirmForm {
    #[serde(default)]
    code: String,
}

/// `POST /account/second-factor/confirm`: the first code switches it on; the recovery codes
/// are shown once, in this answer (only their hashes are kept).
pub async fn confirm(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    CsrfForm(form): CsrfForm<ConfirmForm>,
) -> AppResult<Response> {
    let outcome = app::second_factor::confirm(&state, &me.actor(&ctx), &form.code).await;
    codes_or_again(&state, &ctx, &me, outcome).await
}

/// The page that shows recovery codes, once.
fn show_codes(ctx: &Ctx, me: &CurrentUser, codes: Vec<String>) -> AppResult<Response> {
    let view = RecoveryView {
        page: Page::new(ctx, Some(me)),
        codes,
    };
    let mut res = render(StatusCode::OK, &view)?;
    // Shown once: never kept by a cache.
    res.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    Ok(res)
}

#[derive(Deserialize)]
pub struct NewCodesForm {
    #[serde(default)]
    new_codes_code: String,
}

/// `POST /account/second-factor/recovery-codes`: a current code from the app replaces every
/// recovery code by ten new ones, shown once.
pub async fn new_codes(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    CsrfForm(form): CsrfForm<NewCodesForm>,
) -> AppResult<Response> {
    crate::web::html::common::access::refuse_if_throttled(&state, &me.email, &ctx.ip).await?;
    let outcome =
        app::second_factor::new_codes(&state, &me.actor(&ctx), &form.new_codes_code).await;
    codes_or_again(&state, &ctx, &me, outcome).await
}

#[derive(Deserialize)]
pub struct DisableForm {
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    code: String,
}

/// `POST /account/second-factor/disable`: the current password and a code (or a recovery
/// code). Wrong ones count as failed sign-ins.
pub async fn disable(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    CsrfForm(form): CsrfForm<DisableForm>,
) -> AppResult<Response> {
    crate::web::html::common::access::refuse_if_throttled(&state, &me.email, &ctx.ip).await?;
    let actor = me.actor(&ctx);
    match app::second_factor::disable(&state, &actor, form.current_password, &form.code).await {
        Ok(()) => Ok(redirect_with_flash(
            "/account/second-factor",
            "flash.second_factor_disabled",
            state.cookies.secure,
        )),
        Err(app::Error::Invalid(errors)) => render(
            StatusCode::UNPROCESSABLE_ENTITY,
            &view(&state, &ctx, &me, errors).await?,
        ),
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct PasskeyForm {
    #[serde(default)]
    passkey_name: String,
    #[serde(default)]
    client_data: String,
    #[serde(default)]
    attestation: String,
}

/// `POST /account/second-factor/passkeys`: a name and what `navigator.credentials.create`
/// answered to this session's challenge (filled in by `static/passkey.js`).
pub async fn add_passkey(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    CsrfForm(form): CsrfForm<PasskeyForm>,
) -> AppResult<Response> {
    let answer = Answer {
        client_data: form.client_data,
        data: form.attestation,
        ..Answer::default()
    };
    let actor = me.actor(&ctx);
    match app::passkeys::register(&state, &actor, &me.token_hash, &form.passkey_name, &answer).await
    {
        Ok(()) => Ok(redirect_with_flash(
            "/account/second-factor",
            "flash.passkey_added",
            state.cookies.secure,
        )),
        Err(app::Error::Invalid(errors)) => {
            let mut v = view(&state, &ctx, &me, errors).await?;
            v.passkey_name = form.passkey_name;
            render(StatusCode::UNPROCESSABLE_ENTITY, &v)
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /account/second-factor/passkeys/{id}/remove`
pub async fn remove_passkey(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Path(id): Path<uuid::Uuid>,
    CsrfForm(_): CsrfForm<Nothing>,
) -> AppResult<Response> {
    app::passkeys::remove(&state, &me.actor(&ctx), id).await?;
    Ok(redirect_with_flash(
        "/account/second-factor",
        "flash.passkey_removed",
        state.cookies.secure,
    ))
}

//! 二要素認証の設定 (a page of the account): set up TOTP (secret as text, `otpauth://` URI and
//! QR code; switched on only once a code confirms it), recovery codes shown once, and
//! switching it off with the current password and a code. Each change is audited and mailed.

use std::sync::Arc;

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use super::ctx::{CsrfForm, Ctx, CurrentUser};
use super::error::{AppError, AppResult};
use super::forms::{FieldErrors, Nothing};
use super::page::{Page, jst, redirect_with_flash, render};
use super::state::AppState;
use crate::app::send_logged;
use crate::db;
use crate::domain::totp;
use crate::mail::Outgoing;
use crate::security;

/// How many recovery codes enrolment gives.
pub const RECOVERY_CODES: usize = 10;

/// Where the user stands.
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
    let t = db::second_factor::totp(&state.db, me.id)
        .await?
        .ok_or(AppError::NotFound)?;
    let mut v = SetupView {
        page: Page::new(ctx, Some(me)),
        errors,
        stage: Stage::Off,
        required: me.must_enrol,
        secret: String::new(),
        uri: String::new(),
        qr: String::new(),
        since: String::new(),
        recovery_left: 0,
    };
    match (t.totp_secret, t.totp_enabled_at) {
        (Some(_), Some(at)) => {
            v.stage = Stage::On;
            v.since = jst(&at);
            v.recovery_left = db::second_factor::recovery_left(&state.db, me.id).await?;
        }
        (Some(secret), None) => {
            v.stage = Stage::Enrolling;
            v.secret = totp::grouped(&secret);
            v.uri = totp::otpauth_uri(&secret, &me.email);
            v.qr = totp::qr_svg(&v.uri).unwrap_or_default();
        }
        _ => {}
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

fn random_bytes<const N: usize>() -> [u8; N] {
    let mut buf = [0u8; N];
    // Without an entropy source nothing here is safe: stop (as `security::random_token`).
    if getrandom::fill(&mut buf).is_err() {
        std::process::abort();
    }
    buf
}

/// `POST /account/second-factor/start`: a new secret, not yet switched on.
pub async fn start(
    State(state): State<Arc<AppState>>,
    me: CurrentUser,
    CsrfForm(_): CsrfForm<Nothing>,
) -> AppResult<Response> {
    let secret = random_bytes::<{ totp::SECRET_BYTES }>();
    let mut tx = state.db.begin().await?;
    let started = db::second_factor::start(&mut tx, me.id, &secret).await?;
    tx.commit().await?;
    if !started {
        return Err(AppError::Conflict);
    }
    Ok(redirect_with_flash(
        "/account/second-factor",
        "flash.second_factor_scan",
        state.cookies.secure,
    ))
}

#[derive(Deserialize)]
pub struct ConfirmForm {
    #[serde(default)]
    code: String,
}

fn mail_change(state: &Arc<AppState>, ctx: &Ctx, me: &CurrentUser, kind: &'static str) {
    let state2 = state.clone();
    let (to, when, ip) = (me.email.clone(), jst(&db::now()), ctx.ip.clone());
    let link = state.config.link("/account/second-factor");
    tokio::spawn(async move {
        send_logged(
            &state2,
            Outgoing::new(to, kind, vec![("time", when), ("ip", ip), ("link", link)]),
        )
        .await;
    });
}

/// `POST /account/second-factor/confirm`: the first code switches it on; the recovery codes
/// are shown once, in this answer (only their hashes are kept).
pub async fn confirm(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    CsrfForm(form): CsrfForm<ConfirmForm>,
) -> AppResult<Response> {
    let t = db::second_factor::totp(&state.db, me.id)
        .await?
        .ok_or(AppError::NotFound)?;
    let (Some(secret), None) = (t.totp_secret, t.totp_enabled_at) else {
        return Err(AppError::Conflict);
    };
    let step = totp::verify(
        &secret,
        &form.code,
        chrono::Utc::now().timestamp(),
        t.totp_last_step,
    );
    let Some(step) = step else {
        let mut errors = FieldErrors::default();
        errors.add("code", "error.second_factor_wrong");
        return render(
            StatusCode::UNPROCESSABLE_ENTITY,
            &view(&state, &ctx, &me, errors).await?,
        );
    };
    let (codes, hashes) = new_recovery_codes();
    let mut tx = state.db.begin().await?;
    if !db::second_factor::enable(&mut tx, me.id, step).await? {
        return Err(AppError::Conflict);
    }
    db::second_factor::set_recovery(&mut tx, me.id, &hashes).await?;
    db::audit::append(
        &mut tx,
        &me.audit(&ctx, "user.second_factor_enabled", None, me.email.clone()),
    )
    .await?;
    tx.commit().await?;
    mail_change(&state, &ctx, &me, "mail.second_factor_enabled");
    show_codes(&ctx, &me, codes)
}

/// Fresh recovery codes, as shown and as stored.
fn new_recovery_codes() -> (Vec<String>, Vec<Vec<u8>>) {
    let codes: Vec<String> = (0..RECOVERY_CODES)
        .map(|_| totp::recovery_code(&random_bytes::<10>()))
        .collect();
    let hashes = codes
        .iter()
        .map(|c| db::second_factor::recovery_hash(&totp::normalise_recovery(c)))
        .collect();
    (codes, hashes)
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
    super::auth::refuse_if_throttled(&state, &me.email, &ctx.ip).await?;
    // Only the app's code: a recovery code cannot be used to mint more.
    let shown = match totp::normalise_code(&form.new_codes_code) {
        Some(_) => db::second_factor::check(&state.db, me.id, &form.new_codes_code).await?,
        None => None,
    };
    if shown.is_none() {
        db::throttle::record(&state.db, &me.email, &ctx.ip).await?;
        let mut errors = FieldErrors::default();
        errors.add("new_codes_code", "error.second_factor_wrong");
        return render(
            StatusCode::UNPROCESSABLE_ENTITY,
            &view(&state, &ctx, &me, errors).await?,
        );
    }
    let (codes, hashes) = new_recovery_codes();
    let mut tx = state.db.begin().await?;
    db::second_factor::set_recovery(&mut tx, me.id, &hashes).await?;
    db::audit::append(
        &mut tx,
        &me.audit(&ctx, "user.recovery_codes_renewed", None, me.email.clone()),
    )
    .await?;
    tx.commit().await?;
    show_codes(&ctx, &me, codes)
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
    super::auth::refuse_if_throttled(&state, &me.email, &ctx.ip).await?;
    let user = db::users::by_email(&state.db, &me.email)
        .await?
        .ok_or(AppError::Forbidden)?;
    let mut errors = FieldErrors::default();
    if !security::verify_password(user.password_hash.clone(), form.current_password).await? {
        errors.add("current_password", "error.current_password_wrong");
    } else if db::second_factor::check(&state.db, me.id, &form.code)
        .await?
        .is_none()
    {
        errors.add("code", "error.second_factor_wrong");
    }
    if !errors.is_empty() {
        db::throttle::record(&state.db, &me.email, &ctx.ip).await?;
        return render(
            StatusCode::UNPROCESSABLE_ENTITY,
            &view(&state, &ctx, &me, errors).await?,
        );
    }
    let mut tx = state.db.begin().await?;
    db::second_factor::clear(&mut tx, me.id).await?;
    db::audit::append(
        &mut tx,
        &me.audit(&ctx, "user.second_factor_disabled", None, me.email.clone()),
    )
    .await?;
    tx.commit().await?;
    mail_change(&state, &ctx, &me, "mail.second_factor_disabled");
    Ok(redirect_with_flash(
        "/account/second-factor",
        "flash.second_factor_disabled",
        state.cookies.secure,
    ))
}

//! One-time links: first-run setup, accepting an invitation, resetting a password.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::Duration;
use serde::Deserialize;
use uuid::Uuid;

use super::ctx::{CsrfForm, Ctx};
use super::error::{AppError, AppResult};
use super::forms::FieldErrors;
use super::page::{Page, redirect_with_flash, render};
use super::state::AppState;
use crate::db::links::Purpose;
use crate::db::users::NewUser;
use crate::db::{self, Tx, audit::Entry};
use crate::domain::{Email, NewPassword, Role, Scope, text};
use crate::mail::Outgoing;
use crate::security;

/// How long each kind of link stays valid.
pub fn ttl(purpose: Purpose) -> Duration {
    match purpose {
        Purpose::Setup | Purpose::PasswordReset => Duration::hours(1),
        Purpose::Invitation => Duration::hours(72),
    }
}

/// Creates a one-time link in the transaction; answers the secret token for the URL.
pub async fn issue_link(
    tx: &mut Tx,
    purpose: Purpose,
    user_id: Option<Uuid>,
) -> Result<String, sqlx::Error> {
    let token = security::random_token();
    db::links::insert(
        tx,
        &security::token_hash(&token),
        purpose,
        user_id,
        db::now() + ttl(purpose),
    )
    .await?;
    Ok(token)
}

/// Creates the setup link if no Center admin exists yet; answers the URL to print.
pub async fn setup_link_if_needed(state: &AppState) -> anyhow::Result<Option<String>> {
    if db::users::count_active_center_admins(&state.db).await? > 0 {
        return Ok(None);
    }
    let mut tx = state.db.begin().await?;
    let token = issue_link(&mut tx, Purpose::Setup, None).await?;
    tx.commit().await?;
    Ok(Some(state.config.link(&format!("/setup?token={token}"))))
}

#[derive(Deserialize, Default)]
pub struct TokenQuery {
    #[serde(default)]
    token: String,
}

/// A link that is still usable, or `LinkGone`.
async fn live_link(
    state: &AppState,
    token: &str,
    purpose: Purpose,
) -> AppResult<db::links::LinkRow> {
    if token.is_empty() || token.len() > 100 {
        return Err(AppError::LinkGone);
    }
    let link = db::links::find(&state.db, &security::token_hash(token), purpose)
        .await?
        .ok_or(AppError::LinkGone)?;
    if link.used_at.is_some() || link.expires_at <= db::now() {
        return Err(AppError::LinkGone);
    }
    Ok(link)
}

// ---- first-run setup ----

#[derive(Template)]
#[template(path = "auth/setup.html")]
struct SetupView {
    page: Page,
    errors: FieldErrors,
    token: String,
    email: String,
    display_name: String,
}

async fn setup_open(state: &AppState) -> AppResult<()> {
    if db::users::count_active_center_admins(&state.db).await? > 0 {
        return Err(AppError::LinkGone);
    }
    Ok(())
}

/// `GET /setup?token=…`
pub async fn setup_page(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    Query(q): Query<TokenQuery>,
) -> AppResult<Response> {
    setup_open(&state).await?;
    live_link(&state, &q.token, Purpose::Setup).await?;
    let view = SetupView {
        page: Page::new(&ctx, None),
        errors: FieldErrors::default(),
        token: q.token,
        email: String::new(),
        display_name: String::new(),
    };
    render(StatusCode::OK, &view)
}

#[derive(Deserialize)]
pub struct SetupForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_confirm: String,
}

/// Checks a display name: 1 to 100 characters, no control characters.
pub fn parse_name(raw: &str) -> Result<String, &'static str> {
    let s = raw.trim();
    if s.is_empty() {
        Err("error.name_required")
    } else if s.chars().count() > 100 {
        Err("error.name_invalid")
    } else if s.chars().any(text::is_invisible) || text::mixes_confusable_scripts(s) {
        Err("error.name_misleading")
    } else {
        Ok(s.to_string())
    }
}

/// `POST /setup`: creates the first Center admin.
pub async fn setup(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    CsrfForm(form): CsrfForm<SetupForm>,
) -> AppResult<Response> {
    setup_open(&state).await?;
    live_link(&state, &form.token, Purpose::Setup).await?;
    let mut errors = FieldErrors::default();
    let email = errors.take("email", Email::parse(&form.email));
    let name = errors.take("display_name", parse_name(&form.display_name));
    let password = errors.take(
        "password",
        NewPassword::parse(&form.password, &form.password_confirm).map_err(|p| p.key()),
    );
    let (Some(email), Some(name), Some(password)) = (email, name, password) else {
        let view = SetupView {
            page: Page::new(&ctx, None),
            errors,
            token: form.token,
            email: form.email,
            display_name: form.display_name,
        };
        return render(StatusCode::UNPROCESSABLE_ENTITY, &view);
    };
    let hash = security::hash_password(password.expose().to_string()).await?;
    let mut tx = state.db.begin().await?;
    if !db::links::consume(&mut tx, &security::token_hash(&form.token), Purpose::Setup).await? {
        return Err(AppError::LinkGone);
    }
    let new = NewUser {
        org_id: None,
        email: email.as_str(),
        display_name: &name,
        role: Role::CenterAdmin,
        status: "active",
        password_hash: Some(&hash),
    };
    let id = match db::users::insert(&mut tx, &new).await {
        Ok(id) => id,
        Err(e) if db::is_unique_violation(&e) => return Err(AppError::Conflict),
        Err(e) => return Err(e.into()),
    };
    db::audit::append(
        &mut tx,
        &Entry {
            actor_id: Some(id),
            actor: "setup".into(),
            org_id: None,
            action: "user.created",
            target: email.to_string(),
            ip: ctx.ip.clone(),
            detail: serde_json::json!({ "role": "center_admin", "via": "setup link" }),
        },
    )
    .await?;
    tx.commit().await?;
    tracing::info!("first center admin created through the setup link");
    Ok(redirect_with_flash(
        "/login",
        "flash.setup_done",
        state.cookies.secure,
    ))
}

// ---- invitations and password resets: both set a password through a link ----

#[derive(Template)]
#[template(path = "auth/accept.html")]
struct PasswordLinkView {
    page: Page,
    errors: FieldErrors,
    title_key: &'static str,
    intro_key: &'static str,
    action: &'static str,
    ask_name: bool,
    token: String,
    email: String,
    display_name: String,
}

impl PasswordLinkView {
    fn new(ctx: &Ctx, purpose: Purpose, token: String, email: String) -> PasswordLinkView {
        let invitation = purpose == Purpose::Invitation;
        PasswordLinkView {
            page: Page::new(ctx, None),
            errors: FieldErrors::default(),
            title_key: if invitation {
                "accept.title"
            } else {
                "reset.title"
            },
            intro_key: if invitation {
                "accept.intro"
            } else {
                "reset.intro"
            },
            action: if invitation {
                "/invitations/accept"
            } else {
                "/password/reset"
            },
            ask_name: invitation,
            token,
            email,
            display_name: String::new(),
        }
    }
}

async fn link_user(
    state: &AppState,
    token: &str,
    purpose: Purpose,
) -> AppResult<db::users::UserRow> {
    let link = live_link(state, token, purpose).await?;
    let user_id = link.user_id.ok_or(AppError::LinkGone)?;
    let user = db::users::get(&state.db, Scope::Center, user_id)
        .await?
        .ok_or(AppError::LinkGone)?;
    let expected = if purpose == Purpose::Invitation {
        "invited"
    } else {
        "active"
    };
    if user.status != expected {
        return Err(AppError::LinkGone);
    }
    Ok(user)
}

async fn password_link_page(
    state: &AppState,
    ctx: &Ctx,
    token: String,
    purpose: Purpose,
) -> AppResult<Response> {
    let user = link_user(state, &token, purpose).await?;
    let view = PasswordLinkView::new(ctx, purpose, token, user.email);
    render(StatusCode::OK, &view)
}

/// `GET /invitations/accept?token=…`
pub async fn accept_page(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    Query(q): Query<TokenQuery>,
) -> AppResult<Response> {
    password_link_page(&state, &ctx, q.token, Purpose::Invitation).await
}

/// `GET /password/reset?token=…`
pub async fn reset_page(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    Query(q): Query<TokenQuery>,
) -> AppResult<Response> {
    password_link_page(&state, &ctx, q.token, Purpose::PasswordReset).await
}

#[derive(Deserialize)]
pub struct PasswordLinkForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_confirm: String,
}

async fn password_link_submit(
    state: &AppState,
    ctx: &Ctx,
    form: PasswordLinkForm,
    purpose: Purpose,
) -> AppResult<Response> {
    let user = link_user(state, &form.token, purpose).await?;
    let invitation = purpose == Purpose::Invitation;
    let mut errors = FieldErrors::default();
    let name = if invitation {
        errors.take("display_name", parse_name(&form.display_name))
    } else {
        Some(String::new())
    };
    let password = errors.take(
        "password",
        NewPassword::parse(&form.password, &form.password_confirm).map_err(|p| p.key()),
    );
    let (Some(name), Some(password)) = (name, password) else {
        let mut view = PasswordLinkView::new(ctx, purpose, form.token, user.email);
        view.errors = errors;
        view.display_name = form.display_name;
        return render(StatusCode::UNPROCESSABLE_ENTITY, &view);
    };
    let hash = security::hash_password(password.expose().to_string()).await?;
    let mut tx = state.db.begin().await?;
    if !db::links::consume(&mut tx, &security::token_hash(&form.token), purpose).await? {
        return Err(AppError::LinkGone);
    }
    let changed = if invitation {
        db::users::activate(&mut tx, user.id, &name, &hash).await?
    } else {
        db::users::set_password(&mut tx, user.id, &hash).await?
    };
    if changed != 1 {
        return Err(AppError::LinkGone);
    }
    // A new password ends every session that the old one opened.
    db::sessions::delete_for_user(&mut tx, user.id).await?;
    db::audit::append(
        &mut tx,
        &Entry {
            actor_id: Some(user.id),
            actor: user.email.clone(),
            org_id: user.org_id,
            action: if invitation {
                "user.activated"
            } else {
                "password_reset.completed"
            },
            target: user.email.clone(),
            ip: ctx.ip.clone(),
            detail: serde_json::Value::Null,
        },
    )
    .await?;
    tx.commit().await?;
    let flash = if invitation {
        "flash.invitation_accepted"
    } else {
        "flash.password_reset"
    };
    Ok(redirect_with_flash("/login", flash, state.cookies.secure))
}

/// `POST /invitations/accept`
pub async fn accept(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    CsrfForm(form): CsrfForm<PasswordLinkForm>,
) -> AppResult<Response> {
    password_link_submit(&state, &ctx, form, Purpose::Invitation).await
}

/// `POST /password/reset`
pub async fn reset(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    CsrfForm(form): CsrfForm<PasswordLinkForm>,
) -> AppResult<Response> {
    password_link_submit(&state, &ctx, form, Purpose::PasswordReset).await
}

#[derive(Template)]
#[template(path = "auth/forgot.html")]
struct ForgotView {
    page: Page,
    errors: FieldErrors,
    email: String,
    sent: bool,
}

/// `GET /password/forgot`
pub async fn forgot_page(ctx: Ctx) -> AppResult<Response> {
    let view = ForgotView {
        page: Page::new(&ctx, None),
        errors: FieldErrors::default(),
        email: String::new(),
        sent: false,
    };
    render(StatusCode::OK, &view)
}

#[derive(Deserialize)]
pub struct ForgotForm {
    #[serde(default)]
    email: String,
}

/// `POST /password/forgot`: mails a link to the stored address of an active account; the
/// answer is the same whether or not the address is known.
pub async fn forgot(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    CsrfForm(form): CsrfForm<ForgotForm>,
) -> AppResult<Response> {
    let mut errors = FieldErrors::default();
    let Some(email) = errors.take("email", Email::parse(&form.email)) else {
        let view = ForgotView {
            page: Page::new(&ctx, None),
            errors,
            email: form.email,
            sent: false,
        };
        return render(StatusCode::UNPROCESSABLE_ENTITY, &view);
    };
    // Limits: a few links an hour per address (more are silently not sent, so nobody can
    // flood a mailbox), a few requests per client address (more answer 429).
    let now = db::now();
    let (for_address, from_ip) = db::throttle::record_reset(
        &state.db,
        email.as_str(),
        &ctx.ip,
        now - Duration::hours(1),
        now - Duration::minutes(RESET_WINDOW_MINUTES),
    )
    .await?;
    if from_ip >= RESETS_PER_IP {
        return Err(AppError::TooManyAttempts {
            wait_minutes: RESET_WINDOW_MINUTES,
        });
    }
    // Whether the address is known is decided off the request path, so the answer takes the
    // same time for every address.
    if for_address < RESETS_PER_ADDRESS {
        let state = state.clone();
        let ip = ctx.ip.clone();
        tokio::spawn(async move {
            if let Err(e) = send_reset_link(&state, email, ip).await {
                tracing::error!(error = %e, "password reset link not issued");
            }
        });
    }
    let view = ForgotView {
        page: Page::new(&ctx, None),
        errors,
        email: String::new(),
        sent: true,
    };
    render(StatusCode::OK, &view)
}

/// Most reset links mailed to one address per hour.
const RESETS_PER_ADDRESS: i64 = 3;
/// Most reset requests from one client address per window.
const RESETS_PER_IP: i64 = 10;
const RESET_WINDOW_MINUTES: i64 = 15;

/// Issues a reset link to an active account with this address and mails it; nothing for an
/// unknown or disabled address.
async fn send_reset_link(state: &AppState, email: Email, ip: String) -> anyhow::Result<()> {
    let Some(user) = db::users::by_email(&state.db, email.as_str())
        .await?
        .filter(|u| u.status == "active")
    else {
        return Ok(());
    };
    let mut tx = state.db.begin().await?;
    db::links::revoke_for_user(&mut tx, user.id, Purpose::PasswordReset).await?;
    let token = issue_link(&mut tx, Purpose::PasswordReset, Some(user.id)).await?;
    db::audit::append(
        &mut tx,
        &Entry {
            actor_id: None,
            actor: user.email.clone(),
            org_id: user.org_id,
            action: "password_reset.requested",
            target: user.email.clone(),
            ip,
            detail: serde_json::Value::Null,
        },
    )
    .await?;
    tx.commit().await?;
    let link = state.config.link(&format!("/password/reset?token={token}"));
    crate::app::send_logged(
        state,
        Outgoing::new(user.email, "mail.reset", vec![("link", link)]),
    )
    .await;
    Ok(())
}

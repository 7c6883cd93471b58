//! One-time links: first-run setup, accepting an invitation, resetting a password (the use
//! cases are `app::onboarding`).

use std::sync::Arc;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use crate::app::links::Purpose;
use crate::app::{
    self,
    onboarding::{Forgot, PasswordLinkInput, RESET_WINDOW_MINUTES, SetupInput},
};
use crate::web::cookies;
use crate::web::ctx::{CsrfForm, Ctx};
use crate::web::error::{AppError, AppResult};
use crate::web::forms::FieldErrors;
use crate::web::html::common::ask_link::{self, Asking};
use crate::web::page::{Page, redirect_with_flash, render};
use crate::web::state::AppState;

#[derive(Deserialize, Default)]
pub struct TokenQuery {
    #[serde(default)]
    token: String,
}

/// The page's own address with its link's token, for the language switch: a form that comes
/// back with errors was posted to the bare path, and switching language there would lose
/// the token.
fn with_token(ctx: &Ctx, action: &str, token: &str) -> Page {
    let mut page = Page::new(ctx, None);
    let query: String = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("token", token)
        .finish();
    page.path = format!("{action}?{query}");
    page
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

/// `GET /setup?token=…`
pub async fn setup_page(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    Query(q): Query<TokenQuery>,
) -> AppResult<Response> {
    if !app::onboarding::setup_open(&state, &q.token).await? {
        return Err(AppError::LinkGone);
    }
    let view = SetupView {
        page: Page::new(&ctx, None),
        errors: FieldErrors::default(),
        token: q.token,
        email: String::new(),
        display_name: String::new(),
    };
    render(StatusCode::OK, &view)
}

/// `POST /setup`: creates the first Center admin.
pub async fn setup(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    CsrfForm(form): CsrfForm<SetupInput>,
) -> AppResult<Response> {
    match app::onboarding::setup(&state, &ctx.ip, &form).await {
        Ok(Some(email)) => {
            let mut res = redirect_with_flash("/login", "flash.setup_done", state.cookies.secure);
            cookies::remember_login_email(&mut res, &email, state.cookies.secure);
            Ok(res)
        }
        Ok(None) => Err(AppError::LinkGone),
        Err(app::Error::Invalid(errors)) => {
            let view = SetupView {
                page: with_token(&ctx, "/setup", &form.token),
                errors,
                token: form.token,
                email: form.email,
                display_name: form.display_name,
            };
            render(StatusCode::UNPROCESSABLE_ENTITY, &view)
        }
        Err(e) => Err(e.into()),
    }
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
    /// An invitation's role and organisation: 「… の組織管理者として招待されています」.
    invited_as: String,
}

impl PasswordLinkView {
    fn new(ctx: &Ctx, purpose: Purpose, token: String, email: String) -> PasswordLinkView {
        let invitation = purpose == Purpose::Invitation;
        let action = if invitation {
            "/invitations/accept"
        } else {
            "/password/reset"
        };
        PasswordLinkView {
            page: with_token(ctx, action, &token),
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
            action,
            ask_name: invitation,
            token,
            email,
            display_name: String::new(),
            invited_as: String::new(),
        }
    }

    /// Says what the invitation is for (an invitation's page only).
    async fn invited(
        mut self,
        state: &AppState,
        ctx: &Ctx,
        user: &app::onboarding::UserRow,
    ) -> AppResult<Self> {
        if self.ask_name {
            let t = ctx.tr();
            let (role, org) = app::onboarding::invited_as(state, user).await?;
            self.invited_as = if org.is_empty() {
                t.f("accept.as_center", &[("role", t.t(role))])
            } else {
                t.f("accept.as_org", &[("role", t.t(role)), ("org", &org)])
            };
        }
        Ok(self)
    }
}

async fn password_link_page(
    state: &AppState,
    ctx: &Ctx,
    token: String,
    purpose: Purpose,
) -> AppResult<Response> {
    let user = app::onboarding::link_user(state, &token, purpose)
        .await?
        .ok_or(AppError::LinkGone)?;
    let view = PasswordLinkView::new(ctx, purpose, token, user.email.clone())
        .invited(state, ctx, &user)
        .await?;
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

async fn password_link_submit(
    state: &AppState,
    ctx: &Ctx,
    form: PasswordLinkInput,
    purpose: Purpose,
) -> AppResult<Response> {
    match app::onboarding::set_password(state, &ctx.ip, purpose, &form).await {
        Ok(Some(email)) => {
            let flash = if purpose == Purpose::Invitation {
                "flash.invitation_accepted"
            } else {
                "flash.password_reset"
            };
            let mut res = redirect_with_flash("/login", flash, state.cookies.secure);
            cookies::remember_login_email(&mut res, &email, state.cookies.secure);
            Ok(res)
        }
        Ok(None) => Err(AppError::LinkGone),
        Err(app::Error::Invalid(errors)) => {
            let user = app::onboarding::link_user(state, &form.token, purpose)
                .await?
                .ok_or(AppError::LinkGone)?;
            let mut view = PasswordLinkView::new(ctx, purpose, form.token, user.email.clone())
                .invited(state, ctx, &user)
                .await?;
            view.errors = errors;
            view.display_name = form.display_name;
            render(StatusCode::UNPROCESSABLE_ENTITY, &view)
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /invitations/accept`
pub async fn accept(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    CsrfForm(form): CsrfForm<PasswordLinkInput>,
) -> AppResult<Response> {
    password_link_submit(&state, &ctx, form, Purpose::Invitation).await
}

/// `POST /password/reset`
pub async fn reset(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    CsrfForm(form): CsrfForm<PasswordLinkInput>,
) -> AppResult<Response> {
    password_link_submit(&state, &ctx, form, Purpose::PasswordReset).await
}

/// `GET /password/forgot`
pub async fn forgot_page(ctx: Ctx) -> AppResult<Response> {
    ask_link::form(&ctx, Asking::PasswordReset)
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
    let outcome = app::onboarding::forgot(&state.app, &ctx.ip, &form.email)
        .await
        .map(|f| f == Forgot::Taken);
    ask_link::answer(
        &ctx,
        Asking::PasswordReset,
        outcome,
        form.email,
        RESET_WINDOW_MINUTES,
    )
}

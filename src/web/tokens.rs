//! アカウント › APIトークン: a user's personal access tokens (create: the secret is shown once;
//! list; revoke), and the Center admin's list of every token (revoke).

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use uuid::Uuid;

use super::ctx::{CsrfForm, Ctx, CurrentUser};
use super::error::AppResult;
use super::forms::{FieldErrors, Nothing};
use super::page::{Page, jst, redirect_with_flash, render};
use super::state::AppState;
use crate::app::tokens::TokenRow;
use crate::app::{self, tokens};
use crate::domain::{Role, TokenScope, TokenScopes};
use crate::i18n::Tr;

/// A token as a row of the lists: words only (scopes by their description).
pub struct TokenItem {
    pub id: Uuid,
    pub name: String,
    pub prefix: String,
    pub owner: String,
    pub org: String,
    pub scopes: Vec<String>,
    pub created: String,
    pub expires: String,
    pub last_used: String,
    /// The state in words (有効 / 期限切れ / 失効).
    pub state: String,
    pub live: bool,
}

fn item(t: &Tr, row: TokenRow) -> TokenItem {
    let now = chrono::Utc::now();
    let (state, live) = if row.revoked_at.is_some() {
        (t.t("token.state.revoked"), false)
    } else if row.expires_at <= now {
        (t.t("token.state.expired"), false)
    } else {
        (t.t("token.state.live"), true)
    };
    TokenItem {
        id: row.id,
        name: row.name,
        prefix: row.prefix,
        owner: row.owner_email,
        org: row
            .org_name
            .unwrap_or_else(|| t.t("token.center").to_string()),
        scopes: TokenScopes::parse(&row.scopes)
            .iter()
            .map(|s| t.t(s.label_key()).to_string())
            .collect(),
        created: jst(&row.created_at),
        expires: jst(&row.expires_at),
        last_used: match (&row.last_used_at, &row.last_used_ip) {
            (Some(at), Some(ip)) => format!("{} ({ip})", jst(at)),
            (Some(at), None) => jst(at),
            _ => t.t("token.never_used").to_string(),
        },
        state: state.to_string(),
        live,
    }
}

/// A scope offered on the form: (name, description key, ticked).
pub type ScopeChoice = (&'static str, &'static str, bool);

#[derive(Template)]
#[template(path = "tokens/own.html")]
struct OwnView {
    page: Page,
    tokens: Vec<TokenItem>,
    errors: FieldErrors,
    name: String,
    expiry_days: Vec<(i64, bool)>,
    scopes: Vec<ScopeChoice>,
    /// The secret of the token just made, shown this once.
    secret: Option<String>,
    secret_expires: String,
}

#[derive(Deserialize, Default)]
pub struct CreateForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    expires_days: String,
    #[serde(default)]
    reports_read: Option<String>,
    #[serde(default)]
    reports_write: Option<String>,
    #[serde(default)]
    review_read: Option<String>,
    #[serde(default)]
    review_write: Option<String>,
    #[serde(default)]
    exports_read: Option<String>,
}

impl CreateForm {
    /// The ticked scopes by name.
    fn scopes(&self) -> Vec<String> {
        [
            (&self.reports_read, TokenScope::ReportsRead),
            (&self.reports_write, TokenScope::ReportsWrite),
            (&self.review_read, TokenScope::ReviewRead),
            (&self.review_write, TokenScope::ReviewWrite),
            (&self.exports_read, TokenScope::ExportsRead),
        ]
        .into_iter()
        .filter(|(v, _)| v.is_some())
        .map(|(_, s)| s.as_str().to_string())
        .collect()
    }
}

/// The form's field for a scope (`reports:read` → `reports_read`).
fn field_of(scope: TokenScope) -> &'static str {
    match scope {
        TokenScope::ReportsRead => "reports_read",
        TokenScope::ReportsWrite => "reports_write",
        TokenScope::ReviewRead => "review_read",
        TokenScope::ReviewWrite => "review_write",
        TokenScope::ExportsRead => "exports_read",
    }
}

async fn own_view(
    state: &AppState,
    ctx: &Ctx,
    me: &CurrentUser,
    form: &CreateForm,
    errors: FieldErrors,
    created: Option<tokens::Created>,
) -> AppResult<OwnView> {
    let t = ctx.tr();
    let rows = tokens::own(state, &me.actor(ctx)).await?;
    let ticked = form.scopes();
    let fresh = created.is_some() || ticked.is_empty() && errors.is_empty();
    let chosen_days = form.expires_days.parse::<i64>().unwrap_or(90);
    Ok(OwnView {
        page: Page::new(ctx, Some(me)),
        tokens: rows.into_iter().map(|r| item(&t, r)).collect(),
        errors,
        name: if created.is_some() {
            String::new()
        } else {
            form.name.clone()
        },
        expiry_days: tokens::EXPIRY_DAYS
            .iter()
            .map(|d| (*d, *d == chosen_days))
            .collect(),
        scopes: TokenScope::allowed_for(me.role)
            .iter()
            .map(|s| {
                (
                    field_of(*s),
                    s.label_key(),
                    !fresh && ticked.iter().any(|n| n == s.as_str()),
                )
            })
            .collect(),
        secret_expires: created
            .as_ref()
            .map(|c| jst(&c.expires_at))
            .unwrap_or_default(),
        secret: created.map(|c| c.secret),
    })
}

/// `GET /account/tokens`
pub async fn page(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
) -> AppResult<Response> {
    let view = own_view(
        &state,
        &ctx,
        &me,
        &CreateForm::default(),
        FieldErrors::default(),
        None,
    )
    .await?;
    render(StatusCode::OK, &view)
}

/// `POST /account/tokens`: makes a token and shows its secret on the answer, once (it is
/// not kept anywhere a later page could show it again).
pub async fn create(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    CsrfForm(form): CsrfForm<CreateForm>,
) -> AppResult<Response> {
    let input = tokens::CreateInput {
        name: form.name.clone(),
        expires_days: form.expires_days.clone(),
        scopes: form.scopes(),
    };
    match tokens::create(&state, &me.actor(&ctx), input).await {
        Ok(created) => {
            let view = own_view(
                &state,
                &ctx,
                &me,
                &form,
                FieldErrors::default(),
                Some(created),
            )
            .await?;
            render(StatusCode::CREATED, &view)
        }
        Err(app::Error::Invalid(errors)) => {
            let view = own_view(&state, &ctx, &me, &form, errors, None).await?;
            render(StatusCode::UNPROCESSABLE_ENTITY, &view)
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /account/tokens/{id}/revoke`
pub async fn revoke_own(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Path(id): Path<Uuid>,
    CsrfForm(_): CsrfForm<Nothing>,
) -> AppResult<Response> {
    tokens::revoke(&state, &me.actor(&ctx), id, false).await?;
    Ok(redirect_with_flash(
        "/account/tokens",
        "flash.token_revoked",
        state.cookies.secure,
    ))
}

#[derive(Template)]
#[template(path = "tokens/admin.html")]
struct AdminView {
    page: Page,
    tokens: Vec<TokenItem>,
}

/// `GET /admin/api-tokens`: every token, live ones first (Center admin).
pub async fn admin_list(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
) -> AppResult<Response> {
    me.require(&[Role::CenterAdmin])?;
    let t = ctx.tr();
    let rows = tokens::all(&state, &me.actor(&ctx)).await?;
    render(
        StatusCode::OK,
        &AdminView {
            page: Page::new(&ctx, Some(&me)),
            tokens: rows.into_iter().map(|r| item(&t, r)).collect(),
        },
    )
}

/// `POST /admin/api-tokens/{id}/revoke`
pub async fn admin_revoke(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Path(id): Path<Uuid>,
    CsrfForm(_): CsrfForm<Nothing>,
) -> AppResult<Response> {
    me.require(&[Role::CenterAdmin])?;
    tokens::revoke(&state, &me.actor(&ctx), id, true).await?;
    Ok(redirect_with_flash(
        "/admin/api-tokens",
        "flash.token_revoked",
        state.cookies.secure,
    ))
}

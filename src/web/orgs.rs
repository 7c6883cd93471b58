//! Organisations, for Center staff: list, create (with the first org admin's invitation), show.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use uuid::Uuid;

use super::ctx::{CsrfForm, Ctx, CurrentUser};
use super::error::{AppError, AppResult};
use super::forms::FieldErrors;
use super::page::{Page, jst, redirect_with_flash, render};
use super::state::AppState;
use super::users::{InviteProblem, UserItem, invite_in_tx, mail_invitation, user_item};
use crate::db;
use crate::domain::{Email, Role, UserCode};

/// An organisation as lists show it.
pub struct OrgItem {
    pub id: Uuid,
    pub name: String,
    pub user_code: String,
    pub members: i64,
    pub created: String,
}

fn org_item(r: db::orgs::OrgRow) -> OrgItem {
    OrgItem {
        id: r.id,
        name: r.name,
        user_code: r.user_code,
        members: r.members,
        created: jst(&r.created_at),
    }
}

#[derive(Template)]
#[template(path = "orgs/list.html")]
struct ListView {
    page: Page,
    orgs: Vec<OrgItem>,
    can_create: bool,
}

/// `GET /admin/orgs`
pub async fn list(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
) -> AppResult<Response> {
    me.require(&[Role::CenterAdmin, Role::Reviewer])?;
    let orgs = db::orgs::list(&state.db, me.scope())
        .await?
        .into_iter()
        .map(org_item)
        .collect();
    let view = ListView {
        page: Page::new(&ctx, Some(&me)),
        orgs,
        can_create: me.role == Role::CenterAdmin,
    };
    render(StatusCode::OK, &view)
}

#[derive(Template)]
#[template(path = "orgs/new.html")]
struct NewView {
    page: Page,
    errors: FieldErrors,
    name: String,
    user_code: String,
    admin_email: String,
}

/// `GET /admin/orgs/new`
pub async fn new_page(ctx: Ctx, me: CurrentUser) -> AppResult<Response> {
    me.require(&[Role::CenterAdmin])?;
    let view = NewView {
        page: Page::new(&ctx, Some(&me)),
        errors: FieldErrors::default(),
        name: String::new(),
        user_code: String::new(),
        admin_email: String::new(),
    };
    render(StatusCode::OK, &view)
}

#[derive(Deserialize)]
pub struct NewForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    user_code: String,
    #[serde(default)]
    admin_email: String,
}

/// Checks an organisation name: 1 to 200 characters, no control characters.
fn parse_org_name(raw: &str) -> Result<String, &'static str> {
    let s = raw.trim();
    if s.is_empty() {
        Err("error.org_name_required")
    } else if s.chars().count() > 200 || s.chars().any(char::is_control) {
        Err("error.org_name_invalid")
    } else {
        Ok(s.to_string())
    }
}

/// `POST /admin/orgs`: creates the organisation and invites its first org admin, together.
pub async fn create(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    CsrfForm(form): CsrfForm<NewForm>,
) -> AppResult<Response> {
    me.require(&[Role::CenterAdmin])?;
    let mut errors = FieldErrors::default();
    let name = errors.take("name", parse_org_name(&form.name));
    let code = errors.take("user_code", UserCode::parse(&form.user_code));
    let email = errors.take("admin_email", Email::parse(&form.admin_email));
    if let (Some(name), Some(code), Some(email)) = (&name, &code, &email) {
        let mut tx = state.db.begin().await?;
        let org_id = match db::orgs::insert(&mut tx, name, code.as_str()).await {
            Ok(id) => Some(id),
            Err(e) if db::is_unique_violation(&e) => {
                errors.add("user_code", "error.user_code_taken");
                None
            }
            Err(e) => return Err(e.into()),
        };
        if let Some(org_id) = org_id {
            let mut entry = me.audit(
                &ctx,
                "organisation.created",
                Some(org_id),
                code.as_str().to_string(),
            );
            entry.detail = serde_json::json!({ "name": name });
            db::audit::append(&mut tx, &entry).await?;
            match invite_in_tx(
                &mut tx,
                &state,
                &ctx,
                &me,
                email,
                Role::OrgAdmin,
                Some(org_id),
            )
            .await
            {
                Ok((_, link)) => {
                    tx.commit().await?;
                    mail_invitation(
                        &state,
                        &me,
                        email,
                        Role::OrgAdmin,
                        format!("{name}（{}）", code.as_str()),
                        link,
                    )
                    .await;
                    return Ok(redirect_with_flash(
                        &format!("/admin/orgs/{org_id}"),
                        "flash.org_created",
                        state.cookies.secure,
                    ));
                }
                Err(InviteProblem::EmailTaken) => errors.add("admin_email", "error.email_taken"),
                Err(InviteProblem::Db(e)) => return Err(e.into()),
            }
        }
        // Dropping the transaction rolls back the organisation too: nothing half-made stays.
        drop(tx);
    }
    let view = NewView {
        page: Page::new(&ctx, Some(&me)),
        errors,
        name: form.name,
        user_code: form.user_code,
        admin_email: form.admin_email,
    };
    render(StatusCode::UNPROCESSABLE_ENTITY, &view)
}

#[derive(Template)]
#[template(path = "orgs/show.html")]
struct ShowView {
    page: Page,
    org: OrgItem,
    users: Vec<UserItem>,
    can_invite: bool,
    /// Whether the organisation requires a second factor of its users.
    second_factor_required: bool,
    hold: super::holds::HoldBox,
}

/// `GET /admin/orgs/{id}`
pub async fn show(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Path(id): Path<Uuid>,
) -> AppResult<Response> {
    me.require(&[Role::CenterAdmin, Role::Reviewer])?;
    let org = db::orgs::get(&state.db, me.scope(), id)
        .await?
        .ok_or(AppError::NotFound)?;
    let users = db::users::list(&state.db, me.scope(), Some(id), None)
        .await?
        .into_iter()
        .map(|u| user_item(u, &me))
        .collect();
    let view = ShowView {
        page: Page::new(&ctx, Some(&me)),
        org: org_item(org),
        users,
        can_invite: me.role == Role::CenterAdmin,
        second_factor_required: db::second_factor::org_requires(&state.db, me.scope(), id).await?,
        hold: super::holds::hold_box(&state, &me, id, None).await?,
    };
    render(StatusCode::OK, &view)
}

#[derive(Deserialize)]
pub struct SecondFactorForm {
    #[serde(default)]
    required: String,
}

/// `POST /admin/orgs/{id}/second-factor`: a Center admin requires (or stops requiring) a
/// second factor of the organisation's users; those without one set it up at their next
/// request.
pub async fn set_second_factor(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Path(id): Path<Uuid>,
    CsrfForm(form): CsrfForm<SecondFactorForm>,
) -> AppResult<Response> {
    me.require(&[Role::CenterAdmin])?;
    let required = match form.required.as_str() {
        "true" => true,
        "false" => false,
        _ => return Err(AppError::BadRequest),
    };
    let org = db::orgs::get(&state.db, me.scope(), id)
        .await?
        .ok_or(AppError::NotFound)?;
    let mut tx = state.db.begin().await?;
    if !db::second_factor::set_org_requires(&mut tx, id, required).await? {
        return Err(AppError::NotFound);
    }
    let mut e = me.audit(
        &ctx,
        "org.second_factor_requirement",
        Some(id),
        org.user_code.clone(),
    );
    e.detail = serde_json::json!({ "required": required });
    db::audit::append(&mut tx, &e).await?;
    tx.commit().await?;
    Ok(redirect_with_flash(
        &format!("/admin/orgs/{id}"),
        if required {
            "flash.org_second_factor_required"
        } else {
            "flash.org_second_factor_optional"
        },
        state.cookies.secure,
    ))
}

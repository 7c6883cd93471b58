//! Users: list, invite, disable/enable, change role. Center admins manage everyone;
//! an org admin manages the members of their own organisation.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use uuid::Uuid;

use super::ctx::{CsrfForm, Ctx, CurrentUser};
use super::error::{AppError, AppResult};
use super::forms::FieldErrors;
use super::onboarding::issue_link;
use super::page::{Page, jst, redirect_with_flash, render};
use super::state::AppState;
use crate::app::send_logged;
use crate::db::links::Purpose;
use crate::db::users::NewUser;
use crate::db::{self, Tx};
use crate::domain::{Email, Role};
use crate::mail::Outgoing;

/// A user as the list shows them.
pub struct UserItem {
    pub id: Uuid,
    pub name: String,
    pub email: String,
    pub role: Role,
    pub role_key: &'static str,
    pub org: String,
    pub status: String,
    pub status_key: &'static str,
    pub created: String,
    pub is_self: bool,
}

fn status_key(s: &str) -> &'static str {
    match s {
        "active" => "status.active",
        "invited" => "status.invited",
        _ => "status.disabled",
    }
}

/// Maps a list row to its view, for this page's viewer.
pub fn user_item(r: db::users::UserListRow, me: &CurrentUser) -> UserItem {
    let role = Role::parse(&r.role).unwrap_or(Role::OrgMember);
    UserItem {
        id: r.id,
        name: r.display_name,
        email: r.email,
        role,
        role_key: role.label_key(),
        org: match (r.org_code, r.org_name) {
            (Some(code), Some(name)) => format!("{name}（{code}）"),
            _ => String::new(),
        },
        status_key: status_key(&r.status),
        status: r.status,
        created: jst(&r.created_at),
        is_self: r.id == me.id,
    }
}

/// Roles this user may hand out.
pub fn grantable_roles(me: &CurrentUser) -> Vec<Role> {
    match me.role {
        Role::CenterAdmin => Role::ALL.to_vec(),
        Role::OrgAdmin => vec![Role::OrgMember, Role::OrgAdmin],
        _ => vec![],
    }
}

fn require_manager(me: &CurrentUser) -> AppResult<()> {
    me.require(&[Role::CenterAdmin, Role::OrgAdmin])
}

#[derive(Template)]
#[template(path = "users/list.html")]
struct ListView {
    page: Page,
    users: Vec<UserItem>,
    roles: Vec<Role>,
}

/// `GET /users`
pub async fn list(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
) -> AppResult<Response> {
    require_manager(&me)?;
    let rows = db::users::list(&state.db, me.scope(), None, None).await?;
    let view = ListView {
        page: Page::new(&ctx, Some(&me)),
        users: rows.into_iter().map(|r| user_item(r, &me)).collect(),
        roles: grantable_roles(&me),
    };
    render(StatusCode::OK, &view)
}

/// An organisation to choose when inviting.
pub struct OrgChoice {
    pub id: Uuid,
    pub label: String,
    pub selected: bool,
}

#[derive(Template)]
#[template(path = "users/invite.html")]
struct InviteView {
    page: Page,
    errors: FieldErrors,
    email: String,
    role: String,
    roles: Vec<Role>,
    orgs: Vec<OrgChoice>,
    show_org: bool,
}

#[derive(Deserialize, Default)]
pub struct InviteQuery {
    #[serde(default)]
    org: Option<Uuid>,
}

async fn invite_view(
    state: &AppState,
    ctx: &Ctx,
    me: &CurrentUser,
    errors: FieldErrors,
    email: String,
    role: String,
    org: Option<Uuid>,
) -> AppResult<InviteView> {
    let show_org = me.role == Role::CenterAdmin;
    let orgs = if show_org {
        db::orgs::list(&state.db, me.scope())
            .await?
            .into_iter()
            .map(|o| OrgChoice {
                selected: Some(o.id) == org,
                id: o.id,
                label: format!("{}（{}）", o.name, o.user_code),
            })
            .collect()
    } else {
        vec![]
    };
    Ok(InviteView {
        page: Page::new(ctx, Some(me)),
        errors,
        email,
        role,
        roles: grantable_roles(me),
        orgs,
        show_org,
    })
}

/// `GET /users/invite`
pub async fn invite_page(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Query(q): Query<InviteQuery>,
) -> AppResult<Response> {
    require_manager(&me)?;
    let default_role = if q.org.is_some() || me.role == Role::OrgAdmin {
        "org_member"
    } else {
        "reviewer"
    };
    let view = invite_view(
        &state,
        &ctx,
        &me,
        FieldErrors::default(),
        String::new(),
        default_role.into(),
        q.org,
    )
    .await?;
    render(StatusCode::OK, &view)
}

#[derive(Deserialize)]
pub struct InviteForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    org_id: String,
}

/// Why an invitation could not be made.
pub enum InviteProblem {
    EmailTaken,
    Db(sqlx::Error),
}

impl From<sqlx::Error> for InviteProblem {
    fn from(e: sqlx::Error) -> Self {
        InviteProblem::Db(e)
    }
}

/// Creates an invited user with a 72-hour link and its audit entry, inside `tx`;
/// answers the new user's id and the link to mail once committed.
pub async fn invite_in_tx(
    tx: &mut Tx,
    state: &AppState,
    ctx: &Ctx,
    me: &CurrentUser,
    email: &Email,
    role: Role,
    org_id: Option<Uuid>,
) -> Result<(Uuid, String), InviteProblem> {
    let new = NewUser {
        org_id,
        email: email.as_str(),
        display_name: "",
        role,
        status: "invited",
        password_hash: None,
    };
    let id = match db::users::insert(tx, &new).await {
        Ok(id) => id,
        Err(e) if db::is_unique_violation(&e) => return Err(InviteProblem::EmailTaken),
        Err(e) => return Err(e.into()),
    };
    let token = issue_link(tx, Purpose::Invitation, Some(id)).await?;
    let mut entry = me.audit(ctx, "user.invited", org_id, email.to_string());
    entry.detail = serde_json::json!({ "role": role.as_str() });
    db::audit::append(tx, &entry).await?;
    Ok((
        id,
        state
            .config
            .link(&format!("/invitations/accept?token={token}")),
    ))
}

/// Mails an invitation link.
pub async fn mail_invitation(
    state: &AppState,
    me: &CurrentUser,
    to: &Email,
    role: Role,
    org_label: String,
    link: String,
) {
    let ja = crate::i18n::Tr::new(crate::i18n::Lang::Ja);
    let en = crate::i18n::Tr::new(crate::i18n::Lang::En);
    let role_label = format!("{} / {}", ja.t(role.label_key()), en.t(role.label_key()));
    let out = Outgoing::new(
        to.to_string(),
        "mail.invitation",
        vec![
            ("inviter", me.name.clone()),
            ("role", role_label),
            ("org", org_label),
            ("link", link),
        ],
    );
    send_logged(state, out).await;
}

/// `POST /users/invite`
pub async fn invite(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    CsrfForm(form): CsrfForm<InviteForm>,
) -> AppResult<Response> {
    require_manager(&me)?;
    let mut errors = FieldErrors::default();
    let email = errors.take("email", Email::parse(&form.email));
    let role = Role::parse(&form.role).filter(|r| grantable_roles(&me).contains(r));
    if role.is_none() {
        errors.add("role", "error.role_invalid");
    }
    // An org admin always invites into their own organisation, whatever the form says.
    let org_id = match (me.role, role) {
        (Role::OrgAdmin, _) => me.org_id,
        (_, Some(r)) if r.is_org() => {
            let chosen = Uuid::parse_str(form.org_id.trim()).ok();
            match chosen {
                Some(id) if db::orgs::get(&state.db, me.scope(), id).await?.is_some() => Some(id),
                _ => {
                    errors.add("org_id", "error.org_required");
                    None
                }
            }
        }
        _ => None,
    };
    let org_pref = Uuid::parse_str(form.org_id.trim()).ok();
    if let (Some(email), Some(role), true) = (&email, role, errors.is_empty()) {
        let org = match org_id {
            Some(id) => db::orgs::get(&state.db, me.scope(), id)
                .await?
                .ok_or(AppError::NotFound)?,
            None if role.is_org() => return Err(AppError::NotFound),
            None => {
                return finish_invite(&state, &ctx, &me, email, role, None, String::new()).await;
            }
        };
        let label = format!("{}（{}）", org.name, org.user_code);
        return finish_invite(&state, &ctx, &me, email, role, Some(org.id), label).await;
    }
    let view = invite_view(&state, &ctx, &me, errors, form.email, form.role, org_pref).await?;
    render(StatusCode::UNPROCESSABLE_ENTITY, &view)
}

async fn finish_invite(
    state: &AppState,
    ctx: &Ctx,
    me: &CurrentUser,
    email: &Email,
    role: Role,
    org_id: Option<Uuid>,
    org_label: String,
) -> AppResult<Response> {
    let mut tx = state.db.begin().await?;
    match invite_in_tx(&mut tx, state, ctx, me, email, role, org_id).await {
        Ok((_, link)) => {
            tx.commit().await?;
            mail_invitation(state, me, email, role, org_label, link).await;
            Ok(redirect_with_flash(
                "/users",
                "flash.invited",
                state.cookies.secure,
            ))
        }
        Err(InviteProblem::EmailTaken) => {
            drop(tx);
            let mut errors = FieldErrors::default();
            errors.add("email", "error.email_taken");
            let view = invite_view(
                state,
                ctx,
                me,
                errors,
                email.to_string(),
                role.as_str().into(),
                org_id,
            )
            .await?;
            render(StatusCode::UNPROCESSABLE_ENTITY, &view)
        }
        Err(InviteProblem::Db(e)) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "users/show.html")]
struct ShowView {
    page: Page,
    user: UserItem,
    roles: Vec<Role>,
    /// Whether the user has a second factor (or is setting one up); shown to Center admins.
    second_factor: bool,
    /// Whether the viewer may reset it (a Center admin, not their own).
    can_reset_second_factor: bool,
}

/// `GET /users/{id}`: another organisation's user answers 404.
pub async fn show(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Path(id): Path<Uuid>,
) -> AppResult<Response> {
    require_manager(&me)?;
    let row = db::users::list(&state.db, me.scope(), None, Some(id))
        .await?
        .into_iter()
        .next()
        .ok_or(AppError::NotFound)?;
    let user = user_item(row, &me);
    let roles = grantable_roles(&me)
        .into_iter()
        .filter(|r| r.is_org() == user.role.is_org())
        .collect();
    let second_factor = db::second_factor::totp(&state.db, id)
        .await?
        .is_some_and(|t| t.totp_secret.is_some());
    let can_reset_second_factor = me.role == Role::CenterAdmin && !user.is_self;
    let view = ShowView {
        page: Page::new(&ctx, Some(&me)),
        user,
        roles,
        second_factor,
        can_reset_second_factor,
    };
    render(StatusCode::OK, &view)
}

#[derive(Deserialize)]
pub struct StatusForm {
    #[serde(default)]
    status: String,
}

/// `POST /users/{id}/status`: disable (ending every session) or re-enable.
pub async fn set_status(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Path(id): Path<Uuid>,
    CsrfForm(form): CsrfForm<StatusForm>,
) -> AppResult<Response> {
    require_manager(&me)?;
    let target = db::users::get(&state.db, me.scope(), id)
        .await?
        .ok_or(AppError::NotFound)?;
    let (status, action, flash) = match form.status.as_str() {
        "disabled" => ("disabled", "user.disabled", "flash.user_disabled"),
        "active" => ("active", "user.enabled", "flash.user_enabled"),
        _ => return Err(AppError::BadRequest),
    };
    if target.id == me.id {
        return Err(AppError::Forbidden);
    }
    // Only a Center admin manages Center staff.
    if Role::parse(&target.role).is_some_and(Role::is_center) && me.role != Role::CenterAdmin {
        return Err(AppError::NotFound);
    }
    if status == "active" && target.password_hash.is_none() {
        return Err(AppError::Conflict);
    }
    let mut tx = state.db.begin().await?;
    if db::users::set_status(&mut tx, me.scope(), id, status).await? == 1 {
        if status == "disabled" {
            db::sessions::delete_for_user(&mut tx, id).await?;
        }
        db::audit::append(
            &mut tx,
            &me.audit(&ctx, action, target.org_id, target.email.clone()),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(redirect_with_flash(
        &format!("/users/{id}"),
        flash,
        state.cookies.secure,
    ))
}

/// `POST /users/{id}/second-factor/reset`: a Center admin removes a user's second factor
/// (lost phone and recovery codes); the user sets up a new one. Audited and mailed.
pub async fn reset_second_factor(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Path(id): Path<Uuid>,
    CsrfForm(_): CsrfForm<super::forms::Nothing>,
) -> AppResult<Response> {
    me.require(&[Role::CenterAdmin])?;
    let target = db::users::get(&state.db, me.scope(), id)
        .await?
        .ok_or(AppError::NotFound)?;
    if target.id == me.id {
        return Err(AppError::Forbidden);
    }
    let mut tx = state.db.begin().await?;
    let had = db::second_factor::clear(&mut tx, id).await?;
    if had {
        db::audit::append(
            &mut tx,
            &me.audit(
                &ctx,
                "user.second_factor_reset",
                target.org_id,
                target.email.clone(),
            ),
        )
        .await?;
    }
    tx.commit().await?;
    if had {
        let state2 = state.clone();
        let (to, when) = (target.email.clone(), jst(&db::now()));
        let link = state.config.link("/account/second-factor");
        tokio::spawn(async move {
            send_logged(
                &state2,
                Outgoing::new(
                    to,
                    "mail.second_factor_reset",
                    vec![("time", when), ("link", link)],
                ),
            )
            .await;
        });
    }
    Ok(redirect_with_flash(
        &format!("/users/{id}"),
        "flash.second_factor_reset",
        state.cookies.secure,
    ))
}

#[derive(Deserialize)]
pub struct RoleForm {
    #[serde(default)]
    role: String,
}

/// `POST /users/{id}/role`: org roles stay org roles, Center roles stay Center roles.
pub async fn set_role(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Path(id): Path<Uuid>,
    CsrfForm(form): CsrfForm<RoleForm>,
) -> AppResult<Response> {
    require_manager(&me)?;
    let target = db::users::get(&state.db, me.scope(), id)
        .await?
        .ok_or(AppError::NotFound)?;
    let old = Role::parse(&target.role).ok_or(AppError::NotFound)?;
    let new = Role::parse(&form.role)
        .filter(|r| grantable_roles(&me).contains(r))
        .ok_or(AppError::BadRequest)?;
    if old.is_org() != new.is_org() || target.id == me.id {
        return Err(AppError::BadRequest);
    }
    let mut tx = state.db.begin().await?;
    if db::users::set_role(&mut tx, me.scope(), id, new).await? == 1 {
        let mut entry = me.audit(
            &ctx,
            "user.role_changed",
            target.org_id,
            target.email.clone(),
        );
        entry.detail = serde_json::json!({ "from": old.as_str(), "to": new.as_str() });
        db::audit::append(&mut tx, &entry).await?;
    }
    tx.commit().await?;
    Ok(redirect_with_flash(
        &format!("/users/{id}"),
        "flash.role_changed",
        state.cookies.secure,
    ))
}

//! Users: list, invite, disable/enable, change role, reset a second factor (the use cases
//! are `app::users`).

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use uuid::Uuid;

use crate::app::{
    self,
    users::{MANAGERS, UserStatus, grantable_roles},
};
use crate::domain::Role;
use crate::web::ctx::{CsrfForm, Ctx, CurrentUser};
use crate::web::error::AppResult;
use crate::web::forms::{FieldErrors, Nothing};
use crate::web::html::common::users::{UserItem, user_item};
use crate::web::page::{
    Page, Pager, SearchQuery, list_link, page_number, redirect_with_flash, render,
};
use crate::web::state::AppState;

#[derive(Template)]
#[template(path = "users/list.html")]
struct ListView {
    page: Page,
    users: Vec<UserItem>,
    roles: Vec<Role>,
    /// The search as typed.
    q: String,
    /// The role and status chosen (empty: any).
    role: String,
    status: String,
    statuses: [(&'static str, &'static str); 3],
    pager: Pager,
}

/// People a page of the list shows.
const PER_PAGE: usize = 200;

/// What the users list's address asks: the search, a role, a status and the page.
#[derive(Deserialize, Default)]
pub struct UsersQuery {
    #[serde(flatten)]
    search: SearchQuery,
    #[serde(default)]
    role: String,
    #[serde(default)]
    status: String,
}

/// `GET /users`: a page at a time, or those a search, a role or a status finds.
pub async fn list(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Query(UsersQuery {
        search: query,
        role,
        status,
    }): Query<UsersQuery>,
) -> AppResult<Response> {
    let wanted = crate::domain::input::folded(&query.q);
    let roles = grantable_roles(me.role);
    // A value the list does not offer is no filter.
    let role = Some(role)
        .filter(|r| roles.iter().any(|x| x.as_str() == r))
        .unwrap_or_default();
    let statuses = [
        ("active", "status.active"),
        ("invited", "status.invited"),
        ("disabled", "status.disabled"),
    ];
    let status = Some(status)
        .filter(|s| statuses.iter().any(|(v, _)| v == s))
        .unwrap_or_default();
    // An organisation's reading (フリガナ) and other user codes find its people too (the
    // Center's list).
    let org_words: std::collections::HashMap<Uuid, Vec<String>> =
        if me.role.is_center() && !wanted.is_empty() {
            app::orgs::list(&state, &me.actor(&ctx))
                .await?
                .into_iter()
                .map(|o| {
                    let mut words = o.other_codes;
                    words.push(o.name_kana);
                    (o.id, words)
                })
                .collect()
        } else {
            Default::default()
        };
    let users: Vec<UserItem> = app::users::list(&state, &me.actor(&ctx))
        .await?
        .into_iter()
        .filter(|r| {
            let mut texts = vec![
                r.display_name.as_str(),
                r.email.as_str(),
                r.org_name.as_deref().unwrap_or_default(),
                r.org_code.as_deref().unwrap_or_default(),
            ];
            if let Some(words) = r.org_id.and_then(|o| org_words.get(&o)) {
                texts.extend(words.iter().map(String::as_str));
            }
            (role.is_empty() || r.role == role)
                && (status.is_empty() || r.status == status)
                && crate::domain::input::found_in(&wanted, &texts)
        })
        .map(|r| user_item(r, me.id, ctx.tr().code(), state.config.center_second_factor))
        .collect();
    let q = query.q.trim().to_string();
    let pager = Pager::new(users.len(), PER_PAGE, page_number(&query.page), |n| {
        list_link(
            "/users",
            &[("q", &q), ("role", &role), ("status", &status)],
            n,
        )
    });
    let view = ListView {
        page: Page::new(&ctx, Some(&me)),
        users: pager.slice(users),
        pager,
        q,
        role,
        status,
        statuses,
        roles,
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
    /// The role to offer first (a link inviting an organisation's administrator, say).
    #[serde(default)]
    role: String,
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
        let mut orgs = app::orgs::list(state, &me.actor(ctx)).await?;
        orgs.sort_by_cached_key(|o| (o.name_order(), o.user_code.clone()));
        orgs.into_iter()
            .map(|o| OrgChoice {
                selected: Some(o.id) == org,
                id: o.id,
                label: crate::i18n::org_label(&o.name, &o.user_code, ctx.tr().code()),
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
        roles: grantable_roles(me.role),
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
    me.require(&MANAGERS)?;
    let default_role = if grantable_roles(me.role)
        .iter()
        .any(|r| r.as_str() == q.role)
    {
        q.role.as_str()
    } else if let Some(org) = q.org.filter(|_| me.role == Role::CenterAdmin) {
        // An organisation without an administrator needs one first.
        if app::users::without_admin(&state, &me.actor(&ctx), org).await? {
            "org_admin"
        } else {
            "org_member"
        }
    } else if me.role == Role::OrgAdmin {
        "org_member"
    } else {
        // The Center's invitations are to its staff or to an organisation: chosen, not taken
        // as offered.
        ""
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

/// `POST /users/invite`
pub async fn invite(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    CsrfForm(form): CsrfForm<InviteForm>,
) -> AppResult<Response> {
    let input = app::users::InviteInput {
        email: form.email.clone(),
        role: form.role.clone(),
        org: Uuid::parse_str(form.org_id.trim()).ok(),
    };
    match app::users::invite(&state, &me.actor(&ctx), &input).await {
        // The Center back on the organisation's page (its list shows the invitation);
        // otherwise the invited person's page, which names them.
        Ok((id, again)) => Ok(redirect_with_flash(
            &match input.org {
                Some(org) if me.role.is_center() => format!("/admin/orgs/{org}"),
                _ => format!("/users/{id}"),
            },
            if again {
                "flash.invited_again"
            } else {
                "flash.invited"
            },
            state.cookies.secure,
        )),
        Err(app::Error::Invalid(errors)) => {
            let view =
                invite_view(&state, &ctx, &me, errors, form.email, form.role, input.org).await?;
            render(StatusCode::UNPROCESSABLE_ENTITY, &view)
        }
        Err(e) => Err(e.into()),
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
    /// Whether one is required of them (they set it up at their next sign-in when missing).
    second_factor_required: bool,
    /// Their organisation, when they are its only active administrator (the page warns
    /// before they are disabled or given another role, and offers to invite another).
    only_admin_of: Option<Uuid>,
    /// Whether the viewer may reset it (a Center admin, not their own).
    can_reset_second_factor: bool,
    /// An invitation not accepted yet: when its link runs out (JST), and whether it has.
    invitation: Option<(String, bool)>,
}

/// `GET /users/{id}`: another organisation's user answers 404.
pub async fn show(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Path(id): Path<Uuid>,
) -> AppResult<Response> {
    let detail = app::users::one(&state, &me.actor(&ctx), id).await?;
    let only_admin_of = detail.user.org_id.filter(|_| detail.only_admin);
    let user = user_item(
        detail.user,
        me.id,
        ctx.tr().code(),
        state.config.center_second_factor,
    );
    let roles = grantable_roles(me.role)
        .into_iter()
        .filter(|r| r.is_org() == user.role.is_org())
        .collect();
    let can_reset_second_factor = me.role == Role::CenterAdmin && !user.is_self;
    let invitation = match user.status.as_str() {
        "invited" => app::users::invitation_expires(&state, id)
            .await?
            .map(|at| (crate::web::page::jst(&at), at <= chrono::Utc::now())),
        _ => None,
    };
    let view = ShowView {
        page: Page::new(&ctx, Some(&me)),
        user,
        roles,
        second_factor: detail.second_factor,
        second_factor_required: detail.second_factor_required,
        only_admin_of,
        can_reset_second_factor,
        invitation,
    };
    render(StatusCode::OK, &view)
}

#[derive(Deserialize)]
pub struct StatusForm {
    #[serde(default)]
    status: String,
    /// The page's 「確認しました」 box (disabling only).
    #[serde(default)]
    confirm: String,
}

/// A destructive change not confirmed on the page: nothing done, the page says why.
fn unconfirmed(state: &AppState, id: Uuid) -> Response {
    redirect_with_flash(
        &format!("/users/{id}"),
        "flash.user_confirm",
        state.cookies.secure,
    )
}

/// `POST /users/{id}/status`: disable (ending every session) or re-enable.
pub async fn set_status(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Path(id): Path<Uuid>,
    CsrfForm(form): CsrfForm<StatusForm>,
) -> AppResult<Response> {
    let status = UserStatus::parse(&form.status);
    if status == Some(UserStatus::Disabled) && form.confirm != "yes" {
        return Ok(unconfirmed(&state, id));
    }
    app::users::set_status(&state, &me.actor(&ctx), id, status).await?;
    let flash = match status {
        Some(UserStatus::Disabled) => "flash.user_disabled",
        _ => "flash.user_enabled",
    };
    Ok(redirect_with_flash(
        &format!("/users/{id}"),
        flash,
        state.cookies.secure,
    ))
}

#[derive(Deserialize)]
pub struct ConfirmForm {
    #[serde(default)]
    confirm: String,
}

/// `POST /users/{id}/invitation`: a new invitation link for a user who has not accepted theirs.
pub async fn resend_invitation(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Path(id): Path<Uuid>,
    CsrfForm(_): CsrfForm<Nothing>,
) -> AppResult<Response> {
    app::users::resend_invitation(&state, &me.actor(&ctx), id).await?;
    Ok(redirect_with_flash(
        &format!("/users/{id}"),
        "flash.invitation_resent",
        state.cookies.secure,
    ))
}

/// `POST /users/{id}/password-reset`: a manager mails a person a password-reset link.
pub async fn send_password_reset(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Path(id): Path<Uuid>,
    CsrfForm(_): CsrfForm<Nothing>,
) -> AppResult<Response> {
    app::users::send_password_reset(&state, &me.actor(&ctx), id).await?;
    Ok(redirect_with_flash(
        &format!("/users/{id}"),
        "flash.password_reset_sent",
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
    CsrfForm(form): CsrfForm<ConfirmForm>,
) -> AppResult<Response> {
    if form.confirm != "yes" {
        return Ok(unconfirmed(&state, id));
    }
    app::users::reset_second_factor(&state, &me.actor(&ctx), id).await?;
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
    /// The page's 「確認しました」 box (shown when the role is the organisation's only
    /// administrator's).
    #[serde(default)]
    confirm: String,
}

/// `POST /users/{id}/role`: org roles stay org roles, Center roles stay Center roles.
pub async fn set_role(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Path(id): Path<Uuid>,
    CsrfForm(form): CsrfForm<RoleForm>,
) -> AppResult<Response> {
    let actor = me.actor(&ctx);
    // The organisation's only administrator made a member leaves nobody to manage its users:
    // only once the page's box says so.
    if form.role != Role::OrgAdmin.as_str()
        && form.confirm != "yes"
        && app::users::one(&state, &actor, id).await?.only_admin
    {
        return Ok(unconfirmed(&state, id));
    }
    app::users::set_role(&state, &actor, id, &form.role).await?;
    Ok(redirect_with_flash(
        &format!("/users/{id}"),
        "flash.role_changed",
        state.cookies.secure,
    ))
}

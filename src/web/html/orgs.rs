//! Organisations, for Center staff: list, create (with the first org admin's invitation),
//! show, require a second factor (the use cases are `app::orgs`).

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use uuid::Uuid;

use crate::app::{self, orgs::NewOrgInput};
use crate::domain::Role;
use crate::web::ctx::{CsrfForm, Ctx, CurrentUser};
use crate::web::error::AppResult;
use crate::web::forms::FieldErrors;
use crate::web::html::common::holds;
use crate::web::html::common::users::{UserItem, user_item};
use crate::web::page::{
    Page, Pager, SearchQuery, jst, list_link, page_number, redirect_with_flash, render,
};
use crate::web::state::AppState;

/// An organisation as lists show it.
pub struct OrgItem {
    pub id: Uuid,
    pub name: String,
    pub user_code: String,
    /// The reading (フリガナ), empty when not given.
    pub name_kana: String,
    pub members: i64,
    pub created: String,
    /// Its other user codes (lists show them beside the primary one).
    pub other_codes: Vec<String>,
}

fn org_item(r: app::orgs::OrgRow) -> OrgItem {
    OrgItem {
        id: r.id,
        name: r.name,
        user_code: r.user_code,
        name_kana: r.name_kana,
        other_codes: r.other_codes,
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
    /// The search as typed.
    q: String,
    /// `name`: by the reading (五十音順); otherwise by user code.
    sort: String,
    pager: Pager,
}

/// What the organisations list's address asks: the search, the order and the page.
#[derive(Deserialize, Default)]
pub struct OrgsQuery {
    #[serde(flatten)]
    search: SearchQuery,
    #[serde(default)]
    sort: String,
}

/// Organisations a page of the list shows.
const PER_PAGE: usize = 200;

/// `GET /admin/orgs`: by user code, a page at a time, or those a search finds.
pub async fn list(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Query(OrgsQuery {
        search: query,
        sort,
    }): Query<OrgsQuery>,
) -> AppResult<Response> {
    let wanted = crate::domain::input::folded(&query.q);
    let mut rows: Vec<app::orgs::OrgRow> = app::orgs::list(&state, &me.actor(&ctx))
        .await?
        .into_iter()
        .filter(|o| o.found_by(&wanted))
        .collect();
    let sort = if sort == "name" {
        rows.sort_by_cached_key(|o| (o.name_order(), o.user_code.clone()));
        sort
    } else {
        String::new()
    };
    let orgs: Vec<OrgItem> = rows.into_iter().map(org_item).collect();
    let q = query.q.trim().to_string();
    let pager = Pager::new(orgs.len(), PER_PAGE, page_number(&query.page), |n| {
        list_link("/admin/orgs", &[("q", &q), ("sort", &sort)], n)
    });
    let view = ListView {
        page: Page::new(&ctx, Some(&me)),
        orgs: pager.slice(orgs),
        pager,
        q,
        sort,
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
    name_kana: String,
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
        name_kana: String::new(),
        user_code: String::new(),
        admin_email: String::new(),
    };
    render(StatusCode::OK, &view)
}

/// `POST /admin/orgs`: creates the organisation and invites its first org admin, together.
pub async fn create(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    CsrfForm(form): CsrfForm<NewOrgInput>,
) -> AppResult<Response> {
    match app::orgs::create(&state, &me.actor(&ctx), &form).await {
        Ok(org_id) => Ok(redirect_with_flash(
            &format!("/admin/orgs/{org_id}"),
            "flash.org_created",
            state.cookies.secure,
        )),
        Err(app::Error::Invalid(errors)) => {
            let view = NewView {
                page: Page::new(&ctx, Some(&me)),
                errors,
                name: form.name,
                name_kana: form.name_kana,
                user_code: form.user_code,
                admin_email: form.admin_email,
            };
            render(StatusCode::UNPROCESSABLE_ENTITY, &view)
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "orgs/show.html")]
struct ShowView {
    page: Page,
    org: OrgItem,
    /// What the organisation gave in its profile (reading, other codes, address, contact).
    profile: app::profile::Profile,
    /// Whether the organisation has no administrator (active or invited).
    no_admin: bool,
    users: Vec<UserItem>,
    can_invite: bool,
    /// Whether the organisation requires a second factor of its users.
    second_factor_required: bool,
    hold: holds::HoldBox,
}

/// `GET /admin/orgs/{id}`
pub async fn show(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Path(id): Path<Uuid>,
) -> AppResult<Response> {
    let detail = app::orgs::one(&state, &me.actor(&ctx), id).await?;
    let (profile, _) = app::profile::profile(&state, &me.actor(&ctx), id).await?;
    let users: Vec<UserItem> = detail
        .users
        .into_iter()
        .map(|u| user_item(u, me.id, ctx.tr().code(), state.config.center_second_factor))
        .collect();
    let view = ShowView {
        page: Page::new(&ctx, Some(&me)),
        org: org_item(detail.org),
        profile,
        // Nobody to invite and manage its users: neither an active nor an invited admin.
        no_admin: !users
            .iter()
            .any(|u| u.role == Role::OrgAdmin && u.status != "disabled"),
        users,
        can_invite: me.role == Role::CenterAdmin,
        second_factor_required: detail.second_factor_required,
        hold: holds::hold_box(&state, &me.actor(&ctx), id, None).await?,
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
    let required = match form.required.as_str() {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    };
    app::orgs::set_second_factor(&state, &me.actor(&ctx), id, required).await?;
    Ok(redirect_with_flash(
        &format!("/admin/orgs/{id}"),
        if required == Some(true) {
            "flash.org_second_factor_required"
        } else {
            "flash.org_second_factor_optional"
        },
        state.cookies.secure,
    ))
}

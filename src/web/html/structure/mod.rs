//! An organisation's structure: offices and gateway sites, their connections and their
//! administrators (管理責任者), and the compliance checklist built from them.
//! Org admins edit their own organisation; Center admins edit any; others read.

pub mod location;

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use uuid::Uuid;

use crate::app::orgs::OrgRow;
use crate::app::structure::locations::NewLocationInput;
use crate::app::{self, FieldErrors};
use crate::domain::ScopeKind;
use crate::web::ctx::{CsrfForm, Ctx, CurrentUser};
use crate::web::error::AppResult;
use crate::web::html::common::access::{org_for, reader};
use crate::web::html::common::checklist::{ChecklistItem, checklist_for};
use crate::web::html::common::locations::{LocationItem, location_items};
use crate::web::page::{Page, redirect_with_flash, render};
use crate::web::state::AppState;

#[derive(Template)]
#[template(path = "orgs/structure.html")]
struct StructureView {
    page: Page,
    org_id: Uuid,
    org_name: String,
    org_code: String,
    locations: Vec<LocationItem>,
    offices: Vec<(Uuid, String)>,
    can_edit: bool,
    checklist: Vec<ChecklistItem>,
    errors: FieldErrors,
    kind: String,
    name: String,
    address: String,
}

async fn structure_view(
    state: &AppState,
    ctx: &Ctx,
    me: &CurrentUser,
    org: OrgRow,
    errors: FieldErrors,
    form: Option<NewLocationForm>,
) -> AppResult<StructureView> {
    let s = app::structure::reads::structure(state, &reader(me), org.id).await?;
    let offices = s
        .locations
        .iter()
        .filter(|l| l.active && l.scope_kind() == ScopeKind::Office)
        .map(|l| (l.id, l.name.clone()))
        .collect();
    let locations = location_items(&s, &s.locations);
    let checklist = checklist_for(state, ctx, org.id).await?;
    let form = form.unwrap_or_default();
    Ok(StructureView {
        page: Page::new(ctx, Some(me)),
        org_id: org.id,
        org_name: org.name,
        org_code: org.user_code,
        locations,
        offices,
        can_edit: app::structure::can_edit(&reader(me)),
        checklist,
        errors,
        kind: if form.kind.is_empty() {
            "office".into()
        } else {
            form.kind
        },
        name: form.name,
        address: form.address,
    })
}

/// `GET /orgs/{org}`: structure and checklist.
pub async fn overview(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Path(org_id): Path<Uuid>,
) -> AppResult<Response> {
    let org = org_for(&state, &me, org_id, false).await?;
    let view = structure_view(&state, &ctx, &me, org, FieldErrors::default(), None).await?;
    render(StatusCode::OK, &view)
}

#[derive(Deserialize, Default)]
pub struct NewLocationForm {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    office_id: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    address: String,
}

/// `POST /orgs/{org}/locations`: a new office or gateway site.
pub async fn create_location(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Path(org_id): Path<Uuid>,
    CsrfForm(form): CsrfForm<NewLocationForm>,
) -> AppResult<Response> {
    let input = NewLocationInput {
        org: org_id,
        kind: form.kind.clone(),
        office: Uuid::parse_str(form.office_id.trim()).ok(),
        name: form.name.clone(),
        address: form.address.clone(),
    };
    match app::structure::locations::create_location(&state, &me.actor(&ctx), input).await {
        Ok(id) => Ok(redirect_with_flash(
            &format!("/orgs/{org_id}/locations/{id}"),
            "flash.location_created",
            state.cookies.secure,
        )),
        Err(app::Error::Invalid(errors)) => {
            let org = org_for(&state, &me, org_id, true).await?;
            let view = structure_view(&state, &ctx, &me, org, errors, Some(form)).await?;
            render(StatusCode::UNPROCESSABLE_ENTITY, &view)
        }
        Err(e) => Err(e.into()),
    }
}

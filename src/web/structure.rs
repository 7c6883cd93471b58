//! An organisation's structure: offices and gateway sites, their connections and their
//! administrators (管理責任者), and the compliance checklist built from them.
//! Org admins edit their own organisation; Center admins edit any; others read.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::NaiveDate;
use serde::Deserialize;
use unicode_normalization::UnicodeNormalization;
use uuid::Uuid;

use super::ctx::{CsrfForm, Ctx, CurrentUser};
use super::error::{AppError, AppResult};
use super::forms::{FieldErrors, Nothing};
use super::page::{Page, jst, redirect_with_flash, render};
use super::state::AppState;
use crate::db::appointments::NewAppointment;
use crate::db::structure::{LocationRow, NewLocation};
use crate::db::{self, orgs::OrgRow};
use crate::domain::{ConnectionForm, Email, Role, ScopeKind};

/// Resolves the organisation within the caller's scope (another organisation's id: 404);
/// `write` also requires an org admin of it or a Center admin (otherwise 403).
pub async fn org_for(
    state: &AppState,
    me: &CurrentUser,
    org_id: Uuid,
    write: bool,
) -> AppResult<OrgRow> {
    let org = db::orgs::get(&state.db, me.scope(), org_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if write && !matches!(me.role, Role::OrgAdmin | Role::CenterAdmin) {
        return Err(AppError::Forbidden);
    }
    Ok(org)
}

/// The organisation and one of its locations (404 for another organisation's).
pub async fn location_for(
    state: &AppState,
    me: &CurrentUser,
    org_id: Uuid,
    id: Uuid,
    write: bool,
) -> AppResult<(OrgRow, LocationRow)> {
    let org = org_for(state, me, org_id, write).await?;
    let loc = db::structure::get(&state.db, org_id, id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok((org, loc))
}

fn can_edit(me: &CurrentUser) -> bool {
    matches!(me.role, Role::OrgAdmin | Role::CenterAdmin)
}

/// Trims and NFKC-normalises nothing: Japanese text is kept exactly as typed, only trimmed.
fn text(raw: &str, max: usize, required: bool) -> Result<String, &'static str> {
    let s = raw.trim();
    if s.is_empty() && required {
        Err("error.required")
    } else if s.chars().count() > max || s.chars().any(|c| c.is_control() && c != '\n' && c != '\r')
    {
        Err("error.too_long")
    } else {
        Ok(s.to_string())
    }
}

/// A phone or fax number: digits with hyphens, spaces, parentheses or +; full width accepted.
pub fn phone_number(raw: &str, required: bool) -> Result<String, &'static str> {
    let s: String = raw.nfkc().collect::<String>().trim().to_string();
    if s.is_empty() {
        return if required {
            Err("error.required")
        } else {
            Ok(s)
        };
    }
    let digits = s.chars().filter(char::is_ascii_digit).count();
    if s.len() > 30 || digits < 6 || !s.chars().all(|c| c.is_ascii_digit() || "+-() ".contains(c)) {
        return Err("error.phone_invalid");
    }
    Ok(s)
}

/// A date typed as 2026-04-01, 2026/4/1 or in full-width digits.
pub use crate::domain::dates::date;

/// A checklist row as shown.
pub struct ChecklistItem {
    pub number: String,
    pub title: String,
    pub place: String,
    pub status: &'static str,
    pub status_key: &'static str,
    pub needs_action: bool,
    pub link: Option<String>,
}

/// Builds the checklist of one organisation in the page's language, each row linked to
/// where it is acted on.
pub async fn checklist_for(
    state: &AppState,
    ctx: &Ctx,
    org_id: Uuid,
) -> AppResult<Vec<ChecklistItem>> {
    let t = ctx.tr();
    let rows = crate::app::submissions::reads::checklist_of(state, org_id).await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let loc = r.unit.location;
            let link = match (r.open, r.item.as_str(), loc) {
                (Some(o), _, _) if o.instruction => {
                    Some(format!("/orgs/{org_id}/instructions/{}", o.id))
                }
                (Some(_), "gateway_logs", Some(loc)) => {
                    Some(format!("/orgs/{org_id}/locations/{loc}/gateway-logs"))
                }
                _ => None,
            }
            .or(match (r.item.as_str(), loc) {
                ("administrator", Some(loc)) => {
                    Some(format!("/orgs/{org_id}/locations/{loc}#appoint"))
                }
                ("id_management", None) => Some(format!("/orgs/{org_id}/id-management")),
                ("system_configuration", None) => {
                    Some(format!("/orgs/{org_id}/system-configuration"))
                }
                ("router_ports", Some(loc)) => {
                    Some(format!("/orgs/{org_id}/locations/{loc}#router"))
                }
                ("outside_connections", None) => {
                    Some(format!("/orgs/{org_id}/outside-connections"))
                }
                ("antivirus", None) => Some(format!("/orgs/{org_id}/antivirus")),
                ("inhouse_measures", None) => Some(format!("/orgs/{org_id}/inhouse-measures")),
                ("gateway_logs", Some(loc)) => {
                    Some(format!("/orgs/{org_id}/locations/{loc}/gateway-logs"))
                }
                _ => None,
            });
            ChecklistItem {
                title: if t.code() == "en" {
                    r.title_en
                } else {
                    r.title_ja
                },
                number: r.number,
                place: r
                    .unit
                    .name
                    .unwrap_or_else(|| t.t("checklist.whole_org").to_string()),
                status: r.status,
                status_key: r.status_key,
                needs_action: r.needs_action,
                link,
            }
        })
        .collect())
}

/// A location as lists show it.
pub struct LocationItem {
    pub id: Uuid,
    pub is_site: bool,
    pub name: String,
    pub address: String,
    pub active: bool,
    pub office_name: String,
    pub connections: Vec<ConnectionItem>,
    pub administrator: Option<String>,
    /// Department, phone and e-mail of the administrator.
    pub administrator_contact: String,
}

/// A connection as shown.
pub struct ConnectionItem {
    pub id: Uuid,
    pub form_key: &'static str,
    pub router_id: String,
    pub active: bool,
}

pub async fn location_items(
    state: &AppState,
    org_id: Uuid,
    rows: &[LocationRow],
) -> AppResult<Vec<LocationItem>> {
    let conns = db::structure::connections(&state.db, Some(org_id)).await?;
    let today = chrono::Utc::now().date_naive();
    let appts = db::appointments::list(&state.db, org_id).await?;
    let current = |loc: Uuid| {
        appts
            .iter()
            .find(|a| a.location_id == loc && a.effective_from <= today)
    };
    Ok(rows
        .iter()
        .map(|l| LocationItem {
            id: l.id,
            is_site: l.scope_kind() == ScopeKind::GatewaySite,
            name: l.name.clone(),
            address: l.address.clone(),
            active: l.active,
            office_name: l
                .office_id
                .and_then(|o| rows.iter().find(|r| r.id == o))
                .map(|r| r.name.clone())
                .unwrap_or_default(),
            connections: conns
                .iter()
                .filter(|c| c.location_id == l.id)
                .map(|c| ConnectionItem {
                    id: c.id,
                    form_key: c
                        .form()
                        .map(ConnectionForm::label_key)
                        .unwrap_or("form.unknown"),
                    router_id: c.router_id.clone(),
                    active: c.active,
                })
                .collect(),
            administrator: current(l.id).map(|a| a.name.clone()),
            administrator_contact: current(l.id)
                .map(|a| {
                    [a.department.as_str(), a.phone.as_str(), a.email.as_str()]
                        .iter()
                        .filter(|x| !x.is_empty())
                        .copied()
                        .collect::<Vec<_>>()
                        .join(" / ")
                })
                .unwrap_or_default(),
        })
        .collect())
}

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
    let rows = db::structure::list(&state.db, Some(org.id)).await?;
    let offices = rows
        .iter()
        .filter(|l| l.active && l.scope_kind() == ScopeKind::Office)
        .map(|l| (l.id, l.name.clone()))
        .collect();
    let locations = location_items(state, org.id, &rows).await?;
    let checklist = checklist_for(state, ctx, org.id).await?;
    let form = form.unwrap_or_default();
    Ok(StructureView {
        page: Page::new(ctx, Some(me)),
        org_id: org.id,
        org_name: org.name,
        org_code: org.user_code,
        locations,
        offices,
        can_edit: can_edit(me),
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
    let org = org_for(&state, &me, org_id, true).await?;
    let mut errors = FieldErrors::default();
    let kind = match form.kind.as_str() {
        "office" => Some(ScopeKind::Office),
        "gateway_site" => Some(ScopeKind::GatewaySite),
        _ => {
            errors.add("kind", "error.kind_invalid");
            None
        }
    };
    let office_id = if kind == Some(ScopeKind::GatewaySite) {
        match Uuid::parse_str(form.office_id.trim()) {
            Ok(id) => Some(id),
            Err(_) => {
                errors.add("office_id", "error.office_required");
                None
            }
        }
    } else {
        None
    };
    let name = errors.take("name", text(&form.name, 200, true));
    let address = errors.take("address", text(&form.address, 300, true));
    if let (Some(kind), Some(name), Some(address), true) = (kind, name, address, errors.is_empty())
    {
        let mut tx = state.db.begin().await?;
        let new = NewLocation {
            org_id,
            kind,
            office_id,
            name: &name,
            address: &address,
        };
        // A site under another organisation's office (or a made-up id) is not found: 404.
        let id = db::structure::insert(&mut tx, &new)
            .await?
            .ok_or(AppError::NotFound)?;
        let mut entry = me.audit(&ctx, "location.created", Some(org_id), id.to_string());
        entry.detail = serde_json::json!({ "kind": kind.as_str(), "name": name });
        db::audit::append(&mut tx, &entry).await?;
        tx.commit().await?;
        return Ok(redirect_with_flash(
            &format!("/orgs/{org_id}/locations/{id}"),
            "flash.location_created",
            state.cookies.secure,
        ));
    }
    let view = structure_view(&state, &ctx, &me, org, errors, Some(form)).await?;
    render(StatusCode::UNPROCESSABLE_ENTITY, &view)
}

/// An appointment as the history shows it.
pub struct AppointmentItem {
    pub name: String,
    pub name_kana: String,
    pub department: String,
    pub title: String,
    pub phone: String,
    pub emergency_contact: String,
    pub email: String,
    pub effective_from: String,
    pub notified: String,
}

fn appointment_item(a: db::appointments::AppointmentRow) -> AppointmentItem {
    AppointmentItem {
        name: a.name,
        name_kana: a.name_kana,
        department: a.department,
        title: a.title,
        phone: a.phone,
        emergency_contact: a.emergency_contact,
        email: a.email,
        effective_from: a.effective_from.format("%Y-%m-%d").to_string(),
        notified: jst(&a.created_at),
    }
}

/// The appointment form's values.
#[derive(Deserialize, Default, Clone)]
pub struct AppointForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    name_kana: String,
    #[serde(default)]
    department: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    emergency_contact: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    effective_from: String,
}

#[derive(Template)]
#[template(path = "orgs/location.html")]
struct LocationView {
    page: Page,
    org_id: Uuid,
    org_name: String,
    loc: LocationItem,
    version: i64,
    can_edit: bool,
    errors: FieldErrors,
    name: String,
    address: String,
    /// On a conflict: what this user tried to save.
    conflict: Option<(String, String)>,
    history: Vec<AppointmentItem>,
    query_date: String,
    on_date: Option<Option<AppointmentItem>>,
    appoint: AppointForm,
    forms: Vec<ConnectionForm>,
    /// The last router attestation: (submission id, receipt number, when).
    router_last: Option<(Uuid, String, String)>,
    router_checks: Vec<(&'static str, bool)>,
}

/// The three statements of §7.4.2(1), each a checkbox.
pub const ROUTER_CHECKS: [&str; 3] = ["lan_dedicated", "wan_unused", "console_unused"];

struct LocationEdit {
    errors: FieldErrors,
    name: Option<String>,
    address: Option<String>,
    conflict: Option<(String, String)>,
    appoint: AppointForm,
    query: Option<NaiveDate>,
    query_raw: String,
    router_checks: Vec<(&'static str, bool)>,
}

impl LocationEdit {
    fn none() -> LocationEdit {
        LocationEdit {
            errors: FieldErrors::default(),
            name: None,
            address: None,
            conflict: None,
            appoint: AppointForm::default(),
            query: None,
            query_raw: String::new(),
            router_checks: ROUTER_CHECKS.iter().map(|c| (*c, false)).collect(),
        }
    }
}

async fn location_view(
    state: &AppState,
    ctx: &Ctx,
    me: &CurrentUser,
    org: &OrgRow,
    id: Uuid,
    edit: LocationEdit,
) -> AppResult<LocationView> {
    let rows = db::structure::list(&state.db, Some(org.id)).await?;
    let row = rows
        .iter()
        .find(|l| l.id == id)
        .ok_or(AppError::NotFound)?
        .clone();
    let mut items = location_items(state, org.id, &rows).await?;
    let pos = items
        .iter()
        .position(|l| l.id == id)
        .ok_or(AppError::NotFound)?;
    let loc = items.swap_remove(pos);
    let history: Vec<AppointmentItem> = db::appointments::list(&state.db, org.id)
        .await?
        .into_iter()
        .filter(|a| a.location_id == id)
        .map(appointment_item)
        .collect();
    let on_date = match edit.query {
        Some(d) => Some(
            db::appointments::on_date(&state.db, org.id, id, d)
                .await?
                .map(appointment_item),
        ),
        None => None,
    };
    let mut appoint = edit.appoint;
    if appoint.effective_from.is_empty() {
        appoint.effective_from = chrono::Utc::now()
            .date_naive()
            .format("%Y-%m-%d")
            .to_string();
    }
    Ok(LocationView {
        page: Page::new(ctx, Some(me)),
        org_id: org.id,
        org_name: org.name.clone(),
        name: edit.name.unwrap_or_else(|| row.name.clone()),
        address: edit.address.unwrap_or_else(|| row.address.clone()),
        version: row.version,
        loc,
        can_edit: can_edit(me),
        errors: edit.errors,
        conflict: edit.conflict,
        history,
        query_date: edit.query_raw,
        on_date,
        appoint,
        forms: ConnectionForm::ALL.to_vec(),
        router_last: db::submissions::latest(&state.db, Some(org.id))
            .await?
            .into_iter()
            .find(|s| s.kind == "router_ports" && s.location_id == Some(id) && s.state != "draft")
            .map(|s| {
                (
                    s.id,
                    String::new(),
                    s.submitted_at.map(|t| jst(&t)).unwrap_or_default(),
                )
            }),
        router_checks: edit.router_checks,
    })
}

#[derive(Deserialize, Default)]
pub struct DateQuery {
    #[serde(default)]
    date: String,
}

/// `GET /orgs/{org}/locations/{id}`; `?date=YYYY-MM-DD` answers who was responsible that day.
pub async fn location_page(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Path((org_id, id)): Path<(Uuid, Uuid)>,
    Query(q): Query<DateQuery>,
) -> AppResult<Response> {
    let org = org_for(&state, &me, org_id, false).await?;
    let mut edit = LocationEdit::none();
    let mut status = StatusCode::OK;
    if !q.date.is_empty() {
        match date(&q.date) {
            Ok(d) => edit.query = Some(d),
            Err(k) => {
                edit.errors.add("date", k);
                status = StatusCode::UNPROCESSABLE_ENTITY;
            }
        }
        edit.query_raw = q.date;
    }
    let view = location_view(&state, &ctx, &me, &org, id, edit).await?;
    render(status, &view)
}

#[derive(Deserialize)]
pub struct EditLocationForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    address: String,
    #[serde(default)]
    version: String,
}

/// `POST /orgs/{org}/locations/{id}`: saves name and address unless someone saved first (409).
pub async fn update_location(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Path((org_id, id)): Path<(Uuid, Uuid)>,
    CsrfForm(form): CsrfForm<EditLocationForm>,
) -> AppResult<Response> {
    let (org, _) = location_for(&state, &me, org_id, id, true).await?;
    let version: i64 = form
        .version
        .trim()
        .parse()
        .map_err(|_| AppError::BadRequest)?;
    let mut edit = LocationEdit::none();
    let name = edit.errors.take("name", text(&form.name, 200, true));
    let address = edit.errors.take("address", text(&form.address, 300, true));
    if let (Some(name), Some(address)) = (&name, &address) {
        let mut tx = state.db.begin().await?;
        if db::structure::update(&mut tx, org_id, id, version, name, address).await? {
            let mut entry = me.audit(&ctx, "location.updated", Some(org_id), id.to_string());
            entry.detail = serde_json::json!({ "name": name, "address": address });
            db::audit::append(&mut tx, &entry).await?;
            tx.commit().await?;
            return Ok(redirect_with_flash(
                &format!("/orgs/{org_id}/locations/{id}"),
                "flash.saved",
                state.cookies.secure,
            ));
        }
        drop(tx);
        // Someone saved first: show their values, and what this user tried, side by side.
        edit.conflict = Some((name.clone(), address.clone()));
        edit.errors.add("_form", "error.changed_meanwhile");
        let view = location_view(&state, &ctx, &me, &org, id, edit).await?;
        return render(StatusCode::CONFLICT, &view);
    }
    edit.name = Some(form.name);
    edit.address = Some(form.address);
    let view = location_view(&state, &ctx, &me, &org, id, edit).await?;
    render(StatusCode::UNPROCESSABLE_ENTITY, &view)
}

#[derive(Deserialize)]
pub struct ActiveForm {
    #[serde(default)]
    active: String,
}

/// `POST /orgs/{org}/locations/{id}/active`: deactivate (never delete) or reactivate.
pub async fn set_location_active(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Path((org_id, id)): Path<(Uuid, Uuid)>,
    CsrfForm(form): CsrfForm<ActiveForm>,
) -> AppResult<Response> {
    location_for(&state, &me, org_id, id, true).await?;
    let active = match form.active.as_str() {
        "true" => true,
        "false" => false,
        _ => return Err(AppError::BadRequest),
    };
    let mut tx = state.db.begin().await?;
    if db::structure::set_active(&mut tx, org_id, id, active).await? {
        let action = if active {
            "location.reactivated"
        } else {
            "location.deactivated"
        };
        db::audit::append(
            &mut tx,
            &me.audit(&ctx, action, Some(org_id), id.to_string()),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(redirect_with_flash(
        &format!("/orgs/{org_id}/locations/{id}"),
        "flash.saved",
        state.cookies.secure,
    ))
}

#[derive(Deserialize)]
pub struct ConnectionFormData {
    #[serde(default)]
    form: String,
    #[serde(default)]
    router_id: String,
}

/// `POST /orgs/{org}/locations/{id}/connections`
pub async fn add_connection(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Path((org_id, id)): Path<(Uuid, Uuid)>,
    CsrfForm(form): CsrfForm<ConnectionFormData>,
) -> AppResult<Response> {
    let (org, _) = location_for(&state, &me, org_id, id, true).await?;
    let mut edit = LocationEdit::none();
    let kind = ConnectionForm::parse(&form.form);
    if kind.is_none() {
        edit.errors.add("form", "error.form_invalid");
    }
    let router = edit
        .errors
        .take("router_id", text(&form.router_id, 50, false));
    if let (Some(kind), Some(router)) = (kind, router) {
        let mut tx = state.db.begin().await?;
        let cid = db::structure::add_connection(&mut tx, org_id, id, kind, &router)
            .await?
            .ok_or(AppError::Conflict)?;
        let mut entry = me.audit(&ctx, "connection.added", Some(org_id), cid.to_string());
        entry.detail =
            serde_json::json!({ "location": id, "form": kind.as_str(), "router_id": router });
        db::audit::append(&mut tx, &entry).await?;
        tx.commit().await?;
        return Ok(redirect_with_flash(
            &format!("/orgs/{org_id}/locations/{id}"),
            "flash.saved",
            state.cookies.secure,
        ));
    }
    let view = location_view(&state, &ctx, &me, &org, id, edit).await?;
    render(StatusCode::UNPROCESSABLE_ENTITY, &view)
}

/// `POST /orgs/{org}/connections/{id}/deactivate`
pub async fn deactivate_connection(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Path((org_id, id)): Path<(Uuid, Uuid)>,
    CsrfForm(_): CsrfForm<Nothing>,
) -> AppResult<Response> {
    org_for(&state, &me, org_id, true).await?;
    let conn = db::structure::connections(&state.db, Some(org_id))
        .await?
        .into_iter()
        .find(|c| c.id == id)
        .ok_or(AppError::NotFound)?;
    let mut tx = state.db.begin().await?;
    if db::structure::deactivate_connection(&mut tx, org_id, id).await? {
        db::audit::append(
            &mut tx,
            &me.audit(&ctx, "connection.deactivated", Some(org_id), id.to_string()),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(redirect_with_flash(
        &format!("/orgs/{org_id}/locations/{}", conn.location_id),
        "flash.saved",
        state.cookies.secure,
    ))
}

/// `POST /orgs/{org}/locations/{id}/appointments`: records the appointment and notifies the
/// Center with a submission, in one transaction.
pub async fn appoint(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Path((org_id, id)): Path<(Uuid, Uuid)>,
    CsrfForm(form): CsrfForm<AppointForm>,
) -> AppResult<Response> {
    let (org, loc) = location_for(&state, &me, org_id, id, true).await?;
    if !loc.active {
        return Err(AppError::Conflict);
    }
    let mut edit = LocationEdit::none();
    let e = &mut edit.errors;
    let name = e.take("name", text(&form.name, 100, true));
    let name_kana = e.take("name_kana", text(&form.name_kana, 100, true));
    let department = e.take("department", text(&form.department, 100, true));
    let title = e.take("title", text(&form.title, 100, false));
    let tel = e.take("phone", phone_number(&form.phone, true));
    let emergency = e.take(
        "emergency_contact",
        phone_number(&form.emergency_contact, false),
    );
    let email = e.take("email", Email::parse(&form.email));
    let from = e.take("effective_from", date(&form.effective_from));
    if let (
        Some(name),
        Some(name_kana),
        Some(department),
        Some(title),
        Some(phone),
        Some(emergency_contact),
        Some(email),
        Some(effective_from),
    ) = (
        name, name_kana, department, title, tel, emergency, email, from,
    ) {
        let a = NewAppointment {
            name,
            name_kana,
            department,
            title,
            phone,
            emergency_contact,
            email: email.to_string(),
            effective_from,
        };
        let catalogue = state.catalogue().await?;
        let mut tx = state.db.begin().await?;
        let appointment = db::appointments::insert(&mut tx, org_id, id, &a, me.id).await?;
        let mut data = serde_json::to_value(&a).map_err(anyhow::Error::from)?;
        data["appointment_id"] = serde_json::json!(appointment);
        data["location"] = serde_json::json!({ "id": id, "kind": loc.kind, "name": loc.name });
        let submission = db::submissions::insert_submitted(
            &mut tx,
            &for_location(
                org_id,
                &loc,
                "administrator",
                data,
                catalogue.revision,
                me.id,
            ),
        )
        .await?;
        let mut entry = me.audit(
            &ctx,
            "appointment.notified",
            Some(org_id),
            submission.to_string(),
        );
        entry.detail = serde_json::json!({ "location": id, "appointment": appointment });
        db::audit::append(&mut tx, &entry).await?;
        tx.commit().await?;
        // The notification is a sealed report: its receipt comes next, as for every report.
        return Ok(redirect_with_flash(
            &format!("/orgs/{org_id}/submissions/{submission}/receipt"),
            "flash.appointment_notified",
            state.cookies.secure,
        ));
    }
    edit.appoint = form;
    let view = location_view(&state, &ctx, &me, &org, id, edit).await?;
    render(StatusCode::UNPROCESSABLE_ENTITY, &view)
}

/// A submission about one office or gateway site.
fn for_location<'a>(
    org_id: Uuid,
    loc: &LocationRow,
    kind: &'a str,
    data: serde_json::Value,
    revision: i64,
    by: Uuid,
) -> db::submissions::NewSubmission<'a> {
    db::submissions::NewSubmission {
        org_id,
        kind,
        scope_kind: loc.scope_kind(),
        location_id: Some(loc.id),
        data,
        catalogue_revision: revision,
        submitted_by: by,
    }
}

/// `POST /orgs/{org}/locations/{id}/router`: attests §7.4.2(1) for the location's NACCS router
/// (LAN port for NACCS only, WAN port unused, nothing on the console port) and submits it.
pub async fn attest_router(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Path((org_id, id)): Path<(Uuid, Uuid)>,
    CsrfForm(input): CsrfForm<std::collections::HashMap<String, String>>,
) -> AppResult<Response> {
    let org = org_for(&state, &me, org_id, false).await?;
    if me.role == Role::Reviewer {
        return Err(AppError::Forbidden);
    }
    let loc = db::structure::get(&state.db, org_id, id)
        .await?
        .ok_or(AppError::NotFound)?;
    if !loc.active {
        return Err(AppError::Conflict);
    }
    let mut edit = LocationEdit::none();
    edit.router_checks = ROUTER_CHECKS
        .iter()
        .map(|c| (*c, input.get(*c).is_some_and(|v| v == "yes")))
        .collect();
    for (c, on) in &edit.router_checks {
        if !on {
            edit.errors.add(format!("router.{c}"), "error.attest_each");
        }
    }
    if !edit.errors.is_empty() {
        let view = location_view(&state, &ctx, &me, &org, id, edit).await?;
        return render(StatusCode::UNPROCESSABLE_ENTITY, &view);
    }
    let routers: Vec<String> = db::structure::connections(&state.db, Some(org_id))
        .await?
        .into_iter()
        .filter(|c| c.active && c.location_id == id)
        .map(|c| c.router_id)
        .filter(|r| !r.is_empty())
        .collect();
    let catalogue = state.catalogue().await?;
    let data = serde_json::json!({
        "location": { "id": id, "kind": loc.kind, "name": loc.name },
        "routers": routers,
        "lan_dedicated": true, "wan_unused": true, "console_unused": true,
    });
    let mut tx = state.db.begin().await?;
    let sid = db::submissions::insert_submitted(
        &mut tx,
        &for_location(
            org_id,
            &loc,
            "router_ports",
            data,
            catalogue.revision,
            me.id,
        ),
    )
    .await?;
    db::audit::append(
        &mut tx,
        &me.audit(&ctx, "router.attested", Some(org_id), sid.to_string()),
    )
    .await?;
    tx.commit().await?;
    Ok(redirect_with_flash(
        &format!("/orgs/{org_id}/submissions/{sid}/receipt"),
        "flash.submitted",
        state.cookies.secure,
    ))
}

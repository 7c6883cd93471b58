//! One office or gateway site: its name and address, connections, administrator history
//! (who was responsible on a given day), the appointment form and the router attestation.

use std::collections::HashMap;
use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::NaiveDate;
use serde::Deserialize;
use uuid::Uuid;

use crate::app::orgs::OrgRow;
use crate::app::structure::appointments::{AppointInput, ROUTER_CHECKS};
use crate::app::structure::locations::{LocationEdit as Edit, NewConnection};
use crate::app::structure::reads::AppointmentRow;
use crate::app::{self, FieldErrors};
use crate::domain::ConnectionForm;
use crate::domain::input::date;
use crate::web::ctx::{CsrfForm, Ctx, CurrentUser};
use crate::web::error::{AppError, AppResult};
use crate::web::html::common::access::{org_for, reader};
use crate::web::html::common::form_confirm;
use crate::web::html::common::locations::{LocationItem, location_items};
use crate::web::page::{Page, jst, redirect_with_flash, render};
use crate::web::state::AppState;

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
    /// The sealed notification: its submission, receipt number and review state.
    pub receipt: Option<app::structure::reads::Notified>,
    /// The administrator today: the newest notice in effect (the history is newest first).
    pub current: bool,
}

fn appointment_item(a: AppointmentRow) -> AppointmentItem {
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
        receipt: None,
        current: false,
    }
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
    /// Each form's own errors: only the form that was posted shows any.
    details_errors: FieldErrors,
    connection_errors: FieldErrors,
    router_errors: FieldErrors,
    appoint_errors: FieldErrors,
    date_errors: FieldErrors,
    /// The connection form as posted, when it comes back with errors.
    connection_form: String,
    connection_router: String,
    name: String,
    address: String,
    /// On a conflict: what this user tried to save.
    conflict: Option<(String, String)>,
    history: Vec<AppointmentItem>,
    query_date: String,
    on_date: Option<Option<AppointmentItem>>,
    appoint: AppointInput,
    /// The form holds the current administrator's notice, to be corrected (`?correct=1`):
    /// their name.
    correcting: Option<String>,
    forms: Vec<ConnectionForm>,
    /// The last router attestation: (submission id, its state's label key, when).
    router_last: Option<(Uuid, String, String)>,
    router_checks: Vec<(&'static str, bool)>,
    /// An active connection (and with it a NACCS router) is recorded: its ports are attested.
    connected: bool,
    /// The identifiers of the routers attested (those given), as listed.
    routers: String,
    /// The seal's key of the router form and that of the appointment form (see
    /// `form_confirm`): one each, so that sealing one never answers the other's post.
    router_seal: form_confirm::Seal,
    appoint_seal: form_confirm::Seal,
    /// The router's or the appointment's form is shown again (from its 確認 page, or with
    /// errors): the page opens at it.
    router_back: bool,
    appoint_back: bool,
    /// The place keeps gateway send/receive logs (a gateway site, or an office with a gateway
    /// connection): its log page is linked.
    keeps_logs: bool,
}

/// The forms of the location page, to show errors on the one that was posted.
#[derive(Clone, Copy, PartialEq)]
enum Posted {
    Details,
    Connection,
    Router,
    Appoint,
    Date,
}

struct LocationEdit {
    posted: Posted,
    errors: FieldErrors,
    connection: (String, String),
    name: Option<String>,
    address: Option<String>,
    conflict: Option<(String, String)>,
    appoint: AppointInput,
    query: Option<NaiveDate>,
    query_raw: String,
    router_checks: Vec<(&'static str, bool)>,
    /// The key (and note) a one-step form was posted with (kept when it is shown again).
    seal: Option<form_confirm::Seal>,
    /// The appointment form is to start from the current administrator's notice.
    correct: bool,
}

impl LocationEdit {
    fn none() -> LocationEdit {
        LocationEdit {
            posted: Posted::Details,
            errors: FieldErrors::default(),
            connection: (String::new(), String::new()),
            name: None,
            address: None,
            conflict: None,
            appoint: AppointInput::default(),
            query: None,
            query_raw: String::new(),
            router_checks: ROUTER_CHECKS.iter().map(|c| (*c, false)).collect(),
            seal: None,
            correct: false,
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
    let actor = reader(me);
    let s = app::structure::reads::structure(state, &actor, org.id).await?;
    let row = s
        .locations
        .iter()
        .find(|l| l.id == id)
        .ok_or(AppError::NotFound)?
        .clone();
    let mut items = location_items(&s, &s.locations);
    let pos = items
        .iter()
        .position(|l| l.id == id)
        .ok_or(AppError::NotFound)?;
    let loc = items.swap_remove(pos);
    let connected = loc.connections.iter().any(|c| c.active);
    let routers = loc
        .connections
        .iter()
        .filter(|c| c.active && !c.router_id.is_empty())
        .map(|c| c.router_id.as_str())
        .collect::<Vec<_>>()
        .join(ctx.tr().t("ui.list_sep"));
    // Each appointment was notified as a sealed report: its receipt, by the appointment's id.
    let mut history: Vec<AppointmentItem> =
        app::structure::reads::appointment_history(state, &actor, org.id, id)
            .await?
            .into_iter()
            .map(|a| AppointmentItem {
                receipt: a.receipt,
                ..appointment_item(a.row)
            })
            .collect();
    let today = crate::domain::dates::today().format("%Y-%m-%d").to_string();
    if let Some(now) = history.iter_mut().find(|a| a.effective_from <= today) {
        now.current = true;
    }
    let on_date = match edit.query {
        Some(d) => Some(
            app::structure::reads::appointed_on(state, &actor, org.id, id, d)
                .await?
                .map(appointment_item),
        ),
        None => None,
    };
    let mut appoint = edit.appoint;
    // A correction starts from the notice in effect, its first day included, so that what
    // is sent reads as the same person's corrected details.
    let correcting = match history.iter().find(|a| a.current) {
        Some(now) if edit.correct => {
            appoint = AppointInput {
                name: now.name.clone(),
                name_kana: now.name_kana.clone(),
                department: now.department.clone(),
                title: now.title.clone(),
                phone: now.phone.clone(),
                emergency_contact: now.emergency_contact.clone(),
                email: now.email.clone(),
                effective_from: now.effective_from.clone(),
            };
            Some(now.name.clone())
        }
        _ => None,
    };
    if appoint.effective_from.is_empty() {
        // Today in Japan: the UTC day is yesterday there until 09:00 JST.
        appoint.effective_from = crate::domain::dates::today().format("%Y-%m-%d").to_string();
    }
    let mut errors = Some(edit.errors);
    let mut errors_of = |form: Posted| {
        if form == edit.posted {
            errors.take().unwrap_or_default()
        } else {
            FieldErrors::default()
        }
    };
    Ok(LocationView {
        details_errors: errors_of(Posted::Details),
        connection_errors: errors_of(Posted::Connection),
        router_errors: errors_of(Posted::Router),
        appoint_errors: errors_of(Posted::Appoint),
        date_errors: errors_of(Posted::Date),
        connection_form: edit.connection.0,
        connection_router: edit.connection.1,
        page: Page::new(ctx, Some(me)),
        org_id: org.id,
        org_name: org.name.clone(),
        name: edit.name.unwrap_or_else(|| row.name.clone()),
        address: edit.address.unwrap_or_else(|| row.address.clone()),
        version: row.version,
        loc,
        can_edit: app::structure::can_edit(&actor),
        keeps_logs: app::structure::reads::log_places(state, &actor, org.id)
            .await?
            .iter()
            .any(|l| l.id == id),
        conflict: edit.conflict,
        history,
        query_date: edit.query_raw,
        on_date,
        appoint_back: edit.posted == Posted::Appoint && edit.seal.is_some() || correcting.is_some(),
        appoint,
        correcting,
        forms: ConnectionForm::ALL.to_vec(),
        router_last: app::submissions::forms::versions_at(
            state,
            &actor,
            org.id,
            "router_ports",
            Some(id),
        )
        .await?
        .into_iter()
        .next()
        .map(|s| {
            (
                s.id,
                format!("checklist.status.{}", s.state),
                s.submitted_at.map(|t| jst(&t)).unwrap_or_default(),
            )
        }),
        router_checks: edit.router_checks,
        connected,
        routers,
        // The form shown again keeps its key; the other gets its own.
        router_back: edit.posted == Posted::Router && edit.seal.is_some(),
        router_seal: edit
            .seal
            .clone()
            .filter(|_| edit.posted == Posted::Router)
            .unwrap_or_default(),
        appoint_seal: edit
            .seal
            .filter(|_| edit.posted == Posted::Appoint)
            .unwrap_or_default(),
    })
}

#[derive(Deserialize, Default)]
pub struct DateQuery {
    #[serde(default)]
    date: String,
    /// Any value: the appointment form starts from the current administrator's notice.
    #[serde(default)]
    correct: String,
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
    edit.correct = !q.correct.is_empty();
    let mut status = StatusCode::OK;
    if !q.date.is_empty() {
        match date(&q.date) {
            Ok(d) => edit.query = Some(d),
            Err(k) => {
                edit.posted = Posted::Date;
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
    let version: i64 = form
        .version
        .trim()
        .parse()
        .map_err(|_| AppError::BadRequest)?;
    let input = Edit {
        org: org_id,
        location: id,
        version,
        name: form.name.clone(),
        address: form.address.clone(),
    };
    let mut edit = LocationEdit::none();
    let status =
        match app::structure::locations::update_location(&state, &me.actor(&ctx), input).await {
            Ok(()) => {
                return Ok(redirect_with_flash(
                    &format!("/orgs/{org_id}/locations/{id}"),
                    "flash.location_saved",
                    state.cookies.secure,
                ));
            }
            // Someone saved first: show their values, and what this user tried, side by side.
            Err(app::Error::Conflict(key)) => {
                edit.conflict = Some((
                    form.name.trim().to_string(),
                    form.address.trim().to_string(),
                ));
                edit.errors.add("_form", key);
                StatusCode::CONFLICT
            }
            Err(app::Error::Invalid(errors)) => {
                edit.errors = errors;
                edit.name = Some(form.name);
                edit.address = Some(form.address);
                StatusCode::UNPROCESSABLE_ENTITY
            }
            Err(e) => return Err(e.into()),
        };
    let org = org_for(&state, &me, org_id, false).await?;
    let view = location_view(&state, &ctx, &me, &org, id, edit).await?;
    render(status, &view)
}

#[derive(Deserialize)]
pub struct ActiveForm {
    #[serde(default)]
    active: String,
    /// The box ticked to confirm closing (the checkbox is required in the form).
    #[serde(default)]
    confirm: String,
}

/// A destructive action's confirmation box: required in the form, so only a hand-made
/// request comes without it.
#[derive(Deserialize)]
pub struct ConfirmForm {
    #[serde(default)]
    confirm: String,
}

/// `POST /orgs/{org}/locations/{id}/active`: deactivate (never delete) or reactivate.
pub async fn set_location_active(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Path((org_id, id)): Path<(Uuid, Uuid)>,
    CsrfForm(form): CsrfForm<ActiveForm>,
) -> AppResult<Response> {
    let actor = me.actor(&ctx);
    app::structure::location_for(&state, &actor, org_id, id, true).await?;
    let active = match form.active.as_str() {
        "true" => true,
        "false" if form.confirm == "yes" => false,
        _ => return Err(AppError::BadRequest),
    };
    app::structure::locations::set_location_active(&state, &actor, org_id, id, active).await?;
    Ok(redirect_with_flash(
        &format!("/orgs/{org_id}/locations/{id}"),
        if active {
            "flash.location_reopened"
        } else {
            "flash.location_closed"
        },
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
    let input = NewConnection {
        org: org_id,
        location: id,
        form: form.form.clone(),
        router_id: form.router_id.clone(),
    };
    match app::structure::locations::add_connection(&state, &me.actor(&ctx), input).await {
        Ok(_) => Ok(redirect_with_flash(
            &format!("/orgs/{org_id}/locations/{id}"),
            "flash.connection_added",
            state.cookies.secure,
        )),
        Err(app::Error::Invalid(errors)) => {
            let org = org_for(&state, &me, org_id, true).await?;
            let mut edit = LocationEdit::none();
            edit.posted = Posted::Connection;
            edit.errors = errors;
            edit.connection = (form.form, form.router_id);
            let view = location_view(&state, &ctx, &me, &org, id, edit).await?;
            render(StatusCode::UNPROCESSABLE_ENTITY, &view)
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /orgs/{org}/connections/{id}/deactivate`
pub async fn deactivate_connection(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Path((org_id, id)): Path<(Uuid, Uuid)>,
    CsrfForm(form): CsrfForm<ConfirmForm>,
) -> AppResult<Response> {
    if form.confirm != "yes" {
        return Err(AppError::BadRequest);
    }
    let location =
        app::structure::locations::deactivate_connection(&state, &me.actor(&ctx), org_id, id)
            .await?;
    Ok(redirect_with_flash(
        &format!("/orgs/{org_id}/locations/{location}"),
        "flash.connection_closed",
        state.cookies.secure,
    ))
}

/// `POST /orgs/{org}/locations/{id}/appointments`: checks the appointment and shows it as it
/// will be notified (確認); from there, records it and notifies the Center with a sealed
/// submission in one transaction, or shows the form again.
pub async fn appoint(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Path((org_id, id)): Path<(Uuid, Uuid)>,
    CsrfForm(fields): CsrfForm<HashMap<String, String>>,
) -> AppResult<Response> {
    let form: AppointInput = serde_json::to_value(&fields)
        .and_then(serde_json::from_value)
        .map_err(|_| AppError::BadRequest)?;
    let posted = form_confirm::Posted::of(&fields);
    let again = |errors: FieldErrors| {
        let mut edit = LocationEdit::none();
        edit.posted = Posted::Appoint;
        edit.errors = errors;
        edit.appoint = form.clone();
        edit.seal = Some(form_confirm::Seal::of(&fields));
        edit
    };
    let outcome = posted
        .outcome(app::structure::appointments::appoint_step(
            &state,
            &me.actor(&ctx),
            org_id,
            id,
            form.clone(),
            posted.step(),
        ))
        .await;
    if let Err(app::Error::Invalid(errors)) = outcome {
        let org = org_for(&state, &me, org_id, true).await?;
        let view = location_view(&state, &ctx, &me, &org, id, again(errors)).await?;
        return render(posted.again(), &view);
    }
    // The notification is a sealed report: its receipt comes next, as for every report.
    let confirm = form_confirm::FormOf {
        kind: "administrator",
        location: Some(id),
        action: format!("/orgs/{org_id}/locations/{id}/appointments"),
        fields: &fields,
    };
    form_confirm::answer(&state, &ctx, &me, org_id, posted, confirm, outcome).await
}

/// `POST /orgs/{org}/locations/{id}/router`: attests §7.4.2(1) for the location's NACCS router
/// (LAN port for NACCS only, WAN port unused, nothing on the console port) and submits it.
pub async fn attest_router(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Path((org_id, id)): Path<(Uuid, Uuid)>,
    CsrfForm(input): CsrfForm<HashMap<String, String>>,
) -> AppResult<Response> {
    let confirmed: Vec<&str> = ROUTER_CHECKS
        .iter()
        .copied()
        .filter(|c| input.get(*c).is_some_and(|v| v == "yes"))
        .collect();
    let posted = form_confirm::Posted::of(&input);
    let outcome = posted
        .outcome(app::structure::appointments::attest_router_step(
            &state,
            &me.actor(&ctx),
            org_id,
            id,
            &confirmed,
            posted.step(),
        ))
        .await;
    if let Err(app::Error::Invalid(errors)) = outcome {
        let status = posted.again();
        let org = org_for(&state, &me, org_id, false).await?;
        let mut edit = LocationEdit::none();
        edit.posted = Posted::Router;
        edit.errors = errors;
        edit.seal = Some(form_confirm::Seal::of(&input));
        edit.router_checks = ROUTER_CHECKS
            .iter()
            .map(|c| (*c, confirmed.contains(c)))
            .collect();
        let view = location_view(&state, &ctx, &me, &org, id, edit).await?;
        return render(status, &view);
    }
    let confirm = form_confirm::FormOf {
        kind: "router_ports",
        location: Some(id),
        action: format!("/orgs/{org_id}/locations/{id}/router"),
        fields: &input,
    };
    form_confirm::answer(&state, &ctx, &me, org_id, posted, confirm, outcome).await
}

//! §7.4.2(2) — connections to outside networks without the NACCS router. Every LAN or remote
//! connection goes to the Center's review as an application with a diagram; a remote
//! connection by modem or TA is refused at validation with the rule's wording.

use std::collections::HashMap;
use std::sync::Arc;

use askama::Template;
use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use uuid::Uuid;

use crate::app;
use crate::app::orgs::OrgRow;
use crate::app::outside::{self, Application, Connection, MAX_CONNECTIONS, field};
use crate::app::submissions::{Place, ReportKind};
use crate::web::ctx::{CsrfForm, Ctx, CurrentUser};
use crate::web::error::AppResult;
use crate::web::forms::FieldErrors;
use crate::web::html::common::access::{org_for, reader};
use crate::web::html::common::comments::{ReturnNote, page_return_note};
use crate::web::html::common::files::FileItem;
use crate::web::html::common::renewal::{DraftState, RenewalNote, ShownNote, draft_state};
use crate::web::html::common::to_confirm;
use crate::web::html::common::upload::receive_files;
use crate::web::page::{Page, jst, redirect_with_flash, render};
use crate::web::state::AppState;

/// An earlier application as listed.
pub struct Earlier {
    pub id: Uuid,
    pub receipt: String,
    pub at: String,
    /// Its state (`accepted`, …), and the label's key.
    pub state: String,
    pub state_key: String,
}

/// One connection's block of the form.
pub struct ConnRow {
    /// Its number on the page, from 1.
    pub number: usize,
    pub c: Connection,
    /// The blank block offered for one more connection.
    pub extra: bool,
    /// The accepted application it renews has this connection, as it is (引き継ぎ).
    pub carried: bool,
    /// The accepted application has a connection of this name: leaving it out ends it (廃止).
    pub accepted: bool,
    /// Its fields' names (`c{n}_{field}`).
    pub f: ConnFields,
}

/// The names of one connection's fields in the form and its errors.
pub struct ConnFields {
    pub name: String,
    pub connection_type: String,
    pub method: String,
    pub method_other: String,
    pub computers: String,
    pub description: String,
    pub outside_measures: String,
    /// The box that leaves the connection out of the application.
    pub remove: String,
}

/// The blocks of the form: the connections (a blank first one when there are none yet), then a
/// blank one to add another (while fewer than the most an application holds); each marked
/// against the `accepted` application's connections.
fn rows(app: &Application, accepted: &[Connection]) -> Vec<ConnRow> {
    let mut list: Vec<(Connection, bool)> =
        app.connections.iter().map(|c| (c.clone(), false)).collect();
    if list.is_empty() {
        list.push((Connection::default(), false));
    }
    if list.len() < MAX_CONNECTIONS {
        list.push((Connection::default(), true));
    }
    list.into_iter()
        .enumerate()
        .map(|(n, (c, extra))| ConnRow {
            number: n + 1,
            carried: !extra && accepted.contains(&c),
            accepted: !extra && accepted.iter().any(|a| a.name.trim() == c.name.trim()),
            c,
            extra,
            f: ConnFields {
                name: field(n, "name"),
                connection_type: field(n, "connection_type"),
                method: field(n, "method"),
                method_other: field(n, "method_other"),
                computers: field(n, "computers"),
                description: field(n, "description"),
                outside_measures: field(n, "outside_measures"),
                remove: field(n, "remove"),
            },
        })
        .collect()
}

#[derive(Template)]
#[template(path = "submissions/outside.html")]
struct OutsideView {
    page: Page,
    /// Why the version this draft revises was returned.
    returned: Option<ReturnNote>,
    org_id: Uuid,
    org_name: String,
    rows: Vec<ConnRow>,
    files: Vec<FileItem>,
    errors: FieldErrors,
    problems: Vec<String>,
    earlier: Vec<Earlier>,
    can_edit: bool,
    /// The version sent and not accepted yet, shown in place of a draft.
    shown: Option<ShownNote>,
    /// The accepted application this draft renews (or a new one would start from).
    renewal: Option<RenewalNote>,
    /// The open draft, when the reader may discard it (下書きを破棄).
    discard: Option<Uuid>,
    /// Connections of the accepted application this one leaves out (廃止), by name.
    removed: Vec<String>,
}

/// The connections of the accepted application a draft renews (none without one).
fn accepted_connections(drafted: &DraftState) -> Vec<Connection> {
    drafted
        .form
        .renewal
        .as_ref()
        .map(|r| Application::of(&r.data).connections)
        .unwrap_or_default()
}

async fn view(
    state: &AppState,
    ctx: &Ctx,
    me: &CurrentUser,
    org: &OrgRow,
    input: Option<Application>,
    errors: FieldErrors,
    problems: Vec<String>,
) -> AppResult<OutsideView> {
    let place = Place::org(org.id, ReportKind::OutsideConnections);
    let drafted = draft_state(state, &reader(me), &place).await?;
    let app = input.unwrap_or_else(|| Application::of(&drafted.data()));
    let earlier = drafted
        .form
        .sealed
        .iter()
        .map(|s| Earlier {
            id: s.id,
            receipt: s.receipt_no.clone().unwrap_or_default(),
            state: s.state.clone(),
            at: s.submitted_at.map(|t| jst(&t)).unwrap_or_default(),
            state_key: format!("checklist.status.{}", s.state),
        })
        .collect();
    let renewal = drafted.note(&ctx.tr());
    let accepted = accepted_connections(&drafted);
    let removed = accepted
        .iter()
        .filter(|a| {
            !app.connections
                .iter()
                .any(|c| c.name.trim() == a.name.trim())
        })
        .map(|a| a.name.clone())
        .collect();
    let may_report = app::submissions::may_report(&reader(me), org.id);
    let can_edit = drafted.editable(may_report);
    let discard = drafted.draft_id().filter(|_| can_edit);
    let shown = drafted.shown(&ctx.tr(), may_report);
    let returned = page_return_note(state, org.id, &drafted).await?;
    let files = drafted.files;
    Ok(OutsideView {
        returned,
        renewal,
        discard,
        files,
        page: Page::new(ctx, Some(me)),
        org_id: org.id,
        org_name: org.name.clone(),
        rows: rows(&app, &accepted),
        removed,
        errors,
        problems,
        earlier,
        can_edit,
        shown,
    })
}

/// The page, with the problems of a refused upload if any.
async fn show(
    state: &AppState,
    ctx: &Ctx,
    me: &CurrentUser,
    org_id: Uuid,
    status: StatusCode,
    problems: Vec<String>,
) -> AppResult<Response> {
    let org = org_for(state, me, org_id, false).await?;
    render(
        status,
        &view(state, ctx, me, &org, None, FieldErrors::default(), problems).await?,
    )
}

/// `GET /orgs/{org}/outside-connections`
pub async fn page(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Path(org_id): Path<Uuid>,
) -> AppResult<Response> {
    show(&state, &ctx, &me, org_id, StatusCode::OK, vec![]).await
}

/// `POST /orgs/{org}/outside-connections/files`: the connection diagram.
pub async fn upload(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Path(org_id): Path<Uuid>,
    form: Multipart,
) -> AppResult<Response> {
    let back = format!("/orgs/{org_id}/outside-connections");
    match receive_files(
        &state,
        &ctx,
        &me,
        Place::org(org_id, ReportKind::OutsideConnections),
        form,
        &back,
    )
    .await?
    {
        Ok(done) => Ok(done),
        Err(problems) => show(&state, &ctx, &me, org_id, problems.status, problems.list).await,
    }
}

/// `POST /orgs/{org}/outside-connections`: save the draft, or validate and submit for review.
/// Each connection's fields come as `c{n}_{field}`; blank blocks are left out.
pub async fn save_or_submit(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Path(org_id): Path<Uuid>,
    CsrfForm(input): CsrfForm<HashMap<String, String>>,
) -> AppResult<Response> {
    let actor = me.actor(&ctx);
    let application = Application::posted(&input);
    if input.get("action").map(String::as_str) != Some("submit") {
        outside::save(&state, &actor, org_id, &application).await?;
        return Ok(redirect_with_flash(
            &format!("/orgs/{org_id}/outside-connections"),
            "flash.draft_saved",
            state.cookies.secure,
        ));
    }
    match outside::save_and_check(&state, &actor, org_id, &application).await {
        Ok(draft) => Ok(to_confirm(org_id, draft)),
        // The draft keeps what was typed; nothing reaches the Center.
        Err(app::Error::Invalid(errors)) => {
            let org = org_for(&state, &me, org_id, false).await?;
            render(
                StatusCode::UNPROCESSABLE_ENTITY,
                &view(&state, &ctx, &me, &org, Some(application), errors, vec![]).await?,
            )
        }
        Err(e) => Err(e.into()),
    }
}

/// The connection `POST /orgs/{org}/outside-connections/restore` puts back.
#[derive(serde::Deserialize)]
pub struct RestoreForm {
    name: String,
}

/// `POST /orgs/{org}/outside-connections/restore` (「元に戻す」 beside a connection left out):
/// the accepted connection of that name goes back into the draft as it was accepted. The
/// page's script saves what was typed first (`data-keep-first`).
pub async fn restore(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Path(org_id): Path<Uuid>,
    CsrfForm(form): CsrfForm<RestoreForm>,
) -> AppResult<Response> {
    org_for(&state, &me, org_id, false).await?;
    let place = Place::org(org_id, ReportKind::OutsideConnections);
    let drafted = draft_state(&state, &reader(&me), &place).await?;
    let mut application = Application::of(&drafted.data());
    let name = form.name.trim();
    let back = format!("/orgs/{org_id}/outside-connections");
    let accepted = accepted_connections(&drafted);
    let Some(c) = accepted.into_iter().find(|c| c.name.trim() == name) else {
        return Err(crate::web::error::AppError::NotFound);
    };
    if application
        .connections
        .iter()
        .any(|x| x.name.trim() == name)
    {
        // Put back already (a second click).
        return Ok(redirect_with_flash(
            &back,
            "flash.connection_restored",
            state.cookies.secure,
        ));
    }
    if application.connections.len() >= MAX_CONNECTIONS {
        return Ok(redirect_with_flash(
            &back,
            "flash.connection_no_room",
            state.cookies.secure,
        ));
    }
    application.connections.push(c);
    outside::save(&state, &me.actor(&ctx), org_id, &application).await?;
    Ok(redirect_with_flash(
        &back,
        "flash.connection_restored",
        state.cookies.secure,
    ))
}

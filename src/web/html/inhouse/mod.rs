//! Item 5 — 社内セキュリティ対策: for servers, network devices and client terminals, each
//! measure of the source (subject authentication, access control, encryption, patches and
//! vulnerability measures, user authentication) with a status, a description and evidence.
//! Due when the Center requests it; an organisation may also submit on its own.

use std::collections::HashMap;
use std::sync::Arc;

use askama::Template;
use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use uuid::Uuid;

use crate::app;
use crate::app::inhouse::{self, AREAS, MEASURES, MeasureInput, STATUSES, cell_key};
use crate::app::orgs::OrgRow;
use crate::app::submissions::{Place, ReportKind};
use crate::web::ctx::{CsrfForm, Ctx, CurrentUser};
use crate::web::error::AppResult;
use crate::web::forms::FieldErrors;
use crate::web::html::common::access::{org_for, reader};
use crate::web::html::common::comments::{ReturnNote, page_return_note};
use crate::web::html::common::files::FileItem;
use crate::web::html::common::renewal::{RenewalNote, ShownNote, draft_state};
use crate::web::html::common::to_confirm;
use crate::web::html::common::upload::receive_files;
use crate::web::page::{Page, jst, redirect_with_flash, render};
use crate::web::state::AppState;

/// One cell of the grid as the form shows it.
pub struct Cell {
    pub area: &'static str,
    pub measure: &'static str,
    pub status: String,
    pub description: String,
}

#[derive(Template)]
#[template(path = "submissions/inhouse.html")]
struct InhouseView {
    page: Page,
    /// Why the version this draft revises was returned.
    returned: Option<ReturnNote>,
    org_id: Uuid,
    org_name: String,
    cells: Vec<Cell>,
    statuses: Vec<&'static str>,
    files: Vec<FileItem>,
    errors: FieldErrors,
    problems: Vec<String>,
    can_edit: bool,
    /// The version sent and not accepted yet, shown in place of a draft.
    shown: Option<ShownNote>,
    /// The Center's open request for this report: its due date and note.
    request: Option<(String, String)>,
    last: Option<(Uuid, String)>,
    /// The accepted report this draft renews (or a new one would start from).
    renewal: Option<RenewalNote>,
    /// The open draft, when the reader may discard it (下書きを破棄).
    discard: Option<Uuid>,
}

fn cells_from(get: impl Fn(&str) -> String) -> Vec<Cell> {
    let mut out = vec![];
    for area in AREAS {
        for measure in MEASURES {
            let key = |part: &str| cell_key(area, measure, part);
            out.push(Cell {
                area,
                measure,
                status: get(&key("status")),
                description: get(&key("desc")),
            });
        }
    }
    out
}

async fn view(
    state: &AppState,
    ctx: &Ctx,
    me: &CurrentUser,
    org: &OrgRow,
    input: Option<&HashMap<String, String>>,
    errors: FieldErrors,
    problems: Vec<String>,
) -> AppResult<InhouseView> {
    let place = Place::org(org.id, ReportKind::InhouseMeasures);
    let drafted = draft_state(state, &reader(me), &place).await?;
    let data = drafted.data();
    let cells = match input {
        Some(i) => cells_from(|k| i.get(k).cloned().unwrap_or_default()),
        None => cells_from(|k| data[k].as_str().unwrap_or("").to_string()),
    };
    let last = drafted
        .form
        .last()
        .map(|s| (s.id, s.submitted_at.map(|t| jst(&t)).unwrap_or_default()));
    let renewal = drafted.note(&ctx.tr());
    let may_report = app::submissions::may_report(&reader(me), org.id);
    let can_edit = drafted.editable(may_report);
    let discard = drafted.draft_id().filter(|_| can_edit);
    let shown = drafted.shown(&ctx.tr(), may_report);
    let returned = page_return_note(state, org.id, &drafted).await?;
    let request = drafted
        .form
        .request
        .clone()
        .map(|r| (r.due_date.to_string(), r.note));
    let files = drafted.files;
    Ok(InhouseView {
        returned,
        renewal,
        discard,
        files,
        page: Page::new(ctx, Some(me)),
        org_id: org.id,
        org_name: org.name.clone(),
        cells,
        statuses: STATUSES.to_vec(),
        errors,
        problems,
        can_edit,
        shown,
        request,
        last,
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

/// `GET /orgs/{org}/inhouse-measures`
pub async fn page(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Path(org_id): Path<Uuid>,
) -> AppResult<Response> {
    show(&state, &ctx, &me, org_id, StatusCode::OK, vec![]).await
}

/// `POST /orgs/{org}/inhouse-measures/files`: evidence files.
pub async fn upload(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Path(org_id): Path<Uuid>,
    form: Multipart,
) -> AppResult<Response> {
    let back = format!("/orgs/{org_id}/inhouse-measures");
    match receive_files(
        &state,
        &ctx,
        &me,
        Place::org(org_id, ReportKind::InhouseMeasures),
        form,
        &back,
    )
    .await?
    {
        Ok(done) => Ok(done),
        Err(problems) => show(&state, &ctx, &me, org_id, problems.status, problems.list).await,
    }
}

/// `POST /orgs/{org}/inhouse-measures`: save the draft, or check every cell and submit.
pub async fn save_or_submit(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Path(org_id): Path<Uuid>,
    CsrfForm(input): CsrfForm<HashMap<String, String>>,
) -> AppResult<Response> {
    let actor = me.actor(&ctx);
    let cells: Vec<MeasureInput> = cells_from(|k| input.get(k).cloned().unwrap_or_default())
        .into_iter()
        .map(|c| MeasureInput {
            area: c.area.to_string(),
            measure: c.measure.to_string(),
            status: c.status,
            description: c.description,
        })
        .collect();
    if input.get("action").is_none_or(|a| a != "submit") {
        inhouse::save(&state, &actor, org_id, &cells).await?;
        return Ok(redirect_with_flash(
            &format!("/orgs/{org_id}/inhouse-measures"),
            "flash.draft_saved",
            state.cookies.secure,
        ));
    }
    match inhouse::save_and_check(&state, &actor, org_id, &cells).await {
        Ok(draft) => Ok(to_confirm(org_id, draft)),
        Err(app::Error::Invalid(errors)) => {
            let org = org_for(&state, &me, org_id, false).await?;
            // The form's own summary counts the fields to fix and links them.
            render(
                StatusCode::UNPROCESSABLE_ENTITY,
                &view(&state, &ctx, &me, &org, Some(&input), errors, vec![]).await?,
            )
        }
        Err(e) => Err(e.into()),
    }
}

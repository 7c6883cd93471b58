//! §7.4.2(2) — connections to outside networks without the NACCS router. Every LAN or remote
//! connection goes to the Center's review as an application with a diagram; a remote
//! connection by modem or TA is refused at validation with the rule's wording.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use uuid::Uuid;

use crate::app;
use crate::app::orgs::OrgRow;
use crate::app::outside::{self, Application};
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

/// An earlier application as listed.
pub struct Earlier {
    pub id: Uuid,
    pub at: String,
    pub state_key: String,
}

#[derive(Template)]
#[template(path = "submissions/outside.html")]
struct OutsideView {
    page: Page,
    /// Why the version this draft revises was returned.
    returned: Option<ReturnNote>,
    org_id: Uuid,
    org_name: String,
    app: Application,
    files: Vec<FileItem>,
    errors: FieldErrors,
    problems: Vec<String>,
    earlier: Vec<Earlier>,
    can_edit: bool,
    /// The version sent and not accepted yet, shown in place of a draft.
    shown: Option<ShownNote>,
    /// The accepted application this draft renews (or a new one would start from).
    renewal: Option<RenewalNote>,
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
    let app = input.unwrap_or_else(|| serde_json::from_value(drafted.data()).unwrap_or_default());
    let earlier = drafted
        .form
        .sealed
        .iter()
        .map(|s| Earlier {
            id: s.id,
            at: s.submitted_at.map(|t| jst(&t)).unwrap_or_default(),
            state_key: format!("checklist.status.{}", s.state),
        })
        .collect();
    let renewal = drafted.note(&ctx.tr());
    let may_report = app::submissions::may_report(&reader(me), org.id);
    let can_edit = drafted.editable(may_report);
    let shown = drafted.shown(&ctx.tr(), may_report);
    let returned = page_return_note(state, org.id, &drafted).await?;
    let files = drafted.files;
    Ok(OutsideView {
        returned,
        renewal,
        files,
        page: Page::new(ctx, Some(me)),
        org_id: org.id,
        org_name: org.name.clone(),
        app,
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

#[derive(Deserialize)]
pub struct ApplicationForm {
    #[serde(flatten)]
    app: Application,
    #[serde(default)]
    action: String,
}

/// `POST /orgs/{org}/outside-connections`: save the draft, or validate and submit for review.
pub async fn save_or_submit(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Path(org_id): Path<Uuid>,
    CsrfForm(form): CsrfForm<ApplicationForm>,
) -> AppResult<Response> {
    let actor = me.actor(&ctx);
    if form.action != "submit" {
        outside::save(&state, &actor, org_id, &form.app).await?;
        return Ok(redirect_with_flash(
            &format!("/orgs/{org_id}/outside-connections"),
            "flash.draft_saved",
            state.cookies.secure,
        ));
    }
    match outside::save_and_check(&state, &actor, org_id, &form.app).await {
        Ok(draft) => Ok(to_confirm(org_id, draft)),
        // The draft keeps what was typed; nothing reaches the Center.
        Err(app::Error::Invalid(errors)) => {
            let org = org_for(&state, &me, org_id, false).await?;
            render(
                StatusCode::UNPROCESSABLE_ENTITY,
                &view(&state, &ctx, &me, &org, Some(form.app), errors, vec![]).await?,
            )
        }
        Err(e) => Err(e.into()),
    }
}

//! The printable receipt (受付票) of a sealed submission, and the organisation's way back
//! from a returned one: revising it as version N+1.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use uuid::Uuid;

use crate::app;
use crate::domain::Scope;
use crate::web::ctx::{CsrfForm, Ctx, CurrentUser};
use crate::web::error::{AppError, AppResult};
use crate::web::forms::Nothing;
use crate::web::html::common::access::{org_for, reader};
use crate::web::html::common::comments::{
    CommentBox, CommentForm, CommentItem, comment_refusal, thread,
};
use crate::web::html::common::report::{self, Report};
use crate::web::html::common::{draft_gone, draft_page};
use crate::web::page::{Page, jst, redirect_with_flash, render};
use crate::web::state::AppState;

#[derive(Template)]
#[template(path = "submissions/receipt.html")]
pub struct ReceiptView {
    page: Page,
    org_id: Uuid,
    /// Its name as the report sealed it (the receipt's own).
    sealed_org: String,
    org_code: String,
    receipt_no: String,
    submitted_at: String,
    revision: i64,
    submitter: String,
    /// The declared content in words (the same view the reviewer reads).
    report: Report,
    /// It holds files (the receipt tells how to check them).
    has_files: bool,
    /// The current state and its locale key.
    state: String,
    state_key: String,
    /// When this page was made (printed).
    printed_at: String,
    /// The code that proves a printed receipt genuine (see `/review/verify`).
    code: String,
    submission_id: Uuid,
    /// Every version of this submission: (id, version, receipt, status key).
    versions: Vec<(Uuid, i64, String, String)>,
    /// (status key, reason) once the Center decided.
    decision: Option<(String, String)>,
    comments: Vec<CommentItem>,
    pub comment_box: CommentBox,
    can_revise: bool,
    /// A newer report of the same item and place sent after this one: (id, receipt, status
    /// key). A returned report it replaced is not revised.
    newer: Option<(Uuid, String, String)>,
    /// The page of the next version while it is a draft (修正を続ける).
    continue_at: Option<String>,
    /// The way back: the page of the office or site the report is about, else the
    /// organisation's (href, name).
    back: (String, String),
}

/// `GET /orgs/{org}/submissions/{id}/receipt`: the printable 受付票.
pub async fn receipt(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Path((org_id, id)): Path<(Uuid, Uuid)>,
) -> AppResult<Response> {
    render(
        StatusCode::OK,
        &receipt_view(&state, &ctx, &me, org_id, id).await?,
    )
}

/// The receipt page of a sealed submission of the organisation.
pub async fn receipt_view(
    state: &AppState,
    ctx: &Ctx,
    me: &CurrentUser,
    org_id: Uuid,
    id: Uuid,
) -> AppResult<ReceiptView> {
    let org = org_for(state, me, org_id, false).await?;
    let actor = reader(me);
    let r = app::submissions::forms::receipt(state, &actor, org_id, id).await?;
    let s = &r.row;
    let snap: serde_json::Value = serde_json::from_str(&r.snapshot).map_err(anyhow::Error::from)?;
    let t = ctx.tr();
    let places = report::places(state, &actor, org_id).await?;
    let report = report::of_submission(state, &actor, t, s, &places, false).await?;
    let state_now = r.state.clone();
    let versions = r.versions;
    let continue_at = versions
        .iter()
        .find(|v| v.version == s.version + 1 && v.state == "draft")
        .and_then(|v| Some(draft_page(org_id, v.id, &app::submissions::Drafted::of(s)?)))
        .filter(|_| app::submissions::revise::may_revise(&reader(me), org_id, &s.kind));
    let back = match s.location_id.and_then(|l| Some((l, places.get(&l)?))) {
        Some((l, place)) => (format!("/orgs/{org_id}/locations/{l}"), place.name.clone()),
        None => (format!("/orgs/{org_id}"), org.name.clone()),
    };
    let view = ReceiptView {
        back,
        page: Page::new(ctx, Some(me)),
        org_id,
        sealed_org: sealed_as(&snap["org"]["name"], org.name),
        org_code: sealed_as(&snap["org"]["user_code"], org.user_code),
        code: r.code,
        receipt_no: r.receipt_no,
        submitted_at: s.submitted_at.map(|t| jst(&t)).unwrap_or_default(),
        revision: s.catalogue_revision,
        submitter: format!(
            "{} <{}>",
            snap["submitter"]["name"].as_str().unwrap_or(""),
            snap["submitter"]["email"].as_str().unwrap_or("")
        ),
        report,
        has_files: snap["files"].as_array().is_some_and(|f| !f.is_empty()),
        state_key: format!("checklist.status.{state_now}"),
        state: state_now,
        printed_at: jst(&chrono::Utc::now()),
        submission_id: id,
        comments: thread(state, Scope::Org(org_id), id, !me.role.is_center()).await?,
        comment_box: CommentBox::new(format!("/orgs/{org_id}/submissions/{id}/comments")),
        can_revise: s.state == "returned"
            && r.newer.is_none()
            && app::submissions::revise::may_revise(&reader(me), org_id, &s.kind)
            && !versions.iter().any(|v| v.version > s.version),
        newer: r.newer.as_ref().map(|n| {
            (
                n.id,
                n.receipt_no.clone().unwrap_or_default(),
                format!("checklist.status.{}", n.org_state()),
            )
        }),
        continue_at,
        versions: versions
            .into_iter()
            .filter_map(|v| {
                let key = format!("checklist.status.{}", v.org_state());
                v.receipt_no.map(|r| (v.id, v.version, r, key))
            })
            .collect(),
        decision: r
            .decision
            .map(|d| (format!("checklist.status.{}", d.decision), d.reason)),
    };
    Ok(view)
}

/// `POST /orgs/{org}/submissions/{id}/revise`: opens version N+1 of a returned submission.
pub async fn revise(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Path((org_id, id)): Path<(Uuid, Uuid)>,
    CsrfForm(_): CsrfForm<Nothing>,
) -> AppResult<Response> {
    let revision = app::submissions::revise(&state, &me.actor(&ctx), org_id, id).await?;
    let page = draft_page(org_id, revision.draft, &revision.what);
    if page.ends_with('/') {
        return Err(AppError::NotFound);
    }
    Ok(redirect_with_flash(
        &page,
        // A repeated click lands on the version the first one opened.
        if revision.revising {
            "flash.revising"
        } else {
            "flash.draft_already_open"
        },
        state.cookies.secure,
    ))
}

#[derive(serde::Deserialize)]
pub struct DiscardForm {
    /// The page the button was on (where a second click lands).
    #[serde(default)]
    back: String,
}

/// `POST /orgs/{org}/submissions/{id}/discard`: the draft discarded, back to its item's page
/// (a correction: to the returned report's receipt). A draft gone already (a second click,
/// or sealed meanwhile) is said on the page the button was on.
pub async fn discard(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Path((org_id, id)): Path<(Uuid, Uuid)>,
    CsrfForm(form): CsrfForm<DiscardForm>,
) -> AppResult<Response> {
    match app::submissions::discard::discard(&state, &me.actor(&ctx), org_id, id).await {
        Ok(done) => {
            let page = match (done.what, done.revised_from) {
                (app::submissions::Drafted::Form(_), Some(from)) => {
                    format!("/orgs/{org_id}/submissions/{from}/receipt")
                }
                (what, _) => draft_page(org_id, id, &what),
            };
            Ok(redirect_with_flash(
                &page,
                "flash.draft_discarded",
                state.cookies.secure,
            ))
        }
        Err(e @ (app::Error::NotFound | app::Error::Conflict(_))) => {
            draft_gone(org_id, &form.back, state.cookies.secure).ok_or_else(|| e.into())
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /orgs/{org}/submissions/{id}/comments`
pub async fn comment_org(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Path((org_id, id)): Path<(Uuid, Uuid)>,
    CsrfForm(form): CsrfForm<CommentForm>,
) -> AppResult<Response> {
    let actor = me.actor(&ctx);
    if let Err(e) = app::review::comment(&state, &actor, Some(org_id), id, &form.body).await {
        let Some(key) = comment_refusal(&e) else {
            return Err(e.into());
        };
        // The receipt page, where the organisation's thread is.
        let mut view = receipt_view(&state, &ctx, &me, org_id, id).await?;
        view.comment_box.draft = form.body;
        view.comment_box.error = Some(key);
        return render(StatusCode::UNPROCESSABLE_ENTITY, &view);
    }
    Ok(redirect_with_flash(
        &format!("/orgs/{org_id}/submissions/{id}/receipt#comments"),
        "flash.commented",
        state.cookies.secure,
    ))
}

/// A name as the snapshot sealed it; `now` for a report sealed before snapshots kept it.
pub fn sealed_as(sealed: &serde_json::Value, now: String) -> String {
    sealed.as_str().map_or(now, str::to_string)
}

//! `GET /review/{id}`: one sealed submission as a reviewer reads it, with the decision form,
//! taking it, and the comment thread.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use uuid::Uuid;

use crate::app::{self, review::Sealed};
use crate::domain::Scope;
use crate::web::ctx::{CsrfForm, Ctx, CurrentUser};
use crate::web::error::AppResult;
use crate::web::forms::FieldErrors;
use crate::web::html::common::comments::{
    CommentBox, CommentForm, CommentItem, ReturnNote, comment_refusal, return_note_named,
};
use crate::web::html::common::files::{FileItem, sealed_file_item};
use crate::web::html::common::holds;
use crate::web::html::common::instructions::{InstructionItem, instruction_item};
use crate::web::html::common::locations;
use crate::web::html::common::logcheck;
use crate::web::html::common::report::{self, Comparison, Report};
use crate::web::page::{Page, jst, redirect_with_flash, render};
use crate::web::state::AppState;

/// A version as listed.
pub struct VersionItem {
    pub id: Uuid,
    pub version: i64,
    pub state_key: String,
    pub receipt: String,
    pub current: bool,
}

#[derive(Template)]
#[template(path = "review/show.html")]
pub(super) struct ShowView {
    page: Page,
    id: Uuid,
    org_id: Uuid,
    org_name: String,
    org_code: String,
    version: i64,
    state: String,
    state_key: String,
    receipt: String,
    submitted: String,
    /// Who submitted it: name and address.
    submitter: (String, String),
    /// The declared content in words, with the summary a reviewer reads first.
    report: Report,
    files: Vec<FileItem>,
    /// Some file is shown in the page (an image or a PDF), not only offered for download.
    previewed: bool,
    versions: Vec<VersionItem>,
    /// A newer report of the same item and place (a report of its own, sealed after this one).
    newer: Option<VersionItem>,
    /// What changed since the previous sealed version, and since the accepted report the
    /// series was opened from, in the same words.
    comparisons: Vec<Comparison>,
    decision: Option<(String, String, String, String)>,
    /// The next submission waiting for a decision: (id, receipt, organisation, item).
    next: Option<(Uuid, String, String, String)>,
    can_decide: bool,
    errors: FieldErrors,
    reason: String,
    assignee: Option<String>,
    can_take: bool,
    can_release: bool,
    comments: Vec<CommentItem>,
    /// How many comments the organisation wrote, and its latest (shown by the summary, so a
    /// note sent with the report is read before deciding).
    org_note: Option<(usize, String)>,
    pub(super) comment_box: CommentBox,
    instructions: Vec<InstructionItem>,
    /// The request (提出依頼) this submission answered, in words.
    answers: Option<String>,
    locations: Vec<locations::LocationItem>,
    hold: holds::HoldBox,
    /// The Table 7-4-2 check of each gateway log, in words, as kept when it uploaded (in place
    /// of the report's table of sealed totals, which shows when a kept check is missing).
    log_checks: Vec<logcheck::CheckView>,
    /// Why the version this one revises was returned, with that version's comments.
    returned: Option<ReturnNote>,
    /// The canned return reasons in use: (id, title, text).
    reasons: Vec<(Uuid, String, String)>,
    /// The canned reason chosen (as the form sent it).
    canned: String,
    /// The decision chosen (as the form sent it), kept when the form comes back.
    decision_chosen: String,
    /// The 「新しい届出を確認した」 box, as it was sent.
    newer_seen: bool,
}

pub(super) async fn show_view(
    state: &AppState,
    ctx: &Ctx,
    me: &CurrentUser,
    id: Uuid,
    errors: FieldErrors,
    reason: String,
) -> AppResult<ShowView> {
    let actor = me.actor(ctx);
    let s: Sealed = app::review::sealed(state, &actor, id).await?;
    let t = ctx.tr();
    let catalogue = state.catalogue().await?;
    let places = report::places(state, &actor, s.org_id).await?;
    let mut report = report::of_submission(state, &actor, t, &s.row, &places, true).await?;
    // Gateway logs: one rendering of each log's check. The check sealed with the report;
    // for a report sealed before checks were sealed with it, the kept check when every sealed
    // file still has one; otherwise the report's table of the sealed totals.
    let mut log_checks = vec![];
    if s.kind == "gateway_logs" {
        let day = |k: &str| {
            s.snapshot["data"][k]
                .as_str()
                .and_then(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        };
        let period = day("period_from").zip(day("period_to"));
        let files = s.snapshot["files"].as_array().cloned().unwrap_or_default();
        let sealed = app::gateway_logs::sealed_checks(&s.snapshot["data"]);
        let kept = if let Some(sealed) = sealed {
            sealed
                .into_iter()
                .map(|(name, _, check)| {
                    (
                        name,
                        Some(app::gateway_logs::Kept {
                            check,
                            state: app::gateway_logs::KeptState::Done,
                        }),
                    )
                })
                .collect()
        } else {
            logcheck::kept_checks(
                state,
                Scope::Center,
                s.org_id,
                s.row.location_id,
                files
                    .iter()
                    .map(|f| {
                        (
                            f["name"].as_str().unwrap_or_default().to_string(),
                            f["sha256"].as_str().unwrap_or_default().to_string(),
                        )
                    })
                    .collect(),
            )
            .await?
        };
        if !kept.is_empty() && kept.iter().all(|(_, c)| c.is_some()) {
            let read: Vec<(String, _)> = kept
                .into_iter()
                .filter_map(|(name, c)| Some((name, c?.check)))
                .collect();
            log_checks = logcheck::views(&t, &read, period);
            report::without_log_table(&mut report, t);
        }
    }
    let previous = s
        .previous
        .and_then(|p| s.versions.iter().find(|v| v.id == p).map(|v| v.version));
    let earlier = report::Earlier {
        previous: previous.zip(s.previous_row.as_ref()),
        renewed: s
            .renewed_from
            .as_ref()
            .zip(s.renewed_row.as_ref())
            .map(|((from, receipt), row)| (receipt.as_str(), row, format!("/review/{from}"))),
    };
    let comparisons = report::comparisons(state, &actor, t, &places, &report, earlier).await?;
    let next = app::review::next_waiting(state, &actor, id)
        .await?
        .map(|n| {
            let item = catalogue.item_title(&n.kind, t.code());
            (n.id, n.receipt_no, n.org_name, item)
        });
    let instructions = app::followup::of_submission(state, &actor, id)
        .await?
        .into_iter()
        .map(|r| instruction_item(&catalogue, t.code(), r))
        .collect();
    let answers = app::followup::request_of_submission(state, &actor, id)
        .await?
        .map(|r| {
            let period = match (r.period_from, r.period_to) {
                (Some(a), Some(b)) => t.f(
                    "review.answers_period",
                    &[("from", &a.to_string()), ("to", &b.to_string())],
                ),
                _ => String::new(),
            };
            t.f(
                if r.answered_late {
                    "review.answers_late"
                } else {
                    "review.answers"
                },
                &[
                    ("on", &crate::domain::dates::jst(&r.created_at)),
                    ("by", &r.issuer),
                    ("due", &r.due_date.to_string()),
                    ("period", &period),
                ],
            )
        });
    let locations = {
        let st = app::structure::reads::structure(state, &actor, s.org_id).await?;
        let active: Vec<_> = st.locations.iter().filter(|l| l.active).cloned().collect();
        locations::location_items(&st, &active)
    };
    let returned = return_note_named(state, s.org_id, Some(id)).await?;
    // Its state as the organisation reads it: a submitted version a reviewer has (taken, or
    // given to the reviewer of the version it revises) is 審査中 on both sides.
    let files: Vec<FileItem> = s.files.into_iter().map(sealed_file_item).collect();
    let shown_state = if s.state == "submitted" && s.assignee.is_some() {
        "under_review".to_string()
    } else {
        s.state.clone()
    };
    let reasons = if s.can_decide {
        app::return_reasons::list(state, &actor, false)
            .await?
            .into_iter()
            .map(|r| (r.id, r.title, r.body))
            .collect()
    } else {
        vec![]
    };
    Ok(ShowView {
        reasons,
        canned: String::new(),
        decision_chosen: String::new(),
        newer_seen: false,
        returned,
        log_checks,
        page: Page::new(ctx, Some(me)),
        id,
        org_id: s.org_id,
        org_name: s.org_name,
        org_code: s.org_code,
        version: s.version,
        state_key: center_state(&shown_state),
        state: shown_state.clone(),
        receipt: s.receipt_no.unwrap_or_default(),
        submitted: s.submitted_at.map(|t| jst(&t)).unwrap_or_default(),
        submitter: (s.submitter_name, s.submitter_email),
        report,
        previewed: files.iter().any(|f| f.preview.is_some()),
        files,
        newer: s.newer.map(|v| VersionItem {
            id: v.id,
            version: v.version,
            state_key: center_state(&v.state),
            receipt: v.receipt_no.unwrap_or_default(),
            current: false,
        }),
        versions: s
            .versions
            .into_iter()
            .map(|v| VersionItem {
                id: v.id,
                version: v.version,
                state_key: center_state(if v.id == id { &shown_state } else { &v.state }),
                receipt: v.receipt_no.unwrap_or_default(),
                current: v.id == id,
            })
            .collect(),
        comparisons,
        decision: s.decision.map(|d| {
            (
                format!("checklist.status.{}", d.decision),
                d.reason,
                d.reviewer,
                jst(&d.decided_at),
            )
        }),
        next,
        can_decide: s.can_decide,
        errors,
        reason,
        can_take: s.can_take,
        can_release: s.can_release,
        assignee: s.assignee.map(|a| a.name),
        org_note: org_note(&s.comments),
        comments: s.comments.into_iter().map(CommentItem::from).collect(),
        comment_box: CommentBox::new(format!("/review/{id}/comments")),
        instructions,
        answers,
        locations,
        hold: holds::hold_box(state, &actor, s.org_id, Some(id)).await?,
    })
}

/// `GET /review/{id}`
pub async fn show(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Path(id): Path<Uuid>,
) -> AppResult<Response> {
    render(
        StatusCode::OK,
        &show_view(&state, &ctx, &me, id, FieldErrors::default(), String::new()).await?,
    )
}

/// The page again with a conflict (someone decided or moved it meanwhile): 409.
async fn conflict(
    state: &AppState,
    ctx: &Ctx,
    me: &CurrentUser,
    id: Uuid,
    key: &'static str,
) -> AppResult<Response> {
    let mut errors = FieldErrors::default();
    errors.add("_form", key);
    render(
        StatusCode::CONFLICT,
        &show_view(state, ctx, me, id, errors, String::new()).await?,
    )
}

/// A state's locale key as the Center says it: a report sent and not yet taken is
/// 「審査待ち」 to a reviewer (the organisation's 「提出済み」), as the queue counts it.
pub fn center_state(state: &str) -> String {
    match state {
        "submitted" => "review.status.submitted".to_string(),
        s => format!("checklist.status.{s}"),
    }
}

#[derive(Deserialize)]
pub struct DecideForm {
    #[serde(default)]
    decision: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    canned: String,
    #[serde(default)]
    newer_seen: String,
}

/// `POST /review/{id}/decide`: accept, or return with a reason. A second decision is told (409).
pub async fn decide(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Path(id): Path<Uuid>,
    CsrfForm(form): CsrfForm<DecideForm>,
) -> AppResult<Response> {
    let input = app::review::DecideInput {
        submission: id,
        decision: app::review::Decision::parse(&form.decision),
        reason: form.reason.clone(),
        // Something that is not an id is a choice that is not in the list.
        canned: (!form.canned.is_empty())
            .then(|| Uuid::parse_str(&form.canned).unwrap_or_default()),
        newer_seen: form.newer_seen == "yes",
    };
    let decided = input.decision;
    match app::review::decide(&state, &me.actor(&ctx), input).await {
        Ok(_) => Ok(redirect_with_flash(
            &format!("/review/{id}"),
            // Say which decision was recorded.
            match decided {
                Some(app::review::Decision::Accepted) => "flash.accepted",
                Some(app::review::Decision::Returned) => "flash.returned",
                None => "flash.decided",
            },
            state.cookies.secure,
        )),
        Err(app::Error::Invalid(errors)) => {
            let mut view = show_view(&state, &ctx, &me, id, errors, form.reason).await?;
            view.canned = form.canned;
            view.decision_chosen = form.decision;
            view.newer_seen = form.newer_seen == "yes";
            render(StatusCode::UNPROCESSABLE_ENTITY, &view)
        }
        Err(app::Error::Conflict(key)) => conflict(&state, &ctx, &me, id, key).await,
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct AssignForm {
    #[serde(default)]
    action: String,
}

/// `POST /review/{id}/assign`: "assign to me" (`take`) or put back (`release`).
pub async fn assign(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Path(id): Path<Uuid>,
    CsrfForm(form): CsrfForm<AssignForm>,
) -> AppResult<Response> {
    let what = app::review::Assignment::parse(&form.action);
    match app::review::assign(&state, &me.actor(&ctx), id, what).await {
        Ok(_) => Ok(redirect_with_flash(
            &format!("/review/{id}"),
            match what {
                Some(app::review::Assignment::Release) => "flash.released",
                _ => "flash.assigned",
            },
            state.cookies.secure,
        )),
        Err(app::Error::Conflict(key)) => conflict(&state, &ctx, &me, id, key).await,
        Err(e) => Err(e.into()),
    }
}

/// `POST /review/{id}/comments`
pub async fn comment_center(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Path(id): Path<Uuid>,
    CsrfForm(form): CsrfForm<CommentForm>,
) -> AppResult<Response> {
    me.require(&app::review::REVIEWERS)?;
    if let Err(e) = app::review::comment(&state, &me.actor(&ctx), None, id, &form.body).await {
        let Some(key) = comment_refusal(&e) else {
            return Err(e.into());
        };
        let mut view =
            show_view(&state, &ctx, &me, id, FieldErrors::default(), String::new()).await?;
        view.comment_box.draft = form.body;
        view.comment_box.error = Some(key);
        return render(StatusCode::UNPROCESSABLE_ENTITY, &view);
    }
    Ok(redirect_with_flash(
        &format!("/review/{id}#comments"),
        "flash.commented",
        state.cookies.secure,
    ))
}

/// The organisation's comments on a submission: how many, and the latest one's text (cut at
/// 300 characters).
fn org_note(comments: &[crate::app::review::Comment]) -> Option<(usize, String)> {
    let theirs: Vec<&crate::app::review::Comment> = comments.iter().filter(|c| !c.center).collect();
    let last = theirs.last()?;
    let mut text: String = last.body.chars().take(300).collect();
    if last.body.chars().count() > 300 {
        text.push('…');
    }
    Some((theirs.len(), text))
}

//! The confirmation step (確認) before a report is sealed: the draft as it will be submitted,
//! in the same words as the receipt and the reviewer's page, with each warning of its summary
//! (stale definitions, log-check problems, computers of the equipment list without an
//! antivirus row, a modem connection …) to acknowledge; only this page's form seals.

use std::collections::HashMap;
use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use uuid::Uuid;

use crate::app;
use crate::app::submissions::Drafted;
use crate::app::submissions::confirm::{self as confirming, CHANGED, Confirming, ToConfirm};
use crate::web::ctx::{CsrfForm, Ctx, CurrentUser};
use crate::web::error::AppResult;
use crate::web::html::common::access::org_for;
use crate::web::html::common::comments::{ReturnNote, return_note};
use crate::web::html::common::form_confirm::waiting_note;
use crate::web::html::common::report::{self, Comparison, Report};
use crate::web::html::common::{draft_gone, draft_page, to_receipt};
use crate::web::page::{Page, render};
use crate::web::state::AppState;

/// A warning to acknowledge.
pub struct Warning {
    pub n: usize,
    pub text: String,
    /// Sent without its acknowledgement.
    pub missing: bool,
}

#[derive(Template)]
#[template(path = "submissions/confirm.html")]
struct ConfirmView {
    page: Page,
    org_id: Uuid,
    org_name: String,
    draft_id: Uuid,
    report: Report,
    warnings: Vec<Warning>,
    fingerprint: String,
    /// The draft's page (to change something).
    back: String,
    /// Where the form lands if the draft is gone meanwhile (discarded in another tab): the
    /// item's page, or for a correction the receipt of the version it corrects.
    gone: String,
    problems: Vec<String>,
    /// What the organisation tells the Center with the report (sent as its first comment).
    note: String,
    /// The version it is sealed as (2 and on: the revision of a returned one).
    version: i64,
    /// Why the version it revises was returned.
    returned: Option<ReturnNote>,
    /// What changed since the returned version and since the accepted report it renews.
    comparisons: Vec<Comparison>,
}

impl ConfirmView {
    /// Whether a warning went without its acknowledgement.
    fn unacknowledged(&self) -> bool {
        self.warnings.iter().any(|w| w.missing)
    }
}

async fn view(
    state: &AppState,
    ctx: &Ctx,
    me: &CurrentUser,
    org_id: Uuid,
    shown: &ToConfirm,
    acks: Option<&HashMap<String, String>>,
    problems: Vec<String>,
) -> AppResult<ConfirmView> {
    let org = org_for(state, me, org_id, false).await?;
    let actor = me.actor(ctx);
    let places = report::places(state, &actor, org_id).await?;
    let report =
        report::of_draft(state, &actor, ctx.tr(), &shown.draft, &shown.files, &places).await?;
    let earlier = report::Earlier {
        previous: shown.previous.as_ref().map(|p| (p.version, p)),
        renewed: shown.renewed.as_ref().map(|(receipt, row)| {
            let open = format!("/orgs/{org_id}/submissions/{}/receipt", row.id);
            (receipt.as_str(), row, open)
        }),
    };
    let comparisons =
        report::comparisons(state, &actor, ctx.tr(), &places, &report, earlier).await?;
    // The summary's warnings, then what the draft stands beside: a report of the item that
    // waits for the Center already, a correction that corrects nothing.
    let t = ctx.tr();
    let mut texts: Vec<String> = report
        .summary
        .iter()
        .filter(|n| n.warn)
        .map(|note| note.text.clone())
        .collect();
    if let Some(w) = &shown.waiting {
        texts.push(waiting_note(t, w, "confirm.waiting"));
    }
    if let Some(p) = shown.previous.as_ref()
        && comparisons.iter().any(Comparison::corrects_nothing)
    {
        let n = p.version.to_string();
        let receipt = p.receipt_no.as_deref().unwrap_or_default();
        texts.push(t.f(
            "confirm.corrects_nothing",
            &[("n", n.as_str()), ("receipt", receipt)],
        ));
    }
    let warnings = texts
        .into_iter()
        .enumerate()
        .map(|(n, text)| Warning {
            n,
            text,
            missing: acks.is_some_and(|a| a.get(&format!("ack_{n}")).is_none_or(|v| v != "1")),
        })
        .collect();
    Ok(ConfirmView {
        page: Page::new(ctx, Some(me)),
        org_id,
        org_name: org.name,
        draft_id: shown.draft.id,
        report,
        warnings,
        fingerprint: shown.fingerprint.clone(),
        back: draft_page(org_id, shown.draft.id, &shown.what),
        gone: match (&shown.what, &shown.previous) {
            (Drafted::Form(_), Some(p)) => format!("/orgs/{org_id}/submissions/{}/receipt", p.id),
            (what, _) => draft_page(org_id, shown.draft.id, what),
        },
        problems,
        note: acks
            .and_then(|a| a.get("note"))
            .cloned()
            .unwrap_or_default(),
        version: shown.draft.version,
        returned: return_note(state, org_id, Some(shown.draft.id)).await?,
        comparisons,
    })
}

/// `GET /orgs/{org}/submissions/{id}/confirm`: the draft as it will be submitted (a sealed
/// one goes to its receipt).
pub async fn page(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Path((org_id, id)): Path<(Uuid, Uuid)>,
) -> AppResult<Response> {
    let actor = me.actor(&ctx);
    match confirming::to_confirm(&state, &actor, org_id, id).await? {
        Confirming::Sealed(done) => Ok(to_receipt(&state, org_id, &done)),
        Confirming::Open(shown) => render(
            StatusCode::OK,
            &view(&state, &ctx, &me, org_id, &shown, None, vec![]).await?,
        ),
    }
}

/// `POST /orgs/{org}/submissions/{id}/confirm` (`fingerprint`, `ack_{n}` for each warning):
/// seals the draft shown, once; a changed draft is shown again.
pub async fn confirm(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Path((org_id, id)): Path<(Uuid, Uuid)>,
    CsrfForm(form): CsrfForm<HashMap<String, String>>,
) -> AppResult<Response> {
    let actor = me.actor(&ctx);
    let shown = match confirming::to_confirm(&state, &actor, org_id, id).await {
        Ok(Confirming::Sealed(done)) => return Ok(to_receipt(&state, org_id, &done)),
        Ok(Confirming::Open(shown)) => shown,
        // Discarded in another tab: back to the draft's page, nothing sent.
        Err(app::Error::NotFound) => {
            let back = form.get("gone").map_or("", String::as_str);
            return draft_gone(org_id, back, state.cookies.secure)
                .ok_or_else(|| app::Error::NotFound.into());
        }
        Err(e) => return Err(e.into()),
    };
    let t = ctx.tr();
    let checked = view(&state, &ctx, &me, org_id, &shown, Some(&form), vec![]).await?;
    if checked.unacknowledged() {
        let problems = vec![t.t("confirm.ack_needed").to_string()];
        return render(
            StatusCode::UNPROCESSABLE_ENTITY,
            &ConfirmView {
                problems,
                ..checked
            },
        );
    }
    // A note for the Center goes with the report as its first comment: checked before sealing.
    let note = form.get("note").map_or("", |n| n.trim());
    if !note.is_empty()
        && let Err(app::Error::Invalid(e)) = app::review::comment_text(note)
    {
        let problems = e.iter().map(|(_, k)| t.t(k).to_string()).collect();
        return render(
            StatusCode::UNPROCESSABLE_ENTITY,
            &ConfirmView {
                problems,
                ..checked
            },
        );
    }
    let fingerprint = form.get("fingerprint").map(String::as_str).unwrap_or("");
    let problems = match confirming::confirm(&state, &actor, org_id, id, fingerprint).await {
        Ok(sealed) => {
            // Only the request that sealed it posts the note (a second click does not).
            if !sealed.already && !note.is_empty() {
                app::review::comment(&state, &actor, Some(org_id), sealed.submission, note).await?;
            }
            return Ok(to_receipt(&state, org_id, &sealed));
        }
        Err(app::Error::Conflict(CHANGED)) => vec![t.t(CHANGED).to_string()],
        // The draft no longer passes the submit's checks (offices changed meanwhile …).
        Err(app::Error::Invalid(errors)) => {
            let mut said: Vec<String> = vec![t.t("confirm.invalid").to_string()];
            for (_, key) in errors.iter() {
                let text = t.t(key).to_string();
                if !said.contains(&text) {
                    said.push(text);
                }
            }
            said
        }
        Err(e) => return Err(e.into()),
    };
    // Shown again as it is now, with nothing acknowledged.
    let shown = match confirming::to_confirm(&state, &actor, org_id, id).await? {
        Confirming::Sealed(done) => return Ok(to_receipt(&state, org_id, &done)),
        Confirming::Open(shown) => shown,
    };
    render(
        StatusCode::CONFLICT,
        &view(&state, &ctx, &me, org_id, &shown, None, problems).await?,
    )
}

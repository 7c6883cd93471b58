//! The 確認 step of the forms sealed in one step (item 1 管理責任者, item 2 ID 管理, §7.4.2(1)
//! router ports): a checked post shows the content as it will be sent, in the receipt's
//! words, with what was typed carried in hidden fields. Its 「この内容で提出する」 seals with
//! the page's key (a second click shows the receipt the first one made); 「戻って修正する」
//! shows the form again as typed.

use std::collections::HashMap;

use askama::Template;
use axum::http::StatusCode;
use axum::response::Response;
use uuid::Uuid;

use super::access::org_for;
use super::report::{self, Report};
use crate::app::submissions::{SEALED_ALREADY, Step, Stepped};
use crate::app::{self, FieldErrors};
use crate::web::ctx::{Ctx, CurrentUser};
use crate::web::error::AppResult;
use crate::web::page::{Page, redirect_with_flash, render};
use crate::web::state::AppState;

/// What a post of a one-step form asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Posted {
    /// Check it and show it (the form's own button).
    Check,
    /// Seal it (the 確認 page's button), with the page's key when it is one.
    Submit(Option<Uuid>),
    /// Show the form again as typed (the 確認 page's other button).
    Back,
}

impl Posted {
    /// The `step` (and `submit_key`) of a posted form. A seal whose note for the Center is
    /// too long is a check: the 確認 page again, with the note and what is wrong with it.
    pub fn of(fields: &HashMap<String, String>) -> Posted {
        if note_problem(fields).is_some() {
            return Posted::Check;
        }
        match fields.get("step").map(String::as_str) {
            Some("submit") => Posted::Submit(
                fields
                    .get("submit_key")
                    .and_then(|k| app::submissions::submit_key(k)),
            ),
            Some("back") => Posted::Back,
            _ => Posted::Check,
        }
    }

    /// The use case's step.
    pub fn step(self) -> Step {
        match self {
            Posted::Submit(key) => Step::Submit(key),
            Posted::Check | Posted::Back => Step::Preview,
        }
    }

    /// What the use case (`run`, not started when going back) came to; going back is the form
    /// shown again without errors, as [`app::Error::Invalid`] with none.
    pub async fn outcome(
        self,
        run: impl Future<Output = Result<Stepped, app::Error>>,
    ) -> Result<Stepped, app::Error> {
        match self {
            Posted::Back => Err(app::Error::Invalid(FieldErrors::default())),
            _ => run.await,
        }
    }

    /// The status of the form shown again: 200 going back, else 422 (its errors).
    pub fn again(self) -> StatusCode {
        match self {
            Posted::Back => StatusCode::OK,
            _ => StatusCode::UNPROCESSABLE_ENTITY,
        }
    }
}

/// The form a 確認 page is about.
pub struct FormOf<'a> {
    /// The catalogue item's key.
    pub kind: &'a str,
    /// The office or site it is about (`None`: the organisation).
    pub location: Option<Uuid>,
    /// Where the form posts (the 確認 page posts there too).
    pub action: String,
    /// What was posted, carried to the seal.
    pub fields: &'a HashMap<String, String>,
}

#[derive(Template)]
#[template(path = "submissions/form_confirm.html")]
struct FormConfirmView {
    page: Page,
    org_name: String,
    report: Report,
    action: String,
    submit_key: Uuid,
    fields: Vec<(String, String)>,
    /// A filing of the same item and place that waits for the Center already.
    waiting: Option<String>,
    /// What the organisation tells the Center with the report (its first comment).
    note: String,
    /// Why the note was not taken (too long).
    note_problem: Option<String>,
}

/// The note for the Center a 確認 page posts (sent with the report as its first comment),
/// trimmed; empty when none.
fn note(fields: &HashMap<String, String>) -> &str {
    fields.get("note").map_or("", |n| n.trim())
}

/// What is wrong with the posted note (a locale key), if anything.
fn note_problem(fields: &HashMap<String, String>) -> Option<&'static str> {
    let note = note(fields);
    if note.is_empty() {
        return None;
    }
    match app::review::comment_text(note) {
        Err(app::Error::Invalid(e)) => e.iter().next().map(|(_, k)| k),
        _ => None,
    }
}

/// What a one-step form's page carries for its seal: its key, and the note for the Center
/// typed on the 確認 page when the form is shown again from there (「戻って修正する」), so that
/// it is still there on the next 確認.
#[derive(Debug, Clone)]
pub struct Seal {
    pub key: Uuid,
    pub note: String,
}

impl Default for Seal {
    /// A new form's.
    fn default() -> Seal {
        Seal {
            key: Uuid::now_v7(),
            note: String::new(),
        }
    }
}

impl Seal {
    /// A posted form's, shown again.
    pub fn of(fields: &HashMap<String, String>) -> Seal {
        Seal {
            key: key_of(fields),
            note: fields.get("note").cloned().unwrap_or_default(),
        }
    }
}

/// The key a one-step form's page carries for its seal: the one posted with it when it is one
/// of this server's (a form shown again keeps its key), else a new one.
pub fn key_of(fields: &HashMap<String, String>) -> Uuid {
    fields
        .get("submit_key")
        .and_then(|k| app::submissions::submit_key(k))
        .unwrap_or_else(Uuid::now_v7)
}

/// What a one-step form's post answers once its own errors are answered by its page: its 確認
/// page, or the receipt (the one this post sealed, or the one an earlier click with the same
/// key sealed).
pub async fn answer(
    state: &AppState,
    ctx: &Ctx,
    me: &CurrentUser,
    org_id: Uuid,
    posted: Posted,
    form: FormOf<'_>,
    outcome: Result<Stepped, app::Error>,
) -> AppResult<Response> {
    let receipt = |id: Uuid, flash: &'static str| {
        redirect_with_flash(
            &format!("/orgs/{org_id}/submissions/{id}/receipt"),
            flash,
            state.cookies.secure,
        )
    };
    match (outcome, posted) {
        // The same words as every other report's seal (`common::to_receipt`); the note goes
        // from the request that sealed it only (a second click does not post it again).
        (Ok(Stepped::Sealed(id)), _) => {
            let note = note(form.fields);
            if !note.is_empty() {
                app::review::comment(state, &me.actor(ctx), Some(org_id), id, note).await?;
            }
            Ok(receipt(id, "flash.submitted"))
        }
        (Err(app::Error::Conflict(SEALED_ALREADY)), Posted::Submit(Some(key))) => {
            Ok(receipt(key, SEALED_ALREADY))
        }
        (Ok(Stepped::Preview(data)), _) => {
            // The key the form's page gave (kept through a reload or the browser's back
            // button, so that a second seal of the same filing meets the first).
            let submit_key = key_of(form.fields);
            // A notice that corrects the one waiting (the same person's details).
            let corrects = data["corrects"]["receipt_no"].as_str().map(str::to_string);
            let org = org_for(state, me, org_id, false).await?;
            let report = report::of_content(
                state,
                &me.actor(ctx),
                ctx.tr(),
                org_id,
                form.kind,
                form.location,
                data,
            )
            .await?;
            let mut fields: Vec<(String, String)> = form
                .fields
                .iter()
                .filter(|(k, _)| {
                    !matches!(k.as_str(), "csrf_token" | "step" | "submit_key" | "note")
                })
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            fields.sort();
            let waiting = crate::db::review::waiting_report(
                &state.db,
                org_id,
                form.kind,
                form.location,
                None,
            )
            .await?;
            // The filing waiting is the one this very page sealed (its check posted again:
            // the browser's back button or a reload after 提出): its receipt, not a 確認 page
            // that would call it another filing.
            if let Some(w) = &waiting
                && w.id == submit_key
            {
                return Ok(receipt(w.id, SEALED_ALREADY));
            }
            let waiting = waiting.map(|w| {
                let key = if corrects.is_some() && corrects == w.receipt_no {
                    "confirm.waiting_corrects"
                } else {
                    "confirm.waiting_note"
                };
                waiting_note(ctx.tr(), &w, key)
            });
            render(
                StatusCode::OK,
                &FormConfirmView {
                    page: Page::new(ctx, Some(me)),
                    org_name: org.name,
                    report,
                    action: form.action,
                    submit_key,
                    fields,
                    waiting,
                    note: form.fields.get("note").cloned().unwrap_or_default(),
                    note_problem: note_problem(form.fields).map(|k| ctx.tr().t(k).to_string()),
                },
            )
        }
        (Err(e), _) => Err(e.into()),
    }
}

/// What a 確認 page says of a filing of the same item and place that waits for the Center:
/// `key` with its receipt number and when it was sent.
pub fn waiting_note(t: crate::i18n::Tr, w: &crate::db::review::VersionRow, key: &str) -> String {
    let submitted = w
        .submitted_at
        .as_ref()
        .map(crate::web::page::jst)
        .unwrap_or_default();
    let receipt = w.receipt_no.as_deref().unwrap_or_default();
    t.f(
        key,
        &[("receipt", receipt), ("submitted", submitted.as_str())],
    )
}

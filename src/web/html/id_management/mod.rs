//! Item 2 — ID・パスワードの管理: the organisation declares that its administrators manage every
//! NACCS ID, lists the 利用者ID in use per office, and declares away-from-office use
//! (telework, satellite office, disaster): where, why, from when to when, which IDs, and the
//! office whose administrator manages them. Submitting sends the declaration to the Center.

use std::collections::HashMap;
use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use uuid::Uuid;

use crate::app::id_management::{AwayInput, IdDeclaration, MAX_ROWS, OfficeIdsInput, REASONS};
use crate::app::{self, FieldErrors};
use crate::domain::ScopeKind;
use crate::web::ctx::{CsrfForm, Ctx, CurrentUser};
use crate::web::error::AppResult;
use crate::web::html::common::access::{org_for, reader};
use crate::web::html::common::comments::{ReturnNote, return_note, returned_note};
use crate::web::html::common::form_confirm::{FormOf, Posted, Seal, answer};
use crate::web::html::common::renewal::{RenewalNote, note_of};
use crate::web::page::{Page, jst, render};
use crate::web::state::AppState;

/// How many blank away-from-office rows the form offers (no JavaScript needed).
const BLANK_ROWS: usize = 2;

/// An office's ID list as the form shows it.
pub struct OfficeIds {
    pub id: Uuid,
    pub name: String,
    pub field: String,
    pub value: String,
}

#[derive(Template)]
#[template(path = "orgs/id_management.html")]
struct IdView {
    page: Page,
    org_id: Uuid,
    org_name: String,
    codes: String,
    offices: Vec<OfficeIds>,
    away: Vec<AwayInput>,
    attest: bool,
    can_edit: bool,
    errors: FieldErrors,
    reasons: Vec<&'static str>,
    /// The last declaration: (submission, when, its state's label key), linked to its receipt.
    last_submitted: Option<(Uuid, String, String)>,
    /// The last declaration still waits for the Center's decision.
    pending: bool,
    /// Why the last declaration was returned, when it was (or when its revision is open).
    returned: Option<ReturnNote>,
    /// The returned declaration is corrected as its next version, not on this form.
    revision: Option<IdRevision>,
    /// The accepted declaration the form is filled in from (引き継ぎ).
    renewal: Option<RenewalNote>,
    /// The seal's key and note (see `form_confirm`).
    seal: Seal,
}

/// Where the correction of a returned declaration stands.
pub enum IdRevision {
    /// Returned, no revision open yet: the button opens one (the submission returned).
    Returned(Uuid),
    /// Its next version is a draft being corrected.
    Open(Uuid),
}

async fn view(
    state: &AppState,
    ctx: &Ctx,
    me: &CurrentUser,
    org: &app::orgs::OrgRow,
    input: Option<&HashMap<String, String>>,
    errors: FieldErrors,
) -> AppResult<IdView> {
    // Pre-fill from the form just posted, else from the last declaration.
    let app::id_management::Declared {
        locations,
        codes,
        latest,
        previous,
    } = app::id_management::declared(state, &reader(me), org.id).await?;
    let offices: Vec<OfficeIds> = locations
        .iter()
        .filter(|l| l.active && l.scope_kind() == ScopeKind::Office)
        .map(|l| {
            let field = format!("ids_{}", l.id);
            let value = match input {
                Some(i) => i.get(&field).cloned().unwrap_or_default(),
                None => previous["offices"]
                    .as_array()
                    .and_then(|a| a.iter().find(|o| o["office_id"] == serde_json::json!(l.id)))
                    .and_then(|o| o["ids"].as_array())
                    .map(|ids| {
                        ids.iter()
                            .filter_map(|v| v.as_str())
                            .collect::<Vec<_>>()
                            .join("\n")
                    })
                    .unwrap_or_default(),
            };
            OfficeIds {
                id: l.id,
                name: l.name.clone(),
                field,
                value,
            }
        })
        .collect();
    let mut away: Vec<AwayInput> = match input {
        Some(i) => (0..MAX_ROWS)
            .map(|n| AwayInput::posted(i, n))
            .filter(|r| !r.is_blank())
            .collect(),
        None => previous["away"]
            .as_array()
            .map(|rows| {
                rows.iter()
                    .map(|r| AwayInput {
                        n: 0,
                        place: r["place"].as_str().unwrap_or("").into(),
                        reason: r["reason"].as_str().unwrap_or("").into(),
                        from: r["from"].as_str().unwrap_or("").into(),
                        to: r["to"].as_str().unwrap_or("").into(),
                        ids: r["ids"]
                            .as_array()
                            .map(|a| {
                                a.iter()
                                    .filter_map(|v| v.as_str())
                                    .collect::<Vec<_>>()
                                    .join(" ")
                            })
                            .unwrap_or_default(),
                        office: r["managing_office_id"].as_str().unwrap_or("").into(),
                    })
                    .collect()
            })
            .unwrap_or_default(),
    };
    // Keep the numbering the errors refer to; add blank rows after.
    if input.is_none() {
        for (n, r) in away.iter_mut().enumerate() {
            r.n = n;
        }
    }
    let next = away.iter().map(|r| r.n + 1).max().unwrap_or(0);
    away.extend((next..next + BLANK_ROWS).map(|n| AwayInput {
        n,
        ..AwayInput::default()
    }));
    // Filled in from the last declaration: marked when that one was accepted.
    let renewal = match (&latest, input) {
        (Some(l), None) => app::submissions::renewal::last_accepted(
            state,
            &reader(me),
            org.id,
            "id_management",
            None,
        )
        .await?
        .filter(|(id, _, _)| *id == l.id)
        .map(|(from, receipt, at)| RenewalNote {
            // The form holds no rows or files of its own to mark.
            hint: "renewal.hint_form",
            ..note_of(&ctx.tr(), from, &receipt, at, false)
        }),
        _ => None,
    };
    let (returned, revision) = match &latest {
        Some(l) if l.state == "returned" => (
            returned_note(state, org.id, l.id).await?,
            Some(IdRevision::Returned(l.id)),
        ),
        // A draft of this kind is only ever the revision of a returned declaration.
        Some(l) if l.state == "draft" => (
            return_note(state, org.id, Some(l.id)).await?,
            Some(IdRevision::Open(l.id)),
        ),
        _ => (None, None),
    };
    let may_revise = app::submissions::revise::may_revise(&reader(me), org.id, "id_management");
    Ok(IdView {
        returned,
        revision: revision.filter(|_| may_revise),
        renewal,
        page: Page::new(ctx, Some(me)),
        org_id: org.id,
        org_name: org.name.clone(),
        codes: codes.join(ctx.tr().t("ui.list_sep")),
        offices,
        away,
        // Attested afresh for each declaration, not carried from the last one.
        attest: input.is_some_and(|i| i.get("attest").is_some_and(|v| v == "yes")),
        seal: input.map_or_else(Seal::default, Seal::of),
        can_edit: app::structure::can_edit(&reader(me)),
        errors,
        reasons: REASONS.to_vec(),
        pending: latest
            .as_ref()
            .is_some_and(|l| matches!(l.state.as_str(), "submitted" | "under_review")),
        last_submitted: latest.and_then(|l| {
            let at = jst(&l.submitted_at?);
            Some((l.id, at, format!("checklist.status.{}", l.state)))
        }),
    })
}

/// `GET /orgs/{org}/id-management`
pub async fn page(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Path(org_id): Path<Uuid>,
) -> AppResult<Response> {
    let org = org_for(&state, &me, org_id, false).await?;
    let v = view(&state, &ctx, &me, &org, None, FieldErrors::default()).await?;
    render(StatusCode::OK, &v)
}

/// `POST /orgs/{org}/id-management`: checks the declaration and shows it as it will be sent
/// (確認); from there, submits it or shows the form again.
pub async fn submit(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Path(org_id): Path<Uuid>,
    CsrfForm(input): CsrfForm<HashMap<String, String>>,
) -> AppResult<Response> {
    let posted = Posted::of(&input);
    // Each office's IDs come as `ids_{office}`; the use case reads the offices it knows.
    let offices = input
        .iter()
        .filter_map(|(k, v)| {
            let office = Uuid::parse_str(k.strip_prefix("ids_")?).ok()?;
            Some(OfficeIdsInput {
                office,
                ids: v.clone(),
            })
        })
        .collect();
    let declaration = IdDeclaration {
        org: org_id,
        attested: input.get("attest").map(String::as_str) == Some("yes"),
        offices,
        away: (0..MAX_ROWS)
            .map(|n| AwayInput::posted(&input, n))
            .collect(),
    };
    let outcome = posted
        .outcome(app::id_management::declare_step(
            &state,
            &me.actor(&ctx),
            declaration,
            posted.step(),
        ))
        .await;
    if let Err(app::Error::Invalid(errors)) = outcome {
        let org = org_for(&state, &me, org_id, true).await?;
        let v = view(&state, &ctx, &me, &org, Some(&input), errors).await?;
        return render(posted.again(), &v);
    }
    let form = FormOf {
        kind: "id_management",
        location: None,
        action: format!("/orgs/{org_id}/id-management"),
        fields: &input,
    };
    answer(&state, &ctx, &me, org_id, posted, form, outcome).await
}

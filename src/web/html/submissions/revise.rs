//! The revision page of a returned form (item 1 管理責任者, item 2 ID 管理, §7.4.2(1) router
//! ports): why it was returned (the reason with its line breaks, the comments), the form
//! filled in with the returned version, corrected and saved; its 確認 step seals it as the
//! next version, which goes to the same reviewer.

use std::collections::HashMap;
use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Redirect, Response};
use uuid::Uuid;

use crate::app::id_management::{AwayInput, IdDeclaration, MAX_ROWS, OfficeIdsInput, REASONS};
use crate::app::structure::appointments::{AppointInput, ROUTER_CHECKS};
use crate::app::submissions::revise::{self, FormDraft, FormInput, FormKind};
use crate::app::{self, FieldErrors};
use crate::domain::ScopeKind;
use crate::web::ctx::{CsrfForm, Ctx, CurrentUser};
use crate::web::error::AppResult;
use crate::web::html::common::access::{org_for, reader};
use crate::web::html::common::comments::{ReturnNote, return_note};
use crate::web::html::common::report;
use crate::web::page::{Page, render};
use crate::web::state::AppState;

/// How many blank away-from-office rows the ID form offers (no JavaScript needed).
const BLANK_ROWS: usize = 1;

/// An office's IDs as the form shows them.
pub struct OfficeIds {
    pub id: Uuid,
    pub name: String,
    pub field: String,
    pub value: String,
}

#[derive(Template)]
#[template(path = "submissions/revise.html")]
struct ReviseView {
    page: Page,
    org_id: Uuid,
    org_name: String,
    draft_id: Uuid,
    /// `administrator`, `id_management` or `router_ports`: which form.
    kind: &'static str,
    /// The item and the place, in words.
    item: String,
    place: String,
    version: i64,
    returned: Option<ReturnNote>,
    errors: FieldErrors,
    appoint: AppointInput,
    router_checks: Vec<(&'static str, bool)>,
    offices: Vec<OfficeIds>,
    away: Vec<AwayInput>,
    attest: bool,
    reasons: Vec<&'static str>,
    codes: String,
    /// The correction, which the reader may discard (the page opens only for those who may
    /// edit it).
    discard: Option<Uuid>,
}

/// A text of the content (`""` when absent).
fn text(data: &serde_json::Value, key: &str) -> String {
    data[key].as_str().unwrap_or("").to_string()
}

/// IDs of the content, joined with `sep`.
fn ids(v: &serde_json::Value, sep: &str) -> String {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str())
                .collect::<Vec<_>>()
                .join(sep)
        })
        .unwrap_or_default()
}

/// The form as posted, for the kind of the revision.
fn posted(kind: FormKind, org_id: Uuid, i: &HashMap<String, String>) -> FormInput {
    let get = |f: &str| i.get(f).cloned().unwrap_or_default();
    match kind {
        FormKind::Administrator => FormInput::Appointment(AppointInput {
            name: get("name"),
            name_kana: get("name_kana"),
            department: get("department"),
            title: get("title"),
            phone: get("phone"),
            emergency_contact: get("emergency_contact"),
            email: get("email"),
            effective_from: get("effective_from"),
        }),
        FormKind::RouterPorts => FormInput::Router(
            ROUTER_CHECKS
                .iter()
                .filter(|c| i.get(**c).is_some_and(|v| v == "yes"))
                .map(|c| c.to_string())
                .collect(),
        ),
        FormKind::IdManagement => FormInput::Declaration(IdDeclaration {
            org: org_id,
            attested: i.get("attest").is_some_and(|v| v == "yes"),
            offices: i
                .iter()
                .filter_map(|(k, v)| {
                    let office = Uuid::parse_str(k.strip_prefix("ids_")?).ok()?;
                    Some(OfficeIdsInput {
                        office,
                        ids: v.clone(),
                    })
                })
                .collect(),
            away: (0..MAX_ROWS).map(|n| AwayInput::posted(i, n)).collect(),
        }),
    }
}

/// The page of a revision, filled in from `input` (as posted) or else from its content.
async fn view(
    state: &AppState,
    ctx: &Ctx,
    me: &CurrentUser,
    open: &FormDraft,
    input: Option<&HashMap<String, String>>,
    errors: FieldErrors,
) -> AppResult<ReviseView> {
    let org_id = open.draft.org_id;
    let org = org_for(state, me, org_id, false).await?;
    let actor = reader(me);
    let places = report::places(state, &actor, org_id).await?;
    let shown = report::of_draft(state, &actor, ctx.tr(), &open.draft, &[], &places).await?;
    let data = &open.data;
    let field = |k: &str| match input {
        Some(i) => i.get(k).cloned().unwrap_or_default(),
        None => text(data, k),
    };
    let appoint = AppointInput {
        name: field("name"),
        name_kana: field("name_kana"),
        department: field("department"),
        title: field("title"),
        phone: field("phone"),
        emergency_contact: field("emergency_contact"),
        email: field("email"),
        effective_from: field("effective_from"),
    };
    let router_checks = ROUTER_CHECKS
        .iter()
        .map(|c| {
            let on = match input {
                Some(i) => i.get(*c).is_some_and(|v| v == "yes"),
                None => data[*c] == true,
            };
            (*c, on)
        })
        .collect();
    let (mut offices, mut away, mut codes) = (vec![], vec![], String::new());
    if open.kind == FormKind::IdManagement {
        let declared = app::id_management::declared(state, &actor, org_id).await?;
        codes = declared.codes.join(ctx.tr().t("ui.list_sep"));
        offices = declared
            .locations
            .iter()
            .filter(|l| l.active && l.scope_kind() == ScopeKind::Office)
            .map(|l| {
                let field = format!("ids_{}", l.id);
                let value = match input {
                    Some(i) => i.get(&field).cloned().unwrap_or_default(),
                    None => data["offices"]
                        .as_array()
                        .and_then(|a| a.iter().find(|o| o["office_id"] == serde_json::json!(l.id)))
                        .map(|o| ids(&o["ids"], "\n"))
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
        away = match input {
            Some(i) => (0..MAX_ROWS)
                .map(|n| AwayInput::posted(i, n))
                .filter(|r| !r.is_blank())
                .collect(),
            None => data["away"]
                .as_array()
                .map(|rows| {
                    rows.iter()
                        .enumerate()
                        .map(|(n, r)| AwayInput {
                            n,
                            place: text(r, "place"),
                            reason: text(r, "reason"),
                            from: text(r, "from"),
                            to: text(r, "to"),
                            ids: ids(&r["ids"], " "),
                            office: text(r, "managing_office_id"),
                        })
                        .collect()
                })
                .unwrap_or_default(),
        };
        let next = away.iter().map(|r| r.n + 1).max().unwrap_or(0);
        away.extend((next..next + BLANK_ROWS).map(|n| AwayInput {
            n,
            ..AwayInput::default()
        }));
    }
    Ok(ReviseView {
        page: Page::new(ctx, Some(me)),
        org_id,
        org_name: org.name,
        draft_id: open.draft.id,
        discard: Some(open.draft.id),
        kind: open.kind.as_str(),
        item: shown.item,
        place: shown.place,
        version: open.draft.version,
        returned: return_note(state, org_id, Some(open.draft.id)).await?,
        errors,
        appoint,
        router_checks,
        offices,
        away,
        attest: match input {
            Some(i) => i.get("attest").is_some_and(|v| v == "yes"),
            None => data["attested"] == true,
        },
        reasons: REASONS.to_vec(),
        codes,
    })
}

/// Where a revision sealed already is read: its receipt.
fn to_receipt(org_id: Uuid, id: Uuid) -> Response {
    axum::response::IntoResponse::into_response(Redirect::to(&format!(
        "/orgs/{org_id}/submissions/{id}/receipt"
    )))
}

/// `GET /orgs/{org}/submissions/{id}/edit`: a returned form's revision, to correct.
pub async fn page(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Path((org_id, id)): Path<(Uuid, Uuid)>,
) -> AppResult<Response> {
    let open = match revise::form_draft(&state, &reader(&me), org_id, id).await {
        Ok(Some(open)) => open,
        Ok(None) => return Ok(to_receipt(org_id, id)),
        // Discarded (in another tab): the organisation's reports, saying so.
        Err(app::Error::NotFound) => return gone_to_history(&state, &me, org_id).await,
        Err(e) => return Err(e.into()),
    };
    render(
        StatusCode::OK,
        &view(&state, &ctx, &me, &open, None, FieldErrors::default()).await?,
    )
}

/// `POST /orgs/{org}/submissions/{id}/edit`: checks the corrected form as its own form does
/// and saves it into the revision, then shows what will be submitted (確認).
pub async fn save(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Path((org_id, id)): Path<(Uuid, Uuid)>,
    CsrfForm(input): CsrfForm<HashMap<String, String>>,
) -> AppResult<Response> {
    let actor = me.actor(&ctx);
    let open = match revise::form_draft(&state, &actor, org_id, id).await {
        Ok(Some(open)) => open,
        Ok(None) => return Ok(to_receipt(org_id, id)),
        Err(app::Error::NotFound) => return gone_to_history(&state, &me, org_id).await,
        Err(e) => return Err(e.into()),
    };
    let form = posted(open.kind, org_id, &input);
    match revise::save_form(&state, &actor, org_id, id, form).await {
        Ok(()) => Ok(axum::response::IntoResponse::into_response(Redirect::to(
            &format!("/orgs/{org_id}/submissions/{id}/confirm"),
        ))),
        Err(app::Error::Invalid(errors)) => render(
            StatusCode::UNPROCESSABLE_ENTITY,
            &view(&state, &ctx, &me, &open, Some(&input), errors).await?,
        ),
        Err(e) => Err(e.into()),
    }
}

/// A correction that is gone (discarded): the organisation's list of reports, with
/// `flash.draft_gone` (another organisation's reader: not found, as for any id).
async fn gone_to_history(state: &AppState, me: &CurrentUser, org_id: Uuid) -> AppResult<Response> {
    org_for(state, me, org_id, false).await?;
    Ok(crate::web::page::redirect_with_flash(
        &format!("/orgs/{org_id}/submissions"),
        "flash.draft_gone",
        state.cookies.secure,
    ))
}

//! Item 2 — ID・パスワードの管理: the organisation declares that its administrators manage every
//! NACCS ID, lists the 利用者ID in use per office, and declares away-from-office use
//! (telework, satellite office, disaster): where, why, from when to when, which IDs, and the
//! office whose administrator manages them. Submitting sends the declaration to the Center.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use uuid::Uuid;

use super::ctx::{CsrfForm, Ctx, CurrentUser};
use super::error::AppResult;
use super::forms::FieldErrors;
use super::html::common::access::org_for;
use super::page::{Page, redirect_with_flash, render};
use super::state::AppState;
use crate::db;
use crate::domain::input::date;
use crate::domain::{NaccsId, ScopeKind};

/// Reasons for using IDs away from the contracted offices.
pub const REASONS: [&str; 4] = ["telework", "satellite", "disaster", "other"];

/// How many blank away-from-office rows the form offers (no JavaScript needed).
const BLANK_ROWS: usize = 2;
const MAX_ROWS: usize = 30;

/// An office's ID list as the form shows it.
pub struct OfficeIds {
    pub id: Uuid,
    pub name: String,
    pub field: String,
    pub value: String,
}

/// One away-from-office row as the form shows it.
#[derive(Default, Clone)]
pub struct AwayRow {
    pub n: usize,
    pub place: String,
    pub reason: String,
    pub from: String,
    pub to: String,
    pub ids: String,
    pub office: String,
}

#[derive(Template)]
#[template(path = "orgs/id_management.html")]
struct IdView {
    page: Page,
    org_id: Uuid,
    org_name: String,
    codes: String,
    offices: Vec<OfficeIds>,
    away: Vec<AwayRow>,
    attest: bool,
    can_edit: bool,
    errors: FieldErrors,
    reasons: Vec<&'static str>,
    last_submitted: Option<String>,
}

async fn view(
    state: &AppState,
    ctx: &Ctx,
    me: &CurrentUser,
    org: &db::orgs::OrgRow,
    input: Option<&HashMap<String, String>>,
    errors: FieldErrors,
) -> AppResult<IdView> {
    let locations = db::structure::list(&state.db, Some(org.id)).await?;
    let codes = db::orgs::codes(&state.db, org.id).await?;
    let latest = db::submissions::latest(&state.db, Some(org.id))
        .await?
        .into_iter()
        .find(|s| s.kind == "id_management");
    // Pre-fill from the form just posted, else from the last declaration.
    let previous: serde_json::Value = match &latest {
        Some(l) => db::submissions::data(&state.db, org.id, l.id)
            .await?
            .unwrap_or_default(),
        None => serde_json::Value::Null,
    };
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
    let mut away: Vec<AwayRow> = match input {
        Some(i) => (0..MAX_ROWS)
            .map(|n| away_row(i, n))
            .filter(|r| !is_blank(r))
            .collect(),
        None => previous["away"]
            .as_array()
            .map(|rows| {
                rows.iter()
                    .map(|r| AwayRow {
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
    away.extend((next..next + BLANK_ROWS).map(|n| AwayRow {
        n,
        ..AwayRow::default()
    }));
    Ok(IdView {
        page: Page::new(ctx, Some(me)),
        org_id: org.id,
        org_name: org.name.clone(),
        codes: codes.join("、"),
        offices,
        away,
        attest: input
            .map(|i| i.get("attest").is_some_and(|v| v == "yes"))
            .unwrap_or(previous["attested"] == true),
        can_edit: matches!(
            me.role,
            crate::domain::Role::OrgAdmin | crate::domain::Role::CenterAdmin
        ),
        errors,
        reasons: REASONS.to_vec(),
        last_submitted: latest
            .and_then(|l| l.submitted_at)
            .map(|t| super::page::jst(&t)),
    })
}

fn away_row(i: &HashMap<String, String>, n: usize) -> AwayRow {
    let get = |f: &str| i.get(&format!("away_{n}_{f}")).cloned().unwrap_or_default();
    AwayRow {
        n,
        place: get("place"),
        reason: get("reason"),
        from: get("from"),
        to: get("to"),
        ids: get("ids"),
        office: get("office"),
    }
}

fn is_blank(r: &AwayRow) -> bool {
    [&r.place, &r.from, &r.to, &r.ids]
        .iter()
        .all(|s| s.trim().is_empty())
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

fn split_ids(raw: &str) -> Vec<&str> {
    raw.split(|c: char| c.is_whitespace() || c == ',' || c == '、' || c == '，')
        .filter(|s| !s.is_empty())
        .collect()
}

/// `POST /orgs/{org}/id-management`: validates and submits the declaration.
pub async fn submit(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Path(org_id): Path<Uuid>,
    CsrfForm(input): CsrfForm<HashMap<String, String>>,
) -> AppResult<Response> {
    let org = org_for(&state, &me, org_id, true).await?;
    let codes: HashSet<String> = db::orgs::codes(&state.db, org_id)
        .await?
        .into_iter()
        .collect();
    let locations = db::structure::list(&state.db, Some(org_id)).await?;
    let offices: Vec<_> = locations
        .iter()
        .filter(|l| l.active && l.scope_kind() == ScopeKind::Office)
        .collect();
    let mut errors = FieldErrors::default();
    if input.get("attest").map(String::as_str) != Some("yes") {
        errors.add("attest", "error.attest_required");
    }
    let mut seen: HashSet<String> = HashSet::new();
    let mut per_office = vec![];
    for o in &offices {
        let field = format!("ids_{}", o.id);
        let mut ids = vec![];
        for raw in split_ids(input.get(&field).map(String::as_str).unwrap_or("")) {
            match NaccsId::parse(raw) {
                Err(k) => errors.add(field.clone(), k),
                Ok(id) if !codes.contains(id.user_code()) => {
                    errors.add(field.clone(), "error.user_id_other_code")
                }
                Ok(id) if !seen.insert(id.as_str().to_string()) => {
                    errors.add(field.clone(), "error.user_id_duplicate")
                }
                Ok(id) => ids.push(id.as_str().to_string()),
            }
        }
        per_office
            .push(serde_json::json!({ "office_id": o.id, "office_name": o.name, "ids": ids }));
    }
    if seen.is_empty()
        && errors.get("_form").is_none()
        && offices
            .iter()
            .all(|o| errors.get(&format!("ids_{}", o.id)).is_none())
    {
        errors.add(
            "_form",
            if offices.is_empty() {
                "error.no_offices"
            } else {
                "error.no_ids"
            },
        );
    }
    let today = chrono::Utc::now().date_naive();
    let mut away = vec![];
    for n in 0..MAX_ROWS {
        let r = away_row(&input, n);
        if is_blank(&r) {
            continue;
        }
        let f = |name: &str| format!("away_{n}_{name}");
        let place = errors.take(
            f("place"),
            if r.place.trim().is_empty() {
                Err("error.required")
            } else if r.place.chars().count() > 200 {
                Err("error.too_long")
            } else {
                Ok(r.place.trim().to_string())
            },
        );
        if !REASONS.contains(&r.reason.as_str()) {
            errors.add(f("reason"), "error.reason_invalid");
        }
        let from = errors.take(f("from"), date(&r.from));
        let to = errors.take(f("to"), date(&r.to));
        if let (Some(a), Some(b)) = (from, to)
            && b < a
        {
            errors.add(f("to"), "error.to_before_from");
        }
        let mut ids = vec![];
        for raw in split_ids(&r.ids) {
            match NaccsId::parse(raw) {
                Err(k) => errors.add(f("ids"), k),
                Ok(id) if !seen.contains(id.as_str()) => {
                    errors.add(f("ids"), "error.user_id_not_declared")
                }
                Ok(id) => ids.push(id.as_str().to_string()),
            }
        }
        if ids.is_empty() {
            errors.add(f("ids"), "error.required");
        }
        let office = Uuid::parse_str(r.office.trim())
            .ok()
            .and_then(|id| offices.iter().find(|o| o.id == id));
        let administrator = match office {
            None => {
                errors.add(f("office"), "error.office_required");
                None
            }
            Some(o) => db::appointments::on_date(&state.db, org_id, o.id, today)
                .await?
                .map(|a| a.name),
        };
        away.push(serde_json::json!({
            "place": place, "reason": r.reason, "from": from.map(|d| d.to_string()), "to": to.map(|d| d.to_string()),
            "ids": ids, "managing_office_id": office.map(|o| o.id), "managing_office_name": office.map(|o| o.name.clone()),
            "administrator": administrator,
        }));
    }
    if !errors.is_empty() {
        let v = view(&state, &ctx, &me, &org, Some(&input), errors).await?;
        return render(StatusCode::UNPROCESSABLE_ENTITY, &v);
    }
    let catalogue = state.catalogue().await?;
    let data = serde_json::json!({ "attested": true, "offices": per_office, "away": away });
    let mut tx = state.db.begin().await?;
    let id = db::submissions::insert_submitted(
        &mut tx,
        &db::submissions::NewSubmission {
            org_id,
            kind: "id_management",
            scope_kind: ScopeKind::Organisation,
            location_id: None,
            data,
            catalogue_revision: catalogue.revision,
            submitted_by: me.id,
        },
    )
    .await?;
    db::audit::append(
        &mut tx,
        &me.audit(
            &ctx,
            "id_management.submitted",
            Some(org_id),
            id.to_string(),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(redirect_with_flash(
        &format!("/orgs/{org_id}/submissions/{id}/receipt"),
        "flash.id_management_submitted",
        state.cookies.secure,
    ))
}

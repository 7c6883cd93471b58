//! Item 3 — ウィルス対策: the antivirus report, one row per computer connected to NACCS,
//! entered in the page or imported from CSV, with stale definitions flagged.

use std::collections::HashMap;
use std::sync::Arc;

use askama::Template;
use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use uuid::Uuid;

use super::ctx::{CsrfForm, Ctx, CurrentUser};
use super::error::AppResult;
use super::imports;
use super::page::{Page, jst, redirect_with_flash, render};
use super::state::AppState;
use super::structure::org_for;
use super::submissions::{draft_id, org_for_report};
use crate::db::{self, orgs::OrgRow};
use crate::domain::ScopeKind;
use crate::domain::antivirus::{self, AvRow, FREQUENCIES, PRODUCTS};

const KIND: &str = "antivirus";
const BLANK_ROWS: usize = 3;
const MAX_ROWS: usize = 1000;
/// The largest CSV accepted for import.
pub const IMPORT_LIMIT: usize = 2 * 1024 * 1024;

/// A row as the form shows it.
pub struct RowView {
    pub n: usize,
    pub row: AvRow,
    pub stale: bool,
    pub errors: Vec<(&'static str, &'static str)>,
}

impl RowView {
    /// The error of one field, if any.
    pub fn error(&self, field: &str) -> Option<&'static str> {
        self.errors
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, k)| *k)
    }
}

#[derive(Template)]
#[template(path = "submissions/antivirus.html")]
struct AvView {
    page: Page,
    /// Why the version this draft revises was returned.
    returned: Option<crate::web::html::common::comments::ReturnNote>,
    org_id: Uuid,
    org_name: String,
    rows: Vec<RowView>,
    offices: Vec<String>,
    products: Vec<&'static str>,
    frequencies: Vec<&'static str>,
    problems: Vec<String>,
    stale_days: i64,
    stale_count: usize,
    can_edit: bool,
    last: Option<(Uuid, String)>,
    /// Locations where the equipment list counts more NACCS computers than rows reported.
    mismatches: Vec<String>,
}

async fn offices(state: &AppState, org_id: Uuid) -> AppResult<Vec<String>> {
    Ok(db::structure::list(&state.db, Some(org_id))
        .await?
        .into_iter()
        .filter(|l| l.active && l.scope_kind() == ScopeKind::Office)
        .map(|l| l.name)
        .collect())
}

async fn view(
    state: &AppState,
    ctx: &Ctx,
    me: &CurrentUser,
    org: &OrgRow,
    rows: Option<Vec<RowView>>,
    problems: Vec<String>,
) -> AppResult<AvView> {
    let today = chrono::Utc::now().date_naive();
    let days = state.config.av_stale_days;
    let mut rows = match rows {
        Some(r) => r,
        None => {
            let draft = db::submissions::draft(&state.db, org.id, KIND, None).await?;
            let stored: Vec<AvRow> = draft
                .and_then(|d| serde_json::from_str::<serde_json::Value>(&d.data).ok())
                .and_then(|v| serde_json::from_value(v["rows"].clone()).ok())
                .unwrap_or_default();
            stored
                .into_iter()
                .enumerate()
                .map(|(n, row)| RowView {
                    n,
                    stale: antivirus::is_stale(&row, today, days),
                    row,
                    errors: vec![],
                })
                .collect()
        }
    };
    let next = rows.iter().map(|r| r.n + 1).max().unwrap_or(0);
    rows.extend((next..next + BLANK_ROWS).map(|n| RowView {
        n,
        row: AvRow {
            update_frequency: "daily".into(),
            product: "defender".into(),
            ..AvRow::default()
        },
        stale: false,
        errors: vec![],
    }));
    let last = db::submissions::latest(&state.db, Some(org.id))
        .await?
        .into_iter()
        .find(|s| s.kind == KIND && s.state != "draft")
        .map(|s| (s.id, s.submitted_at.map(|t| jst(&t)).unwrap_or_default()));
    let t = ctx.tr();
    let expected = crate::domain::equipment::naccs_computers(
        &super::submissions::current_equipment(state, org.id).await?,
    );
    let mismatches = expected
        .iter()
        .filter_map(|(loc, n)| {
            let reported = rows
                .iter()
                .filter(|r| !r.row.is_blank() && &r.row.office == loc)
                .count() as i64;
            (reported < *n).then(|| {
                t.f(
                    "av.mismatch",
                    &[
                        ("location", loc),
                        ("expected", &n.to_string()),
                        ("reported", &reported.to_string()),
                    ],
                )
            })
        })
        .collect();
    let draft = db::submissions::draft(&state.db, org.id, KIND, None).await?;
    Ok(AvView {
        returned: crate::web::html::common::comments::return_note(
            state,
            org.id,
            draft.map(|d| d.id),
        )
        .await?,
        mismatches,
        page: Page::new(ctx, Some(me)),
        org_id: org.id,
        org_name: org.name.clone(),
        stale_count: rows.iter().filter(|r| r.stale).count(),
        rows,
        offices: offices(state, org.id).await?,
        products: PRODUCTS.to_vec(),
        frequencies: FREQUENCIES.to_vec(),
        problems,
        stale_days: days,
        can_edit: me.role != crate::domain::Role::Reviewer,
        last,
    })
}

/// `GET /orgs/{org}/antivirus`
pub async fn page(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Path(org_id): Path<Uuid>,
) -> AppResult<Response> {
    let org = org_for(&state, &me, org_id, false).await?;
    render(
        StatusCode::OK,
        &view(&state, &ctx, &me, &org, None, vec![]).await?,
    )
}

fn rows_from_form(input: &HashMap<String, String>) -> Vec<(usize, AvRow)> {
    (0..MAX_ROWS)
        .map(|n| {
            let get = |f: &str| {
                input
                    .get(&format!("row_{n}_{f}"))
                    .cloned()
                    .unwrap_or_default()
            };
            (
                n,
                AvRow {
                    host: get("host"),
                    office: get("office"),
                    os: get("os"),
                    product: get("product"),
                    product_other: get("product_other"),
                    version: get("version"),
                    definitions_date: get("definitions_date"),
                    update_frequency: get("update_frequency"),
                    last_full_scan: get("last_full_scan"),
                },
            )
        })
        .filter(|(_, r)| !r.is_blank())
        .collect()
}

async fn store_rows(
    state: &AppState,
    ctx: &Ctx,
    me: &CurrentUser,
    org_id: Uuid,
    rows: &[AvRow],
    action: &'static str,
) -> AppResult<Uuid> {
    let draft = draft_id(state, me, org_id, KIND).await?;
    let mut tx = state.db.begin().await?;
    db::submissions::save_draft(&mut tx, org_id, draft, &serde_json::json!({ "rows": rows }))
        .await?;
    let mut entry = me.audit(ctx, action, Some(org_id), draft.to_string());
    entry.detail = serde_json::json!({ "rows": rows.len() });
    db::audit::append(&mut tx, &entry).await?;
    tx.commit().await?;
    Ok(draft)
}

/// `POST /orgs/{org}/antivirus`: save the rows as a draft, or check them and submit.
pub async fn save_or_submit(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Path(org_id): Path<Uuid>,
    CsrfForm(input): CsrfForm<HashMap<String, String>>,
) -> AppResult<Response> {
    let org = org_for_report(&state, &me, org_id).await?;
    let today = chrono::Utc::now().date_naive();
    let offices = offices(&state, org_id).await?;
    let submit = input.get("action").is_some_and(|a| a == "submit");
    let mut checked = vec![];
    let mut any_error = false;
    for (n, mut row) in rows_from_form(&input) {
        let errors = antivirus::check(&mut row, &offices, today);
        any_error |= !errors.is_empty();
        checked.push(RowView {
            n,
            stale: errors.is_empty()
                && antivirus::is_stale(&row, today, state.config.av_stale_days),
            row,
            errors,
        });
    }
    let rows: Vec<AvRow> = checked.iter().map(|r| r.row.clone()).collect();
    let t = ctx.tr();
    if !submit {
        store_rows(&state, &ctx, &me, org_id, &rows, "submission.draft_saved").await?;
        return Ok(redirect_with_flash(
            &format!("/orgs/{org_id}/antivirus"),
            "flash.draft_saved",
            state.cookies.secure,
        ));
    }
    let mut problems = vec![];
    if rows.is_empty() {
        problems.push(t.t("av.need_rows").to_string());
    }
    if any_error {
        problems.push(t.t("av.fix_rows").to_string());
    }
    if !problems.is_empty() {
        // Keep what was typed as the draft; nothing reaches the Center.
        store_rows(&state, &ctx, &me, org_id, &rows, "submission.draft_saved").await?;
        return render(
            StatusCode::UNPROCESSABLE_ENTITY,
            &view(&state, &ctx, &me, &org, Some(checked), problems).await?,
        );
    }
    let draft = store_rows(&state, &ctx, &me, org_id, &rows, "submission.draft_saved").await?;
    super::submissions::seal(
        &state,
        &ctx,
        &me,
        org_id,
        draft,
        KIND,
        serde_json::json!({ "computers": rows.len() }),
    )
    .await
}

/// `POST /orgs/{org}/antivirus/import` (multipart: `csrf_token`, then `file`): replaces the
/// draft's rows with the CSV's, only if every line is clean.
pub async fn import(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Path(org_id): Path<Uuid>,
    mut form: Multipart,
) -> AppResult<Response> {
    let org = org_for_report(&state, &me, org_id).await?;
    let bytes = super::submissions::read_csv_upload(&mut form, &me).await?;
    let t = ctx.tr();
    let offices = offices(&state, org_id).await?;
    let today = chrono::Utc::now().date_naive();
    let names = offices.clone();
    let read = imports::blocking(move || antivirus::import(&bytes, &names, today)).await?;
    let problems = match read {
        Ok(imported) if imported.rows.len() > MAX_ROWS => {
            vec![t.f("import.too_many_rows", &[("max", &MAX_ROWS.to_string())])]
        }
        Ok(imported) => {
            let shown = imported
                .rows
                .iter()
                .map(|r| {
                    let mut cells = r.to_cells();
                    let product = t.t(&format!("av.product.{}", r.product)).to_string();
                    cells[3] = if r.product_other.is_empty() || r.product_other == product {
                        product
                    } else {
                        format!("{product}（{}）", r.product_other)
                    };
                    cells[6] = t.t(&format!("av.freq.{}", r.update_frequency)).to_string();
                    cells.truncate(antivirus::FIELDS.len());
                    cells
                })
                .zip(&imported.numbers)
                .map(|(cells, n)| (*n, cells))
                .collect();
            return imports::confirm_page(
                &ctx,
                &me,
                imports::Confirm {
                    org_name: org.name.clone(),
                    title_key: "av.title",
                    sheet: imported.sheet,
                    header_row: imported.header_row,
                    headings: antivirus::FIELDS
                        .iter()
                        .map(|f| t.t(&format!("av.col.{f}")).to_string())
                        .collect(),
                    rows: shown,
                    action: format!("/orgs/{org_id}/antivirus/import/confirm"),
                    back: format!("/orgs/{org_id}/antivirus"),
                    payload: imports::payload(imported.rows.iter().map(AvRow::to_cells).collect())?,
                },
            );
        }
        Err(failed) => imports::problems(&t, "av.col", failed, &offices),
    };
    render(
        StatusCode::UNPROCESSABLE_ENTITY,
        &view(&state, &ctx, &me, &org, None, problems).await?,
    )
}

/// `POST /orgs/{org}/antivirus/import/confirm` (登録): replaces the draft's rows with the rows
/// the confirmation page showed, checked again.
pub async fn confirm_import(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Path(org_id): Path<Uuid>,
    CsrfForm(form): CsrfForm<imports::ConfirmForm>,
) -> AppResult<Response> {
    let org = org_for_report(&state, &me, org_id).await?;
    let offices = offices(&state, org_id).await?;
    let today = chrono::Utc::now().date_naive();
    let mut rows: Vec<AvRow> = imports::rows_posted(&form, MAX_ROWS)?
        .iter()
        .map(|c| AvRow::from_cells(c))
        .collect();
    // Offices may have changed since the file was read; a changed row is not stored.
    if rows
        .iter_mut()
        .any(|r| !antivirus::check(r, &offices, today).is_empty())
    {
        let t = ctx.tr();
        return render(
            StatusCode::UNPROCESSABLE_ENTITY,
            &view(
                &state,
                &ctx,
                &me,
                &org,
                None,
                vec![t.t("import.changed").to_string()],
            )
            .await?,
        );
    }
    store_rows(&state, &ctx, &me, org_id, &rows, "antivirus.imported").await?;
    Ok(redirect_with_flash(
        &format!("/orgs/{org_id}/antivirus"),
        "flash.imported",
        state.cookies.secure,
    ))
}

/// `GET /orgs/{org}/antivirus/template.csv`: the import template, UTF-8 with BOM so Excel
/// opens it without mojibake.
pub async fn template(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Path(org_id): Path<Uuid>,
) -> AppResult<Response> {
    org_for(&state, &me, org_id, false).await?;
    let t = ctx.tr();
    let header: Vec<String> = antivirus::FIELDS
        .iter()
        .map(|f| t.f(&format!("av.col.{f}"), &[]))
        .collect();
    let body = format!(
        "\u{feff}{}\r\nPC-001,{},Windows 11,Microsoft Defender,4.18,2026-11-24,daily,2026-11-20\r\n",
        header.join(","),
        t.t("av.sample_office")
    );
    Ok(super::submissions::csv_download(
        body,
        "attachment; filename=\"antivirus-template.csv\"",
    ))
}

//! Item 3 — ウィルス対策: the antivirus report, one row per computer connected to NACCS,
//! entered in the page or imported from CSV, with stale definitions flagged.

use std::collections::HashMap;
use std::sync::Arc;

use askama::Template;
use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use uuid::Uuid;

use crate::app::antivirus::{self as av, RowsInput};
use crate::app::orgs::OrgRow;
use crate::app::submissions::{ImportRefused, Place, ReportKind};
use crate::app::{self, FieldErrors};
use crate::domain::antivirus::{self, AvRow, FREQUENCIES, PRODUCTS};
use crate::web::ctx::{CsrfForm, Ctx, CurrentUser};
use crate::web::error::AppResult;
use crate::web::html::common::access::{org_for, reader};
use crate::web::html::common::comments::{ReturnNote, page_return_note};
use crate::web::html::common::files::template_csv;
use crate::web::html::common::renewal::{RenewalNote, ShownNote, draft_state};
use crate::web::html::common::upload::read_csv_upload;
use crate::web::html::common::{imports, split_row_errors, to_confirm};
use crate::web::page::{Page, jst, redirect_with_count, redirect_with_flash, render};
use crate::web::state::AppState;

const KIND: ReportKind = ReportKind::Antivirus;
const BLANK_ROWS: usize = 3;
/// The largest CSV accepted for import.
pub const IMPORT_LIMIT: usize = 2 * 1024 * 1024;

/// A row as the form shows it.
pub struct RowView {
    pub n: usize,
    pub row: AvRow,
    pub stale: bool,
    /// As in the accepted report the draft renews (引き継ぎ).
    pub carried: bool,
    pub errors: Vec<(String, &'static str)>,
}

impl RowView {
    /// The error of one field, if any.
    pub fn error(&self, field: &str) -> Option<&'static str> {
        self.errors
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, k)| *k)
    }
}

#[derive(Template)]
#[template(path = "submissions/antivirus.html")]
struct AvView {
    page: Page,
    /// Why the version this draft revises was returned.
    returned: Option<ReturnNote>,
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
    /// The version sent and not accepted yet, shown in place of a draft.
    shown: Option<ShownNote>,
    last: Option<(Uuid, String)>,
    /// Locations where the equipment list counts more NACCS computers than rows reported.
    mismatches: Vec<String>,
    /// The accepted report this draft renews (or a new one would start from).
    renewal: Option<RenewalNote>,
    /// The open draft, when the reader may discard it (下書きを破棄).
    discard: Option<Uuid>,
    /// How many rows the form may hold (「行を追加」 stops there).
    max_rows: usize,
}

async fn view(
    state: &AppState,
    ctx: &Ctx,
    me: &CurrentUser,
    org: &OrgRow,
    rows: Option<Vec<RowView>>,
    problems: Vec<String>,
) -> AppResult<AvView> {
    let today = crate::domain::dates::today();
    let days = state.config.av_stale_days;
    let actor = reader(me);
    let drafted = draft_state(state, &actor, &Place::org(org.id, KIND)).await?;
    let carried: Vec<AvRow> = drafted
        .form
        .renewal
        .as_ref()
        .map(|r| r.rows("rows"))
        .unwrap_or_default();
    let mut rows = match rows {
        Some(r) => r,
        None => serde_json::from_value::<Vec<AvRow>>(drafted.data()["rows"].clone())
            .unwrap_or_default()
            .into_iter()
            .enumerate()
            .map(|(n, row)| RowView {
                n,
                stale: antivirus::is_stale(&row, today, days),
                carried: false,
                row,
                errors: vec![],
            })
            .collect(),
    };
    for r in rows.iter_mut() {
        r.carried = carried.contains(&r.row);
    }
    let may_report = app::submissions::may_report(&actor, org.id);
    let can_edit = drafted.editable(may_report);
    let discard = drafted.draft_id().filter(|_| can_edit);
    let shown = drafted.shown(&ctx.tr(), may_report);
    // Rows to fill in, where the form can be changed.
    let blank = if can_edit { BLANK_ROWS } else { 0 };
    let next = rows.iter().map(|r| r.n + 1).max().unwrap_or(0);
    rows.extend((next..next + blank).map(|n| RowView {
        n,
        row: AvRow {
            update_frequency: "daily".into(),
            product: "defender".into(),
            ..AvRow::default()
        },
        stale: false,
        carried: false,
        errors: vec![],
    }));
    let last = drafted
        .form
        .last()
        .map(|s| (s.id, s.submitted_at.map(|t| jst(&t)).unwrap_or_default()));
    let t = ctx.tr();
    let typed: Vec<AvRow> = rows.iter().map(|r| r.row.clone()).collect();
    // The rows cross-checked are those of the draft, of the version sent (shown in place of
    // a draft) or of the accepted report a draft starts from; with none, nothing was reported.
    let checked = drafted.form.draft.is_some()
        || drafted.form.shown.is_some()
        || drafted.form.renewal.is_some()
        || last.is_none();
    let mismatches = match checked {
        true => av::mismatches(state, org.id, &typed).await?,
        false => vec![],
    }
    .into_iter()
    .map(|(loc, expected, reported)| {
        t.f(
            crate::domain::antivirus::mismatch_key(expected, reported),
            &[
                ("location", &loc),
                ("expected", &expected.to_string()),
                ("reported", &reported.to_string()),
            ],
        )
    })
    .collect();
    let returned = page_return_note(state, org.id, &drafted).await?;
    Ok(AvView {
        returned,
        renewal: drafted.note(&t),
        discard,
        mismatches,
        page: Page::new(ctx, Some(me)),
        org_id: org.id,
        org_name: org.name.clone(),
        stale_count: rows.iter().filter(|r| r.stale).count(),
        rows,
        offices: av::offices(state, org.id).await?,
        products: PRODUCTS.to_vec(),
        frequencies: FREQUENCIES.to_vec(),
        problems,
        stale_days: days,
        can_edit,
        max_rows: av::MAX_ROWS,
        shown,
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

/// The non-blank rows of the form, in order.
fn rows_from_form(input: &HashMap<String, String>) -> Vec<AvRow> {
    (0..av::MAX_ROWS)
        .map(|n| {
            let get = |f: &str| {
                input
                    .get(&format!("row_{n}_{f}"))
                    .cloned()
                    .unwrap_or_default()
            };
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
            }
        })
        .filter(|r| !r.is_blank())
        .collect()
}

/// `POST /orgs/{org}/antivirus`: save the rows as a draft, or save and check them and go on
/// to the confirmation step.
pub async fn save_or_submit(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Path(org_id): Path<Uuid>,
    CsrfForm(input): CsrfForm<HashMap<String, String>>,
) -> AppResult<Response> {
    let actor = me.actor(&ctx);
    let org = app::submissions::reporting_org(&state, &actor, org_id).await?;
    let submit = input.get("action").is_some_and(|a| a == "submit");
    let typed = RowsInput {
        org: org_id,
        rows: rows_from_form(&input),
    };
    if !submit {
        av::save_rows(&state, &actor, typed).await?;
        return Ok(redirect_with_flash(
            &format!("/orgs/{org_id}/antivirus"),
            "flash.draft_saved",
            state.cookies.secure,
        ));
    }
    match av::save_and_check(&state, &actor, typed).await {
        Ok(draft) => Ok(to_confirm(org_id, draft)),
        // The typed rows were kept as the draft; nothing reached the Center.
        Err(app::Error::Invalid(errors)) => refused(&state, &ctx, &me, &org, &errors).await,
        Err(e) => Err(e.into()),
    }
}

/// The form again with the rows as saved and why they were refused.
async fn refused(
    state: &AppState,
    ctx: &Ctx,
    me: &CurrentUser,
    org: &OrgRow,
    errors: &FieldErrors,
) -> AppResult<Response> {
    let t = ctx.tr();
    let today = crate::domain::dates::today();
    let (form, mut by_row) = split_row_errors(errors);
    let problems = form.into_iter().map(|k| t.t(k).to_string()).collect();
    let checked = av::draft_rows(state, org.id)
        .await?
        .into_iter()
        .enumerate()
        .map(|(n, row)| {
            let errors = by_row.remove(&n).unwrap_or_default();
            RowView {
                n,
                stale: errors.is_empty()
                    && antivirus::is_stale(&row, today, state.config.av_stale_days),
                carried: false,
                row,
                errors,
            }
        })
        .collect();
    render(
        StatusCode::UNPROCESSABLE_ENTITY,
        &view(state, ctx, me, org, Some(checked), problems).await?,
    )
}

/// `POST /orgs/{org}/antivirus/import` (multipart: `csrf_token`, then `file`): reads a CSV
/// and shows its rows for confirmation, only if every line is clean.
pub async fn import(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Path(org_id): Path<Uuid>,
    mut form: Multipart,
) -> AppResult<Response> {
    let actor = me.actor(&ctx);
    let org = app::submissions::reporting_org(&state, &actor, org_id).await?;
    let bytes = read_csv_upload(&mut form, &me).await?;
    let t = ctx.tr();
    let problems = match av::read_import(&state, &actor, org_id, bytes).await? {
        Err(ImportRefused::TooManyRows { max }) => {
            vec![t.f("import.too_many_rows", &[("max", &max.to_string())])]
        }
        Ok(imported) => {
            let today = crate::domain::dates::today();
            let shown = imported
                .rows
                .iter()
                .map(|r| {
                    let mut cells = r.to_cells();
                    // As the report will show it (the name as written first).
                    let word = t.t(&format!("av.product.{}", r.product)).to_string();
                    cells[3] = antivirus::product_label(r, &word, t.t("ui.lp"), t.t("ui.rp"));
                    cells[6] = t.t(&format!("av.freq.{}", r.update_frequency)).to_string();
                    // Old definitions are said before 登録, as the page says them after.
                    if antivirus::is_stale(r, today, state.config.av_stale_days) {
                        cells[5] = format!(
                            "{}{}{}{}",
                            cells[5],
                            t.t("ui.lp"),
                            t.t("av.stale"),
                            t.t("ui.rp")
                        );
                    }
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
                    ignored: imported.ignored,
                    assumed: vec![],
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
        Err(ImportRefused::Failed { failed, names }) => {
            imports::problems(&t, "av.col", failed, &names)
        }
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
    let actor = me.actor(&ctx);
    let org = app::submissions::reporting_org(&state, &actor, org_id).await?;
    let rows: Vec<AvRow> = imports::rows_posted(&form, av::MAX_ROWS)?
        .iter()
        .map(|c| AvRow::from_cells(c))
        .collect();
    match av::import_rows(&state, &actor, RowsInput { org: org_id, rows }).await {
        Ok(saved) => Ok(redirect_with_count(
            &format!("/orgs/{org_id}/antivirus"),
            "flash.av_imported",
            saved.rows.len(),
            state.cookies.secure,
        )),
        // Offices may have changed since the file was read; a changed row is not stored.
        Err(app::Error::Invalid(_)) => {
            let t = ctx.tr();
            render(
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
            )
        }
        Err(e) => Err(e.into()),
    }
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
    // The frequency in the reader's words (毎日 / Daily): the import reads either.
    let sample = format!(
        "PC-001,{},Windows 11,Microsoft Defender,4.18,2026-11-24,{},2026-11-20",
        t.t("av.sample_office"),
        t.t("av.freq.daily")
    );
    Ok(template_csv(
        &t,
        &antivirus::FIELDS,
        "av.col",
        &sample,
        "attachment; filename=\"antivirus-template.csv\"",
    ))
}

//! Exports for the Center: submissions with their decisions, improvement instructions and
//! requests, as CSV (UTF-8 with BOM, opens in Excel), XLSX or JSON. Every export is an
//! audit entry.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::ctx::{Ctx, CurrentUser};
use super::error::{AppError, AppResult};
use super::page::{Page, jst, render};
use super::state::AppState;
use crate::db;
use crate::domain::Role;
use crate::domain::export::Table;

/// The most rows one export holds.
const MAX_ROWS: i64 = 200_000;

/// What can be exported.
pub const DATASETS: [&str; 3] = ["submissions", "instructions", "requests"];
/// In which formats.
pub const FORMATS: [&str; 3] = ["csv", "xlsx", "json"];

#[derive(Template)]
#[template(path = "exports/index.html")]
struct IndexView {
    page: Page,
    datasets: Vec<&'static str>,
    formats: Vec<&'static str>,
}

/// `GET /admin/exports`
pub async fn index(ctx: Ctx, me: CurrentUser) -> AppResult<Response> {
    me.require(&[Role::Reviewer, Role::CenterAdmin])?;
    render(
        StatusCode::OK,
        &IndexView {
            page: Page::new(&ctx, Some(&me)),
            datasets: DATASETS.to_vec(),
            formats: FORMATS.to_vec(),
        },
    )
}

fn labels(t: &crate::i18n::Tr, dataset: &str, keys: &[&'static str]) -> Vec<String> {
    keys.iter()
        .map(|k| t.t(&format!("export.{dataset}.{k}")).to_string())
        .collect()
}

async fn table(state: &AppState, ctx: &Ctx, dataset: &str) -> AppResult<Table> {
    let t = ctx.tr();
    let lang = t.code();
    let catalogue = state.catalogue().await?;
    let title = |key: &str| catalogue.item_title(key, lang);
    let status = |prefix: &str, s: &str| t.t(&format!("{prefix}{s}")).to_string();
    Ok(match dataset {
        "submissions" => {
            let keys = vec![
                "receipt_no",
                "org_code",
                "org_name",
                "item",
                "version",
                "state",
                "submitted_at",
                "decision",
                "reason",
                "reviewer",
                "decided_at",
            ];
            let rows = db::review::export(&state.db, MAX_ROWS)
                .await?
                .into_iter()
                .map(|r| {
                    vec![
                        r.receipt_no,
                        r.org_code,
                        r.org_name,
                        title(&r.kind),
                        r.version.to_string(),
                        status("checklist.status.", &r.state),
                        jst(&r.submitted_at),
                        r.decision
                            .map(|d| status("checklist.status.", &d))
                            .unwrap_or_default(),
                        r.reason.unwrap_or_default(),
                        r.reviewer.unwrap_or_default(),
                        r.decided_at.map(|d| jst(&d)).unwrap_or_default(),
                    ]
                })
                .collect();
            Table {
                labels: labels(&t, dataset, &keys),
                keys,
                rows,
            }
        }
        "instructions" => {
            let keys = vec![
                "org_code",
                "org_name",
                "item",
                "place",
                "receipt_no",
                "problem",
                "required_change",
                "due",
                "state",
                "extension_until",
                "issuer",
                "issued_at",
            ];
            let rows = db::followup::instructions(&state.db, None, false, None, MAX_ROWS)
                .await?
                .into_iter()
                .map(|r| {
                    vec![
                        r.org_code,
                        r.org_name,
                        title(&r.item_key),
                        r.location_name.unwrap_or_default(),
                        r.receipt_no.unwrap_or_default(),
                        r.problem,
                        r.required_change,
                        r.due_date.to_string(),
                        status("followup.state.", &r.state),
                        r.extension_until.map(|d| d.to_string()).unwrap_or_default(),
                        r.issuer,
                        jst(&r.created_at),
                    ]
                })
                .collect();
            Table {
                labels: labels(&t, dataset, &keys),
                keys,
                rows,
            }
        }
        "requests" => {
            let keys = vec![
                "org_code",
                "org_name",
                "item",
                "place",
                "period_from",
                "period_to",
                "due",
                "state",
                "receipt_no",
                "note",
                "issuer",
                "issued_at",
            ];
            let rows = db::followup::requests(&state.db, None, false, MAX_ROWS)
                .await?
                .into_iter()
                .map(|r| {
                    vec![
                        r.org_code,
                        r.org_name,
                        title(&r.item_key),
                        r.location_name.unwrap_or_default(),
                        r.period_from.map(|d| d.to_string()).unwrap_or_default(),
                        r.period_to.map(|d| d.to_string()).unwrap_or_default(),
                        r.due_date.to_string(),
                        status("followup.request_state.", &r.state),
                        r.receipt_no.unwrap_or_default(),
                        r.note,
                        r.issuer,
                        jst(&r.created_at),
                    ]
                })
                .collect();
            Table {
                labels: labels(&t, dataset, &keys),
                keys,
                rows,
            }
        }
        _ => return Err(AppError::NotFound),
    })
}

/// `GET /admin/exports/{dataset}/{format}`: the file, recorded in the audit trail.
pub async fn download(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Path((dataset, format)): Path<(String, String)>,
) -> AppResult<Response> {
    me.require(&[Role::Reviewer, Role::CenterAdmin])?;
    if !FORMATS.contains(&format.as_str()) {
        return Err(AppError::NotFound);
    }
    let table = table(&state, &ctx, &dataset).await?;
    let mut entry = me.audit(&ctx, "export.downloaded", None, dataset.clone());
    entry.detail =
        serde_json::json!({ "dataset": dataset, "format": format, "rows": table.rows.len() });
    db::audit::append_alone(&state.db, &entry).await?;
    let stamp = (chrono::Utc::now() + chrono::Duration::hours(9)).format("%Y%m%d-%H%M");
    let (mime, body): (&str, Vec<u8>) = match format.as_str() {
        "csv" => ("text/csv; charset=utf-8", table.to_csv().into_bytes()),
        "xlsx" => (
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            table.to_xlsx(&dataset),
        ),
        _ => ("application/json", table.to_json().into_bytes()),
    };
    let mut res = body.into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
    if let Ok(v) = HeaderValue::from_str(&format!(
        "attachment; filename=\"secportal-{dataset}-{stamp}.{format}\""
    )) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(res)
}

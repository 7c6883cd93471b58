//! Exports on `/api/v1` for the Center: every dataset of the exports page as CSV, NDJSON or
//! JSON, streamed as it is read (memory stays flat whatever the size), each one audited.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::problem::ApiResult;
use crate::app::exports::{self, ExportInput};
use crate::app::tokens::Caller;
use crate::domain::TokenScope;
use crate::i18n::{Lang, Tr};
use crate::web::AppState;
use crate::web::download::attachment;

/// A dataset.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Dataset {
    Submissions,
    Equipment,
    Antivirus,
    Administrators,
    Instructions,
    Requests,
}

impl Dataset {
    fn as_str(self) -> &'static str {
        match self {
            Dataset::Submissions => "submissions",
            Dataset::Equipment => "equipment",
            Dataset::Antivirus => "antivirus",
            Dataset::Administrators => "administrators",
            Dataset::Instructions => "instructions",
            Dataset::Requests => "requests",
        }
    }
}

/// The file's format.
#[derive(Debug, Clone, Copy, Default, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ExportFormat {
    /// UTF-8 with BOM, CRLF, headers in the Accept-Language language (opens in Excel).
    Csv,
    /// One JSON object per line, stable keys and codes, UTC ISO 8601 times.
    #[default]
    Ndjson,
    /// One JSON array.
    Json,
}

impl ExportFormat {
    fn as_str(self) -> &'static str {
        match self {
            ExportFormat::Csv => "csv",
            ExportFormat::Ndjson => "ndjson",
            ExportFormat::Json => "json",
        }
    }
}

/// The filters of the exports page (each optional).
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    /// `ndjson` (the default), `csv` or `json`.
    pub format: Option<ExportFormat>,
    /// The first day (JST), `YYYY-MM-DD`.
    pub from: Option<String>,
    /// The last day (JST), `YYYY-MM-DD`.
    pub to: Option<String>,
    /// An organisation's user code.
    pub org: Option<String>,
    /// A checklist item's key.
    pub item: Option<String>,
    /// A state (`submitted`, `under_review`, `accepted`, `returned`; for instructions and
    /// requests `open`, `answered`, `closed`, `withdrawn`).
    pub state: Option<String>,
    /// The administrators in office on this day, `YYYY-MM-DD`.
    pub on: Option<String>,
}

/// One dataset, streamed.
#[utoipa::path(get, path = "/api/v1/exports/{dataset}", tag = "review", operation_id = "export",
    params(("dataset" = Dataset, Path, description = "What to export"), ExportQuery),
    security(("token" = ["exports:read"])),
    responses((status = 200, description = "The rows, streamed",
        content(
            (String = "application/x-ndjson"),
            (String = "text/csv"),
            (Vec<serde_json::Value> = "application/json"),
        ))))]
pub async fn export(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    headers: axum::http::HeaderMap,
    Path(dataset): Path<Dataset>,
    Query(q): Query<ExportQuery>,
) -> ApiResult<Response> {
    caller.require(TokenScope::ExportsRead)?;
    let input = ExportInput {
        dataset: dataset.as_str().to_string(),
        format: q.format.unwrap_or_default().as_str().to_string(),
        from: q.from.unwrap_or_default(),
        to: q.to.unwrap_or_default(),
        org: q.org.unwrap_or_default(),
        item: q.item.unwrap_or_default(),
        state: q.state.unwrap_or_default(),
        on: q.on.unwrap_or_default(),
    };
    let export = exports::prepare(&state, &caller.actor, &input).await?;
    // CSV headers and labels in the caller's language; JSON keys and codes never change.
    let lang = headers
        .get(axum::http::header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .and_then(Lang::from_accept_language)
        .unwrap_or(Lang::Ja);
    let (chunks, response) = attachment(export.mime(), &export.file_name);
    export.run(state.app.clone(), Tr::new(lang), chunks).await?;
    Ok(response)
}

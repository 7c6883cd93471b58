//! Organisation side of `/api/v1`, writing: open a draft, push the antivirus rows (one per
//! computer) and the equipment list as JSON, stream a file into a draft, submit.

use std::sync::Arc;

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::problem::{ApiResult, ProblemDoc};
use crate::app::submissions::upload::{UploadFailure, UploadInput};
use crate::app::submissions::{self, Place, ReportKind, Sealed, configuration};
use crate::app::tokens::Caller;
use crate::app::{Error, antivirus};
use crate::domain::TokenScope;
use crate::domain::antivirus::AvRow;
use crate::domain::equipment::EquipmentRow;
use crate::web::AppState;

/// The organisation a token reports for (Center tokens have none: 403).
pub fn reporting(caller: &Caller) -> Result<Uuid, Error> {
    caller.require(TokenScope::ReportsWrite)?;
    caller.actor.org_id.ok_or(Error::Forbidden)
}

/// A kind of report.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    SystemConfiguration,
    OutsideConnections,
    Antivirus,
    InhouseMeasures,
    GatewayLogs,
}

impl From<Kind> for ReportKind {
    fn from(k: Kind) -> ReportKind {
        match k {
            Kind::SystemConfiguration => ReportKind::SystemConfiguration,
            Kind::OutsideConnections => ReportKind::OutsideConnections,
            Kind::Antivirus => ReportKind::Antivirus,
            Kind::InhouseMeasures => ReportKind::InhouseMeasures,
            Kind::GatewayLogs => ReportKind::GatewayLogs,
        }
    }
}

/// Which draft: for gateway logs, the place that keeps them (a gateway site, or an office
/// with a gateway connection).
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct DraftBody {
    /// The place that keeps the logs: a gateway site, or an office with a gateway
    /// connection (gateway logs only).
    pub site: Option<Uuid>,
}

/// An open draft.
#[derive(Debug, Serialize, ToSchema)]
pub struct DraftOut {
    pub id: Uuid,
    /// Whether this request opened it (else it was open already).
    pub created: bool,
}

/// Opens the draft of a kind (or answers the one already open: one per kind and place).
#[utoipa::path(post, path = "/api/v1/reports/{kind}/draft", tag = "reports", operation_id = "open_draft",
    params(("kind" = Kind, Path, description = "The kind of report"), super::IdempotencyKey),
    request_body = DraftBody,
    security(("token" = ["reports:write"])),
    responses((status = 200, body = DraftOut, description = "Open already"), (status = 201, body = DraftOut, description = "Opened now")))]
pub async fn open_draft(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(kind): Path<Kind>,
    Json(body): Json<DraftBody>,
) -> ApiResult<(StatusCode, Json<DraftOut>)> {
    let org = reporting(&caller)?;
    let place = Place {
        org,
        kind: kind.into(),
        site: body.site,
    };
    let d = submissions::open_draft(&state, &caller.actor, place).await?;
    let status = if d.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        Json(DraftOut {
            id: d.id,
            created: d.created,
        }),
    ))
}

/// Every computer's antivirus row: the draft's rows are replaced by these.
#[derive(Debug, Deserialize, ToSchema)]
pub struct AntivirusRows {
    /// One row per computer connected to NACCS (at most 1,000).
    pub rows: Vec<AvRow>,
}

/// The rows kept in the draft.
#[derive(Debug, Serialize, ToSchema)]
pub struct RowsSaved {
    pub draft: Uuid,
    pub rows: usize,
    /// Rows (by index) whose definitions are older than the portal's stale limit.
    pub stale: Vec<usize>,
}

/// Replaces the antivirus draft's rows (opening the draft if needed). Every row must be
/// clean: otherwise 422 with `rows.{i}.{field}` per problem and nothing stored.
#[utoipa::path(post, path = "/api/v1/reports/antivirus/rows", tag = "reports", operation_id = "push_antivirus",
    params(super::IdempotencyKey),
    request_body = AntivirusRows,
    security(("token" = ["reports:write"])),
    responses((status = 200, body = RowsSaved)))]
pub async fn push_antivirus(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Json(body): Json<AntivirusRows>,
) -> ApiResult<Json<RowsSaved>> {
    let org = reporting(&caller)?;
    let saved = antivirus::import_rows(
        &state,
        &caller.actor,
        antivirus::RowsInput {
            org,
            rows: body.rows,
        },
    )
    .await?;
    Ok(Json(RowsSaved {
        draft: saved.draft,
        rows: saved.rows.len(),
        stale: saved.stale,
    }))
}

/// The equipment list: the system configuration draft's rows are replaced by these.
#[derive(Debug, Deserialize, ToSchema)]
pub struct EquipmentRows {
    pub rows: Vec<EquipmentRow>,
}

/// Replaces the system configuration draft's equipment rows (its note stays). Every row must
/// be clean: otherwise 422 with `rows.{i}.{field}` and nothing stored.
#[utoipa::path(post, path = "/api/v1/reports/system_configuration/equipment", tag = "reports", operation_id = "push_equipment",
    params(super::IdempotencyKey),
    request_body = EquipmentRows,
    security(("token" = ["reports:write"])),
    responses((status = 200, body = RowsSaved)))]
pub async fn push_equipment(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Json(body): Json<EquipmentRows>,
) -> ApiResult<Json<RowsSaved>> {
    let org = reporting(&caller)?;
    let saved = configuration::import_rows(&state, &caller.actor, org, body.rows).await?;
    Ok(Json(RowsSaved {
        draft: saved.draft,
        rows: saved.rows.len(),
        stale: Vec::new(),
    }))
}

/// A receipt.
#[derive(Debug, Serialize, ToSchema)]
pub struct Receipt {
    pub submission: Uuid,
    /// The receipt number (受付番号).
    pub receipt_no: String,
    /// Whether it had been submitted already (nothing was done now).
    pub already: bool,
}

impl From<Sealed> for Receipt {
    fn from(s: Sealed) -> Self {
        Receipt {
            submission: s.submission,
            receipt_no: s.receipt_no,
            already: s.already,
        }
    }
}

/// Submits the antivirus draft as stored (at least one row, all clean).
#[utoipa::path(post, path = "/api/v1/reports/antivirus/submit", tag = "reports", operation_id = "submit_antivirus",
    params(super::IdempotencyKey),
    security(("token" = ["reports:write"])),
    responses((status = 201, body = Receipt)))]
pub async fn submit_antivirus(
    State(state): State<Arc<AppState>>,
    caller: Caller,
) -> ApiResult<(StatusCode, Json<Receipt>)> {
    let org = reporting(&caller)?;
    let sealed = antivirus::submit(&state, &caller.actor, org).await?;
    Ok((StatusCode::CREATED, Json(sealed.into())))
}

/// Submits the system configuration draft (it needs a diagram file and an equipment list).
#[utoipa::path(post, path = "/api/v1/reports/system_configuration/submit", tag = "reports", operation_id = "submit_system_configuration",
    params(super::IdempotencyKey),
    security(("token" = ["reports:write"])),
    responses((status = 201, body = Receipt)))]
pub async fn submit_system_configuration(
    State(state): State<Arc<AppState>>,
    caller: Caller,
) -> ApiResult<(StatusCode, Json<Receipt>)> {
    let org = reporting(&caller)?;
    let sealed = configuration::submit(&state, &caller.actor, org).await?;
    Ok((StatusCode::CREATED, Json(sealed.into())))
}

/// What a file is and is for.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FileParams {
    /// `diagram`, `equipment_list` (system configuration), `diagram` (outside connections),
    /// `evidence` (in-house measures), `logs` (gateway logs).
    pub role: String,
    /// The file's name, with its extension (its type is checked against its content).
    pub name: String,
    /// The place that keeps the logs: a gateway site, or an office with a gateway
    /// connection (gateway logs only).
    pub site: Option<Uuid>,
}

/// A file attached to a draft.
#[derive(Debug, Serialize, ToSchema)]
pub struct FileOut {
    pub submission: Uuid,
    pub name: String,
    pub sha256: String,
    pub size: u64,
    pub role: String,
}

/// Streams one file (the raw body) into the draft of a kind, opened if needed.
#[utoipa::path(post, path = "/api/v1/reports/{kind}/files", tag = "reports", operation_id = "upload_file",
    params(("kind" = Kind, Path, description = "The kind of report"), FileParams, super::IdempotencyKey),
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "The file's bytes"),
    security(("token" = ["reports:write"])),
    responses(
        (status = 201, body = FileOut),
        (status = 507, description = "The file store is full: nothing was kept", body = ProblemDoc, content_type = "application/problem+json"),
    ))]
pub async fn upload_file(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(kind): Path<Kind>,
    Query(q): Query<FileParams>,
    body: Body,
) -> ApiResult<(StatusCode, Json<FileOut>)> {
    let org = reporting(&caller)?;
    let input = UploadInput {
        place: Place {
            org,
            kind: kind.into(),
            site: q.site,
        },
        role: q.role,
        name: q.name,
    };
    let stream = body.into_data_stream();
    match submissions::upload::upload(&state, &caller.actor, input, stream).await {
        Ok(u) => {
            state.metrics.uploaded(u.size);
            Ok((
                StatusCode::CREATED,
                Json(FileOut {
                    submission: u.submission,
                    name: u.name,
                    sha256: u.sha256,
                    size: u.size,
                    role: u.role,
                }),
            ))
        }
        Err(UploadFailure::TooMany { .. }) => {
            Err(Error::Conflict("error.api_too_many_files").into())
        }
        Err(UploadFailure::Refused(key)) => Err(Error::field("file", key).into()),
        Err(UploadFailure::Log(_)) => Err(Error::field("file", "error.api_log_refused").into()),
        // The Center's request for logs opens later: nothing is kept until it opens.
        Err(UploadFailure::NotOpen { .. }) => {
            Err(Error::Conflict("error.api_request_not_open").into())
        }
        Err(UploadFailure::DiskFull) => Err(Error::StorageFull.into()),
        Err(UploadFailure::Interrupted) => Err(super::problem::ApiError::BadRequest(
            "the body ended before the file did".into(),
        )),
        Err(UploadFailure::Failed(e)) => Err(e.into()),
    }
}

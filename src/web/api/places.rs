//! Organisation side of `/api/v1`, per office or gateway site: the appointment of its
//! administrator (item 1) and the router attestation of §7.4.2(1). Both are sealed on
//! arrival by the use cases the structure pages call.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::drafts::{Receipt, reporting};
use super::forms::{receipt_of, renamed};
use super::problem::ApiResult;
use crate::app::structure::appointments;
use crate::app::tokens::Caller;
use crate::web::AppState;

/// The administrator appointed for an office or gateway site.
#[derive(Debug, Deserialize, ToSchema)]
pub struct AppointBody {
    /// At most 100 characters.
    pub name: String,
    /// The name's reading (katakana), at most 100 characters.
    pub name_kana: String,
    pub department: String,
    #[serde(default)]
    pub title: String,
    /// Digits and hyphens, e.g. `03-1234-5678`.
    pub phone: String,
    #[serde(default)]
    pub emergency_contact: String,
    pub email: String,
    /// From which day, `YYYY-MM-DD`.
    pub effective_from: String,
}

/// Notifies the Center of the appointment of a location's administrator (org admin); sealed
/// at once.
#[utoipa::path(post, path = "/api/v1/locations/{id}/administrator", tag = "reports", operation_id = "appoint_administrator",
    params(("id" = Uuid, Path, description = "The office or gateway site"), super::IdempotencyKey),
    request_body = AppointBody,
    security(("token" = ["reports:write"])),
    responses((status = 201, body = Receipt)))]
pub async fn appoint(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(location): Path<Uuid>,
    Json(b): Json<AppointBody>,
) -> ApiResult<(StatusCode, Json<Receipt>)> {
    let org = reporting(&caller)?;
    let input = appointments::AppointInput {
        name: b.name,
        name_kana: b.name_kana,
        department: b.department,
        title: b.title,
        phone: b.phone,
        emergency_contact: b.emergency_contact,
        email: b.email,
        effective_from: b.effective_from,
    };
    let id = appointments::appoint(&state, &caller.actor, org, location, input).await?;
    Ok((
        StatusCode::CREATED,
        Json(receipt_of(&state, &caller, org, id).await?),
    ))
}

/// The three statements of §7.4.2(1) about a location's NACCS router; each must be true.
#[derive(Debug, Deserialize, ToSchema)]
pub struct RouterBody {
    /// The LAN port serves NACCS only.
    pub lan_dedicated: bool,
    /// The WAN port is unused.
    pub wan_unused: bool,
    /// Nothing is connected to the console port.
    pub console_unused: bool,
}

/// Attests §7.4.2(1) for a location's NACCS router; sealed at once. A statement not true:
/// 422 naming it; a location with no active NACCS connection (so no router): 422 on `_form`.
#[utoipa::path(post, path = "/api/v1/locations/{id}/router_attestation", tag = "reports", operation_id = "attest_router",
    params(("id" = Uuid, Path, description = "The office or gateway site"), super::IdempotencyKey),
    request_body = RouterBody,
    security(("token" = ["reports:write"])),
    responses((status = 201, body = Receipt)))]
pub async fn attest_router(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(location): Path<Uuid>,
    Json(b): Json<RouterBody>,
) -> ApiResult<(StatusCode, Json<Receipt>)> {
    let org = reporting(&caller)?;
    let confirmed: Vec<&str> = [
        ("lan_dedicated", b.lan_dedicated),
        ("wan_unused", b.wan_unused),
        ("console_unused", b.console_unused),
    ]
    .into_iter()
    .filter_map(|(name, yes)| yes.then_some(name))
    .collect();
    let id = appointments::attest_router(&state, &caller.actor, org, location, &confirmed)
        .await
        .map_err(|e| renamed(e, |f| f.trim_start_matches("router.").to_string()))?;
    Ok((
        StatusCode::CREATED,
        Json(receipt_of(&state, &caller, org, id).await?),
    ))
}

//! Organisation side of `/api/v1`: the reports that are forms on the pages — ID management
//! (item 2), in-house measures (item 5), gateway logs (item 6, per place that keeps them) and the
//! outside-network connection application (§7.4.2(2)). Each operation calls the use case its
//! page calls; field errors name the JSON fields (`offices.0.ids`, `away.1.from`,
//! `measures.servers.patches.status`).

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::drafts::{Receipt, reporting};
use super::problem::ApiResult;
use crate::app::submissions::reads;
use crate::app::tokens::Caller;
use crate::app::{App, Error, FieldErrors, gateway_logs, id_management, inhouse, outside};
use crate::web::AppState;

/// The receipt of a submission sealed by a use case that answers only its id.
pub async fn receipt_of(app: &App, caller: &Caller, org: Uuid, id: Uuid) -> ApiResult<Receipt> {
    let s = reads::submission(app, &caller.actor, org, id).await?;
    Ok(Receipt {
        submission: id,
        receipt_no: s.summary.receipt_no.unwrap_or_default(),
        already: false,
    })
}

/// An error of a use case with its fields renamed for the JSON body (others pass as they are).
pub fn renamed(e: Error, rename: impl Fn(&str) -> String) -> Error {
    match e {
        Error::Invalid(errors) => {
            let mut out = FieldErrors::default();
            for (field, key) in errors.iter() {
                out.add(rename(field), key);
            }
            Error::Invalid(out)
        }
        e => e,
    }
}

/// The 利用者ID in use at one office.
#[derive(Debug, Deserialize, ToSchema)]
pub struct OfficeIds {
    /// The office (an active office of the organisation).
    pub office: Uuid,
    /// Its IDs, e.g. `AAAAA001`.
    #[serde(default)]
    pub ids: Vec<String>,
}

/// IDs used away from the contracted offices.
#[derive(Debug, Deserialize, ToSchema)]
pub struct AwayUse {
    /// Where (at most 200 characters).
    pub place: String,
    /// `telework`, `satellite`, `disaster` or `other`.
    pub reason: String,
    /// `YYYY-MM-DD`.
    pub from: String,
    /// `YYYY-MM-DD`, not before `from`.
    pub to: String,
    /// IDs declared under `offices`.
    pub ids: Vec<String>,
    /// The office whose administrator manages these IDs.
    pub office: Uuid,
}

/// The ID management declaration (item 2).
#[derive(Debug, Deserialize, ToSchema)]
pub struct IdManagementBody {
    /// The organisation's administrators manage every NACCS ID (must be true).
    pub attested: bool,
    /// Every active office with its IDs.
    pub offices: Vec<OfficeIds>,
    /// Use away from the offices (at most 30).
    #[serde(default)]
    pub away: Vec<AwayUse>,
}

/// Submits the ID management declaration (org admin). Errors name `attested`,
/// `offices.{i}.ids` (an office left out: `offices`), `away.{i}.{field}` and `_form`.
#[utoipa::path(post, path = "/api/v1/reports/id_management", tag = "reports", operation_id = "submit_id_management",
    params(super::IdempotencyKey),
    request_body = IdManagementBody,
    security(("token" = ["reports:write"])),
    responses((status = 201, body = Receipt)))]
pub async fn submit_id_management(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Json(b): Json<IdManagementBody>,
) -> ApiResult<(StatusCode, Json<Receipt>)> {
    let org = reporting(&caller)?;
    let offices: Vec<Uuid> = b.offices.iter().map(|o| o.office).collect();
    let input = id_management::IdDeclaration {
        org,
        attested: b.attested,
        offices: b
            .offices
            .into_iter()
            .map(|o| id_management::OfficeIdsInput {
                office: o.office,
                ids: o.ids.join(" "),
            })
            .collect(),
        away: b
            .away
            .into_iter()
            .enumerate()
            .map(|(n, a)| id_management::AwayInput {
                n,
                place: a.place,
                reason: a.reason,
                from: a.from,
                to: a.to,
                ids: a.ids.join(" "),
                office: a.office.to_string(),
            })
            .collect(),
    };
    let id = id_management::declare(&state, &caller.actor, input)
        .await
        .map_err(|e| renamed(e, |f| id_field(f, &offices)))?;
    Ok((
        StatusCode::CREATED,
        Json(receipt_of(&state, &caller, org, id).await?),
    ))
}

/// The JSON name of a field the ID management use case names.
fn id_field(field: &str, offices: &[Uuid]) -> String {
    if field == "attest" {
        return "attested".into();
    }
    if let Some(office) = field.strip_prefix("ids_") {
        return match offices.iter().position(|o| o.to_string() == office) {
            Some(i) => format!("offices.{i}.ids"),
            None => "offices".into(),
        };
    }
    if let Some(rest) = field.strip_prefix("away_")
        && let Some((n, name)) = rest.split_once('_')
    {
        return format!("away.{n}.{name}");
    }
    field.to_string()
}

/// How far one measure is in place on one kind of system.
#[derive(Debug, Deserialize, ToSchema)]
pub struct Measure {
    /// `servers`, `network` or `clients`.
    pub area: String,
    /// `subject_auth`, `access_control`, `encryption`, `patches` or `user_auth`.
    pub measure: String,
    /// `implemented`, `partial`, `planned` or `not_applicable`.
    #[serde(default)]
    pub status: String,
    /// What is done (required unless not applicable; at most 2,000 characters).
    #[serde(default)]
    pub description: String,
}

/// The in-house measures grid.
#[derive(Debug, Deserialize, ToSchema)]
pub struct InhouseBody {
    pub measures: Vec<Measure>,
}

/// A draft kept.
#[derive(Debug, Serialize, ToSchema)]
pub struct DraftSaved {
    pub draft: Uuid,
}

/// Saves the in-house measures (item 5) as the draft; cells not sent are left blank.
#[utoipa::path(post, path = "/api/v1/reports/inhouse_measures", tag = "reports", operation_id = "save_inhouse_measures",
    params(super::IdempotencyKey),
    request_body = InhouseBody,
    security(("token" = ["reports:write"])),
    responses((status = 200, body = DraftSaved)))]
pub async fn save_inhouse(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Json(b): Json<InhouseBody>,
) -> ApiResult<Json<DraftSaved>> {
    let org = reporting(&caller)?;
    let cells: Vec<inhouse::MeasureInput> = b
        .measures
        .into_iter()
        .map(|m| inhouse::MeasureInput {
            area: m.area,
            measure: m.measure,
            status: m.status,
            description: m.description,
        })
        .collect();
    let draft = inhouse::save(&state, &caller.actor, org, &cells).await?;
    Ok(Json(DraftSaved { draft }))
}

/// The JSON name of an in-house cell's field (`m_servers_patches_desc` →
/// `measures.servers.patches.description`).
fn cell_field(field: &str) -> String {
    let Some(rest) = field.strip_prefix("m_") else {
        return field.to_string();
    };
    for area in inhouse::AREAS {
        for measure in inhouse::MEASURES {
            for (part, name) in [("status", "status"), ("desc", "description")] {
                if rest == format!("{area}_{measure}_{part}") {
                    return format!("measures.{area}.{measure}.{name}");
                }
            }
        }
    }
    field.to_string()
}

/// Submits the in-house measures draft: every cell needs a status and, unless not
/// applicable, a description (errors `measures.{area}.{measure}.{status|description}`).
#[utoipa::path(post, path = "/api/v1/reports/inhouse_measures/submit", tag = "reports", operation_id = "submit_inhouse_measures",
    params(super::IdempotencyKey),
    security(("token" = ["reports:write"])),
    responses((status = 201, body = Receipt)))]
pub async fn submit_inhouse(
    State(state): State<Arc<AppState>>,
    caller: Caller,
) -> ApiResult<(StatusCode, Json<Receipt>)> {
    let org = reporting(&caller)?;
    let sealed = inhouse::submit(&state, &caller.actor, org)
        .await
        .map_err(|e| renamed(e, cell_field))?;
    Ok((StatusCode::CREATED, Json(sealed.into())))
}

/// One connection to an outside network made without the NACCS router.
#[derive(Debug, Deserialize, ToSchema)]
pub struct OutsideConnection {
    /// What the organisation calls it (at most 100 characters).
    pub name: String,
    /// `lan` or `remote`.
    pub connection_type: String,
    /// LAN: `proxy`, `nat` or `other`; remote: `vpn` or `other` (`modem_ta` is refused).
    pub method: String,
    /// What `other` is (at most 200 characters).
    #[serde(default)]
    pub method_other: String,
    /// `naccs` (the NACCS computers) or `other`.
    pub computers: String,
    /// The connection (at most 4,000 characters).
    pub description: String,
    /// The measures on the outside (required for remote connections).
    #[serde(default)]
    pub outside_measures: String,
}

/// The outside-network connection application (§7.4.2(2)): every such connection of the
/// organisation.
#[derive(Debug, Deserialize, ToSchema)]
pub struct OutsideBody {
    /// The connections (1 to 10).
    pub connections: Vec<OutsideConnection>,
}

/// Saves the outside-network connection application as the draft (the diagram is a file:
/// `POST /api/v1/reports/outside_connections/files?role=diagram`).
#[utoipa::path(post, path = "/api/v1/reports/outside_connections", tag = "reports", operation_id = "save_outside_connections",
    params(super::IdempotencyKey),
    request_body = OutsideBody,
    security(("token" = ["reports:write"])),
    responses((status = 200, body = DraftSaved)))]
pub async fn save_outside(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Json(b): Json<OutsideBody>,
) -> ApiResult<Json<DraftSaved>> {
    let org = reporting(&caller)?;
    let application = outside::Application {
        connections: b
            .connections
            .into_iter()
            .map(|c| outside::Connection {
                name: c.name,
                connection_type: c.connection_type,
                method: c.method,
                method_other: c.method_other,
                computers: c.computers,
                description: c.description,
                outside_measures: c.outside_measures,
            })
            .collect(),
    };
    let draft = outside::save(&state, &caller.actor, org, &application).await?;
    Ok(Json(DraftSaved { draft }))
}

/// The JSON name of a field the outside-connection use case names (`c1_method`:
/// `connections.1.method`).
fn outside_field(field: &str) -> String {
    if let Some(rest) = field.strip_prefix('c')
        && let Some((n, name)) = rest.split_once('_')
        && n.parse::<usize>().is_ok()
    {
        return format!("connections.{n}.{name}");
    }
    field.to_string()
}

/// Submits the outside-network connection application (checked as on the page; it needs a
/// diagram). Field errors name `connections.{i}.{field}` and `_form`.
#[utoipa::path(post, path = "/api/v1/reports/outside_connections/submit", tag = "reports", operation_id = "submit_outside_connections",
    params(super::IdempotencyKey),
    security(("token" = ["reports:write"])),
    responses((status = 201, body = Receipt)))]
pub async fn submit_outside(
    State(state): State<Arc<AppState>>,
    caller: Caller,
) -> ApiResult<(StatusCode, Json<Receipt>)> {
    let org = reporting(&caller)?;
    let sealed = outside::submit(&state, &caller.actor, org)
        .await
        .map_err(|e| renamed(e, outside_field))?;
    Ok((StatusCode::CREATED, Json(sealed.into())))
}

/// How one place (a gateway site, or an office with a gateway connection) keeps its logs
/// (Table 7-4-2).
#[derive(Debug, Deserialize, ToSchema)]
pub struct GatewayLogsBody {
    /// The gateway site, or the office with a gateway connection.
    pub site: Uuid,
    /// Where the logs are kept.
    #[serde(default)]
    pub storage: String,
    /// How many months they are kept (12 at least).
    #[serde(default)]
    pub retention_months: String,
    /// How they are recorded.
    #[serde(default)]
    pub mechanism: String,
    /// The period the attached logs cover, `YYYY-MM-DD` (needed when logs are attached).
    #[serde(default)]
    pub period_from: String,
    #[serde(default)]
    pub period_to: String,
}

/// Saves a place's log report as its draft (the logs are files:
/// `POST /api/v1/reports/gateway_logs/files?role=logs&site=…`, within the request's window).
#[utoipa::path(post, path = "/api/v1/reports/gateway_logs", tag = "reports", operation_id = "save_gateway_logs",
    params(super::IdempotencyKey),
    request_body = GatewayLogsBody,
    security(("token" = ["reports:write"])),
    responses((status = 200, body = DraftSaved)))]
pub async fn save_gateway_logs(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Json(b): Json<GatewayLogsBody>,
) -> ApiResult<Json<DraftSaved>> {
    let org = reporting(&caller)?;
    let input = gateway_logs::LogsInput {
        org,
        site: b.site,
        storage: b.storage,
        retention_months: b.retention_months,
        mechanism: b.mechanism,
        period_from: b.period_from,
        period_to: b.period_to,
    };
    let draft = gateway_logs::save(&state, &caller.actor, &input).await?;
    Ok(Json(DraftSaved { draft }))
}

/// Which place (a gateway site, or an office with a gateway connection).
#[derive(Debug, Deserialize, ToSchema)]
pub struct SiteBody {
    pub site: Uuid,
}

/// Submits a place's log report (checked as on the page: retention of a year, the
/// logs the Center asked for with their period, each log checked).
#[utoipa::path(post, path = "/api/v1/reports/gateway_logs/submit", tag = "reports", operation_id = "submit_gateway_logs",
    params(super::IdempotencyKey),
    request_body = SiteBody,
    security(("token" = ["reports:write"])),
    responses((status = 201, body = Receipt)))]
pub async fn submit_gateway_logs(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Json(b): Json<SiteBody>,
) -> ApiResult<(StatusCode, Json<Receipt>)> {
    let org = reporting(&caller)?;
    let sealed = gateway_logs::submit(&state, &caller.actor, org, b.site).await?;
    Ok((StatusCode::CREATED, Json(sealed.into())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn use_case_fields_are_named_as_the_json_body_names_them() {
        let office = Uuid::new_v4();
        assert_eq!(
            id_field(&format!("ids_{office}"), &[office]),
            "offices.0.ids"
        );
        assert_eq!(id_field(&format!("ids_{office}"), &[]), "offices");
        assert_eq!(id_field("away_2_from", &[]), "away.2.from");
        assert_eq!(id_field("attest", &[]), "attested");
        assert_eq!(id_field("_form", &[]), "_form");
        assert_eq!(outside_field("c1_method"), "connections.1.method");
        assert_eq!(
            outside_field("c0_outside_measures"),
            "connections.0.outside_measures"
        );
        assert_eq!(outside_field("_form"), "_form");
        assert_eq!(outside_field("computers"), "computers");
        assert_eq!(
            cell_field("m_servers_patches_desc"),
            format!("measures.servers.patches.description")
        );
    }
}

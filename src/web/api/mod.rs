//! `/api/v1`: the JSON interface for scripts. Every route sits behind [`guard::guard`]
//! (bearer token, rate limit, idempotency, audit, problem details) and calls the same `app`
//! functions the pages call. The OpenAPI document is derived from these handlers.

pub mod comments;
pub mod drafts;
pub mod exports;
pub mod followup;
pub mod forms;
pub mod guard;
pub mod places;
pub mod problem;
pub mod reports;
pub mod review;
pub mod steps;

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Serialize;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{IntoParams, Modify, OpenApi, ToSchema};
use uuid::Uuid;

use crate::app::tokens::Caller;
use crate::web::AppState;
use problem::{ApiError, ApiResult, ProblemDoc};

/// The `Idempotency-Key` header every POST carries (IETF draft): a retry with the same key
/// and the same request gets the first answer back and changes nothing again.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Header)]
pub struct IdempotencyKey {
    /// 1 to 255 visible ASCII characters, unique per request (a UUID is a good choice).
    #[param(
        rename = "Idempotency-Key",
        pattern = "^[!-~]{1,255}$",
        min_length = 1,
        max_length = 255
    )]
    #[allow(dead_code)]
    idempotency_key: String,
}

/// The token's owner and what the token may do.
#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    pub user_id: Uuid,
    pub email: String,
    /// `org_member`, `org_admin`, `reviewer` or `center_admin`.
    pub role: String,
    /// The organisation the token reports for; absent for Center staff.
    pub org_id: Option<Uuid>,
    /// The scopes in force (those the owner's role still allows).
    pub scopes: Vec<String>,
}

/// Who the token acts as.
#[utoipa::path(get, path = "/api/v1/me", tag = "tokens",
    security(("token" = [])),
    responses(
        (status = 200, body = Me),
    ))]
pub async fn me(caller: Caller) -> ApiResult<Json<Me>> {
    Ok(Json(Me {
        user_id: caller.actor.id,
        email: caller.actor.email.clone(),
        role: caller.actor.role.as_str().to_string(),
        org_id: caller.actor.org_id,
        scopes: caller
            .scopes
            .iter()
            .map(|s| s.as_str().to_string())
            .collect(),
    }))
}

/// What every operation shares: the bearer scheme, and the problems any request may meet
/// (the handlers list only their own outcomes).
struct Common;

/// (status, description, for POST only)
const COMMON_PROBLEMS: [(&str, &str, bool); 11] = [
    (
        "400",
        "The path, query or body cannot be read, or a POST lacks its Idempotency-Key.",
        false,
    ),
    (
        "401",
        "No token, or an unknown, expired or revoked one (cookies are never accepted).",
        false,
    ),
    (
        "403",
        "The token lacks the scope, or its owner's role may not do this.",
        false,
    ),
    (
        "404",
        "Not found, or outside the token's organisation.",
        false,
    ),
    ("405", "This path does not take this method.", false),
    (
        "409",
        "A request with this Idempotency-Key is still running, or the state does not allow it.",
        true,
    ),
    ("413", "The body is larger than allowed.", true),
    ("415", "The body is not JSON.", true),
    (
        "422",
        "Invalid input (errors lists the fields), or the Idempotency-Key was used for another request.",
        false,
    ),
    (
        "429",
        "Over the token's rate limit; Retry-After says how many seconds to wait.",
        false,
    ),
    (
        "503",
        "The database did not answer in time; nothing was applied.",
        false,
    ),
];

impl Modify for Common {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
        let components = openapi
            .components
            .get_or_insert_with(utoipa::openapi::Components::new);
        components.add_security_scheme(
            "token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "A personal access token made under アカウント › APIトークン (spt_…).",
                    ))
                    .build(),
            ),
        );
        for item in openapi.paths.paths.values_mut() {
            let ops = [(&mut item.get, false), (&mut item.post, true)];
            for (op, is_post) in ops {
                let Some(op) = op.as_mut() else { continue };
                for (status, description, post_only) in COMMON_PROBLEMS {
                    if post_only && !is_post {
                        continue;
                    }
                    let response = ResponseBuilder::new()
                        .description(description)
                        .content(
                            problem::PROBLEM_JSON,
                            ContentBuilder::new()
                                .schema(Some(Ref::from_schema_name("ProblemDoc")))
                                .build(),
                        )
                        .build();
                    op.responses
                        .responses
                        .entry(status.to_string())
                        .or_insert(RefOr::T(response));
                }
            }
        }
    }
}

/// The OpenAPI 3.1 document of `/api/v1`.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "secportal API",
        version = "1",
        description = "Report NACCS §7.4 security measures and review them from scripts. \
            Authenticate with a personal access token (Authorization: Bearer spt_…). Every POST \
            needs an Idempotency-Key header. Errors are RFC 9457 problem details in the \
            language of Accept-Language (ja, en)."
    ),
    modifiers(&Common),
    paths(
        me,
        reports::checklist,
        reports::submissions,
        reports::submission,
        review::queue,
        review::submission,
        review::decide,
        drafts::open_draft,
        drafts::push_antivirus,
        drafts::push_equipment,
        drafts::upload_file,
        drafts::submit_antivirus,
        drafts::submit_system_configuration,
        exports::export,
        followup::org_followup,
        followup::answer,
        followup::center_followup,
        followup::issue_instruction,
        followup::issue_request,
        steps::answer_with_files,
        steps::ask_extension,
        steps::decide_instruction,
        steps::withdraw_request,
        comments::org_comments,
        comments::org_comment,
        comments::center_comments,
        comments::center_comment,
        forms::submit_id_management,
        forms::save_inhouse,
        forms::submit_inhouse,
        forms::save_outside,
        forms::submit_outside,
        forms::save_gateway_logs,
        forms::submit_gateway_logs,
        places::appoint,
        places::attest_router,
    ),
    components(schemas(
        ProblemDoc,
        problem::FieldProblem,
        drafts::Kind,
        review::QueueState,
        review::Who,
        exports::Dataset,
        exports::ExportFormat,
        steps::Action
    )),
    tags(
        (name = "tokens", description = "The token itself"),
        (name = "reports", description = "Organisation side: reports (報告)"),
        (name = "review", description = "Center side: review (審査)"),
    )
)]
pub struct ApiDoc;

/// `GET /api/v1/openapi.json`
pub async fn openapi() -> Response {
    Json(ApiDoc::openapi()).into_response()
}

/// The API's routes, each behind the guard.
pub fn router(state: Arc<AppState>) -> Router {
    let upload_limit = usize::try_from(state.config.max_file_bytes.max(state.config.max_log_bytes))
        .unwrap_or(usize::MAX)
        .saturating_add(1024 * 1024);
    Router::new()
        .route("/api/v1/openapi.json", get(openapi))
        .route("/api/v1/me", get(me))
        .route("/api/v1/checklist", get(reports::checklist))
        .route("/api/v1/submissions", get(reports::submissions))
        .route("/api/v1/submissions/{id}", get(reports::submission))
        .route("/api/v1/review/queue", get(review::queue))
        .route("/api/v1/review/submissions/{id}", get(review::submission))
        .route(
            "/api/v1/review/submissions/{id}/decision",
            post(review::decide),
        )
        // Anything else under /api answers problem details, never a page.
        .route("/api/v1/reports/{kind}/draft", post(drafts::open_draft))
        .route(
            "/api/v1/reports/antivirus/rows",
            post(drafts::push_antivirus),
        )
        .route(
            "/api/v1/reports/antivirus/submit",
            post(drafts::submit_antivirus),
        )
        .route(
            "/api/v1/reports/system_configuration/equipment",
            post(drafts::push_equipment),
        )
        .route(
            "/api/v1/reports/system_configuration/submit",
            post(drafts::submit_system_configuration),
        )
        .route(
            "/api/v1/reports/{kind}/files",
            post(drafts::upload_file).layer(DefaultBodyLimit::max(upload_limit)),
        )
        .route("/api/v1/exports/{dataset}", get(exports::export))
        .route("/api/v1/followup", get(followup::org_followup))
        .route("/api/v1/instructions/{id}/answer", post(followup::answer))
        .route("/api/v1/review/followup", get(followup::center_followup))
        .route(
            "/api/v1/orgs/{org}/instructions",
            post(followup::issue_instruction),
        )
        .route("/api/v1/orgs/{org}/requests", post(followup::issue_request))
        .route(
            "/api/v1/instructions/{id}/answer/files",
            post(steps::answer_with_files).layer(DefaultBodyLimit::max(upload_limit)),
        )
        .route(
            "/api/v1/instructions/{id}/extension",
            post(steps::ask_extension),
        )
        .route(
            "/api/v1/orgs/{org}/instructions/{id}/decision",
            post(steps::decide_instruction),
        )
        .route(
            "/api/v1/orgs/{org}/requests/{id}/withdraw",
            post(steps::withdraw_request),
        )
        .route(
            "/api/v1/submissions/{id}/comments",
            get(comments::org_comments).post(comments::org_comment),
        )
        .route(
            "/api/v1/review/submissions/{id}/comments",
            get(comments::center_comments).post(comments::center_comment),
        )
        .route(
            "/api/v1/reports/id_management",
            post(forms::submit_id_management),
        )
        .route(
            "/api/v1/reports/inhouse_measures",
            post(forms::save_inhouse),
        )
        .route(
            "/api/v1/reports/inhouse_measures/submit",
            post(forms::submit_inhouse),
        )
        .route(
            "/api/v1/reports/outside_connections",
            post(forms::save_outside),
        )
        .route(
            "/api/v1/reports/outside_connections/submit",
            post(forms::submit_outside),
        )
        .route(
            "/api/v1/reports/gateway_logs",
            post(forms::save_gateway_logs),
        )
        .route(
            "/api/v1/reports/gateway_logs/submit",
            post(forms::submit_gateway_logs),
        )
        .route(
            "/api/v1/locations/{id}/administrator",
            post(places::appoint),
        )
        .route(
            "/api/v1/locations/{id}/router_attestation",
            post(places::attest_router),
        )
        .route("/api/{*rest}", axum::routing::any(not_found))
        .route("/api", axum::routing::any(not_found))
        .layer(DefaultBodyLimit::max(guard::JSON_LIMIT))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            guard::guard,
        ))
        .with_state(state)
}

async fn not_found() -> ApiError {
    ApiError::App(crate::app::Error::NotFound)
}

#[cfg(test)]
mod tests {
    use super::ApiDoc;
    use utoipa::OpenApi;

    fn refs<'a>(v: &'a serde_json::Value, out: &mut Vec<&'a str>) {
        match v {
            serde_json::Value::Object(m) => {
                for (k, x) in m {
                    match (k.as_str(), x) {
                        ("$ref", serde_json::Value::String(r)) => out.push(r),
                        _ => refs(x, out),
                    }
                }
            }
            serde_json::Value::Array(a) => a.iter().for_each(|x| refs(x, out)),
            _ => {}
        }
    }

    #[test]
    fn every_reference_in_the_openapi_document_resolves() {
        let doc = serde_json::to_value(ApiDoc::openapi()).unwrap();
        let mut found = vec![];
        refs(&doc, &mut found);
        assert!(!found.is_empty());
        for r in found {
            let pointer = r.trim_start_matches('#');
            assert!(doc.pointer(pointer).is_some(), "{r} does not resolve");
        }
    }

    #[test]
    fn every_operation_has_a_summary_in_both_languages() {
        let doc = serde_json::to_value(ApiDoc::openapi()).unwrap();
        for (_, item) in doc["paths"].as_object().unwrap() {
            for (_, op) in item.as_object().unwrap() {
                let id = op["operationId"].as_str().unwrap();
                for lang in [crate::i18n::Lang::Ja, crate::i18n::Lang::En] {
                    assert!(
                        crate::i18n::Tr::new(lang).has(&format!("api.op.{id}")),
                        "api.op.{id} missing"
                    );
                }
            }
        }
    }
}

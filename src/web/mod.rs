//! The HTTP face: router, extractors, error pages, middleware and one module per page area.

pub mod api;
pub mod api_reference;
pub mod assets;
pub mod auth;
pub mod cookies;
pub mod ctx;
pub mod download;
pub mod error;
pub mod forms;
pub mod html;
pub mod matrix;
pub mod metrics;
pub mod middleware;
pub mod page;
pub mod state;
pub mod system;
pub mod tokens;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, Request};
use axum::routing::{get, post};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

use error::AppError;
use html::{
    account, catalogue, exports, followup, inbox, log_search, onboarding, orgs, retention, review,
    second_factor, trail, unlock, users,
};
pub use state::AppState;

/// Builds the router with every layer.
pub fn router(state: Arc<AppState>, extra: Router<Arc<AppState>>) -> Router {
    let request_id = HeaderName::from_static("x-request-id");
    Router::new()
        .route("/", get(auth::root))
        .route("/healthz", get(system::healthz))
        .route("/readyz", get(system::readyz))
        .route("/metrics", get(metrics::metrics))
        .route("/login", get(auth::login_page).post(auth::login))
        .route("/logout", post(auth::logout))
        .route("/account", get(account::page))
        .route("/account/sessions/end-others", post(account::end_others))
        .route("/account/sessions/{handle}/end", post(account::end_session))
        .route("/account/password", post(account::change_password))
        .route("/account/name", post(account::rename))
        .route("/account/tokens", get(tokens::page).post(tokens::create))
        .route("/account/tokens/{id}/revoke", post(tokens::revoke_own))
        .route("/admin/api-tokens", get(tokens::admin_list))
        .route("/admin/api-tokens/{id}/revoke", post(tokens::admin_revoke))
        .route("/docs/api", get(api_reference::page))
        .route("/account/second-factor", get(second_factor::page))
        .route("/account/second-factor/start", post(second_factor::start))
        .route("/account/second-factor/confirm", post(second_factor::confirm))
        .route("/account/second-factor/disable", post(second_factor::disable))
        .route("/account/second-factor/recovery-codes", post(second_factor::new_codes))
        .route("/account/second-factor/passkeys", post(second_factor::add_passkey))
        .route("/account/second-factor/passkeys/{id}/remove", post(second_factor::remove_passkey))
        .route("/login/second-factor", get(auth::second_step_page).post(auth::second_step))
        .route("/login/second-factor/passkey", post(auth::passkey_step))
        .route("/login/unlock", get(unlock::ask_page).post(unlock::ask))
        .route("/login/unlock/confirm", get(unlock::confirm_page).post(unlock::confirm))
        .route("/lang", post(auth::set_lang))
        .route("/setup", get(onboarding::setup_page).post(onboarding::setup))
        .route("/invitations/accept", get(onboarding::accept_page).post(onboarding::accept))
        .route("/password/forgot", get(onboarding::forgot_page).post(onboarding::forgot))
        .route("/password/reset", get(onboarding::reset_page).post(onboarding::reset))
        .route("/home", get(html::home::home))
        .route("/admin/orgs", get(orgs::list).post(orgs::create))
        .route("/admin/orgs/new", get(orgs::new_page))
        .route("/admin/matrix", get(matrix::matrix))
        .route("/admin/catalogue", get(catalogue::show).post(catalogue::publish))
        .route("/admin/catalogue/edit", get(catalogue::edit_page))
        .route("/admin/catalogue/diff", get(catalogue::diff))
        .route("/admin/orgs/{id}", get(orgs::show))
        .route("/orgs/{org}", get(html::structure::overview))
        .route("/orgs/{org}/locations", post(html::structure::create_location))
        .route("/orgs/{org}/profile", get(html::profile::page).post(html::profile::save))
        .route("/orgs/{org}/system-configuration", get(html::submissions::configuration::page).post(html::submissions::configuration::save_or_submit))
        .route(
            "/orgs/{org}/system-configuration/files",
            post(html::submissions::configuration::upload).layer(DefaultBodyLimit::max(state.config.max_file_bytes as usize * state.config.max_files + 1024 * 1024)),
        )
        .route("/orgs/{org}/outside-connections", get(html::outside::page).post(html::outside::save_or_submit))
        .route("/orgs/{org}/outside-connections/restore", post(html::outside::restore))
        .route(
            "/orgs/{org}/outside-connections/files",
            post(html::outside::upload).layer(DefaultBodyLimit::max(state.config.max_file_bytes as usize * state.config.max_files + 1024 * 1024)),
        )
        .route("/orgs/{org}/system-configuration/import", post(html::submissions::configuration::import_equipment).layer(DefaultBodyLimit::max(html::antivirus::IMPORT_LIMIT)))
        .route("/orgs/{org}/system-configuration/import/confirm", post(html::submissions::configuration::confirm_equipment))
        .route("/orgs/{org}/system-configuration/template.csv", get(html::submissions::configuration::equipment_template))
        .route("/orgs/{org}/inhouse-measures", get(html::inhouse::page).post(html::inhouse::save_or_submit))
        .route(
            "/orgs/{org}/inhouse-measures/files",
            post(html::inhouse::upload).layer(DefaultBodyLimit::max(state.config.max_file_bytes as usize * state.config.max_files + 1024 * 1024)),
        )
        .route("/orgs/{org}/antivirus", get(html::antivirus::page).post(html::antivirus::save_or_submit))
        .route("/orgs/{org}/antivirus/import", post(html::antivirus::import).layer(DefaultBodyLimit::max(html::antivirus::IMPORT_LIMIT)))
        .route("/orgs/{org}/antivirus/import/confirm", post(html::antivirus::confirm_import))
        .route("/orgs/{org}/antivirus/template.csv", get(html::antivirus::template))
        .route("/orgs/{org}/files/{id}/remove", post(html::submissions::files::remove_file))
        .route("/orgs/{org}/submissions", get(html::submissions::history::page))
        .route("/orgs/{org}/submissions/{id}/receipt", get(html::submissions::receipt::receipt))
        .route("/orgs/{org}/submissions/{id}/confirm", get(html::submissions::confirm::page).post(html::submissions::confirm::confirm))
        .route("/orgs/{org}/submissions/{id}/evidence.zip", get(html::evidence::submission))
        .route("/orgs/{org}/evidence.zip", get(html::evidence::organisation))
        .route("/files/{id}", get(html::submissions::files::download))
        .route("/files/{id}/preview", get(html::submissions::files::preview))
        .route("/audit", get(trail::trail))
        .route("/review", get(review::queue))
        .route("/review/verify", get(review::verify::page).post(review::verify::check))
        .route("/review/assign", post(review::assign_many))
        .route("/admin/return-reasons", get(html::return_reasons::page).post(html::return_reasons::add))
        .route("/admin/return-reasons/{id}", post(html::return_reasons::edit))
        .route("/admin/return-reasons/{id}/retire", post(html::return_reasons::retire))
        .route("/review/{id}", get(review::show))
        .route("/review/{id}/decide", post(review::decide))
        .route("/review/{id}/assign", post(review::assign))
        .route("/review/{id}/comments", post(review::comment_center))
        .route("/review/{id}/log-search", get(log_search::page))
        .route("/review/{id}/log-search/{format}", get(log_search::download))
        .route("/review/followup", get(followup::center_page))
        .route("/admin/exports", get(exports::index))
        .route("/admin/exports/file", get(exports::download_form))
        .route("/admin/exports/{dataset}/{format}", get(exports::download))
        .route("/orgs/{org}/followup", get(followup::org_page))
        .route("/orgs/{org}/instructions", post(followup::issue_instruction))
        .route("/orgs/{org}/requests", post(followup::issue_request))
        .route("/orgs/{org}/requests/{id}/withdraw", post(followup::withdraw_request))
        .route("/orgs/{org}/instructions/{id}", get(followup::instruction_page))
        .route("/orgs/{org}/locations/{id}/gateway-logs", get(html::gateway_logs::page).post(html::gateway_logs::save_or_submit))
        .route("/orgs/{org}/locations/{id}/gateway-logs/mapping", post(html::gateway_logs::mapping::save))
        .route("/orgs/{org}/locations/{id}/gateway-logs/checking", get(html::gateway_logs::checking))
        .route("/gateway-logs/sample.csv", get(html::gateway_logs::mapping::sample))
        .route(
            "/orgs/{org}/locations/{id}/gateway-logs/files",
            post(html::gateway_logs::upload).layer(DefaultBodyLimit::max(usize::try_from(state.config.max_log_bytes).unwrap_or(usize::MAX).saturating_add(1024 * 1024))),
        )
        .route(
            "/orgs/{org}/instructions/{id}/answer",
            post(followup::answer).layer(DefaultBodyLimit::max(state.config.max_file_bytes as usize * state.config.max_files + 1024 * 1024)),
        )
        .route("/orgs/{org}/instructions/{id}/extension", post(followup::ask_extension))
        .route("/orgs/{org}/instructions/{id}/decide", post(followup::decide))
        .route("/orgs/{org}/instruction-files/{id}", get(followup::download))
        .route("/inbox", get(inbox::inbox))
        .route("/inbox/read", post(inbox::read_all))
        .route("/inbox/preferences", post(inbox::preferences))
        .route("/inbox/{id}", post(inbox::open))
        .route("/orgs/{org}/submissions/{id}/comments", post(html::submissions::receipt::comment_org))
        .route("/orgs/{org}/submissions/{id}/revise", post(html::submissions::receipt::revise))
        .route("/orgs/{org}/submissions/{id}/discard", post(html::submissions::receipt::discard))
        .route("/orgs/{org}/submissions/{id}/edit", get(html::submissions::revise::page).post(html::submissions::revise::save))
        .route("/orgs/{org}/id-management", get(html::id_management::page).post(html::id_management::submit))
        .route("/orgs/{org}/locations/{id}", get(html::structure::location::location_page).post(html::structure::location::update_location))
        .route("/orgs/{org}/locations/{id}/active", post(html::structure::location::set_location_active))
        .route("/orgs/{org}/locations/{id}/connections", post(html::structure::location::add_connection))
        .route("/orgs/{org}/locations/{id}/appointments", post(html::structure::location::appoint))
        .route("/orgs/{org}/locations/{id}/router", post(html::structure::location::attest_router))
        .route("/orgs/{org}/connections/{id}/deactivate", post(html::structure::location::deactivate_connection))
        .route("/users", get(users::list))
        .route("/users/invite", get(users::invite_page).post(users::invite))
        .route("/users/{id}", get(users::show))
        .route("/users/{id}/status", post(users::set_status))
        .route("/users/{id}/invitation", post(users::resend_invitation))
        .route("/users/{id}/password-reset", post(users::send_password_reset))
        .route("/users/{id}/role", post(users::set_role))
        .route("/users/{id}/second-factor/reset", post(users::reset_second_factor))
        .route("/admin/orgs/{id}/second-factor", post(orgs::set_second_factor))
        .route("/admin/orgs/{id}/hold", post(retention::org_hold))
        .route("/review/{id}/hold", post(retention::submission_hold))
        .route("/admin/retention", get(retention::settings).post(retention::save))
        .route("/static/{name}", get(assets::asset))
        .merge(extra)
        .fallback(|| async { AppError::NotFound })
        .method_not_allowed_fallback(page_of_form)
        .layer(DefaultBodyLimit::max(ctx::FORM_LIMIT))
        .layer(axum::middleware::from_fn_with_state(state.clone(), middleware::context))
        .with_state(state.clone())
        // The API has a layer of its own instead of the pages' (no cookies, no CSRF, no
        // error pages: problem details).
        .merge(api::router(state.clone()))
        .layer(axum::middleware::from_fn_with_state(state.clone(), middleware::security_headers))
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request<_>| {
            let id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-");
            // The path only: query strings may carry one-time tokens.
            tracing::info_span!("request", request_id = %id, method = %req.method(), path = %req.uri().path())
        })
        .on_response(DefaultOnResponse::new().level(Level::INFO)))
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
        // Outermost, so a request's time includes every layer; each route's layers see its
        // template (`MatchedPath`).
        .layer(axum::middleware::from_fn_with_state(state.clone(), metrics::track))
}

/// A GET of a path that only takes a form (the address a form's error page was shown at,
/// reloaded, bookmarked, or returned to after switching the language): the page the form is
/// on (a submission's receipt; else the path one level up, and so on). Other methods: 405.
async fn page_of_form(
    method: axum::http::Method,
    uri: axum::http::Uri,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    if method != axum::http::Method::GET && method != axum::http::Method::HEAD {
        return axum::http::StatusCode::METHOD_NOT_ALLOWED.into_response();
    }
    axum::response::Redirect::to(&form_page(uri.path())).into_response()
}

/// The page a form posting to `path` is on: see [`page_of_form`].
fn form_page(path: &str) -> String {
    let parts: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    if let ["", "orgs", org, "submissions", id, _] = parts.as_slice() {
        return format!("/orgs/{org}/submissions/{id}/receipt");
    }
    match path.trim_end_matches('/').rsplit_once('/') {
        Some((up, _)) if !up.is_empty() => up.to_string(),
        _ => "/".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::form_page;

    #[test]
    fn a_form_address_reloaded_goes_to_its_page() {
        assert_eq!(form_page("/review/abc/decide"), "/review/abc");
        assert_eq!(
            form_page("/orgs/o1/submissions/s1/comments"),
            "/orgs/o1/submissions/s1/receipt"
        );
        assert_eq!(
            form_page("/orgs/o1/antivirus/import/confirm"),
            "/orgs/o1/antivirus/import"
        );
        assert_eq!(form_page("/logout"), "/");
        assert_eq!(form_page("/"), "/");
    }
}

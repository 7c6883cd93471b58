//! RFC 9457 problem details for `/api/v1`: handlers answer an [`ApiError`], which leaves a
//! [`Problem`] in the response; the API guard writes it out as `application/problem+json` in
//! the language of the request's `Accept-Language` (titles from the locale files).

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::app;
use crate::i18n::Tr;

/// The media type of problem details.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// What went wrong, before it is put into words.
#[derive(Debug, Clone)]
pub struct Problem {
    pub status: StatusCode,
    /// The problem type's short name (the `type` URI's fragment).
    pub kind: &'static str,
    pub title_key: &'static str,
    pub body_key: &'static str,
    /// Locale key of a more precise reason (a conflict's), shown as `detail` after the body.
    pub reason_key: Option<&'static str>,
    /// Free text for `detail` (a JSON parser's complaint about the body).
    pub reason_text: Option<String>,
    pub errors: Vec<(String, &'static str)>,
    /// Seconds to wait, for 429.
    pub retry_after: Option<i64>,
}

impl Problem {
    pub fn new(
        status: StatusCode,
        kind: &'static str,
        title_key: &'static str,
        body_key: &'static str,
    ) -> Problem {
        Problem {
            status,
            kind,
            title_key,
            body_key,
            reason_key: None,
            reason_text: None,
            errors: Vec::new(),
            retry_after: None,
        }
    }

    /// The problem for a bare error status produced outside a handler (a rejected path,
    /// query or body, an unknown route, a wrong method).
    pub fn for_status(status: StatusCode) -> Problem {
        match status {
            StatusCode::NOT_FOUND => ApiError::App(app::Error::NotFound).problem(),
            StatusCode::METHOD_NOT_ALLOWED => Problem::new(
                status,
                "method-not-allowed",
                "api.problem.method_not_allowed.title",
                "api.problem.method_not_allowed.body",
            ),
            StatusCode::UNSUPPORTED_MEDIA_TYPE => Problem::new(
                status,
                "unsupported-media-type",
                "api.problem.unsupported_media_type.title",
                "api.problem.unsupported_media_type.body",
            ),
            StatusCode::PAYLOAD_TOO_LARGE => ApiError::App(app::Error::TooLarge).problem(),
            StatusCode::UNPROCESSABLE_ENTITY => Problem::new(
                status,
                "invalid",
                "api.problem.invalid.title",
                "api.problem.bad_request.body",
            ),
            s if s.is_server_error() => {
                ApiError::App(app::Error::Internal(anyhow::anyhow!("status {s}"))).problem()
            }
            s => Problem::new(
                s,
                "bad-request",
                "error.bad_request.title",
                "api.problem.bad_request.body",
            ),
        }
    }

    /// As a response carrying this problem, for the guard to write out.
    pub fn into_marked_response(self) -> Response {
        let mut res = self.status.into_response();
        res.extensions_mut().insert(self);
        res
    }

    /// The problem document in a language, with its headers.
    pub fn render(&self, t: &Tr, base: &url::Url, instance: &str, request_id: &str) -> Response {
        let mut detail = t.t(self.body_key).to_string();
        if let Some(k) = self.reason_key {
            detail = format!("{} {detail}", t.t(k));
        }
        if let Some(text) = &self.reason_text {
            detail = format!("{detail} ({text})");
        }
        let doc = ProblemDoc {
            r#type: format!(
                "{}#problem-{}",
                base.join("/docs/api").map(String::from).unwrap_or_default(),
                self.kind
            ),
            title: t.t(self.title_key).to_string(),
            status: self.status.as_u16(),
            detail,
            instance: instance.to_string(),
            request_id: request_id.to_string(),
            errors: self
                .errors
                .iter()
                .map(|(f, k)| FieldProblem {
                    field: f.clone(),
                    message: t.t(k).to_string(),
                })
                .collect(),
        };
        let body = serde_json::to_vec(&doc).unwrap_or_default();
        let mut res = Response::new(Body::from(body));
        *res.status_mut() = self.status;
        let h = res.headers_mut();
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if let Ok(v) = HeaderValue::from_str(t.code()) {
            h.insert(header::CONTENT_LANGUAGE, v);
        }
        if self.status == StatusCode::UNAUTHORIZED {
            h.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"secportal\""),
            );
        }
        if let Some(secs) = self.retry_after
            && let Ok(v) = HeaderValue::from_str(&secs.to_string())
        {
            h.insert(header::RETRY_AFTER, v);
        }
        res
    }
}

/// A problem details document (RFC 9457).
#[derive(Debug, Serialize, ToSchema)]
pub struct ProblemDoc {
    /// A link to this kind of problem in the API reference.
    pub r#type: String,
    /// A short summary, in the request's language.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What happened and what to do, in the request's language.
    pub detail: String,
    /// The request's path.
    pub instance: String,
    /// Quote this when asking the NACCS Center about a failure.
    pub request_id: String,
    /// For invalid input: one entry per field, in the order found.
    pub errors: Vec<FieldProblem>,
}

/// One invalid field.
#[derive(Debug, Serialize, ToSchema)]
pub struct FieldProblem {
    /// The field's name in the request (`rows.3.computer` for the fourth row's).
    pub field: String,
    /// Why, in the request's language.
    pub message: String,
}

/// Everything an API handler (or the guard) may answer instead of success.
#[derive(Debug)]
pub enum ApiError {
    App(app::Error),
    Unauthenticated,
    RateLimited(i64),
    IdempotencyKeyMissing,
    IdempotencyKeyReused,
    IdempotencyInProgress,
    /// The request could not be read; the text says why.
    BadRequest(String),
}

impl From<app::Error> for ApiError {
    fn from(e: app::Error) -> Self {
        ApiError::App(e)
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        ApiError::App(e.into())
    }
}

impl ApiError {
    /// The problem it answers with.
    pub fn problem(self) -> Problem {
        use app::Error as E;
        let p = Problem::new;
        match self {
            ApiError::App(E::NotFound) => p(
                StatusCode::NOT_FOUND,
                "not-found",
                "api.problem.not_found.title",
                "api.problem.not_found.body",
            ),
            ApiError::App(E::Forbidden) => p(
                StatusCode::FORBIDDEN,
                "forbidden",
                "error.forbidden.title",
                "api.problem.forbidden.body",
            ),
            ApiError::App(E::Invalid(errors)) => Problem {
                errors: errors.iter().map(|(f, k)| (f.to_string(), k)).collect(),
                ..p(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid",
                    "api.problem.invalid.title",
                    "api.problem.invalid.body",
                )
            },
            ApiError::App(E::Conflict(key)) => Problem {
                reason_key: Some(key),
                ..p(
                    StatusCode::CONFLICT,
                    "conflict",
                    "error.conflict.title",
                    "error.conflict.body",
                )
            },
            ApiError::App(E::TooLarge) => p(
                StatusCode::PAYLOAD_TOO_LARGE,
                "too-large",
                "error.too_large.title",
                "error.too_large.body",
            ),
            ApiError::App(E::Unavailable) => {
                tracing::warn!("database unavailable");
                p(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "unavailable",
                    "error.unavailable.title",
                    "error.unavailable.body",
                )
            }
            ApiError::App(E::StorageFull) => {
                tracing::error!("the database is out of space: nothing was stored");
                p(
                    StatusCode::INSUFFICIENT_STORAGE,
                    "storage-full",
                    "error.storage_full.title",
                    "error.storage_full.body",
                )
            }
            ApiError::App(E::Internal(e)) => {
                tracing::error!(error = %format!("{e:#}"), "internal error");
                p(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "error.internal.title",
                    "error.internal.body",
                )
            }
            ApiError::Unauthenticated => p(
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "api.problem.unauthenticated.title",
                "api.problem.unauthenticated.body",
            ),
            ApiError::RateLimited(secs) => Problem {
                retry_after: Some(secs),
                ..p(
                    StatusCode::TOO_MANY_REQUESTS,
                    "rate-limited",
                    "api.problem.rate_limited.title",
                    "api.problem.rate_limited.body",
                )
            },
            ApiError::IdempotencyKeyMissing => p(
                StatusCode::BAD_REQUEST,
                "idempotency-key-missing",
                "api.problem.idempotency_key_missing.title",
                "api.problem.idempotency_key_missing.body",
            ),
            ApiError::IdempotencyKeyReused => p(
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency-key-reused",
                "api.problem.idempotency_key_reused.title",
                "api.problem.idempotency_key_reused.body",
            ),
            ApiError::IdempotencyInProgress => p(
                StatusCode::CONFLICT,
                "idempotency-in-progress",
                "api.problem.idempotency_in_progress.title",
                "api.problem.idempotency_in_progress.body",
            ),
            ApiError::BadRequest(text) => Problem {
                reason_text: Some(text),
                ..p(
                    StatusCode::BAD_REQUEST,
                    "bad-request",
                    "error.bad_request.title",
                    "api.problem.bad_request.body",
                )
            },
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        self.problem().into_marked_response()
    }
}

/// An API handler's result.
pub type ApiResult<T> = Result<T, ApiError>;

//! `AppError`: every failure a handler can answer with. The response carries an
//! [`ErrorPage`] marker; the context middleware renders it in the user's language with the
//! request id, so handlers never need either to fail well.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// Everything a handler may fail with.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("not found")]
    NotFound,
    #[error("forbidden")]
    Forbidden,
    #[error("not signed in")]
    Unauthenticated { next: String },
    #[error("second factor to be set up first")]
    EnrolFirst { secure: bool },
    #[error("bad request")]
    BadRequest,
    #[error("csrf check failed")]
    Csrf,
    #[error("too large")]
    TooLarge,
    #[error("conflict")]
    Conflict,
    #[error("link expired or used")]
    LinkGone,
    #[error("too many attempts")]
    TooManyAttempts { wait_minutes: i64 },
    #[error("database unavailable")]
    Unavailable,
    #[error("storage full")]
    StorageFull,
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// Which error page to render; left in the response extensions for the middleware.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorPage {
    NotFound,
    Forbidden,
    BadRequest,
    Csrf,
    TooLarge,
    Conflict,
    LinkGone,
    TooManyAttempts(i64),
    Unavailable,
    /// As many gateway-log searches run on this node as it allows (503, with the seconds
    /// until the nearest of them should be done as `Retry-After`).
    SearchBusy(u32),
    StorageFull,
    Internal,
    Panic,
}

impl ErrorPage {
    /// Status, title key and message key.
    pub fn parts(self) -> (StatusCode, &'static str, &'static str) {
        match self {
            ErrorPage::NotFound => (
                StatusCode::NOT_FOUND,
                "error.not_found.title",
                "error.not_found.body",
            ),
            ErrorPage::Forbidden => (
                StatusCode::FORBIDDEN,
                "error.forbidden.title",
                "error.forbidden.body",
            ),
            ErrorPage::BadRequest => (
                StatusCode::BAD_REQUEST,
                "error.bad_request.title",
                "error.bad_request.body",
            ),
            ErrorPage::Csrf => (StatusCode::FORBIDDEN, "error.csrf.title", "error.csrf.body"),
            ErrorPage::TooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "error.too_large.title",
                "error.too_large.body",
            ),
            ErrorPage::Conflict => (
                StatusCode::CONFLICT,
                "error.conflict.title",
                "error.conflict.body",
            ),
            ErrorPage::LinkGone => (
                StatusCode::GONE,
                "error.link_gone.title",
                "error.link_gone.body",
            ),
            ErrorPage::TooManyAttempts(_) => (
                StatusCode::TOO_MANY_REQUESTS,
                "error.throttled.title",
                "error.throttled.body",
            ),
            ErrorPage::Unavailable => (
                StatusCode::SERVICE_UNAVAILABLE,
                "error.unavailable.title",
                "error.unavailable.body",
            ),
            ErrorPage::SearchBusy(_) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "error.search_busy.title",
                "error.search_busy.body",
            ),
            ErrorPage::StorageFull => (
                StatusCode::INSUFFICIENT_STORAGE,
                "error.storage_full.title",
                "error.storage_full.body",
            ),
            ErrorPage::Internal | ErrorPage::Panic => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "error.internal.title",
                "error.internal.body",
            ),
        }
    }

    /// The page a bare status answers with, for responses produced outside handlers.
    pub fn for_status(status: StatusCode) -> Option<ErrorPage> {
        match status {
            StatusCode::NOT_FOUND => Some(ErrorPage::NotFound),
            StatusCode::METHOD_NOT_ALLOWED
            | StatusCode::BAD_REQUEST
            | StatusCode::UNSUPPORTED_MEDIA_TYPE => Some(ErrorPage::BadRequest),
            StatusCode::PAYLOAD_TOO_LARGE => Some(ErrorPage::TooLarge),
            _ => None,
        }
    }
}

impl From<crate::app::Error> for AppError {
    /// A use case's error as a page. Handlers that show a form match `Invalid` themselves to
    /// re-render it with the messages; reaching here, it is a bad request.
    fn from(e: crate::app::Error) -> Self {
        use crate::app::Error as E;
        match e {
            E::NotFound => AppError::NotFound,
            E::Forbidden => AppError::Forbidden,
            E::Invalid(_) => AppError::BadRequest,
            E::Conflict(_) => AppError::Conflict,
            E::TooLarge => AppError::TooLarge,
            E::Unavailable => AppError::Unavailable,
            E::StorageFull => AppError::StorageFull,
            E::Internal(e) => AppError::Internal(e),
        }
    }
}

impl From<sqlx::Error> for AppError {
    /// A read through `App` (the catalogue, a cached session) classified as `app` does it.
    fn from(e: sqlx::Error) -> Self {
        crate::app::Error::from(e).into()
    }
}

/// Marks a response as an error to be rendered by the middleware.
pub fn error_response(page: ErrorPage) -> Response {
    let (status, _, _) = page.parts();
    let mut res = status.into_response();
    res.extensions_mut().insert(page);
    res
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let page = match self {
            AppError::Unauthenticated { next } => {
                let target = if next.starts_with('/') && !next.starts_with("//") && next != "/" {
                    format!(
                        "/login?next={}",
                        url::form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
                    )
                } else {
                    "/login".to_string()
                };
                let mut res = StatusCode::SEE_OTHER.into_response();
                if let Ok(v) = HeaderValue::from_str(&target) {
                    res.headers_mut().insert(header::LOCATION, v);
                }
                return res;
            }
            AppError::EnrolFirst { secure } => {
                return crate::web::page::redirect_with_flash(
                    "/account/second-factor",
                    "flash.second_factor_required",
                    secure,
                );
            }
            AppError::NotFound => ErrorPage::NotFound,
            AppError::Forbidden => ErrorPage::Forbidden,
            AppError::BadRequest => ErrorPage::BadRequest,
            AppError::Csrf => ErrorPage::Csrf,
            AppError::TooLarge => ErrorPage::TooLarge,
            AppError::Conflict => ErrorPage::Conflict,
            AppError::LinkGone => ErrorPage::LinkGone,
            AppError::TooManyAttempts { wait_minutes } => ErrorPage::TooManyAttempts(wait_minutes),
            AppError::Unavailable => {
                tracing::warn!("database unavailable");
                ErrorPage::Unavailable
            }
            AppError::StorageFull => {
                tracing::error!("the database is out of space: nothing was stored");
                ErrorPage::StorageFull
            }
            AppError::Internal(e) => {
                tracing::error!(error = %format!("{e:#}"), "internal error");
                ErrorPage::Internal
            }
        };
        error_response(page)
    }
}

/// Handler result.
pub type AppResult<T> = Result<T, AppError>;

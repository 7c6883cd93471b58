//! Cross-cutting layers: request context and error pages, security headers, same-origin
//! check, and a panic guard that answers 500 with the request id and keeps serving.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use askama::Template;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use futures_util::FutureExt;

use super::cookies;
use super::ctx::{Ctx, CurrentUser, same_origin};
use super::error::{ErrorPage, error_response};
use super::page::Page;
use super::state::AppState;

/// The error page.
#[derive(Template)]
#[template(path = "error.html")]
struct ErrorView {
    page: Page,
    title: String,
    message: String,
    request_id: String,
    /// Sign-in is throttled: the unlock mail is offered.
    unlock: bool,
}

fn render_error(ctx: &Ctx, kind: ErrorPage, user: Option<&CurrentUser>) -> Response {
    let t = ctx.tr();
    let (status, title_key, body_key) = kind.parts();
    let message = match kind {
        ErrorPage::TooManyAttempts(m) => t.f(body_key, &[("minutes", &m.to_string())]),
        ErrorPage::SearchBusy(secs) => {
            // Minutes once it is more than two.
            let wait = if secs < 120 {
                t.f("ui.wait_seconds", &[("n", &secs.to_string())])
            } else {
                t.f("ui.wait_minutes", &[("n", &secs.div_ceil(60).to_string())])
            };
            t.f(body_key, &[("wait", &wait)])
        }
        _ => t.t(body_key).to_string(),
    };
    let view = ErrorView {
        page: match user {
            Some(u) => Page::new(ctx, Some(u)),
            None => Page::bare(ctx),
        },
        title: t.t(title_key).to_string(),
        message,
        request_id: ctx.request_id.clone(),
        unlock: matches!(kind, ErrorPage::TooManyAttempts(_)),
    };
    let mut res = match view.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(_) => (status, t.t(title_key).to_string()).into_response(),
    };
    if let ErrorPage::TooManyAttempts(m) = kind
        && let Ok(v) = HeaderValue::from_str(&(m * 60).to_string())
    {
        res.headers_mut().insert(header::RETRY_AFTER, v);
    }
    if let ErrorPage::SearchBusy(secs) = kind {
        res.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    res
}

fn is_html(res: &Response) -> bool {
    res.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"))
}

/// Whether a request carries a file upload larger than a form (or of unknown length).
fn is_large_upload(req: &Request) -> bool {
    let multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"multipart/"));
    let length = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    multipart && length.is_none_or(|n| n > 4 * 1024 * 1024)
}

/// Sets up [`Ctx`], checks same-origin on state changes, renders error pages and manages
/// the CSRF and flash cookies.
pub async fn context(State(state): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    let (mut parts, body) = req.into_parts();
    let ctx = Ctx::from_parts(&parts, &state);
    // A page that is not there (or not theirs) keeps a signed-in person's navigation.
    let session = cookies::get(&parts.headers, state.cookies.session);
    let had_csrf_cookie =
        cookies::get(&parts.headers, state.cookies.csrf).as_deref() == Some(ctx.anon_csrf.as_str());
    parts.extensions.insert(ctx.clone());
    let origin_ok = same_origin(&parts.method, &parts.headers, &state.config.base_url);
    let may_change = !matches!(
        parts.method,
        axum::http::Method::GET | axum::http::Method::HEAD
    );
    let req = Request::from_parts(parts, body);

    let is_static =
        ctx.path.starts_with("/static/") || ctx.path == "/healthz" || ctx.path == "/readyz";
    let mut res = if origin_ok {
        // Every request is bounded, so a database that stops answering (a network partition)
        // ends each request in flight with 503 instead of holding it for the whole outage;
        // the transaction it had open is dropped uncommitted, so its change and audit entry
        // are applied together or not at all. Large uploads are bounded per database step
        // instead (their body may rightly take longer).
        let bounded = !is_large_upload(&req);
        let run = AssertUnwindSafe(next.run(req)).catch_unwind();
        let outcome = if bounded {
            tokio::time::timeout(state.config.request_timeout, run)
                .await
                .ok()
        } else {
            Some(run.await)
        };
        match outcome {
            Some(Ok(res)) => res,
            Some(Err(_)) => {
                tracing::error!(request_id = %ctx.request_id, "handler panicked");
                error_response(ErrorPage::Panic)
            }
            None => {
                tracing::warn!(request_id = %ctx.request_id, "request timed out");
                error_response(ErrorPage::Unavailable)
            }
        }
    } else {
        tracing::warn!(request_id = %ctx.request_id, "cross-site state change refused");
        error_response(ErrorPage::Csrf)
    };

    if may_change {
        // Whatever this request changed, pages cached before it are no longer served.
        state.changed().await;
    }
    let kind = res.extensions().get::<ErrorPage>().copied().or_else(|| {
        if is_static || is_html(&res) {
            None
        } else if !may_change && res.status() == StatusCode::BAD_REQUEST {
            // An address whose id or number cannot be read (a link cut short, typed by hand)
            // names no page: reloading would not help.
            Some(ErrorPage::NotFound)
        } else {
            ErrorPage::for_status(res.status())
        }
    });
    let is_html_error =
        kind.is_some() && !ctx.path.starts_with("/healthz") && !ctx.path.starts_with("/readyz");
    if let Some(kind) = kind.filter(|_| is_html_error) {
        let headers = std::mem::take(res.headers_mut());
        let user = match kind {
            ErrorPage::NotFound | ErrorPage::Forbidden | ErrorPage::Conflict
                if session.is_some() =>
            {
                state
                    .bounded(super::ctx::user_of_token(&state, session))
                    .await
                    .ok()
                    .flatten()
            }
            _ => None,
        };
        res = render_error(&ctx, kind, user.as_ref());
        for (name, value) in headers.iter() {
            if name == header::SET_COOKIE || name == header::LOCATION {
                res.headers_mut().append(name, value.clone());
            }
        }
    }
    if !is_static {
        if !had_csrf_cookie
            && let Some(v) = cookies::set(
                state.cookies.csrf,
                &ctx.anon_csrf,
                None,
                state.cookies.secure,
            )
        {
            res.headers_mut().append(header::SET_COOKIE, v);
        }
        if ctx.flash.is_some()
            && is_html(&res)
            && let Some(v) = cookies::set(cookies::FLASH, "", Some(0), state.cookies.secure)
        {
            res.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    res
}

/// Security headers on every response; `no-store` on everything but static files.
pub async fn security_headers(
    State(state): State<Arc<AppState>>,
    req: Request,
    next: Next,
) -> Response {
    let is_static = req.uri().path().starts_with("/static/");
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    let csp = if h.contains_key(header::CONTENT_SECURITY_POLICY) {
        None
    } else {
        Some(HeaderValue::from_static(
            "default-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
        ))
    };
    if let Some(csp) = csp {
        h.insert(header::CONTENT_SECURITY_POLICY, csp);
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    if !h.contains_key(header::X_FRAME_OPTIONS) {
        h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    }
    if state.config.is_https() {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
    if is_static {
        h.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=3600"),
        );
    } else {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    res
}

//! The API's one layer: bearer token (never a cookie), rate limit, `Idempotency-Key` on every
//! POST, audit of every use, request bounds, and problem details in the request's language.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use futures_util::FutureExt;
use sha2::{Digest, Sha256};

use super::problem::{ApiError, PROBLEM_JSON, Problem};
use crate::app::tokens::{self, Caller, Refused};
use crate::db;
use crate::db::idempotency::Claim;
use crate::i18n::{Lang, Tr};
use crate::web::AppState;

/// The largest JSON body a POST may carry (a thousand computers' antivirus rows fit).
pub const JSON_LIMIT: usize = 4 * 1024 * 1024;
/// The largest answer kept for replay.
const STORED_LIMIT: usize = 4 * 1024 * 1024;

/// Paths under `/api/v1` answered without a token.
fn is_public(path: &str) -> bool {
    path == "/api/v1/openapi.json"
}

/// Uploads stream their body to storage: their fingerprint is taken from the head.
pub fn is_upload(path: &str) -> bool {
    path.ends_with("/files")
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Caller>()
            .cloned()
            .ok_or(ApiError::Unauthenticated)
    }
}

/// What the layer knows of the request for writing problems out.
struct Head {
    tr: Tr,
    path: String,
    request_id: String,
    /// The idempotency key this request claimed, until its answer is stored: released when
    /// the request panics or times out (its transaction was dropped, nothing applied).
    claimed: std::sync::Mutex<Option<(uuid::Uuid, String)>>,
}

/// The layer in front of every `/api/v1` route.
pub async fn guard(State(state): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    let (parts, body) = req.into_parts();
    let head = Head {
        tr: Tr::new(
            parts
                .headers
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .and_then(Lang::from_accept_language)
                .unwrap_or(Lang::Ja),
        ),
        path: parts.uri.path().to_string(),
        request_id: parts
            .headers
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("-")
            .to_string(),
        claimed: std::sync::Mutex::new(None),
    };
    let writes = !matches!(parts.method, Method::GET | Method::HEAD);
    let bounded = !is_upload(&head.path);
    let run = AssertUnwindSafe(handle(&state, parts, body, next, &head)).catch_unwind();
    let outcome = if bounded {
        tokio::time::timeout(state.config.request_timeout, run)
            .await
            .ok()
    } else {
        Some(run.await)
    };
    let res = match outcome {
        Some(Ok(res)) => res,
        Some(Err(_)) => {
            tracing::error!(request_id = %head.request_id, "api handler panicked");
            finish(
                ApiError::App(crate::app::Error::Internal(anyhow::anyhow!("panic")))
                    .problem()
                    .into_marked_response(),
                &state,
                &head,
            )
        }
        None => {
            tracing::warn!(request_id = %head.request_id, "api request timed out");
            finish(
                ApiError::App(crate::app::Error::Unavailable)
                    .problem()
                    .into_marked_response(),
                &state,
                &head,
            )
        }
    };
    let claimed = head.claimed.lock().ok().and_then(|mut c| c.take());
    if let Some((token, key)) = claimed
        && let Err(e) = db::idempotency::release(&state.db, token, &key).await
    {
        tracing::warn!(error = %e, "idempotency key could not be released");
    }
    if writes {
        // Pages cached before a change are not served after it (see the page middleware).
        state.changed().await;
    }
    res
}

/// Writes a problem left by a handler (or a bare error status from a rejection) out as
/// problem details.
fn finish(res: Response, state: &AppState, head: &Head) -> Response {
    let problem = res.extensions().get::<Problem>().cloned().or_else(|| {
        let is_problem = res
            .headers()
            .get(header::CONTENT_TYPE)
            .is_some_and(|v| v.as_bytes().starts_with(PROBLEM_JSON.as_bytes()));
        (res.status().is_client_error() || res.status().is_server_error())
            .then_some(())
            .filter(|_| !is_problem)
            .map(|_| Problem::for_status(res.status()))
    });
    match problem {
        Some(p) => p.render(
            &head.tr,
            &state.config.base_url,
            &head.path,
            &head.request_id,
        ),
        None => res,
    }
}

/// An axum rejection's text as the problem's detail (a JSON body that does not parse says
/// where), when the rejection left one.
async fn with_rejection_text(res: Response) -> Response {
    if res.extensions().get::<Problem>().is_some()
        || !(res.status() == StatusCode::BAD_REQUEST
            || res.status() == StatusCode::UNPROCESSABLE_ENTITY)
        || !res
            .headers()
            .get(header::CONTENT_TYPE)
            .is_some_and(|v| v.as_bytes().starts_with(b"text/plain"))
    {
        return res;
    }
    let status = res.status();
    let text = axum::body::to_bytes(res.into_body(), 64 * 1024)
        .await
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    let mut p = Problem::for_status(status);
    p.reason_text = Some(text);
    p.into_marked_response()
}

async fn handle(
    state: &Arc<AppState>,
    mut parts: Parts,
    body: Body,
    next: Next,
    head: &Head,
) -> Response {
    if is_public(&head.path) {
        let res = next.run(Request::from_parts(parts, body)).await;
        return finish(with_rejection_text(res).await, state, head);
    }
    // The bearer token is the only credential: a session cookie is never read here, so a
    // page's session cannot be ridden into the API (and no CSRF token is needed).
    let secret = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.split_once(' ')
                .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        })
        .map(|(_, s)| s.trim().to_string());
    let ip = crate::web::ctx::client_ip(&parts, state.config.trusted_proxies);
    let caller = match secret {
        None => Err(ApiError::Unauthenticated),
        Some(s) => match tokens::authenticate(state, &s, &ip).await {
            Ok(c) => Ok(c),
            Err(Refused::Unauthenticated) => Err(ApiError::Unauthenticated),
            Err(Refused::RateLimited(secs)) => Err(ApiError::RateLimited(secs)),
            Err(Refused::Failed(e)) => Err(ApiError::App(e)),
        },
    };
    let caller = match caller {
        Ok(c) => c,
        Err(e) => return finish(e.into_response_marked(), state, head),
    };
    parts.extensions.insert(caller.clone());
    let method = parts.method.clone();
    if method == Method::POST {
        return idempotent(state, &caller, parts, body, next, head).await;
    }
    let res = next.run(Request::from_parts(parts, body)).await;
    let res = finish(with_rejection_text(res).await, state, head);
    if let Err(e) = tokens::audit_read(state, &caller, method.as_str(), &head.path).await {
        // The answer is already made; a read whose audit failed is refused rather than given.
        return finish(ApiError::App(e).into_response_marked(), state, head);
    }
    res
}

impl ApiError {
    fn into_response_marked(self) -> Response {
        self.problem().into_marked_response()
    }
}

/// Whether an `Idempotency-Key` value is usable: 1 to 255 visible ASCII characters.
fn key_ok(key: &str) -> bool {
    (1..=255).contains(&key.len()) && key.bytes().all(|b| (0x21..=0x7e).contains(&b))
}

/// Runs a POST once per `Idempotency-Key`: the first request with a key runs and its answer
/// is stored with the audit entry of the write; a retry with the same request gets that
/// answer back (`Idempotent-Replayed: true`), one still running is answered 409, and the
/// same key with another request 422. An answer the server failed to make (5xx) is not kept,
/// so a retry runs afresh.
async fn idempotent(
    state: &Arc<AppState>,
    caller: &Caller,
    parts: Parts,
    body: Body,
    next: Next,
    head: &Head,
) -> Response {
    let fail = |e: ApiError| finish(e.into_response_marked(), state, head);
    let key = match parts
        .headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
    {
        Some(k) if key_ok(k) => k.to_string(),
        _ => return fail(ApiError::IdempotencyKeyMissing),
    };
    let content_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let target = parts
        .uri
        .path_and_query()
        .map_or_else(|| head.path.clone(), |p| p.as_str().to_string());
    // A multipart body's boundary is drawn afresh by most clients on a retry: an upload's
    // fingerprint takes the media type only.
    let media_type = if is_upload(&head.path) {
        content_type.split(';').next().unwrap_or("").trim()
    } else {
        content_type.as_str()
    };
    let mut hasher = Sha256::new();
    for piece in [parts.method.as_str(), &target, media_type] {
        hasher.update(piece.as_bytes());
        hasher.update([0]);
    }
    let body = if is_upload(&head.path) {
        // Streamed to storage as it arrives: the head stands for the body.
        let length = parts
            .headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        hasher.update(length.as_bytes());
        body
    } else {
        match axum::body::to_bytes(body, JSON_LIMIT).await {
            Ok(bytes) => {
                hasher.update(&bytes);
                Body::from(bytes)
            }
            Err(_) => return fail(ApiError::App(crate::app::Error::TooLarge)),
        }
    };
    let fingerprint = hasher.finalize().to_vec();
    match db::idempotency::claim(&state.db, caller.token_id, &key, &fingerprint).await {
        Err(e) => return fail(e.into()),
        Ok(Claim::Seen(stored)) => {
            if stored.fingerprint != fingerprint {
                return fail(ApiError::IdempotencyKeyReused);
            }
            let Some(status) = stored.status else {
                return fail(ApiError::IdempotencyInProgress);
            };
            return replay(status, stored.content_type, stored.location, stored.body);
        }
        Ok(Claim::First) => {
            if let Ok(mut c) = head.claimed.lock() {
                *c = Some((caller.token_id, key.clone()));
            }
        }
    }
    let method = parts.method.as_str().to_string();
    let res = next.run(Request::from_parts(parts, body)).await;
    let res = finish(with_rejection_text(res).await, state, head);
    if let Ok(mut c) = head.claimed.lock() {
        *c = None;
    }
    if res.status().is_server_error() {
        if let Err(e) = db::idempotency::release(&state.db, caller.token_id, &key).await {
            tracing::warn!(error = %e, "idempotency key could not be released");
        }
        return res;
    }
    let (res_parts, res_body) = res.into_parts();
    let Ok(bytes) = axum::body::to_bytes(res_body, STORED_LIMIT).await else {
        let _ = db::idempotency::release(&state.db, caller.token_id, &key).await;
        return fail(ApiError::App(crate::app::Error::Internal(anyhow::anyhow!(
            "answer too large to keep"
        ))));
    };
    let header_text = |name: header::HeaderName| {
        res_parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let stored = async {
        let mut tx = state.db.begin().await?;
        db::idempotency::complete(
            &mut tx,
            caller.token_id,
            &key,
            res_parts.status.as_u16(),
            header_text(header::CONTENT_TYPE).as_deref(),
            header_text(header::LOCATION).as_deref(),
            &bytes,
        )
        .await?;
        let entry = tokens::use_entry(
            caller,
            "api_token.write",
            &method,
            &head.path,
            Some(res_parts.status.as_u16()),
        );
        db::audit::append(&mut tx, &entry).await?;
        tx.commit().await
    }
    .await;
    if let Err(e) = stored {
        // The change (if any) is made and audited by its use case; only the replay copy is
        // missing. The key stays claimed: a retry answers 409 rather than apply it twice.
        tracing::error!(error = %e, "idempotent answer could not be stored");
    }
    Response::from_parts(res_parts, Body::from(bytes))
}

/// A stored answer, sent again.
fn replay(
    status: i32,
    content_type: Option<String>,
    location: Option<String>,
    body: Option<Vec<u8>>,
) -> Response {
    let mut res = Response::new(Body::from(body.unwrap_or_default()));
    *res.status_mut() = u16::try_from(status)
        .ok()
        .and_then(|s| StatusCode::from_u16(s).ok())
        .unwrap_or(StatusCode::OK);
    let h = res.headers_mut();
    for (name, value) in [
        (header::CONTENT_TYPE, content_type),
        (header::LOCATION, location),
    ] {
        if let Some(v) = value.and_then(|v| HeaderValue::from_str(&v).ok()) {
            h.insert(name, v);
        }
    }
    h.insert("idempotent-replayed", HeaderValue::from_static("true"));
    res
}

//! Per-request context: request id, language, client IP, the anonymous CSRF token and the
//! flash message; the signed-in user; and the CSRF-checked form extractor.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};
use serde::de::DeserializeOwned;
use uuid::Uuid;

use super::cookies;
use super::error::AppError;
use super::state::AppState;
use crate::domain::{Role, Scope};
use crate::i18n::{Lang, Tr};
use crate::security;

/// What every handler may know about the request, set by the context middleware.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub request_id: String,
    pub lang: Lang,
    pub ip: String,
    /// The CSRF token for visitors who are not signed in (double-submit cookie).
    pub anon_csrf: String,
    /// A locale key to show once.
    pub flash: Option<String>,
    pub path: String,
    /// Path and query of this page, to come back to (after a language switch, the link's
    /// token on invitation, reset and setup pages must survive).
    pub here: String,
}

impl Ctx {
    /// Derives the context from the request head.
    pub fn from_parts(parts: &Parts, state: &AppState) -> Ctx {
        let headers = &parts.headers;
        let request_id = headers
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("-")
            .to_string();
        let lang = cookies::get(headers, cookies::LANG)
            .and_then(|c| Lang::from_code(&c))
            .or_else(|| {
                headers
                    .get(header::ACCEPT_LANGUAGE)
                    .and_then(|v| v.to_str().ok())
                    .and_then(Lang::from_accept_language)
            })
            .unwrap_or(Lang::Ja);
        let ip = client_ip(parts, state.config.trusted_proxies);
        let anon_csrf = cookies::get(headers, state.cookies.csrf)
            .filter(|v| {
                v.len() == 43
                    && v.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            })
            .unwrap_or_else(security::random_token);
        // A message key, or a key and a count (`flash.key:3`).
        let flash = cookies::get(headers, cookies::FLASH).filter(|v| {
            let key = match v.split_once(':') {
                Some((k, n)) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => k,
                Some(_) => return false,
                None => v.as_str(),
            };
            key.starts_with("flash.") && Tr::new(lang).has(key)
        });
        Ctx {
            request_id,
            lang,
            ip,
            anon_csrf,
            flash,
            path: parts.uri.path().to_string(),
            here: parts
                .uri
                .path_and_query()
                .map_or_else(|| parts.uri.path().to_string(), |p| p.as_str().to_string()),
        }
    }

    /// The translator for the request's language.
    pub fn tr(&self) -> Tr {
        Tr::new(self.lang)
    }
}

/// The client's address. Behind `proxies` proxies of ours, each appends the address it saw
/// to `X-Forwarded-For`, so the client is that many entries from the right; entries further
/// left are whatever the client sent and are never trusted (rotating them must not dodge the
/// sign-in throttle).
pub(crate) fn client_ip(parts: &Parts, proxies: usize) -> String {
    let peer = || {
        parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip().to_string())
            .unwrap_or_else(|| "-".to_string())
    };
    if proxies == 0 {
        return peer();
    }
    let forwarded: Vec<&str> = parts
        .headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    forwarded
        .len()
        .checked_sub(proxies)
        .and_then(|i| forwarded.get(i))
        .and_then(|v| v.parse::<std::net::IpAddr>().ok())
        .map(|ip| ip.to_string())
        .unwrap_or_else(peer)
}

impl<S: Send + Sync> FromRequestParts<S> for Ctx {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Ctx>()
            .cloned()
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("context middleware missing")))
    }
}

/// The signed-in user of this request.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub org_id: Option<Uuid>,
    pub org_name: Option<String>,
    pub org_code: Option<String>,
    /// Unread notices, for the navigation.
    pub unread: i64,
    pub csrf: String,
    pub token_hash: Vec<u8>,
    /// Whether a second factor is required of this user and not yet set up: until it is,
    /// only the account page (where it is set up) and signing out are open.
    pub must_enrol: bool,
}

impl CurrentUser {
    /// The tenant scope of the user's reads.
    pub fn scope(&self) -> Scope {
        match (self.role.is_center(), self.org_id) {
            (false, Some(org)) => Scope::Org(org),
            // An org role without an org cannot exist (a CHECK constraint); scope to nothing.
            (false, None) => Scope::Org(Uuid::nil()),
            (true, _) => Scope::Center,
        }
    }

    /// Refuses unless the user holds one of the roles.
    pub fn require(&self, roles: &[Role]) -> Result<(), AppError> {
        if roles.contains(&self.role) {
            Ok(())
        } else {
            Err(AppError::Forbidden)
        }
    }

    /// The user as the actor of a use case in `app`.
    pub fn actor(&self, ctx: &Ctx) -> crate::app::Actor {
        crate::app::Actor {
            id: self.id,
            email: self.email.clone(),
            role: self.role,
            org_id: self.org_id,
            ip: ctx.ip.clone(),
        }
    }
}

/// The session lookup result, cached in the request so it runs once.
#[derive(Clone)]
struct Resolved(Option<CurrentUser>);

/// Resolves the session cookie to a user, enforcing idle and absolute timeouts.
async fn resolve(parts: &mut Parts, state: &AppState) -> Result<Option<CurrentUser>, AppError> {
    if let Some(r) = parts.extensions.get::<Resolved>() {
        return Ok(r.0.clone());
    }
    let user = user_of_token(state, cookies::get(&parts.headers, state.cookies.session)).await?;
    parts.extensions.insert(Resolved(user.clone()));
    Ok(user)
}

/// The signed-in user behind a session cookie's value, if it names a live session.
pub async fn user_of_token(
    state: &AppState,
    token: Option<String>,
) -> Result<Option<CurrentUser>, AppError> {
    let Some(token) = token else {
        return Ok(None);
    };
    let hash = security::token_hash(&token);
    Ok(crate::app::auth::live_session(state, &hash)
        .await?
        .map(|live| {
            let s = live.user;
            CurrentUser {
                id: s.user_id,
                email: s.email,
                name: s.display_name,
                role: live.role,
                org_id: s.org_id,
                org_name: s.org_name,
                org_code: s.org_code,
                unread: s.unread,
                csrf: s.csrf_token,
                token_hash: hash,
                must_enrol: live.must_enrol,
            }
        }))
}

/// The user if signed in.
pub struct MaybeUser(pub Option<CurrentUser>);

impl FromRequestParts<Arc<AppState>> for MaybeUser {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        Ok(MaybeUser(state.bounded(resolve(parts, state)).await?))
    }
}

impl FromRequestParts<Arc<AppState>> for CurrentUser {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        match state.bounded(resolve(parts, state)).await? {
            Some(u) if u.must_enrol && !enrolment_open(parts.uri.path()) => {
                Err(AppError::EnrolFirst {
                    secure: state.cookies.secure,
                })
            }
            Some(u) => Ok(u),
            None => {
                let next = if parts.method == Method::GET {
                    parts
                        .uri
                        .path_and_query()
                        .map(|p| p.as_str().to_string())
                        .unwrap_or_default()
                } else {
                    String::new()
                };
                Err(AppError::Unauthenticated { next })
            }
        }
    }
}

/// The pages a user who must first set up a second factor may use.
fn enrolment_open(path: &str) -> bool {
    path == "/account" || path.starts_with("/account/") || path == "/logout" || path == "/lang"
}

/// The largest form body accepted (file uploads have their own path and limits).
pub const FORM_LIMIT: usize = 512 * 1024;

/// A URL-encoded form whose `csrf_token` field was checked against the session's token
/// (or, for visitors, the CSRF cookie). Every state-changing handler takes its form this way.
pub struct CsrfForm<T>(pub T);

impl<T: DeserializeOwned + Send> FromRequest<Arc<AppState>> for CsrfForm<T> {
    type Rejection = AppError;

    async fn from_request(
        req: Request<Body>,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = req.into_parts();
        let is_form = parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
        let bytes = axum::body::to_bytes(body, FORM_LIMIT)
            .await
            .map_err(|_| AppError::TooLarge)?;
        let expected = match resolve(&mut parts, state).await? {
            Some(u) => u.csrf,
            None => cookies::get(&parts.headers, state.cookies.csrf).ok_or(AppError::Csrf)?,
        };
        let given = url::form_urlencoded::parse(&bytes)
            .find(|(k, _)| k == "csrf_token")
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default();
        if given.is_empty() || !security::constant_time_eq(&given, &expected) {
            return Err(AppError::Csrf);
        }
        if !is_form {
            return Err(AppError::BadRequest);
        }
        let value = serde_urlencoded::from_bytes::<T>(&bytes).map_err(|_| AppError::BadRequest)?;
        Ok(CsrfForm(value))
    }
}

/// The next field of a multipart form, which must be named `name` (otherwise 400).
pub async fn expect_field<'a>(
    form: &'a mut axum::extract::Multipart,
    name: &str,
) -> Result<axum::extract::multipart::Field<'a>, AppError> {
    let field = form
        .next_field()
        .await
        .map_err(|_| AppError::BadRequest)?
        .ok_or(AppError::BadRequest)?;
    if field.name() != Some(name) {
        return Err(AppError::BadRequest);
    }
    Ok(field)
}

/// Checks the CSRF token of a multipart form: it must be the first field, so nothing is read
/// into storage before it is checked.
pub async fn check_multipart_token(
    form: &mut axum::extract::Multipart,
    user: &CurrentUser,
) -> Result<(), AppError> {
    let first = form
        .next_field()
        .await
        .map_err(|_| AppError::BadRequest)?
        .ok_or(AppError::BadRequest)?;
    if first.name() != Some("csrf_token") {
        return Err(AppError::Csrf);
    }
    check_token(&first.text().await.map_err(|_| AppError::BadRequest)?, user)
}

/// Checks a CSRF token taken from a multipart form against the user's.
pub fn check_token(given: &str, user: &CurrentUser) -> Result<(), AppError> {
    if given.is_empty() || !security::constant_time_eq(given, &user.csrf) {
        return Err(AppError::Csrf);
    }
    Ok(())
}

/// Whether a state-changing request comes from this site (`Sec-Fetch-Site`, then `Origin`).
pub fn same_origin(method: &Method, headers: &HeaderMap, base: &url::Url) -> bool {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return true;
    }
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        return site == "same-origin" || site == "none";
    }
    match headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        // Neither header: not a browser form post from another site (browsers send one).
        None => true,
        Some(origin) => {
            let ours = base.origin().ascii_serialization();
            let host = headers
                .get(header::HOST)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            origin == ours
                || origin
                    .split_once("://")
                    .is_some_and(|(_, auth)| auth == host)
        }
    }
}

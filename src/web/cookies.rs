//! Reading and writing the few cookies the portal uses.

use axum::http::{HeaderMap, HeaderValue, header};

/// Cookie names, with the `__Host-` prefix when served over https.
#[derive(Debug, Clone)]
pub struct CookieNames {
    pub session: &'static str,
    /// A sign-in waiting for its second factor (never a session).
    pub pending: &'static str,
    pub csrf: &'static str,
    pub secure: bool,
}

impl CookieNames {
    pub fn new(https: bool) -> CookieNames {
        if https {
            CookieNames {
                session: "__Host-secportal_session",
                pending: "__Host-secportal_pending",
                csrf: "__Host-secportal_csrf",
                secure: true,
            }
        } else {
            CookieNames {
                session: "secportal_session",
                pending: "secportal_pending",
                csrf: "secportal_csrf",
                secure: false,
            }
        }
    }
}

/// The first value of a cookie in the request.
pub fn get(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Lax, Path=/, Secure when https.
/// `max_age` of `Some(0)` deletes; `None` makes a browser-session cookie.
pub fn set(name: &str, value: &str, max_age: Option<i64>, secure: bool) -> Option<HeaderValue> {
    let mut s = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax");
    if let Some(age) = max_age {
        s.push_str(&format!("; Max-Age={age}"));
    }
    if secure {
        s.push_str("; Secure");
    }
    HeaderValue::from_str(&s).ok()
}

/// The language cookie name (not secret, same in http and https).
pub const LANG: &str = "secportal_lang";
/// The flash-message cookie name: holds a locale key shown once.
pub const FLASH: &str = "secportal_flash";

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

/// The address just signed up with or given a new password, for the sign-in form that follows
/// (a minute; hex, as an address may hold characters a cookie may not).
pub const LOGIN_EMAIL: &str = "secportal_login_email";

/// Sets [`LOGIN_EMAIL`] on a response.
pub fn remember_login_email(res: &mut axum::response::Response, email: &str, secure: bool) {
    let hex: String = email.bytes().map(|b| format!("{b:02x}")).collect();
    if let Some(c) = set(LOGIN_EMAIL, &hex, Some(60), secure) {
        res.headers_mut().append(header::SET_COOKIE, c);
    }
}

/// The address [`remember_login_email`] set, if the request carries it.
pub fn login_email(headers: &HeaderMap) -> Option<String> {
    let hex = get(headers, LOGIN_EMAIL)?;
    let bytes: Option<Vec<u8>> = (0..hex.len() / 2)
        .map(|i| u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok())
        .collect();
    String::from_utf8(bytes?)
        .ok()
        .filter(|e| !e.is_empty() && e.len() <= 254)
}

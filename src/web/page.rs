//! What the base layout needs on every page, and the post/redirect/get helper.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use chrono::{DateTime, Utc};

use super::cookies;
use super::ctx::{Ctx, CurrentUser};
use crate::domain::Role;
use crate::i18n::Tr;

/// The signed-in user as the navigation shows them.
#[derive(Debug, Clone)]
pub struct NavUser {
    pub name: String,
    pub email: String,
    pub role_key: &'static str,
    pub org: Option<String>,
    pub org_id: Option<uuid::Uuid>,
    pub is_center_admin: bool,
    pub is_org_admin: bool,
    pub is_center: bool,
    pub unread: i64,
    /// A second factor must be set up first: the other links would only lead back here.
    pub must_enrol: bool,
}

/// Flash messages that ask for a step or say a request was not carried out.
const WARNING_FLASHES: &[&str] = &[
    "flash.uploaded_to_map",
    "flash.already_submitted",
    "flash.draft_already_open",
    "flash.draft_gone",
    "flash.connection_no_room",
    "flash.comment_empty",
    "flash.assign_whom",
    "flash.assign_none_chosen",
    "flash.assign_too_many",
    "flash.reason_moved",
    "flash.reason_confirm",
    "flash.hold_already_set",
    "flash.hold_not_in_force",
    "flash.second_factor_required",
    "flash.second_factor_expired",
];

/// Base-layout data.
#[derive(Debug, Clone)]
pub struct Page {
    pub t: Tr,
    pub csrf: String,
    pub user: Option<NavUser>,
    pub flash: Option<String>,
    pub path: String,
}

impl Page {
    /// A page for this request and (optional) user.
    pub fn new(ctx: &Ctx, user: Option<&CurrentUser>) -> Page {
        Page {
            t: ctx.tr(),
            csrf: user
                .map(|u| u.csrf.clone())
                .unwrap_or_else(|| ctx.anon_csrf.clone()),
            user: user.map(|u| NavUser {
                name: u.name.clone(),
                email: u.email.clone(),
                role_key: u.role.label_key(),
                org: u.org_name.clone(),
                org_id: u.org_id,
                is_center_admin: u.role == Role::CenterAdmin,
                is_org_admin: u.role == Role::OrgAdmin,
                is_center: u.role.is_center(),
                unread: u.unread,
                must_enrol: u.must_enrol,
            }),
            flash: ctx.flash.clone(),
            path: ctx.here.clone(),
        }
    }

    /// A page without user navigation (error pages).
    pub fn bare(ctx: &Ctx) -> Page {
        Page {
            t: ctx.tr(),
            csrf: ctx.anon_csrf.clone(),
            user: None,
            flash: None,
            path: ctx.here.clone(),
        }
    }

    /// The translated flash message, if any.
    pub fn flash_text(&self) -> Option<String> {
        self.flash.as_deref().map(|v| match v.split_once(':') {
            Some((k, n)) => self.t.f(k, &[("n", n)]),
            None => self.t.t(v).to_string(),
        })
    }

    /// Whether the flash asks for something (a step still to take, a request not carried
    /// out): shown as a warning, not as a green "done".
    pub fn flash_warns(&self) -> bool {
        self.flash
            .as_deref()
            .map(|v| v.split_once(':').map_or(v, |(k, _)| k))
            .is_some_and(|k| WARNING_FLASHES.contains(&k))
    }

    /// Whether the signed-in person is Center staff looking at an organisation's pages (the
    /// hints speak about the organisation, not to it).
    pub fn is_center_viewer(&self) -> bool {
        self.user.as_ref().is_some_and(|u| u.is_center)
    }

    /// Whether the signed-in person only reads organisations' reports (a reviewer): links
    /// name what they open, not a task ("対応する").
    pub fn reads_reports_only(&self) -> bool {
        self.user
            .as_ref()
            .is_some_and(|u| u.role_key == Role::Reviewer.label_key())
    }

    /// Whether the signed-in person is an organisation member (not its administrator).
    pub fn is_org_member(&self) -> bool {
        self.user
            .as_ref()
            .is_some_and(|u| u.role_key == Role::OrgMember.label_key())
    }

    /// "Revision N" in the page's language.
    pub fn f_rev(&self, n: &i64) -> String {
        self.t.f("catalogue.revision", &[("n", &n.to_string())])
    }

    /// A time shown in Japan Standard Time.
    pub fn jst(&self, at: &DateTime<Utc>) -> String {
        jst(at)
    }
}

/// Formats a UTC time in JST (`2026-11-25 18:00 JST`).
pub use crate::domain::dates::jst;

/// 303 to `to`, with a flash message (a key with `{n}`) telling a count on the next page.
pub fn redirect_with_count(to: &str, flash_key: &str, n: usize, secure: bool) -> Response {
    redirect_with_flash(to, &format!("{flash_key}:{n}"), secure)
}

/// 303 to `to`, with a flash message key shown on the next page.
pub fn redirect_with_flash(to: &str, flash_key: &str, secure: bool) -> Response {
    let mut res = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(to) {
        res.headers_mut().insert(header::LOCATION, v);
    }
    if let Some(c) = cookies::set(cookies::FLASH, flash_key, Some(60), secure) {
        res.headers_mut().append(header::SET_COOKIE, c);
    }
    res
}

/// Whether `next` is a safe local path to return to after sign-in: one of our own paths,
/// printable ASCII only. Browsers drop tabs and line breaks from a `Location` and read `\`
/// as `/`, so `/\t/evil.example` would leave the site; a control character cannot even be
/// put in a header.
pub fn safe_next(next: &str) -> Option<&str> {
    (next.starts_with('/')
        && !next.starts_with("//")
        && next.chars().all(|c| c.is_ascii_graphic() && c != '\\'))
    .then_some(next)
}

/// Renders a page with a status; a template error is an internal error.
pub fn render<T: askama::Template>(
    status: StatusCode,
    view: &T,
) -> super::error::AppResult<Response> {
    // Lists run past the template's own size hint; start big enough to not grow page by page.
    let mut html = String::with_capacity(T::SIZE_HINT.max(16 * 1024));
    view.render_into(&mut html).map_err(anyhow::Error::from)?;
    Ok((status, Html(html)).into_response())
}

/// Today's date in Japan, where due dates are kept.
pub use crate::domain::dates::today;

/// One page of a long list: where it is, and the links to the pages beside it.
#[derive(Debug, Clone)]
pub struct Pager {
    /// 1-based, within range.
    pub page: usize,
    pub pages: usize,
    pub total: usize,
    /// The first and last line shown (1-based; 0 and 0 for an empty list).
    pub first: usize,
    pub last: usize,
    pub prev: Option<String>,
    pub next: Option<String>,
}

impl Pager {
    /// The page `asked` (clamped) of `total` lines, `per` a page; `link` makes a page's
    /// address.
    pub fn new(total: usize, per: usize, asked: usize, link: impl Fn(usize) -> String) -> Pager {
        let pages = total.div_ceil(per).max(1);
        let page = asked.clamp(1, pages);
        let first = if total == 0 { 0 } else { (page - 1) * per + 1 };
        Pager {
            page,
            pages,
            total,
            first,
            last: (page * per).min(total),
            prev: (page > 1).then(|| link(page - 1)),
            next: (page < pages).then(|| link(page + 1)),
        }
    }

    /// The lines of this page, out of all of them.
    pub fn slice<T>(&self, all: Vec<T>) -> Vec<T> {
        let skip = self.first.saturating_sub(1);
        all.into_iter().skip(skip).take(self.last - skip).collect()
    }
}

/// What a searchable list's address asks: the search as typed and the page.
#[derive(serde::Deserialize, Default)]
pub struct SearchQuery {
    #[serde(default)]
    pub q: String,
    #[serde(default)]
    pub page: String,
}

/// The address of page `n` of the list at `path`, with its filters (empty ones left out).
pub fn list_link(path: &str, filters: &[(&str, &str)], n: usize) -> String {
    let mut link = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in filters {
        if !v.is_empty() {
            link.append_pair(k, v);
        }
    }
    link.append_pair("page", &n.to_string());
    format!("{path}?{}", link.finish())
}

/// A page number as a query gives it (anything else: the first).
pub fn page_number(raw: &str) -> usize {
    raw.trim().parse().unwrap_or(1)
}

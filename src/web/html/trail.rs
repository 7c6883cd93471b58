//! The audit trail page: Center admins see every entry, an org admin its own organisation's.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;

use crate::app::{
    self,
    trail::{Standing, TrailParams},
};
use crate::web::ctx::{Ctx, CurrentUser};
use crate::web::error::AppResult;
use crate::web::html::common::entries;
use crate::web::page::{Page, jst, render};
use crate::web::state::AppState;

/// An entry as shown.
pub struct TrailItem {
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub target: String,
    /// The target's own page, when it is a sealed report: the review page for the Center,
    /// the receipt for its organisation.
    pub href: Option<String>,
    pub ip: String,
    pub detail: String,
    /// `holds`, `unkeyed` or `fails` (a CSS class), and what it means in words.
    pub standing: &'static str,
    pub standing_label: String,
}

#[derive(Template)]
#[template(path = "audit/trail.html")]
struct TrailView {
    page: Page,
    items: Vec<TrailItem>,
    /// Every action by its key, with its name, by name.
    /// The actions to filter by, in groups: (group's name, [(locale key, name)]).
    actions: Vec<(String, Vec<(String, String)>)>,
    action: String,
    actor: String,
    from: String,
    to: String,
    /// The organisation's user code the Center's trail is narrowed to, as typed.
    org: String,
    is_center: bool,
    next: Option<String>,
    date_error: Option<&'static str>,
    /// Some shown entry does not match the chain.
    tampered: bool,
}

/// `GET /audit`
pub async fn trail(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Query(q): Query<TrailParams>,
) -> AppResult<Response> {
    let t = ctx.tr();
    let actor = me.actor(&ctx);
    let words = entries::words(&t);
    let page = app::trail::trail(&state, &actor, &q, &words).await?;
    let rows: Vec<_> = page.entries.iter().map(|(r, _)| r.clone()).collect();
    let names = app::trail::names(&state, &actor, &rows).await?;
    let date_error = page.date_error;
    let tampered = page.entries.iter().any(|(_, st)| *st == Standing::Fails);
    let items: Vec<TrailItem> = page
        .entries
        .into_iter()
        .map(|(r, st)| {
            let (standing, label) = match st {
                Standing::Holds => ("holds", "trail.holds"),
                Standing::Unkeyed => ("unkeyed", "trail.unkeyed"),
                Standing::Fails => ("fails", "trail.fails"),
            };
            TrailItem {
                standing,
                standing_label: t.t(label).to_string(),
                seq: r.seq,
                at: jst(&r.at),
                actor: names.actor(&r, &words),
                action: entries::action(&t, &r.action),
                target: entries::target(&t, &names, &words, &r),
                href: names.submission(&r.target).and_then(|id| {
                    if me.role.is_center() {
                        Some(format!("/review/{id}"))
                    } else {
                        r.org_id
                            .map(|org| format!("/orgs/{org}/submissions/{id}/receipt"))
                    }
                }),
                ip: names.ip(&r),
                detail: entries::detail(&t, &names, &words, &r),
            }
        })
        .collect();
    let next = page.next_before.map(|before| {
        let params = [
            ("action", q.action.as_str()),
            ("actor", q.actor.as_str()),
            ("from", q.from.as_str()),
            ("to", q.to.as_str()),
            ("org", q.org.as_str()),
        ];
        format!(
            "/audit?{}&before={before}",
            serde_urlencoded::to_string(params).unwrap_or_default(),
        )
    });
    // The actions to filter by, by name; an action typed into the address stays chosen.
    let mut actions: Vec<(String, String)> = t
        .with_prefix("audit.action.")
        .into_iter()
        .filter(|(k, _)| me.role.is_center() || !entries::center_only(k))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    actions.sort_by(|a, b| group_of(&a.0).cmp(group_of(&b.0)).then(a.1.cmp(&b.1)));
    let mut groups: Vec<(String, Vec<(String, String)>)> = vec![];
    for (key, label) in actions {
        let group = t.t(group_of(&key)).to_string();
        match groups.last_mut() {
            Some((g, list)) if *g == group => list.push((key, label)),
            _ => groups.push((group, vec![(key, label)])),
        }
    }
    let view = TrailView {
        page: Page::new(&ctx, Some(&me)),
        items,
        actions: groups,
        action: q.action,
        actor: q.actor,
        from: q.from,
        to: q.to,
        org: q.org,
        is_center: me.role.is_center(),
        next,
        date_error,
        tampered,
    };
    render(
        if date_error.is_some() {
            StatusCode::UNPROCESSABLE_ENTITY
        } else {
            StatusCode::OK
        },
        &view,
    )
}

/// The group an action's locale key (`audit.action.<what>.<verb>`) is listed under in the
/// filter, as the locale key of the group's name; the groups in the order they are listed.
fn group_of(key: &str) -> &'static str {
    let what = key
        .strip_prefix("audit.action.")
        .unwrap_or(key)
        .split('.')
        .next()
        .unwrap_or("");
    match what {
        "login" | "logout" | "session" | "password_reset" | "user" | "api_token" => {
            "audit.group.1_accounts"
        }
        "organisation" | "org" | "location" | "connection" | "appointment" => {
            "audit.group.2_organisations"
        }
        "instruction" | "request" | "return_reason" => "audit.group.4_review",
        "catalogue" | "export" | "retention" => "audit.group.5_admin",
        _ => "audit.group.3_reports",
    }
}

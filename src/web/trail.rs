//! The audit trail page: Center admins see every entry, an org admin its own organisation's.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use super::ctx::{Ctx, CurrentUser};
use super::error::AppResult;
use super::page::{Page, jst, render};
use super::state::AppState;
use crate::db::{
    self,
    audit::{Standing, TrailFilter},
};
use crate::domain::Role;
use crate::domain::input::date;

const PAGE: i64 = 100;

/// An entry as shown.
pub struct TrailItem {
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub target: String,
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
    action: String,
    actor: String,
    from: String,
    to: String,
    next: Option<String>,
    date_error: bool,
    /// Some shown entry does not match the chain.
    tampered: bool,
}

#[derive(Deserialize, Default)]
pub struct TrailQuery {
    #[serde(default)]
    action: String,
    #[serde(default)]
    actor: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    before: Option<i64>,
}

/// `GET /audit`
pub async fn trail(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Query(q): Query<TrailQuery>,
) -> AppResult<Response> {
    me.require(&[Role::CenterAdmin, Role::OrgAdmin])?;
    let t = ctx.tr();
    let day = |raw: &str, end: bool| -> Result<Option<chrono::DateTime<chrono::Utc>>, ()> {
        if raw.trim().is_empty() {
            return Ok(None);
        }
        // Days are JST days: 00:00 JST is 15:00 UTC the day before.
        let d = date(raw).map_err(|_| ())?;
        let d = if end { d.succ_opt().ok_or(())? } else { d };
        Ok(Some(
            d.and_hms_opt(0, 0, 0).ok_or(())?.and_utc() - chrono::Duration::hours(9),
        ))
    };
    let (from, to) = (day(&q.from, false), day(&q.to, true));
    let date_error = from.is_err() || to.is_err();
    let filter = TrailFilter {
        action: Some(q.action.trim().to_string()).filter(|a| !a.is_empty()),
        actor: Some(q.actor.trim().to_lowercase()).filter(|a| !a.is_empty()),
        from: from.unwrap_or(None),
        to: to.unwrap_or(None),
        before_seq: q.before,
    };
    let rows = db::audit::page(&state.db, me.scope().org_filter(), &filter, PAGE + 1).await?;
    let more = rows.len() as i64 > PAGE;
    let standing = db::audit::standing(&state.db, &rows).await?;
    let tampered = standing.contains(&Standing::Fails);
    let items: Vec<TrailItem> = rows
        .into_iter()
        .zip(standing)
        .take(PAGE as usize)
        .map(|(r, st)| {
            let key = format!("audit.action.{}", r.action);
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
                actor: r.actor,
                action: if t.has(&key) {
                    format!("{}（{}）", t.t(&key), r.action)
                } else {
                    r.action
                },
                target: r.target,
                ip: r.ip,
                detail: if r.detail == "null" {
                    String::new()
                } else {
                    r.detail
                },
            }
        })
        .collect();
    let next = if more {
        items.last().map(|last| {
            let params = [
                ("action", q.action.as_str()),
                ("actor", q.actor.as_str()),
                ("from", q.from.as_str()),
                ("to", q.to.as_str()),
            ];
            format!(
                "/audit?{}&before={}",
                serde_urlencoded::to_string(params).unwrap_or_default(),
                last.seq
            )
        })
    } else {
        None
    };
    let view = TrailView {
        page: Page::new(&ctx, Some(&me)),
        items,
        action: q.action,
        actor: q.actor,
        from: q.from,
        to: q.to,
        next,
        date_error,
        tampered,
    };
    render(
        if date_error {
            StatusCode::UNPROCESSABLE_ENTITY
        } else {
            StatusCode::OK
        },
        &view,
    )
}

//! The home page of each role.

use std::sync::Arc;

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use super::ctx::{Ctx, CurrentUser};
use super::error::AppResult;
use super::page::{Page, jst, render};
use super::state::AppState;
use crate::db;
use crate::domain::Role;

/// A line of the recent-activity list.
pub struct ActivityItem {
    pub at: String,
    pub actor: String,
    pub action: String,
    pub target: String,
}

#[derive(Template)]
#[template(path = "home/home.html")]
struct HomeView {
    page: Page,
    role: Role,
    org_count: usize,
    activity: Vec<ActivityItem>,
    org_id: Option<uuid::Uuid>,
    checklist: Vec<super::html::common::checklist::ChecklistItem>,
    /// Center roles: what waits for review and follow-up.
    waiting: db::review::Waiting,
    oldest: String,
    followup: db::followup::CenterCounts,
}

/// `GET /home`
pub async fn home(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
) -> AppResult<Response> {
    let (org_count, waiting, followup) = if me.role.is_center() {
        (
            db::orgs::list(&state.db, me.scope()).await?.len(),
            db::review::waiting(&state.db, me.id).await?,
            db::followup::center_counts(&state.db, super::page::today()).await?,
        )
    } else {
        Default::default()
    };
    let oldest = waiting.oldest.as_ref().map(jst).unwrap_or_default();
    let t = ctx.tr();
    let activity = if matches!(me.role, Role::CenterAdmin | Role::OrgAdmin) {
        db::audit::recent(&state.db, me.scope().org_filter(), 10)
            .await?
            .into_iter()
            .map(|r| {
                let key = format!("audit.action.{}", r.action);
                let action = if t.has(&key) {
                    t.t(&key).to_string()
                } else {
                    r.action
                };
                ActivityItem {
                    at: jst(&r.at),
                    actor: r.actor,
                    action,
                    target: r.target,
                }
            })
            .collect()
    } else {
        vec![]
    };
    let checklist = match me.org_id {
        Some(org) if me.role.is_org() => {
            super::html::common::checklist::checklist_for(&state, &ctx, org).await?
        }
        _ => vec![],
    };
    let view = HomeView {
        page: Page::new(&ctx, Some(&me)),
        role: me.role,
        org_count,
        activity,
        org_id: me.org_id,
        checklist,
        waiting,
        oldest,
        followup,
    };
    render(StatusCode::OK, &view)
}

//! The home page of each role: its reads are `app::home::overview` and the checklist.

use std::sync::Arc;

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use crate::app;
use crate::domain::Role;
use crate::web::ctx::{Ctx, CurrentUser};
use crate::web::error::AppResult;
use crate::web::page::{Page, jst, render};
use crate::web::state::AppState;

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
    checklist: Vec<crate::web::html::common::checklist::ChecklistItem>,
    /// Center roles: what waits for review and follow-up.
    waiting: app::home::Waiting,
    oldest: String,
    followup: app::home::CenterCounts,
}

/// `GET /home`
pub async fn home(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
) -> AppResult<Response> {
    let o = app::home::overview(&state, &me.actor(&ctx)).await?;
    let oldest = o.waiting.oldest.as_ref().map(jst).unwrap_or_default();
    let t = ctx.tr();
    let words = crate::app::trail::Words {
        center: t.t("comments.center"),
        draft: t.t("trail.draft"),
    };
    let names = &o.names;
    let activity = o
        .activity
        .into_iter()
        .map(|r| {
            let (actor, target) = (names.actor(&r, &words), names.text(&r.target, &words));
            let key = format!("audit.action.{}", r.action);
            let action = if t.has(&key) {
                t.t(&key).to_string()
            } else {
                r.action
            };
            ActivityItem {
                at: jst(&r.at),
                actor,
                action,
                target,
            }
        })
        .collect();
    let checklist = match me.org_id {
        Some(org) if me.role.is_org() => {
            crate::web::html::common::checklist::checklist_for(&state, &ctx, org).await?
        }
        _ => vec![],
    };
    let view = HomeView {
        page: Page::new(&ctx, Some(&me)),
        role: me.role,
        org_count: o.org_count,
        activity,
        org_id: me.org_id,
        checklist,
        waiting: o.waiting,
        oldest,
        followup: o.followup,
    };
    render(StatusCode::OK, &view)
}

//! The organisation's 提出履歴: every sealed submission of every item, office and gateway
//! site, with its receipt, state and decision in words; narrowed by item and state through
//! the address (bookmarkable), in pages.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use uuid::Uuid;

use crate::app;
use crate::app::submissions::history::{HistoryQuery, STATES};
use crate::web::ctx::{Ctx, CurrentUser};
use crate::web::error::AppResult;
use crate::web::html::common::access::{org_for, reader};
use crate::web::page::{Page, jst, render};
use crate::web::state::AppState;

/// One line of the history, in words.
pub struct Line {
    pub id: Uuid,
    pub receipt: String,
    pub item: String,
    pub place: String,
    pub version: i64,
    pub state: String,
    /// A later version of the same item and place was sent: not the current one.
    pub replaced: bool,
    pub decision: String,
    pub submitted: String,
}

#[derive(Template)]
#[template(path = "submissions/history.html")]
struct HistoryView {
    page: Page,
    org_id: Uuid,
    org_name: String,
    lines: Vec<Line>,
    /// (item key, title) for the filter.
    items: Vec<(String, String)>,
    /// (state, locale key) for the filter.
    states: Vec<(&'static str, String)>,
    item: String,
    state: String,
    total: i64,
    page_no: i64,
    pages: i64,
    previous: Option<String>,
    next: Option<String>,
    /// The filter asked for was not understood (and was not applied).
    bad_filter: bool,
}

/// The address's query: all text, so a stale or mistyped bookmark still opens the page.
#[derive(Debug, Default, Deserialize)]
pub struct HistoryParams {
    #[serde(default)]
    item: String,
    #[serde(default)]
    state: String,
    #[serde(default)]
    page: String,
}

fn query_of(p: &HistoryParams) -> HistoryQuery {
    let some = |s: &str| (!s.trim().is_empty()).then(|| s.trim().to_string());
    HistoryQuery {
        item: some(&p.item),
        state: some(&p.state),
        page: p.page.trim().parse().unwrap_or(1),
    }
}

fn link(org_id: Uuid, q: &HistoryQuery, page: i64) -> String {
    let mut url = format!("/orgs/{org_id}/submissions?");
    let mut ser = url::form_urlencoded::Serializer::new(String::new());
    if let Some(i) = &q.item {
        ser.append_pair("item", i);
    }
    if let Some(s) = &q.state {
        ser.append_pair("state", s);
    }
    ser.append_pair("page", &page.to_string());
    url.push_str(&ser.finish());
    url
}

/// `GET /orgs/{org}/submissions`: the organisation's 提出履歴.
pub async fn page(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Path(org_id): Path<Uuid>,
    Query(params): Query<HistoryParams>,
) -> AppResult<Response> {
    let org = org_for(&state, &me, org_id, false).await?;
    let actor = reader(&me);
    let mut q = query_of(&params);
    let (history, bad_filter) =
        match app::submissions::history::history(&state, &actor, org_id, &q).await {
            Ok(h) => (h, false),
            Err(app::Error::Invalid(_)) => {
                q = HistoryQuery::default();
                let h = app::submissions::history::history(&state, &actor, org_id, &q).await?;
                (h, true)
            }
            Err(e) => return Err(e.into()),
        };
    let t = ctx.tr();
    let catalogue = state.catalogue().await?;
    let lines = history
        .rows
        .iter()
        .map(|r| Line {
            id: r.id,
            receipt: r.receipt_no.clone().unwrap_or_default(),
            item: catalogue.item_title(&r.kind, t.code()),
            place: match (&r.location_name, &r.location_kind) {
                (Some(n), Some(k)) => format!(
                    "{n}{}{}{}",
                    t.t("ui.lp"),
                    t.t(&format!("structure.kind.{k}")),
                    t.t("ui.rp")
                ),
                _ => t.t("checklist.whole_org").to_string(),
            },
            version: r.version,
            state: t.t(&format!("checklist.status.{}", r.state)).to_string(),
            replaced: r.replaced,
            decision: match (&r.decision, &r.decided_at) {
                (Some(d), Some(at)) => format!(
                    "{}{}{}{}",
                    t.t(&format!("checklist.status.{d}")),
                    t.t("ui.lp"),
                    jst(at),
                    t.t("ui.rp")
                ),
                _ => String::new(),
            },
            submitted: r.submitted_at.map(|at| jst(&at)).unwrap_or_default(),
        })
        .collect();
    let view = HistoryView {
        page: Page::new(&ctx, Some(&me)),
        org_id,
        org_name: org.name,
        lines,
        items: catalogue
            .items
            .iter()
            .map(|i| (i.key.clone(), catalogue.item_title(&i.key, t.code())))
            .collect(),
        states: STATES
            .iter()
            .map(|s| (*s, t.t(&format!("checklist.status.{s}")).to_string()))
            .collect(),
        item: q.item.clone().unwrap_or_default(),
        state: q.state.clone().unwrap_or_default(),
        total: history.total,
        page_no: history.page,
        pages: history.pages,
        previous: (history.page > 1).then(|| link(org_id, &q, history.page - 1)),
        next: (history.page < history.pages).then(|| link(org_id, &q, history.page + 1)),
        bad_filter,
    };
    render(StatusCode::OK, &view)
}

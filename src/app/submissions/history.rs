//! The organisation's record of what it submitted (提出履歴): every sealed submission of every
//! item, office and gateway site, newest first, narrowed by item and state, in pages.

use serde::Serialize;
use uuid::Uuid;

use crate::app::structure::org_for;
use crate::app::{Actor, App, Error};
use crate::db;
use crate::db::history::{HistoryFilter, HistoryRow};

/// Rows on one page of the history.
pub const PAGE_SIZE: i64 = 50;

/// The states a history can be narrowed to (as the organisation sees them).
pub const STATES: [&str; 4] = ["submitted", "under_review", "accepted", "returned"];

/// What the history is asked for; unknown item keys or states are refused.
#[derive(Debug, Clone, Default)]
pub struct HistoryQuery {
    /// The catalogue item's key (`antivirus`, `administrator`, ...).
    pub item: Option<String>,
    pub state: Option<String>,
    /// The page, from 1.
    pub page: i64,
}

/// One page of the history.
#[derive(Debug, Clone, Serialize)]
pub struct History {
    pub rows: Vec<HistoryRow>,
    /// Submissions the filter finds in all.
    pub total: i64,
    pub page: i64,
    pub pages: i64,
}

/// The organisation's sealed submissions in the actor's scope (another organisation's: not
/// found), filtered and paged.
pub async fn history(
    app: &App,
    actor: &Actor,
    org_id: Uuid,
    q: &HistoryQuery,
) -> Result<History, Error> {
    org_for(app, actor, org_id, false).await?;
    if let Some(item) = &q.item
        && !app.catalogue().await?.items.iter().any(|i| &i.key == item)
    {
        return Err(Error::field("item", "error.kind_invalid"));
    }
    if let Some(state) = &q.state
        && !STATES.contains(&state.as_str())
    {
        return Err(Error::field("state", "error.kind_invalid"));
    }
    let filter = HistoryFilter {
        kind: q.item.as_deref(),
        state: q.state.as_deref(),
    };
    let scope = actor.scope();
    let total = db::history::count(&app.db, scope, org_id, &filter).await?;
    let pages = ((total + PAGE_SIZE - 1) / PAGE_SIZE).max(1);
    let page = q.page.clamp(1, pages);
    let rows = db::history::page(
        &app.db,
        scope,
        org_id,
        &filter,
        PAGE_SIZE,
        (page - 1) * PAGE_SIZE,
    )
    .await?;
    Ok(History {
        rows,
        total,
        page,
        pages,
    })
}

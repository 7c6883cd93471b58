//! The audit trail as people read it: Center admins every entry, an org admin their own
//! organisation's; newest first, filtered, each entry with how it stands against the chain.

use chrono::{DateTime, Utc};

use super::{Actor, App, Error};
pub use crate::db::audit::Standing;
use crate::db::{
    self,
    audit::{Row, TrailFilter},
};
use crate::domain::Role;
use crate::domain::dates::date;

/// Entries on a page.
const PAGE: i64 = 100;

/// The trail's filters as typed (every one optional).
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct TrailParams {
    /// An action or its prefix (`login`, `submission.`).
    pub action: String,
    /// Part of the actor's e-mail.
    pub actor: String,
    /// The first day (JST).
    pub from: String,
    /// The last day (JST).
    pub to: String,
    /// Entries before this sequence number (the next page).
    pub before: Option<i64>,
}

/// One page of the trail.
#[derive(Debug, Clone)]
pub struct TrailPage {
    pub entries: Vec<(Row, Standing)>,
    /// Where the next page starts (`before`), when there is one.
    pub next_before: Option<i64>,
    /// A day was not a date (that filter is left out).
    pub date_error: bool,
}

/// A JST day's start (or, with `end`, the next day's) as an instant; empty is none.
fn day(raw: &str, end: bool) -> Result<Option<DateTime<Utc>>, ()> {
    if raw.trim().is_empty() {
        return Ok(None);
    }
    // Days are JST days: 00:00 JST is 15:00 UTC the day before.
    let d = date(raw).map_err(|_| ())?;
    let d = if end { d.succ_opt().ok_or(())? } else { d };
    Ok(Some(
        d.and_hms_opt(0, 0, 0).ok_or(())?.and_utc() - chrono::Duration::hours(9),
    ))
}

/// One page of the trail within the actor's scope (Center admins and org admins).
pub async fn trail(app: &App, actor: &Actor, q: &TrailParams) -> Result<TrailPage, Error> {
    if !actor.holds(&[Role::CenterAdmin, Role::OrgAdmin]) {
        return Err(Error::Forbidden);
    }
    let (from, to) = (day(&q.from, false), day(&q.to, true));
    let date_error = from.is_err() || to.is_err();
    let filter = TrailFilter {
        action: Some(q.action.trim().to_string()).filter(|a| !a.is_empty()),
        actor: Some(q.actor.trim().to_lowercase()).filter(|a| !a.is_empty()),
        from: from.unwrap_or(None),
        to: to.unwrap_or(None),
        before_seq: q.before,
    };
    let mut rows = db::audit::page(&app.db, actor.scope().org_filter(), &filter, PAGE + 1).await?;
    let more = rows.len() as i64 > PAGE;
    let standing = db::audit::standing(&app.db, &rows).await?;
    rows.truncate(PAGE as usize);
    let entries: Vec<(Row, Standing)> = rows.into_iter().zip(standing).collect();
    Ok(TrailPage {
        next_before: entries.last().filter(|_| more).map(|(r, _)| r.seq),
        entries,
        date_error,
    })
}

//! Giving several waiting submissions to one reviewer at once, from the queue.

use uuid::Uuid;

use super::super::{Actor, App, Error};
use super::REVIEWERS;
use crate::db;
use crate::domain::Role;

/// At most this many submissions in one go (two pages of the queue).
pub const MAX_AT_ONCE: usize = 100;

/// Who a reviewer may give submissions to: a Center admin anyone who reviews, a reviewer
/// themselves (`name`: theirs as their session shows it). (id, name).
pub async fn assignees(app: &App, actor: &Actor, name: &str) -> Result<Vec<(Uuid, String)>, Error> {
    if !actor.holds(&REVIEWERS) {
        return Err(Error::Forbidden);
    }
    Ok(if actor.role == Role::CenterAdmin {
        db::review::reviewers(&app.db).await?
    } else {
        // A reviewer can only be the one asking, whose session has just been found active
        // in that role: no query on every queue page.
        vec![(actor.id, name.to_string())]
    })
}

/// Gives the chosen waiting submissions to `to` (a reviewer: only to themselves, and only
/// those nobody has taken; a Center admin: to anyone who reviews, taking them from whoever
/// had them). Each change is its own conditional write with its audit entry, in one
/// transaction; answers how many changed. A submission decided or taken meanwhile is left
/// as it is.
pub async fn assign_many(
    app: &App,
    actor: &Actor,
    ids: &[Uuid],
    to: Option<Uuid>,
) -> Result<usize, Error> {
    if !actor.holds(&REVIEWERS) {
        return Err(Error::Forbidden);
    }
    let admin = actor.role == Role::CenterAdmin;
    let Some(to) = to.filter(|to| admin || *to == actor.id) else {
        return Err(Error::field("assignee", "error.choose_one"));
    };
    if ids.is_empty() {
        return Err(Error::field("ids", "review.bulk.none_chosen"));
    }
    if ids.len() > MAX_AT_ONCE {
        return Err(Error::field("ids", "review.bulk.too_many"));
    }
    let mut ids = ids.to_vec();
    ids.sort();
    ids.dedup();
    let mut tx = app.db.begin().await?;
    let mut changed = 0;
    for id in ids {
        let Some(org) = db::review::assign_waiting(&mut tx, id, to, admin).await? else {
            continue;
        };
        let mut entry = actor.audit("submission.assigned", Some(org), id.to_string());
        entry.detail = serde_json::json!({ "to": to, "from_queue": true });
        db::audit::append(&mut tx, &entry).await?;
        changed += 1;
    }
    tx.commit().await?;
    Ok(changed)
}

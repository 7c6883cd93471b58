//! Discarding a draft (下書きを破棄): the organisation gives up what it started — a new
//! report, a renewal of an accepted one, or the correction of a returned one — and the item
//! is as it was before the draft: nothing sent changes, a returned report may be corrected
//! again. The draft's files go with it (their content stays while a sealed report keeps it).

use serde::Serialize;
use uuid::Uuid;

use super::revise::{self, Drafted};
use crate::app::{Actor, App, Error};
use crate::db;
use crate::domain::Scope;

/// What [`discard`] did.
#[derive(Debug, Clone, Serialize)]
pub struct Discarded {
    pub draft: Uuid,
    /// What the draft was of.
    #[serde(skip)]
    pub what: Drafted,
    /// The returned report it corrected (a correction's page is its receipt).
    pub revised_from: Option<Uuid>,
}

/// Discards a draft of the organisation, with its audit entry. A draft sealed or discarded
/// meanwhile is a conflict (`error.draft_gone`); one click after another discards once.
pub async fn discard(app: &App, actor: &Actor, org_id: Uuid, id: Uuid) -> Result<Discarded, Error> {
    let s = db::submissions::get(&app.db, Scope::Org(org_id), id)
        .await?
        .ok_or(Error::NotFound)?;
    let what = Drafted::of(&s).ok_or(Error::NotFound)?;
    revise::may_draft(app, actor, org_id, &what).await?;
    if s.state != "draft" {
        return Err(Error::Conflict("error.draft_gone"));
    }
    let revised_from = db::review::revised_from(&app.db, org_id, id).await?;
    let mut tx = app.db.begin().await?;
    if !db::submissions::hold_draft(&mut tx, org_id, id).await? {
        return Err(Error::Conflict("error.draft_gone"));
    }
    let files = db::retention::remove_submissions(&mut tx, &[id]).await?;
    let mut entry = actor.audit("submission.discarded", Some(org_id), id.to_string());
    entry.detail = serde_json::json!({
        "item": s.kind,
        "version": s.version,
        "files": files.iter().map(|f| f.name.as_str()).collect::<Vec<_>>(),
    });
    db::audit::append(&mut tx, &entry).await?;
    tx.commit().await?;
    Ok(Discarded {
        draft: id,
        what,
        revised_from,
    })
}

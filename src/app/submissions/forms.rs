//! What report pages read around their forms: a place's open draft with its files and its
//! sealed versions, one stored submission, its receipt, and a file. Every read checks that
//! the organisation is in the actor's scope, and the queries are bound to it.

use uuid::Uuid;

use super::Place;
use crate::app::structure::in_scope;
use crate::app::{Actor, App, Error};
use crate::db;
pub use crate::db::review::DecisionRow;
pub use crate::db::submissions::{FileRow, LatestRow, SubmissionRow};
use crate::domain::Scope;

/// A report page's state: the open draft of its place, the draft's files, and the place's
/// sealed versions.
#[derive(Debug, Default)]
pub struct FormState {
    pub draft: Option<SubmissionRow>,
    /// The draft's files (none without a draft).
    pub files: Vec<FileRow>,
    /// The place's versions past the draft, newest first (a taken one reads `under_review`).
    pub sealed: Vec<LatestRow>,
    /// The accepted report the draft renews, or (no draft open) the one a new draft would
    /// start from.
    pub renewal: Option<super::renewal::Renewal>,
    /// With no draft open, the place's newest version while it is with the Center or was
    /// returned: the page shows what was sent (read-only), not an empty form.
    pub shown: Option<Shown>,
    /// The Center's open request the page's report would answer (the one due first).
    pub request: Option<db::followup::RequestRow>,
}

/// A sealed version a report page shows in place of a draft.
#[derive(Debug, Clone)]
pub struct Shown {
    pub id: Uuid,
    pub receipt_no: String,
    /// `submitted`, `under_review` or `returned`.
    pub state: String,
    pub submitted_at: chrono::DateTime<chrono::Utc>,
    pub data: serde_json::Value,
    pub files: Vec<FileRow>,
}

/// The states of a version a page shows instead of an empty form: not yet decided, or
/// returned (revised from its receipt or from the page). A page asked for by an open request
/// shows the form instead.
const SHOWN_STATES: [&str; 3] = ["submitted", "under_review", "returned"];

impl FormState {
    /// The open draft's id.
    pub fn draft_id(&self) -> Option<Uuid> {
        self.draft.as_ref().map(|d| d.id)
    }

    /// The content the form starts from: the open draft's, else that of the version sent and
    /// not accepted yet, else that of the accepted report a new draft would start from, else
    /// `Null`.
    pub fn data(&self) -> serde_json::Value {
        match (&self.draft, &self.shown, &self.renewal) {
            (Some(d), _, _) => serde_json::from_str(&d.data).unwrap_or_default(),
            (None, Some(s), _) => s.data.clone(),
            (None, None, Some(r)) => r.data.clone(),
            (None, None, None) => serde_json::Value::Null,
        }
    }

    /// The newest version past the draft.
    pub fn last(&self) -> Option<&LatestRow> {
        self.sealed.first()
    }
}

/// The state of a place's report page for the actor.
pub async fn form_state(app: &App, actor: &Actor, place: &Place) -> Result<FormState, Error> {
    in_scope(actor, place.org)?;
    let draft = db::submissions::draft(&app.db, place.org, place.kind.as_str(), place.site).await?;
    let files = match &draft {
        Some(d) => db::submissions::files(&app.db, Scope::Org(place.org), d.id).await?,
        None => vec![],
    };
    let sealed = versions_at(app, actor, place.org, place.kind.as_str(), place.site).await?;
    // The Center's open request for this report (the one due first), if the Center asks for
    // this kind. It asks for a new report even while the last one waits: the form stays open.
    let request = if place.kind.requested_by_center() {
        db::followup::open_request_for(&app.db, place.org, place.kind.as_str(), place.site).await?
    } else {
        None
    };
    let shown = match (&draft, sealed.first(), &request) {
        (None, Some(l), None)
            if place.kind.renews() && SHOWN_STATES.contains(&l.state.as_str()) =>
        {
            shown(app, place.org, l).await?
        }
        _ => None,
    };
    let renewal = match shown {
        Some(_) => None,
        None => super::renewal::renewal(app, place, draft.as_ref().map(|d| d.id)).await?,
    };
    Ok(FormState {
        draft,
        files,
        sealed,
        renewal,
        shown,
        request,
    })
}

/// The sealed version `l` of the organisation with its content and files.
async fn shown(app: &App, org: Uuid, l: &LatestRow) -> Result<Option<Shown>, Error> {
    let Some(s) = db::submissions::get(&app.db, Scope::Org(org), l.id).await? else {
        return Ok(None);
    };
    Ok(Some(Shown {
        id: s.id,
        receipt_no: s.receipt_no.unwrap_or_default(),
        state: l.state.clone(),
        submitted_at: s.submitted_at.unwrap_or_default(),
        data: serde_json::from_str(&s.data).unwrap_or_default(),
        files: db::submissions::files(&app.db, Scope::Org(org), s.id).await?,
    }))
}

/// The versions past the draft of a kind of report at a place (`site`: `None` for the
/// organisation), newest first.
pub async fn versions_at(
    app: &App,
    actor: &Actor,
    org_id: Uuid,
    kind: &str,
    site: Option<Uuid>,
) -> Result<Vec<LatestRow>, Error> {
    in_scope(actor, org_id)?;
    Ok(db::submissions::latest(&app.db, Some(org_id))
        .await?
        .into_iter()
        .filter(|s| s.kind == kind && s.location_id == site && s.state != "draft")
        .collect())
}

/// The organisation's newest submission of a kind, the draft included, with its content.
pub async fn newest(
    app: &App,
    actor: &Actor,
    org_id: Uuid,
    kind: &str,
) -> Result<Option<(LatestRow, serde_json::Value)>, Error> {
    in_scope(actor, org_id)?;
    let newest = db::submissions::latest(&app.db, Some(org_id))
        .await?
        .into_iter()
        .find(|s| s.kind == kind);
    Ok(match newest {
        Some(l) => {
            let data = db::submissions::data(&app.db, org_id, l.id)
                .await?
                .unwrap_or_default();
            Some((l, data))
        }
        None => None,
    })
}

/// The sealed content (`data` of the snapshot) of the organisation's newest sealed, not
/// returned, report of a kind.
pub async fn sealed_data(
    app: &App,
    actor: &Actor,
    org_id: Uuid,
    kind: &str,
) -> Result<Option<serde_json::Value>, Error> {
    in_scope(actor, org_id)?;
    let latest = db::submissions::latest(&app.db, Some(org_id))
        .await?
        .into_iter()
        .find(|s| s.kind == kind && !matches!(s.state.as_str(), "draft" | "returned"));
    let Some(l) = latest else { return Ok(None) };
    Ok(db::submissions::get(&app.db, Scope::Org(org_id), l.id)
        .await?
        .and_then(|s| s.snapshot)
        .and_then(|j| serde_json::from_str::<serde_json::Value>(&j).ok())
        .map(|v| v["data"].clone()))
}

/// One stored submission of the organisation (`None`: not one of its).
pub async fn stored(
    app: &App,
    actor: &Actor,
    org_id: Uuid,
    id: Uuid,
) -> Result<Option<SubmissionRow>, Error> {
    in_scope(actor, org_id)?;
    Ok(db::submissions::get(&app.db, Scope::Org(org_id), id).await?)
}

/// A sealed submission's receipt as its organisation reads it.
#[derive(Debug)]
pub struct Receipt {
    pub row: SubmissionRow,
    pub receipt_no: String,
    /// The sealed snapshot (JSON text).
    pub snapshot: String,
    /// The check code printed on the receipt.
    pub code: String,
    /// The state as the organisation reads it (taken by a reviewer: `under_review`).
    pub state: String,
    /// Every version of its series, first version first.
    pub versions: Vec<db::review::VersionRow>,
    pub decision: Option<DecisionRow>,
    /// A newer report of the same item and place the organisation sent after this one (a
    /// report of its own, not a version of this one).
    pub newer: Option<db::review::VersionRow>,
}

/// The receipt of a sealed submission of the organisation (a draft or another
/// organisation's: not found).
pub async fn receipt(app: &App, actor: &Actor, org_id: Uuid, id: Uuid) -> Result<Receipt, Error> {
    in_scope(actor, org_id)?;
    let scope = Scope::Org(org_id);
    let row = db::submissions::get(&app.db, scope, id)
        .await?
        .ok_or(Error::NotFound)?;
    let (Some(receipt_no), Some(snapshot)) = (row.receipt_no.clone(), row.snapshot.clone()) else {
        return Err(Error::NotFound);
    };
    let series = db::review::series_of(&app.db, scope, id)
        .await?
        .unwrap_or(id);
    let versions = db::review::versions(&app.db, scope, series).await?;
    // The receipt's status and its list of versions name states as the organisation reads them.
    let state = versions
        .iter()
        .find(|v| v.id == id)
        .map_or_else(|| row.state.clone(), |v| v.org_state().to_string());
    Ok(Receipt {
        code: db::receipts::code(&app.db, &receipt_no, &snapshot)?,
        decision: db::review::decision(&app.db, scope, id).await?,
        // Read by id: the newer report is of the same organisation as `row`, found in scope.
        newer: db::review::newer_report(&app.db, id).await?,
        row,
        receipt_no,
        snapshot,
        state,
        versions,
    })
}

/// A stored file in the actor's scope (the owning organisation and Center staff).
pub async fn file(app: &App, actor: &Actor, id: Uuid) -> Result<FileRow, Error> {
    db::submissions::file(&app.db, actor.scope(), id)
        .await?
        .ok_or(Error::NotFound)
}

/// A stored file about to be sent (a submission's or an instruction's).
#[derive(Debug, Clone, Copy)]
pub struct Served<'a> {
    pub org_id: Uuid,
    pub id: Uuid,
    pub sha256: &'a str,
    pub name: &'a str,
}

/// Records that the actor downloaded (`inline`: previewed) a stored file, before it is sent:
/// every file that leaves the portal has its audit entry.
pub async fn record_served(
    app: &App,
    actor: &Actor,
    f: Served<'_>,
    inline: bool,
) -> Result<(), Error> {
    let action = if inline {
        "file.previewed"
    } else {
        "file.downloaded"
    };
    let mut entry = actor.audit(action, Some(f.org_id), f.id.to_string());
    entry.detail = serde_json::json!({ "name": f.name, "sha256": f.sha256 });
    db::audit::append_alone(&app.db, &entry).await?;
    Ok(())
}

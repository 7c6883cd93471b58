//! What an organisation reads of its reports: the checklist with each item's status, its
//! submissions with receipts and states, and one submission with its files.

use serde::Serialize;
use uuid::Uuid;

use crate::app::structure::{open_items, org_for, units_of};
use crate::app::{Actor, App, Error};
use crate::db;
use crate::db::submissions::{FileRow, SummaryRow};
use crate::domain::ScopeKind;
use crate::domain::checklist::{self, Latest};

/// Where a checklist item is due.
#[derive(Debug, Clone, Serialize)]
pub struct ChecklistUnit {
    /// `organisation`, `office` or `gateway_site`.
    pub kind: &'static str,
    /// The office or gateway site (`None`: the whole organisation).
    pub location: Option<Uuid>,
    /// Its name (`None`: the whole organisation).
    pub name: Option<String>,
}

/// One row of the checklist: an item of the catalogue due for one unit, and its status.
#[derive(Debug, Clone, Serialize)]
pub struct ChecklistEntry {
    /// The item's number in the catalogue (e.g. `7.4.1(3)`).
    pub number: String,
    /// The item's key (`antivirus`, `gateway_logs`, ...).
    pub item: String,
    pub title_ja: String,
    pub title_en: String,
    pub unit: ChecklistUnit,
    /// `missing`, `draft`, `submitted`, `under_review`, `accepted`, `returned`, ...
    pub status: &'static str,
    /// The status's locale key (for pages).
    #[serde(skip)]
    pub status_key: &'static str,
    pub needs_action: bool,
    /// The instruction (`true`) or request (`false`) that set the status, if one did.
    pub open: Option<OpenItem>,
    /// When that instruction or request is due.
    #[serde(skip)]
    pub due: Option<chrono::NaiveDate>,
    /// The report that gave the status (for a returned one: the one to revise).
    #[serde(skip)]
    pub submission: Option<Uuid>,
    /// A draft of the item is open for the place (a revision being written).
    #[serde(skip)]
    pub draft_open: bool,
    /// An earlier report was accepted and stays in force (the status is of a newer one).
    #[serde(skip)]
    pub accepted_before: bool,
}

/// An unclosed instruction or open request behind a checklist status.
#[derive(Debug, Clone, Serialize)]
pub struct OpenItem {
    pub id: Uuid,
    pub instruction: bool,
    /// The office or gateway site it names, when that is not the row's own place (an
    /// instruction on the whole organisation's item about one office, say).
    pub place: Option<String>,
}

/// The checklist of an organisation in the actor's scope, in catalogue then unit order.
pub async fn checklist(
    app: &App,
    actor: &Actor,
    org_id: Uuid,
) -> Result<Vec<ChecklistEntry>, Error> {
    org_for(app, actor, org_id, false).await?;
    checklist_of(app, org_id).await
}

/// [`checklist`] for an organisation already resolved in the caller's scope.
pub async fn checklist_of(app: &App, org_id: Uuid) -> Result<Vec<ChecklistEntry>, Error> {
    let catalogue = app.catalogue().await?;
    let locations = db::structure::list(&app.db, Some(org_id)).await?;
    let conns = db::structure::connections(&app.db, Some(org_id)).await?;
    let units = units_of("", &locations, &conns);
    let latest: Vec<Latest> = db::submissions::latest(&app.db, Some(org_id))
        .await?
        .into_iter()
        .map(|s| Latest {
            id: s.id,
            kind: s.kind,
            location_id: s.location_id,
            state: s.state,
        })
        .collect();
    let open: Vec<_> = open_items(app, Some(org_id))
        .await?
        .into_iter()
        .map(|(_, o)| o)
        .collect();
    let rows = checklist::build(&catalogue.items, &units, &latest, &open);
    Ok(rows
        .into_iter()
        .map(|r| {
            let item = &catalogue.items[r.item];
            let unit = &units[r.unit];
            ChecklistEntry {
                number: item.number.clone(),
                item: item.key.clone(),
                title_ja: item.title_ja.clone(),
                title_en: item.title_en.clone(),
                unit: ChecklistUnit {
                    kind: unit.kind.as_str(),
                    location: unit.id,
                    name: (unit.kind != ScopeKind::Organisation).then(|| unit.name.clone()),
                },
                status: r.status.as_str(),
                status_key: r.status.label_key(),
                needs_action: r.status.needs_action(),
                open: r.open.map(|(id, instruction)| OpenItem {
                    id,
                    instruction,
                    place: open
                        .iter()
                        .find(|o| o.id == id)
                        .and_then(|o| o.location_id)
                        .filter(|l| Some(*l) != unit.id)
                        .and_then(|l| locations.iter().find(|x| x.id == l))
                        .map(|x| x.name.clone()),
                }),
                due: r.due,
                submission: r.submission,
                draft_open: r.draft_open,
                accepted_before: r.accepted_before,
            }
        })
        .collect())
}

/// The most submissions one list answers.
pub const LIST_MAX: i64 = 1000;

/// The organisation's submissions (drafts included), newest first, with receipts and states.
pub async fn submissions(app: &App, actor: &Actor, org_id: Uuid) -> Result<Vec<SummaryRow>, Error> {
    org_for(app, actor, org_id, false).await?;
    Ok(db::submissions::list(&app.db, actor.scope(), org_id, LIST_MAX).await?)
}

/// One submission as its organisation reads it.
#[derive(Debug, Clone, Serialize)]
pub struct SubmissionDetail {
    #[serde(flatten)]
    pub summary: SummaryRow,
    /// The report's content (for a sealed one, what was sealed).
    pub data: serde_json::Value,
    pub files: Vec<FileRow>,
}

/// One submission of the organisation (another organisation's: not found).
pub async fn submission(
    app: &App,
    actor: &Actor,
    org_id: Uuid,
    id: Uuid,
) -> Result<SubmissionDetail, Error> {
    org_for(app, actor, org_id, false).await?;
    let scope = crate::domain::Scope::Org(org_id);
    let s = db::submissions::get(&app.db, scope, id)
        .await?
        .ok_or(Error::NotFound)?;
    let state = if s.state == "submitted" && db::review::assignee(&app.db, id).await?.is_some() {
        "under_review".to_string()
    } else {
        s.state.clone()
    };
    let files = db::submissions::files(&app.db, scope, id).await?;
    Ok(SubmissionDetail {
        summary: SummaryRow {
            id: s.id,
            kind: s.kind,
            location_id: s.location_id,
            state,
            version: s.version,
            receipt_no: s.receipt_no,
            submitted_at: s.submitted_at,
        },
        data: serde_json::from_str(&s.data).unwrap_or_default(),
        files,
    })
}

//! Follow-up between the Center and an organisation: improvement instructions (改善措置の
//! 指示) — issued, answered with a corrective-action report, extended or not, closed or
//! reopened, every step kept — and requests (提出依頼) for items 5 and 6 with their windows.

mod instructions;
mod requests;

pub use instructions::{
    AnswerInput, ExtensionInput, InstructionAction, InstructionInput, Issued, StepInput, Stepped,
    answer, ask_extension, decide, issue, org_side,
};
pub use requests::{RequestInput, issue_request, withdraw_request};

use uuid::Uuid;

use super::{Actor, App, Error};
pub use crate::db::followup::{InstructionFile, InstructionRow, RequestRow};
use crate::db::{self, followup::EventRow};
use crate::domain::{Role, Scope, dates::today};

/// The roles that issue and decide follow-up.
pub const CENTER: [Role; 2] = [Role::Reviewer, Role::CenterAdmin];

/// The most rows a follow-up list holds (exports take everything).
pub const LIST_LIMIT: i64 = 500;

/// Items the Center may request (on-request items of the catalogue).
pub const REQUESTABLE: [&str; 2] = ["inhouse_measures", "gateway_logs"];

/// Whether an instruction is open past its due date (Japan time).
pub fn instruction_overdue(r: &InstructionRow) -> bool {
    r.state == "open" && r.due_date < today()
}

/// Whether a request is open past its due date (Japan time).
pub fn request_overdue(r: &RequestRow) -> bool {
    r.state == "open" && r.due_date < today()
}

/// What an organisation has been told: its instructions and requests, unclosed first.
#[derive(Debug, Clone, serde::Serialize)]
pub struct FollowUp {
    pub instructions: Vec<InstructionRow>,
    pub requests: Vec<RequestRow>,
    /// The requests answered most recently (the Center's list only).
    pub answered: Vec<RequestRow>,
    /// The instructions closed most recently (the Center's list only: closed ones leave the
    /// list above, and a reviewer may have to reopen one).
    pub closed: Vec<InstructionRow>,
}

/// The instructions and requests of one organisation within the actor's scope.
pub async fn of_org(app: &App, actor: &Actor, org_id: Uuid) -> Result<FollowUp, Error> {
    super::orgs::visible(app, actor, org_id).await?;
    Ok(FollowUp {
        instructions: db::followup::instructions(&app.db, Some(org_id), false, None, LIST_LIMIT)
            .await?,
        requests: db::followup::requests(&app.db, Some(org_id), false, LIST_LIMIT).await?,
        answered: vec![],
        closed: vec![],
    })
}

/// The open request for a place's report, if any (the period and window it asks for).
pub async fn open_request(
    app: &App,
    actor: &Actor,
    place: &super::submissions::Place,
) -> Result<Option<RequestRow>, Error> {
    super::structure::in_scope(actor, place.org)?;
    Ok(db::followup::open_request_for(&app.db, place.org, place.kind.as_str(), place.site).await?)
}

/// How many answered requests the Center's list shows.
const ANSWERED_LIMIT: i64 = 50;

/// Every unclosed instruction and open request of every organisation, by due date, and the
/// requests answered last (Center).
pub async fn of_center(app: &App, actor: &Actor) -> Result<FollowUp, Error> {
    if !actor.holds(&CENTER) {
        return Err(Error::Forbidden);
    }
    Ok(FollowUp {
        instructions: db::followup::instructions(&app.db, None, true, None, LIST_LIMIT).await?,
        requests: db::followup::requests(&app.db, None, true, LIST_LIMIT).await?,
        answered: db::followup::answered_requests(&app.db, ANSWERED_LIMIT).await?,
        closed: db::followup::closed_instructions(&app.db, ANSWERED_LIMIT).await?,
    })
}

/// Instructions about one submission (Center): issued on it, and those still open on its item
/// and place (issued on an earlier version, which this one may answer).
pub async fn of_submission(
    app: &App,
    actor: &Actor,
    submission: Uuid,
) -> Result<Vec<InstructionRow>, Error> {
    if !actor.holds(&CENTER) {
        return Err(Error::Forbidden);
    }
    Ok(db::followup::of_report(&app.db, submission, LIST_LIMIT).await?)
}

/// The request (提出依頼) a submission answered, for Center staff.
pub async fn request_of_submission(
    app: &App,
    actor: &Actor,
    submission: Uuid,
) -> Result<Option<db::followup::RequestRow>, Error> {
    if !actor.holds(&CENTER) {
        return Err(Error::Forbidden);
    }
    Ok(db::followup::request_answered_by(&app.db, submission).await?)
}

/// One instruction with its history and corrective-action files.
#[derive(Debug, Clone, serde::Serialize)]
pub struct InstructionDetail {
    pub instruction: InstructionRow,
    /// Oldest first.
    pub events: Vec<EventRow>,
    pub files: Vec<InstructionFile>,
}

/// An instruction of the organisation within the actor's scope, with its history.
pub async fn instruction(
    app: &App,
    actor: &Actor,
    org_id: Uuid,
    id: Uuid,
) -> Result<InstructionDetail, Error> {
    super::orgs::visible(app, actor, org_id).await?;
    let scope = Scope::Org(org_id);
    let instruction = db::followup::instruction(&app.db, scope, id)
        .await?
        .ok_or(Error::NotFound)?;
    Ok(InstructionDetail {
        instruction,
        events: db::followup::events(&app.db, scope, id).await?,
        files: db::followup::files(&app.db, scope, id).await?,
    })
}

/// A corrective-action file of the organisation within the actor's scope.
pub async fn file(
    app: &App,
    actor: &Actor,
    org_id: Uuid,
    id: Uuid,
) -> Result<InstructionFile, Error> {
    super::orgs::visible(app, actor, org_id).await?;
    db::followup::file(&app.db, Scope::Org(org_id), id)
        .await?
        .ok_or(Error::NotFound)
}

/// A location id of the organisation (another organisation's: not found).
async fn own_location(app: &App, org_id: Uuid, id: Option<Uuid>) -> Result<Option<Uuid>, Error> {
    let Some(id) = id else { return Ok(None) };
    db::structure::get(&app.db, org_id, id)
        .await?
        .ok_or(Error::NotFound)?;
    Ok(Some(id))
}

/// After an issue found its form's key taken: the instruction or request that key names when
/// it is this organisation's (the same form pressed again, or posted twice at once: nothing
/// more is issued), else `None` (a key from elsewhere: the caller issues under a new id).
async fn pressed_again(
    tx: &mut crate::db::Tx,
    table: crate::db::followup::Keyed,
    org_id: Uuid,
    key: Option<Uuid>,
) -> Result<Option<Uuid>, Error> {
    let Some(key) = key else {
        return Ok(None);
    };
    Ok((crate::db::followup::keyed_org(tx, table, key).await? == Some(org_id)).then_some(key))
}

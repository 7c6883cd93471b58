//! Improvement instructions: issued by the Center, answered or extended by the organisation,
//! decided (extension granted or refused, closed, reopened) by the Center. Every step is a
//! guarded update at the version the actor saw: a stale page applies nothing.

use chrono::NaiveDate;
use uuid::Uuid;

use super::super::notify::{Notice, To, notify};
use super::super::{Actor, App, Error, FieldErrors};
use super::{CENTER, own_location};
use crate::db::followup::Keyed;
use crate::db::{
    self,
    followup::{InstructionRow, NewInstruction, Step},
};
use crate::domain::Scope;
use crate::domain::dates::{due, long_text};
use crate::files::Stored;

/// What [`issue`] takes; dates as typed.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct InstructionInput {
    /// The submission it follows from, if any.
    pub submission: Option<Uuid>,
    /// The catalogue item key.
    pub item_key: String,
    pub location: Option<Uuid>,
    pub problem: String,
    pub required_change: String,
    /// `YYYY-MM-DD`, today or later.
    pub due_date: String,
    /// The form's key ([`crate::app::submissions::submit_key`]): a second press of the same
    /// form answers the instruction the first one issued.
    pub key: Option<Uuid>,
}

/// What [`issue`] did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Issued {
    pub id: Uuid,
    pub org: Uuid,
}

/// The Center issues an improvement instruction to the organisation, with its audit entry
/// and the notice; the mail goes after commit.
pub async fn issue(
    app: &App,
    actor: &Actor,
    org_id: Uuid,
    input: &InstructionInput,
) -> Result<Issued, Error> {
    if !actor.holds(&CENTER) {
        return Err(Error::Forbidden);
    }
    super::super::orgs::visible(app, actor, org_id).await?;
    let catalogue = app.catalogue().await?;
    // The report it is about, when the form came from one: only while the item is that
    // report's (the item changed on the form, the instruction is about another item and is
    // not tied to the report it started from).
    let mut submission = None;
    if let Some(id) = input.submission {
        let s = db::submissions::get(&app.db, Scope::Org(org_id), id)
            .await?
            .ok_or(Error::NotFound)?;
        submission = (s.kind == input.item_key).then_some(id);
    }
    let location = own_location(app, org_id, input.location).await?;
    // The place it is about, named in its mail.
    let place = match location {
        Some(l) => db::structure::get(&app.db, org_id, l)
            .await?
            .map(|r| r.name),
        None => None,
    };
    let mut errors = FieldErrors::default();
    if !catalogue.items.iter().any(|i| i.key == input.item_key) {
        errors.add("item_key", "error.choose_one");
    }
    let problem = errors.take("problem", long_text(&input.problem, true));
    let change = errors.take("required_change", long_text(&input.required_change, true));
    let due_date = errors.take("due_date", due(&input.due_date));
    let (Some(problem), Some(change), Some(due_date), true) =
        (problem, change, due_date, errors.is_empty())
    else {
        return Err(Error::Invalid(errors));
    };
    let new = NewInstruction {
        org_id,
        submission_id: submission,
        item_key: &input.item_key,
        location_id: location,
        problem: &problem,
        required_change: &change,
        due_date,
        by: actor.id,
    };
    let mut tx = app.db.begin().await?;
    let id = match db::followup::issue(&mut tx, &new, input.key).await? {
        Some(id) => id,
        None => match super::pressed_again(&mut tx, Keyed::Instruction, org_id, input.key).await? {
            Some(id) => return Ok(Issued { id, org: org_id }),
            None => db::followup::issue(&mut tx, &new, None)
                .await?
                .ok_or(Error::Conflict("error.conflict.body"))?,
        },
    };
    let mut entry = actor.audit("instruction.issued", Some(org_id), id.to_string());
    entry.detail =
        serde_json::json!({ "item": input.item_key, "due": due_date, "submission": submission });
    db::audit::append(&mut tx, &entry).await?;
    let mail = notify(
        &mut tx,
        &app.config.base_url,
        To::Org(org_id),
        &Notice {
            kind: "instruction",
            message: "mail.instruction_issued",
            args: [
                item_args(app, &input.item_key, place.as_deref())
                    .await?
                    .to_vec(),
                vec![
                    ("due", due_date.to_string()),
                    ("problem", problem.clone()),
                    ("change", change.clone()),
                ],
            ]
            .concat(),
            link: format!("/orgs/{org_id}/instructions/{id}"),
        },
    )
    .await?;
    tx.commit().await?;
    mail.send(app);
    Ok(Issued { id, org: org_id })
}

/// The instruction's item with its place (when it is about one office or site), as each
/// language's part of a notice names it.
async fn item_args(
    app: &App,
    item_key: &str,
    place: Option<&str>,
) -> Result<[(&'static str, String); 2], Error> {
    let catalogue = app.catalogue().await?;
    let named = |lang: &str| {
        crate::i18n::paren(
            &catalogue.item_title(item_key, lang),
            place.unwrap_or_default(),
            lang,
        )
    };
    Ok([("item_ja", named("ja")), ("item_en", named("en"))])
}

/// What a step did: the history entry it wrote.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Stepped {
    pub instruction: Uuid,
    pub event: Uuid,
}

/// One step of an instruction with everything that goes with it.
struct Change<'a> {
    scope: Scope,
    version: i64,
    step: Step,
    body: &'a str,
    date: Option<NaiveDate>,
    /// Files of a corrective-action report, already in the store.
    files: &'a [Stored],
    detail: serde_json::Value,
    to: To,
    notice: Notice,
}

/// The audit action of a step.
fn action_of(step: Step) -> &'static str {
    match step {
        Step::Answer => "instruction.answered",
        Step::AskExtension => "instruction.extension_requested",
        Step::Grant => "instruction.extension_granted",
        Step::Refuse => "instruction.extension_refused",
        Step::Reopen => "instruction.reopened",
        Step::Close => "instruction.closed",
    }
}

/// Applies a step in one transaction — the history entry, the report's files, the audit
/// entry and the notice — then mails. A stale version (the instruction moved on) is a
/// conflict (`error.instruction_changed`) and applies nothing.
async fn apply(
    app: &App,
    actor: &Actor,
    (org_id, id): (Uuid, Uuid),
    c: Change<'_>,
) -> Result<Stepped, Error> {
    let mut tx = app.db.begin().await?;
    let Some((event, _)) = db::followup::step(
        &mut tx, c.scope, id, c.version, c.step, c.body, c.date, actor.id,
    )
    .await?
    else {
        return Err(Error::Conflict("error.instruction_changed"));
    };
    for f in c.files {
        db::followup::attach(&mut tx, org_id, id, event, f).await?;
    }
    let mut entry = actor.audit(action_of(c.step), Some(org_id), id.to_string());
    entry.detail = c.detail;
    db::audit::append(&mut tx, &entry).await?;
    let mail = notify(&mut tx, &app.config.base_url, c.to, &c.notice).await?;
    tx.commit().await?;
    mail.send(app);
    Ok(Stepped {
        instruction: id,
        event,
    })
}

/// The organisation's user acting on its own instruction (Center staff: forbidden).
pub async fn org_side(
    app: &App,
    actor: &Actor,
    org_id: Uuid,
    id: Uuid,
) -> Result<InstructionRow, Error> {
    super::super::orgs::visible(app, actor, org_id).await?;
    if actor.role.is_center() {
        return Err(Error::Forbidden);
    }
    db::followup::instruction(&app.db, Scope::Org(org_id), id)
        .await?
        .ok_or(Error::NotFound)
}

/// What [`answer`] takes: the corrective-action report and its files, already in the store
/// (a page streams them in while it reads the form; nothing records them until this step).
#[derive(Debug, Default)]
pub struct AnswerInput {
    /// The version the answer was written against (`None`: the current one).
    pub version: Option<i64>,
    pub body: String,
    pub files: Vec<Stored>,
}

/// The organisation answers an open instruction with a corrective-action report (required
/// text, `body`), files attached; the issuer hears of it.
pub async fn answer(
    app: &App,
    actor: &Actor,
    org_id: Uuid,
    id: Uuid,
    input: AnswerInput,
) -> Result<Stepped, Error> {
    let row = org_side(app, actor, org_id, id).await?;
    let text = long_text(&input.body, true).map_err(|k| Error::field("body", k))?;
    let detail = serde_json::json!({
        "files": input.files.iter().map(|s| serde_json::json!({ "name": s.name, "sha256": s.sha256, "size": s.size })).collect::<Vec<_>>()
    });
    let change = Change {
        scope: Scope::Org(org_id),
        version: input.version.unwrap_or(row.version),
        step: Step::Answer,
        body: &text,
        date: None,
        files: &input.files,
        detail,
        to: To::User(db::followup::issuer(&app.db, id).await?),
        notice: Notice {
            kind: "answered",
            message: "mail.instruction_answered",
            args: [
                vec![
                    ("org", row.org_name.clone()),
                    ("due", row.due_date.to_string()),
                ],
                item_args(app, &row.item_key, row.location_name.as_deref())
                    .await?
                    .to_vec(),
            ]
            .concat(),
            link: format!("/orgs/{org_id}/instructions/{id}"),
        },
    };
    apply(app, actor, (org_id, id), change).await
}

/// What [`ask_extension`] takes; the date as typed.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct ExtensionInput {
    pub version: i64,
    /// `YYYY-MM-DD`, after the current due date.
    pub until: String,
    pub reason: String,
}

/// The organisation asks for more time on an open instruction (one request at a time).
pub async fn ask_extension(
    app: &App,
    actor: &Actor,
    org_id: Uuid,
    id: Uuid,
    input: &ExtensionInput,
) -> Result<Stepped, Error> {
    let row = org_side(app, actor, org_id, id).await?;
    let mut errors = FieldErrors::default();
    let until = errors.take("until", due(&input.until));
    if until.is_some_and(|u| u <= row.due_date) {
        errors.add("until", "error.extension_not_later");
    }
    let reason = errors.take("reason", long_text(&input.reason, true));
    let (Some(until), Some(reason), true) = (until, reason, errors.is_empty()) else {
        return Err(Error::Invalid(errors));
    };
    let change = Change {
        scope: Scope::Org(org_id),
        version: input.version,
        step: Step::AskExtension,
        body: &reason,
        date: Some(until),
        files: &[],
        detail: serde_json::json!({ "until": until, "reason": reason }),
        to: To::User(db::followup::issuer(&app.db, id).await?),
        notice: Notice {
            kind: "extension",
            message: "mail.extension_requested",
            args: [
                vec![("org", row.org_name.clone()), ("until", until.to_string())],
                item_args(app, &row.item_key, row.location_name.as_deref())
                    .await?
                    .to_vec(),
            ]
            .concat(),
            link: format!("/orgs/{org_id}/instructions/{id}"),
        },
    };
    apply(app, actor, (org_id, id), change).await
}

/// What the Center decides on an instruction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InstructionAction {
    /// Grant the extension asked for (with the new due date).
    Grant,
    /// Refuse the extension.
    Refuse,
    /// Satisfied: close it.
    Close,
    /// Not satisfied after all: reopen it (reason required, a new due date optional).
    Reopen,
}

impl InstructionAction {
    /// From a form's value.
    pub fn parse(s: &str) -> Option<InstructionAction> {
        match s {
            "grant" => Some(InstructionAction::Grant),
            "refuse" => Some(InstructionAction::Refuse),
            "close" => Some(InstructionAction::Close),
            "reopen" => Some(InstructionAction::Reopen),
            _ => None,
        }
    }
}

/// What [`decide`] takes; the date as typed.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct StepInput {
    pub version: i64,
    /// `None` when the choice was not one of the four (invalid, field `action`).
    pub action: Option<InstructionAction>,
    #[serde(default)]
    pub date: String,
    #[serde(default)]
    pub reason: String,
}

/// The Center grants or refuses an extension, closes the instruction, or reopens it.
pub async fn decide(
    app: &App,
    actor: &Actor,
    org_id: Uuid,
    id: Uuid,
    input: &StepInput,
) -> Result<Stepped, Error> {
    if !actor.holds(&CENTER) {
        return Err(Error::Forbidden);
    }
    super::super::orgs::visible(app, actor, org_id).await?;
    let row = db::followup::instruction(&app.db, Scope::Org(org_id), id)
        .await?
        .ok_or(Error::NotFound)?;
    let step = match input.action {
        Some(InstructionAction::Grant) => Step::Grant,
        Some(InstructionAction::Refuse) => Step::Refuse,
        Some(InstructionAction::Close) => Step::Close,
        Some(InstructionAction::Reopen) => Step::Reopen,
        None => return Err(Error::field("action", "error.choose_one")),
    };
    let mut errors = FieldErrors::default();
    let date = match step {
        Step::Grant => errors.take("date", due(&input.date)),
        Step::Reopen if !input.date.trim().is_empty() => errors.take("date", due(&input.date)),
        // Reopened on a due date already past, it would be overdue the moment it is sent.
        Step::Reopen if row.due_date < crate::domain::dates::today() => {
            errors.add("date", "followup.error.reopen_due_passed");
            None
        }
        _ => None,
    };
    // A refusal and a re-instruction say why (the organisation is told it).
    let reason = errors.take("reason", long_text(&input.reason, false));
    if reason.as_ref().is_some_and(|r| r.is_empty()) {
        match step {
            Step::Refuse => errors.add("reason", "followup.error.refuse_reason"),
            Step::Reopen => errors.add("reason", "followup.error.reopen_reason"),
            _ => {}
        }
    }
    let Some(reason) = reason.filter(|_| errors.is_empty()) else {
        return Err(Error::Invalid(errors));
    };
    let (kind, message) = match step {
        Step::Grant => ("extension", "mail.extension_granted"),
        Step::Refuse => ("extension", "mail.extension_refused"),
        Step::Reopen => ("instruction", "mail.instruction_reopened"),
        _ => ("instruction", "mail.instruction_closed"),
    };
    let change = Change {
        scope: Scope::Center,
        version: input.version,
        step,
        body: &reason,
        date,
        files: &[],
        detail: serde_json::json!({ "reason": reason, "date": date }),
        to: To::Org(org_id),
        notice: Notice {
            kind,
            message,
            args: [
                vec![
                    ("due", date.unwrap_or(row.due_date).to_string()),
                    ("reason", reason.clone()),
                    // An optional comment, as a paragraph of its own when there is one.
                    (
                        "comment",
                        if reason.is_empty() {
                            String::new()
                        } else {
                            format!("\n\n{reason}")
                        },
                    ),
                ],
                item_args(app, &row.item_key, row.location_name.as_deref())
                    .await?
                    .to_vec(),
            ]
            .concat(),
            link: format!("/orgs/{org_id}/instructions/{id}"),
        },
    };
    apply(app, actor, (org_id, id), change).await
}

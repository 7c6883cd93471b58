//! Review (審査): the queue, a sealed submission as a reviewer reads it, taking it, the
//! decision, the comment thread and the note on a returned version, checking a printed
//! receipt. Revising a returned submission is `app::submissions::revise`.

mod bulk;
mod comments;
mod names;
mod queue;
mod sealed;
mod verify;

pub use bulk::{MAX_AT_ONCE, assign_many, assignees};
pub use comments::{
    Comment, ReturnNote, comment, comment_text, comments, return_note, returned_note,
};
pub use names::NameBook;
pub use queue::{
    QueueLine, QueuePage, QueueParams, ReceiptLookup, cursor_text, find_receipt, queue,
    queue_counts, queue_filter, queue_page,
};
pub use sealed::{DecisionOut, Sealed, SealedFile, Version, WaitingNext, next_waiting, sealed};
pub use verify::{Verification, verify_receipt};

pub use crate::db::queue::{Cursor, QueueFilter};

/// The time as the queue compares it (stored times keep microseconds).
pub fn now() -> chrono::DateTime<chrono::Utc> {
    crate::db::now()
}

use uuid::Uuid;

use super::notify::{Notice, To, notify};
use super::{Actor, App, Error, FieldErrors};
use crate::db;
use crate::domain::{Role, Scope};

/// The roles that review.
pub const REVIEWERS: [Role; 2] = [Role::Reviewer, Role::CenterAdmin];

/// A decision on a submission waiting for review.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// 受理
    Accepted,
    /// 差戻し (a reason is required)
    Returned,
}

impl Decision {
    /// The stored word.
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Accepted => "accepted",
            Decision::Returned => "returned",
        }
    }

    /// From the stored word or a form's value.
    pub fn parse(s: &str) -> Option<Decision> {
        match s {
            "accepted" => Some(Decision::Accepted),
            "returned" => Some(Decision::Returned),
            _ => None,
        }
    }
}

/// What [`decide`] takes.
#[derive(Debug, Clone)]
pub struct DecideInput {
    pub submission: Uuid,
    /// `None` when the form's choice was not one of the two.
    pub decision: Option<Decision>,
    pub reason: String,
    /// A canned reason (定型文) chosen: its text goes first, what was typed after it.
    pub canned: Option<Uuid>,
    /// The reviewer has seen that a newer report of the same item and place was sent since and
    /// accepts this one all the same; an acceptance asks for it only when there is one.
    pub newer_seen: bool,
}

/// What [`decide`] did.
#[derive(Debug, Clone)]
pub struct Decided {
    pub submission: Uuid,
    pub org: Uuid,
    pub decision: Decision,
}

/// Accepts or returns a submission waiting for review, with its audit entry and the notice to
/// the organisation in one transaction; the mail goes after commit. A second decision (by
/// anyone, at once or later) is a conflict (`error.already_decided`).
pub async fn decide(app: &App, actor: &Actor, input: DecideInput) -> Result<Decided, Error> {
    if !actor.holds(&REVIEWERS) {
        return Err(Error::Forbidden);
    }
    let mut reason = input.reason.trim().to_string();
    let mut errors = FieldErrors::default();
    if let Some(canned) = input.canned {
        match super::return_reasons::body(app, canned).await? {
            Some(body) if reason.is_empty() => reason = body,
            Some(body) => reason = format!("{body}\n\n{reason}"),
            None => errors.add("canned", "error.choose_one"),
        }
    }
    if input.decision.is_none() {
        errors.add("decision", "error.choose_one");
    }
    if input.decision == Some(Decision::Returned) && reason.is_empty() {
        errors.add("reason", "error.return_reason_required");
    }
    if reason.chars().count() > 4000 {
        errors.add("reason", "error.too_long");
    }
    let Some(decision) = input.decision.filter(|_| errors.is_empty()) else {
        return Err(Error::Invalid(errors));
    };
    let id = input.submission;
    let row = db::submissions::get(&app.db, Scope::Center, id)
        .await?
        .ok_or(Error::NotFound)?;
    let receipt = row.receipt_no.clone().unwrap_or_default();
    let catalogue = app.catalogue_revision(row.catalogue_revision).await?;
    // An acceptance says its note only when there is one.
    let note_ja = mail_note(crate::i18n::Lang::Ja, &reason);
    let note_en = mail_note(crate::i18n::Lang::En, &reason);
    // A report returned after a newer one of the same place was sent asks for no correction;
    // accepting one takes the reviewer's word that the newer one was seen.
    let newer = db::review::newer_report(&app.db, id).await?;
    if decision == Decision::Accepted && newer.is_some() && !input.newer_seen {
        let mut errors = FieldErrors::default();
        errors.add("newer_seen", "error.newer_seen_required");
        return Err(Error::Invalid(errors));
    }
    let mut tx = app.db.begin().await?;
    let org = match db::review::decide(&mut tx, id, decision.as_str(), &reason, actor.id).await {
        Ok(Some(org)) => org,
        // Decided meanwhile by someone else (or a concurrent insert hit the unique index).
        Ok(None) => return Err(Error::Conflict("error.already_decided")),
        Err(e) if db::is_unique_violation(&e) => {
            return Err(Error::Conflict("error.already_decided"));
        }
        Err(e) => return Err(e.into()),
    };
    let (action, message) = match (decision, &newer) {
        (Decision::Accepted, _) => ("submission.accepted", "mail.accepted"),
        (Decision::Returned, None) => ("submission.returned", "mail.returned"),
        (Decision::Returned, Some(_)) => ("submission.returned", "mail.returned_replaced"),
    };
    // The mail names the report's item and its place (one office's notice from another's),
    // in each language.
    let place = db::submissions::place_name(&mut tx, id)
        .await?
        .unwrap_or_default();
    let item =
        |lang: &str| crate::i18n::paren(&catalogue.item_title(&row.kind, lang), &place, lang);
    let (item_ja, item_en) = (item("ja"), item("en"));
    let mut entry = actor.audit(action, Some(org), id.to_string());
    entry.detail = serde_json::json!({ "reason": reason });
    db::audit::append(&mut tx, &entry).await?;
    let mail = notify(
        &mut tx,
        &app.config.base_url,
        To::Org(org),
        &Notice {
            kind: "decided",
            message,
            args: vec![
                ("receipt", receipt),
                ("reason", reason),
                ("item_ja", item_ja),
                ("item_en", item_en),
                ("note_ja", note_ja),
                ("note_en", note_en),
                (
                    "newer",
                    newer.and_then(|n| n.receipt_no).unwrap_or_default(),
                ),
            ],
            link: format!("/orgs/{org}/submissions/{id}/receipt"),
        },
    )
    .await?;
    tx.commit().await?;
    mail.send(app);
    Ok(Decided {
        submission: id,
        org,
        decision,
    })
}

/// Taking a waiting submission (担当) or putting it back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Assignment {
    /// "Assign to me".
    Take,
    /// Put back: a reviewer their own, a Center admin anyone's.
    Release,
}

impl Assignment {
    /// From a form's value.
    pub fn parse(s: &str) -> Option<Assignment> {
        match s {
            "take" => Some(Assignment::Take),
            "release" => Some(Assignment::Release),
            _ => None,
        }
    }
}

/// What [`assign`] did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Assigned {
    pub submission: Uuid,
    pub org: Uuid,
    /// Who has it now (`None`: nobody).
    pub assignee: Option<Uuid>,
}

/// Takes a waiting submission or puts it back, with its audit entry. `None` (a choice that
/// is neither) is invalid; a submission no longer waiting, or someone else's to put back, is
/// a conflict (`error.already_decided`).
pub async fn assign(
    app: &App,
    actor: &Actor,
    submission: Uuid,
    what: Option<Assignment>,
) -> Result<Assigned, Error> {
    if !actor.holds(&REVIEWERS) {
        return Err(Error::Forbidden);
    }
    let what = what.ok_or_else(|| Error::field("action", "error.choose_one"))?;
    let (to, only_from, action) = match what {
        Assignment::Take => (Some(actor.id), None, "submission.assigned"),
        Assignment::Release => (
            None,
            (actor.role != Role::CenterAdmin).then_some(actor.id),
            "submission.unassigned",
        ),
    };
    let mut tx = app.db.begin().await?;
    let Some(org) = db::review::assign(&mut tx, submission, to, only_from).await? else {
        return Err(Error::Conflict("error.already_decided"));
    };
    db::audit::append(
        &mut tx,
        &actor.audit(action, Some(org), submission.to_string()),
    )
    .await?;
    tx.commit().await?;
    Ok(Assigned {
        submission,
        org,
        assignee: to,
    })
}

/// An acceptance's note as a paragraph of its mail ("\n\n" and the labelled text), or nothing.
fn mail_note(lang: crate::i18n::Lang, reason: &str) -> String {
    if reason.trim().is_empty() {
        String::new()
    } else {
        format!(
            "\n\n{}",
            crate::i18n::Tr::new(lang).f("review.mail_accepted_note", &[("note", reason)])
        )
    }
}

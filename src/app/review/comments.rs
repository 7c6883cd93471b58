//! The comment thread of a sealed submission, between the Center and the organisation, and
//! the note above a revision telling why its previous version was returned.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::super::notify::{Notice, To, notify};
use super::super::{Actor, App, Error};
use crate::db;
use crate::domain::{Role, Scope};

/// The longest comment, in characters.
const COMMENT_MAX: usize = 4000;

/// A comment as read.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Comment {
    pub author: String,
    /// Written by Center staff (otherwise by the organisation).
    pub center: bool,
    pub body: String,
    pub at: DateTime<Utc>,
}

/// The thread of a submission within the scope, oldest first.
pub async fn comments(app: &App, scope: Scope, submission: Uuid) -> Result<Vec<Comment>, Error> {
    Ok(db::review::comments(&app.db, scope, submission)
        .await?
        .into_iter()
        .map(|c| Comment {
            author: c.author,
            center: Role::parse(&c.author_role).is_some_and(Role::is_center),
            body: c.body,
            at: c.created_at,
        })
        .collect())
}

/// A comment's text, trimmed: empty or over-long is invalid (`body`: `error.comment_required`
/// / `error.comment_too_long`).
pub fn comment_text(body: &str) -> Result<&str, Error> {
    let body = body.trim();
    if body.is_empty() {
        return Err(Error::field("body", "error.comment_required"));
    }
    if body.chars().count() > COMMENT_MAX {
        return Err(Error::field("body", "error.comment_too_long"));
    }
    Ok(body)
}

/// Posts a comment on a sealed submission (Center staff on any, an organisation on its own;
/// `org`, when given, must be the submission's organisation), with its audit entry; the other
/// side hears of it: the organisation, or the reviewer who took the submission. An empty or
/// over-long text is invalid (`body`: `error.comment_required` / `error.comment_too_long`).
pub async fn comment(
    app: &App,
    actor: &Actor,
    org: Option<Uuid>,
    submission: Uuid,
    body: &str,
) -> Result<(), Error> {
    let scope = match org {
        Some(org) => {
            super::super::orgs::visible(app, actor, org).await?;
            Scope::Org(org)
        }
        None => actor.scope(),
    };
    let receipt = db::submissions::get(&app.db, scope, submission)
        .await?
        .ok_or(Error::NotFound)?
        .receipt_no
        .unwrap_or_default();
    let body = comment_text(body)?;
    let author = super::super::users::name_of(app, actor.id).await?;
    let mut tx = app.db.begin().await?;
    let org = db::review::add_comment(&mut tx, scope, submission, actor.id, body)
        .await?
        .ok_or(Error::NotFound)?;
    db::audit::append(
        &mut tx,
        &actor.audit("submission.commented", Some(org), submission.to_string()),
    )
    .await?;
    // The queue's line says that the organisation's word waits for the Center's answer.
    if actor.role.is_center() {
        db::submissions::drop_flag(&mut tx, submission, crate::domain::flags::NOTE).await?;
    } else {
        db::submissions::add_flag(&mut tx, submission, crate::domain::flags::NOTE).await?;
    }
    let to = if actor.role.is_center() {
        Some((
            To::Org(org),
            format!("/orgs/{org}/submissions/{submission}/receipt#comments"),
        ))
    } else {
        db::review::assignee(&app.db, submission)
            .await?
            .map(|(u, _)| (To::User(u), format!("/review/{submission}#comments")))
    };
    // The organisation hears from the NACCS Center, never from a named reviewer.
    let (message, args) = match actor.role.is_center() {
        true => ("mail.comment_center", vec![("receipt", receipt)]),
        false => (
            "mail.comment",
            vec![("author", author), ("receipt", receipt)],
        ),
    };
    let mail = match to {
        Some((to, link)) => {
            notify(
                &mut tx,
                &app.config.base_url,
                to,
                &Notice {
                    kind: "comment",
                    message,
                    args,
                    link,
                },
            )
            .await?
        }
        None => Default::default(),
    };
    tx.commit().await?;
    mail.send(app);
    Ok(())
}

/// Why the version a draft revises was returned.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ReturnNote {
    /// The returned version.
    pub id: Uuid,
    pub receipt: String,
    pub reason: String,
    pub reviewer: String,
    pub at: DateTime<Utc>,
    pub comments: Vec<Comment>,
}

/// The return reason and comments of the version `draft` revises (`None`: not a revision).
pub async fn return_note(
    app: &App,
    org_id: Uuid,
    draft: Option<Uuid>,
) -> Result<Option<ReturnNote>, Error> {
    let Some(draft) = draft else { return Ok(None) };
    let Some(from) = db::review::revised_from(&app.db, org_id, draft).await? else {
        return Ok(None);
    };
    returned_note(app, org_id, from).await
}

/// The return reason and comments of the returned submission `from` of the organisation
/// (`None`: no decision on it).
pub async fn returned_note(
    app: &App,
    org_id: Uuid,
    from: Uuid,
) -> Result<Option<ReturnNote>, Error> {
    let Some(d) = db::review::decision(&app.db, Scope::Org(org_id), from).await? else {
        return Ok(None);
    };
    let receipt = db::submissions::get(&app.db, Scope::Org(org_id), from)
        .await?
        .and_then(|s| s.receipt_no)
        .unwrap_or_default();
    Ok(Some(ReturnNote {
        id: from,
        receipt,
        reason: d.reason,
        reviewer: d.reviewer,
        at: d.decided_at,
        comments: comments(app, Scope::Org(org_id), from).await?,
    }))
}

//! The in-app inbox: every notice a user was sent, reading them, and which kinds also come
//! by e-mail.

use uuid::Uuid;

use super::notify::{CENTER_KINDS, ORG_KINDS};
use super::{Actor, App, Error};
use crate::db::{self, notifications::NoticeRow};

/// The most notices the inbox lists.
const INBOX_LIMIT: i64 = 200;

/// The kinds of notice the actor can receive.
pub fn kinds_for(actor: &Actor) -> &'static [&'static str] {
    if actor.role.is_center() {
        &CENTER_KINDS
    } else {
        &ORG_KINDS
    }
}

/// The actor's inbox, newest first.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Inbox {
    pub notices: Vec<NoticeRow>,
    /// The kinds that do not come by e-mail.
    pub mail_off: Vec<String>,
}

/// The actor's notices and mail preferences.
pub async fn inbox(app: &App, actor: &Actor) -> Result<Inbox, Error> {
    Ok(Inbox {
        mail_off: db::notifications::optouts(&app.db, actor.id).await?,
        notices: db::notifications::inbox(&app.db, actor.id, INBOX_LIMIT).await?,
    })
}

/// Marks one of the actor's notices read; answers the link it is about.
pub async fn open(app: &App, actor: &Actor, id: Uuid) -> Result<String, Error> {
    let mut tx = app.db.begin().await?;
    let link = db::notifications::mark_read(&mut tx, actor.id, Some(id))
        .await?
        .ok_or(Error::NotFound)?;
    tx.commit().await?;
    Ok(link)
}

/// Marks every notice of the actor read.
pub async fn read_all(app: &App, actor: &Actor) -> Result<(), Error> {
    let mut tx = app.db.begin().await?;
    db::notifications::mark_read(&mut tx, actor.id, None).await?;
    tx.commit().await?;
    Ok(())
}

/// Sets which kinds come by e-mail (`mail_on`: the kinds wanted; the others are turned off),
/// with its audit entry.
pub async fn set_mail(app: &App, actor: &Actor, mail_on: &[String]) -> Result<(), Error> {
    let off: Vec<&str> = kinds_for(actor)
        .iter()
        .copied()
        .filter(|k| !mail_on.iter().any(|on| on == k))
        .collect();
    let mut tx = app.db.begin().await?;
    db::notifications::set_optouts(&mut tx, actor.id, &off).await?;
    let mut entry = actor.audit("user.mail_preferences", actor.org_id, actor.id.to_string());
    entry.detail = serde_json::json!({ "mail_off": off });
    db::audit::append(&mut tx, &entry).await?;
    tx.commit().await?;
    Ok(())
}

//! Canned return reasons (差戻し理由の定型文): Center admins add, change and retire them
//! (each audited, each a conditional write); reviewers read the ones in use on the decision
//! form.

use uuid::Uuid;

use super::review::REVIEWERS;
use super::{Actor, App, Error, FieldErrors};
use crate::db::{self, return_reasons::ReasonRow};
use crate::domain::{Role, dates::long_text};

/// A canned reason.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Reason {
    pub id: Uuid,
    /// What the decision form's choice shows.
    pub title: String,
    /// The text it puts into the reason.
    pub body: String,
    pub active: bool,
    /// The version to change it from.
    pub version: i64,
}

impl From<ReasonRow> for Reason {
    fn from(r: ReasonRow) -> Self {
        Reason {
            id: r.id,
            title: r.title,
            body: r.body,
            active: r.active,
            version: r.version,
        }
    }
}

/// A reason as typed.
#[derive(Debug, Clone, Default)]
pub struct ReasonInput {
    pub title: String,
    pub body: String,
}

impl ReasonInput {
    /// The title (1–100 characters) and the body (1–4,000), trimmed.
    fn checked(&self) -> Result<(String, String), Error> {
        let mut errors = FieldErrors::default();
        let title = self.title.trim().to_string();
        if title.is_empty() {
            errors.add("title", "error.required");
        } else if title.chars().count() > 100 {
            errors.add("title", "error.too_long");
        }
        let body = long_text(&self.body, true).unwrap_or_else(|key| {
            errors.add("body", key);
            String::new()
        });
        if errors.is_empty() {
            Ok((title, body))
        } else {
            Err(Error::Invalid(errors))
        }
    }
}

fn admin(actor: &Actor) -> Result<(), Error> {
    if actor.holds(&[Role::CenterAdmin]) {
        Ok(())
    } else {
        Err(Error::Forbidden)
    }
}

/// The reasons in use, by title (reviewers and Center admins); with `retired`, the retired
/// ones after them (Center admins).
pub async fn list(app: &App, actor: &Actor, retired: bool) -> Result<Vec<Reason>, Error> {
    if retired {
        admin(actor)?;
    } else if !actor.holds(&REVIEWERS) {
        return Err(Error::Forbidden);
    }
    Ok(db::return_reasons::list(&app.db, retired)
        .await?
        .into_iter()
        .map(Reason::from)
        .collect())
}

/// The text a reason in use puts into a decision (`None`: no such reason in use).
pub async fn body(app: &App, id: Uuid) -> Result<Option<String>, Error> {
    Ok(db::return_reasons::active(&app.db, id)
        .await?
        .map(|r| r.body))
}

/// A title in use already is an error on the title.
fn taken(e: sqlx::Error) -> Error {
    if db::is_unique_violation(&e) {
        Error::field("title", "reasons.title_taken")
    } else {
        e.into()
    }
}

/// Adds a reason (Center admins), audited.
pub async fn add(app: &App, actor: &Actor, input: &ReasonInput) -> Result<Uuid, Error> {
    admin(actor)?;
    let (title, body) = input.checked()?;
    let mut tx = app.db.begin().await?;
    let id = db::return_reasons::add(&mut tx, &title, &body)
        .await
        .map_err(taken)?;
    let mut entry = actor.audit("return_reason.added", None, id.to_string());
    entry.detail = serde_json::json!({ "title": title });
    db::audit::append(&mut tx, &entry).await?;
    tx.commit().await?;
    Ok(id)
}

/// Changes a reason in use from the version the admin saw (Center admins), audited; a reason
/// changed or retired meanwhile is a conflict.
pub async fn edit(
    app: &App,
    actor: &Actor,
    id: Uuid,
    version: i64,
    input: &ReasonInput,
) -> Result<(), Error> {
    admin(actor)?;
    let (title, body) = input.checked()?;
    let mut tx = app.db.begin().await?;
    if !db::return_reasons::edit(&mut tx, id, version, &title, &body)
        .await
        .map_err(taken)?
    {
        return Err(Error::Conflict("error.conflict.body"));
    }
    let mut entry = actor.audit("return_reason.changed", None, id.to_string());
    entry.detail = serde_json::json!({ "title": title });
    db::audit::append(&mut tx, &entry).await?;
    tx.commit().await?;
    Ok(())
}

/// Retires a reason in use from the version the admin saw (Center admins), audited; it stays
/// in the list of retired ones.
pub async fn retire(app: &App, actor: &Actor, id: Uuid, version: i64) -> Result<(), Error> {
    admin(actor)?;
    let mut tx = app.db.begin().await?;
    let Some(title) = db::return_reasons::retire(&mut tx, id, version).await? else {
        return Err(Error::Conflict("error.conflict.body"));
    };
    let mut entry = actor.audit("return_reason.retired", None, id.to_string());
    entry.detail = serde_json::json!({ "title": title });
    db::audit::append(&mut tx, &entry).await?;
    tx.commit().await?;
    Ok(())
}

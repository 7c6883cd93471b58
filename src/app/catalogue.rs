//! The requirement catalogue (要件カタログ): revisions, publishing a new one (titles,
//! explanations, applicable connection forms, renewal periods), comparing two.

use std::sync::Arc;

use super::{Actor, App, Error, FieldErrors};
use crate::db;
pub use crate::db::catalogue::{Catalogue, RevisionRow};
use crate::domain::Role;
use crate::domain::catalogue::{self, ConnectionForm, ItemChange};

/// The roles that read the catalogue's history.
pub const READERS: [Role; 2] = [Role::CenterAdmin, Role::Reviewer];

/// A published revision (an unknown number: not found).
pub async fn revision(app: &App, rev: i64) -> Result<Arc<Catalogue>, Error> {
    let c = app.catalogue_revision(rev).await?;
    if c.items.is_empty() {
        return Err(Error::NotFound);
    }
    Ok(c)
}

/// Every published revision, newest first (Center staff).
pub async fn revisions(app: &App, actor: &Actor) -> Result<Vec<RevisionRow>, Error> {
    if !actor.holds(&READERS) {
        return Err(Error::Forbidden);
    }
    Ok(db::catalogue::revisions(&app.db).await?)
}

/// What changed between two revisions (Center staff).
pub async fn diff(app: &App, actor: &Actor, from: i64, to: i64) -> Result<Vec<ItemChange>, Error> {
    if !actor.holds(&READERS) {
        return Err(Error::Forbidden);
    }
    let (a, b) = (revision(app, from).await?, revision(app, to).await?);
    Ok(catalogue::diff(&a.items, &b.items))
}

/// One item as edited; fields as typed.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct ItemEdit {
    pub key: String,
    pub title_ja: String,
    pub title_en: String,
    pub explanation_ja: String,
    pub explanation_en: String,
    /// The connection forms it applies to.
    pub forms: Vec<String>,
    /// Days until it is due again (empty: only on change).
    pub renewal_days: String,
}

/// What [`publish`] takes.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct PublishInput {
    /// The revision the edit started from; another than the current one is a conflict.
    pub base: Option<i64>,
    pub note: String,
    /// Every item of the current revision (one missing reads as emptied).
    pub items: Vec<ItemEdit>,
}

/// What [`publish`] did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Published {
    pub from: i64,
    pub revision: i64,
}

/// A Center admin publishes a new revision built from the current one and the edit, with
/// its audit entry. Errors by field (`<key>.<field>`, `note`, `_form` when nothing changed
/// or the result is not a valid catalogue); an edit of an older revision is a conflict
/// (it would silently undo someone's change).
pub async fn publish(app: &App, actor: &Actor, input: &PublishInput) -> Result<Published, Error> {
    let (current, items, note) = edited(app, actor, input).await?;
    let mut tx = app.db.begin().await?;
    let rev = db::catalogue::publish(&mut tx, &items, &note, &actor.email).await?;
    let mut entry = actor.audit("catalogue.published", None, format!("revision {rev}"));
    entry.detail = serde_json::json!({ "note": note, "changed": catalogue::diff(&current.items, &items).into_iter().map(|c| c.key).collect::<Vec<_>>() });
    db::audit::append(&mut tx, &entry).await?;
    tx.commit().await?;
    Ok(Published {
        from: current.revision,
        revision: rev,
    })
}

/// What publishing the edit would change, checked as [`publish`] checks it; nothing is stored.
pub async fn preview(
    app: &App,
    actor: &Actor,
    input: &PublishInput,
) -> Result<Vec<ItemChange>, Error> {
    let (current, items, _) = edited(app, actor, input).await?;
    Ok(catalogue::diff(&current.items, &items))
}

/// The current revision, and the items and note of the edit made on it, checked (Center admin).
async fn edited(
    app: &App,
    actor: &Actor,
    input: &PublishInput,
) -> Result<(Arc<Catalogue>, Vec<catalogue::CatalogueItem>, String), Error> {
    if !actor.holds(&[Role::CenterAdmin]) {
        return Err(Error::Forbidden);
    }
    let current = app.catalogue().await?;
    if input.base != Some(current.revision) {
        return Err(Error::Conflict("error.conflict.body"));
    }
    let mut errors = FieldErrors::default();
    let mut items = vec![];
    let blank = ItemEdit::default();
    for it in &current.items {
        let edit = input
            .items
            .iter()
            .find(|e| e.key == it.key)
            .unwrap_or(&blank);
        let mut new = it.clone();
        for (field, max, typed, target) in [
            ("title_ja", 200, &edit.title_ja, &mut new.title_ja),
            ("title_en", 200, &edit.title_en, &mut new.title_en),
            (
                "explanation_ja",
                4000,
                &edit.explanation_ja,
                &mut new.explanation_ja,
            ),
            (
                "explanation_en",
                4000,
                &edit.explanation_en,
                &mut new.explanation_en,
            ),
        ] {
            let v = typed.trim().to_string();
            if v.is_empty() {
                errors.add(format!("{}.{field}", it.key), "error.required");
            } else if v.chars().count() > max {
                errors.add(format!("{}.{field}", it.key), "error.too_long");
            }
            *target = v;
        }
        new.forms = ConnectionForm::ALL
            .into_iter()
            .filter(|f| edit.forms.iter().any(|e| e == f.as_str()))
            .collect();
        if new.forms.is_empty() {
            errors.add(format!("{}.forms", it.key), "error.forms_required");
        }
        let renewal = edit.renewal_days.trim();
        new.renewal_days = if renewal.is_empty() {
            None
        } else {
            match renewal.parse::<i64>() {
                Ok(d) if (1..=3650).contains(&d) => Some(d),
                _ => {
                    errors.add(format!("{}.renewal_days", it.key), "error.renewal_invalid");
                    None
                }
            }
        };
        items.push(new);
    }
    let note = input.note.trim().to_string();
    if note.is_empty() || note.chars().count() > 500 {
        errors.add("note", "error.required");
    }
    if errors.is_empty() && catalogue::diff(&current.items, &items).is_empty() {
        errors.add("_form", "error.catalogue_unchanged");
    }
    if errors.is_empty()
        && let Err(e) = catalogue::validate(&items)
    {
        tracing::warn!(error = %e, "catalogue edit refused");
        errors.add("_form", "error.catalogue_invalid");
    }
    if !errors.is_empty() {
        return Err(Error::Invalid(errors));
    }
    Ok((current, items, note))
}

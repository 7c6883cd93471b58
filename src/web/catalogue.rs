//! The requirement catalogue for the Center: browse revisions, publish a new one (titles,
//! explanations, applicable connection forms, renewal periods), and compare two revisions.

use std::collections::HashMap;
use std::sync::Arc;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use super::ctx::{CsrfForm, Ctx, CurrentUser};
use super::error::{AppError, AppResult};
use super::forms::FieldErrors;
use super::page::{Page, jst, redirect_with_flash, render};
use super::state::AppState;
use crate::db;
use crate::domain::Role;
use crate::domain::catalogue::{self, CatalogueItem, ConnectionForm, ItemChange};

/// A revision as the list shows it.
pub struct RevisionItem {
    pub revision: i64,
    pub at: String,
    pub by: String,
    pub note: String,
}

#[derive(Template)]
#[template(path = "catalogue/show.html")]
struct ShowView {
    page: Page,
    revision: i64,
    current: i64,
    revisions: Vec<RevisionItem>,
    items: Vec<CatalogueItem>,
    can_publish: bool,
}

#[derive(Deserialize, Default)]
pub struct RevQuery {
    #[serde(default)]
    rev: Option<i64>,
}

async fn revision_or_404(
    state: &AppState,
    rev: i64,
) -> AppResult<std::sync::Arc<db::catalogue::Catalogue>> {
    let c = state.catalogue_revision(rev).await?;
    if c.items.is_empty() {
        return Err(AppError::NotFound);
    }
    Ok(c)
}

/// `GET /admin/catalogue?rev=N`
pub async fn show(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Query(q): Query<RevQuery>,
) -> AppResult<Response> {
    me.require(&[Role::CenterAdmin, Role::Reviewer])?;
    let current = state.catalogue().await?;
    let shown = match q.rev {
        Some(r) => revision_or_404(&state, r).await?,
        None => current.clone(),
    };
    let revisions = db::catalogue::revisions(&state.db)
        .await?
        .into_iter()
        .map(|r| RevisionItem {
            revision: r.revision,
            at: jst(&r.published_at),
            by: r.published_by,
            note: r.note,
        })
        .collect();
    let view = ShowView {
        page: Page::new(&ctx, Some(&me)),
        revision: shown.revision,
        current: current.revision,
        revisions,
        items: shown.items.clone(),
        can_publish: me.role == Role::CenterAdmin,
    };
    render(StatusCode::OK, &view)
}

/// One item in the edit form.
pub struct EditItem {
    pub key: String,
    pub number: String,
    pub title_ja: String,
    pub title_en: String,
    pub explanation_ja: String,
    pub explanation_en: String,
    pub forms: Vec<(ConnectionForm, bool)>,
    pub renewal_days: String,
}

#[derive(Template)]
#[template(path = "catalogue/edit.html")]
struct EditView {
    page: Page,
    base: i64,
    items: Vec<EditItem>,
    note: String,
    errors: FieldErrors,
}

fn edit_items(items: &[CatalogueItem], input: Option<&HashMap<String, String>>) -> Vec<EditItem> {
    items
        .iter()
        .map(|it| {
            let get = |f: &str, default: String| match input {
                Some(i) => i
                    .get(&format!("{}.{f}", it.key))
                    .cloned()
                    .unwrap_or_default(),
                None => default,
            };
            EditItem {
                key: it.key.clone(),
                number: it.number.clone(),
                title_ja: get("title_ja", it.title_ja.clone()),
                title_en: get("title_en", it.title_en.clone()),
                explanation_ja: get("explanation_ja", it.explanation_ja.clone()),
                explanation_en: get("explanation_en", it.explanation_en.clone()),
                forms: ConnectionForm::ALL
                    .into_iter()
                    .map(|f| {
                        let on = match input {
                            Some(i) => i.contains_key(&format!("{}.form.{}", it.key, f.as_str())),
                            None => it.forms.contains(&f),
                        };
                        (f, on)
                    })
                    .collect(),
                renewal_days: get(
                    "renewal_days",
                    it.renewal_days.map(|d| d.to_string()).unwrap_or_default(),
                ),
            }
        })
        .collect()
}

/// `GET /admin/catalogue/edit`
pub async fn edit_page(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
) -> AppResult<Response> {
    me.require(&[Role::CenterAdmin])?;
    let current = state.catalogue().await?;
    let view = EditView {
        page: Page::new(&ctx, Some(&me)),
        base: current.revision,
        items: edit_items(&current.items, None),
        note: String::new(),
        errors: FieldErrors::default(),
    };
    render(StatusCode::OK, &view)
}

/// `POST /admin/catalogue`: publishes a new revision built from the current one and the form.
pub async fn publish(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    CsrfForm(input): CsrfForm<HashMap<String, String>>,
) -> AppResult<Response> {
    me.require(&[Role::CenterAdmin])?;
    let current = state.catalogue().await?;
    // Editing an older revision than the current one would silently undo someone's change.
    if input.get("base").and_then(|b| b.parse::<i64>().ok()) != Some(current.revision) {
        return Err(AppError::Conflict);
    }
    let mut errors = FieldErrors::default();
    let mut items = vec![];
    for it in &current.items {
        let get = |f: &str| {
            input
                .get(&format!("{}.{f}", it.key))
                .map(|s| s.trim().to_string())
                .unwrap_or_default()
        };
        let mut new = it.clone();
        for (field, max, target) in [
            ("title_ja", 200, &mut new.title_ja),
            ("title_en", 200, &mut new.title_en),
            ("explanation_ja", 4000, &mut new.explanation_ja),
            ("explanation_en", 4000, &mut new.explanation_en),
        ] {
            let v = get(field);
            if v.is_empty() {
                errors.add(format!("{}.{field}", it.key), "error.required");
            } else if v.chars().count() > max {
                errors.add(format!("{}.{field}", it.key), "error.too_long");
            }
            *target = v;
        }
        new.forms = ConnectionForm::ALL
            .into_iter()
            .filter(|f| input.contains_key(&format!("{}.form.{}", it.key, f.as_str())))
            .collect();
        if new.forms.is_empty() {
            errors.add(format!("{}.forms", it.key), "error.forms_required");
        }
        let renewal = get("renewal_days");
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
    let note = input
        .get("note")
        .map(|s| s.trim().to_string())
        .unwrap_or_default();
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
        let view = EditView {
            page: Page::new(&ctx, Some(&me)),
            base: current.revision,
            items: edit_items(&current.items, Some(&input)),
            note,
            errors,
        };
        return render(StatusCode::UNPROCESSABLE_ENTITY, &view);
    }
    let mut tx = state.db.begin().await?;
    let rev = db::catalogue::publish(&mut tx, &items, &note, &me.email).await?;
    let mut entry = me.audit(&ctx, "catalogue.published", None, format!("revision {rev}"));
    entry.detail = serde_json::json!({ "note": note, "changed": catalogue::diff(&current.items, &items).into_iter().map(|c| c.key).collect::<Vec<_>>() });
    db::audit::append(&mut tx, &entry).await?;
    tx.commit().await?;
    Ok(redirect_with_flash(
        &format!("/admin/catalogue/diff?from={}&to={rev}", current.revision),
        "flash.catalogue_published",
        state.cookies.secure,
    ))
}

#[derive(Template)]
#[template(path = "catalogue/diff.html")]
struct DiffView {
    page: Page,
    from: i64,
    to: i64,
    changes: Vec<ItemChange>,
}

#[derive(Deserialize, Default)]
pub struct DiffQuery {
    #[serde(default)]
    from: Option<i64>,
    #[serde(default)]
    to: Option<i64>,
}

/// `GET /admin/catalogue/diff?from=A&to=B`: what changed between two revisions.
pub async fn diff(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Query(q): Query<DiffQuery>,
) -> AppResult<Response> {
    me.require(&[Role::CenterAdmin, Role::Reviewer])?;
    let current = state.catalogue().await?.revision;
    let to = q.to.unwrap_or(current);
    let from = q.from.unwrap_or(to - 1);
    let (a, b) = (
        revision_or_404(&state, from).await?,
        revision_or_404(&state, to).await?,
    );
    let view = DiffView {
        page: Page::new(&ctx, Some(&me)),
        from,
        to,
        changes: catalogue::diff(&a.items, &b.items),
    };
    render(StatusCode::OK, &view)
}

//! The requirement catalogue for the Center: browse revisions, publish a new one (titles,
//! explanations, applicable connection forms, renewal periods), and compare two revisions.

use std::collections::HashMap;
use std::sync::Arc;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use crate::app::{
    self,
    catalogue::{ItemEdit, PublishInput, READERS},
};
use crate::domain::Role;
use crate::domain::catalogue::{CatalogueItem, ConnectionForm, ItemChange};
use crate::web::ctx::{CsrfForm, Ctx, CurrentUser};
use crate::web::error::AppResult;
use crate::web::forms::FieldErrors;
use crate::web::page::{Page, jst, redirect_with_flash, render};
use crate::web::state::AppState;

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

/// `GET /admin/catalogue?rev=N`
pub async fn show(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Query(q): Query<RevQuery>,
) -> AppResult<Response> {
    me.require(&READERS)?;
    let current = state.catalogue().await?;
    let shown = match q.rev {
        Some(r) => app::catalogue::revision(&state, r).await?,
        None => current.clone(),
    };
    let revisions = app::catalogue::revisions(&state, &me.actor(&ctx))
        .await?
        .into_iter()
        .map(|r| RevisionItem {
            revision: r.revision,
            at: jst(&r.published_at),
            by: if r.published_by == crate::db::catalogue::BUNDLED {
                ctx.tr().t("catalogue.by_bundled").to_string()
            } else {
                r.published_by
            },
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
    /// What publishing the form would change, once the admin asked to see it.
    preview: Option<Vec<ItemChange>>,
    lang: &'static str,
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
        preview: None,
        lang: ctx.tr().code(),
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
    let current = state.catalogue().await?;
    let get = |name: String| {
        input
            .get(&name)
            .map(|s| s.trim().to_string())
            .unwrap_or_default()
    };
    let edit = PublishInput {
        base: input.get("base").and_then(|b| b.parse::<i64>().ok()),
        note: get("note".into()),
        items: current
            .items
            .iter()
            .map(|it| ItemEdit {
                key: it.key.clone(),
                title_ja: get(format!("{}.title_ja", it.key)),
                title_en: get(format!("{}.title_en", it.key)),
                explanation_ja: get(format!("{}.explanation_ja", it.key)),
                explanation_en: get(format!("{}.explanation_en", it.key)),
                forms: ConnectionForm::ALL
                    .into_iter()
                    .filter(|f| input.contains_key(&format!("{}.form.{}", it.key, f.as_str())))
                    .map(|f| f.as_str().to_string())
                    .collect(),
                renewal_days: get(format!("{}.renewal_days", it.key)),
            })
            .collect(),
    };
    // The form again, as typed, with its errors or with what publishing it would change.
    let form_again = |errors: FieldErrors, preview: Option<Vec<ItemChange>>| EditView {
        page: Page::new(&ctx, Some(&me)),
        base: current.revision,
        items: edit_items(&current.items, Some(&input)),
        note: edit.note.clone(),
        errors,
        preview,
        lang: ctx.tr().code(),
    };
    // 「変更内容を確認」 (the form's first button): what would change, nothing stored; only
    // the preview's 「新しい版を公開」 publishes.
    if input.get("action").is_none_or(|a| a != "publish") {
        return match app::catalogue::preview(&state, &me.actor(&ctx), &edit).await {
            Ok(changes) => render(
                StatusCode::OK,
                &form_again(FieldErrors::default(), Some(changes)),
            ),
            Err(app::Error::Invalid(errors)) => {
                render(StatusCode::UNPROCESSABLE_ENTITY, &form_again(errors, None))
            }
            Err(e) => Err(e.into()),
        };
    }
    match app::catalogue::publish(&state, &me.actor(&ctx), &edit).await {
        Ok(done) => Ok(redirect_with_flash(
            &format!(
                "/admin/catalogue/diff?from={}&to={}",
                done.from, done.revision
            ),
            "flash.catalogue_published",
            state.cookies.secure,
        )),
        Err(app::Error::Invalid(errors)) => {
            render(StatusCode::UNPROCESSABLE_ENTITY, &form_again(errors, None))
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "catalogue/diff.html")]
struct DiffView {
    page: Page,
    from: i64,
    to: i64,
    changes: Vec<ItemChange>,
    lang: &'static str,
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
    me.require(&READERS)?;
    let current = state.catalogue().await?.revision;
    let to = q.to.unwrap_or(current);
    let from = q.from.unwrap_or(to - 1);
    let changes = app::catalogue::diff(&state, &me.actor(&ctx), from, to).await?;
    let view = DiffView {
        page: Page::new(&ctx, Some(&me)),
        from,
        to,
        changes,
        lang: ctx.tr().code(),
    };
    render(StatusCode::OK, &view)
}

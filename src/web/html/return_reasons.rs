//! `/admin/return-reasons`: the canned return reasons (差戻し理由の定型文) Center admins keep
//! for the decision form (the use cases are `app::return_reasons`).

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use uuid::Uuid;

use crate::app::{self, return_reasons::ReasonInput};
use crate::web::ctx::{CsrfForm, Ctx, CurrentUser};
use crate::web::error::AppResult;
use crate::web::forms::FieldErrors;
use crate::web::page::{Page, redirect_with_flash, render};
use crate::web::state::AppState;

const PATH: &str = "/admin/return-reasons";

/// A reason as listed (and, for the one refused, as typed).
struct ReasonItem {
    id: Uuid,
    title: String,
    body: String,
    active: bool,
    version: i64,
    errors: FieldErrors,
}

#[derive(Template)]
#[template(path = "review/reasons.html")]
struct ReasonsView {
    page: Page,
    reasons: Vec<ReasonItem>,
    /// The new reason's form, as typed after a refusal.
    new_title: String,
    new_body: String,
    errors: FieldErrors,
    /// The review the admin came from (its page's link to register reasons): the way back.
    from: Option<Uuid>,
    /// `?from=…` for the page's forms (empty without one).
    from_query: String,
}

/// `?from=<submission>`: the review page that sent the admin here.
#[derive(Deserialize, Default)]
pub struct FromQuery {
    #[serde(default)]
    from: String,
}

impl FromQuery {
    fn review(&self) -> Option<Uuid> {
        self.from.parse().ok()
    }
}

/// What a refused form puts back on the page.
enum Refused {
    None,
    New(ReasonForm, FieldErrors),
    Edit(Uuid, ReasonForm, FieldErrors),
}

async fn view(
    state: &AppState,
    ctx: &Ctx,
    me: &CurrentUser,
    from: &FromQuery,
    refused: Refused,
) -> AppResult<ReasonsView> {
    let reasons = app::return_reasons::list(state, &me.actor(ctx), true).await?;
    let mut out = ReasonsView {
        page: Page::new(ctx, Some(me)),
        reasons: reasons
            .into_iter()
            .map(|r| ReasonItem {
                id: r.id,
                title: r.title,
                body: r.body,
                active: r.active,
                version: r.version,
                errors: FieldErrors::default(),
            })
            .collect(),
        new_title: String::new(),
        new_body: String::new(),
        errors: FieldErrors::default(),
        from: from.review(),
        from_query: from
            .review()
            .map(|id| format!("?from={id}"))
            .unwrap_or_default(),
    };
    match refused {
        Refused::None => {}
        Refused::New(form, errors) => {
            out.new_title = form.title;
            out.new_body = form.body;
            out.errors = errors;
        }
        Refused::Edit(id, form, errors) => {
            if let Some(r) = out.reasons.iter_mut().find(|r| r.id == id) {
                r.title = form.title;
                r.body = form.body;
                r.errors = errors;
            }
        }
    }
    Ok(out)
}

/// Back to the page (still knowing the review it was opened from), with a message.
fn back(state: &AppState, from: &FromQuery, flash: &str) -> Response {
    let to = match from.review() {
        Some(id) => format!("{PATH}?from={id}"),
        None => PATH.to_string(),
    };
    redirect_with_flash(&to, flash, state.cookies.secure)
}

/// `GET /admin/return-reasons`
pub async fn page(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Query(from): Query<FromQuery>,
) -> AppResult<Response> {
    render(
        StatusCode::OK,
        &view(&state, &ctx, &me, &from, Refused::None).await?,
    )
}

#[derive(Deserialize)]
pub struct ReasonForm {
    #[serde(default)]
    title: String,
    #[serde(default)]
    body: String,
    #[serde(default)]
    version: i64,
    /// The retire button's "yes, retire it" box.
    #[serde(default)]
    confirm: String,
}

impl ReasonForm {
    fn input(&self) -> ReasonInput {
        ReasonInput {
            title: self.title.clone(),
            body: self.body.clone(),
        }
    }
}

/// `POST /admin/return-reasons`: adds a reason.
pub async fn add(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Query(from): Query<FromQuery>,
    CsrfForm(form): CsrfForm<ReasonForm>,
) -> AppResult<Response> {
    match app::return_reasons::add(&state, &me.actor(&ctx), &form.input()).await {
        Ok(_) => Ok(back(&state, &from, "flash.reason_added")),
        Err(app::Error::Invalid(errors)) => render(
            StatusCode::UNPROCESSABLE_ENTITY,
            &view(&state, &ctx, &me, &from, Refused::New(form, errors)).await?,
        ),
        Err(e) => Err(e.into()),
    }
}

/// `POST /admin/return-reasons/{id}`: changes a reason.
pub async fn edit(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Path(id): Path<Uuid>,
    Query(from): Query<FromQuery>,
    CsrfForm(form): CsrfForm<ReasonForm>,
) -> AppResult<Response> {
    let (actor, input) = (me.actor(&ctx), form.input());
    match app::return_reasons::edit(&state, &actor, id, form.version, &input).await {
        Ok(()) => Ok(back(&state, &from, "flash.reason_saved")),
        Err(app::Error::Invalid(errors)) => render(
            StatusCode::UNPROCESSABLE_ENTITY,
            &view(&state, &ctx, &me, &from, Refused::Edit(id, form, errors)).await?,
        ),
        Err(app::Error::Conflict(_)) => Ok(back(&state, &from, "flash.reason_moved")),
        Err(e) => Err(e.into()),
    }
}

/// `POST /admin/return-reasons/{id}/retire`: retires a reason.
pub async fn retire(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Path(id): Path<Uuid>,
    Query(from): Query<FromQuery>,
    CsrfForm(form): CsrfForm<ReasonForm>,
) -> AppResult<Response> {
    if form.confirm != "yes" {
        return Ok(back(&state, &from, "flash.reason_confirm"));
    }
    match app::return_reasons::retire(&state, &me.actor(&ctx), id, form.version).await {
        Ok(()) => Ok(back(&state, &from, "flash.reason_retired")),
        Err(app::Error::Conflict(_)) => Ok(back(&state, &from, "flash.reason_moved")),
        Err(e) => Err(e.into()),
    }
}

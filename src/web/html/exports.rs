//! The Center's export page and downloads: the form, its problems in words, and the file
//! streamed as it is written (the use case is `app::exports`).

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;

use crate::app::{
    self,
    exports::{DATASETS, EXPORTERS, ExportInput, STATES},
};
use crate::domain::export::Format;
use crate::web::ctx::{Ctx, CurrentUser};
use crate::web::download;
use crate::web::error::AppResult;
use crate::web::page::{Page, render};
use crate::web::state::AppState;

#[derive(Template)]
#[template(path = "exports/index.html")]
struct IndexView {
    page: Page,
    datasets: Vec<(&'static str, String)>,
    formats: Vec<(&'static str, String)>,
    items: Vec<(String, String)>,
    states: Vec<(&'static str, String)>,
    form: ExportInput,
    problems: Vec<String>,
}

async fn index_view(
    state: &AppState,
    ctx: &Ctx,
    me: &CurrentUser,
    form: ExportInput,
    problems: Vec<String>,
) -> AppResult<IndexView> {
    let t = ctx.tr();
    let catalogue = state.catalogue().await?;
    Ok(IndexView {
        page: Page::new(ctx, Some(me)),
        datasets: DATASETS
            .iter()
            .map(|d| (*d, t.t(&format!("export.dataset.{d}")).to_string()))
            .collect(),
        formats: Format::ALL
            .iter()
            .map(|f| {
                (
                    f.ext(),
                    t.t(&format!("export.format.{}", f.ext())).to_string(),
                )
            })
            .collect(),
        items: catalogue
            .items
            .iter()
            .map(|i| (i.key.clone(), catalogue.item_title(&i.key, t.code())))
            .collect(),
        states: STATES
            .iter()
            .map(|s| (*s, t.t(&format!("checklist.status.{s}")).to_string()))
            .collect(),
        form,
        problems,
    })
}

/// `GET /admin/exports`
pub async fn index(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
) -> AppResult<Response> {
    me.require(&EXPORTERS)?;
    let form = ExportInput {
        dataset: "submissions".into(),
        format: "csv".into(),
        ..ExportInput::default()
    };
    render(
        StatusCode::OK,
        &index_view(&state, &ctx, &me, form, vec![]).await?,
    )
}

/// `GET /admin/exports/file?dataset=…&format=…&from=…`: the form's download.
pub async fn download_form(
    state: State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Query(form): Query<ExportInput>,
) -> AppResult<Response> {
    export(state, ctx, me, form).await
}

/// `GET /admin/exports/{dataset}/{format}?from=…`: the file, recorded in the audit trail.
pub async fn download(
    state: State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Path((dataset, format)): Path<(String, String)>,
    Query(mut form): Query<ExportInput>,
) -> AppResult<Response> {
    form.dataset = dataset;
    form.format = format;
    export(state, ctx, me, form).await
}

async fn export(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    form: ExportInput,
) -> AppResult<Response> {
    let t = ctx.tr();
    let export = match app::exports::prepare(&state, &me.actor(&ctx), &form).await {
        Ok(e) => e,
        Err(app::Error::Invalid(errors)) => {
            // Each problem names its field.
            let problems = errors
                .iter()
                .map(|(field, key)| {
                    format!("{}: {}", t.t(&format!("export.filter.{field}")), t.t(key))
                })
                .collect();
            return render(
                StatusCode::UNPROCESSABLE_ENTITY,
                &index_view(&state, &ctx, &me, form, problems).await?,
            );
        }
        Err(e) => return Err(e.into()),
    };
    let (chunks, response) = download::attachment(export.mime(), &export.file_name);
    export.run(state.app.clone(), t, chunks).await?;
    Ok(response)
}

//! Exports for the Center: submissions with their decisions and target, every equipment row,
//! every antivirus computer with its flags, the administrators register, improvement
//! instructions and requests, as CSV (UTF-8 with BOM, opens in Excel), XLSX or JSON; narrowed
//! by period, organisation, item and state. Rows stream from the database to the client (see
//! `datasets` and `super::download`). Every export is an audit entry.

mod datasets;
mod out;

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{NaiveDate, TimeZone, Utc};
use tokio::sync::mpsc;

use super::ctx::{Ctx, CurrentUser};
use super::download::{self, ChannelWriter};
use super::error::{AppError, AppResult};
use super::page::{Page, render};
use super::state::AppState;
use crate::db::{self, exports::Filter};
use crate::domain::Role;
use crate::domain::export::{Format, Words};

pub use datasets::DATASETS;

/// The states a sealed submission can be in.
const STATES: [&str; 4] = ["submitted", "under_review", "accepted", "returned"];

/// The filter as typed in the form (every field optional).
#[derive(Debug, Default, Clone, serde::Deserialize)]
pub struct FilterForm {
    #[serde(default)]
    pub dataset: String,
    #[serde(default)]
    pub format: String,
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
    #[serde(default)]
    pub org: String,
    #[serde(default)]
    pub item: String,
    #[serde(default)]
    pub state: String,
    #[serde(default)]
    pub on: String,
}

#[derive(Template)]
#[template(path = "exports/index.html")]
struct IndexView {
    page: Page,
    datasets: Vec<(&'static str, String)>,
    formats: Vec<(&'static str, String)>,
    items: Vec<(String, String)>,
    states: Vec<(&'static str, String)>,
    form: FilterForm,
    problems: Vec<String>,
}

async fn index_view(
    state: &AppState,
    ctx: &Ctx,
    me: &CurrentUser,
    form: FilterForm,
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
    me.require(&[Role::Reviewer, Role::CenterAdmin])?;
    let form = FilterForm {
        dataset: "submissions".into(),
        format: "csv".into(),
        ..FilterForm::default()
    };
    render(
        StatusCode::OK,
        &index_view(&state, &ctx, &me, form, vec![]).await?,
    )
}

/// The start of a JST day as an instant.
fn jst_midnight(d: NaiveDate) -> chrono::DateTime<Utc> {
    Utc.from_utc_datetime(&d.and_time(chrono::NaiveTime::MIN)) - chrono::Duration::hours(9)
}

/// Checks the form; answers the filter or the problems, each naming its field.
async fn parse(
    state: &AppState,
    ctx: &Ctx,
    f: &FilterForm,
) -> AppResult<Result<Filter, Vec<String>>> {
    let t = ctx.tr();
    let mut problems = vec![];
    let mut problem = |field: &str, key: &str| {
        problems.push(format!(
            "{}: {}",
            t.t(&format!("export.filter.{field}")),
            t.t(key)
        ));
    };
    let date = |s: &str| NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok();
    let mut filter = Filter::default();
    let (from, to) = (f.from.trim(), f.to.trim());
    if !from.is_empty() {
        match date(from) {
            Some(d) => filter.from = Some(jst_midnight(d)),
            None => problem("from", "error.date_invalid"),
        }
    }
    if !to.is_empty() {
        match date(to) {
            Some(d) => filter.until = Some(jst_midnight(d + chrono::Duration::days(1))),
            None => problem("to", "error.date_invalid"),
        }
    }
    if let (Some(a), Some(b)) = (filter.from, filter.until)
        && b <= a
    {
        problem("to", "error.export_period_reversed");
    }
    if !f.on.trim().is_empty() {
        match date(&f.on) {
            Some(d) => filter.on = Some(d),
            None => problem("on", "error.date_invalid"),
        }
    }
    let code = f.org.trim();
    if !code.is_empty() {
        match db::exports::org_by_code(&state.db, code).await? {
            Some(id) => filter.org = Some(id),
            None => problem("org", "error.export_org_unknown"),
        }
    }
    let item = f.item.trim();
    if !item.is_empty() {
        if state.catalogue().await?.items.iter().any(|i| i.key == item) {
            filter.item = Some(item.to_string());
        } else {
            problem("item", "error.choose_one");
        }
    }
    let st = f.state.trim();
    if !st.is_empty() {
        if STATES.contains(&st) || ["open", "closed", "answered", "withdrawn"].contains(&st) {
            filter.state = Some(st.to_string());
        } else {
            problem("state", "error.choose_one");
        }
    }
    Ok(if problems.is_empty() {
        Ok(filter)
    } else {
        Err(problems)
    })
}

/// `GET /admin/exports/file?dataset=…&format=…&from=…`: the form's download.
pub async fn download_form(
    state: State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Query(form): Query<FilterForm>,
) -> AppResult<Response> {
    export(state, ctx, me, form).await
}

/// `GET /admin/exports/{dataset}/{format}?from=…`: the file, recorded in the audit trail.
pub async fn download(
    state: State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Path((dataset, format)): Path<(String, String)>,
    Query(mut form): Query<FilterForm>,
) -> AppResult<Response> {
    form.dataset = dataset;
    form.format = format;
    export(state, ctx, me, form).await
}

async fn export(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    form: FilterForm,
) -> AppResult<Response> {
    me.require(&[Role::Reviewer, Role::CenterAdmin])?;
    let (Some(dataset), Some(format)) = (
        DATASETS.iter().copied().find(|d| *d == form.dataset),
        Format::parse(&form.format),
    ) else {
        return Err(AppError::NotFound);
    };
    let Some(columns) = datasets::columns(dataset) else {
        return Err(AppError::NotFound);
    };
    let filter = match parse(&state, &ctx, &form).await? {
        Ok(f) => f,
        Err(problems) => {
            return render(
                StatusCode::UNPROCESSABLE_ENTITY,
                &index_view(&state, &ctx, &me, form, problems).await?,
            );
        }
    };
    let t = ctx.tr();
    let mut entry = me.audit(&ctx, "export.downloaded", None, dataset.to_string());
    entry.detail = serde_json::json!({
        "dataset": dataset,
        "format": format.ext(),
        "filter": {
            "from": form.from.trim(), "to": form.to.trim(), "org": form.org.trim(),
            "item": form.item.trim(), "state": form.state.trim(), "on": form.on.trim(),
        },
    });
    db::audit::append_alone(&state.db, &entry).await?;
    let words = Words {
        labels: columns
            .iter()
            .map(|c| t.t(&format!("export.{dataset}.{}", c.key)).to_string())
            .collect(),
        yes: t.t("export.yes").to_string(),
        no: t.t("export.no").to_string(),
        sheet: t.t(&format!("export.dataset.{dataset}")).to_string(),
    };
    let stamp = (Utc::now() + chrono::Duration::hours(9)).format("%Y%m%d-%H%M");
    let (chunks, response) = download::attachment(
        format.mime(),
        &format!("secportal-{dataset}-{stamp}.{}", format.ext()),
    );
    let tmp = state.config.data_dir.join("tmp");
    let out = match format {
        Format::Xlsx => {
            tokio::fs::create_dir_all(&tmp)
                .await
                .map_err(anyhow::Error::from)?;
            let (rows_tx, mut rows_rx) = mpsc::channel::<out::Batch>(4);
            tokio::task::spawn_blocking(move || {
                let errors = chunks.clone();
                let run = move || -> anyhow::Result<()> {
                    let mut sink = format.sink(ChannelWriter::new(chunks), columns, words, &tmp)?;
                    while let Some(batch) = rows_rx.blocking_recv() {
                        for row in batch? {
                            sink.row(&row)?;
                        }
                    }
                    sink.finish()
                };
                if let Err(e) = run() {
                    download::fail(&errors, &e);
                }
            });
            out::Out::thread(rows_tx)
        }
        Format::Csv | Format::Json => {
            let buf = out::SharedBuf::default();
            let sink = format.sink(buf.clone(), columns, words, &tmp)?;
            out::Out::here(sink, buf, chunks)
        }
    };
    tokio::spawn(datasets::produce(
        state.clone(),
        t,
        dataset,
        me.scope(),
        filter,
        out,
    ));
    Ok(response)
}

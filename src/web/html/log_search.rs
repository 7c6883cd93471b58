//! `GET /review/{id}/log-search`: the Center finds who connected in the gateway logs an
//! organisation submitted (the form, the first matches, the CSV of all of them). The search
//! itself is `app::log_search`.
//!
//! The page streams: its head and the table's head go out at once, each row as the scanner
//! finds it, then the totals (or why the list is incomplete). The request's timeout bounds
//! the answer's head only, so a long search on a large log is not cut; nothing holds a
//! database connection while the body streams. Works without script: the browser shows the
//! rows as they arrive.

use std::sync::Arc;

use askama::Template;
use axum::body::Body;
use axum::extract::{Path, Query, RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use tokio::sync::mpsc;
use uuid::Uuid;

use crate::app::{
    self,
    log_search::{COLUMNS, Event, Hit, SearchInput, Summary},
};
use crate::domain::export::Format;
use crate::i18n::Tr;
use crate::web::ctx::{Ctx, CurrentUser};
use crate::web::download;
use crate::web::error::{AppResult, ErrorPage, error_response};
use crate::web::page::{Page, render};
use crate::web::state::AppState;

#[derive(Template)]
#[template(path = "review/log_search.html")]
struct SearchView {
    page: Page,
    id: Uuid,
    org_id: Uuid,
    receipt: String,
    files: usize,
    form: SearchInput,
    /// The address's query, for the CSV link.
    query: String,
    problems: Vec<String>,
    /// Whether the answer streams the results (the template leaves [`ROWS`] and [`FOOT`]
    /// where they go).
    searching: bool,
}

/// Where the rows go in the rendered page, and where the footer goes.
const ROWS: &str = "<!--secportal:rows-->";
const FOOT: &str = "<!--secportal:foot-->";

/// A matching line as the page shows it.
struct HitRow {
    file: String,
    line: u64,
    direction: String,
    time: String,
    user: String,
    id: String,
    business: String,
    raw: String,
}

impl HitRow {
    fn of(t: &Tr, h: Hit) -> HitRow {
        HitRow {
            direction: h
                .direction
                .map(|d| t.t(&format!("logsearch.dir.{d}")).to_string())
                .unwrap_or_default(),
            file: h.file,
            line: h.line,
            time: h.time,
            user: h.user,
            id: h.id,
            business: h.business,
            raw: h.raw,
        }
    }
}

#[derive(Template)]
#[template(path = "review/_log_search_rows.html")]
struct RowsView<'a> {
    t: &'a Tr,
    rows: &'a [HitRow],
    capped: bool,
}

#[derive(Template)]
#[template(path = "review/_log_search_foot.html")]
struct FootView<'a> {
    t: &'a Tr,
    id: Uuid,
    query: &'a str,
    complete: bool,
    capped: bool,
    total: String,
    shown: String,
    files: String,
    searched: String,
    seconds: String,
    unreadable: &'a [String],
    csv: bool,
    /// The matches fit in a worksheet.
    xlsx: bool,
    /// Nothing matched a 識別番号 typed as digits without leading zeros: the page says how
    /// the log writes it.
    zeros: bool,
}

/// Rows rendered and sent at most at once; fewer when the scanner has no more ready.
const BATCH: usize = 64;
/// Silence after which a newline is sent, so the connection's idle timeout does not cut a
/// long search for a rare value.
const KEEP_ALIVE: std::time::Duration = std::time::Duration::from_secs(10);

/// The form's values as an address query (for the CSV link).
fn query_of(f: &SearchInput) -> String {
    serde_urlencoded::to_string(f).unwrap_or_default()
}

/// `GET /review/{id}/log-search?user_code=…&id_number=…&from=…`: the form, and the matches
/// once something is asked.
pub async fn page(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Path(id): Path<Uuid>,
    Query(form): Query<SearchInput>,
    RawQuery(raw): RawQuery,
) -> AppResult<Response> {
    let actor = me.actor(&ctx);
    let t = ctx.tr();
    let (org_id, receipt, files) = app::log_search::logs_of(&state, &actor, id).await?;
    let mut view = SearchView {
        page: Page::new(&ctx, Some(&me)),
        id,
        org_id,
        receipt,
        files,
        query: query_of(&form),
        form: form.clone(),
        problems: vec![],
        searching: false,
    };
    // Opened without a search: the form alone (a form sent empty is told what it lacks).
    if raw.as_deref().is_none_or(str::is_empty) {
        return render(StatusCode::OK, &view);
    }
    match app::log_search::prepare(&state, &actor, id, &form).await {
        Ok(search) => {
            // One more than the node runs at once: refused at once, and not audited.
            let permit = match app::log_search::claim(&state, &search) {
                Ok(p) => p,
                Err(wait) => return Ok(error_response(ErrorPage::SearchBusy(wait))),
            };
            // Audited before anything is read: a search that cannot be audited does not run.
            let events = search.stream(state.app.clone(), permit).await?;
            view.searching = true;
            let mut html = String::with_capacity(32 * 1024);
            view.render_into(&mut html).map_err(anyhow::Error::from)?;
            let (head, rest) = html
                .split_once(ROWS)
                .ok_or_else(|| anyhow::anyhow!("no rows mark"))?;
            let (middle, tail) = rest
                .split_once(FOOT)
                .ok_or_else(|| anyhow::anyhow!("no foot mark"))?;
            let parts = [head.to_string(), middle.to_string(), tail.to_string()];
            let (tx, rx) = mpsc::channel::<Result<Bytes, std::io::Error>>(8);
            let id_number = form.id_number.trim();
            let digits = !id_number.is_empty()
                && !id_number.starts_with('0')
                && id_number.bytes().all(|b| b.is_ascii_digit());
            tokio::spawn(write_page(t, id, view.query, parts, digits, events, tx));
            let body = futures_util::stream::unfold(rx, |mut rx| async move {
                rx.recv().await.map(|chunk| (chunk, rx))
            });
            let mut res = Body::from_stream(body).into_response();
            res.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            );
            Ok(res)
        }
        Err(app::Error::Invalid(errors)) => {
            view.problems = errors
                .iter()
                .map(|(field, key)| {
                    if field == "_form" {
                        t.t(key).to_string()
                    } else {
                        format!("{}: {}", t.t(&format!("logsearch.{field}")), t.t(key))
                    }
                })
                .collect();
            render(StatusCode::UNPROCESSABLE_ENTITY, &view)
        }
        Err(e) => Err(e.into()),
    }
}

/// `GET /review/{id}/log-search/{csv|xlsx}?…`: every match, as CSV streamed as each is
/// found, or as a workbook (codes kept as text).
pub async fn download(
    state: State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Path((id, ext)): Path<(Uuid, String)>,
    Query(form): Query<SearchInput>,
) -> AppResult<Response> {
    let format = match Format::parse(&ext) {
        Some(f @ (Format::Csv | Format::Xlsx)) => f,
        _ => return Err(app::Error::NotFound.into()),
    };
    let t = ctx.tr();
    let search = match app::log_search::prepare(&state, &me.actor(&ctx), id, &form).await {
        Ok(s) => s,
        // The page says what is wrong with the criteria.
        Err(app::Error::Invalid(_)) => {
            let raw = Some(query_of(&form));
            return page(state, ctx, me, Path(id), Query(form), RawQuery(raw)).await;
        }
        Err(e) => return Err(e.into()),
    };
    let labels = COLUMNS
        .iter()
        .map(|c| t.t(&format!("logsearch.col.{c}")).to_string())
        .collect();
    let words = [
        t.t("logsearch.dir.send").to_string(),
        t.t("logsearch.dir.receive").to_string(),
    ];
    // One more than the node runs at once: refused at once, and not audited.
    let permit = match app::log_search::claim(&state, &search) {
        Ok(p) => p,
        Err(wait) => return Ok(error_response(ErrorPage::SearchBusy(wait))),
    };
    let (chunks, response) = download::attachment(format.mime(), &search.file_name(format));
    // Audited before anything is read: a search that cannot be audited answers the error.
    search
        .download(
            state.app.clone(),
            format,
            labels,
            words,
            t.t("logsearch.sheet").to_string(),
            chunks,
            permit,
        )
        .await?;
    Ok(response)
}

/// Matches a worksheet holds below its header row.
const XLSX_ROWS: u64 = 1_048_575;

/// Writes the page around the search's events: the head at once, rows as they come (in
/// batches of what is ready), the footer with the totals at the end. A search that ends
/// without its summary (its task failed) says the list is incomplete.
async fn write_page(
    t: Tr,
    id: Uuid,
    query: String,
    [head, middle, tail]: [String; 3],
    digits: bool,
    mut events: mpsc::Receiver<Event>,
    tx: mpsc::Sender<Result<Bytes, std::io::Error>>,
) {
    let send = |s: String| {
        let tx = tx.clone();
        async move { tx.send(Ok(Bytes::from(s))).await.is_ok() }
    };
    if !send(head).await {
        return;
    }
    let (mut shown, mut capped, mut end) = (0u64, false, None::<Summary>);
    let mut rows = Vec::with_capacity(BATCH);
    loop {
        let first = tokio::select! {
            e = events.recv() => e,
            () = tokio::time::sleep(KEEP_ALIVE) => {
                if !send("\n".into()).await {
                    return;
                }
                continue;
            }
        };
        let Some(first) = first else { break };
        // What else is ready goes out with it.
        let mut next = Some(first);
        let mut batch_capped = false;
        while let Some(e) = next.take() {
            match e {
                Event::Hit(h) => {
                    rows.push(HitRow::of(&t, h));
                    shown += 1;
                }
                Event::Capped => batch_capped = true,
                Event::End(s) => {
                    end = Some(s);
                    break;
                }
            }
            if rows.len() < BATCH {
                next = events.try_recv().ok();
            }
        }
        if !rows.is_empty() || batch_capped {
            capped |= batch_capped;
            let view = RowsView {
                t: &t,
                rows: &rows,
                capped: batch_capped,
            };
            let Ok(html) = view.render() else { break };
            rows.clear();
            if !send(html).await {
                return;
            }
        }
        if end.is_some() {
            break;
        }
    }
    let s = end.unwrap_or(Summary {
        total: shown,
        files: 0,
        searched: 0,
        unreadable: vec![],
        elapsed: std::time::Duration::ZERO,
        complete: false,
    });
    let total = if s.complete { s.total } else { shown };
    let foot = FootView {
        t: &t,
        id,
        query: &query,
        complete: s.complete,
        capped,
        total: crate::i18n::count(total),
        shown: crate::i18n::count(shown),
        files: s.files.to_string(),
        searched: s.searched.to_string(),
        seconds: format!("{:.1}", s.elapsed.as_secs_f64()),
        unreadable: &s.unreadable,
        csv: s.complete && total > 0,
        xlsx: s.complete && total > 0 && total < XLSX_ROWS,
        zeros: digits && s.complete && total == 0,
    }
    .render()
    .unwrap_or_default();
    for part in [middle, foot, tail] {
        if !send(part).await {
            return;
        }
    }
}

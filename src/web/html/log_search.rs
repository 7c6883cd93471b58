//! `GET /review/{id}/log-search`: the Center finds who connected in the gateway logs an
//! organisation submitted (the form, the first matches, the CSV of all of them). The search
//! itself is `app::log_search`.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, Query, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use uuid::Uuid;

use crate::app::{
    self,
    log_search::{COLUMNS, Found, Hit, PAGE_CAP, SearchInput},
};
use crate::web::ctx::{Ctx, CurrentUser};
use crate::web::download;
use crate::web::error::AppResult;
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
    found: Option<Found>,
    more: bool,
}

impl SearchView {
    fn direction(&self, h: &Hit) -> String {
        match h.direction {
            Some(d) => self.page.t.t(&format!("logsearch.dir.{d}")).to_string(),
            None => String::new(),
        }
    }
}

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
        found: None,
        more: false,
    };
    // Opened without a search: the form alone (a form sent empty is told what it lacks).
    if raw.as_deref().is_none_or(str::is_empty) {
        return render(StatusCode::OK, &view);
    }
    let found = match app::log_search::prepare(&state, &actor, id, &form).await {
        Ok(search) => search.page(&state).await,
        Err(e) => Err(e),
    };
    match found {
        Ok(f) => {
            view.more = f.total > PAGE_CAP as u64;
            view.found = Some(f);
            render(StatusCode::OK, &view)
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

/// `GET /review/{id}/log-search/csv?…`: every match, streamed as it is found.
pub async fn csv(
    state: State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Path(id): Path<Uuid>,
    Query(form): Query<SearchInput>,
) -> AppResult<Response> {
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
    let (chunks, response) = download::attachment("text/csv; charset=utf-8", &search.file_name());
    search.csv(state.app.clone(), labels, words, chunks);
    Ok(response)
}

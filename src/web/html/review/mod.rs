//! The Center's review queue and decisions. (The organisation's side — revising a returned
//! submission, commenting under it — is on its receipt page, in `submissions`.)

mod show;
pub mod verify;

pub use show::{assign, comment_center, decide, show};

use std::sync::Arc;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use uuid::Uuid;

use crate::app::{
    self,
    review::{Cursor, QueueFilter, QueueParams, ReceiptLookup},
};
use crate::web::ctx::{CsrfForm, Ctx, CurrentUser};
use crate::web::error::{AppError, AppResult};
use crate::web::page::{Page, jst, redirect_with_count, redirect_with_flash, render};
use crate::web::state::AppState;

const PAGE_SIZE: i64 = 50;

/// A queue line as shown.
pub struct QueueItem {
    pub id: Uuid,
    pub org: String,
    pub code: String,
    pub item: String,
    pub version: i64,
    pub submitted: String,
    pub age_days: i64,
    pub receipt: String,
    pub assignee: String,
    /// A decided line's decision: when (JST) and by whom.
    pub decided: Option<(String, String)>,
    /// The office or gateway site the report is about, or "the whole organisation".
    pub place: String,
    /// The office of a gateway site.
    pub office: Option<String>,
    /// The flags in words.
    pub flags: Vec<String>,
    /// The name of its checkbox for assigning several at once ("SR-… を選ぶ").
    pub choose: String,
}

/// The rows of one queue page, rendered (escaped) in one language.
#[derive(Template)]
#[template(path = "review/_queue_rows.html")]
struct RowsView {
    rows: Vec<QueueItem>,
    /// Whether the lines wait for a decision, so they can be ticked to assign.
    choosable: bool,
}

/// One queue page's lines as HTML, and where the pages next to it start.
pub struct QueueRows {
    html: String,
    empty: bool,
    /// After the last row shown, when later rows follow.
    next: Option<Cursor>,
    /// Before the first row shown, when earlier rows precede it.
    previous: Option<Cursor>,
}

#[derive(Template)]
#[template(path = "review/queue.html")]
struct QueueView {
    page: Page,
    rows: Arc<QueueRows>,
    counts: Vec<(String, i64)>,
    kinds: Vec<(String, String)>,
    kind: String,
    state: String,
    org: String,
    age: String,
    who: String,
    form: String,
    forms: Vec<(&'static str, &'static str)>,
    next: Option<String>,
    previous: Option<String>,
    /// A receipt number looked up and not found.
    not_found: String,
    /// Whether the lines can be ticked and given to a reviewer.
    choosable: bool,
    /// Who they can be given to: (id, name).
    assignees: Vec<(Uuid, String)>,
    /// Where assigning returns: this page.
    back: String,
    /// Whether the link to the canned return reasons shows (Center admins).
    manage_reasons: bool,
}

/// The queue's query string: the filters, the position, and a receipt number to open
/// directly (as read out on the phone, any width or case).
#[derive(serde::Deserialize, Default)]
pub struct QueueQuery {
    #[serde(flatten)]
    params: QueueParams,
    #[serde(default)]
    receipt: String,
}

/// `GET /review`: waiting submissions oldest first, with filters, counts and paging.
pub async fn queue(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Query(QueueQuery { params: q, receipt }): Query<QueueQuery>,
) -> AppResult<Response> {
    me.require(&app::review::REVIEWERS)?;
    let actor = me.actor(&ctx);
    let t = ctx.tr();
    let not_found = match app::review::find_receipt(&state, &actor, &receipt).await? {
        ReceiptLookup::Found(id) => {
            return Ok(Redirect::to(&format!("/review/{id}")).into_response());
        }
        ReceiptLookup::Missing(r) => r,
        ReceiptLookup::Empty => String::new(),
    };
    let catalogue = state.catalogue().await?;
    let now = app::review::now();
    let (filter, cursor) = app::review::queue_filter(&actor, &catalogue.items, &q, now);
    let choosable = filter.state.as_deref().is_none_or(|s| s == "submitted");
    let rows = cached_page(&state, &filter, cursor, t.code(), async |f, c| {
        let page = app::review::queue_page(&state, &actor, f, c, PAGE_SIZE).await?;
        // Each kind's title written once per page, not once per line.
        let mut titles: Vec<(String, String)> = Vec::new();
        let mut title = |kind: &str| -> String {
            if let Some((_, title)) = titles.iter().find(|(k, _)| k == kind) {
                return title.clone();
            }
            let title = catalogue.item_title(kind, t.code());
            titles.push((kind.to_string(), title.clone()));
            title
        };
        let view = RowsView {
            choosable,
            rows: page
                .lines
                .into_iter()
                .map(|r| QueueItem {
                    choose: t.f("review.bulk.choose", &[("receipt", &r.receipt_no)]),
                    id: r.id,
                    org: r.org_name,
                    code: r.org_code,
                    item: title(&r.kind),
                    version: r.version,
                    submitted: jst(&r.submitted_at),
                    age_days: (now - r.submitted_at).num_days(),
                    receipt: r.receipt_no,
                    assignee: r
                        .assignee
                        .unwrap_or_else(|| t.t("review.unassigned").to_string()),
                    decided: r
                        .decided_at
                        .map(|at| (jst(&at), r.decided_by.unwrap_or_default())),
                    place: r
                        .place
                        .unwrap_or_else(|| t.t("checklist.whole_org").to_string()),
                    office: r.place_office,
                    flags: r
                        .flags
                        .iter()
                        .map(|f| t.f(&format!("review.flag.{f}"), &[]))
                        .collect(),
                })
                .collect(),
        };
        Ok(QueueRows {
            empty: view.rows.is_empty(),
            html: view.render().map_err(|e| AppError::Internal(e.into()))?,
            next: page.next,
            previous: page.previous,
        })
    })
    .await?;
    // The queue page under the same filters, at a position.
    let at = |position: [(&'static str, String); 2]| {
        let mut params: Vec<(&str, String)> = vec![
            ("kind", q.kind.clone()),
            ("state", q.state.clone()),
            ("org", q.org.clone()),
            ("age", q.age.clone()),
            ("who", q.who.clone()),
            ("form", q.form.clone()),
        ];
        params.extend(position.into_iter().filter(|(_, v)| !v.is_empty()));
        format!(
            "/review?{}",
            serde_urlencoded::to_string(&params).unwrap_or_default()
        )
    };
    let link = |c: Cursor| {
        let name = match c {
            Cursor::After(..) => "after",
            Cursor::Before(..) => "before",
        };
        at([(name, app::review::cursor_text(c)), ("", String::new())])
    };
    // Where assigning from this page returns: this page.
    let back = at([("after", q.after.clone()), ("before", q.before.clone())]);
    let next = rows.next.map(link);
    let previous = rows.previous.map(link);
    let counts = app::review::queue_counts(&state, &actor, &filter)
        .await?
        .into_iter()
        .map(|(s, n)| (format!("checklist.status.{s}"), n))
        .collect();
    let view = QueueView {
        page: Page::new(&ctx, Some(&me)),
        rows,
        counts,
        kinds: catalogue
            .items
            .iter()
            .map(|i| (i.key.clone(), format!("{} {}", i.number, i.title(t.code()))))
            .collect(),
        kind: q.kind,
        state: q.state,
        org: q.org,
        age: q.age,
        who: q.who,
        form: q.form,
        forms: crate::domain::ConnectionForm::ALL
            .iter()
            .map(|f| (f.as_str(), f.label_key()))
            .collect(),
        next,
        previous,
        not_found,
        choosable,
        assignees: if choosable {
            app::review::assignees(&state, &actor, &me.name).await?
        } else {
            vec![]
        },
        back,
        manage_reasons: me.role == crate::domain::Role::CenterAdmin,
    };
    render(StatusCode::OK, &view)
}

/// `POST /review/assign`: gives the ticked waiting submissions to the chosen reviewer and
/// returns to the queue page it came from, saying how many were assigned.
pub async fn assign_many(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    CsrfForm(fields): CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    me.require(&app::review::REVIEWERS)?;
    let value = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or_default()
    };
    let ids: Vec<Uuid> = fields
        .iter()
        .filter(|(k, _)| k == "ids")
        .filter_map(|(_, v)| Uuid::parse_str(v).ok())
        .collect();
    let to = Uuid::parse_str(value("assignee")).ok();
    // Back to a queue page only (never elsewhere).
    let back = Some(value("back"))
        .filter(|b| *b == "/review" || (b.starts_with("/review?") && !b.contains("//")))
        .unwrap_or("/review");
    let secure = state.cookies.secure;
    match app::review::assign_many(&state, &me.actor(&ctx), &ids, to).await {
        Ok(n) => Ok(redirect_with_count(back, "flash.assigned_many", n, secure)),
        Err(app::Error::Invalid(errors)) => {
            let key = match (errors.get("assignee"), errors.get("ids")) {
                (Some(_), _) => "flash.assign_whom",
                (None, Some("review.bulk.too_many")) => "flash.assign_too_many",
                _ => "flash.assign_none_chosen",
            };
            Ok(redirect_with_flash(back, key, secure))
        }
        Err(e) => Err(e.into()),
    }
}

/// How long a queue page is reused when nothing changed in this process meanwhile (another
/// instance's change shows after at most this long).
const PAGE_TTL: std::time::Duration = std::time::Duration::from_secs(1);

/// The most pages kept at once (each a rendered table of up to 50 rows, ~25 KB).
const PAGES_KEPT: usize = 256;

/// One page of the queue as shown, built by `build` and reused for a moment: many reviewers
/// open the same first pages, and every change made through this process (any POST) retires
/// the cached pages at once. Kept per language, rendered, so a reused page costs neither
/// queries nor formatting.
async fn cached_page(
    state: &AppState,
    f: &QueueFilter,
    cursor: Option<Cursor>,
    lang: &str,
    build: impl AsyncFnOnce(&QueueFilter, Option<Cursor>) -> AppResult<QueueRows>,
) -> AppResult<Arc<QueueRows>> {
    let generation = state.generation.load(std::sync::atomic::Ordering::Relaxed);
    let key = format!("{f:?}|{cursor:?}|{lang}|{generation}");
    if let Ok(cache) = state.queue_pages.lock()
        && let Some((at, page)) = cache.get(&key)
        && at.elapsed() < PAGE_TTL
    {
        return Ok(page.clone());
    }
    let page = Arc::new(build(f, cursor).await?);
    if let Ok(mut cache) = state.queue_pages.lock() {
        // Swept only when full, against one reading of the clock (a reading per page kept
        // was 2 % of a busy queue's CPU).
        let now = std::time::Instant::now();
        if cache.len() >= PAGES_KEPT {
            cache.retain(|_, (at, _)| now.duration_since(*at) < PAGE_TTL);
        }
        if cache.len() < PAGES_KEPT {
            cache.insert(key, (now, page.clone()));
        }
    }
    Ok(page)
}

//! The Center's review queue and decisions, and the organisation's way back: a returned
//! submission is revised as version N+1.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use uuid::Uuid;

use super::ctx::{CsrfForm, Ctx, CurrentUser};
use super::error::{AppError, AppResult};
use super::forms::{FieldErrors, Nothing};
use super::page::{Page, jst, redirect_with_flash, render};
use super::report::{self, Report};
use super::state::AppState;
use super::submissions::{FileItem, file_item};
use crate::app;
use crate::app::notify::{Notice, To, notify};
use crate::db::{
    self,
    queue::{Cursor, QueueFilter},
    review::Revised,
};
use crate::domain::{Role, Scope};

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
}

/// The rows of one queue page, rendered (escaped) in one language.
#[derive(Template)]
#[template(path = "review/_queue_rows.html")]
struct RowsView {
    rows: Vec<QueueItem>,
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
}

#[derive(Deserialize, Default)]
pub struct QueueQuery {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    state: String,
    #[serde(default)]
    org: String,
    #[serde(default)]
    age: String,
    #[serde(default)]
    after: String,
    #[serde(default)]
    before: String,
    #[serde(default)]
    who: String,
    /// A receipt number to open directly (as read out on the phone, any width or case).
    #[serde(default)]
    receipt: String,
    #[serde(default)]
    form: String,
}

fn center(me: &CurrentUser) -> AppResult<()> {
    me.require(&[Role::Reviewer, Role::CenterAdmin])
}

/// `GET /review`: waiting submissions oldest first, with filters, counts and paging.
pub async fn queue(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Query(q): Query<QueueQuery>,
) -> AppResult<Response> {
    center(&me)?;
    let t = ctx.tr();
    let receipt = db::receipts::receipt_number(&q.receipt);
    let not_found = if receipt.is_empty() {
        String::new()
    } else {
        match db::submissions::by_receipt(&state.db, &receipt).await? {
            Some(id) => {
                return Ok(axum::response::IntoResponse::into_response(
                    axum::response::Redirect::to(&format!("/review/{id}")),
                ));
            }
            None => receipt,
        }
    };
    let catalogue = state.catalogue().await?;
    let title = |kind: &str| catalogue.item_title(kind, t.code());
    let now = db::now();
    let filter = QueueFilter {
        kind: Some(q.kind.clone()).filter(|k| catalogue.items.iter().any(|i| &i.key == k)),
        state: Some(q.state.clone())
            .filter(|s| matches!(s.as_str(), "submitted" | "accepted" | "returned")),
        org_code: Some(q.org.trim().to_uppercase()).filter(|o| !o.is_empty()),
        submitted_before: q
            .age
            .trim()
            .parse::<i64>()
            .ok()
            .filter(|d| (0..=3650).contains(d))
            .map(|d| now - chrono::Duration::days(d)),
        assigned_to: (q.who == "mine").then_some(me.id),
        unassigned: q.who == "unassigned",
        form: crate::domain::ConnectionForm::parse(&q.form).map(|f| f.as_str().to_string()),
    };
    let cursor = match (cursor_of(&q.after), cursor_of(&q.before)) {
        (Some((at, id)), _) => Some(Cursor::After(at, id)),
        (None, Some((at, id))) => Some(Cursor::Before(at, id)),
        (None, None) => None,
    };
    let rows = cached_page(&state, &filter, cursor, t.code(), |page| {
        let first = page.rows.first().map(|r| (r.submitted_at, r.id));
        let last = page.rows.last().map(|r| (r.submitted_at, r.id));
        // Going forward, what precedes is known to exist once past the first page; going
        // back, what follows is the page we came from.
        let (later, earlier) = match cursor {
            None => (page.more, false),
            Some(Cursor::After(..)) => (page.more, true),
            Some(Cursor::Before(..)) => (true, page.more),
        };
        let view = RowsView {
            rows: page
                .rows
                .into_iter()
                .map(|r| QueueItem {
                    id: r.id,
                    org: r.org_name,
                    code: r.org_code,
                    item: title(&r.kind),
                    version: r.version,
                    submitted: jst(&r.submitted_at),
                    age_days: (now - r.submitted_at).num_days(),
                    receipt: r.receipt_no,
                    assignee: r.assignee.unwrap_or_default(),
                })
                .collect(),
        };
        Ok(QueueRows {
            empty: view.rows.is_empty(),
            html: view.render().map_err(|e| AppError::Internal(e.into()))?,
            next: last.filter(|_| later).map(|(at, id)| Cursor::After(at, id)),
            previous: first
                .filter(|_| earlier)
                .map(|(at, id)| Cursor::Before(at, id)),
        })
    })
    .await?;
    let link = |c: Cursor| {
        let (name, at, id) = match c {
            Cursor::After(at, id) => ("after", at, id),
            Cursor::Before(at, id) => ("before", at, id),
        };
        let params: Vec<(&str, String)> = vec![
            ("kind", q.kind.clone()),
            ("state", q.state.clone()),
            ("org", q.org.clone()),
            ("age", q.age.clone()),
            ("who", q.who.clone()),
            ("form", q.form.clone()),
            (
                name,
                format!(
                    "{}_{id}",
                    at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
                ),
            ),
        ];
        format!(
            "/review?{}",
            serde_urlencoded::to_string(&params).unwrap_or_default()
        )
    };
    let next = rows.next.map(link);
    let previous = rows.previous.map(link);
    let counts = state
        .queue_counts(&filter)
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
    };
    render(StatusCode::OK, &view)
}

/// A keyset position as written in a link: `<RFC 3339 time>_<id>`.
fn cursor_of(s: &str) -> Option<(chrono::DateTime<chrono::Utc>, Uuid)> {
    let (a, i) = s.split_once('_')?;
    Some((
        chrono::DateTime::parse_from_rfc3339(a).ok()?.to_utc(),
        Uuid::parse_str(i).ok()?,
    ))
}

/// How long a queue page is reused when nothing changed in this process meanwhile (another
/// instance's change shows after at most this long).
const PAGE_TTL: std::time::Duration = std::time::Duration::from_secs(1);

/// One page of the queue as shown, built by `build` from `PAGE_SIZE + 1` rows (the last
/// telling whether more follow) and reused for a moment: many reviewers open the same first
/// pages, and every change made through this process (any POST) retires the cached pages at
/// once. Kept per language, rendered, so a reused page costs neither queries nor formatting.
async fn cached_page(
    state: &AppState,
    f: &QueueFilter,
    cursor: Option<Cursor>,
    lang: &str,
    build: impl FnOnce(db::queue::QueuePage) -> AppResult<QueueRows>,
) -> AppResult<Arc<QueueRows>> {
    let generation = state.generation.load(std::sync::atomic::Ordering::Relaxed);
    let key = format!("{f:?}|{cursor:?}|{lang}|{generation}");
    if let Ok(cache) = state.queue_pages.lock()
        && let Some((at, page)) = cache.get(&key)
        && at.elapsed() < PAGE_TTL
    {
        return Ok(page.clone());
    }
    let page = Arc::new(build(
        db::queue::queue(&state.db, f, cursor, PAGE_SIZE).await?,
    )?);
    if let Ok(mut cache) = state.queue_pages.lock() {
        cache.retain(|_, (at, _)| at.elapsed() < PAGE_TTL);
        if cache.len() < 1000 {
            cache.insert(key, (std::time::Instant::now(), page.clone()));
        }
    }
    Ok(page)
}

/// A version as listed.
pub struct VersionItem {
    pub id: Uuid,
    pub version: i64,
    pub state_key: String,
    pub receipt: String,
    pub current: bool,
}

#[derive(Template)]
#[template(path = "review/show.html")]
struct ShowView {
    page: Page,
    id: Uuid,
    org_id: Uuid,
    org_name: String,
    org_code: String,
    version: i64,
    state: String,
    state_key: String,
    receipt: String,
    submitted: String,
    submitter: String,
    /// The declared content in words, with the summary a reviewer reads first.
    report: Report,
    files: Vec<FileItem>,
    versions: Vec<VersionItem>,
    /// What changed since the previous sealed version, in the same words.
    changes: Option<Report>,
    previous: Option<i64>,
    decision: Option<(String, String, String, String)>,
    /// The next submission waiting for a decision: (id, receipt, organisation, item).
    next: Option<(Uuid, String, String, String)>,
    can_decide: bool,
    errors: FieldErrors,
    reason: String,
    assignee: Option<String>,
    can_take: bool,
    can_release: bool,
    comments: Vec<CommentItem>,
    comment_box: CommentBox,
    instructions: Vec<super::followup::InstructionItem>,
    locations: Vec<super::structure::LocationItem>,
    hold: super::holds::HoldBox,
    /// The Table 7-4-2 check of each gateway log, in words, as kept when it uploaded (in place
    /// of the report's table of sealed totals, which shows when a kept check is missing).
    log_checks: Vec<super::logcheck::CheckView>,
}

async fn show_view(
    state: &AppState,
    ctx: &Ctx,
    me: &CurrentUser,
    id: Uuid,
    errors: FieldErrors,
    reason: String,
) -> AppResult<ShowView> {
    let s = db::submissions::get(&state.db, Scope::Center, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let org = db::orgs::get(&state.db, Scope::Center, s.org_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let t = ctx.tr();
    let places = report::places(state, s.org_id).await?;
    let mut report = report::of_submission(state, t, Scope::Center, &s, &places, true).await?;
    let snapshot: serde_json::Value = s
        .snapshot
        .as_deref()
        .and_then(|j| serde_json::from_str(j).ok())
        .unwrap_or_default();
    // Gateway logs: one rendering of each log's check. The kept check (gaps, who, the chart)
    // when every sealed file still has one; otherwise the report's table of the sealed totals
    // (a snapshot sealed before the checks were kept, or a check purged since).
    let mut log_checks = vec![];
    if s.kind == "gateway_logs" {
        let day = |k: &str| {
            snapshot["data"][k]
                .as_str()
                .and_then(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        };
        let period = day("period_from").zip(day("period_to"));
        let files = snapshot["files"].as_array().cloned().unwrap_or_default();
        let kept = super::logcheck::kept_checks(
            state,
            Scope::Center,
            s.org_id,
            files
                .iter()
                .map(|f| {
                    (
                        f["name"].as_str().unwrap_or_default().to_string(),
                        f["sha256"].as_str().unwrap_or_default().to_string(),
                    )
                })
                .collect(),
        )
        .await?;
        if !kept.is_empty() && kept.iter().all(|(_, c)| c.is_some()) {
            for (name, check) in kept {
                if let Some(c) = check {
                    log_checks.push(super::logcheck::view(&t, &name, &c, period));
                }
            }
            report::without_log_table(&mut report, t);
        }
    }
    let series = db::review::series_of(&state.db, Scope::Center, id)
        .await?
        .unwrap_or(id);
    let all = db::review::versions(&state.db, Scope::Center, series).await?;
    let previous = all
        .iter()
        .filter(|v| v.1 < s.version && v.4.is_some())
        .max_by_key(|v| v.1)
        .map(|v| v.0);
    let changes = match previous {
        Some(p) => match db::submissions::get(&state.db, Scope::Center, p).await? {
            Some(old) => {
                let before =
                    report::of_submission(state, t, Scope::Center, &old, &places, false).await?;
                Some(report::diff(&before, &report))
            }
            None => None,
        },
        None => None,
    };
    let assignee = db::review::assignee(&state.db, id).await?;
    let decision = db::review::decision(&state.db, Scope::Center, id)
        .await?
        .map(|d| {
            (
                format!("checklist.status.{}", d.decision),
                d.reason,
                d.reviewer,
                jst(&d.decided_at),
            )
        });
    Ok(ShowView {
        log_checks,
        page: Page::new(ctx, Some(me)),
        id,
        org_id: org.id,
        org_name: org.name,
        org_code: org.user_code,
        version: s.version,
        state_key: format!("checklist.status.{}", s.state),
        state: s.state.clone(),
        receipt: s.receipt_no.unwrap_or_default(),
        submitted: s.submitted_at.map(|t| jst(&t)).unwrap_or_default(),
        submitter: format!(
            "{} <{}>",
            snapshot["submitter"]["name"].as_str().unwrap_or(""),
            snapshot["submitter"]["email"].as_str().unwrap_or("")
        ),
        report,
        files: db::submissions::files(&state.db, Scope::Center, id)
            .await?
            .into_iter()
            .map(file_item)
            .collect(),
        versions: all
            .iter()
            .map(|v| VersionItem {
                id: v.0,
                version: v.1,
                state_key: format!("checklist.status.{}", v.2),
                receipt: v.3.clone().unwrap_or_default(),
                current: v.0 == id,
            })
            .collect(),
        previous: previous.and_then(|p| all.iter().find(|v| v.0 == p).map(|v| v.1)),
        changes,
        decision,
        next: next_waiting(state, ctx, me, id).await?,
        can_decide: matches!(s.state.as_str(), "submitted" | "under_review"),
        errors,
        reason,
        can_take: s.state == "submitted" && assignee.as_ref().is_none_or(|(uid, _)| *uid != me.id),
        can_release: s.state == "submitted"
            && assignee
                .as_ref()
                .is_some_and(|(uid, _)| *uid == me.id || me.role == Role::CenterAdmin),
        assignee: assignee.map(|(_, name)| name),
        comments: thread(state, Scope::Center, id).await?,
        comment_box: CommentBox::new(format!("/review/{id}/comments")),
        instructions: super::followup::of_submission(state, t.code(), id).await?,
        locations: {
            let rows = db::structure::list(&state.db, Some(s.org_id)).await?;
            let active: Vec<_> = rows.into_iter().filter(|l| l.active).collect();
            super::structure::location_items(state, s.org_id, &active).await?
        },
        hold: super::holds::hold_box(state, me, s.org_id, Some(id)).await?,
    })
}

/// The submission to open after deciding `except`: the oldest one waiting that is the
/// reviewer's own or nobody's.
async fn next_waiting(
    state: &AppState,
    ctx: &Ctx,
    me: &CurrentUser,
    except: Uuid,
) -> AppResult<Option<(Uuid, String, String, String)>> {
    let Some(n) = db::review::next_waiting(&state.db, me.id, except).await? else {
        return Ok(None);
    };
    let catalogue = state.catalogue().await?;
    Ok(Some((
        n.id,
        n.receipt_no,
        n.org_name,
        catalogue.item_title(&n.kind, ctx.tr().code()),
    )))
}

/// `GET /review/{id}`
pub async fn show(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Path(id): Path<Uuid>,
) -> AppResult<Response> {
    center(&me)?;
    render(
        StatusCode::OK,
        &show_view(&state, &ctx, &me, id, FieldErrors::default(), String::new()).await?,
    )
}

#[derive(Deserialize)]
pub struct DecideForm {
    #[serde(default)]
    decision: String,
    #[serde(default)]
    reason: String,
}

/// `POST /review/{id}/decide`: accept, or return with a reason. A second decision is told (409).
pub async fn decide(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Path(id): Path<Uuid>,
    CsrfForm(form): CsrfForm<DecideForm>,
) -> AppResult<Response> {
    let input = app::review::DecideInput {
        submission: id,
        decision: app::review::Decision::parse(&form.decision),
        reason: form.reason.clone(),
    };
    match app::review::decide(&state, &me.actor(&ctx), input).await {
        Ok(_) => Ok(redirect_with_flash(
            &format!("/review/{id}"),
            "flash.decided",
            state.cookies.secure,
        )),
        Err(app::Error::Invalid(errors)) => render(
            StatusCode::UNPROCESSABLE_ENTITY,
            &show_view(&state, &ctx, &me, id, errors, form.reason).await?,
        ),
        // Decided meanwhile by someone else.
        Err(app::Error::Conflict(key)) => {
            let mut errors = FieldErrors::default();
            errors.add("_form", key);
            render(
                StatusCode::CONFLICT,
                &show_view(&state, &ctx, &me, id, errors, String::new()).await?,
            )
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct AssignForm {
    #[serde(default)]
    action: String,
}

/// `POST /review/{id}/assign`: "assign to me" (`take`) or put back (`release`).
pub async fn assign(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Path(id): Path<Uuid>,
    CsrfForm(form): CsrfForm<AssignForm>,
) -> AppResult<Response> {
    center(&me)?;
    let (to, only_from, action) = match form.action.as_str() {
        "take" => (Some(me.id), None, "submission.assigned"),
        // A reviewer puts back their own; a Center admin may put back anyone's.
        "release" => (
            None,
            if me.role == Role::CenterAdmin {
                None
            } else {
                Some(me.id)
            },
            "submission.unassigned",
        ),
        _ => return Err(AppError::BadRequest),
    };
    let mut tx = state.db.begin().await?;
    let Some(org) = db::review::assign(&mut tx, id, to, only_from).await? else {
        drop(tx);
        let mut errors = FieldErrors::default();
        errors.add("_form", "error.already_decided");
        return render(
            StatusCode::CONFLICT,
            &show_view(&state, &ctx, &me, id, errors, String::new()).await?,
        );
    };
    db::audit::append(&mut tx, &me.audit(&ctx, action, Some(org), id.to_string())).await?;
    tx.commit().await?;
    Ok(redirect_with_flash(
        &format!("/review/{id}"),
        "flash.saved",
        state.cookies.secure,
    ))
}

/// The page where a kind of report is drafted.
pub fn draft_page(kind: &str) -> Option<&'static str> {
    match kind {
        "system_configuration" => Some("system-configuration"),
        "outside_connections" => Some("outside-connections"),
        "antivirus" => Some("antivirus"),
        "inhouse_measures" => Some("inhouse-measures"),
        "gateway_logs" => Some("gateway-logs"),
        _ => None,
    }
}

/// `POST /orgs/{org}/submissions/{id}/revise`: opens version N+1 of a returned submission.
pub async fn revise(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Path((org_id, id)): Path<(Uuid, Uuid)>,
    CsrfForm(_): CsrfForm<Nothing>,
) -> AppResult<Response> {
    super::submissions::org_for_report(&state, &me, org_id).await?;
    let s = db::submissions::get(&state.db, Scope::Org(org_id), id)
        .await?
        .ok_or(AppError::NotFound)?;
    let page = match (s.kind.as_str(), s.location_id) {
        ("gateway_logs", Some(site)) => format!("locations/{site}/gateway-logs"),
        (kind, _) => draft_page(kind).ok_or(AppError::NotFound)?.to_string(),
    };
    let mut tx = state.db.begin().await?;
    let flash = match db::review::revise(&mut tx, org_id, id).await? {
        Revised::Opened(draft) => {
            let mut entry = me.audit(&ctx, "submission.revised", Some(org_id), draft.to_string());
            entry.detail = serde_json::json!({ "from": id });
            db::audit::append(&mut tx, &entry).await?;
            tx.commit().await?;
            "flash.revising"
        }
        // A repeated click lands on the version the first one opened.
        Revised::Already(_) => "flash.revising",
        Revised::DraftOpen(_) => "flash.draft_already_open",
        Revised::NotReturned => return Err(AppError::Conflict),
    };
    Ok(redirect_with_flash(
        &format!("/orgs/{org_id}/{page}"),
        flash,
        state.cookies.secure,
    ))
}

/// A comment as shown.
pub struct CommentItem {
    pub author: String,
    pub center: bool,
    pub body: String,
    pub at: String,
}

/// The thread of a submission for the caller's scope.
pub async fn thread(state: &AppState, scope: Scope, id: Uuid) -> AppResult<Vec<CommentItem>> {
    Ok(db::review::comments(&state.db, scope, id)
        .await?
        .into_iter()
        .map(|c| CommentItem {
            author: c.author,
            center: Role::parse(&c.author_role).is_some_and(Role::is_center),
            body: c.body,
            at: jst(&c.created_at),
        })
        .collect())
}

/// Why the version a draft revises was returned, shown above the draft's form.
pub struct ReturnNote {
    pub id: Uuid,
    pub receipt: String,
    pub reason: String,
    pub reviewer: String,
    pub at: String,
    pub comments: Vec<CommentItem>,
}

/// The return reason and comments of the version `draft` revises (`None`: not a revision).
pub async fn return_note(
    state: &AppState,
    org_id: Uuid,
    draft: Option<Uuid>,
) -> AppResult<Option<ReturnNote>> {
    let Some(draft) = draft else { return Ok(None) };
    let Some(from) = db::review::revised_from(&state.db, org_id, draft).await? else {
        return Ok(None);
    };
    let Some(d) = db::review::decision(&state.db, Scope::Org(org_id), from).await? else {
        return Ok(None);
    };
    let receipt = db::submissions::get(&state.db, Scope::Org(org_id), from)
        .await?
        .and_then(|s| s.receipt_no)
        .unwrap_or_default();
    Ok(Some(ReturnNote {
        id: from,
        receipt,
        reason: d.reason,
        reviewer: d.reviewer,
        at: jst(&d.decided_at),
        comments: thread(state, Scope::Org(org_id), from).await?,
    }))
}

#[derive(Deserialize)]
pub struct CommentForm {
    #[serde(default)]
    body: String,
}

/// The form under a comment thread: where it posts, and after a refusal the text as typed
/// and why it was refused.
pub struct CommentBox {
    pub action: String,
    pub draft: String,
    pub error: Option<&'static str>,
}

impl CommentBox {
    pub fn new(action: String) -> CommentBox {
        CommentBox {
            action,
            draft: String::new(),
            error: None,
        }
    }
}

/// The longest comment, in characters.
const COMMENT_MAX: usize = 4000;

/// Posts a comment (Center staff on any submission, an organisation on its own); a refusal
/// answers the message to show next to the text, which the page keeps.
async fn post_comment(
    state: &Arc<AppState>,
    ctx: &Ctx,
    me: &CurrentUser,
    id: Uuid,
    body: &str,
) -> AppResult<Result<(), &'static str>> {
    let body = body.trim();
    if body.is_empty() {
        return Ok(Err("error.comment_required"));
    }
    if body.chars().count() > COMMENT_MAX {
        return Ok(Err("error.comment_too_long"));
    }
    let mut tx = state.db.begin().await?;
    let org = db::review::add_comment(&mut tx, me.scope(), id, me.id, body)
        .await?
        .ok_or(AppError::NotFound)?;
    db::audit::append(
        &mut tx,
        &me.audit(ctx, "submission.commented", Some(org), id.to_string()),
    )
    .await?;
    // The other side hears of it: the organisation, or the reviewer who took the submission.
    let to = if me.role.is_center() {
        Some((
            To::Org(org),
            format!("/orgs/{org}/submissions/{id}/receipt#comments"),
        ))
    } else {
        db::review::assignee(&state.db, id)
            .await?
            .map(|(u, _)| (To::User(u), format!("/review/{id}#comments")))
    };
    let mail = match to {
        Some((to, link)) => {
            notify(
                &mut tx,
                &state.config.base_url,
                to,
                &Notice {
                    kind: "comment",
                    message: "mail.comment",
                    args: vec![("author", me.name.clone())],
                    link,
                },
            )
            .await?
        }
        None => Default::default(),
    };
    tx.commit().await?;
    mail.send(state);
    Ok(Ok(()))
}

/// `POST /review/{id}/comments`
pub async fn comment_center(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Path(id): Path<Uuid>,
    CsrfForm(form): CsrfForm<CommentForm>,
) -> AppResult<Response> {
    center(&me)?;
    if let Err(key) = post_comment(&state, &ctx, &me, id, &form.body).await? {
        let mut view =
            show_view(&state, &ctx, &me, id, FieldErrors::default(), String::new()).await?;
        view.comment_box.draft = form.body;
        view.comment_box.error = Some(key);
        return render(StatusCode::UNPROCESSABLE_ENTITY, &view);
    }
    Ok(redirect_with_flash(
        &format!("/review/{id}#comments"),
        "flash.commented",
        state.cookies.secure,
    ))
}

/// `POST /orgs/{org}/submissions/{id}/comments`
pub async fn comment_org(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Path((org_id, id)): Path<(Uuid, Uuid)>,
    CsrfForm(form): CsrfForm<CommentForm>,
) -> AppResult<Response> {
    super::structure::org_for(&state, &me, org_id, false).await?;
    db::submissions::get(&state.db, Scope::Org(org_id), id)
        .await?
        .ok_or(AppError::NotFound)?;
    if let Err(key) = post_comment(&state, &ctx, &me, id, &form.body).await? {
        let mut view = super::submissions::receipt_view(&state, &ctx, &me, org_id, id).await?;
        view.comment_box.draft = form.body;
        view.comment_box.error = Some(key);
        return render(StatusCode::UNPROCESSABLE_ENTITY, &view);
    }
    Ok(redirect_with_flash(
        &format!("/orgs/{org_id}/submissions/{id}/receipt#comments"),
        "flash.commented",
        state.cookies.secure,
    ))
}

//! Follow-up between the Center and an organisation: improvement instructions (改善措置の
//! 指示) — issued, answered with a corrective-action report, extended or not, closed or
//! reopened, every step kept — and requests (提出依頼) for items 5 and 6.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::NaiveDate;
use serde::Deserialize;
use uuid::Uuid;

use super::ctx::{CsrfForm, Ctx, CurrentUser, check_multipart_token};
use super::error::{AppError, AppResult};
use super::forms::{FieldErrors, Nothing};
use super::html::common::access::org_for;
use super::html::common::files::{Served, human_size, send_file};
use super::page::{Page, jst, redirect_with_flash, render, today};
use super::state::AppState;
use crate::app::notify::{Notice, To, notify};
use crate::db::catalogue::Catalogue;
use crate::db::followup::{InstructionRow, NewInstruction, NewRequest, RequestRow, Step};
use crate::db::{self, orgs::OrgRow};
use crate::domain::input::date;
use crate::domain::{Role, Scope};
use crate::files::UploadError;

const CENTER: &[Role] = &[Role::Reviewer, Role::CenterAdmin];

/// The most rows a follow-up list shows (exports take everything).
const LIST_LIMIT: i64 = 500;

/// Items the Center may request (on-request items of the catalogue).
pub const REQUESTABLE: [&str; 2] = ["inhouse_measures", "gateway_logs"];

/// Free text: trimmed, required or not, at most 4,000 characters.
fn long_text(raw: &str, required: bool) -> Result<String, &'static str> {
    let s = raw.trim();
    if required && s.is_empty() {
        Err("error.required")
    } else if s.chars().count() > 4000 {
        Err("error.too_long")
    } else {
        Ok(s.to_string())
    }
}

/// A due date: a valid date, today or later (Japan time).
fn due(raw: &str) -> Result<NaiveDate, &'static str> {
    let d = date(raw)?;
    if d < today() {
        Err("error.due_in_past")
    } else {
        Ok(d)
    }
}

/// An instruction as lists and pages show it.
pub struct InstructionItem {
    pub id: Uuid,
    pub org_id: Uuid,
    pub org: String,
    pub item: String,
    pub place: String,
    pub problem: String,
    pub required_change: String,
    pub due: String,
    pub state: String,
    pub state_key: String,
    pub overdue: bool,
    pub extension: Option<(String, String)>,
    pub issuer: String,
    pub issued: String,
    pub receipt: Option<(Uuid, String)>,
    pub version: i64,
}

fn instruction_item(c: &Catalogue, lang: &str, r: InstructionRow) -> InstructionItem {
    let overdue = r.state == "open" && r.due_date < today();
    InstructionItem {
        id: r.id,
        org_id: r.org_id,
        org: format!("{}（{}）", r.org_name, r.org_code),
        item: c.item_title(&r.item_key, lang),
        place: r.location_name.unwrap_or_default(),
        problem: r.problem,
        required_change: r.required_change,
        due: r.due_date.to_string(),
        state_key: format!("followup.state.{}", r.state),
        state: r.state,
        overdue,
        extension: r
            .extension_until
            .map(|d| (d.to_string(), r.extension_reason.unwrap_or_default())),
        issuer: r.issuer,
        issued: jst(&r.created_at),
        receipt: r.submission_id.zip(r.receipt_no),
        version: r.version,
    }
}

/// A request as lists show it.
pub struct RequestItem {
    pub id: Uuid,
    pub org_id: Uuid,
    pub org: String,
    pub item: String,
    pub place: String,
    pub period: String,
    pub due: String,
    /// The day uploads open, when the request has one.
    pub opens: String,
    pub note: String,
    pub state: String,
    pub state_key: String,
    pub overdue: bool,
    /// Answered after the due date (期限後).
    pub late: bool,
    pub answer: Option<(Uuid, String)>,
    pub issuer: String,
    pub issued: String,
    pub link: String,
}

fn request_item(c: &Catalogue, lang: &str, r: RequestRow) -> RequestItem {
    let link = match (r.item_key.as_str(), r.location_id) {
        ("gateway_logs", Some(l)) => format!("/orgs/{}/locations/{l}/gateway-logs", r.org_id),
        ("gateway_logs", None) => format!("/orgs/{}", r.org_id),
        _ => format!("/orgs/{}/inhouse-measures", r.org_id),
    };
    RequestItem {
        id: r.id,
        org_id: r.org_id,
        org: format!("{}（{}）", r.org_name, r.org_code),
        item: c.item_title(&r.item_key, lang),
        place: r.location_name.unwrap_or_default(),
        period: match (r.period_from, r.period_to) {
            (Some(a), Some(b)) => format!("{a} – {b}"),
            _ => String::new(),
        },
        due: r.due_date.to_string(),
        opens: r.opens_on.map(|d| d.to_string()).unwrap_or_default(),
        note: r.note,
        overdue: r.state == "open" && r.due_date < today(),
        late: r.state == "answered" && r.answered_late,
        state_key: format!("followup.request_state.{}", r.state),
        state: r.state,
        answer: r.submission_id.zip(r.receipt_no),
        issuer: r.issuer,
        issued: jst(&r.created_at),
        link,
    }
}

/// What the new-instruction form holds.
#[derive(Deserialize, Default)]
pub struct InstructionForm {
    #[serde(default)]
    submission_id: String,
    #[serde(default)]
    item_key: String,
    #[serde(default)]
    location_id: String,
    #[serde(default)]
    problem: String,
    #[serde(default)]
    required_change: String,
    #[serde(default)]
    due_date: String,
}

/// What the new-request form holds.
#[derive(Deserialize, Default)]
pub struct RequestForm {
    #[serde(default)]
    item_key: String,
    #[serde(default)]
    location_id: String,
    #[serde(default)]
    period_from: String,
    #[serde(default)]
    period_to: String,
    #[serde(default)]
    opens_on: String,
    #[serde(default)]
    due_date: String,
    #[serde(default)]
    note: String,
}

#[derive(Template)]
#[template(path = "followup/org.html")]
struct OrgView {
    page: Page,
    org_id: Uuid,
    org_name: String,
    org_code: String,
    instructions: Vec<InstructionItem>,
    requests: Vec<RequestItem>,
    is_center: bool,
    items: Vec<(String, String)>,
    requestable: Vec<(String, String)>,
    locations: Vec<(Uuid, String)>,
    sites: Vec<(Uuid, String)>,
    i: InstructionForm,
    r: RequestForm,
    errors: FieldErrors,
    from_receipt: Option<String>,
}

async fn org_view(
    state: &AppState,
    ctx: &Ctx,
    me: &CurrentUser,
    org: &OrgRow,
    i: InstructionForm,
    r: RequestForm,
    errors: FieldErrors,
) -> AppResult<OrgView> {
    let t = ctx.tr();
    let lang = t.code();
    let catalogue = state.catalogue().await?;
    let locations = db::structure::list(&state.db, Some(org.id)).await?;
    let from_receipt = match Uuid::parse_str(&i.submission_id) {
        Ok(s) => db::submissions::get(&state.db, Scope::Org(org.id), s)
            .await?
            .and_then(|s| s.receipt_no),
        Err(_) => None,
    };
    Ok(OrgView {
        page: Page::new(ctx, Some(me)),
        org_id: org.id,
        org_name: org.name.clone(),
        org_code: org.user_code.clone(),
        instructions: db::followup::instructions(&state.db, Some(org.id), false, None, LIST_LIMIT)
            .await?
            .into_iter()
            .map(|r| instruction_item(&catalogue, lang, r))
            .collect(),
        requests: db::followup::requests(&state.db, Some(org.id), false, LIST_LIMIT)
            .await?
            .into_iter()
            .map(|r| request_item(&catalogue, lang, r))
            .collect(),
        is_center: me.role.is_center(),
        items: catalogue
            .items
            .iter()
            .map(|c| (c.key.clone(), format!("{} {}", c.number, c.title(lang))))
            .collect(),
        requestable: REQUESTABLE
            .iter()
            .map(|k| (k.to_string(), catalogue.item_title(k, lang)))
            .collect(),
        locations: locations
            .iter()
            .filter(|l| l.active)
            .map(|l| (l.id, l.name.clone()))
            .collect(),
        sites: locations
            .iter()
            .filter(|l| l.active && l.kind == "gateway_site")
            .map(|l| (l.id, l.name.clone()))
            .collect(),
        i,
        r,
        errors,
        from_receipt,
    })
}

#[derive(Deserialize, Default)]
pub struct OrgQuery {
    #[serde(default)]
    submission: String,
}

/// `GET /orgs/{org}/followup`: the organisation's instructions and requests; Center staff
/// also get the forms to issue them (prefilled from a submission with `?submission=`).
pub async fn org_page(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Path(org_id): Path<Uuid>,
    Query(q): Query<OrgQuery>,
) -> AppResult<Response> {
    let org = org_for(&state, &me, org_id, false).await?;
    let mut i = InstructionForm::default();
    if me.role.is_center()
        && let Ok(sid) = Uuid::parse_str(&q.submission)
    {
        let s = db::submissions::get(&state.db, Scope::Org(org_id), sid)
            .await?
            .ok_or(AppError::NotFound)?;
        i.submission_id = sid.to_string();
        i.item_key = s.kind;
        i.location_id = s.location_id.map(|l| l.to_string()).unwrap_or_default();
    }
    render(
        StatusCode::OK,
        &org_view(
            &state,
            &ctx,
            &me,
            &org,
            i,
            RequestForm::default(),
            FieldErrors::default(),
        )
        .await?,
    )
}

/// A location id from a form: empty is none; another organisation's is 404.
async fn own_location(state: &AppState, org_id: Uuid, raw: &str) -> AppResult<Option<Uuid>> {
    if raw.trim().is_empty() {
        return Ok(None);
    }
    let id = Uuid::parse_str(raw.trim()).map_err(|_| AppError::NotFound)?;
    db::structure::get(&state.db, org_id, id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(Some(id))
}

/// `POST /orgs/{org}/instructions`: the Center issues an improvement instruction.
pub async fn issue_instruction(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Path(org_id): Path<Uuid>,
    CsrfForm(form): CsrfForm<InstructionForm>,
) -> AppResult<Response> {
    me.require(CENTER)?;
    let org = org_for(&state, &me, org_id, false).await?;
    let catalogue = state.catalogue().await?;
    let submission = match form.submission_id.trim() {
        "" => None,
        raw => {
            let id = Uuid::parse_str(raw).map_err(|_| AppError::NotFound)?;
            db::submissions::get(&state.db, Scope::Org(org_id), id)
                .await?
                .ok_or(AppError::NotFound)?;
            Some(id)
        }
    };
    let location = own_location(&state, org_id, &form.location_id).await?;
    let mut errors = FieldErrors::default();
    if !catalogue.items.iter().any(|i| i.key == form.item_key) {
        errors.add("item_key", "error.choose_one");
    }
    let problem = errors.take("problem", long_text(&form.problem, true));
    let change = errors.take("required_change", long_text(&form.required_change, true));
    let due_date = errors.take("due_date", due(&form.due_date));
    let (Some(problem), Some(change), Some(due_date), true) =
        (problem, change, due_date, errors.is_empty())
    else {
        return render(
            StatusCode::UNPROCESSABLE_ENTITY,
            &org_view(
                &state,
                &ctx,
                &me,
                &org,
                form,
                RequestForm::default(),
                errors,
            )
            .await?,
        );
    };
    let mut tx = state.db.begin().await?;
    let id = db::followup::issue(
        &mut tx,
        &NewInstruction {
            org_id,
            submission_id: submission,
            item_key: &form.item_key,
            location_id: location,
            problem: &problem,
            required_change: &change,
            due_date,
            by: me.id,
        },
    )
    .await?;
    let mut entry = me.audit(&ctx, "instruction.issued", Some(org_id), id.to_string());
    entry.detail =
        serde_json::json!({ "item": form.item_key, "due": due_date, "submission": submission });
    db::audit::append(&mut tx, &entry).await?;
    let link = format!("/orgs/{org_id}/instructions/{id}");
    let mail = notify(
        &mut tx,
        &state.config.base_url,
        To::Org(org_id),
        &Notice {
            kind: "instruction",
            message: "mail.instruction_issued",
            args: vec![
                ("item_ja", catalogue.item_title(&form.item_key, "ja")),
                ("item_en", catalogue.item_title(&form.item_key, "en")),
                ("due", due_date.to_string()),
            ],
            link: link.clone(),
        },
    )
    .await?;
    tx.commit().await?;
    mail.send(&state);
    Ok(redirect_with_flash(
        &link,
        "flash.instruction_issued",
        state.cookies.secure,
    ))
}

/// `POST /orgs/{org}/requests`: the Center requests item 5 or item 6 (with the period).
pub async fn issue_request(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Path(org_id): Path<Uuid>,
    CsrfForm(form): CsrfForm<RequestForm>,
) -> AppResult<Response> {
    me.require(CENTER)?;
    let org = org_for(&state, &me, org_id, false).await?;
    let catalogue = state.catalogue().await?;
    let location = own_location(&state, org_id, &form.location_id).await?;
    let mut errors = FieldErrors::default();
    if !REQUESTABLE.contains(&form.item_key.as_str()) {
        errors.add("item_key", "error.choose_one");
    }
    let logs = form.item_key == "gateway_logs";
    let period = if logs {
        let from = errors.take("period_from", date(&form.period_from));
        let to = errors.take("period_to", date(&form.period_to));
        match (from, to) {
            (Some(a), Some(b)) if b < a => {
                errors.add("period_to", "error.to_before_from");
                None
            }
            (Some(a), Some(b)) => Some((a, b)),
            _ => None,
        }
    } else {
        None
    };
    let due_date = errors.take("due_date", due(&form.due_date));
    // The window: uploads open on this day (none: at once) and close on the due date.
    let opens_on = if form.opens_on.trim().is_empty() {
        None
    } else {
        errors.take("opens_on", date(&form.opens_on))
    };
    if let (Some(o), Some(d)) = (opens_on, due_date)
        && o > d
    {
        errors.add("opens_on", "followup.error.opens_after_due");
    }
    let note = errors.take("note", long_text(&form.note, false));
    let (Some(due_date), Some(note), true) = (due_date, note, errors.is_empty()) else {
        return render(
            StatusCode::UNPROCESSABLE_ENTITY,
            &org_view(
                &state,
                &ctx,
                &me,
                &org,
                InstructionForm::default(),
                form,
                errors,
            )
            .await?,
        );
    };
    let mut tx = state.db.begin().await?;
    let id = db::followup::request(
        &mut tx,
        &NewRequest {
            org_id,
            item_key: &form.item_key,
            location_id: if logs { location } else { None },
            period,
            opens_on,
            due_date,
            note: &note,
            by: me.id,
        },
    )
    .await?;
    let mut entry = me.audit(&ctx, "request.issued", Some(org_id), id.to_string());
    entry.detail = serde_json::json!({ "item": form.item_key, "due": due_date, "opens": opens_on, "period": period });
    db::audit::append(&mut tx, &entry).await?;
    let mail = notify(
        &mut tx,
        &state.config.base_url,
        To::Org(org_id),
        &Notice {
            kind: "request",
            message: "mail.request_issued",
            args: vec![
                ("item_ja", catalogue.item_title(&form.item_key, "ja")),
                ("item_en", catalogue.item_title(&form.item_key, "en")),
                ("due", due_date.to_string()),
                (
                    "period",
                    period
                        .map(|(a, b)| format!("{a} – {b}"))
                        .unwrap_or_default(),
                ),
            ],
            link: format!("/orgs/{org_id}/followup"),
        },
    )
    .await?;
    tx.commit().await?;
    mail.send(&state);
    Ok(redirect_with_flash(
        &format!("/orgs/{org_id}/followup#requests"),
        "flash.request_issued",
        state.cookies.secure,
    ))
}

/// `POST /orgs/{org}/requests/{id}/withdraw`
pub async fn withdraw_request(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Path((org_id, id)): Path<(Uuid, Uuid)>,
    CsrfForm(_): CsrfForm<Nothing>,
) -> AppResult<Response> {
    me.require(CENTER)?;
    org_for(&state, &me, org_id, false).await?;
    let mut tx = state.db.begin().await?;
    match db::followup::withdraw(&mut tx, org_id, id).await? {
        None => return Err(AppError::NotFound),
        Some(false) => return Err(AppError::Conflict),
        Some(true) => {}
    }
    db::audit::append(
        &mut tx,
        &me.audit(&ctx, "request.withdrawn", Some(org_id), id.to_string()),
    )
    .await?;
    tx.commit().await?;
    Ok(redirect_with_flash(
        &format!("/orgs/{org_id}/followup#requests"),
        "flash.saved",
        state.cookies.secure,
    ))
}

/// A history entry as shown.
pub struct EventItem {
    pub kind_key: String,
    pub actor: String,
    pub center: bool,
    pub body: String,
    pub due: Option<String>,
    pub at: String,
    pub files: Vec<(Uuid, String, String)>,
}

#[derive(Template)]
#[template(path = "followup/instruction.html")]
struct InstructionView {
    page: Page,
    org_id: Uuid,
    i: InstructionItem,
    events: Vec<EventItem>,
    is_center: bool,
    can_answer: bool,
    can_ask: bool,
    errors: FieldErrors,
    body: String,
    until: String,
    reason: String,
    max_files: usize,
    problems: Vec<String>,
}

async fn instruction_view(
    state: &AppState,
    ctx: &Ctx,
    me: &CurrentUser,
    org_id: Uuid,
    id: Uuid,
    errors: FieldErrors,
    values: (String, String, String),
) -> AppResult<InstructionView> {
    org_for(state, me, org_id, false).await?;
    let scope = Scope::Org(org_id);
    let row = db::followup::instruction(&state.db, scope, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let t = ctx.tr();
    let catalogue = state.catalogue().await?;
    let files = db::followup::files(&state.db, scope, id).await?;
    let events = db::followup::events(&state.db, scope, id)
        .await?
        .into_iter()
        .map(|e| EventItem {
            kind_key: format!("followup.event.{}", e.kind),
            actor: e.actor,
            center: Role::parse(&e.actor_role).is_some_and(Role::is_center),
            body: e.body,
            due: e.due_date.map(|d| d.to_string()),
            at: jst(&e.created_at),
            files: files
                .iter()
                .filter(|f| f.event_id == e.id)
                .map(|f| (f.id, f.name.clone(), human_size(f.size)))
                .collect(),
        })
        .collect();
    let org_user = !me.role.is_center();
    let i = instruction_item(&catalogue, t.code(), row);
    Ok(InstructionView {
        page: Page::new(ctx, Some(me)),
        org_id,
        can_answer: org_user && i.state == "open",
        can_ask: org_user && i.state == "open" && i.extension.is_none(),
        i,
        events,
        is_center: me.role.is_center(),
        errors,
        body: values.0,
        until: values.1,
        reason: values.2,
        max_files: state.files.max_files,
        problems: vec![],
    })
}

/// `GET /orgs/{org}/instructions/{id}`
pub async fn instruction_page(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Path((org_id, id)): Path<(Uuid, Uuid)>,
) -> AppResult<Response> {
    render(
        StatusCode::OK,
        &instruction_view(
            &state,
            &ctx,
            &me,
            org_id,
            id,
            FieldErrors::default(),
            Default::default(),
        )
        .await?,
    )
}

/// Re-shows the instruction with an error (422 for input, 409 when the page was stale).
async fn again(
    state: &AppState,
    ctx: &Ctx,
    me: &CurrentUser,
    (org_id, id): (Uuid, Uuid),
    status: StatusCode,
    errors: FieldErrors,
    values: (String, String, String),
) -> AppResult<Response> {
    render(
        status,
        &instruction_view(state, ctx, me, org_id, id, errors, values).await?,
    )
}

fn stale() -> FieldErrors {
    let mut e = FieldErrors::default();
    e.add("_form", "error.instruction_changed");
    e
}

/// One step of an instruction with everything that goes with it.
struct Change<'a> {
    scope: Scope,
    version: i64,
    step: Step,
    body: &'a str,
    date: Option<NaiveDate>,
    /// Files of a corrective-action report, already in the store.
    files: &'a [crate::files::Stored],
    detail: serde_json::Value,
    to: To,
    notice: Notice,
    flash: &'static str,
}

/// The audit action of a step.
fn action_of(step: Step) -> &'static str {
    match step {
        Step::Answer => "instruction.answered",
        Step::AskExtension => "instruction.extension_requested",
        Step::Grant => "instruction.extension_granted",
        Step::Refuse => "instruction.extension_refused",
        Step::Reopen => "instruction.reopened",
        Step::Close => "instruction.closed",
    }
}

/// Applies a step in one transaction — the history entry, the report's files, the audit entry
/// and the notice — then mails and goes back to the instruction. A stale page (the
/// instruction moved on) is shown the instruction again with 409 and nothing applied.
async fn apply(
    state: &Arc<AppState>,
    ctx: &Ctx,
    me: &CurrentUser,
    (org_id, id): (Uuid, Uuid),
    c: Change<'_>,
    values: (String, String, String),
) -> AppResult<Response> {
    let mut tx = state.db.begin().await?;
    let Some((event, _)) = db::followup::step(
        &mut tx, c.scope, id, c.version, c.step, c.body, c.date, me.id,
    )
    .await?
    else {
        drop(tx);
        return again(
            state,
            ctx,
            me,
            (org_id, id),
            StatusCode::CONFLICT,
            stale(),
            values,
        )
        .await;
    };
    for f in c.files {
        db::followup::attach(&mut tx, org_id, id, event, f).await?;
    }
    let mut entry = me.audit(ctx, action_of(c.step), Some(org_id), id.to_string());
    entry.detail = c.detail;
    db::audit::append(&mut tx, &entry).await?;
    let mail = notify(&mut tx, &state.config.base_url, c.to, &c.notice).await?;
    tx.commit().await?;
    mail.send(state);
    Ok(redirect_with_flash(
        &format!("/orgs/{org_id}/instructions/{id}"),
        c.flash,
        state.cookies.secure,
    ))
}

/// The organisation's user acting on its own instruction (Center staff: 403).
async fn org_side(
    state: &AppState,
    me: &CurrentUser,
    org_id: Uuid,
    id: Uuid,
) -> AppResult<InstructionRow> {
    org_for(state, me, org_id, false).await?;
    if me.role.is_center() {
        return Err(AppError::Forbidden);
    }
    db::followup::instruction(&state.db, Scope::Org(org_id), id)
        .await?
        .ok_or(AppError::NotFound)
}

/// `POST /orgs/{org}/instructions/{id}/answer` (multipart: `csrf_token`, `version`, `body`,
/// then `files`): the corrective-action report.
pub async fn answer(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Path((org_id, id)): Path<(Uuid, Uuid)>,
    mut form: Multipart,
) -> AppResult<Response> {
    let bad = |_| AppError::BadRequest;
    check_multipart_token(&mut form, &me).await?;
    let row = org_side(&state, &me, org_id, id).await?;
    let (mut version, mut body) = (None, String::new());
    let mut stored = vec![];
    let mut problems = vec![];
    let t = ctx.tr();
    while let Some(field) = form.next_field().await.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            AppError::TooLarge
        } else {
            AppError::BadRequest
        }
    })? {
        match field.name() {
            Some("version") => version = field.text().await.map_err(bad)?.trim().parse().ok(),
            Some("body") => body = field.text().await.map_err(bad)?,
            Some("files") => {
                let Some(raw) = field.file_name().map(str::to_string) else {
                    continue;
                };
                if raw.is_empty() {
                    continue;
                }
                let shown: String = raw.chars().filter(|c| !c.is_control()).take(80).collect();
                if stored.len() >= state.files.max_files {
                    problems.push(t.f(
                        "upload.too_many",
                        &[
                            ("name", &shown),
                            ("max", &state.files.max_files.to_string()),
                        ],
                    ));
                    break;
                }
                match state.files.receive(&raw, Box::pin(field)).await {
                    Ok(s) => {
                        state.metrics.uploaded(s.size);
                        stored.push(s);
                    }
                    Err(UploadError::TooLarge) => return Err(AppError::TooLarge),
                    Err(UploadError::Interrupted(_)) => return Err(AppError::BadRequest),
                    Err(UploadError::Refused(r)) => problems
                        .push(t.f("upload.refused", &[("name", &shown), ("reason", t.t(r.0))])),
                    // Only gateway-log uploads run the log check.
                    Err(UploadError::Log(r)) => problems.push(t.f(
                        "upload.refused",
                        &[
                            ("name", &shown),
                            ("reason", &super::html::common::logcheck::refusal(&t, &r)),
                        ],
                    )),
                    Err(UploadError::Io(e)) => return Err(AppError::Internal(e)),
                }
            }
            _ => {}
        }
    }
    let key = (org_id, id);
    let mut errors = FieldErrors::default();
    let text = errors.take("body", long_text(&body, true));
    let Some(text) = text.filter(|_| problems.is_empty()) else {
        let mut view = instruction_view(
            &state,
            &ctx,
            &me,
            org_id,
            id,
            errors,
            (body, String::new(), String::new()),
        )
        .await?;
        view.problems = problems;
        return render(StatusCode::UNPROCESSABLE_ENTITY, &view);
    };
    let detail = serde_json::json!({
        "files": stored.iter().map(|s| serde_json::json!({ "name": s.name, "sha256": s.sha256, "size": s.size })).collect::<Vec<_>>()
    });
    let change = Change {
        scope: Scope::Org(org_id),
        version: version.unwrap_or(row.version),
        step: Step::Answer,
        body: &text,
        date: None,
        files: &stored,
        detail,
        to: To::User(db::followup::issuer(&state.db, id).await?),
        notice: Notice {
            kind: "answered",
            message: "mail.instruction_answered",
            args: vec![
                ("org", row.org_name.clone()),
                ("due", row.due_date.to_string()),
            ],
            link: format!("/orgs/{org_id}/instructions/{id}"),
        },
        flash: "flash.answered",
    };
    apply(
        &state,
        &ctx,
        &me,
        key,
        change,
        (body, String::new(), String::new()),
    )
    .await
}

#[derive(Deserialize)]
pub struct ExtensionForm {
    #[serde(default)]
    version: i64,
    #[serde(default)]
    until: String,
    #[serde(default)]
    reason: String,
}

/// `POST /orgs/{org}/instructions/{id}/extension`: the organisation asks for more time.
pub async fn ask_extension(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Path((org_id, id)): Path<(Uuid, Uuid)>,
    CsrfForm(form): CsrfForm<ExtensionForm>,
) -> AppResult<Response> {
    let row = org_side(&state, &me, org_id, id).await?;
    let mut errors = FieldErrors::default();
    let until = errors.take("until", due(&form.until));
    if until.is_some_and(|u| u <= row.due_date) {
        errors.add("until", "error.extension_not_later");
    }
    let reason = errors.take("reason", long_text(&form.reason, true));
    let values = (String::new(), form.until.clone(), form.reason.clone());
    let (Some(until), Some(reason), true) = (until, reason, errors.is_empty()) else {
        return again(
            &state,
            &ctx,
            &me,
            (org_id, id),
            StatusCode::UNPROCESSABLE_ENTITY,
            errors,
            values,
        )
        .await;
    };
    let change = Change {
        scope: Scope::Org(org_id),
        version: form.version,
        step: Step::AskExtension,
        body: &reason,
        date: Some(until),
        files: &[],
        detail: serde_json::json!({ "until": until, "reason": reason }),
        to: To::User(db::followup::issuer(&state.db, id).await?),
        notice: Notice {
            kind: "extension",
            message: "mail.extension_requested",
            args: vec![("org", row.org_name.clone()), ("until", until.to_string())],
            link: format!("/orgs/{org_id}/instructions/{id}"),
        },
        flash: "flash.extension_requested",
    };
    apply(&state, &ctx, &me, (org_id, id), change, values).await
}

#[derive(Deserialize)]
pub struct DecideForm {
    #[serde(default)]
    version: i64,
    #[serde(default)]
    action: String,
    #[serde(default)]
    date: String,
    #[serde(default)]
    reason: String,
}

/// `POST /orgs/{org}/instructions/{id}/decide`: the Center grants or refuses an extension,
/// closes the instruction, or reopens it with a reason.
pub async fn decide(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Path((org_id, id)): Path<(Uuid, Uuid)>,
    CsrfForm(form): CsrfForm<DecideForm>,
) -> AppResult<Response> {
    me.require(CENTER)?;
    org_for(&state, &me, org_id, false).await?;
    let row = db::followup::instruction(&state.db, Scope::Org(org_id), id)
        .await?
        .ok_or(AppError::NotFound)?;
    let step = match form.action.as_str() {
        "grant" => Step::Grant,
        "refuse" => Step::Refuse,
        "close" => Step::Close,
        "reopen" => Step::Reopen,
        _ => return Err(AppError::BadRequest),
    };
    let mut errors = FieldErrors::default();
    let date_field = match step {
        Step::Grant => errors.take("date", due(&form.date)),
        Step::Reopen if !form.date.trim().is_empty() => errors.take("date", due(&form.date)),
        _ => None,
    };
    let reason = errors.take("reason", long_text(&form.reason, step == Step::Reopen));
    let values = (String::new(), form.date.clone(), form.reason.clone());
    let Some(reason) = reason.filter(|_| errors.is_empty()) else {
        return again(
            &state,
            &ctx,
            &me,
            (org_id, id),
            StatusCode::UNPROCESSABLE_ENTITY,
            errors,
            values,
        )
        .await;
    };
    let (kind, message) = match step {
        Step::Grant => ("extension", "mail.extension_granted"),
        Step::Refuse => ("extension", "mail.extension_refused"),
        Step::Reopen => ("instruction", "mail.instruction_reopened"),
        _ => ("instruction", "mail.instruction_closed"),
    };
    let change = Change {
        scope: Scope::Center,
        version: form.version,
        step,
        body: &reason,
        date: date_field,
        files: &[],
        detail: serde_json::json!({ "reason": reason, "date": date_field }),
        to: To::Org(org_id),
        notice: Notice {
            kind,
            message,
            args: vec![
                ("due", date_field.unwrap_or(row.due_date).to_string()),
                ("reason", reason.clone()),
            ],
            link: format!("/orgs/{org_id}/instructions/{id}"),
        },
        flash: "flash.saved",
    };
    apply(&state, &ctx, &me, (org_id, id), change, values).await
}

/// `GET /orgs/{org}/instruction-files/{id}`: a corrective-action file, as an attachment.
pub async fn download(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Path((org_id, id)): Path<(Uuid, Uuid)>,
) -> AppResult<Response> {
    org_for(&state, &me, org_id, false).await?;
    let f = db::followup::file(&state.db, Scope::Org(org_id), id)
        .await?
        .ok_or(AppError::NotFound)?;
    let served = Served {
        org_id: f.org_id,
        id: f.id,
        sha256: &f.sha256,
        name: &f.name,
        mime: &f.mime,
        size: f.size,
    };
    send_file(&state, &ctx, &me, served, false).await
}

#[derive(Template)]
#[template(path = "followup/center.html")]
struct CenterView {
    page: Page,
    is_center: bool,
    instructions: Vec<InstructionItem>,
    requests: Vec<RequestItem>,
}

/// `GET /review/followup`: every unclosed instruction and open request, by due date.
pub async fn center_page(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
) -> AppResult<Response> {
    me.require(CENTER)?;
    let t = ctx.tr();
    let catalogue = state.catalogue().await?;
    let view = CenterView {
        page: Page::new(&ctx, Some(&me)),
        is_center: true,
        instructions: db::followup::instructions(&state.db, None, true, None, LIST_LIMIT)
            .await?
            .into_iter()
            .map(|r| instruction_item(&catalogue, t.code(), r))
            .collect(),
        requests: db::followup::requests(&state.db, None, true, LIST_LIMIT)
            .await?
            .into_iter()
            .map(|r| request_item(&catalogue, t.code(), r))
            .collect(),
    };
    render(StatusCode::OK, &view)
}

/// Instructions issued from one submission (for the review page).
pub async fn of_submission(
    state: &AppState,
    lang: &str,
    submission: Uuid,
) -> AppResult<Vec<InstructionItem>> {
    let catalogue = state.catalogue().await?;
    Ok(
        db::followup::instructions(&state.db, None, false, Some(submission), LIST_LIMIT)
            .await?
            .into_iter()
            .map(|r| instruction_item(&catalogue, lang, r))
            .collect(),
    )
}

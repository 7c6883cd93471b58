//! Item 6 — 履歴（ログ）の管理, per gateway site: the log mechanism (where the send/receive
//! history is kept, for how long, how), and, when the Center asks, the logs for a period.
//! Each log file is checked against Table 7-4-2 before it is submitted; both sides see the
//! result.

use std::collections::HashMap;
use std::sync::Arc;

use askama::Template;
use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::NaiveDate;
use futures_util::TryStreamExt;
use uuid::Uuid;

use super::ctx::{CsrfForm, Ctx, CurrentUser};
use super::error::{AppError, AppResult};
use super::forms::FieldErrors;
use super::page::{Page, jst, redirect_with_flash, render};
use super::state::AppState;
use super::structure::{date, location_for};
use super::submissions::{
    FileItem, draft_at, file_item, org_for_report, read_table, receive_files,
};
use crate::db::{self, orgs::OrgRow, structure::LocationRow};
use crate::domain::gatewaylog::{self, LogCheck};
use crate::domain::{Role, Scope};

const KIND: &str = "gateway_logs";

/// Checks already made, by file content and period.
type CheckKey = (String, Option<(NaiveDate, NaiveDate)>);
static CHECKS: std::sync::OnceLock<std::sync::Mutex<HashMap<CheckKey, LogCheck>>> =
    std::sync::OnceLock::new();
/// Table 7-4-2: logs are kept for one year.
const MIN_RETENTION_MONTHS: i64 = 12;

/// The check of one log file as shown.
pub struct CheckItem {
    pub name: String,
    pub check: LogCheck,
    pub clean: bool,
}

#[derive(Template)]
#[template(path = "submissions/gateway_logs.html")]
struct LogsView {
    page: Page,
    /// Why the version this draft revises was returned.
    returned: Option<super::review::ReturnNote>,
    org_id: Uuid,
    org_name: String,
    site_id: Uuid,
    site_name: String,
    fields: HashMap<String, String>,
    files: Vec<FileItem>,
    checks: Vec<CheckItem>,
    request: Option<(String, String, String)>,
    errors: FieldErrors,
    problems: Vec<String>,
    can_edit: bool,
    last: Option<(Uuid, String)>,
}

impl LogsView {
    fn value(&self, k: &str) -> &str {
        self.fields.get(k).map(String::as_str).unwrap_or("")
    }
}

/// A gateway site of the organisation (an office: 404).
async fn site_for(
    state: &AppState,
    me: &CurrentUser,
    org_id: Uuid,
    site: Uuid,
) -> AppResult<(OrgRow, LocationRow)> {
    let (org, loc) = location_for(state, me, org_id, site, false).await?;
    if loc.kind != "gateway_site" {
        return Err(AppError::NotFound);
    }
    Ok((org, loc))
}

/// Checks one log's bytes: CSV or text row by row (the rows are never all held), a workbook
/// through its first sheet.
fn check_log(bytes: &[u8], period: Option<(NaiveDate, NaiveDate)>) -> LogCheck {
    let refused = |key: &str| LogCheck {
        problems: vec![(1, key.to_string())],
        ..Default::default()
    };
    if bytes.starts_with(b"PK\x03\x04") {
        return match read_table(bytes) {
            Ok(table) => gatewaylog::check(table, period),
            Err(key) => refused(key),
        };
    }
    match crate::domain::csv::decode(bytes) {
        Some(text) => gatewaylog::check(crate::domain::csv::Records::new(&text), period),
        None => refused("error.csv_encoding"),
    }
}

/// Log checks read the whole file (up to the upload limit): one at a time.
static LOG_CHECK: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(1);

/// Reads and checks each log file of a submission (CSV or text, UTF-8 or Shift_JIS).
async fn check_files(
    state: &AppState,
    org_id: Uuid,
    submission: Uuid,
    period: Option<(NaiveDate, NaiveDate)>,
) -> AppResult<Vec<CheckItem>> {
    let mut out = vec![];
    for f in db::submissions::files(&state.db, Scope::Org(org_id), submission).await? {
        // Files are stored by content, so a check of (content, period) never goes stale: the
        // page shows it on every view without reading the log again.
        let key = (f.sha256.clone(), period);
        let known = CHECKS
            .get_or_init(Default::default)
            .lock()
            .ok()
            .and_then(|c| c.get(&key).cloned());
        let check = match known {
            Some(c) => c,
            None => {
                // One log in memory at a time, however many pages are opened at once.
                let _permit = LOG_CHECK
                    .acquire()
                    .await
                    .map_err(|e| AppError::Internal(e.into()))?;
                let mut stream = state
                    .files
                    .read(&f.sha256)
                    .await
                    .map_err(AppError::Internal)?;
                // One buffer of the file's size, filled chunk by chunk (not chunks and a copy).
                let mut bytes = Vec::with_capacity(usize::try_from(f.size).unwrap_or(0));
                while let Some(chunk) = stream
                    .try_next()
                    .await
                    .map_err(|e| AppError::Internal(e.into()))?
                {
                    bytes.extend_from_slice(&chunk);
                }
                // Parsing a large log is CPU work: off the async threads.
                let check = tokio::task::spawn_blocking(move || check_log(&bytes, period))
                    .await
                    .map_err(|e| AppError::Internal(e.into()))?;
                if let Ok(mut c) = CHECKS.get_or_init(Default::default).lock() {
                    if c.len() > 1000 {
                        c.clear();
                    }
                    c.insert(key, check.clone());
                }
                check
            }
        };
        out.push(CheckItem {
            name: f.name,
            clean: check.clean(),
            check,
        });
    }
    Ok(out)
}

fn period_of(fields: &HashMap<String, String>) -> Option<(NaiveDate, NaiveDate)> {
    let from = date(fields.get("period_from")?).ok()?;
    let to = date(fields.get("period_to")?).ok()?;
    (from <= to).then_some((from, to))
}

async fn view(
    state: &AppState,
    ctx: &Ctx,
    me: &CurrentUser,
    (org, site): (&OrgRow, &LocationRow),
    input: Option<HashMap<String, String>>,
    errors: FieldErrors,
    problems: Vec<String>,
) -> AppResult<LogsView> {
    let draft = db::submissions::draft(&state.db, org.id, KIND, Some(site.id)).await?;
    let request = db::followup::open_request_for(&state.db, org.id, KIND, Some(site.id)).await?;
    let mut fields: HashMap<String, String> = match input {
        Some(i) => i,
        None => draft
            .as_ref()
            .and_then(|d| serde_json::from_str::<HashMap<String, serde_json::Value>>(&d.data).ok())
            .unwrap_or_default()
            .into_iter()
            .filter_map(|(k, v)| v.as_str().map(|s| (k, s.to_string())))
            .collect(),
    };
    // The period the Center asked for, unless the draft already says.
    if let Some(r) = &request
        && fields.get("period_from").is_none_or(|v| v.is_empty())
    {
        if let Some(f) = r.period_from {
            fields.insert("period_from".into(), f.to_string());
        }
        if let Some(t) = r.period_to {
            fields.insert("period_to".into(), t.to_string());
        }
    }
    let (files, checks) = match &draft {
        Some(d) => (
            db::submissions::files(&state.db, Scope::Org(org.id), d.id)
                .await?
                .into_iter()
                .map(file_item)
                .collect(),
            check_files(state, org.id, d.id, period_of(&fields)).await?,
        ),
        None => (vec![], vec![]),
    };
    let last = db::submissions::latest(&state.db, Some(org.id))
        .await?
        .into_iter()
        .find(|s| s.kind == KIND && s.location_id == Some(site.id) && s.state != "draft")
        .map(|s| (s.id, s.submitted_at.map(|t| jst(&t)).unwrap_or_default()));
    Ok(LogsView {
        returned: super::review::return_note(state, org.id, draft.as_ref().map(|d| d.id)).await?,
        page: Page::new(ctx, Some(me)),
        org_id: org.id,
        org_name: org.name.clone(),
        site_id: site.id,
        site_name: site.name.clone(),
        fields,
        files,
        checks,
        request: request.map(|r| {
            (
                r.due_date.to_string(),
                match (r.period_from, r.period_to) {
                    (Some(a), Some(b)) => format!("{a} – {b}"),
                    _ => String::new(),
                },
                r.note,
            )
        }),
        errors,
        problems,
        can_edit: !matches!(me.role, Role::Reviewer),
        last,
    })
}

/// `GET /orgs/{org}/locations/{site}/gateway-logs`
pub async fn page(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Path((org_id, site_id)): Path<(Uuid, Uuid)>,
) -> AppResult<Response> {
    let (org, site) = site_for(&state, &me, org_id, site_id).await?;
    render(
        StatusCode::OK,
        &view(
            &state,
            &ctx,
            &me,
            (&org, &site),
            None,
            FieldErrors::default(),
            vec![],
        )
        .await?,
    )
}

/// `POST /orgs/{org}/locations/{site}/gateway-logs/files`: log files (CSV or text).
pub async fn upload(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Path((org_id, site_id)): Path<(Uuid, Uuid)>,
    form: Multipart,
) -> AppResult<Response> {
    let (org, site) = site_for(&state, &me, org_id, site_id).await?;
    let back = format!("/orgs/{org_id}/locations/{site_id}/gateway-logs");
    let problems =
        match receive_files(&state, &ctx, &me, org_id, KIND, Some(site_id), form, &back).await? {
            Ok(done) => return Ok(done),
            Err(problems) => problems,
        };
    render(
        problems.status,
        &view(
            &state,
            &ctx,
            &me,
            (&org, &site),
            None,
            FieldErrors::default(),
            problems.list,
        )
        .await?,
    )
}

/// The form's fields.
const FIELDS: [&str; 5] = [
    "storage",
    "retention_months",
    "mechanism",
    "period_from",
    "period_to",
];

/// `POST /orgs/{org}/locations/{site}/gateway-logs`: save the draft, or check and submit.
pub async fn save_or_submit(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Path((org_id, site_id)): Path<(Uuid, Uuid)>,
    CsrfForm(input): CsrfForm<HashMap<String, String>>,
) -> AppResult<Response> {
    org_for_report(&state, &me, org_id).await?;
    let (org, site) = site_for(&state, &me, org_id, site_id).await?;
    let fields: HashMap<String, String> = FIELDS
        .iter()
        .map(|k| {
            (
                k.to_string(),
                input
                    .get(*k)
                    .map(|v| v.trim().to_string())
                    .unwrap_or_default(),
            )
        })
        .collect();
    let draft = draft_at(&state, &me, org_id, KIND, Some(site_id)).await?;
    let data: serde_json::Map<String, serde_json::Value> = fields
        .iter()
        .map(|(k, v)| (k.clone(), v.clone().into()))
        .collect();
    let mut tx = state.db.begin().await?;
    db::submissions::save_draft(
        &mut tx,
        org_id,
        draft,
        &serde_json::Value::Object(data.clone()),
    )
    .await?;
    db::audit::append(
        &mut tx,
        &me.audit(
            &ctx,
            "submission.draft_saved",
            Some(org_id),
            draft.to_string(),
        ),
    )
    .await?;
    tx.commit().await?;
    if input.get("action").is_none_or(|a| a != "submit") {
        return Ok(redirect_with_flash(
            &format!("/orgs/{org_id}/locations/{site_id}/gateway-logs"),
            "flash.draft_saved",
            state.cookies.secure,
        ));
    }
    let mut errors = FieldErrors::default();
    for k in ["storage", "mechanism"] {
        let v = &fields[k];
        if v.is_empty() {
            errors.add(k, "error.required");
        } else if v.chars().count() > 2000 {
            errors.add(k, "error.too_long");
        }
    }
    match fields["retention_months"].parse::<i64>() {
        Ok(m) if (MIN_RETENTION_MONTHS..=1200).contains(&m) => {}
        _ => errors.add("retention_months", "gwlog.error.retention"),
    }
    let has_period = !fields["period_from"].is_empty() || !fields["period_to"].is_empty();
    let period = if has_period {
        let from = errors.take("period_from", date(&fields["period_from"]));
        let to = errors.take("period_to", date(&fields["period_to"]));
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
    let files = db::submissions::files(&state.db, Scope::Org(org_id), draft).await?;
    let requested = db::followup::open_request_for(&state.db, org_id, KIND, Some(site_id))
        .await?
        .is_some();
    if requested && files.is_empty() {
        errors.add("_form", "gwlog.error.logs_requested");
    }
    if !files.is_empty() && period.is_none() && errors.get("period_from").is_none() {
        errors.add("period_from", "gwlog.error.period_needed");
    }
    if !errors.is_empty() {
        let problems = vec![ctx.tr().t("av.fix_rows").to_string()];
        return render(
            StatusCode::UNPROCESSABLE_ENTITY,
            &view(
                &state,
                &ctx,
                &me,
                (&org, &site),
                Some(fields),
                errors,
                problems,
            )
            .await?,
        );
    }
    // The check goes with the sealed data, so the reviewer reads it first.
    let checks = check_files(&state, org_id, draft, period).await?;
    let mut data = data;
    data.insert(
        "log_checks".into(),
        serde_json::to_value(
            checks
                .iter()
                .map(|c| serde_json::json!({ "file": c.name, "clean": c.clean, "result": c.check }))
                .collect::<Vec<_>>(),
        )
        .unwrap_or_default(),
    );
    let mut tx = state.db.begin().await?;
    db::submissions::save_draft(&mut tx, org_id, draft, &serde_json::Value::Object(data)).await?;
    tx.commit().await?;
    super::submissions::seal(
        &state,
        &ctx,
        &me,
        org_id,
        draft,
        KIND,
        serde_json::json!({ "site": site_id, "files": files.len() }),
    )
    .await
}

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
use uuid::Uuid;

use super::ctx::{CsrfForm, Ctx, CurrentUser};
use super::error::{AppError, AppResult};
use super::forms::FieldErrors;
use super::html::common::access::{location_for, org_for_report};
use super::html::common::comments::{ReturnNote, return_note};
use super::html::common::files::{FileItem, file_item};
use super::html::common::logcheck::{self, CheckView};
use super::html::common::to_receipt;
use super::html::common::upload::receive_files;
use super::page::{Page, jst, redirect_with_flash, render, today};
use super::state::AppState;
use crate::app::submissions::{Place, ReportKind};
use crate::db::{self, orgs::OrgRow, structure::LocationRow};
use crate::domain::input::date;
use crate::domain::{Role, Scope};

const KIND: &str = "gateway_logs";

/// Table 7-4-2: logs are kept for one year.
const MIN_RETENTION_MONTHS: i64 = 12;

#[derive(Template)]
#[template(path = "submissions/gateway_logs.html")]
struct LogsView {
    page: Page,
    /// Why the version this draft revises was returned.
    returned: Option<ReturnNote>,
    org_id: Uuid,
    org_name: String,
    site_id: Uuid,
    site_name: String,
    fields: HashMap<String, String>,
    files: Vec<FileItem>,
    checks: Vec<CheckView>,
    /// Files kept before logs were checked on upload.
    unchecked: Vec<String>,
    max_log_mb: u64,
    /// (due, period, note, opens: empty when at once).
    request: Option<(String, String, String, String)>,
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
    let period = period_of(&fields);
    let (mut files, mut checks, mut unchecked) = (vec![], vec![], vec![]);
    if let Some(d) = &draft {
        let rows = db::submissions::files(&state.db, Scope::Org(org.id), d.id).await?;
        let kept = logcheck::kept_checks(
            state,
            Scope::Org(org.id),
            org.id,
            rows.iter()
                .map(|f| (f.name.clone(), f.sha256.clone()))
                .collect(),
        )
        .await?;
        for (name, check) in kept {
            match check {
                Some(c) => checks.push(logcheck::view(&ctx.tr(), &name, &c, period)),
                None => unchecked.push(name),
            }
        }
        files = rows.into_iter().map(file_item).collect();
    }
    let last = db::submissions::latest(&state.db, Some(org.id))
        .await?
        .into_iter()
        .find(|s| s.kind == KIND && s.location_id == Some(site.id) && s.state != "draft")
        .map(|s| (s.id, s.submitted_at.map(|t| jst(&t)).unwrap_or_default()));
    Ok(LogsView {
        returned: return_note(state, org.id, draft.as_ref().map(|d| d.id)).await?,
        page: Page::new(ctx, Some(me)),
        org_id: org.id,
        org_name: org.name.clone(),
        site_id: site.id,
        site_name: site.name.clone(),
        fields,
        files,
        checks,
        unchecked,
        max_log_mb: state.config.max_log_bytes / (1024 * 1024),
        request: request.map(|r| {
            (
                r.due_date.to_string(),
                match (r.period_from, r.period_to) {
                    (Some(a), Some(b)) => format!("{a} – {b}"),
                    _ => String::new(),
                },
                r.note,
                r.opens_on.map(|d| d.to_string()).unwrap_or_default(),
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
    org_for_report(&state, &me, org_id).await?;
    // A request's window: before it opens, nothing is taken for it.
    if let Some(r) = db::followup::open_request_for(&state.db, org_id, KIND, Some(site_id)).await?
        && let Some(opens) = r.opens_on
        && opens > today()
    {
        let problem = ctx.tr().f(
            "gwlog.not_open",
            &[
                ("opens", &opens.to_string()),
                ("due", &r.due_date.to_string()),
            ],
        );
        return render(
            StatusCode::UNPROCESSABLE_ENTITY,
            &view(
                &state,
                &ctx,
                &me,
                (&org, &site),
                None,
                FieldErrors::default(),
                vec![problem],
            )
            .await?,
        );
    }
    let back = format!("/orgs/{org_id}/locations/{site_id}/gateway-logs");
    let problems = match receive_files(
        &state,
        &ctx,
        &me,
        Place {
            org: org_id,
            kind: ReportKind::GatewayLogs,
            site: Some(site_id),
        },
        form,
        &back,
    )
    .await?
    {
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
    let draft = crate::app::submissions::draft_at(
        &state,
        &me.actor(&ctx),
        &Place {
            org: org_id,
            kind: ReportKind::GatewayLogs,
            site: Some(site_id),
        },
    )
    .await?;
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
    // The check's totals go with the sealed data; the reviewer's page reads the kept checks.
    let kept = logcheck::kept_checks(
        &state,
        Scope::Org(org_id),
        org_id,
        files
            .iter()
            .map(|f| (f.name.clone(), f.sha256.clone()))
            .collect(),
    )
    .await?;
    let mut sealed = vec![];
    for (name, check) in kept {
        let Some(c) = check else {
            errors.add("_form", "gwlog.error.unchecked");
            continue;
        };
        let cov = period.map(|(f, t)| c.against(f, t));
        sealed.push(serde_json::json!({
            "file": name,
            "clean": c.clean(period),
            "lines": c.lines,
            "sent": c.sent,
            "received": c.received,
            "send_missing": c.send_missing.n,
            "receive_missing": c.receive_missing.n,
            "bad_direction": c.bad_direction.n,
            "bad_time": c.bad_time.n,
            "first": c.first,
            "last": c.last,
            "covers_period": cov.as_ref().map(|c| c.covers),
            "gap_days": cov.as_ref().map(|c| c.gap_days),
        }));
    }
    if !errors.is_empty() {
        return render(
            StatusCode::UNPROCESSABLE_ENTITY,
            &view(
                &state,
                &ctx,
                &me,
                (&org, &site),
                Some(fields),
                errors,
                vec![],
            )
            .await?,
        );
    }
    let mut data = data;
    data.insert("log_checks".into(), serde_json::Value::Array(sealed));
    let mut tx = state.db.begin().await?;
    db::submissions::save_draft(&mut tx, org_id, draft, &serde_json::Value::Object(data)).await?;
    tx.commit().await?;
    let sealed = crate::app::submissions::seal(
        &state,
        &me.actor(&ctx),
        org_id,
        draft,
        ReportKind::GatewayLogs,
        serde_json::json!({ "site": site_id, "files": files.len() }),
    )
    .await?;
    Ok(to_receipt(&state, org_id, &sealed))
}

//! Item 6 — 履歴（ログ）の管理, per gateway site: the log mechanism (where the send/receive
//! history is kept, for how long, how), and, when the Center asks, the logs for a period.
//! Each log file is checked against Table 7-4-2 before it is submitted; both sides see the
//! result.

pub mod mapping;

use std::collections::HashMap;
use std::sync::Arc;

use askama::Template;
use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use uuid::Uuid;

use crate::app;
use crate::app::gateway_logs::{self, KeptState, LogsInput};
use crate::app::orgs::OrgRow;
use crate::app::structure::reads::LocationRow;
use crate::app::submissions::{Place, ReportKind};
use crate::domain::Scope;
use crate::domain::input::date;
use crate::web::ctx::{CsrfForm, Ctx, CurrentUser};
use crate::web::error::AppResult;
use crate::web::forms::FieldErrors;
use crate::web::html::common::access::{org_for_report, reader};
use crate::web::html::common::comments::{ReturnNote, return_note};
use crate::web::html::common::files::{FileItem, file_item};
use crate::web::html::common::logcheck::{self, CheckView};
use crate::web::html::common::renewal::ShownNote;
use crate::web::html::common::to_confirm;
use crate::web::html::common::upload::receive_files;
use crate::web::page::{Page, jst, redirect_with_flash, render, today};
use crate::web::state::AppState;
use mapping::MapView;

const KIND: ReportKind = ReportKind::GatewayLogs;

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
    /// Logs waiting for their columns' mapping, and the others' mapping to change.
    maps: Vec<MapView>,
    /// Files kept before logs were checked on upload.
    unchecked: Vec<String>,
    /// Logs being read again with a newly saved mapping (確認中).
    checking: Vec<String>,
    /// Logs that did not read again with the saved mapping, with why (in words).
    recheck_failed: Vec<String>,
    /// Logs that hold the same records as one above them, in words.
    same: Vec<String>,
    max_log_mb: u64,
    /// (due, period, note, opens: empty when at once).
    request: Option<(String, String, String, String)>,
    errors: FieldErrors,
    problems: Vec<String>,
    can_edit: bool,
    /// The open draft, when the reader may discard it (下書きを破棄).
    discard: Option<Uuid>,
    /// The version sent last, its state, and (returned, no draft open) the way to revise it.
    last: Option<ShownNote>,
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
    Ok(gateway_logs::site_for(state, &reader(me), org_id, site).await?)
}

fn period_of(fields: &HashMap<String, String>) -> Option<(NaiveDate, NaiveDate)> {
    let from = date(fields.get("period_from")?).ok()?;
    let to = date(fields.get("period_to")?).ok()?;
    (from <= to).then_some((from, to))
}

/// What a page shown again carries besides the kept draft.
#[derive(Default)]
pub struct Shown {
    /// The fields as typed.
    input: Option<HashMap<String, String>>,
    errors: FieldErrors,
    problems: Vec<String>,
    /// The mapping form as sent.
    map: Option<mapping::Posted>,
}

async fn view(
    state: &AppState,
    ctx: &Ctx,
    me: &CurrentUser,
    (org, site): (&OrgRow, &LocationRow),
    shown: Shown,
) -> AppResult<LogsView> {
    let Shown {
        input,
        errors,
        problems,
        map: posted,
    } = shown;
    let actor = reader(me);
    let place = Place {
        org: org.id,
        kind: KIND,
        site: Some(site.id),
    };
    let mut form = app::submissions::forms::form_state(state, &actor, &place).await?;
    let request = form.request.take();
    let draft = form.draft.as_ref();
    let typed = input.is_some();
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
    // How the logs are kept, unless the draft already says: as the place's last report said
    // (a new period's report does not start from the last one, but the place keeps its logs
    // the same way).
    if !typed
        && let Some(last) = form.last()
        && let Some(row) = app::submissions::forms::stored(state, &actor, org.id, last.id).await?
        && let Ok(d) = serde_json::from_str::<HashMap<String, serde_json::Value>>(&row.data)
    {
        for k in ["storage", "retention_months", "mechanism"] {
            if fields.get(k).is_none_or(|v| v.is_empty())
                && let Some(v) = d.get(k).and_then(|v| v.as_str())
            {
                fields.insert(k.to_string(), v.to_string());
            }
        }
    }
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
    let (mut files, mut checks, mut unchecked, mut maps) = (vec![], vec![], vec![], vec![]);
    let (mut checking, mut recheck_failed, mut read) = (vec![], vec![], vec![]);
    let mut same = vec![];
    let site_map = app::log_mapping::of_site(state, &actor, org.id, site.id).await?;
    if draft.is_some() {
        let rows = form.files.clone();
        let kept = logcheck::kept_checks(
            state,
            Scope::Org(org.id),
            org.id,
            Some(site.id),
            rows.iter()
                .map(|f| (f.name.clone(), f.sha256.clone()))
                .collect(),
        )
        .await?;
        let t = ctx.tr();
        let mut shas = vec![];
        for (row, (name, kept)) in rows.iter().zip(kept) {
            let Some(kept) = kept else {
                unchecked.push(name);
                continue;
            };
            let which = (row.id, name.as_str());
            let c = &kept.check;
            match &kept.state {
                // Not the check from before the mapping while it is read; the form stays, with
                // the mapping being read (saving again supersedes the running check).
                KeptState::Checking => {
                    maps.push(mapping::form(
                        &t,
                        which,
                        c,
                        site_map.as_ref(),
                        posted.as_ref(),
                        true,
                    ));
                    checking.push(name);
                    continue;
                }
                KeptState::Refused(why) => {
                    let why = why
                        .as_ref()
                        .map(|r| logcheck::refusal(&t, r))
                        .unwrap_or_else(|| t.t("gwlog.recheck.unreadable").to_string());
                    recheck_failed.push(t.f(
                        "gwlog.recheck.refused",
                        &[("name", &name), ("reason", &why)],
                    ));
                }
                KeptState::Failed => {
                    recheck_failed.push(t.f("gwlog.recheck.failed", &[("name", &name)]));
                }
                KeptState::Done => {}
            }
            let mut map_form =
                mapping::form(&t, which, c, site_map.as_ref(), posted.as_ref(), false);
            if kept.is_final() {
                if !c.needs_mapping() {
                    read.push((name.clone(), c.clone()));
                    shas.push(row.sha256.clone());
                }
            } else {
                // The mapping did not read the log: it is asked for again.
                map_form.needed = true;
            }
            maps.push(map_form);
        }
        let logs: Vec<_> = shas
            .iter()
            .zip(&read)
            .map(|(sha, (_, c))| (sha.as_str(), c.records()))
            .collect();
        same = crate::domain::gatewaylog::same_records(&logs)
            .into_iter()
            .map(|(i, j)| {
                t.f(
                    "report.log.same_log",
                    &[("first", &read[i].0), ("again", &read[j].0)],
                )
            })
            .collect();
        checks = logcheck::views(&t, &read, period);
        // Logs waiting for a mapping first.
        maps.sort_by_key(|m| !m.needed);
        files = rows.into_iter().map(file_item).collect();
    }
    // The version sent last, with its state: a new period's report starts on the form below,
    // and a returned one can be revised from here while no draft is open.
    let last = form.last().map(|l| {
        let t = ctx.tr();
        ShownNote {
            id: l.id,
            state: l.state.clone(),
            text: t.f(
                "gwlog.last_sent",
                &[
                    ("receipt", l.receipt_no.as_deref().unwrap_or("")),
                    ("at", &l.submitted_at.map(|t| jst(&t)).unwrap_or_default()),
                ],
            ),
            can_revise: l.state == "returned"
                && draft.is_none()
                && app::submissions::revise::may_revise(&actor, org.id, KIND.as_str()),
        }
    });
    let can_edit = app::submissions::may_report(&reader(me), org.id);
    Ok(LogsView {
        discard: form.draft_id().filter(|_| can_edit),
        returned: return_note(state, org.id, form.draft_id()).await?,
        page: Page::new(ctx, Some(me)),
        org_id: org.id,
        org_name: org.name.clone(),
        site_id: site.id,
        site_name: site.name.clone(),
        fields,
        files,
        checks,
        maps,
        unchecked,
        checking,
        recheck_failed,
        same,
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
        can_edit,
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
        &view(&state, &ctx, &me, (&org, &site), Shown::default()).await?,
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
    let place = Place {
        org: org_id,
        kind: KIND,
        site: Some(site_id),
    };
    if let Some(r) = app::followup::open_request(&state, &reader(&me), &place).await?
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
                Shown {
                    problems: vec![problem],
                    ..Shown::default()
                },
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
            Shown {
                problems: problems.list,
                ..Shown::default()
            },
        )
        .await?,
    )
}

/// `POST /orgs/{org}/locations/{site}/gateway-logs`: save the draft, or check and submit.
pub async fn save_or_submit(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Path((org_id, site_id)): Path<(Uuid, Uuid)>,
    CsrfForm(input): CsrfForm<HashMap<String, String>>,
) -> AppResult<Response> {
    let actor = me.actor(&ctx);
    let get = |k: &str| input.get(k).cloned().unwrap_or_default();
    let typed = LogsInput {
        org: org_id,
        site: site_id,
        storage: get("storage"),
        retention_months: get("retention_months"),
        mechanism: get("mechanism"),
        period_from: get("period_from"),
        period_to: get("period_to"),
    };
    if input.get("action").is_none_or(|a| a != "submit") {
        gateway_logs::save(&state, &actor, &typed).await?;
        return Ok(redirect_with_flash(
            &format!("/orgs/{org_id}/locations/{site_id}/gateway-logs"),
            "flash.draft_saved",
            state.cookies.secure,
        ));
    }
    match gateway_logs::save_and_check(&state, &actor, &typed).await {
        Ok(draft) => Ok(to_confirm(org_id, draft)),
        Err(app::Error::Invalid(errors)) => {
            let (org, site) = site_for(&state, &me, org_id, site_id).await?;
            // The form's own summary counts the fields to fix and links them; a refusal of the
            // logs themselves (kept unchecked, waiting for a mapping …) is said above it.
            let problems = vec![];
            let fields = typed
                .fields()
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect();
            render(
                StatusCode::UNPROCESSABLE_ENTITY,
                &view(
                    &state,
                    &ctx,
                    &me,
                    (&org, &site),
                    Shown {
                        input: Some(fields),
                        errors,
                        problems,
                        map: None,
                    },
                )
                .await?,
            )
        }
        Err(e) => Err(e.into()),
    }
}

/// `GET /orgs/{org}/locations/{site}/gateway-logs/checking`: how many of the draft's logs are
/// being read again with a newly saved mapping (`{"checking": n}`), for the page's script,
/// which reloads it once none is.
pub async fn checking(
    State(state): State<Arc<AppState>>,
    me: CurrentUser,
    Path((org_id, site_id)): Path<(Uuid, Uuid)>,
) -> AppResult<Response> {
    let actor = reader(&me);
    gateway_logs::site_for(&state, &actor, org_id, site_id).await?;
    let place = Place {
        org: org_id,
        kind: KIND,
        site: Some(site_id),
    };
    let form = app::submissions::forms::form_state(&state, &actor, &place).await?;
    let kept = logcheck::kept_checks(
        &state,
        Scope::Org(org_id),
        org_id,
        Some(site_id),
        form.files
            .iter()
            .map(|f| (f.name.clone(), f.sha256.clone()))
            .collect(),
    )
    .await?;
    let n = kept
        .iter()
        .filter(|(_, k)| k.as_ref().is_some_and(|k| k.state == KeptState::Checking))
        .count();
    Ok(axum::Json(serde_json::json!({ "checking": n })).into_response())
}

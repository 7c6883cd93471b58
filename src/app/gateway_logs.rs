//! Table 7-4-2 — ゲートウェイのログ: per gateway site, how logs are kept (storage, retention,
//! mechanism) and, when the Center asks, the logs themselves for a period; each log is checked
//! as it is uploaded and the checks' totals are sealed with the report.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::submissions::{Place, ReportKind, Sealed, nothing_open, reporting_org, save_data, seal};
use super::{Actor, App, Error, FieldErrors};
use crate::db;
use crate::db::orgs::OrgRow;
use crate::db::structure::LocationRow;
use crate::db::submissions::SubmissionRow;
use crate::domain::Scope;
use crate::domain::gatewaylog::LogCheck;
use crate::domain::input::date;

const KIND: ReportKind = ReportKind::GatewayLogs;

/// Table 7-4-2: logs are kept for one year.
pub const MIN_RETENTION_MONTHS: i64 = 12;

/// The report's fields, as typed.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct LogsInput {
    pub org: Uuid,
    pub site: Uuid,
    #[serde(default)]
    pub storage: String,
    #[serde(default)]
    pub retention_months: String,
    #[serde(default)]
    pub mechanism: String,
    /// The period the logs cover (YYYY-MM-DD), needed when logs are attached.
    #[serde(default)]
    pub period_from: String,
    #[serde(default)]
    pub period_to: String,
}

impl LogsInput {
    /// The fields by name, trimmed (as stored in the draft).
    pub fn fields(&self) -> [(&'static str, String); 5] {
        [
            ("storage", self.storage.trim().to_string()),
            ("retention_months", self.retention_months.trim().to_string()),
            ("mechanism", self.mechanism.trim().to_string()),
            ("period_from", self.period_from.trim().to_string()),
            ("period_to", self.period_to.trim().to_string()),
        ]
    }
}

/// The organisation and one of its places that keep gateway logs: a gateway site, or an office
/// with a gateway connection (another office's id is not found).
pub async fn site_for(
    app: &App,
    actor: &Actor,
    org_id: Uuid,
    site: Uuid,
) -> Result<(OrgRow, LocationRow), Error> {
    let org = super::structure::org_for(app, actor, org_id, false).await?;
    let loc = log_place(app, org_id, site).await?;
    Ok((org, loc))
}

/// One place of the organisation that keeps gateway logs (see [`db::structure::KEEPS_LOGS`]).
pub async fn log_place(app: &App, org_id: Uuid, site: Uuid) -> Result<LocationRow, Error> {
    db::structure::log_places(&app.db, org_id, Some(site))
        .await?
        .into_iter()
        .next()
        .ok_or(Error::NotFound)
}

/// Where a log's kept check stands at its site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeptState {
    /// The check is the log's, read with the site's mapping.
    Done,
    /// A mapping was saved and the log is being read again with it (確認中).
    Checking,
    /// The log does not read with the saved mapping (why, when this build knows it).
    Refused(Option<crate::domain::gatewaylog::Refused>),
    /// The stored log could not be read again.
    Failed,
}

/// A log's kept check and where it stands.
#[derive(Debug, Clone)]
pub struct Kept {
    /// The latest finished check (while re-checked or refused: the one before the mapping).
    pub check: LogCheck,
    pub state: KeptState,
}

impl Kept {
    /// Whether the check is the log's as it will be submitted.
    pub fn is_final(&self) -> bool {
        self.state == KeptState::Done
    }
}

/// The kept check of a log of the organisation uploaded for `site` (content `sha256`): the
/// site's own, else (a log checked before checks were kept per site) the organisation's.
pub async fn kept_check(
    app: &App,
    scope: Scope,
    org_id: Uuid,
    site: Option<Uuid>,
    sha256: &str,
) -> Result<Option<Kept>, Error> {
    if let Some(site) = site
        && let Some(row) =
            db::gateway_logs::site_check(&app.db, scope, org_id, site, sha256).await?
    {
        let Ok(check) = serde_json::from_str::<LogCheck>(&row.result) else {
            return Ok(None);
        };
        let state = match row.state.as_str() {
            "pending" | "running" => KeptState::Checking,
            "refused" => KeptState::Refused(
                row.reason
                    .as_deref()
                    .and_then(super::log_recheck::refusal_of),
            ),
            "failed" => KeptState::Failed,
            _ => KeptState::Done,
        };
        return Ok(Some(Kept { check, state }));
    }
    Ok(db::gateway_logs::check(&app.db, scope, org_id, sha256)
        .await?
        .and_then(|j| serde_json::from_str::<LogCheck>(&j).ok())
        .map(|check| Kept {
            check,
            state: KeptState::Done,
        }))
}

/// The checks sealed with a gateway-log report (`data` as sealed), by file name with each
/// file's SHA-256, when every log carries its whole check (a report sealed before checks were
/// sealed with it: `None`, and its pages read the kept checks).
pub fn sealed_checks(data: &serde_json::Value) -> Option<Vec<(String, String, LogCheck)>> {
    let list = data["log_checks"].as_array()?;
    if list.is_empty() {
        return None;
    }
    list.iter()
        .map(|c| {
            Some((
                c["file"].as_str()?.to_string(),
                c["sha256"].as_str()?.to_string(),
                serde_json::from_value(c.get("check")?.clone()).ok()?,
            ))
        })
        .collect()
}

/// The kept checks of logs (name, SHA-256) uploaded for `site`, by file name; `None` for a
/// file kept before logs were checked on upload.
pub async fn kept_checks(
    app: &App,
    scope: Scope,
    org_id: Uuid,
    site: Option<Uuid>,
    files: Vec<(String, String)>,
) -> Result<Vec<(String, Option<Kept>)>, Error> {
    let mut out = vec![];
    for (name, sha256) in files {
        let check = kept_check(app, scope, org_id, site, &sha256).await?;
        out.push((name, check));
    }
    Ok(out)
}

/// Saves the fields as the site's draft (opening it if needed), with its audit entry.
pub async fn save(app: &App, actor: &Actor, input: &LogsInput) -> Result<Uuid, Error> {
    reporting_org(app, actor, input.org).await?;
    site_for(app, actor, input.org, input.site).await?;
    let data: serde_json::Map<String, serde_json::Value> = input
        .fields()
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.into()))
        .collect();
    save_data(
        app,
        actor,
        &Place {
            org: input.org,
            kind: KIND,
            site: Some(input.site),
        },
        &serde_json::Value::Object(data),
        "submission.draft_saved",
        serde_json::Value::Null,
    )
    .await
}

/// Why a submit was refused only because a log was kept before logs were checked.
pub const UNCHECKED: &str = "gwlog.error.unchecked";
/// Why a submit was refused only because a log's columns wait for their mapping.
pub const UNMAPPED: &str = "gwlog.error.unmapped";
/// Why a submit was refused while a log is read again with a new mapping.
pub const CHECKING: &str = "gwlog.error.checking";
/// Why a submit was refused because a log did not read again with the saved mapping.
pub const RECHECK_FAILED: &str = "gwlog.error.recheck_failed";

/// Why a submit was refused because a log has not one line inside the period it is for.
pub const OUTSIDE: &str = "gwlog.error.outside_period";

/// Submits the site's open draft as stored, checked by [`check`].
pub async fn submit(app: &App, actor: &Actor, org_id: Uuid, site: Uuid) -> Result<Sealed, Error> {
    reporting_org(app, actor, org_id).await?;
    site_for(app, actor, org_id, site).await?;
    let place = Place {
        org: org_id,
        kind: KIND,
        site: Some(site),
    };
    let Some(draft) = db::submissions::draft(&app.db, org_id, KIND.as_str(), Some(site)).await?
    else {
        return nothing_open(app, &place).await;
    };
    match check(app, org_id, site, &draft).await? {
        Some(detail) => seal(app, actor, org_id, draft.id, KIND, detail).await,
        None => nothing_open(app, &place).await,
    }
}

/// Checks a site's draft as stored before it is sealed: storage and mechanism described,
/// retention of at least a year, the logs the Center asked for attached with the period they
/// cover, and each log checked (`_form`: `gwlog.error.unchecked`) with at least one line
/// inside that period (else it is another period's log: [`OUTSIDE`]). The checks' totals are
/// written into the draft, to be sealed with it (the same totals each time for the same
/// files). Answers the audit detail of the seal; `None` when the draft was sealed meanwhile.
pub async fn check(
    app: &App,
    org_id: Uuid,
    site: Uuid,
    draft: &SubmissionRow,
) -> Result<Option<serde_json::Value>, Error> {
    let mut data: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&draft.data).unwrap_or_default();
    let field = |k: &str| {
        data.get(k)
            .and_then(|v| v.as_str())
            .unwrap_or("")
            .to_string()
    };
    let mut errors = FieldErrors::default();
    for k in ["storage", "mechanism"] {
        let v = field(k);
        if v.is_empty() {
            errors.add(k, "error.required");
        } else if v.chars().count() > 2000 {
            errors.add(k, "error.too_long");
        }
    }
    match field("retention_months").parse::<i64>() {
        Ok(m) if (MIN_RETENTION_MONTHS..=1200).contains(&m) => {}
        _ => errors.add("retention_months", "gwlog.error.retention"),
    }
    let (from_raw, to_raw) = (field("period_from"), field("period_to"));
    let period = if !from_raw.is_empty() || !to_raw.is_empty() {
        let from = errors.take("period_from", date(&from_raw));
        let to = errors.take("period_to", date(&to_raw));
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
    let files = db::submissions::files(&app.db, Scope::Org(org_id), draft.id).await?;
    let requested = db::followup::open_request_for(&app.db, org_id, KIND.as_str(), Some(site))
        .await?
        .is_some();
    if requested && files.is_empty() {
        errors.add("_form", "gwlog.error.logs_requested");
    }
    if !files.is_empty() && period.is_none() && errors.get("period_from").is_none() {
        errors.add("period_from", "gwlog.error.period_needed");
    }
    if !errors.is_empty() {
        return Err(Error::Invalid(errors));
    }
    // Each log's whole check goes with the sealed data (its totals for the report, the check
    // itself for the reviewer's page and the search): what was submitted stays as it was
    // when a later upload of the same file, or a new mapping of the site, checks it again.
    let shas: Vec<String> = files.iter().map(|f| f.sha256.clone()).collect();
    let kept = kept_checks(
        app,
        Scope::Org(org_id),
        org_id,
        Some(site),
        files
            .iter()
            .map(|f| (f.name.clone(), f.sha256.clone()))
            .collect(),
    )
    .await?;
    let mut checks = vec![];
    let mut read = vec![];
    for ((name, check), sha256) in kept.into_iter().zip(shas) {
        let Some(kept) = check else {
            errors.add("_form", UNCHECKED);
            continue;
        };
        match kept.state {
            KeptState::Done => {}
            KeptState::Checking => {
                errors.add("_form", CHECKING);
                continue;
            }
            KeptState::Refused(_) | KeptState::Failed => {
                errors.add("_form", RECHECK_FAILED);
                continue;
            }
        }
        let c = kept.check;
        if c.needs_mapping() {
            errors.add("_form", UNMAPPED);
            continue;
        }
        if period.is_some_and(|(f, t)| c.against(f, t).days.iter().all(|(_, n)| *n == [0, 0])) {
            errors.add("_form", OUTSIDE);
            continue;
        }
        // Each file's own findings; the period is met by the logs together (below).
        checks.push(serde_json::json!({
            "file": name,
            "clean": c.clean(None),
            "lines": c.lines,
            "sent": c.sent,
            "received": c.received,
            "send_missing": c.send_missing.n,
            "receive_missing": c.receive_missing.n,
            "bad_direction": c.bad_direction.n,
            "bad_time": c.bad_time.n,
            "first": c.first,
            "last": c.last,
            "sha256": sha256,
            "check": c,
        }));
        read.push(c);
    }
    if !errors.is_empty() {
        return Err(Error::Invalid(errors));
    }
    data.insert("log_checks".into(), serde_json::Value::Array(checks));
    match period {
        Some((f, t)) if !read.is_empty() => {
            let cov = LogCheck::joined(&read).against(f, t);
            data.insert(
                "coverage".into(),
                serde_json::json!({
                    "covers": cov.covers,
                    "gap_days": cov.gap_days,
                    "off_gap_days": cov.off_gap_days,
                    "work_gaps": cov.work_gaps,
                    "quiet": cov.quiet,
                }),
            );
        }
        _ => {
            data.remove("coverage");
        }
    }
    let mut tx = app.db.begin().await?;
    if !db::submissions::save_draft(&mut tx, org_id, draft.id, &serde_json::Value::Object(data))
        .await?
    {
        return Ok(None);
    }
    tx.commit().await?;
    Ok(Some(
        serde_json::json!({ "site": site, "files": files.len() }),
    ))
}

/// The page's 提出: what was typed is kept as the draft, then the draft is checked for the
/// confirmation step.
pub async fn save_and_check(app: &App, actor: &Actor, input: &LogsInput) -> Result<Uuid, Error> {
    save(app, actor, input).await?;
    let place = Place {
        org: input.org,
        kind: KIND,
        site: Some(input.site),
    };
    super::submissions::confirm::prepare(app, actor, &place).await
}

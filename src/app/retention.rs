//! Retention (保存期間) settings and legal holds (法的保全), for Center admins; the purge
//! itself is `crate::retention`.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{Actor, App, Error, FieldErrors};
use crate::db;
pub use crate::db::retention::HoldRow;
use crate::domain::retention::{Period, RecordType, parse_reason};
use crate::domain::{Role, Scope};

/// The role that keeps records and holds.
const ADMINS: [Role; 1] = [Role::CenterAdmin];

/// One record type's retention today.
#[derive(Debug, Clone)]
pub struct PeriodLine {
    pub record: RecordType,
    pub period: Period,
    /// Records of this type from before this moment are past retention today.
    pub cutoff: DateTime<Utc>,
    /// How many records the next purge would take.
    pub due: i64,
}

/// The retention settings and what the next purge would take.
#[derive(Debug, Clone)]
pub struct Overview {
    pub periods: Vec<PeriodLine>,
    pub last_purge: Option<DateTime<Utc>>,
    /// The legal holds in force, oldest first (at most [`HOLDS_LISTED`]).
    pub holds: Vec<db::retention::HeldRow>,
}

/// How many holds in force the overview lists.
pub const HOLDS_LISTED: i64 = 500;

/// The periods, their cut-offs today and what is due (Center admins).
pub async fn overview(app: &App, actor: &Actor) -> Result<Overview, Error> {
    if !actor.holds(&ADMINS) {
        return Err(Error::Forbidden);
    }
    let now = db::now();
    let plan = crate::retention::plan(&app.db, now).await?;
    let periods = db::retention::periods(&app.db)
        .await?
        .into_iter()
        .map(|(t, p, _)| PeriodLine {
            record: t,
            period: p,
            cutoff: p.cutoff(now),
            due: match t {
                RecordType::Submissions => plan.submissions.count,
                RecordType::GatewayLogs => plan.gateway_logs.count,
                RecordType::Audit => plan.audit_count(),
            },
        })
        .collect();
    Ok(Overview {
        periods,
        last_purge: db::retention::last_purge(&app.db).await?,
        holds: db::retention::holds_in_force(&app.db, HOLDS_LISTED).await?,
    })
}

/// Sets every period at once, as typed in months per record type (`submissions`,
/// `gateway_logs`, `audit`); one refused keeps them all as they were (errors by field).
/// Each change is an audit entry.
pub async fn save_periods(
    app: &App,
    actor: &Actor,
    typed: impl Fn(RecordType) -> String,
) -> Result<(), Error> {
    if !actor.holds(&ADMINS) {
        return Err(Error::Forbidden);
    }
    let mut errors = FieldErrors::default();
    let parsed: Vec<(RecordType, Period)> = RecordType::ALL
        .into_iter()
        .filter_map(|t| {
            errors
                .take(t.as_str(), Period::parse(&typed(t)))
                .map(|p| (t, p))
        })
        .collect();
    if !errors.is_empty() {
        return Err(Error::Invalid(errors));
    }
    let mut tx = app.db.begin().await?;
    for (t, p) in parsed {
        if let Some(old) = db::retention::set_period(&mut tx, t, p).await? {
            let mut e = actor.audit("retention.period_changed", None, t.as_str().to_string());
            e.detail = serde_json::json!({ "from_months": old.months(), "to_months": p.months() });
            db::audit::append(&mut tx, &e).await?;
        }
    }
    tx.commit().await?;
    Ok(())
}

/// The holds in force on an organisation (its own and its submissions'), within the scope.
pub async fn holds_of(app: &App, actor: &Actor, org: Uuid) -> Result<Vec<HoldRow>, Error> {
    Ok(db::retention::holds_of_org(&app.db, actor.scope(), org).await?)
}

/// What a hold is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "on", content = "id", rename_all = "snake_case")]
pub enum HoldOn {
    Organisation(Uuid),
    Submission(Uuid),
}

/// A hold's target as people know it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct HoldTarget {
    pub org: Uuid,
    pub submission: Option<Uuid>,
    /// The organisation's name, or the receipt number.
    pub name: String,
    /// The organisation's user code (a hold on the organisation).
    pub code: Option<String>,
}

impl HoldTarget {
    /// As a page or the trail names it in `lang`: the organisation with its code
    /// ([`crate::i18n::org_label`]), or the receipt number.
    pub fn label(&self, lang: &str) -> String {
        match &self.code {
            Some(code) => crate::i18n::org_label(&self.name, code, lang),
            None => self.name.clone(),
        }
    }
}

/// The target of a hold (Center admins; none such: not found).
pub async fn hold_target(app: &App, actor: &Actor, on: HoldOn) -> Result<HoldTarget, Error> {
    if !actor.holds(&ADMINS) {
        return Err(Error::Forbidden);
    }
    match on {
        HoldOn::Organisation(id) => {
            let org = super::orgs::visible(app, actor, id).await?;
            Ok(HoldTarget {
                org: org.id,
                submission: None,
                name: org.name,
                code: Some(org.user_code),
            })
        }
        HoldOn::Submission(id) => {
            let s = db::submissions::get(&app.db, Scope::Center, id)
                .await?
                .ok_or(Error::NotFound)?;
            Ok(HoldTarget {
                org: s.org_id,
                submission: Some(s.id),
                name: s.receipt_no.unwrap_or_default(),
                code: None,
            })
        }
    }
}

/// Whether a hold is set or lifted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HoldAction {
    Set,
    Lift,
}

impl HoldAction {
    /// From a form's value.
    pub fn parse(s: &str) -> Option<HoldAction> {
        match s {
            "set" => Some(HoldAction::Set),
            "lift" => Some(HoldAction::Lift),
            _ => None,
        }
    }
}

/// Sets or lifts a hold with its reason (required, field `reason`), with its audit entry;
/// answers whether anything changed (a hold already set, or none in force to lift: false).
pub async fn change_hold(
    app: &App,
    actor: &Actor,
    on: HoldOn,
    action: Option<HoldAction>,
    reason: &str,
) -> Result<bool, Error> {
    let target = hold_target(app, actor, on).await?;
    let set = match action {
        Some(HoldAction::Set) => true,
        Some(HoldAction::Lift) => false,
        None => return Err(Error::field("action", "error.choose_one")),
    };
    let reason = parse_reason(reason).map_err(|k| Error::field("reason", k))?;
    let mut tx = app.db.begin().await?;
    // Queued behind a purge that is running, so the hold is in force before the next one.
    db::retention::lock(&mut tx).await?;
    let changed = if set {
        db::retention::set_hold(&mut tx, target.org, target.submission, &reason, actor.id).await?
    } else {
        db::retention::lift_hold(&mut tx, target.org, target.submission, &reason, actor.id).await?
    };
    if !changed {
        return Ok(false);
    }
    let action = if set {
        "retention.hold_set"
    } else {
        "retention.hold_lifted"
    };
    let mut e = actor.audit(action, Some(target.org), target.label("ja"));
    e.detail = serde_json::json!({ "reason": reason, "submission": target.submission });
    db::audit::append(&mut tx, &e).await?;
    tx.commit().await?;
    Ok(true)
}

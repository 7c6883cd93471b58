//! One sealed submission as a reviewer reads it: the content as sealed, its files, the other
//! versions of its series, the decision, who took it, and the comment thread.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::super::{Actor, App, Error};
use super::{Comment, REVIEWERS, comments};
use crate::db::{self, submissions::SubmissionRow};
use crate::domain::{Role, Scope};

/// A file sealed with a submission.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SealedFile {
    pub id: Uuid,
    pub name: String,
    /// What the file is for in the report (e.g. `diagram`).
    pub role: String,
    pub mime: String,
    pub size: i64,
    pub sha256: String,
}

/// A version of the series.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Version {
    pub id: Uuid,
    pub version: i64,
    pub state: String,
    pub receipt_no: Option<String>,
    pub submitted_at: Option<DateTime<Utc>>,
}

impl From<db::review::VersionRow> for Version {
    fn from(v: db::review::VersionRow) -> Version {
        Version {
            id: v.id,
            version: v.version,
            state: v.state,
            receipt_no: v.receipt_no,
            submitted_at: v.submitted_at,
        }
    }
}

/// The decision on a version.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DecisionOut {
    /// `accepted` or `returned`.
    pub decision: String,
    pub reason: String,
    pub reviewer: String,
    pub decided_at: DateTime<Utc>,
}

/// Who has taken a submission.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Assignee {
    pub id: Uuid,
    pub name: String,
}

/// A sealed submission for a reviewer.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Sealed {
    pub id: Uuid,
    pub org_id: Uuid,
    pub org_name: String,
    pub org_code: String,
    /// The catalogue item key.
    pub kind: String,
    pub location_id: Option<Uuid>,
    pub version: i64,
    pub state: String,
    pub receipt_no: Option<String>,
    pub submitted_at: Option<DateTime<Utc>>,
    pub submitter_name: String,
    pub submitter_email: String,
    /// The content exactly as sealed (data, files, submitter, catalogue revision).
    pub snapshot: serde_json::Value,
    pub files: Vec<SealedFile>,
    /// Every version of the series, oldest first.
    pub versions: Vec<Version>,
    /// The previous sealed version, to compare with.
    pub previous: Option<Uuid>,
    /// A newer report of the same item and place, sealed after this one as a report of its
    /// own (not a version of this series): what the organisation now declares.
    pub newer: Option<Version>,
    pub decision: Option<DecisionOut>,
    pub assignee: Option<Assignee>,
    pub comments: Vec<Comment>,
    /// Whether it still waits for a decision.
    pub can_decide: bool,
    /// Whether the actor may take it (waiting, and not theirs already).
    pub can_take: bool,
    /// Whether the actor may put it back (theirs, or any for a Center admin).
    pub can_release: bool,
    /// The stored row, for pages that render the report from it.
    #[serde(skip)]
    pub row: SubmissionRow,
    /// The previous sealed version's row, for the changes since.
    #[serde(skip)]
    pub previous_row: Option<SubmissionRow>,
    /// The accepted report the series was opened from (a renewal): (id, receipt number).
    #[serde(skip)]
    pub renewed_from: Option<(Uuid, String)>,
    /// Its row, for the changes since.
    #[serde(skip)]
    pub renewed_row: Option<SubmissionRow>,
}

/// A sealed submission with everything a reviewer reads beside it (Center staff only).
pub async fn sealed(app: &App, actor: &Actor, id: Uuid) -> Result<Sealed, Error> {
    if !actor.holds(&REVIEWERS) {
        return Err(Error::Forbidden);
    }
    let s = db::submissions::get(&app.db, Scope::Center, id)
        .await?
        .ok_or(Error::NotFound)?;
    let org = db::orgs::get(&app.db, Scope::Center, s.org_id)
        .await?
        .ok_or(Error::NotFound)?;
    let snapshot: serde_json::Value = s
        .snapshot
        .as_deref()
        .and_then(|j| serde_json::from_str(j).ok())
        .unwrap_or_default();
    let series = db::review::series_of(&app.db, Scope::Center, id)
        .await?
        .unwrap_or(id);
    let versions: Vec<Version> = db::review::versions(&app.db, Scope::Center, series)
        .await?
        .into_iter()
        .map(Version::from)
        .collect();
    let previous = versions
        .iter()
        .filter(|v| v.version < s.version && v.submitted_at.is_some())
        .max_by_key(|v| v.version)
        .map(|v| v.id);
    let previous_row = match previous {
        Some(p) => db::submissions::get(&app.db, Scope::Center, p).await?,
        None => None,
    };
    // A series opened from an accepted report (a renewal) is compared with that report too,
    // in every version: a corrected one as much as the first.
    let renewed_from = match db::renewals::renewed_from(&app.db, s.org_id, series).await? {
        Some((from, receipt, _)) => Some((from, receipt)),
        // Not opened from one (a new appointment of the place's administrator, a report made
        // afresh): compared with the place's last accepted report all the same.
        None => match s.submitted_at {
            Some(at) => {
                db::renewals::accepted_before(&app.db, s.org_id, &s.kind, s.location_id, at, series)
                    .await?
            }
            None => None,
        },
    };
    let renewed_row = match &renewed_from {
        Some((from, _)) => db::submissions::get(&app.db, Scope::Center, *from).await?,
        None => None,
    };
    let assignee = db::review::assignee(&app.db, id)
        .await?
        .map(|(id, name)| Assignee { id, name });
    let waiting = s.state == "submitted";
    Ok(Sealed {
        id,
        org_id: org.id,
        org_name: org.name,
        org_code: org.user_code,
        kind: s.kind.clone(),
        location_id: s.location_id,
        version: s.version,
        state: s.state.clone(),
        receipt_no: s.receipt_no.clone(),
        submitted_at: s.submitted_at,
        submitter_name: snapshot["submitter"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        submitter_email: snapshot["submitter"]["email"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        files: db::submissions::files(&app.db, Scope::Center, id)
            .await?
            .into_iter()
            .map(|f| SealedFile {
                id: f.id,
                name: f.name,
                role: f.role,
                mime: f.mime,
                size: f.size,
                sha256: f.sha256,
            })
            .collect(),
        versions,
        previous,
        newer: db::review::newer_report(&app.db, id)
            .await?
            .map(Version::from),
        decision: db::review::decision(&app.db, Scope::Center, id)
            .await?
            .map(|d| DecisionOut {
                decision: d.decision,
                reason: d.reason,
                reviewer: d.reviewer,
                decided_at: d.decided_at,
            }),
        can_decide: matches!(s.state.as_str(), "submitted" | "under_review"),
        can_take: waiting && assignee.as_ref().is_none_or(|a| a.id != actor.id),
        can_release: waiting
            && assignee
                .as_ref()
                .is_some_and(|a| a.id == actor.id || actor.role == Role::CenterAdmin),
        assignee,
        comments: comments(app, Scope::Center, id).await?,
        snapshot,
        row: s,
        previous_row,
        renewed_from,
        renewed_row,
    })
}

/// A waiting submission to open next.
#[derive(Debug, Clone, serde::Serialize)]
pub struct WaitingNext {
    pub id: Uuid,
    pub receipt_no: String,
    pub org_name: String,
    /// The catalogue item key.
    pub kind: String,
}

/// The submission to open after deciding `except`: the oldest one waiting that is the
/// reviewer's own or nobody's.
pub async fn next_waiting(
    app: &App,
    actor: &Actor,
    except: Uuid,
) -> Result<Option<WaitingNext>, Error> {
    if !actor.holds(&REVIEWERS) {
        return Err(Error::Forbidden);
    }
    Ok(db::review::next_waiting(&app.db, actor.id, except)
        .await?
        .map(|n| WaitingNext {
            id: n.id,
            receipt_no: n.receipt_no,
            org_name: n.org_name,
            kind: n.kind,
        }))
}

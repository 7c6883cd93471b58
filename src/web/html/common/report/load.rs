//! Building the view of a stored submission: its snapshot, the catalogue revision it was
//! sealed under, the organisation's places, and (for a reviewer) the reports it is checked
//! against.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{Context, Place, Report, build};
use crate::app::submissions::forms::{FileRow, SubmissionRow};
use crate::app::{self, Actor};
use crate::domain::antivirus::AvRow;
use crate::domain::equipment::EquipmentRow;
use crate::i18n::Tr;
use crate::web::error::{AppError, AppResult};
use crate::web::state::AppState;

/// The day of `at` in Japan.
fn jst_day(at: DateTime<Utc>) -> chrono::NaiveDate {
    (at + chrono::Duration::hours(9)).date_naive()
}

/// The organisation's locations by id (inactive ones too: an old report names its place).
pub async fn places(
    state: &AppState,
    actor: &Actor,
    org_id: Uuid,
) -> AppResult<HashMap<Uuid, Place>> {
    Ok(app::structure::reads::locations(state, actor, org_id)
        .await?
        .into_iter()
        .map(|l| {
            (
                l.id,
                Place {
                    name: l.name,
                    kind: l.kind,
                },
            )
        })
        .collect())
}

/// The reports a report of `kind` is checked against (the equipment list against the
/// antivirus rows, and back): the organisation's latest sealed, not returned, ones.
async fn cross_checks(
    state: &AppState,
    actor: &Actor,
    org_id: Uuid,
    kind: &str,
) -> AppResult<(Option<Vec<EquipmentRow>>, Option<Vec<AvRow>>)> {
    let sealed =
        |kind: &'static str| app::submissions::forms::sealed_data(state, actor, org_id, kind);
    Ok(match kind {
        "antivirus" => (
            sealed("system_configuration")
                .await?
                .and_then(|d| serde_json::from_value(d["equipment"].clone()).ok()),
            None,
        ),
        "system_configuration" => (
            None,
            sealed("antivirus")
                .await?
                .and_then(|d| serde_json::from_value(d["rows"].clone()).ok()),
        ),
        _ => (None, None),
    })
}

/// The view of a sealed submission; `cross_check` adds the checks against the
/// organisation's other reports (equipment list against antivirus rows) to the summary.
pub async fn of_submission(
    state: &AppState,
    actor: &Actor,
    t: Tr,
    s: &SubmissionRow,
    places: &HashMap<Uuid, Place>,
    cross_check: bool,
) -> AppResult<Report> {
    let snapshot: serde_json::Value = s
        .snapshot
        .as_deref()
        .and_then(|j| serde_json::from_str(j).ok())
        .ok_or(AppError::NotFound)?;
    let catalogue = state.catalogue_revision(s.catalogue_revision).await?;
    let (equipment, antivirus) = match cross_check {
        true => cross_checks(state, actor, s.org_id, &s.kind).await?,
        false => (None, None),
    };
    let cx = Context {
        t,
        catalogue: &catalogue,
        places,
        stale_days: state.config.av_stale_days,
        submitted_on: jst_day(s.submitted_at.unwrap_or_else(Utc::now)),
        equipment,
        antivirus,
    };
    Ok(build(&cx, &snapshot))
}

/// The view of a draft as it will be sealed today (the confirmation step), checked against
/// the organisation's other reports as a reviewer's view is.
pub async fn of_draft(
    state: &AppState,
    actor: &Actor,
    t: Tr,
    draft: &SubmissionRow,
    files: &[FileRow],
    places: &HashMap<Uuid, Place>,
) -> AppResult<Report> {
    let snapshot = serde_json::json!({
        "kind": draft.kind,
        "location_id": draft.location_id,
        "data": serde_json::from_str::<serde_json::Value>(&draft.data).unwrap_or_default(),
        "files": files.iter().map(|f| serde_json::json!({
            "name": f.name, "role": f.role, "sha256": f.sha256, "size": f.size, "mime": f.mime,
        })).collect::<Vec<_>>(),
    });
    of_snapshot(state, actor, t, draft.org_id, &snapshot, places).await
}

/// The view of content not stored yet (a form sealed in one step, on its 確認 page).
pub async fn of_content(
    state: &AppState,
    actor: &Actor,
    t: Tr,
    org_id: Uuid,
    kind: &str,
    location_id: Option<Uuid>,
    data: serde_json::Value,
) -> AppResult<Report> {
    let places = places(state, actor, org_id).await?;
    let snapshot = serde_json::json!({ "kind": kind, "location_id": location_id, "data": data });
    of_snapshot(state, actor, t, org_id, &snapshot, &places).await
}

/// The view of a snapshot not sealed yet, as of today.
async fn of_snapshot(
    state: &AppState,
    actor: &Actor,
    t: Tr,
    org_id: Uuid,
    snapshot: &serde_json::Value,
    places: &HashMap<Uuid, Place>,
) -> AppResult<Report> {
    let kind = snapshot["kind"].as_str().unwrap_or("");
    let catalogue = state.catalogue().await?;
    let (equipment, antivirus) = cross_checks(state, actor, org_id, kind).await?;
    let cx = Context {
        t,
        catalogue: &catalogue,
        places,
        stale_days: state.config.av_stale_days,
        submitted_on: jst_day(Utc::now()),
        equipment,
        antivirus,
    };
    Ok(build(&cx, snapshot))
}

//! Item 5 — 社内セキュリティ対策: for servers, network devices and client terminals, each
//! measure of the source (subject authentication, access control, encryption, patches and
//! vulnerability measures, user authentication) with a status, a description and evidence.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::submissions::{Place, ReportKind, Sealed, reporting_org, save_data};
use super::{Actor, App, Error, FieldErrors};
use crate::db::submissions::SubmissionRow;

const KIND: ReportKind = ReportKind::InhouseMeasures;
/// The systems the source names.
pub const AREAS: [&str; 3] = ["servers", "network", "clients"];
/// The measures the source names.
pub const MEASURES: [&str; 5] = [
    "subject_auth",
    "access_control",
    "encryption",
    "patches",
    "user_auth",
];
/// How far each measure is in place.
pub const STATUSES: [&str; 4] = ["implemented", "partial", "planned", "not_applicable"];

/// One measure on one kind of system.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct MeasureInput {
    pub area: String,
    pub measure: String,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub description: String,
}

/// The stored key of a cell's part (`status` or `desc`): also the form field it came from
/// and the field its errors name.
pub fn cell_key(area: &str, measure: &str, part: &str) -> String {
    format!("m_{area}_{measure}_{part}")
}

/// The grid as stored: every area and measure of the source, what was typed for it (or blank).
fn grid(cells: &[MeasureInput]) -> serde_json::Map<String, serde_json::Value> {
    let mut data = serde_json::Map::new();
    for area in AREAS {
        for measure in MEASURES {
            let typed = cells
                .iter()
                .find(|c| c.area == area && c.measure == measure);
            let status = typed.map(|c| c.status.trim()).unwrap_or("");
            let desc = typed.map(|c| c.description.trim()).unwrap_or("");
            data.insert(cell_key(area, measure, "status"), status.into());
            data.insert(cell_key(area, measure, "desc"), desc.into());
        }
    }
    data
}

/// Saves the grid as the draft (opening it if needed), with its audit entry.
pub async fn save(
    app: &App,
    actor: &Actor,
    org: Uuid,
    cells: &[MeasureInput],
) -> Result<Uuid, Error> {
    reporting_org(app, actor, org).await?;
    save_data(
        app,
        actor,
        &Place::org(org, KIND),
        &serde_json::Value::Object(grid(cells)),
        "submission.draft_saved",
        serde_json::Value::Null,
    )
    .await
}

/// Checks a draft as stored before it is sealed: every cell needs a status and, unless not
/// applicable, a description (errors name each cell's `m_{area}_{measure}_{status|desc}`).
pub fn check(draft: &SubmissionRow) -> Result<serde_json::Value, Error> {
    let data: serde_json::Value = serde_json::from_str(&draft.data).unwrap_or_default();
    let mut errors = FieldErrors::default();
    for area in AREAS {
        for measure in MEASURES {
            let (status_key, desc_key) = (
                cell_key(area, measure, "status"),
                cell_key(area, measure, "desc"),
            );
            let status = data[&status_key].as_str().unwrap_or("");
            let desc = data[&desc_key].as_str().unwrap_or("");
            if !STATUSES.contains(&status) {
                errors.add(status_key, "error.choose_one");
            }
            if status != "not_applicable" && desc.is_empty() {
                errors.add(desc_key.clone(), "error.required");
            }
            if desc.chars().count() > 2000 {
                errors.add(desc_key, "error.too_long");
            }
        }
    }
    if !errors.is_empty() {
        return Err(Error::Invalid(errors));
    }
    Ok(serde_json::Value::Null)
}

/// Submits the open draft as stored, checked by [`check`]. With no draft open it answers the
/// latest receipt (a repeated submit) or `submission.need_files`.
pub async fn submit(app: &App, actor: &Actor, org: Uuid) -> Result<Sealed, Error> {
    super::submissions::confirm::submit_as_stored(app, actor, &Place::org(org, KIND)).await
}

/// The page's 提出: what was typed is kept as the draft, then the draft is checked for the
/// confirmation step.
pub async fn save_and_check(
    app: &App,
    actor: &Actor,
    org: Uuid,
    cells: &[MeasureInput],
) -> Result<Uuid, Error> {
    save(app, actor, org, cells).await?;
    super::submissions::confirm::prepare(app, actor, &Place::org(org, KIND)).await
}

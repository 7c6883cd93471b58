//! Building the view of a stored submission: its snapshot, the catalogue revision it was
//! sealed under, the organisation's places, and (for a reviewer) the reports it is checked
//! against.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{Context, Place, Report, build};
use crate::app::submissions::forms::SubmissionRow;
use crate::app::{self, Actor};
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
    let (mut equipment, mut antivirus) = (None, None);
    if cross_check {
        match s.kind.as_str() {
            "antivirus" => {
                equipment = app::submissions::forms::sealed_data(
                    state,
                    actor,
                    s.org_id,
                    "system_configuration",
                )
                .await?
                .and_then(|d| serde_json::from_value(d["equipment"].clone()).ok());
            }
            "system_configuration" => {
                antivirus =
                    app::submissions::forms::sealed_data(state, actor, s.org_id, "antivirus")
                        .await?
                        .and_then(|d| serde_json::from_value(d["rows"].clone()).ok());
            }
            _ => {}
        }
    }
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

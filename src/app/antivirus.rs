//! Item 3 — ウィルス対策: the antivirus report, one row per computer connected to NACCS, saved
//! as typed rows (from the page, an import or a script through the API) and submitted.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::structure::place_names;
use super::submissions::configuration::current_equipment;
use super::submissions::{
    ImportRefused, Place, ReportKind, RowProblem, Sealed, blocking, reporting_org, save_data,
};
use super::{Actor, App, Error, FieldErrors};
use crate::db;
use crate::db::submissions::SubmissionRow;
use crate::domain::antivirus::{self, AvRow};
use crate::domain::sheet::Imported;

const KIND: ReportKind = ReportKind::Antivirus;

/// The most rows (computers) one report holds.
pub const MAX_ROWS: usize = 1000;

/// The organisation's active offices and gateway sites: where a computer may stand. A
/// gateway site's computers are on the equipment list too, so the cross-check counts them.
pub async fn offices(app: &App, org_id: Uuid) -> Result<Vec<String>, Error> {
    place_names(app, org_id, false).await
}

/// Today in Japan, the day the dates people type (definitions, checks) are checked against:
/// the UTC day would refuse today's date before 09:00 JST as "in the future".
fn today() -> chrono::NaiveDate {
    crate::domain::dates::today()
}

/// The rows of the open draft (none when no draft is open).
pub async fn draft_rows(app: &App, org_id: Uuid) -> Result<Vec<AvRow>, Error> {
    let draft = db::submissions::draft(&app.db, org_id, KIND.as_str(), None).await?;
    Ok(draft
        .and_then(|d| serde_json::from_str::<serde_json::Value>(&d.data).ok())
        .and_then(|v| serde_json::from_value(v["rows"].clone()).ok())
        .unwrap_or_default())
}

/// The offices where the equipment list and the rows count the NACCS computers differently:
/// (office, expected, reported), in the order the places were registered.
pub async fn mismatches(
    app: &App,
    org_id: Uuid,
    rows: &[AvRow],
) -> Result<Vec<(String, i64, i64)>, Error> {
    Ok(crate::domain::antivirus::mismatches(
        &current_equipment(app, org_id).await?,
        rows,
        &place_names(app, org_id, false).await?,
    ))
}

/// Checks rows; answers the non-blank rows, normalised, with each problem at its row's index
/// among them.
fn check_rows(
    rows: Vec<AvRow>,
    offices: &[String],
) -> Result<(Vec<AvRow>, Vec<RowProblem>), Error> {
    let mut rows: Vec<AvRow> = rows.into_iter().filter(|r| !r.is_blank()).collect();
    if rows.len() > MAX_ROWS {
        return Err(Error::field("rows", "import.too_many_rows"));
    }
    let today = today();
    let mut problems = vec![];
    for (i, row) in rows.iter_mut().enumerate() {
        for (field, key) in antivirus::check(row, offices, today) {
            problems.push(RowProblem { row: i, field, key });
        }
    }
    Ok((rows, problems))
}

/// What [`save_rows`] takes: every computer's row (blank rows are left out).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RowsInput {
    pub org: Uuid,
    #[serde(default)]
    pub rows: Vec<AvRow>,
}

/// The rows saved in the draft and what is still wrong with them.
#[derive(Debug, Clone, Serialize)]
pub struct Saved {
    pub draft: Uuid,
    pub rows: Vec<AvRow>,
    pub problems: Vec<RowProblem>,
    /// Rows whose definitions are older than the stale limit (by index).
    pub stale: Vec<usize>,
}

async fn store(
    app: &App,
    actor: &Actor,
    org: Uuid,
    rows: Vec<AvRow>,
    problems: Vec<RowProblem>,
    action: &'static str,
) -> Result<Saved, Error> {
    let draft = save_data(
        app,
        actor,
        &Place::org(org, KIND),
        &serde_json::json!({ "rows": rows }),
        action,
        serde_json::json!({ "rows": rows.len() }),
    )
    .await?;
    let today = today();
    let stale = rows
        .iter()
        .enumerate()
        .filter(|(i, r)| {
            !problems.iter().any(|p| p.row == *i)
                && antivirus::is_stale(r, today, app.config.av_stale_days)
        })
        .map(|(i, _)| i)
        .collect();
    Ok(Saved {
        draft,
        rows,
        problems,
        stale,
    })
}

/// Saves the rows as the draft (opening it if needed), unfinished rows included: what is
/// wrong with them comes back as `problems` and stops only the submit.
pub async fn save_rows(app: &App, actor: &Actor, input: RowsInput) -> Result<Saved, Error> {
    reporting_org(app, actor, input.org).await?;
    let offices = offices(app, input.org).await?;
    let (rows, problems) = check_rows(input.rows, &offices)?;
    store(
        app,
        actor,
        input.org,
        rows,
        problems,
        "submission.draft_saved",
    )
    .await
}

/// Replaces the draft's rows, only when every row is clean (an import, or a script pushing
/// its computers): errors are `rows` (`av.fix_rows`) and each row's `rows.{i}.{field}`.
pub async fn import_rows(app: &App, actor: &Actor, input: RowsInput) -> Result<Saved, Error> {
    reporting_org(app, actor, input.org).await?;
    let offices = offices(app, input.org).await?;
    let (rows, problems) = check_rows(input.rows, &offices)?;
    if rows.is_empty() || !problems.is_empty() {
        let mut errors = FieldErrors::default();
        errors.add(
            "rows",
            if rows.is_empty() {
                "av.need_rows"
            } else {
                "av.fix_rows"
            },
        );
        RowProblem::into_errors(&problems, &mut errors);
        return Err(Error::Invalid(errors));
    }
    store(app, actor, input.org, rows, problems, "antivirus.imported").await
}

/// Checks a draft as stored before it is sealed: at least one row, every row clean (errors
/// `rows`: `av.need_rows` or `av.fix_rows`, and each row's `rows.{i}.{field}`); answers the
/// audit detail of the seal.
pub async fn check(
    app: &App,
    org: Uuid,
    draft: &SubmissionRow,
) -> Result<serde_json::Value, Error> {
    let stored: Vec<AvRow> = serde_json::from_str::<serde_json::Value>(&draft.data)
        .ok()
        .and_then(|v| serde_json::from_value(v["rows"].clone()).ok())
        .unwrap_or_default();
    let offices = offices(app, org).await?;
    let (rows, problems) = check_rows(stored, &offices)?;
    let mut errors = FieldErrors::default();
    if rows.is_empty() {
        errors.add("rows", "av.need_rows");
    }
    RowProblem::refuse(&problems, errors)?;
    Ok(serde_json::json!({ "computers": rows.len() }))
}

/// Submits the open draft as stored, checked by [`check`]. With no draft open it answers the
/// latest receipt (a repeated submit) or `submission.need_files`.
pub async fn submit(app: &App, actor: &Actor, org: Uuid) -> Result<Sealed, Error> {
    super::submissions::confirm::submit_as_stored(app, actor, &Place::org(org, KIND)).await
}

/// The page's 提出: the typed rows are saved as the draft first (so nothing typed is lost
/// when they are refused), then the draft is checked for the confirmation step.
pub async fn save_and_check(app: &App, actor: &Actor, input: RowsInput) -> Result<Uuid, Error> {
    let org = input.org;
    save_rows(app, actor, input).await?;
    super::submissions::confirm::prepare(app, actor, &Place::org(org, KIND)).await
}

/// Reads an antivirus CSV (or workbook) for the confirmation step: nothing is stored.
pub async fn read_import(
    app: &App,
    actor: &Actor,
    org: Uuid,
    bytes: bytes::Bytes,
) -> Result<Result<Imported<AvRow>, ImportRefused>, Error> {
    reporting_org(app, actor, org).await?;
    let names = offices(app, org).await?;
    let given = names.clone();
    let today = today();
    let read = blocking(move || antivirus::import(&bytes, &given, today)).await?;
    Ok(match read {
        Ok(imported) if imported.rows.len() > MAX_ROWS => {
            Err(ImportRefused::TooManyRows { max: MAX_ROWS })
        }
        Ok(imported) => Ok(imported),
        Err(failed) => Err(ImportRefused::Failed { failed, names }),
    })
}

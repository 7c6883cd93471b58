//! Item 4 — システム構成: the system configuration report, diagrams and the equipment list
//! (機器の構成リスト) as typed rows or as a file, and the equipment list's CSV/Excel import.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{
    ImportRefused, Place, ReportKind, RowProblem, Sealed, blocking, reporting_org, save_data,
};
use crate::app::structure::place_names;
use crate::app::{Actor, App, Error, FieldErrors};
use crate::db;
use crate::db::submissions::SubmissionRow;
use crate::domain::Scope;
use crate::domain::equipment::{self, EquipmentRow};
use crate::domain::sheet::Imported;

const KIND: ReportKind = ReportKind::SystemConfiguration;

/// The most equipment rows one report holds (an import of a 10,000-row workbook fits).
pub const MAX_ROWS: usize = 10_000;
/// The longest note, in characters.
const NOTE_MAX: usize = 4000;

/// Active office and gateway-site names: where equipment can stand.
pub async fn location_names(app: &App, org_id: Uuid) -> Result<Vec<String>, Error> {
    place_names(app, org_id, false).await
}

/// The equipment rows of the current draft, else of the latest submitted configuration.
pub async fn current_equipment(app: &App, org_id: Uuid) -> Result<Vec<EquipmentRow>, Error> {
    let latest = db::submissions::latest(&app.db, Some(org_id))
        .await?
        .into_iter()
        .find(|s| s.kind == KIND.as_str());
    let data = match latest {
        Some(s) => db::submissions::data(&app.db, org_id, s.id)
            .await?
            .unwrap_or_default(),
        None => serde_json::Value::Null,
    };
    Ok(serde_json::from_value(data["equipment"].clone()).unwrap_or_default())
}

/// What [`save`] takes: the draft's note and its equipment rows (blank rows are left out).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ConfigurationInput {
    pub org: Uuid,
    #[serde(default)]
    pub note: String,
    #[serde(default)]
    pub equipment: Vec<EquipmentRow>,
}

/// A saved draft: the rows as stored (normalised) and what is still wrong with them (a draft
/// may hold unfinished rows; submitting needs them clean).
#[derive(Debug, Clone, Serialize)]
pub struct Saved {
    pub draft: Uuid,
    pub rows: Vec<EquipmentRow>,
    pub problems: Vec<RowProblem>,
}

/// Checks rows against the places they may name; answers the non-blank rows, normalised,
/// with each problem at its row's index among them.
fn check_rows(
    rows: Vec<EquipmentRow>,
    places: &[String],
) -> Result<(Vec<EquipmentRow>, Vec<RowProblem>), Error> {
    let mut rows: Vec<EquipmentRow> = rows.into_iter().filter(|r| !r.is_blank()).collect();
    if rows.len() > MAX_ROWS {
        return Err(Error::field("equipment", "error.too_long"));
    }
    let mut problems = vec![];
    for (i, row) in rows.iter_mut().enumerate() {
        for (field, key) in equipment::check(row, places) {
            problems.push(RowProblem { row: i, field, key });
        }
    }
    Ok((rows, problems))
}

/// Saves the draft's note and equipment rows as typed (creating the draft if needed), with
/// the audit entry `action`.
async fn store(
    app: &App,
    actor: &Actor,
    org: Uuid,
    note: &str,
    rows: &[EquipmentRow],
    action: &'static str,
) -> Result<Uuid, Error> {
    save_data(
        app,
        actor,
        &Place::org(org, KIND),
        &serde_json::json!({ "note": note, "equipment": rows }),
        action,
        serde_json::Value::Null,
    )
    .await
}

/// Saves the draft (note and equipment rows); a first save with nothing in it is refused
/// (`submission.need_files`).
pub async fn save(app: &App, actor: &Actor, input: ConfigurationInput) -> Result<Saved, Error> {
    reporting_org(app, actor, input.org).await?;
    let note = input.note.trim().to_string();
    if note.chars().count() > NOTE_MAX {
        return Err(Error::field("note", "error.too_long"));
    }
    let places = location_names(app, input.org).await?;
    let (rows, problems) = check_rows(input.equipment, &places)?;
    if rows.is_empty()
        && note.is_empty()
        && db::submissions::draft(&app.db, input.org, KIND.as_str(), None)
            .await?
            .is_none()
    {
        return Err(Error::field("_form", "submission.need_files"));
    }
    let draft = store(
        app,
        actor,
        input.org,
        &note,
        &rows,
        "submission.draft_saved",
    )
    .await?;
    Ok(Saved {
        draft,
        rows,
        problems,
    })
}

/// Checks a draft as stored before it is sealed: it needs a diagram, an equipment list (rows
/// or a file) and clean rows; the errors are `files` (`submission.need_diagram`), `equipment`
/// (`submission.need_equipment`), `rows` (`av.fix_rows`) and each row's `rows.{i}.{field}`.
/// Answers the audit detail of the seal.
pub async fn check(
    app: &App,
    org: Uuid,
    draft: &SubmissionRow,
) -> Result<serde_json::Value, Error> {
    let data: serde_json::Value = serde_json::from_str(&draft.data).unwrap_or_default();
    let stored: Vec<EquipmentRow> =
        serde_json::from_value(data["equipment"].clone()).unwrap_or_default();
    let places = location_names(app, org).await?;
    let (rows, problems) = check_rows(stored, &places)?;
    let files = db::submissions::files(&app.db, Scope::Org(org), draft.id).await?;
    let mut errors = FieldErrors::default();
    if !files.iter().any(|f| f.role == "diagram") {
        errors.add("files", "submission.need_diagram");
    }
    if rows.is_empty() && !files.iter().any(|f| f.role == "equipment_list") {
        errors.add("equipment", "submission.need_equipment");
    }
    RowProblem::refuse(&problems, errors)?;
    Ok(serde_json::json!({ "equipment_rows": rows.len() }))
}

/// Submits the open draft as stored, checked by [`check`]. With no draft open it answers the
/// latest receipt (a repeated submit) or `submission.need_files`.
pub async fn submit(app: &App, actor: &Actor, org: Uuid) -> Result<Sealed, Error> {
    super::confirm::submit_as_stored(app, actor, &Place::org(org, KIND)).await
}

/// The page's 提出: what was typed is kept as the draft first (opening it, from the last
/// accepted report when there is one), then the draft is checked for the confirmation step.
pub async fn save_and_check(
    app: &App,
    actor: &Actor,
    input: ConfigurationInput,
) -> Result<Uuid, Error> {
    let org = input.org;
    save(app, actor, input).await?;
    super::confirm::prepare(app, actor, &Place::org(org, KIND)).await
}

/// Reads an equipment list (CSV or workbook) for the confirmation step: nothing is stored.
pub async fn read_import(
    app: &App,
    actor: &Actor,
    org: Uuid,
    bytes: bytes::Bytes,
) -> Result<Result<Imported<EquipmentRow>, ImportRefused>, Error> {
    reporting_org(app, actor, org).await?;
    let names = location_names(app, org).await?;
    let given = names.clone();
    let read = blocking(move || equipment::import(&bytes, &given)).await?;
    Ok(match read {
        Ok(imported) if imported.rows.len() > MAX_ROWS => {
            Err(ImportRefused::TooManyRows { max: MAX_ROWS })
        }
        Ok(imported) => Ok(imported),
        Err(failed) => Err(ImportRefused::Failed { failed, names }),
    })
}

/// Replaces the draft's equipment rows with imported ones (the note stays), only when every
/// row is clean (checked again: places may have changed since the file was read).
pub async fn import_rows(
    app: &App,
    actor: &Actor,
    org: Uuid,
    rows: Vec<EquipmentRow>,
) -> Result<Saved, Error> {
    reporting_org(app, actor, org).await?;
    let places = location_names(app, org).await?;
    let (rows, problems) = check_rows(rows, &places)?;
    if rows.is_empty() || !problems.is_empty() {
        let mut errors = FieldErrors::default();
        errors.add("rows", "av.fix_rows");
        RowProblem::into_errors(&problems, &mut errors);
        return Err(Error::Invalid(errors));
    }
    let note = match db::submissions::draft(&app.db, org, KIND.as_str(), None).await? {
        Some(d) => serde_json::from_str::<serde_json::Value>(&d.data)
            .ok()
            .and_then(|v| v["note"].as_str().map(str::to_string))
            .unwrap_or_default(),
        None => String::new(),
    };
    let draft = store(app, actor, org, &note, &rows, "equipment.imported").await?;
    Ok(Saved {
        draft,
        rows,
        problems,
    })
}

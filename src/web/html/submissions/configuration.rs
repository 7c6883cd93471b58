//! Item 4 — 利用者側のシステム構成の提出: the draft's diagrams and equipment list (typed rows,
//! an imported CSV or workbook, or a file), sealed on submit with a receipt number.

use std::collections::HashMap;
use std::sync::Arc;

use askama::Template;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use uuid::Uuid;

use crate::app::orgs::OrgRow;
use crate::app::submissions::configuration::{self as config, ConfigurationInput};
use crate::app::submissions::{ImportRefused, Place, ReportKind};
use crate::app::{self, FieldErrors};
use crate::domain::equipment::{self, DEVICE_TYPES, EquipmentRow};
use crate::web::ctx::{CsrfForm, Ctx, CurrentUser};
use crate::web::error::AppResult;
use crate::web::html::common::access::{org_for, reader};
use crate::web::html::common::comments::{ReturnNote, page_return_note};
use crate::web::html::common::files::{FileItem, template_csv};
use crate::web::html::common::renewal::{RenewalNote, ShownNote, draft_state};
use crate::web::html::common::upload::{read_csv_upload, receive_files};
use crate::web::html::common::{imports, split_row_errors, to_confirm};
use crate::web::page::{Page, jst, redirect_with_count, redirect_with_flash, render};
use crate::web::state::AppState;

const KIND: ReportKind = ReportKind::SystemConfiguration;
const EQ_BLANK_ROWS: usize = 3;
/// Up to this many rows the list is a form; a longer list (imported from a workbook) is shown
/// page by page as text, kept as it is when the draft is saved, and changed by importing again.
const EDIT_ROWS: usize = 200;
/// Rows on one page of a long list.
const ROWS_PER_PAGE: usize = 200;
/// Row problems listed above a long list.
const LISTED_PROBLEMS: usize = 50;

#[derive(Template)]
#[template(path = "submissions/system_configuration.html")]
struct ConfigView {
    page: Page,
    /// Why the version this draft revises was returned.
    returned: Option<ReturnNote>,
    org_id: Uuid,
    org_name: String,
    files: Vec<FileItem>,
    problems: Vec<String>,
    note: String,
    can_edit: bool,
    /// The version sent and not accepted yet, shown in place of a draft.
    shown: Option<ShownNote>,
    last: Option<(Uuid, String, String)>,
    max_mb: u64,
    max_files: usize,
    equipment: Vec<EqView>,
    locations: Vec<String>,
    device_types: Vec<&'static str>,
    /// A long list, shown as text page by page (`None`: the list is a form).
    long: Option<LongList>,
    /// The accepted report this draft renews (or a new one would start from).
    renewal: Option<RenewalNote>,
    /// The open draft, when the reader may discard it (下書きを破棄).
    discard: Option<Uuid>,
    /// How many rows the form may hold (「行を追加」 stops there).
    max_rows: usize,
}

/// One page of a long equipment list, in words.
struct LongList {
    total: usize,
    /// This page's rows: the row's number and its cells.
    rows: Vec<(usize, Vec<String>)>,
    page: usize,
    pages: usize,
    /// Each row problem as a sentence ("12行目 設置場所: …"), the first few.
    problems: Vec<String>,
}

/// Which equipment rows the page shows.
enum Rows {
    /// The draft's (or the last report's), at this page when the list is long.
    Stored { page: usize },
    /// Rows typed into the form, with their errors: shown as the form again.
    Typed(Vec<EqView>),
    /// The stored rows of a long list kept by a save, with their errors.
    Kept(Vec<EqView>),
}

#[derive(serde::Deserialize)]
pub struct RowsPage {
    #[serde(default)]
    rows: Option<usize>,
}

/// A row's cells in `FIELDS` order, the coded ones (device type, NACCS connection) in words.
fn in_words(t: &crate::i18n::Tr, r: &EquipmentRow) -> Vec<String> {
    let mut cells = r.to_cells();
    for (field, word) in [
        ("device_type", format!("eq.type.{}", r.device_type)),
        ("naccs", format!("eq.{}", r.naccs)),
    ] {
        let at = equipment::FIELDS.iter().position(|f| *f == field);
        if let Some(cell) = at.and_then(|i| cells.get_mut(i)) {
            *cell = t.t(&word).to_string();
        }
    }
    cells
}

/// The page of a long list to show (1-based, within range).
fn long_list(t: &crate::i18n::Tr, equipment: &[EqView], page: usize) -> Option<LongList> {
    if equipment.len() <= EDIT_ROWS {
        return None;
    }
    let total = equipment.len();
    let pages = total.div_ceil(ROWS_PER_PAGE);
    let page = page.clamp(1, pages);
    let words = |r: &EquipmentRow| in_words(t, r);
    let problems = equipment
        .iter()
        .flat_map(|r| {
            r.errors.iter().map(move |(field, key)| {
                t.f(
                    "eq.long.problem",
                    &[
                        ("n", &(r.n + 1).to_string()),
                        ("field", t.t(&format!("eq.col.{field}"))),
                        ("problem", t.t(key)),
                    ],
                )
            })
        })
        .take(LISTED_PROBLEMS)
        .collect();
    Some(LongList {
        total,
        rows: equipment
            .iter()
            .skip((page - 1) * ROWS_PER_PAGE)
            .take(ROWS_PER_PAGE)
            .map(|r| (r.n + 1, words(&r.row)))
            .collect(),
        page,
        pages,
        problems,
    })
}

/// An equipment row as the form shows it.
pub struct EqView {
    pub n: usize,
    pub row: EquipmentRow,
    /// As in the accepted report the draft renews (引き継ぎ).
    pub carried: bool,
    pub errors: Vec<(String, &'static str)>,
}

impl EqView {
    /// The error of one field, if any.
    pub fn error(&self, field: &str) -> Option<&'static str> {
        self.errors
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, k)| *k)
    }
}

async fn config_view(
    state: &AppState,
    ctx: &Ctx,
    me: &CurrentUser,
    org: &OrgRow,
    problems: Vec<String>,
) -> AppResult<ConfigView> {
    config_view_with(
        state,
        ctx,
        me,
        org,
        problems,
        Rows::Stored { page: 1 },
        None,
    )
    .await
}

async fn config_view_with(
    state: &AppState,
    ctx: &Ctx,
    me: &CurrentUser,
    org: &OrgRow,
    problems: Vec<String>,
    rows: Rows,
    note: Option<String>,
) -> AppResult<ConfigView> {
    let drafted = draft_state(state, &reader(me), &Place::org(org.id, KIND)).await?;
    let data = drafted.data();
    let note = note.unwrap_or_else(|| data["note"].as_str().unwrap_or("").to_string());
    // Rows typed into the form come back as a form (there are never more than it holds).
    let (long_page, shown) = match rows {
        Rows::Stored { page } => (Some(page), None),
        Rows::Typed(r) => (None, Some(r)),
        Rows::Kept(r) => (Some(1), Some(r)),
    };
    let mut equipment = match shown {
        Some(r) => r,
        None => {
            let stored: Vec<EquipmentRow> = match data.is_null() {
                false => serde_json::from_value(data["equipment"].clone()).unwrap_or_default(),
                true => config::current_equipment(state, org.id).await?,
            };
            stored
                .into_iter()
                .enumerate()
                .map(|(n, row)| EqView {
                    n,
                    row,
                    carried: false,
                    errors: vec![],
                })
                .collect()
        }
    };
    if let Some(r) = &drafted.form.renewal {
        let carried: Vec<EquipmentRow> = r.rows("equipment");
        for e in equipment.iter_mut() {
            e.carried = carried.contains(&e.row);
        }
    }
    let long = long_page.and_then(|page| long_list(&ctx.tr(), &equipment, page));
    if long.is_some() {
        equipment.clear();
    }
    let may_report = app::submissions::may_report(&reader(me), org.id);
    let can_edit = drafted.editable(may_report);
    let discard = drafted.draft_id().filter(|_| can_edit);
    let shown = drafted.shown(&ctx.tr(), may_report);
    let blank = if can_edit { EQ_BLANK_ROWS } else { 0 };
    let next = equipment.iter().map(|r| r.n + 1).max().unwrap_or(0);
    equipment.extend((next..next + blank).map(|n| EqView {
        n,
        // Nothing chosen for the person: a type and a NACCS connection are theirs to say.
        row: EquipmentRow::default(),
        carried: false,
        errors: vec![],
    }));
    let last = drafted.form.last().map(|s| {
        (
            s.id,
            s.submitted_at.map(|t| jst(&t)).unwrap_or_default(),
            s.state.clone(),
        )
    });
    let renewal = drafted.note(&ctx.tr());
    let returned = page_return_note(state, org.id, &drafted).await?;
    let files = drafted.files;
    Ok(ConfigView {
        returned,
        renewal,
        discard,
        files,
        page: Page::new(ctx, Some(me)),
        org_id: org.id,
        org_name: org.name.clone(),
        problems,
        note,
        can_edit,
        max_rows: EDIT_ROWS + EQ_BLANK_ROWS,
        shown,
        last,
        max_mb: state.files.max_file / (1024 * 1024),
        max_files: state.files.max_files,
        equipment,
        locations: config::location_names(state, org.id).await?,
        device_types: DEVICE_TYPES.to_vec(),
        long,
    })
}

/// `GET /orgs/{org}/system-configuration[?rows=P]` (`rows`: the page of a long list)
pub async fn page(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Path(org_id): Path<Uuid>,
    Query(at): Query<RowsPage>,
) -> AppResult<Response> {
    let org = org_for(&state, &me, org_id, false).await?;
    let view = config_view_with(
        &state,
        &ctx,
        &me,
        &org,
        vec![],
        Rows::Stored {
            page: at.rows.unwrap_or(1),
        },
        None,
    )
    .await?;
    render(StatusCode::OK, &view)
}

/// `POST /orgs/{org}/system-configuration/files`
pub async fn upload(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Path(org_id): Path<Uuid>,
    form: Multipart,
) -> AppResult<Response> {
    let back = format!("/orgs/{org_id}/system-configuration");
    let place = Place::org(org_id, KIND);
    let problems = match receive_files(&state, &ctx, &me, place, form, &back).await? {
        Ok(done) => return Ok(done),
        Err(problems) => problems,
    };
    let org = org_for(&state, &me, org_id, false).await?;
    render(
        problems.status,
        &config_view(&state, &ctx, &me, &org, problems.list).await?,
    )
}

/// The non-blank equipment rows of the form, in order.
fn equipment_from_form(input: &HashMap<String, String>) -> Vec<EquipmentRow> {
    (0..EDIT_ROWS + EQ_BLANK_ROWS)
        .map(|n| {
            let get = |f: &str| {
                input
                    .get(&format!("eq_{n}_{f}"))
                    .cloned()
                    .unwrap_or_default()
            };
            EquipmentRow {
                device_type: get("device_type"),
                name: get("name"),
                maker: get("maker"),
                model: get("model"),
                os_firmware: get("os_firmware"),
                quantity: get("quantity"),
                location: get("location"),
                role: get("role"),
                naccs: get("naccs"),
                notes: get("notes"),
            }
        })
        .filter(|r| !r.is_blank())
        .collect()
}

/// `POST /orgs/{org}/system-configuration`: save the draft (note and equipment rows), or
/// check everything and submit.
pub async fn save_or_submit(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Path(org_id): Path<Uuid>,
    CsrfForm(input): CsrfForm<HashMap<String, String>>,
) -> AppResult<Response> {
    let actor = me.actor(&ctx);
    let org = app::submissions::reporting_org(&state, &actor, org_id).await?;
    let submit = input.get("action").is_some_and(|a| a == "submit");
    let note = input.get("note").cloned().unwrap_or_default();
    // A long list is not a form: the draft's rows stay as they are.
    let keep = input.get("keep_rows").is_some_and(|k| k == "1");
    let rows = match keep {
        true => config::current_equipment(&state, org_id).await?,
        false => equipment_from_form(&input),
    };
    let typed = ConfigurationInput {
        org: org_id,
        note: note.clone(),
        equipment: rows.clone(),
    };
    let errors = if submit {
        match config::save_and_check(&state, &actor, typed).await {
            Ok(draft) => return Ok(to_confirm(org_id, draft)),
            Err(app::Error::Invalid(errors)) => errors,
            Err(e) => return Err(e.into()),
        }
    } else {
        match config::save(&state, &actor, typed).await {
            Ok(_) => {
                return Ok(redirect_with_flash(
                    &format!("/orgs/{org_id}/system-configuration"),
                    "flash.draft_saved",
                    state.cookies.secure,
                ));
            }
            Err(app::Error::Invalid(errors)) => errors,
            Err(e) => return Err(e.into()),
        }
    };
    refused(&state, &ctx, &me, &org, (rows, keep), note, &errors).await
}

/// The form again with what was typed and why it was refused.
async fn refused(
    state: &AppState,
    ctx: &Ctx,
    me: &CurrentUser,
    org: &OrgRow,
    (rows, kept): (Vec<EquipmentRow>, bool),
    note: String,
    errors: &FieldErrors,
) -> AppResult<Response> {
    let t = ctx.tr();
    let (form, mut by_row) = split_row_errors(errors);
    let problems = form.into_iter().map(|k| t.t(k).to_string()).collect();
    let checked = rows
        .into_iter()
        .enumerate()
        .map(|(n, row)| EqView {
            n,
            row,
            carried: false,
            errors: by_row.remove(&n).unwrap_or_default(),
        })
        .collect();
    render(
        StatusCode::UNPROCESSABLE_ENTITY,
        &config_view_with(
            state,
            ctx,
            me,
            org,
            problems,
            match kept {
                true => Rows::Kept(checked),
                false => Rows::Typed(checked),
            },
            Some(note.trim().to_string()),
        )
        .await?,
    )
}

/// `POST /orgs/{org}/system-configuration/import`: reads a CSV or workbook and shows its rows
/// for confirmation, only when every line is clean (nothing is stored yet).
pub async fn import_equipment(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Path(org_id): Path<Uuid>,
    mut form: Multipart,
) -> AppResult<Response> {
    let actor = me.actor(&ctx);
    let org = app::submissions::reporting_org(&state, &actor, org_id).await?;
    let bytes = read_csv_upload(&mut form, &me).await?;
    let t = ctx.tr();
    let problems = match config::read_import(&state, &actor, org_id, bytes).await? {
        Err(ImportRefused::TooManyRows { max }) => {
            vec![t.f("import.too_many_rows", &[("max", &max.to_string())])]
        }
        Ok(imported) => {
            let shown = imported
                .rows
                .iter()
                .map(|r| in_words(&t, r))
                .zip(&imported.numbers)
                .map(|(cells, n)| (*n, cells))
                .collect();
            return imports::confirm_page(
                &ctx,
                &me,
                imports::Confirm {
                    org_name: org.name.clone(),
                    title_key: "eq.title",
                    sheet: imported.sheet,
                    header_row: imported.header_row,
                    ignored: imported.ignored,
                    assumed: imported
                        .assumed
                        .iter()
                        .map(|f| t.t(&format!("import.assumed.{f}")).to_string())
                        .collect(),
                    headings: equipment::FIELDS
                        .iter()
                        .map(|f| t.t(&format!("eq.col.{f}")).to_string())
                        .collect(),
                    rows: shown,
                    action: format!("/orgs/{org_id}/system-configuration/import/confirm"),
                    back: format!("/orgs/{org_id}/system-configuration"),
                    payload: imports::payload(
                        imported.rows.iter().map(EquipmentRow::to_cells).collect(),
                    )?,
                },
            );
        }
        Err(ImportRefused::Failed { failed, names }) => {
            imports::problems(&t, "eq.col", failed, &names)
        }
    };
    render(
        StatusCode::UNPROCESSABLE_ENTITY,
        &config_view(&state, &ctx, &me, &org, problems).await?,
    )
}

/// `POST /orgs/{org}/system-configuration/import/confirm` (登録): replaces the draft's
/// equipment rows with the rows the confirmation page showed, checked again.
pub async fn confirm_equipment(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Path(org_id): Path<Uuid>,
    CsrfForm(form): CsrfForm<imports::ConfirmForm>,
) -> AppResult<Response> {
    let actor = me.actor(&ctx);
    let org = app::submissions::reporting_org(&state, &actor, org_id).await?;
    let rows: Vec<EquipmentRow> = imports::rows_posted(&form, config::MAX_ROWS)?
        .iter()
        .map(|c| EquipmentRow::from_cells(c))
        .collect();
    match config::import_rows(&state, &actor, org_id, rows).await {
        Ok(saved) => Ok(redirect_with_count(
            &format!("/orgs/{org_id}/system-configuration"),
            "flash.equipment_imported",
            saved.rows.len(),
            state.cookies.secure,
        )),
        // Places may have changed since the file was read; a changed row is not stored.
        Err(app::Error::Invalid(_)) => {
            let t = ctx.tr();
            render(
                StatusCode::UNPROCESSABLE_ENTITY,
                &config_view(
                    &state,
                    &ctx,
                    &me,
                    &org,
                    vec![t.t("import.changed").to_string()],
                )
                .await?,
            )
        }
        Err(e) => Err(e.into()),
    }
}

/// `GET /orgs/{org}/system-configuration/template.csv`: the equipment list template (UTF-8, BOM).
pub async fn equipment_template(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Path(org_id): Path<Uuid>,
) -> AppResult<Response> {
    org_for(&state, &me, org_id, false).await?;
    let t = ctx.tr();
    Ok(template_csv(
        &t,
        &equipment::FIELDS,
        "eq.col",
        t.t("eq.sample_row"),
        "attachment; filename=\"equipment-template.csv\"",
    ))
}

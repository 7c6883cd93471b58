//! The mapping of a log's columns on the gateway-log page (列の対応づけ): the first lines
//! as a table, split by the log's delimiter, and a form saying which column holds each field
//! of Table 7-4-2; its post; and the sample of the expected format.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use uuid::Uuid;

use super::{Shown, site_for, view};
use crate::app;
use crate::app::log_mapping::{MapFailure, MapRequest};
use crate::domain::gatewaylog::mapping::{self, FIELDS};
use crate::domain::gatewaylog::{LogCheck, MapInput};
use crate::i18n::Tr;
use crate::web::ctx::{CsrfForm, Ctx, CurrentUser};
use crate::web::error::AppResult;
use crate::web::forms::FieldErrors;
use crate::web::html::common::files::csv_download;
use crate::web::html::common::logcheck;
use crate::web::page::{redirect_with_flash, render};
use crate::web::state::AppState;

/// Characters of a cell shown in a column's choice.
const SAMPLE_CHARS: usize = 20;

/// The mapping form as it was sent, shown again with its errors.
pub struct Posted {
    pub file: Uuid,
    pub input: MapInput,
    pub errors: FieldErrors,
}

/// One field's choice of column.
pub struct MapField {
    pub name: &'static str,
    pub id: String,
    pub label: String,
    /// The first choice: "choose" for a required field, "none" for the direction.
    pub none: String,
    pub value: String,
    pub error: Option<String>,
}

/// A log's first lines and the form mapping its columns.
pub struct MapView {
    pub file_id: Uuid,
    pub name: String,
    /// Whether the log waits for the mapping (else it may be changed).
    pub needed: bool,
    /// Whether the log is being read again with the saved mapping (確認中): the form, with
    /// that mapping, stays beside the message so a mistake can be put right at once.
    pub checking: bool,
    /// Which fields could not be told, in words.
    pub why: String,
    pub head: Vec<String>,
    pub rows: Vec<Vec<String>>,
    /// Which rows are title lines above the header (one cell, shown across the columns so
    /// that a long title does not widen the first column).
    pub titles: Vec<bool>,
    pub caption: String,
    /// (value, words) of each column.
    pub options: Vec<(String, String)>,
    pub header: String,
    pub fields: Vec<MapField>,
    pub form_error: Option<String>,
    pub version: i64,
}

/// The form for one log: what the check kept of its first lines, the values as sent (when
/// this is the log the form was sent for), else its mapping, the site's, or a guess. While
/// the log is read again with the site's saved mapping (`checking`), that mapping.
pub fn form(
    t: &Tr,
    (file_id, name): (Uuid, &str),
    check: &LogCheck,
    site: Option<&app::log_mapping::SiteMapping>,
    posted: Option<&Posted>,
    checking: bool,
) -> MapView {
    let mut rows = mapping::preview_cells(&check.preview, &check.delimiter);
    let above = mapping::header_line(&rows);
    let titles = rows
        .iter()
        .enumerate()
        .map(|(i, r)| i < above && r.len() == 1)
        .collect();
    let width = check.width();
    for r in &mut rows {
        r.resize(width, String::new());
    }
    let column = |n: usize| t.f("gwlog.map.column", &[("n", &n.to_string())]);
    let options = (1..=width)
        .map(|n| {
            let sample: String = rows
                .get(above)
                .map(|r| r[n - 1].chars().take(SAMPLE_CHARS).collect())
                .unwrap_or_default();
            let words = if sample.is_empty() {
                column(n)
            } else {
                t.f(
                    "gwlog.map.option",
                    &[("n", &n.to_string()), ("sample", &sample)],
                )
            };
            (n.to_string(), words)
        })
        .collect();
    let posted = posted.filter(|p| p.file == file_id);
    let input = match (posted, check.mapping, site) {
        (Some(p), _, _) => p.input.clone(),
        // The mapping being read: the check at hand is from before it.
        (None, _, Some(s)) if checking => MapInput::of(&s.columns.map),
        (None, Some(m), _) if !check.needs_mapping() => MapInput::of(&m),
        (None, None, Some(s)) => MapInput::of(&s.columns.map),
        // No mapping yet, or the site's names columns this log has not: a guess.
        _ => mapping::guess(&rows),
    };
    let error = |f: &str| {
        posted
            .and_then(|p| p.errors.get(f))
            .map(|k| t.t(k).to_string())
    };
    // The required fields first, the direction (if any) last.
    let fields = FIELDS[1..]
        .iter()
        .chain(&FIELDS[..1])
        .map(|&f| MapField {
            name: f,
            id: format!("map-{file_id}-{f}"),
            label: t.t(&format!("gwlog.map.field.{f}")).to_string(),
            none: t
                .t(if f == "direction" {
                    "gwlog.map.none"
                } else {
                    "gwlog.map.choose"
                })
                .to_string(),
            value: match f {
                "direction" => &input.direction,
                "user_code" => &input.user_code,
                "id_number" => &input.id_number,
                "business_code" => &input.business_code,
                _ => &input.timestamp,
            }
            .clone(),
            error: error(f),
        })
        .collect();
    let missing = check
        .unmapped
        .iter()
        .map(|f| logcheck::field_name(t, f))
        .collect::<Vec<_>>()
        .join(t.t("ui.list_sep"));
    // Without a mapping the form starts from a guess: the fields the guess placed are told
    // apart from those left to choose, so the message does not deny what the form shows.
    let (guessed, left): (Vec<&String>, Vec<&String>) = check
        .unmapped
        .iter()
        .partition(|f| !input.get(f).is_empty());
    let names = |fs: &[&String], placed: bool| {
        fs.iter()
            .map(|f| {
                let name = logcheck::field_name(t, f);
                match input.get(f).parse::<usize>() {
                    Ok(n) if placed => format!("{name}→{}", column(n)),
                    _ => name,
                }
            })
            .collect::<Vec<_>>()
            .join(t.t("ui.list_sep"))
    };
    let why = match (check.needs_mapping() && !checking, check.mapping.is_some()) {
        (false, _) => String::new(),
        (true, false) if left.is_empty() => t.f(
            "gwlog.map.why_guessed",
            &[("guessed", &names(&guessed, true))],
        ),
        (true, false) if guessed.is_empty() => t.f("gwlog.map.why_names", &[("columns", &missing)]),
        (true, false) => t.f(
            "gwlog.map.why_some_guessed",
            &[
                ("columns", &names(&left, false)),
                ("guessed", &names(&guessed, true)),
            ],
        ),
        (true, true) if check.misfit && check.unmapped.iter().any(|f| f == "header") => {
            t.t("gwlog.map.why_no_header").to_string()
        }
        (true, true) if check.misfit && check.unmapped.iter().any(|f| f == "names") => {
            t.t("gwlog.map.why_other_names").to_string()
        }
        (true, true) if check.misfit => t.f("gwlog.map.why_misfit", &[("columns", &missing)]),
        (true, true) => t.f("gwlog.map.why_site", &[("columns", &missing)]),
    };
    MapView {
        file_id,
        name: name.to_string(),
        needed: check.needs_mapping() && !checking,
        checking,
        why,
        head: (1..=width).map(column).collect(),
        caption: t.f(
            "gwlog.map.preview",
            &[("name", name), ("n", &rows.len().to_string())],
        ),
        rows,
        titles,
        options,
        header: input.header.clone(),
        fields,
        form_error: error("_form").or_else(|| error("header")),
        version: site.map(|s| s.version).unwrap_or(0),
    }
}

/// The mapping form's fields.
#[derive(Debug, serde::Deserialize)]
pub struct MapForm {
    file: Uuid,
    #[serde(default)]
    version: String,
    #[serde(flatten)]
    input: MapInput,
}

/// `POST /orgs/{org}/locations/{site}/gateway-logs/mapping`: keeps the site's mapping and
/// queues the re-check of the log it was made on (run off the request).
pub async fn save(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Path((org_id, site_id)): Path<(Uuid, Uuid)>,
    CsrfForm(form): CsrfForm<MapForm>,
) -> AppResult<Response> {
    let actor = me.actor(&ctx);
    let back = format!("/orgs/{org_id}/locations/{site_id}/gateway-logs");
    let req = MapRequest {
        org: org_id,
        site: site_id,
        file: form.file,
        input: form.input.clone(),
        version: form.version.trim().parse().unwrap_or(-1),
    };
    let t = ctx.tr();
    let (status, problems, errors) = match app::log_mapping::map_columns(&state, &actor, req).await
    {
        Ok(_) => {
            // The log is read again off the request; the page says 確認中 until it is.
            app::log_recheck::kick(state.app.clone());
            return Ok(redirect_with_flash(
                &back,
                "flash.log_mapped",
                state.cookies.secure,
            ));
        }
        Err(MapFailure::Failed(app::Error::Invalid(errors))) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            vec![t.t("gwlog.map.fix").to_string()],
            errors,
        ),
        Err(MapFailure::Failed(app::Error::Conflict(key))) => (
            StatusCode::CONFLICT,
            vec![t.t(key).to_string()],
            FieldErrors::default(),
        ),
        Err(MapFailure::Failed(e)) => return Err(e.into()),
    };
    let (org, site) = site_for(&state, &me, org_id, site_id).await?;
    let shown = Shown {
        problems,
        map: Some(Posted {
            file: form.file,
            input: form.input,
            errors,
        }),
        ..Shown::default()
    };
    render(
        status,
        &view(&state, &ctx, &me, (&org, &site), shown).await?,
    )
}

/// `GET /gateway-logs/sample.csv`: a small log in the expected format (UTF-8 with BOM).
pub async fn sample(_me: CurrentUser) -> Response {
    csv_download(
        format!("\u{feff}{}", mapping::SAMPLE),
        "attachment; filename=\"gateway-log-sample.csv\"",
    )
}

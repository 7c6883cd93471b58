//! What each dataset's columns are and how its rows become cells. Rows are read from the
//! database as a stream and sent on in batches; nothing holds the whole table.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::NaiveDate;
use futures_util::TryStreamExt;

use super::out::Out;
use crate::app::App;
use crate::db::catalogue::Catalogue;
use crate::db::{self, exports::Filter};
use crate::domain::antivirus::{self, AvRow};
use crate::domain::equipment::EquipmentRow;
use crate::domain::export::{Cell, Column, Kind, col};
use crate::domain::{Scope, sheet};
use crate::i18n::Tr;

/// What can be exported, in the order offered.
pub const DATASETS: [&str; 6] = [
    "submissions",
    "equipment",
    "antivirus",
    "administrators",
    "instructions",
    "requests",
];

const SUBMISSIONS: [Column; 13] = [
    col("receipt_no", Kind::Text),
    col("org_code", Kind::Text),
    col("org_name", Kind::Text),
    col("item", Kind::Code),
    col("target_kind", Kind::Code),
    col("target", Kind::Text),
    col("version", Kind::Int),
    col("state", Kind::Code),
    col("submitted_at", Kind::Time),
    col("decision", Kind::Code),
    col("reason", Kind::LongText),
    col("reviewer", Kind::Text),
    col("decided_at", Kind::Time),
];

const EQUIPMENT: [Column; 17] = [
    col("receipt_no", Kind::Text),
    col("org_code", Kind::Text),
    col("org_name", Kind::Text),
    col("version", Kind::Int),
    col("state", Kind::Code),
    col("submitted_at", Kind::Time),
    col("line", Kind::Int),
    col("device_type", Kind::Code),
    col("name", Kind::Text),
    col("maker", Kind::Text),
    col("model", Kind::Text),
    col("os_firmware", Kind::Text),
    col("quantity", Kind::Int),
    col("location", Kind::Text),
    col("role", Kind::Text),
    col("naccs", Kind::Bool),
    col("notes", Kind::LongText),
];

const ANTIVIRUS: [Column; 18] = [
    col("receipt_no", Kind::Text),
    col("org_code", Kind::Text),
    col("org_name", Kind::Text),
    col("version", Kind::Int),
    col("state", Kind::Code),
    col("submitted_at", Kind::Time),
    col("line", Kind::Int),
    col("host", Kind::Text),
    col("office", Kind::Text),
    col("os", Kind::Text),
    col("product", Kind::Code),
    col("product_text", Kind::Text),
    col("product_version", Kind::Text),
    col("definitions_date", Kind::Date),
    col("update_frequency", Kind::Code),
    col("last_full_scan", Kind::Date),
    col("stale", Kind::Bool),
    col("no_full_scan", Kind::Bool),
];

const ADMINISTRATORS: [Column; 14] = [
    col("org_code", Kind::Text),
    col("org_name", Kind::Text),
    col("location_kind", Kind::Code),
    col("location", Kind::Text),
    col("office", Kind::Text),
    col("name", Kind::Text),
    col("name_kana", Kind::Text),
    col("department", Kind::Text),
    col("title", Kind::Text),
    col("phone", Kind::Text),
    col("emergency_contact", Kind::Text),
    col("email", Kind::Text),
    col("effective_from", Kind::Date),
    col("effective_until", Kind::Date),
];

const INSTRUCTIONS: [Column; 12] = [
    col("org_code", Kind::Text),
    col("org_name", Kind::Text),
    col("item", Kind::Code),
    col("place", Kind::Text),
    col("receipt_no", Kind::Text),
    col("problem", Kind::LongText),
    col("required_change", Kind::LongText),
    col("due", Kind::Date),
    col("state", Kind::Code),
    col("extension_until", Kind::Date),
    col("issuer", Kind::Text),
    col("issued_at", Kind::Time),
];

const REQUESTS: [Column; 12] = [
    col("org_code", Kind::Text),
    col("org_name", Kind::Text),
    col("item", Kind::Code),
    col("place", Kind::Text),
    col("period_from", Kind::Date),
    col("period_to", Kind::Date),
    col("due", Kind::Date),
    col("state", Kind::Code),
    col("receipt_no", Kind::Text),
    col("note", Kind::LongText),
    col("issuer", Kind::Text),
    col("issued_at", Kind::Time),
];

/// The columns of a dataset (`None`: no such dataset).
pub fn columns(dataset: &str) -> Option<&'static [Column]> {
    Some(match dataset {
        "submissions" => &SUBMISSIONS,
        "equipment" => &EQUIPMENT,
        "antivirus" => &ANTIVIRUS,
        "administrators" => &ADMINISTRATORS,
        "instructions" => &INSTRUCTIONS,
        "requests" => &REQUESTS,
        _ => return None,
    })
}

/// Codes with their labels in the reader's language, looked up once each.
struct Labels {
    t: Tr,
    catalogue: Arc<Catalogue>,
    /// By prefix, then code.
    seen: HashMap<&'static str, HashMap<String, Arc<str>>>,
}

impl Labels {
    /// The code with its label (the key itself when no label is known).
    fn code(&mut self, prefix: &'static str, code: impl Into<String> + AsRef<str>) -> Cell {
        let text = code.as_ref();
        if text.is_empty() {
            return Cell::Empty;
        }
        let known = self.seen.entry(prefix).or_default();
        let label = match known.get(text) {
            Some(l) => l.clone(),
            None => {
                let l: Arc<str> = if prefix == "item" {
                    self.catalogue.item_title(text, self.t.code()).into()
                } else {
                    let key = format!("{prefix}{text}");
                    match self.t.has(&key) {
                        true => self.t.t(&key).into(),
                        false => text.into(),
                    }
                };
                known.insert(text.to_string(), l.clone());
                l
            }
        };
        Cell::Code {
            code: code.into(),
            label,
        }
    }
}

/// Reads the dataset's rows within the scope and filter and hands them to `out`; on failure
/// the download breaks off instead of looking complete.
pub async fn produce(
    state: Arc<App>,
    t: Tr,
    dataset: &'static str,
    scope: Scope,
    filter: Filter,
    mut out: Out,
) {
    let result = async {
        let mut labels = Labels {
            t,
            catalogue: state.catalogue().await?,
            seen: HashMap::new(),
        };
        match dataset {
            "submissions" => submissions(&state, scope, &filter, &mut labels, &mut out).await?,
            "equipment" | "antivirus" => {
                from_reports(&state, scope, &filter, dataset, &mut labels, &mut out).await?
            }
            "administrators" => {
                administrators(&state, scope, &filter, &mut labels, &mut out).await?
            }
            _ => followup(&state, scope, &filter, dataset, &mut labels, &mut out).await?,
        }
        out.finish().await
    }
    .await;
    if let Err(e) = result {
        out.fail(e).await;
    }
}

async fn submissions(
    state: &App,
    scope: Scope,
    f: &Filter,
    l: &mut Labels,
    out: &mut Out,
) -> anyhow::Result<()> {
    let mut rows = db::exports::submissions(&state.db, scope, f, false);
    while let Some(r) = rows.try_next().await? {
        let target = Cell::opt(r.target, Cell::Text);
        let row = vec![
            Cell::Text(r.receipt_no),
            Cell::Text(r.org_code),
            Cell::Text(r.org_name),
            l.code("item", r.kind),
            l.code("export.scope.", r.scope_kind),
            target,
            Cell::Int(r.version),
            l.code("checklist.status.", r.state),
            Cell::Time(r.submitted_at),
            l.code("checklist.status.", r.decision.unwrap_or_default()),
            Cell::opt(r.reason, Cell::text),
            Cell::opt(r.reviewer, Cell::Text),
            Cell::opt(r.decided_at, Cell::Time),
        ];
        out.push(row).await?;
    }
    Ok(())
}

/// A date as typed in a report: a date cell when it reads as one, else the text.
fn date_or_text(s: &str) -> Cell {
    match sheet::parse_date(s) {
        Some(d) => Cell::Date(d),
        None => Cell::text(s),
    }
}

/// Every equipment row or antivirus computer of the sealed reports in the filter.
async fn from_reports(
    state: &App,
    scope: Scope,
    f: &Filter,
    dataset: &str,
    l: &mut Labels,
    out: &mut Out,
) -> anyhow::Result<()> {
    let mut f = f.clone();
    let equipment = dataset == "equipment";
    f.item = Some(
        if equipment {
            "system_configuration"
        } else {
            "antivirus"
        }
        .into(),
    );
    let today = crate::domain::dates::today();
    let stale_days = state.config.av_stale_days;
    let mut reports = db::exports::submissions(&state.db, scope, &f, true);
    while let Some(r) = reports.try_next().await? {
        let data: serde_json::Value =
            serde_json::from_str(r.data.as_deref().unwrap_or("{}")).unwrap_or_default();
        let head = |line: usize, l: &mut Labels| {
            vec![
                Cell::Text(r.receipt_no.clone()),
                Cell::Text(r.org_code.clone()),
                Cell::Text(r.org_name.clone()),
                Cell::Int(r.version),
                l.code("checklist.status.", &r.state),
                Cell::Time(r.submitted_at),
                Cell::Int(line as i64 + 1),
            ]
        };
        if equipment {
            let rows: Vec<EquipmentRow> =
                serde_json::from_value(data["equipment"].clone()).unwrap_or_default();
            for (n, e) in rows.into_iter().enumerate() {
                let mut row = head(n, l);
                row.extend([
                    l.code("eq.type.", e.device_type),
                    Cell::text(e.name),
                    Cell::text(e.maker),
                    Cell::text(e.model),
                    Cell::text(e.os_firmware),
                    match e.quantity.trim().parse::<i64>() {
                        Ok(q) => Cell::Int(q),
                        Err(_) => Cell::text(e.quantity),
                    },
                    Cell::text(e.location),
                    Cell::text(e.role),
                    match e.naccs.as_str() {
                        "yes" => Cell::Bool(true),
                        "no" => Cell::Bool(false),
                        other => Cell::text(other),
                    },
                    Cell::text(e.notes),
                ]);
                out.push(row).await?;
            }
        } else {
            let rows: Vec<AvRow> = serde_json::from_value(data["rows"].clone()).unwrap_or_default();
            for (n, a) in rows.into_iter().enumerate() {
                let mut row = head(n, l);
                let stale = antivirus::is_stale(&a, today, stale_days);
                let no_scan = a.last_full_scan.trim().is_empty();
                row.extend([
                    Cell::text(a.host),
                    Cell::text(a.office),
                    Cell::text(a.os),
                    l.code("av.product.", a.product),
                    Cell::text(a.product_other),
                    Cell::text(a.version),
                    date_or_text(&a.definitions_date),
                    l.code("av.freq.", a.update_frequency),
                    date_or_text(&a.last_full_scan),
                    Cell::Bool(stale),
                    Cell::Bool(no_scan),
                ]);
                out.push(row).await?;
            }
        }
    }
    Ok(())
}

async fn administrators(
    state: &App,
    scope: Scope,
    f: &Filter,
    l: &mut Labels,
    out: &mut Out,
) -> anyhow::Result<()> {
    let mut rows = db::exports::appointments(&state.db, scope, f);
    while let Some(r) = rows.try_next().await? {
        let row = vec![
            Cell::Text(r.org_code),
            Cell::Text(r.org_name),
            l.code("catalogue.scope.", r.location_kind),
            Cell::Text(r.location),
            Cell::opt(r.office, Cell::Text),
            Cell::text(r.name),
            Cell::text(r.name_kana),
            Cell::text(r.department),
            Cell::text(r.title),
            Cell::text(r.phone),
            Cell::text(r.emergency_contact),
            Cell::text(r.email),
            Cell::Date(r.effective_from),
            Cell::opt(r.effective_until, Cell::Date),
        ];
        out.push(row).await?;
    }
    Ok(())
}

async fn followup(
    state: &App,
    scope: Scope,
    f: &Filter,
    dataset: &str,
    l: &mut Labels,
    out: &mut Out,
) -> anyhow::Result<()> {
    let date = |d: Option<NaiveDate>| Cell::opt(d, Cell::Date);
    if dataset == "instructions" {
        let mut rows = db::exports::instructions(&state.db, scope, f);
        while let Some(r) = rows.try_next().await? {
            let row = vec![
                Cell::Text(r.org_code),
                Cell::Text(r.org_name),
                l.code("item", r.item_key),
                Cell::opt(r.location_name, Cell::Text),
                Cell::opt(r.receipt_no, Cell::Text),
                Cell::text(r.problem),
                Cell::text(r.required_change),
                Cell::Date(r.due_date),
                l.code("followup.state.", &r.state),
                date(r.extension_until),
                Cell::Text(r.issuer),
                Cell::Time(r.created_at),
            ];
            out.push(row).await?;
        }
    } else {
        let mut rows = db::exports::requests(&state.db, scope, f);
        while let Some(r) = rows.try_next().await? {
            let row = vec![
                Cell::Text(r.org_code),
                Cell::Text(r.org_name),
                l.code("item", r.item_key),
                Cell::opt(r.location_name, Cell::Text),
                date(r.period_from),
                date(r.period_to),
                Cell::Date(r.due_date),
                l.code("followup.request_state.", &r.state),
                Cell::opt(r.receipt_no, Cell::Text),
                Cell::text(r.note),
                Cell::Text(r.issuer),
                Cell::Time(r.created_at),
            ];
            out.push(row).await?;
        }
    }
    Ok(())
}

//! Exports for the Center: submissions with their decisions and target, every equipment row,
//! every antivirus computer with its flags, the administrators register, improvement
//! instructions and requests, as CSV (UTF-8 with BOM, opens in Excel), XLSX or JSON; narrowed
//! by period, organisation, item and state. Rows stream from the database into a channel as
//! the reader takes them (see `datasets`, `out` and [`super::stream`]). Every export is an
//! audit entry.

mod datasets;
mod out;

use std::sync::Arc;

use chrono::{NaiveDate, TimeZone, Utc};
use tokio::sync::mpsc;

pub use datasets::DATASETS;

use super::stream::{ChannelWriter, Chunks, fail};
use super::{Actor, App, Error, FieldErrors};
use crate::db::{self, exports::Filter};
use crate::domain::Role;
use crate::domain::export::{Format, Words};
use crate::i18n::Tr;

/// The states a sealed submission can be in.
pub const STATES: [&str; 4] = ["submitted", "under_review", "accepted", "returned"];

/// The roles that export.
pub const EXPORTERS: [Role; 2] = [Role::Reviewer, Role::CenterAdmin];

/// What to export, as typed (every filter optional).
#[derive(Debug, Default, Clone, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct ExportInput {
    /// One of [`DATASETS`].
    pub dataset: String,
    /// `csv`, `xlsx` or `json`.
    pub format: String,
    /// The first day (JST), `YYYY-MM-DD`.
    pub from: String,
    /// The last day (JST), `YYYY-MM-DD`.
    pub to: String,
    /// An organisation's user code.
    pub org: String,
    /// A catalogue item key.
    pub item: String,
    pub state: String,
    /// The administrators in office on this day.
    pub on: String,
}

/// The start of a JST day as an instant.
fn jst_midnight(d: NaiveDate) -> chrono::DateTime<Utc> {
    Utc.from_utc_datetime(&d.and_time(chrono::NaiveTime::MIN)) - chrono::Duration::hours(9)
}

/// Checks the filters; the errors name their field (`from`, `to`, `on`, `org`, `item`,
/// `state`).
async fn filter_of(app: &App, f: &ExportInput) -> Result<Filter, Error> {
    let mut errors = FieldErrors::default();
    let date = |s: &str| NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok();
    let mut filter = Filter::default();
    let (from, to) = (f.from.trim(), f.to.trim());
    if !from.is_empty() {
        match date(from) {
            Some(d) => filter.from = Some(jst_midnight(d)),
            None => errors.add("from", "error.date_invalid"),
        }
    }
    if !to.is_empty() {
        match date(to) {
            Some(d) => filter.until = Some(jst_midnight(d + chrono::Duration::days(1))),
            None => errors.add("to", "error.date_invalid"),
        }
    }
    if let (Some(a), Some(b)) = (filter.from, filter.until)
        && b <= a
    {
        errors.add("to", "error.export_period_reversed");
    }
    if !f.on.trim().is_empty() {
        match date(&f.on) {
            Some(d) => filter.on = Some(d),
            None => errors.add("on", "error.date_invalid"),
        }
    }
    let code = f.org.trim();
    if !code.is_empty() {
        match db::exports::org_by_code(&app.db, code).await? {
            Some(id) => filter.org = Some(id),
            None => errors.add("org", "error.export_org_unknown"),
        }
    }
    let item = f.item.trim();
    if !item.is_empty() {
        if app.catalogue().await?.items.iter().any(|i| i.key == item) {
            filter.item = Some(item.to_string());
        } else {
            errors.add("item", "error.choose_one");
        }
    }
    let st = f.state.trim();
    if !st.is_empty() {
        if STATES.contains(&st) || ["open", "closed", "answered", "withdrawn"].contains(&st) {
            filter.state = Some(st.to_string());
        } else {
            errors.add("state", "error.choose_one");
        }
    }
    if errors.is_empty() {
        Ok(filter)
    } else {
        Err(Error::Invalid(errors))
    }
}

/// An export checked and recorded, ready to run.
pub struct Export {
    dataset: &'static str,
    pub format: Format,
    filter: Filter,
    actor: Actor,
    /// `secportal-<dataset>-<JST stamp>.<ext>`.
    pub file_name: String,
}

impl Export {
    /// The file's media type.
    pub fn mime(&self) -> &'static str {
        self.format.mime()
    }
}

/// Checks an export (an unknown dataset or format is not found; the filters' errors are
/// invalid) and records it in the audit trail; [`Export::run`] then writes it.
pub async fn prepare(app: &App, actor: &Actor, input: &ExportInput) -> Result<Export, Error> {
    if !actor.holds(&EXPORTERS) {
        return Err(Error::Forbidden);
    }
    let (Some(dataset), Some(format)) = (
        DATASETS.iter().copied().find(|d| *d == input.dataset),
        Format::parse(&input.format),
    ) else {
        return Err(Error::NotFound);
    };
    if datasets::columns(dataset).is_none() {
        return Err(Error::NotFound);
    }
    let filter = filter_of(app, input).await?;
    let mut entry = actor.audit("export.downloaded", None, dataset.to_string());
    entry.detail = serde_json::json!({
        "dataset": dataset,
        "format": format.ext(),
        "filter": {
            "from": input.from.trim(), "to": input.to.trim(),
            // As the user codes are written (the filter reads any case and width).
            "org": crate::domain::UserCode::parse(&input.org)
                .map_or_else(|_| input.org.trim().to_string(), |c| c.as_str().to_string()),
            "item": input.item.trim(), "state": input.state.trim(), "on": input.on.trim(),
        },
    });
    db::audit::append_alone(&app.db, &entry).await?;
    let stamp = (Utc::now() + chrono::Duration::hours(9)).format("%Y%m%d-%H%M");
    Ok(Export {
        dataset,
        format,
        filter,
        actor: actor.clone(),
        file_name: format!("secportal-{dataset}-{stamp}.{}", format.ext()),
    })
}

impl Export {
    /// Writes the file into `chunks` in the background, its labels and codes in `t`'s
    /// language; returns once it is under way. A failure midway ends the stream with an
    /// error, never a short file.
    pub async fn run(self, app: Arc<App>, t: Tr, chunks: Chunks) -> Result<(), Error> {
        let Export {
            dataset,
            format,
            filter,
            actor,
            ..
        } = self;
        let columns = datasets::columns(dataset).ok_or(Error::NotFound)?;
        let words = Words {
            labels: columns
                .iter()
                .map(|c| t.t(&format!("export.{dataset}.{}", c.key)).to_string())
                .collect(),
            yes: t.t("export.yes").to_string(),
            no: t.t("export.no").to_string(),
            sheet: t.t(&format!("export.dataset.{dataset}")).to_string(),
        };
        let tmp = app.config.data_dir.join("tmp");
        let out = match format {
            Format::Xlsx => {
                tokio::fs::create_dir_all(&tmp)
                    .await
                    .map_err(anyhow::Error::from)?;
                let (rows_tx, mut rows_rx) = mpsc::channel::<out::Batch>(4);
                tokio::task::spawn_blocking(move || {
                    let errors = chunks.clone();
                    let run = move || -> anyhow::Result<()> {
                        let mut sink =
                            format.sink(ChannelWriter::new(chunks), columns, words, &tmp)?;
                        while let Some(batch) = rows_rx.blocking_recv() {
                            for row in batch? {
                                sink.row(&row)?;
                            }
                        }
                        sink.finish()
                    };
                    if let Err(e) = run() {
                        fail(&errors, &e);
                    }
                });
                out::Out::thread(rows_tx)
            }
            Format::Csv | Format::Json | Format::Ndjson => {
                let buf = out::SharedBuf::default();
                let sink = format.sink(buf.clone(), columns, words, &tmp)?;
                out::Out::here(sink, buf, chunks)
            }
        };
        tokio::spawn(datasets::produce(
            app,
            t,
            dataset,
            actor.scope(),
            filter,
            out,
        ));
        Ok(())
    }
}

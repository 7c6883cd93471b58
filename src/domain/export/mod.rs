//! Exports that open in Excel as they are and read the same in any language: cells typed once
//! ([`Cell`]) and written row by row, as CSV (UTF-8 with BOM, CRLF, formulas defused), XLSX
//! (typed cells, bold frozen header, autofilter) or JSON (stable codes, ISO 8601 times).
//! Writers take one row at a time so an export of any size keeps memory flat.

mod csv;
mod json;
mod xlsx;

use std::io::Write;

use chrono::{DateTime, NaiveDate, Utc};

pub use self::csv::CsvSink;
pub use self::json::JsonSink;
pub use self::xlsx::XlsxSink;

/// One value of an export row.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// Free text, written as it is (CSV defuses formulas).
    Text(String),
    /// A stable code (JSON) with its label in the reader's language (CSV, XLSX); labels are
    /// shared between rows.
    Code {
        code: String,
        label: std::sync::Arc<str>,
    },
    /// A whole number (a number cell in XLSX, a number in JSON).
    Int(i64),
    /// A calendar date (a date cell in XLSX, `YYYY-MM-DD` elsewhere).
    Date(NaiveDate),
    /// An instant (a JST date-time cell in XLSX, JST text in CSV, UTC ISO 8601 in JSON).
    Time(DateTime<Utc>),
    /// A yes/no flag.
    Bool(bool),
    /// Nothing (an empty cell, `null` in JSON).
    Empty,
}

impl Cell {
    /// Text, or `Empty` when blank.
    pub fn text(s: impl Into<String>) -> Cell {
        let s = s.into();
        if s.is_empty() {
            Cell::Empty
        } else {
            Cell::Text(s)
        }
    }

    /// An optional value.
    pub fn opt<T>(v: Option<T>, f: impl FnOnce(T) -> Cell) -> Cell {
        v.map(f).unwrap_or(Cell::Empty)
    }
}

/// What a column holds: sets the XLSX cell format and the column width.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    LongText,
    Code,
    Int,
    Date,
    Time,
    Bool,
}

/// A column: its stable key (JSON) and its kind.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    pub key: &'static str,
    pub kind: Kind,
}

/// Shorthand for a column.
pub const fn col(key: &'static str, kind: Kind) -> Column {
    Column { key, kind }
}

/// The words a writer needs in the reader's language.
#[derive(Debug, Clone)]
pub struct Words {
    /// Column headings, in column order.
    pub labels: Vec<String>,
    pub yes: String,
    pub no: String,
    /// The worksheet's name.
    pub sheet: String,
}

/// A writer of rows in one format.
pub trait Sink {
    /// Writes one row (as many cells as columns).
    fn row(&mut self, cells: &[Cell]) -> anyhow::Result<()>;
    /// Ends the file and flushes everything to the output.
    fn finish(self: Box<Self>) -> anyhow::Result<()>;
    /// Sends what is written so far on to the output, where the format can (the header of
    /// a CSV before a long search; a workbook is written at its end).
    fn flush(&mut self) -> anyhow::Result<()> {
        Ok(())
    }
}

/// The export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Xlsx,
    Json,
    /// Newline-delimited JSON (one object per line), for scripts that read a row at a time.
    Ndjson,
}

impl Format {
    /// Every format, as offered.
    pub const ALL: [Format; 4] = [Format::Csv, Format::Xlsx, Format::Json, Format::Ndjson];

    /// The format of a path segment (`csv`, `xlsx`, `json`).
    pub fn parse(s: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|f| f.ext() == s)
    }

    /// The file extension (and path segment).
    pub fn ext(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Xlsx => "xlsx",
            Format::Json => "json",
            Format::Ndjson => "ndjson",
        }
    }

    /// The media type.
    pub fn mime(self) -> &'static str {
        match self {
            Format::Csv => "text/csv; charset=utf-8",
            Format::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            Format::Json => "application/json",
            Format::Ndjson => "application/x-ndjson",
        }
    }

    /// A writer of this format to `out`, its header written; XLSX keeps its rows in files
    /// under `tmp` until `finish`.
    pub fn sink<W: Write + Send + 'static>(
        self,
        out: W,
        columns: &'static [Column],
        words: Words,
        tmp: &std::path::Path,
    ) -> anyhow::Result<Box<dyn Sink + Send>> {
        Ok(match self {
            Format::Csv => Box::new(CsvSink::new(out, words)?),
            Format::Json => Box::new(JsonSink::new(
                std::io::BufWriter::with_capacity(32 * 1024, out),
                columns,
            )?),
            Format::Ndjson => Box::new(JsonSink::lines(
                std::io::BufWriter::with_capacity(32 * 1024, out),
                columns,
            )),
            Format::Xlsx => Box::new(XlsxSink::new(out, columns, words, tmp)?),
        })
    }
}

/// A spreadsheet would run a cell starting with one of these as a formula (the full-width
/// forms too: Excel folds them): prefix a quote.
pub fn defuse(cell: &str) -> std::borrow::Cow<'_, str> {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r', '＝', '＋', '－', '＠']) {
        format!("'{cell}").into()
    } else {
        cell.into()
    }
}

/// The JST wall-clock time of an instant.
pub fn jst(at: &DateTime<Utc>) -> chrono::NaiveDateTime {
    at.naive_utc() + chrono::Duration::hours(9)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_defused_in_half_and_full_width() {
        for s in [
            "=1+1", "+1", "-1", "@SUM(A1)", "＝1", "＋1", "－1", "＠A", "\tx",
        ] {
            assert!(defuse(s).starts_with('\''), "{s}");
        }
        assert_eq!(defuse("株式会社"), "株式会社");
        assert_eq!(defuse("a=b"), "a=b");
    }

    #[test]
    fn formats_parse_from_their_extension() {
        assert_eq!(Format::parse("xlsx"), Some(Format::Xlsx));
        assert_eq!(Format::parse("pdf"), None);
    }
}

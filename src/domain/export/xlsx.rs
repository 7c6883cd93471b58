//! XLSX through `rust_xlsxwriter` in constant-memory mode: each row goes to a temporary file
//! as it is written, and the workbook is zipped straight into the output at the end.

use std::io::Write;

use rust_xlsxwriter::{Format, Workbook};

use super::{Cell, Column, Kind, Sink, Words, jst};

/// The most rows a worksheet holds (the header included).
const MAX_ROWS: u32 = 1_048_576;
/// The longest text a cell holds.
const MAX_CHARS: usize = 32_767;

/// Writes one worksheet: bold frozen header with an autofilter, typed cells.
pub struct XlsxSink<W: Write + Send> {
    book: Workbook,
    out: W,
    columns: &'static [Column],
    row: u32,
    date: Format,
    time: Format,
    wrap: Format,
    /// A flag in words, as the CSV writes it (a boolean cell reads TRUE/FALSE in Japanese
    /// Excel too).
    yes: String,
    no: String,
}

/// A column's width in characters (a CJK character counts two); a report item's title
/// (「7.4.2(1) NACCS 接続ルータの利用制限」) gets the room it needs.
fn width(column: &Column, label: &str) -> f64 {
    let kind = column.kind;
    let label = label
        .chars()
        .map(|c| if c.is_ascii() { 1 } else { 2 })
        .sum::<usize>() as f64;
    let min = match kind {
        Kind::Text => 24.0,
        Kind::LongText => 40.0,
        Kind::Code if column.key == "item" => 36.0,
        Kind::Code => 12.0,
        Kind::Int | Kind::Bool => 6.0,
        Kind::Date => 11.0,
        Kind::Time => 17.0,
    };
    (label + 2.0).max(min)
}

/// A worksheet name Excel accepts: no `[]:*?/\`, at most 31 characters.
fn sheet_name(s: &str) -> String {
    let name: String = s
        .chars()
        .filter(|c| !"[]:*?/\\".contains(*c))
        .take(31)
        .collect();
    if name.trim().is_empty() {
        "Sheet1".into()
    } else {
        name
    }
}

impl<W: Write + Send> XlsxSink<W> {
    /// Starts the workbook (its row files under `tmp`) and writes the header row.
    pub fn new(
        out: W,
        columns: &'static [Column],
        words: Words,
        tmp: &std::path::Path,
    ) -> anyhow::Result<XlsxSink<W>> {
        let mut book = Workbook::new();
        book.set_tempdir(tmp)?;
        let bold = Format::new().set_bold();
        let sheet = book.add_worksheet_with_constant_memory()?;
        sheet.set_name(sheet_name(&words.sheet))?;
        for (i, (c, label)) in columns.iter().zip(&words.labels).enumerate() {
            sheet.set_column_width(i as u16, width(c, label))?;
            sheet.write_string_with_format(0, i as u16, label, &bold)?;
        }
        sheet.set_freeze_panes(1, 0)?;
        Ok(XlsxSink {
            book,
            out,
            columns,
            row: 0,
            date: Format::new().set_num_format("yyyy-mm-dd"),
            time: Format::new().set_num_format("yyyy-mm-dd hh:mm:ss"),
            wrap: Format::new().set_text_wrap(),
            yes: words.yes,
            no: words.no,
        })
    }
}

impl<W: Write + Send> Sink for XlsxSink<W> {
    fn row(&mut self, cells: &[Cell]) -> anyhow::Result<()> {
        if self.row + 1 >= MAX_ROWS {
            anyhow::bail!("more rows than a worksheet holds");
        }
        self.row += 1;
        let r = self.row;
        let sheet = self.book.worksheet_from_index(0)?;
        for (i, (cell, col)) in cells.iter().zip(self.columns).enumerate() {
            let c = i as u16;
            match cell {
                Cell::Text(_) | Cell::Code { .. } => {
                    let s: &str = match cell {
                        Cell::Code { label, .. } => label,
                        Cell::Text(s) => s,
                        _ => "",
                    };
                    let s = match s.char_indices().nth(MAX_CHARS) {
                        Some((cut, _)) => &s[..cut],
                        None => s,
                    };
                    // A line break typed in a browser arrives as CR LF; a worksheet's cell
                    // breaks at LF alone (a CR is written as `_x000D_`).
                    let s = if s.contains('\r') {
                        std::borrow::Cow::Owned(s.replace("\r\n", "\n").replace('\r', "\n"))
                    } else {
                        std::borrow::Cow::Borrowed(s)
                    };
                    if col.kind == Kind::LongText {
                        sheet.write_string_with_format(r, c, s.as_ref(), &self.wrap)?;
                    } else {
                        sheet.write_string(r, c, s.as_ref())?;
                    }
                }
                Cell::Int(n) => {
                    sheet.write_number(r, c, *n as f64)?;
                }
                Cell::Date(d) => {
                    sheet.write_date_with_format(r, c, d, &self.date)?;
                }
                Cell::Time(t) => {
                    sheet.write_datetime_with_format(r, c, jst(t), &self.time)?;
                }
                Cell::Bool(b) => {
                    sheet.write_string(r, c, if *b { &self.yes } else { &self.no })?;
                }
                Cell::Empty => {}
            }
        }
        Ok(())
    }

    fn finish(self: Box<Self>) -> anyhow::Result<()> {
        let XlsxSink {
            mut book,
            mut out,
            columns,
            row,
            ..
        } = *self;
        let last = columns.len().saturating_sub(1) as u16;
        book.worksheet_from_index(0)?.autofilter(0, 0, row, last)?;
        book.save_to_writer(&mut out)?;
        out.flush()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::export::col;

    static COLS: [Column; 4] = [
        col("name", Kind::Text),
        col("n", Kind::Int),
        col("on", Kind::Date),
        col("note", Kind::LongText),
    ];

    #[test]
    fn the_workbook_reads_back_with_calamine_with_typed_cells() {
        let tmp = std::env::temp_dir();
        let words = Words {
            labels: vec!["組織".into(), "台数".into(), "日付".into(), "備考".into()],
            yes: "はい".into(),
            no: "いいえ".into(),
            sheet: "提出/一覧".into(),
        };
        let mut buf = vec![];
        let mut s: Box<dyn Sink> = Box::new(XlsxSink::new(&mut buf, &COLS, words, &tmp).unwrap());
        s.row(&[
            Cell::text("=1+1"),
            Cell::Int(3),
            Cell::Date(chrono::NaiveDate::from_ymd_opt(2026, 11, 30).unwrap()),
            Cell::text("改行\r\nあり"),
        ])
        .unwrap();
        s.finish().unwrap();
        let sheets = crate::domain::workbook::read(&buf).unwrap();
        assert_eq!(sheets[0].name.as_deref(), Some("提出一覧"));
        assert_eq!(
            sheets[0].rows[0].cells,
            vec!["組織", "台数", "日付", "備考"]
        );
        assert_eq!(sheets[0].rows[1].cells[0], "=1+1", "text, not a formula");
        assert_eq!(sheets[0].rows[1].cells[3], "改行\nあり");
    }
}

//! CSV as Excel opens it in Japan: UTF-8 with a BOM, CRLF, quoted where needed (RFC 4180).

use std::io::Write;

use super::{Cell, Sink, Words, defuse, jst};

/// Writes CSV rows to `W`.
pub struct CsvSink<W: Write> {
    out: csv::Writer<W>,
    yes: String,
    no: String,
    /// Reused for every row.
    scratch: Vec<String>,
}

impl<W: Write> CsvSink<W> {
    /// Writes the BOM and the header row.
    pub fn new(mut out: W, words: Words) -> anyhow::Result<CsvSink<W>> {
        out.write_all("\u{feff}".as_bytes())?;
        let mut out = csv::WriterBuilder::new()
            .terminator(csv::Terminator::CRLF)
            .from_writer(out);
        out.write_record(words.labels.iter().map(|l| defuse(l).into_owned()))?;
        Ok(CsvSink {
            out,
            yes: words.yes,
            no: words.no,
            scratch: vec![],
        })
    }
}

impl<W: Write> Sink for CsvSink<W> {
    fn row(&mut self, cells: &[Cell]) -> anyhow::Result<()> {
        use chrono::{Datelike, Timelike};
        use std::fmt::Write as _;
        self.scratch.resize(cells.len(), String::new());
        for (slot, cell) in self.scratch.iter_mut().zip(cells) {
            slot.clear();
            match cell {
                Cell::Text(s) => slot.push_str(&defuse(s)),
                Cell::Code { label, .. } => slot.push_str(&defuse(label)),
                Cell::Int(n) => write!(slot, "{n}")?,
                Cell::Date(d) => write!(slot, "{}", d.format("%Y-%m-%d"))?,
                Cell::Time(t) => {
                    // Written out rather than through a format string: a column of these
                    // is most of an export's formatting time.
                    let t = jst(t);
                    write!(
                        slot,
                        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
                        t.year(),
                        t.month(),
                        t.day(),
                        t.hour(),
                        t.minute(),
                        t.second()
                    )?
                }
                Cell::Bool(b) => slot.push_str(if *b { &self.yes } else { &self.no }),
                Cell::Empty => {}
            }
        }
        self.out.write_record(&self.scratch)?;
        Ok(())
    }

    fn flush(&mut self) -> anyhow::Result<()> {
        self.out.flush()?;
        Ok(())
    }

    fn finish(self: Box<Self>) -> anyhow::Result<()> {
        let mut out = self
            .out
            .into_inner()
            .map_err(|e| anyhow::anyhow!("{}", e.error()))?;
        out.flush()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_has_a_bom_crlf_quotes_and_no_live_formulas() {
        let words = Words {
            labels: vec!["組織".into(), "備考".into(), "台数".into()],
            yes: "はい".into(),
            no: "いいえ".into(),
            sheet: "x".into(),
        };
        let mut buf = vec![];
        let mut s: Box<dyn Sink> = Box::new(CsvSink::new(&mut buf, words).unwrap());
        s.row(&[
            Cell::text("株式会社　横浜"),
            Cell::text("=HYPERLINK(\"x\")"),
            Cell::Int(-3),
        ])
        .unwrap();
        s.row(&[
            Cell::text("A, \"B\""),
            Cell::text("＝改行\nあり"),
            Cell::Bool(true),
        ])
        .unwrap();
        s.finish().unwrap();
        let csv = String::from_utf8(buf).unwrap();
        assert!(csv.starts_with("\u{feff}組織,備考,台数\r\n"), "{csv}");
        assert!(
            csv.contains("株式会社　横浜,\"'=HYPERLINK(\"\"x\"\")\",-3\r\n"),
            "{csv}"
        );
        assert!(
            csv.contains("\"A, \"\"B\"\"\",\"'＝改行\nあり\",はい\r\n"),
            "{csv}"
        );
    }
}

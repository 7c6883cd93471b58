//! JSON: an array of objects keyed by the columns' stable keys; codes, not labels; times in
//! UTC ISO 8601. The same bytes whatever the reader's language.

use std::io::Write;

use super::{Cell, Column, Sink};

/// Writes a JSON array, one object per row, one row per line; or (NDJSON) the objects alone,
/// one per line, for readers that take a row at a time.
pub struct JsonSink<W: Write> {
    out: W,
    columns: &'static [Column],
    first: bool,
    lines: bool,
}

impl<W: Write> JsonSink<W> {
    /// Opens the array.
    pub fn new(mut out: W, columns: &'static [Column]) -> anyhow::Result<JsonSink<W>> {
        out.write_all(b"[")?;
        Ok(JsonSink {
            out,
            columns,
            first: true,
            lines: false,
        })
    }

    /// Newline-delimited JSON: one object per line, nothing around them.
    pub fn lines(out: W, columns: &'static [Column]) -> JsonSink<W> {
        JsonSink {
            out,
            columns,
            first: true,
            lines: true,
        }
    }
}

impl<W: Write> Sink for JsonSink<W> {
    fn row(&mut self, cells: &[Cell]) -> anyhow::Result<()> {
        let out = &mut self.out;
        out.write_all(match (self.lines, self.first) {
            (true, _) => b"{",
            (false, true) => b"\n{",
            (false, false) => b",\n{",
        })?;
        self.first = false;
        for (i, (col, cell)) in self.columns.iter().zip(cells).enumerate() {
            if i > 0 {
                out.write_all(b",")?;
            }
            serde_json::to_writer(&mut *out, col.key)?;
            out.write_all(b":")?;
            match cell {
                Cell::Text(s) | Cell::Code { code: s, .. } => serde_json::to_writer(&mut *out, s)?,
                Cell::Int(n) => write!(out, "{n}")?,
                Cell::Date(d) => write!(out, "\"{}\"", d.format("%Y-%m-%d"))?,
                Cell::Time(t) => write!(out, "\"{}\"", t.format("%Y-%m-%dT%H:%M:%S%.fZ"))?,
                Cell::Bool(b) => write!(out, "{b}")?,
                Cell::Empty => out.write_all(b"null")?,
            }
        }
        out.write_all(if self.lines { b"}\n" } else { b"}" })?;
        Ok(())
    }

    fn finish(mut self: Box<Self>) -> anyhow::Result<()> {
        if !self.lines {
            self.out.write_all(b"\n]\n")?;
        }
        self.out.flush()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ndjson_writes_one_object_per_line_and_nothing_around_them() {
        static ONE: [Column; 1] = [col("n", Kind::Int)];
        let mut buf = vec![];
        let mut s: Box<dyn Sink> = Box::new(JsonSink::lines(&mut buf, &ONE));
        s.row(&[Cell::Int(1)]).unwrap();
        s.row(&[Cell::Int(2)]).unwrap();
        s.finish().unwrap();
        assert_eq!(String::from_utf8(buf).unwrap(), "{\"n\":1}\n{\"n\":2}\n");
    }
    use crate::domain::export::{Kind, col};

    static COLS: [Column; 4] = [
        col("state", Kind::Code),
        col("n", Kind::Int),
        col("at", Kind::Time),
        col("note", Kind::Text),
    ];

    #[test]
    fn json_uses_stable_keys_codes_and_iso_times() {
        let mut buf = vec![];
        let mut s: Box<dyn Sink> = Box::new(JsonSink::new(&mut buf, &COLS).unwrap());
        let at = chrono::DateTime::parse_from_rfc3339("2026-11-30T09:00:00+09:00")
            .unwrap()
            .to_utc();
        s.row(&[
            Cell::Code {
                code: "accepted".into(),
                label: "受理".into(),
            },
            Cell::Int(2),
            Cell::Time(at),
            Cell::Empty,
        ])
        .unwrap();
        s.finish().unwrap();
        let v: serde_json::Value = serde_json::from_slice(&buf).unwrap();
        assert_eq!(
            v,
            serde_json::json!([{ "state": "accepted", "n": 2, "at": "2026-11-30T00:00:00Z", "note": null }])
        );
        let mut empty = vec![];
        Box::new(JsonSink::new(&mut empty, &COLS).unwrap())
            .finish()
            .unwrap();
        assert_eq!(
            serde_json::from_slice::<serde_json::Value>(&empty).unwrap(),
            serde_json::json!([])
        );
    }
}

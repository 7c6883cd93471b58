//! Exports that open in Excel as they are: CSV in UTF-8 with a BOM and CRLF, XLSX (a minimal
//! workbook written here, stored without compression), and JSON with stable keys.

/// A table to export: stable keys (JSON), labels in the reader's language (CSV, XLSX header).
pub struct Table {
    pub keys: Vec<&'static str>,
    pub labels: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

/// A spreadsheet would run a cell starting with one of these as a formula: prefix a quote.
fn defuse(cell: &str) -> std::borrow::Cow<'_, str> {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}").into()
    } else {
        cell.into()
    }
}

impl Table {
    /// CSV: BOM, CRLF, every field quoted when needed (RFC 4180), formulas defused.
    pub fn to_csv(&self) -> String {
        let mut out = String::from("\u{feff}");
        let line = |cells: &mut dyn Iterator<Item = &str>, out: &mut String| {
            let mut first = true;
            for c in cells {
                if !first {
                    out.push(',');
                }
                first = false;
                let c = defuse(c);
                if c.contains([',', '"', '\n', '\r']) {
                    out.push('"');
                    out.push_str(&c.replace('"', "\"\""));
                    out.push('"');
                } else {
                    out.push_str(&c);
                }
            }
            out.push_str("\r\n");
        };
        line(&mut self.labels.iter().map(String::as_str), &mut out);
        for r in &self.rows {
            line(&mut r.iter().map(String::as_str), &mut out);
        }
        out
    }

    /// JSON: an array of objects keyed by the stable keys.
    pub fn to_json(&self) -> String {
        let rows: Vec<serde_json::Value> = self
            .rows
            .iter()
            .map(|r| {
                serde_json::Value::Object(
                    self.keys
                        .iter()
                        .zip(r)
                        .map(|(k, v)| (k.to_string(), serde_json::Value::String(v.clone())))
                        .collect(),
                )
            })
            .collect();
        serde_json::Value::Array(rows).to_string()
    }

    /// XLSX: one sheet, the header row bold-free and frozen-free, every cell an inline string.
    pub fn to_xlsx(&self, sheet_name: &str) -> Vec<u8> {
        let mut sheet = String::from(
            "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n\
             <worksheet xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\"><sheetData>",
        );
        let all = std::iter::once(&self.labels).chain(self.rows.iter());
        for (i, row) in all.enumerate() {
            sheet.push_str(&format!("<row r=\"{}\">", i + 1));
            for cell in row {
                sheet.push_str("<c t=\"inlineStr\"><is><t xml:space=\"preserve\">");
                sheet.push_str(&xml_escape(cell));
                sheet.push_str("</t></is></c>");
            }
            sheet.push_str("</row>");
        }
        sheet.push_str("</sheetData></worksheet>");
        let files: [(&str, String); 5] = [
            (
                "[Content_Types].xml",
                "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n\
                 <Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">\
                 <Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/>\
                 <Default Extension=\"xml\" ContentType=\"application/xml\"/>\
                 <Override PartName=\"/xl/workbook.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml\"/>\
                 <Override PartName=\"/xl/worksheets/sheet1.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml\"/>\
                 </Types>"
                    .into(),
            ),
            (
                "_rels/.rels",
                "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n\
                 <Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">\
                 <Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument\" Target=\"xl/workbook.xml\"/>\
                 </Relationships>"
                    .into(),
            ),
            (
                "xl/workbook.xml",
                format!(
                    "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n\
                     <workbook xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\" \
                     xmlns:r=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships\">\
                     <sheets><sheet name=\"{}\" sheetId=\"1\" r:id=\"rId1\"/></sheets></workbook>",
                    xml_escape(sheet_name)
                ),
            ),
            (
                "xl/_rels/workbook.xml.rels",
                "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n\
                 <Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">\
                 <Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet\" Target=\"worksheets/sheet1.xml\"/>\
                 </Relationships>"
                    .into(),
            ),
            ("xl/worksheets/sheet1.xml", sheet),
        ];
        stored_zip(&files)
    }
}

/// Escapes text for XML, dropping the control characters XML 1.0 cannot hold.
fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 => {}
            c => out.push(c),
        }
    }
    out
}

/// CRC-32 (IEEE), as ZIP wants it.
fn crc32(data: &[u8]) -> u32 {
    let mut table = [0u32; 256];
    for (i, slot) in table.iter_mut().enumerate() {
        let mut c = i as u32;
        for _ in 0..8 {
            c = if c & 1 != 0 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
        }
        *slot = c;
    }
    let mut crc = !0u32;
    for b in data {
        crc = table[((crc ^ *b as u32) & 0xff) as usize] ^ (crc >> 8);
    }
    !crc
}

/// A ZIP archive of the given files, stored (not compressed), UTF-8 names.
fn stored_zip(files: &[(&str, String)]) -> Vec<u8> {
    let mut out = vec![];
    let mut central = vec![];
    for (name, body) in files {
        let (name, body) = (name.as_bytes(), body.as_bytes());
        let crc = crc32(body);
        let offset = out.len() as u32;
        let header = |sig: u32, central_entry: bool| {
            let mut h = vec![];
            h.extend_from_slice(&sig.to_le_bytes());
            if central_entry {
                h.extend_from_slice(&20u16.to_le_bytes()); // made by
            }
            h.extend_from_slice(&20u16.to_le_bytes()); // version needed
            h.extend_from_slice(&0x0800u16.to_le_bytes()); // UTF-8 names
            h.extend_from_slice(&0u16.to_le_bytes()); // stored
            h.extend_from_slice(&0u16.to_le_bytes()); // time
            h.extend_from_slice(&0x21u16.to_le_bytes()); // date 1980-01-01
            h.extend_from_slice(&crc.to_le_bytes());
            h.extend_from_slice(&(body.len() as u32).to_le_bytes());
            h.extend_from_slice(&(body.len() as u32).to_le_bytes());
            h.extend_from_slice(&(name.len() as u16).to_le_bytes());
            h.extend_from_slice(&0u16.to_le_bytes()); // extra
            if central_entry {
                h.extend_from_slice(&0u16.to_le_bytes()); // comment
                h.extend_from_slice(&0u16.to_le_bytes()); // disk
                h.extend_from_slice(&0u16.to_le_bytes()); // internal attributes
                h.extend_from_slice(&0u32.to_le_bytes()); // external attributes
                h.extend_from_slice(&offset.to_le_bytes());
            }
            h.extend_from_slice(name);
            h
        };
        out.extend(header(0x0403_4b50, false));
        out.extend_from_slice(body);
        central.extend(header(0x0201_4b50, true));
    }
    let central_offset = out.len() as u32;
    out.extend_from_slice(&central);
    out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(&(files.len() as u16).to_le_bytes());
    out.extend_from_slice(&(files.len() as u16).to_le_bytes());
    out.extend_from_slice(&(central.len() as u32).to_le_bytes());
    out.extend_from_slice(&central_offset.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> Table {
        Table {
            keys: vec!["org", "note"],
            labels: vec!["組織".into(), "備考".into()],
            rows: vec![
                vec!["株式会社　横浜".into(), "=HYPERLINK(\"x\")".into()],
                vec!["A, \"B\"".into(), "改行\nあり".into()],
            ],
        }
    }

    #[test]
    fn csv_has_a_bom_crlf_quotes_and_no_live_formulas() {
        let csv = table().to_csv();
        assert!(csv.starts_with("\u{feff}組織,備考\r\n"));
        assert!(csv.contains("株式会社　横浜,\"'=HYPERLINK(\"\"x\"\")\"\r\n"));
        assert!(csv.contains("\"A, \"\"B\"\"\",\"改行\nあり\"\r\n"));
    }

    #[test]
    fn the_workbook_reads_back_with_calamine() {
        let bytes = table().to_xlsx("提出");
        crate::files::sniff::check_zip(&bytes, bytes.len() as u64).unwrap();
        let sheets = crate::domain::workbook::read(&bytes).unwrap();
        assert_eq!(sheets[0].name.as_deref(), Some("提出"));
        assert_eq!(sheets[0].rows[0].cells, vec!["組織", "備考"]);
        assert_eq!(sheets[0].rows[2].cells[1], "改行\nあり");
    }

    #[test]
    fn json_uses_the_stable_keys() {
        let v: serde_json::Value = serde_json::from_str(&table().to_json()).unwrap();
        assert_eq!(v[0]["org"], "株式会社　横浜");
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }
}

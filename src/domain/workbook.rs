//! Uploaded tables read by the field's libraries, within hard limits: workbooks (.xlsx, .xlsm,
//! .xls, .ods) through `calamine`, CSV and tab-separated text through `csv`, the text decoded by
//! `encoding_rs` (UTF-8 with or without BOM, Shift_JIS/CP932, UTF-16 with BOM as Excel's
//! "Unicode テキスト"). A zip container is inflated once by us, counting, before calamine sees
//! it: a bomb or a central directory that lies costs at most the limits below.

use std::collections::BTreeMap;
use std::io::Cursor;

use calamine::{Data, DataRef, Ods, Reader, Xls, Xlsx};

use super::sheet::{Sheet, SheetRow};

/// The most bytes one part of a zip container may inflate to.
pub const PART_LIMIT: u64 = 32 * 1024 * 1024;
/// The most bytes all parts together may inflate to.
pub const TOTAL_LIMIT: u64 = 64 * 1024 * 1024;
/// The most entries a zip container may have.
pub const MAX_ENTRIES: usize = 10_000;
/// The most non-blank rows read from one sheet.
pub const MAX_ROWS: usize = 20_000;
/// The most non-empty cells read from one file.
pub const MAX_CELLS: usize = 500_000;
/// Columns past this one are not read: no import has that many fields, and it bounds the
/// memory of a sheet of single far-right cells.
pub const MAX_COLUMNS: usize = 64;
/// The longest cell text, as Excel's own limit.
pub const MAX_CELL_CHARS: usize = 32_767;
/// The most worksheets read.
pub const MAX_SHEETS: usize = 64;

/// Why a file could not be read: a locale key.
pub type ReadError = &'static str;

const ZIP_BAD: ReadError = "error.file_zip_bad";
const ZIP_TOO_BIG: ReadError = "error.file_zip_too_big";

/// Reads every sheet of an uploaded table; a CSV or text file is one sheet without a name.
pub fn read(bytes: &[u8]) -> Result<Vec<Sheet>, ReadError> {
    if bytes.starts_with(b"PK\x03\x04") {
        let entries = check_zip(bytes)?;
        let content = entries.iter().find(|e| e.name == "content.xml");
        if let Some(content) = content
            && !entries.iter().any(|e| e.name == "[Content_Types].xml")
        {
            check_ods_extent(&inflate(bytes, content)?)?;
            let book: Ods<_> = calamine::open_workbook_from_rs(Cursor::new(bytes))
                .map_err(|_| "error.xlsx_bad")?;
            return ranges(book);
        }
        return xlsx(bytes);
    }
    if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
        check_xls_extent(bytes)?;
        let book: Xls<_> =
            calamine::open_workbook_from_rs(Cursor::new(bytes)).map_err(|_| "error.xlsx_bad")?;
        return ranges(book);
    }
    text(bytes)
}

/// Counts rows and cells against the limits while a sheet is built.
#[derive(Default)]
struct Budget {
    cells: usize,
}

impl Budget {
    fn cell(&mut self, text: &str) -> Result<(), ReadError> {
        self.cells += 1;
        if self.cells > MAX_CELLS {
            return Err("error.sheet_too_big");
        }
        if text.len() > MAX_CELL_CHARS && text.chars().count() > MAX_CELL_CHARS {
            return Err("error.sheet_cell_too_long");
        }
        Ok(())
    }
}

/// Rows keyed by their 0-based index into sheet rows, blank ones left out.
fn into_sheet(
    name: Option<String>,
    rows: BTreeMap<usize, Vec<String>>,
) -> Result<Sheet, ReadError> {
    let rows: Vec<SheetRow> = rows
        .into_iter()
        .filter(|(_, cells)| cells.iter().any(|c| !c.trim().is_empty()))
        .map(|(i, cells)| SheetRow {
            number: i + 1,
            cells,
        })
        .collect();
    if rows.len() > MAX_ROWS {
        return Err("error.sheet_too_big");
    }
    Ok(Sheet { name, rows })
}

fn put(
    rows: &mut BTreeMap<usize, Vec<String>>,
    row: usize,
    col: usize,
    text: String,
) -> Result<(), ReadError> {
    if rows.len() > MAX_ROWS && !rows.contains_key(&row) {
        return Err("error.sheet_too_big");
    }
    let cells = rows.entry(row).or_default();
    if cells.len() <= col {
        cells.resize(col + 1, String::new());
    }
    cells[col] = text;
    Ok(())
}

fn date_text(d: &calamine::ExcelDateTime) -> String {
    let (y, m, day, h, min, s, _) = d.to_ymd_hms_milli();
    if (h, min, s) == (0, 0, 0) {
        format!("{y:04}-{m:02}-{day:02}")
    } else {
        format!("{y:04}-{m:02}-{day:02} {h:02}:{min:02}:{s:02}")
    }
}

fn number_text(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 1e15 {
        format!("{}", f as i64)
    } else {
        f.to_string()
    }
}

fn data_ref_text(v: DataRef<'_>) -> String {
    match v {
        DataRef::Int(i) => i.to_string(),
        DataRef::Float(f) => number_text(f),
        DataRef::String(s) => s,
        DataRef::SharedString(s) => s.to_string(),
        DataRef::Bool(b) => if b { "TRUE" } else { "FALSE" }.to_string(),
        DataRef::DateTime(d) => date_text(&d),
        DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => s,
        DataRef::Error(e) => e.to_string(),
        DataRef::Empty => String::new(),
    }
}

fn data_text(v: &Data) -> String {
    match v {
        Data::Int(i) => i.to_string(),
        Data::Float(f) => number_text(*f),
        Data::String(s) => s.clone(),
        Data::Bool(b) => if *b { "TRUE" } else { "FALSE" }.to_string(),
        Data::DateTime(d) => date_text(d),
        Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Error(e) => e.to_string(),
        Data::Empty => String::new(),
    }
}

/// An XLSX workbook, cell by cell (never a dense range: a lone cell at XFD1048576 costs one
/// cell, not a grid).
fn xlsx(bytes: &[u8]) -> Result<Vec<Sheet>, ReadError> {
    let mut book: Xlsx<_> =
        calamine::open_workbook_from_rs(Cursor::new(bytes)).map_err(|_| "error.xlsx_bad")?;
    let mut budget = Budget::default();
    let mut sheets = vec![];
    for name in book.sheet_names().into_iter().take(MAX_SHEETS) {
        let mut reader = book
            .worksheet_cells_reader(&name)
            .map_err(|_| "error.xlsx_bad")?;
        let mut rows = BTreeMap::new();
        while let Some(cell) = reader.next_cell().map_err(|_| "error.xlsx_bad")? {
            let (r, c) = cell.get_position();
            let text = data_ref_text(cell.get_value().clone());
            if c as usize >= MAX_COLUMNS || text.is_empty() {
                continue;
            }
            budget.cell(&text)?;
            put(&mut rows, r as usize, c as usize, text)?;
        }
        sheets.push(into_sheet(Some(name), rows)?);
    }
    Ok(sheets)
}

/// Older and other workbooks (.xls, .ods) through calamine's ranges: an .xls is bounded by the
/// upload limit, an .ods by the inflation limits and calamine's own cell cap.
fn ranges<RS, R>(mut book: R) -> Result<Vec<Sheet>, ReadError>
where
    RS: std::io::Read + std::io::Seek,
    R: Reader<RS>,
{
    let mut budget = Budget::default();
    let mut sheets = vec![];
    for name in book.sheet_names().into_iter().take(MAX_SHEETS) {
        let range = book.worksheet_range(&name).map_err(|_| "error.xlsx_bad")?;
        let (top, left) = range.start().unwrap_or((0, 0));
        let mut rows = BTreeMap::new();
        for (r, c, v) in range.used_cells() {
            let col = left as usize + c;
            let text = data_text(v);
            if col >= MAX_COLUMNS || text.is_empty() {
                continue;
            }
            budget.cell(&text)?;
            put(&mut rows, top as usize + r, col, text)?;
        }
        sheets.push(into_sheet(Some(name), rows)?);
    }
    Ok(sheets)
}

/// Decodes text: a BOM decides (UTF-8, UTF-16LE, UTF-16BE); else UTF-8 if valid, UTF-16LE if
/// it looks like it (NULs in every other byte), else Shift_JIS (CP932); anything else refused.
pub fn decode(bytes: &[u8]) -> Result<String, ReadError> {
    let bad = "error.csv_encoding";
    let utf16le = encoding_rs::UTF_16LE;
    if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        return std::str::from_utf8(rest)
            .map(str::to_string)
            .map_err(|_| bad);
    }
    if let Some(rest) = bytes.strip_prefix(b"\xFF\xFE") {
        return utf16le
            .decode_without_bom_handling_and_without_replacement(rest)
            .map(|s| s.into_owned())
            .ok_or(bad);
    }
    if let Some(rest) = bytes.strip_prefix(b"\xFE\xFF") {
        return encoding_rs::UTF_16BE
            .decode_without_bom_handling_and_without_replacement(rest)
            .map(|s| s.into_owned())
            .ok_or(bad);
    }
    if let Ok(s) = std::str::from_utf8(bytes)
        && !s.contains('\0')
    {
        return Ok(s.to_string());
    }
    let head = &bytes[..bytes.len().min(512)];
    let odd_nuls = head.iter().skip(1).step_by(2).filter(|b| **b == 0).count();
    if head.len() >= 4 && odd_nuls * 2 >= head.len() / 2 {
        return utf16le
            .decode_without_bom_handling_and_without_replacement(bytes)
            .map(|s| s.into_owned())
            .ok_or(bad);
    }
    if bytes.contains(&0) {
        return Err(bad);
    }
    encoding_rs::SHIFT_JIS
        .decode_without_bom_handling_and_without_replacement(bytes)
        .map(|s| s.into_owned())
        .ok_or(bad)
}

/// CSV or tab-separated text: the separator is the one the first lines use most.
fn text(bytes: &[u8]) -> Result<Vec<Sheet>, ReadError> {
    let text = decode(bytes)?;
    let head: String = text.lines().take(30).collect();
    let delimiter = if head.matches('\t').count() > head.matches(',').count() {
        b'\t'
    } else {
        b','
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(text.as_bytes());
    let mut budget = Budget::default();
    let mut rows = BTreeMap::new();
    let mut record = csv::StringRecord::new();
    // The line a record starts on, counted from its byte offset: the csv crate's own line
    // count leaves out the blank lines it skips, and the sheet's row numbers must not.
    let (mut line, mut counted) = (1usize, 0usize);
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(_) => return Err("error.csv_bad"),
        }
        let mut start = record.position().map_or(counted, |p| p.byte() as usize);
        // The position is where reading began, before any blank lines it skipped.
        while matches!(text.as_bytes().get(start), Some(b'\r' | b'\n')) {
            start += 1;
        }
        line += text
            .as_bytes()
            .get(counted..start)
            .map_or(0, |b| b.iter().filter(|c| **c == b'\n').count());
        counted = start.max(counted);
        for (c, field) in record.iter().enumerate().take(MAX_COLUMNS) {
            if field.trim().is_empty() {
                continue;
            }
            budget.cell(field)?;
            put(&mut rows, line.saturating_sub(1), c, field.to_string())?;
        }
    }
    Ok(vec![into_sheet(None, rows)?])
}

fn u16_at(b: &[u8], o: usize) -> Option<u64> {
    b.get(o..o + 2)
        .map(|s| u16::from_le_bytes([s[0], s[1]]) as u64)
}

fn u32_at(b: &[u8], o: usize) -> Option<u64> {
    b.get(o..o + 4)
        .map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]) as u64)
}

/// Checks a zip container before any library opens it, and returns its entry names: at most
/// `MAX_ENTRIES` entries, no ZIP64, no overlapping entries, and every entry inflated here, in a
/// small buffer, counting: more than its declared size (a lying central directory), more than
/// `PART_LIMIT`, or more than `TOTAL_LIMIT` in all is refused.
pub fn check_zip(zip: &[u8]) -> Result<Vec<ZipEntry>, ReadError> {
    let search_from = zip.len().saturating_sub(22 + 65_535);
    let eocd = (search_from..zip.len().saturating_sub(21))
        .rev()
        .find(|&i| zip[i..].starts_with(b"PK\x05\x06"))
        .ok_or(ZIP_BAD)?;
    let count = u16_at(zip, eocd + 10).ok_or(ZIP_BAD)?;
    let cd_offset = u32_at(zip, eocd + 16).ok_or(ZIP_BAD)?;
    if count == 0xFFFF || cd_offset == 0xFFFF_FFFF {
        return Err(ZIP_TOO_BIG);
    }
    if count as usize > MAX_ENTRIES {
        return Err(ZIP_TOO_BIG);
    }
    let mut pos = cd_offset as usize;
    let mut entries = vec![];
    let mut spans: Vec<(usize, usize)> = vec![];
    let mut total = 0u64;
    for _ in 0..count {
        if !zip.get(pos..).is_some_and(|s| s.starts_with(b"PK\x01\x02")) {
            return Err(ZIP_BAD);
        }
        let flags = u16_at(zip, pos + 8).ok_or(ZIP_BAD)?;
        let method = u16_at(zip, pos + 10).ok_or(ZIP_BAD)?;
        let compressed = u32_at(zip, pos + 20).ok_or(ZIP_BAD)?;
        let declared = u32_at(zip, pos + 24).ok_or(ZIP_BAD)?;
        let name_len = u16_at(zip, pos + 28).ok_or(ZIP_BAD)? as usize;
        let extra_len = u16_at(zip, pos + 30).ok_or(ZIP_BAD)? as usize;
        let comment_len = u16_at(zip, pos + 32).ok_or(ZIP_BAD)? as usize;
        let local = u32_at(zip, pos + 42).ok_or(ZIP_BAD)? as usize;
        let name = zip.get(pos + 46..pos + 46 + name_len).ok_or(ZIP_BAD)?;
        let name = String::from_utf8_lossy(name).into_owned();
        pos += 46 + name_len + extra_len + comment_len;
        if flags & 1 != 0 {
            // Encrypted: not a workbook we can read.
            return Err("error.xlsx_bad");
        }
        if declared > PART_LIMIT {
            return Err(ZIP_TOO_BIG);
        }
        total += declared;
        if total > TOTAL_LIMIT {
            return Err(ZIP_TOO_BIG);
        }
        if !zip
            .get(local..)
            .is_some_and(|s| s.starts_with(b"PK\x03\x04"))
        {
            return Err(ZIP_BAD);
        }
        let local_name = u16_at(zip, local + 26).ok_or(ZIP_BAD)? as usize;
        let local_extra = u16_at(zip, local + 28).ok_or(ZIP_BAD)? as usize;
        let start = local + 30 + local_name + local_extra;
        let end = start.checked_add(compressed as usize).ok_or(ZIP_BAD)?;
        let data = zip.get(start..end).ok_or(ZIP_BAD)?;
        spans.push((local, end));
        let inflated = match method {
            0 => data.len() as u64,
            8 => inflated_size(data, declared)?,
            _ => return Err("error.xlsx_bad"),
        };
        if inflated != declared {
            return Err(ZIP_TOO_BIG);
        }
        entries.push(ZipEntry {
            name,
            method,
            data: start..end,
            size: declared,
        });
    }
    spans.sort_unstable();
    if spans.windows(2).any(|w| w[1].0 < w[0].1) {
        return Err(ZIP_BAD);
    }
    Ok(entries)
}

/// One checked entry of a zip container.
#[derive(Debug, Clone)]
pub struct ZipEntry {
    pub name: String,
    method: u64,
    data: std::ops::Range<usize>,
    /// The inflated size, as declared and verified.
    pub size: u64,
}

/// An entry's bytes (checked by `check_zip`, so within `PART_LIMIT`).
fn inflate(zip: &[u8], e: &ZipEntry) -> Result<Vec<u8>, ReadError> {
    let data = zip.get(e.data.clone()).ok_or(ZIP_BAD)?;
    match e.method {
        0 => Ok(data.to_vec()),
        _ => miniz_oxide::inflate::decompress_to_vec_with_limit(data, e.size as usize)
            .map_err(|_| ZIP_BAD),
    }
}

/// The most cells a library may lay out as a grid for the sheets of one .ods or .xls file:
/// calamine fills the box from the first to the last used row and column, so two cells far
/// apart would cost gigabytes.
pub const MAX_GRID_CELLS: u64 = 1_000_000;

/// Refuses an Excel 97-2003 workbook whose sheets' used areas exceed `MAX_GRID_CELLS`, from the
/// positions of the cell records in its BIFF stream, before calamine lays the cells out.
fn check_xls_extent(bytes: &[u8]) -> Result<(), ReadError> {
    use std::io::Read;
    let bad = "error.xlsx_bad";
    let mut file = cfb::CompoundFile::open(Cursor::new(bytes)).map_err(|_| bad)?;
    let mut stream = match file.open_stream("/Workbook") {
        Ok(s) => s,
        Err(_) => file.open_stream("/Book").map_err(|_| bad)?,
    };
    let mut biff = vec![];
    (&mut stream)
        .take(4 * bytes.len() as u64)
        .read_to_end(&mut biff)
        .map_err(|_| bad)?;
    let u16_le = |b: &[u8], o: usize| b.get(o..o + 2).map(|s| u16::from_le_bytes([s[0], s[1]]));
    let mut total = 0u64;
    let mut area: Option<(u16, u16, u16, u16)> = None;
    let close = |area: &mut Option<(u16, u16, u16, u16)>, total: &mut u64| {
        if let Some((r0, r1, c0, c1)) = area.take() {
            let cells = (u64::from(r1 - r0) + 1) * (u64::from(c1 - c0) + 1);
            *total = total.saturating_add(cells);
        }
    };
    let mut pos = 0;
    while let (Some(kind), Some(len)) = (u16_le(&biff, pos), u16_le(&biff, pos + 2)) {
        let data = biff.get(pos + 4..pos + 4 + len as usize).unwrap_or(&[]);
        pos += 4 + len as usize;
        match kind {
            // BOF and EOF of each substream.
            0x0809 | 0x0009 | 0x0209 | 0x0409 | 0x000A => close(&mut area, &mut total),
            // Cell records: FORMULA, LABELSST, NUMBER, RK, MULRK, BLANK, MULBLANK, BOOLERR,
            // LABEL, RSTRING; each starts with its row and column.
            0x0006 | 0x0406 | 0x00FD | 0x0203 | 0x027E | 0x00BD | 0x0201 | 0x00BE | 0x0205
            | 0x0204 | 0x00D6 => {
                let (Some(row), Some(col)) = (u16_le(data, 0), u16_le(data, 2)) else {
                    continue;
                };
                let last = if matches!(kind, 0x00BD | 0x00BE) {
                    u16_le(data, data.len().saturating_sub(2))
                        .unwrap_or(col)
                        .max(col)
                } else {
                    col
                };
                area = Some(match area {
                    None => (row, row, col, last),
                    Some((r0, r1, c0, c1)) => (r0.min(row), r1.max(row), c0.min(col), c1.max(last)),
                });
            }
            _ => {}
        }
        let mut open = area;
        let mut with_open = total;
        close(&mut open, &mut with_open);
        if with_open > MAX_GRID_CELLS {
            return Err("error.sheet_too_big");
        }
    }
    Ok(())
}

/// Refuses an OpenDocument spreadsheet whose used area, with repeated rows and cells expanded,
/// exceeds `MAX_GRID_CELLS` over all its sheets; measured on the XML before calamine expands it.
fn check_ods_extent(content: &[u8]) -> Result<(), ReadError> {
    use quick_xml::events::{BytesStart, Event};
    let repeats = |e: &BytesStart<'_>, attr: &str| -> u64 {
        e.try_get_attribute(attr)
            .ok()
            .flatten()
            .and_then(|a| a.value.parse().ok())
            .unwrap_or(1)
    };
    let mut reader = quick_xml::Reader::from_reader(content);
    let mut buf = vec![];
    let (mut total, mut row, mut rows_used, mut cols_used) = (0u64, 0u64, 0u64, 0u64);
    let (mut row_repeat, mut col, mut row_used) = (1u64, 0u64, false);
    loop {
        let event = reader
            .read_event_into(&mut buf)
            .map_err(|_| "error.xlsx_bad")?;
        match &event {
            Event::Start(e) | Event::Empty(e) => {
                let empty = matches!(event, Event::Empty(_));
                match e.name().as_ref() {
                    "table:table" => (row, rows_used, cols_used) = (0, 0, 0),
                    "table:table-row" => {
                        row_repeat = repeats(e, "table:number-rows-repeated");
                        (col, row_used) = (0, false);
                        if empty {
                            row = row.saturating_add(row_repeat);
                        }
                    }
                    "table:table-cell" | "table:covered-table-cell" => {
                        // A cell with content (or a value type) counts as used; an empty
                        // repeated cell at a row's end, as LibreOffice writes, does not.
                        let valued = !empty
                            || e.try_get_attribute("office:value-type")
                                .ok()
                                .flatten()
                                .is_some();
                        col = col.saturating_add(repeats(e, "table:number-columns-repeated"));
                        if valued {
                            cols_used = cols_used.max(col);
                            row_used = true;
                        }
                    }
                    _ => {}
                }
            }
            Event::End(e) => match e.name().as_ref() {
                "table:table-row" => {
                    row = row.saturating_add(row_repeat);
                    if row_used {
                        rows_used = row;
                    }
                }
                "table:table" => {
                    total = total.saturating_add(rows_used.saturating_mul(cols_used));
                    if total > MAX_GRID_CELLS {
                        return Err("error.sheet_too_big");
                    }
                }
                _ => {}
            },
            Event::Eof => return Ok(()),
            _ => {}
        }
        buf.clear();
    }
}

/// Inflates raw deflate data into a small buffer and counts the bytes, stopping as soon as
/// they pass `declared`.
fn inflated_size(data: &[u8], declared: u64) -> Result<u64, ReadError> {
    use miniz_oxide::inflate::stream::{InflateState, inflate};
    use miniz_oxide::{DataFormat, MZError, MZFlush, MZStatus};
    let mut state = InflateState::new_boxed(DataFormat::Raw);
    let mut out = vec![0u8; 64 * 1024];
    let mut input = data;
    let mut total = 0u64;
    loop {
        let r = inflate(&mut state, input, &mut out, MZFlush::None);
        input = &input[r.bytes_consumed..];
        total += r.bytes_written as u64;
        if total > declared {
            return Err(ZIP_TOO_BIG);
        }
        match r.status {
            Ok(MZStatus::StreamEnd) => return Ok(total),
            Ok(_) if r.bytes_consumed > 0 || r.bytes_written > 0 => {}
            Err(MZError::Buf) | Ok(_) => return Err(ZIP_BAD),
            Err(_) => return Err(ZIP_BAD),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// An OpenDocument spreadsheet with `rows` (content.xml rows) in one sheet.
    fn ods(rows: &str) -> Vec<u8> {
        let content = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\
             <office:document-content xmlns:office=\"urn:oasis:names:tc:opendocument:xmlns:office:1.0\" \
             xmlns:table=\"urn:oasis:names:tc:opendocument:xmlns:table:1.0\" \
             xmlns:text=\"urn:oasis:names:tc:opendocument:xmlns:text:1.0\" office:version=\"1.2\">\
             <office:body><office:spreadsheet><table:table table:name=\"機器一覧\">{rows}</table:table>\
             </office:spreadsheet></office:body></office:document-content>"
        );
        let mut zip = zip::ZipWriter::new(Cursor::new(vec![]));
        let stored = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored);
        let deflated = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        zip.start_file("mimetype", stored).unwrap();
        zip.write_all(b"application/vnd.oasis.opendocument.spreadsheet")
            .unwrap();
        zip.start_file("content.xml", deflated).unwrap();
        zip.write_all(content.as_bytes()).unwrap();
        zip.start_file("META-INF/manifest.xml", deflated).unwrap();
        zip.write_all(b"<?xml version=\"1.0\"?><manifest:manifest xmlns:manifest=\"urn:oasis:names:tc:opendocument:xmlns:manifest:1.0\"/>")
            .unwrap();
        zip.finish().unwrap().into_inner()
    }

    fn text_cell(s: &str) -> String {
        format!(
            "<table:table-cell office:value-type=\"string\"><text:p>{s}</text:p></table:table-cell>"
        )
    }

    #[test]
    fn an_ods_sheet_reads_with_its_row_numbers_and_libreoffice_padding() {
        let rows = format!(
            "<table:table-row>{}</table:table-row>\
             <table:table-row table:number-rows-repeated=\"2\"><table:table-cell table:number-columns-repeated=\"1024\"/></table:table-row>\
             <table:table-row>{}{}<table:table-cell table:number-columns-repeated=\"1022\"/></table:table-row>\
             <table:table-row>{}<table:table-cell office:value-type=\"float\" office:value=\"2\"><text:p>2</text:p></table:table-cell></table:table-row>\
             <table:table-row table:number-rows-repeated=\"1048570\"><table:table-cell table:number-columns-repeated=\"16384\"/></table:table-row>",
            text_cell("機器構成一覧"),
            text_cell("型番"),
            text_cell("台数"),
            text_cell("RX2540"),
        );
        let sheets = read(&ods(&rows)).unwrap();
        assert_eq!(sheets[0].name.as_deref(), Some("機器一覧"));
        let got: Vec<(usize, Vec<String>)> = sheets[0]
            .rows
            .iter()
            .map(|r| (r.number, r.cells.clone()))
            .collect();
        assert_eq!(
            got,
            vec![
                (1, vec!["機器構成一覧".to_string()]),
                (4, vec!["型番".into(), "台数".into()]),
                (5, vec!["RX2540".into(), "2".into()]),
            ]
        );
    }

    #[test]
    fn an_ods_whose_repeats_would_fill_a_huge_grid_is_refused_before_calamine() {
        let rows = "<table:table-row table:number-rows-repeated=\"1000000\">\
             <table:table-cell office:value-type=\"float\" office:value=\"1\" table:number-columns-repeated=\"1000\"><text:p>1</text:p></table:table-cell>\
             </table:table-row>";
        assert_eq!(read(&ods(rows)), Err("error.sheet_too_big"));
        // Two cells far apart are as bad as many.
        let rows = format!(
            "<table:table-row>{}</table:table-row>\
             <table:table-row table:number-rows-repeated=\"1000000\"><table:table-cell/></table:table-row>\
             <table:table-row><table:table-cell table:number-columns-repeated=\"5000\"/>{}</table:table-row>",
            text_cell("a"),
            text_cell("b"),
        );
        assert_eq!(read(&ods(&rows)), Err("error.sheet_too_big"));
    }

    #[test]
    fn an_xls_with_two_cells_far_apart_is_refused_before_calamine() {
        let record = |kind: u16, data: &[u8]| {
            let mut r = kind.to_le_bytes().to_vec();
            r.extend((data.len() as u16).to_le_bytes());
            r.extend(data);
            r
        };
        let number = |row: u16, col: u16| {
            let mut d = row.to_le_bytes().to_vec();
            d.extend(col.to_le_bytes());
            d.extend(0u16.to_le_bytes());
            d.extend(1.0f64.to_le_bytes());
            record(0x0203, &d)
        };
        let bof = record(0x0809, &[0, 6, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        let eof = record(0x000A, &[]);
        let workbook = |cells: &[(u16, u16)]| {
            let mut biff = [bof.clone(), eof.clone(), bof.clone()].concat();
            for (r, c) in cells {
                biff.extend(number(*r, *c));
            }
            biff.extend(eof.clone());
            let mut file = cfb::CompoundFile::create(Cursor::new(vec![])).unwrap();
            file.create_stream("/Workbook")
                .unwrap()
                .write_all(&biff)
                .unwrap();
            file.flush().unwrap();
            file.into_inner().into_inner()
        };
        let far = workbook(&[(0, 0), (60_000, 200)]);
        assert_eq!(read(&far), Err("error.sheet_too_big"));
        assert_eq!(check_xls_extent(&workbook(&[(0, 0), (999, 20)])), Ok(()));
    }

    #[test]
    fn text_in_every_encoding_excel_writes_decodes() {
        let s = "種別\t台数\r\nPC\t３\r\n";
        let (sjis, _, _) = encoding_rs::SHIFT_JIS.encode(s);
        let mut le = vec![0xFF, 0xFE];
        le.extend(s.encode_utf16().flat_map(u16::to_le_bytes));
        let mut be = vec![0xFE, 0xFF];
        be.extend(s.encode_utf16().flat_map(u16::to_be_bytes));
        let bom = [b"\xEF\xBB\xBF".as_slice(), s.as_bytes()].concat();
        for bytes in [s.as_bytes().to_vec(), bom, sjis.to_vec(), le, be] {
            let sheets = read(&bytes).unwrap();
            assert_eq!(sheets[0].rows[1].cells, vec!["PC", "３"]);
        }
        assert_eq!(
            decode(&[0xFF, 0xFE, b'a', 0, 0x81]),
            Err("error.csv_encoding")
        );
    }
}

//! Uploaded tables read by the field's libraries, within hard limits: workbooks (.xlsx, .xlsm,
//! .xls, .ods) through `calamine`, CSV and tab-separated text through `csv`, the text decoded by
//! `encoding_rs` (UTF-8 with or without BOM, Shift_JIS/CP932, UTF-16 with BOM as Excel's
//! "Unicode テキスト"). A zip container is inflated once by us, counting, before calamine sees
//! it: a bomb or a central directory that lies costs at most the limits below.

use std::collections::BTreeMap;
use std::io::Cursor;

use calamine::{Data, DataRef, Ods, Reader, Xls, Xlsx};

use super::sheet::{Sheet, SheetRow};

mod guard;

pub use guard::{MAX_GRID_CELLS, ZipEntry, check_zip};
use guard::{check_ods_extent, check_xls_extent, inflate};

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
        // A DIMENSIONS record that declares the whole of BIFF8's rows and columns.
        let mut dims = 0u32.to_le_bytes().to_vec();
        dims.extend(1_048_576u32.to_le_bytes());
        dims.extend(0u16.to_le_bytes());
        dims.extend(256u16.to_le_bytes());
        dims.extend(0u16.to_le_bytes());
        let mut biff = [bof.clone(), eof.clone(), bof.clone(), record(0x0200, &dims)].concat();
        biff.extend(number(0, 0));
        biff.extend(eof.clone());
        let mut file = cfb::CompoundFile::create(Cursor::new(vec![])).unwrap();
        file.create_stream("/Workbook")
            .unwrap()
            .write_all(&biff)
            .unwrap();
        file.flush().unwrap();
        assert_eq!(
            check_xls_extent(&file.into_inner().into_inner()),
            Err("error.sheet_too_big")
        );
        assert_eq!(check_xls_extent(&workbook(&[(0, 0), (999, 20)])), Ok(()));
    }

    #[test]
    fn an_xls_workbook_reads_through_calamine_with_its_row_numbers() {
        let record = |kind: u16, data: &[u8]| {
            let mut r = kind.to_le_bytes().to_vec();
            r.extend((data.len() as u16).to_le_bytes());
            r.extend(data);
            r
        };
        let bof = |dt: u16| {
            let mut d = 0x0600u16.to_le_bytes().to_vec();
            d.extend(dt.to_le_bytes());
            d.extend([0; 12]);
            record(0x0809, &d)
        };
        let utf16 = |s: &str| {
            s.encode_utf16()
                .flat_map(u16::to_le_bytes)
                .collect::<Vec<u8>>()
        };
        let label = |row: u16, col: u16, s: &str| {
            let mut d = row.to_le_bytes().to_vec();
            d.extend(col.to_le_bytes());
            d.extend(0u16.to_le_bytes());
            d.extend((s.encode_utf16().count() as u16).to_le_bytes());
            d.push(1);
            d.extend(utf16(s));
            record(0x0204, &d)
        };
        let number = |row: u16, col: u16, v: f64| {
            let mut d = row.to_le_bytes().to_vec();
            d.extend(col.to_le_bytes());
            d.extend(0u16.to_le_bytes());
            d.extend(v.to_le_bytes());
            record(0x0203, &d)
        };
        let eof = record(0x000A, &[]);
        let name = "機器一覧";
        let boundsheet = |pos: u32| {
            let mut d = pos.to_le_bytes().to_vec();
            d.extend([0, 0, name.encode_utf16().count() as u8, 1]);
            d.extend(utf16(name));
            record(0x0085, &d)
        };
        let globals_len = (bof(5).len() + boundsheet(0).len() + eof.len()) as u32;
        let mut biff = [bof(5), boundsheet(globals_len), eof.clone(), bof(0x10)].concat();
        biff.extend(label(0, 0, "機器構成一覧"));
        biff.extend(label(2, 0, "型番"));
        biff.extend(label(2, 1, "台数"));
        biff.extend(label(3, 0, "RX2540"));
        biff.extend(number(3, 1, 2.0));
        biff.extend(eof);
        let mut file = cfb::CompoundFile::create(Cursor::new(vec![])).unwrap();
        file.create_stream("/Workbook")
            .unwrap()
            .write_all(&biff)
            .unwrap();
        file.flush().unwrap();
        let sheets = read(&file.into_inner().into_inner()).unwrap();
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
                (3, vec!["型番".into(), "台数".into()]),
                (4, vec!["RX2540".into(), "2".into()]),
            ]
        );
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

//! The limits a workbook is held to before any library opens it: the zip container checked
//! and inflated once here, counting, and the grid an .ods or .xls would be laid out as measured.

use std::io::Cursor;

use super::{MAX_ENTRIES, PART_LIMIT, ReadError, TOTAL_LIMIT, ZIP_BAD, ZIP_TOO_BIG};

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
pub(super) fn inflate(zip: &[u8], e: &ZipEntry) -> Result<Vec<u8>, ReadError> {
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
pub(super) fn check_xls_extent(bytes: &[u8]) -> Result<(), ReadError> {
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
            // DIMENSIONS: calamine reserves room for the area it declares, so a lying one
            // counts as if it were true (and one calamine would misread is refused).
            0x0200 => {
                let u32_le = |o: usize| {
                    data.get(o..o + 4)
                        .map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
                };
                let (rf, rl, cf, cl) = match data.len() {
                    10 => (
                        u16_le(data, 0).map(u32::from),
                        u16_le(data, 2).map(u32::from),
                        u16_le(data, 4),
                        u16_le(data, 6),
                    ),
                    14 | 16 => (u32_le(0), u32_le(4), u16_le(data, 8), u16_le(data, 10)),
                    _ => continue,
                };
                let (Some(rf), Some(rl), Some(cf), Some(cl)) = (rf, rl, cf, cl) else {
                    continue;
                };
                let cf = if cf > 0xFF || cl < cf { 0 } else { cf };
                let (rows, cols) = if rl >= 1 && cl >= 1 {
                    let (Some(r), Some(c)) = ((rl - 1).checked_sub(rf), (cl - 1).checked_sub(cf))
                    else {
                        return Err("error.xlsx_bad");
                    };
                    (u64::from(r) + 1, u64::from(c) + 1)
                } else {
                    (1, 1)
                };
                total = total.saturating_add(rows.saturating_mul(cols));
            }
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
pub(super) fn check_ods_extent(content: &[u8]) -> Result<(), ReadError> {
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

    fn zip_of(parts: &[(&str, &[u8])]) -> Vec<u8> {
        let mut zip = zip::ZipWriter::new(Cursor::new(vec![]));
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        for (name, data) in parts {
            zip.start_file(*name, options).unwrap();
            zip.write_all(data).unwrap();
        }
        zip.finish().unwrap().into_inner()
    }

    #[test]
    fn entries_that_overlap_are_refused() {
        let data = b"<x>same bytes in both entries</x>".repeat(10);
        let mut zip = zip_of(&[("a.xml", &data), ("b.xml", &data)]);
        assert_eq!(check_zip(&zip).unwrap().len(), 2);
        // Point the second central directory entry at the first entry's data.
        let eocd = zip.len() - 22;
        let cd = u32_at(&zip, eocd + 16).unwrap() as usize;
        let first_len = 46
            + u16_at(&zip, cd + 28).unwrap() as usize
            + u16_at(&zip, cd + 30).unwrap() as usize
            + u16_at(&zip, cd + 32).unwrap() as usize;
        let second = cd + first_len;
        zip[second + 42..second + 46].copy_from_slice(&0u32.to_le_bytes());
        assert_eq!(check_zip(&zip).map(|_| ()), Err(ZIP_BAD));
    }

    #[test]
    fn an_entry_inflating_past_its_declared_size_is_refused() {
        let mut zip = zip_of(&[("xl/worksheets/sheet1.xml", &[b' '; 100_000])]);
        let eocd = zip.len() - 22;
        let cd = u32_at(&zip, eocd + 16).unwrap() as usize;
        // The central directory now declares 1,000 bytes.
        zip[cd + 24..cd + 28].copy_from_slice(&1000u32.to_le_bytes());
        assert_eq!(check_zip(&zip).map(|_| ()), Err(ZIP_TOO_BIG));
    }
}

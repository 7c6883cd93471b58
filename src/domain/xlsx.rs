//! Reading the first worksheet of an XLSX workbook into rows of text, with hard limits: the
//! zip's central directory is checked first, and inflating stops at a size cap, so a zip bomb
//! costs at most that much memory.

/// The most bytes any part of the workbook may inflate to.
pub const PART_LIMIT: usize = 32 * 1024 * 1024;

struct Entry {
    name: String,
    method: u16,
    compressed: usize,
    offset: usize,
}

fn u16_at(b: &[u8], o: usize) -> Option<u16> {
    b.get(o..o + 2).map(|s| u16::from_le_bytes([s[0], s[1]]))
}

fn u32_at(b: &[u8], o: usize) -> Option<usize> {
    b.get(o..o + 4)
        .map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]) as usize)
}

fn entries(zip: &[u8]) -> Option<Vec<Entry>> {
    let eocd = (0..zip.len().saturating_sub(21))
        .rev()
        .find(|&i| zip[i..].starts_with(b"PK\x05\x06"))?;
    let count = u16_at(zip, eocd + 10)? as usize;
    let mut pos = u32_at(zip, eocd + 16)?;
    let mut out = vec![];
    for _ in 0..count {
        if !zip.get(pos..)?.starts_with(b"PK\x01\x02") {
            return None;
        }
        let method = u16_at(zip, pos + 10)?;
        let compressed = u32_at(zip, pos + 20)?;
        let name_len = u16_at(zip, pos + 28)? as usize;
        let extra_len = u16_at(zip, pos + 30)? as usize;
        let comment_len = u16_at(zip, pos + 32)? as usize;
        let offset = u32_at(zip, pos + 42)?;
        let name = String::from_utf8_lossy(zip.get(pos + 46..pos + 46 + name_len)?).into_owned();
        out.push(Entry {
            name,
            method,
            compressed,
            offset,
        });
        pos += 46 + name_len + extra_len + comment_len;
    }
    Some(out)
}

fn read(zip: &[u8], e: &Entry) -> Result<Vec<u8>, &'static str> {
    let bad = "error.xlsx_bad";
    let local = zip.get(e.offset..).ok_or(bad)?;
    if !local.starts_with(b"PK\x03\x04") {
        return Err(bad);
    }
    let name_len = u16_at(local, 26).ok_or(bad)? as usize;
    let extra_len = u16_at(local, 28).ok_or(bad)? as usize;
    let start = 30 + name_len + extra_len;
    let data = local.get(start..start + e.compressed).ok_or(bad)?;
    match e.method {
        0 if data.len() <= PART_LIMIT => Ok(data.to_vec()),
        8 => miniz_oxide::inflate::decompress_to_vec_with_limit(data, PART_LIMIT)
            .map_err(|_| "error.file_zip_too_big"),
        _ => Err(bad),
    }
}

fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        let Some(end) = tail.find(';') else {
            out.push_str(tail);
            return out;
        };
        let ent = &tail[1..end];
        let ch = match ent {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ if ent.starts_with("#x") => u32::from_str_radix(&ent[2..], 16)
                .ok()
                .and_then(char::from_u32),
            _ if ent.starts_with('#') => ent[1..].parse().ok().and_then(char::from_u32),
            _ => None,
        };
        match ch {
            Some(c) => out.push(c),
            None => out.push_str(&tail[..=end]),
        }
        rest = &tail[end + 1..];
    }
    out.push_str(rest);
    out
}

/// The text of every `<t>` element inside `xml`, concatenated.
fn texts(xml: &str) -> String {
    let mut out = String::new();
    let mut rest = xml;
    while let Some(i) = rest.find("<t") {
        let after = &rest[i + 2..];
        // `<t>` or `<t xml:space="preserve">`, not `<tabColor` etc.
        if !(after.starts_with('>') || after.starts_with(' ')) {
            rest = after;
            continue;
        }
        let Some(open_end) = after.find('>') else {
            break;
        };
        if after[..open_end].ends_with('/') {
            rest = &after[open_end + 1..];
            continue;
        }
        let body = &after[open_end + 1..];
        let Some(close) = body.find("</t>") else {
            break;
        };
        out.push_str(&unescape(&body[..close]));
        rest = &body[close + 4..];
    }
    out
}

fn attr<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let key = format!(" {name}=\"");
    let i = tag.find(&key)? + key.len();
    tag[i..].split('"').next()
}

/// Column index of a cell reference such as `C12`.
fn column(r: &str) -> usize {
    r.chars()
        .take_while(|c| c.is_ascii_alphabetic())
        .fold(0, |acc, c| {
            acc * 26 + (c.to_ascii_uppercase() as usize - 'A' as usize + 1)
        })
        .saturating_sub(1)
}

/// The first worksheet as rows of cell text (numbers as written in the file).
pub fn first_sheet(zip: &[u8]) -> Result<Vec<Vec<String>>, &'static str> {
    let list = entries(zip).ok_or("error.xlsx_bad")?;
    let shared: Vec<String> = match list.iter().find(|e| e.name == "xl/sharedStrings.xml") {
        Some(e) => {
            let xml = String::from_utf8(read(zip, e)?).map_err(|_| "error.xlsx_bad")?;
            xml.split("<si>")
                .skip(1)
                .map(|si| texts(si.split("</si>").next().unwrap_or("")))
                .collect()
        }
        None => vec![],
    };
    let mut sheets: Vec<&Entry> = list
        .iter()
        .filter(|e| e.name.starts_with("xl/worksheets/sheet") && e.name.ends_with(".xml"))
        .collect();
    sheets.sort_by_key(|e| (e.name.len(), e.name.clone()));
    let sheet = sheets.first().ok_or("error.xlsx_bad")?;
    let xml = String::from_utf8(read(zip, sheet)?).map_err(|_| "error.xlsx_bad")?;
    let mut rows = vec![];
    for row_xml in xml.split("<row").skip(1) {
        let row_xml = row_xml.split("</row>").next().unwrap_or("");
        let mut row: Vec<String> = vec![];
        for cell in row_xml.split("<c").skip(1) {
            let Some(tag_end) = cell.find('>') else {
                continue;
            };
            let tag = &cell[..tag_end];
            if !(tag.starts_with(' ') || tag.is_empty()) {
                continue;
            }
            let idx = attr(tag, "r").map(column).unwrap_or(row.len());
            let body = if tag.ends_with('/') {
                ""
            } else {
                cell[tag_end + 1..].split("</c>").next().unwrap_or("")
            };
            let value = body
                .split("<v>")
                .nth(1)
                .and_then(|v| v.split("</v>").next())
                .map(unescape);
            let text = match attr(tag, "t") {
                Some("s") => value
                    .and_then(|v| v.parse::<usize>().ok())
                    .and_then(|i| shared.get(i).cloned())
                    .unwrap_or_default(),
                Some("inlineStr") => texts(body),
                _ => value.unwrap_or_default(),
            };
            if idx > 1000 {
                return Err("error.xlsx_bad");
            }
            if row.len() <= idx {
                row.resize(idx + 1, String::new());
            }
            row[idx] = text;
        }
        if row.iter().any(|c| !c.trim().is_empty()) {
            rows.push(row);
        }
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cell_references_map_to_columns() {
        assert_eq!((column("A1"), column("C12"), column("AA3")), (0, 2, 26));
        assert_eq!(unescape("A&amp;B &#x3042;&lt;"), "A&B あ<");
        assert_eq!(
            texts("<si><r><t>本</t></r><r><t xml:space=\"preserve\">社 </t></r></si>"),
            "本社 "
        );
    }
}

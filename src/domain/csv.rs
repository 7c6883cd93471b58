//! Reading the spreadsheets users already keep: CSV in UTF-8 (BOM or not) or Shift_JIS,
//! RFC 4180 quoting, headers in Japanese or English.

use unicode_normalization::UnicodeNormalization;

/// Decodes CSV bytes: UTF-8 (with or without BOM), else Shift_JIS; anything else is refused.
pub fn decode(bytes: &[u8]) -> Option<String> {
    let b = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if let Ok(s) = std::str::from_utf8(b) {
        return Some(s.to_string());
    }
    let (s, _, errors) = encoding_rs::SHIFT_JIS.decode(b);
    (!errors).then(|| s.into_owned())
}

/// Splits CSV text into records (RFC 4180 quoting).
pub fn records(text: &str) -> Vec<Vec<String>> {
    let mut out = vec![];
    let mut row = vec![];
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') if field.is_empty() => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\r') => {}
            (false, '\n') => {
                row.push(std::mem::take(&mut field));
                out.push(std::mem::take(&mut row));
            }
            (false, c) => field.push(c),
        }
    }
    if !field.is_empty() || !row.is_empty() {
        row.push(field);
        out.push(row);
    }
    out.into_iter()
        .filter(|r| r.iter().any(|f| !f.trim().is_empty()))
        .collect()
}

/// Finds each field's column from the header row: `names` lists the accepted headers per field.
pub fn columns(
    header: &[String],
    names: &[(&'static str, &[&str])],
) -> std::collections::HashMap<&'static str, usize> {
    let norm = |s: &str| s.nfkc().collect::<String>().trim().to_lowercase();
    let mut col = std::collections::HashMap::new();
    for (field, accepted) in names {
        if let Some(i) = header
            .iter()
            .position(|h| accepted.iter().any(|n| norm(n) == norm(h)))
        {
            col.insert(*field, i);
        }
    }
    col
}

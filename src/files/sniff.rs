//! What an uploaded file is: its name checked, its type decided by extension *and* content,
//! and zip containers (XLSX/DOCX/VSDX) inspected before anything trusts them.

use unicode_normalization::UnicodeNormalization;

/// The file types the portal accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Pdf,
    Png,
    Jpeg,
    Svg,
    Xlsx,
    Docx,
    Vsdx,
    Csv,
    Tsv,
    Txt,
    /// Compressed, taken only as a gateway log.
    Gzip,
    Zip,
}

impl Kind {
    /// The media type served on download.
    pub fn mime(self) -> &'static str {
        match self {
            Kind::Pdf => "application/pdf",
            Kind::Png => "image/png",
            Kind::Jpeg => "image/jpeg",
            Kind::Svg => "image/svg+xml",
            Kind::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            Kind::Docx => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            Kind::Vsdx => "application/vnd.ms-visio.drawing.main+xml",
            Kind::Csv => "text/csv",
            Kind::Tsv => "text/tab-separated-values",
            Kind::Txt => "text/plain",
            Kind::Gzip => "application/gzip",
            Kind::Zip => "application/zip",
        }
    }

    /// Whether it is a compressed archive (gzip or zip), unpacked only by the log check.
    pub fn is_archive(self) -> bool {
        matches!(self, Kind::Gzip | Kind::Zip)
    }

    /// Whether the content must be a zip container.
    pub fn is_zip(self) -> bool {
        matches!(self, Kind::Xlsx | Kind::Docx | Kind::Vsdx)
    }

    fn from_extension(ext: &str) -> Option<Kind> {
        Some(match ext {
            "pdf" => Kind::Pdf,
            "png" => Kind::Png,
            "jpg" | "jpeg" => Kind::Jpeg,
            "svg" => Kind::Svg,
            "xlsx" => Kind::Xlsx,
            "docx" => Kind::Docx,
            "vsdx" => Kind::Vsdx,
            "csv" => Kind::Csv,
            "tsv" => Kind::Tsv,
            "txt" | "log" => Kind::Txt,
            "gz" => Kind::Gzip,
            "zip" => Kind::Zip,
            _ => return None,
        })
    }
}

/// Why a file was refused: a locale key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refusal(pub &'static str);

/// Checks a client-supplied file name for display. Storage never uses it.
pub fn check_name(raw: &str) -> Result<String, Refusal> {
    let name: String = raw.nfc().collect();
    let bad_char = |c: char| {
        crate::domain::text::is_invisible(c)
            || matches!(c, '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|')
    };
    if name.trim().is_empty() {
        return Err(Refusal("error.file_name_missing"));
    }
    if name.chars().count() > 200 || name.len() > 600 {
        return Err(Refusal("error.file_name_long"));
    }
    if name.chars().any(bad_char)
        || name.starts_with('.')
        || name.contains("..")
        || name.ends_with(' ')
        || name.ends_with('.')
    {
        return Err(Refusal("error.file_name_bad"));
    }
    Ok(name)
}

/// The type a name claims, from its extension alone (before any byte is read).
pub fn kind_for_name(name: &str) -> Option<Kind> {
    let ext = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    Kind::from_extension(&ext)
}

/// Decides the type from the name's extension and the first bytes; they must agree.
pub fn detect(name: &str, head: &[u8]) -> Result<Kind, Refusal> {
    let ext = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    let kind = Kind::from_extension(&ext).ok_or(Refusal("error.file_type_not_allowed"))?;
    let ok = match kind {
        Kind::Pdf => head.starts_with(b"%PDF-"),
        Kind::Png => head.starts_with(b"\x89PNG\r\n\x1a\n"),
        Kind::Jpeg => head.starts_with(&[0xFF, 0xD8, 0xFF]),
        Kind::Xlsx | Kind::Docx | Kind::Vsdx => head.starts_with(b"PK\x03\x04"),
        Kind::Svg => looks_like_svg(head),
        Kind::Csv | Kind::Tsv | Kind::Txt => is_text(head),
        Kind::Gzip => head.starts_with(&[0x1f, 0x8b]),
        Kind::Zip => head.starts_with(b"PK\x03\x04"),
    };
    if !ok {
        return Err(Refusal(match mismatch(head) {
            // Named as text and none of the kinds people rename: data that is not characters
            // (UTF-16, text all the same, keeps the plain answer).
            "error.file_content_mismatch"
                if matches!(kind, Kind::Csv | Kind::Tsv | Kind::Txt)
                    && !head.starts_with(&[0xFF, 0xFE])
                    && !head.starts_with(&[0xFE, 0xFF]) =>
            {
                "error.file_content_not_text"
            }
            why => why,
        }));
    }
    Ok(kind)
}

/// Why the content does not agree with the name, saying what the content looks like when it
/// is a kind people rename by mistake (an Excel workbook saved as `.csv`, a PDF as `.png`).
fn mismatch(head: &[u8]) -> &'static str {
    // A zip (.xlsx, .docx …), or an older Office file (.xls, .doc: OLE2).
    if head.starts_with(b"PK\x03\x04")
        || head.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1])
    {
        "error.file_content_office"
    } else if head.starts_with(b"%PDF-") {
        "error.file_content_pdf"
    } else if head.starts_with(b"\x89PNG\r\n\x1a\n") || head.starts_with(&[0xFF, 0xD8, 0xFF]) {
        "error.file_content_image"
    } else if head.starts_with(&[0x1f, 0x8b]) {
        "error.file_content_gzip"
    } else {
        "error.file_content_mismatch"
    }
}

fn looks_like_svg(head: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(trim_partial_utf8(head)) else {
        return false;
    };
    let t = text.trim_start_matches('\u{feff}').trim_start();
    (t.starts_with("<?xml")
        || t.starts_with("<svg")
        || t.starts_with("<!--")
        || t.starts_with("<!DOCTYPE svg"))
        && t.contains("<svg")
}

/// Text in UTF-8 (BOM allowed) or Shift_JIS, without NUL bytes.
pub fn is_text(head: &[u8]) -> bool {
    if head.contains(&0) {
        return false;
    }
    if std::str::from_utf8(trim_partial_utf8(head)).is_ok() {
        return true;
    }
    let (_, _, had_errors) = encoding_rs::SHIFT_JIS.decode(trim_partial_sjis(head));
    !had_errors
}

/// Drops an incomplete UTF-8 sequence at the end of a prefix.
fn trim_partial_utf8(b: &[u8]) -> &[u8] {
    match std::str::from_utf8(b) {
        Ok(_) => b,
        Err(e) if e.error_len().is_none() => &b[..e.valid_up_to()],
        Err(_) => b,
    }
}

/// Drops a dangling Shift_JIS lead byte at the end of a prefix.
fn trim_partial_sjis(b: &[u8]) -> &[u8] {
    match b.last() {
        Some(&x) if (0x81..=0x9F).contains(&x) || (0xE0..=0xFC).contains(&x) => &b[..b.len() - 1],
        _ => b,
    }
}

/// Limits for zip containers.
pub const ZIP_MAX_ENTRIES: u64 = 10_000;
pub const ZIP_MAX_UNCOMPRESSED: u64 = 200 * 1024 * 1024;

/// Inspects a zip's central directory (`tail` is the end of the file, `total` its length):
/// entry count, declared uncompressed total, and entry names (no `..`, no absolute paths).
pub fn check_zip(tail: &[u8], total: u64) -> Result<(), Refusal> {
    let bad = Refusal("error.file_zip_bad");
    // End of central directory: signature 0x06054b50, at least 22 bytes from the end.
    let eocd = (0..tail.len().saturating_sub(21))
        .rev()
        .find(|&i| tail[i..].starts_with(b"PK\x05\x06"))
        .ok_or(bad)?;
    let rd16 = |b: &[u8], o: usize| -> Option<u64> {
        b.get(o..o + 2)
            .map(|s| u16::from_le_bytes([s[0], s[1]]) as u64)
    };
    let rd32 = |b: &[u8], o: usize| -> Option<u64> {
        b.get(o..o + 4)
            .map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]) as u64)
    };
    let entries = rd16(tail, eocd + 10).ok_or(bad)?;
    let cd_size = rd32(tail, eocd + 12).ok_or(bad)?;
    let cd_offset = rd32(tail, eocd + 16).ok_or(bad)?;
    if entries == 0xFFFF || cd_offset == 0xFFFF_FFFF {
        // ZIP64: far beyond what an office document of ours needs.
        return Err(Refusal("error.file_zip_too_big"));
    }
    if entries > ZIP_MAX_ENTRIES {
        return Err(Refusal("error.file_zip_too_big"));
    }
    let tail_start = total - tail.len() as u64;
    if cd_offset < tail_start || cd_offset + cd_size > total {
        return Err(Refusal("error.file_zip_too_big"));
    }
    let mut pos = (cd_offset - tail_start) as usize;
    let mut sum = 0u64;
    for _ in 0..entries {
        if !tail
            .get(pos..)
            .is_some_and(|s| s.starts_with(b"PK\x01\x02"))
        {
            return Err(bad);
        }
        let uncompressed = rd32(tail, pos + 24).ok_or(bad)?;
        let name_len = rd16(tail, pos + 28).ok_or(bad)? as usize;
        let extra_len = rd16(tail, pos + 30).ok_or(bad)? as usize;
        let comment_len = rd16(tail, pos + 32).ok_or(bad)? as usize;
        let name = tail.get(pos + 46..pos + 46 + name_len).ok_or(bad)?;
        let name = String::from_utf8_lossy(name);
        if name.starts_with('/')
            || name.starts_with('\\')
            || name.split(['/', '\\']).any(|p| p == "..")
            || name.contains(':')
        {
            return Err(Refusal("error.file_zip_bad_path"));
        }
        sum += uncompressed;
        if sum > ZIP_MAX_UNCOMPRESSED {
            return Err(Refusal("error.file_zip_too_big"));
        }
        pos += 46 + name_len + extra_len + comment_len;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn odd_names_are_refused() {
        for bad in [
            "../../x.pdf",
            "C:\\x.pdf",
            "a\0b.pdf",
            &"あ".repeat(300),
            "evil\u{202E}fdp.exe",
            ".hidden.pdf",
            "",
            "dir/x.pdf",
        ] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            check_name("システム構成図 2026年版.pdf").unwrap(),
            "システム構成図 2026年版.pdf"
        );
    }

    #[test]
    fn content_must_agree_with_the_name() {
        assert_eq!(detect("a.pdf", b"%PDF-1.7\n"), Ok(Kind::Pdf));
        assert_eq!(
            detect("a.pdf", b"\x89PNG\r\n\x1a\n...."),
            Err(Refusal("error.file_content_image")),
            "an image renamed .pdf says so"
        );
        assert_eq!(
            detect("a.png", b"<html><script>"),
            Err(Refusal("error.file_content_mismatch"))
        );
        assert_eq!(
            detect("gw.log", b"\x00\x01\x02garbage\xff\xfe\x00"),
            Err(Refusal("error.file_content_not_text")),
            "binary named as text says it is not text"
        );
        assert_eq!(
            detect("gw.csv", b"PK\x03\x04\x14\x00\x06\x00"),
            Err(Refusal("error.file_content_office")),
            "a workbook renamed .csv says so"
        );
        assert_eq!(
            detect(
                "old.csv",
                &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1, 0]
            ),
            Err(Refusal("error.file_content_office")),
            "an old .xls renamed .csv says so"
        );
        assert_eq!(
            detect("gw.txt", &[0x1f, 0x8b, 8, 0]),
            Err(Refusal("error.file_content_gzip"))
        );
        assert_eq!(
            detect("a.exe", b"MZ"),
            Err(Refusal("error.file_type_not_allowed"))
        );
        assert_eq!(detect("list.csv", "機器,台数\n".as_bytes()), Ok(Kind::Csv));
        let (sjis, _, _) = encoding_rs::SHIFT_JIS.encode("機器,台数\n");
        assert_eq!(detect("list.csv", &sjis), Ok(Kind::Csv));
        assert!(
            detect("list.csv", &[0xFF, 0xFE, 0x00, 0x41]).is_err(),
            "UTF-16 is not accepted"
        );
    }
}

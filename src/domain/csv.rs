//! Gateway logs read line by line (UTF-8 or Shift_JIS, RFC 4180 quoting) without holding the
//! file's rows; imports read tables through `workbook`.

/// Decodes CSV bytes: UTF-8 (with or without BOM; borrowed, not copied), else Shift_JIS;
/// anything else is refused.
pub fn decode(bytes: &[u8]) -> Option<std::borrow::Cow<'_, str>> {
    let b = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if let Ok(s) = std::str::from_utf8(b) {
        return Some(std::borrow::Cow::Borrowed(s));
    }
    let (s, _, errors) = encoding_rs::SHIFT_JIS.decode(b);
    (!errors).then_some(s)
}

/// The records of CSV text one at a time, each with the line it starts on (1-based), blank
/// lines left out: a large file is checked without holding all of its rows.
pub struct Records<'a> {
    chars: std::iter::Peekable<std::str::Chars<'a>>,
    line: usize,
}

impl<'a> Records<'a> {
    pub fn new(text: &'a str) -> Records<'a> {
        Records {
            chars: text.chars().peekable(),
            line: 1,
        }
    }
}

impl Iterator for Records<'_> {
    type Item = (usize, Vec<String>);

    fn next(&mut self) -> Option<(usize, Vec<String>)> {
        loop {
            let start = self.line;
            let mut row = vec![];
            let mut field = String::new();
            let mut quoted = false;
            let mut ended = false;
            while let Some(c) = self.chars.next() {
                if c == '\n' {
                    self.line += 1;
                }
                match (quoted, c) {
                    (true, '"') if self.chars.peek() == Some(&'"') => {
                        field.push('"');
                        self.chars.next();
                    }
                    (true, '"') => quoted = false,
                    (true, c) => field.push(c),
                    (false, '"') if field.is_empty() => quoted = true,
                    (false, ',') => row.push(std::mem::take(&mut field)),
                    (false, '\r') => {}
                    (false, '\n') => {
                        ended = true;
                        break;
                    }
                    (false, c) => field.push(c),
                }
            }
            if !ended && field.is_empty() && row.is_empty() {
                return None;
            }
            row.push(field);
            if row.iter().any(|f| !f.trim().is_empty()) {
                return Some((start, row));
            }
            if !ended {
                return None;
            }
        }
    }
}

//! Locale strings from `locales/*.yml` (flat `key: "value"` lines) and the page language.

use std::collections::HashMap;
use std::sync::OnceLock;

/// A user interface language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Ja,
    En,
}

impl Lang {
    /// The code used in cookies and `lang` attributes.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Ja => "ja",
            Lang::En => "en",
        }
    }

    /// Parses a code; anything else is `None`.
    pub fn from_code(s: &str) -> Option<Lang> {
        match s {
            "ja" => Some(Lang::Ja),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The first supported language of an `Accept-Language` header, by weight.
    pub fn from_accept_language(header: &str) -> Option<Lang> {
        let mut best: Option<(f32, Lang)> = None;
        for part in header.split(',') {
            let mut pieces = part.trim().split(';');
            let tag = pieces.next().unwrap_or("").trim().to_ascii_lowercase();
            let q = pieces
                .find_map(|p| {
                    p.trim()
                        .strip_prefix("q=")
                        .and_then(|v| v.parse::<f32>().ok())
                })
                .unwrap_or(1.0);
            let primary = tag.split('-').next().unwrap_or("");
            if let Some(lang) = Lang::from_code(primary)
                && best.is_none_or(|(bq, _)| q > bq)
            {
                best = Some((q, lang));
            }
        }
        best.map(|(_, l)| l)
    }
}

const JA: &str = include_str!("../locales/ja.yml");
const EN: &str = include_str!("../locales/en.yml");

/// An organisation as pages and mails name it: "名称（コード）", "Name (CODE)" in English
/// (`lang` a language code); the code alone when the name is the code (an organisation
/// registered from the shell).
pub fn org_label(name: &str, code: &str, lang: &str) -> String {
    paren(name, code, lang)
}

/// `main` with `aside` in brackets, the full-width ones in Japanese: "本体（補足）",
/// "Main (aside)"; one of them alone when the other is empty or the same.
pub fn paren(main: &str, aside: &str, lang: &str) -> String {
    if aside.is_empty() || main == aside {
        main.to_string()
    } else if main.is_empty() {
        aside.to_string()
    } else if lang == "en" {
        format!("{main} ({aside})")
    } else {
        format!("{main}（{aside}）")
    }
}

/// A count with its thousands grouped as both languages write them: 50000 → "50,000".
pub fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Parses the flat YAML subset the locale files use.
pub fn parse_locale(text: &str) -> Result<HashMap<String, String>, String> {
    let mut map = HashMap::new();
    for (n, line) in text.lines().enumerate() {
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let Some((key, value)) = trimmed.split_once(':') else {
            return Err(format!("line {}: expected key: \"value\"", n + 1));
        };
        let value = value.trim();
        let value = if let Some(inner) = value.strip_prefix('"').and_then(|v| v.strip_suffix('"')) {
            let mut out = String::with_capacity(inner.len());
            let mut chars = inner.chars();
            while let Some(c) = chars.next() {
                if c == '\\' {
                    match chars.next() {
                        Some('n') => out.push('\n'),
                        Some(other) => out.push(other),
                        None => return Err(format!("line {}: dangling escape", n + 1)),
                    }
                } else {
                    out.push(c);
                }
            }
            out
        } else {
            value.to_string()
        };
        if map.insert(key.trim().to_string(), value).is_some() {
            return Err(format!("line {}: duplicate key {}", n + 1, key.trim()));
        }
    }
    Ok(map)
}

fn table(lang: Lang) -> &'static HashMap<String, String> {
    static JA_T: OnceLock<HashMap<String, String>> = OnceLock::new();
    static EN_T: OnceLock<HashMap<String, String>> = OnceLock::new();
    let (cell, text) = match lang {
        Lang::Ja => (&JA_T, JA),
        Lang::En => (&EN_T, EN),
    };
    cell.get_or_init(|| parse_locale(text).unwrap_or_default())
}

/// Checks both locale files parse and hold the same keys; run at start-up and in tests.
pub fn check_locales() -> Result<(), String> {
    let ja = parse_locale(JA).map_err(|e| format!("locales/ja.yml {e}"))?;
    let en = parse_locale(EN).map_err(|e| format!("locales/en.yml {e}"))?;
    let mut missing: Vec<String> = ja
        .keys()
        .filter(|k| !en.contains_key(*k))
        .map(|k| format!("en lacks {k}"))
        .chain(
            en.keys()
                .filter(|k| !ja.contains_key(*k))
                .map(|k| format!("ja lacks {k}")),
        )
        .collect();
    missing.sort();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(missing.join(", "))
    }
}

/// Translator for one language; templates call `t.t("key")`.
#[derive(Debug, Clone, Copy)]
pub struct Tr {
    pub lang: Lang,
}

impl Tr {
    pub fn new(lang: Lang) -> Tr {
        Tr { lang }
    }

    /// The string for `key`; the key itself when missing (a test keeps that from shipping).
    pub fn t<'a>(&self, key: &'a str) -> &'a str
    where
        'static: 'a,
    {
        match table(self.lang).get(key) {
            Some(v) => v.as_str(),
            None => key,
        }
    }

    /// The string for `key` with `{name}` placeholders filled in.
    pub fn f(&self, key: &str, args: &[(&str, &str)]) -> String {
        let mut s = table(self.lang)
            .get(key)
            .cloned()
            .unwrap_or_else(|| key.to_string());
        for (name, value) in args {
            s = s.replace(&format!("{{{name}}}"), value);
        }
        s
    }

    /// The keys that start with `prefix`, without it, with their strings, by key.
    pub fn with_prefix(&self, prefix: &str) -> Vec<(&'static str, &'static str)> {
        let mut out: Vec<(&'static str, &'static str)> = table(self.lang)
            .iter()
            .filter_map(|(k, v)| Some((k.strip_prefix(prefix)?, v.as_str())))
            .collect();
        out.sort_unstable();
        out
    }

    /// Whether a key exists (in this language).
    pub fn has(&self, key: &str) -> bool {
        table(self.lang).contains_key(key)
    }

    /// The language code.
    pub fn code(&self) -> &'static str {
        self.lang.code()
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn counts_group_their_thousands() {
        assert_eq!(
            [0, 999, 1000, 50_000, 1_234_567].map(super::count),
            ["0", "999", "1,000", "50,000", "1,234,567"]
        );
    }

    use super::*;

    #[test]
    fn both_locale_files_hold_the_same_keys() {
        check_locales().unwrap();
    }

    #[test]
    fn accept_language_prefers_the_highest_weight() {
        assert_eq!(
            Lang::from_accept_language("en-US,en;q=0.9,ja;q=0.8"),
            Some(Lang::En)
        );
        assert_eq!(
            Lang::from_accept_language("fr, ja;q=0.5, en;q=0.4"),
            Some(Lang::Ja)
        );
        assert_eq!(Lang::from_accept_language("fr"), None);
    }
}

//! Typed-in values checked the way Japanese offices type them: text kept exactly as typed
//! (only trimmed), phone numbers and dates in full or half width.

use unicode_normalization::UnicodeNormalization;

/// Text kept exactly as typed, only trimmed: required or not, at most `max` characters, no
/// control characters but line breaks.
pub fn text(raw: &str, max: usize, required: bool) -> Result<String, &'static str> {
    let s = raw.trim();
    if s.is_empty() && required {
        Err("error.required")
    } else if s.chars().count() > max || s.chars().any(|c| c.is_control() && c != '\n' && c != '\r')
    {
        Err("error.too_long")
    } else {
        Ok(s.to_string())
    }
}

/// A phone or fax number: digits with hyphens, spaces, parentheses or +; full width accepted.
pub fn phone_number(raw: &str, required: bool) -> Result<String, &'static str> {
    let s: String = raw.nfkc().collect::<String>().trim().to_string();
    if s.is_empty() {
        return if required {
            Err("error.required")
        } else {
            Ok(s)
        };
    }
    let digits = s.chars().filter(char::is_ascii_digit).count();
    if s.len() > 30 || digits < 6 || !s.chars().all(|c| c.is_ascii_digit() || "+-() ".contains(c)) {
        return Err("error.phone_invalid");
    }
    Ok(s)
}

pub use super::dates::date;

/// A Japanese postal code (郵便番号), 123-4567; full-width digits, the 〒 mark and the
/// dashes and minus signs people type are taken. Empty is allowed.
pub fn postal_code(raw: &str) -> Result<String, &'static str> {
    let s: String = raw
        .nfkc()
        .collect::<String>()
        .trim()
        .trim_start_matches('〒')
        .trim()
        .replace(['ー', '－', '―', '‐', '−', '–', '—'], "-");
    let digits: String = s.chars().filter(char::is_ascii_digit).collect();
    if s.is_empty() {
        return Ok(s);
    }
    if digits.len() != 7 || !s.chars().all(|c| c.is_ascii_digit() || c == '-') {
        return Err("error.postal_invalid");
    }
    Ok(format!("{}-{}", &digits[..3], &digits[3..]))
}

/// One line of text kept as typed, only trimmed: no control characters at all.
pub fn line(raw: &str, max: usize, required: bool) -> Result<String, &'static str> {
    let s = raw.trim();
    if s.is_empty() && required {
        Err("error.required")
    } else if s.chars().count() > max || s.chars().any(char::is_control) {
        Err("error.too_long")
    } else {
        Ok(s.to_string())
    }
}

/// A reading (フリガナ) in katakana as such fields are kept: hiragana typed is turned into
/// katakana and half-width katakana into full width (spaces and the rest as typed);
/// otherwise as [`text`].
pub fn kana(raw: &str, max: usize, required: bool) -> Result<String, &'static str> {
    let mut wide = String::with_capacity(raw.len());
    for c in raw.chars() {
        match c {
            // Half-width katakana (its sound marks become combining marks, joined below).
            '\u{FF61}'..='\u{FF9F}' => wide.extend(std::iter::once(c).nfkc()),
            _ => wide.push(katakana(c)),
        }
    }
    let wide: String = wide.nfc().collect();
    text(&wide, max, required)
}

/// A hiragana as its katakana (ぁ U+3041 … ゖ U+3096, ゝ ゞ: the katakana 0x60 further on);
/// any other character as it is.
fn katakana(c: char) -> char {
    match c {
        '\u{3041}'..='\u{3096}' | '\u{309D}' | '\u{309E}' => {
            char::from_u32(c as u32 + 0x60).unwrap_or(c)
        }
        _ => c,
    }
}

/// Text as a search compares it: NFKC (full-width letters and digits, half-width katakana and
/// the like folded to one form), hiragana as katakana, lower case, without spaces, so 「ＮＲＴ」
/// finds NRT01, ｶﾌﾞｼｷ and かぶしき find カブシキ, and 「山田花子」 finds 山田 花子.
pub fn folded(raw: &str) -> String {
    raw.nfkc()
        .filter(|c| !c.is_whitespace())
        .map(katakana)
        .collect::<String>()
        .to_lowercase()
}

/// Whether any of `texts` holds `wanted` (already [`folded`]; empty: everything matches).
pub fn found_in(wanted: &str, texts: &[&str]) -> bool {
    wanted.is_empty() || texts.iter().any(|t| folded(t).contains(wanted))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn searches_fold_widths_and_case() {
        let q = folded(" ＮＲＴ ");
        assert_eq!(q, "nrt");
        assert!(found_in(&q, &["成田ロジ", "NRT01"]));
        assert!(found_in(&folded("ｶﾌﾞｼｷ"), &["カブシキガイシャ"]));
        assert!(found_in(&folded("サクラ"), &["株式会社さくら国際通関"]));
        assert!(found_in(&folded("山田花子"), &["山田 花子"]));
        assert!(found_in(&folded("株式会社　東洋"), &["株式会社東洋運輸"]));
        assert!(!found_in(&q, &["羽田", "HND01"]));
        assert!(found_in("", &["anything"]));
    }

    #[test]
    fn postal_codes_as_people_type_them() {
        for typed in [
            "286-0111",
            "〒２８６－０１１１",
            "〒 286‐0111",
            "２８６０１１１",
            "286−0111",
        ] {
            assert_eq!(postal_code(typed), Ok("286-0111".to_string()), "{typed}");
        }
        assert_eq!(postal_code("286-011"), Err("error.postal_invalid"));
        assert_eq!(postal_code(""), Ok(String::new()));
    }

    #[test]
    fn readings_are_kept_in_katakana() {
        assert_eq!(
            kana("やまだ たろう", 100, true),
            Ok("ヤマダ タロウ".to_string())
        );
        assert_eq!(kana("ﾔﾏﾀﾞ ﾀﾛｳ", 100, true), Ok("ヤマダ タロウ".to_string()));
        assert_eq!(
            kana("ヤマダ　タロウ", 100, true),
            Ok("ヤマダ　タロウ".to_string())
        );
        assert_eq!(
            kana("ｶﾌﾞｼｷｶﾞｲｼｬ ﾊﾟﾝ", 100, true),
            Ok("カブシキガイシャ パン".to_string())
        );
        assert_eq!(kana(" ", 100, true), Err("error.required"));
    }
}

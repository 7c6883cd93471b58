//! Text that can mislead a reader: characters that are not seen but change what is shown
//! (direction overrides, zero-width joiners), and look-alike letters from other scripts.

/// Whether a character is invisible or changes how the text around it is shown: control
/// characters, bidi overrides and marks, zero-width characters, the BOM, variation
/// selectors and tag characters.
pub fn is_invisible(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{00AD}'
                | '\u{034F}'
                | '\u{061C}'
                | '\u{115F}'
                | '\u{1160}'
                | '\u{17B4}'
                | '\u{17B5}'
                | '\u{180B}'..='\u{180F}'
                | '\u{200B}'..='\u{200F}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2060}'..='\u{206F}'
                | '\u{3164}'
                | '\u{FE00}'..='\u{FE0F}'
                | '\u{FEFF}'
                | '\u{FFA0}'
                | '\u{FFF0}'..='\u{FFFB}'
                | '\u{E0000}'..='\u{E0FFF}'
        )
}

/// Whether a word mixes Latin letters with Greek or Cyrillic ones, the look-alikes used to
/// pass one name off as another (Cyrillic `а` for Latin `a`). Japanese scripts mix freely
/// with Latin and are not counted (UTS #39 "highly restrictive" allows them together).
pub fn mixes_confusable_scripts(text: &str) -> bool {
    text.split(|c: char| c.is_whitespace()).any(|word| {
        let latin = word
            .chars()
            .any(|c| c.is_ascii_alphabetic() || matches!(c, '\u{00C0}'..='\u{024F}'));
        let other = word.chars().any(|c| {
            matches!(c, '\u{0370}'..='\u{03FF}' | '\u{1F00}'..='\u{1FFF}' | '\u{0400}'..='\u{052F}')
        });
        latin && other
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hidden_and_direction_characters_are_found() {
        for s in ["ad\u{200d}min", "a\u{202e}b", "x\u{feff}", "t\u{2066}"] {
            assert!(s.chars().any(is_invisible), "{s:?}");
        }
        assert!(!"山田 太郎 (NACCS)".chars().any(is_invisible));
    }

    #[test]
    fn look_alike_scripts_in_one_word_are_found() {
        assert!(mixes_confusable_scripts("\u{0430}dmin"));
        assert!(mixes_confusable_scripts("Tаro Yamada"));
        assert!(!mixes_confusable_scripts("山田 Taro ヤマダ"));
        assert!(!mixes_confusable_scripts("Иван Petrov"));
    }
}

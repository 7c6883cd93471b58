//! E-mail addresses, compared after NFKC and lower-casing.

use unicode_normalization::UnicodeNormalization;

/// A normalised e-mail address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    /// Normalises (NFKC, trim, lower-case) and checks the shape `local@domain.tld`.
    pub fn parse(raw: &str) -> Result<Email, super::FieldError> {
        let s: String = raw.nfkc().collect::<String>().trim().to_lowercase();
        if s.is_empty() {
            return Err("error.email_required");
        }
        if s.len() > 254 || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err("error.email_invalid");
        }
        // After NFKC a real address here is ASCII; anything else (a zero-width joiner, a
        // dotless ı, a Cyrillic а) would let one address pass for another.
        if !s.is_ascii() {
            return Err("error.email_not_ascii");
        }
        let Some((local, domain)) = s.rsplit_once('@') else {
            return Err("error.email_invalid");
        };
        if local.is_empty()
            || local.len() > 64
            || local.contains('@')
            || !domain.contains('.')
            || domain.starts_with('.')
            || domain.ends_with('.')
            || domain.contains("..")
            || domain
                .chars()
                .any(|c| !(c.is_alphanumeric() || c == '.' || c == '-'))
            || s.contains(['<', '>', '"', ',', ';', '\\'])
        {
            return Err("error.email_invalid");
        }
        Ok(Email(s))
    }

    /// The normalised address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Email {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_width_and_upper_case_addresses_compare_equal() {
        let a = Email::parse("ＴＡＲＯ@Example.JP").unwrap();
        let b = Email::parse(" taro@example.jp ").unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn malformed_addresses_are_refused() {
        for bad in [
            "",
            "taro",
            "taro@",
            "@example.jp",
            "taro@example",
            "a b@example.jp",
            "a@b@c.jp",
            "x<y@example.jp",
            "ad\u{200d}min@example.jp",
            "adm\u{0131}n@example.jp",
            "\u{0430}dmin@example.jp",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
    }
}

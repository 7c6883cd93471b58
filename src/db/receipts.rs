//! The verification code printed on a receipt (受付票): a keyed hash of the receipt number and
//! the sealed snapshot, so a printed receipt can be checked against the portal, and a code
//! cannot be made up without the server's key.

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac as _};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::{Db, on_db};

/// Crockford's base32 alphabet: no I, L, O or U to misread.
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/// Characters in a code (5 bits each: 50 bits).
const LEN: usize = 10;

/// The code of a receipt: HMAC-SHA256 under the audit key over the receipt number and the
/// SHA-256 of the sealed snapshot, its first 50 bits in base32, as `XXXXX-XXXXX`.
pub fn code(db: &Db, receipt_no: &str, snapshot: &str) -> Result<String, sqlx::Error> {
    let key = db.audit_key.bytes()?;
    let sealed = hex::encode(Sha256::digest(snapshot.as_bytes()));
    let mut mac = Hmac::<Sha256>::new_from_slice(&key)
        .map_err(|e| sqlx::Error::Configuration(e.to_string().into()))?;
    for part in ["secportal receipt code v1", receipt_no, &sealed] {
        mac.update(&(part.len() as u64).to_be_bytes());
        mac.update(part.as_bytes());
    }
    let bytes = mac.finalize().into_bytes();
    let mut bits: u64 = 0;
    for b in &bytes[..8] {
        bits = (bits << 8) | u64::from(*b);
    }
    let chars: String = (0..LEN)
        .map(|i| ALPHABET[((bits >> (59 - 5 * i)) & 31) as usize] as char)
        .collect();
    Ok(format!("{}-{}", &chars[..5], &chars[5..]))
}

/// A code as typed, in the printed form: upper case, without spaces or dashes, with the
/// letters people mistake for digits read as those digits.
pub fn normalise(typed: &str) -> String {
    let plain: String = unicode_normalization::UnicodeNormalization::nfkc(typed)
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| match c.to_ascii_uppercase() {
            'O' => '0',
            'I' | 'L' => '1',
            other => other,
        })
        .collect();
    if plain.len() == LEN {
        format!("{}-{}", &plain[..5], &plain[5..])
    } else {
        plain
    }
}

/// A receipt number as typed (read out on the phone, any width or case, Japanese dashes,
/// its serial without the leading zeros: SR-2026-5) in its stored form.
pub fn receipt_number(typed: &str) -> String {
    let plain = unicode_normalization::UnicodeNormalization::nfkc(typed.trim())
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_uppercase()
        .replace(['−', '‐', 'ー'], "-");
    match plain.splitn(3, '-').collect::<Vec<_>>()[..] {
        [prefix, year, serial]
            if !serial.is_empty()
                && serial.len() < 6
                && serial.bytes().all(|b| b.is_ascii_digit())
                && year.len() == 4 =>
        {
            format!("{prefix}-{year}-{serial:0>6}")
        }
        _ => plain,
    }
}

/// Whether two codes are equal, in time that does not depend on where they differ.
pub fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// How many failed receipt checks this user made since `since` (from the audit trail, where
/// each is recorded).
pub async fn failures_since(db: &Db, user: Uuid, since: DateTime<Utc>) -> Result<i64, sqlx::Error> {
    on_db!(db, p => sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_log WHERE actor_id = $1 AND action = 'receipt.check_failed' AND at > $2",
    )
    .bind(user)
    .bind(since)
    .fetch_one(p)
    .await)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_codes_are_read_in_the_printed_form() {
        assert_eq!(normalise(" ab1o2-3il4z "), "AB102-3114Z");
        assert_eq!(normalise("ＡＢ１２３４５６７８"), "AB123-45678");
        assert!(same("AB123-45678", "AB123-45678"));
        assert!(!same("AB123-45678", "AB123-45679"));
        assert!(!same("AB123", "AB123-45678"));
        assert_eq!(receipt_number(" ｓｒー2026ー000001 "), "SR-2026-000001");
        assert_eq!(receipt_number("sr-2026-5"), "SR-2026-000005");
        assert_eq!(receipt_number("SR - 2026 - 000123"), "SR-2026-000123");
        assert_eq!(receipt_number("SR-2026-1234567"), "SR-2026-1234567");
        assert_eq!(receipt_number("abc"), "ABC");
    }
}

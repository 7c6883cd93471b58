//! Secrets kept encrypted at rest (a user's TOTP secret): ChaCha20-Poly1305 under a key
//! derived from the audit key (HMAC-SHA256 with a label of its own), which never goes into
//! the database or its backups. Each value is bound to its row (the user's id as associated
//! data): a sealed secret copied to another row does not open.

use hmac::{Hmac, Mac as _};
use ring::aead::{Aad, CHACHA20_POLY1305, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use sha2::Sha256;
use uuid::Uuid;

use super::audit::AuditKey;

/// What a sealed value starts with: "SP", format 1.
const MAGIC: [u8; 3] = *b"SP\x01";
const TAG_LEN: usize = 16;

/// The label the TOTP key is derived under.
pub const TOTP: &str = "secportal totp secret v1";

fn key(audit: &AuditKey, label: &str) -> Result<LessSafeKey, sqlx::Error> {
    let bytes = audit.bytes()?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&bytes)
        .map_err(|_| sqlx::Error::Configuration("audit key unusable".into()))?;
    mac.update(label.as_bytes());
    let derived = mac.finalize().into_bytes();
    let unbound = UnboundKey::new(&CHACHA20_POLY1305, &derived)
        .map_err(|_| sqlx::Error::Configuration("sealing key unusable".into()))?;
    Ok(LessSafeKey::new(unbound))
}

/// Whether a stored value is sealed (else: a plain value from before, of `plain_len` bytes).
pub fn is_sealed(stored: &[u8], plain_len: usize) -> bool {
    stored.len() == MAGIC.len() + NONCE_LEN + plain_len + TAG_LEN && stored.starts_with(&MAGIC)
}

/// Seals `plain` for the row `id`: magic, a random nonce, the ciphertext and its tag.
pub fn seal(audit: &AuditKey, label: &str, id: Uuid, plain: &[u8]) -> Result<Vec<u8>, sqlx::Error> {
    let key = key(audit, label)?;
    let mut nonce = [0u8; NONCE_LEN];
    getrandom::fill(&mut nonce)
        .map_err(|e| sqlx::Error::Configuration(format!("no randomness: {e}").into()))?;
    let mut body = plain.to_vec();
    key.seal_in_place_append_tag(
        Nonce::assume_unique_for_key(nonce),
        Aad::from(id.as_bytes()),
        &mut body,
    )
    .map_err(|_| sqlx::Error::Configuration("sealing failed".into()))?;
    let mut out = Vec::with_capacity(MAGIC.len() + NONCE_LEN + body.len());
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&body);
    Ok(out)
}

/// Opens a value sealed for the row `id`; a plain value of `plain_len` bytes (stored before
/// sealing began) is answered as it is. Anything else — another key, another row, a changed
/// byte — is an error, never a secret.
pub fn open(
    audit: &AuditKey,
    label: &str,
    id: Uuid,
    stored: &[u8],
    plain_len: usize,
) -> Result<Vec<u8>, sqlx::Error> {
    if stored.len() == plain_len {
        return Ok(stored.to_vec());
    }
    let refused = || sqlx::Error::Decode("a sealed secret does not open with this key".into());
    if !is_sealed(stored, plain_len) {
        return Err(refused());
    }
    let key = key(audit, label)?;
    let (nonce, body) = stored[MAGIC.len()..].split_at(NONCE_LEN);
    let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| refused())?;
    let mut body = body.to_vec();
    let plain = key
        .open_in_place(nonce, Aad::from(id.as_bytes()), &mut body)
        .map_err(|_| refused())?;
    Ok(plain.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_secret_opens_only_with_its_key_and_row() {
        let k = AuditKey::new(&[7u8; 32]);
        let id = Uuid::now_v7();
        let plain = [42u8; 20];
        let s = seal(&k, TOTP, id, &plain).unwrap();
        assert!(is_sealed(&s, 20));
        assert_ne!(
            &s[MAGIC.len() + NONCE_LEN..][..20],
            &plain[..],
            "not in the clear"
        );
        assert_eq!(open(&k, TOTP, id, &s, 20).unwrap(), plain);
        // A fresh nonce each time.
        assert_ne!(seal(&k, TOTP, id, &plain).unwrap(), s);
        // Another row, another key, another label, a changed byte: refused.
        assert!(open(&k, TOTP, Uuid::now_v7(), &s, 20).is_err());
        assert!(open(&AuditKey::new(&[8u8; 32]), TOTP, id, &s, 20).is_err());
        assert!(open(&k, "other", id, &s, 20).is_err());
        let mut bad = s.clone();
        *bad.last_mut().unwrap() ^= 1;
        assert!(open(&k, TOTP, id, &bad, 20).is_err());
        assert!(open(&k, TOTP, id, &s[..s.len() - 1], 20).is_err());
        // A plain value from before sealing is read as it is.
        assert_eq!(open(&k, TOTP, id, &plain, 20).unwrap(), plain);
        // No key: nothing is sealed or opened.
        assert!(seal(&AuditKey::absent(), TOTP, id, &plain).is_err());
        assert!(open(&AuditKey::absent(), TOTP, id, &s, 20).is_err());
    }
}

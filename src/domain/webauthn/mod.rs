//! WebAuthn (passkeys and security keys) as a second factor: checking what a browser sends
//! when a key is registered (`navigator.credentials.create`) and when it signs in
//! (`navigator.credentials.get`). Pure: the caller brings the expected challenge, relying
//! party id and origin, and the stored key and counter.
//!
//! Attestation is not checked: any statement is treated as `none` (the portal trusts the
//! signed-in user who registers a key, not the key's maker). Keys are ES256 (ECDSA P-256) or
//! RS256 (RSA PKCS#1 v1.5 with SHA-256), verified with `ring`.

pub mod cbor;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::signature;
use sha2::{Digest, Sha256};

use cbor::Value;

/// Bytes of a challenge.
pub const CHALLENGE_BYTES: usize = 32;
/// Longest credential id accepted (the specification's limit).
pub const MAX_CREDENTIAL_ID: usize = 1023;

/// COSE algorithm identifiers the portal accepts, in the order it prefers them.
pub const ES256: i64 = -7;
pub const RS256: i64 = -257;

/// Authenticator data flags.
const UP: u8 = 0x01;
const UV: u8 = 0x04;
const AT: u8 = 0x40;

/// Why a response was refused (for the log and the audit detail; the user sees one message).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Something was not in the expected form.
    Malformed,
    /// A registration answered to a sign-in, or the other way round.
    WrongType,
    Challenge,
    Origin,
    RpId,
    /// The user did not touch or unlock the key.
    UserNotPresent,
    /// Not an ES256 or RS256 key.
    UnsupportedKey,
    Signature,
    /// The signature counter did not increase: a cloned key, or a replay.
    Counter,
}

impl Refusal {
    /// The word kept in the audit detail.
    pub fn as_str(self) -> &'static str {
        match self {
            Refusal::Malformed => "malformed",
            Refusal::WrongType => "wrong_type",
            Refusal::Challenge => "challenge",
            Refusal::Origin => "origin",
            Refusal::RpId => "rp_id",
            Refusal::UserNotPresent => "user_not_present",
            Refusal::UnsupportedKey => "unsupported_key",
            Refusal::Signature => "signature",
            Refusal::Counter => "counter",
        }
    }
}

/// What the response must match.
#[derive(Debug, Clone, Copy)]
pub struct Expected<'a> {
    /// The relying party id: the host of `SECPORTAL_BASE_URL`.
    pub rp_id: &'a str,
    /// The origin of `SECPORTAL_BASE_URL` (`https://host[:port]`).
    pub origin: &'a str,
    /// The challenge the server issued for this ceremony.
    pub challenge: &'a [u8],
}

/// The relying party id and origin of a base URL.
pub fn rp_of(base: &url::Url) -> (String, String) {
    (
        base.host_str().unwrap_or_default().to_string(),
        base.origin().ascii_serialization(),
    )
}

pub fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// base64url as browsers send it (padding tolerated).
pub fn unb64(text: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD
        .decode(text.trim().trim_end_matches('='))
        .ok()
}

/// A key registered successfully.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCredential {
    pub credential_id: Vec<u8>,
    /// The COSE key as the authenticator sent it.
    pub public_key: Vec<u8>,
    pub algorithm: i64,
    pub sign_count: u32,
    pub user_verified: bool,
}

/// A sign-in signed successfully.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Signed {
    pub sign_count: u32,
    pub user_verified: bool,
}

fn check_client_data(exp: &Expected, json: &[u8], kind: &str) -> Result<(), Refusal> {
    #[derive(serde::Deserialize)]
    struct ClientData {
        #[serde(rename = "type")]
        kind: String,
        challenge: String,
        origin: String,
        #[serde(rename = "crossOrigin", default)]
        cross_origin: bool,
    }
    let cd: ClientData = serde_json::from_slice(json).map_err(|_| Refusal::Malformed)?;
    if cd.kind != kind {
        return Err(Refusal::WrongType);
    }
    let challenge = unb64(&cd.challenge).ok_or(Refusal::Challenge)?;
    // The challenge is no secret (the browser had it): a plain comparison.
    if challenge != exp.challenge {
        return Err(Refusal::Challenge);
    }
    if cd.origin != exp.origin || cd.cross_origin {
        return Err(Refusal::Origin);
    }
    Ok(())
}

/// The fixed head of authenticator data: rpIdHash, flags, counter.
struct Head {
    flags: u8,
    sign_count: u32,
}

fn check_head(exp: &Expected, auth_data: &[u8]) -> Result<Head, Refusal> {
    if auth_data.len() < 37 {
        return Err(Refusal::Malformed);
    }
    if auth_data[..32] != Sha256::digest(exp.rp_id.as_bytes())[..] {
        return Err(Refusal::RpId);
    }
    let flags = auth_data[32];
    if flags & UP == 0 {
        return Err(Refusal::UserNotPresent);
    }
    let sign_count =
        u32::from_be_bytes([auth_data[33], auth_data[34], auth_data[35], auth_data[36]]);
    Ok(Head { flags, sign_count })
}

/// The algorithm of a COSE key the portal can verify with.
fn key_algorithm(cose: &Value) -> Result<i64, Refusal> {
    let kty = cose.get_int(1).and_then(Value::as_int);
    let alg = cose.get_int(3).and_then(Value::as_int);
    match (kty, alg) {
        (Some(2), Some(-7)) => {
            let crv = cose.get_int(-1).and_then(Value::as_int);
            let x = cose.get_int(-2).and_then(Value::as_bytes);
            let y = cose.get_int(-3).and_then(Value::as_bytes);
            match (crv, x, y) {
                (Some(1), Some(x), Some(y)) if x.len() == 32 && y.len() == 32 => Ok(ES256),
                _ => Err(Refusal::UnsupportedKey),
            }
        }
        (Some(3), Some(-257)) => {
            match (
                cose.get_int(-1).and_then(Value::as_bytes),
                cose.get_int(-2).and_then(Value::as_bytes),
            ) {
                (Some(n), Some(e)) if n.len() >= 256 && !e.is_empty() => Ok(RS256),
                _ => Err(Refusal::UnsupportedKey),
            }
        }
        _ => Err(Refusal::UnsupportedKey),
    }
}

/// Checks a registration: `clientDataJSON` and `attestationObject` as the browser gave them.
pub fn verify_registration(
    exp: &Expected,
    client_data_json: &[u8],
    attestation_object: &[u8],
) -> Result<NewCredential, Refusal> {
    check_client_data(exp, client_data_json, "webauthn.create")?;
    let att = cbor::decode(attestation_object).ok_or(Refusal::Malformed)?;
    // `fmt` and `attStmt` are read past: every attestation counts as `none`.
    let auth_data = att
        .get_text("authData")
        .and_then(Value::as_bytes)
        .ok_or(Refusal::Malformed)?;
    let head = check_head(exp, auth_data)?;
    if head.flags & AT == 0 || auth_data.len() < 55 {
        return Err(Refusal::Malformed);
    }
    // aaguid (16), then the credential id's length (2) and the id.
    let id_len = usize::from(u16::from_be_bytes([auth_data[53], auth_data[54]]));
    if id_len == 0 || id_len > MAX_CREDENTIAL_ID {
        return Err(Refusal::Malformed);
    }
    let credential_id = auth_data.get(55..55 + id_len).ok_or(Refusal::Malformed)?;
    let rest = &auth_data[55 + id_len..];
    let (cose, used) = cbor::decode_prefix(rest).ok_or(Refusal::Malformed)?;
    let algorithm = key_algorithm(&cose)?;
    Ok(NewCredential {
        credential_id: credential_id.to_vec(),
        public_key: rest[..used].to_vec(),
        algorithm,
        sign_count: head.sign_count,
        user_verified: head.flags & UV != 0,
    })
}

/// Whether a key's new counter may follow the stored one: both zero (a key without a
/// counter), or strictly greater.
pub fn counter_ok(stored: u32, new: u32) -> bool {
    (stored == 0 && new == 0) || new > stored
}

/// Checks a sign-in against the stored COSE key and counter.
pub fn verify_assertion(
    exp: &Expected,
    client_data_json: &[u8],
    auth_data: &[u8],
    sig: &[u8],
    public_key: &[u8],
    stored_count: u32,
) -> Result<Signed, Refusal> {
    check_client_data(exp, client_data_json, "webauthn.get")?;
    let head = check_head(exp, auth_data)?;
    let cose = cbor::decode(public_key).ok_or(Refusal::UnsupportedKey)?;
    let mut signed = auth_data.to_vec();
    signed.extend_from_slice(&Sha256::digest(client_data_json));
    let ok = match key_algorithm(&cose)? {
        ES256 => {
            let (Some(x), Some(y)) = (
                cose.get_int(-2).and_then(Value::as_bytes),
                cose.get_int(-3).and_then(Value::as_bytes),
            ) else {
                return Err(Refusal::UnsupportedKey);
            };
            let mut point = vec![0x04];
            point.extend_from_slice(x);
            point.extend_from_slice(y);
            signature::UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_ASN1, point)
                .verify(&signed, sig)
                .is_ok()
        }
        _ => {
            let (Some(n), Some(e)) = (
                cose.get_int(-1).and_then(Value::as_bytes),
                cose.get_int(-2).and_then(Value::as_bytes),
            ) else {
                return Err(Refusal::UnsupportedKey);
            };
            signature::RsaPublicKeyComponents { n, e }
                .verify(&signature::RSA_PKCS1_2048_8192_SHA256, &signed, sig)
                .is_ok()
        }
    };
    if !ok {
        return Err(Refusal::Signature);
    }
    if !counter_ok(stored_count, head.sign_count) {
        return Err(Refusal::Counter);
    }
    Ok(Signed {
        sign_count: head.sign_count,
        user_verified: head.flags & UV != 0,
    })
}

#[cfg(test)]
mod tests;

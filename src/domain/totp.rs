//! 二要素認証 (TOTP, RFC 6238): SHA-1, 6 digits, 30-second steps, one step of clock drift
//! either way; plus the text forms an authenticator app reads (base32, `otpauth://`, QR).

use sha1::{Digest, Sha1};

/// Seconds per step.
pub const STEP_SECONDS: i64 = 30;
/// Bytes of a secret (160 bits, as RFC 4226 recommends).
pub const SECRET_BYTES: usize = 20;
/// The issuer shown in authenticator apps.
pub const ISSUER: &str = "NACCS secportal";

/// HMAC-SHA-1 (RFC 2104); the only use here, so written out rather than pulling a second
/// `hmac` version into the build.
fn hmac_sha1(key: &[u8], message: &[u8]) -> [u8; 20] {
    const BLOCK: usize = 64;
    let mut k = [0u8; BLOCK];
    if key.len() > BLOCK {
        k[..20].copy_from_slice(&Sha1::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha1::new();
    inner.update(k.map(|b| b ^ 0x36));
    inner.update(message);
    let inner = inner.finalize();
    let mut outer = Sha1::new();
    outer.update(k.map(|b| b ^ 0x5c));
    outer.update(inner);
    let mut out = [0u8; 20];
    out.copy_from_slice(&outer.finalize());
    out
}

/// The step a Unix time falls in.
pub fn step_at(unix_seconds: i64) -> i64 {
    unix_seconds.div_euclid(STEP_SECONDS)
}

/// The 6-digit code of a step (RFC 4226 dynamic truncation).
pub fn code_at(secret: &[u8], step: i64) -> String {
    let mac = hmac_sha1(secret, &step.to_be_bytes());
    let offset = (mac[19] & 0x0f) as usize;
    let bin = u32::from_be_bytes([
        mac[offset] & 0x7f,
        mac[offset + 1],
        mac[offset + 2],
        mac[offset + 3],
    ]);
    format!("{:06}", bin % 1_000_000)
}

/// The digits of a code as typed (spaces and hyphens allowed), if it is six digits.
pub fn normalise_code(typed: &str) -> Option<String> {
    let digits: String = typed
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| match c {
            // Full-width digits from a Japanese IME.
            '０'..='９' => char::from_u32(c as u32 - '０' as u32 + '0' as u32).unwrap_or(c),
            c => c,
        })
        .collect();
    (digits.len() == 6 && digits.bytes().all(|b| b.is_ascii_digit())).then_some(digits)
}

/// The step whose code `typed` is, within one step of `now`, and only if it is later than
/// `last_used` (a code is never accepted twice).
pub fn verify(secret: &[u8], typed: &str, unix_now: i64, last_used: i64) -> Option<i64> {
    let code = normalise_code(typed)?;
    let now = step_at(unix_now);
    let mut found = None;
    // Every candidate is computed, so timing does not tell which one matched.
    for step in [now - 1, now, now + 1] {
        let expected = code_at(secret, step);
        let same = expected
            .bytes()
            .zip(code.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0;
        if same && step > last_used && found.is_none() {
            found = Some(step);
        }
    }
    found
}

const BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// RFC 4648 base32 without padding, as authenticator apps expect.
pub fn base32(bytes: &[u8]) -> String {
    let mut out = String::new();
    let (mut buffer, mut bits) = (0u32, 0u32);
    for &b in bytes {
        buffer = (buffer << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(BASE32[((buffer >> bits) & 31) as usize] as char);
        }
    }
    if bits > 0 {
        out.push(BASE32[((buffer << (5 - bits)) & 31) as usize] as char);
    }
    out
}

/// The base32 secret in groups of four, easier to type by hand.
pub fn grouped(secret: &[u8]) -> String {
    base32(secret)
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The `otpauth://` URI an authenticator app reads.
pub fn otpauth_uri(secret: &[u8], account: &str) -> String {
    let enc = |s: &str| {
        url::form_urlencoded::byte_serialize(s.as_bytes())
            .collect::<String>()
            .replace('+', "%20")
    };
    format!(
        "otpauth://totp/{}:{}?secret={}&issuer={}&algorithm=SHA1&digits=6&period={}",
        enc(ISSUER),
        enc(account),
        base32(secret),
        enc(ISSUER),
        STEP_SECONDS
    )
}

/// The URI as a QR code, an inline `<svg>` element (no XML declaration); `None` if too long.
pub fn qr_svg(uri: &str) -> Option<String> {
    let code = qrcode::QrCode::new(uri.as_bytes()).ok()?;
    let svg = code
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(200, 200)
        .build();
    svg.find("<svg").map(|i| svg[i..].to_string())
}

/// A recovery code as typed, normalised for hashing (upper case, no spaces or hyphens).
pub fn normalise_recovery(typed: &str) -> String {
    typed
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// A recovery code from 10 random bytes, shown as `XXXXX-XXXXX` (50 bits each).
pub fn recovery_code(random: &[u8]) -> String {
    let s: String = base32(random).chars().take(10).collect();
    format!("{}-{}", &s[..5.min(s.len())], &s[5.min(s.len())..])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B, SHA-1 column (8 digits there; the last six are ours).
    #[test]
    fn codes_match_the_rfc_test_vectors() {
        let secret = b"12345678901234567890";
        for (t, eight) in [
            (59, "94287082"),
            (1111111109, "07081804"),
            (1111111111, "14050471"),
            (1234567890, "89005924"),
            (2000000000, "69279037"),
            (20000000000, "65353130"),
        ] {
            assert_eq!(code_at(secret, step_at(t)), eight[2..]);
        }
    }

    #[test]
    fn a_code_is_accepted_one_step_either_side_and_never_twice() {
        let secret = b"12345678901234567890";
        let now = 1_700_000_000;
        let step = step_at(now);
        let code = code_at(secret, step - 1);
        assert_eq!(verify(secret, &code, now, 0), Some(step - 1));
        assert_eq!(verify(secret, &code, now, step - 1), None);
        assert_eq!(verify(secret, &code_at(secret, step - 2), now, 0), None);
        assert_eq!(verify(secret, "12345", now, 0), None);
        let spaced = format!("{} {}", &code[..3], &code[3..]);
        assert_eq!(verify(secret, &spaced, now, 0), Some(step - 1));
    }

    #[test]
    fn base32_is_rfc_4648() {
        assert_eq!(base32(b"foobar"), "MZXW6YTBOI");
        assert_eq!(grouped(b"foobar"), "MZXW 6YTB OI");
        assert!(otpauth_uri(b"foobar", "a@b.jp").contains("secret=MZXW6YTBOI"));
        assert!(qr_svg("otpauth://totp/x").is_some_and(|s| s.starts_with("<svg")));
    }
}

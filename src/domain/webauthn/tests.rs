//! Fixed vectors: made once with Python's `cryptography` (an ES256 key from a fixed scalar,
//! an RSA-2048 key), independent of the code under test. Relying party `localhost`, origin
//! `http://localhost:8080`, registration challenge bytes 0..32, sign-in challenge 32..64.

use super::*;

const ES256_ATTESTATION: &str = "a363666d74646e6f6e656761747453746d74a0686175746844617461589449960de5880e8c687434170f6476605b8fe4aeb9a28632c7995cf3ba831d976345000000000000000000000000000000000000000000106465666768696a6b6c6d6e6f70717273a5010203262001215820471c3e758c4904285bba7e53118ed0f524adeb0757d25bd2f8e7b0d76dfa714c225820dd520f7aca8a8b917acc37f51de8f0c9bbe3ad858382e702dc25a12d09f7a858";
const ES256_COSE: &str = "a5010203262001215820471c3e758c4904285bba7e53118ed0f524adeb0757d25bd2f8e7b0d76dfa714c225820dd520f7aca8a8b917acc37f51de8f0c9bbe3ad858382e702dc25a12d09f7a858";
const CLIENT_DATA_CREATE: &str = r#"{"type":"webauthn.create","challenge":"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8","origin":"http://localhost:8080","crossOrigin":false}"#;
const CLIENT_DATA_GET: &str = r#"{"type":"webauthn.get","challenge":"ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8","origin":"http://localhost:8080","crossOrigin":false}"#;
const AUTH_DATA_GET: &str =
    "49960de5880e8c687434170f6476605b8fe4aeb9a28632c7995cf3ba831d97630500000007";
const ES256_SIG: &str = "3045022037c8a6f0c7e963b156e893fb949661883a7de6a1299caa202e56c6fadc780578022100cd131455d2f8a5827963f22488a59898a4dd7fffbd107ae0c8cf97ea43d7d0c6";
const RS256_COSE: &str = "a401030339010020590100baf41b03cae18f1820ae243d88599c77bbc56974840e124fae82a3b8c7e1651b9f1c660bf1b85138a3860738c027e0e4297bd437246bb2f0e564d3e7ca581a0da26b901737410af5cc7e1a5d5c6b7e37af5e6a162652cf5d10ae8e3059f455d1ca9b36583a594f897b34f5d38163f525a197f3b10f1c5093fc314740fc3a4fec0e3bcb234f5e56872286ca292630392223e40484c9e9d55a8ca3fbf43b82425544bd9c24ed609d27ead28dc46aa2e3253bcaa2d9bb809ea63f47c75cda06f5525064bb879530a6969255632e66fe4c67e401f792b6bd298afe6cc2a51e8d542e1288d2cdae4497579c1d3672a363a81d3d87b6b2473b30769e5cfddbf46d21cf2143010001";
const RS256_SIG: &str = "40c753b66fa5124f5b9bbb7c3346d677b8e5e3caa22166699203426a348f2d6115462d0bfc878e4236b621cbdce1cc215cc0f301d6d60eea6175e2bfacb8a4fc66bb7a1ffe3b59502ce59edd09a4de5735c4149a28e2a322705a2e589cbd8f923ab8706130bb730e1ae906d1a876f373455c883be0df5310cfe51d6855f4df624bb1a32ede8b453883c6d678b9850140bce2820e8d86518b6b2a7564941ac89d486ad552bd63d6b067a1e6efd92ebdecf27a2a5195836139235743102b893ebda9c471e62f4b22c442d945db8869a5d361db527fa764208b0efd4bc9d97f519450147c5006314da2e7cce5260f7e37f67fae34c9939ad3545f372d7f19755084";
const CRED_ID: &str = "6465666768696a6b6c6d6e6f70717273";

fn h(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap()
}

const CREATE_CHALLENGE: [u8; 32] = {
    let mut c = [0u8; 32];
    let mut i = 0;
    while i < 32 {
        c[i] = i as u8;
        i += 1;
    }
    c
};

fn get_challenge() -> Vec<u8> {
    (32u8..64).collect()
}

fn expected(challenge: &[u8]) -> Expected<'_> {
    Expected {
        rp_id: "localhost",
        origin: "http://localhost:8080",
        challenge,
    }
}

#[test]
fn a_none_attestation_gives_the_credential_and_its_key() {
    let c = verify_registration(
        &expected(&CREATE_CHALLENGE),
        CLIENT_DATA_CREATE.as_bytes(),
        &h(ES256_ATTESTATION),
    )
    .unwrap();
    assert_eq!(c.credential_id, h(CRED_ID));
    assert_eq!(c.public_key, h(ES256_COSE));
    assert_eq!(c.algorithm, ES256);
    assert_eq!(c.sign_count, 0);
    assert!(c.user_verified);
}

#[test]
fn a_registration_for_another_challenge_origin_or_site_is_refused() {
    let att = h(ES256_ATTESTATION);
    let cd = CLIENT_DATA_CREATE.as_bytes();
    let other = [9u8; 32];
    assert_eq!(
        verify_registration(&expected(&other), cd, &att),
        Err(Refusal::Challenge)
    );
    let mut e = expected(&CREATE_CHALLENGE);
    e.origin = "http://localhost:8081";
    assert_eq!(verify_registration(&e, cd, &att), Err(Refusal::Origin));
    let mut e = expected(&CREATE_CHALLENGE);
    e.rp_id = "evil.example";
    e.origin = "http://localhost:8080";
    assert_eq!(verify_registration(&e, cd, &att), Err(Refusal::RpId));
    // A sign-in's client data is not a registration's.
    assert_eq!(
        verify_registration(
            &expected(&get_challenge()),
            CLIENT_DATA_GET.as_bytes(),
            &att
        ),
        Err(Refusal::WrongType)
    );
    // Cut short anywhere: malformed, never a panic.
    for n in 0..att.len() {
        assert!(verify_registration(&expected(&CREATE_CHALLENGE), cd, &att[..n]).is_err());
    }
}

#[test]
fn a_registration_without_user_presence_is_refused() {
    let mut att = h(ES256_ATTESTATION);
    // authData starts after the map head, "fmt"/"none", "attStmt"/{}, "authData" and the
    // byte string head (58 94): its flags byte is 32 bytes in.
    let start = att.windows(2).position(|w| w == [0x58, 0x94]).unwrap() + 2;
    att[start + 32] &= !0x01;
    assert_eq!(
        verify_registration(
            &expected(&CREATE_CHALLENGE),
            CLIENT_DATA_CREATE.as_bytes(),
            &att
        ),
        Err(Refusal::UserNotPresent)
    );
}

#[test]
fn es256_and_rs256_signatures_verify_and_a_changed_byte_does_not() {
    let ch = get_challenge();
    let cd = CLIENT_DATA_GET.as_bytes();
    let ad = h(AUTH_DATA_GET);
    for (cose, sig) in [(ES256_COSE, ES256_SIG), (RS256_COSE, RS256_SIG)] {
        let s = verify_assertion(&expected(&ch), cd, &ad, &h(sig), &h(cose), 0).unwrap();
        assert_eq!(s.sign_count, 7);
        assert!(s.user_verified);
        let mut bad = h(sig);
        let last = bad.len() - 1;
        bad[last] ^= 1;
        assert_eq!(
            verify_assertion(&expected(&ch), cd, &ad, &bad, &h(cose), 0),
            Err(Refusal::Signature)
        );
        let mut ad2 = ad.clone();
        ad2[36] = 8; // the counter, not what was signed
        assert_eq!(
            verify_assertion(&expected(&ch), cd, &ad2, &h(sig), &h(cose), 0),
            Err(Refusal::Signature)
        );
    }
    // The other key's signature.
    assert_eq!(
        verify_assertion(&expected(&ch), cd, &ad, &h(RS256_SIG), &h(ES256_COSE), 0),
        Err(Refusal::Signature)
    );
}

#[test]
fn a_counter_that_does_not_increase_is_refused() {
    let ch = get_challenge();
    let (cd, ad) = (CLIENT_DATA_GET.as_bytes(), h(AUTH_DATA_GET));
    let (sig, key) = (h(ES256_SIG), h(ES256_COSE));
    assert!(verify_assertion(&expected(&ch), cd, &ad, &sig, &key, 6).is_ok());
    for stored in [7, 8, 1000] {
        assert_eq!(
            verify_assertion(&expected(&ch), cd, &ad, &sig, &key, stored),
            Err(Refusal::Counter)
        );
    }
    assert!(counter_ok(0, 0), "a key without a counter");
    assert!(!counter_ok(5, 0), "a counter that went back to zero");
    assert!(!counter_ok(5, 5));
    assert!(counter_ok(5, 6));
}

#[test]
fn a_sign_in_for_another_challenge_or_origin_is_refused() {
    let (cd, ad) = (CLIENT_DATA_GET.as_bytes(), h(AUTH_DATA_GET));
    let (sig, key) = (h(ES256_SIG), h(ES256_COSE));
    assert_eq!(
        verify_assertion(&expected(&CREATE_CHALLENGE), cd, &ad, &sig, &key, 0),
        Err(Refusal::Challenge)
    );
    let ch = get_challenge();
    let mut e = expected(&ch);
    e.origin = "https://localhost:8080";
    assert_eq!(
        verify_assertion(&e, cd, &ad, &sig, &key, 0),
        Err(Refusal::Origin)
    );
    assert_eq!(
        verify_assertion(&expected(&ch), cd, &ad, &sig, b"\xa1\x01\x01", 0),
        Err(Refusal::UnsupportedKey)
    );
}

#[test]
fn the_relying_party_is_the_base_urls_host_and_origin() {
    let u = url::Url::parse("https://portal.example.jp/").unwrap();
    assert_eq!(
        rp_of(&u),
        (
            "portal.example.jp".into(),
            "https://portal.example.jp".into()
        )
    );
    let u = url::Url::parse("http://localhost:8080").unwrap();
    assert_eq!(
        rp_of(&u),
        ("localhost".into(), "http://localhost:8080".into())
    );
    assert_eq!(unb64(&b64(&[1, 2, 3, 250])), Some(vec![1, 2, 3, 250]));
    assert_eq!(unb64("AQID="), Some(vec![1, 2, 3]));
}

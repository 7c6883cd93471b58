//! Passkeys and security keys (WebAuthn) as a second factor, through the portal's forms with
//! a software authenticator written here (an ES256 key from `ring`, CBOR by hand): register,
//! sign in, single-use challenges, origin and counter checks, remove, reset, and reviewers
//! satisfying the required-second-factor rule with a key alone.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use reqwest::StatusCode;
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair};
use sha2::{Digest, Sha256};

use super::{ADMIN, MEMBER, REVIEWER, mail_containing};
use crate::dual_test;
use crate::helpers::{Browser, PASSWORD, TestApp, csrf_from, location};

/// A software authenticator: one ES256 credential and its counter.
pub struct SoftKey {
    key: EcdsaKeyPair,
    pub credential_id: Vec<u8>,
    pub counter: u32,
    rng: SystemRandom,
}

fn cbor_bytes(out: &mut Vec<u8>, b: &[u8]) {
    assert!(b.len() < 256);
    if b.len() < 24 {
        out.push(0x40 | b.len() as u8);
    } else {
        out.extend_from_slice(&[0x58, b.len() as u8]);
    }
    out.extend_from_slice(b);
}

impl SoftKey {
    pub fn new(id: u8) -> SoftKey {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng).unwrap();
        let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8.as_ref(), &rng)
            .unwrap();
        SoftKey {
            key,
            credential_id: vec![id; 16],
            counter: 0,
            rng,
        }
    }

    /// The COSE key: {1: 2, 3: -7, -1: 1, -2: x, -3: y}.
    fn cose(&self) -> Vec<u8> {
        let point = self.key.public_key().as_ref();
        let mut out = vec![0xa5, 0x01, 0x02, 0x03, 0x26, 0x20, 0x01, 0x21];
        cbor_bytes(&mut out, &point[1..33]);
        out.push(0x22);
        cbor_bytes(&mut out, &point[33..65]);
        out
    }

    fn client_data(kind: &str, challenge: &str, origin: &str) -> Vec<u8> {
        format!(r#"{{"type":"{kind}","challenge":"{challenge}","origin":"{origin}","crossOrigin":false}}"#)
            .into_bytes()
    }

    /// `navigator.credentials.create`: (clientDataJSON, attestationObject), base64url.
    pub fn create(&self, rp_id: &str, challenge: &str, origin: &str) -> (String, String) {
        let cd = Self::client_data("webauthn.create", challenge, origin);
        let mut ad = Sha256::digest(rp_id.as_bytes()).to_vec();
        ad.push(0x45); // UP, UV, AT
        ad.extend_from_slice(&self.counter.to_be_bytes());
        ad.extend_from_slice(&[0u8; 16]);
        ad.extend_from_slice(&(self.credential_id.len() as u16).to_be_bytes());
        ad.extend_from_slice(&self.credential_id);
        ad.extend_from_slice(&self.cose());
        // {"fmt": "none", "attStmt": {}, "authData": ad}
        let mut att = vec![0xa3, 0x63];
        att.extend_from_slice(b"fmt");
        att.push(0x64);
        att.extend_from_slice(b"none");
        att.push(0x67);
        att.extend_from_slice(b"attStmt");
        att.push(0xa0);
        att.push(0x68);
        att.extend_from_slice(b"authData");
        cbor_bytes(&mut att, &ad);
        (B64.encode(cd), B64.encode(att))
    }

    /// `navigator.credentials.get` with the counter moved on by `step`: the form's fields.
    pub fn get(
        &mut self,
        rp_id: &str,
        challenge: &str,
        origin: &str,
        step: u32,
    ) -> Vec<(&'static str, String)> {
        self.counter += step;
        let cd = Self::client_data("webauthn.get", challenge, origin);
        let mut ad = Sha256::digest(rp_id.as_bytes()).to_vec();
        ad.push(0x05); // UP, UV
        ad.extend_from_slice(&self.counter.to_be_bytes());
        let mut signed = ad.clone();
        signed.extend_from_slice(&Sha256::digest(&cd));
        let sig = self.key.sign(&self.rng, &signed).unwrap();
        vec![
            ("credential_id", B64.encode(&self.credential_id)),
            ("client_data", B64.encode(&cd)),
            ("authenticator_data", B64.encode(&ad)),
            ("signature", B64.encode(sig.as_ref())),
        ]
    }
}

/// The value of `data-{name}` in a page.
pub fn data_attr(html: &str, name: &str) -> String {
    let marker = format!("data-{name}=\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no data-{name} in {html}"))
        + marker.len();
    html[start..].split('"').next().unwrap().to_string()
}

fn fields<'a>(v: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    v.iter().map(|(k, s)| (*k, s.as_str())).collect()
}

/// Registers `key` as `name` for the browser's user; answers the response. The form is
/// posted with the page's own CSRF token: loading the page again would issue a new challenge.
pub async fn register(b: &Browser<'_>, key: &SoftKey, name: &str) -> reqwest::Response {
    let page = b.get("/account/second-factor").await.text().await.unwrap();
    let (cd, att) = key.create(
        &data_attr(&page, "rp-id"),
        &data_attr(&page, "challenge"),
        &b.app.base,
    );
    b.post_raw(
        "/account/second-factor/passkeys",
        &[
            ("passkey_name", name),
            ("client_data", &cd),
            ("attestation", &att),
            ("csrf_token", &csrf_from(&page)),
        ],
    )
    .await
}

/// The password, then the second-step page: answers its challenge.
async fn password_then_challenge(b: &Browser<'_>, email: &str) -> String {
    let res = b.login(email, PASSWORD).await;
    assert_eq!(location(&res), "/login/second-factor");
    let page = b.get("/login/second-factor").await.text().await.unwrap();
    assert_eq!(data_attr(&page, "rp-id"), "127.0.0.1");
    data_attr(&page, "challenge")
}

async fn sign(
    b: &Browser<'_>,
    key: &mut SoftKey,
    challenge: &str,
    origin: &str,
    step: u32,
) -> reqwest::Response {
    let f = key.get("127.0.0.1", challenge, origin, step);
    b.post("/login/second-factor/passkey", &fields(&f)).await
}

dual_test!(
    a_passkey_is_registered_then_signs_in_and_each_challenge_answers_once,
    |app| async move {
        app.add_user(MEMBER, "org_member", Some("AAAAA")).await;
        let b = app.browser();
        b.login(MEMBER, PASSWORD).await;
        let page = b.get("/account/second-factor").await.text().await.unwrap();
        assert!(page.contains("登録されたパスキー・セキュリティキーはありません。"));
        assert!(page.contains("src=\"/static/passkey.js\""));
        let mut key = SoftKey::new(1);

        // A name is needed; nothing is stored without one.
        let res = register(&b, &key, "  ").await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            res.text()
                .await
                .unwrap()
                .contains("パスキーの名前を入力してください。")
        );

        // An answer made for another site is refused.
        let page = b.get("/account/second-factor").await.text().await.unwrap();
        let (cd, att) = key.create(
            "127.0.0.1",
            &data_attr(&page, "challenge"),
            "http://evil.example",
        );
        let res = b
            .post(
                "/account/second-factor/passkeys",
                &[
                    ("passkey_name", "USB"),
                    ("client_data", &cd),
                    ("attestation", &att),
                ],
            )
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            res.text()
                .await
                .unwrap()
                .contains("パスキーを登録できませんでした")
        );
        assert_eq!(app.count("passkeys").await, 0);

        let mails = app.mail_count();
        let page = b.get("/account/second-factor").await.text().await.unwrap();
        let challenge = data_attr(&page, "challenge");
        let (cd, att) = key.create("127.0.0.1", &challenge, &app.base);
        let form = [
            ("passkey_name", "仕事用PC"),
            ("client_data", cd.as_str()),
            ("attestation", att.as_str()),
        ];
        let res = b.post("/account/second-factor/passkeys", &form).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(app.count("passkeys").await, 1);
        assert_eq!(app.audit_count("user.passkey_added").await, 1);
        app.wait_mail_count(mails + 1).await;
        assert!(
            mail_containing(&app, MEMBER, "パスキー「仕事用PC」が登録されました")
                .await
                .contains("127.0.0.1")
        );
        // The same answer again: its challenge is used up.
        let res = b.post("/account/second-factor/passkeys", &form).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(app.count("passkeys").await, 1);
        let page = b.get("/account/second-factor").await.text().await.unwrap();
        assert!(page.contains("仕事用PC"));
        assert_eq!(data_attr(&page, "exclude"), B64.encode(&key.credential_id));
        // The account counts it as a second factor.
        let account = b.get("/account").await.text().await.unwrap();
        assert!(account.contains("2段階認証は有効です。"));

        // Sign-in now asks for the key; the page offers no code form (no app set up).
        let phone = app.new_browser();
        let challenge = password_then_challenge(&phone, MEMBER).await;
        let page = phone
            .get("/login/second-factor")
            .await
            .text()
            .await
            .unwrap();
        assert!(!page.contains("name=\"code\""));
        assert_eq!(data_attr(&page, "allow"), B64.encode(&key.credential_id));
        // Loading the page issued a new challenge: the earlier one is worthless.
        let res = sign(&phone, &mut key, &challenge, &app.base, 1).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        assert!(
            res.text()
                .await
                .unwrap()
                .contains("パスキーで確認できませんでした")
        );
        assert_eq!(app.audit_count("login.second_factor_failure").await, 1);
        assert_eq!(app.count("login_failures").await, 1);

        // Signed for another origin: refused.
        let page = phone
            .get("/login/second-factor")
            .await
            .text()
            .await
            .unwrap();
        let res = sign(
            &phone,
            &mut key,
            &data_attr(&page, "challenge"),
            "http://evil.example",
            1,
        )
        .await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);

        // The right answer opens the session; it is recorded how.
        let page = phone
            .get("/login/second-factor")
            .await
            .text()
            .await
            .unwrap();
        let challenge = data_attr(&page, "challenge");
        let f = key.get("127.0.0.1", &challenge, &app.base, 1);
        let res = phone
            .post("/login/second-factor/passkey", &fields(&f))
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&res), "/home");
        assert_eq!(phone.get("/home").await.status(), StatusCode::OK);
        assert_eq!(app.count("pending_logins").await, 0);
        let page = b.get("/account/second-factor").await.text().await.unwrap();
        assert!(!page.contains("未使用</td>"), "last use shown");

        // The same signed answer from another browser: the challenge is not its own.
        let thief = app.new_browser();
        password_then_challenge(&thief, MEMBER).await;
        let res = thief
            .post("/login/second-factor/passkey", &fields(&f))
            .await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);

        // A counter that does not move on (a cloned key) is refused, then a greater one works.
        let challenge = password_then_challenge(&thief, MEMBER).await;
        let res = sign(&thief, &mut key, &challenge, &app.base, 0).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        let page = thief
            .get("/login/second-factor")
            .await
            .text()
            .await
            .unwrap();
        let res = sign(
            &thief,
            &mut key,
            &data_attr(&page, "challenge"),
            &app.base,
            5,
        )
        .await;
        assert_eq!(location(&res), "/home");

        // Another user's key is not this user's.
        app.add_user("tanto@a.example.jp", "org_member", Some("AAAAA"))
            .await;
        let other = app.new_browser();
        let res = other.login("tanto@a.example.jp", PASSWORD).await;
        assert_eq!(location(&res), "/home", "no second factor of their own");
    }
);

dual_test!(
    removing_a_passkey_is_audited_and_mailed_and_only_the_owner_can,
    |app| async move {
        app.add_user(MEMBER, "org_member", Some("AAAAA")).await;
        app.add_user("tanto@a.example.jp", "org_member", Some("AAAAA"))
            .await;
        let b = app.browser();
        b.login(MEMBER, PASSWORD).await;
        let key = SoftKey::new(2);
        assert_eq!(
            register(&b, &key, "USBキー").await.status(),
            StatusCode::SEE_OTHER
        );
        let id: uuid::Uuid = secportal::db::on_db!(app.db(), p => sqlx::query_scalar("SELECT id FROM passkeys").fetch_one(p).await).unwrap();

        // Someone else, signed in, cannot remove it.
        let other = app.new_browser();
        other.login("tanto@a.example.jp", PASSWORD).await;
        let res = other
            .post(&format!("/account/second-factor/passkeys/{id}/remove"), &[])
            .await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
        assert_eq!(app.count("passkeys").await, 1);

        let mails = app.mail_count();
        let res = b
            .post(&format!("/account/second-factor/passkeys/{id}/remove"), &[])
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(app.count("passkeys").await, 0);
        assert_eq!(app.audit_count("user.passkey_removed").await, 1);
        app.wait_mail_count(mails + 1).await;
        mail_containing(&app, MEMBER, "パスキー「USBキー」が削除されました").await;
        // The password alone signs in again.
        let res = app.new_browser().login(MEMBER, PASSWORD).await;
        assert_eq!(location(&res), "/home");
    }
);

/// Like `dual_test!`, with reviewers and Center admins held to a second factor.
macro_rules! enforced {
    ($name:ident, |$app:ident| $body:expr) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $name() {
            for backend in crate::helpers::backends() {
                let $app =
                    TestApp::spawn_configured(backend, |c| c.center_second_factor = true).await;
                tokio::time::timeout(std::time::Duration::from_secs(120), $body)
                    .await
                    .unwrap();
            }
        }
    };
}

enforced!(
    a_reviewer_satisfies_the_rule_with_a_passkey_and_a_reset_removes_it,
    |app| async move {
        app.add_user(REVIEWER, "reviewer", None).await;
        app.add_user(ADMIN, "center_admin", None).await;
        let b = app.browser();
        b.login(REVIEWER, PASSWORD).await;
        assert_eq!(location(&b.get("/review").await), "/account/second-factor");
        let mut key = SoftKey::new(3);
        assert_eq!(
            register(&b, &key, "Laptop").await.status(),
            StatusCode::SEE_OTHER
        );
        assert_eq!(b.get("/review").await.status(), StatusCode::OK);

        let again = app.new_browser();
        let challenge = password_then_challenge(&again, REVIEWER).await;
        let res = sign(&again, &mut key, &challenge, &app.base, 1).await;
        assert_eq!(location(&res), "/home");
        assert_eq!(again.get("/review").await.status(), StatusCode::OK);

        // A Center admin's reset removes keys too; the reviewer is held at set-up again.
        let admin = app.new_browser();
        admin.login(ADMIN, PASSWORD).await;
        // The admin is held too: a key of their own first.
        assert_eq!(
            register(&admin, &SoftKey::new(4), "Admin key")
                .await
                .status(),
            StatusCode::SEE_OTHER
        );
        let id = secportal::db::users::by_email(app.db(), REVIEWER)
            .await
            .unwrap()
            .unwrap()
            .id;
        let page = admin
            .get(&format!("/users/{id}"))
            .await
            .text()
            .await
            .unwrap();
        assert!(page.contains("2段階認証は有効です。"));
        let res = admin
            .post(
                &format!("/users/{id}/second-factor/reset"),
                &[("confirm", "yes")],
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(app.audit_count("user.second_factor_reset").await, 1);
        assert_eq!(app.count("passkeys").await, 1, "only the admin's is left");
        assert_eq!(
            location(&again.get("/review").await),
            "/account/second-factor"
        );
    }
);

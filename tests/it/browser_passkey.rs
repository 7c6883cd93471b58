//! A passkey through Chromium's virtual authenticator (the WebDriver WebAuthn extension):
//! a reviewer, held at the second-factor set-up, registers one, signs out, and signs in with
//! the password and the passkey. WebAuthn needs a secure context and a domain as relying
//! party id (an IP address is refused), so the portal's base URL is `http://localhost:…`.

use crate::browser::{browser, chromedriver, click, fill, screenshot, submit, wait_for_text};
use crate::helpers::{PASSWORD, TestApp, backends};
use crate::wd::Client;

/// `POST /session/{id}/webauthn/authenticator`: a platform authenticator that holds resident
/// keys and verifies the user (no prompt in headless Chromium). Returns its id.
async fn add_virtual_authenticator(c: &Client) -> serde_json::Value {
    c.post(
        "webauthn/authenticator",
        serde_json::json!({
            "protocol": "ctap2",
            "transport": "internal",
            "hasResidentKey": true,
            "hasUserVerification": true,
            "isUserVerified": true,
        }),
    )
    .await
    .unwrap()
}

async fn sign_in(c: &Client, base: &str, email: &str) {
    c.goto(&format!("{base}/login")).await.unwrap();
    fill(c, "email", email).await;
    fill(c, "password", PASSWORD).await;
    submit(c).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reviewer_enrols_a_passkey_then_signs_in_with_password_and_passkey() {
    let Some(driver) = chromedriver() else {
        return;
    };
    for backend in backends() {
        let label = backend.label();
        let app = TestApp::spawn_configured(backend, |c| {
            c.center_second_factor = true;
            c.base_url.set_host(Some("localhost")).unwrap();
        })
        .await;
        let base = app.base.replace("127.0.0.1", "localhost");
        let email = "shinsa@center.example.jp";
        app.add_user(email, "reviewer", None).await;
        let profile = tempfile::tempdir().unwrap();
        let c = browser(&driver, profile.path()).await;
        let added = add_virtual_authenticator(&c).await;
        assert!(added.as_str().is_some_and(|id| !id.is_empty()), "{added}");

        // Held at the set-up, the reviewer registers a passkey instead of an app.
        sign_in(&c, &base, email).await;
        wait_for_text(&c, "あなたのアカウントでは2段階認証が必須です。").await;
        wait_for_text(&c, "登録されたパスキー・セキュリティキーはありません。").await;
        let supported = c
            .execute(
                "return !!window.PublicKeyCredential && window.isSecureContext;",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(supported, serde_json::json!(true), "{label}");
        // A browser without WebAuthn is told so, and nothing is posted.
        c.execute("delete window.PublicKeyCredential;", vec![])
            .await
            .unwrap();
        fill(&c, "passkey_name", "ノートPC").await;
        click(&c, "#passkey-register button[type='submit']").await;
        wait_for_text(&c, "このブラウザはパスキー（WebAuthn）に対応していないか").await;
        assert_eq!(app.count("passkeys").await, 0);
        c.refresh().await.unwrap();
        wait_for_text(&c, "登録されたパスキー・セキュリティキーはありません。").await;
        fill(&c, "passkey_name", "ノートPC").await;
        click(&c, "#passkey-register button[type='submit']").await;
        wait_for_text(&c, "パスキーを登録しました。").await;
        wait_for_text(&c, "ノートPC").await;
        screenshot(&c, &format!("passkey-registered-{label}")).await;
        c.goto(&format!("{base}/review")).await.unwrap();
        wait_for_text(&c, "審査").await;
        assert_eq!(c.current_url().await.unwrap().path(), "/review");

        // Signed out, then in: the password, then the passkey.
        click(&c, "header form[action='/logout'] button").await;
        wait_for_text(&c, "ログアウトしました").await;
        sign_in(&c, &base, email).await;
        wait_for_text(&c, "パスキーで確認する").await;
        assert_eq!(
            c.current_url().await.unwrap().path(),
            "/login/second-factor"
        );
        screenshot(&c, &format!("passkey-second-step-{label}")).await;
        click(&c, "#passkey-sign-in").await;
        wait_for_text(&c, "ログアウト").await;
        assert_eq!(c.current_url().await.unwrap().path(), "/home", "{label}");

        // Why the base URL names localhost: on an IP address Chromium refuses the ceremony.
        c.goto(&app.url("/login")).await.unwrap();
        let refused = c
            .execute_async(
                "var done = arguments[0];\
                 navigator.credentials.create({ publicKey: { challenge: new Uint8Array(32),\
                   rp: { id: '127.0.0.1', name: 'x' }, user: { id: new Uint8Array(8), name: 'x', displayName: 'x' },\
                   pubKeyCredParams: [{ type: 'public-key', alg: -7 }] } })\
                 .then(function () { done('created'); }, function (e) { done(e.name); });",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(refused, serde_json::json!("SecurityError"), "{label}");
        c.close().await.unwrap();

        assert_eq!(app.audit_count("user.passkey_added").await, 1);
        assert_eq!(app.count("passkeys").await, 1);
        let signed: i64 = secportal::db::on_db!(app.db(), p => sqlx::query_scalar(
            "SELECT sign_count FROM passkeys",
        )
        .fetch_one(p)
        .await)
        .unwrap();
        assert!(signed >= 1, "the virtual authenticator counts: {signed}");
    }
}

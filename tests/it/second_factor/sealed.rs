//! TOTP secrets at rest: sealed (ChaCha20-Poly1305 under a key derived from the audit key,
//! bound to the user's row); secrets stored in the clear before are sealed at start.

use reqwest::StatusCode;
use secportal::db::on_db;

use super::{MEMBER, enrol, sign_in_with, step_now, totp};
use crate::dual_test;
use crate::helpers::{PASSWORD, TestApp};

async fn stored(app: &TestApp, email: &str) -> Vec<u8> {
    on_db!(app.db(), p => sqlx::query_scalar("SELECT totp_secret FROM users WHERE email = $1").bind(email).fetch_one(p).await).unwrap()
}

async fn store(app: &TestApp, email: &str, value: &[u8]) {
    on_db!(app.db(), p => sqlx::query("UPDATE users SET totp_secret = $1 WHERE email = $2").bind(value).bind(email).execute(p).await.map(|_| ())).unwrap();
}

dual_test!(
    totp_secrets_are_sealed_at_rest_and_those_stored_in_the_clear_are_sealed_at_start,
    |app| async move {
        app.add_user(MEMBER, "org_member", Some("AAAAA")).await;
        let other = "tanto@a.example.jp";
        app.add_user(other, "org_member", Some("AAAAA")).await;
        let b = app.browser();
        b.login(MEMBER, PASSWORD).await;
        let (secret, _) = enrol(&b).await;
        let sealed = stored(&app, MEMBER).await;
        assert_eq!(sealed.len(), 3 + 12 + 20 + 16, "magic, nonce, secret, tag");
        assert!(
            !sealed.windows(secret.len()).any(|w| w == secret.as_slice()),
            "the secret is not in the clear"
        );

        // A secret from before sealing, in the clear: still read, sealed at the next start.
        store(&app, MEMBER, &secret).await;
        let id = user_id(&app, MEMBER).await;
        let read = secportal::db::second_factor::totp(app.db(), id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(read.totp_secret.unwrap(), secret);
        assert_eq!(
            secportal::db::second_factor::seal_plain_secrets(app.db())
                .await
                .unwrap(),
            1
        );
        let resealed = stored(&app, MEMBER).await;
        assert_eq!(resealed.len(), sealed.len());
        assert_ne!(resealed, sealed, "a fresh nonce");
        assert_eq!(
            secportal::db::second_factor::seal_plain_secrets(app.db())
                .await
                .unwrap(),
            0,
            "nothing left in the clear"
        );
        let res = sign_in_with(&app.new_browser(), MEMBER, &totp(&secret, step_now() + 1)).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);

        // Copied to another user's row, the sealed secret does not open there.
        store(&app, other, &resealed).await;
        assert!(
            secportal::db::second_factor::totp(app.db(), user_id(&app, other).await)
                .await
                .is_err()
        );
    }
);

async fn user_id(app: &TestApp, email: &str) -> uuid::Uuid {
    on_db!(app.db(), p => sqlx::query_scalar("SELECT id FROM users WHERE email = $1").bind(email).fetch_one(p).await).unwrap()
}

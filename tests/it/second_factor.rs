//! Second factor (TOTP, RFC 6238) with recovery codes: enrolment, sign-in, replay, recovery
//! codes, forced enrolment for Center staff and required organisations, admin reset.

use reqwest::StatusCode;
use sha1::{Digest, Sha1};

use crate::dual_test;
use crate::helpers::{Browser, PASSWORD, TestApp, backends, location};

/// Like `dual_test!`, with reviewers and Center admins held to set up a second factor (the
/// portal's rule; the harness turns it off for tests about other things).
macro_rules! enforced_test {
    ($name:ident, |$app:ident| $body:expr) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $name() {
            for backend in backends() {
                let label = format!("{backend:?}");
                let $app =
                    TestApp::spawn_configured(backend, |c| c.center_second_factor = true).await;
                let fut = $body;
                tokio::time::timeout(std::time::Duration::from_secs(120), fut)
                    .await
                    .unwrap_or_else(|_| panic!("timed out on {label}"));
            }
        }
    };
}

const MEMBER: &str = "member@a.example.jp";

mod passkeys;
mod sealed;
const ADMIN: &str = "admin@center.example.jp";
const REVIEWER: &str = "reviewer@center.example.jp";

/// RFC 6238 TOTP, written out here independently of the portal: HMAC-SHA-1 of the step,
/// dynamic truncation, six digits.
pub fn totp(secret: &[u8], step: i64) -> String {
    let mut key = [0u8; 64];
    key[..secret.len()].copy_from_slice(secret);
    let inner = Sha1::new()
        .chain_update(key.map(|b| b ^ 0x36))
        .chain_update(step.to_be_bytes())
        .finalize();
    let mac = Sha1::new()
        .chain_update(key.map(|b| b ^ 0x5c))
        .chain_update(inner)
        .finalize();
    let o = (mac[19] & 0x0f) as usize;
    let n = u32::from_be_bytes([mac[o] & 0x7f, mac[o + 1], mac[o + 2], mac[o + 3]]);
    format!("{:06}", n % 1_000_000)
}

/// The current step.
pub fn step_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
        / 30
}

/// Decodes RFC 4648 base32 (spaces ignored).
pub fn base32_decode(text: &str) -> Vec<u8> {
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let (mut out, mut buf, mut bits) = (Vec::new(), 0u32, 0u32);
    for c in text.bytes().filter(|c| !c.is_ascii_whitespace()) {
        let v = alphabet.iter().position(|a| *a == c).unwrap() as u32;
        buf = (buf << 5) | v;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buf >> bits) as u8);
        }
    }
    out
}

/// The text of the element with this id.
fn text_of(html: &str, id: &str) -> String {
    let marker = format!("id=\"{id}\">");
    let start = html.find(&marker).unwrap_or_else(|| panic!("no #{id}")) + marker.len();
    html[start..].split('<').next().unwrap().to_string()
}

/// Enrols the browser's signed-in user: answers the secret read from the page and the
/// recovery codes shown once. The confirming code is the current step's.
pub async fn enrol(b: &Browser<'_>) -> (Vec<u8>, Vec<String>) {
    let res = b.post("/account/second-factor/start", &[]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let page = b.get("/account/second-factor").await.text().await.unwrap();
    assert!(page.contains("<svg"), "a QR code is drawn inline");
    let uri = text_of(&page, "totp-uri").replace("&amp;", "&");
    assert!(uri.starts_with("otpauth://totp/"), "{uri}");
    let secret = base32_decode(&text_of(&page, "totp-secret"));
    assert_eq!(secret.len(), 20);
    let res = b
        .post(
            "/account/second-factor/confirm",
            &[("code", &totp(&secret, step_now()))],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let page = res.text().await.unwrap();
    let codes: Vec<String> = page
        .split("<li><code>")
        .skip(1)
        .map(|s| s.split('<').next().unwrap().to_string())
        .collect();
    assert_eq!(codes.len(), 10, "{page}");
    (secret, codes)
}

/// The first mail to `to` containing `text`, waiting up to 5 s (mail goes off the request path).
async fn mail_containing(app: &TestApp, to: &str, text: &str) -> String {
    for _ in 0..50 {
        let found = std::fs::read_dir(app.data_dir.join("mail"))
            .into_iter()
            .flatten()
            .filter_map(|e| std::fs::read_to_string(e.ok()?.path()).ok())
            .find(|m| m.contains(&format!("To: {to}")) && m.contains(text));
        if let Some(m) = found {
            return m;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("no mail to {to} contains {text:?}");
}

/// Password, then the code: answers the second step's response.
async fn sign_in_with(b: &Browser<'_>, email: &str, code: &str) -> reqwest::Response {
    let res = b.login(email, PASSWORD).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), "/login/second-factor");
    b.post("/login/second-factor", &[("code", code)]).await
}

dual_test!(
    totp_is_confirmed_with_a_code_then_asked_for_at_sign_in_and_never_accepted_twice,
    |app| async move {
        app.add_user(MEMBER, "org_member", Some("AAAAA")).await;
        let b = app.browser();
        assert_eq!(
            b.login(MEMBER, PASSWORD).await.status(),
            StatusCode::SEE_OTHER
        );

        // A wrong first code switches nothing on.
        b.post("/account/second-factor/start", &[]).await;
        let res = b
            .post("/account/second-factor/confirm", &[("code", "000000")])
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            res.text()
                .await
                .unwrap()
                .contains("確認コードが正しくないか")
        );
        assert_eq!(app.audit_count("user.second_factor_enabled").await, 0);
        assert_eq!(app.count("recovery_codes").await, 0);

        let mails = app.mail_count();
        let (secret, _codes) = enrol(&b).await;
        assert_eq!(app.audit_count("user.second_factor_enabled").await, 1);
        assert_eq!(app.count("recovery_codes").await, 10);
        app.wait_mail_count(mails + 1).await;
        assert!(
            app.mail_text(MEMBER, "2段階認証が有効になりました")
                .contains("127.0.0.1")
        );
        let account = b.get("/account").await.text().await.unwrap();
        assert!(account.contains("2段階認証は有効です。"));

        // The password alone opens nothing: no session until the code.
        let phone = app.new_browser();
        let sessions = app.count("sessions").await;
        let res = phone.login(MEMBER, PASSWORD).await;
        assert_eq!(location(&res), "/login/second-factor");
        assert_eq!(app.count("sessions").await, sessions);
        assert_eq!(app.count("pending_logins").await, 1);
        assert_eq!(location(&phone.get("/home").await), "/login?next=%2Fhome");
        let page = phone.get("/login/second-factor").await;
        assert_eq!(page.status(), StatusCode::OK);

        // A wrong code is refused and counted as a failed sign-in.
        let res = phone
            .post("/login/second-factor", &[("code", "123456")])
            .await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        assert!(
            res.text()
                .await
                .unwrap()
                .contains("確認コードが正しくないか")
        );
        assert_eq!(app.count("sessions").await, sessions);
        assert_eq!(app.count("login_failures").await, 1);
        assert_eq!(app.audit_count("login.second_factor_failure").await, 1);
        assert_eq!(
            app.count(
                "audit_log WHERE action = 'login.second_factor_failure' \
                 AND actor_id IS NOT NULL AND org_id IS NOT NULL"
            )
            .await,
            1,
            "the account is named, in its organisation's trail"
        );

        // The next step's code (one step of drift is allowed; the confirming step is used).
        let code = totp(&secret, step_now() + 1);
        let res = phone.post("/login/second-factor", &[("code", &code)]).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&res), "/home");
        assert_eq!(phone.get("/home").await.status(), StatusCode::OK);
        assert_eq!(app.count("sessions").await, sessions + 1);
        assert_eq!(app.count("pending_logins").await, 0);

        // The same code again, from another browser: refused (replay).
        let other = app.new_browser();
        let res = sign_in_with(&other, MEMBER, &code).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(app.count("sessions").await, sessions + 1);
        // The confirming step's code is spent too.
        let res = other
            .post(
                "/login/second-factor",
                &[("code", &totp(&secret, step_now() - 1))],
            )
            .await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
);

dual_test!(a_recovery_code_signs_in_once, |app| async move {
    app.add_user(MEMBER, "org_member", Some("AAAAA")).await;
    let b = app.browser();
    b.login(MEMBER, PASSWORD).await;
    let (_, codes) = enrol(&b).await;

    let phone = app.new_browser();
    // Typed in lower case and without the hyphen: still the code.
    let typed = codes[3].replace('-', "").to_lowercase();
    let res = sign_in_with(&phone, MEMBER, &typed).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(phone.get("/home").await.status(), StatusCode::OK);
    let page = b.get("/account/second-factor").await.text().await.unwrap();
    assert!(page.contains("未使用のリカバリーコード： 9"), "{page}");
    let text = mail_containing(&app, MEMBER, "リカバリーコードを使って").await;
    assert!(text.contains("残り 9 個"), "{text}");

    let again = app.new_browser();
    let res = sign_in_with(&again, MEMBER, &codes[3]).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(again.get("/home").await.status(), StatusCode::SEE_OTHER);
    // Another one still works.
    let res = again
        .post("/login/second-factor", &[("code", &codes[4])])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
});

dual_test!(wrong_codes_are_throttled_like_passwords, |app| async move {
    app.add_user(MEMBER, "org_member", Some("AAAAA")).await;
    let b = app.browser();
    b.login(MEMBER, PASSWORD).await;
    let (secret, _) = enrol(&b).await;

    let thief = app.new_browser();
    assert_eq!(
        thief.login(MEMBER, PASSWORD).await.status(),
        StatusCode::SEE_OTHER
    );
    for _ in 0..5 {
        let res = thief
            .post("/login/second-factor", &[("code", "999999")])
            .await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    // Five wrong codes end the pending sign-in, and this account from this address waits.
    let res = thief
        .post(
            "/login/second-factor",
            &[("code", &totp(&secret, step_now() + 1))],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), "/login");
    assert_eq!(
        thief.login(MEMBER, PASSWORD).await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(app.count("pending_logins").await, 0);
});

dual_test!(
    switching_it_off_needs_the_password_and_a_code_and_is_mailed,
    |app| async move {
        app.add_user(MEMBER, "org_member", Some("AAAAA")).await;
        let b = app.browser();
        b.login(MEMBER, PASSWORD).await;
        let (_, codes) = enrol(&b).await;

        let res = b
            .post(
                "/account/second-factor/disable",
                &[
                    ("current_password", "wrong-password-1234"),
                    ("code", &codes[0]),
                ],
            )
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let res = b
            .post(
                "/account/second-factor/disable",
                &[("current_password", PASSWORD), ("code", "000000")],
            )
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(app.audit_count("user.second_factor_disabled").await, 0);
        assert_eq!(app.count("recovery_codes").await, 10);

        let mails = app.mail_count();
        let res = b
            .post(
                "/account/second-factor/disable",
                &[("current_password", PASSWORD), ("code", &codes[0])],
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(app.audit_count("user.second_factor_disabled").await, 1);
        assert_eq!(app.count("recovery_codes").await, 0);
        app.wait_mail_count(mails + 1).await;
        app.mail_text(MEMBER, "2段階認証が無効になりました");
        // The password alone signs in again.
        let res = app.new_browser().login(MEMBER, PASSWORD).await;
        assert_eq!(location(&res), "/home");
    }
);

enforced_test!(
    a_reviewer_without_a_second_factor_can_do_nothing_but_set_one_up,
    |app| async move {
        app.add_user(REVIEWER, "reviewer", None).await;
        let b = app.browser();
        let res = b.login(REVIEWER, PASSWORD).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        for path in ["/home", "/review", "/audit", "/inbox"] {
            let res = b.get(path).await;
            assert_eq!(res.status(), StatusCode::SEE_OTHER, "{path}");
            assert_eq!(location(&res), "/account/second-factor", "{path}");
        }
        let page = b.get("/account/second-factor").await.text().await.unwrap();
        assert!(page.contains("あなたのアカウントでは2段階認証が必須です。"));
        // The navigation offers only what is open: the account page and signing out.
        for link in [
            "href=\"/review\"",
            "href=\"/home\"",
            "href=\"/inbox\"",
            "href=\"/audit\"",
        ] {
            assert!(!page.contains(link), "{link} offered before enrolment");
        }
        assert!(page.contains("href=\"/account\""));
        // Posting elsewhere is held too.
        let res = b.post("/inbox/read", &[]).await;
        assert_eq!(location(&res), "/account/second-factor");

        let (secret, _) = enrol(&b).await;
        let home = b.get("/home").await.text().await.unwrap();
        assert!(home.contains("href=\"/review\""));
        assert_eq!(b.get("/home").await.status(), StatusCode::OK);
        assert_eq!(b.get("/review").await.status(), StatusCode::OK);

        // From now on sign-in asks for the code.
        let other = app.new_browser();
        let res = sign_in_with(&other, REVIEWER, &totp(&secret, step_now() + 1)).await;
        assert_eq!(location(&res), "/home");
        assert_eq!(other.get("/review").await.status(), StatusCode::OK);
    }
);

enforced_test!(
    an_organisation_can_be_required_to_use_a_second_factor,
    |app| async move {
        app.add_user(ADMIN, "center_admin", None).await;
        app.add_user(MEMBER, "org_member", Some("AAAAA")).await;
        let org = app.org_of(MEMBER).await;

        // Optional for organisation users by default.
        let member = app.new_browser();
        member.login(MEMBER, PASSWORD).await;
        assert_eq!(member.get("/home").await.status(), StatusCode::OK);

        let admin = app.browser();
        admin.login(ADMIN, PASSWORD).await;
        let (_, _) = enrol(&admin).await;
        let page = admin
            .get(&format!("/admin/orgs/{org}"))
            .await
            .text()
            .await
            .unwrap();
        assert!(page.contains("この組織のユーザーの2段階認証は任意です。"));
        let res = admin
            .post(
                &format!("/admin/orgs/{org}/second-factor"),
                &[("required", "true")],
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(app.audit_count("org.second_factor_requirement").await, 1);
        // The member, who has none yet, is told before their next sign-in; the admin (a
        // Center user) is not.
        let mail = app
            .wait_mail_text(MEMBER, "2段階認証（認証アプリまたはパスキー）を求める")
            .await;
        assert!(
            mail.contains("AAAAA") && mail.contains("/account/second-factor"),
            "{mail}"
        );
        // The admin's own mail of their set-up, off the request path, and the member's.
        let mails = app.wait_mail_count(2).await;
        // Asked again (a second click): nothing recorded or sent twice.
        let res = admin
            .post(
                &format!("/admin/orgs/{org}/second-factor"),
                &[("required", "true")],
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(app.audit_count("org.second_factor_requirement").await, 1);
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        assert_eq!(app.mail_count(), mails);
        let page = admin
            .get(&format!("/admin/orgs/{org}"))
            .await
            .text()
            .await
            .unwrap();
        assert!(page.contains("この組織のユーザーには2段階認証が必須です。"));

        // Only a Center admin sets it.
        let res = member
            .post(
                &format!("/admin/orgs/{org}/second-factor"),
                &[("required", "false")],
            )
            .await;
        assert_eq!(location(&res), "/account/second-factor");

        // The member, already signed in, is held at the set-up from the next request.
        let res = member.get("/home").await;
        assert_eq!(location(&res), "/account/second-factor");
        enrol(&member).await;
        assert_eq!(member.get("/home").await.status(), StatusCode::OK);
    }
);

dual_test!(
    a_center_admin_resets_a_second_factor_audited_and_mailed,
    |app| async move {
        app.add_user(ADMIN, "center_admin", None).await;
        app.add_user(MEMBER, "org_member", Some("AAAAA")).await;
        let member = app.new_browser();
        member.login(MEMBER, PASSWORD).await;
        let before = app.mail_count();
        enrol(&member).await;
        // The mail that it was switched on goes first (off the request path).
        app.wait_mail_count(before + 1).await;
        let id = secportal::db::users::by_email(app.db(), MEMBER)
            .await
            .unwrap()
            .unwrap()
            .id;

        let admin = app.browser();
        admin.login(ADMIN, PASSWORD).await;
        let page = admin
            .get(&format!("/users/{id}"))
            .await
            .text()
            .await
            .unwrap();
        assert!(page.contains("2段階認証をリセットする"));
        let mails = app.mail_count();
        let res = admin
            .post(
                &format!("/users/{id}/second-factor/reset"),
                &[("confirm", "yes")],
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(app.audit_count("user.second_factor_reset").await, 1);
        assert_eq!(app.count("recovery_codes").await, 0);
        app.wait_mail_count(mails + 1).await;
        app.mail_text(MEMBER, "2段階認証をリセットしました");
        // The password alone signs in again (optional for this organisation).
        let res = app.new_browser().login(MEMBER, PASSWORD).await;
        assert_eq!(location(&res), "/home");

        // Not an org admin's action, and not for one's own account.
        let res = member
            .post(
                &format!("/users/{id}/second-factor/reset"),
                &[("confirm", "yes")],
            )
            .await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        assert_eq!(app.audit_count("user.second_factor_reset").await, 1);
    }
);

dual_test!(
    new_recovery_codes_need_an_app_code_and_replace_the_old_ones,
    |app| async move {
        app.add_user(MEMBER, "org_member", Some("AAAAA")).await;
        let b = app.browser();
        b.login(MEMBER, PASSWORD).await;
        let (secret, old) = enrol(&b).await;

        // A recovery code cannot mint more.
        let res = b
            .post(
                "/account/second-factor/recovery-codes",
                &[("new_codes_code", &old[0])],
            )
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(app.audit_count("user.recovery_codes_renewed").await, 0);

        let res = b
            .post(
                "/account/second-factor/recovery-codes",
                &[("new_codes_code", &totp(&secret, step_now() + 1))],
            )
            .await;
        assert_eq!(res.status(), StatusCode::OK);
        let page = res.text().await.unwrap();
        let new: Vec<String> = page
            .split("<li><code>")
            .skip(1)
            .map(|s| s.split('<').next().unwrap().to_string())
            .collect();
        assert_eq!(new.len(), 10);
        assert_eq!(app.count("recovery_codes").await, 10);
        assert_eq!(app.audit_count("user.recovery_codes_renewed").await, 1);

        let res = sign_in_with(&app.new_browser(), MEMBER, &old[1]).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        let res = sign_in_with(&app.new_browser(), MEMBER, &new[1]).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
    }
);

dual_test!(
    the_command_line_removes_a_second_factor_when_no_admin_can_sign_in,
    |app| async move {
        app.add_user(ADMIN, "center_admin", None).await;
        let b = app.browser();
        b.login(ADMIN, PASSWORD).await;
        enrol(&b).await;
        // The mail that it was switched on (sent in the background) first.
        let mails = app.wait_mail_count(1).await;
        assert!(
            secportal::cli::reset_second_factor(&app.state.config, ADMIN)
                .await
                .unwrap()
        );
        assert_eq!(app.audit_count("user.second_factor_reset").await, 1);
        // Mailed as the page's reset is, before the command returns.
        assert_eq!(app.mail_count(), mails + 1);
        app.mail_text(ADMIN, "2段階認証をリセットしました");
        assert_eq!(app.count("recovery_codes").await, 0);
        let res = app.new_browser().login(ADMIN, PASSWORD).await;
        assert_eq!(location(&res), "/home");
        assert!(
            !secportal::cli::reset_second_factor(&app.state.config, ADMIN)
                .await
                .unwrap()
        );
        assert_eq!(app.mail_count(), mails + 1, "nothing reset, nothing mailed");
    }
);

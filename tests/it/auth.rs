//! Sign-in, sessions, CSRF and throttling.

use reqwest::StatusCode;

use crate::dual_test;
use crate::helpers::{PASSWORD, location};

const ADMIN: &str = "admin@center.example.jp";

dual_test!(
    login_sets_a_session_and_home_greets_the_user,
    |app| async move {
        app.add_user(ADMIN, "center_admin", None).await;
        let res = app.login("ADMIN@center.example.jp", PASSWORD).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&res), "/home");
        let cookie = res
            .headers()
            .get("set-cookie")
            .unwrap()
            .to_str()
            .unwrap()
            .to_string();
        assert!(
            cookie.starts_with("secportal_session=")
                && cookie.contains("HttpOnly")
                && cookie.contains("SameSite=Lax"),
            "{cookie}"
        );
        let home = app.get("/home").await;
        assert_eq!(home.status(), StatusCode::OK);
        assert_eq!(home.headers().get("cache-control").unwrap(), "no-store");
        assert!(home.text().await.unwrap().contains("テスト 太郎"));
        assert_eq!(app.audit_count("login.success").await, 1);
    }
);

dual_test!(
    wrong_password_and_unknown_user_get_the_same_message,
    |app| async move {
        app.add_user(ADMIN, "center_admin", None).await;
        let a = app.login(ADMIN, "wrong-password-123").await;
        let a_status = a.status();
        let a_body = a.text().await.unwrap();
        let b = app.login("nobody@example.jp", PASSWORD).await;
        assert_eq!(a_status, StatusCode::UNAUTHORIZED);
        assert_eq!(b.status(), a_status);
        let msg = "メールアドレスまたはパスワードが正しくありません。";
        assert!(a_body.contains(msg));
        assert!(b.text().await.unwrap().contains(msg));
        assert_eq!(app.count("sessions").await, 0);
        assert_eq!(app.audit_count("login.failure").await, 2);
    }
);

dual_test!(
    a_session_cookie_planted_before_login_is_never_promoted,
    |app| async move {
        app.add_user(ADMIN, "center_admin", None).await;
        // Sign in once to learn a real token, then sign in again from the same browser.
        let first = app.login(ADMIN, PASSWORD).await;
        let first_cookie = first
            .headers()
            .get("set-cookie")
            .unwrap()
            .to_str()
            .unwrap()
            .to_string();
        let second = app.login(ADMIN, PASSWORD).await;
        assert_eq!(second.status(), StatusCode::SEE_OTHER);
        let second_cookie = second
            .headers()
            .get("set-cookie")
            .unwrap()
            .to_str()
            .unwrap()
            .to_string();
        assert_ne!(first_cookie, second_cookie, "a new token at every login");
        // The first token is gone server-side.
        let token = first_cookie.split(';').next().unwrap().to_string();
        let replay = app
            .new_browser()
            .client
            .get(app.url("/home"))
            .header("cookie", token)
            .send()
            .await
            .unwrap();
        assert_eq!(replay.status(), StatusCode::SEE_OTHER);
        assert_eq!(app.count("sessions").await, 1);
    }
);

dual_test!(
    logout_deletes_the_session_and_the_old_cookie_no_longer_works,
    |app| async move {
        app.add_user(ADMIN, "center_admin", None).await;
        let res = app.login(ADMIN, PASSWORD).await;
        let token = res
            .headers()
            .get("set-cookie")
            .unwrap()
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_string();
        let res = app.post("/logout", &[]).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&res), "/login");
        assert_eq!(app.count("sessions").await, 0);
        assert_eq!(app.audit_count("logout").await, 1);
        let replay = app
            .new_browser()
            .client
            .get(app.url("/home"))
            .header("cookie", &token)
            .send()
            .await
            .unwrap();
        assert_eq!(replay.status(), StatusCode::SEE_OTHER);
        assert!(location(&replay).starts_with("/login"));
    }
);

dual_test!(
    state_changes_without_a_token_or_from_another_site_are_refused,
    |app| async move {
        app.add_user(ADMIN, "center_admin", None).await;
        app.login(ADMIN, PASSWORD).await;
        let b = app.browser();
        let orgs_before = app.count("organisations").await;
        let fields = [
            ("name", "株式会社テスト"),
            ("user_code", "ZZ001"),
            ("admin_email", "x@example.jp"),
        ];
        // No token.
        let res = b.post_raw("/admin/orgs", &fields).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        assert!(res.text().await.unwrap().contains("セキュリティ確認"));
        // Right token, cross-site origin.
        let token = b.token().await;
        let mut with_token = fields.to_vec();
        with_token.push(("csrf_token", &token));
        let res = b
            .client
            .post(app.url("/admin/orgs"))
            .header("origin", "https://evil.example")
            .header("sec-fetch-site", "cross-site")
            .form(&with_token)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        let res = b
            .client
            .post(app.url("/admin/orgs"))
            .header("origin", "https://evil.example")
            .form(&with_token)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        // A wrong token.
        let res = b
            .post_raw(
                "/admin/orgs",
                &[
                    ("csrf_token", "forged"),
                    ("name", "x"),
                    ("user_code", "ZZ002"),
                    ("admin_email", "y@example.jp"),
                ],
            )
            .await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        assert_eq!(app.count("organisations").await, orgs_before);
        // Logout without a token does not end the session.
        assert_eq!(
            b.post_raw("/logout", &[]).await.status(),
            StatusCode::FORBIDDEN
        );
        assert_eq!(app.count("sessions").await, 1);
        // With the token, it goes through.
        let res = b.post_raw("/admin/orgs", &with_token).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
    }
);

dual_test!(
    five_failures_lock_the_account_for_a_while_with_429,
    |app| async move {
        app.add_user(ADMIN, "center_admin", None).await;
        for _ in 0..5 {
            assert_eq!(
                app.login(ADMIN, "wrong-password-123").await.status(),
                StatusCode::UNAUTHORIZED
            );
        }
        let res = app.login(ADMIN, PASSWORD).await;
        assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
        assert!(res.headers().get("retry-after").is_some());
        let body = res.text().await.unwrap();
        assert!(body.contains("分後にもう一度"), "{body}");
        assert_eq!(app.count("sessions").await, 0);
        // An unknown account is throttled the same way.
        for _ in 0..5 {
            app.login("ghost@example.jp", "wrong-password-123").await;
        }
        assert_eq!(
            app.login("ghost@example.jp", "wrong-password-123")
                .await
                .status(),
            StatusCode::TOO_MANY_REQUESTS
        );
    }
);

dual_test!(
    twenty_failures_from_one_address_throttle_every_account,
    |app| async move {
        app.add_user(ADMIN, "center_admin", None).await;
        for i in 0..20 {
            let email = format!("user{i}@example.jp");
            assert_eq!(
                app.login(&email, "wrong-password-123").await.status(),
                StatusCode::UNAUTHORIZED
            );
        }
        assert_eq!(
            app.login(ADMIN, PASSWORD).await.status(),
            StatusCode::TOO_MANY_REQUESTS
        );
    }
);

dual_test!(
    pages_need_a_signed_in_user_and_return_to_them_after_login,
    |app| async move {
        app.add_user(ADMIN, "center_admin", None).await;
        let res = app.get("/users").await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&res), "/login?next=%2Fusers");
        let res = app
            .post(
                "/login",
                &[("email", ADMIN), ("password", PASSWORD), ("next", "/users")],
            )
            .await;
        assert_eq!(location(&res), "/users");
        // An off-site next is ignored.
        app.post("/logout", &[]).await;
        let res = app
            .post(
                "/login",
                &[
                    ("email", ADMIN),
                    ("password", PASSWORD),
                    ("next", "//evil.example/"),
                ],
            )
            .await;
        assert_eq!(location(&res), "/home");
    }
);

dual_test!(
    idle_and_absolute_timeouts_end_the_session,
    |app| async move {
        app.add_user(ADMIN, "center_admin", None).await;
        app.login(ADMIN, PASSWORD).await;
        assert_eq!(app.get("/home").await.status(), StatusCode::OK);
        let db = app.db();
        // Idle for 31 minutes.
        secportal::db::on_db!(db, p => sqlx::query("UPDATE sessions SET last_seen_at = $1")
        .bind(chrono::Utc::now() - chrono::Duration::minutes(31))
        .execute(p)
        .await
        .map(|_| ()))
        .unwrap();
        // A session read is reused for up to a second; the clock moved behind the app's back.
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
        assert_eq!(app.get("/home").await.status(), StatusCode::SEE_OTHER);
        assert_eq!(app.count("sessions").await, 0);
        // Active, but signed in 13 hours ago.
        app.login(ADMIN, PASSWORD).await;
        secportal::db::on_db!(db, p => sqlx::query("UPDATE sessions SET created_at = $1")
        .bind(chrono::Utc::now() - chrono::Duration::hours(13))
        .execute(p)
        .await
        .map(|_| ()))
        .unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
        assert_eq!(app.get("/home").await.status(), StatusCode::SEE_OTHER);
    }
);

dual_test!(
    a_256_character_password_is_accepted_whole,
    |app| async move {
        let long = "長いパスフレーズ".repeat(32);
        assert_eq!(long.chars().count(), 256);
        secportal::cli::add_user(
            &app.state.config,
            "long@example.jp",
            "reviewer",
            None,
            &long,
            None,
        )
        .await
        .unwrap();
        assert_eq!(
            app.login("long@example.jp", &long).await.status(),
            StatusCode::SEE_OTHER
        );
        // One character less is a different password.
        let shorter: String = long.chars().take(255).collect();
        assert_eq!(
            app.new_browser()
                .login("long@example.jp", &shorter)
                .await
                .status(),
            StatusCode::UNAUTHORIZED
        );
    }
);

#[tokio::test]
async fn over_https_cookies_are_secure_with_the_host_prefix_and_hsts_is_sent() {
    let app = crate::helpers::TestApp::spawn_configured(crate::helpers::Backend::Sqlite, |c| {
        c.base_url = url::Url::parse("https://secportal.example.jp").unwrap();
    })
    .await;
    let res = app.get("/login").await;
    assert!(res.headers().get("strict-transport-security").is_some());
    let cookie = res.headers().get("set-cookie").unwrap().to_str().unwrap();
    assert!(
        cookie.starts_with("__Host-secportal_csrf=")
            && cookie.contains("; Secure")
            && cookie.contains("Path=/"),
        "{cookie}"
    );
}

dual_test!(
    a_user_sees_their_sessions_ends_others_and_changes_the_password,
    |app| async move {
        app.add_user("kanri@a.example.jp", "org_admin", Some("AAAAA"))
            .await;
        let laptop = app.new_browser();
        let phone = app.new_browser();
        laptop.login("kanri@a.example.jp", PASSWORD).await;
        phone.login("kanri@a.example.jp", PASSWORD).await;
        let page = laptop.get("/account").await.text().await.unwrap();
        assert!(
            page.contains("この端末") && page.matches("/end\"").count() == 2,
            "two sessions, this one marked: {page}"
        );
        assert!(page.contains("127.0.0.1") && page.contains("JST"));

        // End every other session: the phone is signed out at once.
        let res = laptop.post("/account/sessions/end-others", &[]).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(phone.get("/home").await.status(), StatusCode::SEE_OTHER);
        assert_eq!(laptop.get("/home").await.status(), StatusCode::OK);
        assert_eq!(app.audit_count("session.ended_others").await, 1);

        // The password changes only with the current one.
        let phone = app.new_browser();
        phone.login("kanri@a.example.jp", PASSWORD).await;
        let new_password = "a-new-and-long-passphrase-77";
        let res = laptop
            .post(
                "/account/password",
                &[
                    ("current_password", "not-the-password-1"),
                    ("password", new_password),
                    ("password_confirm", new_password),
                ],
            )
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            res.text()
                .await
                .unwrap()
                .contains("現在のパスワードが正しくありません")
        );
        let mails = app.mail_count();
        let res = laptop
            .post(
                "/account/password",
                &[
                    ("current_password", PASSWORD),
                    ("password", new_password),
                    ("password_confirm", new_password),
                ],
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(
            phone.get("/home").await.status(),
            StatusCode::SEE_OTHER,
            "other sessions ended"
        );
        assert_eq!(laptop.get("/home").await.status(), StatusCode::OK);
        assert_eq!(app.wait_mail_count(mails + 1).await, mails + 1);
        assert!(
            app.mail_text("kanri@a.example.jp", "パスワードが変更されました")
                .contains("127.0.0.1")
        );
        assert_eq!(
            app.new_browser()
                .login("kanri@a.example.jp", new_password)
                .await
                .status(),
            StatusCode::SEE_OTHER
        );
        assert_eq!(app.audit_count("user.password_changed").await, 1);

        // Signing out this device from the list is a sign-out.
        let page = laptop.get("/account").await.text().await.unwrap();
        let mine = page
            .split("<tr>")
            .find(|row| row.contains("この端末"))
            .and_then(|row| row.split("/account/sessions/").nth(1))
            .and_then(|rest| rest.split('/').next())
            .unwrap()
            .to_string();
        let res = laptop
            .post(&format!("/account/sessions/{mine}/end"), &[])
            .await;
        assert_eq!(location(&res), "/login");
        assert_eq!(laptop.get("/home").await.status(), StatusCode::SEE_OTHER);
        // Someone else's handle (or nonsense) is not found.
        let other = app.new_browser();
        other.login("kanri@a.example.jp", new_password).await;
        assert_eq!(
            other.post("/account/sessions/zz/end", &[]).await.status(),
            StatusCode::NOT_FOUND
        );
    }
);

dual_test!(
    the_language_a_person_chose_follows_them_to_another_browser,
    |app| async move {
        app.add_user("clerk@a.example.jp", "org_member", Some("AAAAA"))
            .await;
        let first = app.new_browser();
        first.login("clerk@a.example.jp", PASSWORD).await;
        assert!(first.html("/home").await.contains("<html lang=\"ja\""));
        first
            .post("/lang", &[("lang", "en"), ("next", "/home")])
            .await;
        first
            .post("/lang", &[("lang", "en"), ("next", "/home")])
            .await;
        // Audited once (the second press changed nothing).
        assert_eq!(app.audit_count("account.lang_changed").await, 1);
        // Another browser, never told: English from the sign-in on.
        let second = app.new_browser();
        assert!(second.html("/login").await.contains("<html lang=\"ja\""));
        second.login("clerk@a.example.jp", PASSWORD).await;
        assert!(second.html("/home").await.contains("<html lang=\"en\""));
        // A visitor's choice is the browser's alone.
        let visitor = app.new_browser();
        visitor
            .post("/lang", &[("lang", "en"), ("next", "/login")])
            .await;
        assert_eq!(app.audit_count("account.lang_changed").await, 1);
    }
);

dual_test!(
    a_person_changes_their_own_name_on_the_account_page,
    |app| async move {
        // Created at the command line without a name: named by the address, and asked to
        // name themselves first thing.
        secportal::cli::add_user(
            &app.state.config,
            "clerk@a.example.jp",
            "org_admin",
            Some("AAAAA"),
            PASSWORD,
            None,
        )
        .await
        .unwrap();
        app.login("clerk@a.example.jp", PASSWORD).await;
        let home = app.html("/home").await;
        assert!(
            home.contains("<a href=\"/account#name\">アカウントに氏名を登録する"),
            "{home}"
        );
        let page = app.html("/account").await;
        assert!(page.contains("action=\"/account/name\""), "{page}");
        // Nothing typed, or a name that hides characters: refused beside the field.
        for (bad, says) in [("  ", "氏名を入力してください"), ("山田\u{200B}太郎", "")]
        {
            let res = app.post("/account/name", &[("display_name", bad)]).await;
            assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{bad:?}");
            let body = res.text().await.unwrap();
            assert!(
                body.contains(says) && body.contains("aria-invalid"),
                "{body}"
            );
        }
        let res = app
            .post("/account/name", &[("display_name", " 山田　花子 ")])
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let home = app.html("/home").await;
        assert!(home.contains("山田　花子"), "the header names her: {home}");
        assert!(!home.contains("アカウントに氏名を登録する"), "{home}");
        // The same name again changes nothing and writes nothing.
        app.post("/account/name", &[("display_name", "山田　花子")])
            .await;
        assert_eq!(app.audit_count("account.renamed").await, 1);
        let trail = app.html("/audit").await;
        assert!(
            trail.contains("氏名の変更") && trail.contains("氏名: 山田　花子"),
            "{trail}"
        );
    }
);

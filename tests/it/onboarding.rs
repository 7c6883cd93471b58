//! First-run setup, invitations and password resets through one-time links.

use reqwest::StatusCode;

use crate::dual_test;
use crate::helpers::{PASSWORD, location};

dual_test!(
    first_run_setup_link_creates_the_center_admin_once,
    |app| async move {
        // The app printed a link at start; make another the same way and use it.
        let link = secportal::app::onboarding::setup_link_if_needed(&app.state)
            .await
            .unwrap()
            .expect("no admin yet");
        let path = link.strip_prefix(&app.base).unwrap().to_string();
        let token = path.split("token=").nth(1).unwrap().to_string();
        let page = app.get(&path).await;
        assert_eq!(page.status(), StatusCode::OK);
        // A weak password is refused next to its field; nothing is created.
        let res = app
            .post(
                "/setup",
                &[
                    ("token", &token),
                    ("email", "boss@center.example.jp"),
                    ("display_name", "センター 管理"),
                    ("password", "password"),
                    ("password_confirm", "password"),
                ],
            )
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(res.text().await.unwrap().contains("12文字以上"));
        assert_eq!(app.count("users").await, 0);
        let res = app
            .post(
                "/setup",
                &[
                    ("token", &token),
                    ("email", "boss@center.example.jp"),
                    ("display_name", "センター 管理"),
                    ("password", PASSWORD),
                    ("password_confirm", PASSWORD),
                ],
            )
            .await;
        assert_eq!(
            res.status(),
            StatusCode::SEE_OTHER,
            "{}",
            res.text().await.unwrap()
        );
        assert_eq!(
            app.login("boss@center.example.jp", PASSWORD).await.status(),
            StatusCode::SEE_OTHER
        );
        // The link is spent, and setup is closed now that an admin exists.
        let again = app.new_browser().get(&path).await;
        assert_eq!(again.status(), StatusCode::GONE);
        assert!(
            again
                .text()
                .await
                .unwrap()
                .contains("有効期限が切れているか、既に使用されています")
        );
        assert!(
            secportal::app::onboarding::setup_link_if_needed(&app.state)
                .await
                .unwrap()
                .is_none()
        );
    }
);

dual_test!(
    invited_org_admin_accepts_from_the_mail_and_signs_in,
    |app| async move {
        app.add_user("admin@center.example.jp", "center_admin", None)
            .await;
        app.login("admin@center.example.jp", PASSWORD).await;
        let res = app
            .post(
                "/admin/orgs",
                &[
                    ("name", "日本通関株式会社"),
                    ("user_code", "ｊｐ００１"),
                    ("admin_email", "Kanri@Tsukan.example.jp"),
                ],
            )
            .await;
        assert_eq!(
            res.status(),
            StatusCode::SEE_OTHER,
            "{}",
            res.text().await.unwrap()
        );
        assert!(location(&res).starts_with("/admin/orgs/"));
        let org_page = app.get(&location(&res)).await.text().await.unwrap();
        assert!(
            org_page.contains("日本通関株式会社")
                && org_page.contains("JP001")
                && org_page.contains("kanri@tsukan.example.jp")
        );
        assert_eq!(app.audit_count("organisation.created").await, 1);
        assert_eq!(app.audit_count("user.invited").await, 1);

        let link = app
            .mail_link("kanri@tsukan.example.jp", "/invitations/accept?token=")
            .expect("invitation mail");
        let path = link.strip_prefix(&app.base).unwrap().to_string();
        let invitee = app.new_browser();
        let page = invitee.get(&path).await;
        assert_eq!(page.status(), StatusCode::OK);
        // The page says what the invitation is for.
        let text = page.text().await.unwrap();
        assert!(
            text.contains("日本通関株式会社の組織管理者として招待されています。"),
            "{text}"
        );
        let token = path.split("token=").nth(1).unwrap().to_string();
        // Mismatched passwords are refused next to the field.
        let res = invitee
            .post(
                &path,
                &[
                    ("token", &token),
                    ("display_name", "管理 花子"),
                    ("password", PASSWORD),
                    ("password_confirm", "different-password-1"),
                ],
            )
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        // … told under the confirmation, the field that differs.
        let body = res.text().await.unwrap();
        assert!(
            body.contains("id=\"f-password_confirm-error\"")
                && !body.contains("id=\"f-password-error\""),
            "{body}"
        );
        // One character repeated is refused, however long.
        let res = invitee
            .post(
                &path,
                &[
                    ("token", &token),
                    ("display_name", "管理 花子"),
                    ("password", "aaaaaaaaaaaa"),
                    ("password_confirm", "aaaaaaaaaaaa"),
                ],
            )
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(res.text().await.unwrap().contains("同じ文字の繰り返し"));
        let res = invitee
            .post(
                "/invitations/accept",
                &[
                    ("token", &token),
                    ("display_name", "管理 花子"),
                    ("password", PASSWORD),
                    ("password_confirm", PASSWORD),
                ],
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        // The sign-in page that follows has the address filled in, once.
        let login = invitee.get("/login").await.text().await.unwrap();
        assert!(
            login.contains("value=\"kanri@tsukan.example.jp\""),
            "{login}"
        );
        let login = invitee.get("/login").await.text().await.unwrap();
        assert!(!login.contains("kanri@tsukan.example.jp"), "{login}");
        let res = invitee.login("kanri@tsukan.example.jp", PASSWORD).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let home = invitee.get("/home").await.text().await.unwrap();
        assert!(home.contains("管理 花子") && home.contains("日本通関株式会社"));
        // Used once: the link now answers with a clear page.
        let again = app.new_browser().get(&path).await;
        assert_eq!(again.status(), StatusCode::GONE);
        assert!(
            again.text().await.unwrap().contains("ログインしてください"),
            "an accepted invitation's link says to sign in"
        );
    }
);

dual_test!(
    an_expired_invitation_shows_a_clear_page_and_changes_nothing,
    |app| async move {
        app.add_user("admin@center.example.jp", "center_admin", None)
            .await;
        app.login("admin@center.example.jp", PASSWORD).await;
        app.post(
            "/users/invite",
            &[("email", "late@center.example.jp"), ("role", "reviewer")],
        )
        .await;
        let link = app
            .mail_link("late@center.example.jp", "/invitations/accept?token=")
            .unwrap();
        let db = app.db();
        secportal::db::on_db!(db, p => sqlx::query("UPDATE one_time_links SET expires_at = $1")
        .bind(chrono::Utc::now() - chrono::Duration::minutes(1))
        .execute(p)
        .await
        .map(|_| ()))
        .unwrap();
        let path = link.strip_prefix(&app.base).unwrap().to_string();
        let res = app.new_browser().get(&path).await;
        assert_eq!(res.status(), StatusCode::GONE);
        let token = path.split("token=").nth(1).unwrap().to_string();
        let res = app
            .new_browser()
            .post(
                "/invitations/accept",
                &[
                    ("token", &token),
                    ("display_name", "遅刻"),
                    ("password", PASSWORD),
                    ("password_confirm", PASSWORD),
                ],
            )
            .await;
        assert_eq!(res.status(), StatusCode::GONE);
        let user = secportal::db::users::by_email(db, "late@center.example.jp")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(user.status, "invited");
        assert!(user.password_hash.is_none());
        // A made-up token is the same clear page.
        assert_eq!(
            app.new_browser()
                .get("/invitations/accept?token=nonsense")
                .await
                .status(),
            StatusCode::GONE
        );

        // The Center admin sees it expired on the user's page and sends it again: a new link
        // that works, the old one still gone.
        let page = app
            .get(&format!("/users/{}", user.id))
            .await
            .text()
            .await
            .unwrap();
        assert!(
            page.contains("期限切れ") && page.contains("招待メールを再送する"),
            "{page}"
        );
        let mails = app.mail_count();
        let res = app
            .post(&format!("/users/{}/invitation", user.id), &[])
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(app.audit_count("user.invitation_resent").await, 1);
        app.wait_mail_count(mails + 1).await;
        let fresh = app
            .mail_link("late@center.example.jp", "/invitations/accept?token=")
            .unwrap();
        assert_ne!(fresh, link);
        let page = app
            .get(&format!("/users/{}", user.id))
            .await
            .text()
            .await
            .unwrap();
        assert!(page.contains("招待メールを再送しました") && page.contains("まで有効です"));
        let fresh_path = fresh.strip_prefix(&app.base).unwrap().to_string();
        let token = fresh_path.split("token=").nth(1).unwrap().to_string();
        let invitee = app.new_browser();
        assert_eq!(invitee.get(&fresh_path).await.status(), StatusCode::OK);
        let res = invitee
            .post(
                "/invitations/accept",
                &[
                    ("token", &token),
                    ("display_name", "遅刻 太郎"),
                    ("password", PASSWORD),
                    ("password_confirm", PASSWORD),
                ],
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(
            app.new_browser().get(&path).await.status(),
            StatusCode::GONE
        );
        // Signed up: nothing left to resend.
        let res = app
            .post(&format!("/users/{}/invitation", user.id), &[])
            .await;
        assert_eq!(res.status(), StatusCode::CONFLICT);
    }
);

dual_test!(
    password_reset_mails_only_registered_addresses_and_ends_old_sessions,
    |app| async move {
        app.add_user("clerk@example.jp", "org_admin", Some("AB123"))
            .await;
        let other = app.new_browser();
        other.login("clerk@example.jp", PASSWORD).await;
        assert_eq!(app.count("sessions").await, 1);
        let mails = app.mail_count();
        let res = app
            .post("/password/forgot", &[("email", "nobody@example.jp")])
            .await;
        assert_eq!(res.status(), StatusCode::OK);
        let unknown_body = res.text().await.unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        assert_eq!(app.mail_count(), mails, "no mail for an unknown address");
        let res = app
            .post("/password/forgot", &[("email", "CLERK@example.jp")])
            .await;
        assert_eq!(
            res.text().await.unwrap(),
            unknown_body.replace("nobody@example.jp", "CLERK@example.jp"),
            "the same answer either way"
        );
        assert_eq!(app.wait_mail_count(mails + 1).await, mails + 1);
        let link = app
            .mail_link("clerk@example.jp", "/password/reset?token=")
            .unwrap();
        let path = link.strip_prefix(&app.base).unwrap().to_string();
        let token = path.split("token=").nth(1).unwrap().to_string();
        let new_password = "a-brand-new-passphrase-2026";
        let res = app
            .post(
                "/password/reset",
                &[
                    ("token", &token),
                    ("password", new_password),
                    ("password_confirm", new_password),
                ],
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(app.count("sessions").await, 0, "old sessions ended");
        assert_eq!(
            app.login("clerk@example.jp", PASSWORD).await.status(),
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            app.login("clerk@example.jp", new_password).await.status(),
            StatusCode::SEE_OTHER
        );
        assert_eq!(
            app.new_browser().get(&path).await.status(),
            StatusCode::GONE
        );
    }
);

dual_test!(
    switching_language_on_a_reset_page_keeps_the_links_token,
    |app| async move {
        app.add_user("clerk@example.jp", "org_admin", Some("AB123"))
            .await;
        let mails = app.mail_count();
        app.post("/password/forgot", &[("email", "clerk@example.jp")])
            .await;
        app.wait_mail_count(mails + 1).await;
        let link = app
            .mail_link("clerk@example.jp", "/password/reset?token=")
            .unwrap();
        let path = link.strip_prefix(&app.base).unwrap().to_string();
        let next_of = |page: &str| {
            page.split("name=\"next\" value=\"")
                .nth(1)
                .and_then(|rest| rest.split('"').next())
                .unwrap()
                .replace("&amp;", "&")
                .replace("&#x3d;", "=")
                .replace("&#61;", "=")
        };
        let page = app.get(&path).await.text().await.unwrap();
        let next = next_of(&page);
        assert_eq!(next, path, "the page comes back with its token");
        // The form posted with a mistake comes back from the bare path; its switch still
        // carries the token.
        let token = path.split("token=").nth(1).unwrap().to_string();
        let res = app
            .post(
                "/password/reset",
                &[
                    ("token", &token),
                    ("password", "correct horse battery"),
                    ("password_confirm", "another horse battery"),
                ],
            )
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(next_of(&res.text().await.unwrap()), path);
        let res = app.post("/lang", &[("lang", "en"), ("next", &next)]).await;
        assert_eq!(crate::helpers::location(&res), path);
        let page = app.get(&path).await;
        assert_eq!(page.status(), StatusCode::OK);
        assert!(page.text().await.unwrap().contains("New password"));
    }
);

//! Managing users and organisations; tenant isolation.

use reqwest::StatusCode;

use crate::dual_test;
use crate::helpers::{PASSWORD, TestApp, location};

async fn user_id(app: &TestApp, email: &str) -> String {
    secportal::db::users::by_email(app.db(), email)
        .await
        .unwrap()
        .unwrap()
        .id
        .to_string()
}

dual_test!(
    org_admin_invites_a_member_into_their_own_organisation,
    |app| async move {
        app.add_user("a-admin@a.example.jp", "org_admin", Some("AAAAA"))
            .await;
        app.add_user("b-admin@b.example.jp", "org_admin", Some("BBBBB"))
            .await;
        app.login("a-admin@a.example.jp", PASSWORD).await;
        // The org_id field is ignored for org admins: the member lands in org A.
        let b_org = app.org_of("b-admin@b.example.jp").await;
        let res = app
            .post(
                "/users/invite",
                &[
                    ("email", "member@a.example.jp"),
                    ("role", "org_member"),
                    ("org_id", &b_org.to_string()),
                ],
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let member = secportal::db::users::by_email(app.db(), "member@a.example.jp")
            .await
            .unwrap()
            .unwrap();
        let a_org = secportal::db::users::by_email(app.db(), "a-admin@a.example.jp")
            .await
            .unwrap()
            .unwrap()
            .org_id;
        assert_eq!(member.org_id, a_org);
        // An org admin cannot hand out Center roles.
        let res = app
            .post(
                "/users/invite",
                &[("email", "x@a.example.jp"), ("role", "center_admin")],
            )
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            secportal::db::users::by_email(app.db(), "x@a.example.jp")
                .await
                .unwrap()
                .is_none()
        );
        // An invitation not yet accepted is sent again as the new one says (a slip in its role
        // put right), the earlier link dead; the inviter lands on the person's page.
        let res = app
            .post(
                "/users/invite",
                &[("email", "MEMBER@a.example.jp"), ("role", "org_admin")],
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&res), format!("/users/{}", member.id));
        let again = secportal::db::users::by_email(app.db(), "member@a.example.jp")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (
                again.id,
                again.role.as_str(),
                again.org_id,
                again.status.as_str()
            ),
            (member.id, "org_admin", a_org, "invited")
        );
        // A taken address is told next to the field: one of the inviter's own organisation is
        // pointed at its page …
        let res = app
            .post(
                "/users/invite",
                &[("email", "A-ADMIN@a.example.jp"), ("role", "org_member")],
            )
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let html = res.text().await.unwrap();
        assert!(html.contains("既に登録済みです"), "{html}");
        // … one of another organisation is not theirs to look for: no list to look in.
        let res = app
            .post(
                "/users/invite",
                &[("email", "B-ADMIN@b.example.jp"), ("role", "org_member")],
            )
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let html = res.text().await.unwrap();
        assert!(
            html.contains("このメールアドレスでは招待できません")
                && !html.contains("「招待メールを再送する」"),
            "{html}"
        );
        let list = app.get("/users").await.text().await.unwrap();
        assert!(list.contains("member@a.example.jp") && !list.contains("b-admin@b.example.jp"));
    }
);

dual_test!(a_user_of_org_a_gets_404_on_org_b_users, |app| async move {
    app.add_user("a-admin@a.example.jp", "org_admin", Some("AAAAA"))
        .await;
    app.add_user("b-member@b.example.jp", "org_member", Some("BBBBB"))
        .await;
    let b_id = user_id(&app, "b-member@b.example.jp").await;
    app.login("a-admin@a.example.jp", PASSWORD).await;
    assert_eq!(
        app.get(&format!("/users/{b_id}")).await.status(),
        StatusCode::NOT_FOUND
    );
    let res = app
        .post(
            &format!("/users/{b_id}/status"),
            &[("status", "disabled"), ("confirm", "yes")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let res = app
        .post(&format!("/users/{b_id}/role"), &[("role", "org_admin")])
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let res = app
        .post(&format!("/users/{b_id}/password-reset"), &[])
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert!(
        app.mail_link("b-member@b.example.jp", "/password/reset?token=")
            .is_none()
    );
    let b = secportal::db::users::by_email(app.db(), "b-member@b.example.jp")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (b.status.as_str(), b.role.as_str()),
        ("active", "org_member")
    );
    // Center pages are not for organisations.
    let b_org = b.org_id.unwrap();
    assert_eq!(
        app.get(&format!("/admin/orgs/{b_org}")).await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(app.get("/admin/orgs").await.status(), StatusCode::FORBIDDEN);
});

dual_test!(an_org_member_cannot_manage_users, |app| async move {
    app.add_user("member@a.example.jp", "org_member", Some("AAAAA"))
        .await;
    app.login("member@a.example.jp", PASSWORD).await;
    assert_eq!(app.get("/users").await.status(), StatusCode::FORBIDDEN);
    let res = app
        .post(
            "/users/invite",
            &[("email", "x@a.example.jp"), ("role", "org_member")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.count("users").await, 1);
});

dual_test!(disabling_a_user_ends_all_their_sessions, |app| async move {
    app.add_user("admin@center.example.jp", "center_admin", None)
        .await;
    app.add_user("clerk@a.example.jp", "org_member", Some("AAAAA"))
        .await;
    let clerk = app.new_browser();
    clerk.login("clerk@a.example.jp", PASSWORD).await;
    let clerk2 = app.new_browser();
    clerk2.login("clerk@a.example.jp", PASSWORD).await;
    assert_eq!(clerk.get("/home").await.status(), StatusCode::OK);
    app.login("admin@center.example.jp", PASSWORD).await;
    let id = user_id(&app, "clerk@a.example.jp").await;
    // Not confirmed on the page: nothing happens, and the page says why.
    let res = app
        .post(&format!("/users/{id}/status"), &[("status", "disabled")])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let page = app.get(&format!("/users/{id}")).await.text().await.unwrap();
    assert!(page.contains("確認の欄にチェック"), "{page}");
    assert_eq!(clerk.get("/home").await.status(), StatusCode::OK);
    assert_eq!(app.audit_count("user.disabled").await, 0);
    let res = app
        .post(
            &format!("/users/{id}/status"),
            &[("status", "disabled"), ("confirm", "yes")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(clerk.get("/home").await.status(), StatusCode::SEE_OTHER);
    assert_eq!(clerk2.get("/home").await.status(), StatusCode::SEE_OTHER);
    // With the right password the clerk is told the account is disabled and whom to ask;
    // a wrong one gets the usual answer, so a stranger learns nothing.
    let res = app
        .new_browser()
        .login("clerk@a.example.jp", PASSWORD)
        .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let body = res.text().await.unwrap();
    assert!(
        body.contains("このアカウントは無効になっています"),
        "{body}"
    );
    let res = app
        .new_browser()
        .login("clerk@a.example.jp", "not-the-password-1")
        .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let body = res.text().await.unwrap();
    assert!(
        body.contains("メールアドレスまたはパスワードが正しくありません")
            && !body.contains("利用停止"),
        "{body}"
    );
    assert_eq!(app.audit_count("user.disabled").await, 1);
    // The person is told, and by whom.
    let mail = app
        .wait_mail_text("clerk@a.example.jp", "あなたのアカウントを無効にしました")
        .await;
    assert!(
        mail.contains("NACCS センターの管理者") && mail.contains("a NACCS Center administrator"),
        "{mail}"
    );
    // Enabled again, the user can sign in.
    app.post(&format!("/users/{id}/status"), &[("status", "active")])
        .await;
    app.wait_mail_text(
        "clerk@a.example.jp",
        "あなたのアカウントを再び有効にしました",
    )
    .await;
    assert_eq!(
        app.new_browser()
            .login("clerk@a.example.jp", PASSWORD)
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
});

dual_test!(
    role_changes_are_audited_and_stay_within_org_roles,
    |app| async move {
        app.add_user("a-admin@a.example.jp", "org_admin", Some("AAAAA"))
            .await;
        app.add_user("member@a.example.jp", "org_member", Some("AAAAA"))
            .await;
        app.login("a-admin@a.example.jp", PASSWORD).await;
        let id = user_id(&app, "member@a.example.jp").await;
        let res = app
            .post(&format!("/users/{id}/role"), &[("role", "org_admin")])
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(app.audit_count("user.role_changed").await, 1);
        let res = app
            .post(&format!("/users/{id}/role"), &[("role", "reviewer")])
            .await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST);
        let m = secportal::db::users::by_email(app.db(), "member@a.example.jp")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(m.role, "org_admin");
    }
);

dual_test!(
    a_malformed_user_code_is_refused_next_to_the_field_and_nothing_is_saved,
    |app| async move {
        app.add_user("admin@center.example.jp", "center_admin", None)
            .await;
        app.login("admin@center.example.jp", PASSWORD).await;
        let mails = app.mail_count();
        for (code, email) in [
            ("AB-12", "ok@example.jp"),
            ("ABCDEF", "ok@example.jp"),
            ("AB123", "not-an-email"),
        ] {
            let res = app
                .post(
                    "/admin/orgs",
                    &[
                        ("name", "株式会社　全角スペース"),
                        ("user_code", code),
                        ("admin_email", email),
                    ],
                )
                .await;
            assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
            let body = res.text().await.unwrap();
            assert!(body.contains("aria-invalid=\"true\""), "{body}");
            assert!(body.contains("株式会社　全角スペース"), "input kept");
        }
        // A taken code, with everything else valid: the organisation is not half-made.
        app.post(
            "/admin/orgs",
            &[
                ("name", "一号"),
                ("user_code", "AB123"),
                ("admin_email", "one@example.jp"),
            ],
        )
        .await;
        let res = app
            .post(
                "/admin/orgs",
                &[
                    ("name", "二号"),
                    ("user_code", "ab123"),
                    ("admin_email", "two@example.jp"),
                ],
            )
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            res.text()
                .await
                .unwrap()
                .contains("既に他の組織で登録されています")
        );
        // A taken e-mail rolls back the new organisation.
        let res = app
            .post(
                "/admin/orgs",
                &[
                    ("name", "三号"),
                    ("user_code", "CD456"),
                    ("admin_email", "one@example.jp"),
                ],
            )
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(app.count("organisations").await, 1);
        assert_eq!(app.count("users").await, 2);
        assert_eq!(app.mail_count(), mails + 1);
        let list = app.get("/admin/orgs").await.text().await.unwrap();
        assert!(list.contains("一号") && !list.contains("二号") && !list.contains("三号"));
        let _ = location(&res);
    }
);

dual_test!(
    an_administrator_mails_a_password_reset_to_a_person_of_the_organisation,
    |app| async move {
        app.add_user("a-admin@a.example.jp", "org_admin", Some("AAAAA"))
            .await;
        app.add_user("clerk@a.example.jp", "org_member", Some("AAAAA"))
            .await;
        let clerk = user_id(&app, "clerk@a.example.jp").await;
        app.login("a-admin@a.example.jp", PASSWORD).await;
        let page = app.html(&format!("/users/{clerk}")).await;
        assert!(page.contains("パスワード再設定のメールを送る"), "{page}");
        let res = app
            .post(&format!("/users/{clerk}/password-reset"), &[])
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert!(
            app.html(&format!("/users/{clerk}"))
                .await
                .contains("パスワード再設定のメールを送りました。")
        );
        assert_eq!(app.audit_count("user.password_reset_sent").await, 1);
        app.wait_mail_text("clerk@a.example.jp", "/password/reset?token=")
            .await;
        let link = app
            .mail_link("clerk@a.example.jp", "/password/reset?token=")
            .expect("the reset mail");
        // The link works for the clerk: a new password, then a sign-in with it.
        let path = link.strip_prefix(&app.base).unwrap().to_string();
        let token = path.split("token=").nth(1).unwrap().to_string();
        let clerk_browser = app.new_browser();
        assert_eq!(clerk_browser.get(&path).await.status(), StatusCode::OK);
        let res = clerk_browser
            .post(
                "/password/reset",
                &[
                    ("token", token.as_str()),
                    ("password", "新しい合言葉-成田-2026"),
                    ("password_confirm", "新しい合言葉-成田-2026"),
                ],
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(
            app.new_browser()
                .login("clerk@a.example.jp", "新しい合言葉-成田-2026")
                .await
                .status(),
            StatusCode::SEE_OTHER
        );
        // A disabled account gets none.
        let res = app
            .post(
                &format!("/users/{clerk}/status"),
                &[("status", "disabled"), ("confirm", "yes")],
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let res = app
            .post(&format!("/users/{clerk}/password-reset"), &[])
            .await;
        assert_eq!(res.status(), StatusCode::CONFLICT);
        assert_eq!(app.audit_count("user.password_reset_sent").await, 1);
    }
);

dual_test!(
    the_center_is_warned_before_an_organisation_is_left_without_an_administrator,
    |app| async move {
        app.add_user("admin@center.example.jp", "center_admin", None)
            .await;
        app.add_user("kanri@a.example.jp", "org_admin", Some("AAAAA"))
            .await;
        app.add_user("clerk@a.example.jp", "org_member", Some("AAAAA"))
            .await;
        let org = app.org_of("kanri@a.example.jp").await;
        let (kanri, clerk) = (
            user_id(&app, "kanri@a.example.jp").await,
            user_id(&app, "clerk@a.example.jp").await,
        );
        // A page that is not there keeps a signed-in person's navigation (not a visitor's).
        let missing = app
            .get("/orgs/00000000-0000-0000-0000-000000000000/nothing")
            .await;
        assert_eq!(missing.status(), StatusCode::NOT_FOUND);
        assert!(!missing.text().await.unwrap().contains("action=\"/logout\""));
        app.login("admin@center.example.jp", PASSWORD).await;
        let missing = app
            .get("/orgs/00000000-0000-0000-0000-000000000000/nothing")
            .await;
        assert_eq!(missing.status(), StatusCode::NOT_FOUND);
        let body = missing.text().await.unwrap();
        assert!(
            body.contains("action=\"/logout\"") && body.contains("href=\"/admin/orgs\""),
            "{body}"
        );
        // So does an address whose id cannot be read (cut short, typed by hand): not found, not
        // "reload and try again".
        let cut = app.get("/orgs/nonexistent").await;
        assert_eq!(cut.status(), StatusCode::NOT_FOUND);
        let body = cut.text().await.unwrap();
        assert!(
            body.contains("action=\"/logout\"") && !body.contains("再読み込み"),
            "{body}"
        );

        // The only administrator's page says what disabling them would leave.
        let page = app.html(&format!("/users/{kanri}")).await;
        assert!(
            page.contains("この方は組織で唯一の有効な管理者です")
                && page.contains(&format!(
                    "href=\"/users/invite?org={org}&amp;role=org_admin\""
                )),
            "{page}"
        );
        assert!(
            !app.html(&format!("/users/{clerk}"))
                .await
                .contains("唯一の有効な管理者")
        );
        // A second factor the organisation requires and the person has not set up is said so.
        assert!(
            !app.html(&format!("/users/{clerk}"))
                .await
                .contains("次回ログイン時に設定を求められます")
        );
        app.post(
            &format!("/admin/orgs/{org}/second-factor"),
            &[("required", "true")],
        )
        .await;
        // The organisation's list says who still has to set it up.
        let list = app.html(&format!("/admin/orgs/{org}")).await;
        let row = list
            .split("<tr>")
            .find(|r| r.contains("clerk@a.example.jp"))
            .unwrap_or_default();
        assert!(
            row.contains("<td>未設定 <span class=\"status overdue\">必須</span></td>"),
            "{row}"
        );
        let page = app.html(&format!("/users/{clerk}")).await;
        assert!(
            page.contains("2段階認証は設定されていません。")
                && page.contains("必須：次回ログイン時に設定を求められます"),
            "{page}"
        );
        // Disabled all the same (the Center may have to), the organisation's page says so.
        assert!(
            !app.html(&format!("/admin/orgs/{org}"))
                .await
                .contains("有効な管理者がいません")
        );
        app.post(
            &format!("/users/{kanri}/status"),
            &[("status", "disabled"), ("confirm", "yes")],
        )
        .await;
        assert!(
            app.html(&format!("/admin/orgs/{org}"))
                .await
                .contains("この組織には有効な管理者がいません。")
        );
        // An invitation to it offers an administrator first; with one, a member.
        let selected =
            |html: &str, role: &str| html.contains(&format!("<option value=\"{role}\" selected>"));
        let html = app.html(&format!("/users/invite?org={org}")).await;
        assert!(selected(&html, "org_admin"), "{html}");
        // In English too.
        app.post("/lang", &[("lang", "en")]).await;
        app.post(&format!("/users/{kanri}/status"), &[("status", "active")])
            .await;
        // Enabled again, they are told the second factor waits for them.
        let mail = app
            .wait_mail_text("kanri@a.example.jp", "再び有効にしました")
            .await;
        assert!(
            mail.contains("2段階認証（認証アプリまたはパスキー）の設定画面が表示されます")
                && mail.contains("which your account requires"),
            "{mail}"
        );
        let page = app.html(&format!("/users/{kanri}")).await;
        assert!(
            page.contains("only active administrator. Disabling them"),
            "{page}"
        );
        let page = app.html(&format!("/users/{clerk}")).await;
        assert!(
            page.contains("Required: they will be asked to set it up"),
            "{page}"
        );
        // Made a member, the only administrator needs the page's box ticked too.
        let role_of = async || {
            secportal::db::users::by_email(app.db(), "kanri@a.example.jp")
                .await
                .unwrap()
                .unwrap()
                .role
        };
        app.post(&format!("/users/{kanri}/role"), &[("role", "org_member")])
            .await;
        assert_eq!(role_of().await, "org_admin");
        app.post(
            &format!("/users/{kanri}/role"),
            &[("role", "org_member"), ("confirm", "yes")],
        )
        .await;
        assert_eq!(role_of().await, "org_member");
        let html = app.html(&format!("/users/invite?org={org}")).await;
        assert!(selected(&html, "org_admin"), "none left: {html}");
        app.post(&format!("/users/{clerk}/role"), &[("role", "org_admin")])
            .await;
        let html = app.html(&format!("/users/invite?org={org}")).await;
        assert!(selected(&html, "org_member"), "{html}");
    }
);

dual_test!(
    a_center_role_is_never_given_with_an_organisation_and_a_slip_is_put_right_by_inviting_again,
    |app| async move {
        app.add_user("admin@center.example.jp", "center_admin", None)
            .await;
        app.add_user("kanri@bank.example.jp", "org_admin", Some("1A2B3"))
            .await;
        let org = app.org_of("kanri@bank.example.jp").await.to_string();
        app.login("admin@center.example.jp", PASSWORD).await;
        // The plain invitation offers no role: one is chosen.
        let html = app.html("/users/invite").await;
        assert!(html.contains("<option value=\"\" selected>"), "{html}");
        let res = app
            .post(
                "/users/invite",
                &[("email", "ito@bank.example.jp"), ("org_id", &org)],
            )
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(res.text().await.unwrap().contains("役割を選んでください。"));
        // A Center role with an organisation chosen is a slip: refused, nothing made.
        let res = app
            .post(
                "/users/invite",
                &[
                    ("email", "ito@bank.example.jp"),
                    ("role", "reviewer"),
                    ("org_id", &org),
                ],
            )
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            res.text()
                .await
                .unwrap()
                .contains("組織を選んだときは、組織メンバーか組織管理者を選んでください")
        );
        assert!(
            secportal::db::users::by_email(app.db(), "ito@bank.example.jp")
                .await
                .unwrap()
                .is_none()
        );
        // Invited as a reviewer without one, then disabled before accepting: inviting the
        // address again as the organisation's member puts it right (the first link dies).
        let res = app
            .post(
                "/users/invite",
                &[("email", "ito@bank.example.jp"), ("role", "reviewer")],
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        // Center staff inviting Center staff write as themselves.
        let mail = app.wait_mail_text("ito@bank.example.jp", "招待").await;
        assert!(
            mail.contains("テスト 太郎さんから") && !mail.contains("NACCS センターのテスト"),
            "{mail}"
        );
        let first = app
            .mail_link("ito@bank.example.jp", "/invitations/accept")
            .expect("the invitation's link");
        let id = user_id(&app, "ito@bank.example.jp").await;
        assert_eq!(location(&res), format!("/users/{id}"));
        app.post(
            &format!("/users/{id}/status"),
            &[("status", "disabled"), ("confirm", "yes")],
        )
        .await;
        let res = app
            .post(
                "/users/invite",
                &[
                    ("email", "ito@bank.example.jp"),
                    ("role", "org_member"),
                    ("org_id", &org),
                ],
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&res), format!("/admin/orgs/{org}"));
        assert!(
            app.html(&format!("/admin/orgs/{org}"))
                .await
                .contains("以前の招待のリンクは使えなくなりました")
        );
        // … and an organisation's people as the Center.
        let mail = app
            .wait_mail_text("ito@bank.example.jp", "NACCS センターのテスト 太郎さんから")
            .await;
        assert!(
            mail.contains("テスト 太郎 of the NACCS Center has invited you"),
            "{mail}"
        );
        let u = secportal::db::users::by_email(app.db(), "ito@bank.example.jp")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (
                u.id.to_string(),
                u.role.as_str(),
                u.org_id.map(|o| o.to_string()),
                u.status.as_str()
            ),
            (id, "org_member", Some(org.clone()), "invited")
        );
        let details = app.audit_details("user.invited").await;
        assert_eq!(details.last().unwrap()["again"], true, "{details:?}");
        // The first link no longer opens anything.
        let path = &first[first.find("/invitations").unwrap()..];
        let visitor = app.new_browser();
        let page = visitor.html(path).await;
        assert!(!page.contains("name=\"password\""), "{page}");
        // One who signed up is not invited again.
        let res = app
            .post(
                "/users/invite",
                &[
                    ("email", "kanri@bank.example.jp"),
                    ("role", "org_member"),
                    ("org_id", &org),
                ],
            )
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    }
);

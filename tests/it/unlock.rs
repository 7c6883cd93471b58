//! The unlock mail: after wrong passwords lock sign-in for an account and address, the owner
//! asks for a link by mail (the same answer for unknown addresses, limited per address and
//! per client address, audited) and the link lets them sign in again.

use reqwest::StatusCode;

use crate::dual_test;
use crate::helpers::{PASSWORD, csrf_from, location};

const OWNER: &str = "tanto@a.example.jp";

dual_test!(
    a_locked_owner_unlocks_sign_in_by_mail_and_the_link_works_once,
    |app| async move {
        app.add_user(OWNER, "org_member", Some("AAAAA")).await;
        let b = app.browser();
        for _ in 0..5 {
            assert_eq!(
                b.login(OWNER, "wrong-password-123").await.status(),
                StatusCode::UNAUTHORIZED
            );
        }
        let res = b.login(OWNER, PASSWORD).await;
        assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
        let page = res.text().await.unwrap();
        assert!(
            page.contains("href=\"/login/unlock\""),
            "the way back is offered"
        );
        assert!(
            b.get("/login")
                .await
                .text()
                .await
                .unwrap()
                .contains("ログインがロックされた場合")
        );

        // Known and unknown addresses get the same answer; only the owner gets mail.
        let mails = app.mail_count();
        let known = b.post("/login/unlock", &[("email", OWNER)]).await;
        assert_eq!(known.status(), StatusCode::OK);
        let known = known.text().await.unwrap();
        let unknown = b
            .post("/login/unlock", &[("email", "ghost@a.example.jp")])
            .await;
        assert_eq!(unknown.status(), StatusCode::OK);
        let unknown = unknown.text().await.unwrap();
        let sent = "入力されたアドレスが登録されていれば、ロック解除用のリンクを送信しました。";
        assert!(known.contains(sent) && unknown.contains(sent));
        assert_eq!(app.wait_mail_count(mails + 1).await, mails + 1);
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        assert_eq!(
            app.mail_count(),
            mails + 1,
            "nothing for an unknown address"
        );
        assert_eq!(app.audit_count("login.unlock_requested").await, 1);
        let res = b
            .post("/login/unlock", &[("email", "not an address")])
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);

        // Opening the link unlocks nothing (a mail scanner may open it); the button does.
        let link = app
            .mail_link(OWNER, "/login/unlock/confirm?token=")
            .expect("unlock link mailed");
        let path = link.trim_start_matches(&app.base).to_string();
        let page = b.get(&path).await;
        assert_eq!(page.status(), StatusCode::OK);
        let page = page.text().await.unwrap();
        assert_eq!(
            b.login(OWNER, PASSWORD).await.status(),
            StatusCode::TOO_MANY_REQUESTS
        );
        let token = path.split("token=").nth(1).unwrap().to_string();
        let res = b
            .post_raw(
                "/login/unlock/confirm",
                &[("token", &token), ("csrf_token", &csrf_from(&page))],
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&res), "/login");
        assert_eq!(app.audit_count("login.unlocked").await, 1);
        let res = b.login(OWNER, PASSWORD).await;
        assert_eq!(location(&res), "/home");

        // Used once: gone.
        assert_eq!(b.get(&path).await.status(), StatusCode::GONE);
        let res = app
            .new_browser()
            .post("/login/unlock/confirm", &[("token", &token)])
            .await;
        assert_eq!(res.status(), StatusCode::GONE);
        assert_eq!(app.audit_count("login.unlocked").await, 1);
    }
);

dual_test!(
    unlock_mails_are_limited_per_address_and_per_client_address,
    |app| async move {
        app.add_user(OWNER, "org_member", Some("AAAAA")).await;
        let b = app.new_browser();
        let mails = app.mail_count();
        for _ in 0..5 {
            let res = b.post("/login/unlock", &[("email", OWNER)]).await;
            assert_eq!(res.status(), StatusCode::OK);
        }
        app.wait_mail_count(mails + 3).await;
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        assert_eq!(
            app.mail_count(),
            mails + 3,
            "three links an hour per address"
        );
        for i in 0..5 {
            let email = format!("someone{i}@a.example.jp");
            assert_eq!(
                b.post("/login/unlock", &[("email", &email)]).await.status(),
                StatusCode::OK
            );
        }
        let res = b.post("/login/unlock", &[("email", OWNER)]).await;
        assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    }
);

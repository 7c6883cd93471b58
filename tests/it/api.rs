//! `/api/v1` with personal access tokens: what a token may do (scopes, role, organisation),
//! bearer only, problem details, idempotent POSTs, rate limit, audit of every use.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::api_support::{api, get_json, make_token, post, problem, reviewer_token, submitted};
use crate::dual_test;
use crate::helpers::{PASSWORD, TestApp, location};

dual_test!(
    a_token_is_shown_once_stored_only_as_a_hash_and_acts_as_its_owner,
    |app| async move {
        app.add_user("kanri@a.example.jp", "org_admin", Some("AAAAA"))
            .await;
        app.login("kanri@a.example.jp", PASSWORD).await;
        let secret = make_token(
            &app.browser(),
            "ウイルス対策の自動送信",
            &["reports_read", "reports_write"],
        )
        .await;
        assert!(secret.starts_with("spt_") && secret.len() > 40);
        let list = app.get("/account/tokens").await.text().await.unwrap();
        assert!(list.contains("ウイルス対策の自動送信") && !list.contains(&secret));
        let stored: Vec<u8> = secportal::db::on_db!(app.db(), p => sqlx::query_scalar("SELECT secret_hash FROM api_tokens")
            .fetch_one(p).await).unwrap();
        assert_eq!(stored, secportal::security::token_hash(&secret));
        assert_eq!(app.audit_count("api_token.created").await, 1);
        let me: Value = get_json(&app, &secret, "/api/v1/me").await;
        assert_eq!(me["email"], "kanri@a.example.jp");
        assert_eq!(me["scopes"], json!(["reports:read", "reports:write"]));
    }
);

dual_test!(
    a_token_cannot_carry_a_scope_its_owners_role_does_not_allow,
    |app| async move {
        app.add_user("member@a.example.jp", "org_member", Some("AAAAA"))
            .await;
        app.login("member@a.example.jp", PASSWORD).await;
        let res = app
            .post(
                "/account/tokens",
                &[
                    ("name", "x"),
                    ("expires_days", "30"),
                    ("review_write", "on"),
                ],
            )
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            res.text()
                .await
                .unwrap()
                .contains("あなたの役割では選べない")
        );
        let res = app
            .post(
                "/account/tokens",
                &[
                    ("name", "x"),
                    ("expires_days", "9999"),
                    ("reports_read", "on"),
                ],
            )
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(app.count("api_tokens").await, 0);
    }
);

dual_test!(
    the_api_takes_only_bearer_tokens_and_refuses_a_session_cookie,
    |app| async move {
        app.add_user("kanri@a.example.jp", "org_admin", Some("AAAAA"))
            .await;
        app.login("kanri@a.example.jp", PASSWORD).await;
        // The signed-in browser's cookies reach the API but open nothing.
        let res = app.get("/api/v1/me").await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        assert!(
            res.headers()["www-authenticate"]
                .to_str()
                .unwrap()
                .starts_with("Bearer")
        );
        let p = problem(res).await;
        assert_eq!(p["status"], 401);
        assert_eq!(p["title"], "認証されていません");
        let res = app.get("/api/v1/submissions").await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        let res = reqwest::Client::new()
            .get(app.url("/api/v1/me"))
            .header("authorization", "Bearer spt_not-a-token")
            .header("accept-language", "en")
            .send()
            .await
            .unwrap();
        assert_eq!(problem(res).await["title"], "Not authenticated");
    }
);

dual_test!(
    an_expired_or_revoked_token_is_refused_with_401,
    |app| async move {
        app.add_user("kanri@a.example.jp", "org_admin", Some("AAAAA"))
            .await;
        app.login("kanri@a.example.jp", PASSWORD).await;
        let b = app.browser();
        let revoked = make_token(&b, "revoked", &["reports_read"]).await;
        let expired = make_token(&b, "expired", &["reports_read"]).await;
        assert_eq!(
            api(&app, &revoked, "/api/v1/me")
                .send()
                .await
                .unwrap()
                .status(),
            StatusCode::OK
        );
        let id: uuid::Uuid = secportal::db::on_db!(app.db(), p => sqlx::query_scalar("SELECT id FROM api_tokens WHERE name = 'revoked'")
            .fetch_one(p).await).unwrap();
        let res = app.post(&format!("/account/tokens/{id}/revoke"), &[]).await;
        assert_eq!(location(&res), "/account/tokens");
        assert_eq!(app.audit_count("api_token.revoked").await, 1);
        assert_eq!(
            api(&app, &revoked, "/api/v1/me")
                .send()
                .await
                .unwrap()
                .status(),
            StatusCode::UNAUTHORIZED
        );
        let past = chrono::Utc::now() - chrono::Duration::days(1);
        secportal::db::on_db!(app.db(), p => sqlx::query("UPDATE api_tokens SET created_at = $1, expires_at = $2 WHERE name = 'expired'")
            .bind(past - chrono::Duration::days(30)).bind(past).execute(p).await.map(|_| ())).unwrap();
        assert_eq!(
            api(&app, &expired, "/api/v1/me")
                .send()
                .await
                .unwrap()
                .status(),
            StatusCode::UNAUTHORIZED
        );
        let page = app.get("/account/tokens").await.text().await.unwrap();
        assert!(page.contains("失効") && page.contains("期限切れ"));
    }
);

dual_test!(
    a_token_sees_only_its_own_organisation_and_another_organisations_ids_answer_404,
    |app| async move {
        let (b, _, mine) = submitted(&app, "kanri@a.example.jp", "AAAAA").await;
        let secret = make_token(&b, "a", &["reports_read"]).await;
        let (_, _, theirs) = submitted(&app, "kanri@b.example.jp", "BBBBB").await;
        let res = api(&app, &secret, &format!("/api/v1/submissions/{mine}"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let s: Value = res.json().await.unwrap();
        assert_eq!(s["state"], "submitted");
        assert!(s["receipt_no"].as_str().is_some_and(|r| !r.is_empty()));
        let res = api(&app, &secret, &format!("/api/v1/submissions/{theirs}"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
        assert_eq!(problem(res).await["title"], "見つかりません");
        let list: Value = get_json(&app, &secret, "/api/v1/submissions").await;
        let ids: Vec<&str> = list
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, vec![mine.as_str()]);
        // The Center's side is not an organisation token's.
        let res = api(&app, &secret, "/api/v1/review/queue")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
    }
);

dual_test!(
    a_read_token_cannot_write_and_nothing_changes,
    |app| async move {
        let (_, _, id) = submitted(&app, "kanri@a.example.jp", "AAAAA").await;
        let (_, secret) = reviewer_token(&app, &["review_read"]).await;
        let queue: Value = get_json(&app, &secret, "/api/v1/review/queue").await;
        assert_eq!(queue["items"][0]["id"], id.as_str());
        // The flags a reviewer reads first come as words of the API (none on a first version).
        assert_eq!(queue["items"][0]["flags"], json!([]));
        let res = post(
            &app,
            &secret,
            &format!("/api/v1/review/submissions/{id}/decision"),
            "k1",
            &json!({"decision": "accepted"}),
        )
        .send()
        .await
        .unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        assert_eq!(app.count("decisions").await, 0);
        assert_eq!(app.audit_count("submission.accepted").await, 0);
    }
);

dual_test!(
    twenty_parallel_retries_of_one_post_decide_once_and_all_get_the_same_answer,
    |app| async move {
        let (_, _, id) = submitted(&app, "kanri@a.example.jp", "AAAAA").await;
        let (_, secret) = reviewer_token(&app, &["review_read", "review_write"]).await;
        let path = format!("/api/v1/review/submissions/{id}/decision");
        let body = json!({"decision": "returned", "reason": "機器一覧に台数がありません。"});
        let tries = (0..20).map(|_| {
            let req = post(&app, &secret, &path, "decide-once-1", &body);
            async move { req.send().await.unwrap() }
        });
        let answers = futures_util::future::join_all(tries).await;
        let mut done = 0;
        for res in answers {
            match res.status() {
                StatusCode::CREATED => {
                    done += 1;
                    let v: Value = res.json().await.unwrap();
                    assert_eq!(v["decision"], "returned");
                }
                // Still running when this retry came in.
                StatusCode::CONFLICT => {
                    assert_eq!(
                        problem(res).await["type"]
                            .as_str()
                            .unwrap()
                            .rsplit('#')
                            .next(),
                        Some("problem-idempotency-in-progress")
                    );
                }
                s => panic!("unexpected {s}"),
            }
        }
        assert!(done >= 1);
        assert_eq!(app.count("decisions").await, 1);
        assert_eq!(app.audit_count("submission.returned").await, 1);
        assert_eq!(app.audit_count("api_token.write").await, 1);
        // A later retry gets the first answer back, marked as such.
        let res = post(&app, &secret, &path, "decide-once-1", &body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);
        assert_eq!(res.headers()["idempotent-replayed"], "true");
        // The same key with another request is refused; a new key meets the decision made.
        let other = json!({"decision": "accepted"});
        let res = post(&app, &secret, &path, "decide-once-1", &other)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(
            problem(res).await["type"]
                .as_str()
                .unwrap()
                .rsplit('#')
                .next(),
            Some("problem-idempotency-key-reused")
        );
        let res = post(&app, &secret, &path, "decide-once-2", &other)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::CONFLICT);
        let res = reqwest::Client::new()
            .post(app.url(&path))
            .bearer_auth(&secret)
            .json(&other)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::BAD_REQUEST);
        assert_eq!(app.count("decisions").await, 1);
    }
);

dual_test!(
    invalid_input_lists_its_fields_in_the_requested_language,
    |app| async move {
        let (_, _, id) = submitted(&app, "kanri@a.example.jp", "AAAAA").await;
        let (_, secret) = reviewer_token(&app, &["review_write"]).await;
        let res = post(
            &app,
            &secret,
            &format!("/api/v1/review/submissions/{id}/decision"),
            "k",
            &json!({"decision": "returned"}),
        )
        .header("accept-language", "en-GB,en;q=0.9")
        .send()
        .await
        .unwrap();
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let p = problem(res).await;
        assert_eq!(p["title"], "The input is not valid");
        assert_eq!(p["errors"][0]["field"], "reason");
        assert_eq!(app.count("decisions").await, 0);
        // A body that is not the schema's answers problem details too.
        let res = post(
            &app,
            &secret,
            &format!("/api/v1/review/submissions/{id}/decision"),
            "k2",
            &json!({"decision": "maybe"}),
        )
        .send()
        .await
        .unwrap();
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        problem(res).await;
    }
);

dual_test!(
    accepting_a_report_with_a_newer_one_waiting_needs_newer_seen,
    |app| async move {
        let (b, org, first) = submitted(&app, "kanri@a.example.jp", "AAAAA").await;
        // A second system configuration of the organisation, sent while the first waits.
        let files = format!("/orgs/{org}/system-configuration/files");
        b.attach(&files, "diagram", "構成図（改）.pdf", b"%PDF-1.7\n%%EOF\n")
            .await;
        b.attach(
            &files,
            "equipment_list",
            "機器.csv",
            "機器,台数\nPC,4\n".as_bytes(),
        )
        .await;
        let res = b
            .post(
                &format!("/orgs/{org}/system-configuration"),
                &[("note", "台数の訂正"), ("action", "submit")],
            )
            .await;
        assert_ne!(crate::helpers::submission_in(&res), first);
        let (_, secret) = reviewer_token(&app, &["review_write"]).await;
        let path = format!("/api/v1/review/submissions/{first}/decision");
        let res = post(&app, &secret, &path, "n1", &json!({"decision": "accepted"}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let p = problem(res).await;
        assert_eq!(p["errors"][0]["field"], "newer_seen", "{p}");
        assert_eq!(app.count("decisions").await, 0);
        let body = json!({"decision": "accepted", "newer_seen": true});
        let res = post(&app, &secret, &path, "n2", &body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);
        assert_eq!(app.count("decisions").await, 1);
    }
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_over_its_rate_limit_is_told_when_to_retry() {
    for backend in crate::helpers::backends() {
        let app = TestApp::spawn_configured(backend, |c| c.api_rate_per_minute = 3).await;
        app.add_user("kanri@a.example.jp", "org_admin", Some("AAAAA"))
            .await;
        app.login("kanri@a.example.jp", PASSWORD).await;
        let secret = make_token(&app.browser(), "poll", &["reports_read"]).await;
        for _ in 0..3 {
            assert_eq!(
                api(&app, &secret, "/api/v1/me")
                    .send()
                    .await
                    .unwrap()
                    .status(),
                StatusCode::OK
            );
        }
        let res = api(&app, &secret, "/api/v1/me").send().await.unwrap();
        assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
        let wait: i64 = res.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=60).contains(&wait), "{wait}");
        // Another token has its own allowance.
        let other = make_token(&app.browser(), "other", &["reports_read"]).await;
        assert_eq!(
            api(&app, &other, "/api/v1/me")
                .send()
                .await
                .unwrap()
                .status(),
            StatusCode::OK
        );
    }
}

dual_test!(
    reads_are_audited_once_per_token_per_period_and_writes_every_time,
    |app| async move {
        app.add_user("kanri@a.example.jp", "org_admin", Some("AAAAA"))
            .await;
        app.login("kanri@a.example.jp", PASSWORD).await;
        let secret = make_token(&app.browser(), "poll", &["reports_read"]).await;
        for _ in 0..5 {
            assert_eq!(
                api(&app, &secret, "/api/v1/submissions")
                    .send()
                    .await
                    .unwrap()
                    .status(),
                StatusCode::OK
            );
        }
        assert_eq!(app.audit_count("api_token.read").await, 1);
        let page = app.get("/account/tokens").await.text().await.unwrap();
        assert!(!page.contains("未使用"), "last use shown");
    }
);

dual_test!(
    a_center_admin_lists_every_token_and_revokes_one,
    |app| async move {
        app.add_user("kanri@a.example.jp", "org_admin", Some("AAAAA"))
            .await;
        app.add_user("admin@center.example.jp", "center_admin", None)
            .await;
        let b = app.new_browser();
        b.login("kanri@a.example.jp", PASSWORD).await;
        let secret = make_token(&b, "夜間バッチ", &["reports_read"]).await;
        assert_eq!(
            b.get("/admin/api-tokens").await.status(),
            StatusCode::FORBIDDEN
        );
        let a = app.new_browser();
        a.login("admin@center.example.jp", PASSWORD).await;
        let page = a.get("/admin/api-tokens").await.text().await.unwrap();
        assert!(
            page.contains("夜間バッチ")
                && page.contains("kanri@a.example.jp")
                && !page.contains(&secret)
        );
        let id: uuid::Uuid =
            secportal::db::on_db!(app.db(), p => sqlx::query_scalar("SELECT id FROM api_tokens")
            .fetch_one(p).await)
            .unwrap();
        let res = a.post(&format!("/admin/api-tokens/{id}/revoke"), &[]).await;
        assert_eq!(location(&res), "/admin/api-tokens");
        assert_eq!(
            api(&app, &secret, "/api/v1/me")
                .send()
                .await
                .unwrap()
                .status(),
            StatusCode::UNAUTHORIZED
        );
        // The owner cannot revoke what is not theirs: someone else's id is not found.
        let res = b.post(&format!("/account/tokens/{id}/revoke"), &[]).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
    }
);

dual_test!(
    the_openapi_document_is_3_1_and_the_reference_page_reads_in_both_languages,
    |app| async move {
        let doc: Value = reqwest::get(app.url("/api/v1/openapi.json"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(doc["openapi"], "3.1.0");
        assert!(doc["paths"]["/api/v1/review/submissions/{id}/decision"]["post"].is_object());
        assert_eq!(
            doc["components"]["securitySchemes"]["token"]["scheme"],
            "bearer"
        );
        let ja = app.get("/docs/api").await.text().await.unwrap();
        assert!(
            ja.contains("API リファレンス")
                && ja.contains("/api/v1/review/queue")
                && ja.contains("審査キューを古い順に")
        );
        // The fields are described in Japanese too, not in the code's English.
        assert!(
            ja.contains("出力するデータ") && !ja.contains("What to export"),
            "{ja}"
        );
        let en = reqwest::Client::new()
            .get(app.url("/docs/api"))
            .header("accept-language", "en")
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(en.contains("API reference") && en.contains("The review queue, oldest first"));
        assert!(en.contains("What to export") && !en.contains("出力するデータ"));
        // Unknown API paths answer problem details, not a page.
        let res = reqwest::get(app.url("/api/v1/nothing-here")).await.unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        problem(res).await;
    }
);

//! The queue and the review page tell a reviewer what to do next: each line names the place
//! and the flags fixed at seal time, and a resubmission keeps its reviewer and shows why the
//! version before it was returned.

use reqwest::StatusCode;

use crate::dual_test;
use crate::helpers::{Browser, PASSWORD, TestApp, location, submission_in};

/// The signed-in org admin's antivirus report of one computer at 本社 with definitions from
/// `definitions`; answers the response to its submit.
async fn submit_antivirus(app: &TestApp, org: &str, definitions: &str) -> reqwest::Response {
    let res = app
        .post(
            &format!("/orgs/{org}/antivirus"),
            &[
                ("row_0_host", "PC-001"),
                ("row_0_office", "本社"),
                ("row_0_os", "Windows 11"),
                ("row_0_product", "defender"),
                ("row_0_version", "4.18"),
                ("row_0_definitions_date", definitions),
                ("row_0_update_frequency", "daily"),
                ("action", "submit"),
            ],
        )
        .await;
    if res.status() != StatusCode::SEE_OTHER {
        let body = res.text().await.unwrap();
        let errors: Vec<&str> = body
            .match_indices("field-error")
            .map(|(i, _)| &body[i..(i + 200).min(body.len())])
            .collect();
        panic!("antivirus not submitted: {errors:?}");
    }
    res
}

/// The signed-in org admin's item 5 report (every measure implemented).
async fn submit_inhouse(app: &TestApp, org: &str) -> reqwest::Response {
    let mut fields: Vec<(String, String)> = vec![("action".into(), "submit".into())];
    for area in ["servers", "network", "clients"] {
        for m in [
            "subject_auth",
            "access_control",
            "encryption",
            "patches",
            "user_auth",
        ] {
            fields.push((format!("m_{area}_{m}_status"), "implemented".into()));
            fields.push((format!("m_{area}_{m}_desc"), "実施済み".into()));
        }
    }
    let refs: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    app.post(&format!("/orgs/{org}/inhouse-measures"), &refs)
        .await
}

/// The queue line (`<tr>…</tr>`) that links to a submission.
fn line<'a>(queue: &'a str, id: &str) -> &'a str {
    let at = queue
        .find(&format!("/review/{id}\""))
        .unwrap_or_else(|| panic!("{id} in the queue:\n{queue}"));
    let start = queue[..at].rfind("<tr>").unwrap();
    let end = at + queue[at..].find("</tr>").unwrap();
    &queue[start..end]
}

/// An organisation AAAAA (signed in as its admin) with an office 本社 whose router is attested,
/// and a signed-in reviewer named 審査 花子; answers the organisation, the attestation and the
/// reviewer.
async fn setup(app: &TestApp) -> (String, String, Browser<'_>) {
    app.add_user("kanri@a.example.jp", "org_admin", Some("AAAAA"))
        .await;
    app.add_user("reviewer@center.example.jp", "reviewer", None)
        .await;
    let db = app.db();
    secportal::db::on_db!(db, p => sqlx::query("UPDATE users SET display_name = '審査 花子' WHERE email = 'reviewer@center.example.jp'").execute(p).await.map(|_| ())).unwrap();
    let org = app.org_of("kanri@a.example.jp").await.to_string();
    app.login("kanri@a.example.jp", PASSWORD).await;
    let res = app.attest_router_at_new_office(&org).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let router = submission_in(&res);
    let reviewer = app.new_browser();
    reviewer.login("reviewer@center.example.jp", PASSWORD).await;
    (org, router, reviewer)
}

dual_test!(
    queue_lines_name_the_place_and_flag_stale_definitions_and_late_answers,
    |app| async move {
        let (org, router, reviewer) = setup(&app).await;
        let res = submit_antivirus(&app, &org, "2020-01-01").await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let stale = submission_in(&res);
        // Item 5 asked for, its due date passed before it came: late (期限後).
        let due = (secportal::web::page::today() + chrono::Duration::days(7)).to_string();
        let res = reviewer
            .post(
                &format!("/orgs/{org}/requests"),
                &[("item_key", "inhouse_measures"), ("due_date", &due)],
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let db = app.db();
        secportal::db::on_db!(db, p => sqlx::query("UPDATE requests SET due_date = $1").bind(secportal::web::page::today() - chrono::Duration::days(1)).execute(p).await.map(|_| ())).unwrap();
        let res = submit_inhouse(&app, &org).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let late = submission_in(&res);

        let queue = reviewer.get("/review").await.text().await.unwrap();
        // The router attestation names its office; the organisation-wide reports say so.
        let r = line(&queue, &router);
        assert!(r.contains("本社") && !r.contains("status flag"), "{r}");
        let s = line(&queue, &stale);
        assert!(
            s.contains("組織全体") && s.contains("定義が古い PC あり") && !s.contains("期限後"),
            "{s}"
        );
        let l = line(&queue, &late);
        assert!(l.contains("期限後") && !l.contains("定義が古い"), "{l}");
        // In English, in words too.
        reviewer.post("/lang", &[("lang", "en")]).await;
        let queue = reviewer.get("/review").await.text().await.unwrap();
        assert!(
            line(&queue, &stale).contains("Stale virus definitions")
                && line(&queue, &late).contains("Late")
                && line(&queue, &stale).contains("Whole organisation"),
            "{queue}"
        );
        assert!(!queue.contains("review.flag."), "no locale key shows");
        // Stored once, at seal time.
        let db = app.db();
        let stored: String = secportal::db::on_db!(db, p => sqlx::query_scalar("SELECT flags FROM submissions WHERE id = $1").bind(uuid::Uuid::parse_str(&stale).unwrap()).fetch_one(p).await).unwrap();
        assert_eq!(stored, "stale");
        let stored: String = secportal::db::on_db!(db, p => sqlx::query_scalar("SELECT flags FROM submissions WHERE id = $1").bind(uuid::Uuid::parse_str(&late).unwrap()).fetch_one(p).await).unwrap();
        assert_eq!(stored, "late");
    }
);

dual_test!(
    a_resubmission_keeps_its_reviewer_and_shows_why_the_version_before_was_returned,
    |app| async move {
        let (org, _, reviewer) = setup(&app).await;
        let today = (secportal::web::page::today() - chrono::Duration::days(1)).to_string();
        let res = submit_antivirus(&app, &org, &today).await;
        let v1 = submission_in(&res);
        let res = reviewer
            .post(&format!("/review/{v1}/assign"), &[("action", "take")])
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let res = reviewer
            .post(
                &format!("/review/{v1}/decide"),
                &[
                    ("decision", "returned"),
                    ("reason", "PC-002 が一覧にありません。\n追加してください。"),
                ],
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let res = reviewer
            .post(
                &format!("/review/{v1}/comments"),
                &[("body", "事務所の PC も対象です。")],
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let res = app
            .post(&format!("/orgs/{org}/submissions/{v1}/revise"), &[])
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{}", location(&res));
        let res = submit_antivirus(&app, &org, &today).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let v2 = submission_in(&res);
        assert_ne!(v1, v2);

        // Version 2 is the same reviewer's, without anyone taking it again, and says it is a
        // resubmission.
        let queue = reviewer.get("/review?who=mine").await.text().await.unwrap();
        let l = line(&queue, &v2);
        assert!(l.contains("審査 花子") && l.contains("再提出"), "{l}");
        let db = app.db();
        let detail: String = secportal::db::on_db!(db, p => sqlx::query_scalar("SELECT CAST(detail AS TEXT) FROM audit_log WHERE action = 'submission.submitted' ORDER BY seq DESC LIMIT 1").fetch_one(p).await).unwrap();
        let me = secportal::db::users::by_email(app.db(), "reviewer@center.example.jp")
            .await
            .unwrap()
            .unwrap()
            .id;
        assert!(
            detail.contains(&me.to_string()),
            "the carry-over is audited: {detail}"
        );
        // Its page leads with the earlier return: the reason with its line break, the comment,
        // and a link to the returned version.
        let page = reviewer
            .get(&format!("/review/{v2}"))
            .await
            .text()
            .await
            .unwrap();
        assert!(
            page.contains("PC-002 が一覧にありません。\n追加してください。")
                && page.contains("事務所の PC も対象です。")
                && page.contains(&format!(
                    "<a href=\"/review/{v1}\">差し戻された版を開く</a>"
                ))
                && !page.contains("自分が担当する"),
            "{page}"
        );
        // A reviewer who no longer reviews does not keep it: version 3 goes to nobody.
        let res = reviewer
            .post(
                &format!("/review/{v2}/decide"),
                &[("decision", "returned"), ("reason", "もう一度")],
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        secportal::db::on_db!(db, p => sqlx::query("UPDATE users SET status = 'disabled' WHERE email = 'reviewer@center.example.jp'").execute(p).await.map(|_| ())).unwrap();
        app.post(&format!("/orgs/{org}/submissions/{v2}/revise"), &[])
            .await;
        let v3 = submission_in(&submit_antivirus(&app, &org, &today).await);
        let assigned: Option<uuid::Uuid> = secportal::db::on_db!(db, p => sqlx::query_scalar("SELECT assigned_to FROM submissions WHERE id = $1").bind(uuid::Uuid::parse_str(&v3).unwrap()).fetch_one(p).await).unwrap();
        assert_eq!(assigned, None);
        assert!(
            secportal::db::queue::tally_drift(app.db())
                .await
                .unwrap()
                .is_empty()
        );
    }
);

dual_test!(
    center_admins_keep_canned_return_reasons_and_a_reviewer_returns_with_one,
    |app| async move {
        let (org, router, reviewer) = setup(&app).await;
        app.add_user("admin@center.example.jp", "center_admin", None)
            .await;
        let admin = app.new_browser();
        admin.login("admin@center.example.jp", PASSWORD).await;
        // Only Center admins keep them.
        assert_eq!(
            reviewer.get("/admin/return-reasons").await.status(),
            StatusCode::FORBIDDEN
        );
        let res = reviewer
            .post("/admin/return-reasons", &[("title", "x"), ("body", "y")])
            .await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        // An admin reading a report with none registered goes to register them, and back.
        let html = admin
            .get(&format!("/review/{router}"))
            .await
            .text()
            .await
            .unwrap();
        let link = format!("/admin/return-reasons?from={router}");
        assert!(html.contains(&format!("href=\"{link}\"")), "{html}");
        let html = admin.get(&link).await.text().await.unwrap();
        assert!(
            html.contains(&format!(
                "<a href=\"/review/{router}\">← 審査画面に戻る</a>"
            )) && html.contains(&format!("action=\"{link}\"")),
            "{html}"
        );
        // Required fields; then two reasons; a title in use twice is refused.
        let res = admin
            .post("/admin/return-reasons", &[("title", " "), ("body", "")])
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(res.text().await.unwrap().contains("aria-invalid=\"true\""));
        for (title, body) in [
            (
                "構成図の不足",
                "ネットワーク構成図が添付されていません。\n添付のうえ再提出してください。",
            ),
            ("確認書の記入漏れ", "確認事項に未記入の箇所があります。"),
        ] {
            // (from the review page: back there after)
            let res = admin.post(&link, &[("title", title), ("body", body)]).await;
            assert_eq!(res.status(), StatusCode::SEE_OTHER);
            assert_eq!(res.headers()["location"], link.as_str());
        }
        let res = admin
            .post(
                "/admin/return-reasons",
                &[("title", "構成図の不足"), ("body", "重複")],
            )
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            res.text()
                .await
                .unwrap()
                .contains("同じ見出しの定型文が既にあります")
        );
        let db = app.db();
        let ids: Vec<(uuid::Uuid, String, i64)> = secportal::db::on_db!(db, p => sqlx::query_as("SELECT id, title, version FROM return_reasons ORDER BY title").fetch_all(p).await).unwrap();
        assert_eq!(ids.len(), 2);
        let (kakunin, _, v) = ids
            .iter()
            .find(|r| r.1 == "確認書の記入漏れ")
            .unwrap()
            .clone();
        let (kouseizu, _, _) = ids.iter().find(|r| r.1 == "構成図の不足").unwrap().clone();
        // Edit from the version seen; the second edit, from the same (now stale) version, is
        // told, not applied.
        for (title, body) in [
            ("確認書の記入漏れ", "確認事項 3 が未記入です。"),
            ("古い", "古い"),
        ] {
            let res = admin
                .post(
                    &format!("/admin/return-reasons/{kakunin}"),
                    &[
                        ("title", title),
                        ("body", body),
                        ("version", &v.to_string()),
                    ],
                )
                .await;
            assert_eq!(res.status(), StatusCode::SEE_OTHER);
        }
        let page = admin
            .get("/admin/return-reasons")
            .await
            .text()
            .await
            .unwrap();
        assert!(
            page.contains("他の操作で変更されています")
                && !page.contains("value=\"古い\"")
                && page.contains("確認事項 3 が未記入です。")
        );
        // Retiring asks for the confirmation box.
        let res = admin
            .post(
                &format!("/admin/return-reasons/{kakunin}/retire"),
                &[("version", &(v + 1).to_string())],
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert!(
            admin
                .get("/admin/return-reasons")
                .await
                .text()
                .await
                .unwrap()
                .contains("確認の欄にチェック")
        );
        let res = admin
            .post(
                &format!("/admin/return-reasons/{kakunin}/retire"),
                &[("version", &(v + 1).to_string()), ("confirm", "yes")],
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(app.audit_count("return_reason.added").await, 2);
        assert_eq!(app.audit_count("return_reason.changed").await, 1);
        assert_eq!(app.audit_count("return_reason.retired").await, 1);
        let page = admin
            .get("/admin/return-reasons")
            .await
            .text()
            .await
            .unwrap();
        assert!(page.contains("廃止済み"));

        // The decision form offers the reason in use only; choosing it fills the reason, and
        // what was typed follows it.
        let form = reviewer
            .get(&format!("/review/{router}"))
            .await
            .text()
            .await
            .unwrap();
        assert!(
            form.contains("構成図の不足") && !form.contains(">確認書の記入漏れ<"),
            "{form}"
        );
        let res = reviewer
            .post(
                &format!("/review/{router}/decide"),
                &[
                    ("decision", "returned"),
                    ("canned", &kakunin.to_string()),
                    ("reason", ""),
                ],
            )
            .await;
        assert_eq!(
            res.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "a retired one is not a choice"
        );
        let res = reviewer
            .post(
                &format!("/review/{router}/decide"),
                &[
                    ("decision", "returned"),
                    ("canned", &kouseizu.to_string()),
                    ("reason", "本社分をお願いします。"),
                ],
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let reason: String = secportal::db::on_db!(db, p => sqlx::query_scalar("SELECT reason FROM decisions").fetch_one(p).await).unwrap();
        assert_eq!(
            reason,
            "ネットワーク構成図が添付されていません。\n添付のうえ再提出してください。\n\n本社分をお願いします。"
        );
        // In English the page is in English.
        admin.post("/lang", &[("lang", "en")]).await;
        let page = admin
            .get("/admin/return-reasons")
            .await
            .text()
            .await
            .unwrap();
        assert!(
            page.contains("Canned return reasons")
                && page.contains("Retired")
                && !page.contains("reasons.")
        );
        let _ = org;
    }
);

dual_test!(
    several_waiting_submissions_are_assigned_at_once_from_the_queue,
    |app| async move {
        let (org, router, reviewer) = setup(&app).await;
        let today = (secportal::web::page::today() - chrono::Duration::days(1)).to_string();
        let av = submission_in(&submit_antivirus(&app, &org, &today).await);
        let ih = submission_in(&submit_inhouse(&app, &org).await);
        app.add_user("admin@center.example.jp", "center_admin", None)
            .await;
        app.add_user("reviewer2@center.example.jp", "reviewer", None)
            .await;
        let admin = app.new_browser();
        admin.login("admin@center.example.jp", PASSWORD).await;
        let r2 = secportal::db::users::by_email(app.db(), "reviewer2@center.example.jp")
            .await
            .unwrap()
            .unwrap()
            .id;
        let me = secportal::db::users::by_email(app.db(), "reviewer@center.example.jp")
            .await
            .unwrap()
            .unwrap()
            .id;
        // The queue offers a tick per line and the reviewers to give them to.
        let queue = admin.get("/review").await.text().await.unwrap();
        assert!(
            queue.contains("id=\"bulk-assign\"")
                && queue.contains(&format!("name=\"ids\" value=\"{av}\" form=\"bulk-assign\""))
                && queue.contains(&format!("<option value=\"{r2}\">")),
            "{queue}"
        );
        // A reviewer may only take lines for themselves.
        let mine = reviewer.get("/review").await.text().await.unwrap();
        assert!(!mine.contains(&format!("<option value=\"{r2}\">")));
        let res = reviewer
            .post(
                "/review/assign",
                &[
                    ("ids", &av),
                    ("assignee", &r2.to_string()),
                    ("back", "/review"),
                ],
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(app.audit_count("submission.assigned").await, 0);
        // The reviewer takes the router attestation; the admin then gives all three to
        // reviewer 2 (taking it from the first reviewer) and is told how many.
        let res = reviewer
            .post(
                "/review/assign",
                &[
                    ("ids", &router),
                    ("assignee", &me.to_string()),
                    ("back", "/review?who="),
                ],
            )
            .await;
        assert_eq!(location(&res), "/review?who=");
        let res = admin
            .post(
                "/review/assign",
                &[
                    ("ids", &router),
                    ("ids", &av),
                    ("ids", &ih),
                    ("ids", "not-an-id"),
                    ("assignee", &r2.to_string()),
                    ("back", "https://evil.example/"),
                ],
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&res), "/review", "back to the queue only");
        let page = admin.get("/review").await.text().await.unwrap();
        assert!(page.contains("3 件の提出を割り当てました。"), "{page}");
        assert_eq!(app.audit_count("submission.assigned").await, 4);
        let db = app.db();
        let assigned: i64 = secportal::db::on_db!(db, p => sqlx::query_scalar("SELECT COUNT(*) FROM submissions WHERE assigned_to = $1").bind(r2).fetch_one(p).await).unwrap();
        assert_eq!(assigned, 3);
        // Nothing chosen, or nobody to give them to: told, nothing changes.
        let res = admin
            .post("/review/assign", &[("assignee", &r2.to_string())])
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert!(
            admin
                .get("/review")
                .await
                .text()
                .await
                .unwrap()
                .contains("割り当てる提出を選んでください。")
        );
        // A decided submission is left as it is; again, the count says so.
        admin
            .post(&format!("/review/{av}/decide"), &[("decision", "accepted")])
            .await;
        admin
            .post(
                "/review/assign",
                &[("ids", &av), ("assignee", &me.to_string())],
            )
            .await;
        assert!(
            admin
                .get("/review")
                .await
                .text()
                .await
                .unwrap()
                .contains("0 件の提出を割り当てました。")
        );
        assert!(
            secportal::db::queue::tally_drift(app.db())
                .await
                .unwrap()
                .is_empty()
        );
        // Without a CSRF token: refused.
        let res = admin
            .post_raw(
                "/review/assign",
                &[("ids", &ih), ("assignee", &me.to_string())],
            )
            .await;
        assert_ne!(res.status(), StatusCode::SEE_OTHER);
    }
);

/// The table row (`<tr>…</tr>`) of a page that holds `text`.
fn row_with<'a>(page: &'a str, text: &str) -> &'a str {
    // A cell saying it (the trail's filter also lists every action by name).
    let at = page
        .find(&format!("<td>{text}</td>"))
        .or_else(|| page.find(text))
        .unwrap_or_else(|| panic!("{text} on the page:\n{page}"));
    let start = page[..at].rfind("<tr>").unwrap();
    let end = at + page[at..].find("</tr>").unwrap();
    &page[start..end]
}

dual_test!(
    the_trail_and_activity_name_receipts_people_and_the_center,
    |app| async move {
        let (org, router, reviewer) = setup(&app).await;
        let res = reviewer
            .post(&format!("/review/{router}/assign"), &[("action", "take")])
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let db = app.db();
        let receipt: String = secportal::db::on_db!(db, p => sqlx::query_scalar("SELECT receipt_no FROM submissions WHERE id = $1").bind(uuid::Uuid::parse_str(&router).unwrap()).fetch_one(p).await).unwrap();
        // The organisation's admin: the Center acted, by receipt number, without the
        // reviewer's name, e-mail or IP.
        let trail = app.get("/audit").await.text().await.unwrap();
        let row = row_with(&trail, "審査担当の割当");
        // (The receipt number links to the receipt: the id is in its address only.)
        let shown = row.replace(&format!("/submissions/{router}/receipt\""), "");
        assert!(
            row.contains("NACCS センター") && row.contains(&receipt) && !shown.contains(&router),
            "{row}"
        );
        assert!(
            !row.contains("reviewer@center") && !row.contains("花子") && !row.contains("127.0.0.1"),
            "{row}"
        );
        let home = app.get("/home").await.text().await.unwrap();
        let row = row_with(&home, "審査担当の割当");
        assert!(
            row.contains("NACCS センター") && row.contains(&receipt),
            "{row}"
        );
        // The office the attestation is for is named where an entry targets it.
        assert!(!trail.contains("reviewer@center.example.jp"));
        // A Center admin: the person by name, the receipt number; no UUID of a submission.
        app.add_user("admin@center.example.jp", "center_admin", None)
            .await;
        let admin = app.new_browser();
        admin.login("admin@center.example.jp", PASSWORD).await;
        let trail = admin.get("/audit").await.text().await.unwrap();
        let row = row_with(&trail, "審査担当の割当");
        // (Its receipt number opens the review page.)
        let shown = row.replace(
            &format!("<a href=\"/review/{router}\">{receipt}</a>"),
            &receipt,
        );
        assert!(
            row.contains("審査 花子") && shown.contains(&receipt) && !shown.contains(&router),
            "{row}"
        );
        let _ = org;
    }
);

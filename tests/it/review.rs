//! The review queue, decisions, and resubmission as version N+1.

use reqwest::StatusCode;

use crate::dual_test;
use crate::helpers::{PASSWORD, ROUTER_OK, TestApp, location, submission_in};

const PDF: &[u8] = b"%PDF-1.7\n%%EOF\n";

pub async fn attach(app: &TestApp, org: &str, role: &str, name: &str, body: &[u8]) {
    let path = format!("/orgs/{org}/system-configuration/files");
    crate::helpers::attach(app, &path, role, name, body).await;
}

/// The 管理責任者 appointed at the office in these tests.
const YAMADA: [(&str, &str); 8] = [
    ("name", "山田　太郎"),
    ("name_kana", "ヤマダ　タロウ"),
    ("department", "情報システム部"),
    ("title", "部長"),
    ("phone", "03-1234-5678"),
    ("emergency_contact", ""),
    ("email", "yamada@a.example.jp"),
    ("effective_from", "2026-04-01"),
];

dual_test!(
    a_returned_submission_is_resubmitted_as_version_2_and_accepted,
    |app| async move {
        app.add_user("kanri@a.example.jp", "org_admin", Some("AAAAA"))
            .await;
        app.add_user("reviewer@center.example.jp", "reviewer", None)
            .await;
        app.add_user("reviewer2@center.example.jp", "reviewer", None)
            .await;
        let org = app.org_of("kanri@a.example.jp").await.to_string();
        app.login("kanri@a.example.jp", PASSWORD).await;
        attach(&app, &org, "diagram", "構成図.pdf", PDF).await;
        attach(
            &app,
            &org,
            "equipment_list",
            "機器.csv",
            "機器,台数\nPC,3\n".as_bytes(),
        )
        .await;
        let res = app
            .post(
                &format!("/orgs/{org}/system-configuration"),
                &[("note", "初回"), ("action", "submit")],
            )
            .await;
        let receipt_path = location(&res);
        let id = submission_in(&res);
        // Organisations never see the queue.
        assert_eq!(app.get("/review").await.status(), StatusCode::FORBIDDEN);
        assert_eq!(
            app.get(&format!("/review/{id}")).await.status(),
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            app.post(&format!("/review/{id}/decide"), &[("decision", "accepted")])
                .await
                .status(),
            StatusCode::FORBIDDEN
        );

        let r1 = app.new_browser();
        r1.login("reviewer@center.example.jp", PASSWORD).await;
        let queue = r1.get("/review").await.text().await.unwrap();
        assert!(queue.contains(&format!("/review/{id}")) && queue.contains("AAAAA"));
        // The state filter's first choice names both states an organisation can read for it.
        assert!(
            queue.contains("<option value=\"submitted\">未決（審査待ち・審査中）</option>"),
            "{queue}"
        );
        let res = r1
            .post(
                &format!("/review/{id}/decide"),
                &[("decision", "returned"), ("reason", " ")],
            )
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let body = res.text().await.unwrap();
        assert!(body.contains("差戻しの理由を入力してください"));
        assert!(
            body.contains("審査結果はまだ記録されていません") && body.contains("href=\"#decide\""),
            "the top of the page says the decision was not recorded"
        );
        assert!(
            body.contains(r#"value="returned" checked>"#),
            "the decision chosen stays chosen"
        );
        let res = r1
            .post(
                &format!("/review/{id}/decide"),
                &[
                    ("decision", "returned"),
                    ("reason", "機器一覧に台数がありません。"),
                ],
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        // A second reviewer acting on the stale page is told, and nothing is applied twice.
        let r2 = app.new_browser();
        r2.login("reviewer2@center.example.jp", PASSWORD).await;
        let res = r2
            .post(
                &format!("/review/{id}/decide"),
                &[("decision", "accepted"), ("reason", "")],
            )
            .await;
        assert_eq!(res.status(), StatusCode::CONFLICT);
        assert!(res.text().await.unwrap().contains("既に判定されています"));
        assert_eq!(app.count("decisions").await, 1);
        assert_eq!(app.audit_count("submission.returned").await, 1);

        // The organisation sees the reason and revises: version 2 carries the files over.
        let home = app.get("/home").await.text().await.unwrap();
        assert!(home.contains("差戻し"));
        let receipt = app.get(&receipt_path).await.text().await.unwrap();
        assert!(
            receipt.contains("機器一覧に台数がありません。")
                && receipt.contains("修正して再提出する")
        );
        let res = app
            .post(&format!("/orgs/{org}/submissions/{id}/revise"), &[])
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        // A second click lands on the same version 2 instead of opening another.
        let again = app
            .post(&format!("/orgs/{org}/submissions/{id}/revise"), &[])
            .await;
        assert_eq!(again.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&again), location(&res));
        assert_eq!(
            app.count("submissions").await,
            2,
            "one version 2, opened once"
        );
        let page = app
            .get(&format!("/orgs/{org}/system-configuration"))
            .await
            .text()
            .await
            .unwrap();
        assert!(page.contains("構成図.pdf") && page.contains("初回"));
        let res = app
            .post(
                &format!("/orgs/{org}/system-configuration"),
                &[("note", "台数を記入しました"), ("action", "submit")],
            )
            .await;
        let v2 = submission_in(&res);
        assert_ne!(v2, id);

        // The reviewer sees version 2, the diff against version 1, and accepts.
        let show = r1.get(&format!("/review/{v2}")).await.text().await.unwrap();
        assert!(
            show.contains("第2版")
                && show.contains("第1版からの変更点")
                && show.contains("初回")
                && show.contains("台数を記入しました"),
            "{show}"
        );
        assert_eq!(
            r1.post(
                &format!("/review/{v2}/decide"),
                &[("decision", "accepted"), ("reason", "")]
            )
            .await
            .status(),
            StatusCode::SEE_OTHER
        );
        let home = app.get("/home").await.text().await.unwrap();
        assert!(home.contains("受理"));
        // The queue of accepted reports says when each was decided and by whom, not how long
        // it has waited.
        let accepted = r1.get("/review?state=accepted").await.text().await.unwrap();
        assert!(
            accepted.contains("<th scope=\"col\">判定日時</th><th scope=\"col\">判定者</th>")
                && accepted.contains(" JST</td><td class=\"who\">テスト 太郎</td></tr>")
                && !accepted.contains("経過日数</th>"),
            "{accepted}"
        );
        // Both versions stay readable.
        assert_eq!(
            r1.get(&format!("/review/{id}")).await.status(),
            StatusCode::OK
        );
        assert_eq!(app.get(&receipt_path).await.status(), StatusCode::OK);
    }
);

dual_test!(the_queue_filters_and_counts, |app| async move {
    app.add_user("a@a.example.jp", "org_admin", Some("AAAAA"))
        .await;
    app.add_user("admin@center.example.jp", "center_admin", None)
        .await;
    let org = app.org_of("a@a.example.jp").await.to_string();
    app.login("a@a.example.jp", PASSWORD).await;
    app.attest_router_at_new_office(&org).await;
    let c = app.new_browser();
    c.login("admin@center.example.jp", PASSWORD).await;
    let all = c.get("/review").await.text().await.unwrap();
    assert!(
        all.contains("7.4.2(1)") && all.contains("提出済み: <strong>1</strong>"),
        "{all}"
    );
    let none = c.get("/review?kind=antivirus").await.text().await.unwrap();
    assert!(none.contains("該当する提出はありません"));
    let old = c.get("/review?age=3").await.text().await.unwrap();
    assert!(
        old.contains("該当する提出はありません"),
        "nothing three days old yet"
    );
    let other = c.get("/review?org=ZZZZZ").await.text().await.unwrap();
    assert!(other.contains("該当する提出はありません"));
    // A receipt number read out on the phone opens its submission, typed in any width or case.
    let year = secportal::web::page::today().format("%Y").to_string();
    let wide: String = format!("ｓｒ－{year}－000001")
        .chars()
        .map(|ch| match ch {
            '0'..='9' => char::from_u32(ch as u32 - '0' as u32 + '０' as u32).unwrap(),
            other => other,
        })
        .collect();
    let res = c
        .get(&format!("/review?receipt={}", urlencode(&wide)))
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let to = location(&res);
    assert!(
        to.starts_with("/review/") && uuid::Uuid::parse_str(&to["/review/".len()..]).is_ok(),
        "{to}"
    );
    // … and without the serial's leading zeros.
    let res = c.get(&format!("/review?receipt=sr-{year}-1")).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), to);
    let missing = c
        .get("/review?receipt=SR-1999-000009")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        missing.contains("受付番号 SR-1999-000009 の提出は見つかりません"),
        "{missing}"
    );
});

dual_test!(
    a_reviewer_takes_a_submission_and_the_queue_shows_mine_and_unassigned,
    |app| async move {
        app.add_user("a@a.example.jp", "org_admin", Some("AAAAA"))
            .await;
        app.add_user("r1@center.example.jp", "reviewer", None).await;
        app.add_user("r2@center.example.jp", "reviewer", None).await;
        let org = app.org_of("a@a.example.jp").await.to_string();
        app.login("a@a.example.jp", PASSWORD).await;
        let res = app.attest_router_at_new_office(&org).await;
        let id = submission_in(&res);
        let r1 = app.new_browser();
        r1.login("r1@center.example.jp", PASSWORD).await;
        let queue = r1.get("/review?who=unassigned").await.text().await.unwrap();
        assert!(queue.contains(&format!("/review/{id}")));
        assert!(
            queue.contains("<td class=\"who\">未割当</td>"),
            "a line nobody took says so in the reviewer column"
        );
        assert_eq!(
            r1.post(&format!("/review/{id}/assign"), &[("action", "take")])
                .await
                .status(),
            StatusCode::SEE_OTHER
        );
        assert!(
            r1.get("/review?who=mine")
                .await
                .text()
                .await
                .unwrap()
                .contains(&format!("/review/{id}"))
        );
        let home = r1.get("/home").await.text().await.unwrap();
        assert!(
            home.contains("<strong>1</strong>審査待ち")
                && home.contains("<strong>1</strong>自分の担当")
                && home.contains("<strong>0</strong>未割当"),
            "the reviewer's home counts the queue"
        );
        assert!(
            !r1.get("/review?who=unassigned")
                .await
                .text()
                .await
                .unwrap()
                .contains(&format!("/review/{id}"))
        );
        // The organisation sees it under review.
        assert!(
            app.get("/home")
                .await
                .text()
                .await
                .unwrap()
                .contains("審査中")
        );
        // Another reviewer cannot put back r1's assignment.
        let r2 = app.new_browser();
        r2.login("r2@center.example.jp", PASSWORD).await;
        assert_eq!(
            r2.post(&format!("/review/{id}/assign"), &[("action", "release")])
                .await
                .status(),
            StatusCode::CONFLICT
        );
        assert_eq!(app.audit_count("submission.assigned").await, 1);
        // A decision ends it; nothing can be assigned afterwards.
        assert_eq!(
            r1.post(
                &format!("/review/{id}/decide"),
                &[("decision", "accepted"), ("reason", "")]
            )
            .await
            .status(),
            StatusCode::SEE_OTHER
        );
        assert_eq!(
            r2.post(&format!("/review/{id}/assign"), &[("action", "take")])
                .await
                .status(),
            StatusCode::CONFLICT
        );
    }
);

dual_test!(
    reviewer_and_organisation_talk_in_the_submissions_comment_thread,
    |app| async move {
        app.add_user("a@a.example.jp", "org_admin", Some("AAAAA"))
            .await;
        app.add_user("b@b.example.jp", "org_admin", Some("BBBBB"))
            .await;
        app.add_user("r1@center.example.jp", "reviewer", None).await;
        let org = app.org_of("a@a.example.jp").await.to_string();
        let org_b = app.org_of("b@b.example.jp").await.to_string();
        app.login("a@a.example.jp", PASSWORD).await;
        let res = app.attest_router_at_new_office(&org).await;
        let receipt = location(&res);
        let id = submission_in(&res);
        let r1 = app.new_browser();
        r1.login("r1@center.example.jp", PASSWORD).await;
        let res = r1
            .post(&format!("/review/{id}/comments"), &[("body", "  ")])
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(
            r1.post(
                &format!("/review/{id}/comments"),
                &[("body", "ルータの識別番号を教えてください。")]
            )
            .await
            .status(),
            StatusCode::SEE_OTHER
        );
        let page = app.get(&receipt).await.text().await.unwrap();
        assert!(
            page.contains("ルータの識別番号を教えてください。") && page.contains("NACCS センター")
        );
        // The Center's own comment raises no mark on its queue; the organisation's answer does.
        let queue = r1.html("/review").await;
        assert!(!queue.contains("組織からのコメント（未返信）"), "{queue}");
        // The organisation's home asks it to answer, first thing.
        let home = app.get("/home").await.text().await.unwrap();
        assert!(
            home.contains(&format!("<a href=\"/orgs/{org}/submissions/{id}/receipt#comments\">NACCS センターからの質問に回答する（受付番号 SR-")),
            "{home}"
        );
        assert_eq!(
            app.post(
                &format!("/orgs/{org}/submissions/{id}/comments"),
                &[("body", "R-0001 です。")]
            )
            .await
            .status(),
            StatusCode::SEE_OTHER
        );
        assert!(
            r1.get(&format!("/review/{id}"))
                .await
                .text()
                .await
                .unwrap()
                .contains("R-0001 です。")
        );
        assert_eq!(app.count("comments").await, 2);
        assert_eq!(app.audit_count("submission.commented").await, 2);
        let home = app.get("/home").await.text().await.unwrap();
        assert!(
            !home.contains("NACCS センターからの質問に回答する"),
            "answered: {home}"
        );
        let queue = r1.html("/review").await;
        assert_eq!(
            queue
                .matches("<span class=\"status flag\">組織からのコメント（未返信）</span>")
                .count(),
            1,
            "{queue}"
        );
        // A second word from the organisation marks it once.
        app.post(
            &format!("/orgs/{org}/submissions/{id}/comments"),
            &[("body", "補足です。")],
        )
        .await;
        let (flags,): (String,) = secportal::db::on_db!(app.db(), p => sqlx::query_as(
            "SELECT flags FROM submissions WHERE id = $1"
        )
        .bind(uuid::Uuid::parse_str(&id).unwrap())
        .fetch_one(p)
        .await)
        .unwrap();
        assert_eq!(flags, "note");
        // The Center's answer takes the mark off.
        r1.post(
            &format!("/review/{id}/comments"),
            &[("body", "確認しました。")],
        )
        .await;
        let queue = r1.html("/review").await;
        assert!(!queue.contains("組織からのコメント（未返信）"), "{queue}");
        // Another organisation can neither read nor write the thread.
        let b = app.new_browser();
        b.login("b@b.example.jp", PASSWORD).await;
        assert_eq!(
            b.post(
                &format!("/orgs/{org_b}/submissions/{id}/comments"),
                &[("body", "覗き見")]
            )
            .await
            .status(),
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            b.post(
                &format!("/orgs/{org}/submissions/{id}/comments"),
                &[("body", "覗き見")]
            )
            .await
            .status(),
            StatusCode::NOT_FOUND
        );
        assert_eq!(b.get(&receipt).await.status(), StatusCode::NOT_FOUND);
        assert_eq!(app.count("comments").await, 4);
    }
);

dual_test!(
    the_review_page_previews_pdfs_shows_the_structure_and_the_queue_filters_by_connection_form,
    |app| async move {
        app.add_user("kanri@a.example.jp", "org_admin", Some("AAAAA"))
            .await;
        app.add_user("kanri@b.example.jp", "org_admin", Some("BBBBB"))
            .await;
        app.add_user("reviewer@center.example.jp", "reviewer", None)
            .await;
        let org = app.org_of("kanri@a.example.jp").await.to_string();
        app.login("kanri@a.example.jp", PASSWORD).await;
        let res = app
            .post(
                &format!("/orgs/{org}/locations"),
                &[
                    ("kind", "office"),
                    ("office_id", ""),
                    ("name", "本社"),
                    ("address", "東京都港区1-1"),
                ],
            )
            .await;
        let office = location(&res).rsplit('/').next().unwrap().to_string();
        let res = app
            .post(
                &format!("/orgs/{org}/locations/{office}/connections"),
                &[("form", "router"), ("router_id", "R-0001")],
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let res = app
            .post(
                &format!("/orgs/{org}/locations/{office}/appointments"),
                &YAMADA,
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        attach(&app, &org, "diagram", "構成図.pdf", PDF).await;
        attach(
            &app,
            &org,
            "equipment_list",
            "機器.csv",
            "機器,台数\nPC,3\n".as_bytes(),
        )
        .await;
        let res = app
            .post(
                &format!("/orgs/{org}/system-configuration"),
                &[("note", "構成"), ("action", "submit")],
            )
            .await;
        let id = submission_in(&res);

        let reviewer = app.new_browser();
        reviewer.login("reviewer@center.example.jp", PASSWORD).await;
        let page = reviewer
            .get(&format!("/review/{id}"))
            .await
            .text()
            .await
            .unwrap();
        assert!(
            page.contains("山田　太郎") && page.contains("03-1234-5678"),
            "administrator shown"
        );
        let pdf_id = page
            .split("<iframe class=\"preview\" src=\"/files/")
            .nth(1)
            .expect("the PDF is previewed in the page")
            .split('/')
            .next()
            .unwrap()
            .to_string();
        assert!(
            !page.contains("<img class=\"preview\""),
            "a CSV is not previewed"
        );
        let res = reviewer.get(&format!("/files/{pdf_id}/preview")).await;
        assert_eq!(res.status(), StatusCode::OK);
        let h = res.headers();
        assert_eq!(h["content-type"], "application/pdf");
        assert!(
            h["content-disposition"]
                .to_str()
                .unwrap()
                .starts_with("inline")
        );
        assert_eq!(h["x-frame-options"], "SAMEORIGIN");
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'self'"));
        assert_eq!(res.bytes().await.unwrap().as_ref(), PDF);
        assert_eq!(app.audit_count("file.previewed").await, 1);
        // The organisation's trail names the file, not an empty target; its home's recent
        // activity leaves such reads out (a review page's every view makes them).
        assert!(!app.html("/home").await.contains("ファイルのプレビュー"));
        let trail = app.html("/audit").await;
        let line = trail
            .split("<tr>")
            .find(|l| l.contains("<td>ファイルのプレビュー</td>"))
            .unwrap_or_default();
        assert!(line.contains("<td>構成図.pdf</td>"), "{line}");
        // The download is still an attachment; other types and other organisations: 404.
        let csv_id = page
            .split("href=\"/files/")
            .filter_map(|p| p.split('"').next())
            .find(|p| *p != pdf_id && uuid::Uuid::parse_str(p).is_ok())
            .unwrap()
            .to_string();
        assert_eq!(
            reviewer
                .get(&format!("/files/{csv_id}/preview"))
                .await
                .status(),
            StatusCode::NOT_FOUND
        );
        let b = app.new_browser();
        b.login("kanri@b.example.jp", PASSWORD).await;
        assert_eq!(
            b.get(&format!("/files/{pdf_id}/preview")).await.status(),
            StatusCode::NOT_FOUND
        );

        // The queue by connection form: a router organisation's submission, not under gateway.
        let router = reviewer
            .get("/review?form=router")
            .await
            .text()
            .await
            .unwrap();
        assert!(router.contains(&format!("/review/{id}")));
        let gateway = reviewer
            .get("/review?form=gateway")
            .await
            .text()
            .await
            .unwrap();
        assert!(!gateway.contains(&format!("/review/{id}")));
    }
);

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

dual_test!(
    a_too_long_comment_is_refused_with_its_text_kept_and_line_breaks_survive,
    |app| async move {
        app.add_user("kanri@a.example.jp", "org_admin", Some("AAAAA"))
            .await;
        app.add_user("reviewer@center.example.jp", "reviewer", None)
            .await;
        let org = app.org_of("kanri@a.example.jp").await.to_string();
        app.login("kanri@a.example.jp", PASSWORD).await;
        let res = app.attest_router_at_new_office(&org).await;
        let id = submission_in(&res);
        let long = format!("{}終", "あ".repeat(4000));
        for (who, path) in [
            (
                app.browser(),
                format!("/orgs/{org}/submissions/{id}/comments"),
            ),
            (
                {
                    let r = app.new_browser();
                    r.login("reviewer@center.example.jp", PASSWORD).await;
                    r
                },
                format!("/review/{id}/comments"),
            ),
        ] {
            let res = who.post(&path, &[("body", &long)]).await;
            assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{path}");
            let page = res.text().await.unwrap();
            assert!(page.contains("コメントは4000文字までです"), "{path}");
            assert!(page.contains(&long), "the text is kept: {path}");
            let res = who
                .post(&path, &[("body", "一行目\n二行目\n\n四行目")])
                .await;
            assert_eq!(res.status(), StatusCode::SEE_OTHER, "{path}");
        }
        assert_eq!(app.count("comments").await, 2);
        let receipt = app
            .get(&format!("/orgs/{org}/submissions/{id}/receipt"))
            .await
            .text()
            .await
            .unwrap();
        assert!(
            receipt.contains("<p class=\"pre\">一行目\n二行目\n\n四行目</p>"),
            "line breaks kept and shown as such"
        );
    }
);

dual_test!(
    a_report_replaced_by_a_newer_one_of_the_same_place_says_so_to_the_reviewer,
    |app| async move {
        app.add_user("a@a.example.jp", "org_admin", Some("AAAAA"))
            .await;
        app.add_user("r1@center.example.jp", "reviewer", None).await;
        let org = app.org_of("a@a.example.jp").await.to_string();
        app.login("a@a.example.jp", PASSWORD).await;
        let office = app.office_with_router(&org).await;
        // The form names the router it attests.
        let html = app.html(&office).await;
        assert!(
            html.contains("<strong>対象のルータ（ルータ識別番号）:</strong> <code>R-001</code>"),
            "{html}"
        );
        // An older report of another item waits too (the 管理責任者 of the office).
        let res = app.post(&format!("{office}/appointments"), &YAMADA).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        // Two attestations of the same router, each a report of its own: the second is sent
        // while the first still waits for the Center.
        let first = submission_in(&app.post(&format!("{office}/router"), &ROUTER_OK).await);
        // Its 確認 page says that one waits already.
        let res = app
            .browser()
            .post_unconfirmed(&format!("{office}/router"), &ROUTER_OK)
            .await;
        let page = res.text().await.unwrap();
        assert!(
            page.contains("この項目には、センターの審査を待っている届出（受付番号")
                && page.contains("提出）がすでにあります。"),
            "{page}"
        );
        let second = submission_in(&app.post(&format!("{office}/router"), &ROUTER_OK).await);
        assert_ne!(first, second);
        // The location page names the last attestation's state.
        let page = app.html(&office).await;
        let last = page.split("前回の届出：").nth(1).unwrap_or_default();
        assert!(
            last.chars()
                .take(30)
                .collect::<String>()
                .contains("（提出済み）"),
            "{last}"
        );
        let second_id = uuid::Uuid::parse_str(&second).unwrap();
        let receipt: String = secportal::db::on_db!(app.db(), p => sqlx::query_scalar(
            "SELECT receipt_no FROM submissions WHERE id = $1")
            .bind(second_id)
            .fetch_one(p)
            .await)
        .unwrap();

        let r1 = app.new_browser();
        r1.login("r1@center.example.jp", PASSWORD).await;
        // The queue flags the older line, not the newer.
        let queue = r1.html("/review").await;
        let line = |id: &str| {
            queue
                .split("<tr")
                .find(|row| row.contains(&format!("/review/{id}\"")))
                .unwrap_or_default()
                .to_string()
        };
        assert!(line(&first).contains("新しい届出あり"), "{}", line(&first));
        assert!(
            !line(&second).contains("新しい届出あり"),
            "{}",
            line(&second)
        );
        let page = r1.html(&format!("/review/{first}")).await;
        assert!(
            page.contains("この届出の後に、この項目の新しい届出が提出されています")
                && page.contains(&receipt)
                && page.contains("判断の前に、新しい届出の内容を確認してください。")
                && page.contains(&format!("href=\"/review/{second}\"")),
            "the older report points to the newer one"
        );
        assert!(
            page.contains("新しい届出を確認しました")
                && page.contains("class=\"field newer-seen\""),
            "accepting the older one asks for a tick"
        );
        let page = r1.html(&format!("/review/{second}")).await;
        assert!(
            !page.contains("新しい届出が提出されています") && !page.contains("name=\"newer_seen\""),
            "the newest says nothing"
        );
        // Accepting the older one without the tick is refused with the reason, the choice kept.
        let res = r1
            .post(
                &format!("/review/{first}/decide"),
                &[("decision", "accepted"), ("reason", "")],
            )
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let body = res.text().await.unwrap();
        assert!(
            body.contains(
                "この届出を受理するときは、新しい届出を確認してからチェックを付けてください。"
            ) && !body.contains("この古い届出を受理するときだけ必要です。")
                && body.contains(r#"value="accepted" checked"#),
            "{body}"
        );
        // That page's address, reloaded (or after switching the language), is the report's page.
        let res = r1.get(&format!("/review/{first}/decide")).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&res), format!("/review/{first}"));
        // Returned (the newer one is what counts), the older one still says so, without the
        // advice to read it before deciding; the organisation is not asked to correct it.
        r1.post(
            &format!("/review/{first}/decide"),
            &[
                ("decision", "returned"),
                ("reason", "新しい届出を審査します。"),
            ],
        )
        .await;
        // The mail says so too, naming the newer report.
        let mail = app
            .wait_mail_text("a@a.example.jp", "修正して再提出する必要はありません")
            .await;
        assert!(
            mail.contains(&format!("新しい届出 {receipt} が提出されている"))
                && mail.contains("新しい届出を審査します。"),
            "{mail}"
        );
        let receipt_page = app
            .html(&format!("/orgs/{org}/submissions/{first}/receipt"))
            .await;
        assert!(
            receipt_page.contains("この届出を修正する必要はありません。")
                && receipt_page.contains(&receipt)
                && !receipt_page.contains("修正して再提出する"),
            "{receipt_page}"
        );
        let receipt_page = app
            .html(&format!("/orgs/{org}/submissions/{second}/receipt"))
            .await;
        assert!(!receipt_page.contains("新しい届出（受付番号"));
        let page = r1.html(&format!("/review/{first}")).await;
        assert!(
            page.contains("新しい届出が提出されています")
                && !page.contains("判断の前に、新しい届出の内容を確認してください。")
        );
        // 次の審査待ち is the other report of the same router, before the older notice.
        let next = page.split(r#"<p class="next">"#).nth(1).unwrap_or_default();
        assert!(
            next.starts_with(&format!(r#"<a class="button" href="/review/{second}">"#)),
            "{next}"
        );
    }
);

//! The organisation's record (issue 8 item 4): the 提出履歴 page lists every sealed
//! submission in words, filtered and paged, in the organisation's scope only; every seal sends
//! one 到達通知 with its receipt number.

use reqwest::StatusCode;
use secportal::db::on_db;

use crate::dual_test;
use crate::helpers::{PASSWORD, TestApp, receipt_of};
use crate::report_data::{EMAIL, narita, submit_all};
use crate::reports::{read, set_lang};

/// The mails to `to` (their text) in the mail folder.
fn mails_to(app: &TestApp, to: &str) -> Vec<String> {
    let Ok(dir) = std::fs::read_dir(app.data_dir.join("mail")) else {
        return vec![];
    };
    dir.filter_map(|e| std::fs::read_to_string(e.ok()?.path()).ok())
        .filter(|m| m.lines().any(|l| l.starts_with("To: ") && l.contains(to)))
        .collect()
}

dual_test!(
    the_history_lists_every_kind_in_words_filters_by_item_and_state_and_is_the_organisations_own,
    |app| async move {
        let org = narita(&app).await;
        let first = submit_all(&app, &org, 1).await;
        let reviewer = app.new_browser();
        reviewer.login("shinsa@naccs.example.jp", PASSWORD).await;
        let av = first
            .iter()
            .find(|(k, _)| *k == "antivirus")
            .unwrap()
            .1
            .clone();
        let res = reviewer
            .post(
                &format!("/review/{av}/decide"),
                &[
                    ("decision", "returned"),
                    ("reason", "定義の日付を確認してください。"),
                ],
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);

        let b = app.browser();
        let path = format!("/orgs/{}/submissions", org.id);
        // Linked from the navigation and the home page.
        let home = b.get("/home").await.text().await.unwrap();
        assert!(
            home.matches(&format!("href=\"{path}\"")).count() >= 2,
            "{home}"
        );

        let mut receipts = vec![];
        for (_, id) in &first {
            receipts.push(receipt_of(&app, id).await);
        }
        let want_ja: Vec<&str> = [
            "提出履歴",
            "7.4.1(1) 管理責任者の設置",
            "7.4.1(2) ID・パスワードの管理",
            "7.4.1(3) ウィルス対策",
            "7.4.1(4) 利用者側のシステム構成の提出",
            "7.4.1(5) 社内セキュリティ対策の提出",
            "7.4.1(6) 履歴（ログ）の管理",
            "7.4.2(1) NACCS 接続ルータの利用制限",
            "7.4.2(2) 社外ネットワークとの接続",
            "成田営業所（事業所）",
            "成田第2倉庫（ゲートウェイコンピュータ等の設置場所）",
            "組織全体",
            "提出済み",
            "差戻し（",
        ]
        .into_iter()
        .chain(receipts.iter().map(|r| r.as_str()))
        .collect();
        let html = read(&b, &path, &want_ja).await;
        for (kind, id) in &first {
            assert!(
                html.contains(&format!("/orgs/{}/submissions/{id}/receipt", org.id)),
                "{kind} links its receipt"
            );
        }
        // Items 1 and 2 land on a receipt like every report, linked from their own pages.
        let admin = &first.iter().find(|(k, _)| *k == "administrator").unwrap().1;
        let html = read(
            &b,
            &format!("/orgs/{}/locations/{}", org.id, org.office),
            &["受付票", &receipts[0]],
        )
        .await;
        assert!(html.contains(&format!("/orgs/{}/submissions/{admin}/receipt", org.id)));
        let idm = &first.iter().find(|(k, _)| *k == "id_management").unwrap().1;
        let html = read(&b, &format!("/orgs/{}/id-management", org.id), &["受付票"]).await;
        assert!(html.contains(&format!("/orgs/{}/submissions/{idm}/receipt", org.id)));
        set_lang(&b, "en").await;
        read(
            &b,
            &path,
            &[
                "Submission history",
                "7.4.1(3) Antivirus",
                "7.4.2(1) NACCS connection router ports",
                "Whole organisation",
                "Submitted",
                "Returned (",
            ],
        )
        .await;
        set_lang(&b, "ja").await;

        // By item, by state, and both: only what matches, and the choice stays selected.
        let html = read(&b, &format!("{path}?item=antivirus"), &["1 件"]).await;
        assert!(html.contains(&format!("/submissions/{av}/receipt")));
        assert!(html.contains("<option value=\"antivirus\" selected>"));
        for (kind, id) in &first {
            if *kind != "antivirus" {
                assert!(
                    !html.contains(&format!("/submissions/{id}/receipt")),
                    "{kind}"
                );
            }
        }
        let html = read(&b, &format!("{path}?state=returned"), &["1 件", "差戻し"]).await;
        assert!(html.contains(&format!("/submissions/{av}/receipt")));
        let html = read(
            &b,
            &format!("{path}?item=gateway_logs&state=returned"),
            &["0 件", "該当する提出はありません。"],
        )
        .await;
        assert!(!html.contains("/receipt\""));
        let n = first.len().to_string();
        let html = read(
            &b,
            &format!("{path}?item=administrator&state=submitted"),
            &["1 件"],
        )
        .await;
        assert!(html.contains(&format!("/submissions/{}/receipt", first[0].1)));
        // A mistyped bookmark opens the whole history with a message.
        read(
            &b,
            &format!("{path}?state=unknown&item=antivirus"),
            &["指定された絞り込み条件は使えません。", &format!("{n} 件")],
        )
        .await;

        // Another organisation's history, and the reviewer's 403-free read of it.
        app.add_user("other@example.jp", "org_admin", Some("OTH01"))
            .await;
        let other = app.new_browser();
        other.login("other@example.jp", PASSWORD).await;
        assert_eq!(other.get(&path).await.status(), StatusCode::NOT_FOUND);
        assert_eq!(
            other.get(&format!("{path}?item=antivirus")).await.status(),
            StatusCode::NOT_FOUND
        );
        assert_eq!(reviewer.get(&path).await.status(), StatusCode::OK);
    }
);

dual_test!(
    a_long_history_is_paged_and_each_page_keeps_the_filter,
    |app| async move {
        let org = narita(&app).await;
        let org_id = uuid::Uuid::parse_str(&org.id).unwrap();
        let me = app.org_of(EMAIL).await;
        let user: uuid::Uuid = on_db!(app.db(), p => sqlx::query_scalar("SELECT id FROM users WHERE email = $1").bind(EMAIL).fetch_one(p).await).unwrap();
        assert_eq!(me, org_id);
        let mut tx = app.db().begin().await.unwrap();
        for _ in 0..55 {
            secportal::db::submissions::insert_submitted(
                &mut tx,
                &secportal::db::submissions::NewSubmission {
                    org_id,
                    kind: "inhouse_measures",
                    scope_kind: secportal::domain::ScopeKind::Organisation,
                    location_id: None,
                    data: serde_json::json!({}),
                    catalogue_revision: 1,
                    submitted_by: user,
                },
                None,
            )
            .await
            .unwrap();
        }
        tx.commit().await.unwrap();
        let b = app.browser();
        let path = format!("/orgs/{}/submissions?item=inhouse_measures", org.id);
        let html = read(&b, &path, &["55 件", "1 / 2 ページ", "次の50件"]).await;
        assert_eq!(html.matches("/receipt\"").count(), 50);
        let next = format!("/orgs/{}/submissions?item=inhouse_measures&page=2", org.id);
        let unescaped = html.replace("&#38;", "&").replace("&amp;", "&");
        assert!(unescaped.contains(&format!("href=\"{next}\"")), "{html}");
        let html = read(
            &b,
            &format!("{path}&page=2"),
            &["55 件", "2 / 2 ページ", "前の50件"],
        )
        .await;
        assert_eq!(html.matches("/receipt\"").count(), 5);
        // A page past the end shows the last one.
        let html = read(&b, &format!("{path}&page=9"), &["2 / 2 ページ"]).await;
        assert_eq!(html.matches("/receipt\"").count(), 5);
    }
);

dual_test!(
    every_sealed_submission_sends_one_arrival_mail_with_its_receipt_number_and_link,
    |app| async move {
        let org = narita(&app).await;
        let first = submit_all(&app, &org, 1).await;
        app.wait_mail_count(first.len()).await;
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        let mails = mails_to(&app, EMAIL);
        for (kind, id) in &first {
            let receipt = receipt_of(&app, id).await;
            let with: Vec<&String> = mails.iter().filter(|m| m.contains(&receipt)).collect();
            assert_eq!(with.len(), 1, "{kind}: one 到達通知 for {receipt}");
        }
        // Each arrival is also in the inbox, with the receipt named.
        let inbox = read(&app.browser(), "/inbox", &["到達通知"]).await;
        assert!(inbox.contains(&receipt_of(&app, &first[0].1).await));
        // Its kind is named shortly, not by the mail setting's long label that repeats the
        // message ("届出の到達通知 | 到達通知 …").
        assert!(
            inbox.contains("<td>受付</td>") && !inbox.contains("<td>届出の到達通知</td>"),
            "{inbox}"
        );
        // The outbox recorded every mail as sent.
        let unsent: i64 = on_db!(app.db(), p => sqlx::query_scalar(
            "SELECT COUNT(*) FROM notifications WHERE kind = 'received' AND mailed_at IS NULL",
        )
        .fetch_one(p)
        .await)
        .unwrap();
        assert_eq!(unsent, 0);
        let sent: i64 = on_db!(app.db(), p => sqlx::query_scalar(
            "SELECT COUNT(*) FROM notifications WHERE kind = 'received'",
        )
        .fetch_one(p)
        .await)
        .unwrap();
        assert_eq!(sent as usize, first.len());
    }
);

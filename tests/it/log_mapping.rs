//! Column mapping per gateway site (issue 11 item 2): a log whose columns the check cannot
//! tell is kept and shown as its first lines with a form; the mapping is kept for the site,
//! the log checked again with it off the request (確認中 until then, not submittable), and
//! the site's next log read with it; another
//! organisation's site answers 404; bad mappings are refused with nothing changed.

use reqwest::StatusCode;

use crate::dual_test;
use crate::followup::upload_log;
use crate::gateway_logs::{
    CUSTOM, CUSTOM_MAPPING as MAPPING, CUSTOM_WITHOUT_DIRECTION, gateway_site, gzip, map,
    map_and_recheck, page, refused_report, site_checks, submit_logs,
};
use crate::helpers::{PASSWORD, TestApp, assert_says, field_value, location};

/// The kept check (JSON) of every log at its site, in no order.
async fn checks(app: &TestApp) -> Vec<String> {
    site_checks(app, "result").await
}

/// What the page's script is told: how many of the site's logs are 確認中.
async fn checking(app: &TestApp, path: &str) -> String {
    app.get(&format!("{path}/checking"))
        .await
        .text()
        .await
        .unwrap()
}

/// Sealed gateway-log submissions.
async fn submitted(app: &TestApp) -> i64 {
    let db = app.db();
    secportal::db::on_db!(db, p => sqlx::query_scalar(
        "SELECT COUNT(*) FROM submissions WHERE kind = 'gateway_logs' AND submitted_at IS NOT NULL")
        .fetch_one(p)
        .await)
    .unwrap()
}

dual_test!(
    a_log_in_its_own_column_order_is_mapped_once_and_the_sites_next_log_is_read_with_it,
    |app| async move {
        let (_, _, path) = gateway_site(&app).await;
        let res = upload_log(
            &app,
            &path,
            "gw-custom.log.gz",
            &gzip(CUSTOM.as_bytes(), flate2::Compression::fast()),
        )
        .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "kept to be mapped");
        let html = page(&app, &path).await;
        assert_says(
            &html,
            &[
                "列を読み取れないログがあります",
                "gw-custom.log.gz の列の対応づけ",
                // The guessed field is told apart from those left to choose.
                "見出し行の名前から、次の項目がどの列かを決められませんでした: 利用者コード、識別番号、業務コード。",
                "送受信区分→列5 は先頭行の内容から推測して選んであります",
                "gw-custom.log.gz の先頭 4 行",
                "<th scope=\"col\">列5</th>",
                "<td>端末番号</td>",
                "<td>2026/10/01 09:00:04</td><td>ABC12</td><td></td><td>IDA</td><td>受信</td>",
                "記入例（CSV）をダウンロード",
            ],
        );
        assert!(!html.contains("記録 0 行"), "no check to show yet");
        // A guess to start from: the header, the time column and the direction.
        assert!(html.contains("value=\"1\" selected>列1（日付時刻）"));
        assert!(html.contains("value=\"5\" selected>列5（種別）"));
        // Not submitted while a log waits for its mapping.
        assert!(
            refused_report(&app, &path)
                .await
                .contains("列の対応づけが済んでいないログがあります")
        );

        let file = field_value(&html, "file").unwrap();
        assert_eq!(field_value(&html, "version").as_deref(), Some("0"));
        let res = map(&app, &path, &file, "0", &MAPPING).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&res), path);
        assert_eq!(app.count("gateway_log_mappings").await, 1);
        assert_eq!(app.audit_count("gateway_log.mapped").await, 1);
        assert_eq!(
            app.count("gateway_log_site_checks").await,
            1,
            "replaced, not added"
        );
        // Read again off the request: the page says so until the re-check has run.
        let html = page(&app, &path).await;
        assert_says(
            &html,
            &[
                "列の対応づけを保存しました。ログはこの対応づけで確認し直します（結果は下に表示されます）。",
                "gw-custom.log.gz を保存した列の対応づけで確認し直しています（確認中）。",
                "<script src=\"/static/logcheck.js\" defer></script>",
                // Without script, a link shows the result (no timed reload throwing away
                // what the clerk is choosing in the mapping form beside it).
                "最新の状態を表示</a></noscript>",
            ],
        );
        assert!(
            !html.contains("gw-custom.log.gz の確認結果"),
            "no result yet"
        );
        assert_eq!(checking(&app, &path).await, "{\"checking\":1}");
        assert_eq!(app.run_rechecks().await, 1);
        assert_eq!(app.audit_count("gateway_log.rechecked").await, 1);
        assert_eq!(checking(&app, &path).await, "{\"checking\":0}");
        let html = page(&app, &path).await;
        assert!(!html.contains("確認中") && !html.contains("logcheck.js"));
        assert_says(
            &html,
            &[
                "列: この設置場所の列の対応づけで読み取りました（1行目は見出し）",
                "記録 3 行（送信 2 行・受信 1 行）",
                "記録期間: 2026-10-01 09:00:00 〜 2026-10-01 10:30:00（日本時間）",
                "gw-custom.log.gz の列の対応づけを変更する",
            ],
        );
        assert!(!html.contains("見出し行の名前から、次の項目がどの列かを決められませんでした"));
        // A second form shown before this mapping was saved is refused.
        let res = map(&app, &path, &file, "0", &MAPPING).await;
        assert_eq!(res.status(), StatusCode::CONFLICT);
        assert_eq!(app.audit_count("gateway_log.mapped").await, 1);

        // The organisation changes its mind (the form shows the mapping's version), and back.
        let html = page(&app, &path).await;
        assert_eq!(field_value(&html, "version").as_deref(), Some("1"));
        let html = map_and_recheck(&app, &path, &file, "1", &CUSTOM_WITHOUT_DIRECTION).await;
        assert!(html.contains("記録 3 行（送信 3 行・受信 0 行）"));
        let res = map(&app, &path, &file, "2", &MAPPING).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(app.audit_count("gateway_log.mapped").await, 3);
        // Not submitted while the log is checked again.
        assert!(refused_report(&app, &path).await.contains("列の対応づけを保存したログを確認し直しています（確認中）。確認が終わってから提出してください。"));
        assert_eq!(submitted(&app).await, 0, "nothing sealed");
        assert_eq!(app.run_rechecks().await, 1);
        assert_eq!(app.count("gateway_log_mappings").await, 1);

        // The site's next log, in the same shape, is read with the mapping at once.
        let next =
            "日付時刻;ユーザー;端末番号;取引;種別\n2026/10/01 11:00:00;ABC12;7003;IDA;送信\n";
        let res = upload_log(&app, &path, "gw-next.log", next.as_bytes()).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let html = page(&app, &path).await;
        assert!(
            html.contains("ファイルを添付しました。"),
            "no mapping asked"
        );
        assert!(
            html.contains("gw-next.log の確認結果 — 各行に問題なし"),
            "one of two logs: its lines; the period is judged for both together"
        );
        assert!(html.contains("記録 1 行（送信 1 行・受信 0 行）"));
        assert_eq!(checks(&app).await.len(), 2);
        // A log in another order without a header is not read in the site's columns: its
        // mapping form opens, saying why, with a guess from its own first lines.
        let other =
            "送信,ABC12,7004,IDA,2026/10/01 12:00:00\n受信,ABC12,,IDA,2026/10/01 12:00:03\n";
        let res = upload_log(&app, &path, "gw-other.csv", other.as_bytes()).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let html = page(&app, &path).await;
        assert_says(
            &html,
            &[
                "gw-other.csv の列の対応づけ",
                "この設置場所の列の対応づけでは1行目は見出し行ですが、このログの1行目は記録です。",
                "<td>送信</td><td>ABC12</td><td>7004</td><td>IDA</td><td>2026/10/01 12:00:00</td>",
                "<option value=\"no\" selected>",
            ],
        );
        assert!(!html.contains("gw-other.csv の確認結果"), "{html}");
        assert!(
            refused_report(&app, &path)
                .await
                .contains("列の対応づけが済んでいないログがあります")
        );
        // A log whose header names the same columns in another order (two codes swapped:
        // the time and the direction where they were) is read where the names are now.
        let swapped =
            "日付時刻;端末番号;ユーザー;取引;種別\n2026/10/01 12:30:00;7005;ABC12;IDA;送信\n";
        let res = upload_log(&app, &path, "gw-swapped.log", swapped.as_bytes()).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let html = page(&app, &path).await;
        assert_says(
            &html,
            &[
                "gw-swapped.log の確認結果 — 各行に問題なし",
                "列: 前のログと列の並びが違うため、見出し行の列名でこの設置場所の列の対応づけの各項目の列を探して読み取りました",
            ],
        );
        assert!(!html.contains("gw-swapped.log の列の対応づけ</"), "{html}");
        // One whose header names other columns is not read until it is mapped again.
        let renamed =
            "日付時刻;利用者コード;識別番号;取引;種別\n2026/10/01 12:40:00;ABC12;7006;IDA;送信\n";
        let res = upload_log(&app, &path, "gw-renamed.log", renamed.as_bytes()).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let html = page(&app, &path).await;
        assert_says(
            &html,
            &[
                "gw-renamed.log の列の対応づけ",
                "このログの見出し行には、この設置場所で前に列を対応づけたログの見出し行にない列名があります。",
                "<td>日付時刻</td><td>利用者コード</td><td>識別番号</td><td>取引</td><td>種別</td>",
            ],
        );
        assert!(!html.contains("gw-renamed.log の確認結果"), "{html}");
        // Taken off again, the other logs are submitted.
        for name in ["gw-other.csv", "gw-renamed.log"] {
            let html = page(&app, &path).await;
            let after = &html[html.find(&format!(">{name}</a>")).unwrap()..];
            let remove = after
                .split("action=\"")
                .nth(1)
                .unwrap()
                .split('"')
                .next()
                .unwrap();
            assert!(remove.ends_with("/remove"), "{remove}");
            let res = app.post(remove, &[]).await;
            assert_eq!(res.status(), StatusCode::SEE_OTHER);
        }
        submit_logs(&app, &path, "2026-10-01", "2026-10-01").await;
        // A submitted log is not read again with another mapping.
        let res = map(&app, &path, &file, "3", &MAPPING).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
        assert_eq!(app.audit_count("gateway_log.mapped").await, 3);

        // The Center finds the mapped lines by 識別番号.
        let db = app.db();
        let id: uuid::Uuid = secportal::db::on_db!(db, p => sqlx::query_scalar(
            "SELECT id FROM submissions WHERE kind = 'gateway_logs' AND submitted_at IS NOT NULL")
            .fetch_one(p)
            .await)
        .unwrap();
        // What was sealed stays: the site's kept checks read again later (another upload of
        // the same file, another mapping) change neither the review page nor the search.
        secportal::db::on_db!(db, p => sqlx::query(
            "UPDATE gateway_log_site_checks SET result = '{\"lines\":0,\"unmapped\":[\"timestamp\"]}'")
            .execute(p)
            .await
            .map(|_| ()))
        .unwrap();
        let reviewer = crate::gateway_logs::reviewer(&app).await;
        let review = crate::gateway_logs::read(&reviewer, &format!("/review/{id}")).await;
        assert_says(
            &review,
            &[
                "gw-custom.log.gz の確認結果",
                "記録 3 行（送信 2 行・受信 1 行）",
            ],
        );
        let html = reviewer
            .get(&format!(
                "/review/{id}/log-search?id_number=7002&from=2026-10-01+10%3A00&to=2026-10-01+11%3A00"
            ))
            .await
            .text()
            .await
            .unwrap();
        assert!(html.contains("一致した行: 1 行"), "{html}");
        assert!(html.contains(
            "<td>gw-custom.log.gz</td><td>4</td><td>送信</td><td>2026-10-01 10:30:00</td><td>XYZ34</td><td>7002</td><td>MIC</td>"
        ));
        // The Center's search is its own business: the organisation's trail and home do not
        // show it (they would tell whose connection is traced); the Center's trail does.
        assert_eq!(app.audit_count("log.searched").await, 1);
        for path in ["/audit", "/home", "/audit?actor=センター"] {
            let html = crate::gateway_logs::page(&app, path).await;
            assert!(
                !html.contains("送受信ログの検索") && !html.contains("7002"),
                "{path}"
            );
        }
        // The log read by its header's names is searched the same way.
        let html = reviewer
            .get(&format!("/review/{id}/log-search?id_number=7005"))
            .await
            .text()
            .await
            .unwrap();
        assert!(
            html.contains(
                "<td>gw-swapped.log</td><td>2</td><td>送信</td><td>2026-10-01 12:30:00</td><td>ABC12</td><td>7005</td><td>IDA</td>"
            ),
            "{html}"
        );
    }
);

dual_test!(
    a_log_without_a_header_is_mapped_by_position,
    |app| async move {
        let (_, _, path) = gateway_site(&app).await;
        // Shift_JIS, tab separated, no header, no direction column: a line with a
        // 識別番号 is a send.
        let log = "東京01\tIDA\t20261001090000\t001\n東京01\tIDA\t2026-10-01T09:00:05+09:00\t\n";
        let (sjis, _, _) = encoding_rs::SHIFT_JIS.encode(log);
        let res = upload_log(&app, &path, "gw.tsv", &sjis).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let html = page(&app, &path).await;
        assert!(
            html.contains("<td>東京01</td><td>IDA</td><td>20261001090000</td><td>001</td>"),
            "the first lines decoded and split by tabs"
        );
        assert!(
            html.contains("<option value=\"no\" selected>"),
            "a time in the first line: no header"
        );
        let file = field_value(&html, "file").unwrap();
        let res = map(
            &app,
            &path,
            &file,
            "0",
            &[
                ("header", "no"),
                ("user_code", "1"),
                ("business_code", "2"),
                ("timestamp", "3"),
                ("id_number", "4"),
                ("direction", ""),
            ],
        )
        .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(app.run_rechecks().await, 1);
        let html = page(&app, &path).await;
        assert_says(
            &html,
            &[
                "列: この設置場所の列の対応づけで読み取りました（見出し行なし）",
                "形式: タブ区切り、Shift_JIS",
                "記録 2 行（送信 1 行・受信 1 行）",
                "gw.tsv の確認結果 — 各行に問題なし（対象期間を入力すると",
            ],
        );
    }
);

dual_test!(
    a_title_line_above_the_header_is_passed_over,
    |app| async move {
        let (_, _, path) = gateway_site(&app).await;
        // As a legacy gateway exports it: a title line, then a header in half-width katakana
        // whose 識別番号 column has another name, Shift_JIS, tabs, gzip.
        let log = "ＮＡＣＣＳゲートウェイ　送受信履歴　2026年10月分\t出力日時 2026/11/01 09:00\n\
                   日時\t方向\t利用者ｺｰﾄﾞ\t電文番号\t業務ｺｰﾄﾞ\n\
                   2026/10/01 09:00:00\t送\tYMT01\t4012345678\tIDA\n\
                   2026/10/01 09:00:02\t受\tYMT01\t\tIDA\n";
        let (sjis, _, _) = encoding_rs::SHIFT_JIS.encode(log);
        let body = crate::gateway_logs::gzip(&sjis, flate2::Compression::fast());
        let res = upload_log(&app, &path, "gw-202610.log.gz", &body).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let html = page(&app, &path).await;
        // The form offers the header's own line, guessed, and every column of the header,
        // named by it; what the names told is chosen.
        assert_says(
            &html,
            &[
                "<option value=\"2\" selected>2行目が見出し行",
                "列4（電文番号）",
                "列5（業務ｺｰﾄﾞ）",
                "<option value=\"3\" selected>列3（利用者ｺｰﾄﾞ）</option>",
                "<option value=\"2\" selected>列2（方向）</option>",
            ],
        );
        let file = field_value(&html, "file").unwrap();
        let html = map_and_recheck(
            &app,
            &path,
            &file,
            "0",
            &[
                ("header", "2"),
                ("timestamp", "1"),
                ("direction", "2"),
                ("user_code", "3"),
                ("id_number", "4"),
                ("business_code", "5"),
            ],
        )
        .await;
        assert_says(
            &html,
            &[
                "2行目が見出し、それより上の行は読み飛ばし",
                "記録 2 行（送信 1 行・受信 1 行）",
                "gw-202610.log.gz の確認結果 — 各行に問題なし（対象期間を入力すると",
            ],
        );
        // The next log of the site, with its title, reads at once with the mapping.
        let next = log
            .replace("2026年10月分", "2026年11月分")
            .replace("2026/10/01", "2026/11/01");
        let (sjis, _, _) = encoding_rs::SHIFT_JIS.encode(&next);
        let res = upload_log(&app, &path, "gw-202611.tsv", &sjis).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let html = page(&app, &path).await;
        assert!(
            html.contains("gw-202611.tsv の確認結果 — 各行に問題なし（対象期間を入力すると"),
            "{html}"
        );
    }
);

dual_test!(
    another_organisations_site_or_log_is_not_found_for_mapping,
    |app| async move {
        let (org, site, path) = gateway_site(&app).await;
        let res = upload_log(&app, &path, "gw.csv", CUSTOM.as_bytes()).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let html = page(&app, &path).await;
        let file = field_value(&html, "file").unwrap();
        let before = checks(&app).await;
        let other = app.new_browser();
        other.login("kanri@b.example.jp", PASSWORD).await;
        let org_b = app.org_of("kanri@b.example.jp").await;
        let mut fields = vec![("file", file.as_str()), ("version", "0")];
        fields.extend_from_slice(&MAPPING);
        for target in [
            format!("/orgs/{org}/locations/{site}/gateway-logs/mapping"),
            format!("/orgs/{org_b}/locations/{site}/gateway-logs/mapping"),
        ] {
            let res = other.post(&target, &fields).await;
            assert_eq!(res.status(), StatusCode::NOT_FOUND, "{target}");
        }
        // The organisation's own site, but a log of another site.
        let office = crate::followup::add_location(&app, &org, "office", "", "大阪支店").await;
        let site2 =
            crate::followup::add_location(&app, &org, "gateway_site", &office, "大阪サーバ室")
                .await;
        let res = map(
            &app,
            &format!("/orgs/{org}/locations/{site2}/gateway-logs"),
            &file,
            "0",
            &MAPPING,
        )
        .await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
        assert_eq!(app.count("gateway_log_mappings").await, 0);
        assert_eq!(app.audit_count("gateway_log.mapped").await, 0);
        assert_eq!(checks(&app).await, before);
    }
);

dual_test!(
    bad_mappings_are_refused_with_a_message_and_nothing_changes,
    |app| async move {
        let (_, _, path) = gateway_site(&app).await;
        let res = upload_log(&app, &path, "gw.csv", CUSTOM.as_bytes()).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let html = page(&app, &path).await;
        let file = field_value(&html, "file").unwrap();
        let before = checks(&app).await;
        let with = |k: &'static str, v: &'static str| {
            MAPPING
                .iter()
                .map(|(f, x)| if *f == k { (*f, v) } else { (*f, *x) })
                .collect::<Vec<_>>()
        };
        for (fields, message) in [
            (
                with("id_number", "2"),
                "ほかの項目と同じ列です。1つの列は1つの項目にだけ指定できます。",
            ),
            (with("business_code", ""), "列を選んでください。"),
            (
                with("timestamp", "6"),
                "このログにない列です。ログの列の数を超えない列を選んでください。",
            ),
            (with("user_code", "x"), "列の番号を選んでください。"),
        ] {
            let res = map(&app, &path, &file, "0", &fields).await;
            assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{message}");
            let html = res.text().await.unwrap();
            assert!(html.contains(message), "{message}");
            assert!(html.contains("列の対応づけを直してください。"));
            assert!(html.contains("aria-invalid=\"true\""));
        }
        // In English too.
        let token = app.browser().token().await;
        let mut fields: Vec<(&str, &str)> = with("id_number", "2");
        fields.extend([
            ("file", file.as_str()),
            ("version", "0"),
            ("csrf_token", token.as_str()),
        ]);
        let res = app
            .client
            .post(app.url(&format!("{path}/mapping")))
            .header("origin", &app.base)
            .header("accept-language", "en")
            .form(&fields)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let html = res.text().await.unwrap();
        assert!(
            html.contains("Another field has the same column."),
            "{html}"
        );
        // A form shown before someone else saved a mapping.
        let res = map(&app, &path, &file, "3", &MAPPING).await;
        assert_eq!(res.status(), StatusCode::CONFLICT);
        assert!(
            res.text()
                .await
                .unwrap()
                .contains("ほかの人が先に変更しました")
        );
        assert_eq!(app.count("gateway_log_mappings").await, 0);
        assert_eq!(app.audit_count("gateway_log.mapped").await, 0);
        assert_eq!(checks(&app).await, before, "the check is as it was");
        let html = page(&app, &path).await;
        assert!(html.contains("見出し行の名前から、次の項目がどの列かを決められませんでした"));
        // The sample of the expected format downloads under its own name, and is a clean log.
        let res = app.get("/gateway-logs/sample.csv").await;
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(
            res.headers()["content-disposition"],
            "attachment; filename=\"gateway-log-sample.csv\""
        );
        let sample = res.bytes().await.unwrap();
        assert!(sample.starts_with("\u{feff}送受信区分,利用者コード".as_bytes()));
        let res = upload_log(&app, &path, "gateway-log-sample.csv", &sample).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert!(
            page(&app, &path).await.contains(
                "gateway-log-sample.csv の確認結果 — 各行に問題なし（対象期間を入力すると"
            )
        );
    }
);

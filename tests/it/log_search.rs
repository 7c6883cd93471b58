//! Finding who connected (issue 11, item 4): the Center searches the gateway logs submitted
//! for a request by 利用者コード, 識別番号, 業務コード and a time range; the lines come with file
//! and line number, on the page and as CSV; every search is audited; nobody else sees it.

use reqwest::StatusCode;

use crate::dual_test;
use crate::followup::upload_log;
use crate::gateway_logs::{answering_submission, gateway_site, gzip, request_logs, submit_logs};
use crate::helpers::{Browser, PASSWORD, TestApp, assert_says, backends, content_type};

/// Shift_JIS, comma separated, gzip compressed.
const LOG_A: &str = "送受信区分,利用者コード,識別番号,業務コード,年月日時分秒\n\
送信,東京01,001,IDA,2026-10-01 09:00:00\n\
受信,東京01,,IDA,2026-10-01 09:00:05\n\
送信,ABC12,001,IDA,2026-10-01 11:00:00\n\
送信,ABC12,002,IDA,2026-10-01 09:30:00\n";

/// UTF-8, tab separated, plain.
const LOG_B: &str = "direction\tuser_code\tid_number\tbusiness_code\ttimestamp\n\
send\tXYZ99\t001\tIDB\t20261001093000\n\
receive\tXYZ99\t\tIDB\t20261001093001\n\
send\tABC12\t003\tIDA\t2026-10-02T00:00:00Z\n";

/// The organisation answers a request for logs with both files; answers the reviewer's
/// browser (signed in), the organisation and the submission.
async fn submitted_logs(app: &TestApp) -> (Browser<'_>, String, String) {
    let (org, site, path) = gateway_site(app).await;
    let reviewer = request_logs(
        app,
        &org,
        &site,
        ["2026-10-01", "2026-10-02"],
        &[("note", "10月1日・2日分")],
    )
    .await;
    let (sjis, _, _) = encoding_rs::SHIFT_JIS.encode(LOG_A);
    for (name, body) in [
        ("gw-a.csv.gz", gzip(&sjis, flate2::Compression::fast())),
        ("gw-b.log", LOG_B.as_bytes().to_vec()),
    ] {
        let res = upload_log(app, &path, name, &body).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{name}");
    }
    submit_logs(app, &path, "2026-10-01", "2026-10-02").await;
    (reviewer, org, answering_submission(app).await)
}

/// The organisation answers a request for 1–2 October with one large gzip log: 識別番号 7777
/// on its first line, 300,000 other lines, 7777 again on its last (line 300003). Answers the
/// reviewer's browser (signed in) and the submission.
async fn submitted_large_log(app: &TestApp) -> (Browser<'_>, String) {
    let (org, site, path) = gateway_site(app).await;
    let reviewer = request_logs(app, &org, &site, ["2026-10-01", "2026-10-02"], &[]).await;
    let mut log = String::from("送受信区分,利用者コード,識別番号,業務コード,年月日時分秒\n");
    log.push_str("送信,ABC12,7777,IDA,2026-10-01 09:00:00\n");
    for i in 0..300_000u32 {
        log.push_str(&format!(
            "送信,ABC12,{:06},IDA,2026-10-01 {:02}:{:02}:{:02}\n",
            i,
            10 + i / 3600 % 12,
            i / 60 % 60,
            i % 60
        ));
    }
    log.push_str("送信,ABC12,7777,IDA,2026-10-02 23:59:59\n");
    let res = upload_log(
        app,
        &path,
        "gw-large.csv.gz",
        &gzip(log.as_bytes(), flate2::Compression::fast()),
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    submit_logs(app, &path, "2026-10-01", "2026-10-02").await;
    (reviewer, answering_submission(app).await)
}

/// Reads an answer's body until it holds `text`; answers what was read.
async fn read_until(res: &mut reqwest::Response, text: &str) -> Vec<u8> {
    let mut seen = Vec::new();
    while !String::from_utf8_lossy(&seen).contains(text) {
        let chunk = res
            .chunk()
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("{text} before the end"));
        seen.extend_from_slice(&chunk);
    }
    seen
}

/// A query's fields.
type Fields<'a> = &'a [(&'a str, &'a str)];

fn search(id: &str, fields: Fields) -> String {
    format!(
        "/review/{id}/log-search?{}",
        serde_urlencoded::to_string(fields).unwrap()
    )
}

/// The CSV of a search.
/// The file name an answer is downloaded as.
fn disposition(res: &reqwest::Response) -> String {
    res.headers()
        .get(reqwest::header::CONTENT_DISPOSITION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

fn search_csv(id: &str, fields: Fields) -> String {
    search(id, fields).replace("log-search?", "log-search/csv?")
}

/// The page of a search, read to its end.
async fn found(browser: &Browser<'_>, id: &str, fields: Fields<'_>) -> String {
    browser.get(&search(id, fields)).await.text().await.unwrap()
}

/// The searches audited as begun (criteria, output, files).
async fn searched(app: &TestApp) -> Vec<serde_json::Value> {
    app.audit_details("log.searched").await
}

/// The searches audited as ended (matches, files searched, whether to the end).
async fn finished(app: &TestApp) -> Vec<serde_json::Value> {
    app.audit_details("log.search_finished").await
}

dual_test!(
    the_center_finds_who_connected_in_the_submitted_logs,
    |app| async move {
        let (reviewer, org, id) = submitted_logs(&app).await;
        // Linked from the request and from the submission.
        for page in [format!("/orgs/{org}/followup"), format!("/review/{id}")] {
            let html = reviewer.get(&page).await.text().await.unwrap();
            assert!(html.contains(&format!("/review/{id}/log-search")), "{page}");
        }
        // The request's item opens the answer for the Center, not the organisation's page.
        let html = reviewer
            .get(&format!("/orgs/{org}/followup"))
            .await
            .text()
            .await
            .unwrap();
        assert!(
            html.contains(&format!("<td><a href=\"/review/{id}\">"))
                && !html.contains("/gateway-logs\""),
            "{html}"
        );
        let html = reviewer
            .get(&format!("/review/{id}/log-search"))
            .await
            .text()
            .await
            .unwrap();
        assert!(html.contains("2 ファイル") && !html.contains("一致した行"));
        assert!(
            searched(&app).await.is_empty(),
            "opening the form is no search"
        );

        // By 識別番号 and a time range: one line of each file.
        let by_id = [
            ("id_number", "001"),
            ("from", "2026-10-01 09:00"),
            ("to", "2026-10-01T10:00"),
        ];
        let res = reviewer.get(&search(&id, &by_id)).await;
        assert_eq!(res.status(), StatusCode::OK);
        let html = res.text().await.unwrap();
        assert_says(
            &html,
            &[
                "一致した行: 2 行",
                "<td>gw-a.csv.gz</td><td>2</td><td>送信</td><td>2026-10-01 09:00:00</td><td>東京01</td><td>001</td><td>IDA</td>",
                "<td>gw-b.log</td><td>2</td><td>送信</td><td>2026-10-01 09:30:00</td><td>XYZ99</td><td>001</td><td>IDB</td>",
            ],
        );
        assert!(!html.contains("11:00:00"), "outside the range");

        // By 利用者コード: typed in UTF-8, found in the Shift_JIS file, both directions.
        let html = found(&reviewer, &id, &[("user_code", "東京01")]).await;
        assert!(html.contains("一致した行: 2 行"), "{html}");
        assert!(
            html.contains(
                "<td>gw-a.csv.gz</td><td>3</td><td>受信</td><td>2026-10-01 09:00:05</td>"
            )
        );
        // A time in another zone is compared in JST; 業務コード narrows.
        let html = found(
            &reviewer,
            &id,
            &[
                ("user_code", "ABC12"),
                ("business_code", "IDA"),
                ("from", "2026-10-02"),
            ],
        )
        .await;
        assert!(html.contains("一致した行: 1 行"));
        assert!(
            html.contains("<td>gw-b.log</td><td>4</td><td>送信</td><td>2026-10-02 09:00:00</td>")
        );

        // The CSV holds the same lines, UTF-8 with BOM.
        let res = reviewer.get(&search_csv(&id, &by_id)).await;
        assert_eq!(res.status(), StatusCode::OK);
        assert!(content_type(&res).starts_with("text/csv"));
        let csv_name = disposition(&res);
        let body = res.text().await.unwrap();
        let rows: Vec<&str> = body.trim_end().split("\r\n").collect();
        assert_eq!(rows.len(), 3, "{body}");
        assert!(rows[0].starts_with("\u{feff}ファイル,行番号,送受信区分"));
        assert!(rows[1].starts_with("gw-a.csv.gz,2,送信,2026-10-01 09:00:00,東京01,001,IDA,"));
        assert!(rows[2].starts_with("gw-b.log,2,送信,2026-10-01 09:30:00,XYZ99,001,IDB,"));
        // The workbook holds them too, its codes as text (a 識別番号 keeps its leading
        // zeros, which Excel drops from a CSV); each download is named by its time.
        let xlsx = search_csv(&id, &by_id).replace("log-search/csv?", "log-search/xlsx?");
        let res = reviewer.get(&xlsx).await;
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(
            content_type(&res),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        );
        let name = disposition(&res);
        assert!(
            name.contains(".xlsx")
                && name.contains("secportal-log-search-SR-")
                && name.contains("-id001-"),
            "{name}"
        );
        assert!(csv_name.contains(".csv"), "{csv_name}");
        let sheets = secportal::domain::workbook::read(&res.bytes().await.unwrap()).unwrap();
        assert_eq!(sheets[0].name.as_deref(), Some("送受信ログの検索結果"));
        let cells: Vec<Vec<String>> = sheets[0].rows.iter().map(|r| r.cells.clone()).collect();
        assert_eq!(cells.len(), 3);
        assert_eq!(cells[0][..3], ["ファイル", "行番号", "送受信区分"]);
        assert_eq!(
            cells[1][..7],
            [
                "gw-a.csv.gz",
                "2",
                "送信",
                "2026-10-01 09:00:00",
                "東京01",
                "001",
                "IDA"
            ]
        );
        assert_eq!(cells[2][5], "001");
        assert!(
            reviewer
                .get(&xlsx.replace("/xlsx?", "/json?"))
                .await
                .status()
                == StatusCode::NOT_FOUND
        );

        // Every search is audited with its criteria and matches.
        // Every search is audited when it begins (criteria, output, files) and when it ends
        // (matches, files searched, to the end), on the same submission.
        let begun = searched(&app).await;
        assert_eq!(begun.len(), 5, "a format not offered is no search");
        assert_eq!(begun[4]["output"], "xlsx");
        assert_eq!(begun[3]["output"], "csv");
        assert_eq!(begun[3]["files"], 2);
        assert_eq!(begun[3]["criteria"]["id_number"], "001");
        assert!(
            begun[3].get("matches").is_none(),
            "not known when it begins"
        );
        let ended = finished(&app).await;
        assert_eq!(ended.len(), 5);
        assert_eq!(
            (ended[4]["output"].clone(), ended[4]["matches"].clone()),
            ("xlsx".into(), 2.into())
        );
        assert_eq!(ended[3]["matches"], 2);
        assert_eq!(ended[3]["output"], "csv");
        assert_eq!(
            (ended[3]["searched"].clone(), ended[3]["complete"].clone()),
            (2.into(), true.into())
        );
        let targets: Vec<String> = secportal::db::on_db!(app.db(), p => sqlx::query_scalar(
            "SELECT DISTINCT target FROM audit_log WHERE action IN ('log.searched', 'log.search_finished')")
            .fetch_all(p)
            .await)
        .unwrap();
        assert_eq!(targets, vec![id.clone()]);

        // The trail says both in words, in Japanese and in English.
        app.add_user("admin@center.example.jp", "center_admin", None)
            .await;
        let admin = app.new_browser();
        admin.login("admin@center.example.jp", PASSWORD).await;
        let trail = admin.get("/audit?action=log.").await.text().await.unwrap();
        assert_says(
            &trail,
            &[
                "<td>送受信ログの検索</td>",
                "CSV でダウンロード、2 ファイルが対象、条件: 識別番号 001、日時（から） 2026-10-01 09:00、日時（まで） 2026-10-01T10:00",
                "<td>送受信ログの検索の終了</td>",
                "CSV でダウンロード、一致した行 2 行、2 ファイルのうち 2 ファイルを検索、最後まで検索しました",
                "画面に表示、一致した行 2 行",
            ],
        );
        assert!(!trail.contains("\"criteria\"") && !trail.contains("trail.logsearch"));
        assert!(!trail.contains("（log."), "no action key beside its name");
        admin.to_english().await;
        let trail = admin.get("/audit?action=log.").await.text().await.unwrap();
        assert_says(
            &trail,
            &[
                "Downloaded as CSV; files: 2; conditions: Identification number 001, From (date and time) 2026-10-01 09:00",
                "Downloaded as CSV; matching lines: 2; files searched: 2 of 2; searched to the end",
                "Shown on the page; matching lines: 2",
            ],
        );

        // Nothing found is said as such, no file called unreadable; codes typed in lower case
        // or full width find the same lines.
        let html = found(&reviewer, &id, &[("business_code", "ZZZ")]).await;
        assert!(
            html.contains("一致した行: 0 行") && !html.contains("読み取れなかった"),
            "{html}"
        );
        let html = found(
            &reviewer,
            &id,
            &[("user_code", "abc12"), ("business_code", "ｉｄａ")],
        )
        .await;
        assert!(
            html.contains("一致した行: 3 行")
                && html.contains("<td>ABC12</td><td>003</td><td>IDA</td>"),
            "{html}"
        );

        // An organisation's user does not know the page exists.
        for path in [
            search(&id, &by_id),
            search_csv(&id, &by_id),
            search_csv(&id, &by_id).replace("/csv?", "/xlsx?"),
        ] {
            assert_eq!(
                app.get(&path).await.status(),
                StatusCode::NOT_FOUND,
                "{path}"
            );
        }
        assert_eq!(searched(&app).await.len(), 7);
        // A 識別番号 typed without the log's leading zeros finds nothing, and the page says
        // how to type it.
        let html = found(&reviewer, &id, &[("id_number", "1")]).await;
        assert_says(
            &html,
            &[
                "条件に一致する行はありませんでした。",
                "識別番号は、ログに書かれたとおり先頭の 0 も含めて入力してください。",
            ],
        );
        let html = found(&reviewer, &id, &[("id_number", "099")]).await;
        assert!(!html.contains("先頭の 0 も含めて"), "{html}");
    }
);

/// Makes the database refuse audit entries of this action (as a failing write would).
async fn refuse_audit(app: &TestApp, action: &str) {
    let statements = match app.db().pool() {
        secportal::db::Pool::Sqlite(_) => vec![format!(
            "CREATE TRIGGER refuse_test BEFORE INSERT ON audit_log WHEN NEW.action = '{action}' \
             BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"
        )],
        secportal::db::Pool::Postgres(_) => vec![
            format!(
                "CREATE FUNCTION refuse_test() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
                 IF NEW.action = '{action}' THEN RAISE EXCEPTION 'refused by the test'; END IF; \
                 RETURN NEW; END $$"
            ),
            "CREATE TRIGGER refuse_test BEFORE INSERT ON audit_log FOR EACH ROW \
             EXECUTE FUNCTION refuse_test()"
                .to_string(),
        ],
    };
    for sql in statements {
        secportal::db::on_db!(app.db(), p => sqlx::query(sqlx::AssertSqlSafe(sql)).execute(p).await.map(|_| ()))
            .unwrap();
    }
}

dual_test!(
    a_search_that_cannot_be_audited_as_it_begins_does_not_run,
    |app| async move {
        let (reviewer, _, id) = submitted_logs(&app).await;
        refuse_audit(&app, "log.searched").await;
        let page = search(&id, &[("id_number", "001")]);
        for path in [page.clone(), page.replace("log-search?", "log-search/csv?")] {
            let res = reviewer.get(&path).await;
            assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR, "{path}");
            let html = res.text().await.unwrap();
            assert!(html.contains("システムエラーが発生しました"), "{html}");
            assert!(!html.contains("gw-a.csv.gz") && !html.contains("検索結果"));
        }
        assert!(searched(&app).await.is_empty());
        assert!(finished(&app).await.is_empty(), "no file was read");
    }
);

dual_test!(
    a_search_with_bad_criteria_is_told_what_is_wrong_in_both_languages,
    |app| async move {
        let (reviewer, _, id) = submitted_logs(&app).await;
        let cases: [(Fields, &str, &str); 3] = [
            (
                &[("user_code", ""), ("from", ""), ("to", "")],
                "検索する条件を 1 つ以上入力してください",
                "Enter at least one condition",
            ),
            (
                &[("from", "きのう")],
                "日時（から）: 日時を読み取れません",
                "From (date and time): The date and time cannot be read",
            ),
            (
                &[("from", "2026-10-02 09:00"), ("to", "2026-10-01 09:00")],
                "日時（まで）: ",
                "To (date and time): ",
            ),
        ];
        for (fields, ja, _) in &cases {
            let res = reviewer.get(&search(&id, fields)).await;
            assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{ja}");
            assert!(res.text().await.unwrap().contains(ja), "{ja}");
        }
        reviewer.to_english().await;
        for (fields, _, en) in &cases {
            let res = reviewer.get(&search(&id, fields)).await;
            assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{en}");
            assert!(res.text().await.unwrap().contains(en), "{en}");
        }
        assert!(
            searched(&app).await.is_empty(),
            "a refused search reads nothing"
        );
    }
);

dual_test!(
    a_search_of_a_large_log_shows_its_first_lines_before_the_search_has_ended,
    |app| async move {
        let (reviewer, id) = submitted_large_log(&app).await;
        let mut res = reviewer.get(&search(&id, &[("id_number", "7777")])).await;
        assert_eq!(res.status(), StatusCode::OK);
        assert!(res.headers().get("content-length").is_none(), "chunked");
        assert!(content_type(&res).starts_with("text/html"));
        // Read until the first match is there: the last one and the totals are not yet.
        let first = "<td>gw-large.csv.gz</td><td>2</td><td>送信</td><td>2026-10-01 09:00:00</td>";
        let mut seen = read_until(&mut res, first).await;
        let early = String::from_utf8_lossy(&seen).to_string();
        assert!(early.contains("<thead>") && early.contains("検索結果"));
        assert!(
            !early.contains("2026-10-02 23:59:59"),
            "the last match came later"
        );
        assert!(!early.contains("一致した行:"), "the totals came later");
        assert_eq!(searched(&app).await.len(), 1, "audited as it began");
        while let Some(chunk) = res.chunk().await.unwrap() {
            seen.extend_from_slice(&chunk);
        }
        let html = String::from_utf8(seen).unwrap();
        assert_says(
            &html,
            &[
                "<td>gw-large.csv.gz</td><td>300003</td><td>送信</td><td>2026-10-02 23:59:59</td>",
                "一致した行: 2 行",
                "1 ファイルをすべて検索しました",
                "一致した行をすべて CSV でダウンロード",
            ],
        );
        assert!(html.trim_end().ends_with("</html>"));
        assert_eq!(searched(&app).await.len(), 1);
        let d = &finished(&app).await[0];
        assert_eq!(
            (d["matches"].clone(), d["complete"].clone()),
            (2.into(), true.into())
        );
    }
);

dual_test!(
    a_search_that_finds_nothing_says_so_in_english,
    |app| async move {
        let (reviewer, _, id) = submitted_logs(&app).await;
        reviewer.to_english().await;
        let html = found(&reviewer, &id, &[("business_code", "NONE")]).await;
        assert_says(
            &html,
            &[
                "Results",
                "Matching lines: 0",
                "No line matches these conditions.",
                "Every file searched (2 of 2,",
            ],
        );
        assert!(
            !html.contains("Download all matching lines"),
            "nothing to download"
        );
        assert!(!html.contains("logsearch."), "no locale key shown");
    }
);

dual_test!(
    a_search_past_the_page_cap_says_so_where_the_rows_stop_and_counts_them_all,
    |app| async move {
        let (org, site, path) = gateway_site(&app).await;
        let reviewer = request_logs(&app, &org, &site, ["2026-10-01", "2026-10-01"], &[]).await;
        let mut log = String::from("送受信区分,利用者コード,識別番号,業務コード,年月日時分秒\n");
        for i in 0..1_200u32 {
            log.push_str(&format!(
                "送信,ABC12,{i},IDA,2026-10-01 09:{:02}:{:02}\n",
                i / 60 % 60,
                i % 60
            ));
        }
        let res = upload_log(&app, &path, "gw.csv", log.as_bytes()).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        submit_logs(&app, &path, "2026-10-01", "2026-10-01").await;
        let id = answering_submission(&app).await;
        let html = found(&reviewer, &id, &[("user_code", "ABC12")]).await;
        assert_eq!(html.matches("<td>gw.csv</td>").count(), 1000);
        let cap =
            "一致した行が 1,000 行を超えています。画面には最初の 1,000 行だけを表示しています。";
        // Once where the rows stop, once with the totals.
        assert_eq!(html.matches(cap).count(), 2);
        // The header is line 1: the 1,000th match is line 1001.
        assert!(html.contains("<td>gw.csv</td><td>1001</td>"));
        assert!(
            !html.contains("<td>gw.csv</td><td>1002</td>"),
            "no more rows"
        );
        assert!(html.contains("一致した行: 1,200 行"));
        assert!(html.contains("一致した行をすべて CSV でダウンロード"));
    }
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_search_beyond_the_nodes_limit_is_refused_at_once_until_one_ends() {
    for backend in backends() {
        let label = format!("{backend:?}");
        let app = TestApp::spawn_configured(backend, |c| c.log_searches = 1).await;
        let run = async {
            let (reviewer, id) = submitted_large_log(&app).await;
            // Every line as CSV (about 36 MB), read no further than its first chunk: the scan
            // waits for the client, holding the node's one place.
            let all = search_csv(&id, &[("from", "2026-10-01")]);
            let mut held = reviewer.get(&all).await;
            assert_eq!(held.status(), StatusCode::OK);
            read_until(&mut held, "gw-large.csv.gz,2,").await;
            let page = search(&id, &[("id_number", "7777")]);
            let csv = page.replace("log-search?", "log-search/csv?");
            for path in [&page, &csv] {
                let res = reviewer.get(path).await;
                assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE, "{path}");
                // The wait is the running search's time left at its pace so far (the held
                // download barely moves: long, within the bounds).
                let wait: u32 = res.headers()["retry-after"]
                    .to_str()
                    .unwrap()
                    .parse()
                    .unwrap();
                assert!((2..=600).contains(&wait), "{wait}");
                let html = res.text().await.unwrap();
                let said = if wait < 120 {
                    format!("{wait} 秒ほど待ってから")
                } else {
                    format!("{} 分ほど待ってから", wait.div_ceil(60))
                };
                assert!(
                    html.contains("ほかの検索が実行中です") && html.contains(&said),
                    "{said}\n{html}"
                );
            }
            reviewer.to_english().await;
            let res = reviewer.get(&page).await;
            assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
            let html = res.text().await.unwrap();
            assert!(
                html.contains("Other searches are running")
                    && html.contains("Please wait about ")
                    && (html.contains(" seconds and try again.")
                        || html.contains(" minutes and try again.")),
                "{html}"
            );
            assert!(!html.contains("error.search_busy"), "no locale key shown");
            assert_eq!(
                searched(&app).await.len(),
                1,
                "a refused search is not audited"
            );
            // The browser goes away: the place is given back once the scan notices.
            drop(held);
            let started = std::time::Instant::now();
            let html = loop {
                let res = reviewer.get(&page).await;
                if res.status() == StatusCode::OK {
                    break res.text().await.unwrap();
                }
                assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
                assert!(started.elapsed().as_secs() < 30, "the place came back");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            };
            assert!(html.contains("Matching lines: 2"), "{html}");
            assert_eq!(searched(&app).await.len(), 2);
            let ended = finished(&app).await;
            assert_eq!(ended.len(), 2);
            assert_eq!(ended[0]["complete"], false, "the held one did not end");
            assert_eq!(ended[1]["complete"], true);
        };
        tokio::time::timeout(std::time::Duration::from_secs(120), run)
            .await
            .unwrap_or_else(|_| panic!("timed out on {label}"));
    }
}

dual_test!(
    a_csv_of_a_large_log_starts_with_its_header_before_the_search_has_ended,
    |app| async move {
        let (reviewer, id) = submitted_large_log(&app).await;
        // Only the log's last line matches: before the fix nothing was sent until it was found.
        let path = search_csv(&id, &[("id_number", "7777"), ("from", "2026-10-02")]);
        let mut res = reviewer.get(&path).await;
        assert_eq!(res.status(), StatusCode::OK);
        assert!(res.headers().get("content-length").is_none(), "chunked");
        let header = "\u{feff}ファイル,行番号,送受信区分,年月日時分秒（日本時間）,利用者コード,識別番号,業務コード,ログの行\r\n";
        let first = read_until(&mut res, "ログの行\r\n").await;
        assert_eq!(
            String::from_utf8(first.clone()).unwrap(),
            header,
            "the header alone, sent before the match at the end was found"
        );
        let mut body = first;
        while let Some(chunk) = res.chunk().await.unwrap() {
            body.extend_from_slice(&chunk);
        }
        let csv = String::from_utf8(body).unwrap();
        let rows: Vec<&str> = csv.trim_end().split("\r\n").collect();
        assert_eq!(rows.len(), 2, "{csv}");
        assert!(
            rows[1].starts_with("gw-large.csv.gz,300003,送信,2026-10-02 23:59:59,ABC12,7777,IDA,")
        );
        let d = &finished(&app).await[0];
        assert_eq!(
            (d["matches"].clone(), d["complete"].clone()),
            (1.into(), true.into())
        );
    }
);

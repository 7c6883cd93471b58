//! Gateway send/receive logs (issue 11): checked against Table 7-4-2 while they upload, in
//! every shape gateways write them; bad logs refused with nothing kept.

use std::io::Write;

use reqwest::StatusCode;

use crate::dual_test;
use crate::files::stored_files;
use crate::followup::{add_location, setup, upload_log};
use crate::helpers::{Browser, PASSWORD, TestApp, assert_says, backends};

const HEADER: &str = "送受信区分,利用者コード,識別番号,業務コード,年月日時分秒\n";

/// A new gateway site of the signed-in organisation: (org, site, its log page).
pub(crate) async fn gateway_site(app: &TestApp) -> (String, String, String) {
    let (org, _) = setup(app).await;
    let office = add_location(app, &org, "office", "", "本社").await;
    let site = add_location(app, &org, "gateway_site", &office, "本社サーバ室").await;
    let path = format!("/orgs/{org}/locations/{site}/gateway-logs");
    (org, site, path)
}

/// The path of a new gateway site's log page of the signed-in organisation.
async fn log_page(app: &TestApp) -> String {
    gateway_site(app).await.2
}

pub(crate) fn day(n: i64) -> chrono::NaiveDate {
    secportal::web::page::today() + chrono::Duration::days(n)
}

pub(crate) fn gzip(data: &[u8], level: flate2::Compression) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(vec![], level);
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn zip(files: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(vec![]));
    for (name, data) in files {
        w.start_file(name.as_str(), zip::write::SimpleFileOptions::default())
            .unwrap();
        w.write_all(data).unwrap();
    }
    w.finish().unwrap().into_inner()
}

/// A gateway product's own header names, in its own order, separated by semicolons.
pub(crate) const CUSTOM: &str = "日付時刻;ユーザー;端末番号;取引;種別\n\
2026/10/01 09:00:00;ABC12;7001;IDA;送信\n\
2026/10/01 09:00:04;ABC12;;IDA;受信\n\
2026/10/01 10:30:00;XYZ34;7002;MIC;送信\n";

/// The mapping of [`CUSTOM`] as the form sends it (with its direction column).
pub(crate) const CUSTOM_MAPPING: [(&str, &str); 6] = [
    ("header", "yes"),
    ("timestamp", "1"),
    ("user_code", "2"),
    ("id_number", "3"),
    ("business_code", "4"),
    ("direction", "5"),
];

/// [`CUSTOM`] mapped without a direction and with another column as 識別番号.
pub(crate) const CUSTOM_WITHOUT_DIRECTION: [(&str, &str); 6] = [
    ("header", "yes"),
    ("timestamp", "1"),
    ("user_code", "2"),
    ("id_number", "5"),
    ("business_code", "4"),
    ("direction", ""),
];

/// Posts the site's logs report (item 6) for a period, to submit it (the files already
/// attached); answers the answer.
pub(crate) async fn post_logs_report(
    app: &TestApp,
    path: &str,
    from: &str,
    to: &str,
) -> reqwest::Response {
    app.post(
        path,
        &[
            ("storage", "/var/log/naccs"),
            ("mechanism", "GW ソフトウェアが記録"),
            ("retention_months", "13"),
            ("period_from", from),
            ("period_to", to),
            ("action", "submit"),
        ],
    )
    .await
}

/// Saves the period of the site's logs report as the draft (the page's 下書き保存).
pub(crate) async fn save_period(app: &TestApp, path: &str, from: &str, to: &str) {
    let res = app
        .post(
            path,
            &[("period_from", from), ("period_to", to), ("action", "save")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
}

/// Posts the site's logs report for 1 October, to be refused; answers what the page says.
pub(crate) async fn refused_report(app: &TestApp, path: &str) -> String {
    let res = post_logs_report(app, path, "2026-10-01", "2026-10-01").await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    res.text().await.unwrap()
}

/// Submits the site's logs report for a period (the files already attached).
pub(crate) async fn submit_logs(app: &TestApp, path: &str, from: &str, to: &str) {
    let res = post_logs_report(app, path, from, to).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
}

/// Saves a mapping for `file` (seen at `version`) and runs its re-check; answers the page.
pub(crate) async fn map_and_recheck(
    app: &TestApp,
    path: &str,
    file: &str,
    version: &str,
    fields: &[(&str, &str)],
) -> String {
    let res = map(app, path, file, version, fields).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.run_rechecks().await, 1);
    page(app, path).await
}

/// One column (`state` or `result`) of every log's kept check at its site, sorted.
pub(crate) async fn site_checks(app: &TestApp, column: &str) -> Vec<String> {
    assert!(matches!(column, "state" | "result"), "{column}");
    let sql = format!("SELECT {column} FROM gateway_log_site_checks");
    let mut all: Vec<String> = secportal::db::on_db!(app.db(), p => sqlx::query_scalar(
        sqlx::AssertSqlSafe(sql))
        .fetch_all(p)
        .await)
    .unwrap();
    all.sort();
    all
}

/// A mapping post for the file `file`, seen at `version`, with these fields.
pub(crate) async fn map(
    app: &TestApp,
    path: &str,
    file: &str,
    version: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let mut all = vec![("file", file), ("version", version)];
    all.extend_from_slice(fields);
    app.post(&format!("{path}/mapping"), &all).await
}

/// The reviewer's own browser, signed in.
pub(crate) async fn reviewer(app: &TestApp) -> Browser<'_> {
    let reviewer = app.new_browser();
    reviewer.login("reviewer@center.example.jp", PASSWORD).await;
    reviewer
}

/// A page's text as this browser reads it.
pub(crate) async fn read(browser: &Browser<'_>, path: &str) -> String {
    browser.get(path).await.text().await.unwrap()
}

/// The Center asks the organisation for a gateway site's logs of `period`, due in ten days
/// (`more`: other fields, such as the note); answers the reviewer's browser, signed in.
pub(crate) async fn request_logs<'a>(
    app: &'a TestApp,
    org: &str,
    site: &str,
    period: [&str; 2],
    more: &[(&str, &str)],
) -> Browser<'a> {
    let reviewer = reviewer(app).await;
    let due = day(10).to_string();
    let mut fields = vec![
        ("item_key", "gateway_logs"),
        ("location_id", site),
        ("period_from", period[0]),
        ("period_to", period[1]),
        ("due_date", due.as_str()),
    ];
    fields.extend_from_slice(more);
    let res = reviewer
        .post(&format!("/orgs/{org}/requests"), &fields)
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    reviewer
}

/// The submission that answered the request (the test's one request).
pub(crate) async fn answering_submission(app: &TestApp) -> String {
    let id: Option<uuid::Uuid> = secportal::db::on_db!(app.db(), p => sqlx::query_scalar(
        "SELECT submission_id FROM requests")
        .fetch_one(p)
        .await)
    .unwrap();
    id.expect("the request is answered").to_string()
}

/// A page the signed-in user may see.
pub(crate) async fn page(app: &TestApp, path: &str) -> String {
    let res = app.get(path).await;
    assert_eq!(res.status(), StatusCode::OK, "{path}");
    res.text().await.unwrap()
}

dual_test!(
    logs_in_every_accepted_shape_are_checked_while_they_upload,
    |app| async move {
        let path = log_page(&app).await;
        let csv = format!(
            "{HEADER}送信,ABC12,001,IDA,2026-10-01 09:00:00\n受信,ABC12,,IDA,2026-10-01 09:00:01\n"
        );
        let tab = csv.replace(',', "\t");
        let (tsv, _, _) = encoding_rs::SHIFT_JIS.encode(&tab);
        let aligned = "direction  user_code  id_number  business_code  timestamp\n\
                       send       XYZ99      007        IDB            20261002100000\n\
                       receive    XYZ99                 IDB            20261002100001\n";
        let files: Vec<(&str, Vec<u8>)> = vec![
            ("gw.csv", csv.clone().into_bytes()),
            ("gw.tsv", tsv.into_owned()),
            ("gw.log", aligned.as_bytes().to_vec()),
            (
                "gw.csv.gz",
                gzip(csv.as_bytes(), flate2::Compression::fast()),
            ),
            (
                "logs.zip",
                zip(&[
                    ("a/one.csv".into(), csv.clone().into_bytes()),
                    ("two.txt".into(), csv.clone().into_bytes()),
                ]),
            ),
        ];
        for (name, body) in &files {
            let res = upload_log(&app, &path, name, body).await;
            assert_eq!(res.status(), StatusCode::SEE_OTHER, "{name}");
        }
        assert_eq!(app.count("gateway_log_checks").await, 5);
        let html = page(&app, &path).await;
        assert_says(
            &html,
            &[
                "形式: カンマ区切り、UTF-8",
                "形式: タブ区切り、Shift_JIS",
                "形式: 空白で桁揃え、UTF-8",
                "形式: カンマ区切り、UTF-8、gzip 圧縮",
                "形式: カンマ区切り、UTF-8、zip 圧縮",
                "記録 2 行（送信 1 行・受信 1 行）",
                "記録 4 行（送信 2 行・受信 2 行）",
                "記録期間: 2026-10-02 10:00:00 〜 2026-10-02 10:00:01（日本時間）",
                // Said on the page the logs are added on, before the confirmation.
                "「gw.csv.gz」は「gw.csv」と同じ記録のようです",
            ],
        );
        assert!(
            !html.contains("がない行"),
            "an aligned receive line may leave 識別番号 blank"
        );
        let svg = &html[html.find("<svg").unwrap()..html.find("</svg>").unwrap()];
        assert!(
            !svg.contains("script") && !svg.contains("href"),
            "a chart of our own, inline"
        );
        // The same records in another shape (a compressed copy, the same lines as TSV) are
        // named before submitting, to be confirmed: they would count twice.
        let res = app
            .browser()
            .post_unconfirmed(
                &path,
                &[
                    ("storage", "/var/log/naccs"),
                    ("mechanism", "GW ソフトウェアが記録"),
                    ("retention_months", "13"),
                    ("period_from", "2026-10-01"),
                    ("period_to", "2026-10-02"),
                    ("action", "submit"),
                ],
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let confirm = page(&app, &crate::helpers::location(&res)).await;
        assert_says(
            &confirm,
            &[
                "「gw.tsv」は「gw.csv」と同じ記録のようです",
                "「gw.csv.gz」は「gw.csv」と同じ記録のようです",
            ],
        );
        assert!(!confirm.contains("「gw.log」は"), "{confirm}");
        assert!(!confirm.contains("「logs.zip」は"), "{confirm}");
    }
);

dual_test!(
    the_check_names_missing_fields_bad_times_gaps_and_who_connected_in_words,
    |app| async move {
        let path = log_page(&app).await;
        let log = format!(
            "{HEADER}送信,ABC12,001,IDA,2026-10-01 09:00:00\n送信,ABC12,,IDA,2026-10-01 10:00:00\n受信,ABC12,,IDA,きのう\n送信,DEF34,002,IDA,2026-10-02T00:00:00Z\n受信,,,IDA,20261005090000\n"
        );
        let res = upload_log(&app, &path, "gw.csv", log.as_bytes()).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        save_period(&app, &path, "2026-10-01", "2026-10-05").await;
        let html = page(&app, &path).await;
        assert_says(
            &html,
            &[
                "gw.csv の確認結果 — 確認が必要な点があります",
                "記録 5 行（送信 3 行・受信 2 行）",
                "送信の記録で識別番号がない行: 1 行（3 行目）",
                "受信の記録で利用者コードがない行: 1 行（6 行目）",
                "年月日時分秒を読み取れない行: 1 行（4 行目）",
                "記録期間: 2026-10-01 09:00:00 〜 2026-10-05 09:00:00（日本時間）",
                "対象期間 2026-10-01 〜 2026-10-05 を覆っています",
                // A Saturday and a Sunday: said, not a problem.
                "対象期間内で記録のない日は土日・祝日・年末年始だけです（2 日）",
                "利用者コード別の行数（上位 2、全 2 種類）",
                "識別番号：2 種類（どの識別番号も 1 行ずつです）",
                "<td>ABC12</td><td>3</td>",
                "日別の行数（2026-10-01 〜 2026-10-05）",
                "2026-10-02: 送信 1 行・受信 0 行",
                "2026-10-03: 送信 0 行・受信 0 行",
            ],
        );
    }
);

dual_test!(
    bad_logs_are_refused_with_a_clear_message_and_nothing_is_stored,
    |app| async move {
        let path = log_page(&app).await;
        let line = "送信,ABC12,001,IDA,2026-10-01 09:00:00\n";
        let mut garbage = format!("{HEADER}{}", line.repeat(300)).into_bytes();
        garbage.extend((0..4096u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8));
        let bomb_member = gzip(&vec![b'\n'; 1 << 20], flate2::Compression::best());
        let bomb: Vec<u8> = bomb_member.repeat(40);
        let (sjis, _, _) = encoding_rs::SHIFT_JIS.encode("受信,ABC12,,IDA,2026-10-01 09:00:00\n");
        let mut mixed = format!("{HEADER}{}", line.repeat(300)).into_bytes();
        mixed.extend_from_slice(&sjis);
        let many: Vec<(String, Vec<u8>)> = (0..101)
            .map(|i| (format!("{i}.csv"), format!("{HEADER}{line}").into_bytes()))
            .collect();
        let cases: Vec<(&str, Vec<u8>, &str)> = vec![
            (
                "long.csv",
                format!("{HEADER}送信,{}\n", "x".repeat(1 << 20)).into_bytes(),
                "2 行目が 64 KB を超えています",
            ),
            ("garbage.log", garbage, "テキストでないデータがあります"),
            (
                "random.log",
                (0..4096u32)
                    .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
                    .collect(),
                "ファイルの中身がテキストではありません（文字でないデータが含まれています）。ゲートウェイが書き出したテキストのログ",
            ),
            ("bomb.csv.gz", bomb, "圧縮を展開すると大きくなりすぎます"),
            (
                "broken.gz",
                vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 0xde, 0xad, 0xbe, 0xef],
                "圧縮ファイルを読み取れません",
            ),
            (
                "slip.zip",
                zip(&[(
                    "../../evil.csv".into(),
                    format!("{HEADER}{line}").into_bytes(),
                )]),
                "上位のフォルダや絶対パス",
            ),
            (
                "many.zip",
                zip(&many),
                "zip の中のファイルが多すぎます（100 個まで）",
            ),
            (
                "header.csv",
                HEADER.as_bytes().to_vec(),
                "見出し行のほかに記録がありません",
            ),
            ("empty.csv", vec![], "ファイルが空です"),
            (
                "book.csv",
                b"PK\x03\x04\x14\x00\x06\x00[Content_Types].xml".to_vec(),
                "Excel の表は送受信ログとして受け付けていません",
            ),
            (
                "empty.csv.gz",
                gzip(b"", flate2::Compression::fast()),
                "ログに記録がありません",
            ),
            (
                "mixed.csv",
                mixed,
                "UTF-8 と Shift_JIS が混在しています（302 行目）",
            ),
        ];
        for (name, body, message) in cases {
            let res = upload_log(&app, &path, name, &body).await;
            assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{name}");
            let html = res.text().await.unwrap();
            assert!(html.contains(message), "{name}: {message}");
        }
        assert_eq!(app.count("submission_files").await, 0);
        assert_eq!(app.count("gateway_log_checks").await, 0);
        assert_eq!(app.count("blobs").await, 0);
        assert!(stored_files(&app).is_empty(), "{:?}", stored_files(&app));
        // Compressed files are taken as logs only, not as evidence.
        let org = app.org_of("kanri@a.example.jp").await;
        let res = crate::files::upload_to(
            &app,
            &format!("/orgs/{org}/inhouse-measures/files"),
            "evidence",
            "logs.zip",
            zip(&[("a.csv".into(), b"a".to_vec())]),
        )
        .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(app.count("blobs").await, 0);
    }
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_have_their_own_size_limit_above_other_files() {
    for backend in backends() {
        let app = TestApp::spawn_configured(backend, |c| {
            c.max_file_bytes = 1024 * 1024;
            c.max_log_bytes = 3 * 1024 * 1024;
        })
        .await;
        let path = log_page(&app).await;
        let line = "送信,ABC12,001,IDA,2026-10-01 09:00:00\n";
        let two_mb = format!("{HEADER}{}", line.repeat(2 * 1024 * 1024 / line.len()));
        let res = upload_log(&app, &path, "big.csv", two_mb.as_bytes()).await;
        assert_eq!(
            res.status(),
            StatusCode::SEE_OTHER,
            "above the file limit, within the log limit"
        );
        let four_mb = two_mb.repeat(2);
        let res = upload_log(&app, &path, "bigger.csv", four_mb.as_bytes()).await;
        assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(app.count("submission_files").await, 1);
        assert_eq!(app.count("gateway_log_checks").await, 1);
    }
}

dual_test!(
    a_request_window_refuses_uploads_before_it_opens_and_marks_a_late_answer,
    |app| async move {
        let (org, site, path) = gateway_site(&app).await;
        let reviewer = request_logs(
            &app,
            &org,
            &site,
            ["2026-10-01", "2026-10-01"],
            &[("opens_on", &day(3).to_string()), ("note", "10月1日分")],
        )
        .await;
        let log = format!("{HEADER}送信,ABC12,001,IDA,2026-10-01 09:00:00\n");
        let res = upload_log(&app, &path, "gw.csv", log.as_bytes()).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let html = res.text().await.unwrap();
        assert!(
            html.contains(&format!(
                "この依頼のログは {} から受け付けます（受付期間: {} 〜 {}）",
                day(3),
                day(3),
                day(10)
            )),
            "the dates are named"
        );
        assert_eq!(app.count("submission_files").await, 0);
        assert_eq!(app.count("blobs").await, 0);
        // The window has opened and closed since: the upload is taken, the answer is late.
        let db = app.db();
        secportal::db::on_db!(db, p => sqlx::query("UPDATE requests SET opens_on = $1, due_date = $2")
            .bind(day(-5))
            .bind(day(-1))
            .execute(p)
            .await
            .map(|_| ()))
        .unwrap();
        let res = upload_log(&app, &path, "gw.csv", log.as_bytes()).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        submit_logs(&app, &path, "2026-10-01", "2026-10-01").await;
        let late: bool =
            secportal::db::on_db!(db, p => sqlx::query_scalar("SELECT answered_late FROM requests")
            .fetch_one(p)
            .await)
            .unwrap();
        assert!(late);
        let html = read(&reviewer, &format!("/orgs/{org}/followup")).await;
        assert!(
            html.contains("提出済み") && html.contains("期限後"),
            "listed as late for the Center"
        );
        // The reviewer who asked hears that it came, late, with a link to its review.
        let id = answering_submission(&app).await;
        let inbox = read(&reviewer, "/inbox").await;
        assert!(
            inbox.contains("依頼した提出がありました・期限後"),
            "{inbox}"
        );
        let link: String = secportal::db::on_db!(db, p => sqlx::query_scalar(
            "SELECT link FROM notifications WHERE kind = 'answered'")
            .fetch_one(p)
            .await)
        .unwrap();
        assert_eq!(link, format!("/review/{id}"));
        let review = read(&reviewer, &link).await;
        assert!(
            review.contains("への回答です。期限後に提出されました（期限後）。")
                && review.contains("対象期間 2026-10-01 〜 2026-10-01"),
            "{review}"
        );
    }
);

dual_test!(
    an_office_with_a_gateway_connection_keeps_maps_and_submits_its_own_logs,
    |app| async move {
        use crate::structure::{add_connection, checklist};
        let (org, _) = setup(&app).await;
        let office = add_location(&app, &org, "office", "", "本社").await;
        add_connection(&app, &org, &office, "gateway").await;
        let branch = add_location(&app, &org, "office", "", "大阪支店").await;
        add_connection(&app, &org, &branch, "router").await;
        let path = format!("/orgs/{org}/locations/{office}/gateway-logs");
        // Item 6 is owed by the office with the gateway, and its checklist link opens.
        let rows = checklist(&app).await;
        assert!(
            rows.iter()
                .any(|(n, place, _)| n == "7.4.1(6)" && place == "本社"),
            "{rows:?}"
        );
        assert!(
            !rows
                .iter()
                .any(|(n, place, _)| n == "7.4.1(6)" && place == "大阪支店"),
            "{rows:?}"
        );
        assert!(page(&app, "/home").await.contains(&path));
        // The Center's request form offers the office; an office with routers only is not
        // a place of logs.
        let reviewer = reviewer(&app).await;
        let form = read(&reviewer, &format!("/orgs/{org}/followup")).await;
        let select = &form[form.find("id=\"f-r-location\"").unwrap()..];
        let select = &select[..select.find("</select>").unwrap()];
        assert!(
            select.contains(&office) && !select.contains(&branch),
            "{select}"
        );
        // The reviewer reads the checklist: its links open, they are not the reviewer's tasks.
        let org_page = read(&reviewer, &format!("/orgs/{org}")).await;
        assert!(org_page.contains("<table class=\"checklist\">"));
        assert!(!org_page.contains("対応する"), "{org_page}");
        // Nor are the organisation's forms: the reviewer cannot attest its router.
        let office_page = read(&reviewer, &format!("/orgs/{org}/locations/{office}")).await;
        assert!(
            office_page.contains("id=\"router\"") && !office_page.contains("/router\" novalidate"),
            "{office_page}"
        );
        // The office's page leads to its logs; the reviewer reads them without a form to fill.
        assert!(
            office_page.contains(&format!("href=\"{path}\"")),
            "{office_page}"
        );
        let branch_page = read(&reviewer, &format!("/orgs/{org}/locations/{branch}")).await;
        assert!(!branch_page.contains("/gateway-logs\""), "{branch_page}");
        let logs_page = read(&reviewer, &path).await;
        assert_says(
            &logs_page,
            &[
                "<fieldset class=\"plain\" disabled>",
                "組織が作成中の下書き（未提出）",
            ],
        );
        drop(reviewer);
        request_logs(&app, &org, &office, ["2026-10-01", "2026-10-01"], &[]).await;
        assert_eq!(
            app.get(&format!("/orgs/{org}/locations/{branch}/gateway-logs"))
                .await
                .status(),
            StatusCode::NOT_FOUND
        );
        // The office's log page takes a log in its own column order and keeps the mapping.
        assert!(page(&app, &path).await.contains("送受信ログの提出依頼"));
        let res = upload_log(&app, &path, "gw.csv", CUSTOM.as_bytes()).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        // Attached, but a step is left: the notice says so as a warning, not a green "done".
        let html = page(&app, &path).await;
        assert_says(
            &html,
            &[
                "<p class=\"flash warning\" role=\"alert\">ファイルを添付しました。列を読み取れないログがあります。",
                "<fieldset class=\"plain\">",
            ],
        );
        assert!(!html.contains("閲覧のみ"));
        let file = crate::helpers::field_value(&html, "file").unwrap();
        let html = map_and_recheck(&app, &path, &file, "0", &CUSTOM_MAPPING).await;
        assert_says(&html, &["記録 3 行（送信 2 行・受信 1 行）"]);
        assert_eq!(app.count("gateway_log_mappings").await, 1);
        submit_logs(&app, &path, "2026-10-01", "2026-10-01").await;
        let id = answering_submission(&app).await;
        let (scope, location): (String, uuid::Uuid) =
            secportal::db::on_db!(app.db(), p => sqlx::query_as(
            "SELECT scope_kind, location_id FROM submissions WHERE id = $1")
            .bind(uuid::Uuid::parse_str(&id).unwrap())
            .fetch_one(p)
            .await)
            .unwrap();
        assert_eq!(
            (scope.as_str(), location.to_string()),
            ("office", office.clone())
        );
        let rows = checklist(&app).await;
        assert!(
            rows.iter().any(|(n, place, status)| n == "7.4.1(6)"
                && place == "本社"
                && status.contains("提出済み")),
            "{rows:?}"
        );
    }
);

dual_test!(
    a_log_with_no_line_inside_its_period_is_not_submitted,
    |app| async move {
        let path = log_page(&app).await;
        let log = format!(
            "{HEADER}送信,ABC12,001,IDA,2026-09-30 23:59:59\n受信,ABC12,,IDA,2026-09-30 23:59:59\n"
        );
        let res = upload_log(&app, &path, "gw-202609.csv", log.as_bytes()).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let res = post_logs_report(&app, &path, "2026-10-01", "2026-10-31").await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_says(
            &res.text().await.unwrap(),
            &[
                "対象期間に記録が1行もないログがあります",
                "対象期間の記録が 1 行もありません",
            ],
        );
        let sealed: i64 = secportal::db::on_db!(app.db(), p => sqlx::query_scalar(
            "SELECT COUNT(*) FROM submissions WHERE submitted_at IS NOT NULL")
            .fetch_one(p)
            .await)
        .unwrap();
        assert_eq!(sealed, 0);
        // The period it is for: submitted (with its gap days flagged for the reviewer).
        submit_logs(&app, &path, "2026-09-30", "2026-10-01").await;
        // The next period's report starts with how the place keeps its logs, not blank.
        let next = page(&app, &path).await;
        assert_says(
            &next,
            &[
                "name=\"storage\" rows=\"3\">/var/log/naccs</textarea>",
                "name=\"mechanism\" rows=\"3\">GW ソフトウェアが記録</textarea>",
                "name=\"retention_months\" type=\"number\" min=\"12\" value=\"13\"",
            ],
        );
    }
);

dual_test!(
    hours_without_lines_when_the_gateway_usually_has_some_are_shown,
    |app| async move {
        let path = log_page(&app).await;
        let mut log = HEADER.to_string();
        for day in 1..=4 {
            for hour in [9, 10, 11] {
                if day == 3 && hour > 9 {
                    continue;
                }
                log.push_str(&format!(
                    "送信,ABC12,001,IDA,2026-10-0{day} {hour:02}:30:00\n"
                ));
            }
        }
        let res = upload_log(&app, &path, "gw.csv", log.as_bytes()).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        // Listed before a period is set (against the log's own days), and after.
        let quiet = "ふだん記録のある時間帯に記録のない時間: 1 か所（2026-10-03 10:00〜12:00）";
        assert_says(&page(&app, &path).await, &[quiet]);
        save_period(&app, &path, "2026-10-01", "2026-10-04").await;
        // The verdict does not call the log clean past them.
        let html = page(&app, &path).await;
        assert_says(
            &html,
            &[
                quiet,
                "の確認結果 — 各行と対象期間に問題なし。ただし、ふだん記録のある時間帯に記録のない時間があります（下記）",
            ],
        );
        assert!(!html.contains("の確認結果 — 問題なし"), "{html}");
        // Sealed: the reviewer reads them in the summary, and the queue flags the log.
        submit_logs(&app, &path, "2026-10-01", "2026-10-04").await;
        let (id, flags): (uuid::Uuid, String) = secportal::db::on_db!(app.db(), p => sqlx::query_as(
            "SELECT id, flags FROM submissions WHERE kind = 'gateway_logs' AND receipt_no IS NOT NULL")
            .fetch_one(p)
            .await)
        .unwrap();
        assert!(flags.contains("log"), "{flags}");
        app.add_user("r@center.example.jp", "reviewer", None).await;
        let reviewer = app.new_browser();
        reviewer.login("r@center.example.jp", PASSWORD).await;
        let review = reviewer.html(&format!("/review/{id}")).await;
        assert!(
            review.contains(&format!("ログ検査（添付したログ全体）：{quiet}"))
                && !review.contains("ログ検査：問題なし"),
            "{review}"
        );
    }
);

dual_test!(
    logs_written_a_file_a_day_cover_the_period_together,
    |app| async move {
        let path = log_page(&app).await;
        // Monday to Wednesday, for a period to Thursday (a working day).
        for day in 5..=7 {
            let log = format!(
                "{HEADER}送信,ABC12,001,IDA,2026-10-0{day} 09:00:00\n受信,ABC12,,IDA,2026-10-0{day} 09:00:01\n"
            );
            let res =
                upload_log(&app, &path, &format!("gw-2026100{day}.csv"), log.as_bytes()).await;
            assert_eq!(res.status(), StatusCode::SEE_OTHER);
        }
        save_period(&app, &path, "2026-10-05", "2026-10-08").await;
        let html = page(&app, &path).await;
        assert_says(
            &html,
            &[
                "添付したログ全体（3 ファイル） の確認結果 — 確認が必要な点があります",
                "記録 6 行（送信 3 行・受信 3 行）",
                "対象期間 2026-10-05 〜 2026-10-08 を覆っていません（記録があるのは 2026-10-05 〜 2026-10-07）",
                "対象期間内で記録のない日: 1 日（2026-10-08）",
                "gw-20261006.csv の確認結果 — 各行に問題なし（対象期間を覆っているかは「添付したログ全体」で確認）",
            ],
        );
        assert_eq!(
            html.matches("を覆っていません").count(),
            1,
            "said once, for the logs together"
        );
        // Each file names its own format; the logs together have none of their own. Every
        // chart spans the period, as a file's did when it was the only one.
        assert_eq!(html.matches("形式: ").count(), 3, "{html}");
        assert_eq!(
            html.matches("日別の行数（2026-10-05 〜 2026-10-08）")
                .count(),
            4,
            "{html}"
        );
        // Submitted: the period is judged once, for the logs together, and each file is clean.
        submit_logs(&app, &path, "2026-10-05", "2026-10-08").await;
        let (id, snapshot): (uuid::Uuid, String) =
            secportal::db::on_db!(app.db(), p => sqlx::query_as(
            "SELECT id, snapshot FROM submissions WHERE submitted_at IS NOT NULL")
            .fetch_one(p)
            .await)
            .unwrap();
        let snap: serde_json::Value = serde_json::from_str(&snapshot).unwrap();
        assert_eq!(snap["data"]["coverage"]["covers"], false);
        assert_eq!(snap["data"]["coverage"]["gap_days"], 1);
        for c in snap["data"]["log_checks"].as_array().unwrap() {
            assert_eq!(c["clean"], true, "{c}");
        }
        let reviewer = reviewer(&app).await;
        let review = read(&reviewer, &format!("/review/{id}")).await;
        assert_says(
            &review,
            &[
                "ログ検査（添付したログ全体）：ログの記録期間が対象期間を覆っていません",
                "ログ検査（添付したログ全体）：対象期間内で記録のない平日 1 日（2026-10-08）",
                "添付したログ全体（3 ファイル） の確認結果",
            ],
        );
        assert!(!review.contains("ログ検査（gw-"), "{review}");
    }
);

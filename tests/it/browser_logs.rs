//! Browser journey for gateway logs (issue 11, item 2 and its "Done when"): an organisation
//! uploads a gzip-compressed log whose gateway writes its own column names in its own order,
//! maps the columns on the page from the log's first lines, submits through the 確認 step,
//! and a Center reviewer finds the connection by 識別番号 and a time range on the log search
//! page, with the file and the line number.

use crate::wd::{Client, Locator};

use crate::browser::{browser, chromedriver, click, fill, login, screenshot, wait_for_text};
use crate::browser_renewal::confirm_submission;
use crate::gateway_logs::{gateway_site, gzip, request_logs};
use crate::helpers::{TestApp, backends};

/// Another product's log: its own header names, the time first, the direction last.
const LOG: &str = "日付時刻;ユーザー;端末番号;取引;種別\n\
2026/10/01 08:59:58;AAAAA;5001;IDA;送信\n\
2026/10/01 09:00:01;AAAAA;;IDA;受信\n\
2026/10/01 13:45:10;AAAAA;5002;MIC;送信\n\
2026/10/01 13:45:12;AAAAA;;MIC;受信\n\
2026/10/01 18:20:00;AAAAA;5002;EDA;送信\n";

/// What a person reads on the page (no markup, no attribute values).
async fn words(c: &Client) -> String {
    c.execute("return document.querySelector('main').innerText;", vec![])
        .await
        .unwrap()
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// No locale key, field key or identifier in what the page says.
async fn no_internal_words(c: &Client) {
    let text = words(c).await;
    for key in [
        "gwlog.",
        "logsearch.",
        "user_code",
        "id_number",
        "business_code",
        "timestamp",
    ] {
        assert!(!text.contains(key), "{key} shown: {text}");
    }
    let uuid = regex_lite(&text);
    assert!(uuid.is_none(), "an identifier shown: {uuid:?}");
}

/// The first UUID-like word in a text.
fn regex_lite(text: &str) -> Option<String> {
    text.split(|c: char| !(c.is_ascii_hexdigit() || c == '-'))
        .find(|w| w.len() == 36 && w.matches('-').count() == 4)
        .map(str::to_string)
}

/// Scrolls the first element `css` selects to the top of the window.
async fn show(c: &Client, css: &str) {
    c.execute(
        "document.querySelector(arguments[0]).scrollIntoView();",
        vec![serde_json::json!(css)],
    )
    .await
    .unwrap();
}

async fn select(c: &Client, name: &str, value: &str) {
    c.find(Locator::Css(&format!(
        "form[action$='/mapping'] select[name='{name}']"
    )))
    .await
    .unwrap()
    .select_by_value(value)
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_organisation_maps_a_compressed_log_submits_it_and_the_center_finds_the_connection() {
    let Some(driver) = chromedriver() else {
        return;
    };
    for backend in backends() {
        let label = backend.label();
        let app = TestApp::spawn(backend).await;
        let (org, site, path) = gateway_site(&app).await;
        // The Center asks for the logs of 1 October.
        request_logs(
            &app,
            &org,
            &site,
            ["2026-10-01", "2026-10-01"],
            &[("note", "10月1日分")],
        )
        .await;
        let files = tempfile::tempdir().unwrap();
        let log = files.path().join("gw-20261001.log.gz");
        std::fs::write(&log, gzip(LOG.as_bytes(), flate2::Compression::default())).unwrap();

        let profile = tempfile::tempdir().unwrap();
        let c = browser(&driver, profile.path()).await;
        c.set_window_size(1366, 900).await.unwrap();
        login(&c, &app, "kanri@a.example.jp").await;
        wait_for_text(&c, "ログアウト").await;
        c.goto(&app.url(&path)).await.unwrap();
        wait_for_text(&c, "送受信ログの提出依頼があります").await;
        c.find(Locator::Id("files-logs"))
            .await
            .unwrap()
            .send_keys(log.to_str().unwrap())
            .await
            .unwrap();
        click(&c, "form:has(#files-logs) button[type='submit']").await;
        wait_for_text(&c, "gw-20261001.log.gz の列の対応づけ").await;
        wait_for_text(
            &c,
            "見出し行の名前から、次の項目がどの列かを決められませんでした",
        )
        .await;
        show(&c, ".flash").await;
        screenshot(&c, &format!("gwlog-map-needed-top-ja-{label}")).await;
        show(&c, "section.logcheck").await;
        screenshot(&c, &format!("gwlog-map-needed-ja-{label}")).await;
        c.set_window_size(320, 800).await.unwrap();
        show(&c, "section.logcheck").await;
        screenshot(&c, &format!("gwlog-map-needed-320-ja-{label}")).await;
        show(&c, "form[action$='/mapping'] .map-fields").await;
        screenshot(&c, &format!("gwlog-map-form-320-ja-{label}")).await;
        c.set_window_size(1366, 900).await.unwrap();
        no_internal_words(&c).await;
        let text = words(&c).await;
        assert!(
            text.contains("端末番号") && text.contains("2026/10/01 13:45:10"),
            "{text}"
        );

        // The time and the direction are guessed from the first record; the rest is said.
        for (name, value) in [
            ("header", "yes"),
            ("timestamp", "1"),
            ("user_code", "2"),
            ("id_number", "3"),
            ("business_code", "4"),
            ("direction", "5"),
        ] {
            select(&c, name, value).await;
        }
        click(&c, "form[action$='/mapping'] button[type='submit']").await;
        // Saved at once; the log is read again off the request, the page says so and waits.
        wait_for_text(&c, "列の対応づけを保存しました").await;
        wait_for_text(
            &c,
            "gw-20261001.log.gz を保存した列の対応づけで確認し直しています（確認中）",
        )
        .await;
        show(&c, ".checking").await;
        screenshot(&c, &format!("gwlog-checking-ja-{label}")).await;
        no_internal_words(&c).await;
        assert_eq!(app.run_rechecks().await, 1);
        // The page's script sees the check has ended and shows the result by itself.
        wait_for_text(&c, "記録 5 行（送信 3 行・受信 2 行）").await;
        wait_for_text(&c, "対象期間 2026-10-01 〜 2026-10-01 を覆っています").await;
        show(&c, ".logcheck").await;
        screenshot(&c, &format!("gwlog-mapped-ja-{label}")).await;
        no_internal_words(&c).await;

        fill(
            &c,
            "storage",
            "ゲートウェイサーバの /var/log/naccs（外部媒体へ毎月複製）",
        )
        .await;
        fill(
            &c,
            "mechanism",
            "ゲートウェイソフトウェアが送受信ごとに記録",
        )
        .await;
        fill(&c, "retention_months", "13").await;
        click(&c, "button[name='action'][value='submit']").await;
        confirm_submission(&c).await;
        wait_for_text(&c, "次の内容で NACCS センターが受け付けました").await;
        screenshot(&c, &format!("gwlog-receipt-ja-{label}")).await;

        // The Center: from the answered request to the search of its logs.
        click(&c, "header form[action='/logout'] button").await;
        wait_for_text(&c, "ログアウトしました").await;
        login(&c, &app, "reviewer@center.example.jp").await;
        wait_for_text(&c, "ログアウト").await;
        c.goto(&app.url(&format!("/orgs/{org}/followup")))
            .await
            .unwrap();
        wait_for_text(&c, "提出済み").await;
        click(&c, "a[href$='/log-search']").await;
        wait_for_text(&c, "送受信ログの検索（接続した者の特定）").await;
        fill(&c, "id_number", "5002").await;
        fill(&c, "from", "2026-10-01 13:00").await;
        fill(&c, "to", "2026-10-01 14:00").await;
        click(&c, "form.filters button[type='submit']").await;
        wait_for_text(&c, "一致した行: 1 行").await;
        let row = c
            .execute(
                "return document.querySelector('table.hits tbody tr').innerText;",
                vec![],
            )
            .await
            .unwrap();
        let row = row.as_str().unwrap_or_default();
        for cell in [
            "gw-20261001.log.gz",
            "4",
            "送信",
            "2026-10-01 13:45:10",
            "AAAAA",
            "5002",
            "MIC",
        ] {
            assert!(
                row.split('\t').any(|c| c.trim() == cell),
                "{cell} in {row:?}"
            );
        }
        assert!(
            !words(&c).await.contains("18:20:00"),
            "the later line with the same number is outside the range"
        );
        screenshot(&c, &format!("gwlog-search-ja-{label}")).await;
        no_internal_words(&c).await;
        // On a 320 px screen the results scroll inside their box, not the page.
        c.set_window_size(320, 800).await.unwrap();
        let wide = c
            .execute(
                "return [document.documentElement.scrollWidth, window.innerWidth];",
                vec![],
            )
            .await
            .unwrap();
        screenshot(&c, &format!("gwlog-search-320-ja-{label}")).await;
        assert!(
            wide[0].as_f64().unwrap() <= wide[1].as_f64().unwrap(),
            "no sideways scroll at 320 px: {wide:?}"
        );
        c.close().await.unwrap();
    }
}

//! Browser journeys for the reviewer's page and the receipt (issue 8 items 2 and 3): the
//! summary and the decision form in the first screen at 1366×768, the next waiting
//! submission after a decision, and the receipt printed to an A4 PDF.

use crate::wd::Locator;

use crate::browser::{
    browser, choose, chromedriver, click, fill, login, screenshot, wait_for_text,
};
use crate::helpers::{TestApp, backends};
use crate::report_data::{narita, submit_all};

/// Where the artefacts a person looks at are written.
fn out_dir() -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The box of the first element `css` selects, as (top, bottom), and the viewport height.
async fn box_of(c: &crate::wd::Client, css: &str) -> (f64, f64, f64) {
    let v = c
        .execute(
            "var r = document.querySelector(arguments[0]).getBoundingClientRect(); return [r.top, r.bottom, window.innerHeight];",
            vec![serde_json::json!(css)],
        )
        .await
        .unwrap();
    let n = |i: usize| v[i].as_f64().unwrap();
    (n(0), n(1), n(2))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reviewer_reads_the_summary_decides_without_scrolling_opens_the_next_and_the_receipt_prints_on_a4()
 {
    let Some(driver) = chromedriver() else {
        return;
    };
    for backend in backends() {
        let label = backend.label();
        let app = TestApp::spawn(backend).await;
        let org = narita(&app).await;
        let first = submit_all(&app, &org, 1).await;
        let id_of = |kind: &str| first.iter().find(|(k, _)| *k == kind).unwrap().1.clone();
        // The oldest waiting one comes next: the appointment, submitted first.
        let (antivirus, oldest) = (id_of("antivirus"), id_of("administrator"));

        let profile = tempfile::tempdir().unwrap();
        let c = browser(&driver, profile.path()).await;
        c.set_window_size(1366, 768).await.unwrap();
        login(&c, &app, "shinsa@naccs.example.jp").await;
        wait_for_text(&c, "ログアウト").await;
        c.goto(&app.url(&format!("/review/{antivirus}")))
            .await
            .unwrap();
        wait_for_text(&c, "3 台、うち定義が古い 2 台").await;
        screenshot(&c, &format!("review-antivirus-ja-{label}")).await;
        // The summary and the whole decision form are in the first screen.
        let (_, summary_bottom, height) = box_of(&c, ".review-summary").await;
        let (top, bottom, _) = box_of(&c, "#decide button[type='submit']").await;
        assert!(
            summary_bottom <= height && top >= 0.0 && bottom <= height,
            "summary ends at {summary_bottom}, the decide button spans {top}–{bottom}, viewport {height}"
        );
        c.execute(
            "document.querySelector('table.report').scrollIntoView();",
            vec![],
        )
        .await
        .unwrap();
        screenshot(&c, &format!("review-antivirus-table-ja-{label}")).await;
        c.execute("window.scrollTo(0, 0);", vec![]).await.unwrap();

        choose(&c, "input[name='decision'][value='returned']").await;
        fill(
            &c,
            "reason",
            "NRT-PC-002 と NRT-GW-01 の定義ファイルを更新してください。",
        )
        .await;
        click(&c, "#decide button[type='submit']").await;
        wait_for_text(&c, "判定を登録しました").await;
        wait_for_text(&c, "次の審査待ちを開く").await;
        let (top, bottom, height) = box_of(&c, ".next a").await;
        assert!(
            top >= 0.0 && bottom <= height,
            "the next link is in the first screen"
        );
        screenshot(&c, &format!("review-decided-next-ja-{label}")).await;
        click(&c, ".next a").await;
        wait_for_text(&c, "ヤマダ タロウ").await;
        let url = c.current_url().await.unwrap();
        assert!(url.path().ends_with(&oldest), "{url}");

        // The same page in English.
        click(&c, "form.lang button").await;
        wait_for_text(&c, "Responsible administrator").await;
        screenshot(&c, &format!("review-administrator-en-{label}")).await;
        c.goto(&app.url(&format!("/review/{antivirus}")))
            .await
            .unwrap();
        wait_for_text(&c, "with definitions older than 7 days: 2").await;
        screenshot(&c, &format!("review-antivirus-en-{label}")).await;
        click(&c, "form.lang button").await;
        wait_for_text(&c, "定義が古い").await;

        // The receipt, printed to A4: several pages of content, no navigation.
        let gateway = id_of("system_configuration");
        c.goto(&app.url(&format!("/orgs/{}/submissions/{gateway}/receipt", org.id)))
            .await
            .unwrap();
        wait_for_text(&c, "照合コード").await;
        // page.js shows the print button (hidden without JavaScript).
        let shown = c
            .execute(
                "var b = document.querySelector('button[data-print]'); return !!b && !b.hidden && b.offsetParent !== null;",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(shown, serde_json::json!(true), "the print button shows");
        screenshot(&c, &format!("receipt-screen-ja-{label}")).await;
        let pdf = c.print_a4(true).await.unwrap();
        assert!(pdf.starts_with(b"%PDF"));
        let path = out_dir().join(format!("receipt-sysconf-{label}.pdf"));
        std::fs::write(&path, &pdf).unwrap();
        let av_receipt = format!("/orgs/{}/submissions/{antivirus}/receipt", org.id);
        c.goto(&app.url(&av_receipt)).await.unwrap();
        wait_for_text(&c, "照合コード").await;
        let pdf = c.print_a4(false).await.unwrap();
        std::fs::write(
            out_dir().join(format!("receipt-antivirus-{label}.pdf")),
            &pdf,
        )
        .unwrap();
        assert!(
            c.find(Locator::Css("header.site")).await.is_ok(),
            "the screen keeps its navigation; print CSS hides it"
        );
        // The code printed on it proves it genuine on the Center's check page.
        let html = c.source().await.unwrap();
        let code = crate::reports::code_in(&html);
        let number = html.split("class=\"receipt-no\">").nth(1).unwrap();
        let number: String = number.chars().take_while(|ch| *ch != '<').collect();
        c.goto(&app.url("/review/verify")).await.unwrap();
        fill(&c, "receipt", &number).await;
        fill(&c, "code", &code).await;
        click(&c, "main form button[type='submit']").await;
        wait_for_text(&c, "は本物です").await;
        screenshot(&c, &format!("receipt-verified-ja-{label}")).await;
        // On a 320 px screen the review page scrolls down, not sideways.
        c.set_window_size(320, 800).await.unwrap();
        c.goto(&app.url(&format!("/review/{antivirus}")))
            .await
            .unwrap();
        wait_for_text(&c, "定義が古い").await;
        let wide = c
            .execute(
                "return [document.documentElement.scrollWidth, window.innerWidth];",
                vec![],
            )
            .await
            .unwrap();
        screenshot(&c, &format!("review-antivirus-320-ja-{label}")).await;
        assert!(
            wide[0].as_f64().unwrap() <= wide[1].as_f64().unwrap(),
            "no sideways scroll at 320 px: {wide:?}"
        );
        c.close().await.unwrap();
    }
}

//! Browser journey for the review queue (issue 8 item 5): flags and places on each line,
//! assigning several at once, and a canned return reason filling the reason box.

use crate::wd::Locator;

use crate::browser::{
    browser, choose, chromedriver, click, fill, login, screenshot, wait_for_text,
};
use crate::helpers::{TestApp, backends};
use crate::report_data::{narita, submit_all};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_center_admin_assigns_several_from_the_queue_and_returns_with_a_canned_reason() {
    let Some(driver) = chromedriver() else {
        return;
    };
    for backend in backends() {
        let label = backend.label();
        let app = TestApp::spawn(backend).await;
        let org = narita(&app).await;
        let first = submit_all(&app, &org, 1).await;
        let id_of = |kind: &str| first.iter().find(|(k, _)| *k == kind).unwrap().1.clone();
        let (antivirus, logs) = (id_of("antivirus"), id_of("gateway_logs"));
        app.add_user("kanri@naccs.example.jp", "center_admin", None)
            .await;
        let hanako = secportal::db::users::by_email(app.db(), "shinsa@naccs.example.jp")
            .await
            .unwrap()
            .unwrap()
            .id;

        let profile = tempfile::tempdir().unwrap();
        let c = browser(&driver, profile.path()).await;
        c.set_window_size(1366, 768).await.unwrap();
        login(&c, &app, "kanri@naccs.example.jp").await;
        wait_for_text(&c, "ログアウト").await;
        c.goto(&app.url("/review")).await.unwrap();
        // Each line names its place and what to look at first.
        wait_for_text(&c, "定義が古い PC あり").await;
        wait_for_text(&c, "成田第2倉庫").await;
        screenshot(&c, &format!("queue-flags-ja-{label}")).await;

        // Tick two lines, choose the reviewer, one button: told how many.
        choose(&c, &format!("input[name='ids'][value='{antivirus}']")).await;
        choose(&c, &format!("input[name='ids'][value='{logs}']")).await;
        c.find(Locator::Id("f-assignee"))
            .await
            .unwrap()
            .select_by_value(&hanako.to_string())
            .await
            .unwrap();
        click(&c, "#bulk-assign button[type='submit']").await;
        wait_for_text(&c, "2 件の提出を割り当てました。").await;
        let html = c.source().await.unwrap();
        assert_eq!(
            html.matches("<td class=\"who\">審査 花子</td>").count(),
            2,
            "{html}"
        );
        c.execute(
            "document.querySelector('main table').scrollIntoView();",
            vec![],
        )
        .await
        .unwrap();
        screenshot(&c, &format!("queue-assigned-ja-{label}")).await;
        c.set_window_size(320, 700).await.unwrap();
        c.goto(&app.url("/review")).await.unwrap();
        wait_for_text(&c, "選んだ提出を割り当てる").await;
        c.execute(
            "document.querySelector('main table').scrollIntoView();",
            vec![],
        )
        .await
        .unwrap();
        screenshot(&c, &format!("queue-320-ja-{label}")).await;
        c.set_window_size(1366, 768).await.unwrap();

        // A canned reason, kept on its page, fills the reason box when chosen.
        c.goto(&app.url("/admin/return-reasons")).await.unwrap();
        wait_for_text(&c, "定型文を追加").await;
        fill(&c, "title", "定義ファイルの更新").await;
        c.find(Locator::Id("n-body"))
            .await
            .unwrap()
            .send_keys("定義ファイルが古い PC があります。更新してから再提出してください。")
            .await
            .unwrap();
        click(
            &c,
            "form[action='/admin/return-reasons'] button[type='submit']",
        )
        .await;
        wait_for_text(&c, "定型文を追加しました。").await;
        screenshot(&c, &format!("reasons-ja-{label}")).await;
        c.goto(&app.url(&format!("/review/{antivirus}")))
            .await
            .unwrap();
        wait_for_text(&c, "定型文から選ぶ").await;
        choose(&c, "input[name='decision'][value='returned']").await;
        let select = c.find(Locator::Id("f-canned")).await.unwrap();
        let option = select
            .find(Locator::XPath("option[text()='定義ファイルの更新']"))
            .await
            .unwrap();
        let value = option.attr("value").await.unwrap().unwrap();
        select.select_by_value(&value).await.unwrap();
        let typed = c
            .find(Locator::Id("f-reason"))
            .await
            .unwrap()
            .prop("value")
            .await
            .unwrap()
            .unwrap_or_default();
        assert!(
            typed.starts_with("定義ファイルが古い PC があります。"),
            "{typed}"
        );
        c.find(Locator::Id("f-reason"))
            .await
            .unwrap()
            .send_keys("\nNRT-PC-002 が対象です。")
            .await
            .unwrap();
        click(&c, "#decide button[type='submit']").await;
        wait_for_text(&c, "判定を登録しました").await;
        let html = c.source().await.unwrap();
        assert!(
            html.contains("定義ファイルが古い PC があります。更新してから再提出してください。\nNRT-PC-002 が対象です。"),
            "the chosen text once, then what was typed"
        );
        screenshot(&c, &format!("review-canned-returned-ja-{label}")).await;
        c.close().await.unwrap();
    }
}

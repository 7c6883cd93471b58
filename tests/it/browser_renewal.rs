//! Browser journey for a renewal (issue 8 item 4): an organisation whose antivirus report was
//! accepted opens it again, finds the accepted rows carried over and marked, submits through
//! the 確認 page (acknowledging the stale-definition caution), and finds both reports with
//! their receipts on its 提出履歴 page.

use crate::wd::{Client, Locator};

use crate::browser::{browser, choose, chromedriver, click, login, screenshot, wait_for_text};
use crate::helpers::{TestApp, backends};
use crate::renewal::with_accepted;
use crate::report_data::EMAIL;

/// Completes the 確認 page the browser shows after a 提出: each caution acknowledged, then
/// 「この内容で提出する」.
pub(crate) async fn confirm_submission(c: &Client) {
    wait_for_text(c, "提出内容の確認").await;
    let boxes = c
        .find_all(Locator::Css("input[type='checkbox'][name^='ack_']"))
        .await
        .unwrap();
    for n in 0..boxes.len() {
        choose(c, &format!("#ack-{n}")).await;
    }
    click(c, "form[action$='/confirm'] button[type='submit']").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_accepted_antivirus_report_is_renewed_through_the_confirmation_and_both_are_in_the_record()
 {
    let Some(driver) = chromedriver() else {
        return;
    };
    for backend in backends() {
        let label = backend.label();
        let app = TestApp::spawn(backend).await;
        let (org, all) = with_accepted(&app, &["antivirus", "system_configuration"]).await;
        let o = &org.id;
        let accepted = &all.iter().find(|(k, _)| *k == "antivirus").unwrap().1;
        let first = crate::helpers::receipt_of(&app, accepted).await;

        let profile = tempfile::tempdir().unwrap();
        let c = browser(&driver, profile.path()).await;
        c.set_window_size(1366, 768).await.unwrap();
        login(&c, &app, EMAIL).await;
        wait_for_text(&c, "ログアウト").await;

        // The antivirus page starts from the accepted report, rows marked 引き継ぎ.
        c.goto(&app.url(&format!("/orgs/{o}/antivirus")))
            .await
            .unwrap();
        wait_for_text(&c, &format!("前回受理された報告（受付番号 {first}、")).await;
        let marked = c
            .find_all(Locator::Css("table.rows span.status.carried"))
            .await
            .unwrap();
        assert_eq!(marked.len(), 3, "each accepted computer is marked");
        let html = c.source().await.unwrap();
        assert!(html.contains("value=\"NRT-PC-001\"") && html.contains("value=\"NRT-GW-01\""));
        assert!(!html.contains(
            "成田営業所：機器の構成リストでは NACCS に接続するコンピュータが 4 台ありますが、ウィルス対策の報告は 0 台です"
        ));
        screenshot(&c, &format!("renewal-antivirus-{label}")).await;

        // 提出 shows the 確認 page: the report in words and the stale-definition caution.
        click(&c, "button[name='action'][value='submit']").await;
        wait_for_text(&c, "提出内容の確認").await;
        wait_for_text(&c, "確認しました：3 台、うち定義が古い 2 台").await;
        let html = c.source().await.unwrap();
        assert!(html.contains("ウイルスバスター コーポレートエディション"));
        screenshot(&c, &format!("renewal-confirm-{label}")).await;
        // Nothing is sealed until it is confirmed.
        assert_eq!(
            secportal::db::on_db!(app.db(), p => sqlx::query_scalar::<_, i64>(
                "SELECT COUNT(*) FROM submissions WHERE kind = 'antivirus' AND receipt_no IS NOT NULL",
            )
            .fetch_one(p)
            .await)
            .unwrap(),
            1
        );
        confirm_submission(&c).await;
        wait_for_text(&c, "次の内容で NACCS センターが受け付けました").await;
        let html = c.source().await.unwrap();
        let second = html
            .split("class=\"receipt-no\">")
            .nth(1)
            .and_then(|r| r.split('<').next())
            .unwrap()
            .to_string();
        assert_ne!(second, first);

        // 提出履歴 lists both, each with its receipt.
        c.goto(&app.url(&format!("/orgs/{o}/submissions?item=antivirus")))
            .await
            .unwrap();
        wait_for_text(&c, &second).await;
        let html = c.source().await.unwrap();
        assert!(html.contains(&first), "the accepted one is listed too");
        // …marked as no longer the current one.
        assert_eq!(
            html.matches("以前の版（その後に新しい届出があります）")
                .count(),
            1,
            "{html}"
        );
        for no in [&first, &second] {
            let links = c
                .find_all(Locator::XPath(&format!("//a[contains(., '{no}')]")))
                .await
                .unwrap();
            assert!(!links.is_empty(), "{no} links its receipt");
            let href = links[0].attr("href").await.unwrap().unwrap();
            assert!(href.ends_with("/receipt"), "{href}");
        }
        screenshot(&c, &format!("renewal-history-{label}")).await;
        c.close().await.unwrap();
    }
}

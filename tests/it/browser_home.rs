//! Browser journey over an organisation's first steps (issue 8 items 5 and 6): the home page
//! lists what to do in order — an office, then its connection — and an antivirus row is
//! entered for a computer at a gateway site, which the equipment cross-check then counts.
//! axe-core checks every page waited on, at 1366 px and 320 px.

use crate::wd::{Client, Locator};

use crate::browser::{
    browser, choose, chromedriver, click, fill, login, screenshot, wait_for_text,
};
use crate::helpers::{PASSWORD, TestApp, backends};

const EMAIL: &str = "kanri@first.example.jp";

/// Chooses the option of the select `name` whose text is `label`.
async fn select(c: &Client, name: &str, label: &str) {
    c.find(Locator::Css(&format!("select[name='{name}']")))
        .await
        .unwrap()
        .select_by_label(label)
        .await
        .unwrap();
}

/// The text of the home page's "次にすること" list.
async fn steps(c: &Client) -> String {
    c.find(Locator::Css("#next-steps"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_organisation_follows_its_next_steps_and_reports_a_computer_at_its_gateway_site() {
    let Some(driver) = chromedriver() else {
        return;
    };
    for backend in backends() {
        let label = backend.label();
        let app = TestApp::spawn(backend).await;
        app.add_user(EMAIL, "org_admin", Some("FIRST")).await;
        let org = app.org_of(EMAIL).await.to_string();
        let profile = tempfile::tempdir().unwrap();
        let c = browser(&driver, profile.path()).await;
        c.set_window_size(1366, 768).await.unwrap();
        login(&c, &app, EMAIL).await;
        wait_for_text(&c, "次にすること").await;
        let first = steps(&c).await;
        let (office, conn) = (
            first.find("事業所を登録する").unwrap(),
            first.find("接続（接続形態）を登録する").unwrap(),
        );
        assert!(office < conn, "{first}");
        assert!(
            first.contains("7.4.2(1) NACCS 接続ルータの利用制限"),
            "{first}"
        );
        screenshot(&c, &format!("home-next-new-{label}")).await;
        c.set_window_size(320, 800).await.unwrap();
        screenshot(&c, &format!("home-next-new-320-{label}")).await;
        c.set_window_size(1366, 768).await.unwrap();

        // The first step leads to the office form.
        click(&c, "#next-steps ol li:first-child a").await;
        wait_for_text(&c, "事業所・設置場所の登録").await;
        choose(&c, "input[name='kind'][value='office']").await;
        fill(&c, "name", "本社").await;
        fill(&c, "address", "東京都港区海岸1-1-1").await;
        click(&c, "form[action$='/locations'] button[type='submit']").await;
        wait_for_text(&c, "<p class=\"flash\" role=\"status\">登録しました。").await;
        let office_url = c.current_url().await.unwrap().to_string();

        // A gateway site under it.
        c.goto(&app.url(&format!("/orgs/{org}#new-location")))
            .await
            .unwrap();
        wait_for_text(&c, "事業所・設置場所の登録").await;
        choose(&c, "input[name='kind'][value='gateway_site']").await;
        select(&c, "office_id", "本社").await;
        fill(&c, "name", "東京GW").await;
        fill(&c, "address", "東京都江東区青海2-2").await;
        click(&c, "form[action$='/locations'] button[type='submit']").await;
        wait_for_text(&c, "<p class=\"flash\" role=\"status\">登録しました。").await;

        // Home: the office step is done; the connection step leads to the office's
        // connections.
        c.goto(&app.url("/home")).await.unwrap();
        wait_for_text(&c, "次にすること").await;
        let now = steps(&c).await;
        assert!(!now.contains("事業所を登録する"), "{now}");
        click(&c, "#next-steps ol li:first-child a").await;
        wait_for_text(&c, "NACCS 接続").await;
        assert!(
            c.current_url()
                .await
                .unwrap()
                .to_string()
                .starts_with(&office_url)
        );
        select(&c, "form", "ルータ接続").await;
        fill(&c, "router_id", "R-0001").await;
        click(&c, "form[action$='/connections'] button[type='submit']").await;
        wait_for_text(&c, "NACCS との接続を登録しました").await;

        // The checklist's items are the steps now, each a link.
        c.goto(&app.url("/home")).await.unwrap();
        wait_for_text(&c, "ウィルス対策（組織全体）を作成して提出する").await;
        let now = steps(&c).await;
        assert!(!now.contains("接続（接続形態）を登録する"), "{now}");
        screenshot(&c, &format!("home-next-items-{label}")).await;

        // The equipment list puts a NACCS gateway computer at the site (saved as a draft).
        app.login(EMAIL, PASSWORD).await;
        let res = app
            .post(
                &format!("/orgs/{org}/system-configuration"),
                &[
                    ("eq_0_device_type", "gateway"),
                    ("eq_0_maker", "富士通"),
                    ("eq_0_model", "PRIMERGY TX1320"),
                    ("eq_0_quantity", "1"),
                    ("eq_0_location", "東京GW"),
                    ("eq_0_naccs", "yes"),
                    ("action", "save"),
                ],
            )
            .await;
        assert_eq!(res.status(), reqwest::StatusCode::SEE_OTHER);

        // The antivirus page offers the site and warns until the site has its row.
        c.goto(&app.url(&format!("/orgs/{org}/antivirus")))
            .await
            .unwrap();
        wait_for_text(
            &c,
            "東京GW：機器の構成リストでは NACCS に接続するコンピュータが 1 台",
        )
        .await;
        fill(&c, "row_0_host", "TKY-GW-01").await;
        select(&c, "row_0_office", "東京GW").await;
        fill(&c, "row_0_os", "Windows Server 2022").await;
        fill(&c, "row_0_version", "4.18").await;
        c.execute(
            "document.querySelector(\"[name='row_0_definitions_date']\").value = arguments[0];",
            vec![serde_json::json!(secportal::web::page::today().to_string())],
        )
        .await
        .unwrap();
        // 「行を追加」 gives one more row, numbered after the last, without saving first.
        let before = c
            .execute(
                "return document.querySelectorAll('table.rows tbody tr').length;",
                vec![],
            )
            .await
            .unwrap()
            .as_u64()
            .unwrap();
        click(&c, "button[data-add-row]").await;
        let added = format!("row_{before}_host");
        fill(&c, &added, "TKY-PC-09").await;
        // The product name box shows beside その他 only.
        let name_box_hidden = |n: u64| {
            let c = c.clone();
            async move {
                c.execute(
                    &format!(
                        "return document.querySelector(\"[name='row_{n}_product_other']\").hidden;"
                    ),
                    vec![],
                )
                .await
                .unwrap()
                .as_bool()
                .unwrap()
            }
        };
        assert!(name_box_hidden(0).await, "a listed product needs no name");
        assert!(name_box_hidden(before).await, "nor on the added row");
        select(&c, &format!("row_{before}_product"), "その他").await;
        assert!(!name_box_hidden(before).await, "その他 asks for the name");
        fill(
            &c,
            &format!("row_{before}_product_other"),
            "ウイルスバスター Corp.",
        )
        .await;
        click(&c, "button[name='action'][value='save']").await;
        wait_for_text(&c, "下書きを保存しました").await;
        let html = c.source().await.unwrap();
        assert!(
            !html.contains("東京GW：機器一覧では"),
            "the site's computer has its row"
        );
        assert!(html.contains("value=\"TKY-GW-01\""));
        assert!(
            html.contains("value=\"TKY-PC-09\""),
            "the added row was saved"
        );
        screenshot(&c, &format!("antivirus-gateway-site-{label}")).await;

        // A row with no place: the error is tied to its field and the summary takes focus.
        select(&c, "row_1_office", "—").await;
        fill(&c, "row_1_host", "PC-002").await;
        click(&c, "button[name='action'][value='submit']").await;
        // Waited on here rather than with `wait_for_text`, whose accessibility check moves
        // the focus through every field.
        for _ in 0..300 {
            if c.source()
                .await
                .unwrap()
                .contains("設置場所を選んでください。")
            {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        let focused = c
            .execute("return document.activeElement.className;", vec![])
            .await
            .unwrap();
        assert_eq!(
            focused.as_str(),
            Some("error-summary"),
            "the summary has the focus"
        );
        let described = c
            .find(Locator::Css("select[name='row_1_office']"))
            .await
            .unwrap()
            .attr("aria-describedby")
            .await
            .unwrap();
        assert_eq!(described.as_deref(), Some("av-1-office-error"));
        screenshot(&c, &format!("antivirus-row-error-{label}")).await;
        wait_for_text(&c, "設置場所を選んでください。").await;

        // Home at 320 px: the antivirus draft is the step to finish.
        c.goto(&app.url("/home")).await.unwrap();
        c.set_window_size(320, 800).await.unwrap();
        wait_for_text(&c, "ウィルス対策（組織全体）の下書きを仕上げて提出する").await;
        screenshot(&c, &format!("home-next-draft-320-{label}")).await;
        c.close().await.unwrap();
    }
}

//! The organisation's home lists its next steps in order, with due dates and statuses that
//! agree with the follow-up page; an antivirus row can stand at a gateway site; the audit
//! trail names instructions and requests; flashes say what happened.

use reqwest::StatusCode;

use crate::dual_test;
use crate::helpers::{PASSWORD, location, submission_in};

fn days_from_today(n: i64) -> String {
    (secportal::web::page::today() + chrono::Duration::days(n)).to_string()
}

/// Where `needle` first appears in `hay` (panics when it does not).
fn at(hay: &str, needle: &str) -> usize {
    hay.find(needle)
        .unwrap_or_else(|| panic!("{needle:?} not on the page:\n{hay}"))
}

/// The "次にすること" section of a home page.
fn next_steps(home: &str) -> String {
    let start = at(home, "id=\"next-steps\"");
    let end = start + home[start..].find("</section>").unwrap();
    home[start..end].to_string()
}

/// One computer at `place`, definitions of today.
fn av_row(place: &str) -> Vec<(&'static str, String)> {
    vec![
        ("row_0_host", "PC-001".into()),
        ("row_0_office", place.into()),
        ("row_0_os", "Windows 11".into()),
        ("row_0_product", "defender".into()),
        ("row_0_version", "4.18".into()),
        ("row_0_definitions_date", days_from_today(0)),
        ("row_0_update_frequency", "daily".into()),
    ]
}

/// A page as a browser set to English reads it.
async fn english(client: &reqwest::Client, url: &str) -> String {
    client
        .get(url)
        .header("accept-language", "en")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

fn refs<'a>(v: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    v.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

dual_test!(
    the_home_page_leads_an_organisation_through_its_next_steps_in_order,
    |app| async move {
        app.add_user("kanri@a.example.jp", "org_admin", Some("AAAAA"))
            .await;
        app.add_user("reviewer@center.example.jp", "reviewer", None)
            .await;
        app.login("kanri@a.example.jp", PASSWORD).await;
        let org = app.org_of("kanri@a.example.jp").await.to_string();

        // Nothing registered: offices first, then connections, and the items that only
        // appear after them are named.
        let home = app.get("/home").await.text().await.unwrap();
        let steps = next_steps(&home);
        let (office, conn) = (
            at(&steps, "事業所を登録する"),
            at(&steps, "接続（接続形態）を登録する"),
        );
        assert!(office < conn, "offices come first: {steps}");
        assert!(steps.contains(&format!("/orgs/{org}#new-location")));
        // Named only by its user code: its name is asked for, after the set-up.
        let name = at(&steps, "組織の正式名称と連絡先を登録する");
        assert!(
            conn < name && steps.contains(&format!("/orgs/{org}/profile")),
            "{steps}"
        );
        assert!(
            steps.contains("次の項目もチェックリストに加わります") && steps.contains("7.4.2(1)"),
            "{steps}"
        );

        // An office: the connection step now leads to its connections.
        let res = app
            .post(
                &format!("/orgs/{org}/locations"),
                &[
                    ("kind", "office"),
                    ("name", "本社"),
                    ("address", "東京都港区"),
                ],
            )
            .await;
        let office = location(&res);
        let steps = next_steps(&app.get("/home").await.text().await.unwrap());
        assert!(!steps.contains("事業所を登録する"), "{steps}");
        assert!(steps.contains(&format!("{office}#connections")), "{steps}");

        // A router connection: the set-up steps are gone; the items the checklist owes are
        // listed, each linked to where it is done.
        let res = app
            .post(
                &format!("{office}/connections"),
                &[("form", "router"), ("router_id", "R-0001")],
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let steps = next_steps(&app.get("/home").await.text().await.unwrap());
        assert!(!steps.contains("接続（接続形態）を登録する"), "{steps}");
        assert!(!steps.contains("次の項目もチェックリストに加わります"));
        assert!(steps.contains("ウィルス対策") && steps.contains("を作成して提出する"));
        assert!(steps.contains(&format!("/orgs/{org}/antivirus")));

        // The Center instructs on the antivirus report: it comes first, with its due date.
        let reviewer = app.new_browser();
        reviewer.login("reviewer@center.example.jp", PASSWORD).await;
        let due = days_from_today(14);
        let res = reviewer
            .post(
                &format!("/orgs/{org}/instructions"),
                &[
                    ("item_key", "system_configuration"),
                    ("problem", "構成図にファイアウォールがない"),
                    ("required_change", "構成図を更新すること"),
                    ("due_date", due.as_str()),
                ],
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let instruction = location(&res);
        let home = app.get("/home").await.text().await.unwrap();
        let steps = next_steps(&home);
        let first = at(&steps, "<li");
        assert!(
            steps[first..].starts_with(&format!("<li><a href=\"{instruction}\">"))
                && steps.contains(&format!("期限 {due}")),
            "the instruction leads, with its due date: {steps}"
        );
        assert!(steps.contains("改善措置を行い、結果を報告する"));
        // The checklist row shows the due date too.
        assert!(home.contains("改善措置対応中") && home.contains(&format!("期限 {due}")));

        // Answered: it waits for the Center on the home page as on the follow-up page.
        let version = {
            let page = app.get(&instruction).await.text().await.unwrap();
            crate::helpers::field_value(&page, "version").unwrap()
        };
        let token = app.browser().token().await;
        let form = reqwest::multipart::Form::new()
            .text("csrf_token", token)
            .text("version", version)
            .text("body", "構成図を更新しました。");
        let res = app
            .client
            .post(app.url(&format!("{instruction}/answer")))
            .header("origin", &app.base)
            .multipart(form)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let home = app.get("/home").await.text().await.unwrap();
        assert!(
            home.contains("改善措置：報告済み（センター確認待ち）"),
            "the answered instruction waits for the Center"
        );
        assert!(
            !next_steps(&home).contains(&instruction),
            "nothing for the org to do"
        );
        let followup = app
            .get(&format!("/orgs/{org}/followup"))
            .await
            .text()
            .await
            .unwrap();
        assert!(followup.contains("報告済み（確認待ち）"));

        // A returned report: the step leads to its receipt (the reason and 修正する).
        let mut fields = av_row("本社");
        fields.push(("action", "submit".into()));
        let res = app
            .post(&format!("/orgs/{org}/antivirus"), &refs(&fields))
            .await;
        let sub = submission_in(&res);
        let res = reviewer
            .post(
                &format!("/review/{sub}/decide"),
                &[
                    ("decision", "returned"),
                    ("reason", "OS の版を書いてください"),
                ],
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let flashed = reviewer.get(&location(&res)).await.text().await.unwrap();
        assert!(
            flashed.contains("判定を登録しました：差戻し"),
            "the flash says which"
        );
        let steps = next_steps(&app.get("/home").await.text().await.unwrap());
        assert!(
            steps.contains(&format!("/orgs/{org}/submissions/{sub}/receipt"))
                && steps.contains("差し戻されました"),
            "{steps}"
        );
        // Named on its profile: the step is gone; the receipt sealed before keeps the name
        // it was sealed with, its way back names the organisation as it is now.
        let res = app
            .post(
                &format!("/orgs/{org}/profile"),
                &[
                    ("name", "成田貿易株式会社"),
                    ("postal_code", "282-0004"),
                    ("address", "千葉県成田市古込1-1"),
                    ("contact_name", "成田　一郎"),
                    ("contact_phone", "0476-00-0000"),
                    ("contact_email", "kanri@a.example.jp"),
                    ("version", "1"),
                ],
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let steps = next_steps(&app.get("/home").await.text().await.unwrap());
        assert!(!steps.contains("組織の正式名称"), "{steps}");
        let receipt = app
            .html(&format!("/orgs/{org}/submissions/{sub}/receipt"))
            .await;
        assert!(
            receipt.contains("<dd>AAAAA（AAAAA）</dd>")
                && receipt.contains(&format!("<a href=\"/orgs/{org}\">← 成田貿易株式会社</a>")),
            "{receipt}"
        );
        // Once the revision is open, the step leads to the draft's page.
        let res = app
            .post(&format!("/orgs/{org}/submissions/{sub}/revise"), &[])
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let steps = next_steps(&app.get("/home").await.text().await.unwrap());
        assert!(
            !steps.contains(&format!("/submissions/{sub}/receipt"))
                && steps.contains(&format!("/orgs/{org}/antivirus")),
            "{steps}"
        );

        // English: the same steps in words, no keys.
        let en = english(&app.client, &app.url("/home")).await;
        assert!(en.contains("What to do next") && !en.contains("home.next."));
    }
);

dual_test!(
    an_antivirus_row_stands_at_a_gateway_site_and_the_cross_check_counts_it,
    |app| async move {
        app.add_user("kanri@a.example.jp", "org_admin", Some("AAAAA"))
            .await;
        app.login("kanri@a.example.jp", PASSWORD).await;
        let org = app.org_of("kanri@a.example.jp").await.to_string();
        let res = app
            .post(
                &format!("/orgs/{org}/locations"),
                &[
                    ("kind", "office"),
                    ("name", "本社"),
                    ("address", "東京都港区"),
                ],
            )
            .await;
        let office = location(&res);
        let office_id = office.rsplit('/').next().unwrap().to_string();
        let res = app
            .post(
                &format!("/orgs/{org}/locations"),
                &[
                    ("kind", "gateway_site"),
                    ("office_id", office_id.as_str()),
                    ("name", "東京GW"),
                    ("address", "東京都江東区"),
                ],
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        // The equipment list puts a NACCS gateway computer at the site.
        let res = app
            .post(
                &format!("/orgs/{org}/system-configuration"),
                &[
                    ("eq_0_device_type", "gateway"),
                    ("eq_0_maker", "富士通"),
                    ("eq_0_model", "PRIMERGY"),
                    ("eq_0_quantity", "1"),
                    ("eq_0_location", "東京GW"),
                    ("eq_0_naccs", "yes"),
                    ("action", "save"),
                ],
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);

        // The site is offered as a place, and its "0 台" warning shows until a row is there.
        let page = app
            .get(&format!("/orgs/{org}/antivirus"))
            .await
            .text()
            .await
            .unwrap();
        assert!(
            page.contains("<option>東京GW</option>"),
            "the site can be chosen"
        );
        assert!(page.contains("設置場所"));
        let mut fields = av_row("本社");
        fields.push(("action", "save".into()));
        app.post(&format!("/orgs/{org}/antivirus"), &refs(&fields))
            .await;
        let page = app
            .get(&format!("/orgs/{org}/antivirus"))
            .await
            .text()
            .await
            .unwrap();
        assert!(page.contains("東京GW：機器の構成リストでは NACCS に接続するコンピュータが 1 台"));

        // A row at the site: saved clean, the warning gone, submitted.
        let mut fields = av_row("東京GW");
        fields.push(("action", "submit".into()));
        let res = app
            .post(&format!("/orgs/{org}/antivirus"), &refs(&fields))
            .await;
        assert_eq!(
            res.status(),
            StatusCode::SEE_OTHER,
            "the site's row is accepted"
        );
        let sub = submission_in(&res);
        let receipt = app
            .get(&format!("/orgs/{org}/submissions/{sub}/receipt"))
            .await
            .text()
            .await
            .unwrap();
        assert!(receipt.contains("東京GW"));

        // The API and the CSV import take the site too; an unknown place is refused in words.
        let csv = "host,office,os,product,version,definitions date,update frequency\n\
                   GW-01,東京GW,Windows Server 2022,defender,4.18,{today},daily\n"
            .replace("{today}", &days_from_today(0));
        let token = app.browser().token().await;
        let form = reqwest::multipart::Form::new()
            .text("csrf_token", token)
            .part(
                "file",
                reqwest::multipart::Part::bytes(csv.into_bytes()).file_name("av.csv"),
            );
        let res = app
            .client
            .post(app.url(&format!("/orgs/{org}/antivirus/import")))
            .header("origin", &app.base)
            .multipart(form)
            .send()
            .await
            .unwrap();
        let res = crate::helpers::confirm_import(&app, res).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let page = app.get(&location(&res)).await.text().await.unwrap();
        assert!(
            page.contains("Excel・CSV ファイルから 1 台分のコンピュータを取り込み"),
            "the flash says what was imported"
        );
        assert!(page.contains("value=\"GW-01\""));
        assert!(
            !page.contains("東京GW：機器一覧では"),
            "the site's computer has its row"
        );

        let mut bad = av_row("大阪支店");
        bad.push(("action", "submit".into()));
        let res = app
            .post(&format!("/orgs/{org}/antivirus"), &refs(&bad))
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let page = res.text().await.unwrap();
        assert!(page.contains("設置場所を選んでください。"), "{page}");
        assert!(page.contains("aria-describedby=\"av-0-office-error\""));
        assert!(page.contains("id=\"av-0-office-error\""));
    }
);

dual_test!(
    the_audit_trail_names_instructions_and_requests_in_words,
    |app| async move {
        app.add_user("admin@center.example.jp", "center_admin", None)
            .await;
        app.add_user("kanri@a.example.jp", "org_admin", Some("AAAAA"))
            .await;
        app.login("admin@center.example.jp", PASSWORD).await;
        let org = app.org_of("kanri@a.example.jp").await.to_string();
        let due = days_from_today(10);
        let res = app
            .post(
                &format!("/orgs/{org}/instructions"),
                &[
                    ("item_key", "antivirus"),
                    ("problem", "定義ファイルが古い"),
                    ("required_change", "更新すること"),
                    ("due_date", due.as_str()),
                ],
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let instruction = location(&res).rsplit('/').next().unwrap().to_string();
        let res = app
            .post(
                &format!("/orgs/{org}/requests"),
                &[("item_key", "inhouse_measures"), ("due_date", due.as_str())],
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let trail = app.get("/audit").await.text().await.unwrap();
        assert!(!trail.contains(&instruction), "no UUID of the instruction");
        assert!(
            trail.contains("改善措置の指示（7.4.1(3) ウィルス対策、AAAAA）")
                // The due date it was issued with is in the entry's detail (the instruction's
                // own may move later).
                && trail.contains(&format!("期限: {due}")),
            "{trail}"
        );
        assert!(trail.contains("提出依頼（7.4.1(5)"), "{trail}");
        let en = english(&app.client, &app.url("/audit")).await;
        assert!(en.contains("Improvement instruction (7.4.1(3)"));
        // The organisation's admin reads the same names in its activity list.
        let org_admin = app.new_browser();
        org_admin.login("kanri@a.example.jp", PASSWORD).await;
        let home = org_admin.get("/home").await.text().await.unwrap();
        assert!(
            home.contains("<td>改善措置の指示（7.4.1(3) ウィルス対策、AAAAA）</td>")
                && !home.contains(&format!("<td>{instruction}")),
            "{home}"
        );
    }
);

dual_test!(
    a_member_is_told_which_next_steps_an_organisation_admin_does,
    |app| async move {
        app.add_user("kanri@m.example.jp", "org_admin", Some("MMMMM"))
            .await;
        app.add_user("jimu@m.example.jp", "org_member", Some("MMMMM"))
            .await;
        let member = app.new_browser();
        member.login("jimu@m.example.jp", PASSWORD).await;
        let steps = next_steps(&member.get("/home").await.text().await.unwrap());
        assert!(steps.contains("（組織管理者が行います）"), "{steps}");
        let admin = app.new_browser();
        admin.login("kanri@m.example.jp", PASSWORD).await;
        let steps = next_steps(&admin.get("/home").await.text().await.unwrap());
        assert!(!steps.contains("（組織管理者が行います）"), "{steps}");
    }
);

/// An organisation AAAAA whose admin the app's own browser is signed in as, and a Center
/// admin's browser: (the organisation's id, the Center's browser).
async fn org_and_center(app: &crate::helpers::TestApp) -> (String, crate::helpers::Browser<'_>) {
    app.add_user("admin@center.example.jp", "center_admin", None)
        .await;
    app.add_user("kanri@a.example.jp", "org_admin", Some("AAAAA"))
        .await;
    let org = app.org_of("kanri@a.example.jp").await.to_string();
    app.login("kanri@a.example.jp", PASSWORD).await;
    let center = app.new_browser();
    center.login("admin@center.example.jp", PASSWORD).await;
    (org, center)
}

/// Issues an improvement instruction due in ten days with `fields` (its item, place or
/// report); answers the redirect to it.
async fn instruct(
    center: &crate::helpers::Browser<'_>,
    org: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let due = days_from_today(10);
    let mut all = fields.to_vec();
    all.extend([
        ("problem", "確認してください"),
        ("required_change", "是正すること"),
        ("due_date", due.as_str()),
    ]);
    let res = center
        .post(&format!("/orgs/{org}/instructions"), &all)
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "{fields:?}");
    res
}

dual_test!(
    an_instruction_about_one_office_names_that_office_in_the_next_steps,
    |app| async move {
        let (org, center) = org_and_center(&app).await;
        let office = app.office_with_router(&org).await;
        let office_id = office.rsplit('/').next().unwrap().to_string();
        // Antivirus is reported for the whole organisation; the instruction is about 本社.
        let res = instruct(
            &center,
            &org,
            &[
                ("item_key", "antivirus"),
                ("location_id", office_id.as_str()),
            ],
        )
        .await;
        let home = app.html("/home").await;
        let steps = next_steps(&home);
        assert!(
            steps.contains("7.4.1(3) ウィルス対策（本社）の改善措置を行い、結果を報告する"),
            "{steps}"
        );
        assert!(home.contains("<small>（本社について）</small>"), "{home}");
        // The instruction leads to where the item is reported (the whole organisation's).
        let page = app.html(&location(&res)).await;
        assert!(
            page.contains(&format!(
                "<a href=\"/orgs/{org}/antivirus\">この項目の報告を開く</a>"
            )),
            "{page}"
        );
    }
);

dual_test!(
    an_instruction_about_another_item_is_not_tied_to_the_report_it_started_from,
    |app| async move {
        let (org, center) = org_and_center(&app).await;
        let router = submission_in(&app.attest_router_at_new_office(&org).await);
        for (item, tied) in [("antivirus", false), ("router_ports", true)] {
            let res = instruct(
                &center,
                &org,
                &[("submission_id", router.as_str()), ("item_key", item)],
            )
            .await;
            let id = uuid::Uuid::parse_str(location(&res).rsplit('/').next().unwrap()).unwrap();
            let (submission,): (Option<uuid::Uuid>,) =
                secportal::db::on_db!(app.db(), p => sqlx::query_as(
                "SELECT submission_id FROM instructions WHERE id = $1"
            )
            .bind(id)
            .fetch_one(p)
            .await)
                .unwrap();
            assert_eq!(submission.is_some(), tied, "{item}");
        }
    }
);

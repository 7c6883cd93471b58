//! Offices, gateway sites, connections, administrator appointments and the checklist.

use reqwest::StatusCode;

use crate::dual_test;
use crate::helpers::{PASSWORD, ROUTER_OK, TestApp, location};

async fn org_of(app: &TestApp, email: &str) -> String {
    secportal::db::users::by_email(app.db(), email)
        .await
        .unwrap()
        .unwrap()
        .org_id
        .unwrap()
        .to_string()
}

/// Creates a location through the page; answers its id.
async fn add_location(app: &TestApp, org: &str, kind: &str, office: &str, name: &str) -> String {
    let res = app
        .post(
            &format!("/orgs/{org}/locations"),
            &[
                ("kind", kind),
                ("office_id", office),
                ("name", name),
                ("address", "東京都港区海岸1-1-1"),
            ],
        )
        .await;
    assert_eq!(
        res.status(),
        StatusCode::SEE_OTHER,
        "{}",
        res.text().await.unwrap()
    );
    location(&res).rsplit('/').next().unwrap().to_string()
}

pub(crate) async fn add_connection(app: &TestApp, org: &str, loc: &str, form: &str) {
    let res = app
        .post(
            &format!("/orgs/{org}/locations/{loc}/connections"),
            &[("form", form), ("router_id", "R-0001")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
}

fn appointment<'a>(name: &'a str, from: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("name", name),
        ("name_kana", "ﾔﾏﾀﾞ　タロウ"),
        ("department", "情報システム部"),
        ("title", "部長"),
        ("phone", "03-1234-5678"),
        ("emergency_contact", "０９０－１２３４－５６７８"),
        ("email", "yamada@a.example.jp"),
        ("effective_from", from),
    ]
}

/// The checklist rows of the home page as (item number, place, status) triples.
pub(crate) async fn checklist(app: &TestApp) -> Vec<(String, String, String)> {
    let html = app.get("/home").await.text().await.unwrap();
    let table = html
        .split("<table class=\"checklist\">")
        .nth(1)
        .unwrap_or("")
        .split("</table>")
        .next()
        .unwrap_or("")
        .to_string();
    table
        .split("<tr")
        .skip(2)
        .map(|row| {
            let cells: Vec<String> = row
                .split("<td>")
                .skip(1)
                .map(|c| {
                    let mut out = String::new();
                    let mut in_tag = false;
                    for ch in c.split("</td>").next().unwrap().chars() {
                        match ch {
                            '<' => in_tag = true,
                            '>' => in_tag = false,
                            _ if !in_tag => out.push(ch),
                            _ => {}
                        }
                    }
                    out.trim().to_string()
                })
                .collect();
            (cells[0].clone(), cells[2].clone(), cells[3].clone())
        })
        .collect()
}

dual_test!(
    org_admin_sets_up_offices_and_a_gateway_site_and_the_checklist_follows,
    |app| async move {
        app.add_user("kanri@a.example.jp", "org_admin", Some("AAAAA"))
            .await;
        app.login("kanri@a.example.jp", PASSWORD).await;
        let org = org_of(&app, "kanri@a.example.jp").await;
        // Nothing but the organisation: no office yet.
        let rows = checklist(&app).await;
        assert!(rows.iter().all(|(n, _, _)| n != "7.4.1(1)"), "{rows:?}");

        let honsha = add_location(&app, &org, "office", "", "本社").await;
        add_connection(&app, &org, &honsha, "router").await;
        let osaka = add_location(&app, &org, "office", "", "大阪支店").await;
        add_connection(&app, &org, &osaka, "router").await;
        let rows = checklist(&app).await;
        assert!(
            rows.contains(&("7.4.1(1)".into(), "本社".into(), "未提出".into())),
            "{rows:?}"
        );
        assert!(rows.contains(&("7.4.1(1)".into(), "大阪支店".into(), "未提出".into())));
        assert!(rows.contains(&("7.4.1(2)".into(), "組織全体".into(), "未提出".into())));
        assert!(rows.contains(&("7.4.1(5)".into(), "組織全体".into(), "依頼時のみ".into())));
        assert!(
            !rows.iter().any(|(n, _, _)| n == "7.4.1(6)"),
            "router only: no log item"
        );

        let gw = add_location(&app, &org, "gateway_site", &honsha, "本社サーバ室").await;
        add_connection(&app, &org, &gw, "gateway").await;
        let rows = checklist(&app).await;
        assert!(
            rows.contains(&("7.4.1(6)".into(), "本社サーバ室".into(), "未提出".into())),
            "{rows:?}"
        );
        assert!(rows.contains(&("7.4.1(1)".into(), "本社サーバ室".into(), "未提出".into())));

        let res = app
            .post(
                &format!("/orgs/{org}/locations/{honsha}/appointments"),
                &appointment("山田　太郎", "2026-04-01"),
            )
            .await;
        assert_eq!(
            res.status(),
            StatusCode::SEE_OTHER,
            "{}",
            res.text().await.unwrap()
        );
        let rows = checklist(&app).await;
        assert!(
            rows.contains(&("7.4.1(1)".into(), "本社".into(), "提出済み".into())),
            "{rows:?}"
        );
        assert!(rows.contains(&("7.4.1(1)".into(), "大阪支店".into(), "未提出".into())));
        assert_eq!(app.count("submissions").await, 1);
        assert_eq!(app.audit_count("appointment.notified").await, 1);
        // The notification records the catalogue revision it answered, and the text as typed.
        let db = app.db();
        let (rev, data): (i64, String) = secportal::db::on_db!(db, p => sqlx::query_as("SELECT catalogue_revision, data FROM submissions")
        .fetch_one(p)
        .await)
    .unwrap();
        assert_eq!(rev, 1);
        let data: serde_json::Value = serde_json::from_str(&data).unwrap();
        assert_eq!(data["name"], "山田　太郎");
        assert_eq!(
            data["name_kana"], "ヤマダ　タロウ",
            "a reading is kept in full-width katakana, its space as typed"
        );
        assert_eq!(data["emergency_contact"], "090-1234-5678");

        // Closing the gateway connection removes item 6 again.
        let page = app
            .get(&format!("/orgs/{org}/locations/{gw}"))
            .await
            .text()
            .await
            .unwrap();
        let conn = page
            .split("/connections/")
            .nth(1)
            .unwrap()
            .split('/')
            .next()
            .unwrap()
            .to_string();
        let res = app
            .post(&format!("/orgs/{org}/connections/{conn}/deactivate"), &[])
            .await;
        // Closing asks for its confirmation box first.
        assert_eq!(res.status(), StatusCode::BAD_REQUEST);
        let res = app
            .post(
                &format!("/orgs/{org}/connections/{conn}/deactivate"),
                &[("confirm", "yes")],
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert!(
            !checklist(&app)
                .await
                .iter()
                .any(|(n, _, _)| n == "7.4.1(6)")
        );
    }
);

dual_test!(
    the_page_answers_who_was_responsible_on_a_given_date,
    |app| async move {
        app.add_user("kanri@a.example.jp", "org_admin", Some("AAAAA"))
            .await;
        app.login("kanri@a.example.jp", PASSWORD).await;
        let org = org_of(&app, "kanri@a.example.jp").await;
        let office = add_location(&app, &org, "office", "", "横浜営業所").await;
        app.post(
            &format!("/orgs/{org}/locations/{office}/appointments"),
            &appointment("佐藤　一郎", "2026-01-01"),
        )
        .await;
        app.post(
            &format!("/orgs/{org}/locations/{office}/appointments"),
            &appointment("鈴木　花子", "2026/6/1"),
        )
        .await;
        assert_eq!(
            app.count("appointments").await,
            2,
            "a change of person is a new appointment"
        );
        let ask = |d: &'static str| {
            let path = format!("/orgs/{org}/locations/{office}?date={d}");
            let app = &app;
            async move { app.get(&path).await.text().await.unwrap() }
        };
        assert!(
            ask("2026-03-01")
                .await
                .contains("2026-03-01 時点の管理責任者は 佐藤　一郎（情報システム部）です。")
        );
        assert!(ask("2026-07-01").await.contains("鈴木　花子"));
        // Each notice in the history shows where the Center's review of it stands.
        let page = ask("2026-07-01").await;
        let table = page.split(r#"id="appoint""#).nth(1).unwrap_or_default();
        assert_eq!(
            table
                .matches(r#"<span class="status submitted">提出済み</span>"#)
                .count(),
            2,
            "{table}"
        );
        assert!(
            ask("2025-12-31")
                .await
                .contains("2025-12-31 時点の管理責任者は届け出られていません。")
        );
        let res = app
            .get(&format!("/orgs/{org}/locations/{office}?date=2026-13-01"))
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);

        // The second notice names the person it replaces, on its receipt and in the audit
        // trail; a third that only corrects her details (her name spaced otherwise) names
        // no predecessor. Its 確認 page says it corrects the notice that waits, not that it is
        // another notice beside it.
        let confirm = app
            .browser()
            .post_unconfirmed(
                &format!("/orgs/{org}/locations/{office}/appointments"),
                &appointment("鈴木 花子", "2026-08-01"),
            )
            .await
            .text()
            .await
            .unwrap();
        assert!(
            confirm.contains("提出）の内容を訂正するものです。")
                && !confirm.contains("その届出とは別の新しい届出として"),
            "{confirm}"
        );
        app.post(
            &format!("/orgs/{org}/locations/{office}/appointments"),
            &appointment("鈴木 花子", "2026-08-01"),
        )
        .await;
        let db = app.db();
        let ids: Vec<(uuid::Uuid, String, String)> = secportal::db::on_db!(db, p => sqlx::query_as(
            "SELECT id, data, receipt_no FROM submissions ORDER BY submitted_at, id"
        )
        .fetch_all(p)
        .await)
        .unwrap();
        assert_eq!(ids.len(), 3);
        let data: Vec<serde_json::Value> = ids
            .iter()
            .map(|(_, d, _)| serde_json::from_str(d).unwrap())
            .collect();
        assert!(data[0]["predecessor"].is_null(), "{}", data[0]);
        assert_eq!(data[1]["predecessor"]["name"], "佐藤　一郎");
        assert!(data[2]["predecessor"].is_null(), "{}", data[2]);
        let receipt = app
            .get(&format!("/orgs/{org}/submissions/{}/receipt", ids[1].0))
            .await
            .text()
            .await
            .unwrap();
        assert!(
            receipt.contains("<dt>前任者</dt>")
                && receipt.contains(
                    "<dd class=\"pre\">佐藤　一郎（情報システム部、2026-01-01 就任）</dd>"
                )
                && receipt.contains("<dt>前任者の届出の受付番号</dt>")
                && receipt.contains(&format!("<dd class=\"pre\">{}</dd>", ids[0].2)),
            "{receipt}"
        );
        // The way back is the office's page, not the organisation's.
        assert!(
            receipt.contains(&format!("<a href=\"/orgs/{org}/locations/{office}\">← ")),
            "{receipt}"
        );
        // The reviewer reads the change of person in the report's summary.
        app.add_user("r@center.example.jp", "reviewer", None).await;
        let reviewer = app.new_browser();
        reviewer.login("r@center.example.jp", PASSWORD).await;
        let review = reviewer.html(&format!("/review/{}", ids[1].0)).await;
        assert!(
            review.contains("前任の佐藤　一郎（情報システム部、2026-01-01 就任）からの交代"),
            "{review}"
        );
        // The office's history marks who is in charge today; the mails tell the notices apart.
        let office_page = app
            .get(&format!("/orgs/{org}/locations/{office}"))
            .await
            .text()
            .await
            .unwrap();
        assert_eq!(
            office_page
                .matches("<span class=\"badge\">現任</span>")
                .count(),
            1
        );
        app.wait_mail_text("kanri@a.example.jp", "管理責任者の設置（横浜営業所）")
            .await;
        // The queue tells a change of person from a correction.
        let queue = reviewer.html("/review").await;
        assert_eq!(
            (
                queue
                    .matches("<span class=\"status flag\">管理責任者の交代</span>")
                    .count(),
                queue
                    .matches("<span class=\"status flag\">届出内容の訂正</span>")
                    .count()
            ),
            (1, 1),
            "{queue}"
        );
        // The third is read as a correction, with what it changes.
        assert_eq!(data[2]["corrects"]["name"], "鈴木　花子");
        let review = reviewer.html(&format!("/review/{}", ids[2].0)).await;
        assert!(
            review.contains(&format!(
                "同じ管理責任者の届出内容の変更（2026-06-01 就任の届出・受付番号 {}から）：氏名 鈴木　花子 → 鈴木 花子、就任日 2026-06-01 → 2026-08-01",
                ids[1].2
            )),
            "{review}"
        );
        // 「内容を訂正する」 on the current row opens the form filled with her notice, its
        // first day included.
        assert!(
            office_page.contains(&format!(
                "/orgs/{org}/locations/{office}?correct=1#appoint-form\">内容を訂正する</a>"
            )),
            "{office_page}"
        );
        let form = app
            .get(&format!("/orgs/{org}/locations/{office}?correct=1"))
            .await
            .text()
            .await
            .unwrap();
        assert!(
            form.contains(">管理責任者の届出内容の訂正</h3>")
                && form.contains("現任の管理責任者（鈴木 花子）の届出内容を入れてあります。")
                && form.contains("value=\"鈴木 花子\"")
                && form.contains("value=\"03-1234-5678\"")
                && form.contains("value=\"2026-08-01\""),
            "{form}"
        );
        let trail = app.get("/audit").await.text().await.unwrap();
        assert!(trail.contains("管理責任者: 鈴木　花子"), "{trail}");
        assert!(trail.contains("前任者: 佐藤　一郎"), "{trail}");
        assert!(trail.contains("就任日: 2026-08-01"), "{trail}");
        // Its receipt number opens the receipt.
        assert!(
            trail.contains(&format!(
                "<a href=\"/orgs/{org}/submissions/{}/receipt\">{}</a>",
                ids[2].0, ids[2].2
            )),
            "{trail}"
        );
    }
);

dual_test!(
    malformed_appointments_are_refused_next_to_the_field_and_nothing_is_saved,
    |app| async move {
        app.add_user("kanri@a.example.jp", "org_admin", Some("AAAAA"))
            .await;
        app.login("kanri@a.example.jp", PASSWORD).await;
        let org = org_of(&app, "kanri@a.example.jp").await;
        let office = add_location(&app, &org, "office", "", "本社").await;
        for (field, bad) in [
            ("email", "not-an-email"),
            ("effective_from", "2026-02-30"),
            ("phone", "call me"),
            ("name", "  "),
        ] {
            let mut fields = appointment("山田　太郎", "2026-04-01");
            for f in fields.iter_mut() {
                if f.0 == field {
                    f.1 = bad;
                }
            }
            let res = app
                .post(
                    &format!("/orgs/{org}/locations/{office}/appointments"),
                    &fields,
                )
                .await;
            assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{field}");
            let body = res.text().await.unwrap();
            assert!(
                body.contains(&format!("id=\"f-appoint-{field}-error\"")),
                "{field}: error next to the field"
            );
            assert!(
                body.contains("情報システム部"),
                "the rest of the input is kept"
            );
        }
        assert_eq!(app.count("appointments").await, 0);
        assert_eq!(app.count("submissions").await, 0);
    }
);

dual_test!(
    an_org_admin_of_a_gets_404_for_every_form_aimed_at_org_b,
    |app| async move {
        app.add_user("a@a.example.jp", "org_admin", Some("AAAAA"))
            .await;
        app.add_user("b@b.example.jp", "org_admin", Some("BBBBB"))
            .await;
        let org_b = org_of(&app, "b@b.example.jp").await;
        let org_a = org_of(&app, "a@a.example.jp").await;
        app.login("b@b.example.jp", PASSWORD).await;
        let b_office = add_location(&app, &org_b, "office", "", "B本社").await;
        add_connection(&app, &org_b, &b_office, "router").await;
        let page = app
            .get(&format!("/orgs/{org_b}/locations/{b_office}"))
            .await
            .text()
            .await
            .unwrap();
        let b_conn = page
            .split("/connections/")
            .nth(1)
            .unwrap()
            .split('/')
            .next()
            .unwrap()
            .to_string();
        app.post("/logout", &[]).await;

        app.login("a@a.example.jp", PASSWORD).await;
        let a_office = add_location(&app, &org_a, "office", "", "A本社").await;
        let before = (
            app.count("locations").await,
            app.count("connections").await,
            app.count("appointments").await,
            app.count("audit_log").await,
        );
        let appt = appointment("侵入　者", "2026-04-01");
        for org in [&org_b, &org_a] {
            let attempts: Vec<(String, Vec<(&str, &str)>)> = vec![
                (
                    format!("/orgs/{org}/locations/{b_office}"),
                    vec![("name", "乗っ取り"), ("address", "x"), ("version", "1")],
                ),
                (
                    format!("/orgs/{org}/locations/{b_office}/active"),
                    vec![("active", "false"), ("confirm", "yes")],
                ),
                (
                    format!("/orgs/{org}/locations/{b_office}/connections"),
                    vec![("form", "gateway"), ("router_id", "")],
                ),
                (
                    format!("/orgs/{org}/connections/{b_conn}/deactivate"),
                    vec![("confirm", "yes")],
                ),
                (
                    format!("/orgs/{org}/locations/{b_office}/appointments"),
                    appt.clone(),
                ),
            ];
            for (path, fields) in attempts {
                assert_eq!(
                    app.post(&path, &fields).await.status(),
                    StatusCode::NOT_FOUND,
                    "{path}"
                );
            }
            assert_eq!(
                app.get(&format!("/orgs/{org}/locations/{b_office}"))
                    .await
                    .status(),
                StatusCode::NOT_FOUND
            );
        }
        // B's org pages and a gateway site under B's office.
        assert_eq!(
            app.get(&format!("/orgs/{org_b}")).await.status(),
            StatusCode::NOT_FOUND
        );
        let res = app
            .post(
                &format!("/orgs/{org_b}/locations"),
                &[("kind", "office"), ("name", "x"), ("address", "y")],
            )
            .await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
        let res = app
            .post(
                &format!("/orgs/{org_a}/locations"),
                &[
                    ("kind", "gateway_site"),
                    ("office_id", &b_office),
                    ("name", "x"),
                    ("address", "y"),
                ],
            )
            .await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
        let after = (
            app.count("locations").await,
            app.count("connections").await,
            app.count("appointments").await,
            app.count("audit_log").await,
        );
        // Only A's own logins/logouts may have been audited in between: compare the structure.
        assert_eq!((before.0, before.1, before.2), (after.0, after.1, after.2));
        let _ = a_office;
    }
);

dual_test!(
    an_org_member_and_a_reviewer_can_look_but_not_change_the_structure,
    |app| async move {
        app.add_user("kanri@a.example.jp", "org_admin", Some("AAAAA"))
            .await;
        app.add_user("member@a.example.jp", "org_member", Some("AAAAA"))
            .await;
        app.add_user("reviewer@center.example.jp", "reviewer", None)
            .await;
        let org = org_of(&app, "kanri@a.example.jp").await;
        app.login("kanri@a.example.jp", PASSWORD).await;
        let office = add_location(&app, &org, "office", "", "本社").await;
        app.post("/logout", &[]).await;
        for who in ["member@a.example.jp", "reviewer@center.example.jp"] {
            let b = app.new_browser();
            b.login(who, PASSWORD).await;
            assert_eq!(
                b.get(&format!("/orgs/{org}/locations/{office}"))
                    .await
                    .status(),
                StatusCode::OK,
                "{who} can look"
            );
            let res = b
                .post(
                    &format!("/orgs/{org}/locations"),
                    &[("kind", "office"), ("name", "x"), ("address", "y")],
                )
                .await;
            assert_eq!(res.status(), StatusCode::FORBIDDEN, "{who}");
            let res = b
                .post(
                    &format!("/orgs/{org}/locations/{office}/appointments"),
                    &appointment("山田　太郎", "2026-04-01"),
                )
                .await;
            assert_eq!(res.status(), StatusCode::FORBIDDEN, "{who}");
        }
        assert_eq!(app.count("locations").await, 1);
        assert_eq!(app.count("appointments").await, 0);
    }
);

dual_test!(
    the_second_of_two_simultaneous_edits_is_told_the_record_changed,
    |app| async move {
        app.add_user("one@a.example.jp", "org_admin", Some("AAAAA"))
            .await;
        app.add_user("two@a.example.jp", "org_admin", Some("AAAAA"))
            .await;
        let org = org_of(&app, "one@a.example.jp").await;
        app.login("one@a.example.jp", PASSWORD).await;
        let office = add_location(&app, &org, "office", "", "本社").await;
        let two = app.new_browser();
        two.login("two@a.example.jp", PASSWORD).await;
        // Both open the page at version 1.
        let res = app
            .post(
                &format!("/orgs/{org}/locations/{office}"),
                &[
                    ("name", "本社（新館）"),
                    ("address", "東京都千代田区1-1"),
                    ("version", "1"),
                ],
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let res = two
            .post(
                &format!("/orgs/{org}/locations/{office}"),
                &[
                    ("name", "本店"),
                    ("address", "大阪府大阪市1-1"),
                    ("version", "1"),
                ],
            )
            .await;
        assert_eq!(res.status(), StatusCode::CONFLICT);
        let body = res.text().await.unwrap();
        assert!(
            body.contains("value=\"本社（新館）\""),
            "the newer values are in the form"
        );
        assert!(body.contains("本店") && body.contains("他の人が先に内容を変更しました"));
        let row = secportal::db::structure::get(
            app.db(),
            uuid::Uuid::parse_str(&org).unwrap(),
            uuid::Uuid::parse_str(&office).unwrap(),
        )
        .await
        .unwrap()
        .unwrap();
        assert_eq!((row.name.as_str(), row.version), ("本社（新館）", 2));
    }
);

dual_test!(
    a_center_admin_edits_any_organisations_structure,
    |app| async move {
        app.add_user("admin@center.example.jp", "center_admin", None)
            .await;
        app.add_user("kanri@a.example.jp", "org_admin", Some("AAAAA"))
            .await;
        let org = org_of(&app, "kanri@a.example.jp").await;
        app.login("admin@center.example.jp", PASSWORD).await;
        // Before any office, the matrix says why its per-office items read 「—」.
        let matrix = app.get("/admin/matrix").await.text().await.unwrap();
        assert!(matrix.contains("事業所未登録"), "{matrix}");
        let office = add_location(&app, &org, "office", "", "本社").await;
        assert_eq!(app.audit_count("location.created").await, 1);
        let page = app.get(&format!("/orgs/{org}")).await.text().await.unwrap();
        assert!(page.contains("本社") && page.contains("報告項目チェックリスト"));
        // The Center admin is told they enter on the organisation's behalf.
        assert!(page.contains("この組織に代わって入力しています"), "{page}");
        let matrix = app.get("/admin/matrix").await.text().await.unwrap();
        assert!(!matrix.contains("事業所未登録"));
        let _ = office;
    }
);

dual_test!(
    the_center_matrix_shows_every_organisation_with_filters_counts_and_links,
    |app| async move {
        app.add_user("admin@center.example.jp", "center_admin", None)
            .await;
        app.add_user("a@a.example.jp", "org_admin", Some("AAAAA"))
            .await;
        app.add_user("b@b.example.jp", "org_admin", Some("BBBBB"))
            .await;
        let org_a = org_of(&app, "a@a.example.jp").await;
        let org_b = org_of(&app, "b@b.example.jp").await;
        app.login("admin@center.example.jp", PASSWORD).await;
        let a_office = add_location(&app, &org_a, "office", "", "A本社").await;
        add_connection(&app, &org_a, &a_office, "router").await;
        app.post(
            &format!("/orgs/{org_a}/locations/{a_office}/appointments"),
            &appointment("山田　太郎", "2026-04-01"),
        )
        .await;
        let b_office = add_location(&app, &org_b, "office", "", "B本社").await;
        add_connection(&app, &org_b, &b_office, "gateway").await;

        let all = app.get("/admin/matrix").await.text().await.unwrap();
        assert!(
            all.contains(&format!("href=\"/orgs/{org_a}\""))
                && all.contains(&format!("href=\"/orgs/{org_b}\""))
        );
        assert!(all.contains("2 組織"));
        let gw = app
            .get("/admin/matrix?form=gateway")
            .await
            .text()
            .await
            .unwrap();
        assert!(
            gw.contains("BBBBB") && !gw.contains("AAAAA"),
            "filter by connection form"
        );
        let submitted = app
            .get("/admin/matrix?status=submitted")
            .await
            .text()
            .await
            .unwrap();
        assert!(
            submitted.contains("AAAAA") && !submitted.contains("BBBBB"),
            "filter by status"
        );
        // A cell with something sent opens what was sent for that item; one with nothing, the
        // organisation's page.
        assert!(
            all.contains(&format!(
                "<a class=\"status submitted\" href=\"/orgs/{org_a}/submissions?item=administrator\">"
            )),
            "{all}"
        );
        let history = app
            .html(&format!("/orgs/{org_a}/submissions?item=administrator"))
            .await;
        assert!(history.contains("管理責任者"), "{history}");
        assert!(
            history.contains("<td><a href=\"/review/"),
            "the Center opens a report on its review page: {history}"
        );
        // B has more to do (administrator and logs missing): first when sorted by open items.
        let by_open = app
            .get("/admin/matrix?sort=open")
            .await
            .text()
            .await
            .unwrap();
        assert!(by_open.find("BBBBB").unwrap() < by_open.find("AAAAA").unwrap());
        // Those that have sent nothing at all: B alone.
        let nothing = app.html("/admin/matrix?status=nothing").await;
        assert!(
            nothing.contains("BBBBB")
                && !nothing.contains("AAAAA")
                && nothing.contains("<option value=\"nothing\" selected>"),
            "{nothing}"
        );
        // A column's count opens the organisations that must act on that item: the
        // administrator (7.4.1(1)) is missing at B only.
        assert!(
            all.contains("<a href=\"/admin/matrix?item=administrator\""),
            "{all}"
        );
        let one = app.html("/admin/matrix?item=administrator").await;
        assert!(
            one.contains("BBBBB")
                && !one.contains("AAAAA")
                && one.contains("で対応が必要な組織だけを表示しています")
                && one.contains("<a href=\"/admin/matrix\">すべての項目に戻す</a>"),
            "{one}"
        );
        // Organisations may not see it.
        app.post("/logout", &[]).await;
        app.login("a@a.example.jp", PASSWORD).await;
        assert_eq!(
            app.get("/admin/matrix").await.status(),
            StatusCode::FORBIDDEN
        );
    }
);

dual_test!(
    the_id_declaration_checks_ids_and_dates_and_moves_the_checklist,
    |app| async move {
        app.add_user("kanri@a.example.jp", "org_admin", Some("AB123"))
            .await;
        app.add_user("b@b.example.jp", "org_admin", Some("ZZ999"))
            .await;
        let org = org_of(&app, "kanri@a.example.jp").await;
        let org_b = org_of(&app, "b@b.example.jp").await;
        app.login("kanri@a.example.jp", PASSWORD).await;
        let office = add_location(&app, &org, "office", "", "本社").await;
        app.post(
            &format!("/orgs/{org}/locations/{office}/appointments"),
            &appointment("山田　太郎", "2026-04-01"),
        )
        .await;
        let ids_field = format!("ids_{office}");
        let path = format!("/orgs/{org}/id-management");
        let good: Vec<(&str, &str)> = vec![
            (&ids_field, "AB123001\nａｂ１２３００２"),
            ("away_0_place", "自宅（東京都世田谷区）"),
            ("away_0_reason", "telework"),
            ("away_0_from", "2026-04-01"),
            ("away_0_to", "2026-09-30"),
            ("away_0_ids", "AB123002"),
            ("away_0_office", &office),
            ("attest", "yes"),
        ];
        let bad_cases: Vec<(&str, &str, &str)> = vec![
            // Each message names the IDs it is about.
            (
                &ids_field,
                "AB123001\nAB12300",
                "利用者IDは英数字8文字です。（該当: AB12300）",
            ),
            (
                &ids_field,
                "XY123001\nAB123001\nZZ999001",
                "この組織の利用者コードで始まらない利用者IDがあります。（該当: XY123001、ZZ999001）",
            ),
            (
                &ids_field,
                "AB123001 AB123001",
                "同じ利用者IDが重複しています。（該当: AB123001）",
            ),
            // Several kinds of mistake in one list: each said at once, under the field.
            (
                &ids_field,
                "AB12300\nXY123001\nAB123001\nAB123001",
                "利用者IDは英数字8文字です。（該当: AB12300）<br>この組織の利用者コードで始まらない利用者IDがあります。（該当: XY123001）<br>同じ利用者IDが重複しています。（該当: AB123001）",
            ),
            ("away_0_to", "2026-03-31", "終了日が開始日より前です"),
            (
                "away_0_ids",
                "AB123009",
                "一覧にない利用者IDです。（該当: AB123009）",
            ),
            ("attest", "", "確認欄にチェック"),
        ];
        for (field, value, message) in bad_cases {
            let fields: Vec<(&str, &str)> = good
                .iter()
                .map(|(k, v)| if *k == field { (*k, value) } else { (*k, *v) })
                .collect();
            let res = app.post(&path, &fields).await;
            assert_eq!(
                res.status(),
                StatusCode::UNPROCESSABLE_ENTITY,
                "{field}={value}"
            );
            let body = res.text().await.unwrap();
            assert!(body.contains(message), "{field}={value}: {message}");
            assert!(body.contains("自宅（東京都世田谷区）"), "input kept");
        }
        assert_eq!(app.count("submissions").await, 1, "only the appointment");
        // Another organisation's page: 404, nothing stored.
        assert_eq!(
            app.post(&format!("/orgs/{org_b}/id-management"), &good)
                .await
                .status(),
            StatusCode::NOT_FOUND
        );
        assert_eq!(app.count("submissions").await, 1);

        let res = app.post(&path, &good).await;
        assert_eq!(
            res.status(),
            StatusCode::SEE_OTHER,
            "{}",
            res.text().await.unwrap()
        );
        let rows = checklist(&app).await;
        assert!(
            rows.contains(&("7.4.1(2)".into(), "組織全体".into(), "提出済み".into())),
            "{rows:?}"
        );
        let db = app.db();
        let data: String = secportal::db::on_db!(db, p => sqlx::query_scalar("SELECT data FROM submissions WHERE kind = 'id_management'")
        .fetch_one(p)
        .await)
    .unwrap();
        let data: serde_json::Value = serde_json::from_str(&data).unwrap();
        assert_eq!(
            data["offices"][0]["ids"],
            serde_json::json!(["AB123001", "AB123002"])
        );
        assert_eq!(data["away"][0]["administrator"], "山田　太郎");
        assert_eq!(data["away"][0]["reason"], "telework");
        // The page shows the declaration again for the next change.
        let page = app.get(&path).await.text().await.unwrap();
        assert!(page.contains("AB123001") && page.contains("自宅（東京都世田谷区）"));
        // While it waits for the Center, the page says a change can still be sent.
        assert!(page.contains("前回の届出はセンターの審査を待っています。"));
    }
);

dual_test!(
    the_profile_keeps_japanese_text_exactly_and_refuses_a_code_of_another_organisation,
    |app| async move {
        app.add_user("a@a.example.jp", "org_admin", Some("AAAAA"))
            .await;
        app.add_user("b@b.example.jp", "org_admin", Some("BBBBB"))
            .await;
        app.add_user("member@a.example.jp", "org_member", Some("AAAAA"))
            .await;
        let org = org_of(&app, "a@a.example.jp").await;
        let org_b = org_of(&app, "b@b.example.jp").await;
        app.login("a@a.example.jp", PASSWORD).await;
        let path = format!("/orgs/{org}/profile");
        let name = "株式会社　ｱｲｳ通関　（ＡＩＵ）";
        let fields = |codes: &'static str, version: &'static str| {
            vec![
                ("name", name),
                ("name_kana", "ｶﾌﾞｼｷｶﾞｲｼｬ ｱｲｳﾂｳｶﾝ"),
                ("extra_codes", codes),
                ("postal_code", "１０５－００２２"),
                ("address", "東京都港区海岸１－１－１"),
                ("contact_name", "連絡　一郎"),
                ("contact_phone", "03-1111-2222"),
                ("contact_email", "Renraku@A.example.jp"),
                ("version", version),
            ]
        };
        let res = app.post(&path, &fields("aaaab BBBBB", "1")).await;
        assert_eq!(
            res.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "BBBBB belongs to B"
        );
        let body = res.text().await.unwrap();
        assert!(body.contains("この利用者コードは既に他の組織で登録されています。（該当: BBBBB）"));
        // The way back names the organisation as stored, not the unsaved name in the form.
        let back = format!("<a href=\"/orgs/{org}\">← ");
        let at = body.find(&back).unwrap() + back.len();
        assert!(!body[at..].starts_with(name), "{}", &body[at..at + 40]);
        let res = app.post(&path, &fields("AAA-B", "1")).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let res = app.post(&path, &fields("aaaab", "1")).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let p = secportal::db::orgs::profile(
            app.db(),
            secportal::domain::Scope::Center,
            uuid::Uuid::parse_str(&org).unwrap(),
        )
        .await
        .unwrap()
        .unwrap();
        assert_eq!(
            p.name, name,
            "Japanese text of any width round-trips exactly"
        );
        assert_eq!(
            p.name_kana, "カブシキガイシャ アイウツウカン",
            "a reading in half-width katakana is kept in full width"
        );
        assert_eq!(p.postal_code, "105-0022");
        assert_eq!(p.contact_email, "renraku@a.example.jp");
        assert_eq!(
            secportal::db::orgs::codes(app.db(), p.id).await.unwrap(),
            vec!["AAAAA".to_string(), "AAAAB".to_string()]
        );
        // The trail keeps what a save changed, before and after, and nothing else.
        let mut phone_only = fields("aaaab", "2");
        phone_only.retain(|(k, _)| *k != "contact_phone");
        phone_only.push(("contact_phone", "03-3333-4444"));
        let res = app.post(&path, &phone_only).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let detail: String = secportal::db::on_db!(app.db(), p => sqlx::query_scalar(
            "SELECT detail FROM audit_log WHERE action = 'organisation.updated' ORDER BY seq DESC LIMIT 1",
        )
        .fetch_one(p)
        .await)
        .unwrap();
        let detail: serde_json::Value = serde_json::from_str(&detail).unwrap();
        assert_eq!(
            detail,
            serde_json::json!({
                "before": { "contact_phone": "03-1111-2222" },
                "now": { "contact_phone": "03-3333-4444" }
            })
        );
        let trail = app.get("/audit").await.text().await.unwrap();
        assert!(
            trail.contains("変更前") && trail.contains("03-3333-4444"),
            "{trail}"
        );
        // A stale version is told the record changed, with the newer values in the form.
        let res = app.post(&path, &fields("", "1")).await;
        assert_eq!(res.status(), StatusCode::CONFLICT);
        assert!(
            res.text().await.unwrap().contains("AAAAB"),
            "newer codes shown"
        );
        assert_eq!(
            secportal::db::orgs::codes(app.db(), p.id)
                .await
                .unwrap()
                .len(),
            2
        );
        // Another organisation's profile: 404; a member: 403.
        assert_eq!(
            app.post(&format!("/orgs/{org_b}/profile"), &fields("", "1"))
                .await
                .status(),
            StatusCode::NOT_FOUND
        );
        let m = app.new_browser();
        m.login("member@a.example.jp", PASSWORD).await;
        assert_eq!(
            m.post(&path, &fields("", "2")).await.status(),
            StatusCode::FORBIDDEN
        );
        assert_eq!(m.get(&path).await.status(), StatusCode::OK);
    }
);

dual_test!(
    router_ports_are_attested_per_site_with_every_statement_confirmed,
    |app| async move {
        app.add_user("kanri@a.example.jp", "org_admin", Some("AAAAA"))
            .await;
        app.add_user("b@b.example.jp", "org_admin", Some("BBBBB"))
            .await;
        let org = org_of(&app, "kanri@a.example.jp").await;
        app.login("kanri@a.example.jp", PASSWORD).await;
        let office = add_location(&app, &org, "office", "", "本社").await;
        // No connection recorded yet: no router to attest, and the page says why.
        let path = format!("/orgs/{org}/locations/{office}/router");
        let page = app
            .get(&format!("/orgs/{org}/locations/{office}"))
            .await
            .text()
            .await
            .unwrap();
        assert!(
            page.contains("接続がまだ登録されていません")
                && !page.contains(&format!("action=\"{path}\""))
        );
        assert!(
            !checklist(&app).await.iter().any(|r| r.0 == "7.4.2(1)"),
            "not due without a connection"
        );
        let res = app.post(&path, &ROUTER_OK).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            res.text()
                .await
                .unwrap()
                .contains("接続がまだ登録されていません")
        );
        assert_eq!(app.count("submissions").await, 0);
        add_connection(&app, &org, &office, "router").await;
        let res = app
            .post(&path, &[("lan_dedicated", "yes"), ("wan_unused", "yes")])
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            res.text()
                .await
                .unwrap()
                .contains("この項目を確認してチェックしてください")
        );
        assert_eq!(app.count("submissions").await, 0);
        let res = app.post(&path, &ROUTER_OK).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let receipt = app.get(&location(&res)).await.text().await.unwrap();
        assert!(
            receipt.contains("7.4.2(1)") && receipt.contains("SR-"),
            "{receipt}"
        );
        assert!(checklist(&app).await.contains(&(
            "7.4.2(1)".into(),
            "本社".into(),
            "提出済み".into()
        )));
        // Another organisation cannot attest for this site.
        let b = app.new_browser();
        b.login("b@b.example.jp", PASSWORD).await;
        let res = b.post(&path, &ROUTER_OK).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
        assert_eq!(app.count("submissions").await, 1);
    }
);

dual_test!(
    an_id_listed_under_two_offices_is_flagged_under_both,
    |app| async move {
        app.add_user("kanri@a.example.jp", "org_admin", Some("AB123"))
            .await;
        let org = org_of(&app, "kanri@a.example.jp").await;
        app.login("kanri@a.example.jp", PASSWORD).await;
        let tokyo = add_location(&app, &org, "office", "", "本社").await;
        let osaka = add_location(&app, &org, "office", "", "大阪支店").await;
        let (f_tokyo, f_osaka) = (format!("ids_{tokyo}"), format!("ids_{osaka}"));
        let res = app
            .post(
                &format!("/orgs/{org}/id-management"),
                &[
                    (f_tokyo.as_str(), "AB123001\nAB123002"),
                    (f_osaka.as_str(), "AB123003 AB123001"),
                    ("attest", "yes"),
                ],
            )
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let body = res.text().await.unwrap();
        let said = "同じ利用者IDが複数の事業所に入力されています。利用者IDは、それを管理する1つの事業所にだけ入力してください。（該当: AB123001）";
        for f in [&f_tokyo, &f_osaka] {
            let at = body.find(&format!("id=\"f-{f}-error\"")).expect(f);
            let end = at + body[at..].find("</p>").unwrap();
            assert!(body[at..end].contains(said), "{f}: {}", &body[at..end]);
        }
        assert!(
            !body.contains("AB123002）"),
            "an ID listed once is not named"
        );
        assert_eq!(app.count("submissions").await, 0);
    }
);

dual_test!(
    with_hundreds_of_organisations_the_matrix_and_the_list_find_one_and_page_through_the_rest,
    |app| async move {
        app.add_user("admin@center.example.jp", "center_admin", None)
            .await;
        let mut tx = app.db().begin().await.unwrap();
        for i in 0..250 {
            secportal::db::orgs::insert(
                &mut tx,
                &format!("東京テスト物流{i:03}"),
                &format!("M{i:04}"),
            )
            .await
            .unwrap();
        }
        let narita = secportal::db::orgs::insert(&mut tx, "成田ロジスティクス株式会社", "NRT01")
            .await
            .unwrap();
        // Its profile gives its reading, and it holds a second user code.
        secportal::db::orgs::insert_code(&mut tx, narita, "NRT02")
            .await
            .unwrap();
        secportal::db::on_tx!(&mut tx, c => sqlx::query("UPDATE organisations SET name_kana = 'ナリタロジスティクス' WHERE id = $1")
            .bind(narita)
            .execute(&mut *c)
            .await
            .map(|_| ()))
        .unwrap();
        tx.commit().await.unwrap();
        app.login("admin@center.example.jp", PASSWORD).await;

        // The matrix: counts of every organisation, the rows a page at a time.
        let first = app.html("/admin/matrix").await;
        // The count is said once: by the pager when there are pages.
        assert!(
            !first.contains("251 組織") && first.contains("251 件中 1〜100 件目（1/3 ページ）"),
            "{first}"
        );
        assert!(first.contains("M0000") && !first.contains("M0100") && !first.contains("NRT01"));
        assert!(first.contains("href=\"/admin/matrix?page=2\""), "{first}");
        let third = app.html("/admin/matrix?page=3").await;
        assert!(
            third.contains("201〜251 件目") && third.contains("NRT01") && !third.contains("M0199")
        );
        // A page past the end is the last; a page that is no number, the first.
        assert!(
            app.html("/admin/matrix?page=99")
                .await
                .contains("201〜251 件目")
        );
        assert!(
            app.html("/admin/matrix?page=x")
                .await
                .contains("1〜100 件目")
        );
        // Found by part of the code as a clerk types it (full-width), or of the name; the
        // filters stay on the page links.
        let found = app
            .html("/admin/matrix?q=%EF%BD%8E%EF%BD%92%EF%BD%94")
            .await;
        assert!(
            found.contains("1 組織") && found.contains("成田ロジスティクス株式会社"),
            "{found}"
        );
        let named = app
            .html("/admin/matrix?q=%E6%9D%B1%E4%BA%AC&sort=name")
            .await;
        assert!(
            named.contains("250 件中")
                && named.contains(
                    "href=\"/admin/matrix?sort=name&#38;q=%E6%9D%B1%E4%BA%AC&#38;page=2\""
                ),
            "{named}"
        );
        let none = app.html("/admin/matrix?q=%E7%BE%BD%E7%94%B0").await;
        assert!(
            none.contains("「羽田」に当てはまる組織はありません。") && !none.contains("<table"),
            "{none}"
        );
        // Found by its reading typed in hiragana (なりた), and by its second user code.
        for q in ["%E3%81%AA%E3%82%8A%E3%81%9F", "nrt02"] {
            let found = app.html(&format!("/admin/matrix?q={q}")).await;
            assert!(
                found.contains("1 組織") && found.contains("成田ロジスティクス株式会社"),
                "{q}: {found}"
            );
            let found = app.html(&format!("/admin/orgs?q={q}")).await;
            assert!(
                found.contains("NRT01") && found.contains("1 組織"),
                "{q}: {found}"
            );
        }
        // By name: 五十音順 of the reading where one is given (ナ… before the names without
        // one, whose kanji sort after every kana).
        let by_name = app.html("/admin/matrix?sort=name").await;
        let (n, m) = (
            by_name
                .find("成田ロジスティクス株式会社")
                .expect("on the first page"),
            by_name
                .find("東京テスト物流000")
                .expect("on the first page"),
        );
        assert!(n < m, "ナリタ… first");
        // An organisation registered with its reading (typed in hiragana) sorts by it too.
        let res = app
            .post(
                "/admin/orgs",
                &[
                    ("name", "東洋運輸株式会社"),
                    ("name_kana", "とうよううんゆ"),
                    ("user_code", "TOY01"),
                    ("admin_email", "kanri@toyo.example.jp"),
                ],
            )
            .await;
        assert_eq!(res.status(), reqwest::StatusCode::SEE_OTHER);
        let by_name = app.html("/admin/matrix?sort=name").await;
        let (t, n) = (
            by_name.find("東洋運輸株式会社").expect("on the first page"),
            by_name
                .find("成田ロジスティクス株式会社")
                .expect("on the first page"),
        );
        assert!(t < n, "トウヨウ… before ナリタ…");
        // The organisations list sorts by it too, and shows it.
        let by_name = app.html("/admin/orgs?sort=name").await;
        let (t, n) = (
            by_name.find("東洋運輸株式会社").expect("on the first page"),
            by_name
                .find("成田ロジスティクス株式会社")
                .expect("on the first page"),
        );
        assert!(t < n && by_name.contains("トウヨウウンユ"), "{by_name}");
        assert!(
            by_name.contains("href=\"/admin/orgs?sort=name&#38;page=2\""),
            "{by_name}"
        );

        // The organisations list: 200 a page, and the same search.
        let list = app.html("/admin/orgs").await;
        assert!(
            list.contains("252 件中 1〜200 件目") && !list.contains("NRT01"),
            "{list}"
        );
        let found = app.html("/admin/orgs?q=nrt").await;
        assert!(
            found.contains("NRT01") && !found.contains("M0000") && !found.contains("件目"),
            "{found}"
        );
        let none = app.html("/admin/orgs?q=%E7%BE%BD%E7%94%B0").await;
        assert!(
            none.contains("「羽田」に当てはまる組織はありません。"),
            "{none}"
        );
        // The users list: found by an address, or by the organisation's code.
        for i in 0..3 {
            app.add_user(
                &format!("kanri{i}@nrt.example.jp"),
                "org_member",
                Some("NRT01"),
            )
            .await;
        }
        let users = app.html("/users?q=NRT01").await;
        assert!(
            users.contains("kanri2@nrt.example.jp") && !users.contains("admin@center.example.jp"),
            "{users}"
        );
        // …or by its other code.
        let users = app.html("/users?q=nrt02").await;
        assert!(
            users.contains("kanri2@nrt.example.jp") && !users.contains("admin@center.example.jp"),
            "{users}"
        );
        // …or by its reading, typed in either kana.
        for q in [
            "%E3%81%A8%E3%81%86%E3%82%88%E3%81%86",
            "%E3%83%88%E3%82%A6%E3%83%A8%E3%82%A6",
        ] {
            let users = app.html(&format!("/users?q={q}")).await;
            assert!(
                users.contains("kanri@toyo.example.jp") && !users.contains("kanri2@nrt.example.jp"),
                "{users}"
            );
        }
        let users = app.html("/users?q=kanri1").await;
        assert!(
            users.contains("kanri1@nrt.example.jp") && !users.contains("kanri2@nrt.example.jp")
        );
        assert!(
            app.html("/users?q=zzz")
                .await
                .contains("「zzz」に当てはまるユーザーはいません。")
        );
        // By role and status: the Center admin alone is a センター管理者; nobody is disabled.
        let admins = app.html("/users?role=center_admin").await;
        assert!(
            admins.contains("admin@center.example.jp")
                && !admins.contains("kanri0@nrt.example.jp")
                && admins.contains("1 人"),
            "{admins}"
        );
        let members = app.html("/users?role=org_member&status=active&q=nrt").await;
        assert!(
            members.contains("3 人") && members.contains("selected"),
            "{members}"
        );
        assert!(
            app.html("/users?status=disabled")
                .await
                .contains("この条件に当てはまるユーザーはいません。")
        );
        // A role that is not one is no filter.
        assert!(app.html("/users?role=root").await.contains("5 人"));
        // In English, the same words in English.
        app.post("/lang", &[("lang", "en")]).await;
        let en = app.html("/admin/matrix?page=2").await;
        assert!(
            en.contains("101–200 of 252 (page 2 of 3)")
                && en.contains("Previous")
                && en.contains("Next"),
            "{en}"
        );
    }
);

dual_test!(
    a_new_administrator_is_read_against_the_one_accepted_before,
    |app| async move {
        app.add_user("kanri@a.example.jp", "org_admin", Some("AAAAA"))
            .await;
        app.add_user("shinsa@naccs.example.jp", "reviewer", None)
            .await;
        app.login("kanri@a.example.jp", PASSWORD).await;
        let org = org_of(&app, "kanri@a.example.jp").await;
        let office = add_location(&app, &org, "office", "", "横浜営業所").await;
        let ids = async || -> Vec<uuid::Uuid> {
            let db = app.db();
            secportal::db::on_db!(db, p => sqlx::query_scalar("SELECT id FROM submissions ORDER BY submitted_at, id").fetch_all(p).await).unwrap()
        };
        app.post(
            &format!("/orgs/{org}/locations/{office}/appointments"),
            &appointment("佐藤　一郎", "2026-01-01"),
        )
        .await;
        let first = ids().await[0].to_string();
        crate::renewal::accept(&app, &[&first]).await;
        // The person changes: a new notice, not opened from the accepted one, is read by the
        // reviewer against it all the same (who is replaced).
        app.post(
            &format!("/orgs/{org}/locations/{office}/appointments"),
            &appointment("鈴木　花子", "2026-06-01"),
        )
        .await;
        let second = ids().await[1];
        let reviewer = app.new_browser();
        reviewer.login("shinsa@naccs.example.jp", PASSWORD).await;
        let page = reviewer.html(&format!("/review/{second}")).await;
        assert!(
            page.contains("前回受理された届出（受付番号")
                && page.contains("<del>佐藤　一郎</del>")
                && page.contains("<ins>鈴木　花子</ins>"),
            "{page}"
        );
        // The first, read again, has nothing before it to be read against.
        let page = reviewer.html(&format!("/review/{first}")).await;
        assert!(!page.contains("前回受理された届出（受付番号"), "{page}");
    }
);

//! Renewing a report (issue 8 item 4): a new draft starts from the last accepted report of its
//! place, rows and files carried over and marked on the page, and 提出 goes through a 確認
//! page that shows the report as it will be sealed and asks for each caution to be
//! acknowledged; only that page's form seals, once.

use std::sync::Arc;

use chrono::Datelike;
use reqwest::StatusCode;
use secportal::db::on_db;

use crate::dual_test;
use crate::helpers::{PASSWORD, TestApp, ack_names, attach, field_value, location, receipt_of};
use crate::report_data::{Org, day, narita, submit_all};

/// Accepts submissions as the Center's reviewer.
pub(crate) async fn accept(app: &TestApp, ids: &[&str]) {
    let r = app.new_browser();
    r.login("shinsa@naccs.example.jp", PASSWORD).await;
    for id in ids {
        let res = r
            .post(&format!("/review/{id}/decide"), &[("decision", "accepted")])
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "accept {id}");
    }
}

/// 成田貿易 with every report submitted once and those of `kinds` accepted; answers the
/// organisation and each kind's submission.
pub(crate) async fn with_accepted(
    app: &TestApp,
    kinds: &[&str],
) -> (Org, Vec<(&'static str, String)>) {
    let org = narita(app).await;
    let all = submit_all(app, &org, 1).await;
    let ids: Vec<&str> = all
        .iter()
        .filter(|(k, _)| kinds.contains(k))
        .map(|(_, id)| id.as_str())
        .collect();
    accept(app, &ids).await;
    (org, all)
}

fn id_of<'a>(all: &'a [(&'static str, String)], kind: &str) -> &'a str {
    &all.iter().find(|(k, _)| *k == kind).unwrap().1
}

/// The open draft of a kind: (id, the report it renews, its data).
async fn draft_of(app: &TestApp, kind: &str) -> Option<(uuid::Uuid, Option<uuid::Uuid>, String)> {
    on_db!(app.db(), p => sqlx::query_as(
        "SELECT id, renewed_from, data FROM submissions WHERE kind = $1 AND state = 'draft'",
    )
    .bind(kind)
    .fetch_optional(p)
    .await)
    .unwrap()
}

/// A submission's files: (id, name, SHA-256).
async fn files(app: &TestApp, id: uuid::Uuid) -> Vec<(uuid::Uuid, String, String)> {
    on_db!(app.db(), p => sqlx::query_as(
        "SELECT id, name, sha256 FROM submission_files WHERE submission_id = $1 ORDER BY created_at, name",
    )
    .bind(id)
    .fetch_all(p)
    .await)
    .unwrap()
}

/// How many of a kind are sealed.
async fn sealed_count(app: &TestApp, kind: &str) -> i64 {
    on_db!(app.db(), p => sqlx::query_scalar(
        "SELECT COUNT(*) FROM submissions WHERE kind = $1 AND receipt_no IS NOT NULL",
    )
    .bind(kind)
    .fetch_one(p)
    .await)
    .unwrap()
}

/// The banner's words for a report received today: 「前回受理された報告（受付番号 …、YYYY年M月D日）」.
fn carried_from(receipt: &str) -> String {
    let today = (chrono::Utc::now() + chrono::Duration::hours(9)).date_naive();
    format!(
        "前回受理された報告（受付番号 {receipt}、{}年{}月{}日）から引き継いでいます",
        today.year(),
        today.month(),
        today.day()
    )
}

/// What a blank renewal said of the office against the accepted equipment list.
const OFFICE_ZERO: &str = "成田営業所：機器の構成リストでは NACCS に接続するコンピュータが 4 台ありますが、ウィルス対策の報告は 0 台です";

const CARRIED: &str = "<span class=\"status carried\">引き継ぎ</span>";

/// The antivirus form of the accepted rows, the definitions of `fresh` updated today.
async fn av_form(
    app: &TestApp,
    accepted: &str,
    fresh: &str,
    action: &str,
) -> Vec<(String, String)> {
    let id: uuid::Uuid = accepted.parse().unwrap();
    let data: String =
        on_db!(app.db(), p => sqlx::query_scalar("SELECT data FROM submissions WHERE id = $1")
        .bind(id)
        .fetch_one(p)
        .await)
        .unwrap();
    let data: serde_json::Value = serde_json::from_str(&data).unwrap();
    let mut form = vec![];
    for (n, row) in data["rows"].as_array().unwrap().iter().enumerate() {
        for (field, value) in row.as_object().unwrap() {
            let mut value = value.as_str().unwrap_or("").to_string();
            if field == "definitions_date" && row["host"] == fresh {
                value = day(0);
            }
            form.push((format!("row_{n}_{field}"), value));
        }
    }
    form.push(("action".into(), action.into()));
    form
}

fn fields(form: &[(String, String)]) -> Vec<(&str, &str)> {
    form.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect()
}

dual_test!(
    an_antivirus_renewal_starts_from_the_accepted_rows_marked_and_never_warns_of_zero_computers,
    |app| async move {
        let (org, all) = with_accepted(&app, &["antivirus", "system_configuration"]).await;
        let o = &org.id;
        let accepted = id_of(&all, "antivirus");
        let receipt = receipt_of(&app, accepted).await;

        // Opened again: the accepted rows, each marked, and where they come from.
        let page = app.get(&format!("/orgs/{o}/antivirus")).await;
        assert_eq!(page.status(), StatusCode::OK);
        let html = page.text().await.unwrap();
        assert!(html.contains(&carried_from(&receipt)), "{html}");
        assert!(html.contains(&format!("/orgs/{o}/submissions/{accepted}/receipt")));
        for host in ["NRT-PC-001", "NRT-PC-002", "NRT-GW-01"] {
            assert!(html.contains(&format!("value=\"{host}\"")), "{host}");
        }
        // The banner's mark and one per carried row.
        assert_eq!(html.matches(CARRIED).count(), 1 + 3);
        assert!(html.contains("この内容から新しい報告を始めます"));
        assert!(
            !html.contains(OFFICE_ZERO),
            "no 0 台 against an accepted report"
        );
        assert!(html.contains("ウィルス対策の報告は 3 台です"));
        // Looking wrote nothing.
        assert!(draft_of(&app, "antivirus").await.is_none());
        let opened = app.audit_count("submission.draft_opened").await;

        // A save opens the draft from the accepted report.
        let form = av_form(&app, accepted, "NRT-PC-002", "save").await;
        let res = app
            .post(&format!("/orgs/{o}/antivirus"), &fields(&form))
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let (draft, from, data) = draft_of(&app, "antivirus").await.unwrap();
        assert_eq!(from.map(|f| f.to_string()).as_deref(), Some(accepted));
        let data: serde_json::Value = serde_json::from_str(&data).unwrap();
        assert_eq!(data["rows"].as_array().unwrap().len(), 3);
        assert_eq!(app.audit_count("submission.draft_opened").await, opened + 1);
        let html = app
            .get(&format!("/orgs/{o}/antivirus"))
            .await
            .text()
            .await
            .unwrap();
        assert!(html.contains(&carried_from(&receipt)));
        assert!(!html.contains("この内容から新しい報告を始めます"));
        // The row whose definitions were updated is no longer as accepted.
        assert_eq!(html.matches(CARRIED).count(), 1 + 2);
        assert!(!html.contains(OFFICE_ZERO));
        // The accepted report is as it was.
        assert_eq!(
            app.get(&format!("/orgs/{o}/submissions/{accepted}/receipt"))
                .await
                .status(),
            StatusCode::OK
        );
        assert_ne!(draft.to_string(), accepted);

        // In English too.
        let en = app.new_browser();
        en.login(crate::report_data::EMAIL, PASSWORD).await;
        en.post("/lang", &[("lang", "en"), ("next", "/home")]).await;
        let html = en
            .get(&format!("/orgs/{o}/antivirus"))
            .await
            .text()
            .await
            .unwrap();
        assert!(
            html.contains(&format!(
                "Carried over from the last accepted report (receipt {receipt}, "
            )),
            "{html}"
        );
    }
);

dual_test!(
    a_system_configuration_renewal_carries_the_files_by_reference_and_removing_one_keeps_the_accepted_file,
    |app| async move {
        let (org, all) = with_accepted(&app, &["system_configuration"]).await;
        let o = &org.id;
        let accepted = id_of(&all, "system_configuration");
        let receipt = receipt_of(&app, accepted).await;
        let page = format!("/orgs/{o}/system-configuration");

        let html = app.get(&page).await.text().await.unwrap();
        assert!(html.contains(&carried_from(&receipt)));
        assert!(html.contains("構成図_成田営業所.pdf"));
        // The accepted file and the three equipment rows, marked; nothing to remove yet.
        assert_eq!(html.matches(CARRIED).count(), 1 + 1 + 3, "{html}");
        assert!(!html.contains("/remove\""));

        // Adding a file opens the draft: the accepted file is carried over beside it.
        attach(&app, &format!("{page}/files"), "diagram", "構成図_追加.pdf", b"%PDF-1.7\n%%EOF\n").await;
        let (draft, from, data) = draft_of(&app, "system_configuration").await.unwrap();
        assert_eq!(from.map(|f| f.to_string()).as_deref(), Some(accepted));
        let data: serde_json::Value = serde_json::from_str(&data).unwrap();
        assert_eq!(data["equipment"].as_array().unwrap().len(), 3);
        assert_eq!(data["note"], "成田営業所と成田第2倉庫の構成");
        let accepted_id: uuid::Uuid = accepted.parse().unwrap();
        let old = files(&app, accepted_id).await;
        let new = files(&app, draft).await;
        assert_eq!(old.len(), 1);
        assert_eq!(new.len(), 2);
        let carried = new.iter().find(|f| f.1 == old[0].1).unwrap();
        assert_ne!(carried.0, old[0].0, "a link of its own");
        assert_eq!(carried.2, old[0].2, "to the same stored file");
        let html = app.get(&page).await.text().await.unwrap();
        // The carried file (not the new one) and the rows.
        assert_eq!(html.matches(CARRIED).count(), 1 + 1 + 3);
        assert!(html.contains(&format!("/orgs/{o}/files/{}/remove", carried.0)));

        // Removing the carried file from the draft leaves the accepted report's file whole,
        // even after the store's sweep.
        let res = app
            .post(&format!("/orgs/{o}/files/{}/remove", carried.0), &[])
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(files(&app, draft).await.len(), 1);
        assert_eq!(files(&app, accepted_id).await, old);
        secportal::maintenance::sweep::sweep_unreferenced(
            &app.state,
            chrono::Utc::now() + chrono::Duration::days(2),
            chrono::Duration::zero(),
        )
        .await
        .unwrap();
        let got = app.get(&format!("/files/{}", old[0].0)).await;
        assert_eq!(got.status(), StatusCode::OK);
        assert_eq!(got.bytes().await.unwrap().as_ref(), b"%PDF-1.7\n%%EOF\n");
        let receipt_page = app
            .get(&format!("/orgs/{o}/submissions/{accepted}/receipt"))
            .await
            .text()
            .await
            .unwrap();
        assert!(receipt_page.contains("構成図_成田営業所.pdf"));
    }
);

/// [`with_nat`] sent through the outside-connection page and confirmed: the sealed report.
async fn send_with_nat(app: &TestApp, org: &str, nat: &str) -> String {
    let res = app
        .post(&format!("/orgs/{org}/outside-connections"), &with_nat(nat))
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    location(&res)
        .rsplit('/')
        .nth(1)
        .unwrap_or_default()
        .to_string()
}

/// The section of a page with the id `anchor`, up to its end.
fn section<'a>(page: &'a str, anchor: &str) -> &'a str {
    let start = format!(r#"id="{anchor}""#);
    let from = page.split(start.as_str()).nth(1).unwrap_or_default();
    from.split("</section>").next().unwrap_or_default()
}

/// The accepted outside-connection application's VPN and one more connection, a NAT link
/// described as `nat`, sent for review.
fn with_nat(nat: &str) -> [(&str, &str); 12] {
    [
        ("c0_name", "在宅勤務の VPN"),
        ("c0_connection_type", "remote"),
        ("c0_method", "vpn"),
        ("c0_computers", "naccs"),
        (
            "c0_description",
            "在宅勤務端末から成田営業所への IPsec VPN（RTX1300）",
        ),
        (
            "c0_outside_measures",
            "在宅端末にウイルスバスターを導入し、OS 更新を毎月適用",
        ),
        ("c1_name", "取引先との NAT 接続"),
        ("c1_connection_type", "lan"),
        ("c1_method", "nat"),
        ("c1_computers", "naccs"),
        ("c1_description", nat),
        ("action", "submit"),
    ]
}

dual_test!(
    in_house_measures_an_outside_connection_and_the_id_declaration_renew_from_the_accepted_ones,
    |app| async move {
        let (org, all) = with_accepted(
            &app,
            &["inhouse_measures", "outside_connections", "id_management"],
        )
        .await;
        let o = &org.id;
        for (kind, path, shown) in [
            (
                "inhouse_measures",
                "inhouse-measures",
                "2027年3月までに BitLocker を全台に導入予定",
            ),
            (
                "outside_connections",
                "outside-connections",
                "在宅勤務端末から成田営業所への IPsec VPN（RTX1300）",
            ),
        ] {
            let accepted = id_of(&all, kind);
            let receipt = receipt_of(&app, accepted).await;
            let html = app
                .get(&format!("/orgs/{o}/{path}"))
                .await
                .text()
                .await
                .unwrap();
            assert!(html.contains(&carried_from(&receipt)), "{kind}: {html}");
            assert!(
                html.contains(shown),
                "{kind}: the accepted answers are filled in"
            );
            assert!(draft_of(&app, kind).await.is_none());
        }
        // The outside connection's diagram is carried with a save of the form as shown.
        let res = app
            .post(
                &format!("/orgs/{o}/outside-connections"),
                &[
                    ("c0_name", "在宅勤務の VPN"),
                    ("c0_connection_type", "remote"),
                    ("c0_method", "vpn"),
                    ("c0_computers", "naccs"),
                    (
                        "c0_description",
                        "在宅勤務端末から成田営業所への IPsec VPN（RTX1300）",
                    ),
                    (
                        "c0_outside_measures",
                        "在宅端末にウイルスバスターを導入し、OS 更新を毎月適用",
                    ),
                    ("action", "save"),
                ],
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let (draft, from, _) = draft_of(&app, "outside_connections").await.unwrap();
        assert_eq!(
            from.map(|f| f.to_string()).as_deref(),
            Some(id_of(&all, "outside_connections"))
        );
        let n: i64 = on_db!(app.db(), p => sqlx::query_scalar(
            "SELECT COUNT(*) FROM submission_files WHERE submission_id = $1 AND name = 'VPN接続構成図.pdf'",
        )
        .bind(draft)
        .fetch_one(p)
        .await)
        .unwrap();
        assert_eq!(n, 1);
        let html = app
            .get(&format!("/orgs/{o}/outside-connections"))
            .await
            .text()
            .await
            .unwrap();
        assert_eq!(
            html.matches(CARRIED).count(),
            1 + 1 + 1,
            "banner, the diagram and the connection as accepted"
        );
        assert!(
            html.contains("この接続を申請から外す（廃止した接続）")
                && !html.contains("この接続を削除する"),
            "the accepted connection is ended, not deleted"
        );
        // Left out, it is listed with 「元に戻す」, which puts it back as accepted.
        let res = app
            .post(
                &format!("/orgs/{o}/outside-connections"),
                &[
                    ("c0_name", "在宅勤務の VPN"),
                    ("c0_remove", "yes"),
                    ("action", "save"),
                ],
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let html = app.html(&format!("/orgs/{o}/outside-connections")).await;
        let restore = format!("action=\"/orgs/{o}/outside-connections/restore\"");
        assert!(
            html.contains("この申請から外した接続") && html.contains(&restore),
            "{html}"
        );
        for _ in 0..2 {
            let res = app
                .post(
                    &format!("/orgs/{o}/outside-connections/restore"),
                    &[("name", "在宅勤務の VPN")],
                )
                .await;
            assert_eq!(res.status(), StatusCode::SEE_OTHER, "a second click too");
        }
        let html = app.html(&format!("/orgs/{o}/outside-connections")).await;
        assert!(html.contains("外した接続を受理された内容で戻しました"));
        assert!(!html.contains(&restore), "nothing left out");
        assert_eq!(
            html.matches(CARRIED).count(),
            3,
            "the connection is back as accepted, once"
        );
        assert_eq!(
            app.post(
                &format!("/orgs/{o}/outside-connections/restore"),
                &[("name", "存在しない接続")],
            )
            .await
            .status(),
            StatusCode::NOT_FOUND
        );
        // Sent with one more connection, the renewal is shown to the reviewer as changes since
        // the accepted application: the new connection's section, the carried one unchanged.
        let renewed = send_with_nat(&app, o, "本社 LAN と取引先 B 社を NAT ルータ経由で接続").await;
        let r = app.new_browser();
        r.login("shinsa@naccs.example.jp", PASSWORD).await;
        let page = r.html(&format!("/review/{renewed}")).await;
        let accepted_receipt = receipt_of(&app, id_of(&all, "outside_connections")).await;
        let heading = format!("前回受理された届出（受付番号 {accepted_receipt}）からの変更点");
        assert!(page.contains(&heading), "{page}");
        assert!(
            !page.contains(r#"id="changes""#),
            "a first version has no version before it"
        );
        let changes = section(&page, "changes-accepted");
        assert!(
            changes.contains("取引先との NAT 接続") && !changes.contains("在宅勤務の VPN"),
            "only the added connection: {changes}"
        );
        assert!(
            changes.contains(r#"<span class="mark added">全体を追加</span>"#)
                && !changes.contains(r#"<span class="mark added">追加</span>"#),
            "a connection added as a whole is said so once, by its title: {changes}"
        );
        assert!(page.contains(&format!(
            r#"<a href="/review/{}">前回受理された届出を開く</a>"#,
            id_of(&all, "outside_connections")
        )));
        // The queue says it renews an accepted report.
        let queue = r.html("/review").await;
        assert!(
            queue.contains("<span class=\"status flag\">受理済みの届出の更新</span>"),
            "{queue}"
        );
        // Returned and corrected, its second version is compared with its first and, still,
        // with the accepted application.
        let res = r
            .post(
                &format!("/review/{renewed}/decide"),
                &[
                    ("decision", "returned"),
                    ("reason", "NAT 接続の接続先を具体的に記入してください。"),
                ],
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let matrix = r.html("/admin/matrix").await;
        assert!(
            matrix.contains(
                "href=\"/orgs/{o}/submissions?item=outside_connections\">差戻し</a><br><small class=\"muted\">受理済みの版が有効</small>"
                    .replace("{o}", &o.to_string())
                    .as_str()
            ),
            "the matrix says the accepted application stays in force: {matrix}"
        );
        let res = app
            .post(&format!("/orgs/{o}/submissions/{renewed}/revise"), &[])
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        // The 確認 page shows the organisation the same two comparisons before it sends.
        let res = app
            .browser()
            .post_unconfirmed(
                &format!("/orgs/{o}/outside-connections"),
                &with_nat("本社 LAN と取引先 B 社（横浜市）を NAT ルータ経由で接続"),
            )
            .await;
        let confirm = location(&res);
        assert!(confirm.ends_with("/confirm"), "{confirm}");
        let page = app.html(&confirm).await;
        // Each comparison up to the next card (its sections are sections too).
        let between = |from: &str, to: &str| {
            let rest = page.split(from).nth(1).unwrap_or_default();
            rest.split(to).next().unwrap_or_default().to_string()
        };
        let since_first = between(r#"id="changes""#, r#"id="changes-accepted""#);
        assert!(
            since_first.contains("第1版からの変更点（差し戻された版、受付番号 SR-")
                && since_first.contains("取引先 B 社（横浜市）")
                && !since_first.contains("在宅勤務の VPN"),
            "the correction: {since_first}"
        );
        let since_accepted = between(r#"id="changes-accepted""#, r#"id="confirm-content""#);
        assert!(
            since_accepted.contains(&heading)
                && since_accepted.contains("取引先との NAT 接続")
                && since_accepted.contains(&format!(
                    "/orgs/{o}/submissions/{}/receipt",
                    id_of(&all, "outside_connections")
                )),
            "the added connection, and where the accepted one opens: {since_accepted}"
        );
        let res = app.browser().confirm(&confirm).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let corrected = location(&res)
            .rsplit('/')
            .nth(1)
            .unwrap_or_default()
            .to_string();
        assert_ne!(corrected, renewed);
        let page = r.html(&format!("/review/{corrected}")).await;
        assert!(page.contains("第1版からの変更点"), "{page}");
        assert!(page.contains(&heading), "{page}");
        let since_first = section(&page, "changes");
        assert!(
            since_first.contains("取引先 B 社（横浜市）"),
            "the correction: {since_first}"
        );
        let since_accepted = section(&page, "changes-accepted");
        assert!(
            since_accepted.contains("取引先との NAT 接続"),
            "the added connection: {since_accepted}"
        );
        // In-house measures: a draft saved as shown keeps the accepted answers.
        let res = app
            .post(
                &format!("/orgs/{o}/inhouse-measures"),
                &[("action", "save")],
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let (_, from, _) = draft_of(&app, "inhouse_measures").await.unwrap();
        assert_eq!(
            from.map(|f| f.to_string()).as_deref(),
            Some(id_of(&all, "inhouse_measures"))
        );
        // The ID declaration (no draft: the form is filled in from the last one) says so.
        let receipt = receipt_of(&app, id_of(&all, "id_management")).await;
        let html = app
            .get(&format!("/orgs/{o}/id-management"))
            .await
            .text()
            .await
            .unwrap();
        assert!(html.contains(&carried_from(&receipt)), "{html}");
        // Gateway logs are the logs of a new period: nothing carried.
        let html = app
            .get(&format!("/orgs/{o}/locations/{}/gateway-logs", org.site))
            .await
            .text()
            .await
            .unwrap();
        assert!(!html.contains("から引き継いでいます"));
    }
);

dual_test!(
    submitting_goes_through_a_confirmation_that_needs_each_caution_acknowledged_and_seals_once,
    |app| async move {
        let (org, all) = with_accepted(&app, &["antivirus", "system_configuration"]).await;
        let o = &org.id;
        let accepted = id_of(&all, "antivirus");
        let submitted = app.audit_count("submission.submitted").await;

        // 提出 saves and checks, then shows the 確認 page; nothing is sealed yet.
        let form = av_form(&app, accepted, "NRT-PC-002", "submit").await;
        let res = app
            .browser()
            .post_unconfirmed(&format!("/orgs/{o}/antivirus"), &fields(&form))
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let confirm = location(&res);
        let (draft, _, _) = draft_of(&app, "antivirus").await.unwrap();
        assert_eq!(confirm, format!("/orgs/{o}/submissions/{draft}/confirm"));
        assert_eq!(sealed_count(&app, "antivirus").await, 1);
        let html = app.get(&confirm).await.text().await.unwrap();
        assert!(html.contains("提出内容の確認"));
        // The report as it will be sealed, in words, with its caution to acknowledge.
        for shown in [
            "NRT-PC-001",
            "ウイルスバスター コーポレートエディション",
            "成田営業所",
            "3 台、うち定義が古い 1 台",
        ] {
            assert!(html.contains(shown), "{shown}: {html}");
        }
        assert!(html.contains("確認しました：3 台、うち定義が古い 1 台"));
        // One box per caution: the stale definitions and the two places the equipment list
        // counts more computers at.
        let acks = ack_names(&html);
        assert_eq!(acks, ["ack_0", "ack_1", "ack_2"]);
        let fingerprint = field_value(&html, "fingerprint").unwrap();
        // In English, in its words too.
        let en = app.new_browser();
        en.login(crate::report_data::EMAIL, PASSWORD).await;
        en.post("/lang", &[("lang", "en"), ("next", "/home")]).await;
        let html_en = en.get(&confirm).await.text().await.unwrap();
        assert!(html_en.contains("Check before submitting"));
        assert!(html_en.contains("Checked: Computers: 3;"), "{html_en}");
        assert!(!html_en.contains("confirm."), "no locale key shown");

        // Without the acknowledgement: refused, nothing sealed.
        let res = app
            .browser()
            .post_unconfirmed(&confirm, &[("fingerprint", fingerprint.as_str())])
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let html = res.text().await.unwrap();
        assert!(html.contains("注意事項をすべて確認してから提出してください"));
        assert!(html.contains("aria-invalid=\"true\""));
        assert_eq!(sealed_count(&app, "antivirus").await, 1);

        // The draft changes after the 確認 page was opened: shown again, nothing sealed.
        let changed = av_form(&app, accepted, "NRT-GW-01", "save").await;
        app.post(&format!("/orgs/{o}/antivirus"), &fields(&changed))
            .await;
        let mut acked: Vec<(&str, &str)> = vec![("fingerprint", fingerprint.as_str())];
        acked.extend(acks.iter().map(|a| (a.as_str(), "1")));
        let res = app.browser().post_unconfirmed(&confirm, &acked).await;
        assert_eq!(res.status(), StatusCode::CONFLICT);
        let html = res.text().await.unwrap();
        assert!(html.contains("内容が変わりました"));
        assert_eq!(sealed_count(&app, "antivirus").await, 1);
        let fresh = field_value(&html, "fingerprint").unwrap();
        assert_ne!(fresh, fingerprint);
        let acks = ack_names(&html);

        // Ten confirmations at once seal it once, each answered with its receipt.
        let token = app.browser().token().await;
        let app = Arc::new(app);
        let mut tasks = vec![];
        let barrier = Arc::new(tokio::sync::Barrier::new(10));
        for _ in 0..10 {
            let (app, confirm, barrier) = (app.clone(), confirm.clone(), barrier.clone());
            let mut form = vec![
                ("csrf_token".to_string(), token.clone()),
                ("fingerprint".to_string(), fresh.clone()),
            ];
            form.extend(acks.iter().map(|a| (a.clone(), "1".to_string())));
            tasks.push(tokio::spawn(async move {
                barrier.wait().await;
                let res = app
                    .client
                    .post(app.url(&confirm))
                    .header("origin", &app.base)
                    .form(&form)
                    .send()
                    .await
                    .unwrap();
                (res.status(), location(&res))
            }));
        }
        let receipt = format!("/orgs/{o}/submissions/{draft}/receipt");
        for t in tasks {
            let (status, to) = t.await.unwrap();
            assert_eq!(status, StatusCode::SEE_OTHER);
            assert_eq!(to, receipt);
        }
        assert_eq!(sealed_count(&app, "antivirus").await, 2);
        assert_eq!(app.audit_count("submission.submitted").await, submitted + 1);
        // The 確認 page of a sealed report leads to its receipt.
        let res = app.get(&confirm).await;
        assert_eq!(location(&res), receipt);
        // Both reports are in the record.
        let html = app
            .get(&format!("/orgs/{o}/submissions?item=antivirus"))
            .await
            .text()
            .await
            .unwrap();
        assert!(html.contains(&receipt_of(&app, accepted).await));
        assert!(html.contains(&receipt_of(&app, &draft.to_string()).await));
    }
);

dual_test!(
    a_gateway_log_with_check_problems_is_confirmed_only_with_them_acknowledged,
    |app| async move {
        let org = narita(&app).await;
        let logs = format!("/orgs/{}/locations/{}/gateway-logs", org.id, org.site);
        attach(
            &app,
            &format!("{logs}/files"),
            "logs",
            "送受信ログ_2026年11月.csv",
            "送受信区分,利用者コード,識別番号,業務コード,年月日時分秒\n送信,NRT01,001,IDA,2026-11-01 09:00:00\n送信,NRT01,,IDA,2026-11-01 09:05:00\n受信,NRT01,,IDA,2026-11-30 17:30:00\n".as_bytes(),
        )
        .await;
        let res = app
            .browser()
            .post_unconfirmed(
                &logs,
                &[
                    ("storage", "ゲートウェイサーバ内 D:\\NACCSLOG"),
                    ("retention_months", "13"),
                    ("mechanism", "送受信履歴を日次で CSV 出力"),
                    ("period_from", "2026-11-01"),
                    ("period_to", "2026-11-30"),
                    ("action", "submit"),
                ],
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let confirm = location(&res);
        assert!(confirm.ends_with("/confirm"), "{confirm}");
        let html = app.get(&confirm).await.text().await.unwrap();
        assert!(html.contains("成田第2倉庫"), "the place by name");
        assert!(
            html.contains("確認しました：ログ検査（送受信ログ_2026年11月.csv）：送信の記録で"),
            "{html}"
        );
        let fingerprint = field_value(&html, "fingerprint").unwrap();
        let acks = ack_names(&html);
        assert!(!acks.is_empty());
        let res = app
            .browser()
            .post_unconfirmed(&confirm, &[("fingerprint", fingerprint.as_str())])
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(sealed_count(&app, "gateway_logs").await, 0);
        let res = app.browser().confirm(&confirm).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert!(location(&res).ends_with("/receipt"));
        assert_eq!(sealed_count(&app, "gateway_logs").await, 1);
    }
);

dual_test!(
    a_report_waiting_for_review_shows_what_was_sent_read_only_and_a_returned_one_its_revision,
    |app| async move {
        let (org, all) = with_accepted(&app, &[]).await;
        let o = &org.id;
        let sent = id_of(&all, "antivirus");
        let receipt = receipt_of(&app, sent).await;
        let av = format!("/orgs/{o}/antivirus");

        // Back on the page after submitting: the rows sent, read-only, and where they went.
        let html = app.get(&av).await.text().await.unwrap();
        assert!(html.contains(&format!("受付番号 {receipt}（")), "{html}");
        assert!(html.contains("センターの審査を待っています"));
        assert!(html.contains(&format!("/orgs/{o}/submissions/{sent}/receipt")));
        for host in ["NRT-PC-001", "NRT-PC-002", "NRT-GW-01"] {
            assert!(html.contains(&format!("value=\"{host}\"")), "{host}");
        }
        assert!(html.contains("<fieldset class=\"plain\" disabled>"));
        assert!(!html.contains("value=\"save\""), "nothing to save");
        assert!(!html.contains("name=\"row_3_host\""), "no blank rows");
        // The other reports sent show theirs the same way.
        for (path, kind) in [
            ("system-configuration", "system_configuration"),
            ("inhouse-measures", "inhouse_measures"),
            ("outside-connections", "outside_connections"),
        ] {
            let r = receipt_of(&app, id_of(&all, kind)).await;
            let html = app
                .get(&format!("/orgs/{o}/{path}"))
                .await
                .text()
                .await
                .unwrap();
            assert!(html.contains(&format!("受付番号 {r}（")), "{path}: {html}");
            assert!(
                html.contains("<fieldset class=\"plain\" disabled>"),
                "{path}"
            );
        }
        let html = app
            .get(&format!("/orgs/{o}/system-configuration"))
            .await
            .text()
            .await
            .unwrap();
        assert!(html.contains("value=\"ESPRIMO D7012\""), "the rows sent");
        assert!(html.contains("構成図_成田営業所.pdf"), "the files sent");
        // Looking opened no draft.
        assert!(draft_of(&app, "antivirus").await.is_none());
        // The log page, whose form is for the next period, says which version went last and in
        // what state, above that form.
        let logs = format!("/orgs/{o}/locations/{}/gateway-logs", org.site);
        let log_id = id_of(&all, "gateway_logs");
        let log_receipt = receipt_of(&app, log_id).await;
        let html = app.get(&logs).await.text().await.unwrap();
        assert!(
            html.contains(&format!("前回の提出：受付番号 {log_receipt}（"))
                && html.contains("新しい期間のログは、下のフォームから提出します")
                && html.contains(&format!("/orgs/{o}/submissions/{log_id}/receipt")),
            "{html}"
        );
        assert!(!html.contains(&format!("/submissions/{log_id}/revise")));

        // The Center's reviewer reads the same rows, sent to review, not a draft.
        let reviewer = app.new_browser();
        reviewer.login("shinsa@naccs.example.jp", PASSWORD).await;
        let html = reviewer.get(&av).await.text().await.unwrap();
        assert!(html.contains(&format!("href=\"/review/{sent}\"")), "{html}");
        assert!(html.contains("value=\"NRT-GW-01\""));
        assert!(!html.contains("組織が作成中の下書き"));

        // Returned: the reason, and the revision one press away on the page and atop the receipt.
        let res = reviewer
            .post(
                &format!("/review/{sent}/decide"),
                &[
                    ("decision", "returned"),
                    ("reason", "NRT-GW-01 の定義ファイルが古いままです。"),
                ],
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let html = app.get(&av).await.text().await.unwrap();
        assert!(
            html.contains("NRT-GW-01 の定義ファイルが古いままです。"),
            "{html}"
        );
        assert!(html.contains("この届出は差し戻されました"));
        // Its mail names the report, not only its receipt number.
        let mut mail = String::new();
        for _ in 0..50 {
            mail = std::fs::read_dir(app.data_dir.join("mail"))
                .unwrap()
                .filter_map(|e| std::fs::read_to_string(e.unwrap().path()).ok())
                .find(|m| m.contains("次の理由で差し戻されました") && m.contains(&receipt))
                .unwrap_or_default();
            if !mail.is_empty() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert!(
            mail.contains(&format!(
                "届出 {receipt}（7.4.1(3) ウィルス対策）は次の理由で差し戻されました"
            )),
            "{mail}"
        );
        // The Center's reader is sent to the review page's comments, not the organisation's.
        let center = reviewer.get(&av).await.text().await.unwrap();
        assert!(center.contains(&format!("href=\"/review/{sent}#comments\"")));
        let revise = format!("action=\"/orgs/{o}/submissions/{sent}/revise\"");
        assert!(html.contains(&revise));
        let slip = app
            .get(&format!("/orgs/{o}/submissions/{sent}/receipt"))
            .await
            .text()
            .await
            .unwrap();
        assert!(slip.find(&revise).unwrap() < slip.find("receipt-no").unwrap());
        assert!(slip.contains("data-print hidden>受付票を印刷する</button>"));
        // A returned log is revised from its page as well.
        let res = reviewer
            .post(
                &format!("/review/{log_id}/decide"),
                &[
                    ("decision", "returned"),
                    ("reason", "期間の初日が欠けています。"),
                ],
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let html = app.get(&logs).await.text().await.unwrap();
        assert!(
            html.contains("前回の提出は差し戻されました")
                && html.contains(&format!("action=\"/orgs/{o}/submissions/{log_id}/revise\"")),
            "{html}"
        );
        let res = app
            .post(&format!("/orgs/{o}/submissions/{sent}/revise"), &[])
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let (_, _, data) = draft_of(&app, "antivirus").await.unwrap();
        assert!(data.contains("NRT-GW-01"));
        let html = app.get(&av).await.text().await.unwrap();
        assert!(!html.contains("<fieldset class=\"plain\" disabled>"));
        assert!(html.contains("value=\"NRT-GW-01\"") && html.contains("name=\"row_3_host\""));
        assert!(html.contains("NRT-GW-01 の定義ファイルが古いままです。"));

        // Its confirmation says it is version 2 and why version 1 came back.
        let form = av_form(&app, sent, "NRT-GW-01", "submit").await;
        let res = app.browser().post_unconfirmed(&av, &fields(&form)).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let confirm = location(&res);
        assert!(confirm.ends_with("/confirm"), "{confirm}");
        let html = app.get(&confirm).await.text().await.unwrap();
        assert!(html.contains("第2版として提出されます"), "{html}");
        assert!(html.contains("NRT-GW-01 の定義ファイルが古いままです。"));

        // A request for a report opens its form though the last one still waits.
        let res = reviewer
            .post(
                &format!("/orgs/{o}/requests"),
                &[("item_key", "inhouse_measures"), ("due_date", &day(-7))],
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let html = app
            .get(&format!("/orgs/{o}/inhouse-measures"))
            .await
            .text()
            .await
            .unwrap();
        assert!(
            !html.contains("<fieldset class=\"plain\" disabled>"),
            "{html}"
        );
        assert!(html.contains("社内システムのセキュリティ対策の提出依頼があります"));
    }
);

dual_test!(
    a_note_written_on_the_confirmation_page_reaches_the_center_as_the_reports_first_comment,
    |app| async move {
        let org = narita(&app).await;
        let o = &org.id;
        let old = day(60);
        let rows = [
            ("row_0_host", "NRT-PC-001"),
            ("row_0_office", "成田営業所"),
            ("row_0_os", "Windows 11 Pro"),
            ("row_0_product", "defender"),
            ("row_0_version", "4.18"),
            ("row_0_definitions_date", old.as_str()),
            ("row_0_update_frequency", "daily"),
            ("action", "submit"),
        ];
        let res = app
            .browser()
            .post_unconfirmed(&format!("/orgs/{o}/antivirus"), &rows)
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let confirm = location(&res);
        let html = app.get(&confirm).await.text().await.unwrap();
        assert!(
            html.contains("審査担当者への連絡（任意）"),
            "{confirm}: {html}"
        );
        assert!(html.contains("上の注意事項の理由や今後の対応"), "{html}");
        let fingerprint = field_value(&html, "fingerprint").unwrap();
        let acks = ack_names(&html);
        assert!(!acks.is_empty(), "stale definitions are a caution");
        let mut fields: Vec<(&str, &str)> = vec![("fingerprint", fingerprint.as_str())];
        fields.extend(acks.iter().map(|a| (a.as_str(), "1")));

        // Too long: refused before anything is sealed, the text kept.
        let long = "更新".repeat(2001);
        let mut with_long = fields.clone();
        with_long.push(("note", long.as_str()));
        let res = app.browser().post_unconfirmed(&confirm, &with_long).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let html = res.text().await.unwrap();
        assert!(html.contains("コメントは4000文字までです"), "{html}");
        assert!(html.contains(&long));
        assert_eq!(sealed_count(&app, "antivirus").await, 0);

        let note = "NRT-PC-001 は今週中に定義ファイルを更新します。";
        let mut with_note = fields.clone();
        with_note.push(("note", note));
        let res = app.browser().post_unconfirmed(&confirm, &with_note).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert!(location(&res).ends_with("/receipt"));
        // A second press seals nothing and posts nothing more.
        let again = app.browser().post_unconfirmed(&confirm, &with_note).await;
        assert_eq!(again.status(), StatusCode::SEE_OTHER);
        assert_eq!(sealed_count(&app, "antivirus").await, 1);
        assert_eq!(app.audit_count("submission.commented").await, 1);
        let id: uuid::Uuid =
            on_db!(app.db(), p => sqlx::query_scalar("SELECT id FROM submissions WHERE kind = 'antivirus'")
            .fetch_one(p)
            .await)
            .unwrap();
        let reviewer = app.new_browser();
        reviewer.login("shinsa@naccs.example.jp", PASSWORD).await;
        let html = reviewer
            .get(&format!("/review/{id}"))
            .await
            .text()
            .await
            .unwrap();
        assert!(html.contains(note), "{html}");
        // Shown by the summary, before the decision, not only in the thread at the foot.
        let by_summary = html.find("組織からのコメント（1 件、最新）").unwrap();
        assert!(by_summary < html.find("id=\"decide\"").unwrap());
    }
);

dual_test!(
    a_draft_is_discarded_once_and_the_item_is_as_it_was_before_it,
    |app| async move {
        let (org, all) = with_accepted(&app, &["system_configuration"]).await;
        let o = &org.id;
        let accepted = id_of(&all, "system_configuration");
        let accepted_id: uuid::Uuid = accepted.parse().unwrap();
        let sealed_files = files(&app, accepted_id).await;
        let page_path = format!("/orgs/{o}/system-configuration");
        // Nothing to discard before a draft is saved.
        let html = app.html(&page_path).await;
        assert!(!html.contains("下書きを破棄"), "no draft, no discard");
        // A renewal saved as a draft, with the accepted files carried and a note typed.
        let res = app
            .post(
                &page_path,
                &[("note", "構成図を差し替える予定"), ("action", "save")],
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let (draft, from, _) = draft_of(&app, "system_configuration").await.unwrap();
        assert_eq!(from, Some(accepted_id));
        assert_eq!(files(&app, draft).await.len(), sealed_files.len());
        let html = app.html(&page_path).await;
        let discard = format!("action=\"/orgs/{o}/submissions/{draft}/discard\"");
        assert!(
            html.contains(&discard)
                && html.contains("<summary>下書きを破棄</summary>")
                && html.contains("削除した下書きは元に戻せません"),
            "{html}"
        );
        // The Center's reviewer may not discard an organisation's draft.
        let r = app.new_browser();
        r.login("shinsa@naccs.example.jp", PASSWORD).await;
        let path = format!("/orgs/{o}/submissions/{draft}/discard");
        let res = r.post(&path, &[("back", &page_path)]).await;
        assert!(
            matches!(res.status(), StatusCode::FORBIDDEN | StatusCode::NOT_FOUND),
            "{}",
            res.status()
        );
        assert!(draft_of(&app, "system_configuration").await.is_some());
        // Ten clicks at once: one discards, the others are told it is gone; one audit entry.
        let fields = [("back", page_path.as_str())];
        let tries = (0..10).map(|_| app.post(&path, &fields));
        for res in futures_util::future::join_all(tries).await {
            assert_eq!(res.status(), StatusCode::SEE_OTHER);
            assert_eq!(location(&res), page_path);
        }
        assert_eq!(app.audit_count("submission.discarded").await, 1);
        let detail = &app.audit_details("submission.discarded").await[0];
        assert_eq!(detail["item"], "system_configuration");
        assert_eq!(
            detail["files"].as_array().map(Vec::len),
            Some(sealed_files.len())
        );
        assert!(draft_of(&app, "system_configuration").await.is_none());
        // The accepted report keeps its files; the page starts from it again.
        assert_eq!(files(&app, accepted_id).await, sealed_files);
        let html = app.html(&page_path).await;
        assert!(!html.contains(&discard) && !html.contains("構成図を差し替える予定"));
        assert!(html.contains(&carried_from(&receipt_of(&app, accepted).await)));
        let trail = app.html("/audit").await;
        assert!(
            trail.contains("下書きの破棄")
                && trail.contains("利用者側のシステム構成の提出の下書き"),
            "the trail names it and its item"
        );

        // A correction of a returned report discarded: the report may be corrected again.
        let av = id_of(&all, "antivirus");
        let res = r
            .post(
                &format!("/review/{av}/decide"),
                &[
                    ("decision", "returned"),
                    ("reason", "定義ファイルが古いままです。"),
                ],
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let revise = format!("/orgs/{o}/submissions/{av}/revise");
        assert_eq!(app.post(&revise, &[]).await.status(), StatusCode::SEE_OTHER);
        let (correction, _, _) = draft_of(&app, "antivirus").await.unwrap();
        let res = app
            .post(
                &format!("/orgs/{o}/submissions/{correction}/discard"),
                &[("back", &format!("/orgs/{o}/antivirus"))],
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let html = app.html(&location(&res)).await;
        assert!(html.contains("下書きを破棄しました。"), "{html}");
        assert!(draft_of(&app, "antivirus").await.is_none());
        let res = app.post(&revise, &[]).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert!(
            draft_of(&app, "antivirus").await.is_some(),
            "corrected again"
        );
        // Sent unchanged, its 確認 page asks whether it answers the reasons it was returned for.
        let (again, _, _) = draft_of(&app, "antivirus").await.unwrap();
        let confirm = format!("/orgs/{o}/submissions/{again}/confirm");
        let page = app.html(&confirm).await;
        assert!(
            page.contains("差し戻された第1版（受付番号 SR-")
                && page.contains(
                    "から何も変わっていません。差戻しの理由に対応した内容か確かめてください"
                ),
            "{page}"
        );
        // Discarded in another tab meanwhile: that 確認 page's button lands on the item's page,
        // saying so; nothing is sent.
        let fingerprint = field_value(&page, "fingerprint").unwrap();
        let gone = field_value(&page, "gone").unwrap();
        assert_eq!(gone, format!("/orgs/{o}/antivirus"));
        let res = app
            .post(
                &format!("/orgs/{o}/submissions/{again}/discard"),
                &[("back", &format!("/orgs/{o}/submissions/{again}/edit"))],
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let sealed = app.count("submissions").await;
        let mut fields = vec![
            ("fingerprint", fingerprint.as_str()),
            ("gone", gone.as_str()),
        ];
        let acks = ack_names(&page);
        fields.extend(acks.iter().map(|a| (a.as_str(), "1")));
        let res = app.browser().post_unconfirmed(&confirm, &fields).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&res), gone);
        assert!(
            app.html(&gone)
                .await
                .contains("この下書きはすでに提出されたか、破棄されています。")
        );
        assert_eq!(app.count("submissions").await, sealed, "nothing sent");
    }
);

//! The mapping's re-check off the request (issue 11 item 2) and checks kept per gateway site
//! (item 3): saving a mapping answers at once and the page says 確認中 until a worker has read
//! the log again; a claim left by a node that stopped is taken again once its lease has
//! passed; the same content uploaded for two sites with different mappings keeps a check for
//! each.

use reqwest::StatusCode;

use crate::dual_test;
use crate::followup::{add_location, upload_log};
use crate::gateway_logs::gateway_site;
use crate::helpers::{TestApp, backends, field_value};

/// A gateway product's own header names and order.
const CUSTOM: &str = "日付時刻;ユーザー;端末番号;取引;種別\n\
2026/10/01 09:00:00;ABC12;7001;IDA;送信\n\
2026/10/01 09:00:04;ABC12;;IDA;受信\n\
2026/10/01 10:30:00;XYZ34;7002;MIC;送信\n";

/// [`CUSTOM`] mapped with its direction column.
const WITH_DIRECTION: [(&str, &str); 6] = [
    ("header", "yes"),
    ("timestamp", "1"),
    ("user_code", "2"),
    ("id_number", "3"),
    ("business_code", "4"),
    ("direction", "5"),
];

/// [`CUSTOM`] mapped without a direction and with another column as 識別番号.
const WITHOUT_DIRECTION: [(&str, &str); 6] = [
    ("header", "yes"),
    ("timestamp", "1"),
    ("user_code", "2"),
    ("id_number", "5"),
    ("business_code", "4"),
    ("direction", ""),
];

async fn page(app: &TestApp, path: &str) -> String {
    let res = app.get(path).await;
    assert_eq!(res.status(), StatusCode::OK);
    res.text().await.unwrap()
}

/// Uploads [`CUSTOM`] to the site's page and saves `mapping` for it (seen at `version`).
async fn upload_and_map(app: &TestApp, path: &str, version: &str, mapping: &[(&str, &str)]) {
    let res = upload_log(app, path, "gw-custom.log", CUSTOM.as_bytes()).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let html = page(app, path).await;
    let file = field_value(&html, "file").unwrap();
    let mut fields = vec![("file", file.as_str()), ("version", version)];
    fields.extend_from_slice(mapping);
    let res = app.post(&format!("{path}/mapping"), &fields).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
}

/// The re-check rows' states, in no order.
async fn states(app: &TestApp) -> Vec<String> {
    let db = app.db();
    let mut all: Vec<String> = secportal::db::on_db!(db, p => sqlx::query_scalar(
        "SELECT state FROM gateway_log_site_checks")
        .fetch_all(p)
        .await)
    .unwrap();
    all.sort();
    all
}

/// The column chosen for a field in a log's mapping form (empty: none).
fn selected(html: &str, file: &str, field: &str) -> String {
    let at = html
        .find(&format!("id=\"map-{file}-{field}\""))
        .unwrap_or_else(|| panic!("{field} in the form"));
    let select = &html[at..at + html[at..].find("</select>").unwrap()];
    select
        .split("<option ")
        .find(|o| o.contains(" selected>"))
        .and_then(|o| o.split('"').nth(1))
        .unwrap_or_default()
        .to_string()
}

const CHECKING: &str = "gw-custom.log を保存した列の対応づけで確認し直しています（確認中）。";

dual_test!(
    a_recheck_claimed_by_a_node_that_stopped_is_taken_again_once_its_lease_has_passed,
    |app| async move {
        let (_, _, path) = gateway_site(&app).await;
        upload_and_map(&app, &path, "0", &WITH_DIRECTION).await;
        assert_eq!(states(&app).await, ["pending"]);
        // Another node claims it and stops (its lease still running): nobody takes it over.
        let now = secportal::db::now();
        let job = secportal::db::gateway_logs::claim_recheck(
            app.db(),
            "node-b/stopped",
            now,
            now + chrono::Duration::minutes(2),
        )
        .await
        .unwrap()
        .expect("claimed");
        assert_eq!((job.attempts, job.version), (1, 1));
        assert_eq!(app.run_rechecks().await, 0);
        assert_eq!(states(&app).await, ["running"]);
        assert!(page(&app, &path).await.contains(CHECKING));
        // Its lease runs out: the next run takes it again and keeps the result, once.
        let db = app.db();
        let past = now - chrono::Duration::minutes(1);
        secportal::db::on_db!(db, p => sqlx::query(
            "UPDATE gateway_log_site_checks SET lease_until = $1")
            .bind(past)
            .execute(p)
            .await
            .map(|r| r.rows_affected()))
        .unwrap();
        assert_eq!(app.run_rechecks().await, 1);
        assert_eq!(states(&app).await, ["done"]);
        assert_eq!(app.audit_count("gateway_log.rechecked").await, 1);
        // The stopped node coming back keeps nothing (the row is no longer its).
        let mut tx = app.db().begin().await.unwrap();
        assert!(
            !secportal::db::gateway_logs::finish_recheck(
                &mut tx,
                &job,
                "node-b/stopped",
                "done",
                Some("{}"),
                None
            )
            .await
            .unwrap()
        );
        drop(tx);
        let html = page(&app, &path).await;
        assert!(!html.contains("確認中"));
        assert!(html.contains("記録 3 行（送信 2 行・受信 1 行）"), "{html}");
        let detail: String = secportal::db::on_db!(db, p => sqlx::query_scalar(
            "SELECT detail FROM audit_log WHERE action = 'gateway_log.rechecked'")
            .fetch_one(p)
            .await)
        .unwrap();
        let detail: serde_json::Value = serde_json::from_str(&detail).unwrap();
        assert_eq!(detail["outcome"], "done");
        assert_eq!(detail["lines"], 3);
        assert_eq!(detail["file"], "gw-custom.log");
    }
);

dual_test!(
    a_mapping_saved_again_while_its_recheck_runs_keeps_only_the_newer_result,
    |app| async move {
        let (_, _, path) = gateway_site(&app).await;
        upload_and_map(&app, &path, "0", &WITH_DIRECTION).await;
        let now = secportal::db::now();
        let old = secportal::db::gateway_logs::claim_recheck(
            app.db(),
            "node-a",
            now,
            now + chrono::Duration::minutes(2),
        )
        .await
        .unwrap()
        .unwrap();
        // The clerk notices a mistake meanwhile: beside the 確認中 message the form is there,
        // with the mapping being read, and saving again is taken at once.
        let html = page(&app, &path).await;
        assert!(html.contains(CHECKING));
        assert!(html.contains("確認の終わりを待たずに下で直して保存し直せます"));
        let file = field_value(&html, "file").expect("the mapping form");
        assert_eq!(field_value(&html, "version").as_deref(), Some("1"));
        for (field, column) in WITH_DIRECTION.iter().skip(1) {
            assert_eq!(selected(&html, &file, field), *column, "{field}");
        }
        assert!(html.contains("name=\"header\" value=\"yes\" checked"));
        assert!(
            !html.contains("記録 3 行"),
            "not the check from before the mapping"
        );
        let mut fields = vec![("file", file.as_str()), ("version", "1")];
        fields.extend_from_slice(&WITHOUT_DIRECTION);
        let res = app.post(&format!("{path}/mapping"), &fields).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        // The first run's end is no longer wanted.
        let mut tx = app.db().begin().await.unwrap();
        assert!(
            !secportal::db::gateway_logs::finish_recheck(
                &mut tx,
                &old,
                "node-a",
                "done",
                Some("{}"),
                None
            )
            .await
            .unwrap()
        );
        drop(tx);
        assert_eq!(app.run_rechecks().await, 1);
        assert!(
            page(&app, &path)
                .await
                .contains("記録 3 行（送信 3 行・受信 0 行）")
        );
    }
);

dual_test!(
    the_same_log_uploaded_for_two_sites_with_different_mappings_keeps_a_check_for_each,
    |app| async move {
        let (org, _, path) = gateway_site(&app).await;
        upload_and_map(&app, &path, "0", &WITH_DIRECTION).await;
        app.run_rechecks().await;
        let first = "記録 3 行（送信 2 行・受信 1 行）";
        assert!(page(&app, &path).await.contains(first));
        // The same bytes for another gateway site, which has no mapping yet: they wait for
        // one there, and the first site's check is untouched.
        let office = add_location(&app, &org, "office", "", "大阪支店").await;
        let site2 = add_location(&app, &org, "gateway_site", &office, "大阪サーバ室").await;
        let path2 = format!("/orgs/{org}/locations/{site2}/gateway-logs");
        let res = upload_log(&app, &path2, "gw-custom.log", CUSTOM.as_bytes()).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert!(
            page(&app, &path2)
                .await
                .contains("見出し行から次の項目の列を読み取れませんでした")
        );
        let html = page(&app, &path).await;
        assert!(html.contains(first), "the first site's check is its own");
        assert!(!html.contains("見出し行から次の項目の列を読み取れませんでした"));
        // Mapped differently there: each site shows its own reading.
        let html = page(&app, &path2).await;
        let file = field_value(&html, "file").unwrap();
        let mut fields = vec![("file", file.as_str()), ("version", "0")];
        fields.extend_from_slice(&WITHOUT_DIRECTION);
        let res = app.post(&format!("{path2}/mapping"), &fields).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(app.run_rechecks().await, 1);
        assert!(
            page(&app, &path2)
                .await
                .contains("記録 3 行（送信 3 行・受信 0 行）")
        );
        assert!(page(&app, &path).await.contains(first));
        assert_eq!(app.count("gateway_log_site_checks").await, 2);
    }
);

/// The worker runs a saved mapping's re-check on its own (no test hand in it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_worker_checks_the_log_again_on_its_own_after_a_mapping_is_saved() {
    for backend in backends() {
        let app = TestApp::spawn_configured(backend, |c| {
            c.log_recheck_every = Some(std::time::Duration::from_secs(1));
        })
        .await;
        let (_, _, path) = gateway_site(&app).await;
        upload_and_map(&app, &path, "0", &WITH_DIRECTION).await;
        let mut html = String::new();
        for _ in 0..100 {
            html = page(&app, &path).await;
            if !html.contains("確認中") {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
        assert!(html.contains("記録 3 行（送信 2 行・受信 1 行）"), "{html}");
        assert_eq!(states(&app).await, ["done"]);
        assert_eq!(app.audit_count("gateway_log.rechecked").await, 1);
    }
}

#[tokio::test]
async fn the_pages_script_that_waits_for_the_check_is_served() {
    let app = TestApp::spawn(crate::helpers::Backend::Sqlite).await;
    let res = app.get("/static/logcheck.js").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/javascript")
    );
    let js = res.text().await.unwrap();
    assert!(js.contains("data-checking") && js.contains("location.reload"));
}

dual_test!(
    a_mapping_the_log_does_not_read_with_is_said_in_words_and_the_log_is_not_submitted,
    |app| async move {
        let (_, _, path) = gateway_site(&app).await;
        // One record and no header: the clerk says the first line is a header.
        let one = "2026/10/01 09:00:00;ABC12;7001;IDA;送信\n";
        let res = upload_log(&app, &path, "gw-one.log", one.as_bytes()).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let html = page(&app, &path).await;
        let file = field_value(&html, "file").unwrap();
        let mut fields = vec![("file", file.as_str()), ("version", "0")];
        fields.extend_from_slice(&WITH_DIRECTION);
        let res = app.post(&format!("{path}/mapping"), &fields).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        // English while it is checked.
        let en = app.new_browser();
        en.login("kanri@a.example.jp", crate::helpers::PASSWORD)
            .await;
        en.post("/lang", &[("lang", "en"), ("next", "/home")]).await;
        let html = en.get(&path).await.text().await.unwrap();
        assert!(
            html.contains(
                "gw-one.log is being checked again with the column mapping saved (checking)."
            ),
            "{html}"
        );
        assert_eq!(app.run_rechecks().await, 1);
        assert_eq!(states(&app).await, ["refused"]);
        let html = page(&app, &path).await;
        assert!(
            html.contains("gw-one.log は保存した列の対応づけでは読み取れませんでした: "),
            "{html}"
        );
        assert!(html.contains("対応づけを見直して保存し直してください。"));
        assert!(
            html.contains("gw-one.log の列の対応づけ"),
            "the form is asked for again"
        );
        let html = en.get(&path).await.text().await.unwrap();
        assert!(html.contains("gw-one.log could not be read with the column mapping saved: "));
        for words in ["gwlog.", "\"kind\"", "header_only"] {
            assert!(!html.contains(words), "{words}");
        }
        // Not submitted while the mapping does not read the log.
        let res = app
            .post(
                &path,
                &[
                    ("storage", "/var/log/gw"),
                    ("mechanism", "GW が記録"),
                    ("retention_months", "13"),
                    ("period_from", "2026-10-01"),
                    ("period_to", "2026-10-01"),
                    ("action", "submit"),
                ],
            )
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            res.text()
                .await
                .unwrap()
                .contains("保存した列の対応づけで読み取れなかったログがあります")
        );
        let detail: String = {
            let db = app.db();
            secportal::db::on_db!(db, p => sqlx::query_scalar(
                "SELECT detail FROM audit_log WHERE action = 'gateway_log.rechecked'")
                .fetch_one(p)
                .await)
            .unwrap()
        };
        assert!(detail.contains("\"outcome\":\"refused\""), "{detail}");
        // Mapped again without a header: read, and submittable.
        let mut fields = vec![("file", file.as_str()), ("version", "1")];
        fields.extend(
            WITH_DIRECTION
                .iter()
                .map(|&(k, v)| if k == "header" { (k, "no") } else { (k, v) }),
        );
        let res = app.post(&format!("{path}/mapping"), &fields).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(app.run_rechecks().await, 1);
        let html = page(&app, &path).await;
        assert!(html.contains("記録 1 行（送信 1 行・受信 0 行）"), "{html}");
        assert!(!html.contains("読み取れませんでした"));
    }
);

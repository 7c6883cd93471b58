//! The mapping's re-check off the request (issue 11 item 2) and checks kept per gateway site
//! (item 3): saving a mapping answers at once and the page says 確認中 until a worker has read
//! the log again; a claim left by a node that stopped is taken again once its lease has
//! passed; the same content uploaded for two sites with different mappings keeps a check for
//! each.

use reqwest::StatusCode;

use crate::dual_test;
use crate::followup::{add_location, upload_log};
use crate::gateway_logs::{
    CUSTOM, CUSTOM_MAPPING as WITH_DIRECTION, CUSTOM_WITHOUT_DIRECTION, gateway_site, map,
    map_and_recheck, page, refused_report, site_checks,
};
use crate::helpers::{TestApp, backends, content_type, field_value};

/// Uploads [`CUSTOM`] to the site's page and saves `mapping` for it (seen at `version`).
async fn upload_and_map(app: &TestApp, path: &str, version: &str, mapping: &[(&str, &str)]) {
    let res = upload_log(app, path, "gw-custom.log", CUSTOM.as_bytes()).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let html = page(app, path).await;
    let file = field_value(&html, "file").unwrap();
    let res = map(app, path, &file, version, mapping).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
}

/// The re-check rows' states, in no order.
async fn states(app: &TestApp) -> Vec<String> {
    site_checks(app, "state").await
}

/// `node` claims the re-check waiting, for two minutes.
async fn claim_as(app: &TestApp, node: &str) -> secportal::db::gateway_logs::RecheckJob {
    let now = secportal::db::now();
    secportal::db::gateway_logs::claim_recheck(
        app.db(),
        node,
        now,
        now + chrono::Duration::minutes(2),
    )
    .await
    .unwrap()
    .expect("claimed")
}

/// Whether `node` may still end its claimed re-check `job` (as done; nothing is kept).
async fn finished_by(
    app: &TestApp,
    job: &secportal::db::gateway_logs::RecheckJob,
    node: &str,
) -> bool {
    let mut tx = app.db().begin().await.unwrap();
    secportal::db::gateway_logs::finish_recheck(&mut tx, job, node, "done", Some("{}"), None)
        .await
        .unwrap()
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
        let job = claim_as(&app, "node-b/stopped").await;
        assert_eq!((job.attempts, job.version), (1, 1));
        assert_eq!(app.run_rechecks().await, 0);
        assert_eq!(states(&app).await, ["running"]);
        assert!(page(&app, &path).await.contains(CHECKING));
        // Its lease runs out: the next run takes it again and keeps the result, once.
        let db = app.db();
        let past = secportal::db::now() - chrono::Duration::minutes(1);
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
        assert!(!finished_by(&app, &job, "node-b/stopped").await);
        let html = page(&app, &path).await;
        assert!(!html.contains("確認中"));
        assert!(html.contains("記録 3 行（送信 2 行・受信 1 行）"), "{html}");
        let detail = &app.audit_details("gateway_log.rechecked").await[0];
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
        let old = claim_as(&app, "node-a").await;
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
        assert!(html.contains("<option value=\"yes\" selected>"));
        assert!(
            !html.contains("記録 3 行"),
            "not the check from before the mapping"
        );
        let res = map(&app, &path, &file, "1", &CUSTOM_WITHOUT_DIRECTION).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        // The first run's end is no longer wanted.
        assert!(!finished_by(&app, &old, "node-a").await);
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
                .contains("見出し行の名前から、次の項目がどの列かを決められませんでした")
        );
        let html = page(&app, &path).await;
        assert!(html.contains(first), "the first site's check is its own");
        assert!(!html.contains("見出し行の名前から、次の項目がどの列かを決められませんでした"));
        // Mapped differently there: each site shows its own reading.
        let html = page(&app, &path2).await;
        let file = field_value(&html, "file").unwrap();
        let html = map_and_recheck(&app, &path2, &file, "0", &CUSTOM_WITHOUT_DIRECTION).await;
        assert!(html.contains("記録 3 行（送信 3 行・受信 0 行）"));
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
    assert!(content_type(&res).starts_with("text/javascript"));
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
        let res = map(&app, &path, &file, "0", &WITH_DIRECTION).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        // English while it is checked.
        let en = app.english_browser("kanri@a.example.jp").await;
        let html = en.get(&path).await.text().await.unwrap();
        assert!(
            html.contains("gw-one.log is being checked again with the column mapping saved."),
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
        assert!(
            refused_report(&app, &path)
                .await
                .contains("保存した列の対応づけで読み取れなかったログがあります")
        );
        let detail = &app.audit_details("gateway_log.rechecked").await[0];
        assert_eq!(detail["outcome"], "refused", "{detail}");
        // Mapped again without a header: read, and submittable.
        let no_header: Vec<(&str, &str)> = WITH_DIRECTION
            .iter()
            .map(|&(k, v)| if k == "header" { (k, "no") } else { (k, v) })
            .collect();
        let html = map_and_recheck(&app, &path, &file, "1", &no_header).await;
        assert!(html.contains("記録 1 行（送信 1 行・受信 0 行）"), "{html}");
        assert!(!html.contains("読み取れませんでした"));
    }
);

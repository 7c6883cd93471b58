//! Retention periods, legal holds and the daily purge, with a clock the test sets.

use chrono::{DateTime, Months, Utc};
use reqwest::StatusCode;
use secportal::db::audit::{self, Verdict};
use secportal::db::on_db;
use secportal::domain::retention::FixedClock;
use secportal::retention::{Report, Run, purge};
use uuid::Uuid;

use crate::dual_test;
use crate::followup::{add_location, submit_configuration_with, upload_log};
use crate::helpers::{PASSWORD, TestApp, location, receipt_of, submission_in};

mod audit_purge;
mod batches;

const ADMIN: &str = "admin@center.example.jp";
const REVIEWER: &str = "reviewer@center.example.jp";
const A: &str = "kanri@a.example.jp";
const B: &str = "kanri@b.example.jp";

/// What the fixture made: two versions of the system configuration of organisations A and
/// B (each version's diagram of its own bytes) and A's gateway logs.
struct Fixture {
    org_a: String,
    org_b: String,
    a1: String,
    a2: String,
    a_log: String,
    b1: String,
    b2: String,
    /// When everything was submitted (about).
    at: DateTime<Utc>,
}

/// Submits the system configuration with a diagram of its own bytes; answers its id.
async fn submit_configuration(app: &TestApp, org: &str, diagram: &str) -> String {
    let body = format!("%PDF-1.7\n% {diagram}\n%%EOF\n");
    submit_configuration_with(app, org, body.as_bytes(), diagram).await
}

async fn submit_gateway_logs(app: &TestApp, org: &str) -> String {
    let office = add_location(app, org, "office", "", "本社").await;
    let site = add_location(app, org, "gateway_site", &office, "本社サーバ室").await;
    let path = format!("/orgs/{org}/locations/{site}/gateway-logs");
    let log = "送受信区分,利用者コード,識別番号,業務コード,年月日時分秒\n送信,AAAAA,001,IDA,2026-10-01 08:59:59\n受信,AAAAA,,IDA,2026-10-31 17:00:00\n";
    assert_eq!(
        upload_log(app, &path, "gw-202610.csv", log.as_bytes())
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    let res = app
        .post(
            &path,
            &[
                ("storage", "ゲートウェイサーバの /var/log/naccs"),
                ("mechanism", "GW ソフトウェアが送受信ごとに記録"),
                ("retention_months", "13"),
                ("period_from", "2026-10-01"),
                ("period_to", "2026-10-31"),
                ("action", "submit"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "{}", location(&res));
    submission_in(&res)
}

async fn fixture(app: &TestApp) -> Fixture {
    app.add_user(ADMIN, "center_admin", None).await;
    app.add_user(REVIEWER, "reviewer", None).await;
    app.add_user(A, "org_admin", Some("AAAAA")).await;
    app.add_user(B, "org_admin", Some("BBBBB")).await;
    let org_a = app.org_of(A).await.to_string();
    let org_b = app.org_of(B).await.to_string();
    // The main browser signs in as each in turn.
    app.login(A, PASSWORD).await;
    let a1 = submit_configuration(app, &org_a, "A 初版").await;
    let a2 = submit_configuration(app, &org_a, "A 改訂版").await;
    let a_log = submit_gateway_logs(app, &org_a).await;
    app.post("/logout", &[]).await;
    app.login(B, PASSWORD).await;
    let b1 = submit_configuration(app, &org_b, "B 初版").await;
    let b2 = submit_configuration(app, &org_b, "B 改訂版").await;
    app.post("/logout", &[]).await;
    Fixture {
        org_a,
        org_b,
        a1,
        a2,
        a_log,
        b1,
        b2,
        at: secportal::db::now(),
    }
}

fn after(at: DateTime<Utc>, months: u32, days: i64) -> FixedClock {
    FixedClock(at.checked_add_months(Months::new(months)).unwrap() + chrono::Duration::days(days))
}

async fn run(app: &TestApp, clock: &FixedClock) -> Option<Report> {
    purge(app.db(), &app.state.files, clock, Run::Daily, "system")
        .await
        .unwrap()
}

async fn exists(app: &TestApp, id: &str) -> bool {
    let id: Uuid = id.parse().unwrap();
    let n: i64 = on_db!(app.db(), p => sqlx::query_scalar("SELECT COUNT(*) FROM submissions WHERE id = $1").bind(id).fetch_one(p).await).unwrap();
    n == 1
}

/// The (sha256, size) of a submission's files.
async fn files_of(app: &TestApp, id: &str) -> Vec<(String, i64)> {
    let id: Uuid = id.parse().unwrap();
    on_db!(app.db(), p => sqlx::query_as("SELECT sha256, size FROM submission_files WHERE submission_id = $1 ORDER BY sha256").bind(id).fetch_all(p).await).unwrap()
}

/// The detail of the newest purge entry.
async fn last_purge_detail(app: &TestApp) -> serde_json::Value {
    let d: String = on_db!(app.db(), p => sqlx::query_scalar("SELECT detail FROM audit_log WHERE action = 'retention.purged' ORDER BY seq DESC LIMIT 1").fetch_one(p).await).unwrap();
    serde_json::from_str(&d).unwrap()
}

async fn verify_holds(app: &TestApp) {
    let head = audit::anchor(app.db()).await.unwrap().seq;
    assert_eq!(
        audit::verify(app.db()).await.unwrap(),
        Verdict::Intact(head)
    );
}

dual_test!(
    nothing_is_purged_before_its_period_and_exactly_what_is_past_it_afterwards,
    |app| async move {
        let f = fixture(&app).await;
        let (subs, audit_rows) = (app.count("submissions").await, app.count("audit_log").await);
        let a1_files = files_of(&app, &f.a1).await;
        let log_files = files_of(&app, &f.a_log).await;
        assert_eq!((a1_files.len(), log_files.len()), (2, 1));

        // Eleven months on, nothing is past a year.
        let r = run(&app, &after(f.at, 11, 0)).await.unwrap();
        assert_eq!(
            (
                r.submissions.len(),
                r.gateway_logs.len(),
                r.files.len(),
                r.audit_entries
            ),
            (0, 0, 0, 0)
        );
        assert_eq!(app.count("submissions").await, subs);
        assert_eq!(
            app.count("audit_log").await,
            audit_rows + 1,
            "only the purge's own entry"
        );

        // A year and a day on: the gateway logs (one year) go; reports are kept five years.
        let plan = secportal::retention::plan(app.db(), after(f.at, 12, 1).0)
            .await
            .unwrap();
        assert_eq!((plan.submissions.count, plan.gateway_logs.count), (0, 1));
        assert!(exists(&app, &f.a_log).await, "a dry run changes nothing");
        let log_receipt = receipt_of(&app, &f.a_log).await;
        assert_eq!(app.count("gateway_log_checks").await, 1);
        let r = run(&app, &after(f.at, 12, 1)).await.unwrap();
        assert_eq!(
            app.count("gateway_log_checks").await,
            0,
            "the log's kept check goes with its only file"
        );
        assert_eq!(r.gateway_logs, vec![log_receipt.clone()]);
        assert!(r.submissions.is_empty());
        assert!(!exists(&app, &f.a_log).await);
        for (sha, size) in &log_files {
            assert!(
                !app.state.files.has(sha, *size as u64).await,
                "the log file is gone from the store"
            );
        }
        let d = last_purge_detail(&app).await;
        assert_eq!(d["gateway_logs"]["receipts"][0], log_receipt.as_str());
        assert_eq!(d["files"][0]["sha256"], log_files[0].0.as_str());

        // Five years and a day on: the superseded versions go, the reports in force stay.
        let (r1a, r1b) = (receipt_of(&app, &f.a1).await, receipt_of(&app, &f.b1).await);
        let r = run(&app, &after(f.at, 60, 1)).await.unwrap();
        let mut purged = r.submissions.clone();
        purged.sort();
        let mut expected = vec![r1a, r1b];
        expected.sort();
        assert_eq!(purged, expected);
        assert!(!exists(&app, &f.a1).await && !exists(&app, &f.b1).await);
        assert!(exists(&app, &f.a2).await && exists(&app, &f.b2).await);
        // Each version's diagram is its own; the equipment list is shared with the version in
        // force, so its file stays in the store.
        let kept: Vec<_> = files_of(&app, &f.a2).await;
        for (sha, size) in &a1_files {
            let shared = kept.iter().any(|k| k.0 == *sha);
            assert_eq!(
                app.state.files.has(sha, *size as u64).await,
                shared,
                "{sha}"
            );
        }
        let d = last_purge_detail(&app).await;
        let hashes: Vec<&str> = d["files"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["sha256"].as_str().unwrap())
            .collect();
        assert_eq!(
            hashes.len(),
            4,
            "two files each of A's and B's first versions"
        );
        for (sha, _) in &a1_files {
            assert!(hashes.contains(&sha.as_str()));
        }
        assert!(
            r.audit_entries > 0,
            "the trail's entries older than five years went too"
        );
        assert_eq!(d["audit"]["count"].as_u64().unwrap(), r.audit_entries);
        verify_holds(&app).await;
        // The pages still open.
        app.login(ADMIN, PASSWORD).await;
        assert_eq!(
            app.get(&format!("/review/{}", f.a2)).await.status(),
            StatusCode::OK
        );
        assert_eq!(
            app.get(&format!("/review/{}", f.a1)).await.status(),
            StatusCode::NOT_FOUND
        );
        assert_eq!(app.get("/audit").await.status(), StatusCode::OK);
        // The purges read as sentences, found by what the 操作者 column calls them.
        let html = crate::gateway_logs::page(&app, "/audit?actor=システム").await;
        crate::helpers::assert_says(
            &html,
            &[
                "<td>システム（自動処理）</td>",
                &format!("送受信ログの提出 1 件（{log_receipt}）、ファイル 1 個（"),
                "提出 2 件（",
                "ファイル 4 個（",
                "基準：提出された報告とそのファイルは ",
                "より前（保存期間 60 か月）",
            ],
        );
        let rows = &html[html.find("<tbody>").unwrap()..];
        for raw in ["削除の基準", "sha256", "{", "through_hash"] {
            assert!(!rows.contains(raw), "{raw}\n{rows}");
        }
        let _ = (f.org_a, f.org_b);
    }
);

async fn hold(app: &TestApp, path: &str, action: &str, reason: &str) -> reqwest::Response {
    app.post(path, &[("action", action), ("reason", reason)])
        .await
}

dual_test!(
    a_hold_keeps_records_past_retention_and_lifting_it_lets_the_next_purge_take_them,
    |app| async move {
        let f = fixture(&app).await;
        app.login(ADMIN, PASSWORD).await;
        let org_hold = format!("/admin/orgs/{}/hold", f.org_a);
        let res = hold(&app, &org_hold, "set", "訴訟対応（令和8年(ワ)第123号）").await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&res), format!("/admin/orgs/{}", f.org_a));
        let b1_hold = format!("/review/{}/hold", f.b1);
        assert_eq!(
            hold(&app, &b1_hold, "set", "監査のため").await.status(),
            StatusCode::SEE_OTHER
        );
        // A second hold on the same target is told, not stored.
        let res = hold(&app, &org_hold, "set", "重ねて").await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(app.count("legal_holds").await, 2);
        assert_eq!(app.audit_count("retention.hold_set").await, 2);

        // Shown on the Center's pages, to reviewers too.
        let r = app.new_browser();
        r.login(REVIEWER, PASSWORD).await;
        let page = r
            .get(&format!("/admin/orgs/{}", f.org_a))
            .await
            .text()
            .await
            .unwrap();
        assert!(
            page.contains("法的保全中です") && page.contains("令和8年(ワ)第123号"),
            "{page}"
        );
        assert!(!page.contains(&org_hold), "reviewers do not change holds");
        let page = r
            .get(&format!("/review/{}", f.a2))
            .await
            .text()
            .await
            .unwrap();
        assert!(page.contains("この組織全体が法的保全中です"));
        let page = r
            .get(&format!("/review/{}", f.b1))
            .await
            .text()
            .await
            .unwrap();
        assert!(page.contains("法的保全中です") && page.contains("監査のため"));
        let page = app
            .get(&format!("/admin/orgs/{}", f.org_b))
            .await
            .text()
            .await
            .unwrap();
        assert!(page.contains("1 件が個別に法的保全中"));
        // Both are listed together on the retention page, each linked to where it is lifted.
        let page = app.get("/admin/retention").await.text().await.unwrap();
        let listed = page.split("id=\"holds\"").nth(1).unwrap_or_default();
        assert!(
            listed.contains("令和8年(ワ)第123号")
                && listed.contains("組織全体")
                && listed.contains("監査のため")
                && listed.contains(&format!("href=\"/review/{}#legal-hold\"", f.b1))
                && listed.contains(&format!("href=\"/admin/orgs/{}#legal-hold\"", f.org_a)),
            "{listed}"
        );

        // Past every period: only what is not held goes (nothing of A, and B's held version
        // stays; B's version in force is kept anyway).
        let day = after(f.at, 61, 0);
        let r = run(&app, &day).await.unwrap();
        assert!(
            r.submissions.is_empty() && r.gateway_logs.is_empty(),
            "{r:?}"
        );
        for id in [&f.a1, &f.a2, &f.a_log, &f.b1, &f.b2] {
            assert!(exists(&app, id).await);
        }
        // The trail keeps the held organisations' entries: its purge stops before the first.
        let first_kept: i64 = on_db!(app.db(), p => sqlx::query_scalar("SELECT MIN(seq) FROM audit_log").fetch_one(p).await).unwrap();
        let first_held: i64 = on_db!(app.db(), p => sqlx::query_scalar("SELECT MIN(seq) FROM audit_log WHERE org_id IS NOT NULL").fetch_one(p).await).unwrap();
        assert!(first_kept <= first_held);
        verify_holds(&app).await;

        // Lifted (with a reason), the next day's purge takes them.
        assert_eq!(
            hold(&app, &org_hold, "lift", "判決確定").await.status(),
            StatusCode::SEE_OTHER
        );
        assert_eq!(
            hold(&app, &b1_hold, "lift", "監査終了").await.status(),
            StatusCode::SEE_OTHER
        );
        assert_eq!(app.audit_count("retention.hold_lifted").await, 2);
        let page = app
            .get(&format!("/admin/orgs/{}", f.org_a))
            .await
            .text()
            .await
            .unwrap();
        assert!(page.contains("法的保全は設定されていません"));
        assert!(
            run(&app, &day).await.is_none(),
            "the day's purge ran already"
        );
        let r = run(&app, &after(f.at, 61, 1)).await.unwrap();
        assert_eq!((r.submissions.len(), r.gateway_logs.len()), (2, 1), "{r:?}");
        assert!(
            !exists(&app, &f.a1).await
                && !exists(&app, &f.b1).await
                && !exists(&app, &f.a_log).await
        );
        assert!(exists(&app, &f.a2).await && exists(&app, &f.b2).await);
        assert_eq!(
            app.count("legal_holds").await,
            1,
            "the lifted hold on B's purged version went with it"
        );
        verify_holds(&app).await;
    }
);

dual_test!(
    a_retention_period_below_one_year_or_a_hold_without_reason_is_refused_and_nothing_is_stored,
    |app| async move {
        let f = fixture(&app).await;
        app.login(ADMIN, PASSWORD).await;
        let page = app.get("/admin/retention").await.text().await.unwrap();
        assert!(
            page.contains("送受信ログ")
                && page.contains("value=\"12\"")
                && page.contains("value=\"60\"")
        );
        let before = app.count("audit_log").await;
        let res = app
            .post(
                "/admin/retention",
                &[
                    ("submissions", "60"),
                    ("gateway_logs", "11"),
                    ("audit", "60"),
                ],
            )
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let html = res.text().await.unwrap();
        assert!(
            html.contains("保存期間は1年（12か月）より短くできません。"),
            "{html}"
        );
        assert!(
            html.contains("value=\"11\""),
            "what was typed is shown again"
        );
        let res = app
            .post(
                "/admin/retention",
                &[
                    ("submissions", "60"),
                    ("gateway_logs", "一年"),
                    ("audit", "6"),
                ],
            )
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let html = res.text().await.unwrap();
        assert!(html.contains("保存期間は月数を半角数字で入力してください。"));
        let months: Vec<(String, i64)> = on_db!(app.db(), p => sqlx::query_as("SELECT record_type, months FROM retention_periods ORDER BY record_type").fetch_all(p).await).unwrap();
        assert_eq!(
            months,
            vec![
                ("audit".into(), 60),
                ("gateway_logs".into(), 12),
                ("submissions".into(), 60)
            ]
        );
        assert_eq!(app.count("audit_log").await, before, "nothing stored");

        // A valid change is stored and audited, once per period changed.
        let res = app
            .post(
                "/admin/retention",
                &[
                    ("submissions", "84"),
                    ("gateway_logs", "12"),
                    ("audit", "60"),
                ],
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(app.audit_count("retention.period_changed").await, 1);
        let page = app.get("/admin/retention").await.text().await.unwrap();
        assert!(page.contains("value=\"84\"") && page.contains("保存期間を保存しました"));

        // A hold needs its reason.
        let res = hold(&app, &format!("/admin/orgs/{}/hold", f.org_a), "set", "  ").await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            res.text()
                .await
                .unwrap()
                .contains("理由を入力してください。")
        );
        let res = hold(&app, &format!("/review/{}/hold", f.a1), "set", "a\u{202e}b").await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(app.count("legal_holds").await, 0);
        assert_eq!(app.audit_count("retention.hold_set").await, 0);
    }
);

dual_test!(
    only_center_admins_set_retention_and_holds,
    |app| async move {
        let f = fixture(&app).await;
        let org_hold = format!("/admin/orgs/{}/hold", f.org_a);
        let sub_hold = format!("/review/{}/hold", f.a1);
        let set = [("action", "set"), ("reason", "理由")];
        for who in [REVIEWER, A] {
            let c = app.new_browser();
            c.login(who, PASSWORD).await;
            assert_eq!(
                c.get("/admin/retention").await.status(),
                StatusCode::FORBIDDEN,
                "{who}"
            );
            assert_eq!(
                c.post(
                    "/admin/retention",
                    &[
                        ("submissions", "12"),
                        ("gateway_logs", "12"),
                        ("audit", "12")
                    ]
                )
                .await
                .status(),
                StatusCode::FORBIDDEN
            );
            assert_eq!(
                c.post(&org_hold, &set).await.status(),
                StatusCode::FORBIDDEN
            );
            assert_eq!(
                c.post(&sub_hold, &set).await.status(),
                StatusCode::FORBIDDEN
            );
        }
        assert_eq!(app.count("legal_holds").await, 0);
        assert_eq!(app.audit_count("retention.period_changed").await, 0);
        // Unknown targets answer 404.
        app.login(ADMIN, PASSWORD).await;
        let nobody = Uuid::now_v7();
        assert_eq!(
            app.post(&format!("/admin/orgs/{nobody}/hold"), &set)
                .await
                .status(),
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            app.post(&format!("/review/{nobody}/hold"), &set)
                .await
                .status(),
            StatusCode::NOT_FOUND
        );
        assert_eq!(app.count("legal_holds").await, 0);
        let _ = f.org_b;
    }
);

dual_test!(
    two_purges_running_at_once_do_the_work_once,
    |app| async move {
        let f = fixture(&app).await;
        let day = after(f.at, 61, 0);
        let (x, y) = tokio::join!(run(&app, &day), run(&app, &day));
        let done: Vec<Report> = [x, y].into_iter().flatten().collect();
        assert_eq!(done.len(), 1, "one of the two claimed the day");
        assert_eq!(
            (done[0].submissions.len(), done[0].gateway_logs.len()),
            (2, 1)
        );
        assert_eq!(app.audit_count("retention.purged").await, 1);
        verify_holds(&app).await;

        // Two purges from the command line at once: each runs, the work is done once.
        app.login(A, PASSWORD).await;
        let a3 = submit_configuration(&app, &f.org_a, "A 第3版").await;
        let later = after(secportal::db::now(), 61, 0);
        let go = || purge(app.db(), &app.state.files, &later, Run::Now, "cli");
        let (x, y) = tokio::join!(go(), go());
        let (x, y) = (x.unwrap().unwrap(), y.unwrap().unwrap());
        assert_eq!(x.submissions.len() + y.submissions.len(), 1, "{x:?} {y:?}");
        assert_eq!(x.files.len() + y.files.len(), 2);
        assert!(exists(&app, &a3).await && !exists(&app, &f.a2).await);
        verify_holds(&app).await;
    }
);

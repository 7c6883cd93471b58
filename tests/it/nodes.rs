//! Two portal processes — the built binary, started twice with different `SECPORTAL_NODE_ID`s —
//! on one PostgreSQL database and one file store (the bucket of the test S3 server when
//! `.ci/run` starts one, else a folder both share): what one node does, the other sees at once,
//! and the scheduler's mail goes out once.

mod process;

use std::time::{Duration, Instant};

use reqwest::StatusCode;

use crate::file_stores::{Place, places};
use crate::helpers::{Backend, backends, fresh_pg, location};
use process::{Node, Visitor, holds_by, run_cli};

const PDF: &[u8] =
    b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";

/// How long a node reuses a read (a session, a queue page) unless told of a change: a check
/// must land well within it after the read, or it would not show that the change was heard.
const REUSED_FOR: Duration = Duration::from_secs(1);
/// The last moment after a read a check may start and still count as "at once".
const AT_ONCE: Duration = Duration::from_millis(900);
/// On a machine so loaded that the change itself took most of that, the time the other node
/// is given after the change's answer (the check then no longer tells "at once" from "after a
/// second", and says so).
const AFTER_ANSWER: Duration = Duration::from_millis(300);

const ORG_ADMIN: &str = "kanri@a.example.jp";
const REVIEWER: &str = "reviewer@center.example.jp";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_portal_processes_share_files_sessions_decisions_and_send_scheduled_mail_once() {
    let Some(Backend::Postgres { admin_url }) = backends()
        .into_iter()
        .find(|b| matches!(b, Backend::Postgres { .. }))
    else {
        eprintln!("two nodes need PostgreSQL: SECPORTAL_TEST_POSTGRES_URL is not set");
        return;
    };
    let (db_url, _pg) = fresh_pg(&admin_url).await;
    let tmp = tempfile::tempdir().unwrap();
    let place = places().pop().unwrap();
    let (one_dir, two_dir) = (tmp.path().join("node-1"), tmp.path().join("node-2"));
    // One audit key for both (each signs audit entries), the scheduler every second and the
    // day's scheduled mail due from midnight (so the test runs at any hour).
    let mut env: Vec<(&str, String)> = vec![
        ("DATABASE_URL", db_url.clone()),
        ("SECPORTAL_AUDIT_KEY", "5e".repeat(32)),
        ("SECPORTAL_SCHEDULER_SECS", "1".into()),
        ("SECPORTAL_MAIL_HOUR", "0".into()),
    ];
    match &place {
        Place::Local => {
            // One folder both nodes mount: node 2's `files` is node 1's.
            std::fs::create_dir_all(one_dir.join("files")).unwrap();
            std::fs::create_dir_all(&two_dir).unwrap();
            std::os::unix::fs::symlink(one_dir.join("files"), two_dir.join("files")).unwrap();
        }
        Place::S3 {
            endpoint,
            bucket,
            prefix,
        } => {
            env.push(("SECPORTAL_FILE_STORE", format!("s3://{bucket}/{prefix}")));
            env.push(("SECPORTAL_S3_ENDPOINT", endpoint.to_string()));
        }
    }
    // Accounts from the shell, before either node starts (the first run migrates).
    let cli_env: Vec<(&str, String)> = env
        .iter()
        .cloned()
        .chain([("SECPORTAL_DATA_DIR", one_dir.display().to_string())])
        .collect();
    for (email, role, org) in [
        (ORG_ADMIN, "org_admin", Some("AAAAA")),
        (REVIEWER, "reviewer", None),
    ] {
        let mut args = vec![
            "user",
            "add",
            "--email",
            email,
            "--role",
            role,
            "--password-stdin",
        ];
        if let Some(code) = org {
            args.extend(["--org", code]);
        }
        run_cli(&args, &cli_env).await;
    }
    let one = Node::start("node-1", &one_dir, &env);
    let two = Node::start("node-2", &two_dir, &env);
    let db = secportal::db::Db::connect(&db_url).await.unwrap();
    let org = secportal::db::users::by_email(&db, ORG_ADMIN)
        .await
        .unwrap()
        .unwrap()
        .org_id
        .unwrap();

    let body = async {
        // The organisation uploads through node 1 …
        let admin = Visitor::new(&one);
        assert_eq!(admin.login(ORG_ADMIN).await.status(), StatusCode::SEE_OTHER);
        let page = format!("/orgs/{org}/system-configuration");
        let status = admin
            .upload(&format!("{page}/files"), "diagram", "構成図.pdf", PDF)
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER, "uploaded on node 1");
        // … and lists, downloads and previews it through node 2.
        let admin_two = admin.on(&two);
        let listed = admin_two.text(&page).await;
        let file_id = listed
            .split("href=\"/files/")
            .nth(1)
            .expect("node 2 lists the file")
            .split('"')
            .next()
            .unwrap()
            .to_string();
        for path in [
            format!("/files/{file_id}"),
            format!("/files/{file_id}/preview"),
        ] {
            let res = admin_two.get(&path).await;
            assert_eq!(res.status(), StatusCode::OK, "{path} on node 2");
            assert_eq!(res.bytes().await.unwrap().as_ref(), PDF, "{path} on node 2");
        }
        let csv = "機器種別,メーカー,型番,台数\nサーバ,富士通,PRIMERGY,2\n";
        let status = admin
            .upload(
                &format!("{page}/files"),
                "equipment_list",
                "機器一覧.csv",
                csv.as_bytes(),
            )
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let res = admin
            .post(&page, &[("note", "二拠点"), ("action", "submit")])
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "submitted");
        let receipt = location(&res);
        assert!(receipt.contains("/receipt"), "{receipt}");

        // The reviewer (second factor set up, as the portal requires) reads the queue on node 1,
        // which node 1 then keeps for a moment; the decision is made on node 2.
        let reviewer = Visitor::new(&one);
        assert_eq!(
            reviewer.login(REVIEWER).await.status(),
            StatusCode::SEE_OTHER
        );
        reviewer.enrol_second_factor().await;
        let reviewer_two = reviewer.on(&two);
        let token = reviewer_two.token().await;
        let waiting = "/review?state=submitted";
        let read_at = Instant::now();
        let queue = reviewer.text(waiting).await;
        let id = queue
            .split("href=\"/review/")
            .find_map(|s| {
                let id = s.split('"').next()?;
                uuid::Uuid::parse_str(id).ok().map(|_| id.to_string())
            })
            .expect("the submission is in node 1's queue");
        let res = reviewer_two
            .post_with(
                &token,
                &format!("/review/{id}/decide"),
                &[("decision", "accepted")],
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "decided on node 2");
        let listed = format!("href=\"/review/{id}\"");
        at_once(
            read_at,
            "node 1's queue drops the accepted submission",
            || async { !reviewer.text(waiting).await.contains(&listed) },
        )
        .await;
        let mine = admin.text(&receipt).await;
        assert!(
            mine.contains("受理"),
            "node 1 shows the organisation the decision"
        );

        // Signed in on both (one session); signing out on node 2 ends it on node 1 at once.
        let token = admin_two.token().await;
        let read_at = Instant::now();
        assert_eq!(
            admin.get("/home").await.status(),
            StatusCode::OK,
            "node 1 reads the session"
        );
        let res = admin_two.post_with(&token, "/logout", &[]).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "signed out on node 2");
        at_once(read_at, "node 1 refuses the ended session", || async {
            let res = admin.get("/home").await;
            res.status() == StatusCode::SEE_OTHER && location(&res).starts_with("/login")
        })
        .await;

        // An instruction due in three days: both schedulers wake every second, and the day's
        // reminder goes to the organisation once, from one node.
        let due = (secportal::web::page::today() + chrono::Duration::days(3)).to_string();
        let res = reviewer_two
            .post(
                &format!("/orgs/{org}/instructions"),
                &[
                    ("item_key", "antivirus"),
                    ("problem", "定義ファイルが古い"),
                    ("required_change", "定義ファイルを更新すること"),
                    ("due_date", due.as_str()),
                ],
            )
            .await;
        assert_eq!(
            res.status(),
            StatusCode::SEE_OTHER,
            "instruction issued on node 2"
        );
        let reminder = "are due soon or are overdue";
        let reminders =
            || one.mails(ORG_ADMIN, reminder).len() + two.mails(ORG_ADMIN, reminder).len();
        let sent = holds_by(Instant::now() + Duration::from_secs(60), || async {
            reminders() >= 1
        })
        .await;
        assert!(sent, "the scheduler mailed the reminder");
        // A few more runs of both schedulers change nothing.
        tokio::time::sleep(Duration::from_secs(4)).await;
        assert_eq!(reminders(), 1, "the reminder went out once");
        let anchors = |n: &Node| n.log_lines("\"target\":\"secportal::audit_anchor\"").len();
        assert_eq!(
            anchors(&one) + anchors(&two),
            1,
            "the day's audit anchor is logged once"
        );
    };
    tokio::time::timeout(Duration::from_secs(240), body)
        .await
        .expect("two-node journey timed out");
    drop((one, two));
    db.close().await;
    crate::file_stores::clear(&place).await;
}

/// Asserts that `check` (called right after the change's answer) holds within [`AT_ONCE`] of
/// a read made at `read_at`: sooner than the node would have read again by itself. On a
/// machine so loaded that the change took most of that time, the other node is given
/// [`AFTER_ANSWER`] from now instead; past the reuse, that cannot tell "at once" from "after a
/// second", and says so rather than fail.
async fn at_once<F, Fut>(read_at: Instant, what: &str, check: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = (read_at + AT_ONCE).max(Instant::now() + AFTER_ANSWER);
    if deadline > read_at + REUSED_FOR {
        eprintln!(
            "{what}: the machine was too slow to tell \"at once\" from \"after a second\" ({} ms)",
            read_at.elapsed().as_millis()
        );
    }
    assert!(holds_by(deadline, check).await, "{what} at once");
}

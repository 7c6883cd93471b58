//! Nothing lost under concurrency and faults: one draft however many requests race for it,
//! the file limit under parallel uploads, one version 2 however often "revise" is clicked,
//! and a full disk (files, mail, SQLite) answered clearly and recovered from without restart.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use secportal::db::on_db;

use crate::dual_test;
use crate::followup::{PDF, sent_with_reviewer, setup, submit_configuration};
use crate::helpers::{Backend, PASSWORD, TestApp, backends, field_value};

/// A small tmpfs mounted over a folder for one test, unmounted when dropped. Mounting needs
/// root (CI runs as root); elsewhere the tests that need one say so and skip.
pub struct TinyDisk {
    path: PathBuf,
}

impl TinyDisk {
    pub fn mount(path: &Path, bytes: u64) -> Option<TinyDisk> {
        std::fs::create_dir_all(path).unwrap();
        let ok = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={bytes}"), "tmpfs"])
            .arg(path)
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            eprintln!("SKIP: a tmpfs cannot be mounted here (needs root); full-disk case not run");
            return None;
        }
        Some(TinyDisk {
            path: path.to_path_buf(),
        })
    }

    fn filler(&self) -> PathBuf {
        self.path.join("filler")
    }

    /// Fills the disk, then gives `room` bytes back.
    pub fn fill(&self, room: u64) {
        use std::io::Write;
        let mut f = std::fs::File::create(self.filler()).unwrap();
        let block = vec![0u8; 16 * 1024];
        let mut len = 0u64;
        while f.write_all(&block).is_ok() {
            len += block.len() as u64;
        }
        // The last block may have gone in part: count what the file holds.
        len = len.max(f.metadata().map(|m| m.len()).unwrap_or(0));
        drop(f);
        let f = std::fs::OpenOptions::new()
            .write(true)
            .open(self.filler())
            .unwrap();
        f.set_len(len.saturating_sub(room)).unwrap();
    }

    /// Frees what `fill` took.
    pub fn free(&self) {
        std::fs::remove_file(self.filler()).unwrap();
    }
}

impl Drop for TinyDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(&self.path)
            .status();
    }
}

/// A distinct one-page PDF per number.
fn pdf(n: usize) -> Vec<u8> {
    let mut body = PDF.to_vec();
    body.extend_from_slice(format!("% {n}\n").as_bytes());
    body
}

/// Posts one multipart upload of `files` as the test's browser.
async fn upload(
    app: &TestApp,
    token: &str,
    org: &str,
    files: Vec<(String, Vec<u8>)>,
) -> reqwest::Response {
    let mut form = Form::new()
        .text("csrf_token", token.to_string())
        .text("role", "diagram");
    for (name, body) in files {
        form = form.part("files", Part::bytes(body).file_name(name));
    }
    app.client
        .post(app.url(&format!("/orgs/{org}/system-configuration/files")))
        .header("origin", &app.base)
        .multipart(form)
        .send()
        .await
        .unwrap()
}

/// (drafts of the organisation's system configuration, files in them).
async fn drafts_and_files(app: &TestApp, org: &str) -> (i64, i64) {
    let org = uuid::Uuid::parse_str(org).unwrap();
    on_db!(app.db(), p => sqlx::query_as::<_, (i64, i64)>(
        "SELECT (SELECT COUNT(*) FROM submissions WHERE org_id = $1 AND kind = 'system_configuration' AND state = 'draft'), \
         (SELECT COUNT(*) FROM submission_files f JOIN submissions s ON s.id = f.submission_id \
          WHERE s.org_id = $1 AND s.kind = 'system_configuration' AND s.state = 'draft')",
    )
    .bind(org)
    .fetch_one(p)
    .await)
    .unwrap()
}

/// Runs `n` copies of a request at once; answers their statuses.
async fn at_once<F, Fut>(n: usize, make: F) -> Vec<StatusCode>
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = reqwest::Response> + Send + 'static,
{
    let barrier = Arc::new(tokio::sync::Barrier::new(n));
    let mut tasks = vec![];
    for i in 0..n {
        let fut = make(i);
        let b = barrier.clone();
        tasks.push(tokio::spawn(async move {
            b.wait().await;
            fut.await.status()
        }));
    }
    let mut out = vec![];
    for t in tasks {
        out.push(t.await.unwrap());
    }
    out
}

dual_test!(
    ten_parallel_first_uploads_share_one_draft_and_every_file_is_listed,
    |app| async move {
        let (org, _) = setup(&app).await;
        let token = app.browser().token().await;
        let app = Arc::new(app);
        let statuses = at_once(10, |i| {
            let (app, token, org) = (app.clone(), token.clone(), org.clone());
            async move { upload(&app, &token, &org, vec![(format!("図{i}.pdf"), pdf(i))]).await }
        })
        .await;
        assert!(
            statuses.iter().all(|s| *s == StatusCode::SEE_OTHER),
            "{statuses:?}"
        );
        assert_eq!(drafts_and_files(&app, &org).await, (1, 10));
        let page = app
            .get(&format!("/orgs/{org}/system-configuration"))
            .await
            .text()
            .await
            .unwrap();
        for i in 0..10 {
            assert!(page.contains(&format!("図{i}.pdf")), "図{i}.pdf listed");
        }
    }
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_file_limit_holds_under_parallel_uploads() {
    for backend in backends() {
        let app = TestApp::spawn_configured(backend, |c| c.max_files = 5).await;
        let (org, _) = setup(&app).await;
        let token = app.browser().token().await;
        let app = Arc::new(app);
        let statuses = at_once(12, |i| {
            let (app, token, org) = (app.clone(), token.clone(), org.clone());
            async move {
                upload(
                    &app,
                    &token,
                    &org,
                    vec![
                        (format!("a{i}.pdf"), pdf(i)),
                        (format!("b{i}.pdf"), pdf(100 + i)),
                    ],
                )
                .await
            }
        })
        .await;
        assert_eq!(drafts_and_files(&app, &org).await, (1, 5), "{statuses:?}");
        assert!(
            statuses.contains(&StatusCode::UNPROCESSABLE_ENTITY),
            "the refused ones are told: {statuses:?}"
        );
        // One more, after the race, is refused with the limit named and nothing added.
        let res = upload(&app, &token, &org, vec![("c.pdf".into(), pdf(999))]).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(res.text().await.unwrap().contains("5 ファイルまで"));
        assert_eq!(drafts_and_files(&app, &org).await, (1, 5));
    }
}

dual_test!(
    twelve_parallel_revise_requests_open_one_version_2,
    |app| async move {
        let (org, sub, reviewer) = sent_with_reviewer(&app).await;
        let res = reviewer
            .post(
                &format!("/review/{sub}/decide"),
                &[("decision", "returned"), ("reason", "台数がありません")],
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let token = app.browser().token().await;
        let app = Arc::new(app);
        let statuses = at_once(12, |_| {
            let (app, token, org, sub) = (app.clone(), token.clone(), org.clone(), sub.clone());
            async move {
                app.client
                    .post(app.url(&format!("/orgs/{org}/submissions/{sub}/revise")))
                    .header("origin", &app.base)
                    .form(&[("csrf_token", token.as_str())])
                    .send()
                    .await
                    .unwrap()
            }
        })
        .await;
        assert!(
            statuses.iter().all(|s| *s == StatusCode::SEE_OTHER),
            "every click lands on the draft: {statuses:?}"
        );
        let versions: Vec<(i64, String)> = on_db!(app.db(), p => sqlx::query_as(
            "SELECT version, state FROM submissions ORDER BY version",
        )
        .fetch_all(p)
        .await)
        .unwrap();
        assert_eq!(
            versions,
            vec![(1, "returned".to_string()), (2, "draft".to_string())]
        );
        assert_eq!(app.audit_count("submission.revised").await, 1);
        // Twelve 提出 of that one draft each lead to its 確認 page; none seals it.
        let statuses = at_once(12, |_| {
            let (app, token, org) = (app.clone(), token.clone(), org.clone());
            async move {
                app.client
                    .post(app.url(&format!("/orgs/{org}/system-configuration")))
                    .header("origin", &app.base)
                    .form(&[
                        ("csrf_token", token.as_str()),
                        ("note", "台数を記入"),
                        ("action", "submit"),
                    ])
                    .send()
                    .await
                    .unwrap()
            }
        })
        .await;
        assert!(statuses.contains(&StatusCode::SEE_OTHER), "{statuses:?}");
        let sealed = || async {
            let n: i64 = on_db!(app.db(), p => sqlx::query_scalar(
                "SELECT COUNT(*) FROM submissions WHERE version = 2 AND receipt_no IS NOT NULL",
            )
            .fetch_one(p)
            .await)
            .unwrap();
            n
        };
        assert_eq!(sealed().await, 0);
        // Twelve confirmations of it seal it once.
        let draft: uuid::Uuid = on_db!(app.db(), p => sqlx::query_scalar(
            "SELECT id FROM submissions WHERE version = 2",
        )
        .fetch_one(p)
        .await)
        .unwrap();
        let confirm = format!("/orgs/{org}/submissions/{draft}/confirm");
        let page = app.get(&confirm).await.text().await.unwrap();
        let fingerprint = field_value(&page, "fingerprint").unwrap();
        let statuses = at_once(12, |_| {
            let (app, token, confirm, fingerprint) = (
                app.clone(),
                token.clone(),
                confirm.clone(),
                fingerprint.clone(),
            );
            async move {
                app.client
                    .post(app.url(&confirm))
                    .header("origin", &app.base)
                    .form(&[
                        ("csrf_token", token.as_str()),
                        ("fingerprint", fingerprint.as_str()),
                    ])
                    .send()
                    .await
                    .unwrap()
            }
        })
        .await;
        assert!(
            statuses.iter().all(|s| *s == StatusCode::SEE_OTHER),
            "{statuses:?}"
        );
        assert_eq!(sealed().await, 1);
    }
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_during_a_multi_file_upload_answers_507_naming_kept_and_lost_files() {
    for backend in backends() {
        let mut disk = None;
        let app = TestApp::spawn_configured(backend, |c| {
            disk = TinyDisk::mount(&c.files_dir(), 1024 * 1024);
        })
        .await;
        if disk.is_none() {
            return;
        }
        let (org, _) = setup(&app).await;
        let token = app.browser().token().await;
        let big = |n: usize| {
            let mut b = pdf(n);
            b.extend(std::iter::repeat_n(b'x', 400 * 1024));
            b
        };
        let res = upload(
            &app,
            &token,
            &org,
            vec![
                ("一.pdf".into(), big(1)),
                ("二.pdf".into(), big(2)),
                ("三.pdf".into(), big(3)),
                ("四.pdf".into(), big(4)),
            ],
        )
        .await;
        assert_eq!(res.status(), StatusCode::INSUFFICIENT_STORAGE);
        let page = res.text().await.unwrap();
        assert!(
            page.contains("「三.pdf、四.pdf」は保存できませんでした")
                && page.contains("保存されたファイル：一.pdf、二.pdf"),
            "{page}"
        );
        assert_eq!(drafts_and_files(&app, &org).await, (1, 2));
        // Every file the page calls kept downloads whole.
        let draft = app
            .get(&format!("/orgs/{org}/system-configuration"))
            .await
            .text()
            .await
            .unwrap();
        assert!(draft.contains("一.pdf") && draft.contains("二.pdf") && !draft.contains("三.pdf"));
        drop(app);
        drop(disk);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mail_on_a_full_disk_stays_unsent_and_goes_out_once_there_is_room() {
    let mut disk = None;
    let app = TestApp::spawn_configured(Backend::Sqlite, |c| {
        disk = TinyDisk::mount(&c.mail_dir(), 256 * 1024);
    })
    .await;
    let Some(disk) = disk else { return };
    let (org, _) = setup(&app).await;
    let sub = submit_configuration(&app, &org).await;
    let before = app.mail_count();
    disk.fill(0);
    let reviewer = app.new_browser();
    reviewer.login("reviewer@center.example.jp", PASSWORD).await;
    let res = reviewer
        .post(
            &format!("/review/{sub}/decide"),
            &[("decision", "returned"), ("reason", "構成図が古い")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "the decision stands");
    assert_eq!(
        app.wait_unsent_mail((1, Some(1))).await,
        (1, Some(1)),
        "unsent, to be tried again"
    );
    let files: Vec<_> = std::fs::read_dir(app.data_dir.join("mail"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.file_name().is_some_and(|n| n != "filler"))
        .collect();
    assert_eq!(
        files.len(),
        before,
        "no empty or partial mail left: {files:?}"
    );
    disk.free();
    let later = secportal::db::now() + chrono::Duration::minutes(3);
    assert_eq!(
        secportal::app::notify::retry_mail(&app.state, later)
            .await
            .unwrap(),
        1
    );
    assert!(app.mail_text("kanri@a.example.jp", "構成図が古い").len() > 100);
    assert_eq!(app.unsent_mail().await.0, 0);
    drop(app);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_writes_work_again_as_soon_as_the_full_disk_has_room() {
    let mut disk = None;
    let app = TestApp::spawn_configured(Backend::Sqlite, |c| {
        disk = TinyDisk::mount(&c.data_dir, 16 * 1024 * 1024);
    })
    .await;
    let Some(disk) = disk else { return };
    let (org, _) = setup(&app).await;
    let office = |n: usize| {
        let app = &app;
        let org = org.clone();
        async move {
            app.post(
                &format!("/orgs/{org}/locations"),
                &[
                    ("kind", "office"),
                    ("name", &format!("営業所{n}")),
                    ("address", &"東京都千代田区霞が関一丁目".repeat(20)),
                ],
            )
            .await
            .status()
        }
    };
    assert_eq!(office(0).await, StatusCode::SEE_OTHER);
    disk.fill(0);
    let mut full = None;
    for n in 1..400 {
        let status = office(n).await;
        if status != StatusCode::SEE_OTHER {
            full = Some(status);
            break;
        }
    }
    assert_eq!(
        full,
        Some(StatusCode::INSUFFICIENT_STORAGE),
        "a full disk is said as such"
    );
    disk.free();
    // Every pooled connection serves again: more writes than the pool has connections.
    for n in 1000..1020 {
        assert_eq!(
            office(n).await,
            StatusCode::SEE_OTHER,
            "write {n} after space came back"
        );
    }
    drop(app);
}

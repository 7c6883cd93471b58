//! Backup, restore and check (`secportal backup`, `restore`, `check`), and the sweep of
//! unreferenced files while the portal runs.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use bytes::Bytes;
use reqwest::StatusCode;
use secportal::Config;
use secportal::db::on_db;
use secportal::maintenance::{self, Depth};
use sha2::{Digest, Sha256};

use crate::dual_test;
use crate::files::{setup, upload};
use crate::helpers::{Backend, PASSWORD, TestApp, backends, fresh_pg};

/// A small PDF that differs for every `i`.
fn pdf(i: usize) -> Vec<u8> {
    format!(
        "%PDF-1.7\n% upload {i}\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
    )
    .into_bytes()
}

fn sha(body: &[u8]) -> String {
    hex::encode(Sha256::digest(body))
}

fn blob_file(data: &Path, sha: &str) -> PathBuf {
    data.join("files/blobs").join(&sha[..2]).join(sha)
}

/// Every blob file under a data folder.
fn blob_count(data: &Path) -> usize {
    let mut n = 0;
    let mut stack = vec![data.join("files/blobs")];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            if e.path().is_dir() {
                stack.push(e.path());
            } else {
                n += 1;
            }
        }
    }
    n
}

/// Stores a file the way an upload does, without recording it (an upload cut off between
/// the store and the database).
async fn store_unrecorded(app: &TestApp, body: Vec<u8>) -> String {
    let sha = store_held(app, body).await.sha256.clone();
    // The hold ends with a task its drop spawns: wait until its row is gone, so the file is
    // stored, unrecorded and unheld when this answers (a sweep right after found it still
    // held once in CI).
    for _ in 0..100 {
        let holders: i64 = on_db!(app.db(), p => sqlx::query_scalar(
            "SELECT COUNT(*) FROM blob_holds WHERE sha256 = $1 AND holders > 0"
        )
        .bind(&sha)
        .fetch_one(p)
        .await)
        .unwrap();
        if holders == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    sha
}

/// Stores a file the way an upload does and answers the hold an upload keeps until it has
/// recorded it.
async fn store_held(app: &TestApp, body: Vec<u8>) -> secportal::files::Stored {
    let stream = futures_util::stream::iter(vec![Ok::<_, std::io::Error>(Bytes::from(body))]);
    app.state
        .files
        .receive("cut-off.pdf", stream)
        .await
        .unwrap()
}

/// (name, id) of every submission file in a database.
async fn submission_files(app: &TestApp) -> BTreeMap<String, uuid::Uuid> {
    let rows: Vec<(uuid::Uuid, String)> = on_db!(app.db(), p => sqlx::query_as(
        "SELECT id, name FROM submission_files"
    )
    .fetch_all(p)
    .await)
    .unwrap();
    rows.into_iter().map(|(id, name)| (name, id)).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_while_uploads_run_restores_every_acknowledged_file() {
    for backend in backends() {
        let label = backend.label();
        let app = TestApp::spawn_configured(backend.clone(), |c| c.max_files = 1000).await;
        let org = setup(&app).await;
        let work = tempfile::tempdir().unwrap();
        let backup_dir = work.path().join("backup");

        // Uploads run, one after another, while the backup is taken; each 303 is a file the
        // portal acknowledged.
        let acked: Mutex<Vec<(String, Vec<u8>)>> = Mutex::new(vec![]);
        let stop = AtomicBool::new(false);
        let uploading = async {
            let mut i = 0;
            while !stop.load(Ordering::SeqCst) && i < 500 {
                let name = format!("diagram-{i:03}.pdf");
                let body = pdf(i);
                let res = upload(&app, &org, "diagram", vec![(&name, body.clone())]).await;
                assert_eq!(res.status(), StatusCode::SEE_OTHER, "{label}: upload {i}");
                acked.lock().unwrap().push((name, body));
                i += 1;
            }
        };
        let backing_up = async {
            while acked.lock().unwrap().len() < 3 {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            let before = acked.lock().unwrap().len();
            let report = maintenance::backup(&app.state.config, &backup_dir)
                .await
                .unwrap();
            let after = acked.lock().unwrap().len();
            while acked.lock().unwrap().len() < after + 3 {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            stop.store(true, Ordering::SeqCst);
            (before, after, report)
        };
        let ((), (before, after, report)) = tokio::join!(uploading, backing_up);
        let acked = acked.into_inner().unwrap();
        let m = &report.manifest;
        eprintln!(
            "{label}: {before} acknowledged before the backup, {after} when it ended, {} in all; {} referenced by the snapshot, {} files copied",
            acked.len(),
            m.referenced,
            m.files.len()
        );
        assert_eq!(m.backend, label);
        assert_eq!(
            m.schema_version,
            secportal::db::blobs::schema_version(app.db())
                .await
                .unwrap()
        );
        assert!(m.schema_version.starts_with("00"), "{}", m.schema_version);
        assert!(m.missing.is_empty(), "{label}: {:?}", m.missing);
        assert!(m.referenced >= before, "{label}");
        assert!(backup_dir.join("manifest.json").exists());

        // The backup goes to a new data folder and a new, empty database.
        let target = tempfile::tempdir().unwrap();
        let data = target.path().join("data");
        let (db_url, _pg) = match &backend {
            Backend::Sqlite => (None, None),
            Backend::Postgres { admin_url } => {
                let (url, guard) = fresh_pg(admin_url).await;
                (Some(url), Some(guard))
            }
        };
        let config = Config::for_data_dir(data.clone(), db_url).unwrap();

        // A damaged backup is refused, naming the file, and nothing is restored.
        let victim_rel = m.files[0].path.clone();
        let victim = backup_dir.join(&victim_rel);
        let original = std::fs::read(&victim).unwrap();
        let mut damaged = original.clone();
        damaged[20] ^= 0x01;
        std::fs::write(&victim, &damaged).unwrap();
        let err = maintenance::restore(&config, &backup_dir, false)
            .await
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("damaged") && err.contains(&victim_rel),
            "{label}: {err}"
        );
        assert_eq!(blob_count(&data), 0, "{label}: no file restored");
        match &backend {
            Backend::Sqlite => assert!(!data.join("secportal.db").exists()),
            Backend::Postgres { .. } => {
                let db = secportal::db::Db::connect(&config.database_url)
                    .await
                    .unwrap();
                let secportal::db::Pool::Postgres(pool) = db.pool() else {
                    unreachable!()
                };
                assert_eq!(
                    secportal::db::blobs::pg_table_count(pool).await.unwrap(),
                    0,
                    "{label}: no table restored"
                );
                db.close().await;
            }
        }
        std::fs::write(&victim, &original).unwrap();

        let restored = maintenance::restore(&config, &backup_dir, false)
            .await
            .unwrap();
        assert_eq!(restored.check.checked, m.referenced, "{label}");
        assert!(
            restored.check.problems.is_empty(),
            "{label}: {:?}",
            restored.check.problems
        );
        // The audit key is not in the backup: restore says so, and the copy does not start
        // without the key its trail was written with (making none), nor with another one.
        assert!(
            matches!(restored.key, maintenance::restore::KeyStanding::Missing(_)),
            "{label}: {:?}",
            restored.key
        );
        assert!(restored.key.line().contains("before starting"));
        let err = format!("{:#}", secportal::open_db(&config).await.unwrap_err());
        assert!(err.contains("written with a key"), "{label}: {err}");
        assert!(!data.join("audit.key").exists(), "{label}: no key made");
        let mut other = config.clone();
        other.audit_key = secportal::config::AuditKeySource::Value(vec![7; 32]);
        let err = format!("{:#}", secportal::open_db(&other).await.unwrap_err());
        assert!(err.contains("does not fit"), "{label}: {err}");
        // A restore is refused while a portal serves from the folder.
        let serving = maintenance::lock::serving(&data).unwrap();
        let err = maintenance::restore(&config, &backup_dir, true)
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains("a portal is serving"), "{label}: {err}");
        drop(serving);
        // Restoring again over the restored database is refused without --force.
        let err = maintenance::restore(&config, &backup_dir, false)
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains("--force"), "{label}: {err}");

        // With the key put back (as README tells), the restored portal has every file
        // acknowledged before the backup began, and every file it lists downloads with the
        // bytes that were uploaded.
        std::fs::copy(app.data_dir.join("audit.key"), data.join("audit.key")).unwrap();
        let fits = maintenance::restore(&config, &backup_dir, true)
            .await
            .unwrap();
        assert!(fits.key.fits(), "{label}: {:?}", fits.key);
        let config_db = config.database_url.clone();
        let data_dir = data.clone();
        let back = TestApp::spawn_configured(backend.clone(), move |c| {
            c.audit_key = secportal::config::AuditKeySource::File(data_dir.join("audit.key"));
            c.data_dir = data_dir;
            c.database_url = config_db;
        })
        .await;
        back.login("kanri@a.example.jp", PASSWORD).await;
        let rows = submission_files(&back).await;
        assert_eq!(rows.len(), m.referenced, "{label}");
        for (name, _) in &acked[..before] {
            assert!(
                rows.contains_key(name),
                "{label}: {name} was acknowledged before the backup but is not restored"
            );
        }
        let bodies: BTreeMap<&String, &Vec<u8>> = acked.iter().map(|(n, b)| (n, b)).collect();
        for (name, id) in &rows {
            let res = back.get(&format!("/files/{id}")).await;
            assert_eq!(res.status(), StatusCode::OK, "{label}: {name}");
            assert_eq!(
                res.bytes().await.unwrap().as_ref(),
                bodies[name].as_slice(),
                "{label}: {name}"
            );
        }
    }
}

dual_test!(
    check_names_missing_and_altered_files_and_exits_non_zero,
    |app| async move {
        let org = setup(&app).await;
        let (a, b, c) = (pdf(1), pdf(2), pdf(3));
        for (name, body) in [("a.pdf", &a), ("b.pdf", &b), ("c.pdf", &c)] {
            let res = upload(&app, &org, "diagram", vec![(name, body.clone())]).await;
            assert_eq!(res.status(), StatusCode::SEE_OTHER);
        }
        let check = || {
            std::process::Command::new(env!("CARGO_BIN_EXE_secportal"))
                .arg("check")
                .env("SECPORTAL_DATA_DIR", &app.data_dir)
                .env("DATABASE_URL", &app.state.config.database_url)
                .output()
                .unwrap()
        };
        let out = check();
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        assert!(out.status.success(), "{stdout}");
        assert!(
            stdout.contains("checked 3 referenced file(s): all present and intact"),
            "{stdout}"
        );

        // One file lost, one altered in place (same size), as a bad copy would leave them.
        std::fs::remove_file(blob_file(&app.data_dir, &sha(&a))).unwrap();
        let mut altered = b.clone();
        altered[12] = b'X';
        std::fs::write(blob_file(&app.data_dir, &sha(&b)), &altered).unwrap();

        let out = check();
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        assert_eq!(out.status.code(), Some(1), "{stdout}");
        assert!(
            stdout.contains(&format!("missing: blobs/{}", sha(&a))) && stdout.contains("a.pdf"),
            "{stdout}"
        );
        assert!(
            stdout.contains(&format!("blobs/{}", sha(&b)))
                && stdout.contains("altered (content does not match its SHA-256)"),
            "{stdout}"
        );
        assert!(!stdout.contains(&sha(&c)), "{stdout}");
        assert!(
            stdout.contains("checked 3 referenced file(s): 2 missing or altered"),
            "{stdout}"
        );
        // The cheap check the server runs at start sees the missing file (not the same-size
        // alteration: that takes reading every file).
        let quick = maintenance::check(app.db(), &app.state.files, Depth::Exists)
            .await
            .unwrap();
        assert_eq!(quick.problems.len(), 1);
        assert_eq!(quick.problems[0].blob.sha256, sha(&a));

        // The real server says so at start, in its log (SQLite: it opens the same folder).
        if app.db().backend() == "sqlite" {
            assert!(start_warns_of_missing_files(&app.data_dir, &sha(&a)));
        }

        // A backup of this store says what it could not copy and exits 1.
        let dir = app.data_dir.parent().unwrap().join("backup");
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_secportal"))
            .arg("backup")
            .arg(&dir)
            .env("SECPORTAL_DATA_DIR", &app.data_dir)
            .env("DATABASE_URL", &app.state.config.database_url)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(
            stderr.contains(&sha(&a)) && stderr.contains(&sha(&b)),
            "{stderr}"
        );
        let manifest: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap();
        assert_eq!(manifest["missing"].as_array().unwrap().len(), 2);
        assert_eq!(manifest["files"].as_array().unwrap().len(), 1);
    }
);

/// Starts the binary on `data` and reads its log until the start-up check warns about `sha`
/// (true) or 30 s pass (false); stops it either way.
fn start_warns_of_missing_files(data: &Path, sha: &str) -> bool {
    use std::io::BufRead;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_secportal"))
        .env("SECPORTAL_ADDR", "127.0.0.1:0")
        .env("SECPORTAL_DATA_DIR", data)
        .env_remove("DATABASE_URL")
        .env_remove("SECPORTAL_BASE_URL")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            let _ = tx.send(line);
        }
    });
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let (mut summary, mut named) = (false, false);
    while !(summary && named) {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        let Ok(line) = rx.recv_timeout(left) else {
            break;
        };
        summary |= line.contains("WARN") && line.contains("missing or altered in the store");
        named |= line.contains("WARN") && line.contains(&format!("missing: blobs/{sha}"));
    }
    let _ = child.kill();
    let _ = child.wait();
    summary && named
}

#[test]
fn backup_refuses_a_missing_database_and_a_used_folder_and_restore_a_folder_without_manifest() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let dir = tmp.path().join("backup");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("old.txt"), "x").unwrap();
    let run = |args: &[&std::ffi::OsStr]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_secportal"))
            .args(args)
            .env("SECPORTAL_DATA_DIR", &data)
            .env_remove("DATABASE_URL")
            .output()
            .unwrap()
    };
    let out = run(&["backup".as_ref(), dir.as_os_str()]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("there is no database"));
    assert!(!data.join("secportal.db").exists());
    let out = run(&["migrate".as_ref()]);
    assert!(out.status.success());
    let out = run(&["backup".as_ref(), dir.as_os_str()]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not empty"));
    assert!(!dir.join("manifest.json").exists());
    let out = run(&["restore".as_ref(), dir.as_os_str()]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("has no manifest.json"));
}

#[tokio::test]
async fn a_postgres_backup_without_pg_dump_names_the_missing_tool() {
    let Some(Backend::Postgres { admin_url }) = backends().into_iter().nth(1) else {
        return;
    };
    let (url, _guard) = fresh_pg(&admin_url).await;
    let tmp = tempfile::tempdir().unwrap();
    let empty_path = tmp.path().join("bin");
    std::fs::create_dir_all(&empty_path).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_secportal"))
        .arg("backup")
        .arg(tmp.path().join("backup"))
        .env("SECPORTAL_DATA_DIR", tmp.path().join("data"))
        .env("DATABASE_URL", &url)
        .env("PATH", &empty_path)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(!out.status.success());
    assert!(stderr.contains("pg_dump is not installed"), "{stderr}");
    assert!(!tmp.path().join("backup/manifest.json").exists());
}

dual_test!(
    an_unreferenced_file_is_swept_only_once_older_than_the_age_guard,
    |app| async move {
        let org = setup(&app).await;
        let kept = pdf(1);
        let res = upload(&app, &org, "diagram", vec![("kept.pdf", kept.clone())]).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let orphan = store_unrecorded(&app, pdf(2)).await;
        let day = chrono::Duration::days(1);
        let now = chrono::Utc::now();
        let sweep = |at| maintenance::sweep::sweep_unreferenced(&app.state, at, day);

        // Young: an upload may still be about to record it.
        assert_eq!(sweep(now).await.unwrap(), (0, 0));
        assert!(blob_file(&app.data_dir, &orphan).exists());
        // A day later it goes; the recorded file stays.
        assert_eq!(
            sweep(now + chrono::Duration::hours(25)).await.unwrap(),
            (0, 1)
        );
        assert!(!blob_file(&app.data_dir, &orphan).exists());
        assert!(blob_file(&app.data_dir, &sha(&kept)).exists());

        // An old unreferenced file uploaded again is young again: the sweep leaves it for
        // the upload to record.
        let again = store_unrecorded(&app, pdf(3)).await;
        let path = blob_file(&app.data_dir, &again);
        std::fs::File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_modified(std::time::SystemTime::now() - Duration::from_secs(2 * 86400))
            .unwrap();
        assert_eq!(store_unrecorded(&app, pdf(3)).await, again);
        assert_eq!(sweep(chrono::Utc::now()).await.unwrap(), (0, 0));
        assert!(path.exists());

        // An upload that has stored its file but not yet recorded it holds it, however old
        // the file looks; once the hold ends (recorded, or the upload gave up) the age guard
        // alone decides.
        let held = store_held(&app, pdf(4)).await;
        let far = chrono::Utc::now() + chrono::Duration::days(30);
        assert_eq!(sweep(far).await.unwrap(), (0, 1));
        assert!(!path.exists());
        assert!(blob_file(&app.data_dir, &held.sha256).exists());
        let held_path = blob_file(&app.data_dir, &held.sha256);
        drop(held);
        // The hold's row is removed by a task the drop spawns: the sweep may find it a
        // moment longer, and then takes the file.
        let mut swept = (0, 0);
        for _ in 0..50 {
            swept = sweep(far).await.unwrap();
            if swept != (0, 0) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(swept, (0, 1));
        assert!(!held_path.exists());
        assert!(blob_file(&app.data_dir, &sha(&kept)).exists());
    }
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_running_portal_sweeps_unreferenced_files_periodically() {
    for backend in backends() {
        let label = backend.label();
        let app = TestApp::spawn_configured(backend, |c| {
            c.file_sweep_every = Duration::from_millis(200);
            c.file_sweep_min_age = Duration::from_secs(8);
        })
        .await;
        let org = setup(&app).await;
        let kept = pdf(1);
        let res = upload(&app, &org, "diagram", vec![("kept.pdf", kept.clone())]).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let orphan = store_unrecorded(&app, pdf(2)).await;
        let path = blob_file(&app.data_dir, &orphan);
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert!(path.exists(), "{label}: younger than the age guard");
        let started = std::time::Instant::now();
        while path.exists() {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "{label}: not swept"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(blob_file(&app.data_dir, &sha(&kept)).exists(), "{label}");
        let id = submission_files(&app).await["kept.pdf"];
        assert_eq!(
            app.get(&format!("/files/{id}")).await.status(),
            StatusCode::OK
        );
    }
}

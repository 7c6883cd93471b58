//! The attack run's findings (issue 12), each answered: no open redirect, reset mail that
//! cannot be flooded, a throttle a stranger cannot turn against the owner or dodge with a
//! forged `X-Forwarded-For`, and a broken upload answered 400.

use reqwest::StatusCode;

use crate::dual_test;
use crate::helpers::{Backend, PASSWORD, TestApp, location};

/// Signs in with a form post carrying `X-Forwarded-For: forwarded`.
async fn login_from(app: &TestApp, forwarded: &str, email: &str, password: &str) -> StatusCode {
    let browser = app.new_browser();
    let token = browser.token().await;
    browser
        .client
        .post(app.url("/login"))
        .header("origin", &app.base)
        .header("x-forwarded-for", forwarded)
        .form(&[
            ("email", email),
            ("password", password),
            ("csrf_token", &token),
        ])
        .send()
        .await
        .unwrap()
        .status()
}

dual_test!(
    next_after_sign_in_never_leaves_the_site_and_never_fails,
    |app| async move {
        app.add_user("kanri@a.example.jp", "org_admin", Some("AAAAA"))
            .await;
        app.login("kanri@a.example.jp", PASSWORD).await;
        for next in [
            "%2F%09%2Fevil.example",
            "/%0A/evil.example",
            "/%5Cevil.example",
            "%2F%20%2Fevil.example",
            "/%7F",
            "/%E3%81%82",
        ] {
            let res = app.get(&format!("/login?next={next}")).await;
            assert_eq!(res.status(), StatusCode::SEE_OTHER, "{next}");
            assert_eq!(location(&res), "/home", "{next}");
        }
        let res = app.get("/login?next=/inbox").await;
        assert_eq!(location(&res), "/inbox", "a path of ours is kept");
    }
);

dual_test!(
    password_reset_mail_is_limited_per_address_and_per_client,
    |app| async move {
        app.add_user("clerk@example.jp", "org_admin", Some("AB123"))
            .await;
        let mails = app.mail_count();
        for _ in 0..5 {
            let res = app
                .post("/password/forgot", &[("email", "clerk@example.jp")])
                .await;
            assert_eq!(res.status(), StatusCode::OK);
        }
        app.wait_mail_count(mails + 3).await;
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        assert_eq!(
            app.mail_count(),
            mails + 3,
            "three links an hour per address"
        );
        for i in 0..5 {
            let res = app
                .post(
                    "/password/forgot",
                    &[("email", &format!("other{i}@example.jp"))],
                )
                .await;
            assert_eq!(res.status(), StatusCode::OK);
        }
        let res = app
            .post("/password/forgot", &[("email", "one-more@example.jp")])
            .await;
        assert_eq!(
            res.status(),
            StatusCode::TOO_MANY_REQUESTS,
            "ten requests from one client, then 429"
        );
    }
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stranger_cannot_lock_the_owner_out_nor_dodge_the_throttle_with_forwarded_for() {
    for backend in crate::helpers::backends() {
        let app = TestApp::spawn_configured(backend, |c| c.trusted_proxies = 1).await;
        app.add_user("kanri@a.example.jp", "org_admin", Some("AAAAA"))
            .await;
        // Five wrong passwords from one address, then that address is refused …
        for _ in 0..5 {
            assert_eq!(
                login_from(
                    &app,
                    "198.51.100.7",
                    "kanri@a.example.jp",
                    "wrong-password-123"
                )
                .await,
                StatusCode::UNAUTHORIZED
            );
        }
        assert_eq!(
            login_from(&app, "198.51.100.7", "kanri@a.example.jp", PASSWORD).await,
            StatusCode::TOO_MANY_REQUESTS
        );
        // … but the owner, elsewhere, signs in.
        assert_eq!(
            login_from(&app, "203.0.113.5", "kanri@a.example.jp", PASSWORD).await,
            StatusCode::SEE_OTHER
        );
        // Only the entry our proxy added counts: rotating the entries to its left does not
        // make a fresh client.
        let mut last = StatusCode::OK;
        for i in 0..21 {
            last = login_from(
                &app,
                &format!("10.0.{i}.1, 192.0.2.44"),
                &format!("nobody{i}@example.jp"),
                "wrong-password-123",
            )
            .await;
        }
        assert_eq!(last, StatusCode::TOO_MANY_REQUESTS);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_truncated_upload_answers_400_and_stores_nothing() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    app.add_user("kanri@a.example.jp", "org_admin", Some("AAAAA"))
        .await;
    app.login("kanri@a.example.jp", PASSWORD).await;
    let org = app.org_of("kanri@a.example.jp").await;
    let token = app.browser().token().await;
    let boundary = "xBOUNDARYx";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n{token}\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"role\"\r\n\r\ndiagram\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"a.pdf\"\r\n\
         Content-Type: application/pdf\r\n\r\n%PDF-1.7\n"
    )
    .into_bytes();
    body.extend(std::iter::repeat_n(b'x', 64 * 1024));
    // No closing boundary: the body just ends.
    let res = app
        .client
        .post(app.url(&format!("/orgs/{org}/system-configuration/files")))
        .header("origin", &app.base)
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(app.count("submission_files").await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_sent_headers_stalled_bodies_and_idle_connections_are_closed() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = TestApp::spawn_configured(Backend::Sqlite, |c| {
        c.header_timeout = std::time::Duration::from_secs(1);
        c.idle_timeout = std::time::Duration::from_secs(2);
    })
    .await;
    let addr = app.base.trim_start_matches("http://").to_string();
    // Answers how long the server took to close the connection after `sent`.
    async fn closed_after(addr: &str, sent: &[u8]) -> std::time::Duration {
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        s.write_all(sent).await.unwrap();
        let started = std::time::Instant::now();
        let mut buf = vec![0u8; 4096];
        let read = async {
            loop {
                match s.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {}
                }
            }
        };
        tokio::time::timeout(std::time::Duration::from_secs(20), read)
            .await
            .expect("the server closed the connection");
        started.elapsed()
    }
    let secs = |d: std::time::Duration| d.as_secs_f64();
    let half_headers = closed_after(&addr, b"GET /login HTTP/1.1\r\nHost: x\r\n").await;
    assert!(secs(half_headers) < 5.0, "half headers: {half_headers:?}");
    let stalled_body = closed_after(
        &addr,
        b"POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\nemail=a",
    )
    .await;
    assert!(secs(stalled_body) < 8.0, "stalled body: {stalled_body:?}");
    let idle = closed_after(&addr, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").await;
    // Waiting for a next request counts as reading its headers.
    assert!(
        secs(idle) >= 0.5 && secs(idle) < 8.0,
        "an idle keep-alive connection: {idle:?}"
    );
    // An ordinary request is unaffected.
    assert_eq!(app.get("/login").await.status(), StatusCode::OK);
}

/// The EICAR test string: every scanner's agreed "this is a virus" sample.
const EICAR: &[u8] = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";

/// clamd from Debian's package, on a socket of its own, with one signature made here (no
/// signature download is possible): the EICAR string's MD5. `None` when clamd is not installed.
struct ClamdUnderTest {
    child: std::process::Child,
    socket: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl ClamdUnderTest {
    async fn start() -> Option<ClamdUnderTest> {
        let bin = ["/usr/sbin/clamd", "/usr/bin/clamd"]
            .into_iter()
            .find(|p| std::path::Path::new(p).exists())?;
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("db");
        std::fs::create_dir_all(&db).unwrap();
        let md5 = "44d88612fea8a8f36de82e1278abb02f";
        std::fs::write(
            db.join("portal-test.hdb"),
            format!("{md5}:{}:Portal.Test.EICAR\n", EICAR.len()),
        )
        .unwrap();
        let socket = dir.path().join("clamd.sock");
        let conf = dir.path().join("clamd.conf");
        std::fs::write(
            &conf,
            format!(
                "LocalSocket {}\nDatabaseDirectory {}\nForeground yes\nLogFile {}\nTemporaryDirectory {}\n",
                socket.display(),
                db.display(),
                dir.path().join("clamd.log").display(),
                dir.path().display()
            ),
        )
        .unwrap();
        let mut child = std::process::Command::new(bin)
            .arg("--config-file")
            .arg(&conf)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        for _ in 0..300 {
            if tokio::net::UnixStream::connect(&socket).await.is_ok() {
                return Some(ClamdUnderTest {
                    child,
                    socket,
                    _dir: dir,
                });
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!(
            "clamd did not start: {}",
            std::fs::read_to_string(dir.path().join("clamd.log")).unwrap_or_default()
        );
    }
}

impl Drop for ClamdUnderTest {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_clamd_configured_malware_is_refused_and_nothing_is_stored() {
    let Some(clamd) = ClamdUnderTest::start().await else {
        eprintln!(
            "SKIP: clamd is not installed (Debian package clamav-daemon); .ci/run installs it"
        );
        return;
    };
    let socket = clamd.socket.clone();
    let app = TestApp::spawn_configured(Backend::Sqlite, |c| {
        c.clamd = Some(secportal::files::clamd::Clamd::Unix(socket));
    })
    .await;
    app.add_user("kanri@a.example.jp", "org_admin", Some("AAAAA"))
        .await;
    app.login("kanri@a.example.jp", PASSWORD).await;
    let org = app.org_of("kanri@a.example.jp").await;
    let send = |name: &'static str, body: Vec<u8>| {
        let app = &app;
        async move {
            let token = app.browser().token().await;
            let form = reqwest::multipart::Form::new()
                .text("csrf_token", token)
                .text("role", "equipment_list")
                .part(
                    "files",
                    reqwest::multipart::Part::bytes(body).file_name(name),
                );
            app.client
                .post(app.url(&format!("/orgs/{org}/system-configuration/files")))
                .header("origin", &app.base)
                .multipart(form)
                .send()
                .await
                .unwrap()
        }
    };
    let res = send("機器一覧.csv", EICAR.to_vec()).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("マルウェアを検出したため、保存しませんでした"),
    );
    assert_eq!(app.count("submission_files").await, 0);
    let stored = walk(&app.data_dir.join("files").join("blobs"));
    assert!(stored.is_empty(), "nothing kept: {stored:?}");
    let res = send("機器一覧.csv", "機器,台数\nPC,3\n".as_bytes().to_vec()).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "a clean file is kept");
    assert_eq!(app.count("submission_files").await, 1);
    // A scanner that does not answer keeps nothing either.
    drop(clamd);
    let res = send("機器一覧2.csv", "機器,台数\nPC,4\n".as_bytes().to_vec()).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("ウイルス検査を実行できなかった")
    );
    assert_eq!(app.count("submission_files").await, 1);
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = vec![];
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

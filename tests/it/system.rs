//! Health, headers, error pages, language, configuration, CLI and the schema of both backends.

use axum::Router;
use axum::routing::get;
use reqwest::StatusCode;

use crate::dual_test;
use crate::helpers::{Backend, PASSWORD, TestApp, backends, fresh_pg};

dual_test!(healthz_and_readyz_answer_json, |app| async move {
    let res = app.get("/healthz").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        res.json::<serde_json::Value>().await.unwrap()["status"],
        "ok"
    );
    let res = app.get("/readyz").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        res.json::<serde_json::Value>().await.unwrap()["status"],
        "ready"
    );
});

dual_test!(
    every_response_carries_the_security_headers,
    |app| async move {
        for path in ["/login", "/healthz", "/no-such-page", "/static/app.css"] {
            let res = app.get(path).await;
            let h = res.headers();
            let csp = h.get("content-security-policy").unwrap().to_str().unwrap();
            for part in [
                "default-src 'self'",
                "object-src 'none'",
                "base-uri 'none'",
                "frame-ancestors 'none'",
                "form-action 'self'",
            ] {
                assert!(csp.contains(part), "{path}: {csp}");
            }
            assert_eq!(
                h.get("x-content-type-options").unwrap(),
                "nosniff",
                "{path}"
            );
            assert_eq!(h.get("referrer-policy").unwrap(), "same-origin", "{path}");
            assert!(h.get("x-request-id").is_some(), "{path}");
            assert!(
                h.get("strict-transport-security").is_none(),
                "no HSTS over http"
            );
        }
        assert_eq!(
            app.get("/login")
                .await
                .headers()
                .get("cache-control")
                .unwrap(),
            "no-store"
        );
    }
);

dual_test!(
    unknown_page_answers_404_in_japanese_by_default_and_english_on_request,
    |app| async move {
        let res = app.get("/no-such-page").await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
        let body = res.text().await.unwrap();
        assert!(body.contains("ページが見つかりません"), "{body}");
        let res = app
            .client
            .get(app.url("/no-such-page"))
            .header("accept-language", "en-US,en;q=0.9")
            .send()
            .await
            .unwrap();
        assert!(res.text().await.unwrap().contains("Page not found"));
    }
);

dual_test!(
    language_switch_is_remembered_in_a_cookie,
    |app| async move {
        let res = app
            .post("/lang", &[("lang", "en"), ("next", "/login")])
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let body = app.get("/login").await.text().await.unwrap();
        assert!(
            body.contains("<html lang=\"en\">") && body.contains("Sign in"),
            "{body}"
        );
        app.post("/lang", &[("lang", "ja"), ("next", "/login")])
            .await;
        assert!(
            app.get("/login")
                .await
                .text()
                .await
                .unwrap()
                .contains("ログイン")
        );
    }
);

dual_test!(
    oversize_form_answers_413_page_and_malformed_form_400,
    |app| async move {
        let b = app.browser();
        let token = b.token().await;
        let big = "x".repeat(600 * 1024);
        let res = b
            .post_raw(
                "/login",
                &[("csrf_token", &token), ("email", &big), ("password", "x")],
            )
            .await;
        assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
        assert!(res.text().await.unwrap().contains("送信内容が大きすぎます"));
        let res = app
            .client
            .post(app.url("/login"))
            .header("origin", &app.base)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("csrf_token={token}&email=%ZZ%&password"))
            .send()
            .await
            .unwrap();
        assert!(
            res.status() == StatusCode::BAD_REQUEST || res.status() == StatusCode::UNAUTHORIZED,
            "{}",
            res.status()
        );
        assert_eq!(app.count("sessions").await, 0);
    }
);

async fn boom() -> &'static str {
    panic!("deliberate test panic")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_handler_answers_500_with_the_request_id_and_the_server_keeps_serving() {
    let app = TestApp::spawn_with(Backend::Sqlite, Router::new().route("/__boom", get(boom))).await;
    let res = app.get("/__boom").await;
    assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let id = res
        .headers()
        .get("x-request-id")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    let body = res.text().await.unwrap();
    assert!(body.contains(&id), "request id {id} on the page");
    assert!(body.contains("システムエラー"));
    assert_eq!(app.get("/healthz").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn both_backends_have_the_same_tables_and_columns() {
    let tmp = tempfile::tempdir().unwrap();
    let sqlite =
        secportal::db::Db::connect(&format!("sqlite://{}", tmp.path().join("s.db").display()))
            .await
            .unwrap();
    secportal::db::migrate::run(&sqlite).await.unwrap();
    let s = secportal::db::migrate::schema(&sqlite).await.unwrap();
    assert!(s.iter().any(|(t, _)| t == "audit_log"));
    for b in backends() {
        if let Backend::Postgres { admin_url } = b {
            let (url, _guard) = fresh_pg(&admin_url).await;
            let pg = secportal::db::Db::connect(&url).await.unwrap();
            secportal::db::migrate::run(&pg).await.unwrap();
            // Running again applies nothing.
            assert_eq!(secportal::db::migrate::run(&pg).await.unwrap(), 0);
            let p = secportal::db::migrate::schema(&pg).await.unwrap();
            pg.close().await;
            assert_eq!(s, p, "SQLite and PostgreSQL schemas differ");
        }
    }
}

dual_test!(audit_rows_cannot_be_updated_or_deleted, |app| async move {
    app.add_user("admin@center.example.jp", "center_admin", None)
        .await;
    assert!(app.count("audit_log").await > 0);
    let db = app.db();
    let upd = secportal::db::on_db!(db, p => sqlx::query("UPDATE audit_log SET actor = 'x'").execute(p).await.map(|_| ()));
    assert!(upd.is_err(), "update refused");
    let del = secportal::db::on_db!(db, p => sqlx::query("DELETE FROM audit_log").execute(p).await.map(|_| ()));
    assert!(del.is_err(), "delete refused");
    assert_eq!(
        secportal::db::audit::verify(db).await.unwrap(),
        secportal::db::audit::Verdict::Intact(app.count("audit_log").await)
    );
});

#[test]
fn a_bad_setting_stops_start_up_naming_the_setting() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_secportal"))
        .env("SECPORTAL_ADDR", "not-an-address")
        .env("SECPORTAL_DATA_DIR", tempfile::tempdir().unwrap().path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("SECPORTAL_ADDR"));
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_secportal"))
        .env("SECPORTAL_SESSION_IDLE_MINUTES", "zero")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("SECPORTAL_SESSION_IDLE_MINUTES"));
}

#[tokio::test]
async fn user_add_from_the_shell_creates_an_account_that_can_sign_in() {
    use std::io::Write;
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_secportal"))
        .args([
            "user",
            "add",
            "--email",
            "Clerk@Example.JP",
            "--role",
            "org_admin",
            "--org",
            "ab12c",
            "--password-stdin",
        ])
        .env("SECPORTAL_DATA_DIR", &data)
        .env_remove("DATABASE_URL")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{PASSWORD}\n").as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let config = secportal::Config::for_data_dir(data, None).unwrap();
    let db = secportal::db::Db::connect(&config.database_url)
        .await
        .unwrap();
    let user = secportal::db::users::by_email(&db, "clerk@example.jp")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(user.role, "org_admin");
    assert!(user.org_id.is_some());
    assert!(
        user.password_hash
            .unwrap()
            .starts_with("$argon2id$v=19$m=19456,t=2,p=1$")
    );
    // A short password is refused and nothing is created.
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_secportal"))
        .args([
            "user",
            "add",
            "--email",
            "other@example.jp",
            "--role",
            "reviewer",
            "--password-stdin",
        ])
        .env("SECPORTAL_DATA_DIR", tmp.path().join("data"))
        .env_remove("DATABASE_URL")
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"short\n").unwrap();
    assert!(!child.wait_with_output().unwrap().status.success());
    assert!(
        secportal::db::users::by_email(&db, "other@example.jp")
            .await
            .unwrap()
            .is_none()
    );
}

/// Every key the templates and code name exists in both locale files.
/// Every page's `{% block title %}` holds words, not markup: a section once landed there (an
/// edit put it before the first `{% endblock %}`), and the page lost it to the browser's tab.
#[test]
fn every_template_title_block_holds_no_markup() {
    fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "html") {
                out.push(p);
            }
        }
    }
    let mut files = vec![];
    walk(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates"),
        &mut files,
    );
    let mut checked = 0;
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        let Some(at) = text.find("{% block title %}") else {
            continue;
        };
        let rest = &text[at + "{% block title %}".len()..];
        let title = &rest[..rest.find("{% endblock %}").unwrap()];
        assert!(
            !title.contains('<') && !title.contains('\n'),
            "{}: {title}",
            f.display()
        );
        checked += 1;
    }
    assert!(checked > 40, "{checked}");
}

#[test]
fn every_locale_key_used_exists_in_japanese_and_english() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let ja = secportal::i18n::parse_locale(
        &std::fs::read_to_string(root.join("locales/ja.yml")).unwrap(),
    )
    .unwrap();
    let en = secportal::i18n::parse_locale(
        &std::fs::read_to_string(root.join("locales/en.yml")).unwrap(),
    )
    .unwrap();
    let prefixes = [
        "app.",
        "nav.",
        "login.",
        "setup.",
        "accept.",
        "reset.",
        "forgot.",
        "password.",
        "field.",
        "hint.",
        "role.",
        "status.",
        "home.",
        "audit.",
        "orgs.",
        "users.",
        "flash.",
        "error.",
        "mail.",
        "followup.",
        "inbox.",
        "notify.",
        "checklist.",
        "gwlog.",
        "export.",
    ];
    let mut files = vec![];
    let mut stack = vec![root.join("templates"), root.join("src")];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p)
            } else {
                files.push(p)
            }
        }
    }
    let mut missing = vec![];
    let mut seen = 0;
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        for piece in text.split('"').skip(1).step_by(2) {
            let is_key = prefixes.iter().any(|p| piece.starts_with(p))
                && piece.len() > 4
                && piece
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '_')
                && !piece.ends_with('.')
                && ![
                    ".html", ".css", ".svg", ".yml", ".sql", ".txt", ".rs", ".key",
                ]
                .iter()
                .any(|x| piece.ends_with(x));
            if !is_key {
                continue;
            }
            seen += 1;
            let keys: Vec<String> = if piece.starts_with("mail.") && piece.matches('.').count() == 1
            {
                vec![format!("{piece}.subject"), format!("{piece}.body")]
            } else {
                vec![piece.to_string()]
            };
            // Audit action names (`login.success`) are labelled under `audit.action.`.
            let label = format!("audit.action.{piece}");
            if ja.contains_key(&label) && en.contains_key(&label) {
                continue;
            }
            for k in keys {
                if !ja.contains_key(&k) || !en.contains_key(&k) {
                    missing.push(format!("{}: {k}", f.display()));
                }
            }
        }
    }
    assert!(seen > 100, "scanned {seen} keys");
    assert!(
        missing.is_empty(),
        "missing locale keys:\n{}",
        missing.join("\n")
    );
}

/// Starts the real binary on a free port; answers the child and its address.
fn start_binary(
    data: &std::path::Path,
) -> (
    std::process::Child,
    std::sync::mpsc::Receiver<String>,
    String,
) {
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
    let mut addr = String::new();
    for line in rx.iter() {
        if line.contains("secportal listening") {
            let v: serde_json::Value = serde_json::from_str(&line).unwrap();
            addr = v["fields"]["addr"].as_str().unwrap().to_string();
            break;
        }
    }
    (child, rx, addr)
}

#[tokio::test]
async fn the_binary_logs_json_with_request_ids_and_stops_cleanly_on_sigterm() {
    let tmp = tempfile::tempdir().unwrap();
    let (child, rx, addr) = start_binary(&tmp.path().join("data"));
    assert!(!addr.is_empty(), "listening line seen");
    let res = reqwest::get(format!("http://{addr}/healthz"))
        .await
        .unwrap();
    let id = res
        .headers()
        .get("x-request-id")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    let status = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "exit status {:?}", out.status);
    let lines: Vec<String> = rx.iter().collect();
    assert!(
        lines
            .iter()
            .all(|l| serde_json::from_str::<serde_json::Value>(l).is_ok()),
        "every line is JSON"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains(&id) && l.contains("/healthz")),
        "request logged with its id"
    );
    assert!(lines.iter().any(|l| l.contains("secportal stopped")));
    // Started again on the same data: already migrated, and the data is still there.
    let (mut child, _rx, addr) = start_binary(&tmp.path().join("data"));
    assert_eq!(
        reqwest::get(format!("http://{addr}/readyz"))
            .await
            .unwrap()
            .status(),
        200
    );
    child.kill().unwrap();
    let _ = child.wait();
}

dual_test!(
    the_audit_trail_page_shows_the_center_everything_and_an_org_admin_its_own,
    |app| async move {
        app.add_user("admin@center.example.jp", "center_admin", None)
            .await;
        app.add_user("a@a.example.jp", "org_admin", Some("AAAAA"))
            .await;
        app.add_user("b@b.example.jp", "org_admin", Some("BBBBB"))
            .await;
        app.login("a@a.example.jp", PASSWORD).await;
        app.post("/logout", &[]).await;
        let b = app.new_browser();
        b.login("b@b.example.jp", PASSWORD).await;
        let c = app.new_browser();
        c.login("admin@center.example.jp", PASSWORD).await;
        let all = c.get("/audit").await.text().await.unwrap();
        assert!(all.contains("a@a.example.jp") && all.contains("b@b.example.jp"));
        let only_login = c.get("/audit?action=logout").await.text().await.unwrap();
        assert!(only_login.contains("a@a.example.jp") && !only_login.contains("b@b.example.jp"));
        let mine = b.get("/audit").await.text().await.unwrap();
        assert!(
            mine.contains("b@b.example.jp") && !mine.contains("a@a.example.jp"),
            "an org admin sees only its organisation"
        );
        assert_eq!(
            c.get("/audit?from=2026-13-40").await.status(),
            StatusCode::UNPROCESSABLE_ENTITY
        );
        app.add_user("member@b.example.jp", "org_member", Some("BBBBB"))
            .await;
        let m = app.new_browser();
        m.login("member@b.example.jp", PASSWORD).await;
        assert_eq!(m.get("/audit").await.status(), StatusCode::FORBIDDEN);
    }
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_script_style_sheet_and_image_a_page_references_is_served() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    app.add_user("kanri@a.example.jp", "org_admin", Some("AAAAA"))
        .await;
    let mut pages = vec![app.get("/login").await.text().await.unwrap()];
    app.login("kanri@a.example.jp", PASSWORD).await;
    let org = app.org_of("kanri@a.example.jp").await;
    for path in [
        "/home".to_string(),
        format!("/orgs/{org}/system-configuration"),
    ] {
        pages.push(app.get(&path).await.text().await.unwrap());
    }
    let mut referenced = std::collections::BTreeSet::new();
    for page in &pages {
        for rest in page.split("\"/static/").skip(1) {
            referenced.insert(rest.split('"').next().unwrap().to_string());
        }
    }
    assert!(
        referenced.contains("upload.js") && referenced.contains("app.css"),
        "{referenced:?}"
    );
    for name in referenced {
        let res = app.get(&format!("/static/{name}")).await;
        assert_eq!(res.status(), StatusCode::OK, "/static/{name}");
        assert!(!res.bytes().await.unwrap().is_empty(), "/static/{name}");
    }
}

//! The database going away answers 503 and the portal recovers without a restart
//! (PostgreSQL behind a loopback proxy that the test switches off and on).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use reqwest::StatusCode;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;

use crate::helpers::{Backend, PASSWORD, TestApp, backends};

/// A TCP proxy to PostgreSQL; `down` cuts every connection and refuses new ones.
struct Proxy {
    port: u16,
    down: Arc<AtomicBool>,
    cut: Arc<Notify>,
}

async fn proxy(target: String) -> Proxy {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let down = Arc::new(AtomicBool::new(false));
    let cut = Arc::new(Notify::new());
    let (d, c) = (down.clone(), cut.clone());
    tokio::spawn(async move {
        loop {
            let Ok((mut inbound, _)) = listener.accept().await else {
                return;
            };
            if d.load(Ordering::SeqCst) {
                drop(inbound);
                continue;
            }
            let target = target.clone();
            let c = c.clone();
            tokio::spawn(async move {
                let Ok(mut outbound) = TcpStream::connect(&target).await else {
                    return;
                };
                tokio::select! {
                    _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                    _ = c.notified() => {}
                }
            });
        }
    });
    Proxy { port, down, cut }
}

impl Proxy {
    fn set_down(&self, down: bool) {
        self.down.store(down, Ordering::SeqCst);
        if down {
            self.cut.notify_waiters();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn database_down_answers_503_and_the_portal_recovers_without_restart() {
    for backend in backends() {
        let Backend::Postgres { admin_url } = backend else {
            continue;
        };
        let (db_url, _guard) = crate::helpers::fresh_pg(&admin_url).await;
        let mut url = url::Url::parse(&db_url).unwrap();
        let target = format!("{}:{}", url.host_str().unwrap(), url.port().unwrap_or(5432));
        let px = proxy(target).await;
        url.set_host(Some("127.0.0.1")).unwrap();
        url.set_port(Some(px.port)).unwrap();
        let proxied = url.to_string();
        let app =
            TestApp::spawn_configured(Backend::Sqlite, |c| c.database_url = proxied.clone()).await;
        app.add_user("admin@center.example.jp", "center_admin", None)
            .await;
        app.login("admin@center.example.jp", PASSWORD).await;
        assert_eq!(app.get("/home").await.status(), StatusCode::OK);

        px.set_down(true);
        let res = app.get("/home").await;
        assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(res.text().await.unwrap().contains("ただいま利用できません"));
        assert_eq!(
            app.get("/readyz").await.status(),
            StatusCode::SERVICE_UNAVAILABLE
        );
        assert_eq!(app.get("/healthz").await.status(), StatusCode::OK);

        px.set_down(false);
        let mut ok = false;
        for _ in 0..20 {
            if app.get("/home").await.status() == StatusCode::OK {
                ok = true;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(250)).await;
        }
        assert!(ok, "recovered after the database came back");
        assert_eq!(app.get("/readyz").await.status(), StatusCode::OK);
    }
}

/// A TCP proxy that can stall: while `stalled`, bytes are held back in both directions and the
/// connections stay open, as in a network partition (nothing is refused, nothing answers).
async fn stalling_proxy(target: String) -> (u16, Arc<AtomicBool>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    async fn pump(
        mut from: tokio::net::tcp::OwnedReadHalf,
        mut to: tokio::net::tcp::OwnedWriteHalf,
        stalled: Arc<AtomicBool>,
    ) {
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            let n = match from.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            };
            while stalled.load(Ordering::SeqCst) {
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
            if to.write_all(&buf[..n]).await.is_err() {
                return;
            }
        }
    }
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let stalled = Arc::new(AtomicBool::new(false));
    let s = stalled.clone();
    tokio::spawn(async move {
        while let Ok((inbound, _)) = listener.accept().await {
            let Ok(outbound) = TcpStream::connect(&target).await else {
                continue;
            };
            let (ir, iw) = inbound.into_split();
            let (or, ow) = outbound.into_split();
            tokio::spawn(pump(ir, ow, s.clone()));
            tokio::spawn(pump(or, iw, s.clone()));
        }
    });
    (port, stalled)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partitioned_database_ends_requests_in_flight_with_503_and_applies_nothing_by_half() {
    for backend in backends() {
        let Backend::Postgres { admin_url } = backend else {
            continue;
        };
        let (db_url, _guard) = crate::helpers::fresh_pg(&admin_url).await;
        let mut url = url::Url::parse(&db_url).unwrap();
        let target = format!("{}:{}", url.host_str().unwrap(), url.port().unwrap_or(5432));
        let (port, stalled) = stalling_proxy(target).await;
        url.set_host(Some("127.0.0.1")).unwrap();
        url.set_port(Some(port)).unwrap();
        let proxied = url.to_string();
        let app = TestApp::spawn_configured(Backend::Sqlite, |c| {
            c.database_url = proxied.clone();
            c.request_timeout = std::time::Duration::from_secs(3);
        })
        .await;
        app.add_user("kanri@a.example.jp", "org_admin", Some("AAAAA"))
            .await;
        app.login("kanri@a.example.jp", PASSWORD).await;
        let org = app.org_of("kanri@a.example.jp").await;
        assert_eq!(app.get("/home").await.status(), StatusCode::OK);
        let token = app.browser().token().await;

        stalled.store(true, Ordering::SeqCst);
        let started = std::time::Instant::now();
        let change = app
            .client
            .post(app.url(&format!("/orgs/{org}/locations")))
            .timeout(std::time::Duration::from_secs(30))
            .header("origin", &app.base)
            .form(&[
                ("csrf_token", token.as_str()),
                ("kind", "office"),
                ("name", "成田営業所"),
                ("address", "千葉県成田市"),
            ])
            .send()
            .await
            .unwrap();
        let took = started.elapsed();
        assert_eq!(change.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(
            change
                .text()
                .await
                .unwrap()
                .contains("ただいま利用できません"),
            "a clear page"
        );
        assert!(
            took < std::time::Duration::from_secs(8),
            "ended in {took:?}"
        );
        let started = std::time::Instant::now();
        assert_eq!(
            app.get("/home").await.status(),
            StatusCode::SERVICE_UNAVAILABLE
        );
        assert!(started.elapsed() < std::time::Duration::from_secs(8));

        stalled.store(false, Ordering::SeqCst);
        let mut ok = false;
        for _ in 0..40 {
            if app.get("/home").await.status() == StatusCode::OK {
                ok = true;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(250)).await;
        }
        assert!(ok, "recovered once the partition healed");
        // The change is all there with its audit entry, or not there at all.
        let admin = sqlx::PgPool::connect(&db_url).await.unwrap();
        let (offices, entries): (i64, i64) = sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM locations WHERE name = '成田営業所'), \
             (SELECT COUNT(*) FROM audit_log WHERE action = 'location.created')",
        )
        .fetch_one(&admin)
        .await
        .unwrap();
        assert_eq!(offices, entries, "office and audit entry together");
        admin.close().await;
    }
}

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

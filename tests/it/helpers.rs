//! `TestApp`: the portal on port 0 with a fresh database, and a client that keeps cookies.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::Router;
use reqwest::StatusCode;
use reqwest::redirect::Policy;
use secportal::Config;
use secportal::db::{Db, on_db};
use secportal::web::AppState;

/// Which database a test runs on.
#[derive(Debug, Clone)]
pub enum Backend {
    Sqlite,
    Postgres { admin_url: String },
}

impl Backend {
    /// A short name for screenshots and messages.
    pub fn label(&self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres { .. } => "postgres",
        }
    }
}

/// The backends to run each test on.
pub fn backends() -> Vec<Backend> {
    let mut v = vec![Backend::Sqlite];
    if let Ok(url) = std::env::var("SECPORTAL_TEST_POSTGRES_URL")
        && !url.is_empty()
    {
        v.push(Backend::Postgres { admin_url: url });
    }
    v
}

/// Declares an async test that runs once per backend: `dual_test!(name, |app| async move { … });`
#[macro_export]
macro_rules! dual_test {
    ($name:ident, |$app:ident| $body:expr) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $name() {
            for backend in $crate::helpers::backends() {
                let label = format!("{backend:?}");
                let $app = $crate::helpers::TestApp::spawn(backend).await;
                let fut = $body;
                tokio::time::timeout(std::time::Duration::from_secs(120), fut)
                    .await
                    .unwrap_or_else(|_| panic!("timed out on {label}"));
            }
        }
    };
}

/// A fresh PostgreSQL database, dropped when this value is.
pub struct PgDatabase {
    admin_url: String,
    name: String,
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let admin = self.admin_url.clone();
        let name = self.name.clone();
        // Drop runs outside async context: use a runtime of our own on a plain thread.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                if let Ok(pool) = sqlx::PgPool::connect(&admin).await {
                    let sql = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
                    let _ = sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&pool).await;
                    pool.close().await;
                }
            });
        })
        .join();
    }
}

/// Creates a fresh PostgreSQL database; answers its URL and the guard that drops it.
pub async fn fresh_pg(admin_url: &str) -> (String, PgDatabase) {
    let name = format!("secportal_test_{}", uuid::Uuid::now_v7().simple());
    let pool = sqlx::PgPool::connect(admin_url)
        .await
        .expect("connect to SECPORTAL_TEST_POSTGRES_URL");
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    let mut url = url::Url::parse(admin_url).unwrap();
    url.set_path(&format!("/{name}"));
    (
        url.to_string(),
        PgDatabase {
            admin_url: admin_url.to_string(),
            name,
        },
    )
}

/// A running portal for one test.
pub struct TestApp {
    pub base: String,
    pub state: Arc<AppState>,
    pub client: reqwest::Client,
    pub data_dir: PathBuf,
    signed_in: Arc<AtomicBool>,
    _tmp: tempfile::TempDir,
    _pg: Option<PgDatabase>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl TestApp {
    /// Starts the portal on a fresh database of the given backend.
    pub async fn spawn(backend: Backend) -> TestApp {
        Self::spawn_with(backend, Router::new()).await
    }

    /// Starts the portal with extra routes (behind the same layers).
    pub async fn spawn_with(backend: Backend, extra: Router<Arc<AppState>>) -> TestApp {
        Self::spawn_full(backend, extra, |_| {}).await
    }

    /// Starts the portal after `adjust` has changed the configuration.
    pub async fn spawn_configured(backend: Backend, adjust: impl FnOnce(&mut Config)) -> TestApp {
        Self::spawn_full(backend, Router::new(), adjust).await
    }

    async fn spawn_full(
        backend: Backend,
        extra: Router<Arc<AppState>>,
        adjust: impl FnOnce(&mut Config),
    ) -> TestApp {
        let tmp = tempfile::tempdir().unwrap();
        let data_dir = tmp.path().join("data");
        let (db_url, pg) = match &backend {
            Backend::Sqlite => (None, None),
            Backend::Postgres { admin_url } => {
                let (url, guard) = fresh_pg(admin_url).await;
                (Some(url), Some(guard))
            }
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut config = Config::for_data_dir(data_dir.clone(), db_url).unwrap();
        config.addr = addr;
        config.base_url = url::Url::parse(&format!("http://{addr}")).unwrap();
        // Tests about other things sign reviewers and admins in with a password alone; the
        // second-factor tests turn the requirement back on.
        config.center_second_factor = false;
        // Gateway-log re-checks run when a test says (`TestApp::run_rechecks`), so a test can
        // see a log 確認中 first; the test of the worker itself turns it back on.
        config.log_recheck_every = None;
        adjust(&mut config);
        Self::serve(config, extra, listener, tmp, pg).await
    }

    async fn serve(
        config: Config,
        extra: Router<Arc<AppState>>,
        listener: tokio::net::TcpListener,
        tmp: tempfile::TempDir,
        pg: Option<PgDatabase>,
    ) -> TestApp {
        let addr = config.addr;
        let data_dir = config.data_dir.clone();
        let app = secportal::app_with(config, extra).await.unwrap();
        let state = app.state.clone();
        let timeouts = secportal::server::Timeouts {
            header: state.config.header_timeout,
            idle: state.config.idle_timeout,
        };
        let server = tokio::spawn(async move {
            secportal::server::serve_on(listener, app.router, timeouts, std::future::pending())
                .await
                .unwrap();
        });
        TestApp {
            base: format!("http://{addr}"),
            state,
            client: new_client(),
            data_dir,
            signed_in: Arc::new(AtomicBool::new(false)),
            _tmp: tmp,
            _pg: pg,
            server,
        }
    }

    /// The test's main browser (shared cookies).
    pub fn browser(&self) -> Browser<'_> {
        Browser {
            app: self,
            client: self.client.clone(),
            signed_in: self.signed_in.clone(),
        }
    }

    /// A second browser signed in as `email`, reading in English.
    pub async fn english_browser(&self, email: &str) -> Browser<'_> {
        let b = self.new_browser();
        b.login(email, PASSWORD).await;
        b.to_english().await;
        b
    }

    /// A second browser with cookies of its own.
    pub fn new_browser(&self) -> Browser<'_> {
        Browser {
            app: self,
            client: new_client(),
            signed_in: Arc::new(AtomicBool::new(false)),
        }
    }

    pub fn db(&self) -> &Db {
        &self.state.db
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.browser().get(path).await
    }

    /// The page at `path`, as text (as the signed-in user).
    pub async fn html(&self, path: &str) -> String {
        self.browser().html(path).await
    }

    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        self.browser().post(path, fields).await
    }

    pub async fn login(&self, email: &str, password: &str) -> reqwest::Response {
        self.browser().login(email, password).await
    }

    /// Creates an active user through the CLI path (`secportal user add`).
    pub async fn add_user(&self, email: &str, role: &str, org: Option<&str>) {
        secportal::cli::add_user(
            &self.state.config,
            email,
            role,
            org,
            PASSWORD,
            Some("テスト 太郎"),
        )
        .await
        .unwrap();
    }

    /// Runs the gateway-log re-checks waiting (as the worker would); answers how many ended.
    pub async fn run_rechecks(&self) -> usize {
        secportal::app::log_recheck::run_pending(&self.state.app)
            .await
            .unwrap()
    }

    /// Rows in a table.
    pub async fn count(&self, table: &str) -> i64 {
        let sql = format!("SELECT COUNT(*) FROM {table}");
        on_db!(self.db(), p => sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql)).fetch_one(p).await).unwrap()
    }

    /// How many audit entries have this action.
    pub async fn audit_count(&self, action: &str) -> i64 {
        on_db!(self.db(), p => sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM audit_log WHERE action = $1")
            .bind(action)
            .fetch_one(p)
            .await)
        .unwrap()
    }

    /// The details of the audit entries with this action, oldest first.
    pub async fn audit_details(&self, action: &str) -> Vec<serde_json::Value> {
        let rows: Vec<String> = on_db!(self.db(), p => sqlx::query_scalar(
            "SELECT detail FROM audit_log WHERE action = $1 ORDER BY seq")
            .bind(action)
            .fetch_all(p)
            .await)
        .unwrap();
        rows.iter()
            .map(|d| serde_json::from_str(d).unwrap())
            .collect()
    }

    /// The organisation of a user.
    pub async fn org_of(&self, email: &str) -> uuid::Uuid {
        secportal::db::users::by_email(self.db(), email)
            .await
            .unwrap()
            .unwrap()
            .org_id
            .unwrap()
    }

    /// The link of the given path found in the newest mail to `to`.
    pub fn mail_link(&self, to: &str, path: &str) -> Option<String> {
        newest_mail_link(
            &self.data_dir.join("mail"),
            to,
            &format!("{}{path}", self.base),
        )
    }

    /// The newest mail to `to` that contains `text`.
    pub fn mail_text(&self, to: &str, text: &str) -> String {
        newest_mail(&self.data_dir.join("mail"), to, |m| {
            m.contains(text).then(|| m.to_string())
        })
        .unwrap_or_else(|| panic!("no mail to {to} contains {text:?}"))
    }

    /// [`Self::mail_text`] of mail sent off the request path: waits up to 5 s for it.
    pub async fn wait_mail_text(&self, to: &str, text: &str) -> String {
        for _ in 0..50 {
            if let Some(m) = newest_mail(&self.data_dir.join("mail"), to, |m| {
                m.contains(text).then(|| m.to_string())
            }) {
                return m;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        self.mail_text(to, text)
    }

    /// Waits (up to 5 s) until at least `n` mail files exist, for mail sent off the request
    /// path; answers how many there are.
    pub async fn wait_mail_count(&self, n: usize) -> usize {
        for _ in 0..50 {
            if self.mail_count() >= n {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        self.mail_count()
    }

    /// Mail recorded with its notice but not yet sent: (how many, most tries of one).
    pub async fn unsent_mail(&self) -> (i64, Option<i32>) {
        on_db!(self.db(), p => sqlx::query_as::<_, (i64, Option<i32>)>(
            "SELECT COUNT(*), MAX(mail_attempts) FROM notifications WHERE mail_to IS NOT NULL AND mailed_at IS NULL",
        )
        .fetch_one(p)
        .await)
        .unwrap()
    }

    /// Waits (up to 5 s) until the unsent mail is `expected`; answers what it is then.
    pub async fn wait_unsent_mail(&self, expected: (i64, Option<i32>)) -> (i64, Option<i32>) {
        for _ in 0..50 {
            if self.unsent_mail().await == expected {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        self.unsent_mail().await
    }

    /// How many mail files exist.
    pub fn mail_count(&self) -> usize {
        // Finished mails only: a mail being written is a `.eml.tmp` until it is renamed.
        std::fs::read_dir(self.data_dir.join("mail"))
            .map(|d| {
                d.flatten()
                    .filter(|e| e.file_name().to_string_lossy().ends_with(".eml"))
                    .count()
            })
            .unwrap_or(0)
    }
}

/// A password that meets the policy.
pub const PASSWORD: &str = "correct-horse-battery-staple-42";

fn new_client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(Policy::none())
        .build()
        .unwrap()
}

/// The newest `.eml` addressed to `to` for which `pick` answers something.
fn newest_mail<T>(dir: &Path, to: &str, pick: impl Fn(&str) -> Option<T>) -> Option<T> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .collect();
    files.sort();
    files.iter().rev().find_map(|p| {
        let text = std::fs::read_to_string(p).ok()?;
        let to_line = text.lines().find(|l| l.starts_with("To: "))?;
        if !to_line.contains(to) {
            return None;
        }
        pick(&text)
    })
}

/// Finds a link starting with `prefix` in the newest `.eml` addressed to `to`.
pub fn newest_mail_link(dir: &Path, to: &str, prefix: &str) -> Option<String> {
    newest_mail(dir, to, |text| {
        let start = text.find(prefix)?;
        Some(
            text[start..]
                .chars()
                .take_while(|c| !c.is_whitespace())
                .collect(),
        )
    })
}

/// The first `csrf_token` value in a page.
pub fn csrf_from(html: &str) -> String {
    let marker = "name=\"csrf_token\" value=\"";
    let start = html
        .find(marker)
        .unwrap_or_else(|| panic!("page has no csrf_token field: {html}"))
        + marker.len();
    html[start..].chars().take_while(|c| *c != '"').collect()
}

/// A browser (cookie jar) against a `TestApp`.
pub struct Browser<'a> {
    pub app: &'a TestApp,
    pub client: reqwest::Client,
    signed_in: Arc<AtomicBool>,
}

impl Browser<'_> {
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.app.url(path)).send().await.unwrap()
    }

    /// The page at `path`, as text.
    pub async fn html(&self, path: &str) -> String {
        let page = self.get(path).await.text().await.unwrap();
        // A page's title is words only (a block closed in the wrong place once put a whole
        // section there, and the page lost it).
        if let (Some(a), Some(b)) = (page.find("<title>"), page.find("</title>")) {
            assert!(
                !page[a + 7..b].contains('<'),
                "markup in the title of {path}: {}",
                &page[a..b]
            );
        }
        page
    }

    /// Switches this browser's pages to English.
    pub async fn to_english(&self) {
        self.post("/lang", &[("lang", "en"), ("next", "/home")])
            .await;
    }

    /// The CSRF token this client's next form needs.
    pub async fn token(&self) -> String {
        if self.signed_in.load(Ordering::SeqCst) {
            let res = self.get("/home").await;
            if res.status() == StatusCode::OK {
                return csrf_from(&res.text().await.unwrap());
            }
            // Signed in, but held on the second-factor set-up until it is done.
            if location(&res) == "/account/second-factor" {
                let page = self.get("/account/second-factor").await;
                return csrf_from(&page.text().await.unwrap());
            }
            // The session ended (timeout, disabled): the visitor's token applies again.
            self.signed_in.store(false, Ordering::SeqCst);
        }
        csrf_from(&self.get("/login").await.text().await.unwrap())
    }

    /// Posts a form with the right CSRF token and a same-origin `Origin`. A page's 提出
    /// (`action=submit`) goes on to the 確認 page; it is confirmed there as a person would,
    /// every caution acknowledged ([`Browser::post_unconfirmed`] stops at the 確認 page).
    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        let res = self.post_unconfirmed(path, fields).await;
        if fields.contains(&("action", "submit"))
            && res.status() == StatusCode::SEE_OTHER
            && location(&res).ends_with("/confirm")
        {
            return self.confirm(&location(&res)).await;
        }
        // A form sealed in one step answers its 確認 page: submitted from there, as a person
        // would press 「この内容で提出する」.
        if res.status() == StatusCode::OK && content_type(&res).starts_with("text/html") {
            let (status, headers) = (res.status(), res.headers().clone());
            let body = res.text().await.unwrap();
            if let Some(fields) = form_confirm_fields(&body) {
                let mut all: Vec<(&str, &str)> = fields
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .collect();
                all.push(("step", "submit"));
                return self.post_raw(path, &all).await;
            }
            let mut again = axum::http::Response::new(body);
            *again.status_mut() = status;
            *again.headers_mut() = headers;
            return reqwest::Response::from(again);
        }
        res
    }

    /// Confirms the 確認 page at `path` (`/orgs/…/submissions/…/confirm`): every caution it
    /// lists acknowledged, with the fingerprint the page carries. A report sealed already
    /// answers its receipt's redirect instead of the page.
    pub async fn confirm(&self, path: &str) -> reqwest::Response {
        let page = self.get(path).await;
        if page.status() != StatusCode::OK {
            return page;
        }
        let html = page.text().await.unwrap();
        let fingerprint = field_value(&html, "fingerprint").expect("the 確認 form");
        let acks = ack_names(&html);
        let mut fields: Vec<(&str, &str)> = vec![("fingerprint", fingerprint.as_str())];
        fields.extend(acks.iter().map(|a| (a.as_str(), "1")));
        self.post_unconfirmed(path, &fields).await
    }

    /// [`Browser::post`] without going through a 確認 page.
    pub async fn post_unconfirmed(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        let token = self.token().await;
        let mut all: Vec<(&str, &str)> = fields.to_vec();
        all.push(("csrf_token", &token));
        self.post_raw(path, &all).await
    }

    /// Posts exactly these fields.
    pub async fn post_raw(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        let res = self
            .client
            .post(self.app.url(path))
            .header("origin", &self.app.base)
            .form(fields)
            .send()
            .await
            .unwrap();
        if (path == "/login" || path.starts_with("/login/second-factor"))
            && res.status() == StatusCode::SEE_OTHER
        {
            self.signed_in.store(true, Ordering::SeqCst);
        }
        if path == "/logout" {
            self.signed_in.store(false, Ordering::SeqCst);
        }
        res
    }

    pub async fn login(&self, email: &str, password: &str) -> reqwest::Response {
        self.post("/login", &[("email", email), ("password", password)])
            .await
    }
}

/// Location header of a redirect.
pub fn location(res: &reqwest::Response) -> String {
    res.headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string()
}

/// The id of the submission a redirect points at (`…/submissions/<id>/…`).
pub fn submission_in(res: &reqwest::Response) -> String {
    location(res)
        .split("/submissions/")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .unwrap_or_else(|| panic!("no submission in {:?}", location(res)))
        .to_string()
}

/// Uploads one file with a role to a draft's upload form (`path`), as the page's form does.
pub async fn attach(app: &TestApp, path: &str, role: &str, name: &str, body: &[u8]) {
    app.browser().attach(path, role, name, body).await;
}

impl Browser<'_> {
    /// Uploads one file with a role to a draft's upload form (`path`) as this browser.
    pub async fn attach(&self, path: &str, role: &str, name: &str, body: &[u8]) {
        let token = self.token().await;
        let form = reqwest::multipart::Form::new()
            .text("csrf_token", token)
            .text("role", role.to_string())
            .part(
                "files",
                reqwest::multipart::Part::bytes(body.to_vec()).file_name(name.to_string()),
            );
        let res = self
            .client
            .post(self.app.url(path))
            .header("origin", &self.app.base)
            .multipart(form)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{path} {name}");
    }
}

/// The three statements of a router attestation, all confirmed.
pub const ROUTER_OK: [(&str, &str); 3] = [
    ("lan_dedicated", "yes"),
    ("wan_unused", "yes"),
    ("console_unused", "yes"),
];

impl TestApp {
    /// As the signed-in org admin: an office 本社 with a router connection whose router is
    /// attested; answers the attestation's response (a redirect to its receipt).
    pub async fn attest_router_at_new_office(&self, org: &str) -> reqwest::Response {
        let office = self.office_with_router(org).await;
        self.post(&format!("{office}/router"), &ROUTER_OK).await
    }

    /// As the signed-in org admin: a new office 本社 with a router connection;
    /// answers the office's page path.
    pub async fn office_with_router(&self, org: &str) -> String {
        let res = self
            .post(
                &format!("/orgs/{org}/locations"),
                &[("kind", "office"), ("name", "本社"), ("address", "東京都")],
            )
            .await;
        let office = location(&res);
        let res = self
            .post(
                &format!("{office}/connections"),
                &[("form", "router"), ("router_id", "R-001")],
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        office
    }
}

/// The value of a page's form field `name`, unescaped.
/// An answer's content type.
pub fn content_type(res: &reqwest::Response) -> &str {
    res.headers()["content-type"].to_str().unwrap()
}

/// Fails, naming the first missing, unless `text` says every one of `words`.
pub fn assert_says(text: &str, words: &[&str]) {
    for w in words {
        assert!(text.contains(w), "{w}\n{text}");
    }
}

pub fn field_value(html: &str, name: &str) -> Option<String> {
    let key = format!("name=\"{name}\" value=\"");
    let start = html.find(&key)? + key.len();
    let raw = &html[start..start + html[start..].find('"')?];
    Some(
        raw.replace("&#34;", "\"")
            .replace("&quot;", "\"")
            .replace("&#39;", "'")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&"),
    )
}

/// The hidden fields of a one-step form's 確認 page (`data-form-confirm`), CSRF token and key
/// included; `None` on any other page.
pub fn form_confirm_fields(html: &str) -> Option<Vec<(String, String)>> {
    let start = html.find("data-form-confirm>")?;
    let form = &html[start..start + html[start..].find("</form>")?];
    let mut out = vec![];
    for part in form.split("<input type=\"hidden\" ").skip(1) {
        let name = part.strip_prefix("name=\"")?;
        let name = &name[..name.find('"')?];
        out.push((name.to_string(), field_value(part, name)?));
    }
    Some(out)
}

/// The names of the acknowledgement boxes (`ack_N`) a 確認 page lists, in order.
pub fn ack_names(html: &str) -> Vec<String> {
    html.split("name=\"ack_")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .map(|n| format!("ack_{n}"))
        .collect()
}

/// Completes an import's confirmation step (取り込み → 確認 → 登録): `res` is the answer to the
/// upload, the page showing the rows read; its 登録 form is posted as a browser would.
pub async fn confirm_import(app: &TestApp, res: reqwest::Response) -> reqwest::Response {
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "the rows read are shown first"
    );
    let html = res.text().await.unwrap();
    assert!(html.contains("登録"), "{html}");
    let end = html.find("/import/confirm\"").unwrap() + "/import/confirm".len();
    let start = html[..end].rfind('"').unwrap() + 1;
    let action = html[start..end].to_string();
    let rows = field_value(&html, "rows").unwrap();
    app.post(&action, &[("rows", &rows)]).await
}

/// The receipt number of a sealed submission.
pub async fn receipt_of(app: &TestApp, id: &str) -> String {
    let id: uuid::Uuid = id.parse().unwrap();
    secportal::db::on_db!(app.db(), p => sqlx::query_scalar("SELECT receipt_no FROM submissions WHERE id = $1")
        .bind(id)
        .fetch_one(p)
        .await)
    .unwrap()
}

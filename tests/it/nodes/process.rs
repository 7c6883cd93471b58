//! The portal as an operating-system process (the built binary), and a browser against it.

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};

use crate::helpers::{PASSWORD, ack_names, csrf_from, field_value, location};

/// One running `secportal` process; killed when dropped.
pub struct Node {
    child: Child,
    pub base: String,
    pub data: PathBuf,
    log: Arc<Mutex<Vec<String>>>,
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Node {
    /// Starts the binary on a free port with `data` as its data folder and `env` on top of
    /// this process's environment; answers once it logs that it listens (at most a minute).
    pub fn start(name: &str, data: &Path, env: &[(&str, String)]) -> Node {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_secportal"));
        for unset in [
            "DATABASE_URL",
            "SECPORTAL_BASE_URL",
            "SECPORTAL_SMTP_URL",
            "SECPORTAL_FILE_STORE",
            "SECPORTAL_S3_ENDPOINT",
            "SECPORTAL_LOG",
        ] {
            cmd.env_remove(unset);
        }
        cmd.env("SECPORTAL_ADDR", "127.0.0.1:0")
            .env("SECPORTAL_DATA_DIR", data)
            .env("SECPORTAL_NODE_ID", name)
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("start the secportal binary");
        let stderr = child.stderr.take().unwrap();
        let log: Arc<Mutex<Vec<String>>> = Default::default();
        let (tx, rx) = std::sync::mpsc::channel();
        {
            let log = log.clone();
            std::thread::spawn(move || {
                for line in std::io::BufReader::new(stderr)
                    .lines()
                    .map_while(Result::ok)
                {
                    log.lock().unwrap().push(line.clone());
                    let _ = tx.send(line);
                }
            });
        }
        let deadline = Instant::now() + Duration::from_secs(60);
        let addr = loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) if line.contains("secportal listening") => {
                    let v: serde_json::Value = serde_json::from_str(&line).unwrap();
                    break v["fields"]["addr"].as_str().unwrap().to_string();
                }
                Ok(_) => {}
                Err(e) => panic!(
                    "{name} did not start ({e}):\n{}",
                    log.lock().unwrap().join("\n")
                ),
            }
        };
        Node {
            child,
            base: format!("http://{addr}"),
            data: data.to_path_buf(),
            log,
        }
    }

    /// The log lines so far that contain `text`.
    pub fn log_lines(&self, text: &str) -> Vec<String> {
        self.log
            .lock()
            .unwrap()
            .iter()
            .filter(|l| l.contains(text))
            .cloned()
            .collect()
    }

    /// The finished mails (`.eml`) this node wrote to `to` whose text contains `text`.
    pub fn mails(&self, to: &str, text: &str) -> Vec<String> {
        std::fs::read_dir(self.data.join("mail"))
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().ends_with(".eml"))
            .filter_map(|e| std::fs::read_to_string(e.path()).ok())
            .filter(|m| m.contains(&format!("To: {to}")) && m.contains(text))
            .collect()
    }
}

/// Runs `secportal <args>` to the end with `env`, the password on its standard input.
pub async fn run_cli(args: &[&str], env: &[(&str, String)]) {
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    let out = tokio::task::spawn_blocking(move || {
        use std::io::Write;
        let mut child = Command::new(env!("CARGO_BIN_EXE_secportal"))
            .args(&args)
            .env_remove("DATABASE_URL")
            .envs(env)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(format!("{PASSWORD}\n").as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "secportal {:?}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A browser: a cookie jar, pointed at one node (the same jar can be pointed at another:
/// the same person through another node).
#[derive(Clone)]
pub struct Visitor {
    client: reqwest::Client,
    pub base: String,
}

impl Visitor {
    pub fn new(node: &Node) -> Visitor {
        Visitor {
            client: reqwest::Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            base: node.base.clone(),
        }
    }

    /// The same cookies, through `node`.
    pub fn on(&self, node: &Node) -> Visitor {
        Visitor {
            client: self.client.clone(),
            base: node.base.clone(),
        }
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap()
    }

    pub async fn text(&self, path: &str) -> String {
        self.get(path).await.text().await.unwrap()
    }

    /// The CSRF token this visitor's next form needs (signed in, held on the second-factor
    /// set-up, or not signed in).
    pub async fn token(&self) -> String {
        let res = self.get("/home").await;
        if res.status() == StatusCode::OK {
            return csrf_from(&res.text().await.unwrap());
        }
        if location(&res) == "/account/second-factor" {
            return csrf_from(&self.text("/account/second-factor").await);
        }
        csrf_from(&self.text("/login").await)
    }

    /// Posts exactly these fields and the given token, same-origin.
    pub async fn post_with(
        &self,
        token: &str,
        path: &str,
        fields: &[(&str, &str)],
    ) -> reqwest::Response {
        let mut all = fields.to_vec();
        all.push(("csrf_token", token));
        self.client
            .post(format!("{}{path}", self.base))
            .header("origin", &self.base)
            .form(&all)
            .send()
            .await
            .unwrap()
    }

    /// Posts a form as a person would; a 提出 goes on through its 確認 page, every caution
    /// acknowledged.
    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        let token = self.token().await;
        let res = self.post_with(&token, path, fields).await;
        if res.status() != StatusCode::SEE_OTHER || !location(&res).ends_with("/confirm") {
            return res;
        }
        let confirm = location(&res);
        let html = self.text(&confirm).await;
        let fingerprint = field_value(&html, "fingerprint").expect("the 確認 form");
        let acks = ack_names(&html);
        let mut fields: Vec<(&str, &str)> = vec![("fingerprint", fingerprint.as_str())];
        fields.extend(acks.iter().map(|a| (a.as_str(), "1")));
        let token = self.token().await;
        self.post_with(&token, &confirm, &fields).await
    }

    pub async fn login(&self, email: &str) -> reqwest::Response {
        self.post("/login", &[("email", email), ("password", PASSWORD)])
            .await
    }

    /// Uploads one file with a role through a page's upload form.
    pub async fn upload(&self, path: &str, role: &str, name: &str, body: &[u8]) -> StatusCode {
        let form = Form::new()
            .text("csrf_token", self.token().await)
            .text("role", role.to_string())
            .part(
                "files",
                Part::bytes(body.to_vec()).file_name(name.to_string()),
            );
        self.client
            .post(format!("{}{path}", self.base))
            .header("origin", &self.base)
            .multipart(form)
            .send()
            .await
            .unwrap()
            .status()
    }

    /// Sets up the signed-in user's authenticator app (as reviewers must before anything else).
    pub async fn enrol_second_factor(&self) {
        use crate::second_factor::{base32_decode, step_now, totp};
        let res = self.post("/account/second-factor/start", &[]).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let page = self.text("/account/second-factor").await;
        let marker = "id=\"totp-secret\">";
        let start = page.find(marker).expect("the secret is shown") + marker.len();
        let secret = base32_decode(page[start..].split('<').next().unwrap());
        let res = self
            .post(
                "/account/second-factor/confirm",
                &[("code", &totp(&secret, step_now()))],
            )
            .await;
        assert_eq!(res.status(), StatusCode::OK, "second factor confirmed");
    }
}

/// Whether `check` comes to hold, asked every 20 ms; no new look starts after `deadline`.
pub async fn holds_by<F, Fut>(deadline: Instant, check: F) -> bool
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    loop {
        if check().await {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

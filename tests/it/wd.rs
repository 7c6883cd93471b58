//! A small W3C WebDriver client for the browser journeys: the commands they use, sent to
//! chromedriver as JSON over `reqwest` (already the tests' HTTP client).
//!
//! It replaces `fantoccini`, whose `webdriver` dependency pulls in a second ICU with features
//! the portal's own dependencies then share in `cargo test` but not in `cargo build`: every
//! crate above them was compiled twice on a cold CI run (once for the image check's build,
//! once for the tests).

use std::fmt;

use base64::Engine as _;
use serde_json::{Value, json};

/// The key under which WebDriver names an element in JSON.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// A command that chromedriver refused or could not carry out.
#[derive(Debug)]
pub(crate) struct WdError(String);

impl fmt::Display for WdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for WdError {}

pub(crate) type Result<T> = std::result::Result<T, WdError>;

/// How an element is found.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Locator<'a> {
    Css(&'a str),
    /// The element with this `id` attribute.
    Id(&'a str),
    XPath(&'a str),
}

impl Locator<'_> {
    fn body(self) -> Value {
        match self {
            Locator::Css(css) => json!({ "using": "css selector", "value": css }),
            Locator::Id(id) => json!({
                "using": "css selector",
                "value": format!("[id=\"{}\"]", id.replace('\\', "\\\\").replace('"', "\\\"")),
            }),
            Locator::XPath(x) => json!({ "using": "xpath", "value": x }),
        }
    }
}

/// One browser session.
#[derive(Clone)]
pub(crate) struct Client {
    http: reqwest::Client,
    /// `{driver}/session/{id}`.
    session: String,
}

/// An element of the current page.
#[derive(Clone)]
pub(crate) struct Element {
    client: Client,
    id: String,
}

impl Client {
    /// Starts a session on the chromedriver at `driver` with these capabilities.
    pub(crate) async fn connect(driver: &str, capabilities: Value) -> Result<Client> {
        let http = reqwest::Client::new();
        let url = format!("{}/session", driver.trim_end_matches('/'));
        let body = json!({ "capabilities": { "alwaysMatch": capabilities } });
        let value = send(http.post(&url).json(&body)).await?;
        let id = value["sessionId"]
            .as_str()
            .ok_or_else(|| WdError(format!("no session id in {value}")))?;
        Ok(Client {
            session: format!("{url}/{id}"),
            http,
        })
    }

    async fn get(&self, path: &str) -> Result<Value> {
        send(self.http.get(format!("{}/{path}", self.session))).await
    }

    /// Sends `body` to `POST /session/{id}/{path}` and returns the answer's value (also for
    /// commands this client has no method for, such as adding a virtual authenticator).
    pub(crate) async fn post(&self, path: &str, body: Value) -> Result<Value> {
        send(
            self.http
                .post(format!("{}/{path}", self.session))
                .json(&body),
        )
        .await
    }

    pub(crate) async fn goto(&self, url: &str) -> Result<()> {
        self.post("url", json!({ "url": url })).await.map(drop)
    }

    /// The browser's Back button.
    pub(crate) async fn back(&self) -> Result<()> {
        self.post("back", json!({})).await.map(drop)
    }

    pub(crate) async fn refresh(&self) -> Result<()> {
        self.post("refresh", json!({})).await.map(drop)
    }

    pub(crate) async fn current_url(&self) -> Result<url::Url> {
        let v = self.get("url").await?;
        url::Url::parse(v.as_str().unwrap_or_default()).map_err(|e| WdError(e.to_string()))
    }

    /// The text of the open dialog (`confirm`, `alert`).
    pub(crate) async fn alert_text(&self) -> Result<String> {
        Ok(string(self.get("alert/text").await?))
    }

    /// Answers the open dialog: OK (`true`) or Cancel.
    pub(crate) async fn answer_alert(&self, ok: bool) -> Result<()> {
        let path = if ok { "alert/accept" } else { "alert/dismiss" };
        self.post(path, json!({})).await.map(drop)
    }

    pub(crate) async fn source(&self) -> Result<String> {
        Ok(string(self.get("source").await?))
    }

    pub(crate) async fn execute(&self, script: &str, args: Vec<Value>) -> Result<Value> {
        self.post("execute/sync", json!({ "script": script, "args": args }))
            .await
    }

    /// Runs `script`, which ends by calling `arguments[arguments.length - 1]` with its result.
    pub(crate) async fn execute_async(&self, script: &str, args: Vec<Value>) -> Result<Value> {
        self.post("execute/async", json!({ "script": script, "args": args }))
            .await
    }

    pub(crate) async fn find(&self, by: Locator<'_>) -> Result<Element> {
        let v = self.post("element", by.body()).await?;
        self.element(&v)
    }

    pub(crate) async fn find_all(&self, by: Locator<'_>) -> Result<Vec<Element>> {
        let v = self.post("elements", by.body()).await?;
        v.as_array()
            .into_iter()
            .flatten()
            .map(|e| self.element(e))
            .collect()
    }

    fn element(&self, v: &Value) -> Result<Element> {
        let id = v[ELEMENT_KEY]
            .as_str()
            .ok_or_else(|| WdError(format!("not an element: {v}")))?;
        Ok(Element {
            client: self.clone(),
            id: id.to_string(),
        })
    }

    pub(crate) async fn set_window_size(&self, width: u32, height: u32) -> Result<()> {
        self.post("window/rect", json!({ "width": width, "height": height }))
            .await
            .map(drop)
    }

    /// The window's x, y, width and height.
    pub(crate) async fn get_window_rect(&self) -> Result<(f64, f64, f64, f64)> {
        let v = self.get("window/rect").await?;
        let n = |k: &str| v[k].as_f64().unwrap_or_default();
        Ok((n("x"), n("y"), n("width"), n("height")))
    }

    /// The viewport as PNG.
    pub(crate) async fn screenshot(&self) -> Result<Vec<u8>> {
        decode(self.get("screenshot").await?)
    }

    /// The page printed to A4 as PDF, with or without background colours and images.
    pub(crate) async fn print_a4(&self, background: bool) -> Result<Vec<u8>> {
        let body = json!({
            "page": { "width": 21.0, "height": 29.7 },
            "background": background,
        });
        decode(self.post("print", body).await?)
    }

    /// Ends the session (the browser closes).
    pub(crate) async fn close(&self) -> Result<()> {
        send(self.http.delete(&self.session)).await.map(drop)
    }
}

impl Element {
    fn path(&self, command: &str) -> String {
        format!("element/{}/{command}", self.id)
    }

    pub(crate) async fn click(&self) -> Result<()> {
        self.client
            .post(&self.path("click"), json!({}))
            .await
            .map(drop)
    }

    pub(crate) async fn clear(&self) -> Result<()> {
        self.client
            .post(&self.path("clear"), json!({}))
            .await
            .map(drop)
    }

    pub(crate) async fn send_keys(&self, text: &str) -> Result<()> {
        self.client
            .post(&self.path("value"), json!({ "text": text }))
            .await
            .map(drop)
    }

    /// The element's rendered text.
    pub(crate) async fn text(&self) -> Result<String> {
        Ok(string(self.client.get(&self.path("text")).await?))
    }

    /// An HTML attribute, `None` when the element does not have it.
    pub(crate) async fn attr(&self, name: &str) -> Result<Option<String>> {
        self.named("attribute", name).await
    }

    /// A DOM property (`value` of a field, say), `None` when it is null or undefined.
    pub(crate) async fn prop(&self, name: &str) -> Result<Option<String>> {
        self.named("property", name).await
    }

    async fn named(&self, what: &str, name: &str) -> Result<Option<String>> {
        let v = self
            .client
            .get(&self.path(&format!("{what}/{name}")))
            .await?;
        Ok(optional(v))
    }

    pub(crate) async fn is_selected(&self) -> Result<bool> {
        let v = self.client.get(&self.path("selected")).await?;
        Ok(v.as_bool().unwrap_or_default())
    }

    /// An element inside this one.
    pub(crate) async fn find(&self, by: Locator<'_>) -> Result<Element> {
        let v = self.client.post(&self.path("element"), by.body()).await?;
        self.client.element(&v)
    }

    /// Chooses the option of this `<select>` whose value is `value`.
    pub(crate) async fn select_by_value(&self, value: &str) -> Result<()> {
        let xpath = format!(".//option[@value={}]", xpath_literal(value));
        self.find(Locator::XPath(&xpath)).await?.click().await
    }

    /// Chooses the option of this `<select>` whose text is `label`.
    pub(crate) async fn select_by_label(&self, label: &str) -> Result<()> {
        let xpath = format!(".//option[normalize-space(.)={}]", xpath_literal(label));
        self.find(Locator::XPath(&xpath)).await?.click().await
    }
}

/// Sends a command and returns its `value`, or the driver's error.
async fn send(request: reqwest::RequestBuilder) -> Result<Value> {
    let response = request
        .send()
        .await
        .map_err(|e| WdError(format!("chromedriver: {e}")))?;
    let status = response.status();
    let body: Value = response
        .json()
        .await
        .map_err(|e| WdError(format!("chromedriver answered {status} without JSON: {e}")))?;
    let value = body.get("value").cloned().unwrap_or(Value::Null);
    if !status.is_success() {
        return Err(WdError(format!(
            "{}: {}",
            value["error"].as_str().unwrap_or(status.as_str()),
            value["message"].as_str().unwrap_or_default()
        )));
    }
    Ok(value)
}

fn string(v: Value) -> String {
    match v {
        Value::String(s) => s,
        other => other.to_string(),
    }
}

fn optional(v: Value) -> Option<String> {
    match v {
        Value::Null => None,
        other => Some(string(other)),
    }
}

fn decode(v: Value) -> Result<Vec<u8>> {
    base64::engine::general_purpose::STANDARD
        .decode(v.as_str().unwrap_or_default())
        .map_err(|e| WdError(format!("not base64: {e}")))
}

/// `s` as an XPath string literal (XPath 1.0 has no escapes: `concat` joins around quotes).
fn xpath_literal(s: &str) -> String {
    if !s.contains('\'') {
        format!("'{s}'")
    } else if !s.contains('"') {
        format!("\"{s}\"")
    } else {
        let parts: Vec<String> = s.split('\'').map(|p| format!("'{p}'")).collect();
        format!("concat({})", parts.join(", \"'\", "))
    }
}

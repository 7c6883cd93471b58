//! What the `/api/v1` tests share: tokens made on the account page, requests with a bearer
//! token (and an idempotency key), problem details, and the usual organisations and reviewer.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::followup::add_location;
use crate::helpers::{Browser, PASSWORD, TestApp, submission_in};

/// Makes a token on the account page as the browser's user; answers its secret.
pub async fn make_token(b: &Browser<'_>, name: &str, scopes: &[&str]) -> String {
    let mut fields = vec![("name", name), ("expires_days", "30")];
    for s in scopes {
        fields.push((s, "on"));
    }
    let res = b.post("/account/tokens", &fields).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let html = res.text().await.unwrap();
    let start = html.find("<code id=\"token-secret\">").unwrap() + 24;
    let end = start + html[start..].find('<').unwrap();
    html[start..end].to_string()
}

/// A reviewer (reviewer@center.example.jp, added now) with a token of these scopes;
/// answers the signed-in browser and the token.
pub async fn reviewer_token<'a>(app: &'a TestApp, scopes: &[&str]) -> (Browser<'a>, String) {
    app.add_user("reviewer@center.example.jp", "reviewer", None)
        .await;
    let r = app.new_browser();
    r.login("reviewer@center.example.jp", PASSWORD).await;
    let token = make_token(&r, "center", scopes).await;
    (r, token)
}

/// A signed-in org admin of `code` who has sent a system configuration; answers the
/// browser, the organisation and the submission.
pub async fn submitted<'a>(
    app: &'a TestApp,
    email: &str,
    code: &str,
) -> (Browser<'a>, String, String) {
    app.add_user(email, "org_admin", Some(code)).await;
    let org = app.org_of(email).await.to_string();
    let b = app.new_browser();
    b.login(email, PASSWORD).await;
    let files = format!("/orgs/{org}/system-configuration/files");
    b.attach(&files, "diagram", "構成図.pdf", b"%PDF-1.7\n%%EOF\n")
        .await;
    b.attach(
        &files,
        "equipment_list",
        "機器.csv",
        "機器,台数\nPC,3\n".as_bytes(),
    )
    .await;
    let res = b
        .post(
            &format!("/orgs/{org}/system-configuration"),
            &[("note", "初回"), ("action", "submit")],
        )
        .await;
    let id = submission_in(&res);
    (b, org, id)
}

/// An org admin of AAAAA with an office 本社, signed in as the app's browser; answers the
/// organisation and the office.
pub async fn org_with_office(app: &TestApp) -> (String, String) {
    app.add_user("kanri@a.example.jp", "org_admin", Some("AAAAA"))
        .await;
    let org = app.org_of("kanri@a.example.jp").await.to_string();
    app.login("kanri@a.example.jp", PASSWORD).await;
    let office = add_location(app, &org, "office", "", "本社").await;
    (org, office)
}

/// An antivirus row of a computer at an office, with today's definitions.
pub fn av_row(host: &str, office: &str) -> Value {
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    json!({"host": host, "office": office, "os": "Windows 11 23H2", "product": "defender",
        "version": "4.18.24090", "definitions_date": today, "update_frequency": "daily"})
}

/// A GET with the token.
pub fn api(app: &TestApp, token: &str, path: &str) -> reqwest::RequestBuilder {
    reqwest::Client::new().get(app.url(path)).bearer_auth(token)
}

/// A POST of a JSON body with the token and an idempotency key.
pub fn post(
    app: &TestApp,
    token: &str,
    path: &str,
    key: &str,
    body: &Value,
) -> reqwest::RequestBuilder {
    reqwest::Client::new()
        .post(app.url(path))
        .bearer_auth(token)
        .header("idempotency-key", key)
        .json(body)
}

/// Sends a request; answers its status and JSON body (`Null` when it has none).
pub async fn send(req: reqwest::RequestBuilder) -> (StatusCode, Value) {
    let res = req.send().await.unwrap();
    let status = res.status();
    let text = res.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// A GET with the token that must answer 200; answers its JSON body.
pub async fn get_json(app: &TestApp, token: &str, path: &str) -> Value {
    let (status, body) = send(api(app, token, path)).await;
    assert_eq!(status, StatusCode::OK, "{path}: {body}");
    body
}

/// A problem details answer's body.
pub async fn problem(res: reqwest::Response) -> Value {
    assert_eq!(
        res.headers()["content-type"].to_str().unwrap(),
        "application/problem+json"
    );
    res.json().await.unwrap()
}

/// The fields a problem's `errors` name.
pub fn fields(p: &Value) -> Vec<String> {
    p["errors"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|e| e["field"].as_str().unwrap_or("").to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// A date `days` from today, `YYYY-MM-DD`.
pub fn in_days(days: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::days(days))
        .format("%Y-%m-%d")
        .to_string()
}

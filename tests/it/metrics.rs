//! `/metrics`: closed unless a token is set, Prometheus text, routes by template.

use reqwest::StatusCode;

use crate::dual_test;
use crate::helpers::{PASSWORD, TestApp, backends};

const TOKEN: &str = "metrics-token-for-the-tests-0001";

async fn scrape(app: &TestApp, auth: Option<&str>) -> reqwest::Response {
    let mut req = app.client.get(app.url("/metrics"));
    if let Some(a) = auth {
        req = req.header("authorization", a);
    }
    req.send().await.unwrap()
}

async fn scraped(app: &TestApp) -> String {
    let res = scrape(app, Some(&format!("Bearer {TOKEN}"))).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    res.text().await.unwrap()
}

/// A sample: metric name, labels, value.
type Sample = (String, Vec<(String, String)>, f64);

/// A sample line's name, labels and value, or `None` when it is not the text format.
fn parse(line: &str) -> Option<Sample> {
    let (head, value) = line.rsplit_once(' ')?;
    let value = match value {
        "+Inf" => f64::INFINITY,
        v => v.parse().ok()?,
    };
    let (name, labels) = match head.split_once('{') {
        Some((n, rest)) => (n, rest.strip_suffix('}')?),
        None => (head, ""),
    };
    let name_ok = !name.is_empty()
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':');
    if !name_ok {
        return None;
    }
    let mut out = Vec::new();
    let mut rest = labels;
    while !rest.is_empty() {
        let (key, after) = rest.split_once("=\"")?;
        if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return None;
        }
        // The value runs to the first quote not escaped.
        let mut end = None;
        let mut escaped = false;
        for (i, c) in after.char_indices() {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => {
                    end = Some(i);
                    break;
                }
                _ => {}
            }
        }
        let end = end?;
        out.push((key.to_string(), after[..end].to_string()));
        rest = after[end + 1..]
            .strip_prefix(',')
            .unwrap_or(&after[end + 1..]);
    }
    Some((name.to_string(), out, value))
}

/// Every line is a comment (`# HELP`/`# TYPE`) or a sample; answers the samples.
fn samples(text: &str) -> Vec<Sample> {
    text.lines()
        .filter(|l| !l.is_empty())
        .filter(|l| {
            if l.starts_with('#') {
                assert!(l.starts_with("# HELP ") || l.starts_with("# TYPE "), "{l}");
                false
            } else {
                true
            }
        })
        .map(|l| parse(l).unwrap_or_else(|| panic!("not the text format: {l}")))
        .collect()
}

fn value(text: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    samples(text)
        .into_iter()
        .filter(|(n, ls, _)| {
            n == name
                && labels
                    .iter()
                    .all(|(k, v)| ls.iter().any(|(lk, lv)| lk == k && lv == v))
        })
        .map(|s| s.2)
        .sum()
}

dual_test!(
    metrics_are_not_served_when_no_token_is_set,
    |app| async move {
        assert_eq!(scrape(&app, None).await.status(), StatusCode::NOT_FOUND);
        assert_eq!(
            scrape(&app, Some("Bearer anything-at-all-0000000"))
                .await
                .status(),
            StatusCode::NOT_FOUND
        );
    }
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_need_the_token_and_count_requests_by_route_template_never_by_raw_path() {
    for backend in backends() {
        let app =
            TestApp::spawn_configured(backend, |c| c.metrics_token = Some(TOKEN.into())).await;
        for auth in [
            None,
            Some("Bearer wrong-token-for-the-tests-01"),
            Some(TOKEN),
            Some("Basic Zm9vOmJhcg=="),
        ] {
            let res = scrape(&app, auth).await;
            assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{auth:?}");
            assert_eq!(res.headers()["www-authenticate"], "Bearer");
        }
        let before = scraped(&app).await;
        let healthz = [("method", "GET"), ("route", "/healthz"), ("status", "200")];
        let n0 = value(&before, "secportal_http_requests_total", &healthz);
        for _ in 0..3 {
            assert_eq!(app.get("/healthz").await.status(), StatusCode::OK);
        }
        app.add_user("reviewer@center.example.jp", "reviewer", None)
            .await;
        app.login("reviewer@center.example.jp", PASSWORD).await;
        let id = uuid::Uuid::now_v7();
        assert_eq!(
            app.get(&format!("/review/{id}")).await.status(),
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            app.get(&format!("/no/such/{id}")).await.status(),
            StatusCode::NOT_FOUND
        );
        let after = scraped(&app).await;
        assert_eq!(
            value(&after, "secportal_http_requests_total", &healthz),
            n0 + 3.0
        );
        let review = [
            ("method", "GET"),
            ("route", "/review/{id}"),
            ("status", "404"),
        ];
        assert_eq!(value(&after, "secportal_http_requests_total", &review), 1.0);
        assert_eq!(
            value(
                &after,
                "secportal_http_requests_total",
                &[("route", "unmatched"), ("status", "404")]
            ),
            1.0
        );
        let count = [("method", "GET"), ("route", "/healthz")];
        assert!(
            value(
                &after,
                "secportal_http_request_duration_seconds_count",
                &count
            ) >= n0 + 3.0
        );
        assert_eq!(
            value(
                &after,
                "secportal_http_request_duration_seconds_bucket",
                &[("route", "/healthz"), ("le", "+Inf")]
            ),
            value(
                &after,
                "secportal_http_request_duration_seconds_count",
                &count
            )
        );
        assert!(
            !after.contains(&id.to_string()),
            "a raw path reached a label"
        );
        for (_, labels, _) in samples(&after) {
            for (k, v) in labels {
                assert!(
                    k != "route"
                        || v == "unmatched"
                        || !v.chars().any(|c| c.is_ascii_digit())
                        || v.contains('{'),
                    "{v}"
                );
            }
        }
        for gauge in [
            "secportal_db_pool_connections",
            "secportal_db_pool_idle",
            "secportal_db_pool_max",
            "secportal_mail_outbox_waiting",
            "secportal_review_waiting",
            "secportal_upload_bytes_total",
        ] {
            assert!(after.contains(&format!("\n{gauge} ")), "{gauge}");
        }
        assert!(value(&after, "secportal_db_pool_connections", &[]) >= 1.0);
        assert_eq!(value(&after, "secportal_review_waiting", &[]), 0.0);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_uploaded_bytes_and_the_submissions_waiting_for_review() {
    for backend in backends() {
        let app =
            TestApp::spawn_configured(backend, |c| c.metrics_token = Some(TOKEN.into())).await;
        app.add_user("kanri@a.example.jp", "org_admin", Some("AAAAA"))
            .await;
        let org = app.org_of("kanri@a.example.jp").await.to_string();
        app.login("kanri@a.example.jp", PASSWORD).await;
        let before = scraped(&app).await;
        let body = "機器,台数\nPC,3\n".as_bytes();
        crate::review::attach(&app, &org, "equipment_list", "機器.csv", body).await;
        crate::review::attach(&app, &org, "diagram", "構成図.pdf", b"%PDF-1.7\n%%EOF\n").await;
        app.post(
            &format!("/orgs/{org}/system-configuration"),
            &[("note", "初回"), ("action", "submit")],
        )
        .await;
        let after = scraped(&app).await;
        assert_eq!(
            value(&after, "secportal_upload_bytes_total", &[])
                - value(&before, "secportal_upload_bytes_total", &[]),
            (body.len() + 15) as f64
        );
        assert_eq!(value(&after, "secportal_uploads_total", &[]), 2.0);
        assert_eq!(value(&after, "secportal_review_waiting", &[]), 1.0);
        assert_eq!(
            value(
                &after,
                "secportal_http_requests_total",
                &[
                    ("route", "/orgs/{org}/system-configuration/files"),
                    ("status", "303")
                ]
            ),
            2.0
        );
    }
}

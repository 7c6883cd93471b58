//! `/metrics` in the Prometheus text format (version 0.0.4), kept with plain atomics.
//!
//! Requests are counted by method, route template (axum's `MatchedPath`, so `/review/{id}`,
//! never a path with ids in it) and status, with a latency histogram per route; the database
//! pool, the mail outbox, the review queue and upload bytes are read at scrape time. Closed
//! unless `SECPORTAL_METRICS_TOKEN` is set; then only `Authorization: Bearer <token>` opens it.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::{AppError, AppResult};
use super::state::AppState;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// What a route was asked to do, and how long it took.
#[derive(Default)]
struct Latency {
    /// Per bucket (not cumulative; summed when written), then one for beyond the last.
    buckets: [AtomicU64; BUCKETS.len() + 1],
    count: AtomicU64,
    sum_micros: AtomicU64,
}

/// The portal's counters.
#[derive(Default)]
pub struct Metrics {
    /// (method, route, status) → requests.
    requests: RwLock<HashMap<(String, String, u16), Arc<AtomicU64>>>,
    /// (method, route) → latency.
    latency: RwLock<HashMap<(String, String), Arc<Latency>>>,
    upload_bytes: AtomicU64,
    uploads: AtomicU64,
}

/// Finds the entry for `key`, making it on first use; the common case takes a read lock only.
fn entry<K: std::hash::Hash + Eq + Clone, V: Default>(
    map: &RwLock<HashMap<K, Arc<V>>>,
    key: &K,
) -> Option<Arc<V>> {
    if let Ok(m) = map.read()
        && let Some(v) = m.get(key)
    {
        return Some(v.clone());
    }
    let mut m = map.write().ok()?;
    Some(m.entry(key.clone()).or_default().clone())
}

impl Metrics {
    /// Counts one answered request.
    pub fn record(&self, method: &str, route: &str, status: u16, took: std::time::Duration) {
        let (method, route) = (method.to_string(), route.to_string());
        if let Some(c) = entry(&self.requests, &(method.clone(), route.clone(), status)) {
            c.fetch_add(1, Ordering::Relaxed);
        }
        if let Some(l) = entry(&self.latency, &(method, route)) {
            let secs = took.as_secs_f64();
            let i = BUCKETS
                .iter()
                .position(|b| secs <= *b)
                .unwrap_or(BUCKETS.len());
            l.buckets[i].fetch_add(1, Ordering::Relaxed);
            l.count.fetch_add(1, Ordering::Relaxed);
            l.sum_micros.fetch_add(
                u64::try_from(took.as_micros()).unwrap_or(u64::MAX),
                Ordering::Relaxed,
            );
        }
    }

    /// Counts one file kept from an upload.
    pub fn uploaded(&self, bytes: u64) {
        self.uploads.fetch_add(1, Ordering::Relaxed);
        self.upload_bytes.fetch_add(bytes, Ordering::Relaxed);
    }

    /// The request counters and histograms as exposition text.
    fn write_requests(&self, out: &mut String) {
        out.push_str("# HELP secportal_http_requests_total HTTP requests answered, by method, route template and status.\n");
        out.push_str("# TYPE secportal_http_requests_total counter\n");
        let mut rows: Vec<_> = self
            .requests
            .read()
            .map(|m| {
                m.iter()
                    .map(|(k, v)| (k.clone(), v.load(Ordering::Relaxed)))
                    .collect()
            })
            .unwrap_or_default();
        rows.sort();
        for ((method, route, status), n) in rows {
            let _ = writeln!(
                out,
                "secportal_http_requests_total{{method=\"{}\",route=\"{}\",status=\"{status}\"}} {n}",
                escape(&method),
                escape(&route)
            );
        }
        out.push_str("# HELP secportal_http_request_duration_seconds Time to answer a request, by method and route template.\n");
        out.push_str("# TYPE secportal_http_request_duration_seconds histogram\n");
        let mut hists: Vec<_> = self
            .latency
            .read()
            .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default();
        hists.sort_by(|a, b| a.0.cmp(&b.0));
        for ((method, route), l) in hists {
            let labels = format!(
                "method=\"{}\",route=\"{}\"",
                escape(&method),
                escape(&route)
            );
            let mut cumulative = 0;
            for (i, le) in BUCKETS
                .iter()
                .map(|b| b.to_string())
                .chain(["+Inf".to_string()])
                .enumerate()
            {
                cumulative += l.buckets[i].load(Ordering::Relaxed);
                let _ = writeln!(
                    out,
                    "secportal_http_request_duration_seconds_bucket{{{labels},le=\"{le}\"}} {cumulative}"
                );
            }
            let _ = writeln!(
                out,
                "secportal_http_request_duration_seconds_sum{{{labels}}} {}",
                l.sum_micros.load(Ordering::Relaxed) as f64 / 1e6
            );
            let _ = writeln!(
                out,
                "secportal_http_request_duration_seconds_count{{{labels}}} {cumulative}"
            );
        }
    }
}

/// A label value as the text format wants it.
fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// One gauge or counter without labels.
fn single(out: &mut String, name: &str, kind: &str, help: &str, value: impl std::fmt::Display) {
    let _ = writeln!(
        out,
        "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}"
    );
}

/// Middleware: counts every request by its route template once answered.
pub async fn track(State(state): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().to_string();
    // Unrouted paths (the 404 fallback) are one label: a raw path could carry anything.
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string());
    let res = next.run(req).await;
    state
        .metrics
        .record(&method, &route, res.status().as_u16(), started.elapsed());
    res
}

/// Whether the request carries the configured token (compared in constant time).
fn authorised(headers: &HeaderMap, token: &str) -> bool {
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    crate::security::constant_time_eq(given.trim(), token)
}

/// `GET /metrics`: 404 unless a token is configured, 401 without it.
pub async fn metrics(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
) -> AppResult<Response> {
    let Some(token) = state.config.metrics_token.as_deref() else {
        return Err(AppError::NotFound);
    };
    if !authorised(&headers, token) {
        return Ok((
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer")],
            "unauthorised\n",
        )
            .into_response());
    }
    let mut out = String::new();
    state.metrics.write_requests(&mut out);
    let (size, idle, max) = state.db.pool_use();
    single(
        &mut out,
        "secportal_db_pool_connections",
        "gauge",
        "Database connections open.",
        size,
    );
    single(
        &mut out,
        "secportal_db_pool_idle",
        "gauge",
        "Database connections open and idle.",
        idle,
    );
    single(
        &mut out,
        "secportal_db_pool_max",
        "gauge",
        "Most database connections the pool opens.",
        max,
    );
    let backlog = crate::app::backlog::backlog(&state).await?;
    single(
        &mut out,
        "secportal_mail_outbox_waiting",
        "gauge",
        "Mails recorded and not yet sent.",
        backlog.outbox,
    );
    single(
        &mut out,
        "secportal_review_waiting",
        "gauge",
        "Submissions waiting for the Center's review.",
        backlog.review_waiting,
    );
    let m = &state.metrics;
    single(
        &mut out,
        "secportal_upload_bytes_total",
        "counter",
        "Bytes of uploaded files kept.",
        m.upload_bytes.load(Ordering::Relaxed),
    );
    single(
        &mut out,
        "secportal_uploads_total",
        "counter",
        "Uploaded files kept.",
        m.uploads.load(Ordering::Relaxed),
    );
    Ok((
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        out,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_latency_lands_in_its_bucket_and_the_buckets_are_written_cumulative() {
        let m = Metrics::default();
        m.record(
            "GET",
            "/review/{id}",
            200,
            std::time::Duration::from_millis(3),
        );
        m.record(
            "GET",
            "/review/{id}",
            200,
            std::time::Duration::from_millis(70),
        );
        m.record(
            "GET",
            "/review/{id}",
            404,
            std::time::Duration::from_secs(30),
        );
        let mut out = String::new();
        m.write_requests(&mut out);
        assert!(out.contains(
            "secportal_http_requests_total{method=\"GET\",route=\"/review/{id}\",status=\"200\"} 2"
        ));
        assert!(out.contains(
            "secportal_http_requests_total{method=\"GET\",route=\"/review/{id}\",status=\"404\"} 1"
        ));
        let bucket = |le: &str| {
            format!(
                "secportal_http_request_duration_seconds_bucket{{method=\"GET\",route=\"/review/{{id}}\",le=\"{le}\"}} "
            )
        };
        assert!(out.contains(&format!("{}1\n", bucket("0.005"))), "{out}");
        assert!(out.contains(&format!("{}1\n", bucket("0.05"))));
        assert!(out.contains(&format!("{}2\n", bucket("0.1"))));
        assert!(out.contains(&format!("{}2\n", bucket("10"))));
        assert!(out.contains(&format!("{}3\n", bucket("+Inf"))));
        assert!(out.contains("_count{method=\"GET\",route=\"/review/{id}\"} 3"));
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}

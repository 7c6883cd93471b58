//! `/docs/api`: the API reference, rendered by the portal from its own OpenAPI document (no
//! outside CDN), in the visitor's language: the operations' summaries and the guide come
//! from the locale files, the fields from the document (written in English in the code) and,
//! on a Japanese page, from `locales/api.ja.json`, keyed by that English text (a test holds
//! the two to the same set).

use std::sync::Arc;

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::Value;
use utoipa::OpenApi;

use super::ctx::{Ctx, MaybeUser};
use super::error::AppResult;
use super::page::{Page, render};
use super::state::AppState;
use crate::i18n::Tr;

/// One operation as listed.
pub struct Operation {
    pub anchor: String,
    pub method: String,
    pub path: String,
    pub summary: String,
    pub scopes: String,
    pub params: Vec<Field>,
    pub body: Option<String>,
    pub responses: Vec<(String, String)>,
}

/// A parameter or a schema's property.
pub struct Field {
    pub name: String,
    pub place: String,
    pub kind: String,
    pub required: bool,
    pub description: String,
}

/// A schema and its properties.
pub struct Schema {
    pub name: String,
    pub description: String,
    pub fields: Vec<Field>,
}

#[derive(Template)]
#[template(path = "docs/api.html")]
struct ReferenceView {
    page: Page,
    base: String,
    operations: Vec<Operation>,
    schemas: Vec<Schema>,
    problems: Vec<(&'static str, String)>,
}

/// The type of a schema in words (`string (uuid)`, `array of QueueItem`, ...).
fn kind_of(s: &Value) -> String {
    if let Some(r) = s.get("$ref").and_then(Value::as_str) {
        return r.rsplit('/').next().unwrap_or(r).to_string();
    }
    if let Some(one) = s.get("oneOf").and_then(Value::as_array) {
        return one.iter().map(kind_of).collect::<Vec<_>>().join(" | ");
    }
    if let Some(e) = s.get("enum").and_then(Value::as_array) {
        return e
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(" | ");
    }
    let ty = match s.get("type") {
        Some(Value::String(t)) => t.clone(),
        Some(Value::Array(ts)) => ts
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(" | "),
        _ => "object".to_string(),
    };
    if ty.starts_with("array")
        && let Some(items) = s.get("items")
    {
        return format!("array of {}", kind_of(items));
    }
    match s.get("format").and_then(Value::as_str) {
        Some(f) => format!("{ty} ({f})"),
        None => ty,
    }
}

fn text(v: Option<&Value>) -> String {
    v.and_then(Value::as_str).unwrap_or("").to_string()
}

/// The Japanese of the document's descriptions, keyed by their English.
static JA: std::sync::LazyLock<std::collections::HashMap<String, String>> =
    std::sync::LazyLock::new(|| {
        serde_json::from_str(include_str!("../../locales/api.ja.json")).unwrap_or_default()
    });

/// A description of the document in the reader's language.
fn described(t: &Tr, v: Option<&Value>) -> String {
    let en = text(v);
    match JA.get(&en) {
        Some(ja) if t.code() == "ja" => ja.clone(),
        _ => en,
    }
}

/// The reference as view data, from the OpenAPI document.
fn build(t: &Tr, doc: &Value) -> (Vec<Operation>, Vec<Schema>) {
    let mut operations = vec![];
    if let Some(paths) = doc.get("paths").and_then(Value::as_object) {
        for (path, item) in paths {
            let Some(item) = item.as_object() else {
                continue;
            };
            for (method, op) in item {
                let id = text(op.get("operationId"));
                let key = format!("api.op.{id}");
                let summary = if t.has(&key) {
                    t.t(&key).to_string()
                } else {
                    text(op.get("description"))
                };
                let scopes = op
                    .get("security")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(|s| s.get("token").and_then(Value::as_array))
                    .flatten()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join(", ");
                let params = op
                    .get("parameters")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .map(|p| Field {
                        name: text(p.get("name")),
                        place: text(p.get("in")),
                        kind: p.get("schema").map(kind_of).unwrap_or_default(),
                        required: p.get("required").and_then(Value::as_bool).unwrap_or(false),
                        description: described(t, p.get("description")),
                    })
                    .collect();
                // JSON bodies by their schema; a file or a form also names its media type.
                let body = op
                    .pointer("/requestBody/content")
                    .and_then(Value::as_object)
                    .and_then(|c| c.iter().next())
                    .map(|(media, c)| {
                        let kind = c.get("schema").map(kind_of).unwrap_or_default();
                        if media == "application/json" {
                            kind
                        } else {
                            format!("{kind} ({media})")
                        }
                    });
                let responses = op
                    .get("responses")
                    .and_then(Value::as_object)
                    .into_iter()
                    .flatten()
                    .map(|(status, r)| {
                        let schema = r
                            .get("content")
                            .and_then(Value::as_object)
                            .and_then(|c| c.values().next())
                            .and_then(|c| c.get("schema"))
                            .map(kind_of)
                            .unwrap_or_default();
                        (status.clone(), schema)
                    })
                    .collect();
                operations.push(Operation {
                    anchor: id,
                    method: method.to_uppercase(),
                    path: path.clone(),
                    summary,
                    scopes,
                    params,
                    body,
                    responses,
                });
            }
        }
    }
    let mut schemas = vec![];
    if let Some(all) = doc
        .pointer("/components/schemas")
        .and_then(Value::as_object)
    {
        for (name, s) in all {
            let required: Vec<&str> = s
                .get("required")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            let fields = s
                .get("properties")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
                .map(|(f, p)| Field {
                    name: f.clone(),
                    place: String::new(),
                    kind: kind_of(p),
                    required: required.contains(&f.as_str()),
                    description: described(t, p.get("description")),
                })
                .collect();
            schemas.push(Schema {
                name: name.clone(),
                description: described(t, s.get("description")),
                fields,
            });
        }
    }
    (operations, schemas)
}

/// The problem types the API answers with, by their `type` fragment.
const PROBLEMS: [(&str, &str); 12] = [
    ("unauthenticated", "api.problem.unauthenticated.title"),
    ("forbidden", "error.forbidden.title"),
    ("not-found", "api.problem.not_found.title"),
    ("invalid", "api.problem.invalid.title"),
    ("conflict", "error.conflict.title"),
    ("rate-limited", "api.problem.rate_limited.title"),
    (
        "idempotency-key-missing",
        "api.problem.idempotency_key_missing.title",
    ),
    (
        "idempotency-key-reused",
        "api.problem.idempotency_key_reused.title",
    ),
    (
        "idempotency-in-progress",
        "api.problem.idempotency_in_progress.title",
    ),
    ("bad-request", "error.bad_request.title"),
    ("too-large", "error.too_large.title"),
    ("unavailable", "error.unavailable.title"),
];

/// `GET /docs/api`: open to everyone (the document itself is public).
pub async fn page(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    MaybeUser(me): MaybeUser,
) -> AppResult<Response> {
    let t = ctx.tr();
    let doc = serde_json::to_value(super::api::ApiDoc::openapi()).map_err(anyhow::Error::from)?;
    let (operations, schemas) = build(&t, &doc);
    render(
        StatusCode::OK,
        &ReferenceView {
            page: Page::new(&ctx, me.as_ref()),
            base: state
                .config
                .base_url
                .as_str()
                .trim_end_matches('/')
                .to_string(),
            operations,
            schemas,
            problems: PROBLEMS
                .iter()
                .map(|(k, title)| (*k, t.t(title).to_string()))
                .collect(),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every description of the document, once.
    fn descriptions(doc: &Value) -> std::collections::BTreeSet<String> {
        let mut out = std::collections::BTreeSet::new();
        let mut add = |v: Option<&Value>| {
            let s = text(v);
            if !s.is_empty() {
                out.insert(s);
            }
        };
        for item in doc["paths"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(_, i)| i)
        {
            for op in item.as_object().into_iter().flatten().map(|(_, o)| o) {
                for p in op["parameters"].as_array().into_iter().flatten() {
                    add(p.get("description"));
                }
            }
        }
        for s in doc["components"]["schemas"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(_, s)| s)
        {
            add(s.get("description"));
            for p in s["properties"]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(_, p)| p)
            {
                add(p.get("description"));
            }
        }
        out
    }

    #[test]
    fn every_description_of_the_api_document_has_its_japanese_and_none_is_left_over() {
        let doc = serde_json::to_value(crate::web::api::ApiDoc::openapi()).unwrap();
        let wanted = descriptions(&doc);
        assert!(wanted.len() > 100, "{}", wanted.len());
        let missing: Vec<&String> = wanted.iter().filter(|d| !JA.contains_key(*d)).collect();
        assert!(
            missing.is_empty(),
            "no Japanese in locales/api.ja.json for {missing:#?}"
        );
        let stale: Vec<&String> = JA.keys().filter(|k| !wanted.contains(*k)).collect();
        assert!(
            stale.is_empty(),
            "locales/api.ja.json describes nothing now: {stale:#?}"
        );
        assert!(JA.values().all(|v| !v.trim().is_empty()));
    }
}

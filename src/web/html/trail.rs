//! The audit trail page: Center admins see every entry, an org admin its own organisation's.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;

use crate::app::{
    self,
    trail::{Standing, TrailParams, Words},
};
use crate::web::ctx::{Ctx, CurrentUser};
use crate::web::error::AppResult;
use crate::web::page::{Page, jst, render};
use crate::web::state::AppState;

/// An entry as shown.
pub struct TrailItem {
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub ip: String,
    pub detail: String,
    /// `holds`, `unkeyed` or `fails` (a CSS class), and what it means in words.
    pub standing: &'static str,
    pub standing_label: String,
}

#[derive(Template)]
#[template(path = "audit/trail.html")]
struct TrailView {
    page: Page,
    items: Vec<TrailItem>,
    action: String,
    actor: String,
    from: String,
    to: String,
    next: Option<String>,
    date_error: bool,
    /// Some shown entry does not match the chain.
    tampered: bool,
}

/// `GET /audit`
pub async fn trail(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Query(q): Query<TrailParams>,
) -> AppResult<Response> {
    let t = ctx.tr();
    let actor = me.actor(&ctx);
    let page = app::trail::trail(&state, &actor, &q).await?;
    let rows: Vec<_> = page.entries.iter().map(|(r, _)| r.clone()).collect();
    let names = app::trail::names(&state, &actor, &rows).await?;
    let words = Words {
        center: t.t("comments.center"),
        draft: t.t("trail.draft"),
        lang: t.code(),
        instruction: t.t("trail.instruction"),
        request: t.t("trail.request"),
    };
    let date_error = page.date_error;
    let tampered = page.entries.iter().any(|(_, st)| *st == Standing::Fails);
    let items: Vec<TrailItem> = page
        .entries
        .into_iter()
        .map(|(r, st)| {
            let (actor, ip) = (names.actor(&r, &words), names.ip(&r));
            let key = format!("audit.action.{}", r.action);
            let detail = if r.detail == "null" {
                String::new()
            } else if let Some(words) = log_search_detail(&t, &r.action, &r.detail) {
                words
            } else {
                names.text(&r.detail, &words)
            };
            let (standing, label) = match st {
                Standing::Holds => ("holds", "trail.holds"),
                Standing::Unkeyed => ("unkeyed", "trail.unkeyed"),
                Standing::Fails => ("fails", "trail.fails"),
            };
            TrailItem {
                standing,
                standing_label: t.t(label).to_string(),
                seq: r.seq,
                at: jst(&r.at),
                actor,
                action: if t.has(&key) {
                    format!("{}（{}）", t.t(&key), r.action)
                } else {
                    r.action
                },
                target: names.text(&r.target, &words),
                ip,
                detail,
            }
        })
        .collect();
    let next = page.next_before.map(|before| {
        let params = [
            ("action", q.action.as_str()),
            ("actor", q.actor.as_str()),
            ("from", q.from.as_str()),
            ("to", q.to.as_str()),
        ];
        format!(
            "/audit?{}&before={before}",
            serde_urlencoded::to_string(params).unwrap_or_default(),
        )
    });
    let view = TrailView {
        page: Page::new(&ctx, Some(&me)),
        items,
        action: q.action,
        actor: q.actor,
        from: q.from,
        to: q.to,
        next,
        date_error,
        tampered,
    };
    render(
        if date_error {
            StatusCode::UNPROCESSABLE_ENTITY
        } else {
            StatusCode::OK
        },
        &view,
    )
}

/// A log search's entries in words (`log.searched`: the output, the files and the criteria;
/// `log.search_finished`: the matches and how far it read); `None` for any other entry.
fn log_search_detail(t: &crate::i18n::Tr, action: &str, detail: &str) -> Option<String> {
    let d: serde_json::Value = serde_json::from_str(detail).ok()?;
    let num = |k: &str| d[k].as_u64().unwrap_or(0).to_string();
    let output = t.t(if d["output"] == "csv" {
        "trail.logsearch.csv"
    } else {
        "trail.logsearch.page"
    });
    match action {
        "log.searched" => {
            let criteria: Vec<String> = ["user_code", "id_number", "business_code", "from", "to"]
                .into_iter()
                .filter_map(|k| {
                    let v = d["criteria"][k].as_str().filter(|v| !v.is_empty())?;
                    Some(format!("{} {v}", t.t(&format!("logsearch.{k}"))))
                })
                .collect();
            Some(t.f(
                "trail.logsearch.started",
                &[
                    ("output", output),
                    ("files", &num("files")),
                    ("criteria", &criteria.join(t.t("trail.logsearch.and"))),
                ],
            ))
        }
        "log.search_finished" => Some(t.f(
            "trail.logsearch.finished",
            &[
                ("output", output),
                ("matches", &num("matches")),
                ("files", &num("files")),
                ("searched", &num("searched")),
                (
                    "end",
                    t.t(if d["complete"] == true {
                        "trail.logsearch.complete"
                    } else {
                        "trail.logsearch.stopped"
                    }),
                ),
            ],
        )),
        _ => None,
    }
}

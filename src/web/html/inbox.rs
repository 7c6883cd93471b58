//! The in-app inbox: every notice a user was sent, and which kinds also come by e-mail.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use uuid::Uuid;

use crate::app;
use crate::web::ctx::{CsrfForm, Ctx, CurrentUser};
use crate::web::error::AppResult;
use crate::web::page::{Page, jst, redirect_with_flash, render, safe_next};
use crate::web::state::AppState;

/// A mail subject without the portal's name in front (the inbox is inside the portal).
fn without_prefix(subject: &str) -> &str {
    for close in ["】", "] "] {
        if (subject.starts_with('【') || subject.starts_with('['))
            && let Some(i) = subject.find(close)
        {
            return subject[i + close.len()..].trim_start();
        }
    }
    subject
}

/// A notice as listed.
pub struct NoticeItem {
    pub id: Uuid,
    pub text: String,
    pub kind_key: String,
    pub unread: bool,
    pub at: String,
}

#[derive(Template)]
#[template(path = "inbox/inbox.html")]
struct InboxView {
    page: Page,
    notices: Vec<NoticeItem>,
    kinds: Vec<(&'static str, bool)>,
}

/// `GET /inbox`
pub async fn inbox(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
) -> AppResult<Response> {
    let t = ctx.tr();
    let actor = me.actor(&ctx);
    let inbox = app::inbox::inbox(&state, &actor).await?;
    let off = inbox.mail_off;
    let notices = inbox
        .notices
        .into_iter()
        .map(|n| {
            let args: serde_json::Map<String, serde_json::Value> =
                serde_json::from_str(&n.args).unwrap_or_default();
            let pairs: Vec<(&str, &str)> = args
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str().unwrap_or("")))
                .collect();
            let subject = crate::mail::filled(t.t(&format!("{}.subject", n.message)), &pairs);
            NoticeItem {
                id: n.id,
                text: without_prefix(&subject).to_string(),
                kind_key: format!("notify.short.{}", n.kind),
                unread: n.read_at.is_none(),
                at: jst(&n.created_at),
            }
        })
        .collect();
    let view = InboxView {
        page: Page::new(&ctx, Some(&me)),
        notices,
        kinds: app::inbox::kinds_for(&actor)
            .iter()
            .map(|k| (*k, !off.iter().any(|o| o == k)))
            .collect(),
    };
    render(StatusCode::OK, &view)
}

/// `POST /inbox/{id}`: marks the notice read and opens what it is about.
pub async fn open(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Path(id): Path<Uuid>,
    CsrfForm(_): CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    let link = app::inbox::open(&state, &me.actor(&ctx), id).await?;
    // Links are stored by the portal itself; still, only ever follow a local path.
    let to = safe_next(&link).unwrap_or("/inbox").to_string();
    Ok(axum::response::IntoResponse::into_response(
        axum::response::Redirect::to(&to),
    ))
}

/// `POST /inbox/read`: marks everything read.
pub async fn read_all(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    CsrfForm(_): CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    app::inbox::read_all(&state, &me.actor(&ctx)).await?;
    Ok(redirect_with_flash(
        "/inbox",
        "flash.all_read",
        state.cookies.secure,
    ))
}

/// `POST /inbox/preferences`: a checkbox `mail_<kind>` per kind; unchecked means no e-mail.
pub async fn preferences(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    CsrfForm(fields): CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    let actor = me.actor(&ctx);
    let mail_on: Vec<String> = app::inbox::kinds_for(&actor)
        .iter()
        .filter(|k| {
            fields
                .iter()
                .any(|(n, v)| n == &format!("mail_{k}") && v == "on")
        })
        .map(|k| k.to_string())
        .collect();
    app::inbox::set_mail(&state, &actor, &mail_on).await?;
    Ok(redirect_with_flash(
        "/inbox#mail",
        "flash.mail_preferences_saved",
        state.cookies.secure,
    ))
}

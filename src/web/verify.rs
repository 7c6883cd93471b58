//! 受付票の照合: Center staff type the receipt number and the code printed on a receipt to
//! confirm it came from the portal, and see the sealed version. Every check is audited; a
//! wrong number and a wrong code get the same answer (the page tells nothing about which
//! receipts exist), and a user who keeps failing is stopped for a while.

use std::sync::Arc;

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use uuid::Uuid;

use super::ctx::{CsrfForm, Ctx, CurrentUser};
use super::error::{AppError, AppResult};
use super::forms::FieldErrors;
use super::html::common::report::{self, Report};
use super::page::{Page, jst, render};
use super::state::AppState;
use crate::db::{self, receipts};
use crate::domain::{Role, Scope};

/// Failed checks allowed per user within `WINDOW_MINUTES`.
const MAX_FAILURES: i64 = 10;
const WINDOW_MINUTES: i64 = 15;

/// The sealed version a genuine receipt stands for.
pub struct Sealed {
    pub id: Uuid,
    pub org_id: Uuid,
    pub org_name: String,
    pub org_code: String,
    pub receipt_no: String,
    pub version: i64,
    pub submitted_at: String,
    pub submitter: String,
    pub state: String,
    pub state_key: String,
    pub report: Report,
}

#[derive(Template)]
#[template(path = "review/verify.html")]
struct VerifyView {
    page: Page,
    receipt: String,
    code: String,
    errors: FieldErrors,
    sealed: Option<Sealed>,
}

#[derive(Deserialize, Default)]
pub struct VerifyForm {
    #[serde(default)]
    receipt: String,
    #[serde(default)]
    code: String,
}

fn center(me: &CurrentUser) -> AppResult<()> {
    me.require(&[Role::Reviewer, Role::CenterAdmin])
}

/// `GET /review/verify`
pub async fn page(ctx: Ctx, me: CurrentUser) -> AppResult<Response> {
    center(&me)?;
    render(
        StatusCode::OK,
        &VerifyView {
            page: Page::new(&ctx, Some(&me)),
            receipt: String::new(),
            code: String::new(),
            errors: FieldErrors::default(),
            sealed: None,
        },
    )
}

/// `POST /review/verify`: checks a receipt number and code; shows the sealed version.
pub async fn check(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    CsrfForm(form): CsrfForm<VerifyForm>,
) -> AppResult<Response> {
    center(&me)?;
    let receipt = receipts::receipt_number(&form.receipt);
    let code = receipts::normalise(&form.code);
    let mut view = VerifyView {
        page: Page::new(&ctx, Some(&me)),
        receipt: form.receipt.trim().to_string(),
        code: form.code.trim().to_string(),
        errors: FieldErrors::default(),
        sealed: None,
    };
    if receipt.is_empty() {
        view.errors.add("receipt", "error.required");
    }
    if code.is_empty() {
        view.errors.add("code", "error.required");
    }
    if !view.errors.is_empty() {
        return render(StatusCode::UNPROCESSABLE_ENTITY, &view);
    }
    let since = db::now() - chrono::Duration::minutes(WINDOW_MINUTES);
    if receipts::failures_since(&state.db, me.id, since).await? >= MAX_FAILURES {
        let mut entry = me.audit(&ctx, "receipt.check_throttled", None, receipt.clone());
        entry.detail = serde_json::json!({ "code": code });
        db::audit::append_alone(&state.db, &entry).await?;
        view.errors.add("_form", "receipt.check_throttled");
        return render(StatusCode::TOO_MANY_REQUESTS, &view);
    }
    let found = match db::submissions::by_receipt(&state.db, &receipt).await? {
        Some(id) => db::submissions::get(&state.db, Scope::Center, id).await?,
        None => None,
    };
    let genuine = match &found {
        Some(s) => match &s.snapshot {
            Some(snap) => receipts::same(&receipts::code(&state.db, &receipt, snap)?, &code),
            None => false,
        },
        None => false,
    };
    let s = match (found, genuine) {
        (Some(s), true) => s,
        _ => {
            let mut entry = me.audit(&ctx, "receipt.check_failed", None, receipt.clone());
            entry.detail = serde_json::json!({ "code": code });
            db::audit::append_alone(&state.db, &entry).await?;
            view.errors.add("_form", "receipt.check_failed");
            return render(StatusCode::UNPROCESSABLE_ENTITY, &view);
        }
    };
    db::audit::append_alone(
        &state.db,
        &me.audit(&ctx, "receipt.checked", Some(s.org_id), receipt.clone()),
    )
    .await?;
    let org = db::orgs::get(&state.db, Scope::Center, s.org_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let places = report::places(&state, s.org_id).await?;
    let report = report::of_submission(&state, ctx.tr(), Scope::Center, &s, &places, false).await?;
    let snap: serde_json::Value = s
        .snapshot
        .as_deref()
        .and_then(|j| serde_json::from_str(j).ok())
        .unwrap_or_default();
    view.sealed = Some(Sealed {
        id: s.id,
        org_id: s.org_id,
        org_name: org.name,
        org_code: org.user_code,
        receipt_no: receipt,
        version: s.version,
        submitted_at: s.submitted_at.map(|t| jst(&t)).unwrap_or_default(),
        submitter: snap["submitter"]["name"].as_str().unwrap_or("").to_string(),
        state_key: format!("checklist.status.{}", s.state),
        state: s.state,
        report,
    });
    render(StatusCode::OK, &view)
}

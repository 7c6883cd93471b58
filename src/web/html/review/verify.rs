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

use crate::app::{self, review::Verification};
use crate::web::ctx::{CsrfForm, Ctx, CurrentUser};
use crate::web::error::AppResult;
use crate::web::forms::FieldErrors;
use crate::web::html::common::report::{self, Report};
use crate::web::html::submissions::receipt::sealed_as;
use crate::web::page::{Page, jst, render};
use crate::web::state::AppState;

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

/// `GET /review/verify`
pub async fn page(ctx: Ctx, me: CurrentUser) -> AppResult<Response> {
    me.require(&app::review::REVIEWERS)?;
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
    let mut view = VerifyView {
        page: Page::new(&ctx, Some(&me)),
        receipt: form.receipt.trim().to_string(),
        code: form.code.trim().to_string(),
        errors: FieldErrors::default(),
        sealed: None,
    };
    let actor = me.actor(&ctx);
    let found = app::review::verify_receipt(&state, &actor, &form.receipt, &form.code);
    let (s, org) = match found.await {
        Ok(Verification::Genuine(s, org)) => (*s, *org),
        Ok(Verification::Throttled) => {
            view.errors.add("_form", "receipt.check_throttled");
            return render(StatusCode::TOO_MANY_REQUESTS, &view);
        }
        Ok(Verification::Failed) => {
            view.errors.add("_form", "receipt.check_failed");
            return render(StatusCode::UNPROCESSABLE_ENTITY, &view);
        }
        Err(app::Error::Invalid(errors)) => {
            view.errors = errors;
            return render(StatusCode::UNPROCESSABLE_ENTITY, &view);
        }
        Err(e) => return Err(e.into()),
    };
    let places = report::places(&state, &actor, s.org_id).await?;
    let report = report::of_submission(&state, &actor, ctx.tr(), &s, &places, false).await?;
    let snap: serde_json::Value = s
        .snapshot
        .as_deref()
        .and_then(|j| serde_json::from_str(j).ok())
        .unwrap_or_default();
    view.sealed = Some(Sealed {
        id: s.id,
        org_id: s.org_id,
        org_name: sealed_as(&snap["org"]["name"], org.name),
        org_code: sealed_as(&snap["org"]["user_code"], org.user_code),
        receipt_no: s.receipt_no.unwrap_or_default(),
        version: s.version,
        submitted_at: s.submitted_at.map(|t| jst(&t)).unwrap_or_default(),
        submitter: snap["submitter"]["name"].as_str().unwrap_or("").to_string(),
        state_key: format!("checklist.status.{}", s.state),
        state: s.state,
        report,
    });
    render(StatusCode::OK, &view)
}

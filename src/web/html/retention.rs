//! Retention settings (保存期間) and legal holds (法的保全), for Center admins (the use
//! cases are `app::retention`).

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use uuid::Uuid;

use crate::app::{
    self,
    retention::{HoldAction, HoldOn},
};
use crate::domain::retention::RecordType;
use crate::web::ctx::{CsrfForm, Ctx, CurrentUser};
use crate::web::error::AppResult;
use crate::web::forms::FieldErrors;
use crate::web::html::common::holds::{HoldBox, hold_box};
use crate::web::page::{Page, jst, redirect_with_flash, render};
use crate::web::state::AppState;

/// One record type's line on the settings page.
struct PeriodRow {
    field: &'static str,
    label_key: &'static str,
    hint_key: &'static str,
    /// What the input shows (as typed, after a refusal).
    months: String,
    current: String,
    /// The date (JST) before which records of this type are past retention today.
    cutoff: String,
    /// How many records the next purge would take.
    due: i64,
}

#[derive(Template)]
#[template(path = "retention/settings.html")]
struct SettingsView {
    page: Page,
    rows: Vec<PeriodRow>,
    errors: FieldErrors,
    last_purge: String,
    /// The holds in force: (link, organisation, receipt number or empty, reason, by, since).
    holds: Vec<(String, String, String, String, String, String)>,
}

fn hint_key(t: RecordType) -> &'static str {
    match t {
        RecordType::Submissions => "retention.hint.submissions",
        RecordType::GatewayLogs => "retention.hint.gateway_logs",
        RecordType::Audit => "retention.hint.audit",
    }
}

async fn settings_view(
    state: &AppState,
    ctx: &Ctx,
    me: &CurrentUser,
    typed: Option<&SettingsForm>,
    errors: FieldErrors,
) -> AppResult<SettingsView> {
    let overview = app::retention::overview(state, &me.actor(ctx)).await?;
    let rows = overview
        .periods
        .into_iter()
        .map(|l| PeriodRow {
            field: l.record.as_str(),
            label_key: l.record.label_key(),
            hint_key: hint_key(l.record),
            months: typed
                .map(|f| f.value(l.record).to_string())
                .unwrap_or_else(|| l.period.months().to_string()),
            current: l.period.months().to_string(),
            cutoff: jst(&l.cutoff).get(..10).unwrap_or_default().to_string(),
            due: l.due,
        })
        .collect();
    Ok(SettingsView {
        page: Page::new(ctx, Some(me)),
        rows,
        errors,
        last_purge: overview.last_purge.map(|t| jst(&t)).unwrap_or_default(),
        holds: overview
            .holds
            .into_iter()
            .map(|h| {
                let link = match h.submission_id {
                    Some(s) => format!("/review/{s}#legal-hold"),
                    None => format!("/admin/orgs/{}#legal-hold", h.org_id),
                };
                (
                    link,
                    h.org_name,
                    h.receipt_no.unwrap_or_default(),
                    h.reason,
                    h.set_by,
                    jst(&h.set_at),
                )
            })
            .collect(),
    })
}

/// `GET /admin/retention`
pub async fn settings(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
) -> AppResult<Response> {
    render(
        StatusCode::OK,
        &settings_view(&state, &ctx, &me, None, FieldErrors::default()).await?,
    )
}

#[derive(Deserialize)]
pub struct SettingsForm {
    #[serde(default)]
    submissions: String,
    #[serde(default)]
    gateway_logs: String,
    #[serde(default)]
    audit: String,
}

impl SettingsForm {
    fn value(&self, t: RecordType) -> &str {
        match t {
            RecordType::Submissions => &self.submissions,
            RecordType::GatewayLogs => &self.gateway_logs,
            RecordType::Audit => &self.audit,
        }
    }
}

/// `POST /admin/retention`: every period at once; one refused keeps them all as they were.
pub async fn save(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    CsrfForm(form): CsrfForm<SettingsForm>,
) -> AppResult<Response> {
    let typed = |t: RecordType| form.value(t).to_string();
    match app::retention::save_periods(&state, &me.actor(&ctx), typed).await {
        Ok(()) => Ok(redirect_with_flash(
            "/admin/retention",
            "flash.retention_saved",
            state.cookies.secure,
        )),
        Err(app::Error::Invalid(errors)) => {
            let view = settings_view(&state, &ctx, &me, Some(&form), errors).await?;
            render(StatusCode::UNPROCESSABLE_ENTITY, &view)
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct HoldForm {
    #[serde(default)]
    action: String,
    #[serde(default)]
    reason: String,
}

#[derive(Template)]
#[template(path = "retention/hold.html")]
struct HoldView {
    page: Page,
    hold: HoldBox,
    target: String,
    back: String,
}

/// `POST /admin/orgs/{id}/hold`: sets or lifts the hold on an organisation.
pub async fn org_hold(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Path(id): Path<Uuid>,
    CsrfForm(form): CsrfForm<HoldForm>,
) -> AppResult<Response> {
    let back = format!("/admin/orgs/{id}");
    change_hold(&state, &ctx, &me, HoldOn::Organisation(id), back, form).await
}

/// `POST /review/{id}/hold`: sets or lifts the hold on a submission.
pub async fn submission_hold(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Path(id): Path<Uuid>,
    CsrfForm(form): CsrfForm<HoldForm>,
) -> AppResult<Response> {
    let back = format!("/review/{id}");
    change_hold(&state, &ctx, &me, HoldOn::Submission(id), back, form).await
}

async fn change_hold(
    state: &AppState,
    ctx: &Ctx,
    me: &CurrentUser,
    on: HoldOn,
    back: String,
    form: HoldForm,
) -> AppResult<Response> {
    let actor = me.actor(ctx);
    let action = HoldAction::parse(&form.action);
    let flash = match app::retention::change_hold(state, &actor, on, action, &form.reason).await {
        Ok(true) if action == Some(HoldAction::Set) => "flash.hold_set",
        Ok(true) => "flash.hold_lifted",
        Ok(false) if action == Some(HoldAction::Set) => "flash.hold_already_set",
        Ok(false) => "flash.hold_not_in_force",
        Err(app::Error::Invalid(errors)) if errors.get("reason").is_some() => {
            let target = app::retention::hold_target(state, &actor, on).await?;
            let mut hold = hold_box(state, &actor, target.org, target.submission).await?;
            hold.error = errors.get("reason");
            hold.reason = form.reason;
            let view = HoldView {
                page: Page::new(ctx, Some(me)),
                hold,
                target: target.label(ctx.tr().code()),
                back,
            };
            return render(StatusCode::UNPROCESSABLE_ENTITY, &view);
        }
        Err(e) => return Err(e.into()),
    };
    Ok(redirect_with_flash(&back, flash, state.cookies.secure))
}

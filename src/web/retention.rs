//! Retention settings (保存期間) and legal holds (法的保全), for Center admins.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use uuid::Uuid;

use super::ctx::{CsrfForm, Ctx, CurrentUser};
use super::error::{AppError, AppResult};
use super::forms::FieldErrors;
use super::holds::{HoldBox, hold_box};
use super::page::{Page, jst, redirect_with_flash, render};
use super::state::AppState;
use crate::db;
use crate::domain::retention::{Period, RecordType, parse_reason};
use crate::domain::{Role, Scope};

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
    let now = db::now();
    let plan = crate::retention::plan(&state.db, now).await?;
    let periods = db::retention::periods(&state.db).await?;
    let rows = periods
        .into_iter()
        .map(|(t, p, _)| {
            let cutoff = p.cutoff(now);
            PeriodRow {
                field: t.as_str(),
                label_key: t.label_key(),
                hint_key: hint_key(t),
                months: typed
                    .map(|f| f.value(t).to_string())
                    .unwrap_or_else(|| p.months().to_string()),
                current: p.months().to_string(),
                cutoff: jst(&cutoff).get(..10).unwrap_or_default().to_string(),
                due: match t {
                    RecordType::Submissions => plan.submissions.len() as i64,
                    RecordType::GatewayLogs => plan.gateway_logs.len() as i64,
                    RecordType::Audit => plan.audit_count(),
                },
            }
        })
        .collect();
    Ok(SettingsView {
        page: Page::new(ctx, Some(me)),
        rows,
        errors,
        last_purge: db::retention::last_purge(&state.db)
            .await?
            .map(|t| jst(&t))
            .unwrap_or_default(),
    })
}

/// `GET /admin/retention`
pub async fn settings(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
) -> AppResult<Response> {
    me.require(&[Role::CenterAdmin])?;
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
    me.require(&[Role::CenterAdmin])?;
    let mut errors = FieldErrors::default();
    let parsed: Vec<(RecordType, Period)> = RecordType::ALL
        .into_iter()
        .filter_map(|t| {
            errors
                .take(t.as_str(), Period::parse(form.value(t)))
                .map(|p| (t, p))
        })
        .collect();
    if !errors.is_empty() {
        let view = settings_view(&state, &ctx, &me, Some(&form), errors).await?;
        return render(StatusCode::UNPROCESSABLE_ENTITY, &view);
    }
    let mut tx = state.db.begin().await?;
    for (t, p) in parsed {
        if let Some(old) = db::retention::set_period(&mut tx, t, p).await? {
            let mut e = me.audit(
                &ctx,
                "retention.period_changed",
                None,
                t.as_str().to_string(),
            );
            e.detail = serde_json::json!({ "from_months": old.months(), "to_months": p.months() });
            db::audit::append(&mut tx, &e).await?;
        }
    }
    tx.commit().await?;
    Ok(redirect_with_flash(
        "/admin/retention",
        "flash.retention_saved",
        state.cookies.secure,
    ))
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

/// What a hold form is about.
struct Target {
    org: Uuid,
    submission: Option<Uuid>,
    /// As people know it: the user code or the receipt number.
    name: String,
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
    me.require(&[Role::CenterAdmin])?;
    let org = db::orgs::get(&state.db, me.scope(), id)
        .await?
        .ok_or(AppError::NotFound)?;
    let target = Target {
        org: org.id,
        submission: None,
        name: format!("{}（{}）", org.name, org.user_code),
        back: format!("/admin/orgs/{id}"),
    };
    change_hold(&state, &ctx, &me, target, form).await
}

/// `POST /review/{id}/hold`: sets or lifts the hold on a submission.
pub async fn submission_hold(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Path(id): Path<Uuid>,
    CsrfForm(form): CsrfForm<HoldForm>,
) -> AppResult<Response> {
    me.require(&[Role::CenterAdmin])?;
    let s = db::submissions::get(&state.db, Scope::Center, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let target = Target {
        org: s.org_id,
        submission: Some(s.id),
        name: s.receipt_no.unwrap_or_default(),
        back: format!("/review/{id}"),
    };
    change_hold(&state, &ctx, &me, target, form).await
}

async fn change_hold(
    state: &AppState,
    ctx: &Ctx,
    me: &CurrentUser,
    target: Target,
    form: HoldForm,
) -> AppResult<Response> {
    let set = match form.action.as_str() {
        "set" => true,
        "lift" => false,
        _ => return Err(AppError::BadRequest),
    };
    let reason = match parse_reason(&form.reason) {
        Ok(r) => r,
        Err(key) => {
            let mut hold = hold_box(state, me, target.org, target.submission).await?;
            hold.error = Some(key);
            hold.reason = form.reason;
            let view = HoldView {
                page: Page::new(ctx, Some(me)),
                hold,
                target: target.name,
                back: target.back,
            };
            return render(StatusCode::UNPROCESSABLE_ENTITY, &view);
        }
    };
    let mut tx = state.db.begin().await?;
    // Queued behind a purge that is running, so the hold is in force before the next one.
    db::retention::lock(&mut tx).await?;
    let changed = if set {
        db::retention::set_hold(&mut tx, target.org, target.submission, &reason, me.id).await?
    } else {
        db::retention::lift_hold(&mut tx, target.org, target.submission, &reason, me.id).await?
    };
    if !changed {
        drop(tx);
        return Ok(redirect_with_flash(
            &target.back,
            if set {
                "flash.hold_already_set"
            } else {
                "flash.hold_not_in_force"
            },
            state.cookies.secure,
        ));
    }
    let mut e = me.audit(
        ctx,
        if set {
            "retention.hold_set"
        } else {
            "retention.hold_lifted"
        },
        Some(target.org),
        target.name,
    );
    e.detail = serde_json::json!({ "reason": reason, "submission": target.submission });
    db::audit::append(&mut tx, &e).await?;
    tx.commit().await?;
    Ok(redirect_with_flash(
        &target.back,
        if set {
            "flash.hold_set"
        } else {
            "flash.hold_lifted"
        },
        state.cookies.secure,
    ))
}

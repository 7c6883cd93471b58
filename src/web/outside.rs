//! §7.4.2(2) — connections to outside networks without the NACCS router. Every LAN or remote
//! connection goes to the Center's review as an application with a diagram; a remote
//! connection by modem or TA is refused at validation with the rule's wording.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::ctx::{CsrfForm, Ctx, CurrentUser};
use super::error::AppResult;
use super::forms::FieldErrors;
use super::html::common::access::{org_for, org_for_report};
use super::html::common::comments::{ReturnNote, return_note};
use super::html::common::files::{FileItem, file_item};
use super::html::common::to_receipt;
use super::html::common::upload::receive_files;
use super::page::{Page, jst, redirect_with_flash, render};
use super::state::AppState;
use crate::app::submissions::{Place, ReportKind};
use crate::db::{self, orgs::OrgRow};
use crate::domain::Scope;

const KIND: &str = "outside_connections";

/// The application's fields.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Application {
    #[serde(default)]
    pub connection_type: String,
    #[serde(default)]
    pub method: String,
    #[serde(default)]
    pub method_other: String,
    #[serde(default)]
    pub computers: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub outside_measures: String,
}

/// The methods each connection type allows (Table 7-4-3 and the examples of §7.4.2(2)).
pub fn methods(connection_type: &str) -> &'static [&'static str] {
    match connection_type {
        "lan" => &["proxy", "nat", "other"],
        "remote" => &["vpn", "modem_ta", "other"],
        _ => &[],
    }
}

/// Checks an application; the errors name fields.
pub fn validate(a: &Application) -> FieldErrors {
    let mut e = FieldErrors::default();
    if !matches!(a.connection_type.as_str(), "lan" | "remote") {
        e.add("connection_type", "error.choose_one");
    } else if !methods(&a.connection_type).contains(&a.method.as_str()) {
        e.add("method", "error.choose_one");
    } else if a.connection_type == "remote" && a.method == "modem_ta" {
        e.add("method", "error.modem_ta_prohibited");
    }
    if a.method == "other" && a.method_other.trim().is_empty() {
        e.add("method_other", "error.required");
    }
    if !matches!(a.computers.as_str(), "naccs" | "other") {
        e.add("computers", "error.choose_one");
    }
    let len_ok = |s: &str, max: usize| s.chars().count() <= max;
    if a.description.trim().is_empty() {
        e.add("description", "error.required");
    } else if !len_ok(&a.description, 4000) {
        e.add("description", "error.too_long");
    }
    if a.connection_type == "remote" && a.outside_measures.trim().is_empty() {
        e.add("outside_measures", "error.outside_measures_required");
    } else if !len_ok(&a.outside_measures, 4000) {
        e.add("outside_measures", "error.too_long");
    }
    if !len_ok(&a.method_other, 200) {
        e.add("method_other", "error.too_long");
    }
    e
}

/// An earlier application as listed.
pub struct Earlier {
    pub id: Uuid,
    pub at: String,
    pub state_key: String,
}

#[derive(Template)]
#[template(path = "submissions/outside.html")]
struct OutsideView {
    page: Page,
    /// Why the version this draft revises was returned.
    returned: Option<ReturnNote>,
    org_id: Uuid,
    org_name: String,
    app: Application,
    files: Vec<FileItem>,
    errors: FieldErrors,
    problems: Vec<String>,
    earlier: Vec<Earlier>,
    can_edit: bool,
}

async fn view(
    state: &AppState,
    ctx: &Ctx,
    me: &CurrentUser,
    org: &OrgRow,
    input: Option<Application>,
    errors: FieldErrors,
    problems: Vec<String>,
) -> AppResult<OutsideView> {
    let draft = db::submissions::draft(&state.db, org.id, KIND, None).await?;
    let files = match &draft {
        Some(d) => db::submissions::files(&state.db, Scope::Org(org.id), d.id)
            .await?
            .into_iter()
            .map(file_item)
            .collect(),
        None => vec![],
    };
    let app = input.unwrap_or_else(|| {
        draft
            .as_ref()
            .and_then(|d| serde_json::from_str(&d.data).ok())
            .unwrap_or_default()
    });
    let earlier = db::submissions::latest(&state.db, Some(org.id))
        .await?
        .into_iter()
        .filter(|s| s.kind == KIND && s.state != "draft")
        .map(|s| Earlier {
            id: s.id,
            at: s.submitted_at.map(|t| jst(&t)).unwrap_or_default(),
            state_key: format!("checklist.status.{}", s.state),
        })
        .collect();
    Ok(OutsideView {
        returned: return_note(state, org.id, draft.as_ref().map(|d| d.id)).await?,
        page: Page::new(ctx, Some(me)),
        org_id: org.id,
        org_name: org.name.clone(),
        app,
        files,
        errors,
        problems,
        earlier,
        can_edit: me.role != crate::domain::Role::Reviewer,
    })
}

/// The page, with the problems of a refused upload if any.
async fn show(
    state: &AppState,
    ctx: &Ctx,
    me: &CurrentUser,
    org_id: Uuid,
    status: StatusCode,
    problems: Vec<String>,
) -> AppResult<Response> {
    let org = org_for(state, me, org_id, false).await?;
    render(
        status,
        &view(state, ctx, me, &org, None, FieldErrors::default(), problems).await?,
    )
}

/// `GET /orgs/{org}/outside-connections`
pub async fn page(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Path(org_id): Path<Uuid>,
) -> AppResult<Response> {
    show(&state, &ctx, &me, org_id, StatusCode::OK, vec![]).await
}

/// `POST /orgs/{org}/outside-connections/files`: the connection diagram.
pub async fn upload(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Path(org_id): Path<Uuid>,
    form: Multipart,
) -> AppResult<Response> {
    let back = format!("/orgs/{org_id}/outside-connections");
    match receive_files(
        &state,
        &ctx,
        &me,
        Place::org(org_id, ReportKind::OutsideConnections),
        form,
        &back,
    )
    .await?
    {
        Ok(done) => Ok(done),
        Err(problems) => show(&state, &ctx, &me, org_id, problems.status, problems.list).await,
    }
}

#[derive(Deserialize)]
pub struct ApplicationForm {
    #[serde(flatten)]
    app: Application,
    #[serde(default)]
    action: String,
}

/// `POST /orgs/{org}/outside-connections`: save the draft, or validate and submit for review.
pub async fn save_or_submit(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Path(org_id): Path<Uuid>,
    CsrfForm(form): CsrfForm<ApplicationForm>,
) -> AppResult<Response> {
    let org = org_for_report(&state, &me, org_id).await?;
    let app = form.app;
    let draft = crate::app::submissions::draft_at(
        &state,
        &me.actor(&ctx),
        &Place::org(org_id, ReportKind::OutsideConnections),
    )
    .await?;
    let data = serde_json::to_value(&app).map_err(anyhow::Error::from)?;
    let mut tx = state.db.begin().await?;
    db::submissions::save_draft(&mut tx, org_id, draft, &data).await?;
    if form.action != "submit" {
        db::audit::append(
            &mut tx,
            &me.audit(
                &ctx,
                "submission.draft_saved",
                Some(org_id),
                draft.to_string(),
            ),
        )
        .await?;
        tx.commit().await?;
        return Ok(redirect_with_flash(
            &format!("/orgs/{org_id}/outside-connections"),
            "flash.draft_saved",
            state.cookies.secure,
        ));
    }
    let mut errors = validate(&app);
    let files = db::submissions::files(&state.db, Scope::Org(org_id), draft).await?;
    if files.is_empty() {
        errors.add("_form", "error.diagram_required");
    }
    if !errors.is_empty() {
        // The draft keeps what was typed; nothing reaches the Center.
        tx.commit().await?;
        return render(
            StatusCode::UNPROCESSABLE_ENTITY,
            &view(&state, &ctx, &me, &org, Some(app), errors, vec![]).await?,
        );
    }
    tx.commit().await?;
    let sealed = crate::app::submissions::seal(
        &state,
        &me.actor(&ctx),
        org_id,
        draft,
        ReportKind::OutsideConnections,
        serde_json::Value::Null,
    )
    .await?;
    Ok(to_receipt(&state, org_id, &sealed))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app(t: &str, m: &str) -> Application {
        Application {
            connection_type: t.into(),
            method: m.into(),
            computers: "naccs".into(),
            description: "本社LANと取引先をVPNで接続".into(),
            outside_measures: "ウイルス対策ソフト、OS更新".into(),
            ..Application::default()
        }
    }

    #[test]
    fn a_remote_connection_by_modem_or_ta_is_refused() {
        assert_eq!(
            validate(&app("remote", "modem_ta")).get("method"),
            Some("error.modem_ta_prohibited")
        );
        assert!(validate(&app("remote", "vpn")).is_empty());
        assert!(validate(&app("lan", "proxy")).is_empty());
        assert_eq!(
            validate(&app("lan", "vpn")).get("method"),
            Some("error.choose_one")
        );
    }

    #[test]
    fn remote_connections_need_the_outside_measures() {
        let mut a = app("remote", "vpn");
        a.outside_measures = " ".into();
        assert_eq!(
            validate(&a).get("outside_measures"),
            Some("error.outside_measures_required")
        );
    }
}

//! One improvement instruction's page: its history with the corrective-action files, the
//! organisation's answer and extension request, and the Center's decisions.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use uuid::Uuid;

use crate::app;
use crate::domain::Role;
use crate::files::UploadError;
use crate::web::ctx::{CsrfForm, Ctx, CurrentUser, check_multipart_token};
use crate::web::error::{AppError, AppResult};
use crate::web::forms::FieldErrors;
use crate::web::html::common::files::human_size;
use crate::web::html::common::instructions::{InstructionItem, instruction_item};
use crate::web::page::{Page, jst, redirect_with_flash, render};
use crate::web::state::AppState;
// Still borrowed from other page areas (downloads, gateway-log refusals): to move down with
// those areas.
use crate::web::html::common::files::{Served, send_file};
use crate::web::html::common::logcheck;

/// A history entry as shown.
pub struct EventItem {
    pub kind_key: String,
    pub actor: String,
    pub center: bool,
    pub body: String,
    pub due: Option<String>,
    /// What the date is to this event: the due date set, or the one asked for.
    pub due_key: &'static str,
    pub at: String,
    pub files: Vec<(Uuid, String, String)>,
}

#[derive(Template)]
#[template(path = "followup/instruction.html")]
struct InstructionView {
    page: Page,
    org_id: Uuid,
    i: InstructionItem,
    events: Vec<EventItem>,
    is_center: bool,
    can_answer: bool,
    can_ask: bool,
    errors: FieldErrors,
    body: String,
    until: String,
    reason: String,
    max_files: usize,
    problems: Vec<String>,
    /// Where the instruction's item is reported.
    item_link: Option<String>,
}

/// What the forms held when the page is shown again: (answer, date, reason).
type Values = (String, String, String);

async fn instruction_view(
    state: &AppState,
    ctx: &Ctx,
    me: &CurrentUser,
    (org_id, id): (Uuid, Uuid),
    errors: FieldErrors,
    values: Values,
) -> AppResult<InstructionView> {
    let detail = app::followup::instruction(state, &me.actor(ctx), org_id, id).await?;
    let t = ctx.tr();
    let catalogue = state.catalogue().await?;
    let files = detail.files;
    let events = detail
        .events
        .into_iter()
        .map(|e| EventItem {
            kind_key: format!("followup.event.{}", e.kind),
            due_key: match e.kind.as_str() {
                "extension_requested" => "followup.due_asked",
                "extension_granted" => "followup.due_new",
                _ => "followup.due",
            },
            actor: e.actor,
            center: Role::parse(&e.actor_role).is_some_and(Role::is_center),
            body: e.body,
            due: e.due_date.map(|d| d.to_string()),
            at: jst(&e.created_at),
            files: files
                .iter()
                .filter(|f| f.event_id == e.id)
                .map(|f| (f.id, f.name.clone(), human_size(f.size)))
                .collect(),
        })
        .collect();
    let org_user = !me.role.is_center();
    // Where the item is reported: at the place the instruction names, else for the whole
    // organisation (an instruction about one office on an item the organisation reports).
    let (key, loc) = (
        detail.instruction.item_key.clone(),
        detail.instruction.location_id,
    );
    let item_link = crate::web::html::common::checklist::item_page(org_id, &key, loc)
        .or_else(|| crate::web::html::common::checklist::item_page(org_id, &key, None));
    let i = instruction_item(&catalogue, t.code(), detail.instruction);
    Ok(InstructionView {
        page: Page::new(ctx, Some(me)),
        org_id,
        can_answer: org_user && i.state == "open",
        can_ask: org_user && i.state == "open" && i.extension.is_none(),
        i,
        events,
        is_center: me.role.is_center(),
        errors,
        body: values.0,
        until: values.1,
        reason: values.2,
        max_files: state.files.max_files,
        problems: vec![],
        item_link,
    })
}

/// `GET /orgs/{org}/instructions/{id}`
pub async fn instruction_page(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Path(key): Path<(Uuid, Uuid)>,
) -> AppResult<Response> {
    let view = instruction_view(
        &state,
        &ctx,
        &me,
        key,
        FieldErrors::default(),
        Values::default(),
    )
    .await?;
    render(StatusCode::OK, &view)
}

/// The outcome of a step as a page: back to the instruction with `flash`; the form again with
/// the messages (422), or with "changed meanwhile" when the page was stale (409).
async fn after_step(
    state: &AppState,
    ctx: &Ctx,
    me: &CurrentUser,
    key: (Uuid, Uuid),
    outcome: Result<app::followup::Stepped, app::Error>,
    flash: &'static str,
    values: Values,
) -> AppResult<Response> {
    let (status, errors) = match outcome {
        Ok(_) => {
            return Ok(redirect_with_flash(
                &format!("/orgs/{}/instructions/{}", key.0, key.1),
                flash,
                state.cookies.secure,
            ));
        }
        Err(app::Error::Invalid(errors)) if errors.get("action").is_none() => {
            (StatusCode::UNPROCESSABLE_ENTITY, errors)
        }
        Err(app::Error::Conflict(k)) => {
            let mut errors = FieldErrors::default();
            errors.add("_form", k);
            (StatusCode::CONFLICT, errors)
        }
        Err(e) => return Err(e.into()),
    };
    render(
        status,
        &instruction_view(state, ctx, me, key, errors, values).await?,
    )
}

/// `POST /orgs/{org}/instructions/{id}/answer` (multipart: `csrf_token`, `version`, `body`,
/// then `files`): the corrective-action report. The files go to the store as they arrive;
/// the answer records them.
pub async fn answer(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Path((org_id, id)): Path<(Uuid, Uuid)>,
    mut form: Multipart,
) -> AppResult<Response> {
    let bad = |_| AppError::BadRequest;
    check_multipart_token(&mut form, &me).await?;
    let actor = me.actor(&ctx);
    app::followup::org_side(&state, &actor, org_id, id).await?;
    let mut input = app::followup::AnswerInput::default();
    let mut problems = vec![];
    let t = ctx.tr();
    while let Some(field) = form.next_field().await.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            AppError::TooLarge
        } else {
            AppError::BadRequest
        }
    })? {
        match field.name() {
            Some("version") => {
                input.version = field.text().await.map_err(bad)?.trim().parse().ok();
            }
            Some("body") => input.body = field.text().await.map_err(bad)?,
            Some("files") => {
                let Some(raw) = field.file_name().map(str::to_string) else {
                    continue;
                };
                if raw.is_empty() {
                    continue;
                }
                let shown: String = raw.chars().filter(|c| !c.is_control()).take(80).collect();
                if input.files.len() >= state.files.max_files {
                    problems.push(t.f(
                        "upload.too_many",
                        &[
                            ("name", &shown),
                            ("max", &state.files.max_files.to_string()),
                        ],
                    ));
                    break;
                }
                match state.files.receive(&raw, Box::pin(field)).await {
                    Ok(s) => {
                        state.metrics.uploaded(s.size);
                        input.files.push(s);
                    }
                    Err(UploadError::TooLarge) => return Err(AppError::TooLarge),
                    Err(UploadError::Interrupted(_)) => return Err(AppError::BadRequest),
                    Err(UploadError::Refused(r)) => problems
                        .push(t.f("upload.refused", &[("name", &shown), ("reason", t.t(r.0))])),
                    // Only gateway-log uploads run the log check.
                    Err(UploadError::Log(r)) => problems.push(t.f(
                        "upload.refused",
                        &[("name", &shown), ("reason", &logcheck::refusal(&t, &r))],
                    )),
                    Err(UploadError::Io(e)) => return Err(AppError::Internal(e)),
                }
            }
            _ => {}
        }
    }
    let key = (org_id, id);
    let values = (input.body.clone(), String::new(), String::new());
    if !problems.is_empty() {
        // The text is checked too, so every message shows at once.
        let mut errors = FieldErrors::default();
        errors.take("body", crate::domain::dates::long_text(&input.body, true));
        let mut view = instruction_view(&state, &ctx, &me, key, errors, values).await?;
        view.problems = problems;
        return render(StatusCode::UNPROCESSABLE_ENTITY, &view);
    }
    let outcome = app::followup::answer(&state, &actor, org_id, id, input).await;
    after_step(&state, &ctx, &me, key, outcome, "flash.answered", values).await
}

#[derive(Deserialize)]
pub struct ExtensionForm {
    #[serde(default)]
    version: i64,
    #[serde(default)]
    until: String,
    #[serde(default)]
    reason: String,
}

/// `POST /orgs/{org}/instructions/{id}/extension`: the organisation asks for more time.
pub async fn ask_extension(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Path((org_id, id)): Path<(Uuid, Uuid)>,
    CsrfForm(form): CsrfForm<ExtensionForm>,
) -> AppResult<Response> {
    let input = app::followup::ExtensionInput {
        version: form.version,
        until: form.until.clone(),
        reason: form.reason.clone(),
    };
    let outcome = app::followup::ask_extension(&state, &me.actor(&ctx), org_id, id, &input).await;
    let values = (String::new(), form.until, form.reason);
    let flash = "flash.extension_requested";
    after_step(&state, &ctx, &me, (org_id, id), outcome, flash, values).await
}

#[derive(Deserialize)]
pub struct DecideForm {
    #[serde(default)]
    version: i64,
    #[serde(default)]
    action: String,
    #[serde(default)]
    date: String,
    #[serde(default)]
    reason: String,
}

/// `POST /orgs/{org}/instructions/{id}/decide`: the Center grants or refuses an extension,
/// closes the instruction, or reopens it with a reason.
pub async fn decide(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Path((org_id, id)): Path<(Uuid, Uuid)>,
    CsrfForm(form): CsrfForm<DecideForm>,
) -> AppResult<Response> {
    let input = app::followup::StepInput {
        version: form.version,
        action: app::followup::InstructionAction::parse(&form.action),
        date: form.date.clone(),
        reason: form.reason.clone(),
    };
    let outcome = app::followup::decide(&state, &me.actor(&ctx), org_id, id, &input).await;
    // The extension's box and the close/reopen box each have a reason: an error goes under
    // the one that was posted.
    let outcome = match (outcome, input.action) {
        (
            Err(app::Error::Invalid(errors)),
            Some(
                app::followup::InstructionAction::Grant | app::followup::InstructionAction::Refuse,
            ),
        ) => {
            let mut moved = app::FieldErrors::default();
            for (field, key) in errors.iter() {
                moved.add(
                    if field == "reason" {
                        "ext_reason"
                    } else {
                        field
                    },
                    key,
                );
            }
            Err(app::Error::Invalid(moved))
        }
        (outcome, _) => outcome,
    };
    let values = (String::new(), form.date, form.reason);
    let flash = match input.action {
        Some(app::followup::InstructionAction::Grant) => "flash.extension_granted",
        Some(app::followup::InstructionAction::Refuse) => "flash.extension_refused",
        Some(app::followup::InstructionAction::Close) => "flash.instruction_closed",
        Some(app::followup::InstructionAction::Reopen) => "flash.instruction_reopened",
        None => "flash.saved",
    };
    after_step(&state, &ctx, &me, (org_id, id), outcome, flash, values).await
}

/// `GET /orgs/{org}/instruction-files/{id}`: a corrective-action file, as an attachment.
pub async fn download(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Path((org_id, id)): Path<(Uuid, Uuid)>,
) -> AppResult<Response> {
    let f = app::followup::file(&state, &me.actor(&ctx), org_id, id).await?;
    let served = Served {
        org_id: f.org_id,
        id: f.id,
        sha256: &f.sha256,
        name: &f.name,
        mime: &f.mime,
        size: f.size,
    };
    send_file(&state, &ctx, &me, served, false).await
}

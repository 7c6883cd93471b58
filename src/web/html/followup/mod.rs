//! Follow-up between the Center and an organisation: improvement instructions (改善措置の
//! 指示) and requests (提出依頼) for items 5 and 6 — the lists and the forms that issue them.
//! One instruction's page (history, answer, extension, decisions) is in `instruction`.

mod instruction;

pub use instruction::{answer, ask_extension, decide, download, instruction_page};

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use uuid::Uuid;

use crate::app::catalogue::Catalogue;
use crate::app::followup::RequestRow;
use crate::app::orgs::OrgRow;
use crate::app::{self, followup::REQUESTABLE};
use crate::web::ctx::{CsrfForm, Ctx, CurrentUser};
use crate::web::error::{AppError, AppResult};
use crate::web::forms::FieldErrors;
use crate::web::html::common::instructions::{InstructionItem, instruction_item};
use crate::web::page::{Page, jst, redirect_with_flash, render};
use crate::web::state::AppState;

/// A request as lists show it.
pub struct RequestItem {
    pub id: Uuid,
    pub org_id: Uuid,
    pub org: String,
    pub item: String,
    pub place: String,
    pub period: String,
    pub due: String,
    /// The day uploads open, when the request has one.
    pub opens: String,
    pub note: String,
    pub state: String,
    pub state_key: String,
    pub overdue: bool,
    /// Answered after the due date (期限後).
    pub late: bool,
    pub answer: Option<(Uuid, String)>,
    /// Where the answer's review stands (`submitted`, `under_review`, `accepted`, `returned`).
    pub answer_state: String,
    /// When it was answered (JST), empty while it is not.
    pub answered: String,
    pub issuer: String,
    pub issued: String,
    pub link: String,
    /// A request for gateway logs (its answer can be searched).
    pub logs: bool,
}

fn request_item(c: &Catalogue, lang: &str, r: RequestRow) -> RequestItem {
    let link = match (r.item_key.as_str(), r.location_id) {
        ("gateway_logs", Some(l)) => format!("/orgs/{}/locations/{l}/gateway-logs", r.org_id),
        ("gateway_logs", None) => format!("/orgs/{}", r.org_id),
        _ => format!("/orgs/{}/inhouse-measures", r.org_id),
    };
    RequestItem {
        overdue: app::followup::request_overdue(&r),
        logs: r.item_key == "gateway_logs",
        id: r.id,
        org_id: r.org_id,
        org: crate::i18n::org_label(&r.org_name, &r.org_code, lang),
        item: c.item_title(&r.item_key, lang),
        // Logs asked of every site say so (none named is no forgotten site).
        place: match r.location_name {
            Some(name) => name,
            None if r.item_key == "gateway_logs" => crate::i18n::Tr::new(
                crate::i18n::Lang::from_code(lang).unwrap_or(crate::i18n::Lang::Ja),
            )
            .t("followup.all_sites")
            .to_string(),
            None => String::new(),
        },
        period: match (r.period_from, r.period_to) {
            (Some(a), Some(b)) => format!("{a} – {b}"),
            _ => String::new(),
        },
        due: r.due_date.to_string(),
        opens: r.opens_on.map(|d| d.to_string()).unwrap_or_default(),
        note: r.note,
        late: r.state == "answered" && r.answered_late,
        state_key: format!("followup.request_state.{}", r.state),
        state: r.state,
        answer_state: r.answer_state.unwrap_or_default(),
        answer: r.submission_id.zip(r.receipt_no),
        answered: r.answered_at.as_ref().map(jst).unwrap_or_default(),
        issuer: r.issuer,
        issued: jst(&r.created_at),
        link,
    }
}

/// What the new-instruction form holds.
#[derive(Deserialize, Default)]
pub struct InstructionForm {
    #[serde(default)]
    submission_id: String,
    #[serde(default)]
    item_key: String,
    #[serde(default)]
    location_id: String,
    #[serde(default)]
    problem: String,
    #[serde(default)]
    required_change: String,
    #[serde(default)]
    due_date: String,
    /// The form's key (a second press meets the first).
    #[serde(default)]
    form_key: String,
}

/// What the new-request form holds.
#[derive(Deserialize, Default)]
pub struct RequestForm {
    #[serde(default)]
    item_key: String,
    #[serde(default)]
    location_id: String,
    #[serde(default)]
    period_from: String,
    #[serde(default)]
    period_to: String,
    #[serde(default)]
    opens_on: String,
    #[serde(default)]
    due_date: String,
    #[serde(default)]
    note: String,
    /// The form's key (a second press meets the first).
    #[serde(default)]
    form_key: String,
}

/// An id field of a form: empty is none; anything else that is not an id is not found.
fn optional_id(raw: &str) -> AppResult<Option<Uuid>> {
    match raw.trim() {
        "" => Ok(None),
        s => Uuid::parse_str(s).map(Some).map_err(|_| AppError::NotFound),
    }
}

#[derive(Template)]
#[template(path = "followup/org.html")]
struct OrgView {
    page: Page,
    org_id: Uuid,
    org_name: String,
    org_code: String,
    instructions: Vec<InstructionItem>,
    requests: Vec<RequestItem>,
    is_center: bool,
    items: Vec<(String, String)>,
    requestable: Vec<(String, String)>,
    locations: Vec<(Uuid, String)>,
    sites: Vec<(Uuid, String)>,
    i: InstructionForm,
    r: RequestForm,
    /// The instruction form's errors and the request form's: each shows only its own.
    i_errors: FieldErrors,
    r_errors: FieldErrors,
    from_receipt: Option<String>,
}

/// Which of the page's two forms came back with errors.
enum Errors {
    None,
    Instruction(FieldErrors),
    Request(FieldErrors),
}

async fn org_view(
    state: &AppState,
    ctx: &Ctx,
    me: &CurrentUser,
    org: &OrgRow,
    i: InstructionForm,
    r: RequestForm,
    errors: Errors,
) -> AppResult<OrgView> {
    let t = ctx.tr();
    let lang = t.code();
    let catalogue = state.catalogue().await?;
    let actor = me.actor(ctx);
    let locations = app::structure::reads::locations(state, &actor, org.id).await?;
    let from_receipt = match Uuid::parse_str(&i.submission_id) {
        Ok(s) => app::submissions::forms::stored(state, &actor, org.id, s)
            .await?
            .and_then(|s| s.receipt_no),
        Err(_) => None,
    };
    let listed = app::followup::of_org(state, &actor, org.id).await?;
    Ok(OrgView {
        page: Page::new(ctx, Some(me)),
        org_id: org.id,
        org_name: org.name.clone(),
        org_code: org.user_code.clone(),
        instructions: listed
            .instructions
            .into_iter()
            .map(|r| instruction_item(&catalogue, lang, r))
            .collect(),
        requests: listed
            .requests
            .into_iter()
            .map(|r| request_item(&catalogue, lang, r))
            .collect(),
        is_center: me.role.is_center(),
        items: catalogue
            .items
            .iter()
            .map(|c| (c.key.clone(), format!("{} {}", c.number, c.title(lang))))
            .collect(),
        requestable: REQUESTABLE
            .iter()
            .map(|k| (k.to_string(), catalogue.item_title(k, lang)))
            .collect(),
        locations: locations
            .iter()
            .filter(|l| l.active)
            .map(|l| (l.id, l.name.clone()))
            .collect(),
        sites: app::structure::reads::log_places(state, &actor, org.id)
            .await?
            .iter()
            .filter(|l| l.active)
            .map(|l| (l.id, l.name.clone()))
            .collect(),
        i: InstructionForm {
            form_key: form_key(&i.form_key),
            ..i
        },
        r: RequestForm {
            form_key: form_key(&r.form_key),
            ..r
        },
        i_errors: match &errors {
            Errors::Instruction(e) => e.clone(),
            _ => FieldErrors::default(),
        },
        r_errors: match errors {
            Errors::Request(e) => e,
            _ => FieldErrors::default(),
        },
        from_receipt,
    })
}

/// The key a form carries: the one it was posted with when it is one of this server's (a
/// form shown again with its errors), else a new one.
fn form_key(posted: &str) -> String {
    app::submissions::submit_key(posted)
        .unwrap_or_else(Uuid::now_v7)
        .to_string()
}

#[derive(Deserialize, Default)]
pub struct OrgQuery {
    #[serde(default)]
    submission: String,
}

/// `GET /orgs/{org}/followup`: the organisation's instructions and requests; Center staff
/// also get the forms to issue them (prefilled from a submission with `?submission=`).
pub async fn org_page(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Path(org_id): Path<Uuid>,
    Query(q): Query<OrgQuery>,
) -> AppResult<Response> {
    let org = app::orgs::visible(&state, &me.actor(&ctx), org_id).await?;
    let mut i = InstructionForm::default();
    if me.role.is_center()
        && let Ok(sid) = Uuid::parse_str(&q.submission)
    {
        let s = app::submissions::forms::stored(&state, &me.actor(&ctx), org_id, sid)
            .await?
            .ok_or(AppError::NotFound)?;
        i.submission_id = sid.to_string();
        i.item_key = s.kind;
        i.location_id = s.location_id.map(|l| l.to_string()).unwrap_or_default();
    }
    render(
        StatusCode::OK,
        &org_view(
            &state,
            &ctx,
            &me,
            &org,
            i,
            RequestForm::default(),
            Errors::None,
        )
        .await?,
    )
}

/// `POST /orgs/{org}/instructions`: the Center issues an improvement instruction.
pub async fn issue_instruction(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Path(org_id): Path<Uuid>,
    CsrfForm(form): CsrfForm<InstructionForm>,
) -> AppResult<Response> {
    me.require(&app::followup::CENTER)?;
    let actor = me.actor(&ctx);
    let input = app::followup::InstructionInput {
        submission: optional_id(&form.submission_id)?,
        item_key: form.item_key.clone(),
        location: optional_id(&form.location_id)?,
        problem: form.problem.clone(),
        required_change: form.required_change.clone(),
        due_date: form.due_date.clone(),
        key: app::submissions::submit_key(&form.form_key),
    };
    match app::followup::issue(&state, &actor, org_id, &input).await {
        Ok(done) => Ok(redirect_with_flash(
            &format!("/orgs/{org_id}/instructions/{}", done.id),
            "flash.instruction_issued",
            state.cookies.secure,
        )),
        Err(app::Error::Invalid(errors)) => {
            let org = app::orgs::visible(&state, &actor, org_id).await?;
            let view = org_view(
                &state,
                &ctx,
                &me,
                &org,
                form,
                RequestForm::default(),
                Errors::Instruction(errors),
            )
            .await?;
            render(StatusCode::UNPROCESSABLE_ENTITY, &view)
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /orgs/{org}/requests`: the Center requests item 5 or item 6 (with the period).
pub async fn issue_request(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Path(org_id): Path<Uuid>,
    CsrfForm(form): CsrfForm<RequestForm>,
) -> AppResult<Response> {
    me.require(&app::followup::CENTER)?;
    let actor = me.actor(&ctx);
    let input = app::followup::RequestInput {
        item_key: form.item_key.clone(),
        location: optional_id(&form.location_id)?,
        period_from: form.period_from.clone(),
        period_to: form.period_to.clone(),
        opens_on: form.opens_on.clone(),
        due_date: form.due_date.clone(),
        note: form.note.clone(),
        key: app::submissions::submit_key(&form.form_key),
    };
    match app::followup::issue_request(&state, &actor, org_id, &input).await {
        Ok(_) => Ok(redirect_with_flash(
            &format!("/orgs/{org_id}/followup#requests"),
            "flash.request_issued",
            state.cookies.secure,
        )),
        Err(app::Error::Invalid(errors)) => {
            let org = app::orgs::visible(&state, &actor, org_id).await?;
            let view = org_view(
                &state,
                &ctx,
                &me,
                &org,
                InstructionForm::default(),
                form,
                Errors::Request(errors),
            )
            .await?;
            render(StatusCode::UNPROCESSABLE_ENTITY, &view)
        }
        Err(e) => Err(e.into()),
    }
}

/// A request's withdrawal as the page posts it: the reason, which may be left empty.
#[derive(serde::Deserialize)]
pub struct WithdrawForm {
    #[serde(default)]
    reason: String,
}

/// `POST /orgs/{org}/requests/{id}/withdraw`
pub async fn withdraw_request(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Path((org_id, id)): Path<(Uuid, Uuid)>,
    CsrfForm(form): CsrfForm<WithdrawForm>,
) -> AppResult<Response> {
    app::followup::withdraw_request(&state, &me.actor(&ctx), org_id, id, &form.reason).await?;
    Ok(redirect_with_flash(
        &format!("/orgs/{org_id}/followup#requests"),
        "flash.request_withdrawn",
        state.cookies.secure,
    ))
}

#[derive(Template)]
#[template(path = "followup/center.html")]
struct CenterView {
    page: Page,
    is_center: bool,
    instructions: Vec<InstructionItem>,
    requests: Vec<RequestItem>,
    /// The requests answered last, newest first.
    answered: Vec<RequestItem>,
    /// The instructions closed last, newest first.
    closed: Vec<InstructionItem>,
    /// The user code typed to issue a new instruction or request, and why it led nowhere.
    code: String,
    code_error: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct CenterQuery {
    /// A user code: the organisation to issue a new instruction or request to.
    #[serde(default)]
    code: String,
}

/// `GET /review/followup`: every unclosed instruction and open request, by due date.
pub async fn center_page(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Query(q): Query<CenterQuery>,
) -> AppResult<Response> {
    let actor = me.actor(&ctx);
    let listed = app::followup::of_center(&state, &actor).await?;
    let t = ctx.tr();
    // 新しい指示・依頼: the organisation's page with the forms, found by its user code.
    let code_error = if q.code.trim().is_empty() {
        None
    } else {
        match app::orgs::by_code(&state, &actor, &q.code).await {
            Ok(Some(org)) => {
                let to = format!("/orgs/{org}/followup#instruct");
                return Ok(axum::response::IntoResponse::into_response(
                    axum::response::Redirect::to(&to),
                ));
            }
            Ok(None) => Some(t.t("followup.code_unknown").to_string()),
            Err(app::Error::Invalid(e)) => e.get("code").map(|k| t.t(k).to_string()),
            Err(e) => return Err(e.into()),
        }
    };
    let catalogue = state.catalogue().await?;
    let view = CenterView {
        page: Page::new(&ctx, Some(&me)),
        is_center: true,
        instructions: listed
            .instructions
            .into_iter()
            .map(|r| instruction_item(&catalogue, t.code(), r))
            .collect(),
        requests: listed
            .requests
            .into_iter()
            .map(|r| request_item(&catalogue, t.code(), r))
            .collect(),
        answered: listed
            .answered
            .into_iter()
            .map(|r| request_item(&catalogue, t.code(), r))
            .collect(),
        closed: listed
            .closed
            .into_iter()
            .map(|r| instruction_item(&catalogue, t.code(), r))
            .collect(),
        code: q.code,
        code_error,
    };
    render(
        if view.code_error.is_some() {
            StatusCode::UNPROCESSABLE_ENTITY
        } else {
            StatusCode::OK
        },
        &view,
    )
}

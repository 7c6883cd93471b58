//! The organisation's profile: name (Japanese), name in kana or English, NACCS user codes,
//! postal address and main contact. Org admins edit their own; Center admins edit any; a
//! second simultaneous save is told the record changed (409) and shown the newer values.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use unicode_normalization::UnicodeNormalization;
use uuid::Uuid;

use super::ctx::{CsrfForm, Ctx, CurrentUser};
use super::error::{AppError, AppResult};
use super::forms::FieldErrors;
use super::html::common::access::org_for;
use super::page::{Page, redirect_with_flash, render};
use super::state::AppState;
use crate::db::{self, orgs::ProfileUpdate};
use crate::domain::{Email, Role, UserCode};

#[derive(Deserialize, Default, Clone)]
pub struct ProfileForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    name_kana: String,
    #[serde(default)]
    extra_codes: String,
    #[serde(default)]
    postal_code: String,
    #[serde(default)]
    address: String,
    #[serde(default)]
    contact_name: String,
    #[serde(default)]
    contact_phone: String,
    #[serde(default)]
    contact_email: String,
    #[serde(default)]
    version: String,
}

#[derive(Template)]
#[template(path = "orgs/profile.html")]
struct ProfileView {
    page: Page,
    org_id: Uuid,
    primary_code: String,
    form: ProfileForm,
    errors: FieldErrors,
    can_edit: bool,
    /// On a conflict: what this user tried to save.
    conflict: Option<ProfileForm>,
}

async fn current_form(
    state: &AppState,
    me: &CurrentUser,
    org_id: Uuid,
) -> AppResult<(ProfileForm, String)> {
    let p = db::orgs::profile(&state.db, me.scope(), org_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let codes = db::orgs::codes(&state.db, org_id).await?;
    let extra: Vec<String> = codes.into_iter().filter(|c| *c != p.user_code).collect();
    Ok((
        ProfileForm {
            name: p.name,
            name_kana: p.name_kana,
            extra_codes: extra.join("\n"),
            postal_code: p.postal_code,
            address: p.address,
            contact_name: p.contact_name,
            contact_phone: p.contact_phone,
            contact_email: p.contact_email,
            version: p.version.to_string(),
        },
        p.user_code,
    ))
}

/// `GET /orgs/{org}/profile`
pub async fn page(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Path(org_id): Path<Uuid>,
) -> AppResult<Response> {
    org_for(&state, &me, org_id, false).await?;
    let (form, primary_code) = current_form(&state, &me, org_id).await?;
    let view = ProfileView {
        page: Page::new(&ctx, Some(&me)),
        org_id,
        primary_code,
        form,
        errors: FieldErrors::default(),
        can_edit: matches!(me.role, Role::OrgAdmin | Role::CenterAdmin),
        conflict: None,
    };
    render(StatusCode::OK, &view)
}

fn text(raw: &str, max: usize, required: bool) -> Result<String, &'static str> {
    let s = raw.trim();
    if s.is_empty() && required {
        Err("error.required")
    } else if s.chars().count() > max || s.chars().any(char::is_control) {
        Err("error.too_long")
    } else {
        Ok(s.to_string())
    }
}

fn postal(raw: &str) -> Result<String, &'static str> {
    let s: String = raw
        .nfkc()
        .collect::<String>()
        .trim()
        .replace(['ー', '－', '―'], "-");
    let digits: String = s.chars().filter(char::is_ascii_digit).collect();
    if s.is_empty() {
        return Ok(s);
    }
    if digits.len() != 7 || !s.chars().all(|c| c.is_ascii_digit() || c == '-') {
        return Err("error.postal_invalid");
    }
    Ok(format!("{}-{}", &digits[..3], &digits[3..]))
}

/// `POST /orgs/{org}/profile`
pub async fn save(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Path(org_id): Path<Uuid>,
    CsrfForm(form): CsrfForm<ProfileForm>,
) -> AppResult<Response> {
    org_for(&state, &me, org_id, true).await?;
    let (_, primary_code) = current_form(&state, &me, org_id).await?;
    let version: i64 = form
        .version
        .trim()
        .parse()
        .map_err(|_| AppError::BadRequest)?;
    let mut errors = FieldErrors::default();
    let name = errors.take("name", text(&form.name, 200, true));
    let name_kana = errors.take("name_kana", text(&form.name_kana, 200, false));
    let postal_code = errors.take("postal_code", postal(&form.postal_code));
    let address = errors.take("address", text(&form.address, 300, false));
    let contact_name = errors.take("contact_name", text(&form.contact_name, 100, false));
    let contact_phone = errors.take(
        "contact_phone",
        crate::domain::input::phone_number(&form.contact_phone, false),
    );
    let contact_email = if form.contact_email.trim().is_empty() {
        Some(String::new())
    } else {
        errors.take(
            "contact_email",
            Email::parse(&form.contact_email).map(|e| e.to_string()),
        )
    };
    let mut extra = vec![];
    for raw in form
        .extra_codes
        .split(|c: char| c.is_whitespace() || c == ',' || c == '、')
        .filter(|s| !s.is_empty())
    {
        match UserCode::parse(raw) {
            Ok(c) if c.as_str() != primary_code && !extra.contains(&c.as_str().to_string()) => {
                extra.push(c.as_str().to_string())
            }
            Ok(_) => {}
            Err(k) => errors.add("extra_codes", k),
        }
    }
    let view =
        |errors: FieldErrors, form: ProfileForm, conflict: Option<ProfileForm>| ProfileView {
            page: Page::new(&ctx, Some(&me)),
            org_id,
            primary_code: primary_code.clone(),
            form,
            errors,
            can_edit: true,
            conflict,
        };
    let (
        Some(name),
        Some(name_kana),
        Some(postal_code),
        Some(address),
        Some(contact_name),
        Some(contact_phone),
        Some(contact_email),
    ) = (
        name,
        name_kana,
        postal_code,
        address,
        contact_name,
        contact_phone,
        contact_email,
    )
    else {
        return render(StatusCode::UNPROCESSABLE_ENTITY, &view(errors, form, None));
    };
    if !errors.is_empty() {
        return render(StatusCode::UNPROCESSABLE_ENTITY, &view(errors, form, None));
    }
    let update = ProfileUpdate {
        name,
        name_kana,
        postal_code,
        address,
        contact_name,
        contact_phone,
        contact_email,
    };
    let mut tx = state.db.begin().await?;
    if !db::orgs::update_profile(&mut tx, org_id, version, &update).await? {
        drop(tx);
        let (newer, _) = current_form(&state, &me, org_id).await?;
        let mut errors = FieldErrors::default();
        errors.add("_form", "error.changed_meanwhile");
        return render(StatusCode::CONFLICT, &view(errors, newer, Some(form)));
    }
    match db::orgs::set_extra_codes(&mut tx, org_id, &primary_code, &extra).await {
        Ok(()) => {}
        Err(e) if db::is_unique_violation(&e) => {
            drop(tx);
            let mut errors = FieldErrors::default();
            errors.add("extra_codes", "error.user_code_taken");
            return render(StatusCode::UNPROCESSABLE_ENTITY, &view(errors, form, None));
        }
        Err(e) => return Err(e.into()),
    }
    let mut entry = me.audit(
        &ctx,
        "organisation.updated",
        Some(org_id),
        primary_code.clone(),
    );
    entry.detail = serde_json::json!({ "profile": update, "extra_codes": extra });
    db::audit::append(&mut tx, &entry).await?;
    tx.commit().await?;
    Ok(redirect_with_flash(
        &format!("/orgs/{org_id}/profile"),
        "flash.saved",
        state.cookies.secure,
    ))
}

//! The organisation's profile: name (Japanese), name in kana or English, NACCS user codes,
//! postal address and main contact. Org admins edit their own; Center admins edit any; a
//! second simultaneous save is told the record changed (409) and shown the newer values.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use uuid::Uuid;

use crate::app::profile::Profile;
use crate::app::{self, FieldErrors};
use crate::web::ctx::{CsrfForm, Ctx, CurrentUser};
use crate::web::error::{AppError, AppResult};
use crate::web::html::common::access::{org_for, reader};
use crate::web::page::{Page, redirect_with_flash, render};
use crate::web::state::AppState;

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
    /// The name as stored (the back link's), whatever the form holds unsaved.
    org_name: String,
    primary_code: String,
    form: ProfileForm,
    errors: FieldErrors,
    can_edit: bool,
    /// On a conflict: what this user tried to save.
    conflict: Option<ProfileForm>,
}

impl From<Profile> for ProfileForm {
    fn from(p: Profile) -> Self {
        ProfileForm {
            name: p.name,
            name_kana: p.name_kana,
            extra_codes: p.extra_codes,
            postal_code: p.postal_code,
            address: p.address,
            contact_name: p.contact_name,
            contact_phone: p.contact_phone,
            contact_email: p.contact_email,
            version: p.version.to_string(),
        }
    }
}

async fn current_form(
    state: &AppState,
    me: &CurrentUser,
    org_id: Uuid,
) -> AppResult<(ProfileForm, String)> {
    let (p, code) = app::profile::profile(state, &reader(me), org_id).await?;
    Ok((p.into(), code))
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
        org_name: form.name.clone(),
        primary_code,
        form,
        errors: FieldErrors::default(),
        can_edit: app::structure::can_edit(&reader(&me)),
        conflict: None,
    };
    render(StatusCode::OK, &view)
}

/// `POST /orgs/{org}/profile`
pub async fn save(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Path(org_id): Path<Uuid>,
    CsrfForm(form): CsrfForm<ProfileForm>,
) -> AppResult<Response> {
    let version: i64 = form
        .version
        .trim()
        .parse()
        .map_err(|_| AppError::BadRequest)?;
    let input = Profile {
        name: form.name.clone(),
        name_kana: form.name_kana.clone(),
        extra_codes: form.extra_codes.clone(),
        postal_code: form.postal_code.clone(),
        address: form.address.clone(),
        contact_name: form.contact_name.clone(),
        contact_phone: form.contact_phone.clone(),
        contact_email: form.contact_email.clone(),
        version,
    };
    let (status, errors, shown, conflict) =
        match app::profile::save_profile(&state, &me.actor(&ctx), org_id, input).await {
            Ok(()) => {
                return Ok(redirect_with_flash(
                    &format!("/orgs/{org_id}/profile"),
                    "flash.profile_saved",
                    state.cookies.secure,
                ));
            }
            Err(app::Error::Invalid(errors)) => {
                (StatusCode::UNPROCESSABLE_ENTITY, errors, form, None)
            }
            // Someone saved first: their values in the form, this user's beside them.
            Err(app::Error::Conflict(key)) => {
                let (newer, _) = current_form(&state, &me, org_id).await?;
                let mut errors = FieldErrors::default();
                errors.add("_form", key);
                (StatusCode::CONFLICT, errors, newer, Some(form))
            }
            Err(e) => return Err(e.into()),
        };
    let (stored, primary_code) = current_form(&state, &me, org_id).await?;
    render(
        status,
        &ProfileView {
            page: Page::new(&ctx, Some(&me)),
            org_id,
            org_name: stored.name,
            primary_code,
            form: shown,
            errors,
            can_edit: true,
            conflict,
        },
    )
}

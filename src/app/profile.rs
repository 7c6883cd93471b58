//! The organisation's profile (組織情報): name, name in kana or English, further NACCS user
//! codes, postal address and main contact. Saved over the version the editor read.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::structure::locations::CHANGED_MEANWHILE;
use super::structure::org_for;
use super::{Actor, App, Error, FieldErrors};
use crate::db::{self, orgs::ProfileUpdate};
use crate::domain::input::{line, phone_number, postal_code};
use crate::domain::{Email, UserCode};

/// The profile as typed (and as read back for the form).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Profile {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub name_kana: String,
    /// The further user codes besides the primary one (spaces, line breaks or commas).
    #[serde(default)]
    pub extra_codes: String,
    #[serde(default)]
    pub postal_code: String,
    #[serde(default)]
    pub address: String,
    #[serde(default)]
    pub contact_name: String,
    #[serde(default)]
    pub contact_phone: String,
    #[serde(default)]
    pub contact_email: String,
    /// The version read (a save over an older one is a conflict).
    #[serde(default)]
    pub version: i64,
}

/// The profile of an organisation in the actor's scope, and its primary user code.
pub async fn profile(app: &App, actor: &Actor, org_id: Uuid) -> Result<(Profile, String), Error> {
    let p = db::orgs::profile(&app.db, actor.scope(), org_id)
        .await?
        .ok_or(Error::NotFound)?;
    let codes = db::orgs::codes(&app.db, org_id).await?;
    let extra: Vec<String> = codes.into_iter().filter(|c| *c != p.user_code).collect();
    Ok((
        Profile {
            name: p.name,
            name_kana: p.name_kana,
            extra_codes: extra.join("\n"),
            postal_code: p.postal_code,
            address: p.address,
            contact_name: p.contact_name,
            contact_phone: p.contact_phone,
            contact_email: p.contact_email,
            version: p.version,
        },
        p.user_code,
    ))
}

/// Saves the profile (an org admin of it or a Center admin) with its audit entry, unless
/// someone saved since `version` (a conflict, `error.changed_meanwhile`); a user code another
/// organisation holds is refused at `extra_codes`.
pub async fn save_profile(
    app: &App,
    actor: &Actor,
    org_id: Uuid,
    input: Profile,
) -> Result<(), Error> {
    org_for(app, actor, org_id, true).await?;
    let (before, primary_code) = profile(app, actor, org_id).await?;
    let mut errors = FieldErrors::default();
    let name = errors.take("name", line(&input.name, 200, true));
    let name_kana = errors.take(
        "name_kana",
        crate::domain::input::kana(&input.name_kana, 200, false).and_then(|k| line(&k, 200, false)),
    );
    let postal = errors.take("postal_code", postal_code(&input.postal_code));
    let address = errors.take("address", line(&input.address, 300, false));
    let contact_name = errors.take("contact_name", line(&input.contact_name, 100, false));
    let contact_phone = errors.take("contact_phone", phone_number(&input.contact_phone, false));
    let contact_email = if input.contact_email.trim().is_empty() {
        Some(String::new())
    } else {
        errors.take(
            "contact_email",
            Email::parse(&input.contact_email).map(|e| e.to_string()),
        )
    };
    let mut extra = vec![];
    for raw in input
        .extra_codes
        .split(|c: char| c.is_whitespace() || c == ',' || c == '、')
        .filter(|s| !s.is_empty())
    {
        match UserCode::parse(raw) {
            Ok(c) if c.as_str() != primary_code && !extra.contains(&c.as_str().to_string()) => {
                extra.push(c.as_str().to_string())
            }
            Ok(_) => {}
            Err(k) => errors.add_named("extra_codes", k, &raw.chars().take(20).collect::<String>()),
        }
    }
    let (
        Some(name),
        Some(name_kana),
        Some(postal_code),
        Some(address),
        Some(contact_name),
        Some(contact_phone),
        Some(contact_email),
        true,
    ) = (
        name,
        name_kana,
        postal,
        address,
        contact_name,
        contact_phone,
        contact_email,
        errors.is_empty(),
    )
    else {
        return Err(Error::Invalid(errors));
    };
    let update = ProfileUpdate {
        name,
        name_kana,
        postal_code,
        address,
        contact_name,
        contact_phone,
        contact_email,
    };
    let mut tx = app.db.begin().await?;
    if !db::orgs::update_profile(&mut tx, org_id, input.version, &update).await? {
        return Err(Error::Conflict(CHANGED_MEANWHILE));
    }
    if let Err(taken) = db::orgs::set_extra_codes(&mut tx, org_id, &primary_code, &extra).await? {
        let mut errors = FieldErrors::default();
        errors.add_named("extra_codes", "error.user_code_taken", &taken);
        return Err(Error::Invalid(errors));
    }
    // The trail says what changed: each changed field before and after, nothing else.
    let (mut was, mut now) = (serde_json::Map::new(), serde_json::Map::new());
    for (field, old, new) in [
        ("name", &before.name, &update.name),
        ("name_kana", &before.name_kana, &update.name_kana),
        ("postal_code", &before.postal_code, &update.postal_code),
        ("address", &before.address, &update.address),
        ("contact_name", &before.contact_name, &update.contact_name),
        (
            "contact_phone",
            &before.contact_phone,
            &update.contact_phone,
        ),
        (
            "contact_email",
            &before.contact_email,
            &update.contact_email,
        ),
    ] {
        if old != new {
            was.insert(field.into(), old.as_str().into());
            now.insert(field.into(), new.as_str().into());
        }
    }
    let old_codes: Vec<&str> = before.extra_codes.lines().collect();
    if old_codes != extra.iter().map(String::as_str).collect::<Vec<_>>() {
        was.insert("extra_codes".into(), old_codes.into());
        now.insert("extra_codes".into(), extra.clone().into());
    }
    if was.is_empty() {
        // Saved as it was: nothing to record (the transaction is dropped, the version kept).
        return Ok(());
    }
    let mut entry = actor.audit("organisation.updated", Some(org_id), primary_code);
    entry.detail = serde_json::json!({ "before": was, "now": now });
    db::audit::append(&mut tx, &entry).await?;
    tx.commit().await?;
    Ok(())
}

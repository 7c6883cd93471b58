//! One-time links (no one is signed in): first-run setup of the first Center admin,
//! accepting an invitation, resetting a password. A link that is unknown, used or expired is
//! "gone": the functions answer `Ok(None)` for it, and say nothing more.

use chrono::Duration;

use super::links::issue_link;
use super::{App, Error, FieldErrors};
pub use crate::db::users::UserRow;
use crate::db::{self, audit::Entry, links::Purpose, users::NewUser};
use crate::domain::{Email, Role, Scope, text};
use crate::mail::Outgoing;
use crate::security;

/// Most reset links mailed to one address per hour.
const RESETS_PER_ADDRESS: i64 = 3;
/// Most reset requests from one client address per window.
const RESETS_PER_IP: i64 = 10;
/// The window of [`RESETS_PER_IP`], in minutes.
pub const RESET_WINDOW_MINUTES: i64 = 15;

/// Creates the setup link if no Center admin exists yet; answers the URL to print.
pub async fn setup_link_if_needed(app: &App) -> anyhow::Result<Option<String>> {
    if db::users::count_active_center_admins(&app.db).await? > 0 {
        return Ok(None);
    }
    let mut tx = app.db.begin().await?;
    let token = issue_link(&mut tx, Purpose::Setup, None).await?;
    tx.commit().await?;
    Ok(Some(app.config.link(&format!("/setup?token={token}"))))
}

/// A link that is still usable.
async fn live_link(
    app: &App,
    token: &str,
    purpose: Purpose,
) -> Result<Option<db::links::LinkRow>, Error> {
    if token.is_empty() || token.len() > 100 {
        return Ok(None);
    }
    Ok(
        db::links::find(&app.db, &security::token_hash(token), purpose)
            .await?
            .filter(|l| l.used_at.is_none() && l.expires_at > db::now()),
    )
}

/// Whether the setup link `token` may still be used (no Center admin yet, link live).
pub async fn setup_open(app: &App, token: &str) -> Result<bool, Error> {
    Ok(db::users::count_active_center_admins(&app.db).await? == 0
        && live_link(app, token, Purpose::Setup).await?.is_some())
}

/// Checks a display name: 1 to 100 characters, nothing invisible or look-alike.
pub fn parse_name(raw: &str) -> Result<String, &'static str> {
    let s = raw.trim();
    if s.is_empty() {
        Err("error.name_required")
    } else if s.chars().count() > 100 {
        Err("error.name_invalid")
    } else if s.chars().any(text::is_invisible) || text::mixes_confusable_scripts(s) {
        Err("error.name_misleading")
    } else {
        Ok(s.to_string())
    }
}

/// What [`setup`] takes, as typed.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct SetupInput {
    pub token: String,
    pub email: String,
    pub display_name: String,
    pub password: String,
    pub password_confirm: String,
}

/// Creates the first Center admin through the setup link (errors by field: `email`,
/// `display_name`, `password`); `ip` is the client's, for the audit entry.
pub async fn setup(app: &App, ip: &str, input: &SetupInput) -> Result<Option<String>, Error> {
    if !setup_open(app, &input.token).await? {
        return Ok(None);
    }
    let mut errors = FieldErrors::default();
    let email = errors.take("email", Email::parse(&input.email));
    let name = errors.take("display_name", parse_name(&input.display_name));
    let password = errors.take_new_password(&input.password, &input.password_confirm);
    let (Some(email), Some(name), Some(password)) = (email, name, password) else {
        return Err(Error::Invalid(errors));
    };
    let hash = security::hash_password(password.expose().to_string()).await?;
    let mut tx = app.db.begin().await?;
    if !db::links::consume(&mut tx, &security::token_hash(&input.token), Purpose::Setup).await? {
        return Ok(None);
    }
    let new = NewUser {
        org_id: None,
        email: email.as_str(),
        display_name: &name,
        role: Role::CenterAdmin,
        status: "active",
        password_hash: Some(&hash),
    };
    let id = match db::users::insert(&mut tx, &new).await {
        Ok(id) => id,
        Err(e) if db::is_unique_violation(&e) => {
            return Err(Error::Conflict("error.conflict.body"));
        }
        Err(e) => return Err(e.into()),
    };
    db::audit::append(
        &mut tx,
        &Entry {
            actor_id: Some(id),
            actor: email.to_string(),
            org_id: None,
            action: "user.created",
            target: email.to_string(),
            ip: ip.to_string(),
            detail: serde_json::json!({ "role": "center_admin", "via": "setup link" }),
        },
    )
    .await?;
    tx.commit().await?;
    tracing::info!("first center admin created through the setup link");
    Ok(Some(email.to_string()))
}

/// The user an invitation or reset link is for, while it is live and the user is in the
/// state it expects (invited, or active).
pub async fn link_user(app: &App, token: &str, purpose: Purpose) -> Result<Option<UserRow>, Error> {
    let Some(user_id) = live_link(app, token, purpose)
        .await?
        .and_then(|l| l.user_id)
    else {
        return Ok(None);
    };
    let expected = if purpose == Purpose::Invitation {
        "invited"
    } else {
        "active"
    };
    Ok(db::users::get(&app.db, Scope::Center, user_id)
        .await?
        .filter(|u| u.status == expected))
}

/// What an invitation is for, as its page says it: the role's locale key and the
/// organisation's name (empty for Center staff).
pub async fn invited_as(app: &App, user: &UserRow) -> Result<(&'static str, String), Error> {
    let role = Role::parse(&user.role).map_or("", Role::label_key);
    let org = match user.org_id {
        Some(id) => db::orgs::get(&app.db, Scope::Center, id)
            .await?
            .map(|o| o.name)
            .unwrap_or_default(),
        None => String::new(),
    };
    Ok((role, org))
}

/// What [`set_password`] takes, as typed.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct PasswordLinkInput {
    pub token: String,
    /// Asked of an invited user only.
    pub display_name: String,
    pub password: String,
    pub password_confirm: String,
}

/// Accepts an invitation (name and password) or completes a password reset through its
/// link (errors by field: `display_name`, `password`). The new password ends every session
/// the old one opened.
pub async fn set_password(
    app: &App,
    ip: &str,
    purpose: Purpose,
    input: &PasswordLinkInput,
) -> Result<Option<String>, Error> {
    let Some(user) = link_user(app, &input.token, purpose).await? else {
        return Ok(None);
    };
    let invitation = purpose == Purpose::Invitation;
    let mut errors = FieldErrors::default();
    let name = if invitation {
        errors.take("display_name", parse_name(&input.display_name))
    } else {
        Some(String::new())
    };
    let password = errors.take_new_password(&input.password, &input.password_confirm);
    let (Some(name), Some(password)) = (name, password) else {
        return Err(Error::Invalid(errors));
    };
    let hash = security::hash_password(password.expose().to_string()).await?;
    let mut tx = app.db.begin().await?;
    if !db::links::consume(&mut tx, &security::token_hash(&input.token), purpose).await? {
        return Ok(None);
    }
    let changed = if invitation {
        db::users::activate(&mut tx, user.id, &name, &hash).await?
    } else {
        db::users::set_password(&mut tx, user.id, &hash).await?
    };
    if changed != 1 {
        return Ok(None);
    }
    db::sessions::delete_for_user(&mut tx, user.id).await?;
    db::audit::append(
        &mut tx,
        &Entry {
            actor_id: Some(user.id),
            actor: user.email.clone(),
            org_id: user.org_id,
            action: if invitation {
                "user.activated"
            } else {
                "password_reset.completed"
            },
            target: user.email.clone(),
            ip: ip.to_string(),
            detail: serde_json::Value::Null,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(Some(user.email))
}

/// What [`forgot`] answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Forgot {
    /// Taken: a link goes to the address if it is an active account's (the answer is the
    /// same either way).
    Taken,
    /// Too many requests from this client address lately.
    Throttled,
}

/// A forgotten password: mails a reset link to the stored address of an active account,
/// within limits (a few links an hour per address, more silently not sent; a few requests
/// per client address). Whether the address is known is decided off the request path, so
/// the answer takes the same time for every address. An address that is not one is
/// invalid (field `email`).
pub async fn forgot(app: &std::sync::Arc<App>, ip: &str, typed: &str) -> Result<Forgot, Error> {
    let email = Email::parse(typed).map_err(|k| Error::field("email", k))?;
    let now = db::now();
    let (for_address, from_ip) = db::throttle::record_request(
        &app.db,
        db::throttle::Request::PasswordReset,
        email.as_str(),
        ip,
        now - Duration::hours(1),
        now - Duration::minutes(RESET_WINDOW_MINUTES),
    )
    .await?;
    if from_ip >= RESETS_PER_IP {
        return Ok(Forgot::Throttled);
    }
    if for_address < RESETS_PER_ADDRESS {
        let app = app.clone();
        let ip = ip.to_string();
        tokio::spawn(async move {
            if let Err(e) = send_reset_link(&app, email, ip).await {
                tracing::error!(error = %e, "password reset link not issued");
            }
        });
    }
    Ok(Forgot::Taken)
}

/// Issues a reset link to an active account with this address and mails it; nothing for an
/// unknown or disabled address.
async fn send_reset_link(app: &App, email: Email, ip: String) -> anyhow::Result<()> {
    let Some(user) = db::users::by_email(&app.db, email.as_str())
        .await?
        .filter(|u| u.status == "active")
    else {
        return Ok(());
    };
    let entry = Entry {
        actor_id: None,
        actor: user.email.clone(),
        org_id: user.org_id,
        action: "password_reset.requested",
        target: user.email.clone(),
        ip,
        detail: serde_json::Value::Null,
    };
    mail_reset_link(app, user.id, user.email, &entry).await?;
    Ok(())
}

/// Issues a new password-reset link for `user` (earlier ones stop working) with `entry` as
/// its audit entry, and mails it to `email` once committed.
pub(crate) async fn mail_reset_link(
    app: &App,
    user: uuid::Uuid,
    email: String,
    entry: &Entry,
) -> Result<(), Error> {
    let mut tx = app.db.begin().await?;
    db::links::revoke_for_user(&mut tx, user, Purpose::PasswordReset).await?;
    let token = issue_link(&mut tx, Purpose::PasswordReset, Some(user)).await?;
    db::audit::append(&mut tx, entry).await?;
    tx.commit().await?;
    let link = app.config.link(&format!("/password/reset?token={token}"));
    super::send_logged(
        app,
        Outgoing::new(email, "mail.reset", vec![("link", link)]),
    )
    .await;
    Ok(())
}

//! One's own account (アカウント): sessions (end one or all others) and changing the password
//! (the current password first; other sessions end; a mail says it happened). `current` is
//! the session the actor acts through (its token's hash), which stays.

use super::{Actor, App, Error, FieldErrors};
use crate::db::{self, audit::Entry, sessions::OwnSession};
use crate::mail::Outgoing;
use crate::security;

/// One's account as its page shows it.
#[derive(Debug, Clone)]
pub struct Account {
    /// Most recently used first.
    pub sessions: Vec<OwnSession>,
    /// Whether a second factor is switched on.
    pub second_factor_on: bool,
}

/// The actor's sessions and second-factor state.
pub async fn account(app: &App, actor: &Actor) -> Result<Account, Error> {
    Ok(Account {
        sessions: db::sessions::of_user(&app.db, actor.id).await?,
        second_factor_on: db::second_factor::has_any(&app.db, actor.id).await?,
    })
}

fn entry(actor: &Actor, action: &'static str) -> Entry {
    actor.audit(action, None, actor.email.clone())
}

/// Ends one of the actor's sessions (by its token's hash; not theirs: not found); answers
/// whether it was the current one (which signs the actor out).
pub async fn end_session(
    app: &App,
    actor: &Actor,
    current: &[u8],
    hash: &[u8],
) -> Result<bool, Error> {
    let mut tx = app.db.begin().await?;
    if !db::sessions::delete_own(&mut tx, actor.id, hash).await? {
        return Err(Error::NotFound);
    }
    let own = hash == current;
    let mut e = entry(actor, "session.ended");
    e.detail = serde_json::json!({ "own": own });
    db::audit::append(&mut tx, &e).await?;
    tx.commit().await?;
    Ok(own)
}

/// Ends every session of the actor but the current one; answers how many ended.
pub async fn end_others(app: &App, actor: &Actor, current: &[u8]) -> Result<u64, Error> {
    let mut tx = app.db.begin().await?;
    let ended = db::sessions::delete_others(&mut tx, actor.id, current).await?;
    let mut e = entry(actor, "session.ended_others");
    e.detail = serde_json::json!({ "ended": ended });
    db::audit::append(&mut tx, &e).await?;
    tx.commit().await?;
    Ok(ended)
}

/// What [`change_password`] takes.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct PasswordInput {
    pub current_password: String,
    pub password: String,
    pub password_confirm: String,
}

/// Changes the actor's password: the current one first (a wrong one counts as a failed
/// sign-in, field `current_password`), the new one twice (field `password`). Every other
/// session ends; a mail tells the user.
pub async fn change_password(
    app: &App,
    actor: &Actor,
    current: &[u8],
    input: PasswordInput,
) -> Result<(), Error> {
    let now = db::now();
    let user = db::users::by_email(&app.db, &actor.email)
        .await?
        .ok_or(Error::Forbidden)?;
    let mut errors = FieldErrors::default();
    if !security::verify_password(user.password_hash.clone(), input.current_password).await? {
        db::throttle::record(&app.db, &actor.email, &actor.ip).await?;
        errors.add("current_password", "error.current_password_wrong");
    }
    let password = errors.take_new_password(&input.password, &input.password_confirm);
    let Some(password) = password.filter(|_| errors.is_empty()) else {
        return Err(Error::Invalid(errors));
    };
    let hash = security::hash_password(password.expose().to_string()).await?;
    let mut tx = app.db.begin().await?;
    db::users::set_password(&mut tx, actor.id, &hash).await?;
    // Whoever else was signed in with the old password is signed out.
    let ended = db::sessions::delete_others(&mut tx, actor.id, current).await?;
    let mut e = entry(actor, "user.password_changed");
    e.detail = serde_json::json!({ "sessions_ended": ended });
    db::audit::append(&mut tx, &e).await?;
    tx.commit().await?;
    let out = Outgoing::new(
        actor.email.clone(),
        "mail.password_changed",
        vec![
            ("time", crate::domain::dates::jst(&now)),
            ("ip", actor.ip.clone()),
            ("link", app.config.link("/account")),
        ],
    );
    super::send_in_background(app, out);
    Ok(())
}

/// What [`rename`] takes.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct NameInput {
    pub display_name: String,
}

/// Changes the actor's own name, as the invitation's acceptance checks it (field
/// `display_name`); answers whether it changed (audited when it did).
pub async fn rename(app: &App, actor: &Actor, input: NameInput) -> Result<bool, Error> {
    let mut errors = FieldErrors::default();
    let Some(name) = errors.take(
        "display_name",
        super::onboarding::parse_name(&input.display_name),
    ) else {
        return Err(Error::Invalid(errors));
    };
    let mut tx = app.db.begin().await?;
    if !db::users::set_name(&mut tx, actor.id, &name).await? {
        return Ok(false);
    }
    let mut e = entry(actor, "account.renamed");
    e.detail = serde_json::json!({ "display_name": name });
    db::audit::append(&mut tx, &e).await?;
    tx.commit().await?;
    Ok(true)
}

/// Keeps the language the signed-in person chose, so that their next sign-in, on any browser,
/// opens in it (audited when it changes).
pub async fn remember_lang(app: &App, actor: &Actor, lang: crate::i18n::Lang) -> Result<(), Error> {
    let mut tx = app.db.begin().await?;
    if db::users::set_lang(&mut tx, actor.id, lang.code()).await? {
        let mut entry = actor.audit("account.lang_changed", None, actor.email.clone());
        entry.detail = serde_json::json!({ "lang": lang.code() });
        db::audit::append(&mut tx, &entry).await?;
        tx.commit().await?;
    }
    Ok(())
}

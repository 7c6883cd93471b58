//! 二要素認証 (TOTP) of one's own account: set it up (a secret, switched on only once a code
//! confirms it), recovery codes shown once, new recovery codes, switching it off with the
//! current password and a code. Each change is audited and mailed. Callers refuse first
//! when sign-ins from the actor's address are throttled (wrong codes count as failures).

use chrono::{DateTime, Utc};

use super::{Actor, App, Error, FieldErrors};
use crate::db;
use crate::domain::totp;
use crate::mail::Outgoing;
use crate::security;

/// How many recovery codes enrolment gives.
pub const RECOVERY_CODES: usize = 10;

/// Where the user stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stage {
    Off,
    /// Set up but not yet confirmed: the secret to enter in an app.
    Enrolling {
        secret: Vec<u8>,
    },
    /// On since then, with this many recovery codes left.
    On {
        since: DateTime<Utc>,
        recovery_left: i64,
    },
}

/// The actor's second factor.
pub async fn stage(app: &App, actor: &Actor) -> Result<Stage, Error> {
    let t = db::second_factor::totp(&app.db, actor.id)
        .await?
        .ok_or(Error::NotFound)?;
    Ok(match (t.totp_secret, t.totp_enabled_at) {
        (Some(_), Some(since)) => Stage::On {
            since,
            recovery_left: db::second_factor::recovery_left(&app.db, actor.id).await?,
        },
        (Some(secret), None) => Stage::Enrolling { secret },
        _ => Stage::Off,
    })
}

fn random_bytes<const N: usize>() -> [u8; N] {
    let mut buf = [0u8; N];
    // Without an entropy source nothing here is safe: stop (as `security::random_token`).
    if getrandom::fill(&mut buf).is_err() {
        std::process::abort();
    }
    buf
}

/// Starts setting up: a new secret, not yet switched on (already on: conflict).
pub async fn start(app: &App, actor: &Actor) -> Result<(), Error> {
    let secret = random_bytes::<{ totp::SECRET_BYTES }>();
    let mut tx = app.db.begin().await?;
    let started = db::second_factor::start(&mut tx, actor.id, &secret).await?;
    tx.commit().await?;
    if !started {
        return Err(Error::Conflict("error.conflict.body"));
    }
    Ok(())
}

fn mail_change(app: &App, actor: &Actor, kind: &'static str) {
    let out = Outgoing::new(
        actor.email.clone(),
        kind,
        vec![
            ("time", crate::domain::dates::jst(&db::now())),
            ("ip", actor.ip.clone()),
            ("link", app.config.link("/account/second-factor")),
        ],
    );
    super::send_in_background(app, out);
}

/// Fresh recovery codes, as shown and as stored.
fn new_recovery_codes() -> (Vec<String>, Vec<Vec<u8>>) {
    let codes: Vec<String> = (0..RECOVERY_CODES)
        .map(|_| totp::recovery_code(&random_bytes::<10>()))
        .collect();
    let hashes = codes
        .iter()
        .map(|c| db::second_factor::recovery_hash(&totp::normalise_recovery(c)))
        .collect();
    (codes, hashes)
}

/// The first code from the app switches it on (a wrong one: invalid, field `code`; not
/// being set up: conflict); answers the recovery codes, to be shown once (only their hashes
/// are kept).
pub async fn confirm(app: &App, actor: &Actor, code: &str) -> Result<Vec<String>, Error> {
    let t = db::second_factor::totp(&app.db, actor.id)
        .await?
        .ok_or(Error::NotFound)?;
    let (Some(secret), None) = (t.totp_secret, t.totp_enabled_at) else {
        return Err(Error::Conflict("error.conflict.body"));
    };
    let step = totp::verify(&secret, code, Utc::now().timestamp(), t.totp_last_step)
        .ok_or_else(|| Error::field("code", "error.second_factor_wrong"))?;
    let (codes, hashes) = new_recovery_codes();
    let mut tx = app.db.begin().await?;
    if !db::second_factor::enable(&mut tx, actor.id, step).await? {
        return Err(Error::Conflict("error.conflict.body"));
    }
    db::second_factor::set_recovery(&mut tx, actor.id, &hashes).await?;
    db::audit::append(
        &mut tx,
        &actor.audit("user.second_factor_enabled", None, actor.email.clone()),
    )
    .await?;
    tx.commit().await?;
    mail_change(app, actor, "mail.second_factor_enabled");
    Ok(codes)
}

/// A current code from the app (never a recovery code: one cannot mint more) replaces every
/// recovery code by ten new ones, answered to be shown once. A wrong code counts as a failed
/// sign-in (invalid, field `new_codes_code`).
pub async fn new_codes(app: &App, actor: &Actor, code: &str) -> Result<Vec<String>, Error> {
    let shown = match totp::normalise_code(code) {
        Some(_) => db::second_factor::check(&app.db, actor.id, code).await?,
        None => None,
    };
    if shown.is_none() {
        db::throttle::record(&app.db, &actor.email, &actor.ip).await?;
        return Err(Error::field("new_codes_code", "error.second_factor_wrong"));
    }
    let (codes, hashes) = new_recovery_codes();
    let mut tx = app.db.begin().await?;
    db::second_factor::set_recovery(&mut tx, actor.id, &hashes).await?;
    db::audit::append(
        &mut tx,
        &actor.audit("user.recovery_codes_renewed", None, actor.email.clone()),
    )
    .await?;
    tx.commit().await?;
    Ok(codes)
}

/// Switches it off with the current password and a code (or a recovery code); wrong ones
/// count as failed sign-ins (invalid, fields `current_password`, `code`).
pub async fn disable(
    app: &App,
    actor: &Actor,
    current_password: String,
    code: &str,
) -> Result<(), Error> {
    let user = db::users::by_email(&app.db, &actor.email)
        .await?
        .ok_or(Error::Forbidden)?;
    let mut errors = FieldErrors::default();
    if !security::verify_password(user.password_hash.clone(), current_password).await? {
        errors.add("current_password", "error.current_password_wrong");
    } else if db::second_factor::check(&app.db, actor.id, code)
        .await?
        .is_none()
    {
        errors.add("code", "error.second_factor_wrong");
    }
    if !errors.is_empty() {
        db::throttle::record(&app.db, &actor.email, &actor.ip).await?;
        return Err(Error::Invalid(errors));
    }
    let mut tx = app.db.begin().await?;
    db::second_factor::clear(&mut tx, actor.id).await?;
    db::audit::append(
        &mut tx,
        &actor.audit("user.second_factor_disabled", None, actor.email.clone()),
    )
    .await?;
    tx.commit().await?;
    mail_change(app, actor, "mail.second_factor_disabled");
    Ok(())
}

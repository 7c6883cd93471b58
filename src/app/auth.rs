//! Signing in and out: the password with its throttle (per account and address, and per
//! address), the pending second step for users with a second factor (an authenticator app
//! code, a recovery code, or a passkey: `app::passkeys`), the session, and
//! the audit entry of each attempt. Pages (`web/auth.rs`) only carry the tokens in cookies and
//! render the outcome.

use chrono::Duration;

use super::{Actor, App, Error, send_in_background};
pub use crate::db::sessions::SessionUser;
use crate::db::{self, audit::Entry, users::UserRow};
use crate::domain::dates::jst;
use crate::domain::{Email, Role, Scope};
use crate::mail::Outgoing;
use crate::security;

/// Failures per account (from one address), and per client address, within the window,
/// before sign-in is refused.
pub const MAX_PER_ACCOUNT: i64 = 5;
pub const MAX_PER_IP: i64 = 20;
pub const WINDOW_MINUTES: i64 = 15;

/// How long the second step of a sign-in may take.
pub const PENDING_MINUTES: i64 = 5;

/// Who is signing in from where.
#[derive(Debug, Clone, Default)]
pub struct Client {
    pub ip: String,
    pub user_agent: String,
    /// The hash of a session the browser already holds: it is replaced, never promoted.
    pub existing: Option<Vec<u8>>,
}

/// What the sign-in form carries.
#[derive(Debug, Clone, Default)]
pub struct Credentials {
    pub email: String,
    pub password: String,
    /// Where to go after signing in (a path on this site, already checked by the caller).
    pub next: String,
}

/// A session just opened: its token (for the cookie, never stored) and where to go next.
#[derive(Debug)]
pub struct Session {
    pub token: String,
    pub next: String,
    /// The language the person chose last, for the browser they sign in on.
    pub lang: Option<String>,
}

/// A sign-in whose password was right, waiting for the second factor: its token (for a
/// short-lived cookie that opens nothing else).
#[derive(Debug)]
pub struct PendingSignIn {
    pub token: String,
}

/// What a right password leads to.
#[derive(Debug)]
pub enum Outcome {
    SignedIn(Session),
    NeedsSecondFactor(PendingSignIn),
}

/// Why a sign-in step did not go through (each already audited and counted where it
/// counts).
#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    /// Unknown address, wrong password or an account not yet signed up (never says which).
    #[error("bad credentials")]
    BadCredentials,
    /// The right password of an account that has been disabled: said only to someone who
    /// knows the password, so it tells a stranger nothing.
    #[error("account disabled")]
    Disabled,
    /// Too many failures lately: try again in this many minutes.
    #[error("too many attempts")]
    Throttled { wait_minutes: i64 },
    /// The pending second step is gone (expired, used up, or its user disabled).
    #[error("pending sign-in gone")]
    PendingGone,
    /// A wrong or already used code.
    #[error("wrong code")]
    WrongCode,
    #[error(transparent)]
    App(#[from] Error),
}

impl From<sqlx::Error> for SignInError {
    fn from(e: sqlx::Error) -> Self {
        SignInError::App(e.into())
    }
}

impl From<anyhow::Error> for SignInError {
    fn from(e: anyhow::Error) -> Self {
        SignInError::App(Error::Internal(e))
    }
}

/// An audit entry of an attempt by someone not (yet) signed in.
fn anonymous(ip: &str, action: &'static str, email: &str, reason: &str) -> Entry {
    Entry {
        actor_id: None,
        actor: email.to_string(),
        org_id: None,
        action,
        target: email.to_string(),
        ip: ip.to_string(),
        detail: serde_json::json!({ "reason": reason }),
    }
}

/// Whether this account has failed from this address as often as a sign-in may (for a
/// signed-in user re-entering a secret: the current password, an app code).
pub async fn throttled(app: &App, email: &str, ip: &str) -> Result<bool, Error> {
    let since = db::now() - Duration::minutes(WINDOW_MINUTES);
    Ok(db::throttle::since(&app.db, email, ip, since)
        .await?
        .by_pair
        >= MAX_PER_ACCOUNT)
}

/// Checks the password. Refused per account *and* address, and per address: a stranger
/// failing from other addresses cannot lock the owner out; failures from many addresses
/// slow each attempt. A user with an authenticator app gets a pending sign-in; anyone else
/// a session.
pub async fn sign_in(
    app: &App,
    credentials: Credentials,
    client: Client,
) -> Result<Outcome, SignInError> {
    let email = Email::parse(&credentials.email)
        .map(|e| e.as_str().to_string())
        .unwrap_or_else(|_| credentials.email.trim().to_lowercase());
    let email: String = email.chars().take(254).collect();
    let now = db::now();
    let window_start = now - Duration::minutes(WINDOW_MINUTES);
    let f = db::throttle::since(&app.db, &email, &client.ip, window_start).await?;
    let oldest = if f.by_pair >= MAX_PER_ACCOUNT {
        f.oldest_pair
    } else if f.by_ip >= MAX_PER_IP {
        f.oldest_ip
    } else {
        None
    };
    if let Some(oldest) = oldest {
        let wait = (oldest + Duration::minutes(WINDOW_MINUTES) - now).num_minutes() + 1;
        let entry = anonymous(&client.ip, "login.throttled", &email, "too many failures");
        db::audit::append_alone(&app.db, &entry).await?;
        return Err(SignInError::Throttled {
            wait_minutes: wait.max(1),
        });
    }
    if f.by_email >= MAX_PER_ACCOUNT * 2 {
        let extra = (f.by_email - MAX_PER_ACCOUNT * 2 + 1).min(12) as u64;
        tokio::time::sleep(std::time::Duration::from_millis(250 * extra)).await;
    }
    let user = db::users::by_email(&app.db, &email).await?;
    // A disabled account's password is checked too (the same work as any other), so that its
    // owner can be told why the door stays shut.
    let stored = user
        .as_ref()
        .filter(|u| u.status == "active" || u.status == "disabled")
        .and_then(|u| u.password_hash.clone());
    let ok = security::verify_password(stored, credentials.password).await?;
    let Some(user) = user.filter(|_| ok) else {
        db::throttle::record(&app.db, &email, &client.ip).await?;
        let entry = anonymous(&client.ip, "login.failure", &email, "bad credentials");
        db::audit::append_alone(&app.db, &entry).await?;
        return Err(SignInError::BadCredentials);
    };
    if user.status != "active" {
        db::throttle::record(&app.db, &email, &client.ip).await?;
        let entry = anonymous(&client.ip, "login.failure", &email, "account disabled");
        db::audit::append_alone(&app.db, &entry).await?;
        return Err(SignInError::Disabled);
    }
    if db::second_factor::has_any(&app.db, user.id).await? {
        // The password was right; the session waits for the second factor.
        let token = security::random_token();
        db::second_factor::insert_pending(
            &app.db,
            &security::token_hash(&token),
            user.id,
            &credentials.next,
        )
        .await?;
        return Ok(Outcome::NeedsSecondFactor(PendingSignIn { token }));
    }
    db::throttle::clear_email(&app.db, &email).await?;
    let session = open_session(
        app,
        &client,
        &user,
        serde_json::Value::Null,
        credentials.next,
    );
    Ok(Outcome::SignedIn(session.await?))
}

/// Opens a session for a user who has shown everything sign-in asks for, with its audit entry
/// (`login.success`); a session the browser held is deleted in the same transaction.
async fn open_session(
    app: &App,
    client: &Client,
    user: &UserRow,
    detail: serde_json::Value,
    next: String,
) -> Result<Session, Error> {
    // A fresh token on every sign-in: a token planted before sign-in is never promoted.
    let token = security::random_token();
    let hash = security::token_hash(&token);
    let mut tx = app.db.begin().await?;
    if let Some(old) = &client.existing {
        db::sessions::delete(&mut tx, old).await?;
    }
    db::sessions::insert(
        &mut tx,
        &hash,
        user.id,
        &security::random_token(),
        &client.ip,
        &client.user_agent,
    )
    .await?;
    let entry = Entry {
        actor_id: Some(user.id),
        actor: user.email.clone(),
        org_id: user.org_id,
        action: "login.success",
        target: user.email.clone(),
        ip: client.ip.clone(),
        detail,
    };
    db::audit::append(&mut tx, &entry).await?;
    tx.commit().await?;
    Ok(Session {
        token,
        next,
        lang: user.lang.clone(),
    })
}

/// The pending sign-in behind a token hash, if it is still open.
async fn pending_of(app: &App, hash: &[u8]) -> Result<Option<db::second_factor::Pending>, Error> {
    let Some(p) = db::second_factor::pending(&app.db, hash).await? else {
        return Ok(None);
    };
    if db::now() - p.created_at > Duration::minutes(PENDING_MINUTES)
        || p.attempts >= MAX_PER_ACCOUNT
    {
        db::second_factor::delete_pending(&app.db, hash).await?;
        return Ok(None);
    }
    Ok(Some(p))
}

/// What the second step offers a pending sign-in.
#[derive(Debug, Clone)]
pub struct StepChoices {
    /// The user has an authenticator app (codes and recovery codes).
    pub totp: bool,
    /// The user has a passkey: a fresh challenge for it, bound to the pending sign-in.
    pub passkey: Option<super::passkeys::Ceremony>,
}

/// The choices of the pending sign-in behind a token; `None` when it is not open.
pub async fn step_choices(app: &App, pending_token: &str) -> Result<Option<StepChoices>, Error> {
    let hash = security::token_hash(pending_token);
    let Some(pending) = pending_of(app, &hash).await? else {
        return Ok(None);
    };
    Ok(Some(StepChoices {
        totp: db::second_factor::totp(&app.db, pending.user_id)
            .await?
            .is_some_and(|t| t.totp_enabled_at.is_some()),
        passkey: super::passkeys::sign_in_ceremony(app, &hash, pending.user_id).await?,
    }))
}

/// The open pending sign-in and its active user, unless this account is throttled from
/// this address.
async fn step_user(
    app: &App,
    pending_hash: &[u8],
    client: &Client,
) -> Result<(db::second_factor::Pending, UserRow), SignInError> {
    let Some(pending) = pending_of(app, pending_hash).await? else {
        return Err(SignInError::PendingGone);
    };
    let user = db::users::get(&app.db, Scope::Center, pending.user_id)
        .await?
        .filter(|u| u.status == "active");
    let Some(user) = user else {
        db::second_factor::delete_pending(&app.db, pending_hash).await?;
        return Err(SignInError::PendingGone);
    };
    let window_start = db::now() - Duration::minutes(WINDOW_MINUTES);
    let f = db::throttle::since(&app.db, &user.email, &client.ip, window_start).await?;
    if f.by_pair >= MAX_PER_ACCOUNT || f.by_ip >= MAX_PER_IP {
        let entry = anonymous(
            &client.ip,
            "login.throttled",
            &user.email,
            "too many failures",
        );
        db::audit::append_alone(&app.db, &entry).await?;
        return Err(SignInError::Throttled {
            wait_minutes: WINDOW_MINUTES,
        });
    }
    Ok((pending, user))
}

/// A wrong answer at the second step: a failed sign-in, one attempt of the pending one,
/// audited with `reason`.
async fn step_failed(
    app: &App,
    pending_hash: &[u8],
    user: &UserRow,
    client: &Client,
    reason: &str,
) -> Result<SignInError, SignInError> {
    db::throttle::record(&app.db, &user.email, &client.ip).await?;
    db::second_factor::pending_failed(&app.db, pending_hash).await?;
    // The password was right: the account is known, and its name shows in the trail (its
    // organisation's administrators see the attempts on their accounts).
    let entry = Entry {
        actor_id: Some(user.id),
        org_id: user.org_id,
        ..anonymous(
            &client.ip,
            "login.second_factor_failure",
            &user.email,
            reason,
        )
    };
    db::audit::append_alone(&app.db, &entry).await?;
    Ok(SignInError::WrongCode)
}

/// The second factor was shown: the pending sign-in ends and the session opens.
async fn step_done(
    app: &App,
    pending_hash: &[u8],
    (pending, user): (db::second_factor::Pending, UserRow),
    client: &Client,
    detail: serde_json::Value,
) -> Result<Session, SignInError> {
    db::second_factor::delete_pending(&app.db, pending_hash).await?;
    db::throttle::clear_email(&app.db, &user.email).await?;
    Ok(open_session(app, client, &user, detail, pending.next).await?)
}

/// The second step: a code from the authenticator app, or a recovery code. Wrong codes count
/// as failed sign-ins (the same throttle per account and address) and against the pending
/// sign-in, which ends after five. A recovery code used is told to the owner by mail.
pub async fn second_step(
    app: &App,
    pending_token: &str,
    code: &str,
    client: Client,
) -> Result<Session, SignInError> {
    let pending_hash = security::token_hash(pending_token);
    let (pending, user) = step_user(app, &pending_hash, &client).await?;
    let Some(shown) = db::second_factor::check(&app.db, user.id, code).await? else {
        return Err(step_failed(app, &pending_hash, &user, &client, "wrong or used code").await?);
    };
    if shown == db::second_factor::Shown::RecoveryCode {
        // The owner hears of it: a recovery code in someone else's hands is a way in.
        let left = db::second_factor::recovery_left(&app.db, user.id).await?;
        let args = vec![
            ("time", jst(&db::now())),
            ("ip", client.ip.clone()),
            ("left", left.to_string()),
            ("link", app.config.link("/account/second-factor")),
        ];
        let mail = Outgoing::new(user.email.clone(), "mail.recovery_code_used", args);
        send_in_background(app, mail);
    }
    let detail = serde_json::json!({ "second_factor": shown.as_str() });
    step_done(app, &pending_hash, (pending, user), &client, detail).await
}

/// The second step with a passkey: the key's answer to the pending sign-in's challenge
/// (taken by this answer, right or wrong). A refused answer counts as a wrong code does.
pub async fn passkey_step(
    app: &App,
    pending_token: &str,
    answer: &super::passkeys::Answer,
    client: Client,
) -> Result<Session, SignInError> {
    let pending_hash = security::token_hash(pending_token);
    let (pending, user) = step_user(app, &pending_hash, &client).await?;
    match super::passkeys::sign_in(app, &pending_hash, user.id, answer).await? {
        Ok(name) => {
            let detail = serde_json::json!({ "second_factor": "passkey", "passkey": name });
            step_done(app, &pending_hash, (pending, user), &client, detail).await
        }
        Err(refusal) => {
            let reason = format!("passkey: {}", refusal.as_str());
            Err(step_failed(app, &pending_hash, &user, &client, &reason).await?)
        }
    }
}

/// Signs the actor out: deletes the session behind the token hash, with its audit entry.
pub async fn sign_out(app: &App, actor: &Actor, token_hash: &[u8]) -> Result<(), Error> {
    let mut tx = app.db.begin().await?;
    db::sessions::delete(&mut tx, token_hash).await?;
    db::audit::append(&mut tx, &actor.audit("logout", None, actor.email.clone())).await?;
    tx.commit().await?;
    Ok(())
}

/// A session as every request reads it.
#[derive(Debug, Clone)]
pub struct LiveSession {
    pub user: SessionUser,
    pub role: Role,
    /// A second factor is required of this user and not yet set up: until it is, only the
    /// account page (where it is set up) and signing out are open.
    pub must_enrol: bool,
}

/// The live session behind a token hash. One past its idle or absolute timeout, of a user no
/// longer active, or with an unknown role is deleted (none answered). Activity is written at
/// most once a minute: sessions are read on every request.
pub async fn live_session(app: &App, hash: &[u8]) -> Result<Option<LiveSession>, Error> {
    let Some(s) = app.session(hash).await? else {
        return Ok(None);
    };
    let now = db::now();
    let idle = Duration::from_std(app.config.session_idle).unwrap_or(Duration::minutes(30));
    let absolute = Duration::from_std(app.config.session_absolute).unwrap_or(Duration::hours(12));
    let role = Role::parse(&s.role);
    let Some(role) = role.filter(|_| {
        s.status == "active" && now - s.last_seen_at <= idle && now - s.created_at <= absolute
    }) else {
        let mut tx = app.db.begin().await?;
        db::sessions::delete(&mut tx, hash).await?;
        tx.commit().await?;
        return Ok(None);
    };
    if now - s.last_seen_at > Duration::seconds(60) {
        db::sessions::touch(&app.db, hash).await?;
        app.session_touched(hash, now);
    }
    let center_rule =
        app.config.center_second_factor && matches!(role, Role::Reviewer | Role::CenterAdmin);
    Ok(Some(LiveSession {
        must_enrol: !s.second_factor && (center_rule || s.org_requires_second_factor),
        role,
        user: s,
    }))
}

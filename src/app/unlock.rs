//! The owner's way back in when sign-in is throttled for their account and address (someone
//! else's wrong passwords from the same address, or their own): an unlock link by mail.
//! Asking is limited per address and per client address and does the same work for every
//! address (whether it is known is decided off the request path); using the link forgets
//! the account's failed sign-ins, so the owner can sign in again (with their second factor,
//! if they have one). Both steps are audited.

use std::sync::Arc;

use chrono::Duration;

use super::{App, Error};
use crate::db::{self, audit::Entry, throttle::Request};
use crate::domain::Email;
use crate::mail::Outgoing;
use crate::security;

/// Most links mailed to one address per hour.
const PER_ADDRESS: i64 = 3;
/// Most requests from one client address per window.
const PER_IP: i64 = 10;
/// The window of [`PER_IP`], in minutes.
pub const WINDOW_MINUTES: i64 = 15;
/// How long a link may be used.
pub const LINK_MINUTES: i64 = 30;

/// The answer to a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Asked {
    /// Taken: a link goes to the address if it is an active account's (the same answer
    /// either way).
    Taken,
    /// Too many requests from this client address lately.
    Throttled,
}

/// Asks for an unlock link for the typed address (not an address: invalid, field `email`).
pub async fn request(app: &Arc<App>, ip: &str, typed: &str) -> Result<Asked, Error> {
    let email = Email::parse(typed).map_err(|k| Error::field("email", k))?;
    let now = db::now();
    let (for_address, from_ip) = db::throttle::record_request(
        &app.db,
        Request::Unlock,
        email.as_str(),
        ip,
        now - Duration::hours(1),
        now - Duration::minutes(WINDOW_MINUTES),
    )
    .await?;
    if from_ip >= PER_IP {
        return Ok(Asked::Throttled);
    }
    if for_address < PER_ADDRESS {
        let app = app.clone();
        let ip = ip.to_string();
        tokio::spawn(async move {
            if let Err(e) = send_link(&app, email, ip).await {
                tracing::error!(error = %e, "unlock link not issued");
            }
        });
    }
    Ok(Asked::Taken)
}

fn entry(user: &db::users::UserRow, action: &'static str, ip: String) -> Entry {
    Entry {
        actor_id: Some(user.id),
        actor: user.email.clone(),
        org_id: user.org_id,
        action,
        target: user.email.clone(),
        ip,
        detail: serde_json::Value::Null,
    }
}

/// Issues a link to an active account with this address and mails it; nothing for an
/// unknown or disabled address.
async fn send_link(app: &App, email: Email, ip: String) -> anyhow::Result<()> {
    let Some(user) = db::users::by_email(&app.db, email.as_str())
        .await?
        .filter(|u| u.status == "active")
    else {
        return Ok(());
    };
    let token = security::random_token();
    let mut tx = app.db.begin().await?;
    db::unlock::insert(
        &mut tx,
        &security::token_hash(&token),
        user.id,
        db::now() + Duration::minutes(LINK_MINUTES),
    )
    .await?;
    db::audit::append(&mut tx, &entry(&user, "login.unlock_requested", ip.clone())).await?;
    tx.commit().await?;
    let link = app
        .config
        .link(&format!("/login/unlock/confirm?token={token}"));
    let args = vec![
        ("time", crate::domain::dates::jst(&db::now())),
        ("ip", ip),
        ("link", link),
    ];
    super::send_logged(app, Outgoing::new(user.email, "mail.unlock", args)).await;
    Ok(())
}

/// Whether a link can still be used.
pub async fn live(app: &App, token: &str) -> Result<bool, Error> {
    Ok(db::unlock::live(&app.db, &security::token_hash(token))
        .await?
        .is_some())
}

/// Uses a link: the account's failed sign-ins are forgotten. `None` for a link that is
/// unknown, used or expired.
pub async fn unlock(app: &App, ip: &str, token: &str) -> Result<Option<()>, Error> {
    let hash = security::token_hash(token);
    let Some(user_id) = db::unlock::live(&app.db, &hash).await? else {
        return Ok(None);
    };
    let Some(user) = db::users::get(&app.db, crate::domain::Scope::Center, user_id)
        .await?
        .filter(|u| u.status == "active")
    else {
        return Ok(None);
    };
    let mut tx = app.db.begin().await?;
    if db::unlock::take(&mut tx, &hash).await? != Some(user.id) {
        return Ok(None);
    }
    db::audit::append(&mut tx, &entry(&user, "login.unlocked", ip.to_string())).await?;
    tx.commit().await?;
    db::throttle::clear_email(&app.db, &user.email).await?;
    Ok(Some(()))
}

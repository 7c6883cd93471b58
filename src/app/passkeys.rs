//! Passkeys and security keys (WebAuthn) as a second factor, besides or instead of TOTP:
//! registering one (named) on the 2段階認証 page, listing and removing them (each change
//! audited and mailed), and signing in with one at the second step of a sign-in.
//!
//! Every ceremony's challenge is issued here, kept server-side bound to the session (a
//! registration) or to the pending sign-in (a sign-in), taken by the first answer, and
//! worthless after [`CHALLENGE_MINUTES`]. The relying party is the host of
//! `SECPORTAL_BASE_URL`, the origin its origin.

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use super::{Actor, App, Error};
use crate::db::{self, passkeys::Purpose};
use crate::domain::{text, webauthn};
use crate::mail::Outgoing;

/// How long a challenge may be answered.
pub const CHALLENGE_MINUTES: i64 = 5;

/// What the browser needs to start a ceremony (all base64url where binary).
#[derive(Debug, Clone)]
pub struct Ceremony {
    pub challenge: String,
    pub rp_id: String,
    /// The user handle (registration): the user's id, never their address.
    pub user_id: String,
    /// Keys the user has: excluded at registration, allowed at sign-in.
    pub credentials: Vec<String>,
}

/// A key as its list shows it.
#[derive(Debug, Clone)]
pub struct Key {
    pub id: Uuid,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
}

/// What the browser answered (base64url fields as posted).
#[derive(Debug, Clone, Default)]
pub struct Answer {
    pub credential_id: String,
    pub client_data: String,
    /// `attestationObject` (registration) or `authenticatorData` (sign-in).
    pub data: String,
    /// The signature (sign-in only).
    pub signature: String,
}

fn random_challenge() -> [u8; webauthn::CHALLENGE_BYTES] {
    let mut buf = [0u8; webauthn::CHALLENGE_BYTES];
    // Without an entropy source nothing here is safe: stop (as `security::random_token`).
    if getrandom::fill(&mut buf).is_err() {
        std::process::abort();
    }
    buf
}

async fn ceremony(
    app: &App,
    binding: &[u8],
    purpose: Purpose,
    user_id: Uuid,
) -> Result<Ceremony, Error> {
    let challenge = random_challenge();
    db::passkeys::put_challenge(&app.db, binding, purpose, user_id, &challenge).await?;
    let keys = db::passkeys::of_user(&app.db, user_id).await?;
    Ok(Ceremony {
        challenge: webauthn::b64(&challenge),
        rp_id: webauthn::rp_of(&app.config.base_url).0,
        user_id: webauthn::b64(user_id.as_bytes()),
        credentials: keys
            .iter()
            .map(|k| webauthn::b64(&k.credential_id))
            .collect(),
    })
}

/// The actor's keys, oldest first.
pub async fn list(app: &App, actor: &Actor) -> Result<Vec<Key>, Error> {
    Ok(db::passkeys::of_user(&app.db, actor.id)
        .await?
        .into_iter()
        .map(|k| Key {
            id: k.id,
            name: k.name,
            created_at: k.created_at,
            last_used_at: k.last_used_at,
        })
        .collect())
}

/// A registration for the actor, bound to their session (`session`: its token's hash).
pub async fn registration(app: &App, actor: &Actor, session: &[u8]) -> Result<Ceremony, Error> {
    ceremony(app, session, Purpose::Register, actor.id).await
}

/// Checks a key's name: 1 to 60 characters, nothing invisible or look-alike.
pub fn parse_name(raw: &str) -> Result<String, &'static str> {
    let s = raw.trim();
    if s.is_empty() {
        Err("error.passkey_name_required")
    } else if s.chars().count() > 60 || s.chars().any(char::is_control) {
        Err("error.passkey_name_invalid")
    } else if s.chars().any(text::is_invisible) || text::mixes_confusable_scripts(s) {
        Err("error.passkey_name_misleading")
    } else {
        Ok(s.to_string())
    }
}

/// The expected values of a ceremony, the challenge taken (used up) first.
async fn take(
    app: &App,
    binding: &[u8],
    purpose: Purpose,
    user_id: Uuid,
) -> Result<Option<Vec<u8>>, Error> {
    let since = db::now() - Duration::minutes(CHALLENGE_MINUTES);
    Ok(db::passkeys::take_challenge(&app.db, binding, purpose, user_id, since).await?)
}

fn mail_change(app: &App, actor: &Actor, kind: &'static str, name: &str) {
    let out = Outgoing::new(
        actor.email.clone(),
        kind,
        vec![
            ("time", crate::domain::dates::jst(&db::now())),
            ("ip", actor.ip.clone()),
            ("name", name.to_string()),
            ("link", app.config.link("/account/second-factor")),
        ],
    );
    super::send_in_background(app, out);
}

/// Registers the key the browser created: a name (field `passkey_name`) and the answer to
/// the session's challenge (a wrong, used or late one: field `passkey`). Audited, mailed.
pub async fn register(
    app: &App,
    actor: &Actor,
    session: &[u8],
    name: &str,
    answer: &Answer,
) -> Result<(), Error> {
    let name = parse_name(name).map_err(|k| Error::field("passkey_name", k))?;
    let refused = || Error::field("passkey", "error.passkey_refused");
    let challenge = take(app, session, Purpose::Register, actor.id)
        .await?
        .ok_or_else(refused)?;
    let (rp_id, origin) = webauthn::rp_of(&app.config.base_url);
    let expected = webauthn::Expected {
        rp_id: &rp_id,
        origin: &origin,
        challenge: &challenge,
    };
    let (Some(client_data), Some(attestation)) = (
        webauthn::unb64(&answer.client_data),
        webauthn::unb64(&answer.data),
    ) else {
        return Err(refused());
    };
    let new =
        webauthn::verify_registration(&expected, &client_data, &attestation).map_err(|r| {
            tracing::info!(refusal = r.as_str(), "passkey registration refused");
            refused()
        })?;
    let mut tx = app.db.begin().await?;
    let inserted = db::passkeys::insert(
        &mut tx,
        &db::passkeys::NewPasskey {
            user_id: actor.id,
            name: &name,
            credential_id: &new.credential_id,
            public_key: &new.public_key,
            algorithm: new.algorithm,
            sign_count: i64::from(new.sign_count),
        },
    )
    .await?;
    let Some(id) = inserted else {
        return Err(Error::field("passkey", "error.passkey_limit"));
    };
    let mut entry = actor.audit("user.passkey_added", None, actor.email.clone());
    entry.detail = serde_json::json!({ "passkey": id, "name": name });
    db::audit::append(&mut tx, &entry).await?;
    tx.commit().await?;
    mail_change(app, actor, "mail.passkey_added", &name);
    Ok(())
}

/// Removes one of the actor's keys (not theirs: not found). Audited, mailed.
pub async fn remove(app: &App, actor: &Actor, id: Uuid) -> Result<(), Error> {
    let mut tx = app.db.begin().await?;
    let name = db::passkeys::delete(&mut tx, actor.id, id)
        .await?
        .ok_or(Error::NotFound)?;
    let mut entry = actor.audit("user.passkey_removed", None, actor.email.clone());
    entry.detail = serde_json::json!({ "passkey": id, "name": name });
    db::audit::append(&mut tx, &entry).await?;
    tx.commit().await?;
    mail_change(app, actor, "mail.passkey_removed", &name);
    Ok(())
}

/// A sign-in with a key for the user of a pending sign-in (`pending`: its token's hash);
/// `None` when the user has no key.
pub async fn sign_in_ceremony(
    app: &App,
    pending: &[u8],
    user_id: Uuid,
) -> Result<Option<Ceremony>, Error> {
    if db::passkeys::count(&app.db, user_id).await? == 0 {
        return Ok(None);
    }
    Ok(Some(
        ceremony(app, pending, Purpose::SignIn, user_id).await?,
    ))
}

/// Checks a sign-in's answer against the pending sign-in's challenge and the user's key;
/// answers the key's name, or why it was refused (the caller counts a failure).
pub async fn sign_in(
    app: &App,
    pending: &[u8],
    user_id: Uuid,
    answer: &Answer,
) -> Result<Result<String, webauthn::Refusal>, Error> {
    use webauthn::Refusal;
    let Some(challenge) = take(app, pending, Purpose::SignIn, user_id).await? else {
        return Ok(Err(Refusal::Challenge));
    };
    let decoded = (
        webauthn::unb64(&answer.credential_id),
        webauthn::unb64(&answer.client_data),
        webauthn::unb64(&answer.data),
        webauthn::unb64(&answer.signature),
    );
    let (Some(cred), Some(client_data), Some(auth_data), Some(sig)) = decoded else {
        return Ok(Err(Refusal::Malformed));
    };
    let Some(key) = db::passkeys::by_credential(&app.db, user_id, &cred).await? else {
        return Ok(Err(Refusal::UnsupportedKey));
    };
    let (rp_id, origin) = webauthn::rp_of(&app.config.base_url);
    let expected = webauthn::Expected {
        rp_id: &rp_id,
        origin: &origin,
        challenge: &challenge,
    };
    let stored = u32::try_from(key.sign_count).unwrap_or(u32::MAX);
    let signed = match webauthn::verify_assertion(
        &expected,
        &client_data,
        &auth_data,
        &sig,
        &key.public_key,
        stored,
    ) {
        Ok(s) => s,
        Err(r) => return Ok(Err(r)),
    };
    if !db::passkeys::used(
        &app.db,
        key.id,
        key.sign_count,
        i64::from(signed.sign_count),
    )
    .await?
    {
        return Ok(Err(Refusal::Counter));
    }
    Ok(Ok(key.name))
}

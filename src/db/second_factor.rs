//! 二要素認証: a user's TOTP secret, recovery codes, sign-ins waiting for their second
//! factor, and the organisation's requirement.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{Db, Tx, on_db, on_tx, sealed};
use crate::domain::Scope;
use crate::domain::totp::SECRET_BYTES;

/// A user's TOTP state.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Totp {
    /// Set from the start of enrolment.
    pub totp_secret: Option<Vec<u8>>,
    /// Set once a code confirmed the enrolment: only then does sign-in ask for a code.
    pub totp_enabled_at: Option<DateTime<Utc>>,
    /// The last step whose code was accepted.
    pub totp_last_step: i64,
}

/// The TOTP state of a user, the secret opened (it is stored sealed, see [`super::sealed`]).
pub async fn totp(db: &Db, user_id: Uuid) -> Result<Option<Totp>, sqlx::Error> {
    let row = on_db!(db, p => sqlx::query_as::<_, Totp>(
        "SELECT totp_secret, totp_enabled_at, totp_last_step FROM users WHERE id = $1",
    )
    .bind(user_id)
    .fetch_optional(p)
    .await)?;
    row.map(|mut t| {
        t.totp_secret = t
            .totp_secret
            .map(|s| sealed::open(db.audit_key(), sealed::TOTP, user_id, &s, SECRET_BYTES))
            .transpose()?;
        Ok(t)
    })
    .transpose()
}

/// Seals the TOTP secrets stored in the clear before sealing began (each a conditional
/// write: a secret changed meanwhile is left to its writer); answers how many.
pub async fn seal_plain_secrets(db: &Db) -> Result<u64, sqlx::Error> {
    let rows: Vec<(Uuid, Vec<u8>)> = on_db!(db, p => sqlx::query_as(
        "SELECT id, totp_secret FROM users WHERE totp_secret IS NOT NULL",
    )
    .fetch_all(p)
    .await)?;
    let mut sealed_now = 0;
    for (id, plain) in rows.into_iter().filter(|r| r.1.len() == SECRET_BYTES) {
        let s = sealed::seal(db.audit_key(), sealed::TOTP, id, &plain)?;
        sealed_now += on_db!(db, p => sqlx::query(
            "UPDATE users SET totp_secret = $2 WHERE id = $1 AND totp_secret = $3",
        )
        .bind(id)
        .bind(&s)
        .bind(&plain)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
    }
    Ok(sealed_now)
}

/// Starts (or restarts) enrolment with a new secret (stored sealed); not while a second
/// factor is on.
pub async fn start(tx: &mut Tx, user_id: Uuid, secret: &[u8]) -> Result<bool, sqlx::Error> {
    let secret = sealed::seal(&tx.audit_key, sealed::TOTP, user_id, secret)?;
    on_tx!(tx, c => sqlx::query(
        "UPDATE users SET totp_secret = $2, totp_last_step = 0 WHERE id = $1 AND totp_enabled_at IS NULL",
    )
    .bind(user_id)
    .bind(&secret)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected() == 1))
}

/// Switches the second factor on, recording the step of the confirming code.
pub async fn enable(tx: &mut Tx, user_id: Uuid, step: i64) -> Result<bool, sqlx::Error> {
    on_tx!(tx, c => sqlx::query(
        "UPDATE users SET totp_enabled_at = $2, totp_last_step = $3 \
         WHERE id = $1 AND totp_enabled_at IS NULL AND totp_secret IS NOT NULL",
    )
    .bind(user_id)
    .bind(super::now())
    .bind(step)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected() == 1))
}

/// Takes a step as used; false when it (or a later one) was used already. The condition in
/// the update makes two requests with the same code race safely: one wins.
pub async fn use_step(db: &Db, user_id: Uuid, step: i64) -> Result<bool, sqlx::Error> {
    on_db!(db, p => sqlx::query(
        "UPDATE users SET totp_last_step = $2 WHERE id = $1 AND totp_last_step < $2",
    )
    .bind(user_id)
    .bind(step)
    .execute(p)
    .await
    .map(|r| r.rows_affected() == 1))
}

/// Removes the second factor and its recovery codes; answers whether there was one (or an
/// enrolment under way).
pub async fn clear(tx: &mut Tx, user_id: Uuid) -> Result<bool, sqlx::Error> {
    on_tx!(tx, c => {
        let had = sqlx::query(
            "UPDATE users SET totp_secret = NULL, totp_enabled_at = NULL, totp_last_step = 0 \
             WHERE id = $1 AND totp_secret IS NOT NULL",
        )
        .bind(user_id)
        .execute(&mut *c)
        .await?
        .rows_affected()
            == 1;
        sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1")
            .bind(user_id)
            .execute(&mut *c)
            .await?;
        Ok(had)
    })
}

/// Removes every second factor of a user: TOTP with its recovery codes, and passkeys (a
/// reset); answers whether there was any.
pub async fn reset(tx: &mut Tx, user_id: Uuid) -> Result<bool, sqlx::Error> {
    let totp = clear(tx, user_id).await?;
    let keys = super::passkeys::delete_all(tx, user_id).await?;
    Ok(totp || keys > 0)
}

/// Whether a user has a second factor switched on: confirmed TOTP or a passkey (then
/// sign-in asks for one).
pub async fn has_any(db: &Db, user_id: Uuid) -> Result<bool, sqlx::Error> {
    on_db!(db, p => sqlx::query_scalar::<_, bool>(
        "SELECT (u.totp_enabled_at IS NOT NULL OR EXISTS (SELECT 1 FROM passkeys k WHERE k.user_id = u.id)) \
         FROM users u WHERE u.id = $1",
    )
    .bind(user_id)
    .fetch_optional(p)
    .await)
    .map(|v| v.unwrap_or(false))
}

/// Replaces a user's recovery codes by these hashes.
pub async fn set_recovery(
    tx: &mut Tx,
    user_id: Uuid,
    hashes: &[Vec<u8>],
) -> Result<(), sqlx::Error> {
    on_tx!(tx, c => {
        sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1")
            .bind(user_id)
            .execute(&mut *c)
            .await?;
        for h in hashes {
            sqlx::query("INSERT INTO recovery_codes (user_id, code_hash) VALUES ($1, $2)")
                .bind(user_id)
                .bind(h.as_slice())
                .execute(&mut *c)
                .await?;
        }
        Ok(())
    })
}

/// Uses a recovery code; false when unknown or used.
pub async fn use_recovery(db: &Db, user_id: Uuid, hash: &[u8]) -> Result<bool, sqlx::Error> {
    on_db!(db, p => sqlx::query(
        "UPDATE recovery_codes SET used_at = $3 WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL",
    )
    .bind(user_id)
    .bind(hash)
    .bind(super::now())
    .execute(p)
    .await
    .map(|r| r.rows_affected() == 1))
}

/// How many recovery codes a user has left.
pub async fn recovery_left(db: &Db, user_id: Uuid) -> Result<i64, sqlx::Error> {
    on_db!(db, p => sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL",
    )
    .bind(user_id)
    .fetch_one(p)
    .await)
}

/// A sign-in waiting for its second factor.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Pending {
    pub user_id: Uuid,
    pub created_at: DateTime<Utc>,
    pub attempts: i64,
    pub next: String,
}

/// Records a sign-in whose password was right.
pub async fn insert_pending(
    db: &Db,
    token_hash: &[u8],
    user_id: Uuid,
    next: &str,
) -> Result<(), sqlx::Error> {
    let next: String = next.chars().take(500).collect();
    on_db!(db, p => sqlx::query(
        "INSERT INTO pending_logins (token_hash, user_id, created_at, next) VALUES ($1, $2, $3, $4)",
    )
    .bind(token_hash)
    .bind(user_id)
    .bind(super::now())
    .bind(next)
    .execute(p)
    .await
    .map(|_| ()))
}

/// The pending sign-in behind a token hash.
pub async fn pending(db: &Db, token_hash: &[u8]) -> Result<Option<Pending>, sqlx::Error> {
    on_db!(db, p => sqlx::query_as::<_, Pending>(
        "SELECT user_id, created_at, attempts, next FROM pending_logins WHERE token_hash = $1",
    )
    .bind(token_hash)
    .fetch_optional(p)
    .await)
}

/// Counts a wrong code against a pending sign-in.
pub async fn pending_failed(db: &Db, token_hash: &[u8]) -> Result<(), sqlx::Error> {
    on_db!(db, p => sqlx::query("UPDATE pending_logins SET attempts = attempts + 1 WHERE token_hash = $1")
        .bind(token_hash)
        .execute(p)
        .await
        .map(|_| ()))
}

/// Ends a pending sign-in (done, expired or given up).
pub async fn delete_pending(db: &Db, token_hash: &[u8]) -> Result<(), sqlx::Error> {
    on_db!(db, p => sqlx::query("DELETE FROM pending_logins WHERE token_hash = $1")
        .bind(token_hash)
        .execute(p)
        .await
        .map(|_| ()))
}

/// Drops pending sign-ins started before `before`.
pub async fn prune_pending(db: &Db, before: DateTime<Utc>) -> Result<u64, sqlx::Error> {
    on_db!(db, p => sqlx::query("DELETE FROM pending_logins WHERE created_at < $1")
        .bind(before)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))
}

/// Whether an organisation requires a second factor of its users.
pub async fn org_requires(db: &Db, scope: Scope, org_id: Uuid) -> Result<bool, sqlx::Error> {
    let Scope::Center = scope else {
        return Ok(false);
    };
    on_db!(db, p => sqlx::query_scalar::<_, bool>(
        "SELECT require_second_factor FROM organisations WHERE id = $1",
    )
    .bind(org_id)
    .fetch_optional(p)
    .await)
    .map(|v| v.unwrap_or(false))
}

/// Sets an organisation's requirement when it is not so already; answers whether it changed
/// (false: no such organisation, or it was so).
pub async fn set_org_requires(
    tx: &mut Tx,
    org_id: Uuid,
    required: bool,
) -> Result<bool, sqlx::Error> {
    on_tx!(tx, c => sqlx::query(
        "UPDATE organisations SET require_second_factor = $2 \
         WHERE id = $1 AND require_second_factor <> $2",
    )
        .bind(org_id)
        .bind(required)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected() == 1))
}

/// The addresses of an organisation's active users who have no second factor yet.
pub async fn without_any(tx: &mut Tx, org_id: Uuid) -> Result<Vec<String>, sqlx::Error> {
    on_tx!(tx, c => sqlx::query_scalar::<_, String>(
        "SELECT u.email FROM users u WHERE u.org_id = $1 AND u.status = 'active' \
         AND u.totp_enabled_at IS NULL \
         AND NOT EXISTS (SELECT 1 FROM passkeys k WHERE k.user_id = u.id) ORDER BY u.email",
    )
    .bind(org_id)
    .fetch_all(&mut *c)
    .await)
}

/// How a second factor was shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shown {
    Totp,
    RecoveryCode,
}

impl Shown {
    /// The word kept in the audit detail.
    pub fn as_str(self) -> &'static str {
        match self {
            Shown::Totp => "totp",
            Shown::RecoveryCode => "recovery_code",
        }
    }
}

/// Checks a typed code against a user's confirmed second factor: a current TOTP code not used
/// before (then its step is taken), or an unused recovery code (then it is used up).
pub async fn check(db: &Db, user_id: Uuid, typed: &str) -> Result<Option<Shown>, sqlx::Error> {
    let Some(t) = totp(db, user_id).await? else {
        return Ok(None);
    };
    let (Some(secret), Some(_)) = (t.totp_secret, t.totp_enabled_at) else {
        return Ok(None);
    };
    if crate::domain::totp::normalise_code(typed).is_some() {
        let now = Utc::now().timestamp();
        return Ok(
            match crate::domain::totp::verify(&secret, typed, now, t.totp_last_step) {
                Some(step) if use_step(db, user_id, step).await? => Some(Shown::Totp),
                _ => None,
            },
        );
    }
    let code = crate::domain::totp::normalise_recovery(typed);
    if code.len() != 10 {
        return Ok(None);
    }
    let hash = recovery_hash(&code);
    Ok(use_recovery(db, user_id, &hash)
        .await?
        .then_some(Shown::RecoveryCode))
}

/// How a recovery code is stored: SHA-256 of its normalised form.
pub fn recovery_hash(normalised: &str) -> Vec<u8> {
    use sha2::Digest;
    sha2::Sha256::digest(normalised.as_bytes()).to_vec()
}

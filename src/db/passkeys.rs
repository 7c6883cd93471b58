//! Passkeys and security keys (WebAuthn) of a user, and the challenges of ceremonies under
//! way (single use: taken by the first answer).

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{Db, Tx, on_db, on_tx};

/// Most keys one user may register (the `slot` column's CHECK).
pub const MAX_PER_USER: i64 = 10;

/// A registered key.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Passkey {
    pub id: Uuid,
    pub user_id: Uuid,
    pub name: String,
    pub credential_id: Vec<u8>,
    pub public_key: Vec<u8>,
    pub sign_count: i64,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
}

const COLUMNS: &str =
    "id, user_id, name, credential_id, public_key, sign_count, created_at, last_used_at";

/// A user's keys, oldest first.
pub async fn of_user(db: &Db, user_id: Uuid) -> Result<Vec<Passkey>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM passkeys WHERE user_id = $1 ORDER BY created_at, id");
    on_db!(db, p => sqlx::query_as::<_, Passkey>(sqlx::AssertSqlSafe(sql))
        .bind(user_id)
        .fetch_all(p)
        .await)
}

/// How many keys a user has.
pub async fn count(db: &Db, user_id: Uuid) -> Result<i64, sqlx::Error> {
    on_db!(db, p => sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM passkeys WHERE user_id = $1")
        .bind(user_id)
        .fetch_one(p)
        .await)
}

/// What a new key brings.
#[derive(Debug, Clone)]
pub struct NewPasskey<'a> {
    pub user_id: Uuid,
    pub name: &'a str,
    pub credential_id: &'a [u8],
    pub public_key: &'a [u8],
    pub algorithm: i64,
    pub sign_count: i64,
}

/// Adds a key in the user's lowest free slot; answers its id, or `None` when every slot is
/// taken or the credential is registered already (the UNIQUE constraints decide: two
/// registrations at once cannot both take the last slot).
pub async fn insert(tx: &mut Tx, k: &NewPasskey<'_>) -> Result<Option<Uuid>, sqlx::Error> {
    let id = Uuid::now_v7();
    let res = on_tx!(tx, c => {
        let taken: Vec<i64> = sqlx::query_scalar("SELECT slot FROM passkeys WHERE user_id = $1")
            .bind(k.user_id)
            .fetch_all(&mut *c)
            .await?;
        let Some(slot) = (1..=MAX_PER_USER).find(|s| !taken.contains(s)) else {
            return Ok(None);
        };
        sqlx::query(
            "INSERT INTO passkeys (id, user_id, slot, name, credential_id, public_key, algorithm, sign_count, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING",
        )
        .bind(id)
        .bind(k.user_id)
        .bind(slot)
        .bind(k.name)
        .bind(k.credential_id)
        .bind(k.public_key)
        .bind(k.algorithm)
        .bind(k.sign_count)
        .bind(super::now())
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok((res == 1).then_some(id))
}

/// The key with this credential id, if it is this user's.
pub async fn by_credential(
    db: &Db,
    user_id: Uuid,
    credential_id: &[u8],
) -> Result<Option<Passkey>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM passkeys WHERE user_id = $1 AND credential_id = $2");
    on_db!(db, p => sqlx::query_as::<_, Passkey>(sqlx::AssertSqlSafe(sql))
        .bind(user_id)
        .bind(credential_id)
        .fetch_optional(p)
        .await)
}

/// Records a use: the new counter, only if the stored one is still what was checked against
/// (two sign-ins with the same signature race safely: one wins).
pub async fn used(db: &Db, id: Uuid, seen: i64, new_count: i64) -> Result<bool, sqlx::Error> {
    on_db!(db, p => sqlx::query(
        "UPDATE passkeys SET sign_count = $3, last_used_at = $4 WHERE id = $1 AND sign_count = $2",
    )
    .bind(id)
    .bind(seen)
    .bind(new_count)
    .bind(super::now())
    .execute(p)
    .await
    .map(|r| r.rows_affected() == 1))
}

/// Removes one of the user's keys; answers its name, or `None` when it is not theirs.
pub async fn delete(tx: &mut Tx, user_id: Uuid, id: Uuid) -> Result<Option<String>, sqlx::Error> {
    on_tx!(tx, c => sqlx::query_scalar::<_, String>(
        "DELETE FROM passkeys WHERE id = $1 AND user_id = $2 RETURNING name",
    )
    .bind(id)
    .bind(user_id)
    .fetch_optional(&mut *c)
    .await)
}

/// Removes every key of a user (a reset of the second factor); answers how many.
pub async fn delete_all(tx: &mut Tx, user_id: Uuid) -> Result<u64, sqlx::Error> {
    on_tx!(tx, c => sqlx::query("DELETE FROM passkeys WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected()))
}

/// What a challenge is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Register,
    SignIn,
}

impl Purpose {
    fn as_str(self) -> &'static str {
        match self {
            Purpose::Register => "register",
            Purpose::SignIn => "sign_in",
        }
    }
}

/// Issues a challenge for a binding (replacing the one it had for this purpose).
pub async fn put_challenge(
    db: &Db,
    binding: &[u8],
    purpose: Purpose,
    user_id: Uuid,
    challenge: &[u8],
) -> Result<(), sqlx::Error> {
    on_db!(db, p => sqlx::query(
        "INSERT INTO webauthn_challenges (binding, purpose, user_id, challenge, created_at) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (binding, purpose) \
         DO UPDATE SET user_id = excluded.user_id, challenge = excluded.challenge, created_at = excluded.created_at",
    )
    .bind(binding)
    .bind(purpose.as_str())
    .bind(user_id)
    .bind(challenge)
    .bind(super::now())
    .execute(p)
    .await
    .map(|_| ()))
}

/// Takes (deletes) the binding's challenge for this user and purpose if it was issued after
/// `since`: a challenge is good for one answer.
pub async fn take_challenge(
    db: &Db,
    binding: &[u8],
    purpose: Purpose,
    user_id: Uuid,
    since: DateTime<Utc>,
) -> Result<Option<Vec<u8>>, sqlx::Error> {
    let taken: Option<(Vec<u8>, DateTime<Utc>)> = on_db!(db, p => sqlx::query_as(
        "DELETE FROM webauthn_challenges WHERE binding = $1 AND purpose = $2 AND user_id = $3 \
         RETURNING challenge, created_at",
    )
    .bind(binding)
    .bind(purpose.as_str())
    .bind(user_id)
    .fetch_optional(p)
    .await)?;
    Ok(taken.filter(|(_, at)| *at >= since).map(|(c, _)| c))
}

/// Drops challenges issued before `before`.
pub async fn prune_challenges(db: &Db, before: DateTime<Utc>) -> Result<u64, sqlx::Error> {
    on_db!(db, p => sqlx::query("DELETE FROM webauthn_challenges WHERE created_at < $1")
        .bind(before)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))
}

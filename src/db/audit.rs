//! The audit trail: append-only and in sequence (database triggers refuse UPDATE, DELETE and
//! an insert that does not follow the head), chained by HMAC-SHA256 under a key kept outside
//! the database, and anchored daily outside it (the log and the Center's digest mail).
//!
//! Entries written before the chain had a key (before `audit_head.keyed_from`) keep their
//! unkeyed SHA-256 chain. At the first start with a key the switch-over is sealed: a keyed MAC
//! over its number and the hash of the last unkeyed entry. So the switch-over cannot be moved
//! to pass keyed entries off as unkeyed ones, and the older entries cannot be rewritten
//! afterwards either; what was done to them before the seal shows only against anchors. A
//! trail with no switch-over recorded is verified as keyed throughout (never taken on trust).

use std::sync::Arc;

use chrono::{DateTime, SecondsFormat, Utc};
use hmac::{Hmac, Mac as _};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::{Db, Tx, TxConn, on_db, on_tx};

/// One thing that happened, as the caller describes it.
#[derive(Debug, Clone)]
pub struct Entry {
    pub actor_id: Option<Uuid>,
    /// Who acted, as shown: an e-mail, `system` or `cli`.
    pub actor: String,
    pub org_id: Option<Uuid>,
    /// A dotted verb such as `login.success` or `user.invited`.
    pub action: &'static str,
    pub target: String,
    pub ip: String,
    pub detail: serde_json::Value,
}

/// A stored entry.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Row {
    pub seq: i64,
    pub at: DateTime<Utc>,
    pub actor_id: Option<Uuid>,
    pub actor: String,
    pub org_id: Option<Uuid>,
    pub action: String,
    pub target: String,
    pub ip: String,
    pub detail: String,
    pub prev_hash: String,
    pub hash: String,
}

/// The key the chain is signed with (HMAC-SHA256). It lives outside the database (an
/// environment variable or a key file), so that someone who can write to the database cannot
/// make a forged entry verify.
#[derive(Clone)]
pub struct AuditKey(Option<Arc<[u8]>>);

impl std::fmt::Debug for AuditKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "AuditKey(set)"
        } else {
            "AuditKey(absent)"
        })
    }
}

impl AuditKey {
    /// No key: appending and verifying fail rather than write or accept an unkeyed entry.
    pub fn absent() -> AuditKey {
        AuditKey(None)
    }

    /// A key of these bytes.
    pub fn new(bytes: &[u8]) -> AuditKey {
        AuditKey(Some(Arc::from(bytes)))
    }

    pub(super) fn bytes(&self) -> Result<Arc<[u8]>, sqlx::Error> {
        self.0.clone().ok_or_else(|| {
            sqlx::Error::Configuration(
                "the audit key is not loaded (SECPORTAL_AUDIT_KEY or its key file)".into(),
            )
        })
    }
}

/// How an entry's hash is made.
#[derive(Clone, Copy)]
pub enum Mac<'a> {
    /// SHA-256: entries written before the chain had a key.
    Unkeyed,
    /// HMAC-SHA256 under the audit key.
    Keyed(&'a [u8]),
}

/// The chain's start: the "previous hash" of entry 1.
pub fn genesis() -> String {
    "0".repeat(64)
}

/// Length-prefixed parts, hashed with or without the key.
fn digest(mac: Mac<'_>, parts: &[&str]) -> String {
    let mut buf = Vec::with_capacity(parts.iter().map(|p| p.len() + 8).sum());
    for part in parts {
        buf.extend_from_slice(&(part.len() as u64).to_be_bytes());
        buf.extend_from_slice(part.as_bytes());
    }
    match mac {
        Mac::Unkeyed => hex::encode(Sha256::digest(&buf)),
        Mac::Keyed(key) => {
            // HMAC takes keys of any length; new_from_slice cannot fail for it.
            match Hmac::<Sha256>::new_from_slice(key) {
                Ok(mut h) => {
                    h.update(&buf);
                    hex::encode(h.finalize().into_bytes())
                }
                Err(_) => String::new(),
            }
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn chain_hash(
    mac: Mac<'_>,
    prev: &str,
    seq: i64,
    at: &DateTime<Utc>,
    actor_id: Option<Uuid>,
    actor: &str,
    org_id: Option<Uuid>,
    action: &str,
    target: &str,
    ip: &str,
    detail: &str,
) -> String {
    let opt = |u: Option<Uuid>| u.map(|u| u.to_string()).unwrap_or_default();
    digest(
        mac,
        &[
            prev,
            &seq.to_string(),
            &at.to_rfc3339_opts(SecondsFormat::Micros, true),
            &opt(actor_id),
            actor,
            &opt(org_id),
            action,
            target,
            ip,
            detail,
        ],
    )
}

impl Row {
    /// The hash this entry should carry (over its stored fields and `prev_hash`).
    pub fn expected_hash(&self, mac: Mac<'_>) -> String {
        chain_hash(
            mac,
            &self.prev_hash,
            self.seq,
            &self.at,
            self.actor_id,
            &self.actor,
            self.org_id,
            &self.action,
            &self.target,
            &self.ip,
            &self.detail,
        )
    }
}

/// The keyed mark of the switch-over: entries from `keyed_from` on are keyed, and the entry
/// before it has hash `prev`. Without the key nobody can move the switch-over.
fn seal_of(key: &[u8], keyed_from: i64, prev: &str) -> String {
    digest(
        Mac::Keyed(key),
        &["secportal audit seal", &keyed_from.to_string(), prev],
    )
}

/// The head, locked until the transaction ends (SQLite's `BEGIN IMMEDIATE` already holds
/// the one write lock).
fn head_for_update(tx: &mut Tx) -> &'static str {
    match tx.conn() {
        TxConn::Sqlite(_) => "SELECT seq, hash, keyed_from FROM audit_head WHERE id = 1",
        TxConn::Postgres(_) => {
            "SELECT seq, hash, keyed_from FROM audit_head WHERE id = 1 FOR UPDATE"
        }
    }
}

/// Appends an entry inside the caller's transaction, so the entry and the change commit
/// together. Two statements: read the head, insert; the database checks the entry follows the
/// head and moves the head on (migration 0010).
pub async fn append(tx: &mut Tx, e: &Entry) -> Result<(), sqlx::Error> {
    let key = tx.audit_key.bytes()?;
    let at = super::now();
    let detail = e.detail.to_string();
    let head_sql = head_for_update(tx);
    on_tx!(tx, c => {
        let (head, prev, _): (i64, String, Option<i64>) =
            sqlx::query_as(head_sql).fetch_one(&mut *c).await?;
        let seq = head + 1;
        let hash = chain_hash(Mac::Keyed(&key), &prev, seq, &at, e.actor_id, &e.actor, e.org_id, e.action, &e.target, &e.ip, &detail);
        sqlx::query(
            "INSERT INTO audit_log (seq, at, actor_id, actor, org_id, action, target, ip, detail, prev_hash, hash) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(seq)
        .bind(at)
        .bind(e.actor_id)
        .bind(&e.actor)
        .bind(e.org_id)
        .bind(e.action)
        .bind(&e.target)
        .bind(&e.ip)
        .bind(&detail)
        .bind(&prev)
        .bind(&hash)
        .execute(&mut *c)
        .await?;
    });
    Ok(())
}

/// Records, once, where the keyed chain starts: after the entries already there (written
/// unkeyed before the chain had a key), or at 1 on a new database. Answers the switch-over
/// when this call made it.
pub async fn seal(db: &Db) -> Result<Option<i64>, sqlx::Error> {
    let key = db.audit_key.bytes()?;
    let mut tx = db.begin().await?;
    let head_sql = head_for_update(&mut tx);
    let made = on_tx!(&mut tx, c => {
        let (seq, hash, keyed_from): (i64, String, Option<i64>) =
            sqlx::query_as(head_sql).fetch_one(&mut *c).await?;
        if keyed_from.is_some() {
            None
        } else {
            let from = seq + 1;
            sqlx::query("UPDATE audit_head SET keyed_from = $1, seal = $2 WHERE id = 1")
                .bind(from)
                .bind(seal_of(&key, from, &hash))
                .execute(&mut *c)
                .await?;
            Some(from)
        }
    });
    tx.commit().await?;
    Ok(made)
}

/// Where the keyed chain starts, once sealed.
pub async fn keyed_from(db: &Db) -> Result<Option<i64>, sqlx::Error> {
    on_db!(db, p => sqlx::query_scalar("SELECT keyed_from FROM audit_head WHERE id = 1").fetch_one(p).await)
}

/// The chain's head as a line to keep outside the database (see [`Anchor`]).
pub async fn anchor(db: &Db) -> Result<Anchor, sqlx::Error> {
    let (seq, hash): (i64, String) = on_db!(db, p => sqlx::query_as("SELECT seq, hash FROM audit_head WHERE id = 1").fetch_one(p).await)?;
    Ok(Anchor { seq, hash })
}

/// Appends an entry in a transaction of its own.
pub async fn append_alone(db: &Db, e: &Entry) -> Result<(), sqlx::Error> {
    let mut tx = db.begin().await?;
    append(&mut tx, e).await?;
    tx.commit().await
}

/// The newest entries, optionally of one organisation, without the inline previews of files (a
/// review page's every view makes them; the trail keeps them).
pub async fn recent(db: &Db, org: Option<Uuid>, limit: i64) -> Result<Vec<Row>, sqlx::Error> {
    let sql = format!(
        "SELECT seq, at, actor_id, actor, org_id, action, target, ip, detail, prev_hash, hash FROM audit_log \
         WHERE {} AND action <> 'file.previewed' ORDER BY seq DESC LIMIT $2",
        seen_by("$1")
    );
    on_db!(db, p => sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(sql.clone()))
    .bind(org)
    .bind(limit)
    .fetch_all(p)
    .await)
}

/// Prefixes of the actions that are the Center's own work: never on an organisation's trail
/// or home, even when they concern it (a search of its logs would tell whose connection is
/// traced).
pub const CENTER_ONLY: &[&str] = &[
    "catalogue.",
    "retention.",
    "return_reason.",
    "export.",
    "receipt.check",
    "organisation.created",
    "log.search",
];

/// `TRUE` for an entry an organisation sees, with `$1` its id (or NULL: the Center, all).
fn seen_by(org_param: &str) -> String {
    let center: Vec<String> = CENTER_ONLY
        .iter()
        .map(|p| format!("action LIKE '{}%' ESCAPE '\\'", p.replace('_', "\\_")))
        .collect();
    format!(
        "({org_param} IS NULL OR (org_id = {org_param} AND NOT ({})))",
        center.join(" OR ")
    )
}

/// What the trail page shows.
#[derive(Debug, Clone, Default)]
pub struct TrailFilter {
    /// Action prefix such as `login` or `submission.`.
    pub action: Option<String>,
    /// Part of the actor's e-mail or name (lower case). In an organisation's trail, only its
    /// own people and the portal's own work match it: never a Center member's name or e-mail.
    pub actor: Option<String>,
    /// What the typed actor names besides people, as the page shows them: the portal's
    /// background work (`system`), the operator's commands (`cli`), the Center as a whole
    /// (any Center member).
    pub actor_system: bool,
    pub actor_cli: bool,
    pub actor_center: bool,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    /// Entries before this sequence number (paging, newest first).
    pub before_seq: Option<i64>,
    /// Only the entries about this organisation (the Center's own actions on it included).
    pub about: Option<Uuid>,
}

/// A page of the trail, newest first, within the scope (`Some(org)`: that organisation only).
pub async fn page(
    db: &Db,
    org: Option<Uuid>,
    f: &TrailFilter,
    limit: i64,
) -> Result<Vec<Row>, sqlx::Error> {
    // Typed text matches as itself: `_` (in most actions and many e-mails) and `%` escaped.
    let literal = |s: &str| {
        s.replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_")
    };
    let action = f.action.as_ref().map(|a| format!("{}%", literal(a)));
    let actor = f.actor.as_ref().map(|a| format!("%{}%", literal(a)));
    // A name matches without its spaces (審査太郎 finds 審査 太郎).
    let name = f
        .actor
        .as_ref()
        .map(|a| format!("%{}%", literal(&a.replace([' ', '\u{3000}'], ""))));
    let sql = format!(
        "SELECT seq, at, actor_id, actor, org_id, action, target, ip, detail, prev_hash, hash FROM audit_log \
         WHERE {} AND ($2 IS NULL OR action LIKE $2 ESCAPE '\\') \
         AND ($3 IS NULL \
              OR ((actor LIKE $3 ESCAPE '\\' \
                   OR actor_id IN (SELECT id FROM users WHERE REPLACE(REPLACE(lower(display_name), ' ', ''), '　', '') LIKE $11 ESCAPE '\\')) \
                  AND ($1 IS NULL OR actor_id IS NULL OR actor_id IN (SELECT id FROM users WHERE org_id = $1))) \
              OR ($8 AND actor_id IS NULL AND actor = 'system') \
              OR ($9 AND actor_id IS NULL AND actor = 'cli') \
              OR ($10 AND actor_id IN (SELECT id FROM users WHERE org_id IS NULL))) \
         AND ($4 IS NULL OR at >= $4) AND ($5 IS NULL OR at < $5) AND ($6 IS NULL OR seq < $6) \
         AND ($12 IS NULL OR org_id = $12) ORDER BY seq DESC LIMIT $7",
        seen_by("$1")
    );
    on_db!(db, p => sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(sql.clone()))
    .bind(org)
    .bind(action)
    .bind(actor)
    .bind(f.from)
    .bind(f.to)
    .bind(f.before_seq)
    .bind(limit)
    .bind(f.actor.is_some() && f.actor_system)
    .bind(f.actor.is_some() && f.actor_cli)
    .bind(f.actor.is_some() && f.actor_center)
    .bind(&name)
    .bind(f.about)
    .fetch_all(p)
    .await)
}

mod checkpoint;
mod verify;

pub use checkpoint::{Checkpoint, PurgedPrefix, checkpoint, purgeable, remove_prefix};
pub use verify::{
    Anchor, AnchorError, Standing, Verdict, key_fits, parse_anchors, sealed, standing, verify,
    verify_against,
};

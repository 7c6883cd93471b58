//! The audit trail: append-only (database triggers refuse UPDATE and DELETE), hash-chained.

use chrono::{DateTime, SecondsFormat, Utc};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::{Db, Tx, on_db, on_tx};

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

#[allow(clippy::too_many_arguments)]
fn chain_hash(
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
    let mut h = Sha256::new();
    let opt = |u: Option<Uuid>| u.map(|u| u.to_string()).unwrap_or_default();
    for part in [
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
    ] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    hex::encode(h.finalize())
}

/// Appends an entry inside the caller's transaction, so the entry and the change commit together.
pub async fn append(tx: &mut Tx, e: &Entry) -> Result<(), sqlx::Error> {
    let at = super::now();
    let detail = e.detail.to_string();
    on_tx!(tx, c => {
        let (seq, prev): (i64, String) =
            sqlx::query_as("UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash")
                .fetch_one(&mut *c)
                .await?;
        let hash = chain_hash(&prev, seq, &at, e.actor_id, &e.actor, e.org_id, e.action, &e.target, &e.ip, &detail);
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
        sqlx::query("UPDATE audit_head SET hash = $1 WHERE id = 1").bind(&hash).execute(&mut *c).await?;
    });
    Ok(())
}

/// Appends an entry in a transaction of its own.
pub async fn append_alone(db: &Db, e: &Entry) -> Result<(), sqlx::Error> {
    let mut tx = db.begin().await?;
    append(&mut tx, e).await?;
    tx.commit().await
}

/// The newest entries, optionally of one organisation and one action prefix.
pub async fn recent(db: &Db, org: Option<Uuid>, limit: i64) -> Result<Vec<Row>, sqlx::Error> {
    on_db!(db, p => sqlx::query_as::<_, Row>(
        "SELECT seq, at, actor_id, actor, org_id, action, target, ip, detail, prev_hash, hash FROM audit_log \
         WHERE ($1 IS NULL OR org_id = $1) ORDER BY seq DESC LIMIT $2",
    )
    .bind(org)
    .bind(limit)
    .fetch_all(p)
    .await)
}

/// What the trail page shows.
#[derive(Debug, Clone, Default)]
pub struct TrailFilter {
    /// Action prefix such as `login` or `submission.`.
    pub action: Option<String>,
    /// Part of the actor (e-mail).
    pub actor: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    /// Entries before this sequence number (paging, newest first).
    pub before_seq: Option<i64>,
}

/// A page of the trail, newest first, within the scope (`Some(org)`: that organisation only).
pub async fn page(
    db: &Db,
    org: Option<Uuid>,
    f: &TrailFilter,
    limit: i64,
) -> Result<Vec<Row>, sqlx::Error> {
    let action = f
        .action
        .as_ref()
        .map(|a| format!("{}%", a.replace(['%', '_'], "")));
    let actor = f
        .actor
        .as_ref()
        .map(|a| format!("%{}%", a.replace(['%', '_'], "")));
    on_db!(db, p => sqlx::query_as::<_, Row>(
        "SELECT seq, at, actor_id, actor, org_id, action, target, ip, detail, prev_hash, hash FROM audit_log \
         WHERE ($1 IS NULL OR org_id = $1) AND ($2 IS NULL OR action LIKE $2) AND ($3 IS NULL OR actor LIKE $3) \
         AND ($4 IS NULL OR at >= $4) AND ($5 IS NULL OR at < $5) AND ($6 IS NULL OR seq < $6) ORDER BY seq DESC LIMIT $7",
    )
    .bind(org)
    .bind(action)
    .bind(actor)
    .bind(f.from)
    .bind(f.to)
    .bind(f.before_seq)
    .bind(limit)
    .fetch_all(p)
    .await)
}

/// Result of walking the chain.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Every entry matches; how many there are.
    Intact(i64),
    /// The first entry (by sequence number) that does not match, and why.
    Broken { seq: i64, reason: &'static str },
}

/// Walks the whole chain in pages and names the first entry that does not match.
pub async fn verify(db: &Db) -> Result<Verdict, sqlx::Error> {
    let mut prev = "0".repeat(64);
    let mut expected_seq = 1i64;
    loop {
        let page: Vec<Row> = on_db!(db, p => sqlx::query_as::<_, Row>(
            "SELECT seq, at, actor_id, actor, org_id, action, target, ip, detail, prev_hash, hash FROM audit_log \
             WHERE seq >= $1 ORDER BY seq LIMIT 1000",
        )
        .bind(expected_seq)
        .fetch_all(p)
        .await)?;
        if page.is_empty() {
            break;
        }
        for r in page {
            if r.seq != expected_seq {
                return Ok(Verdict::Broken {
                    seq: expected_seq,
                    reason: "missing entry",
                });
            }
            if r.prev_hash != prev {
                return Ok(Verdict::Broken {
                    seq: r.seq,
                    reason: "previous hash does not match",
                });
            }
            let h = chain_hash(
                &r.prev_hash,
                r.seq,
                &r.at,
                r.actor_id,
                &r.actor,
                r.org_id,
                &r.action,
                &r.target,
                &r.ip,
                &r.detail,
            );
            if h != r.hash {
                return Ok(Verdict::Broken {
                    seq: r.seq,
                    reason: "content does not match its hash",
                });
            }
            prev = r.hash;
            expected_seq += 1;
        }
    }
    let head: (i64, String) = on_db!(db, p => sqlx::query_as("SELECT seq, hash FROM audit_head WHERE id = 1").fetch_one(p).await)?;
    if head.0 != expected_seq - 1 || head.1 != prev {
        return Ok(Verdict::Broken {
            seq: expected_seq,
            reason: "entries after this point are missing",
        });
    }
    Ok(Verdict::Intact(expected_seq - 1))
}

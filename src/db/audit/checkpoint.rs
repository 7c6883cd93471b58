//! The retention checkpoint: where the purged prefix of the chain ended. Entries 1 to
//! `through_seq` are gone; the walk starts after them from `through_hash`, the hash the first
//! kept entry links to. A keyed MAC over both (`seal`) means someone without the audit key can
//! neither move the checkpoint on to hide more entries nor invent one.

use chrono::{DateTime, Utc};

use super::{Mac, Tx, digest, head_for_update};
use crate::db::{Db, on_db, on_tx};

/// Where the purged prefix ended.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Checkpoint {
    /// The last removed entry.
    pub through_seq: i64,
    /// Its hash: what the first kept entry links to.
    pub through_hash: String,
    pub seal: String,
    pub at: DateTime<Utc>,
}

/// The keyed mark of a checkpoint.
pub(super) fn seal_of(key: &[u8], through_seq: i64, through_hash: &str) -> String {
    digest(
        Mac::Keyed(key),
        &[
            "secportal audit checkpoint",
            &through_seq.to_string(),
            through_hash,
        ],
    )
}

/// The checkpoint, once a purge removed entries.
pub async fn checkpoint(db: &Db) -> Result<Option<Checkpoint>, sqlx::Error> {
    on_db!(db, p => sqlx::query_as::<_, Checkpoint>(
        "SELECT through_seq, through_hash, seal, at FROM audit_checkpoint WHERE id = 1",
    )
    .fetch_optional(p)
    .await)
}

/// What a purge of the trail removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PurgedPrefix {
    /// The first and last entries removed.
    pub from_seq: i64,
    pub through_seq: i64,
    /// The hash of the last one removed (the new checkpoint).
    pub through_hash: String,
}

/// The entries a purge would remove: the longest prefix of entries written before `cutoff`,
/// stopping before `keep_from` (the first entry that must stay, e.g. of an organisation on
/// hold) and always keeping the head (the next entry links to it).
pub async fn purgeable(
    tx: &mut Tx,
    cutoff: DateTime<Utc>,
    keep_from: Option<i64>,
) -> Result<Option<PurgedPrefix>, sqlx::Error> {
    let head_sql = head_for_update(tx);
    on_tx!(tx, c => {
        let (head, _, _): (i64, String, Option<i64>) = sqlx::query_as(head_sql).fetch_one(&mut *c).await?;
        let done: Option<i64> = sqlx::query_scalar("SELECT through_seq FROM audit_checkpoint WHERE id = 1")
            .fetch_optional(&mut *c)
            .await?;
        let first_young: Option<i64> = sqlx::query_scalar("SELECT MIN(seq) FROM audit_log WHERE at >= $1")
            .bind(cutoff)
            .fetch_one(&mut *c)
            .await?;
        let from = done.unwrap_or(0) + 1;
        let through = [first_young, keep_from, Some(head)]
            .into_iter()
            .flatten()
            .min()
            .unwrap_or(head)
            - 1;
        if through < from {
            return Ok(None);
        }
        let hash: String = sqlx::query_scalar("SELECT hash FROM audit_log WHERE seq = $1")
            .bind(through)
            .fetch_one(&mut *c)
            .await?;
        Ok(Some(PurgedPrefix { from_seq: from, through_seq: through, through_hash: hash }))
    })
}

/// Moves the checkpoint to `p` and removes the entries up to it, in the caller's transaction
/// (the database refuses to remove any entry past the checkpoint); answers how many went.
pub async fn remove_prefix(tx: &mut Tx, p: &PurgedPrefix) -> Result<u64, sqlx::Error> {
    let key = tx.audit_key.bytes()?;
    let seal = seal_of(&key, p.through_seq, &p.through_hash);
    on_tx!(tx, c => {
        sqlx::query(
            "INSERT INTO audit_checkpoint (id, through_seq, through_hash, seal, at) VALUES (1, $1, $2, $3, $4) \
             ON CONFLICT (id) DO UPDATE SET through_seq = $1, through_hash = $2, seal = $3, at = $4",
        )
        .bind(p.through_seq)
        .bind(&p.through_hash)
        .bind(&seal)
        .bind(crate::db::now())
        .execute(&mut *c)
        .await?;
        sqlx::query("DELETE FROM audit_log WHERE seq <= $1")
            .bind(p.through_seq)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected())
    })
}

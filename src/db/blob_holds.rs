//! Holds on stored blobs across nodes (see `migrations/*/0031_blob_holds.sql`): each call is
//! one conditional statement on the blob's row, so holds and deletions serialise on it.

use chrono::{DateTime, Utc};

use super::{Db, on_db};

/// Holds a blob for an upload that is about to record it; false while a deletion of it runs.
pub async fn hold(
    db: &Db,
    sha256: &str,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    on_db!(db, p => sqlx::query(
        "INSERT INTO blob_holds (sha256, holders, deleting, until) VALUES ($1, 1, FALSE, $3) \
         ON CONFLICT (sha256) DO UPDATE SET \
           holders = CASE WHEN blob_holds.until < $2 OR blob_holds.deleting THEN 1 ELSE blob_holds.holders + 1 END, \
           deleting = FALSE, until = $3 \
         WHERE NOT blob_holds.deleting OR blob_holds.until < $2",
    )
    .bind(sha256)
    .bind(now)
    .bind(until)
    .execute(p)
    .await
    .map(|r| r.rows_affected() == 1))
}

/// Gives one upload's hold back (its row is recorded, or it failed).
pub async fn release(db: &Db, sha256: &str) -> Result<(), sqlx::Error> {
    on_db!(db, p => {
        sqlx::query(
            "UPDATE blob_holds SET holders = holders - 1 \
             WHERE sha256 = $1 AND NOT deleting AND holders > 0",
        )
        .bind(sha256)
        .execute(p)
        .await?;
        sqlx::query("DELETE FROM blob_holds WHERE sha256 = $1 AND holders <= 0 AND NOT deleting")
            .bind(sha256)
            .execute(p)
            .await
            .map(|_| ())
    })
}

/// Marks a blob as being deleted unless an upload holds it or another deletion runs (either
/// still within its time); answers whether this caller may delete it.
pub async fn mark_deleting(
    db: &Db,
    sha256: &str,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    on_db!(db, p => sqlx::query(
        "INSERT INTO blob_holds (sha256, holders, deleting, until) VALUES ($1, 0, TRUE, $3) \
         ON CONFLICT (sha256) DO UPDATE SET holders = 0, deleting = TRUE, until = $3 \
         WHERE blob_holds.until < $2 OR (blob_holds.holders <= 0 AND NOT blob_holds.deleting)",
    )
    .bind(sha256)
    .bind(now)
    .bind(until)
    .execute(p)
    .await
    .map(|r| r.rows_affected() == 1))
}

/// Ends a deletion's mark (the blob is gone, or was kept).
pub async fn unmark(db: &Db, sha256: &str) -> Result<(), sqlx::Error> {
    on_db!(db, p => sqlx::query("DELETE FROM blob_holds WHERE sha256 = $1 AND deleting")
        .bind(sha256)
        .execute(p)
        .await
        .map(|_| ()))
}

//! The files of submissions: what a draft holds, attached and detached under its lock.

use uuid::Uuid;

use crate::db::{Db, Tx, on_db, on_tx};
use crate::domain::Scope;

/// A file of a submission.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct FileRow {
    pub id: Uuid,
    pub submission_id: Uuid,
    pub org_id: Uuid,
    pub sha256: String,
    pub role: String,
    pub name: String,
    pub mime: String,
    pub size: i64,
}

/// What became of a file offered to a draft.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attach {
    Attached,
    /// The submission is not (or no longer) a draft of the organisation.
    NotDraft,
    /// The draft already holds the most files allowed.
    Full,
}

/// Links a stored blob to a draft of the organisation (recording the blob once), unless the
/// draft already holds `max_files`. The draft's row is locked first, so concurrent uploads
/// to one draft count one after another and the limit holds on both backends.
#[allow(clippy::too_many_arguments)]
pub async fn attach_file(
    tx: &mut Tx,
    org_id: Uuid,
    submission_id: Uuid,
    sha256: &str,
    size: u64,
    role: &str,
    name: &str,
    mime: &str,
    max_files: usize,
) -> Result<Attach, sqlx::Error> {
    let now = crate::db::now();
    let size = size as i64;
    let id = Uuid::now_v7();
    on_tx!(tx, c => {
        let open: Option<Uuid> = sqlx::query_scalar(
            "UPDATE submissions SET updated_at = $3 WHERE id = $1 AND org_id = $2 AND state = 'draft' RETURNING id",
        )
        .bind(submission_id)
        .bind(org_id)
        .bind(now)
        .fetch_optional(&mut *c)
        .await?;
        if open.is_none() {
            return Ok(Attach::NotDraft);
        }
        let held: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM submission_files WHERE submission_id = $1")
            .bind(submission_id)
            .fetch_one(&mut *c)
            .await?;
        if held >= max_files as i64 {
            return Ok(Attach::Full);
        }
        sqlx::query("INSERT INTO blobs (sha256, size, created_at) VALUES ($1, $2, $3) ON CONFLICT (sha256) DO NOTHING")
            .bind(sha256)
            .bind(size)
            .bind(now)
            .execute(&mut *c)
            .await?;
        sqlx::query(
            "INSERT INTO submission_files (id, submission_id, org_id, sha256, role, name, mime, size, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(id)
        .bind(submission_id)
        .bind(org_id)
        .bind(sha256)
        .bind(role)
        .bind(name)
        .bind(mime)
        .bind(size)
        .bind(now)
        .execute(&mut *c)
        .await?;
        Ok(Attach::Attached)
    })
}

/// The files of a submission within the scope.
pub async fn files(
    db: &Db,
    scope: Scope,
    submission_id: Uuid,
) -> Result<Vec<FileRow>, sqlx::Error> {
    on_db!(db, p => sqlx::query_as::<_, FileRow>(
        "SELECT id, submission_id, org_id, sha256, role, name, mime, size FROM submission_files \
         WHERE submission_id = $1 AND ($2 IS NULL OR org_id = $2) ORDER BY created_at",
    )
    .bind(submission_id)
    .bind(scope.org_filter())
    .fetch_all(p)
    .await)
}

/// One file within the scope.
pub async fn file(db: &Db, scope: Scope, id: Uuid) -> Result<Option<FileRow>, sqlx::Error> {
    on_db!(db, p => sqlx::query_as::<_, FileRow>(
        "SELECT id, submission_id, org_id, sha256, role, name, mime, size FROM submission_files \
         WHERE id = $1 AND ($2 IS NULL OR org_id = $2)",
    )
    .bind(id)
    .bind(scope.org_filter())
    .fetch_optional(p)
    .await)
}

/// Removes a file from a draft of the organisation (the blob stays until the sweep).
pub async fn detach_file(tx: &mut Tx, org_id: Uuid, id: Uuid) -> Result<bool, sqlx::Error> {
    on_tx!(tx, c => sqlx::query(
        "DELETE FROM submission_files WHERE id = $1 AND org_id = $2 \
         AND EXISTS (SELECT 1 FROM submissions s WHERE s.id = submission_files.submission_id AND s.state = 'draft')",
    )
    .bind(id)
    .bind(org_id)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected() == 1))
}

//! Submissions: reports to the Center. A draft is edited freely; submitting seals it — a
//! receipt number from a gap-free per-year counter and a snapshot (data, each file's SHA-256,
//! catalogue revision, submitter, time) that the database itself refuses to change.

use chrono::{DateTime, Datelike, FixedOffset, Utc};
use uuid::Uuid;

use super::{Db, Tx, on_db, on_tx};
use crate::domain::{Scope, ScopeKind};

mod files;
pub use files::*;

/// A new submission.
pub struct NewSubmission<'a> {
    pub org_id: Uuid,
    pub kind: &'a str,
    pub scope_kind: ScopeKind,
    pub location_id: Option<Uuid>,
    pub data: serde_json::Value,
    pub catalogue_revision: i64,
    pub submitted_by: Uuid,
}

const INSERT_DRAFT: &str = "INSERT INTO submissions (id, org_id, kind, scope_kind, location_id, state, version, data, \
     catalogue_revision, submitted_by, submitted_at, created_at, updated_at, series_id) \
     VALUES ($1, $2, $3, $4, $5, 'draft', 1, $6, $7, NULL, NULL, $8, $8, $1)";

/// Inserts a draft with `tail` after the statement (a conflict clause and `RETURNING id`).
async fn insert_draft(
    tx: &mut Tx,
    s: &NewSubmission<'_>,
    id: Uuid,
    tail: &str,
) -> Result<Option<Uuid>, sqlx::Error> {
    let sql = format!("{INSERT_DRAFT} {tail}");
    let now = super::now();
    on_tx!(tx, c => sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .bind(s.org_id)
        .bind(s.kind)
        .bind(s.scope_kind.as_str())
        .bind(s.location_id)
        .bind(s.data.to_string())
        .bind(s.catalogue_revision)
        .bind(now)
        .fetch_optional(&mut *c)
        .await)
}

/// Creates a draft; answers its id. Fails with a unique violation when the organisation
/// already has an open draft of that kind and place.
pub async fn create_draft(tx: &mut Tx, s: &NewSubmission<'_>) -> Result<Uuid, sqlx::Error> {
    insert_draft(tx, s, Uuid::now_v7(), "RETURNING id")
        .await?
        .ok_or(sqlx::Error::RowNotFound)
}

/// What [`open_draft`] came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Opened {
    /// This call created the draft; `renewed_from` is the accepted report it starts from.
    Created {
        id: Uuid,
        renewed_from: Option<Uuid>,
    },
    /// A draft of that kind and place was open already.
    Open(Uuid),
}

impl Opened {
    /// The draft's id.
    pub fn id(self) -> Uuid {
        match self {
            Opened::Created { id, .. } | Opened::Open(id) => id,
        }
    }
}

/// The open draft of a kind and place, created when there is none: one atomic "get or
/// create" on both backends. The unique index `submissions_one_draft` decides a race: the
/// loser's insert does nothing (on PostgreSQL after waiting for the winner to commit) and it
/// reads the winner's draft. `None` only when that draft was sealed in between.
///
/// With `renew`, a created draft starts from the place's last accepted report, chosen in the
/// same statement: its data, and its files as new links to the same stored blobs (removing a
/// file from the draft removes only the draft's link).
pub async fn open_draft(
    tx: &mut Tx,
    s: &NewSubmission<'_>,
    renew: bool,
) -> Result<Option<Opened>, sqlx::Error> {
    let opened = insert_or_find_draft(tx, s, renew).await?;
    if let Some(Opened::Created {
        id,
        renewed_from: Some(from),
    }) = opened
    {
        copy_files(tx, s.org_id, from, id).await?;
    }
    Ok(opened)
}

/// [`open_draft`]'s one statement (and, when the insert did nothing, the read of the draft
/// that won).
async fn insert_or_find_draft(
    tx: &mut Tx,
    s: &NewSubmission<'_>,
    renew: bool,
) -> Result<Option<Opened>, sqlx::Error> {
    let id = Uuid::now_v7();
    let now = super::now();
    on_tx!(tx, c => {
        let created: Option<(Uuid, Option<Uuid>)> = sqlx::query_as(
            "INSERT INTO submissions (id, org_id, kind, scope_kind, location_id, state, version, data, \
             catalogue_revision, submitted_by, submitted_at, created_at, updated_at, series_id, renewed_from) \
             SELECT $1, $2, $3, $4, $5, 'draft', 1, COALESCE(a.data, $6), $7, NULL, NULL, $8, $8, $1, a.id \
             FROM (SELECT 1 AS one) x LEFT JOIN (SELECT id, data FROM submissions WHERE org_id = $2 AND kind = $3 \
              AND state = 'accepted' AND (location_id = $5 OR ($5 IS NULL AND location_id IS NULL)) AND $9 \
              ORDER BY submitted_at DESC, id DESC LIMIT 1) a ON 1 = 1 \
             WHERE 1 = 1 ON CONFLICT DO NOTHING RETURNING id, renewed_from",
        )
        .bind(id)
        .bind(s.org_id)
        .bind(s.kind)
        .bind(s.scope_kind.as_str())
        .bind(s.location_id)
        .bind(s.data.to_string())
        .bind(s.catalogue_revision)
        .bind(now)
        .bind(renew)
        .fetch_optional(&mut *c)
        .await?;
        if let Some((id, renewed_from)) = created {
            return Ok(Some(Opened::Created { id, renewed_from }));
        }
        let open: Option<Uuid> = sqlx::query_scalar(
            "SELECT id FROM submissions WHERE org_id = $1 AND kind = $2 AND state = 'draft' \
             AND (location_id = $3 OR ($3 IS NULL AND location_id IS NULL))",
        )
        .bind(s.org_id)
        .bind(s.kind)
        .bind(s.location_id)
        .fetch_optional(&mut *c)
        .await?;
        Ok(open.map(Opened::Open))
    })
}

/// Links the files of submission `from` to submission `to` of the organisation (a new
/// version, a renewal): new rows naming the same stored blobs, so removing one from `to`
/// never touches `from`'s.
pub async fn copy_files(
    tx: &mut Tx,
    org_id: Uuid,
    from: Uuid,
    to: Uuid,
) -> Result<(), sqlx::Error> {
    let now = super::now();
    on_tx!(tx, c => {
        let files: Vec<(String, String, String, String, i64)> = sqlx::query_as(
            "SELECT sha256, role, name, mime, size FROM submission_files WHERE submission_id = $1 AND org_id = $2 \
             ORDER BY created_at, id",
        )
        .bind(from)
        .bind(org_id)
        .fetch_all(&mut *c)
        .await?;
        for (sha, role, name, mime, size) in files {
            sqlx::query(
                "INSERT INTO submission_files (id, submission_id, org_id, sha256, role, name, mime, size, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(Uuid::now_v7())
            .bind(to)
            .bind(org_id)
            .bind(sha)
            .bind(role)
            .bind(name)
            .bind(mime)
            .bind(size)
            .bind(now)
            .execute(&mut *c)
            .await?;
        }
        Ok(())
    })
}

/// Creates and submits in one step (forms without a draft stage), as `id` when given (the
/// key of the 確認 page it was sent from); answers id and receipt number. `None` (nothing
/// done) while a draft of that kind and place is open (the revision of a returned one:
/// `submissions_one_draft` decides, no read before the insert) or when a submission with
/// that id exists already (see [`sealed_as`]).
pub async fn insert_submitted(
    tx: &mut Tx,
    s: &NewSubmission<'_>,
    id: Option<Uuid>,
) -> Result<Option<(Uuid, String)>, sqlx::Error> {
    let id = id.unwrap_or_else(Uuid::now_v7);
    let Some(id) = insert_draft(tx, s, id, "ON CONFLICT DO NOTHING RETURNING id").await? else {
        return Ok(None);
    };
    let receipt = submit(tx, s.org_id, id, s.submitted_by, s.catalogue_revision)
        .await?
        .ok_or(sqlx::Error::RowNotFound)?;
    Ok(Some((id, receipt.receipt_no)))
}

/// Whether `id` is a sealed submission of the same organisation, kind and place as `s` (read
/// inside `tx`, which sees the commit of a concurrent insert that stopped
/// [`insert_submitted`]): the same form sealed already, not another form that took the key.
pub async fn sealed_as(tx: &mut Tx, s: &NewSubmission<'_>, id: Uuid) -> Result<bool, sqlx::Error> {
    let n: i64 = on_tx!(tx, c => sqlx::query_scalar(
        "SELECT count(*) FROM submissions WHERE id = $1 AND org_id = $2 AND kind = $3 \
         AND (location_id = $4 OR ($4 IS NULL AND location_id IS NULL)) AND state <> 'draft'",
    )
    .bind(id)
    .bind(s.org_id)
    .bind(s.kind)
    .bind(s.location_id)
    .fetch_one(&mut *c)
    .await)?;
    Ok(n > 0)
}

/// A stored submission.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SubmissionRow {
    pub id: Uuid,
    pub org_id: Uuid,
    pub kind: String,
    pub scope_kind: String,
    pub location_id: Option<Uuid>,
    pub state: String,
    pub version: i64,
    pub data: String,
    pub catalogue_revision: i64,
    pub submitted_by: Option<Uuid>,
    pub submitted_at: Option<DateTime<Utc>>,
    pub receipt_no: Option<String>,
    pub snapshot: Option<String>,
}

const COLS: &str = "id, org_id, kind, scope_kind, location_id, state, version, data, catalogue_revision, submitted_by, \
                    submitted_at, receipt_no, snapshot";

/// One submission within the scope.
pub async fn get(db: &Db, scope: Scope, id: Uuid) -> Result<Option<SubmissionRow>, sqlx::Error> {
    let sql =
        format!("SELECT {COLS} FROM submissions WHERE id = $1 AND ($2 IS NULL OR org_id = $2)");
    on_db!(db, p => sqlx::query_as::<_, SubmissionRow>(sqlx::AssertSqlSafe(sql)).bind(id).bind(scope.org_filter()).fetch_optional(p).await)
}

/// The open draft of a kind (and location) of an organisation, if any.
pub async fn draft(
    db: &Db,
    org_id: Uuid,
    kind: &str,
    location_id: Option<Uuid>,
) -> Result<Option<SubmissionRow>, sqlx::Error> {
    let sql = format!(
        "SELECT {COLS} FROM submissions WHERE org_id = $1 AND kind = $2 AND state = 'draft' \
         AND (location_id = $3 OR ($3 IS NULL AND location_id IS NULL)) ORDER BY created_at DESC LIMIT 1"
    );
    on_db!(db, p => sqlx::query_as::<_, SubmissionRow>(sqlx::AssertSqlSafe(sql))
        .bind(org_id)
        .bind(kind)
        .bind(location_id)
        .fetch_optional(p)
        .await)
}

/// Replaces a draft's data; false when it is not (or no longer) a draft of the organisation.
pub async fn save_draft(
    tx: &mut Tx,
    org_id: Uuid,
    id: Uuid,
    data: &serde_json::Value,
) -> Result<bool, sqlx::Error> {
    on_tx!(tx, c => sqlx::query("UPDATE submissions SET data = $3, updated_at = $4 WHERE id = $1 AND org_id = $2 AND state = 'draft'")
        .bind(id)
        .bind(org_id)
        .bind(data.to_string())
        .bind(super::now())
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected() == 1))
}

/// Locks a draft of the organisation for sealing and answers its data and files (`None`
/// when it is not, or no longer, a draft): what is read here is what the seal in the same
/// transaction takes.
pub async fn lock_draft(
    tx: &mut Tx,
    org_id: Uuid,
    id: Uuid,
) -> Result<Option<(String, Vec<FileRow>)>, sqlx::Error> {
    on_tx!(tx, c => {
        let data: Option<String> = sqlx::query_scalar(
            "UPDATE submissions SET updated_at = $3 WHERE id = $1 AND org_id = $2 AND state = 'draft' RETURNING data",
        )
        .bind(id)
        .bind(org_id)
        .bind(super::now())
        .fetch_optional(&mut *c)
        .await?;
        let Some(data) = data else { return Ok(None) };
        let files: Vec<FileRow> = sqlx::query_as(
            "SELECT id, submission_id, org_id, sha256, role, name, mime, size FROM submission_files \
             WHERE submission_id = $1 ORDER BY created_at, id",
        )
        .bind(id)
        .fetch_all(&mut *c)
        .await?;
        Ok(Some((data, files)))
    })
}

/// Whether any row refers to a blob (for the sweep).
pub async fn blob_referenced(db: &Db, sha256: &str) -> Result<bool, sqlx::Error> {
    let n: i64 = on_db!(db, p => sqlx::query_scalar(
        "SELECT (SELECT COUNT(*) FROM submission_files WHERE sha256 = $1) + (SELECT COUNT(*) FROM instruction_files WHERE sha256 = $1)",
    )
        .bind(sha256)
        .fetch_one(p)
        .await)?;
    Ok(n > 0)
}

/// The receipt of a sealed submission.
#[derive(Debug, Clone)]
pub struct Receipt {
    pub receipt_no: String,
    pub submitted_at: DateTime<Utc>,
    /// It answered a request after the request's due date (期限後).
    pub late: bool,
    /// The reviewer it went to: a new version keeps the reviewer of the version it revises
    /// (while they still review).
    pub assignee: Option<Uuid>,
    /// The content as sealed (JSON).
    pub data: String,
    /// Who at the Center asked for it, when it answered a request.
    pub requested_by: Option<Uuid>,
}

/// Seals a draft of the organisation: next receipt number of the year (JST), snapshot, state
/// `submitted`. `None` when it is no longer a draft (someone submitted it first).
pub async fn submit(
    tx: &mut Tx,
    org_id: Uuid,
    id: Uuid,
    by: Uuid,
    catalogue_revision: i64,
) -> Result<Option<Receipt>, sqlx::Error> {
    let now = super::now();
    let year = FixedOffset::east_opt(9 * 3600)
        .map(|jst| now.with_timezone(&jst).year())
        .unwrap_or(now.year());
    on_tx!(tx, c => {
        // Lock the draft first: a concurrent submit of the same draft waits here, then finds it sealed.
        let row: Option<(String, String, String, String, Option<Uuid>, i64)> = sqlx::query_as(
            "UPDATE submissions SET updated_at = $3 WHERE id = $1 AND org_id = $2 AND state = 'draft' \
             RETURNING kind, data, scope_kind, state, location_id, version",
        )
        .bind(id)
        .bind(org_id)
        .bind(now)
        .fetch_optional(&mut *c)
        .await?;
        let Some((kind, data, scope_kind, _, location_id, version)) = row else { return Ok(None) };
        let seq: i64 = sqlx::query_scalar(
            "INSERT INTO receipt_counters (year, last) VALUES ($1, 1) \
             ON CONFLICT (year) DO UPDATE SET last = receipt_counters.last + 1 RETURNING last",
        )
        .bind(year)
        .fetch_one(&mut *c)
        .await?;
        let receipt_no = format!("SR-{year}-{seq:06}");
        let files: Vec<FileRow> = sqlx::query_as(
            "SELECT id, submission_id, org_id, sha256, role, name, mime, size FROM submission_files WHERE submission_id = $1 ORDER BY created_at",
        )
        .bind(id)
        .fetch_all(&mut *c)
        .await?;
        let (email, name): (String, String) = sqlx::query_as("SELECT email, display_name FROM users WHERE id = $1")
            .bind(by)
            .fetch_one(&mut *c)
            .await?;
        // The organisation as named when it sealed (a receipt keeps that name after a rename).
        let (org_name, user_code): (String, String) = sqlx::query_as("SELECT name, user_code FROM organisations WHERE id = $1")
            .bind(org_id)
            .fetch_one(&mut *c)
            .await?;
        let snapshot = serde_json::json!({
            "receipt_no": receipt_no,
            "org": { "name": org_name, "user_code": user_code },
            "kind": kind,
            "scope_kind": scope_kind,
            "location_id": location_id,
            "version": version,
            "data": serde_json::from_str::<serde_json::Value>(&data).unwrap_or(serde_json::Value::Null),
            "files": files.iter().map(|f| serde_json::json!({ "name": f.name, "role": f.role, "sha256": f.sha256, "size": f.size, "mime": f.mime })).collect::<Vec<_>>(),
            "catalogue_revision": catalogue_revision,
            "submitter": { "id": by, "email": email, "name": name },
            "submitted_at": now.to_rfc3339(),
        });
        // A report the Center asked for answers the open request due first (item 5 or 6).
        let answered: Option<(bool, Uuid)> = sqlx::query_as(
            "UPDATE requests SET state = 'answered', submission_id = $4, answered_at = $5, answered_late = (due_date < $6) \
             WHERE id = (SELECT id FROM requests WHERE org_id = $1 AND item_key = $2 AND state = 'open' \
              AND (location_id IS NULL OR location_id = $3) ORDER BY due_date, id LIMIT 1) RETURNING answered_late, issued_by",
        )
        .bind(org_id)
        .bind(&kind)
        .bind(location_id)
        .bind(id)
        .bind(now)
        // Sealed after the day the request closed (Japan time): late (期限後).
        .bind((now + chrono::Duration::hours(9)).date_naive())
        .fetch_optional(&mut *c)
        .await?;
        let late = answered.is_some_and(|(late, _)| late);
        let requested_by = answered.map(|(_, by)| by);
        let flags = if late { crate::domain::flags::LATE } else { "" };
        // A revision goes to whoever reviewed the version it revises (its assignee, else who
        // returned it without taking it first), if they still review.
        let assignee: Option<Uuid> = sqlx::query_scalar(
            "UPDATE submissions SET state = 'submitted', receipt_no = $2, snapshot = $3, submitted_by = $4, submitted_at = $5, \
             catalogue_revision = $6, flags = $7, assigned_to = (SELECT u.id FROM submissions p \
              LEFT JOIN decisions d ON d.submission_id = p.id \
              JOIN users u ON u.id = COALESCE(p.assigned_to, d.reviewer_id) WHERE p.id = submissions.revised_from \
              AND u.status = 'active' AND u.role IN ('reviewer', 'center_admin')) \
             WHERE id = $1 RETURNING assigned_to",
        )
        .bind(id)
        .bind(&receipt_no)
        .bind(snapshot.to_string())
        .bind(by)
        .bind(now)
        .bind(catalogue_revision)
        .bind(flags)
        .fetch_one(&mut *c)
        .await?;
        Ok(Some(Receipt { receipt_no, submitted_at: now, late, assignee, data, requested_by }))
    })
}

/// Replaces the queue flags of a submission (see `domain::flags`).
pub async fn set_flags(tx: &mut Tx, id: Uuid, flags: &str) -> Result<(), sqlx::Error> {
    on_tx!(tx, c => sqlx::query("UPDATE submissions SET flags = $2 WHERE id = $1")
        .bind(id)
        .bind(flags)
        .execute(&mut *c)
        .await
        .map(|_| ()))?;
    Ok(())
}

/// The name of the office or gateway site a submission is about (`None`: the whole
/// organisation), read in the transaction that seals it.
pub async fn place_name(tx: &mut Tx, id: Uuid) -> Result<Option<String>, sqlx::Error> {
    on_tx!(tx, c => sqlx::query_scalar(
        "SELECT l.name FROM submissions s JOIN locations l ON l.id = s.location_id WHERE s.id = $1",
    )
    .bind(id)
    .fetch_optional(&mut *c)
    .await)
}

/// Adds one flag to a submission's (nothing written when it has it already).
pub async fn add_flag(tx: &mut Tx, id: Uuid, flag: &str) -> Result<(), sqlx::Error> {
    on_tx!(tx, c => sqlx::query(
        "UPDATE submissions SET flags = CASE WHEN flags = '' THEN $2 ELSE flags || ',' || $2 END \
         WHERE id = $1 AND (',' || flags || ',') NOT LIKE ('%,' || $2 || ',%')",
    )
    .bind(id)
    .bind(flag)
    .execute(&mut *c)
    .await
    .map(|_| ()))?;
    Ok(())
}

/// Takes one flag off a submission's (nothing written when it does not have it; a flag
/// added meanwhile is kept: the write only replaces the list it read).
pub async fn drop_flag(tx: &mut Tx, id: Uuid, flag: &str) -> Result<(), sqlx::Error> {
    let read: Option<String> = on_tx!(tx, c => sqlx::query_scalar("SELECT flags FROM submissions WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *c)
        .await)?;
    let Some(read) = read else { return Ok(()) };
    let kept: Vec<&str> = crate::domain::flags::parse(&read)
        .into_iter()
        .filter(|f| *f != flag)
        .collect();
    let now = crate::domain::flags::join(&kept);
    if now == read {
        return Ok(());
    }
    on_tx!(tx, c => sqlx::query("UPDATE submissions SET flags = $2 WHERE id = $1 AND flags = $3")
        .bind(id)
        .bind(&now)
        .bind(&read)
        .execute(&mut *c)
        .await
        .map(|_| ()))
}

/// The latest submission of each (kind, location) of an organisation.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LatestRow {
    pub id: Uuid,
    pub org_id: Uuid,
    pub kind: String,
    pub location_id: Option<Uuid>,
    pub state: String,
    pub receipt_no: Option<String>,
    pub submitted_at: Option<DateTime<Utc>>,
}

/// One organisation's submissions (`None`: every organisation's), newest first.
pub async fn latest(db: &Db, org_id: Option<Uuid>) -> Result<Vec<LatestRow>, sqlx::Error> {
    on_db!(db, p => sqlx::query_as::<_, LatestRow>(
        "SELECT id, org_id, kind, location_id, \
         CASE WHEN state = 'submitted' AND assigned_to IS NOT NULL THEN 'under_review' ELSE state END AS state, receipt_no, submitted_at \
         FROM submissions WHERE ($1 IS NULL OR org_id = $1) ORDER BY created_at DESC",
    )
    .bind(org_id)
    .fetch_all(p)
    .await)
}

/// The data of one submission of the organisation.
pub async fn data(
    db: &Db,
    org_id: Uuid,
    id: Uuid,
) -> Result<Option<serde_json::Value>, sqlx::Error> {
    let raw: Option<String> = on_db!(db, p => sqlx::query_scalar("SELECT data FROM submissions WHERE id = $1 AND org_id = $2")
        .bind(id)
        .bind(org_id)
        .fetch_optional(p)
        .await)?;
    Ok(raw.and_then(|r| serde_json::from_str(&r).ok()))
}

/// The sealed submission with this receipt number (the Center's look-up).
pub async fn by_receipt(db: &Db, receipt_no: &str) -> Result<Option<Uuid>, sqlx::Error> {
    on_db!(db, p => sqlx::query_scalar("SELECT id FROM submissions WHERE receipt_no = $1")
        .bind(receipt_no)
        .fetch_optional(p)
        .await)
}

/// A submission as an organisation's list shows it.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct SummaryRow {
    pub id: Uuid,
    pub kind: String,
    pub location_id: Option<Uuid>,
    /// As the organisation sees it: a submitted one a reviewer took reads `under_review`.
    pub state: String,
    pub version: i64,
    pub receipt_no: Option<String>,
    pub submitted_at: Option<DateTime<Utc>>,
}

/// The submissions of an organisation within the scope, newest first; at most `limit`.
pub async fn list(
    db: &Db,
    scope: Scope,
    org_id: Uuid,
    limit: i64,
) -> Result<Vec<SummaryRow>, sqlx::Error> {
    on_db!(db, p => sqlx::query_as::<_, SummaryRow>(
        "SELECT id, kind, location_id, \
         CASE WHEN state = 'submitted' AND assigned_to IS NOT NULL THEN 'under_review' ELSE state END AS state, \
         version, receipt_no, submitted_at \
         FROM submissions WHERE org_id = $1 AND ($2 IS NULL OR org_id = $2) ORDER BY created_at DESC, id DESC LIMIT $3",
    )
    .bind(org_id)
    .bind(scope.org_filter())
    .bind(limit)
    .fetch_all(p)
    .await)
}

/// Takes hold of an open draft of the organisation for the rest of the transaction (a write
/// to its row: a seal of it waits, then finds no draft); `false` when it is not a draft of
/// the organisation (sealed, discarded or another's).
pub async fn hold_draft(tx: &mut Tx, org_id: Uuid, id: Uuid) -> Result<bool, sqlx::Error> {
    on_tx!(tx, c => sqlx::query(
        "UPDATE submissions SET state = 'draft' WHERE id = $1 AND org_id = $2 AND state = 'draft'",
    )
    .bind(id)
    .bind(org_id)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected() == 1))
}

//! The Center's review: decisions, versions of a submission (the queue is in `queue`).

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{Db, Tx, on_db, on_tx};
use crate::domain::Scope;

/// What waits for the Center's decision, as a reviewer's home page shows it.
#[derive(Debug, Clone, Default)]
pub struct Waiting {
    pub total: i64,
    pub mine: i64,
    pub unassigned: i64,
    /// When the oldest waiting submission came in.
    pub oldest: Option<DateTime<Utc>>,
}

/// Counts the waiting submissions: all, taken by `me`, taken by nobody; and the oldest.
pub async fn waiting(db: &Db, me: Uuid) -> Result<Waiting, sqlx::Error> {
    let (total, mine, unassigned): (i64, i64, i64) = on_db!(db, p => sqlx::query_as(
        "SELECT COUNT(*), COALESCE(SUM(CASE WHEN assigned_to = $1 THEN 1 ELSE 0 END), 0), \
         COALESCE(SUM(CASE WHEN assigned_to IS NULL THEN 1 ELSE 0 END), 0) \
         FROM submissions WHERE state = 'submitted' AND receipt_no IS NOT NULL",
    )
    .bind(me)
    .fetch_one(p)
    .await)?;
    let oldest = on_db!(db, p => sqlx::query_scalar(
        "SELECT submitted_at FROM submissions WHERE state = 'submitted' AND receipt_no IS NOT NULL \
         ORDER BY submitted_at LIMIT 1",
    )
    .fetch_optional(p)
    .await)?;
    Ok(Waiting {
        total,
        mine,
        unassigned,
        oldest,
    })
}

/// A waiting submission to open next.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct NextRow {
    pub id: Uuid,
    pub receipt_no: String,
    pub org_name: String,
    pub kind: String,
}

/// The oldest waiting submission other than `except` that `me` has taken; else the oldest
/// nobody has taken of the same organisation, item and place as `except` (another report of
/// the same thing is best read while it is in mind); else the oldest nobody has taken.
pub async fn next_waiting(db: &Db, me: Uuid, except: Uuid) -> Result<Option<NextRow>, sqlx::Error> {
    on_db!(db, p => sqlx::query_as::<_, NextRow>(
        "SELECT s.id, s.receipt_no, o.name AS org_name, s.kind FROM submissions s JOIN organisations o ON o.id = s.org_id \
         LEFT JOIN submissions e ON e.id = $2 \
         WHERE s.state = 'submitted' AND s.receipt_no IS NOT NULL AND s.id <> $2 \
         AND (s.assigned_to IS NULL OR s.assigned_to = $1) \
         ORDER BY CASE WHEN s.assigned_to = $1 THEN 0 \
          WHEN s.org_id = e.org_id AND s.kind = e.kind AND s.kind <> 'gateway_logs' \
           AND (s.location_id = e.location_id OR (s.location_id IS NULL AND e.location_id IS NULL)) THEN 1 \
          ELSE 2 END, s.submitted_at, s.id LIMIT 1",
    )
    .bind(me)
    .bind(except)
    .fetch_optional(p)
    .await)
}

/// Takes a waiting submission for review (or, with `None`, puts it back); `only_from`, when
/// set, must be the current assignee. False when it is no longer waiting.
pub async fn assign(
    tx: &mut Tx,
    id: Uuid,
    to: Option<Uuid>,
    only_from: Option<Uuid>,
) -> Result<Option<Uuid>, sqlx::Error> {
    on_tx!(tx, c => sqlx::query_scalar(
        "UPDATE submissions SET assigned_to = $2 WHERE id = $1 AND state = 'submitted' AND ($3 IS NULL OR assigned_to = $3) RETURNING org_id",
    )
    .bind(id)
    .bind(to)
    .bind(only_from)
    .fetch_optional(&mut *c)
    .await)
}

/// Gives a waiting submission to `to`, if `to` is an active reviewer or Center admin and the
/// submission is nobody's (or, with `reassign`, someone else's); answers its organisation, or
/// `None` when nothing changed.
pub async fn assign_waiting(
    tx: &mut Tx,
    id: Uuid,
    to: Uuid,
    reassign: bool,
) -> Result<Option<Uuid>, sqlx::Error> {
    on_tx!(tx, c => sqlx::query_scalar(
        "UPDATE submissions SET assigned_to = $2 WHERE id = $1 AND state = 'submitted' AND receipt_no IS NOT NULL \
         AND (assigned_to IS NULL OR ($3 AND assigned_to <> $2)) \
         AND EXISTS (SELECT 1 FROM users u WHERE u.id = $2 AND u.status = 'active' AND u.role IN ('reviewer', 'center_admin')) \
         RETURNING org_id",
    )
    .bind(id)
    .bind(to)
    .bind(reassign)
    .fetch_optional(&mut *c)
    .await)
}

/// The active reviewers and Center admins, by name: (id, name).
pub async fn reviewers(db: &Db) -> Result<Vec<(Uuid, String)>, sqlx::Error> {
    on_db!(db, p => sqlx::query_as(
        "SELECT id, display_name FROM users WHERE status = 'active' AND role IN ('reviewer', 'center_admin') \
         ORDER BY display_name, id",
    )
    .fetch_all(p)
    .await)
}

/// Who has taken a submission.
pub async fn assignee(db: &Db, id: Uuid) -> Result<Option<(Uuid, String)>, sqlx::Error> {
    on_db!(db, p => sqlx::query_as(
        "SELECT u.id, u.display_name FROM submissions s JOIN users u ON u.id = s.assigned_to WHERE s.id = $1",
    )
    .bind(id)
    .fetch_optional(p)
    .await)
}

/// A decision on one version.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DecisionRow {
    pub decision: String,
    pub reason: String,
    pub reviewer: String,
    pub decided_at: DateTime<Utc>,
}

/// The decision on a submission, if any.
pub async fn decision(
    db: &Db,
    scope: Scope,
    submission_id: Uuid,
) -> Result<Option<DecisionRow>, sqlx::Error> {
    on_db!(db, p => sqlx::query_as::<_, DecisionRow>(
        "SELECT d.decision, d.reason, u.display_name AS reviewer, d.decided_at FROM decisions d JOIN users u ON u.id = d.reviewer_id \
         WHERE d.submission_id = $1 AND ($2 IS NULL OR d.org_id = $2)",
    )
    .bind(submission_id)
    .bind(scope.org_filter())
    .fetch_optional(p)
    .await)
}

/// Applies a decision if the submission still waits for one; false means someone decided
/// first (or it was never submitted). The unique index makes a second decision impossible.
pub async fn decide(
    tx: &mut Tx,
    id: Uuid,
    decision: &str,
    reason: &str,
    reviewer: Uuid,
) -> Result<Option<Uuid>, sqlx::Error> {
    let now = super::now();
    on_tx!(tx, c => {
        let org: Option<Uuid> = sqlx::query_scalar(
            "UPDATE submissions SET state = $2, updated_at = $3 WHERE id = $1 AND state IN ('submitted', 'under_review') RETURNING org_id",
        )
        .bind(id)
        .bind(decision)
        .bind(now)
        .fetch_optional(&mut *c)
        .await?;
        let Some(org) = org else { return Ok(None) };
        sqlx::query(
            "INSERT INTO decisions (id, submission_id, org_id, decision, reason, reviewer_id, decided_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(Uuid::now_v7())
        .bind(id)
        .bind(org)
        .bind(decision)
        .bind(reason)
        .bind(reviewer)
        .bind(now)
        .execute(&mut *c)
        .await?;
        Ok(Some(org))
    })
}

/// One version of a series.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct VersionRow {
    pub id: Uuid,
    pub version: i64,
    pub state: String,
    pub receipt_no: Option<String>,
    pub submitted_at: Option<DateTime<Utc>>,
    /// A reviewer has it.
    pub assigned: bool,
}

impl VersionRow {
    /// Its state as the organisation reads it: a submitted one a reviewer has is `under_review`.
    pub fn org_state(&self) -> &str {
        if self.state == "submitted" && self.assigned {
            "under_review"
        } else {
            &self.state
        }
    }
}

/// Every version of a series within the scope, first version first.
pub async fn versions(
    db: &Db,
    scope: Scope,
    series_id: Uuid,
) -> Result<Vec<VersionRow>, sqlx::Error> {
    on_db!(db, p => sqlx::query_as(
        "SELECT id, version, state, receipt_no, submitted_at, assigned_to IS NOT NULL AS assigned \
         FROM submissions WHERE series_id = $1 AND ($2 IS NULL OR org_id = $2) ORDER BY version",
    )
    .bind(series_id)
    .bind(scope.org_filter())
    .fetch_all(p)
    .await)
}

/// The newest report of the same organisation, item and place sealed after submission `id`
/// in another series (a new report, not a revision of this one), when one is: the one a
/// reviewer should read before deciding on `id`. Gateway logs answer requests one by one and
/// never replace each other. Read through `replaced_at` (kept by triggers) and the versions
/// index.
pub async fn newer_report(db: &Db, id: Uuid) -> Result<Option<VersionRow>, sqlx::Error> {
    on_db!(db, p => sqlx::query_as(
        "SELECT n.id, n.version, n.state, n.receipt_no, n.submitted_at, n.assigned_to IS NOT NULL AS assigned \
         FROM submissions s JOIN submissions n ON n.org_id = s.org_id AND n.kind = s.kind \
          AND (n.location_id = s.location_id OR (n.location_id IS NULL AND s.location_id IS NULL)) \
         WHERE s.id = $1 AND s.replaced_at IS NOT NULL AND s.kind <> 'gateway_logs' \
          AND n.state <> 'draft' AND n.submitted_at > s.submitted_at \
          AND COALESCE(n.series_id, n.id) <> COALESCE(s.series_id, s.id) \
         ORDER BY n.submitted_at DESC, n.id DESC LIMIT 1",
    )
    .bind(id)
    .fetch_optional(p)
    .await)
}

/// A report of the organisation's item `kind` at `location` (`None`: the organisation) that
/// waits for the Center's decision (submitted, not yet accepted or returned), the newest when
/// several: the one a new filing of it would stand beside. Gateway logs answer requests one by
/// one and never wait on each other. `except`: the draft being confirmed (sealed meanwhile by
/// a parallel click, it is not a report beside itself).
pub async fn waiting_report(
    db: &Db,
    org_id: Uuid,
    kind: &str,
    location: Option<Uuid>,
    except: Option<Uuid>,
) -> Result<Option<VersionRow>, sqlx::Error> {
    if kind == "gateway_logs" {
        return Ok(None);
    }
    on_db!(db, p => sqlx::query_as(
        "SELECT id, version, state, receipt_no, submitted_at, assigned_to IS NOT NULL AS assigned \
         FROM submissions WHERE org_id = $1 AND kind = $2 \
          AND (location_id = $3 OR (location_id IS NULL AND $3 IS NULL)) \
          AND state = 'submitted' AND receipt_no IS NOT NULL AND ($4 IS NULL OR id <> $4) \
         ORDER BY submitted_at DESC, id DESC LIMIT 1",
    )
    .bind(org_id)
    .bind(kind)
    .bind(location)
    .bind(except)
    .fetch_optional(p)
    .await)
}

/// The series of a submission.
pub async fn series_of(db: &Db, scope: Scope, id: Uuid) -> Result<Option<Uuid>, sqlx::Error> {
    let s: Option<Option<Uuid>> = on_db!(db, p => sqlx::query_scalar("SELECT series_id FROM submissions WHERE id = $1 AND ($2 IS NULL OR org_id = $2)")
        .bind(id)
        .bind(scope.org_filter())
        .fetch_optional(p)
        .await)?;
    Ok(s.map(|s| s.unwrap_or(id)))
}

/// The returned submission a draft of the organisation revises, if it is a revision.
pub async fn revised_from(db: &Db, org_id: Uuid, id: Uuid) -> Result<Option<Uuid>, sqlx::Error> {
    let r: Option<Option<Uuid>> = on_db!(db, p => sqlx::query_scalar(
        "SELECT revised_from FROM submissions WHERE id = $1 AND org_id = $2",
    )
    .bind(id)
    .bind(org_id)
    .fetch_optional(p)
    .await)?;
    Ok(r.flatten())
}

/// What asking to revise a returned submission came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Revised {
    /// Version N+1 was opened as this draft.
    Opened(Uuid),
    /// It had been revised already (a repeated click): this is that version.
    Already(Uuid),
    /// The organisation already has an open draft of that kind and place.
    DraftOpen(Uuid),
    /// No such returned submission of the organisation.
    NotReturned,
}

/// Opens version N+1 of a returned submission of the organisation as a draft (data and files
/// copied). Each returned submission is revised once (`submissions_revised_once`) and a place
/// has one open draft (`submissions_one_draft`): parallel requests open one version.
pub async fn revise(tx: &mut Tx, org_id: Uuid, id: Uuid) -> Result<Revised, sqlx::Error> {
    let revised = open_version(tx, org_id, id).await?;
    if let Revised::Opened(new_id) = revised {
        super::submissions::copy_files(tx, org_id, id, new_id).await?;
    }
    Ok(revised)
}

/// [`revise`]'s new version, without its files.
async fn open_version(tx: &mut Tx, org_id: Uuid, id: Uuid) -> Result<Revised, sqlx::Error> {
    let new_id = Uuid::now_v7();
    let now = super::now();
    on_tx!(tx, c => {
        let done = sqlx::query(
            "INSERT INTO submissions (id, org_id, kind, scope_kind, location_id, state, version, data, catalogue_revision, \
             created_at, updated_at, series_id, revised_from) \
             SELECT $3, s.org_id, s.kind, s.scope_kind, s.location_id, 'draft', s.version + 1, s.data, s.catalogue_revision, $4, $4, \
             COALESCE(s.series_id, s.id), s.id FROM submissions s WHERE s.id = $1 AND s.org_id = $2 AND s.state = 'returned' \
             AND NOT EXISTS (SELECT 1 FROM submissions n WHERE n.series_id = COALESCE(s.series_id, s.id) AND n.version > s.version) \
             ON CONFLICT DO NOTHING",
        )
        .bind(id)
        .bind(org_id)
        .bind(new_id)
        .bind(now)
        .execute(&mut *c)
        .await?
        .rows_affected();
        if done != 1 {
            let next: Option<Uuid> = sqlx::query_scalar(
                "SELECT n.id FROM submissions s JOIN submissions n ON n.series_id = COALESCE(s.series_id, s.id) AND n.version = s.version + 1 \
                 WHERE s.id = $1 AND s.org_id = $2 ORDER BY n.created_at LIMIT 1",
            )
            .bind(id)
            .bind(org_id)
            .fetch_optional(&mut *c)
            .await?;
            if let Some(next) = next {
                return Ok(Revised::Already(next));
            }
            let open: Option<Uuid> = sqlx::query_scalar(
                "SELECT d.id FROM submissions s JOIN submissions d ON d.org_id = s.org_id AND d.kind = s.kind AND d.state = 'draft' \
                 AND (d.location_id = s.location_id OR (d.location_id IS NULL AND s.location_id IS NULL)) \
                 WHERE s.id = $1 AND s.org_id = $2 AND s.state = 'returned'",
            )
            .bind(id)
            .bind(org_id)
            .fetch_optional(&mut *c)
            .await?;
            return Ok(open.map_or(Revised::NotReturned, Revised::DraftOpen));
        }
        Ok(Revised::Opened(new_id))
    })
}

/// A comment on a submission.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CommentRow {
    pub author: String,
    pub author_role: String,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

/// The thread of a submission within the scope, oldest first.
pub async fn comments(
    db: &Db,
    scope: Scope,
    submission_id: Uuid,
) -> Result<Vec<CommentRow>, sqlx::Error> {
    on_db!(db, p => sqlx::query_as::<_, CommentRow>(
        "SELECT u.display_name AS author, u.role AS author_role, c.body, c.created_at FROM comments c JOIN users u ON u.id = c.author_id \
         WHERE c.submission_id = $1 AND ($2 IS NULL OR c.org_id = $2) ORDER BY c.created_at, c.id",
    )
    .bind(submission_id)
    .bind(scope.org_filter())
    .fetch_all(p)
    .await)
}

/// Adds a comment to a sealed submission within the scope; answers its organisation, or
/// `None` when there is no such submission for the caller.
pub async fn add_comment(
    tx: &mut Tx,
    scope: Scope,
    submission_id: Uuid,
    author: Uuid,
    body: &str,
) -> Result<Option<Uuid>, sqlx::Error> {
    let id = Uuid::now_v7();
    on_tx!(tx, c => sqlx::query_scalar(
        "INSERT INTO comments (id, submission_id, org_id, author_id, body, created_at) \
         SELECT $1, s.id, s.org_id, $3, $4, $5 FROM submissions s WHERE s.id = $2 AND s.receipt_no IS NOT NULL \
         AND ($6 IS NULL OR s.org_id = $6) RETURNING org_id",
    )
    .bind(id)
    .bind(submission_id)
    .bind(author)
    .bind(body)
    .bind(super::now())
    .bind(scope.org_filter())
    .fetch_optional(&mut *c)
    .await)
}

/// The organisation's reports waiting for the Center whose last comment is the Center's (a
/// question the organisation has not answered yet): (submission, receipt number), oldest
/// question first, at most 20.
pub async fn center_spoke_last(db: &Db, org_id: Uuid) -> Result<Vec<(Uuid, String)>, sqlx::Error> {
    on_db!(db, p => sqlx::query_as(
        "SELECT s.id, s.receipt_no FROM submissions s \
         JOIN comments c ON c.submission_id = s.id \
         JOIN users u ON u.id = c.author_id \
         WHERE s.org_id = $1 AND s.state = 'submitted' AND s.receipt_no IS NOT NULL AND u.org_id IS NULL \
         AND c.created_at = (SELECT MAX(c2.created_at) FROM comments c2 WHERE c2.submission_id = s.id) \
         ORDER BY c.created_at LIMIT 20",
    )
    .bind(org_id)
    .fetch_all(p)
    .await)
}

/// A sealed submission as exported.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ExportRow {
    pub receipt_no: String,
    pub org_code: String,
    pub org_name: String,
    pub kind: String,
    pub version: i64,
    pub state: String,
    pub submitted_at: DateTime<Utc>,
    pub decision: Option<String>,
    pub reason: Option<String>,
    pub reviewer: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
}

/// Every sealed submission with its decision, oldest first (at most `limit`).
pub async fn export(db: &Db, limit: i64) -> Result<Vec<ExportRow>, sqlx::Error> {
    on_db!(db, p => sqlx::query_as::<_, ExportRow>(
        "SELECT s.receipt_no, o.user_code AS org_code, o.name AS org_name, s.kind, s.version, s.state, s.submitted_at, \
         d.decision, d.reason, u.display_name AS reviewer, d.decided_at \
         FROM submissions s JOIN organisations o ON o.id = s.org_id \
         LEFT JOIN decisions d ON d.submission_id = s.id LEFT JOIN users u ON u.id = d.reviewer_id \
         WHERE s.receipt_no IS NOT NULL ORDER BY s.submitted_at, s.id LIMIT $1",
    )
    .bind(limit)
    .fetch_all(p)
    .await)
}

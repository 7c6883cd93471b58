//! The Center's follow-up: improvement instructions (改善措置の指示) with their history and
//! corrective-action files, and requests (提出依頼) for items 5 and 6.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::AssertSqlSafe;
use uuid::Uuid;

use super::{Db, Tx, on_db, on_tx};
use crate::domain::Scope;

/// A new instruction.
pub struct NewInstruction<'a> {
    pub org_id: Uuid,
    pub submission_id: Option<Uuid>,
    pub item_key: &'a str,
    pub location_id: Option<Uuid>,
    pub problem: &'a str,
    pub required_change: &'a str,
    pub due_date: NaiveDate,
    pub by: Uuid,
}

/// Issues an instruction (and its first history entry) as `key` when given (the form's key:
/// a second press of the same form meets the first), else under a new id; answers its id, or
/// `None` when an instruction has that key already (nothing written).
pub async fn issue(
    tx: &mut Tx,
    n: &NewInstruction<'_>,
    key: Option<Uuid>,
) -> Result<Option<Uuid>, sqlx::Error> {
    let id = key.unwrap_or_else(Uuid::now_v7);
    let now = super::now();
    on_tx!(tx, c => {
        let inserted = sqlx::query(
            "INSERT INTO instructions (id, org_id, submission_id, item_key, location_id, problem, required_change, due_date, state, \
             issued_by, created_at, updated_at, version) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'open', $9, $10, $10, 1) \
             ON CONFLICT (id) DO NOTHING",
        )
        .bind(id)
        .bind(n.org_id)
        .bind(n.submission_id)
        .bind(n.item_key)
        .bind(n.location_id)
        .bind(n.problem)
        .bind(n.required_change)
        .bind(n.due_date)
        .bind(n.by)
        .bind(now)
        .execute(&mut *c)
        .await?
        .rows_affected();
        if inserted == 0 {
            return Ok(None);
        }
        sqlx::query(
            "INSERT INTO instruction_events (id, instruction_id, org_id, kind, body, due_date, actor_id, created_at) \
             VALUES ($1, $2, $3, 'issued', '', $4, $5, $6)",
        )
        .bind(Uuid::now_v7())
        .bind(id)
        .bind(n.org_id)
        .bind(n.due_date)
        .bind(n.by)
        .bind(now)
        .execute(&mut *c)
        .await?;
    });
    Ok(Some(id))
}

/// An instruction as stored, with the names the pages show.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct InstructionRow {
    pub id: Uuid,
    pub org_id: Uuid,
    pub org_name: String,
    pub org_code: String,
    pub submission_id: Option<Uuid>,
    pub receipt_no: Option<String>,
    pub item_key: String,
    pub location_id: Option<Uuid>,
    pub location_name: Option<String>,
    pub problem: String,
    pub required_change: String,
    pub due_date: NaiveDate,
    pub state: String,
    pub extension_until: Option<NaiveDate>,
    pub extension_reason: Option<String>,
    pub issuer: String,
    pub created_at: DateTime<Utc>,
    pub version: i64,
}

pub(super) const INSTRUCTION_COLS: &str = "i.id, i.org_id, o.name AS org_name, o.user_code AS org_code, i.submission_id, s.receipt_no, \
     i.item_key, i.location_id, l.name AS location_name, i.problem, i.required_change, i.due_date, i.state, i.extension_until, \
     i.extension_reason, u.display_name AS issuer, i.created_at, i.version \
     FROM instructions i JOIN organisations o ON o.id = i.org_id JOIN users u ON u.id = i.issued_by \
     LEFT JOIN submissions s ON s.id = i.submission_id LEFT JOIN locations l ON l.id = i.location_id";

/// One instruction within the scope.
pub async fn instruction(
    db: &Db,
    scope: Scope,
    id: Uuid,
) -> Result<Option<InstructionRow>, sqlx::Error> {
    let sql =
        format!("SELECT {INSTRUCTION_COLS} WHERE i.id = $1 AND ($2 IS NULL OR i.org_id = $2)");
    on_db!(db, p => sqlx::query_as::<_, InstructionRow>(AssertSqlSafe(sql.clone()))
        .bind(id)
        .bind(scope.org_filter())
        .fetch_optional(p)
        .await)
}

/// Instructions of one organisation (`None`: all), not closed first, then by due date.
/// `only_unclosed` leaves the closed ones out; `submission` narrows to one submission.
pub async fn instructions(
    db: &Db,
    org: Option<Uuid>,
    only_unclosed: bool,
    submission: Option<Uuid>,
    limit: i64,
) -> Result<Vec<InstructionRow>, sqlx::Error> {
    let sql = format!(
        "SELECT {INSTRUCTION_COLS} WHERE ($1 IS NULL OR i.org_id = $1) AND ($2 = FALSE OR i.state <> 'closed') \
         AND ($3 IS NULL OR i.submission_id = $3) \
         ORDER BY CASE WHEN i.state = 'closed' THEN 1 ELSE 0 END, i.due_date, i.id LIMIT $4"
    );
    on_db!(db, p => sqlx::query_as::<_, InstructionRow>(AssertSqlSafe(sql.clone()))
        .bind(org)
        .bind(only_unclosed)
        .bind(submission)
        .bind(limit)
        .fetch_all(p)
        .await)
}

/// The instructions about a report: those issued on it, and those not yet closed on the same
/// item of the organisation (issued on an earlier version, say: the report at hand may be what
/// answers them) — for a report of the whole organisation, whatever place they name; for a
/// place's report, those on that place or on the whole organisation.
pub async fn of_report(
    db: &Db,
    submission: Uuid,
    limit: i64,
) -> Result<Vec<InstructionRow>, sqlx::Error> {
    let sql = format!(
        "SELECT {INSTRUCTION_COLS} WHERE i.submission_id = $1 OR (i.state <> 'closed' AND EXISTS ( \
         SELECT 1 FROM submissions t WHERE t.id = $1 AND t.org_id = i.org_id AND t.kind = i.item_key \
         AND (t.location_id IS NULL OR i.location_id IS NULL OR t.location_id = i.location_id))) \
         ORDER BY CASE WHEN i.state = 'closed' THEN 1 ELSE 0 END, i.due_date, i.id LIMIT $2"
    );
    on_db!(db, p => sqlx::query_as::<_, InstructionRow>(AssertSqlSafe(sql.clone()))
        .bind(submission)
        .bind(limit)
        .fetch_all(p)
        .await)
}

/// The instructions closed most recently, newest first (the Center's list).
pub async fn closed_instructions(db: &Db, limit: i64) -> Result<Vec<InstructionRow>, sqlx::Error> {
    let sql = format!(
        "SELECT {INSTRUCTION_COLS} WHERE i.state = 'closed' ORDER BY i.updated_at DESC, i.id DESC LIMIT $1"
    );
    on_db!(db, p => sqlx::query_as::<_, InstructionRow>(AssertSqlSafe(sql.clone()))
        .bind(limit)
        .fetch_all(p)
        .await)
}

/// A history entry of an instruction.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct EventRow {
    pub id: Uuid,
    pub kind: String,
    pub body: String,
    pub due_date: Option<NaiveDate>,
    pub actor: String,
    pub actor_role: String,
    pub created_at: DateTime<Utc>,
}

/// The history of an instruction within the scope, oldest first.
pub async fn events(db: &Db, scope: Scope, id: Uuid) -> Result<Vec<EventRow>, sqlx::Error> {
    on_db!(db, p => sqlx::query_as::<_, EventRow>(
        "SELECT e.id, e.kind, e.body, e.due_date, u.display_name AS actor, u.role AS actor_role, e.created_at \
         FROM instruction_events e JOIN users u ON u.id = e.actor_id \
         WHERE e.instruction_id = $1 AND ($2 IS NULL OR e.org_id = $2) ORDER BY e.created_at, e.id",
    )
    .bind(id)
    .bind(scope.org_filter())
    .fetch_all(p)
    .await)
}

/// A corrective-action file.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct InstructionFile {
    pub id: Uuid,
    pub event_id: Uuid,
    pub instruction_id: Uuid,
    pub org_id: Uuid,
    pub sha256: String,
    pub name: String,
    pub mime: String,
    pub size: i64,
}

/// The files of an instruction within the scope.
pub async fn files(db: &Db, scope: Scope, id: Uuid) -> Result<Vec<InstructionFile>, sqlx::Error> {
    on_db!(db, p => sqlx::query_as::<_, InstructionFile>(
        "SELECT id, event_id, instruction_id, org_id, sha256, name, mime, size FROM instruction_files \
         WHERE instruction_id = $1 AND ($2 IS NULL OR org_id = $2) ORDER BY created_at, id",
    )
    .bind(id)
    .bind(scope.org_filter())
    .fetch_all(p)
    .await)
}

/// One corrective-action file within the scope.
pub async fn file(db: &Db, scope: Scope, id: Uuid) -> Result<Option<InstructionFile>, sqlx::Error> {
    on_db!(db, p => sqlx::query_as::<_, InstructionFile>(
        "SELECT id, event_id, instruction_id, org_id, sha256, name, mime, size FROM instruction_files \
         WHERE id = $1 AND ($2 IS NULL OR org_id = $2)",
    )
    .bind(id)
    .bind(scope.org_filter())
    .fetch_optional(p)
    .await)
}

/// A step in an instruction's life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// The organisation reports what it did.
    Answer,
    /// The organisation asks for more time.
    AskExtension,
    /// The Center grants the extension (with the new date).
    Grant,
    /// The Center refuses the extension.
    Refuse,
    /// The Center is satisfied.
    Close,
    /// The Center is not satisfied after all (with a reason).
    Reopen,
}

impl Step {
    /// The history entry this step writes.
    pub fn event(self) -> &'static str {
        match self {
            Step::Answer => "answered",
            Step::AskExtension => "extension_requested",
            Step::Grant => "extension_granted",
            Step::Refuse => "extension_refused",
            Step::Close => "closed",
            Step::Reopen => "reopened",
        }
    }

    /// The guarded update: which states it starts from and what it changes.
    fn update(self) -> &'static str {
        match self {
            Step::Answer => {
                "state = 'answered', extension_until = NULL, extension_reason = NULL WHERE state = 'open'"
            }
            Step::AskExtension => {
                "extension_until = $5, extension_reason = $6 WHERE state = 'open' AND extension_until IS NULL"
            }
            Step::Grant => {
                "due_date = $5, extension_until = NULL, extension_reason = NULL WHERE state = 'open' AND extension_until IS NOT NULL"
            }
            Step::Refuse => {
                "extension_until = NULL, extension_reason = NULL WHERE state = 'open' AND extension_until IS NOT NULL"
            }
            Step::Close => {
                "state = 'closed', extension_until = NULL, extension_reason = NULL WHERE state IN ('open', 'answered')"
            }
            Step::Reopen => {
                "state = 'open', due_date = COALESCE($5, due_date) WHERE state IN ('answered', 'closed')"
            }
        }
    }
}

/// Applies a step if the instruction is still at `version` and in a state the step starts
/// from; writes the history entry. Answers the entry's id, or `None` when the page was stale.
#[allow(clippy::too_many_arguments)]
pub async fn step(
    tx: &mut Tx,
    scope: Scope,
    id: Uuid,
    version: i64,
    step: Step,
    body: &str,
    date: Option<NaiveDate>,
    by: Uuid,
) -> Result<Option<(Uuid, Uuid)>, sqlx::Error> {
    let now = super::now();
    let sql = format!(
        "UPDATE instructions SET version = version + 1, updated_at = $4, {} AND id = $1 AND version = $2 \
         AND ($3 IS NULL OR org_id = $3) RETURNING org_id",
        step.update()
    );
    let uses_reason = step == Step::AskExtension;
    let event_id = Uuid::now_v7();
    on_tx!(tx, c => {
        let mut q = sqlx::query_scalar::<_, Uuid>(AssertSqlSafe(sql.clone()))
            .bind(id)
            .bind(version)
            .bind(scope.org_filter())
            .bind(now);
        if matches!(step, Step::AskExtension | Step::Grant | Step::Reopen) {
            q = q.bind(date);
        }
        if uses_reason {
            q = q.bind(body);
        }
        let Some(org) = q.fetch_optional(&mut *c).await? else {
            return Ok(None);
        };
        sqlx::query(
            "INSERT INTO instruction_events (id, instruction_id, org_id, kind, body, due_date, actor_id, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(event_id)
        .bind(id)
        .bind(org)
        .bind(step.event())
        .bind(body)
        .bind(date)
        .bind(by)
        .bind(now)
        .execute(&mut *c)
        .await?;
        Ok(Some((event_id, org)))
    })
}

/// Links a stored file to a history entry of an instruction of the organisation.
pub async fn attach(
    tx: &mut Tx,
    org_id: Uuid,
    instruction_id: Uuid,
    event_id: Uuid,
    file: &crate::files::Stored,
) -> Result<(), sqlx::Error> {
    let now = super::now();
    let (sha256, name, mime) = (&file.sha256, &file.name, file.kind.mime());
    let size = file.size as i64;
    on_tx!(tx, c => {
        sqlx::query("INSERT INTO blobs (sha256, size, created_at) VALUES ($1, $2, $3) ON CONFLICT (sha256) DO NOTHING")
            .bind(sha256)
            .bind(size)
            .bind(now)
            .execute(&mut *c)
            .await?;
        sqlx::query(
            "INSERT INTO instruction_files (id, event_id, instruction_id, org_id, sha256, name, mime, size, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(Uuid::now_v7())
        .bind(event_id)
        .bind(instruction_id)
        .bind(org_id)
        .bind(sha256)
        .bind(name)
        .bind(mime)
        .bind(size)
        .bind(now)
        .execute(&mut *c)
        .await?;
    });
    Ok(())
}

/// A new request.
pub struct NewRequest<'a> {
    pub org_id: Uuid,
    pub item_key: &'a str,
    pub location_id: Option<Uuid>,
    pub period: Option<(NaiveDate, NaiveDate)>,
    /// The day uploads for it open (`None`: at once).
    pub opens_on: Option<NaiveDate>,
    pub due_date: NaiveDate,
    pub note: &'a str,
    pub by: Uuid,
}

/// Issues a request as `key` when given (see [`issue`]), else under a new id; answers its id,
/// or `None` when a request has that key already (nothing written).
pub async fn request(
    tx: &mut Tx,
    n: &NewRequest<'_>,
    key: Option<Uuid>,
) -> Result<Option<Uuid>, sqlx::Error> {
    let id = key.unwrap_or_else(Uuid::now_v7);
    let inserted = on_tx!(tx, c => sqlx::query(
        "INSERT INTO requests (id, org_id, item_key, location_id, period_from, period_to, due_date, note, state, issued_by, created_at, opens_on) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'open', $9, $10, $11) ON CONFLICT (id) DO NOTHING",
    )
    .bind(id)
    .bind(n.org_id)
    .bind(n.item_key)
    .bind(n.location_id)
    .bind(n.period.map(|p| p.0))
    .bind(n.period.map(|p| p.1))
    .bind(n.due_date)
    .bind(n.note)
    .bind(n.by)
    .bind(super::now())
    .bind(n.opens_on)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok((inserted == 1).then_some(id))
}

/// The organisation of the instruction (`table` `instructions`) or request (`requests`) with
/// this id, if there is one.
pub async fn keyed_org(tx: &mut Tx, table: Keyed, id: Uuid) -> Result<Option<Uuid>, sqlx::Error> {
    let sql = match table {
        Keyed::Instruction => "SELECT org_id FROM instructions WHERE id = $1",
        Keyed::Request => "SELECT org_id FROM requests WHERE id = $1",
    };
    on_tx!(tx, c => sqlx::query_scalar::<_, Uuid>(sql).bind(id).fetch_optional(&mut *c).await)
}

/// What a form's key may already name.
#[derive(Debug, Clone, Copy)]
pub enum Keyed {
    Instruction,
    Request,
}

/// A request as pages show it.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct RequestRow {
    pub id: Uuid,
    pub org_id: Uuid,
    pub org_name: String,
    pub org_code: String,
    pub item_key: String,
    pub location_id: Option<Uuid>,
    pub location_name: Option<String>,
    pub period_from: Option<NaiveDate>,
    pub period_to: Option<NaiveDate>,
    pub due_date: NaiveDate,
    pub opens_on: Option<NaiveDate>,
    /// Answered after the due date (期限後).
    pub answered_late: bool,
    pub note: String,
    pub state: String,
    /// The report that answered it, at its newest sealed version (the revision of a returned
    /// answer), with its receipt number and where its review stands.
    pub submission_id: Option<Uuid>,
    pub receipt_no: Option<String>,
    pub answer_state: Option<String>,
    pub issuer: String,
    pub created_at: DateTime<Utc>,
    /// When the answer was sealed.
    pub answered_at: Option<DateTime<Utc>>,
}

pub(super) const REQUEST_COLS: &str = "r.id, r.org_id, o.name AS org_name, o.user_code AS org_code, r.item_key, r.location_id, \
     l.name AS location_name, r.period_from, r.period_to, r.due_date, r.opens_on, r.answered_late, r.note, r.state, s.id AS submission_id, s.receipt_no, \
     s.state AS answer_state, u.display_name AS issuer, r.created_at, r.answered_at \
     FROM requests r JOIN organisations o ON o.id = r.org_id JOIN users u ON u.id = r.issued_by \
     LEFT JOIN locations l ON l.id = r.location_id LEFT JOIN submissions a ON a.id = r.submission_id \
     LEFT JOIN submissions s ON s.id = COALESCE((SELECT x.id FROM submissions x WHERE x.series_id = a.series_id \
     AND x.receipt_no IS NOT NULL ORDER BY x.version DESC LIMIT 1), a.id)";

/// Requests of one organisation (`None`: all), open first, then by due date.
pub async fn requests(
    db: &Db,
    org: Option<Uuid>,
    only_open: bool,
    limit: i64,
) -> Result<Vec<RequestRow>, sqlx::Error> {
    let sql = format!(
        "SELECT {REQUEST_COLS} WHERE ($1 IS NULL OR r.org_id = $1) AND ($2 = FALSE OR r.state = 'open') \
         ORDER BY CASE WHEN r.state = 'open' THEN 0 ELSE 1 END, r.due_date, r.id LIMIT $3"
    );
    on_db!(db, p => sqlx::query_as::<_, RequestRow>(AssertSqlSafe(sql.clone()))
        .bind(org)
        .bind(only_open)
        .bind(limit)
        .fetch_all(p)
        .await)
}

/// The requests answered most recently (every organisation), newest answer first.
pub async fn answered_requests(db: &Db, limit: i64) -> Result<Vec<RequestRow>, sqlx::Error> {
    let sql = format!(
        "SELECT {REQUEST_COLS} WHERE r.state = 'answered' ORDER BY r.answered_at DESC, r.id DESC LIMIT $1"
    );
    on_db!(db, p => sqlx::query_as::<_, RequestRow>(AssertSqlSafe(sql.clone()))
        .bind(limit)
        .fetch_all(p)
        .await)
}

/// The request a sealed submission answered, if it answered one.
pub async fn request_answered_by(
    db: &Db,
    submission: Uuid,
) -> Result<Option<RequestRow>, sqlx::Error> {
    let sql = format!("SELECT {REQUEST_COLS} WHERE r.submission_id = $1 LIMIT 1");
    on_db!(db, p => sqlx::query_as::<_, RequestRow>(AssertSqlSafe(sql.clone()))
        .bind(submission)
        .fetch_optional(p)
        .await)
}

/// The open request a draft of `kind` at `location` would answer (the one due first).
pub async fn open_request_for(
    db: &Db,
    org_id: Uuid,
    kind: &str,
    location: Option<Uuid>,
) -> Result<Option<RequestRow>, sqlx::Error> {
    let sql = format!(
        "SELECT {REQUEST_COLS} WHERE r.org_id = $1 AND r.item_key = $2 AND r.state = 'open' \
         AND (r.location_id IS NULL OR r.location_id = $3) ORDER BY r.due_date, r.id LIMIT 1"
    );
    on_db!(db, p => sqlx::query_as::<_, RequestRow>(AssertSqlSafe(sql.clone()))
        .bind(org_id)
        .bind(kind)
        .bind(location)
        .fetch_optional(p)
        .await)
}

/// A request's item and the name of its place (when it names one).
pub async fn request_item(
    tx: &mut Tx,
    org_id: Uuid,
    id: Uuid,
) -> Result<Option<(String, Option<String>)>, sqlx::Error> {
    on_tx!(tx, c => sqlx::query_as::<_, (String, Option<String>)>(
        "SELECT r.item_key, l.name FROM requests r LEFT JOIN locations l ON l.id = r.location_id \
         WHERE r.id = $1 AND r.org_id = $2",
    )
    .bind(id)
    .bind(org_id)
    .fetch_optional(&mut *c)
    .await)
}

/// Withdraws an open request of the organisation (Center): `None` when there is no such
/// request, `Some(false)` when it was answered or withdrawn meanwhile.
pub async fn withdraw(tx: &mut Tx, org_id: Uuid, id: Uuid) -> Result<Option<bool>, sqlx::Error> {
    on_tx!(tx, c => {
        let state: Option<String> = sqlx::query_scalar(
            "SELECT state FROM requests WHERE id = $1 AND org_id = $2",
        )
        .bind(id)
        .bind(org_id)
        .fetch_optional(&mut *c)
        .await?;
        if state.as_deref() != Some("open") {
            return Ok(state.map(|_| false));
        }
        sqlx::query("UPDATE requests SET state = 'withdrawn' WHERE id = $1 AND state = 'open'")
            .bind(id)
            .execute(&mut *c)
            .await
            .map(|r| Some(r.rows_affected() == 1))
    })
}

/// What is open for the checklist: (item, location, is an instruction, due date).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OpenRow {
    pub org_id: Uuid,
    pub id: Uuid,
    pub item_key: String,
    pub location_id: Option<Uuid>,
    pub instruction: bool,
    pub state: String,
    pub due_date: NaiveDate,
    /// A request's first day for uploads (none: open at once; instructions have none).
    pub opens_on: Option<NaiveDate>,
    /// When it was issued.
    pub created_at: DateTime<Utc>,
}

/// The Center's follow-up work at a glance.
#[derive(Debug, Clone, Default)]
pub struct CenterCounts {
    /// Instructions the organisation still has to act on.
    pub open: i64,
    /// Corrective-action reports waiting for the Center to close or reopen.
    pub answered: i64,
    /// Extension requests waiting for a decision.
    pub extensions: i64,
    /// Open instructions and requests past their due date.
    pub overdue: i64,
    /// Requests not yet answered.
    pub requests: i64,
}

/// Counts the Center's follow-up work as of `today` (JST).
pub async fn center_counts(db: &Db, today: NaiveDate) -> Result<CenterCounts, sqlx::Error> {
    let (open, answered, extensions, late): (i64, i64, i64, i64) = on_db!(db, p => sqlx::query_as(
        "SELECT COALESCE(SUM(CASE WHEN state = 'open' THEN 1 ELSE 0 END), 0), \
         COALESCE(SUM(CASE WHEN state = 'answered' THEN 1 ELSE 0 END), 0), \
         COALESCE(SUM(CASE WHEN state = 'open' AND extension_until IS NOT NULL THEN 1 ELSE 0 END), 0), \
         COALESCE(SUM(CASE WHEN state = 'open' AND due_date < $1 THEN 1 ELSE 0 END), 0) \
         FROM instructions WHERE state <> 'closed'",
    )
    .bind(today)
    .fetch_one(p)
    .await)?;
    let (requests, late_requests): (i64, i64) = on_db!(db, p => sqlx::query_as(
        "SELECT COUNT(*), COALESCE(SUM(CASE WHEN due_date < $1 THEN 1 ELSE 0 END), 0) \
         FROM requests WHERE state = 'open'",
    )
    .bind(today)
    .fetch_one(p)
    .await)?;
    Ok(CenterCounts {
        open,
        answered,
        extensions,
        overdue: late + late_requests,
        requests,
    })
}

/// Unclosed instructions and open requests of one organisation (`None`: all).
pub async fn open_items(db: &Db, org: Option<Uuid>) -> Result<Vec<OpenRow>, sqlx::Error> {
    on_db!(db, p => sqlx::query_as::<_, OpenRow>(
        "SELECT org_id, id, item_key, location_id, TRUE AS instruction, state, due_date, \
         CAST(NULL AS DATE) AS opens_on, created_at FROM instructions \
         WHERE state <> 'closed' AND ($1 IS NULL OR org_id = $1) \
         UNION ALL SELECT org_id, id, item_key, location_id, FALSE AS instruction, state, due_date, opens_on, created_at FROM requests \
         WHERE state = 'open' AND ($1 IS NULL OR org_id = $1)",
    )
    .bind(org)
    .fetch_all(p)
    .await)
}

/// Who issued an instruction (the reviewer its answers go to).
pub async fn issuer(db: &Db, id: Uuid) -> Result<Uuid, sqlx::Error> {
    on_db!(db, p => sqlx::query_scalar("SELECT issued_by FROM instructions WHERE id = $1")
        .bind(id)
        .fetch_one(p)
        .await)
}

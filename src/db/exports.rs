//! The rows of the Center's exports, read as streams: one row at a time from the database, so
//! an export of a million rows holds one batch in memory, never the table.

use chrono::{DateTime, NaiveDate, Utc};
use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use sqlx::AssertSqlSafe;
use uuid::Uuid;

use super::{Db, on_db};
use crate::domain::Scope;

/// What an export is narrowed to; every field is optional.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filter {
    /// Submitted at or after.
    pub from: Option<DateTime<Utc>>,
    /// Submitted before.
    pub until: Option<DateTime<Utc>>,
    pub org: Option<Uuid>,
    /// The catalogue item (`submissions.kind`).
    pub item: Option<String>,
    pub state: Option<String>,
    /// For the administrators register: only who was in charge on this date.
    pub on: Option<NaiveDate>,
}

/// One sealed submission with its decision.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SubmissionRow {
    pub receipt_no: String,
    pub org_code: String,
    pub org_name: String,
    pub kind: String,
    pub scope_kind: String,
    pub target: Option<String>,
    pub version: i64,
    pub state: String,
    pub submitted_at: DateTime<Utc>,
    pub decision: Option<String>,
    pub reason: Option<String>,
    pub reviewer: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    /// The report's data (only for the datasets read from it).
    pub data: Option<String>,
}

const SUBMISSIONS: &str = "SELECT s.receipt_no, o.user_code AS org_code, o.name AS org_name, s.kind, s.scope_kind, \
     l.name AS target, s.version, s.state, s.submitted_at, d.decision, d.reason, u.display_name AS reviewer, d.decided_at, {data} AS data \
     FROM submissions s JOIN organisations o ON o.id = s.org_id LEFT JOIN locations l ON l.id = s.location_id \
     LEFT JOIN decisions d ON d.submission_id = s.id LEFT JOIN users u ON u.id = d.reviewer_id \
     WHERE s.receipt_no IS NOT NULL AND ($1 IS NULL OR s.org_id = $1) AND ($2 IS NULL OR s.org_id = $2) \
     AND ($3 IS NULL OR s.submitted_at >= $3) AND ($4 IS NULL OR s.submitted_at < $4) \
     AND ($5 IS NULL OR s.kind = $5) AND ($6 IS NULL OR s.state = $6) \
     ORDER BY s.submitted_at, s.id";

/// Sealed submissions within the scope and filter, oldest first; `with_data` also reads each
/// report's data (for the equipment and antivirus datasets).
pub fn submissions<'a>(
    db: &'a Db,
    scope: Scope,
    f: &Filter,
    with_data: bool,
) -> BoxStream<'a, Result<SubmissionRow, sqlx::Error>> {
    let sql = SUBMISSIONS.replace("{data}", if with_data { "s.data" } else { "NULL" });
    filtered(db, sql, scope, f)
}

/// The rows of `sql`, whose parameters `$1`–`$6` are the scope's organisation and the filter's
/// organisation, start, end, item and state, as a stream.
fn filtered<'a, R>(
    db: &'a Db,
    sql: String,
    scope: Scope,
    f: &Filter,
) -> BoxStream<'a, Result<R, sqlx::Error>>
where
    R: for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
        + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>
        + Send
        + Unpin
        + 'a,
{
    let f = f.clone();
    on_db!(db, p => sqlx::query_as::<_, R>(AssertSqlSafe(sql))
        .bind(scope.org_filter())
        .bind(f.org)
        .bind(f.from)
        .bind(f.until)
        .bind(f.item)
        .bind(f.state)
        .fetch(p)
        .boxed())
}

/// One appointment of the administrators register (管理責任者の設置).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AppointmentRow {
    pub org_code: String,
    pub org_name: String,
    pub location_kind: String,
    pub location: String,
    pub office: Option<String>,
    pub name: String,
    pub name_kana: String,
    pub department: String,
    pub title: String,
    pub phone: String,
    pub emergency_contact: String,
    pub email: String,
    pub effective_from: NaiveDate,
    /// When the next appointment at the same place took effect (`None`: still in charge).
    pub effective_until: Option<NaiveDate>,
}

const APPOINTMENTS: &str = "SELECT o.user_code AS org_code, o.name AS org_name, l.kind AS location_kind, l.name AS location, \
     p.name AS office, a.name, a.name_kana, a.department, a.title, a.phone, a.emergency_contact, a.email, a.effective_from, \
     (SELECT MIN(b.effective_from) FROM appointments b WHERE b.location_id = a.location_id AND b.effective_from > a.effective_from) AS effective_until \
     FROM appointments a JOIN organisations o ON o.id = a.org_id JOIN locations l ON l.id = a.location_id \
     LEFT JOIN locations p ON p.id = l.office_id \
     WHERE ($1 IS NULL OR a.org_id = $1) AND ($2 IS NULL OR a.org_id = $2) \
     AND ($3 IS NULL OR (a.effective_from <= $3 AND NOT EXISTS (SELECT 1 FROM appointments b \
       WHERE b.location_id = a.location_id AND b.effective_from <= $3 \
       AND (b.effective_from > a.effective_from OR (b.effective_from = a.effective_from AND b.created_at > a.created_at))))) \
     ORDER BY o.user_code, l.name, a.effective_from, a.created_at";

/// The administrators register within the scope: every appointment with the date its successor
/// took effect, or (with `f.on`) only who was in charge of each place on that date.
pub fn appointments<'a>(
    db: &'a Db,
    scope: Scope,
    f: &Filter,
) -> BoxStream<'a, Result<AppointmentRow, sqlx::Error>> {
    let f = f.clone();
    on_db!(db, p => sqlx::query_as::<_, AppointmentRow>(APPOINTMENTS)
        .bind(scope.org_filter())
        .bind(f.org)
        .bind(f.on)
        .fetch(p)
        .boxed())
}

/// The filter's conditions on a follow-up table (`t`: its alias): organisation, item, state and
/// the day it was issued, each bound (`$1`–`$6`).
fn followup_where(t: &str) -> String {
    format!(
        "WHERE ($1 IS NULL OR {t}.org_id = $1) AND ($2 IS NULL OR {t}.org_id = $2) \
         AND ($3 IS NULL OR {t}.created_at >= $3) AND ($4 IS NULL OR {t}.created_at < $4) \
         AND ($5 IS NULL OR {t}.item_key = $5) AND ($6 IS NULL OR {t}.state = $6) \
         ORDER BY o.user_code, {t}.created_at, {t}.id"
    )
}

/// Improvement instructions within the scope and filter (issued in the period), as a stream.
pub fn instructions<'a>(
    db: &'a Db,
    scope: Scope,
    f: &Filter,
) -> BoxStream<'a, Result<super::followup::InstructionRow, sqlx::Error>> {
    let sql = format!(
        "SELECT {} {}",
        super::followup::INSTRUCTION_COLS,
        followup_where("i")
    );
    filtered(db, sql, scope, f)
}

/// Requests for items 5 and 6 within the scope and filter (issued in the period), as a stream.
pub fn requests<'a>(
    db: &'a Db,
    scope: Scope,
    f: &Filter,
) -> BoxStream<'a, Result<super::followup::RequestRow, sqlx::Error>> {
    let sql = format!(
        "SELECT {} {}",
        super::followup::REQUEST_COLS,
        followup_where("r")
    );
    filtered(db, sql, scope, f)
}

/// The organisation holding a NACCS user code (any of its codes).
pub async fn org_by_code(db: &Db, code: &str) -> Result<Option<Uuid>, sqlx::Error> {
    on_db!(db, p => sqlx::query_scalar::<_, Uuid>("SELECT org_id FROM org_user_codes WHERE code = $1")
        .bind(code.to_uppercase())
        .fetch_optional(p)
        .await)
}

/// The sealed submissions within the scope, oldest first.
pub async fn sealed(db: &Db, scope: Scope) -> Result<Vec<Uuid>, sqlx::Error> {
    on_db!(db, p => sqlx::query_scalar::<_, Uuid>(
        "SELECT id FROM submissions WHERE receipt_no IS NOT NULL AND ($1 IS NULL OR org_id = $1) ORDER BY submitted_at, id",
    )
    .bind(scope.org_filter())
    .fetch_all(p)
    .await)
}

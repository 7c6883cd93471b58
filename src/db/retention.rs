//! Retention periods, legal holds and the purge's statements (the use case is
//! `crate::retention`).

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use super::{Db, Tx, on_db, on_tx};
use crate::domain::Scope;
use crate::domain::retention::{Period, RecordType};

/// The period of each record type, with when it was last set.
pub async fn periods(db: &Db) -> Result<Vec<(RecordType, Period, DateTime<Utc>)>, sqlx::Error> {
    let rows: Vec<(String, i64, DateTime<Utc>)> = on_db!(db, p => sqlx::query_as(
        "SELECT record_type, months, updated_at FROM retention_periods",
    )
    .fetch_all(p)
    .await)?;
    Ok(RecordType::ALL
        .into_iter()
        .filter_map(|t| {
            rows.iter()
                .find(|r| r.0 == t.as_str())
                .map(|r| (t, Period::from_stored(r.1), r.2))
        })
        .collect())
}

/// Sets one period; answers the one it replaces (`None`: unchanged, nothing written).
pub async fn set_period(
    tx: &mut Tx,
    t: RecordType,
    p: Period,
) -> Result<Option<Period>, sqlx::Error> {
    on_tx!(tx, c => {
        let old: i64 = sqlx::query_scalar("SELECT months FROM retention_periods WHERE record_type = $1")
            .bind(t.as_str())
            .fetch_one(&mut *c)
            .await?;
        if old == i64::from(p.months()) {
            return Ok(None);
        }
        sqlx::query("UPDATE retention_periods SET months = $2, updated_at = $3 WHERE record_type = $1")
            .bind(t.as_str())
            .bind(i64::from(p.months()))
            .bind(super::now())
            .execute(&mut *c)
            .await?;
        Ok(Some(Period::from_stored(old)))
    })
}

/// Takes the retention row's lock for the rest of the transaction: purges and hold changes
/// queue behind each other, so a hold set while a purge runs is never overtaken by it.
pub async fn lock(tx: &mut Tx) -> Result<(), sqlx::Error> {
    on_tx!(tx, c => sqlx::query("UPDATE retention_state SET hold_changes = hold_changes + 1 WHERE id = 1")
        .execute(&mut *c)
        .await
        .map(|_| ()))
}

/// Claims the day's scheduled purge (a conditional write: of several nodes, or of two runs at
/// once, one gets it; the other waits on the row and then finds the day taken). `any_time`
/// runs an extra purge (the command line) under the same lock.
pub async fn claim_purge(
    tx: &mut Tx,
    day: NaiveDate,
    now: DateTime<Utc>,
    any_time: bool,
) -> Result<bool, sqlx::Error> {
    on_tx!(tx, c => sqlx::query(
        "UPDATE retention_state SET last_purge_on = CASE WHEN $3 THEN last_purge_on ELSE $1 END, last_purge_at = $2 \
         WHERE id = 1 AND ($3 OR last_purge_on IS NULL OR last_purge_on < $1)",
    )
    .bind(day)
    .bind(now)
    .bind(any_time)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected() == 1))
}

/// The JST day of the last daily purge.
pub async fn purged_on(db: &Db) -> Result<Option<NaiveDate>, sqlx::Error> {
    on_db!(db, p => sqlx::query_scalar("SELECT last_purge_on FROM retention_state WHERE id = 1")
        .fetch_one(p)
        .await)
}

/// When the last purge ran.
pub async fn last_purge(db: &Db) -> Result<Option<DateTime<Utc>>, sqlx::Error> {
    on_db!(db, p => sqlx::query_scalar("SELECT last_purge_at FROM retention_state WHERE id = 1")
        .fetch_one(p)
        .await)
}

/// A hold in force.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct HoldRow {
    pub id: Uuid,
    pub org_id: Uuid,
    pub submission_id: Option<Uuid>,
    pub reason: String,
    pub set_by: String,
    pub set_at: DateTime<Utc>,
}

const HOLD: &str = "SELECT h.id, h.org_id, h.submission_id, h.reason, u.display_name AS set_by, h.set_at \
     FROM legal_holds h JOIN users u ON u.id = h.set_by WHERE h.lifted_at IS NULL";

/// The holds in force on an organisation (its own and its submissions'), within the scope.
pub async fn holds_of_org(db: &Db, scope: Scope, org: Uuid) -> Result<Vec<HoldRow>, sqlx::Error> {
    let sql = format!(
        "{HOLD} AND h.org_id = $1 AND ($2 IS NULL OR h.org_id = $2) ORDER BY h.submission_id IS NOT NULL, h.set_at"
    );
    on_db!(db, p => sqlx::query_as::<_, HoldRow>(sqlx::AssertSqlSafe(sql))
        .bind(org)
        .bind(scope.org_filter())
        .fetch_all(p)
        .await)
}

/// A hold in force anywhere, with what it holds (Center admins' overview).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct HeldRow {
    pub org_id: Uuid,
    pub org_name: String,
    pub submission_id: Option<Uuid>,
    pub receipt_no: Option<String>,
    pub reason: String,
    pub set_by: String,
    pub set_at: DateTime<Utc>,
}

/// Every hold in force, oldest first (at most `limit`).
pub async fn holds_in_force(db: &Db, limit: i64) -> Result<Vec<HeldRow>, sqlx::Error> {
    on_db!(db, p => sqlx::query_as::<_, HeldRow>(
        "SELECT h.org_id, o.name AS org_name, h.submission_id, s.receipt_no, h.reason, u.display_name AS set_by, h.set_at \
         FROM legal_holds h JOIN users u ON u.id = h.set_by JOIN organisations o ON o.id = h.org_id \
         LEFT JOIN submissions s ON s.id = h.submission_id WHERE h.lifted_at IS NULL ORDER BY h.set_at, h.id LIMIT $1",
    )
    .bind(limit)
    .fetch_all(p)
    .await)
}

/// Sets a hold on the organisation (`submission: None`) or on one of its submissions;
/// answers false when one is already in force (the database keeps one per target) or the
/// submission is not the organisation's.
pub async fn set_hold(
    tx: &mut Tx,
    org: Uuid,
    submission: Option<Uuid>,
    reason: &str,
    by: Uuid,
) -> Result<bool, sqlx::Error> {
    let id = Uuid::now_v7();
    let r = on_tx!(tx, c => sqlx::query(
        "INSERT INTO legal_holds (id, org_id, submission_id, reason, set_by, set_at) \
         SELECT $1, o.id, $3, $4, $5, $6 FROM organisations o WHERE o.id = $2 \
         AND ($3 IS NULL OR EXISTS (SELECT 1 FROM submissions s WHERE s.id = $3 AND s.org_id = o.id))",
    )
    .bind(id)
    .bind(org)
    .bind(submission)
    .bind(reason)
    .bind(by)
    .bind(super::now())
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected()));
    match r {
        Ok(n) => Ok(n == 1),
        Err(e) if super::is_unique_violation(&e) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Lifts the hold in force on the target; answers false when there is none.
pub async fn lift_hold(
    tx: &mut Tx,
    org: Uuid,
    submission: Option<Uuid>,
    reason: &str,
    by: Uuid,
) -> Result<bool, sqlx::Error> {
    on_tx!(tx, c => sqlx::query(
        "UPDATE legal_holds SET lifted_by = $4, lifted_at = $5, lift_reason = $3 \
         WHERE org_id = $1 AND lifted_at IS NULL \
         AND (($2 IS NULL AND submission_id IS NULL) OR submission_id = $2)",
    )
    .bind(org)
    .bind(submission)
    .bind(reason)
    .bind(by)
    .bind(super::now())
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected() == 1))
}

/// A submission past retention and not on hold.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Candidate {
    pub id: Uuid,
    pub org_id: Uuid,
    pub kind: String,
    pub receipt_no: Option<String>,
    /// Where it sorts in its index: when a report was replaced, when a log was submitted.
    pub at: DateTime<Utc>,
}

/// Which submissions are due, each read through its own index: a report once it was replaced
/// (a newer version of the same organisation, kind and place sealed, `replaced_at`, kept by
/// the database's triggers) longer ago than its period — the report in force is kept however
/// old it is, as the checklist still rests on it; a gateway log once submitted longer ago than
/// its period. Drafts are work in progress. A hold in force on the organisation or the
/// submission keeps it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Due {
    Reports,
    GatewayLogs,
}

impl Due {
    /// (sort key column, the rows it selects), `$1` the cutoff.
    fn filter(self) -> (&'static str, &'static str) {
        match self {
            Due::Reports => (
                "s.replaced_at",
                "s.replaced_at IS NOT NULL AND s.replaced_at < $1 AND s.kind <> 'gateway_logs'",
            ),
            Due::GatewayLogs => (
                "s.submitted_at",
                "s.kind = 'gateway_logs' AND s.submitted_at < $1 AND s.state <> 'draft'",
            ),
        }
    }
}

const NOT_HELD: &str = "NOT EXISTS (SELECT 1 FROM legal_holds h WHERE h.lifted_at IS NULL \
     AND h.org_id = s.org_id AND (h.submission_id IS NULL OR h.submission_id = s.id))";

/// How many submissions of that sort are due before the cutoff.
pub async fn count_due(tx: &mut Tx, due: Due, before: DateTime<Utc>) -> Result<i64, sqlx::Error> {
    let (_, filter) = due.filter();
    let sql = format!("SELECT COUNT(*) FROM submissions s WHERE {filter} AND {NOT_HELD}");
    on_tx!(tx, c => sqlx::query_scalar(sqlx::AssertSqlSafe(sql.clone()))
        .bind(before)
        .fetch_one(&mut *c)
        .await)
}

/// The next `limit` submissions of that sort due before the cutoff, in index order after
/// `after` (the last one a batch took: what sorts before it was taken or is held).
pub async fn next_due(
    tx: &mut Tx,
    due: Due,
    before: DateTime<Utc>,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: usize,
) -> Result<Vec<Candidate>, sqlx::Error> {
    let (key, filter) = due.filter();
    // A row value the index serves as a range (an `OR` with "no cursor yet" would not be).
    let from = if after.is_some() {
        format!("({key}, s.id) > ($3, $4) AND")
    } else {
        "$3 IS NULL AND $4 IS NULL AND".into()
    };
    let sql = format!(
        "SELECT s.id, s.org_id, s.kind, s.receipt_no, {key} AS at FROM submissions s WHERE {filter} \
         AND {from} {NOT_HELD} ORDER BY {key}, s.id LIMIT $2"
    );
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    on_tx!(tx, c => sqlx::query_as::<_, Candidate>(sqlx::AssertSqlSafe(sql.clone()))
        .bind(before)
        .bind(limit)
        .bind(after.map(|a| a.0))
        .bind(after.map(|a| a.1))
        .fetch_all(&mut *c)
        .await)
}

/// Gives the day's claim back (a purge stopped before it was done: the next scheduler run,
/// after a restart, takes the rest the same day).
pub async fn release_claim(db: &Db, day: NaiveDate) -> Result<(), sqlx::Error> {
    let before = day.pred_opt().unwrap_or(day);
    on_db!(db, p => sqlx::query("UPDATE retention_state SET last_purge_on = $2 WHERE id = 1 AND last_purge_on = $1")
        .bind(day)
        .bind(before)
        .execute(p)
        .await
        .map(|_| ()))
}

/// The first audit entry of an organisation on hold (or with a submission on hold): a purge
/// of the trail stops before it, so a hold keeps the organisation's history too.
pub async fn first_held_entry(tx: &mut Tx) -> Result<Option<i64>, sqlx::Error> {
    on_tx!(tx, c => sqlx::query_scalar(
        "SELECT MIN(a.seq) FROM audit_log a WHERE a.org_id IN (SELECT org_id FROM legal_holds WHERE lifted_at IS NULL)",
    )
    .fetch_one(&mut *c)
    .await)
}

/// A file row removed with its submission.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct RemovedFile {
    #[serde(skip)]
    pub submission_id: Uuid,
    pub sha256: String,
    pub name: String,
    pub size: i64,
}

/// `($1, $2, …)` for `n` values.
fn placeholders(n: usize) -> String {
    let list: Vec<String> = (1..=n).map(|i| format!("${i}")).collect();
    format!("({})", list.join(", "))
}

/// Runs `sql` (with `{ids}` for the list) once, binding every id.
async fn for_ids(tx: &mut Tx, sql: &str, ids: &[Uuid]) -> Result<u64, sqlx::Error> {
    let sql = sql.replace("{ids}", &placeholders(ids.len()));
    on_tx!(tx, c => {
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.clone()));
        for id in ids {
            q = q.bind(*id);
        }
        q.execute(&mut *c).await.map(|r| r.rows_affected())
    })
}

/// Removes these submissions with everything that belongs to them (files' rows, the kept
/// checks of gateway logs no other file of the organisation has, decisions, comments, lifted
/// holds); instructions, requests and later versions that point at them
/// keep their own life and lose the link. Answers the file rows removed.
pub async fn remove_submissions(
    tx: &mut Tx,
    ids: &[Uuid],
) -> Result<Vec<RemovedFile>, sqlx::Error> {
    let mut files = vec![];
    // Bounded lists: well under either database's limit on bound values.
    for chunk in ids.chunks(500) {
        let sql = format!(
            "SELECT submission_id, sha256, name, size FROM submission_files WHERE submission_id IN {} ORDER BY created_at, id",
            placeholders(chunk.len())
        );
        let mut got: Vec<RemovedFile> = on_tx!(tx, c => {
            let mut q = sqlx::query_as::<_, RemovedFile>(sqlx::AssertSqlSafe(sql.clone()));
            for id in chunk {
                q = q.bind(*id);
            }
            q.fetch_all(&mut *c).await
        })?;
        files.append(&mut got);
        for sql in [
            // A gateway log's kept check belongs to the organisation's files of that content:
            // it goes with the last of them (a draft or a later version keeping the same
            // content keeps it). It is no reference to the blob, which goes as usual.
            "DELETE FROM gateway_log_checks WHERE EXISTS (SELECT 1 FROM submission_files f \
             JOIN submissions s ON s.id = f.submission_id WHERE f.submission_id IN {ids} \
             AND s.org_id = gateway_log_checks.org_id AND f.sha256 = gateway_log_checks.sha256) \
             AND NOT EXISTS (SELECT 1 FROM submission_files f JOIN submissions s ON s.id = f.submission_id \
             WHERE f.submission_id NOT IN {ids} AND s.org_id = gateway_log_checks.org_id \
             AND f.sha256 = gateway_log_checks.sha256)",
            // The same per gateway site (the check of a content at the site it was uploaded for).
            "DELETE FROM gateway_log_site_checks WHERE EXISTS (SELECT 1 FROM submission_files f \
             JOIN submissions s ON s.id = f.submission_id WHERE f.submission_id IN {ids} \
             AND s.org_id = gateway_log_site_checks.org_id \
             AND s.location_id = gateway_log_site_checks.site_id \
             AND f.sha256 = gateway_log_site_checks.sha256) \
             AND NOT EXISTS (SELECT 1 FROM submission_files f JOIN submissions s ON s.id = f.submission_id \
             WHERE f.submission_id NOT IN {ids} AND s.org_id = gateway_log_site_checks.org_id \
             AND s.location_id = gateway_log_site_checks.site_id \
             AND f.sha256 = gateway_log_site_checks.sha256)",
            "DELETE FROM submission_files WHERE submission_id IN {ids}",
            "DELETE FROM decisions WHERE submission_id IN {ids}",
            "DELETE FROM comments WHERE submission_id IN {ids}",
            "DELETE FROM legal_holds WHERE submission_id IN {ids}",
            "UPDATE instructions SET submission_id = NULL WHERE submission_id IN {ids}",
            "UPDATE requests SET submission_id = NULL WHERE submission_id IN {ids}",
            "UPDATE submissions SET revised_from = NULL WHERE revised_from IN {ids}",
            "DELETE FROM submissions WHERE id IN {ids}",
        ] {
            for_ids(tx, sql, chunk).await?;
        }
    }
    Ok(files)
}

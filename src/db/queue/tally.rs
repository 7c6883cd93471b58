//! The counts per state above the queue, read from the counters of `queue_tally`
//! (migration `0023_queue_tally`): triggers on `submissions` keep one row per state, kind,
//! organisation and assignee in the transaction of every change, so the counts cost the
//! counters under the filter, never a scan of the queue.
//!
//! The age filter ("at least N days old") is a time, which counters cannot hold. The counts
//! then start from the counters without it and take away the submissions newer than the
//! limit, counted through the queue's `(state, …, submitted_at)` indexes; when those turn out
//! to be more than half, the older ones are counted directly instead. Either way the rows
//! read are at most twice the smaller side of the limit.

use uuid::Uuid;

use super::{Arg, Counted, QueueFilter, Sql};
use crate::db::{Db, on_db};

/// Submissions per state under the filter (its state ignored), states with none left out,
/// in the order of the state's name.
pub async fn counts(db: &Db, f: &QueueFilter) -> Result<Vec<(String, i64)>, sqlx::Error> {
    let mut sql = Sql {
        text: "SELECT t.state, CAST(SUM(t.n) AS BIGINT) FROM queue_tally t WHERE t.n <> 0".into(),
        args: Vec::new(),
    };
    sql.dimensions(f, Counted::Tally);
    sql.text
        .push_str(" GROUP BY t.state HAVING SUM(t.n) > 0 ORDER BY t.state");
    let mut counts = fetch(db, sql).await?;
    if f.submitted_before.is_none() {
        return Ok(counts);
    }
    let states: Vec<String> = counts.iter().map(|(s, _)| s.clone()).collect();
    let total: i64 = counts.iter().map(|(_, n)| n).sum();
    // More newer rows than this, and counting the older ones directly reads fewer.
    let enough = total / 2 + 1;
    let newer = fetch(db, by_time(f, &states, Side::Newer(enough))).await?;
    if newer.iter().map(|(_, n)| n).sum::<i64>() < enough {
        for (state, n) in &mut counts {
            if let Some((_, m)) = newer.iter().find(|(s, _)| s == state) {
                *n -= m;
            }
        }
        counts.retain(|(_, n)| *n > 0);
        return Ok(counts);
    }
    fetch(db, by_time(f, &states, Side::Older)).await
}

/// Which side of the age limit [`by_time`] counts.
enum Side {
    /// Submitted after the limit, stopping at this many rows.
    Newer(i64),
    /// Submitted at or before the limit (what the filter shows).
    Older,
}

/// Counts per state of the submissions under `f` on one side of its age limit, the states
/// named so that the planner ranges over an index that starts with the state.
fn by_time(f: &QueueFilter, states: &[String], side: Side) -> Sql {
    let mut sql = Sql {
        text: "SELECT x.state, COUNT(*) FROM (SELECT s.state FROM submissions s WHERE s.receipt_no IS NOT NULL".into(),
        args: Vec::new(),
    };
    let places: Vec<String> = states
        .iter()
        .map(|s| sql.arg(Arg::Text(s.clone())))
        .collect();
    sql.text
        .push_str(&format!(" AND s.state IN ({})", places.join(", ")));
    sql.dimensions(f, Counted::Submissions);
    if let Some(at) = f.submitted_before {
        let p = sql.arg(Arg::Time(at));
        match side {
            // Written out, not bound, as the page's limit (see `page_sql`).
            Side::Newer(stop) => sql
                .text
                .push_str(&format!(" AND s.submitted_at > {p} LIMIT {stop}")),
            Side::Older => sql.text.push_str(&format!(" AND s.submitted_at <= {p}")),
        }
    }
    sql.text.push_str(") x GROUP BY x.state ORDER BY x.state");
    sql
}

async fn fetch(db: &Db, sql: Sql) -> Result<Vec<(String, i64)>, sqlx::Error> {
    if sql.text.contains("IN ()") {
        return Ok(Vec::new());
    }
    let Sql { text, args } = sql;
    on_db!(db, p => bind_all!(
        sqlx::query_as::<_, (String, i64)>(sqlx::AssertSqlSafe(text)), args
    )
    .fetch_all(p)
    .await)
}

/// One counter that differs from a full count of the submissions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TallyDrift {
    pub state: String,
    pub kind: String,
    pub org_id: Uuid,
    /// `None`: nobody has taken them.
    pub assignee: Option<Uuid>,
    /// What the counter says.
    pub kept: i64,
    /// What a full count finds.
    pub counted: i64,
}

/// The full count of sealed submissions per counter key (the nil UUID for nobody).
const FULL_COUNT: &str = "SELECT state, kind, org_id, COALESCE(assigned_to, $1) AS assignee, COUNT(*) AS n \
     FROM submissions WHERE receipt_no IS NOT NULL GROUP BY 1, 2, 3, 4";

/// Compares every counter with a full count of the submissions (a scan of the queue: for
/// `secportal check`, the start-up check and the tests, never a page). Empty when they agree;
/// counters at zero agree with keys that have no submissions.
pub async fn tally_drift(db: &Db) -> Result<Vec<TallyDrift>, sqlx::Error> {
    type Key = (String, String, Uuid, Uuid);
    type Counter = (String, String, Uuid, Uuid, i64);
    let (counted, kept): (Vec<Counter>, Vec<Counter>) = on_db!(db, p => {
        // One read transaction, so both sides see the same submissions.
        let mut tx = p.begin().await?;
        let counted = sqlx::query_as(FULL_COUNT)
            .bind(Uuid::nil())
            .fetch_all(&mut *tx)
            .await?;
        let kept = sqlx::query_as("SELECT state, kind, org_id, assignee, n FROM queue_tally")
            .fetch_all(&mut *tx)
            .await?;
        tx.commit().await?;
        (counted, kept)
    });
    let mut all: std::collections::BTreeMap<Key, (i64, i64)> = Default::default();
    for (s, k, o, a, n) in kept {
        all.entry((s, k, o, a)).or_default().0 += n;
    }
    for (s, k, o, a, n) in counted {
        all.entry((s, k, o, a)).or_default().1 += n;
    }
    Ok(all
        .into_iter()
        .filter(|(_, (kept, counted))| kept != counted)
        .map(|((state, kind, org_id, a), (kept, counted))| TallyDrift {
            state,
            kind,
            org_id,
            assignee: Some(a).filter(|a| !a.is_nil()),
            kept,
            counted,
        })
        .collect())
}

/// Replaces every counter by a full count, in one transaction that holds off the triggers'
/// updates meanwhile (PostgreSQL: a lock on the counters taken first, so a change committed
/// before is counted and one committed after is added on top; SQLite: the write lock).
/// Answers how many counters were written.
pub async fn rebuild_tally(db: &Db) -> Result<u64, sqlx::Error> {
    let mut tx = db.begin().await?;
    if let crate::db::TxConn::Postgres(t) = tx.conn() {
        sqlx::query("LOCK TABLE queue_tally IN EXCLUSIVE MODE")
            .execute(&mut **t)
            .await?;
    }
    let written = crate::db::on_tx!(&mut tx, c => {
        sqlx::query("DELETE FROM queue_tally").execute(&mut *c).await?;
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO queue_tally (state, kind, org_id, assignee, n) {FULL_COUNT}"
        )))
        .bind(Uuid::nil())
        .execute(&mut *c)
        .await?
        .rows_affected()
    });
    tx.commit().await?;
    Ok(written)
}

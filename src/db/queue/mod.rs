//! The review queue (審査待ち一覧): one page in keyset order, and the counts per state.
//!
//! The SQL is built from the filters that are set, each value a bound parameter, so every
//! combination reads as plain equalities and ranges the planner can serve from an index
//! (migration `0018_queue_indexes`) in `(submitted_at, id)` order and stop after one page.
//! Catch-all `($n IS NULL OR …)` conditions made both planners walk or sort the whole queue.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{Db, on_db, on_kept};

pub use tally::{TallyDrift, counts, rebuild_tally, tally_drift};

/// A line of the review queue, as `submissions` holds it: the names it shows are read apart
/// ([`names`]) and kept by the node while [`QueuePage::names_at`] does not move.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct QueueRow {
    pub id: Uuid,
    pub org_id: Uuid,
    pub kind: String,
    pub version: i64,
    pub state: String,
    pub submitted_at: DateTime<Utc>,
    pub receipt_no: String,
    pub assigned_to: Option<Uuid>,
    /// The office or gateway site the report is about (`None`: the whole organisation).
    pub location_id: Option<Uuid>,
    /// The flags fixed when it was sealed (`domain::flags`, comma-separated).
    pub flags: String,
    /// The names' version when the page was read (`name_version`, migration 0033).
    pub names_at: i64,
    /// A newer report of the same organisation, item and place was sealed after it
    /// (`replaced_at`, kept by triggers).
    pub replaced: bool,
    /// It renews an accepted report of the same item and place (`renewed_from`).
    pub renewal: bool,
}

/// A name a queue line shows, by the id the line carries.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct QueueName {
    /// `o`: an organisation (`name`, and its user code as `extra`); `u`: a person (display
    /// name); `l`: a place (`name`, and its office's name as `extra` for a gateway site).
    pub kind: String,
    pub id: Uuid,
    pub name: String,
    pub extra: Option<String>,
    /// The names' version they were read at.
    pub names_at: i64,
}

/// What the queue shows.
#[derive(Debug, Clone, Default)]
pub struct QueueFilter {
    pub kind: Option<String>,
    /// `submitted`, `accepted`, `returned`; `None` = waiting (`submitted`).
    pub state: Option<String>,
    pub org_code: Option<String>,
    /// Only submissions at least this old.
    pub submitted_before: Option<DateTime<Utc>>,
    /// Only those assigned to this reviewer.
    pub assigned_to: Option<Uuid>,
    /// Only those nobody has taken.
    pub unassigned: bool,
    /// Only organisations with an active connection of this form.
    pub form: Option<String>,
}

/// Where a page starts: after a row (the next pages) or before one (the previous page).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Cursor {
    After(DateTime<Utc>, Uuid),
    Before(DateTime<Utc>, Uuid),
}

/// One page of the queue, oldest first.
#[derive(Debug, Clone)]
pub struct QueuePage {
    pub rows: Vec<QueueRow>,
    /// Whether more rows follow in the direction the page was asked for (later rows for a
    /// first or `After` page, earlier ones for a `Before` page).
    pub more: bool,
}

impl QueuePage {
    /// The names' version the page was read at (`None` for an empty page).
    pub fn names_at(&self) -> Option<i64> {
        self.rows.first().map(|r| r.names_at)
    }
}

/// A bound value.
enum Arg {
    Text(String),
    Time(DateTime<Utc>),
    Id(Uuid),
}

/// A statement being built: its text and the values its `$n` placeholders stand for.
#[derive(Default)]
struct Sql {
    text: String,
    args: Vec<Arg>,
}

impl Sql {
    /// Keeps `a` as the next parameter and answers its placeholder.
    fn arg(&mut self, a: Arg) -> String {
        self.args.push(a);
        format!("${}", self.args.len())
    }

    /// The conditions on `submissions s` for the filters that are set (the state only when
    /// `with_state`), each joined with `AND`.
    fn filter(&mut self, f: &QueueFilter, with_state: bool) {
        self.text.push_str(" WHERE s.receipt_no IS NOT NULL");
        if with_state {
            let state = f.state.clone().unwrap_or_else(|| "submitted".into());
            let p = self.arg(Arg::Text(state));
            self.text.push_str(&format!(" AND s.state = {p}"));
        }
        self.dimensions(f, Counted::Submissions);
        if let Some(at) = f.submitted_before {
            let p = self.arg(Arg::Time(at));
            self.text.push_str(&format!(" AND s.submitted_at <= {p}"));
        }
    }

    /// The conditions on the kind, organisation, assignee and connection form, which the
    /// submissions (`s`) and the counters (`t`, see [`tally`]) both carry.
    fn dimensions(&mut self, f: &QueueFilter, on: Counted) {
        let (t, assignee) = match on {
            Counted::Submissions => ("s", "assigned_to"),
            Counted::Tally => ("t", "assignee"),
        };
        if let Some(kind) = &f.kind {
            let p = self.arg(Arg::Text(kind.clone()));
            self.text.push_str(&format!(" AND {t}.kind = {p}"));
        }
        if let Some(code) = &f.org_code {
            // By id, so the organisation's index serves it: its primary user code, else any
            // of its others.
            let p = self.arg(Arg::Text(code.clone()));
            self.text.push_str(&format!(
                " AND {t}.org_id = COALESCE((SELECT o2.id FROM organisations o2 WHERE o2.user_code = {p}),                  (SELECT c2.org_id FROM org_user_codes c2 WHERE c2.code = {p}))"
            ));
        }
        if let Some(who) = f.assigned_to {
            let p = self.arg(Arg::Id(who));
            self.text.push_str(&format!(" AND {t}.{assignee} = {p}"));
        } else if f.unassigned {
            match on {
                Counted::Submissions => self.text.push_str(" AND s.assigned_to IS NULL"),
                Counted::Tally => {
                    let p = self.arg(Arg::Id(Uuid::nil()));
                    self.text.push_str(&format!(" AND t.assignee = {p}"));
                }
            }
        }
        if let Some(form) = &f.form {
            let p = self.arg(Arg::Text(form.clone()));
            self.text.push_str(&format!(
                " AND EXISTS (SELECT 1 FROM connections c WHERE c.org_id = {t}.org_id AND c.active AND c.form = {p})"
            ));
        }
    }
}

/// What a condition is written against.
#[derive(Clone, Copy)]
enum Counted {
    /// `submissions s`.
    Submissions,
    /// `queue_tally t`: the assignee is the nil UUID when nobody has taken a submission.
    Tally,
}

/// Binds every kept value to a query, in order.
macro_rules! bind_all {
    ($q:expr, $args:expr) => {{
        let mut q = $q;
        for a in $args {
            q = match a {
                Arg::Text(v) => q.bind(v),
                Arg::Time(v) => q.bind(v),
                Arg::Id(v) => q.bind(v),
            };
        }
        q
    }};
}

// After `bind_all!`, which it uses.
mod tally;

/// The statement for one page of `limit` rows (and one more, telling whether more follow).
fn page_sql(f: &QueueFilter, cursor: Option<Cursor>, limit: i64) -> Sql {
    let mut sql = Sql {
        // From a queue index in `(submitted_at, id)` order, stopping after one page; the
        // names the lines show are not joined here but kept by the node ([`names`]), so the
        // page reads `submissions` only, with the names' version (one value, read once).
        text: "SELECT s.id, s.org_id, s.kind, s.version, s.state, s.submitted_at, s.receipt_no, \
               s.assigned_to, s.location_id, s.flags, \
               (SELECT nv.n FROM name_version nv WHERE nv.id = 1) AS names_at, \
               s.replaced_at IS NOT NULL AS replaced, s.renewed_from IS NOT NULL AS renewal \
               FROM submissions s"
            .into(),
        args: Vec::new(),
    };
    sql.filter(f, true);
    // Row values compare as the index orders, so the cursor is a range on the index.
    let order = match cursor {
        Some(Cursor::After(at, id)) => {
            let (a, i) = (sql.arg(Arg::Time(at)), sql.arg(Arg::Id(id)));
            sql.text
                .push_str(&format!(" AND (s.submitted_at, s.id) > ({a}, {i})"));
            "s.submitted_at, s.id"
        }
        Some(Cursor::Before(at, id)) => {
            let (a, i) = (sql.arg(Arg::Time(at)), sql.arg(Arg::Id(id)));
            sql.text
                .push_str(&format!(" AND (s.submitted_at, s.id) < ({a}, {i})"));
            "s.submitted_at DESC, s.id DESC"
        }
        None => "s.submitted_at, s.id",
    };
    // The limit is written out, not bound: SQLite re-plans (parses and prepares again) a
    // statement on every execution that binds its LIMIT, as a bound LIMIT may change the plan.
    sql.text
        .push_str(&format!(" ORDER BY {order} LIMIT {}", limit + 1));
    sql
}

/// One page of at most `limit` rows of the queue, oldest first, from the cursor.
pub async fn queue(
    db: &Db,
    f: &QueueFilter,
    cursor: Option<Cursor>,
    limit: i64,
) -> Result<QueuePage, sqlx::Error> {
    let Sql { text, args } = page_sql(f, cursor, limit);
    // Every queue page asks: on a kept connection (one trip to the database, not two).
    let mut rows: Vec<QueueRow> = on_kept!(db, c => bind_all!(
        sqlx::query_as::<_, QueueRow>(sqlx::AssertSqlSafe(text)), args
    )
    .fetch_all(&mut *c)
    .await)?;
    // Oldest first (a page going back is read newest first). The one row past the page, when
    // there is one, is the newest going forward and the oldest going back.
    rows.sort_unstable_by_key(|r| (r.submitted_at, r.id));
    let page = usize::try_from(limit).unwrap_or(0);
    let more = rows.len() > page;
    if more {
        match cursor {
            Some(Cursor::Before(..)) => drop(rows.drain(..rows.len() - page)),
            _ => rows.truncate(page),
        }
    }
    Ok(QueuePage { rows, more })
}

/// The names of the organisations, people and places a page's lines carry (at most 1,000 of
/// each), each with the names' version read in the same statement.
pub async fn names(
    db: &Db,
    orgs: &[Uuid],
    people: &[Uuid],
    places: &[Uuid],
) -> Result<Vec<QueueName>, sqlx::Error> {
    let mut sql = Sql::default();
    let version = "(SELECT nv.n FROM name_version nv WHERE nv.id = 1)";
    let mut parts = Vec::new();
    for (ids, select) in [
        (
            orgs,
            "SELECT 'o' AS kind, o.id, o.name, o.user_code AS extra, {v} AS names_at \
             FROM organisations o WHERE o.id IN ({list})",
        ),
        (
            people,
            "SELECT 'u' AS kind, u.id, u.display_name AS name, NULL AS extra, {v} AS names_at \
             FROM users u WHERE u.id IN ({list})",
        ),
        (
            places,
            "SELECT 'l' AS kind, l.id, l.name, lo.name AS extra, {v} AS names_at \
             FROM locations l LEFT JOIN locations lo ON lo.id = l.office_id WHERE l.id IN ({list})",
        ),
    ] {
        let ids = &ids[..ids.len().min(1000)];
        if ids.is_empty() {
            continue;
        }
        let list: Vec<String> = ids.iter().map(|id| sql.arg(Arg::Id(*id))).collect();
        parts.push(
            select
                .replace("{v}", version)
                .replace("{list}", &list.join(", ")),
        );
    }
    if parts.is_empty() {
        return Ok(Vec::new());
    }
    sql.text = parts.join(" UNION ALL ");
    let Sql { text, args } = sql;
    on_db!(db, p => bind_all!(
        sqlx::query_as::<_, QueueName>(sqlx::AssertSqlSafe(text)), args
    )
    .fetch_all(p)
    .await)
}

/// The decision of a decided line: when, and by whom.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Decided {
    pub submission_id: Uuid,
    pub decided_at: DateTime<Utc>,
    pub reviewer: String,
}

/// The decisions of a page's decided lines (at most 1,000), by the unique index on
/// `decisions.submission_id`.
pub async fn decisions(db: &Db, ids: &[Uuid]) -> Result<Vec<Decided>, sqlx::Error> {
    let ids = &ids[..ids.len().min(1000)];
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut sql = Sql::default();
    let list: Vec<String> = ids.iter().map(|id| sql.arg(Arg::Id(*id))).collect();
    sql.text = format!(
        "SELECT d.submission_id, d.decided_at, u.display_name AS reviewer FROM decisions d \
         JOIN users u ON u.id = d.reviewer_id WHERE d.submission_id IN ({})",
        list.join(", ")
    );
    let Sql { text, args } = sql;
    on_db!(db, p => bind_all!(
        sqlx::query_as::<_, Decided>(sqlx::AssertSqlSafe(text)), args
    )
    .fetch_all(p)
    .await)
}

/// How many submissions wait for the Center's decision.
pub async fn waiting_count(db: &Db) -> Result<i64, sqlx::Error> {
    // From the counters (see [`counts`]): no scan of the queue on every scrape.
    on_db!(db, p => sqlx::query_scalar(
        "SELECT CAST(COALESCE(SUM(n), 0) AS BIGINT) FROM queue_tally WHERE state = 'submitted'",
    )
    .fetch_one(p)
    .await)
}

/// The plan the database chooses for one page under `f` (`EXPLAIN QUERY PLAN` on SQLite,
/// `EXPLAIN` on PostgreSQL), one line per step: for the tests that hold the indexes to it.
pub async fn plan(
    db: &Db,
    f: &QueueFilter,
    cursor: Option<Cursor>,
    limit: i64,
) -> Result<Vec<String>, sqlx::Error> {
    let Sql { text, args } = page_sql(f, cursor, limit);
    match db.pool() {
        super::Pool::Sqlite(p) => {
            let rows: Vec<(i64, i64, i64, String)> = bind_all!(
                sqlx::query_as(sqlx::AssertSqlSafe(format!("EXPLAIN QUERY PLAN {text}"))),
                args
            )
            .fetch_all(p)
            .await?;
            Ok(rows.into_iter().map(|r| r.3).collect())
        }
        super::Pool::Postgres(p) => {
            bind_all!(
                sqlx::query_scalar(sqlx::AssertSqlSafe(format!("EXPLAIN {text}"))),
                args
            )
            .fetch_all(p)
            .await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_filters_that_are_set_reach_the_sql_and_every_value_is_bound() {
        let plain = page_sql(&QueueFilter::default(), None, 50);
        assert!(!plain.text.contains("IS NULL OR"));
        assert!(!plain.text.contains("kind ="));
        assert_eq!(plain.args.len(), 1, "the state");
        assert!(plain.text.ends_with("LIMIT 51"), "the limit written out");
        let f = QueueFilter {
            kind: Some("antivirus' OR 1=1 --".into()),
            org_code: Some("ACME".into()),
            unassigned: true,
            ..QueueFilter::default()
        };
        let at = Utc::now();
        let sql = page_sql(&f, Some(Cursor::After(at, Uuid::nil())), 50);
        assert!(!sql.text.contains("antivirus") && !sql.text.contains("ACME"));
        assert!(sql.text.contains("s.kind = $2") && sql.text.contains("s.assigned_to IS NULL"));
        assert!(sql.text.contains("(s.submitted_at, s.id) > ($4, $5)"));
        assert!(sql.text.ends_with("ORDER BY s.submitted_at, s.id LIMIT 51"));
        let back = page_sql(&f, Some(Cursor::Before(at, Uuid::nil())), 50);
        assert!(
            back.text
                .ends_with("ORDER BY s.submitted_at DESC, s.id DESC LIMIT 51")
        );
    }
}

//! The retention purge (保存期間を過ぎた記録の削除): once a day, what is past its retention
//! period and not on legal hold goes — submissions with their files, gateway logs, and the
//! oldest audit entries (behind a sealed checkpoint, so `audit verify` still holds) — and the
//! purge itself is written to the audit trail with what it removed and the files' SHA-256.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde_json::json;

use crate::db::audit::PurgedPrefix;
use crate::db::retention::{Candidate, Due as DueSort, RemovedFile};
use crate::db::{self, Db, Tx};
use crate::domain::retention::{Clock, Period, RecordType};
use crate::files::FileStore;

/// The hour (JST) from which the day's purge runs unless configured (`SECPORTAL_PURGE_HOUR`):
/// before the working day and the mail.
pub const PURGE_FROM_HOUR: u32 = 2;

/// The day in Japan, where the purge's day is counted.
pub fn jst_day(t: DateTime<Utc>) -> NaiveDate {
    (t + Duration::hours(9)).date_naive()
}

/// How a purge is started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Run {
    /// The scheduler's daily purge: once per JST day, whichever node or run claims it first.
    Daily,
    /// An operator's purge from the command line: runs now, queued behind any other purge.
    Now,
}

/// How many submissions a purge takes per transaction: each batch is its own transaction
/// with its own audit entry, short enough that holds, sign-ins and a shutdown never wait
/// long behind it.
pub const BATCH: usize = 500;

/// What of one sort a purge at one moment would take.
#[derive(Debug, Clone, Default)]
pub struct Due {
    pub count: i64,
    /// The receipt numbers of the first few, in the order the purge takes them.
    pub first: Vec<String>,
}

/// What a purge at one moment takes.
#[derive(Debug, Clone)]
pub struct Plan {
    pub now: DateTime<Utc>,
    /// Each type's period and the moment before which its records are past retention.
    pub cutoffs: Vec<(RecordType, Period, DateTime<Utc>)>,
    pub submissions: Due,
    pub gateway_logs: Due,
    /// The prefix of the audit trail past retention, if any.
    pub audit: Option<PurgedPrefix>,
}

/// Each type's period and cutoff at `now`.
async fn cutoffs(
    db: &Db,
    now: DateTime<Utc>,
) -> anyhow::Result<Vec<(RecordType, Period, DateTime<Utc>)>> {
    Ok(db::retention::periods(db)
        .await?
        .into_iter()
        .map(|(t, p, _)| (t, p, p.cutoff(now)))
        .collect())
}

fn cutoff_of(cutoffs: &[(RecordType, Period, DateTime<Utc>)], t: RecordType) -> DateTime<Utc> {
    cutoffs
        .iter()
        .find(|c| c.0 == t)
        .map(|c| c.2)
        // A period missing from the table purges nothing.
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

impl Plan {
    /// How many audit entries the plan removes.
    pub fn audit_count(&self) -> i64 {
        self.audit
            .as_ref()
            .map_or(0, |a| a.through_seq - a.from_seq + 1)
    }
}

/// What a purge removed.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub submissions: Vec<String>,
    pub gateway_logs: Vec<String>,
    pub files: Vec<RemovedFile>,
    pub audit_entries: u64,
    /// Blobs deleted from the store (a blob another record still uses stays).
    pub blobs_deleted: usize,
    /// Transactions (batches) it ran, each with its audit entry.
    pub batches: usize,
    /// Stopped by a shutdown before all that was due was taken.
    pub interrupted: bool,
}

/// What a purge at `now` would take, changing nothing (`retention purge --dry-run`, the
/// settings page): counts through the purge's indexes, the first ten of each sort.
pub async fn plan(db: &Db, now: DateTime<Utc>) -> anyhow::Result<Plan> {
    let cutoffs = cutoffs(db, now).await?;
    let mut tx = db.begin().await?;
    let submissions = due(
        &mut tx,
        DueSort::Reports,
        cutoff_of(&cutoffs, RecordType::Submissions),
    )
    .await?;
    let gateway_logs = due(
        &mut tx,
        DueSort::GatewayLogs,
        cutoff_of(&cutoffs, RecordType::GatewayLogs),
    )
    .await?;
    let keep_from = db::retention::first_held_entry(&mut tx).await?;
    let audit =
        db::audit::purgeable(&mut tx, cutoff_of(&cutoffs, RecordType::Audit), keep_from).await?;
    // Dropped without commit: nothing was written.
    drop(tx);
    Ok(Plan {
        now,
        cutoffs,
        submissions,
        gateway_logs,
        audit,
    })
}

/// How many of one sort are due, and the first ten.
async fn due(tx: &mut Tx, sort: DueSort, before: DateTime<Utc>) -> anyhow::Result<Due> {
    let count = db::retention::count_due(tx, sort, before).await?;
    let first = db::retention::next_due(tx, sort, before, None, 10).await?;
    Ok(Due {
        count,
        first: receipts(&first),
    })
}

/// At most ten receipt numbers and how many more, for a line on a terminal.
fn some(receipts: &[String], count: usize) -> String {
    let shown = receipts
        .iter()
        .take(10)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    match count {
        0 => "-".into(),
        n if n > 10 => format!("{shown} and {} more", n - 10),
        _ => shown,
    }
}

fn receipts(list: &[Candidate]) -> Vec<String> {
    list.iter()
        .map(|c| c.receipt_no.clone().unwrap_or_default())
        .collect()
}

/// Runs a purge at the clock's "now" to the end; `None` when the day's purge was already
/// done (`Daily`). `actor` is who the audit entry names (`system`, `cli`).
pub async fn purge(
    db: &Db,
    files: &FileStore,
    clock: &dyn Clock,
    run: Run,
    actor: &str,
) -> anyhow::Result<Option<Report>> {
    let never = AtomicBool::new(false);
    purge_in_batches(db, files, clock, run, actor, BATCH, &never).await
}

/// [`purge`] in batches of `batch` submissions, each its own transaction; between two it
/// stops when `stop` is set (a shutdown), and gives the day's claim back so the next start
/// takes the rest. (A server whose pool closes first ends it sooner: the batch in hand rolls
/// back, the day stays claimed, and the rest waits for the next day's purge.)
pub async fn purge_in_batches(
    db: &Db,
    files: &FileStore,
    clock: &dyn Clock,
    run: Run,
    actor: &str,
    batch: usize,
    stop: &AtomicBool,
) -> anyhow::Result<Option<Report>> {
    let batch = batch.max(1);
    let now = clock.now();
    let cutoffs = cutoffs(db, now).await?;
    let (reports_before, logs_before) = (
        cutoff_of(&cutoffs, RecordType::Submissions),
        cutoff_of(&cutoffs, RecordType::GatewayLogs),
    );
    let mut report = Report::default();
    let (mut after_report, mut after_log) = (None, None);
    loop {
        let first = report.batches == 0;
        let mut tx = db.begin().await?;
        // The claim (or, after the first batch, the lock) is the transaction's first write: a
        // second purge started meanwhile waits on it, then finds the day taken (Daily) or
        // nothing left to take (Now); a hold being set waits too, or is seen by this batch.
        if first {
            if !db::retention::claim_purge(&mut tx, jst_day(now), now, run == Run::Now).await? {
                return Ok(None);
            }
        } else {
            db::retention::lock(&mut tx).await?;
        }
        let reports = db::retention::next_due(
            &mut tx,
            DueSort::Reports,
            reports_before,
            after_report,
            batch,
        )
        .await?;
        let logs = if reports.len() < batch {
            db::retention::next_due(
                &mut tx,
                DueSort::GatewayLogs,
                logs_before,
                after_log,
                batch - reports.len(),
            )
            .await?
        } else {
            vec![]
        };
        let more = reports.len() + logs.len() == batch;
        if !first && reports.is_empty() && logs.is_empty() {
            break;
        }
        after_report = reports.last().map(|c| (c.at, c.id)).or(after_report);
        after_log = logs.last().map(|c| (c.at, c.id)).or(after_log);
        let audit = if first {
            let keep_from = db::retention::first_held_entry(&mut tx).await?;
            db::audit::purgeable(&mut tx, cutoff_of(&cutoffs, RecordType::Audit), keep_from).await?
        } else {
            None
        };
        let done = purge_batch(
            &mut tx,
            &cutoffs,
            now,
            report.batches + 1,
            &reports,
            &logs,
            audit.as_ref(),
            actor,
        )
        .await?;
        tx.commit().await?;
        report.blobs_deleted += delete_blobs(db, files, &done.files).await;
        report.batches += 1;
        report.submissions.extend(receipts(&reports));
        report.gateway_logs.extend(receipts(&logs));
        report.files.extend(done.files);
        report.audit_entries += done.audit_entries;
        if !more {
            break;
        }
        if stop.load(Ordering::Relaxed) {
            report.interrupted = true;
            if run == Run::Daily {
                db::retention::release_claim(db, jst_day(now)).await?;
            }
            break;
        }
    }
    Ok(Some(report))
}

/// What one batch removed.
struct Batch {
    files: Vec<RemovedFile>,
    audit_entries: u64,
}

/// Removes one batch's submissions (and, in the first, the audit prefix) and writes its
/// audit entry with what went and the files' SHA-256.
#[allow(clippy::too_many_arguments)]
async fn purge_batch(
    tx: &mut Tx,
    cutoffs: &[(RecordType, Period, DateTime<Utc>)],
    now: DateTime<Utc>,
    number: usize,
    reports: &[Candidate],
    logs: &[Candidate],
    audit: Option<&PurgedPrefix>,
    actor: &str,
) -> anyhow::Result<Batch> {
    let ids: Vec<_> = reports.iter().chain(logs).map(|c| c.id).collect();
    let removed = db::retention::remove_submissions(tx, &ids).await?;
    let audit_entries = match audit {
        Some(p) => db::audit::remove_prefix(tx, p).await?,
        None => 0,
    };
    let receipt_of = |id| {
        reports
            .iter()
            .chain(logs)
            .find(|c| c.id == id)
            .and_then(|c| c.receipt_no.clone())
            .unwrap_or_default()
    };
    let detail = json!({
        "now": now,
        "batch": number,
        "cutoffs": cutoffs.iter().map(|(t, p, at)| json!({
            "record_type": t.as_str(), "months": p.months(), "before": at,
        })).collect::<Vec<_>>(),
        "submissions": { "count": reports.len(), "receipts": receipts(reports) },
        "gateway_logs": { "count": logs.len(), "receipts": receipts(logs) },
        "files": removed.iter().map(|f| json!({
            "receipt": receipt_of(f.submission_id), "name": f.name, "size": f.size, "sha256": f.sha256,
        })).collect::<Vec<_>>(),
        "audit": match audit {
            Some(p) => json!({
                "count": audit_entries, "from_seq": p.from_seq, "through_seq": p.through_seq,
                "through_hash": p.through_hash,
            }),
            None => json!({ "count": 0 }),
        },
    });
    db::audit::append(
        tx,
        &db::audit::Entry {
            actor_id: None,
            actor: actor.to_string(),
            org_id: None,
            action: "retention.purged",
            // The purge's day; what it removed is in the detail.
            target: jst_day(now).to_string(),
            ip: String::new(),
            detail,
        },
    )
    .await?;
    Ok(Batch {
        files: removed,
        audit_entries,
    })
}

/// Deletes the blobs of removed file rows no other record uses; answers how many went.
/// The rows went first and the blobs only now, after the commit: a crash in between leaves
/// blobs no row names, which the sweep removes later; the other order would leave rows
/// naming files that are gone (downloads failing, `secportal check` failing, and a retried
/// purge unable to say what it removed).
async fn delete_blobs(db: &Db, files: &FileStore, removed: &[RemovedFile]) -> usize {
    let mut deleted = 0;
    let shas: BTreeSet<&str> = removed.iter().map(|f| f.sha256.as_str()).collect();
    for sha in shas {
        let referenced = |sha: String| {
            let db = db.clone();
            async move { Ok(db::submissions::blob_referenced(&db, &sha).await?) }
        };
        match files.remove_unreferenced(sha, referenced).await {
            Ok(true) => deleted += 1,
            Ok(false) => {}
            // Left for the sweep: it is no longer referenced.
            Err(e) => tracing::warn!(error = %e, sha256 = sha, "purged file not deleted yet"),
        }
    }
    deleted
}

/// The scheduler's step: from `from_hour` JST, once a day (one small read otherwise); a
/// shutdown (`stop`) ends it after the batch in hand.
pub async fn daily(
    db: &Db,
    files: &FileStore,
    clock: &dyn Clock,
    from_hour: u32,
    stop: &AtomicBool,
) -> anyhow::Result<()> {
    let now = clock.now();
    let local = now + Duration::hours(9);
    if chrono::Timelike::hour(&local) < from_hour
        || db::retention::purged_on(db).await? >= Some(jst_day(now))
    {
        return Ok(());
    }
    if let Some(r) = purge_in_batches(db, files, clock, Run::Daily, "system", BATCH, stop).await? {
        tracing::info!(
            submissions = r.submissions.len(),
            gateway_logs = r.gateway_logs.len(),
            files = r.files.len(),
            blobs = r.blobs_deleted,
            audit_entries = r.audit_entries,
            batches = r.batches,
            interrupted = r.interrupted,
            "retention purge done"
        );
    }
    Ok(())
}

/// `secportal retention purge [--dry-run]`: prints what was (or would be) removed.
pub async fn purge_command(config: &crate::Config, dry_run: bool) -> anyhow::Result<i32> {
    let key = crate::security::audit_key(config, crate::security::KeyFile::MustExist).await?;
    let db = Db::connect(&config.database_url).await?.with_audit_key(key);
    let clock = crate::domain::retention::SystemClock;
    if dry_run {
        let p = plan(&db, clock.now()).await?;
        for (t, period, before) in &p.cutoffs {
            println!(
                "{}: {} months, past retention if before {}",
                t.as_str(),
                period.months(),
                before.to_rfc3339()
            );
        }
        println!(
            "a purge now would remove {} submission(s) ({}), {} gateway log submission(s) ({}), {} audit entr(y/ies)",
            p.submissions.count,
            some(&p.submissions.first, p.submissions.count as usize),
            p.gateway_logs.count,
            some(&p.gateway_logs.first, p.gateway_logs.count as usize),
            p.audit_count()
        );
        return Ok(0);
    }
    let files = FileStore::from_config(config)?.with_holds(crate::app::blob_holds::shared(&db));
    // Ctrl-C ends the purge after the batch in hand; what is left waits for the next one.
    let stop = std::sync::Arc::new(AtomicBool::new(false));
    let on_signal = stop.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            on_signal.store(true, Ordering::Relaxed);
        }
    });
    let r = purge_in_batches(&db, &files, &clock, Run::Now, "cli", BATCH, &stop)
        .await?
        .unwrap_or_default();
    println!(
        "removed {} submission(s) ({}), {} gateway log submission(s) ({}), {} file row(s) ({} stored file(s) deleted), {} audit entr(y/ies)",
        r.submissions.len(),
        some(&r.submissions, r.submissions.len()),
        r.gateway_logs.len(),
        some(&r.gateway_logs, r.gateway_logs.len()),
        r.files.len(),
        r.blobs_deleted,
        r.audit_entries
    );
    if r.interrupted {
        println!("stopped before the end: the next purge takes the rest");
    }
    Ok(0)
}

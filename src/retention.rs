//! The retention purge (保存期間を過ぎた記録の削除): once a day, what is past its retention
//! period and not on legal hold goes — submissions with their files, gateway logs, and the
//! oldest audit entries (behind a sealed checkpoint, so `audit verify` still holds) — and the
//! purge itself is written to the audit trail with what it removed and the files' SHA-256.

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde_json::json;

use crate::db::audit::PurgedPrefix;
use crate::db::retention::{Candidate, RemovedFile};
use crate::db::{self, Db, Tx};
use crate::domain::retention::{Clock, Period, RecordType};
use crate::files::FileStore;

/// The hour (JST) from which the day's purge runs: before the working day and the mail.
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

/// What a purge at one moment takes.
#[derive(Debug, Clone)]
pub struct Plan {
    pub now: DateTime<Utc>,
    /// Each type's period and the moment before which its records are past retention.
    pub cutoffs: Vec<(RecordType, Period, DateTime<Utc>)>,
    pub submissions: Vec<Candidate>,
    pub gateway_logs: Vec<Candidate>,
    /// The prefix of the audit trail past retention, if any.
    pub audit: Option<PurgedPrefix>,
}

impl Plan {
    fn cutoff(&self, t: RecordType) -> DateTime<Utc> {
        self.cutoffs
            .iter()
            .find(|c| c.0 == t)
            .map(|c| c.2)
            // A period missing from the table purges nothing.
            .unwrap_or(DateTime::<Utc>::MIN_UTC)
    }

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
}

async fn plan_in(tx: &mut Tx, db: &Db, now: DateTime<Utc>) -> anyhow::Result<Plan> {
    let cutoffs: Vec<_> = db::retention::periods(db)
        .await?
        .into_iter()
        .map(|(t, p, _)| (t, p, p.cutoff(now)))
        .collect();
    let mut plan = Plan {
        now,
        cutoffs,
        submissions: vec![],
        gateway_logs: vec![],
        audit: None,
    };
    let all = db::retention::candidates(
        tx,
        plan.cutoff(RecordType::Submissions),
        plan.cutoff(RecordType::GatewayLogs),
    )
    .await?;
    (plan.gateway_logs, plan.submissions) = all.into_iter().partition(|c| c.kind == "gateway_logs");
    let keep_from = db::retention::first_held_entry(tx).await?;
    plan.audit = db::audit::purgeable(tx, plan.cutoff(RecordType::Audit), keep_from).await?;
    Ok(plan)
}

/// What a purge at `now` would take, changing nothing (`retention purge --dry-run`, the
/// settings page).
pub async fn plan(db: &Db, now: DateTime<Utc>) -> anyhow::Result<Plan> {
    let mut tx = db.begin().await?;
    let plan = plan_in(&mut tx, db, now).await;
    // Dropped without commit: nothing was written.
    drop(tx);
    plan
}

/// At most ten receipt numbers and how many more, for a line on a terminal.
fn some(receipts: &[String]) -> String {
    let shown = receipts
        .iter()
        .take(10)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    match receipts.len() {
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

/// Runs a purge at the clock's "now"; `None` when the day's purge was already done (`Daily`).
/// `actor` is who the audit entry names (`system`, `cli`).
pub async fn purge(
    db: &Db,
    files: &FileStore,
    clock: &dyn Clock,
    run: Run,
    actor: &str,
) -> anyhow::Result<Option<Report>> {
    let now = clock.now();
    let mut tx = db.begin().await?;
    // The claim is the transaction's first write: a second purge started meanwhile waits on
    // it, then finds the day taken (Daily) or nothing left to take (Now).
    if !db::retention::claim_purge(&mut tx, jst_day(now), now, run == Run::Now).await? {
        return Ok(None);
    }
    let plan = plan_in(&mut tx, db, now).await?;
    let ids: Vec<_> = plan
        .submissions
        .iter()
        .chain(&plan.gateway_logs)
        .map(|c| c.id)
        .collect();
    let removed = db::retention::remove_submissions(&mut tx, &ids).await?;
    let audit_entries = match &plan.audit {
        Some(p) => db::audit::remove_prefix(&mut tx, p).await?,
        None => 0,
    };
    let receipt_of = |id| {
        plan.submissions
            .iter()
            .chain(&plan.gateway_logs)
            .find(|c| c.id == id)
            .and_then(|c| c.receipt_no.clone())
            .unwrap_or_default()
    };
    let detail = json!({
        "now": plan.now,
        "cutoffs": plan.cutoffs.iter().map(|(t, p, at)| json!({
            "record_type": t.as_str(), "months": p.months(), "before": at,
        })).collect::<Vec<_>>(),
        "submissions": { "count": plan.submissions.len(), "receipts": receipts(&plan.submissions) },
        "gateway_logs": { "count": plan.gateway_logs.len(), "receipts": receipts(&plan.gateway_logs) },
        "files": removed.iter().map(|f| json!({
            "receipt": receipt_of(f.submission_id), "name": f.name, "size": f.size, "sha256": f.sha256,
        })).collect::<Vec<_>>(),
        "audit": match &plan.audit {
            Some(p) => json!({
                "count": audit_entries, "from_seq": p.from_seq, "through_seq": p.through_seq,
                "through_hash": p.through_hash,
            }),
            None => json!({ "count": 0 }),
        },
    });
    db::audit::append(
        &mut tx,
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
    tx.commit().await?;
    // The rows went first and the blobs only now, after the commit: a crash in between leaves
    // blobs no row names, which the sweep removes later; the other order would leave rows
    // naming files that are gone (downloads failing, `secportal check` failing, and a
    // retried purge unable to say what it removed).
    let mut blobs_deleted = 0;
    let shas: BTreeSet<&str> = removed.iter().map(|f| f.sha256.as_str()).collect();
    for sha in shas {
        let referenced = |sha: String| {
            let db = db.clone();
            async move { Ok(db::submissions::blob_referenced(&db, &sha).await?) }
        };
        match files.remove_unreferenced(sha, referenced).await {
            Ok(true) => blobs_deleted += 1,
            Ok(false) => {}
            // Left for the sweep: it is no longer referenced.
            Err(e) => tracing::warn!(error = %e, sha256 = sha, "purged file not deleted yet"),
        }
    }
    Ok(Some(Report {
        submissions: receipts(&plan.submissions),
        gateway_logs: receipts(&plan.gateway_logs),
        files: removed,
        audit_entries,
        blobs_deleted,
    }))
}

/// The scheduler's step: from [`PURGE_FROM_HOUR`] JST, once a day (one small read otherwise).
pub async fn daily(db: &Db, files: &FileStore, clock: &dyn Clock) -> anyhow::Result<()> {
    let now = clock.now();
    let local = now + Duration::hours(9);
    if chrono::Timelike::hour(&local) < PURGE_FROM_HOUR
        || db::retention::purged_on(db).await? >= Some(jst_day(now))
    {
        return Ok(());
    }
    if let Some(r) = purge(db, files, clock, Run::Daily, "system").await? {
        tracing::info!(
            submissions = r.submissions.len(),
            gateway_logs = r.gateway_logs.len(),
            files = r.files.len(),
            blobs = r.blobs_deleted,
            audit_entries = r.audit_entries,
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
            p.submissions.len(),
            some(&receipts(&p.submissions)),
            p.gateway_logs.len(),
            some(&receipts(&p.gateway_logs)),
            p.audit_count()
        );
        return Ok(0);
    }
    let files = FileStore::open(&config.files_dir(), config.max_file_bytes, config.max_files)?;
    let r = purge(&db, &files, &clock, Run::Now, "cli")
        .await?
        .unwrap_or_default();
    println!(
        "removed {} submission(s) ({}), {} gateway log submission(s) ({}), {} file row(s) ({} stored file(s) deleted), {} audit entr(y/ies)",
        r.submissions.len(),
        some(&r.submissions),
        r.gateway_logs.len(),
        some(&r.gateway_logs),
        r.files.len(),
        r.blobs_deleted,
        r.audit_entries
    );
    Ok(0)
}

//! The re-check of a log after its site's column mapping changed (issue 11 item 2), off the
//! request: saving a mapping queues the re-check as a row (`gateway_log_site_checks`,
//! `pending`); a worker claims it with one conditional UPDATE (so one node runs it) and a
//! lease it renews while it reads (a node that stops midway leaves a lease that runs out, and
//! the row is claimed again), reads the stored log through the upload's own check with the
//! mapping, and keeps the result with its audit entry in one transaction. A multi-GB log no
//! longer holds the request (nor a database connection) while it is read.

use std::sync::Arc;
use std::time::Duration;

use super::{App, Error};
use crate::db;
use crate::db::gateway_logs::RecheckJob;
use crate::domain::gatewaylog::{Refused, SiteColumns};
use crate::files::gwlog::{Limits, visit_stored};

/// How long a claim holds before another node may take the re-check over.
const LEASE: Duration = Duration::from_secs(120);
/// How often a running re-check renews its lease.
const RENEW: Duration = Duration::from_secs(30);
/// Claims of one re-check before it is given up as `failed` (the store could not be read).
const MAX_ATTEMPTS: i64 = 3;

/// Runs the waiting re-checks now, off the caller (after a mapping is saved).
pub fn kick(app: Arc<App>) {
    if app.config.log_recheck_every.is_none() {
        return;
    }
    tokio::spawn(async move {
        if let Err(e) = run_pending(&app).await {
            tracing::warn!(error = %e, "gateway-log re-check failed");
        }
    });
}

/// Looks for waiting re-checks every `log_recheck_every` (and once at start).
pub fn spawn_worker(app: Arc<App>) {
    let Some(every) = app.config.log_recheck_every else {
        return;
    };
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        loop {
            tick.tick().await;
            if app.stopping.load(std::sync::atomic::Ordering::Relaxed) {
                return;
            }
            if let Err(e) = run_pending(&app).await {
                tracing::warn!(error = %e, "gateway-log re-check failed");
            }
        }
    });
}

/// Claims and runs re-checks until none waits; answers how many ran to an end here.
pub async fn run_pending(app: &App) -> Result<usize, Error> {
    let holder = app.instance.clone();
    let mut ran = 0;
    loop {
        let now = db::now();
        let until = now + chrono::Duration::from_std(LEASE).unwrap_or(chrono::Duration::minutes(2));
        let Some(job) = db::gateway_logs::claim_recheck(&app.db, &holder, now, until).await? else {
            return Ok(ran);
        };
        if run(app, &job, &holder).await? {
            ran += 1;
        }
    }
}

/// How a re-check ended.
enum Outcome {
    Done(String, u64),
    Refused(serde_json::Value),
    Broken(anyhow::Error),
}

/// Reads the log with the job's mapping and keeps what came of it; false when the row had
/// changed meanwhile (nothing kept).
async fn run(app: &App, job: &RecheckJob, holder: &str) -> Result<bool, Error> {
    let renewing = {
        let (db, job, holder) = (app.db.clone(), job.clone(), holder.to_string());
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(RENEW).await;
                let until = db::now()
                    + chrono::Duration::from_std(LEASE).unwrap_or(chrono::Duration::minutes(2));
                match db::gateway_logs::renew_recheck(&db, &job, &holder, until).await {
                    Ok(true) => {}
                    Ok(false) => return,
                    Err(e) => tracing::warn!(error = %e, "re-check lease not renewed"),
                }
            }
        })
    };
    let outcome = read(app, job).await;
    renewing.abort();
    let (state, result, reason, detail) = match &outcome {
        Outcome::Done(json, lines) => (
            "done",
            Some(json.as_str()),
            None,
            serde_json::json!({ "outcome": "done", "lines": lines }),
        ),
        Outcome::Refused(why) => (
            "refused",
            None,
            Some(why.to_string()),
            serde_json::json!({ "outcome": "refused", "reason": why }),
        ),
        Outcome::Broken(e) => {
            tracing::warn!(error = %format!("{e:#}"), sha256 = %job.sha256, attempt = job.attempts, "gateway-log re-check could not read the log");
            let last = job.attempts >= MAX_ATTEMPTS;
            (
                if last { "failed" } else { "pending" },
                None,
                None,
                serde_json::json!({ "outcome": "failed", "attempts": job.attempts }),
            )
        }
    };
    let mut tx = app.db.begin().await?;
    if !db::gateway_logs::finish_recheck(&mut tx, job, holder, state, result, reason.as_deref())
        .await?
    {
        return Ok(false);
    }
    if state != "pending" {
        let mut detail = detail;
        detail["file"] = job.file_name.clone().into();
        detail["sha256"] = job.sha256.clone().into();
        detail["version"] = job.version.into();
        detail["requested_by"] = job.requested_by.map(|u| u.to_string()).into();
        db::audit::append(
            &mut tx,
            &db::audit::Entry {
                actor_id: None,
                actor: "system".into(),
                org_id: Some(job.org_id),
                action: "gateway_log.rechecked",
                target: job.site_id.to_string(),
                ip: String::new(),
                detail,
            },
        )
        .await?;
    }
    tx.commit().await?;
    Ok(state != "pending")
}

async fn read(app: &App, job: &RecheckJob) -> Outcome {
    let Some(site) = job
        .mapping
        .as_deref()
        .and_then(|m| serde_json::from_str::<SiteColumns>(m).ok())
    else {
        return Outcome::Broken(anyhow::anyhow!("the re-check's mapping does not read"));
    };
    let stream = match app.files.read(&job.sha256).await {
        Ok(s) => s,
        Err(e) => return Outcome::Broken(e),
    };
    let limits = Limits {
        max_inflated: app.config.max_log_bytes.saturating_mul(16),
    };
    match visit_stored(stream, limits, Some(site), ()).await {
        Ok(((), Ok(check))) => match serde_json::to_string(&check) {
            Ok(json) => Outcome::Done(json, check.lines),
            Err(e) => Outcome::Broken(e.into()),
        },
        Ok(((), Err(r))) => Outcome::Refused(refusal_json(&r)),
        Err(e) => Outcome::Broken(e),
    }
}

/// A refusal as kept with the row (the page reads it back with [`refusal_of`]).
pub fn refusal_json(r: &Refused) -> serde_json::Value {
    let (kind, at) = match r {
        Refused::Empty => ("empty", None),
        Refused::HeaderOnly => ("header_only", None),
        Refused::Columns(_) => ("columns", None),
        Refused::LongLine(a) => ("long_line", Some(a)),
        Refused::Binary(a) => ("binary", Some(a)),
        Refused::Encoding(a) => ("encoding", Some(a)),
        Refused::Mixed(a) => ("mixed", Some(a)),
        Refused::TooManyColumns(a) => ("columns_many", Some(a)),
        Refused::Bomb => ("bomb", None),
        Refused::Compressed => ("compressed", None),
        Refused::ZipPath => ("zip_path", None),
        Refused::ZipEntries => ("zip_entries", None),
    };
    match (r, at) {
        (Refused::Columns(cols), _) => serde_json::json!({ "kind": kind, "columns": cols }),
        (_, Some(a)) => serde_json::json!({ "kind": kind, "at": [a.0, a.1] }),
        _ => serde_json::json!({ "kind": kind }),
    }
}

/// A kept refusal read back (`None` for one this build does not know).
pub fn refusal_of(json: &str) -> Option<Refused> {
    let v: serde_json::Value = serde_json::from_str(json).ok()?;
    let at = || -> Option<(u32, u64)> {
        let a = v.get("at")?.as_array()?;
        Some((
            u32::try_from(a.first()?.as_u64()?).ok()?,
            a.get(1)?.as_u64()?,
        ))
    };
    Some(match v.get("kind")?.as_str()? {
        "empty" => Refused::Empty,
        "header_only" => Refused::HeaderOnly,
        "columns" => Refused::Columns(
            v.get("columns")?
                .as_array()?
                .iter()
                .filter_map(|c| {
                    crate::domain::gatewaylog::mapping::FIELDS
                        .iter()
                        .find(|f| Some(**f) == c.as_str())
                        .copied()
                })
                .collect(),
        ),
        "long_line" => Refused::LongLine(at()?),
        "binary" => Refused::Binary(at()?),
        "encoding" => Refused::Encoding(at()?),
        "mixed" => Refused::Mixed(at()?),
        "columns_many" => Refused::TooManyColumns(at()?),
        "bomb" => Refused::Bomb,
        "compressed" => Refused::Compressed,
        "zip_path" => Refused::ZipPath,
        "zip_entries" => Refused::ZipEntries,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kept_refusal_reads_back_as_it_was() {
        for r in [
            Refused::Empty,
            Refused::HeaderOnly,
            Refused::LongLine((2, 40)),
            Refused::Mixed((0, 7)),
            Refused::ZipEntries,
        ] {
            assert_eq!(refusal_of(&refusal_json(&r).to_string()), Some(r));
        }
        assert_eq!(refusal_of("{\"kind\":\"later\"}"), None);
    }
}

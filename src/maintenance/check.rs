//! `secportal check`: every file the database refers to is in the store, with its size and
//! (in full) content matching its SHA-256 name.

use crate::db::{self, Db};
use crate::files::{BlobState, FileStore};

/// How closely to look.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Depth {
    /// Present with the recorded size (cheap: what the server does at start).
    Exists,
    /// Also read every file and compare its SHA-256 with its name (the command).
    Full,
}

/// One referenced file that is not as recorded.
#[derive(Debug, Clone)]
pub struct Problem {
    pub blob: db::blobs::BlobRef,
    pub state: BlobState,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let b = &self.blob;
        let what = match self.state {
            BlobState::Missing => "missing".to_string(),
            BlobState::WrongSize(n) => format!("altered (size {n}, recorded {})", b.size),
            BlobState::Altered => "altered (content does not match its SHA-256)".to_string(),
            BlobState::Intact => "intact".to_string(),
        };
        write!(
            f,
            "{what}: blobs/{} — {} {:?}{}",
            b.sha256,
            b.place,
            b.name,
            if b.uses > 1 {
                format!(" and {} more row(s)", b.uses - 1)
            } else {
                String::new()
            }
        )
    }
}

/// What a check found.
#[derive(Debug, Clone, Default)]
pub struct CheckReport {
    /// Distinct files referenced.
    pub checked: usize,
    pub problems: Vec<Problem>,
}

/// Walks every referenced blob (`submission_files`, `instruction_files`).
pub async fn check(db: &Db, store: &FileStore, depth: Depth) -> anyhow::Result<CheckReport> {
    let refs = db::blobs::referenced(db).await?;
    let mut report = CheckReport {
        checked: refs.len(),
        problems: vec![],
    };
    for blob in refs {
        let size = u64::try_from(blob.size).unwrap_or(0);
        let state = store
            .check_blob(&blob.sha256, size, depth == Depth::Full)
            .await?;
        if state != BlobState::Intact {
            report.problems.push(Problem { blob, state });
        }
    }
    Ok(report)
}

/// At start: the cheap check in the background, its findings as warnings in the log.
pub fn spawn_start_check(state: std::sync::Arc<crate::app::App>) {
    tokio::spawn(async move {
        match check(&state.db, &state.files, Depth::Exists).await {
            Ok(r) if r.problems.is_empty() => {
                tracing::debug!(checked = r.checked, "every referenced file is in the store")
            }
            Ok(r) => {
                tracing::warn!(
                    checked = r.checked,
                    problems = r.problems.len(),
                    "files the database refers to are missing or altered in the store: their downloads fail; run `secportal check` and restore them from a backup"
                );
                for p in r.problems.iter().take(20) {
                    tracing::warn!(sha256 = %p.blob.sha256, "{p}");
                }
            }
            Err(e) => tracing::warn!(error = %e, "file store check failed"),
        }
        repair_queue_counts(&state.db).await;
    });
}

/// The queue's counters against a full count (once at start, off the request path): when
/// they differ, each difference is logged and the counters are rebuilt.
async fn repair_queue_counts(db: &Db) {
    match db::queue::tally_drift(db).await {
        Ok(drift) if drift.is_empty() => tracing::debug!("queue counters match the submissions"),
        Ok(drift) => {
            tracing::warn!(
                counters = drift.len(),
                "queue counters differed from a full count of the submissions: rebuilt"
            );
            for d in drift.iter().take(20) {
                tracing::warn!("{}", describe_drift(d));
            }
            if let Err(e) = db::queue::rebuild_tally(db).await {
                tracing::error!(error = %e, "queue counters could not be rebuilt");
            }
        }
        Err(e) => tracing::warn!(error = %e, "queue counter check failed"),
    }
}

/// One counter that differs, for the log and the `check` command.
pub fn describe_drift(d: &db::queue::TallyDrift) -> String {
    format!(
        "queue counter {} / {} / organisation {} / {}: kept {}, counted {}",
        d.state,
        d.kind,
        d.org_id,
        d.assignee
            .map_or_else(|| "nobody's".to_string(), |a| format!("assignee {a}")),
        d.kept,
        d.counted
    )
}

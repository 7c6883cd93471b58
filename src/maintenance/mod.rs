//! Operating the store: `secportal backup`, `restore` and `check`, and the file sweep that
//! runs while serving. These join the database and the file store, so they live above both.
//!
//! The order is the point. A backup snapshots the database first and copies the files after:
//! blobs are immutable and named by content, so every row in the snapshot finds its file in
//! the copy (files stored after the snapshot are copied too and do no harm). The other order
//! leaves rows whose files were stored after the copy. A restore verifies every hash before it
//! writes anything, puts the files back first and the database last.

pub mod backup;
pub mod check;
pub mod lock;
pub mod manifest;
mod pgtools;
pub mod restore;
pub mod sweep;

pub use backup::{BackupReport, backup};
pub use check::{CheckReport, Depth, check};
pub use restore::{RestoreReport, restore};

use std::path::Path;

use crate::config::Config;

/// `secportal backup DIR`: prints what was written; exit 1 when referenced files were missing.
pub async fn backup_command(config: &Config, dir: &Path) -> anyhow::Result<i32> {
    let r = backup(config, dir).await?;
    let m = &r.manifest;
    println!(
        "backup written to {}: {} database (schema {}), {} file(s), {} bytes",
        dir.display(),
        m.backend,
        m.schema_version,
        m.files.len(),
        r.bytes
    );
    println!(
        "the audit key is not in the backup: keep its file (or SECPORTAL_AUDIT_KEY) apart from \
         it; a restored copy starts only with the key its audit trail was written with"
    );
    if m.missing.is_empty() {
        return Ok(0);
    }
    eprintln!(
        "{} file(s) the database refers to were missing or altered in the store and are not in \
         the backup (listed under \"missing\" in {}); run `secportal check`",
        m.missing.len(),
        manifest::MANIFEST
    );
    for sha in &m.missing {
        eprintln!("  blobs/{sha}");
    }
    Ok(1)
}

/// `secportal restore DIR [--force]`: prints what was restored and the check that follows.
pub async fn restore_command(config: &Config, dir: &Path, force: bool) -> anyhow::Result<i32> {
    let r = restore(config, dir, force).await?;
    println!(
        "restored the {} backup of {} (schema {}): database and {} file(s)",
        r.manifest.backend,
        r.manifest.created_at.to_rfc3339(),
        r.manifest.schema_version,
        r.manifest.files.len()
    );
    if r.key.fits() {
        println!("{}", r.key.line());
    } else {
        eprintln!("{}", r.key.line());
    }
    print_check(&r.check)
}

/// `secportal check`: every referenced file, hashed; exit 1 when any is missing or altered.
pub async fn check_command(config: &Config) -> anyhow::Result<i32> {
    let db = crate::db::Db::connect(&config.database_url).await?;
    let store = crate::files::FileStore::from_config(config)?;
    let report = check(&db, &store, Depth::Full).await;
    let drift = crate::db::queue::tally_drift(&db).await;
    db.close().await;
    let files = print_check(&report?)?;
    let drift = drift?;
    for d in &drift {
        println!("{}", check::describe_drift(d));
    }
    if drift.is_empty() {
        println!("queue counters: all match a full count of the submissions");
        return Ok(files);
    }
    println!(
        "queue counters: {} differ from a full count; `secportal recount` rebuilds them",
        drift.len()
    );
    Ok(1)
}

/// `secportal recount`: rebuilds the queue's counters from a full count of the submissions.
pub async fn recount_command(config: &Config) -> anyhow::Result<i32> {
    let db = crate::db::Db::connect(&config.database_url).await?;
    let drift = crate::db::queue::tally_drift(&db).await;
    let written = match &drift {
        Ok(_) => crate::db::queue::rebuild_tally(&db).await,
        Err(_) => Ok(0),
    };
    db.close().await;
    let drift = drift?;
    println!(
        "queue counters rebuilt: {} written, {} had differed",
        written?,
        drift.len()
    );
    Ok(0)
}

fn print_check(r: &CheckReport) -> anyhow::Result<i32> {
    if r.problems.is_empty() {
        println!(
            "checked {} referenced file(s): all present and intact",
            r.checked
        );
        return Ok(0);
    }
    for p in &r.problems {
        println!("{p}");
    }
    println!(
        "checked {} referenced file(s): {} missing or altered",
        r.checked,
        r.problems.len()
    );
    Ok(1)
}

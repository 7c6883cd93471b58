//! `secportal backup DIR`: the database snapshot first, then the files, then the manifest.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::manifest::{self, Entry, Manifest};
use crate::config::Config;
use crate::db::{self, Db};
use crate::files::FileStore;

/// What a backup wrote.
#[derive(Debug)]
pub struct BackupReport {
    pub manifest: Manifest,
    /// Bytes of files copied (blobs only).
    pub bytes: u64,
}

/// Takes a backup into `dir` (new or empty). Rows in the snapshot whose files are missing or
/// altered in the store are listed in [`Manifest::missing`]; the backup is written anyway.
pub async fn backup(config: &Config, dir: &Path) -> anyhow::Result<BackupReport> {
    if !config.database_url.starts_with("postgres") {
        let file = db::blobs::sqlite_file(&config.database_url)?;
        if !tokio::fs::try_exists(&file).await? {
            anyhow::bail!(
                "there is no database at {}: nothing to back up",
                file.display()
            );
        }
    }
    prepare_dir(dir).await?;
    let db = Db::connect(&config.database_url).await?;
    if let db::Pool::Postgres(_) = db.pool() {
        super::pgtools::require("pg_dump", "back up").await?;
    }
    if db::blobs::schema_version(&db).await.is_err() {
        db.close().await;
        anyhow::bail!(
            "the database DATABASE_URL names has no secportal schema: nothing to back up"
        );
    }
    let result = snapshot(&db, &config.database_url, dir).await;
    db.close().await;
    let (database, schema_version, refs, created_at) = result?;

    let store = FileStore::from_config(config)?;
    let mut files = vec![];
    let mut missing = vec![];
    let mut done = BTreeSet::new();
    let mut bytes = 0;
    // What the snapshot refers to first; then whatever else is in the store now.
    for r in &refs {
        match copy_blob(&store, dir, &r.sha256).await? {
            Some(entry) => {
                bytes += entry.size;
                files.push(entry);
            }
            None => {
                tracing::warn!(sha256 = %r.sha256, place = %r.place, name = %r.name, "referenced file missing or altered: not in the backup");
                missing.push(r.sha256.clone());
            }
        }
        done.insert(r.sha256.clone());
    }
    for b in store.list_blobs().await? {
        if done.contains(&b.sha256) {
            continue;
        }
        // Gone since the listing (swept) or altered: nothing in the snapshot needs it.
        if let Some(entry) = copy_blob(&store, dir, &b.sha256).await? {
            bytes += entry.size;
            files.push(entry);
        }
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    let manifest = Manifest {
        format: manifest::FORMAT,
        created_at,
        backend: db.backend().to_string(),
        schema_version,
        secportal_version: env!("CARGO_PKG_VERSION").to_string(),
        database,
        files,
        referenced: refs.len(),
        missing,
    };
    manifest.write(dir).await?;
    Ok(BackupReport { manifest, bytes })
}

/// The backup folder must be new or empty: a backup never mixes with another.
async fn prepare_dir(dir: &Path) -> anyhow::Result<()> {
    tokio::fs::create_dir_all(dir)
        .await
        .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", dir.display()))?;
    // The copy holds what the database holds (password hashes, sessions): owner only.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        tokio::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).await?;
    }
    let mut entries = tokio::fs::read_dir(dir).await?;
    if entries.next_entry().await?.is_some() {
        anyhow::bail!(
            "{} is not empty: give a new or empty folder for the backup",
            dir.display()
        );
    }
    Ok(())
}

type Snapshot = (
    Entry,
    String,
    Vec<db::blobs::BlobRef>,
    chrono::DateTime<chrono::Utc>,
);

/// Writes the database snapshot into `dir`; answers its entry, schema version, the blobs it
/// refers to and when it was taken.
async fn snapshot(db: &Db, url: &str, dir: &Path) -> anyhow::Result<Snapshot> {
    match db.pool() {
        db::Pool::Sqlite(pool) => {
            let path = dir.join(manifest::SQLITE_FILE);
            let at = db::now();
            db::blobs::sqlite_vacuum_into(pool, &path).await?;
            // Read what the snapshot itself refers to, not the live database.
            let snap = db::blobs::open_sqlite_readonly(&path).await?;
            let refs = db::blobs::referenced(&snap).await;
            let version = db::blobs::schema_version(&snap).await;
            snap.close().await;
            let entry = entry_for(dir, manifest::SQLITE_FILE).await?;
            Ok((entry, version?, refs?, at))
        }
        db::Pool::Postgres(pool) => {
            let path = dir.join(manifest::PG_FILE);
            let mut snap = db::blobs::PgSnapshot::begin(pool).await?;
            let at = db::now();
            let refs = snap.referenced().await?;
            let version = snap.schema_version().await?;
            let dumped = super::pgtools::run(
                "pg_dump",
                "back up",
                url,
                vec![
                    "--format=custom".into(),
                    format!("--snapshot={}", snap.id).into(),
                    format!("--file={}", path.display()).into(),
                ],
            )
            .await;
            snap.end().await?;
            dumped?;
            let entry = entry_for(dir, manifest::PG_FILE).await?;
            Ok((entry, version, refs, at))
        }
    }
}

async fn entry_for(dir: &Path, name: &str) -> anyhow::Result<Entry> {
    let (size, sha256) = manifest::hash_file(dir.join(name)).await?;
    Ok(Entry {
        path: name.to_string(),
        sha256,
        size,
    })
}

/// Copies one blob into the backup, keeping it only when its content matches its name.
async fn copy_blob(store: &FileStore, dir: &Path, sha256: &str) -> anyhow::Result<Option<Entry>> {
    let rel = manifest::blob_entry_path(sha256);
    let dest: PathBuf = dir.join(&rel);
    match store.export_blob(sha256, &dest).await? {
        Some((size, digest)) if digest == sha256 => Ok(Some(Entry {
            path: rel,
            sha256: digest,
            size,
        })),
        Some(_) => {
            tokio::fs::remove_file(&dest).await?;
            Ok(None)
        }
        None => Ok(None),
    }
}

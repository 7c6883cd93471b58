//! `secportal restore DIR`: verify every hash first, then the files, then the database.

use std::path::Path;

use super::manifest::{self, Manifest};
use crate::config::Config;
use crate::db::{self, Db};
use crate::files::FileStore;

/// What a restore put back.
#[derive(Debug)]
pub struct RestoreReport {
    pub manifest: Manifest,
    /// The full check of the restored store against the restored database.
    pub check: super::CheckReport,
    /// Whether the configured audit key is the one the restored trail was written with.
    pub key: KeyStanding,
}

/// The configured audit key against the restored audit trail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyStanding {
    /// It is the key the trail was written with (or the trail has no entry).
    Fits,
    /// No key is configured where the portal looks for it.
    Missing(String),
    /// A key is there, but another one wrote the trail.
    Other(String),
}

impl KeyStanding {
    pub fn fits(&self) -> bool {
        *self == KeyStanding::Fits
    }

    /// The line `restore` prints about it.
    pub fn line(&self) -> String {
        match self {
            KeyStanding::Fits => {
                "audit key: it is the one the restored audit trail was written with".into()
            }
            KeyStanding::Missing(e) => format!(
                "audit key missing ({e}): put the key file the restored audit trail was written with \
                 in place (or set SECPORTAL_AUDIT_KEY) before starting; the portal does not start without it"
            ),
            KeyStanding::Other(at) => format!(
                "audit key at {at} is not the one the restored audit trail was written with: put that \
                 key in place (or set SECPORTAL_AUDIT_KEY) before starting; the portal does not start with this one"
            ),
        }
    }
}

/// Restores the backup in `dir` into the database of `config.database_url` and the file store
/// under `config.data_dir`. Nothing is written unless the whole backup verifies and the
/// target is empty (a SQLite file that exists, or a PostgreSQL database with tables, is
/// refused unless `force`). Run it with the portal stopped.
pub async fn restore(config: &Config, dir: &Path, force: bool) -> anyhow::Result<RestoreReport> {
    // Held to the end: no portal serves from the folder meanwhile, nor starts.
    let _lock = super::lock::exclusive(&config.data_dir)?;
    let manifest = Manifest::read(dir).await?;
    manifest
        .check_paths()
        .map_err(|e| anyhow::anyhow!("{}: {e}", dir.join(manifest::MANIFEST).display()))?;
    verify(dir, &manifest).await?;
    if !db::migrate::knows(&manifest.schema_version) {
        anyhow::bail!(
            "the backup's schema ({}) is newer than this secportal knows: restore it with the \
             version that made it ({})",
            manifest.schema_version,
            manifest.secportal_version
        );
    }
    let target = target_backend(&config.database_url);
    if manifest.backend != target {
        anyhow::bail!(
            "this is a backup of a {} database, but DATABASE_URL names a {target} database",
            manifest.backend
        );
    }
    let target_ready = prepare_target(config, force).await?;

    // Files first, so the database never names a file that is not there yet.
    let store = FileStore::from_config(config)?;
    for f in &manifest.files {
        store
            .import_blob(&f.sha256, &dir.join(&f.path))
            .await
            .map_err(|e| anyhow::anyhow!("restoring {}: {e}", f.path))?;
    }
    let db_file = dir.join(&manifest.database.path);
    match target_ready {
        Target::SqliteFile(path) => restore_sqlite(&db_file, &path).await?,
        Target::Postgres => {
            let mut args: Vec<std::ffi::OsString> = vec![
                "--no-owner".into(),
                "--no-privileges".into(),
                "--exit-on-error".into(),
                "--single-transaction".into(),
            ];
            if force {
                args.push("--clean".into());
                args.push("--if-exists".into());
            }
            args.push(db_file.into_os_string());
            super::pgtools::run("pg_restore", "restore", &config.database_url, args).await?;
        }
    }
    let db = Db::connect(&config.database_url).await?;
    let check = super::check(&db, &store, super::Depth::Full).await;
    let key = key_standing(config, db.clone()).await;
    db.close().await;
    Ok(RestoreReport {
        manifest,
        check: check?,
        key: key?,
    })
}

/// Reads the audit key where the portal will (never making one) and tries it on the trail.
async fn key_standing(config: &Config, db: Db) -> anyhow::Result<KeyStanding> {
    let key = match crate::security::audit_key(config, crate::security::KeyFile::MustExist).await {
        Ok(k) => k,
        Err(e) => return Ok(KeyStanding::Missing(e.to_string())),
    };
    Ok(if db::audit::key_fits(&db.with_audit_key(key)).await? {
        KeyStanding::Fits
    } else {
        KeyStanding::Other(match &config.audit_key {
            crate::config::AuditKeySource::File(p) => p.display().to_string(),
            crate::config::AuditKeySource::Value(_) => "SECPORTAL_AUDIT_KEY".into(),
        })
    })
}

fn target_backend(url: &str) -> &'static str {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        "postgres"
    } else {
        "sqlite"
    }
}

/// Every file of the manifest is there and hashes as recorded; the first that does not is
/// named.
async fn verify(dir: &Path, m: &Manifest) -> anyhow::Result<()> {
    for e in std::iter::once(&m.database).chain(m.files.iter()) {
        let path = dir.join(&e.path);
        match manifest::hash_file(path.clone()).await {
            Ok((size, sha)) if size == e.size && sha == e.sha256 => {}
            Ok(_) => anyhow::bail!(
                "the backup is damaged: {} does not match its SHA-256 in {}; nothing was restored",
                path.display(),
                manifest::MANIFEST
            ),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => anyhow::bail!(
                "the backup is damaged: {} is missing; nothing was restored",
                path.display()
            ),
            Err(err) => anyhow::bail!("cannot read {}: {err}", path.display()),
        }
    }
    Ok(())
}

enum Target {
    SqliteFile(std::path::PathBuf),
    Postgres,
}

/// Refuses a target that holds data (unless `force`).
async fn prepare_target(config: &Config, force: bool) -> anyhow::Result<Target> {
    if target_backend(&config.database_url) == "sqlite" {
        let path = db::blobs::sqlite_file(&config.database_url)?;
        if !force && tokio::fs::try_exists(&path).await? {
            anyhow::bail!(
                "{} exists: restore does not overwrite a database; move it away, or pass --force \
                 to replace it",
                path.display()
            );
        }
        return Ok(Target::SqliteFile(path));
    }
    super::pgtools::require("pg_restore", "restore").await?;
    let db = Db::connect(&config.database_url).await?;
    let tables = match db.pool() {
        db::Pool::Postgres(pool) => db::blobs::pg_table_count(pool).await,
        db::Pool::Sqlite(_) => Ok(0),
    };
    db.close().await;
    let tables = tables?;
    if tables > 0 && !force {
        anyhow::bail!(
            "the database DATABASE_URL names is not empty ({tables} tables): restore into a new, \
             empty database (createdb), or pass --force to replace what it holds"
        );
    }
    Ok(Target::Postgres)
}

/// Copies the snapshot into place: to a temporary name beside it, fsynced, then renamed; the
/// old database's WAL files go first, so SQLite never replays them into the restored one.
async fn restore_sqlite(src: &Path, dest: &Path) -> anyhow::Result<()> {
    let parent = dest
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    tokio::fs::create_dir_all(parent).await?;
    let tmp = dest.with_extension("restoring");
    tokio::fs::copy(src, &tmp).await?;
    tokio::fs::File::open(&tmp).await?.sync_all().await?;
    for suffix in ["-wal", "-shm"] {
        let mut side = dest.as_os_str().to_owned();
        side.push(suffix);
        match tokio::fs::remove_file(&side).await {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e.into()),
        }
    }
    tokio::fs::rename(&tmp, dest).await?;
    manifest::sync_dir(parent).await;
    Ok(())
}

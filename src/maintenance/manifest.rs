//! `manifest.json`: what a backup holds, with the SHA-256 of every file in it.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::files::maintenance::is_sha256;

/// The manifest's file name in a backup folder; written last, so a backup cut short has none.
pub const MANIFEST: &str = "manifest.json";
/// The layout this build writes and reads.
pub const FORMAT: u32 = 1;
/// The database file of a SQLite backup (a `VACUUM INTO` copy).
pub const SQLITE_FILE: &str = "database.sqlite";
/// The database file of a PostgreSQL backup (`pg_dump --format=custom`).
pub const PG_FILE: &str = "database.pgdump";

/// What a backup holds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    pub format: u32,
    /// When the database snapshot was taken.
    pub created_at: DateTime<Utc>,
    /// `sqlite` or `postgres`.
    pub backend: String,
    /// The newest migration in the snapshot.
    pub schema_version: String,
    /// The secportal version that wrote it.
    pub secportal_version: String,
    pub database: Entry,
    /// Every blob copied (those the snapshot refers to, and any newer ones).
    pub files: Vec<Entry>,
    /// How many blobs the snapshot refers to.
    pub referenced: usize,
    /// Blobs the snapshot refers to that were missing or altered in the store when copied.
    pub missing: Vec<String>,
}

/// One file of the backup, relative to its folder.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Entry {
    pub path: String,
    pub sha256: String,
    pub size: u64,
}

/// Where a blob goes inside a backup folder.
pub fn blob_entry_path(sha256: &str) -> String {
    format!("files/blobs/{}/{sha256}", sha256.get(..2).unwrap_or("xx"))
}

impl Manifest {
    /// Checks that every path is one this layout writes (never `..` or absolute), so a
    /// tampered manifest cannot make a restore read outside the folder.
    pub fn check_paths(&self) -> Result<(), String> {
        let db_ok = match self.backend.as_str() {
            "sqlite" => self.database.path == SQLITE_FILE,
            "postgres" => self.database.path == PG_FILE,
            other => return Err(format!("unknown backend {other:?}")),
        };
        if !db_ok {
            return Err(format!("unexpected database file {:?}", self.database.path));
        }
        for f in &self.files {
            if !is_sha256(&f.sha256) || f.path != blob_entry_path(&f.sha256) {
                return Err(format!("unexpected file entry {:?}", f.path));
            }
        }
        Ok(())
    }

    /// Reads `manifest.json` from a backup folder.
    pub async fn read(dir: &Path) -> anyhow::Result<Manifest> {
        let path = dir.join(MANIFEST);
        let text = match tokio::fs::read(&path).await {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => anyhow::bail!(
                "{} has no {MANIFEST}: not a secportal backup, or one that did not finish",
                dir.display()
            ),
            Err(e) => return Err(e.into()),
        };
        let manifest: Manifest = serde_json::from_slice(&text)
            .map_err(|e| anyhow::anyhow!("{} is not readable: {e}", path.display()))?;
        if manifest.format != FORMAT {
            anyhow::bail!(
                "{} has format {}; this secportal reads format {FORMAT}",
                path.display(),
                manifest.format
            );
        }
        Ok(manifest)
    }

    /// Writes `manifest.json` (through a temporary name, fsynced), the last step of a backup.
    pub async fn write(&self, dir: &Path) -> anyhow::Result<()> {
        let text = serde_json::to_vec_pretty(self)?;
        let tmp = dir.join(format!("{MANIFEST}.tmp"));
        write_synced(&tmp, &text).await?;
        tokio::fs::rename(&tmp, dir.join(MANIFEST)).await?;
        sync_dir(dir).await;
        Ok(())
    }
}

/// Writes a whole file and fsyncs it.
pub async fn write_synced(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    use tokio::io::AsyncWriteExt;
    let mut f = tokio::fs::File::create(path).await?;
    f.write_all(bytes).await?;
    f.flush().await?;
    f.sync_all().await?;
    Ok(())
}

/// Fsyncs a folder so the names in it survive a crash (best effort: not every system can).
pub async fn sync_dir(dir: &Path) {
    if let Ok(d) = tokio::fs::File::open(dir).await {
        let _ = d.sync_all().await;
    }
}

/// The size and SHA-256 of a plain file (read off the runtime's threads).
pub async fn hash_file(path: PathBuf) -> std::io::Result<(u64, String)> {
    tokio::task::spawn_blocking(move || {
        use std::io::Read;
        let mut f = std::fs::File::open(&path)?;
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; 256 * 1024];
        let mut size = 0u64;
        loop {
            let n = f.read(&mut buf)?;
            if n == 0 {
                break;
            }
            size += n as u64;
            hasher.update(&buf[..n]);
        }
        Ok((size, hex::encode(hasher.finalize())))
    })
    .await
    .map_err(std::io::Error::other)?
}

//! Whole-store work for backup, restore and `secportal check`: list blobs, verify one against
//! its name, copy one out to a plain file and back in. Everything goes through `object_store`
//! except the plain files on the other side of a copy.

use std::path::Path as FsPath;

use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, WriteMultipart};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::{FileStore, blob_path};

/// One blob in the store.
#[derive(Debug, Clone)]
pub struct BlobMeta {
    pub sha256: String,
    pub size: u64,
    pub modified: DateTime<Utc>,
}

/// A blob compared with what the database says of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlobState {
    Intact,
    Missing,
    /// Present with another size than recorded.
    WrongSize(u64),
    /// Its content no longer hashes to its name.
    Altered,
}

/// Whether `s` is a lowercase hex SHA-256, as blob names are.
pub fn is_sha256(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

impl FileStore {
    /// Every blob in the store, by name.
    pub async fn list_blobs(&self) -> anyhow::Result<Vec<BlobMeta>> {
        let mut out = vec![];
        let mut blobs = self.store.list(Some(&Path::from("blobs")));
        while let Some(meta) = blobs.next().await {
            let meta = meta?;
            let Some(sha) = meta.location.filename() else {
                continue;
            };
            if is_sha256(sha) {
                out.push(BlobMeta {
                    sha256: sha.to_string(),
                    size: meta.size,
                    modified: meta.last_modified,
                });
            }
        }
        out.sort_by(|a, b| a.sha256.cmp(&b.sha256));
        Ok(out)
    }

    /// Compares a blob with the recorded size; `full` also hashes its content (reads it all).
    pub async fn check_blob(
        &self,
        sha256: &str,
        size: u64,
        full: bool,
    ) -> anyhow::Result<BlobState> {
        if !is_sha256(sha256) {
            return Ok(BlobState::Missing);
        }
        let meta = match self.store.head(&blob_path(sha256)).await {
            Ok(m) => m,
            Err(object_store::Error::NotFound { .. }) => return Ok(BlobState::Missing),
            Err(e) => return Err(e.into()),
        };
        if meta.size != size {
            return Ok(BlobState::WrongSize(meta.size));
        }
        if !full {
            return Ok(BlobState::Intact);
        }
        Ok(match self.copy_out(sha256, None).await? {
            None => BlobState::Missing,
            Some((_, digest)) if digest == sha256 => BlobState::Intact,
            Some(_) => BlobState::Altered,
        })
    }

    /// Copies a blob to the plain file `dest` (created, fsynced); answers its size and the
    /// SHA-256 of the bytes written, or `None` when the blob is not there.
    pub async fn export_blob(
        &self,
        sha256: &str,
        dest: &FsPath,
    ) -> anyhow::Result<Option<(u64, String)>> {
        self.copy_out(sha256, Some(dest)).await
    }

    async fn copy_out(
        &self,
        sha256: &str,
        dest: Option<&FsPath>,
    ) -> anyhow::Result<Option<(u64, String)>> {
        if !is_sha256(sha256) {
            return Ok(None);
        }
        let mut stream = match self.store.get(&blob_path(sha256)).await {
            Ok(r) => r.into_stream(),
            Err(object_store::Error::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let mut out = match dest {
            Some(d) => {
                if let Some(parent) = d.parent() {
                    tokio::fs::create_dir_all(parent).await?;
                }
                Some(tokio::fs::File::create(d).await?)
            }
            None => None,
        };
        let mut hasher = Sha256::new();
        let mut size = 0u64;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk?;
            size += chunk.len() as u64;
            hasher.update(&chunk);
            if let Some(f) = out.as_mut() {
                f.write_all(&chunk).await?;
            }
        }
        if let Some(mut f) = out {
            f.flush().await?;
            f.sync_all().await?;
        }
        Ok(Some((size, hex::encode(hasher.finalize()))))
    }

    /// Stores the plain file `src` as blob `sha256` (through staging, fsynced, renamed over any
    /// copy already there); refuses content that does not hash to the name.
    pub async fn import_blob(&self, sha256: &str, src: &FsPath) -> anyhow::Result<()> {
        if !is_sha256(sha256) {
            anyhow::bail!("{sha256:?} is not a SHA-256");
        }
        let staging = self.staging_path();
        let upload = self.store.put_multipart(&staging).await?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, self.part_size);
        let mut file = tokio::fs::File::open(src).await?;
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; 256 * 1024];
        loop {
            let n = match file.read(&mut buf).await {
                Ok(n) => n,
                Err(e) => {
                    let _ = writer.abort().await;
                    return Err(e.into());
                }
            };
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
            if let Err(e) = writer.wait_for_capacity(self.parts_in_flight).await {
                let _ = self.store.delete(&staging).await;
                return Err(e.into());
            }
            writer.write(&buf[..n]);
        }
        writer.finish().await?;
        if hex::encode(hasher.finalize()) != sha256 {
            let _ = self.store.delete(&staging).await;
            anyhow::bail!("{} does not hash to its name {sha256}", src.display());
        }
        if let Err(e) = self.store.rename(&staging, &blob_path(sha256)).await {
            let _ = self.store.delete(&staging).await;
            return Err(e.into());
        }
        Ok(())
    }

    /// Marks a blob as just written (its age is what the sweep's guard looks at).
    pub(super) async fn touch(&self, sha256: &str) {
        if !is_sha256(sha256) {
            return;
        }
        // In a bucket the upload's rename has rewritten the object, which made it young.
        let Some(root) = &self.local_root else {
            return;
        };
        let path = root.join("blobs").join(&sha256[..2]).join(sha256);
        let result = tokio::task::spawn_blocking(move || {
            std::fs::File::options()
                .write(true)
                .open(&path)
                .and_then(|f| f.set_modified(std::time::SystemTime::now()))
        })
        .await;
        if !matches!(result, Ok(Ok(()))) {
            tracing::warn!(sha256, "could not refresh a stored file's time");
        }
    }
}

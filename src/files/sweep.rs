//! Sweeping the store: a node's own staging leftovers at start, and (hourly) staged objects
//! and blobs no row names once they are a day old; a purge's removal of one blob.

use futures_util::StreamExt;
use object_store::ObjectStoreExt;
use object_store::path::Path;

use super::{FileStore, blob_path, maintenance};

impl FileStore {
    /// Removes this node's staging leftovers (partial uploads of this node's previous run).
    /// Called at start-up, before this node accepts uploads; other nodes' staged uploads are
    /// theirs, and left to the hourly sweep once they are a day old.
    pub async fn sweep_staging(&self) -> anyhow::Result<u64> {
        if let Some(root) = &self.local_root {
            // On disk an unfinished upload is a `name#n` file the store's listing leaves out;
            // files right under `staging/` are an earlier version's, which had one node.
            let dirs = [root.join(self.staging.as_ref()), root.join("staging")];
            return tokio::task::spawn_blocking(move || -> anyhow::Result<u64> {
                let mut removed = 0;
                for dir in dirs {
                    let Ok(entries) = std::fs::read_dir(&dir) else {
                        continue;
                    };
                    for e in entries.flatten() {
                        if e.file_type().is_ok_and(|t| t.is_file()) {
                            std::fs::remove_file(e.path())?;
                            removed += 1;
                        }
                    }
                }
                Ok(removed)
            })
            .await?;
        }
        let mut removed = 0;
        let mut staged = self.store.list(Some(&self.staging));
        while let Some(meta) = staged.next().await {
            match self.store.delete(&meta?.location).await {
                Ok(()) => removed += 1,
                Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(removed)
    }

    /// Removes staging leftovers and blobs no row refers to, last written before
    /// `now - min_age` (the age guard: a blob an upload has stored but not yet recorded is
    /// young, so it is never taken). `referenced` answers whether the database knows a blob.
    pub async fn sweep<F, Fut>(
        &self,
        now: chrono::DateTime<chrono::Utc>,
        min_age: chrono::Duration,
        referenced: F,
    ) -> anyhow::Result<(u64, u64)>
    where
        F: Fn(String) -> Fut,
        Fut: std::future::Future<Output = anyhow::Result<bool>>,
    {
        let cutoff = now - min_age;
        let mut temps = 0;
        let mut orphans = 0;
        let mut staged = self.store.list(Some(&Path::from("staging")));
        while let Some(meta) = staged.next().await {
            let meta = meta?;
            if meta.last_modified < cutoff {
                match self.store.delete(&meta.location).await {
                    Ok(()) => temps += 1,
                    Err(object_store::Error::NotFound { .. }) => {}
                    Err(e) => return Err(e.into()),
                }
            }
        }
        let mut blobs = self.store.list(Some(&Path::from("blobs")));
        while let Some(meta) = blobs.next().await {
            let meta = meta?;
            let Some(sha) = meta.location.filename().map(str::to_string) else {
                continue;
            };
            if meta.last_modified >= cutoff || referenced(sha.clone()).await? {
                continue;
            }
            // An upload holding it is about to record it. Otherwise it is marked, so no upload
            // can take it up until the delete is done, and looked at again: an upload may
            // have recorded it, or made it young (see `touch`), since the listing.
            let Some(_mark) = self.start_deleting(&sha) else {
                continue;
            };
            // The same, for uploads on other nodes.
            if !self.mark_shared(&sha).await? {
                continue;
            }
            let deleted = self
                .delete_if_orphan(&meta.location, &sha, cutoff, &referenced)
                .await;
            self.unmark_shared(&sha).await;
            if deleted? {
                orphans += 1;
            }
        }
        Ok((temps, orphans))
    }

    /// Deletes a blob now unless a row still names it or an upload holds it (a purge, once
    /// the rows that named it are gone); answers whether it went. No age guard is needed: an
    /// upload of the same bytes, on this node or (with shared holds) any other, holds its pin
    /// from before the blob's rename to after its row commits, and one that comes while the
    /// blob is marked waits, then stores it again.
    pub async fn remove_unreferenced<F, Fut>(
        &self,
        sha256: &str,
        referenced: F,
    ) -> anyhow::Result<bool>
    where
        F: Fn(String) -> Fut,
        Fut: std::future::Future<Output = anyhow::Result<bool>>,
    {
        if !maintenance::is_sha256(sha256) {
            return Ok(false);
        }
        let Some(_mark) = self.start_deleting(sha256) else {
            return Ok(false);
        };
        // An upload on another node holds it where every node sees it (with shared holds).
        if !self.mark_shared(sha256).await? {
            return Ok(false);
        }
        let deleted = self
            .delete_if_orphan(
                &blob_path(sha256),
                sha256,
                chrono::DateTime::<chrono::Utc>::MAX_UTC,
                &referenced,
            )
            .await;
        self.unmark_shared(sha256).await;
        deleted
    }

    async fn delete_if_orphan<F, Fut>(
        &self,
        location: &Path,
        sha: &str,
        cutoff: chrono::DateTime<chrono::Utc>,
        referenced: &F,
    ) -> anyhow::Result<bool>
    where
        F: Fn(String) -> Fut,
        Fut: std::future::Future<Output = anyhow::Result<bool>>,
    {
        match self.store.head(location).await {
            Ok(meta) if meta.last_modified < cutoff => {}
            _ => return Ok(false),
        }
        if referenced(sha.to_string()).await? {
            return Ok(false);
        }
        match self.store.delete(location).await {
            Ok(()) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }
}

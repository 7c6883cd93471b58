//! The file store: uploads stream to a staging object (written under a temporary name,
//! fsynced, renamed by `object_store`), are checked, then renamed to `blobs/<sha256>`; only
//! then does the caller record them in the database. A crash at any point leaves at worst an
//! unreferenced object, which the sweep (at start and every hour) removes once it is a day
//! old — never a row without its file.
//!
//! The objects live on the local disk (default) or in an S3-compatible bucket that several
//! nodes share (`backend`). Each node stages its uploads under `staging/<node>/`: at start a
//! node clears only its own folder, so restarting one node never cuts another's uploads short;
//! a node that is gone leaves its folder to the hourly sweep, which takes staged objects a day
//! old whoever wrote them (the lease).

mod backend;
pub mod clamd;
pub mod gwlog;
mod holds;
pub mod maintenance;
mod parts;
pub mod sniff;
pub mod svg;
mod sweep;
mod writeback;

use std::collections::{HashMap, HashSet};
use std::path::Path as FsPath;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt};
use sha2::{Digest, Sha256};

pub use holds::SharedHolds;
pub use maintenance::{BlobMeta, BlobState};

use crate::domain::gatewaylog::LogCheck;
pub use sniff::{Kind, Refusal};

/// How much of the start of a file decides its type.
const SNIFF_BYTES: usize = 8 * 1024;
/// How much of the end of a zip is read for its central directory.
const ZIP_TAIL: u64 = 4 * 1024 * 1024;

/// A file safely stored and ready to be recorded. Keep it until the row that records it has
/// committed: while it lives the sweep leaves its blob alone.
#[derive(Debug, Clone)]
pub struct Stored {
    pub sha256: String,
    pub size: u64,
    pub kind: Kind,
    pub name: String,
    _pin: Arc<Pin>,
}

/// Blobs uploads have stored but not yet recorded (counted), and those a sweep is deleting.
#[derive(Debug, Default)]
struct Pins {
    held: HashMap<String, usize>,
    deleting: HashSet<String>,
}

/// One upload's hold on its blob (released when dropped): in this process, and where other
/// nodes see it.
#[derive(Debug)]
struct Pin {
    pins: Arc<Mutex<Pins>>,
    sha256: String,
    shared: Option<holds::SharedHold>,
}

impl Drop for Pin {
    fn drop(&mut self) {
        let mut p = self.pins.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = p.held.get_mut(&self.sha256) {
            *n -= 1;
            if *n == 0 {
                p.held.remove(&self.sha256);
            }
        }
    }
}

/// A sweep's mark on a blob it may delete (removed when dropped).
struct Deleting {
    pins: Arc<Mutex<Pins>>,
    sha256: String,
}

impl Drop for Deleting {
    fn drop(&mut self) {
        let mut p = self.pins.lock().unwrap_or_else(|e| e.into_inner());
        p.deleting.remove(&self.sha256);
    }
}

/// Why an upload did not become a stored file.
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    #[error("file too large")]
    TooLarge,
    #[error("file refused: {}", .0.0)]
    Refused(Refusal),
    /// A gateway log the Table 7-4-2 check does not take.
    #[error("log refused: {0:?}")]
    Log(crate::domain::gatewaylog::Refused),
    /// The sender's body ended or broke mid-file (a client's fault: 400, not 500).
    #[error("upload interrupted: {0}")]
    Interrupted(String),
    #[error(transparent)]
    Io(#[from] anyhow::Error),
}

/// Whether an error comes from a full disk (or an exhausted quota) somewhere in its chain.
pub fn is_disk_full(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>().is_some_and(|io| {
            matches!(
                io.kind(),
                std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded
            ) || matches!(io.raw_os_error(), Some(28 | 122))
        })
    })
}

/// Object storage for uploaded files: a local folder or an S3-compatible bucket.
#[derive(Clone)]
pub struct FileStore {
    store: Arc<dyn ObjectStore>,
    /// The folder the objects are in, when they are on this machine's disk.
    local_root: Option<std::path::PathBuf>,
    /// Where this node stages its uploads: `staging/<node>`.
    staging: Path,
    /// The size of each part an upload is written in, and how many may be on their way at
    /// once (what an upload holds in memory is about their product).
    part_size: usize,
    parts_in_flight: usize,
    /// The largest file accepted, in bytes.
    pub max_file: u64,
    /// The most files one submission may hold.
    pub max_files: usize,
    pins: Arc<Mutex<Pins>>,
    /// Holds other nodes see (the database), when several nodes may share the store.
    shared: Option<Arc<dyn SharedHolds>>,
    /// Malware scanning, when configured.
    clamd: Option<clamd::Clamd>,
}

fn blob_path(sha: &str) -> Path {
    Path::from(format!("blobs/{}/{sha}", &sha[..2]))
}

impl FileStore {
    /// Opens (creating) a local store under `root`, for a single node.
    pub fn open(root: &FsPath, max_file: u64, max_files: usize) -> anyhow::Result<FileStore> {
        let store = backend::local(root)?;
        Ok(FileStore::with_store(
            store,
            Some(root.to_path_buf()),
            "local",
            max_file,
            max_files,
        ))
    }

    /// Opens the store the configuration names (local folder or S3 bucket) for this node.
    pub fn from_config(config: &crate::config::Config) -> anyhow::Result<FileStore> {
        let (store, local_root) = backend::open(config)?;
        Ok(FileStore::with_store(
            store,
            local_root,
            &config.storage.node_id,
            config.max_file_bytes,
            config.max_files,
        )
        .with_clamd(config.clamd.clone()))
    }

    fn with_store(
        store: Arc<dyn ObjectStore>,
        local_root: Option<std::path::PathBuf>,
        node: &str,
        max_file: u64,
        max_files: usize,
    ) -> FileStore {
        // S3 takes parts of at least 5 MiB (but the last); the disk is fine with smaller ones.
        let (part_size, parts_in_flight) = if local_root.is_some() {
            (1024 * 1024, 4)
        } else {
            (5 * 1024 * 1024, 2)
        };
        FileStore {
            store,
            local_root,
            part_size,
            parts_in_flight,
            staging: Path::from("staging").join(node),
            max_file,
            max_files,
            pins: Default::default(),
            shared: None,
            clamd: None,
        }
    }

    /// Takes and respects holds other nodes see: an upload holds its blob there until it is
    /// recorded, and a deletion marks it there first.
    pub fn with_holds(mut self, holds: Arc<dyn SharedHolds>) -> FileStore {
        self.shared = Some(holds);
        self
    }

    /// A fresh staging name under this node's folder.
    fn staging_path(&self) -> Path {
        self.staging.clone().join(uuid::Uuid::now_v7().to_string())
    }

    /// Scans every upload through clamd before keeping it.
    pub fn with_clamd(mut self, clamd: Option<clamd::Clamd>) -> FileStore {
        self.clamd = clamd;
        self
    }

    /// Streams one upload into the store: name and type checked first, size capped while
    /// streaming, SHA-256 computed on the way, zip and SVG content checked before the rename.
    pub async fn receive<S, E>(&self, raw_name: &str, body: S) -> Result<Stored, UploadError>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        self.receive_inner(raw_name, body, self.max_file, None)
            .await
    }

    /// Streams a gateway log into the store (plain, gzip or zip, up to `max_log` bytes) and
    /// checks it against Table 7-4-2 on the way (columns by the site's mapping, when it has
    /// one): one pass over the bytes, nothing kept when the check refuses it.
    pub async fn receive_log<S, E>(
        &self,
        raw_name: &str,
        body: S,
        max_log: u64,
        site: Option<crate::domain::gatewaylog::SiteColumns>,
    ) -> Result<(Stored, LogCheck), UploadError>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let mut inspector = gwlog::LogInspector::start(
            gwlog::Limits {
                max_inflated: max_log.saturating_mul(16),
            },
            site,
        );
        let stored = self
            .receive_inner(raw_name, body, max_log, Some(&mut inspector))
            .await?;
        match inspector.result {
            Some(check) => Ok((stored, check)),
            None => Err(UploadError::Io(anyhow::anyhow!(
                "the log check gave no result"
            ))),
        }
    }

    async fn receive_inner<S, E>(
        &self,
        raw_name: &str,
        mut body: S,
        max_bytes: u64,
        mut log: Option<&mut gwlog::LogInspector>,
    ) -> Result<Stored, UploadError>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let name = sniff::check_name(raw_name).map_err(UploadError::Refused)?;
        // Collect the head for sniffing without holding more than a chunk or two.
        let mut head: Vec<u8> = Vec::with_capacity(SNIFF_BYTES);
        let mut pending: Vec<Bytes> = vec![];
        while head.len() < SNIFF_BYTES {
            match body.next().await {
                Some(Ok(chunk)) => {
                    let take = (SNIFF_BYTES - head.len()).min(chunk.len());
                    head.extend_from_slice(&chunk[..take]);
                    pending.push(chunk);
                }
                Some(Err(e)) => return Err(UploadError::Interrupted(e.to_string())),
                None => break,
            }
        }
        if head.is_empty() {
            return Err(UploadError::Refused(Refusal("error.file_empty")));
        }
        let kind = sniff::detect(&name, &head).map_err(UploadError::Refused)?;
        // Compressed files are taken only as gateway logs, which are unpacked and checked.
        if kind.is_archive() && log.is_none() {
            return Err(UploadError::Refused(Refusal("error.file_type_not_allowed")));
        }

        let staging = self.staging_path();
        let upload = self
            .store
            .put_multipart(&staging)
            .await
            .map_err(anyhow::Error::from)?;
        // A bucket's parts are filled with copies of the chunks, one allocation each, and
        // reading waits while its parts in flight are all out (`parts`); the disk's small
        // parts take the chunks as they are.
        let mut writer = parts::PartWriter::new(
            upload,
            self.part_size,
            self.parts_in_flight,
            self.local_root.is_none(),
        );
        // On a local disk, the writes start while the body still arrives (see `writeback`).
        let mut writeback = self
            .local_root
            .as_deref()
            .map(|root| writeback::Writeback::local(root, staging.as_ref()));
        let mut written: u64 = 0;
        let mut hasher = Sha256::new();
        let mut size: u64 = 0;
        let mut svg_text: Vec<u8> = vec![];
        let mut check = |chunk: &Bytes| -> Result<(), UploadError> {
            size += chunk.len() as u64;
            if size > max_bytes {
                return Err(UploadError::TooLarge);
            }
            hasher.update(chunk);
            if kind == Kind::Svg {
                svg_text.extend_from_slice(chunk);
            }
            Ok(())
        };
        let mut body = futures_util::stream::iter(pending.into_iter().map(Ok)).chain(body);
        let mut result: Result<(), UploadError> = Ok(());
        while result.is_ok() {
            match body.next().await {
                Some(Ok(chunk)) => {
                    result = check(&chunk);
                    if result.is_ok()
                        && let Err(e) = writer.write(&chunk).await
                    {
                        result = Err(UploadError::Io(e.into()));
                    }
                    written += chunk.len() as u64;
                    if let Some(w) = writeback.as_mut() {
                        w.grown(written);
                    }
                    // The same chunk (shared, not copied) goes to the log check.
                    if let (Ok(()), Some(log)) = (&result, log.as_deref_mut()) {
                        result = log.feed(chunk).await.map_err(UploadError::Log);
                    }
                }
                Some(Err(e)) => result = Err(UploadError::Interrupted(e.to_string())),
                None => break,
            }
        }
        if let Err(e) = result {
            let _ = writer.abort().await;
            return Err(e);
        }
        writer.finish().await.map_err(anyhow::Error::from)?;
        let sha256 = hex::encode(hasher.finalize());
        // The log check's verdict comes before the file takes its place in the store.
        if let Some(log) = log
            && let Err(r) = log.finish().await
        {
            let _ = self.store.delete(&staging).await;
            return Err(UploadError::Log(r));
        }

        let refusal = if kind == Kind::Svg && !svg::is_safe(&svg_text) {
            Some(Refusal("error.file_svg_script"))
        } else if kind.is_zip() {
            let start = size.saturating_sub(ZIP_TAIL);
            match self.store.get_range(&staging, start..size).await {
                Ok(tail) => match sniff::check_zip(&tail, size) {
                    Err(r) => Some(r),
                    // The directory may lie about sizes: inflate every entry, counting, the
                    // way imports are checked, so no stored file is a bomb for whoever
                    // opens it later.
                    Ok(()) => match self.inflate_check(&staging).await {
                        Ok(r) => r,
                        Err(e) => {
                            let _ = self.store.delete(&staging).await;
                            return Err(UploadError::Io(e));
                        }
                    },
                },
                Err(e) => {
                    let _ = self.store.delete(&staging).await;
                    return Err(UploadError::Io(e.into()));
                }
            }
        } else {
            None
        };
        let refusal = match (refusal, &self.clamd) {
            (None, Some(clamd)) => self.scan(clamd, &staging, &name).await,
            (r, _) => r,
        };
        if let Some(r) = refusal {
            let _ = self.store.delete(&staging).await;
            return Err(UploadError::Refused(r));
        }
        // Held from before the blob is in place until the caller has recorded it.
        let pin = match self.pin(&sha256).await {
            Ok(pin) => Arc::new(pin),
            Err(e) => {
                let _ = self.store.delete(&staging).await;
                return Err(UploadError::Io(e));
            }
        };
        match self.place(&staging, &blob_path(&sha256)).await {
            Ok(()) => {}
            // Stored once: the same content is already there. It may be an old unreferenced
            // blob: make it young again, so the age guard keeps it for a day more even after
            // this upload's hold ends without a record.
            Err(object_store::Error::AlreadyExists { .. }) => {
                let _ = self.store.delete(&staging).await;
                self.touch(&sha256).await;
            }
            Err(e) => {
                let _ = self.store.delete(&staging).await;
                return Err(UploadError::Io(e.into()));
            }
        }
        Ok(Stored {
            sha256,
            size,
            kind,
            name,
            _pin: pin,
        })
    }

    /// Moves a checked upload to its blob name. On the local disk the rename refuses to
    /// replace a blob already there (`AlreadyExists`: same name, same bytes). A bucket has no
    /// such rename: the copy replaces the blob with the same bytes, which also makes it young
    /// for the sweep's age guard, as `touch` does on disk.
    async fn place(&self, staging: &Path, blob: &Path) -> Result<(), object_store::Error> {
        if self.local_root.is_some() {
            self.store.rename_if_not_exists(staging, blob).await
        } else {
            self.store.rename(staging, blob).await
        }
    }

    /// Holds a blob against sweeps and purges, this node's and (with shared holds) every
    /// other node's; waits while one is deleting it (then it is gone, and the upload's rename
    /// puts it back).
    async fn pin(&self, sha256: &str) -> anyhow::Result<Pin> {
        let deadline = tokio::time::Instant::now() + holds::WAIT_FOR_DELETION;
        loop {
            let mut pin = self.pin_here(sha256).await;
            let Some(shared) = &self.shared else {
                return Ok(pin);
            };
            if shared.hold(sha256).await? {
                pin.shared = Some(holds::SharedHold {
                    holds: shared.clone(),
                    sha256: sha256.to_string(),
                });
                return Ok(pin);
            }
            drop(pin);
            if tokio::time::Instant::now() >= deadline {
                anyhow::bail!("another node has been deleting blob {sha256} for too long");
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    /// Marks a blob as being deleted where other nodes see it; false while an upload on any
    /// node holds it or another deletion runs. Without shared holds, always true.
    async fn mark_shared(&self, sha256: &str) -> anyhow::Result<bool> {
        match &self.shared {
            Some(shared) => shared.mark_deleting(sha256).await,
            None => Ok(true),
        }
    }

    /// Ends a deletion's shared mark.
    async fn unmark_shared(&self, sha256: &str) {
        if let Some(shared) = &self.shared {
            shared.unmark(sha256).await;
        }
    }

    /// This process's hold on a blob; waits while a sweep here is deleting it.
    async fn pin_here(&self, sha256: &str) -> Pin {
        loop {
            {
                let mut p = self.pins.lock().unwrap_or_else(|e| e.into_inner());
                if !p.deleting.contains(sha256) {
                    *p.held.entry(sha256.to_string()).or_default() += 1;
                    return Pin {
                        pins: self.pins.clone(),
                        sha256: sha256.to_string(),
                        shared: None,
                    };
                }
            }
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
    }

    /// Marks a blob as being deleted, unless an upload holds it (or another sweep marked it);
    /// the mark goes when the answer is dropped, also if the sweep is cut short.
    fn start_deleting(&self, sha256: &str) -> Option<Deleting> {
        let mut p = self.pins.lock().unwrap_or_else(|e| e.into_inner());
        if p.held.contains_key(sha256) || !p.deleting.insert(sha256.to_string()) {
            return None;
        }
        Some(Deleting {
            pins: self.pins.clone(),
            sha256: sha256.to_string(),
        })
    }

    /// Inflates every entry of a staged zip container (office documents) under the import
    /// limits, off the async threads.
    async fn inflate_check(&self, staging: &Path) -> anyhow::Result<Option<Refusal>> {
        let bytes = self.store.get(staging).await?.bytes().await?;
        let checked =
            tokio::task::spawn_blocking(move || crate::domain::workbook::check_zip(&bytes)).await?;
        Ok(checked.err().map(|key| {
            // Encrypted documents cannot be checked (nor scanned): refused as unreadable.
            Refusal(if key == "error.xlsx_bad" {
                "error.file_zip_bad"
            } else {
                key
            })
        }))
    }

    /// Has clamd read a staged upload; a finding, or no answer, refuses it.
    async fn scan(&self, clamd: &clamd::Clamd, staging: &Path, name: &str) -> Option<Refusal> {
        let verdict = match self.store.get(staging).await {
            Ok(got) => clamd.scan(got.into_stream()).await,
            Err(e) => Err(e.into()),
        };
        match verdict {
            Ok(clamd::Verdict::Clean) => None,
            Ok(clamd::Verdict::Found(signature)) => {
                tracing::warn!(%signature, file = %name, "upload refused: malware found");
                Some(Refusal("error.file_malware"))
            }
            Err(e) => {
                tracing::error!(error = %format!("{e:#}"), "upload refused: the malware scan did not answer");
                Some(Refusal("error.file_scan_unavailable"))
            }
        }
    }

    /// Streams a stored blob.
    pub async fn read(
        &self,
        sha256: &str,
    ) -> anyhow::Result<impl Stream<Item = Result<Bytes, object_store::Error>> + use<>> {
        if sha256.len() != 64 || !sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
            anyhow::bail!("not a sha256");
        }
        Ok(self.store.get(&blob_path(sha256)).await?.into_stream())
    }

    /// Whether a blob exists and has the given size.
    pub async fn has(&self, sha256: &str, size: u64) -> bool {
        matches!(self.store.head(&blob_path(sha256)).await, Ok(meta) if meta.size == size)
    }
}

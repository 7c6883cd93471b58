//! The disk's writeback of a local upload, started while the upload streams in.
//!
//! A local upload is written to a staged file and fsynced when complete. Left to the kernel, the
//! pages of a large file stay dirty in memory until that fsync, so the disk works only after the
//! last byte has arrived, and everything else the upload does (the network, the SHA-256, a log's
//! check) runs before it instead of beside it. Every [`EVERY`] bytes the staged file's dirty
//! pages are handed to the disk (`sync_file_range(SYNC_FILE_RANGE_WRITE)`, which starts the
//! writes and does not wait for them), on a blocking thread, one call at a time; the final fsync
//! then finds little left. It is a hint: a file that cannot be opened is left to that fsync, and
//! the durability of an upload still rests on it alone.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

/// How many bytes arrive between two hints.
const EVERY: u64 = 16 << 20;

/// The writeback of one staged file.
pub(super) struct Writeback {
    shared: Arc<Shared>,
    /// The size at which the next hint is given.
    next: u64,
}

struct Shared {
    path: PathBuf,
    file: OnceLock<Option<std::fs::File>>,
    /// A hint is being given: the next waits for a later turn rather than queue behind it.
    busy: AtomicBool,
}

impl Writeback {
    /// For the staged file of a local upload to `staged` (the object's path under the store's
    /// folder `root`): `object_store`'s local multipart upload writes it as `<path>#1`, a new
    /// staging name being taken by no other upload.
    pub(super) fn local(root: &std::path::Path, staged: &str) -> Writeback {
        let mut path = root.join(staged).into_os_string();
        path.push("#1");
        Writeback {
            shared: Arc::new(Shared {
                path: path.into(),
                file: OnceLock::new(),
                busy: AtomicBool::new(false),
            }),
            next: EVERY,
        }
    }

    /// `size` bytes have been handed to the store so far.
    pub(super) fn grown(&mut self, size: u64) {
        if size < self.next {
            return;
        }
        self.next = size + EVERY;
        if self.shared.busy.swap(true, Ordering::AcqRel) {
            return;
        }
        let shared = Arc::clone(&self.shared);
        tokio::task::spawn_blocking(move || {
            let file = shared
                .file
                .get_or_init(|| std::fs::File::open(&shared.path).ok());
            if let Some(file) = file {
                start(file);
            }
            shared.busy.store(false, Ordering::Release);
        });
    }
}

#[cfg(target_os = "linux")]
fn start(file: &std::fs::File) {
    use std::os::fd::AsRawFd;
    // SAFETY: the descriptor is open for the call's length (borrowed from `file`); with offset
    // and length 0 the call covers the whole file, and SYNC_FILE_RANGE_WRITE only starts the
    // writes of its dirty pages. Its result is a hint's: an error leaves the work to the fsync.
    unsafe {
        libc::sync_file_range(file.as_raw_fd(), 0, 0, libc::SYNC_FILE_RANGE_WRITE);
    }
}

#[cfg(not(target_os = "linux"))]
fn start(_: &std::fs::File) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_staged_file_is_named_as_the_local_store_names_it_and_hints_do_not_pile_up() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = Writeback::local(dir.path(), "staging/node-1/abc");
        assert_eq!(w.shared.path, dir.path().join("staging/node-1/abc#1"));
        std::fs::create_dir_all(dir.path().join("staging/node-1")).unwrap();
        std::fs::write(&w.shared.path, vec![7u8; 1 << 20]).unwrap();
        w.grown(EVERY - 1);
        assert!(w.shared.file.get().is_none(), "no hint before EVERY bytes");
        w.grown(EVERY);
        assert_eq!(w.next, 2 * EVERY);
        for _ in 0..200 {
            if !w.shared.busy.load(Ordering::Acquire) {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        assert!(matches!(w.shared.file.get(), Some(Some(_))), "opened once");
    }
}

//! The data folder's lock: every serving process holds it shared (several nodes may share one
//! data folder), `restore` holds it alone. So a restore refuses to replace the database and
//! files under a running portal (which would go on serving the old database and lose whatever
//! it wrote afterwards), and a portal started during a restore refuses to start.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};

/// The lock file, in the data folder.
pub const LOCK_FILE: &str = "secportal.lock";

/// Held while it lives; dropping it (or the process ending) releases the lock.
#[derive(Debug)]
pub struct DataLock {
    _file: File,
    pub path: PathBuf,
}

fn open(data_dir: &Path) -> anyhow::Result<(File, PathBuf)> {
    std::fs::create_dir_all(data_dir)?;
    let path = data_dir.join(LOCK_FILE);
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    Ok((file, path))
}

/// The lock a serving process holds (shared with other serving processes).
pub fn serving(data_dir: &Path) -> anyhow::Result<DataLock> {
    let (file, path) = open(data_dir)?;
    match file.try_lock_shared() {
        Ok(()) => Ok(DataLock { _file: file, path }),
        Err(TryLockError::WouldBlock) => anyhow::bail!(
            "a restore is running on {} (it holds {}): start the portal when it has finished",
            data_dir.display(),
            path.display()
        ),
        Err(TryLockError::Error(e)) => Err(anyhow::anyhow!("{}: {e}", path.display())),
    }
}

/// The lock `restore` holds alone: refused while any portal serves from the folder.
pub fn exclusive(data_dir: &Path) -> anyhow::Result<DataLock> {
    let (file, path) = open(data_dir)?;
    match file.try_lock() {
        Ok(()) => Ok(DataLock { _file: file, path }),
        Err(TryLockError::WouldBlock) => anyhow::bail!(
            "a portal is serving from {} (it holds {}): stop every portal that uses this data \
             folder before restoring; nothing was restored",
            data_dir.display(),
            path.display()
        ),
        Err(TryLockError::Error(e)) => Err(anyhow::anyhow!("{}: {e}", path.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_restore_is_refused_while_a_portal_serves_and_a_portal_while_a_restore_runs() {
        let dir = tempfile::tempdir().unwrap();
        let a = serving(dir.path()).unwrap();
        let b = serving(dir.path()).expect("two nodes share a data folder");
        let refused = exclusive(dir.path()).unwrap_err().to_string();
        assert!(refused.contains("a portal is serving"), "{refused}");
        drop((a, b));
        let r = exclusive(dir.path()).unwrap();
        let refused = serving(dir.path()).unwrap_err().to_string();
        assert!(refused.contains("a restore is running"), "{refused}");
        drop(r);
        serving(dir.path()).unwrap();
    }
}

//! One writer per lake, with OS file locks that vanish with the process, so a `kill -9`
//! never leaves a stale lock behind.
//!
//! - `_archive/lake.lock`: every writer holds it shared; `compact` holds it exclusively, so it never
//!   swaps a folder under a running writer.
//! - `_archive/<writer-id>/writer.lock`: held exclusively by the writer of that id, so a second
//!   `cardio-archive` with the same id refuses. Writers with distinct `--writer-id`s share a lake:
//!   their file names, checkpoints and recovery are separate.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::writer::create_dir_durably;

/// The folder with the archive's own state, skipped by readers (leading `_`).
pub const STATE_DIR: &str = "_archive";

pub fn state_dir(lake: &Path) -> PathBuf {
    lake.join(STATE_DIR)
}

pub fn writer_dir(lake: &Path, writer: &str) -> PathBuf {
    state_dir(lake).join(writer)
}

/// Locks held for the life of a writer.
#[derive(Debug)]
pub struct WriterLock {
    _lake: File,
    _writer: File,
}

#[derive(Debug)]
pub struct ExclusiveLock {
    _lake: File,
}

fn open_lock(path: &Path) -> Result<File> {
    OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .with_context(|| format!("cannot open the lock file {}", path.display()))
}

/// Takes the locks of writer `writer` on `lake`, creating the lake if needed.
pub fn lock_writer(lake: &Path, writer: &str) -> Result<WriterLock> {
    let dir = writer_dir(lake, writer);
    create_dir_durably(&dir)?;
    let lake_path = state_dir(lake).join("lake.lock");
    let lake_file = open_lock(&lake_path)?;
    match lake_file.try_lock_shared() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => bail!(
            "the lake {} is being compacted (`cardio-archive compact` holds {}); start the \
             archive when it is done",
            lake.display(),
            lake_path.display()
        ),
        Err(TryLockError::Error(e)) => {
            return Err(e).with_context(|| format!("cannot lock {}", lake_path.display()));
        }
    }
    let path = dir.join("writer.lock");
    let file = open_lock(&path)?;
    match file.try_lock() {
        Ok(()) => Ok(WriterLock {
            _lake: lake_file,
            _writer: file,
        }),
        Err(TryLockError::WouldBlock) => bail!(
            "another cardio-archive is already writing to {} as writer `{writer}` (it holds {}); \
             stop it, or give each writer its own --writer-id",
            lake.display(),
            path.display()
        ),
        Err(TryLockError::Error(e)) => {
            Err(e).with_context(|| format!("cannot lock {}", path.display()))
        }
    }
}

/// Tries to take the lake for one process alone (no writer running). `Ok(None)`: a writer runs.
pub fn try_lock_exclusive(lake: &Path) -> Result<Option<ExclusiveLock>> {
    let dir = state_dir(lake);
    create_dir_durably(&dir)?;
    let path = dir.join("lake.lock");
    let file = open_lock(&path)?;
    match file.try_lock() {
        Ok(()) => Ok(Some(ExclusiveLock { _lake: file })),
        Err(TryLockError::WouldBlock) => Ok(None),
        Err(TryLockError::Error(e)) => {
            Err(e).with_context(|| format!("cannot lock {}", path.display()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_writer_with_the_same_id_is_refused_and_another_id_is_not() {
        let lake = tempfile::tempdir().unwrap();
        let first = lock_writer(lake.path(), "main").unwrap();
        let err = lock_writer(lake.path(), "main").unwrap_err().to_string();
        assert!(err.contains("already writing"), "{err}");
        assert!(err.contains("--writer-id"), "{err}");
        let other = lock_writer(lake.path(), "ward-2").unwrap();
        assert!(try_lock_exclusive(lake.path()).unwrap().is_none());
        drop((first, other));
        assert!(try_lock_exclusive(lake.path()).unwrap().is_some());
        let _again = lock_writer(lake.path(), "main").unwrap();
    }
}

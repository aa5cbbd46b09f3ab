//! Where a write-back's clone lives: a self-deleting temporary directory (registered
//! while it exists, so that [`cleanup`] can remove it from a signal handler) or a kept
//! one (`--keep-clone`).

use std::path::{Path, PathBuf};

use super::{io_err, terminate_all, GitError};

/// The directory of the clone: a self-deleting temp dir, or a kept one. Temporary
/// clones are registered so that a signal handler can remove them ([`cleanup`]).
pub(super) enum WorkDir {
    Temp(tempfile::TempDir),
    Kept(PathBuf),
}

/// Temporary clone directories that exist right now.
static LIVE_CLONES: std::sync::Mutex<Vec<PathBuf>> = std::sync::Mutex::new(Vec::new());

impl WorkDir {
    pub(super) fn new(keep: Option<&Path>) -> Result<WorkDir, GitError> {
        match keep {
            Some(dir) => {
                let path = dir.to_path_buf();
                let repo = path.join("repo");
                if repo.exists() {
                    std::fs::remove_dir_all(&repo)
                        .map_err(io_err(format!("clearing {}", repo.display())))?;
                }
                std::fs::create_dir_all(&path)
                    .map_err(io_err(format!("creating {}", path.display())))?;
                Ok(WorkDir::Kept(path))
            }
            None => {
                // Checked, created and registered under one lock, which [`cleanup`] holds
                // while it removes the clones: a clone is either removed by it or never
                // created once the process is stopping.
                let mut live = LIVE_CLONES.lock().unwrap_or_else(|e| e.into_inner());
                if super::child::stopping() {
                    return Err(io_err("creating a temporary directory for the clone")(
                        std::io::Error::new(
                            std::io::ErrorKind::Interrupted,
                            "tagbump is being stopped by a signal",
                        ),
                    ));
                }
                let dir = tempfile::Builder::new()
                    .prefix("tagbump-clone-")
                    .tempdir()
                    .map_err(io_err("creating a temporary directory for the clone"))?;
                live.push(dir.path().to_path_buf());
                Ok(WorkDir::Temp(dir))
            }
        }
    }

    pub(super) fn path(&self) -> &Path {
        match self {
            WorkDir::Temp(t) => t.path(),
            WorkDir::Kept(p) => p,
        }
    }
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        if let WorkDir::Temp(t) = self {
            let mut live = LIVE_CLONES.lock().unwrap_or_else(|e| e.into_inner());
            live.retain(|p| p != t.path());
        }
    }
}

/// For signal handlers: kills every running git child (and its helpers) and removes
/// every temporary clone, so that a stopped run leaves neither a push that lands later
/// nor a clone on disk. The process should exit right after.
pub fn cleanup() {
    terminate_all();
    let live = LIVE_CLONES.lock().unwrap_or_else(|e| e.into_inner());
    for dir in live.iter() {
        remove_for_good(dir);
    }
    // From here on [`WorkDir::new`] sees the process stopping and creates no clone.
    drop(live);
}

/// Removes `dir`, again if something still being stopped wrote into it meanwhile
/// (bounded: a second at most).
fn remove_for_good(dir: &Path) {
    for _ in 0..50 {
        let _ = std::fs::remove_dir_all(dir);
        if !dir.exists() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

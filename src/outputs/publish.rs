//! The run folder: one run at a time per output folder (an advisory `flock` the kernel releases
//! if the process dies), outputs written into a hidden partial folder, fsynced, renamed into
//! `runs/<run id>`, then the `latest` symlink switched by rename. A failed run removes its
//! partial folder and leaves the last good run published.

use std::fs::{self, File};
use std::path::{Path, PathBuf};

use crate::error::OutputError;

/// A run folder being written.
pub struct RunDir {
    pub id: String,
    /// Where outputs are written during the run.
    pub path: PathBuf,
    root: PathBuf,
    committed: bool,
    _lock: File,
}

impl RunDir {
    /// Takes the lock of `root` and creates a partial run folder.
    pub fn begin(root: &Path) -> Result<RunDir, OutputError> {
        let runs = root.join("runs");
        fs::create_dir_all(&runs).map_err(OutputError::io(&runs))?;
        let lock_path = root.join(".lock");
        let lock = fs::OpenOptions::new().create(true).truncate(false).write(true).open(&lock_path).map_err(OutputError::io(&lock_path))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => return Err(OutputError::Locked { path: root.to_path_buf() }),
            Err(fs::TryLockError::Error(e)) => return Err(OutputError::Io { path: lock_path, source: e }),
        }
        let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ").to_string();
        let mut id = stamp.clone();
        let mut k = 1;
        while runs.join(&id).exists() || runs.join(format!(".{id}.partial")).exists() {
            k += 1;
            id = format!("{stamp}-{k}");
        }
        let path = runs.join(format!(".{id}.partial"));
        fs::create_dir_all(&path).map_err(OutputError::io(&path))?;
        Ok(RunDir { id, path, root: root.to_path_buf(), committed: false, _lock: lock })
    }

    /// Syncs every file, publishes the folder as `runs/<id>` and points `latest` at it.
    pub fn commit(mut self) -> Result<PathBuf, OutputError> {
        sync_tree(&self.path)?;
        let final_path = self.root.join("runs").join(&self.id);
        fs::rename(&self.path, &final_path).map_err(OutputError::io(&final_path))?;
        self.committed = true;
        let tmp_link = self.root.join(".latest.tmp");
        let _ = fs::remove_file(&tmp_link);
        std::os::unix::fs::symlink(Path::new("runs").join(&self.id), &tmp_link).map_err(OutputError::io(&tmp_link))?;
        let latest = self.root.join("latest");
        fs::rename(&tmp_link, &latest).map_err(OutputError::io(&latest))?;
        sync_dir(&self.root.join("runs"))?;
        sync_dir(&self.root)?;
        Ok(final_path)
    }
}

impl Drop for RunDir {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_dir_all(&self.path);
        }
    }
}

/// Syncs every file below `dir`, then the folders themselves.
fn sync_tree(dir: &Path) -> Result<(), OutputError> {
    for entry in fs::read_dir(dir).map_err(OutputError::io(dir))? {
        let p = entry.map_err(OutputError::io(dir))?.path();
        if p.is_dir() {
            sync_tree(&p)?;
        } else {
            File::open(&p).and_then(|f| f.sync_all()).map_err(OutputError::io(&p))?;
        }
    }
    sync_dir(dir)
}

fn sync_dir(p: &Path) -> Result<(), OutputError> {
    File::open(p).and_then(|f| f.sync_all()).map_err(OutputError::io(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_run_at_a_time_and_failed_runs_leave_nothing() {
        let tmp = tempfile::tempdir().expect("the run folder in a temp dir");
        let first = RunDir::begin(tmp.path()).expect("the run folder in a temp dir");
        assert!(matches!(RunDir::begin(tmp.path()), Err(OutputError::Locked { .. })));
        let partial = first.path.clone();
        std::fs::write(partial.join("x.csv"), "a\n").expect("the run folder in a temp dir");
        drop(first); // a failed run: never committed
        assert!(!partial.exists());
        assert!(!tmp.path().join("latest").exists());
        let second = RunDir::begin(tmp.path()).expect("the run folder in a temp dir");
        std::fs::write(second.path.join("x.csv"), "b\n").expect("the run folder in a temp dir");
        let published = second.commit().expect("the run folder in a temp dir");
        assert_eq!(std::fs::read_to_string(tmp.path().join("latest/x.csv")).expect("the run folder in a temp dir"), "b\n");
        assert!(
            published.ends_with(
                std::fs::read_link(tmp.path().join("latest"))
                    .expect("the run folder in a temp dir")
                    .file_name()
                    .expect("the run folder in a temp dir")
            )
        );
    }
}

//! The run folder: one run at a time per output folder (an advisory `flock` the kernel releases
//! if the process dies), outputs written into a hidden partial folder, fsynced, renamed into
//! `runs/<run id>`, then the `latest` symlink switched by rename. A failed run removes its
//! partial folder and leaves the last good run published; a killed run's partial folder is
//! removed by the next run, under the lock. The run id comes from the inputs' and the
//! configuration's hashes, so a re-run of the same inputs finds its run already published.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::vocab::error::OutputError;

/// The locked output folder and, once started, the run folder being written.
pub struct RunDir {
    pub id: String,
    /// Where outputs are written during the run.
    pub path: PathBuf,
    root: PathBuf,
    started: bool,
    committed: bool,
    _lock: File,
}

impl RunDir {
    /// Takes the lock of `root` (creating the folder), records who holds it, and removes the
    /// partial folders of runs that were killed.
    pub fn lock(root: &Path, pipeline: &str) -> Result<RunDir, OutputError> {
        let runs = root.join("runs");
        fs::create_dir_all(&runs).map_err(OutputError::io(&runs))?;
        let lock_path = root.join(".lock");
        let mut lock = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&lock_path)
            .map_err(OutputError::io(&lock_path))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => {
                let holder = fs::read_to_string(&lock_path).unwrap_or_default().trim().to_string();
                let holder = if holder.is_empty() { "holder unknown".to_string() } else { holder };
                return Err(OutputError::Locked { path: root.to_path_buf(), holder });
            }
            Err(fs::TryLockError::Error(e)) => return Err(OutputError::Io { path: lock_path, source: e }),
        }
        // Who holds the lock, for the message a second run prints. Written after locking, so
        // only the holder writes it.
        let host = fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
        let holder = format!(
            "pid {} on {}, pipeline {pipeline}, started {}",
            std::process::id(),
            host.trim(),
            chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        );
        lock.set_len(0).and_then(|_| lock.write_all(holder.as_bytes())).map_err(OutputError::io(&lock_path))?;
        for entry in fs::read_dir(&runs).map_err(OutputError::io(&runs))? {
            let p = entry.map_err(OutputError::io(&runs))?.path();
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if name.starts_with('.') && (name.ends_with(".partial") || name.ends_with(".replaced")) {
                fs::remove_dir_all(&p).map_err(OutputError::io(&p))?;
            }
        }
        Ok(RunDir { id: String::new(), path: PathBuf::new(), root: root.to_path_buf(), started: false, committed: false, _lock: lock })
    }

    /// The published folder of run `id`, if a complete one exists (its manifest is written
    /// last, so a folder with a manifest is complete).
    pub fn published(&self, id: &str) -> Option<PathBuf> {
        let dir = self.root.join("runs").join(id);
        dir.join("manifest.json").is_file().then_some(dir)
    }

    /// Where `latest` points, if anywhere.
    pub fn latest(&self) -> Option<PathBuf> {
        fs::read_link(self.root.join("latest")).ok().map(|l| self.root.join(l))
    }

    /// Creates the partial folder of run `id`.
    pub fn start(&mut self, id: &str) -> Result<(), OutputError> {
        let path = self.root.join("runs").join(format!(".{id}.partial"));
        fs::create_dir_all(&path).map_err(OutputError::io(&path))?;
        self.id = id.to_string();
        self.path = path;
        self.started = true;
        Ok(())
    }

    /// Syncs every file, publishes the folder as `runs/<id>` (replacing an earlier run of the
    /// same id, after `--force`), points `latest` at it unless `hold`, and keeps the newest
    /// `keep` runs (and always the one `latest` points at).
    pub fn commit(mut self, keep: usize, hold: bool) -> Result<PathBuf, OutputError> {
        sync_tree(&self.path)?;
        let runs = self.root.join("runs");
        let final_path = runs.join(&self.id);
        if final_path.exists() {
            replace_dir(&self.path, &final_path, &runs.join(format!(".{}.replaced", self.id)))?;
        } else {
            fs::rename(&self.path, &final_path).map_err(OutputError::io(&final_path))?;
        }
        self.committed = true;
        if !hold {
            let tmp_link = self.root.join(".latest.tmp");
            let _ = fs::remove_file(&tmp_link);
            std::os::unix::fs::symlink(Path::new("runs").join(&self.id), &tmp_link).map_err(OutputError::io(&tmp_link))?;
            let latest = self.root.join("latest");
            fs::rename(&tmp_link, &latest).map_err(OutputError::io(&latest))?;
        }
        sync_dir(&runs)?;
        sync_dir(&self.root)?;
        let published = self.latest().and_then(|l| l.file_name().map(|n| n.to_string_lossy().into_owned()));
        prune(&runs, &self.id, published.as_deref(), keep)?;
        Ok(final_path)
    }
}

impl Drop for RunDir {
    fn drop(&mut self) {
        if self.started && !self.committed {
            let _ = fs::remove_dir_all(&self.path);
        }
    }
}

/// Puts `new` at `dest`, where an older folder of the same run id is. An atomic exchange where
/// the file system has one (`renameat2`), so `runs/<id>` never disappears; otherwise the old
/// folder is moved aside first.
fn replace_dir(new: &Path, dest: &Path, aside: &Path) -> Result<(), OutputError> {
    use std::os::unix::ffi::OsStrExt;
    let c = |p: &Path| std::ffi::CString::new(p.as_os_str().as_bytes()).ok();
    if let (Some(a), Some(b)) = (c(new), c(dest)) {
        // SAFETY: both are valid NUL-terminated paths; AT_FDCWD resolves them like rename(2).
        let r = unsafe { libc::renameat2(libc::AT_FDCWD, a.as_ptr(), libc::AT_FDCWD, b.as_ptr(), libc::RENAME_EXCHANGE) };
        if r == 0 {
            // `new` now holds the old run.
            return fs::remove_dir_all(new).map_err(OutputError::io(new));
        }
    }
    fs::rename(dest, aside).map_err(OutputError::io(aside))?;
    fs::rename(new, dest).map_err(OutputError::io(dest))?;
    fs::remove_dir_all(aside).map_err(OutputError::io(aside))
}

/// Removes all but the `keep` most recently published runs (by their manifest's time); the
/// run just published and the one `latest` points at are always kept.
fn prune(runs: &Path, current: &str, published: Option<&str>, keep: usize) -> Result<(), OutputError> {
    let mut done: Vec<(std::time::SystemTime, String)> = Vec::new();
    for entry in fs::read_dir(runs).map_err(OutputError::io(runs))? {
        let p = entry.map_err(OutputError::io(runs))?.path();
        let Some(name) = p.file_name().and_then(|n| n.to_str()).map(str::to_string) else { continue };
        if name.starts_with('.') || !p.is_dir() || name == current || Some(name.as_str()) == published {
            continue;
        }
        let t = fs::metadata(p.join("manifest.json")).and_then(|m| m.modified()).unwrap_or(std::time::UNIX_EPOCH);
        done.push((t, name));
    }
    done.sort_by(|a, b| b.cmp(a));
    for (_, name) in done.into_iter().skip(keep.saturating_sub(1)) {
        let p = runs.join(name);
        fs::remove_dir_all(&p).map_err(OutputError::io(&p))?;
    }
    Ok(())
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
        let mut first = RunDir::lock(tmp.path(), "t").expect("the run folder in a temp dir");
        first.start("a").expect("the run folder in a temp dir");
        match RunDir::lock(tmp.path(), "t") {
            Err(OutputError::Locked { holder, .. }) => assert!(holder.contains(&format!("pid {}", std::process::id())), "{holder}"),
            _ => panic!("a second lock must fail while the first is held"),
        }
        let partial = first.path.clone();
        std::fs::write(partial.join("x.csv"), "a\n").expect("the run folder in a temp dir");
        drop(first); // a failed run: never committed
        assert!(!partial.exists());
        assert!(!tmp.path().join("latest").exists());
        let mut second = RunDir::lock(tmp.path(), "t").expect("the run folder in a temp dir");
        second.start("b").expect("the run folder in a temp dir");
        std::fs::write(second.path.join("x.csv"), "b\n").expect("the run folder in a temp dir");
        let published = second.commit(10, false).expect("the run folder in a temp dir");
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

    /// `--force` replaces a published run of the same id in place; `keep_runs` keeps the newest
    /// runs and always the one just published; a killed run's partial folder goes next time.
    #[test]
    fn replace_prune_and_stale_partials() {
        let tmp = tempfile::tempdir().expect("temp dir");
        let publish = |id: &str, body: &str, keep: usize| {
            let mut d = RunDir::lock(tmp.path(), "t").expect("lock");
            d.start(id).expect("start");
            std::fs::write(d.path.join("manifest.json"), body).expect("write");
            d.commit(keep, false).expect("commit")
        };
        for (i, id) in ["r1", "r2", "r3"].iter().enumerate() {
            publish(id, &format!("{i}"), 10);
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let again = publish("r2", "new", 10);
        assert_eq!(std::fs::read_to_string(again.join("manifest.json")).expect("read"), "new");
        assert_eq!(std::fs::read_link(tmp.path().join("latest")).expect("link"), Path::new("runs/r2"));
        std::thread::sleep(std::time::Duration::from_millis(20));
        publish("r4", "4", 2);
        let mut left: Vec<String> = std::fs::read_dir(tmp.path().join("runs"))
            .expect("runs")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(left, ["r2", "r4"]);
        std::fs::create_dir_all(tmp.path().join("runs/.r5.partial")).expect("a killed run");
        let d = RunDir::lock(tmp.path(), "t").expect("lock");
        assert!(!tmp.path().join("runs/.r5.partial").exists());
        assert_eq!(d.published("r4"), Some(tmp.path().join("runs/r4")));
        assert_eq!(d.published("r5"), None);
    }

    /// A held run (a failed gate under `on_fail = "hold"`) is published under `runs/` but
    /// `latest` stays on the last good run, which pruning keeps whatever `keep_runs` says.
    #[test]
    fn a_held_run_leaves_latest_alone() {
        let tmp = tempfile::tempdir().expect("temp dir");
        let publish = |id: &str, hold: bool| {
            let mut d = RunDir::lock(tmp.path(), "t").expect("lock");
            d.start(id).expect("start");
            std::fs::write(d.path.join("manifest.json"), id).expect("write");
            d.commit(1, hold).expect("commit")
        };
        publish("good", false);
        std::thread::sleep(std::time::Duration::from_millis(20));
        let held = publish("held", true);
        assert!(held.join("manifest.json").is_file());
        assert_eq!(std::fs::read_link(tmp.path().join("latest")).expect("link"), Path::new("runs/good"));
        assert!(tmp.path().join("runs/good/manifest.json").is_file(), "the published run is kept");
    }
}

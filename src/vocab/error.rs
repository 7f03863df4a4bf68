//! The library's error types: one enum per stage, gathered in [`Error`].
//!
//! Messages are lowercase, name the file, row, key or grid code, and say what was expected.
//! Bad *rows* are not errors: they go to the quarantine (see `quarantine.rs`).

use std::path::PathBuf;

/// Any failure that stops a run.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The pipeline file could not be read or is inconsistent. Fix the file; exit code 2.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// An input file could not be read as declared. Check the path, format and column mapping.
    #[error(transparent)]
    Read(#[from] ReadError),
    /// An output could not be written. Check disk space and permissions of the output folder.
    #[error(transparent)]
    Output(#[from] OutputError),
    /// SIGINT or SIGTERM arrived; the run stopped and published nothing. Exit code 130.
    #[error("interrupted; nothing was published and the previous run stays in place")]
    Interrupted,
}

impl Error {
    /// Exit code for the nightly scheduler: 2 for configuration, 3 for inputs, 4 for outputs,
    /// 5 when another run holds the lock, 130 when interrupted.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Config(_) => 2,
            Error::Read(_) => 3,
            Error::Output(OutputError::Locked { .. }) => 5,
            Error::Output(_) => 4,
            Error::Interrupted => 130,
        }
    }
}

/// Problems in the pipeline file.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be opened.
    #[error("cannot read pipeline file {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    /// TOML syntax error, wrong type or unknown key; `key` is the full key path.
    #[error("{path}: {key}: {message}")]
    Parse { path: PathBuf, key: String, message: String },
    /// The file parsed but some values are unusable; every problem is listed.
    #[error("{path}: {} problem(s):\n  - {}", problems.len(), problems.join("\n  - "))]
    Invalid { path: PathBuf, problems: Vec<String> },
}

/// Problems reading an input file as a whole (single bad rows are quarantined instead).
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The file could not be opened or read.
    #[error("cannot read {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    /// The grid layer is not a GeoJSON FeatureCollection.
    #[error("{path}: not a GeoJSON FeatureCollection: {message}")]
    GeoJson { path: PathBuf, message: String },
    /// Polars could not parse the CSV or Parquet file.
    #[error("{path}: cannot read as {format}: {message}")]
    Table { path: PathBuf, format: &'static str, message: String },
    /// A CSV file is not in the encoding its source declares.
    #[error("{path}: {message}")]
    Encoding { path: PathBuf, message: String },
    /// A folder or glob pattern matched no file.
    #[error("{path}: {message}")]
    NoFiles { path: PathBuf, message: String },
    /// A column named in the pipeline file is not in the input file.
    #[error("{path}: column {column:?} (mapped to field `{field}`) is missing; the file has: {available}")]
    MissingColumn { path: PathBuf, column: String, field: String, available: String },
    /// `grids.on_invalid = "fail"` and some grids are invalid; every one is listed.
    #[error("{path}: {} invalid grid(s) and grids.on_invalid = \"fail\":\n  - {}", problems.len(), problems.join("\n  - "))]
    InvalidGrids { path: PathBuf, problems: Vec<String> },
    /// Several inputs could not be read; each is listed.
    #[error("{} inputs could not be read:\n  - {}", errors.len(), errors.join("\n  - "))]
    Several { errors: Vec<String> },
    /// No usable grid was left.
    #[error("{path}: no usable grid cells")]
    NoGrids { path: PathBuf },
    /// A layer in a GIS format (Shapefile, GeoPackage, FlatGeobuf, GeoParquet) cannot be read.
    #[error("{path}: {message}")]
    Layer { path: PathBuf, message: String },
    /// The layer's coordinates cannot be in the system it is read in.
    #[error("{path}: {message}")]
    Crs { path: PathBuf, message: String },
    /// A partial run's state cannot be merged (damaged, of another version or
    /// configuration, or overlapping another state).
    #[error("{path}: {message}")]
    State { path: PathBuf, message: String },
}

/// Problems writing outputs.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error("cannot write {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("cannot write {path}: {message}")]
    Encode { path: PathBuf, message: String },
    /// Another run holds the output folder's lock (exit code 5); the kernel releases it when
    /// that process ends, however it ends.
    #[error("another gridgov run holds the lock on {path} ({holder}); try again when it has finished")]
    Locked { path: PathBuf, holder: String },
}

impl OutputError {
    /// An encoder's error. Encoders (Parquet, PNG) may hide an I/O error such as a full disk
    /// behind their own words, so the free space of the folder is checked and named.
    pub(crate) fn encode(path: &std::path::Path, message: String) -> OutputError {
        let hint = match free_bytes(path.parent().unwrap_or(path)) {
            Some(free) if free < 1 << 20 => format!(" (No space left on device: {free} bytes free)"),
            _ => String::new(),
        };
        OutputError::Encode { path: path.to_path_buf(), message: message + &hint }
    }

    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> OutputError {
        let path = path.into();
        move |source| OutputError::Io { path, source }
    }
}

impl ReadError {
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> ReadError {
        let path = path.into();
        move |source| ReadError::Io { path, source }
    }
}

/// Bytes available to this user on the file system holding `dir`.
fn free_bytes(dir: &std::path::Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(dir.as_os_str().as_bytes()).ok()?;
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: `c` is a valid NUL-terminated path and `st` a writable statvfs.
    (unsafe { libc::statvfs(c.as_ptr(), &mut st) } == 0).then(|| st.f_bavail as u64 * st.f_frsize as u64)
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

//! sha256 of files and bytes, and a writer that hashes what goes through it: inputs are
//! hashed to name a run, outputs as they are written for the manifest.

use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::Path;

/// sha256 of a file as lowercase hex.
pub fn sha256_file(path: &Path) -> std::io::Result<String> {
    let mut f = std::fs::File::open(path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(format!("{:x}", h.finalize()))
}

/// sha256 of bytes as lowercase hex.
pub fn sha256_bytes(b: &[u8]) -> String {
    format!("{:x}", Sha256::digest(b))
}

/// A writer that hashes what goes through it, so an output's sha256 costs no second read.
pub struct HashingWriter<W: std::io::Write> {
    inner: W,
    hash: Sha256,
    bytes: u64,
}

impl<W: std::io::Write> HashingWriter<W> {
    pub fn new(inner: W) -> Self {
        HashingWriter { inner, hash: Sha256::new(), bytes: 0 }
    }

    /// Bytes written so far.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// The inner writer, the sha256 (lowercase hex) and the byte count of everything written.
    pub fn finish(self) -> (W, String, u64) {
        (self.inner, format!("{:x}", self.hash.finalize()), self.bytes)
    }
}

impl<W: std::io::Write> std::io::Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hash.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// `path` relative to `base` when it lies below it (so outputs do not depend on where the
/// checkout is), else as it is.
pub fn relative(path: &Path, base: &Path) -> String {
    path.strip_prefix(base).map(|p| p.display().to_string()).unwrap_or_else(|_| path.display().to_string())
}

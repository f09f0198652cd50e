//! Reading a file from disk, bounded: every file kube-lsp reads (workspace files, watched files,
//! `schemaPaths`, the kubeconfig and the files it names, `kube-lsp check` arguments) goes through
//! [`read`]. Only regular files are read (never a FIFO or a device: opened non-blocking and
//! checked with `fstat`), and never more than the size cap ([`max_bytes`]: the `maxFileBytes`
//! setting, `--max-file-bytes`, default 64 MB).

use std::io::Read as _;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

/// The default size cap.
pub const DEFAULT_MAX_BYTES: u64 = 64 << 20;

static MAX_BYTES: AtomicU64 = AtomicU64::new(DEFAULT_MAX_BYTES);

/// The size cap of a file read, in bytes.
pub fn max_bytes() -> u64 {
    MAX_BYTES.load(Ordering::Relaxed)
}

/// Sets the size cap (the `maxFileBytes` setting, `--max-file-bytes`).
pub fn set_max_bytes(bytes: u64) {
    MAX_BYTES.store(bytes.max(1), Ordering::Relaxed);
}

/// What reading a file gave.
#[derive(Debug, PartialEq, Eq)]
pub enum Contents {
    Text(String),
    /// Over the size bound: its size, unread.
    TooBig(u64),
    /// Gone, not a regular file, not UTF-8, or unreadable.
    Nothing,
}

impl Contents {
    /// Why a file was not read, for a message (`None` when it was).
    pub fn skipped_because(&self, path: &Path) -> Option<String> {
        match self {
            Contents::Text(_) => None,
            Contents::TooBig(size) => Some(format!(
                "{} is {size} bytes, over the size cap of {} bytes (setting kube-lsp.maxFileBytes)",
                path.display(),
                max_bytes()
            )),
            Contents::Nothing => Some(format!(
                "{} is not a readable regular UTF-8 file",
                path.display()
            )),
        }
    }
}

/// Whether reading a path may go through a symlink.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Links {
    /// A file the user named (a `schemaPaths` entry, a kubeconfig) may be a link to a regular
    /// file.
    Follow,
    /// A workspace file: a link is not read.
    Refuse,
}

/// Reads `path` if it is a regular file of at most `max_bytes` (and the size cap).
pub fn read(path: &Path, max_bytes: u64, links: Links) -> Contents {
    match read_bytes(path, max_bytes, links) {
        Ok(bytes) => String::from_utf8(bytes).map_or(Contents::Nothing, Contents::Text),
        Err(contents) => contents,
    }
}

/// A JSON schema file a document's modeline names (`$schema=<file>`), of at most 8 MiB, read
/// only when it is (links resolved) inside one of `allowed` folders: a document's content never
/// makes kube-lsp read a file outside them. Or why it was not read.
pub fn read_schema_file(path: &Path, allowed: &[std::path::PathBuf]) -> Result<String, String> {
    let real = path
        .canonicalize()
        .map_err(|_| format!("{} does not exist", path.display()))?;
    let inside = allowed
        .iter()
        .filter_map(|folder| folder.canonicalize().ok())
        .any(|folder| real.starts_with(folder));
    if !inside {
        return Err(format!(
            "{} is outside the workspace folders (not read)",
            path.display()
        ));
    }
    match read(&real, 8 << 20, Links::Follow) {
        Contents::Text(text) => Ok(text),
        other => Err(other
            .skipped_because(path)
            .unwrap_or_else(|| "unreadable".to_string())),
    }
}

/// Reads `path` as bytes if it is a regular file of at most `max_bytes` (and the size cap).
pub fn read_bytes(path: &Path, max_bytes: u64, links: Links) -> Result<Vec<u8>, Contents> {
    let max_bytes = max_bytes.min(self::max_bytes());
    let Some(mut file) = open_regular(path, links) else {
        return Err(Contents::Nothing);
    };
    let size = match file.metadata() {
        Ok(metadata) if metadata.is_file() => metadata.len(),
        _ => return Err(Contents::Nothing),
    };
    if size > max_bytes {
        return Err(Contents::TooBig(size));
    }
    let mut bytes = Vec::with_capacity(size as usize);
    // A file growing while it is read stops at the bound all the same.
    match (&mut file).take(max_bytes + 1).read_to_end(&mut bytes) {
        Ok(read) if read as u64 > max_bytes => Err(Contents::TooBig(read as u64)),
        Ok(_) => Ok(bytes),
        Err(_) => Err(Contents::Nothing),
    }
}

/// Opens `path` for reading without blocking on a FIFO (and, refusing links, without following
/// one in its last component); the caller checks the opened file's type.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn open_regular(path: &Path, links: Links) -> Option<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    let no_follow = if links == Links::Refuse {
        libc::O_NOFOLLOW
    } else {
        0
    };
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | no_follow)
        .open(path)
        .ok()
}

/// Elsewhere the type is checked before opening (a file swapped for a FIFO in between could
/// still block this thread).
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn open_regular(path: &Path, links: Links) -> Option<std::fs::File> {
    let metadata = match links {
        Links::Follow => std::fs::metadata(path),
        Links::Refuse => std::fs::symlink_metadata(path),
    };
    if !metadata.ok()?.is_file() {
        return None;
    }
    std::fs::File::open(path).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reading_is_bounded_and_takes_regular_files_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.yaml");
        std::fs::write(&path, "kind: Pod\n").unwrap();
        let read = |path: &Path, max| read(path, max, Links::Refuse);
        assert_eq!(read(&path, 100), Contents::Text("kind: Pod\n".into()));
        assert_eq!(read(&path, 4), Contents::TooBig(10));
        assert_eq!(read(&dir.path().join("gone.yaml"), 100), Contents::Nothing);
        assert_eq!(read(dir.path(), 100), Contents::Nothing);
        let zero = dir.path().join("zero.yaml");
        std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
        assert_eq!(read(&zero, 100), Contents::Nothing);
        assert_eq!(super::read(&zero, 100, Links::Follow), Contents::Nothing);
        assert_eq!(
            super::read(Path::new("/dev/zero"), u64::MAX, Links::Follow),
            Contents::Nothing
        );
        std::fs::write(dir.path().join("bad.yaml"), [0xff, 0xfe]).unwrap();
        assert_eq!(read(&dir.path().join("bad.yaml"), 100), Contents::Nothing);
        // A link to a regular file: read only when links are followed.
        let link = dir.path().join("link.yaml");
        std::os::unix::fs::symlink(&path, &link).unwrap();
        assert_eq!(read(&link, 100), Contents::Nothing);
        assert!(matches!(
            super::read(&link, 100, Links::Follow),
            Contents::Text(_)
        ));
        assert!(
            Contents::TooBig(10)
                .skipped_because(&path)
                .unwrap()
                .contains("maxFileBytes")
        );
    }

    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[test]
    fn a_fifo_is_never_read() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("pipe.yaml");
        let name = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(name.as_ptr(), 0o600) }, 0);
        // No writer: a blocking open would hang here.
        assert_eq!(read(&fifo, 100, Links::Refuse), Contents::Nothing);
        assert_eq!(read(&fifo, 100, Links::Follow), Contents::Nothing);
    }
}

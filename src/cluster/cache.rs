//! The on-disk cache of a cluster's discovery and OpenAPI v3 documents, so a restarted server
//! validates and completes from the cluster's schema before its first request returns.
//!
//! Layout, one directory per (server URL, context) under `$XDG_CACHE_HOME/kube-lsp/clusters/`
//! (else `~/.cache/kube-lsp/clusters/`):
//!
//! ```text
//! <host>_<port>-<context>-<fnv64 of url+context>/
//!   discovery/api.json  discovery/apis.json    APIGroupDiscoveryList (v2 shape)
//!   openapi/index.json                          {"apis/apps/v1": "<hash>", ...}
//!   openapi/<path with / as _>/<hash>.json      one document per group-version
//! ```
//!
//! Nothing else is written: no kubeconfig data, no credentials, no objects. The key holds the
//! server URL without any user-info part. Files are written to a temporary name and renamed, so a
//! reader never sees half a file; a corrupt file reads as a miss.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The cache directory of one cluster context.
#[derive(Clone, Debug)]
pub struct DiskCache {
    dir: PathBuf,
}

/// `$XDG_CACHE_HOME/kube-lsp` (an absolute path only, as the XDG spec says), else
/// `~/.cache/kube-lsp`.
pub fn cache_root() -> Option<PathBuf> {
    let xdg = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute());
    let base = xdg.or_else(|| {
        std::env::var_os("HOME")
            .filter(|h| !h.is_empty())
            .map(|home| PathBuf::from(home).join(".cache"))
    })?;
    Some(base.join("kube-lsp"))
}

/// FNV-1a: a stable hash (std's hasher may change between Rust releases).
fn fnv64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// File-name-safe: ASCII alphanumerics, `-` and `.` kept, anything else `_`, at most `max` bytes.
fn file_safe(text: &str, max: usize) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .take(max)
        .collect()
}

/// The server URL without user-info (`https://user:pw@host` → `https://host`) or trailing `/`.
fn url_without_credentials(server: &str) -> String {
    let (scheme, rest) = server.split_once("://").unwrap_or(("", server));
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    let host = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    let path = path.trim_end_matches('/');
    if scheme.is_empty() {
        format!("{host}{path}")
    } else {
        format!("{scheme}://{host}{path}")
    }
}

/// The directory name for a cluster context: readable, and unique through the hash.
pub fn key(server: &str, context: &str) -> String {
    let url = url_without_credentials(server);
    let host = url.split_once("://").map_or(url.as_str(), |(_, rest)| rest);
    let hash = fnv64(format!("{url}\n{context}").as_bytes());
    format!(
        "{}-{}-{hash:016x}",
        file_safe(host, 64),
        file_safe(context, 64)
    )
}

impl DiskCache {
    /// The cache of `context` on `server` under the XDG cache directory; `None` when there is no
    /// home or cache directory to use.
    pub fn for_cluster(server: &str, context: &str) -> Option<DiskCache> {
        Some(DiskCache::at(cache_root()?, server, context))
    }

    /// The cache of `context` on `server` under `root` (tests and benchmarks).
    pub fn at(root: PathBuf, server: &str, context: &str) -> DiskCache {
        DiskCache {
            dir: root.join("clusters").join(key(server, context)),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn read(&self, relative: &str) -> Option<Vec<u8>> {
        std::fs::read(self.dir.join(relative)).ok()
    }

    /// Writes atomically; failures are logged, never fatal (the cache is only a speed-up).
    fn write(&self, relative: &str, bytes: &[u8]) -> bool {
        let path = self.dir.join(relative);
        match write_atomically(&path, bytes) {
            Ok(()) => true,
            Err(error) => {
                tracing::warn!("cluster cache: cannot write {}: {error}", path.display());
                false
            }
        }
    }

    /// `(api, apis)` discovery documents.
    pub fn read_discovery(&self) -> Option<(Vec<u8>, Vec<u8>)> {
        Some((
            self.read("discovery/api.json")?,
            self.read("discovery/apis.json")?,
        ))
    }

    pub fn write_discovery(&self, api: &[u8], apis: &[u8]) {
        self.write("discovery/api.json", api);
        self.write("discovery/apis.json", apis);
    }

    /// Whether the document of `path` with `hash` is on disk (without reading it).
    pub fn has_openapi(&self, path: &str, hash: &str) -> bool {
        self.dir.join(Self::openapi_file(path, hash)).is_file()
    }

    /// OpenAPI path → hash of the documents last fetched.
    pub fn read_openapi_index(&self) -> BTreeMap<String, String> {
        self.read("openapi/index.json")
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default()
    }

    pub fn write_openapi_index(&self, index: &BTreeMap<String, String>) {
        if let Ok(bytes) = serde_json::to_vec_pretty(index) {
            self.write("openapi/index.json", &bytes);
        }
    }

    fn openapi_file(path: &str, hash: &str) -> String {
        format!(
            "openapi/{}/{}.json",
            file_safe(path, 200),
            file_safe(hash, 200)
        )
    }

    pub fn read_openapi(&self, path: &str, hash: &str) -> std::io::Result<Vec<u8>> {
        std::fs::read(self.dir.join(Self::openapi_file(path, hash)))
    }

    /// Stores a document and removes the ones of the same path with other hashes; `false` when
    /// it could not be written.
    pub fn write_openapi(&self, path: &str, hash: &str, bytes: &[u8]) -> bool {
        let name = Self::openapi_file(path, hash);
        if !self.write(&name, bytes) {
            return false;
        }
        let kept = self.dir.join(&name);
        let folder = kept.parent().map(Path::to_path_buf).unwrap_or_default();
        for entry in std::fs::read_dir(folder).into_iter().flatten().flatten() {
            if entry.path() != kept {
                std::fs::remove_file(entry.path()).ok();
            }
        }
        true
    }
}

fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let parent = path.parent().unwrap_or(Path::new("."));
    create_private_dir(parent)?;
    let temporary = parent.join(format!(
        ".{}.{}.tmp",
        path.file_name().unwrap_or_default().to_string_lossy(),
        std::process::id()
    ));
    let mut file = std::fs::File::create(&temporary)?;
    file.write_all(bytes)?;
    drop(file);
    std::fs::rename(&temporary, path)
}

/// Creates a directory (and parents) readable by its owner only: it names the user's clusters.
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_stable_readable_and_free_of_credentials() {
        let plain = key("https://127.0.0.1:6443/", "admin");
        assert!(plain.starts_with("127.0.0.1_6443-admin-"), "{plain}");
        assert_eq!(plain, key("https://127.0.0.1:6443", "admin"));
        assert_ne!(plain, key("https://127.0.0.1:6443", "restricted"));
        let with_user = key("https://bob:secret@example.com:443/k8s", "prod/ctx");
        assert!(
            !with_user.contains("secret") && !with_user.contains("bob"),
            "{with_user}"
        );
        assert_eq!(with_user, key("https://example.com:443/k8s", "prod/ctx"));
        assert!(!with_user.contains('/'));
    }

    #[test]
    fn documents_round_trip_and_old_hashes_are_removed() {
        let root = tempfile_dir();
        let cache = DiskCache::at(root.clone(), "https://h:1", "c");
        assert!(cache.read_discovery().is_none());
        cache.write_discovery(b"{\"items\":[]}", b"{}");
        assert_eq!(cache.read_discovery().unwrap().0, b"{\"items\":[]}");
        cache.write_openapi("apis/apps/v1", "AAA", b"one");
        cache.write_openapi("apis/apps/v1beta1", "CCC", b"other");
        cache.write_openapi("apis/apps/v1", "BBB", b"two");
        assert_eq!(cache.read_openapi("apis/apps/v1", "BBB").unwrap(), b"two");
        assert!(cache.read_openapi("apis/apps/v1", "AAA").is_err());
        assert_eq!(
            cache.read_openapi("apis/apps/v1beta1", "CCC").unwrap(),
            b"other"
        );
        let index = BTreeMap::from([("apis/apps/v1".to_string(), "BBB".to_string())]);
        cache.write_openapi_index(&index);
        assert_eq!(cache.read_openapi_index(), index);
        std::fs::remove_dir_all(root).ok();
    }

    fn tempfile_dir() -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "kube-lsp-cache-test-{}-{}",
            std::process::id(),
            fnv64(format!("{:?}", std::time::Instant::now()).as_bytes())
        ));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }
}

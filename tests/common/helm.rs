//! The real `helm` the Helm tests use, and the fixture charts (tests/fixtures/helm) copied to
//! break them.
#![allow(dead_code)] // each test binary uses a different subset

use std::path::{Path, PathBuf};

/// `KUBE_LSP_TEST_HELM` (scripts/test sets it), else what tests/tools/helm/build built; panics
/// with how to get it otherwise: the Helm tests never skip.
pub fn helm() -> PathBuf {
    let from_env = std::env::var_os("KUBE_LSP_TEST_HELM").map(PathBuf::from);
    let built = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tools/helm/.bin/helm");
    from_env
        .or_else(|| built.is_file().then_some(built))
        .expect("the Helm tests need helm: run scripts/test, or tests/tools/helm/build and KUBE_LSP_TEST_HELM=<its output>")
}

/// A fixture chart's folder (`""`: the folder of them all).
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/helm")
        .join(name)
}

/// A copy of a fixture chart in a temporary folder (the folder, and the chart in it).
pub fn copy_chart(name: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let to = dir.path().join(name);
    copy_dir(&fixture(name), &to);
    (dir, to)
}

pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

//! What the workspace benchmarks share: a reproducible workspace generated from the corpus'
//! manifests, and the measures they print (RSS from /proc, percentiles).
#![allow(dead_code)] // each bench uses a different subset

use std::path::{Path, PathBuf};
use std::time::Duration;

pub const MIB: f64 = 1024.0 * 1024.0;
/// Files per generated folder (each folder has one kustomization).
pub const FILES_PER_FOLDER: usize = 100;

// ---------------------------------------------------------------- the generated workspace

/// Writes `count` files under `root` (removed first): folders of [`FILES_PER_FOLDER`], each a
/// kustomization naming the copies of corpus manifests beside it. Returns the bytes and the
/// number of YAML documents written.
pub fn generate(corpus: &Path, root: &Path, count: usize) -> (usize, usize) {
    let sources = sources(corpus);
    assert!(!sources.is_empty(), "no corpus under {}", corpus.display());
    std::fs::remove_dir_all(root).ok();
    let (mut bytes, mut documents) = (0, 0);
    let mut written = 0;
    let mut copy = 0;
    for folder_number in 0.. {
        if written == count {
            break;
        }
        let folder = root.join(format!("folder-{folder_number:03}"));
        std::fs::create_dir_all(&folder).unwrap();
        let in_folder = FILES_PER_FOLDER.min(count - written);
        let mut names = Vec::new();
        for _ in 0..in_folder.saturating_sub(1) {
            let (stem, text) = &sources[copy % sources.len()];
            let name = format!("{stem}-{copy}.yaml");
            let text = renamed(text, copy);
            bytes += text.len();
            documents += kube_lsp::yaml::split::split(&text).documents.len();
            std::fs::write(folder.join(&name), text).unwrap();
            names.push(name);
            copy += 1;
        }
        let kustomization = format!(
            "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: ns-{folder_number}\nresources:\n{}",
            names.iter().map(|n| format!("- {n}\n")).collect::<String>()
        );
        bytes += kustomization.len();
        documents += 1;
        std::fs::write(folder.join("kustomization.yaml"), kustomization).unwrap();
        written += in_folder;
    }
    (bytes, documents)
}

/// The corpus' manifests: k8s-examples, seed and kube-linter's checks as files, and
/// microservices-demo one file per document. Sorted, so the workspace is the same every time.
pub fn sources(corpus: &Path) -> Vec<(String, String)> {
    let mut sources = Vec::new();
    for folder in ["k8s-examples", "seed", "kube-linter/checks"] {
        let mut paths: Vec<PathBuf> = walkdir::WalkDir::new(corpus.join(folder))
            .sort_by_file_name()
            .into_iter()
            .filter_map(Result::ok)
            .map(|e| e.into_path())
            .filter(|p| matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml")))
            .collect();
        paths.sort();
        for path in paths {
            if let Ok(text) = std::fs::read_to_string(&path) {
                let stem = path.file_stem().unwrap().to_string_lossy().to_string();
                sources.push((stem, text));
            }
        }
    }
    let demo = std::fs::read_to_string(corpus.join("real/microservices-demo.yaml")).unwrap();
    for (number, range) in kube_lsp::yaml::split::split(&demo)
        .documents
        .into_iter()
        .enumerate()
    {
        let document = demo[range].trim_start_matches("---\n");
        if document.contains("kind:") {
            sources.push((format!("microservices-{number}"), document.to_string()));
        }
    }
    sources
}

/// `text` with each top-level `metadata.name` (block style) suffixed with `-copy`.
pub fn renamed(text: &str, copy: usize) -> String {
    let mut out = String::with_capacity(text.len() + 64);
    let mut in_metadata = false;
    for line in text.split_inclusive('\n') {
        if line.trim_end() == "metadata:" {
            in_metadata = true;
        } else if in_metadata && !line.starts_with(' ') && !line.trim().is_empty() {
            in_metadata = false;
        }
        match line.strip_prefix("  name: ").filter(|_| in_metadata) {
            Some(value) => {
                let value = value.trim_end().trim_matches('"');
                out.push_str(&format!("  name: {value}-{copy}\n"));
            }
            None => out.push_str(line),
        }
    }
    out
}

// ---------------------------------------------------------------- measures

/// A field of /proc/self/status, in bytes.
pub fn status(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|rest| {
            rest.trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<u64>()
                .ok()
        })
        .map_or(0, |kib| kib * 1024)
}

/// Resets VmHWM to the current RSS (Linux: `5` to /proc/self/clear_refs).
pub fn reset_peak() {
    if std::fs::write("/proc/self/clear_refs", "5").is_err() {
        eprintln!("cannot reset VmHWM: the peak includes the generation");
    }
}

pub fn ms(duration: Duration) -> String {
    format!("{:.0}", duration.as_secs_f64() * 1e3)
}

pub fn mib(bytes: u64) -> String {
    format!("{:.1}", bytes as f64 / MIB)
}

/// The median and the `high` quantile of `samples`, in µs.
pub fn pair(samples: &[Duration], high: f64) -> String {
    let mut sorted = samples.to_vec();
    sorted.sort();
    if sorted.is_empty() {
        return "n/a".into();
    }
    let at = |q: f64| sorted[((sorted.len() - 1) as f64 * q).round() as usize].as_secs_f64() * 1e6;
    format!("{:.1} / {:.1}", at(0.5), at(high))
}

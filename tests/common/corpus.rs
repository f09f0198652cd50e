//! The shared corpus of manifests (`../shared/corpus` next to the repository, or the folder named
//! by `KUBE_LSP_CORPUS`): its files, and kubectl-validate's cases with the Status the apiserver
//! answered for each.
#![allow(dead_code)] // each test binary uses a different subset

use std::ops::Range;
use std::path::{Path, PathBuf};

use kube_lsp::yaml::key_path::KeyPath;
use kube_lsp::yaml::path_range::{RangeTarget, range_of};
use kube_lsp::yaml::{split, syntax};
use ropey::Rope;
use serde_json::Value;

/// argocd's install.yaml: 23,482 lines in one CRD document among others.
pub const ARGOCD: &str = "real/argocd-install.yaml";
/// Google's microservices demo: many small manifests in one file.
pub const MICROSERVICES: &str = "real/microservices-demo.yaml";
/// kubectl-validate's test data: `manifests/` (each document's expected Status in its leading
/// comment) and the `crds/` they need.
pub const KUBECTL_VALIDATE: &str = "kubectl-validate";

/// The corpus folder.
pub fn root() -> PathBuf {
    std::env::var_os("KUBE_LSP_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus"))
}

/// The path of `relative` (e.g. `seed/nginx.yml`) in the corpus.
pub fn path(relative: &str) -> PathBuf {
    root().join(relative)
}

/// The text of the corpus file `relative`; panics naming the file when it cannot be read.
pub fn read(relative: &str) -> String {
    let path = path(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// The corpus file `relative` repeated (each copy followed by `---`) until it is `bytes` long.
pub fn repeated(relative: &str, bytes: usize) -> String {
    let document = read(relative);
    let mut text = String::with_capacity(bytes + (1 << 20));
    while text.len() < bytes {
        text.push_str(&document);
        text.push_str("---\n");
    }
    text
}

/// The `.yaml` and `.yml` files under `dir` (recursively), sorted.
pub fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| e.into_path())
        .filter(|p| matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml")))
        .collect();
    files.sort();
    files
}

/// One document of a kubectl-validate case: the Status the apiserver answered for it, and its
/// range in the file.
pub struct Case {
    /// The Status is `Success`.
    pub success: bool,
    pub message: String,
    /// The fields its causes name (`<nil>` and empty ones left out).
    pub fields: Vec<String>,
    pub range: Range<usize>,
}

impl Case {
    /// Whether one of `ranges` (byte ranges of the file) overlaps the key or the value of one of
    /// `paths` in this case's document. An empty range counts as one byte.
    pub fn overlaps_a_path(&self, text: &str, paths: &[KeyPath], ranges: &[Range<usize>]) -> bool {
        let document = &text[self.range.clone()];
        let tree = syntax::parse(&Rope::from_str(document), 0..document.len(), None);
        paths.iter().any(|path| {
            [RangeTarget::Key, RangeTarget::Value].iter().any(|target| {
                let Some(want) = range_of(&tree, document, path, *target) else {
                    return false;
                };
                let want = want.start + self.range.start..want.end + self.range.start;
                ranges.iter().any(|r| {
                    r.start < want.end.max(want.start + 1) && want.start < r.end.max(r.start + 1)
                })
            })
        })
    }
}

/// The cases of a kubectl-validate manifest: each document whose leading comment is a Status as
/// JSON (up to its closing `# }` line).
pub fn kubectl_validate_cases(text: &str) -> Vec<Case> {
    let mut cases = Vec::new();
    for range in split::split(text).documents {
        let mut json = String::new();
        for line in text[range.clone()]
            .lines()
            .skip_while(|l| l.starts_with("---") || l.trim().is_empty())
        {
            let Some(comment) = line.strip_prefix('#') else {
                break;
            };
            json.push_str(comment);
            json.push('\n');
            if comment.trim_end() == " }" {
                break;
            }
        }
        let Ok(status) = serde_json::from_str::<Value>(&json) else {
            continue;
        };
        let fields = status["details"]["causes"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|c| c["field"].as_str())
            .filter(|f| !f.is_empty() && *f != "<nil>")
            .map(str::to_string)
            .collect();
        cases.push(Case {
            success: status["status"] == "Success",
            message: status["message"].as_str().unwrap_or_default().to_string(),
            fields,
            range,
        });
    }
    cases
}

//! Rendering a kustomization with the real kustomize: `kubectl kustomize DIR` (kubectl bundles
//! kustomize) or a standalone `kustomize build DIR`, through `process::run` (no shell, a
//! deadline, bounded output).
//!
//! Origins: kustomize writes `config.kubernetes.io/origin` (the file each resource came from)
//! and `alpha.config.kubernetes.io/transformations` (the kustomizations whose patches ran on
//! it) only when the kustomization asks (`buildMetadata`). The user's files are never touched:
//! a wrapper kustomization in a temporary folder names the user's folder as its one resource
//! (by a relative path: kustomize refuses absolute ones) and asks for both; the wrapper adds no
//! transformer, so the output is the user's, annotated. Origin paths are then relative to the
//! wrapper's folder.

use std::path::{Component, Path, PathBuf};
use std::time::Duration;

use super::process::{self, Limits, Output, RunError};

/// The kustomize to run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Tool {
    /// `kubectl kustomize DIR`.
    Kubectl(PathBuf),
    /// `kustomize build DIR`.
    Standalone(PathBuf),
}

impl Tool {
    /// The tool a setting names (a path to `kustomize` or to `kubectl`, told apart by its file
    /// name), else `kubectl` from `PATH`.
    pub fn from_setting(path: Option<&Path>) -> Tool {
        match path {
            Some(path) => {
                let name = path
                    .file_name()
                    .and_then(|n| n.to_str())
                    .unwrap_or_default();
                if name.starts_with("kubectl") {
                    Tool::Kubectl(path.to_path_buf())
                } else {
                    Tool::Standalone(path.to_path_buf())
                }
            }
            None => Tool::Kubectl(PathBuf::from("kubectl")),
        }
    }

    fn command(&self, folder: &Path) -> (PathBuf, Vec<String>) {
        let folder = folder.display().to_string();
        match self {
            Tool::Kubectl(path) => (path.clone(), vec!["kustomize".to_string(), folder]),
            Tool::Standalone(path) => (path.clone(), vec!["build".to_string(), folder]),
        }
    }

    pub fn program(&self) -> &Path {
        match self {
            Tool::Kubectl(path) | Tool::Standalone(path) => path,
        }
    }
}

/// How a render is bounded.
#[derive(Clone, Debug)]
pub struct Settings {
    pub tool: Tool,
    pub timeout: Duration,
    pub max_output: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            tool: Tool::from_setting(None),
            timeout: Duration::from_secs(20),
            max_output: 32 << 20,
        }
    }
}

/// A finished render.
#[derive(Debug)]
pub struct Rendered {
    /// The YAML kustomize printed.
    pub output: String,
    /// The folder origin paths in `output` are relative to.
    pub base: PathBuf,
    pub elapsed: Duration,
}

/// Why a render gave no output.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error(transparent)]
    Run(#[from] RunError),
    /// kustomize ran and failed: its message.
    #[error("{0}")]
    Failed(String),
    #[error("cannot prepare the render: {0}")]
    Prepare(#[from] std::io::Error),
}

impl RenderError {
    /// Whether the tool is missing (a status for the user, not a diagnostic per file).
    pub fn is_not_found(&self) -> bool {
        matches!(self, RenderError::Run(RunError::NotFound(_)))
    }
}

/// Renders the kustomization in `folder` (absolute) with origin and transformer annotations.
pub fn render(folder: &Path, settings: &Settings) -> Result<Rendered, RenderError> {
    let wrapper = process::ScratchFolder::new("kube-lsp-kustomize-")?;
    let base = std::fs::canonicalize(wrapper.path())?;
    let relative = relative_path(&base, folder);
    let text = format!(
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- {}\nbuildMetadata: [originAnnotations, transformerAnnotations]\n",
        yaml_quote(&relative.display().to_string())
    );
    std::fs::write(base.join("kustomization.yaml"), text)?;
    let (program, args) = settings.tool.command(&base);
    let limits = Limits {
        timeout: settings.timeout,
        max_output: settings.max_output,
    };
    let Output {
        status,
        stdout,
        stderr,
        elapsed,
    } = process::run(&program, &args, Some(&base), None, &limits)?;
    if !status.success() {
        let message = String::from_utf8_lossy(&stderr);
        return Err(RenderError::Failed(clean_message(&message, &base, folder)));
    }
    Ok(Rendered {
        output: String::from_utf8_lossy(&stdout).into_owned(),
        base,
        elapsed,
    })
}

/// kustomize's message without kubectl's log prefix and with the wrapper's folder named as the
/// user's.
fn clean_message(message: &str, base: &Path, folder: &Path) -> String {
    let mut text = message.trim().to_string();
    // kubectl: `E1204 20:19:10.710670   10067 run.go:72] "command failed" err="…"`.
    if let Some(at) = text.find("err=\"") {
        text = text[at + 5..]
            .trim_end_matches('"')
            .replace("\\\"", "\"")
            .replace("\\n", "\n");
    }
    text = text.strip_prefix("Error: ").unwrap_or(&text).to_string();
    // The wrapper's own level: "accumulating resources from '../x': '/x' must resolve to a
    // file': recursed accumulation of path '/x': <the user's error>".
    const RECURSED: &str = "recursed accumulation of path '";
    if let Some(at) = text.find(RECURSED) {
        let rest = &text[at + RECURSED.len()..];
        if let Some(end) = rest.find("': ") {
            text = rest[end + 3..].to_string();
        }
    }
    text.replace(&*base.to_string_lossy(), &folder.display().to_string())
}

/// `to` relative to `from` (both absolute), with `..` as needed.
pub fn relative_path(from: &Path, to: &Path) -> PathBuf {
    let from: Vec<Component<'_>> = from.components().collect();
    let to: Vec<Component<'_>> = to.components().collect();
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    let mut out = PathBuf::new();
    for _ in common..from.len() {
        out.push("..");
    }
    for part in &to[common..] {
        out.push(part.as_os_str());
    }
    out
}

/// A path as a YAML scalar that stays a string.
fn yaml_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(path: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/kustomize")
            .join(path)
    }

    #[test]
    fn renders_with_origins_relative_to_the_wrapper() {
        let folder = std::fs::canonicalize(fixture("overlays/prod")).unwrap();
        let rendered = render(&folder, &Settings::default()).expect("kubectl kustomize renders");
        assert!(rendered.output.contains("config.kubernetes.io/origin"));
        let origin = rendered
            .output
            .lines()
            .find_map(|l| l.trim().strip_prefix("path: "))
            .unwrap();
        // The wrapper's folder is gone: resolve lexically.
        let mut resolved = PathBuf::new();
        for part in rendered.base.join(origin).components() {
            match part {
                Component::ParentDir => {
                    resolved.pop();
                }
                Component::CurDir => {}
                other => resolved.push(other),
            }
        }
        assert!(resolved.starts_with(std::fs::canonicalize(fixture("")).unwrap()));
    }

    #[test]
    fn failures_say_what_kustomize_said() {
        let dir = tempfile::tempdir().unwrap();
        let folder = std::fs::canonicalize(dir.path()).unwrap();
        std::fs::write(
            folder.join("kustomization.yaml"),
            "resources:\n- missing.yaml\n",
        )
        .unwrap();
        let error = render(&folder, &Settings::default()).unwrap_err();
        let message = error.to_string();
        assert!(message.contains("missing.yaml"), "{message}");
        assert!(!message.contains("run.go"), "{message}");
        let missing = Settings {
            tool: Tool::from_setting(Some(Path::new("/nonexistent/kustomize"))),
            ..Settings::default()
        };
        assert!(render(&folder, &missing).unwrap_err().is_not_found());
        assert_eq!(
            relative_path(Path::new("/tmp/a/b"), Path::new("/w/x")),
            Path::new("../../../w/x")
        );
    }
}

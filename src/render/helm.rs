//! Rendering a chart with the real `helm template` (Helm v4): its output split into documents by
//! the `# Source:` line Helm writes before each, and its errors read for the template and line
//! they name (`nil pointer evaluating`, `required`, parse errors, YAML broken after rendering,
//! missing dependencies). Run through [`process::run`]: no shell, a deadline, bounded output.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::process::{self, Limits, RunError};

/// How to run Helm.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HelmOptions {
    /// The `helm` program (a path, or a name looked up on PATH).
    pub program: PathBuf,
    pub release: String,
    pub namespace: Option<String>,
    /// Extra values files (`-f`), after the chart's own `values.yaml`.
    pub values_files: Vec<PathBuf>,
    pub timeout: Duration,
}

impl Default for HelmOptions {
    fn default() -> Self {
        HelmOptions {
            program: PathBuf::from("helm"),
            release: "release-name".to_string(),
            namespace: None,
            values_files: Vec::new(),
            timeout: Duration::from_secs(20),
        }
    }
}

/// One document of the rendered chart.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RenderedDocument {
    /// The template it came from as Helm names it: `<chart name>/templates/x.yaml`, or
    /// `<chart>/charts/<subchart>/templates/x.yaml`.
    pub source: String,
    /// Its YAML (without the `# Source:` line).
    pub text: String,
}

/// A chart rendered.
#[derive(Clone, Debug)]
pub struct Rendered {
    pub documents: Vec<RenderedDocument>,
    pub elapsed: Duration,
}

/// Where Helm says an error is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ErrorLocation {
    /// As Helm names the template (`mychart/templates/x.yaml`).
    pub source: String,
    /// 1-based.
    pub line: usize,
    /// 1-based, when Helm says.
    pub column: Option<usize>,
    /// The line is one of the template's rendered output (a YAML error after rendering), not
    /// of the template.
    pub rendered: bool,
}

/// `helm template` exited with an error.
#[derive(Clone, Debug)]
pub struct HelmFailure {
    /// Helm's message, on one line, without `Error: ` and the `--debug` advice.
    pub message: String,
    pub location: Option<ErrorLocation>,
    /// The chart's dependencies are missing (`helm dependency build`).
    pub missing_dependencies: bool,
    /// What Helm rendered before failing (with `--debug`, the invalid YAML too).
    pub documents: Vec<RenderedDocument>,
}

/// Why there is no rendered chart.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// Helm could not be run, ran too long, or printed too much.
    #[error(transparent)]
    Tool(#[from] RunError),
    #[error("helm template failed: {}", .0.message)]
    Failed(HelmFailure),
}

/// Renders the chart at `chart` (blocking, within `options.timeout`).
pub fn render(chart: &Path, options: &HelmOptions) -> Result<Rendered, RenderError> {
    let mut args: Vec<std::ffi::OsString> = vec![
        "template".into(),
        options.release.clone().into(),
        chart.as_os_str().to_owned(),
        // With --debug, Helm prints the rendered documents even when one is not valid YAML.
        "--debug".into(),
    ];
    if let Some(namespace) = &options.namespace {
        args.push("--namespace".into());
        args.push(namespace.into());
    }
    for file in &options.values_files {
        args.push("--values".into());
        args.push(file.as_os_str().to_owned());
    }
    let limits = Limits {
        timeout: options.timeout,
        max_output: 64 << 20,
    };
    // A relative path to the program is the caller's, not the chart's.
    let program = if options.program.components().count() > 1 && options.program.is_relative() {
        std::env::current_dir()
            .map(|dir| dir.join(&options.program))
            .unwrap_or_else(|_| options.program.clone())
    } else {
        options.program.clone()
    };
    let output = process::run(&program, &args, None, None, &limits)?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let documents = split_output(&stdout);
    if output.status.success() {
        return Ok(Rendered {
            documents,
            elapsed: output.elapsed,
        });
    }
    let mut failure = parse_error(&String::from_utf8_lossy(&output.stderr));
    failure.documents = documents;
    Err(RenderError::Failed(failure))
}

/// The documents of `helm template`'s output, each with the template it came from.
pub fn split_output(stdout: &str) -> Vec<RenderedDocument> {
    let mut documents = Vec::new();
    let mut current: Option<RenderedDocument> = None;
    let mut source = String::new();
    let mut after_marker = false;
    for line in stdout.split_inclusive('\n') {
        let bare = line.trim_end_matches(['\n', '\r']);
        if bare == "---" {
            documents.extend(current.take());
            after_marker = true;
            continue;
        }
        if after_marker {
            after_marker = false;
            if let Some(named) = bare.strip_prefix("# Source: ") {
                source = named.trim().to_string();
                current = Some(RenderedDocument {
                    source: source.clone(),
                    text: String::new(),
                });
                continue;
            }
            // A template's second document: the same source.
            current = (!source.is_empty()).then(|| RenderedDocument {
                source: source.clone(),
                text: String::new(),
            });
        }
        if let Some(document) = &mut current {
            document.text.push_str(line);
        }
    }
    documents.extend(current);
    documents.retain(|d| !d.text.trim().is_empty());
    documents
}

/// Reads Helm's error output.
pub fn parse_error(stderr: &str) -> HelmFailure {
    // The error starts at `Error: `; debug log lines come before it.
    let error = stderr
        .find("Error: ")
        .map_or(stderr, |at| &stderr[at + "Error: ".len()..]);
    let error = error
        .split("\n\nUse --debug flag")
        .next()
        .unwrap_or(error)
        .trim();
    let message = shorten(
        &error
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join(" "),
    );
    let missing_dependencies = message.contains("missing in charts/ directory")
        || message.contains("helm dependency build");
    HelmFailure {
        location: location(error),
        message,
        missing_dependencies,
        documents: Vec::new(),
    }
}

/// Longest message kept of Helm's error, in bytes (the middle is cut).
const MAX_MESSAGE: usize = 2_000;

/// Helm's message, readable: an include that calls itself chains the same step a thousand
/// times (`error calling include: template: x.tpl:1:24: executing "loop" at <include "loop" .>`);
/// each run of one step is said once with how often it repeats, and a message still too long
/// keeps its start and its end (the cause).
fn shorten(message: &str) -> String {
    const LINK: &str = ": error calling include: ";
    let mut steps: Vec<(&str, usize)> = Vec::new();
    for step in message.split(LINK) {
        match steps.last_mut() {
            Some((last, count)) if *last == step => *count += 1,
            _ => steps.push((step, 1)),
        }
    }
    let joined = steps
        .iter()
        .map(|(step, count)| match count {
            1 => step.to_string(),
            n => format!("{step} (the same include {n} times)"),
        })
        .collect::<Vec<_>>()
        .join(LINK);
    if joined.len() <= MAX_MESSAGE {
        return joined;
    }
    let head = floor_char_boundary(&joined, MAX_MESSAGE / 2);
    let tail = ceil_char_boundary(&joined, joined.len() - MAX_MESSAGE / 2);
    format!("{} … {}", &joined[..head], &joined[tail..])
}

fn floor_char_boundary(text: &str, mut at: usize) -> usize {
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

fn ceil_char_boundary(text: &str, mut at: usize) -> usize {
    while !text.is_char_boundary(at) {
        at += 1;
    }
    at
}

/// The first `<path>.yaml:LINE[:COL]` (or `.tpl`, `.yml`, `.txt`) of an error, or the template
/// and rendered line of a YAML error (`YAML parse error on X: … line N: …`).
fn location(error: &str) -> Option<ErrorLocation> {
    if let Some(rest) = error.strip_prefix("YAML parse error on ") {
        let (source, rest) = rest.split_once(": ")?;
        let line = rest
            .split("line ")
            .nth(1)
            .and_then(|l| l.split(|c: char| !c.is_ascii_digit()).next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(1);
        return Some(ErrorLocation {
            source: source.to_string(),
            line,
            column: None,
            rendered: true,
        });
    }
    let is_path = |c: char| c.is_alphanumeric() || matches!(c, '/' | '.' | '_' | '-');
    for (at, _) in error.match_indices(':') {
        let before = &error[..at];
        if !(before.ends_with(".yaml")
            || before.ends_with(".yml")
            || before.ends_with(".tpl")
            || before.ends_with(".txt"))
        {
            continue;
        }
        let start = before
            .char_indices()
            .rev()
            .find(|(_, c)| !is_path(*c))
            .map_or(0, |(i, c)| i + c.len_utf8());
        let numbers: Vec<usize> = error[at + 1..]
            .split(':')
            .take(2)
            .map_while(|n| {
                let digits: String = n.chars().take_while(char::is_ascii_digit).collect();
                (!digits.is_empty()).then(|| digits.parse().ok()).flatten()
            })
            .collect();
        let Some(&line) = numbers.first() else {
            continue;
        };
        return Some(ErrorLocation {
            source: before[start..].to_string(),
            line,
            column: numbers.get(1).copied(),
            rendered: false,
        });
    }
    None
}

/// The file a Helm source name stands for: `<chart name>/rest` under the chart's folder.
pub fn source_path(chart_root: &Path, source: &str) -> PathBuf {
    let rest = source.split_once('/').map_or(source, |(_, rest)| rest);
    chart_root.join(rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_is_split_by_source() {
        let out = "---\n# Source: c/templates/a.yaml\napiVersion: v1\nkind: A\n---\n# Source: c/templates/b.yaml\nkind: B\n---\nkind: B2\n";
        let docs = split_output(out);
        let sources: Vec<&str> = docs.iter().map(|d| d.source.as_str()).collect();
        assert_eq!(
            sources,
            [
                "c/templates/a.yaml",
                "c/templates/b.yaml",
                "c/templates/b.yaml"
            ]
        );
        assert_eq!(docs[0].text, "apiVersion: v1\nkind: A\n");
    }

    #[test]
    fn errors_name_their_template_and_line() {
        let nil = parse_error(
            "Error: mychart/templates/deployment.yaml:42:37\n  executing \"mychart/templates/deployment.yaml\" at <.Values.image.nope.deeper>:\n    nil pointer evaluating interface {}.deeper\n\nUse --debug flag to render out invalid YAML\n",
        );
        let at = nil.location.unwrap();
        assert_eq!(
            (at.source.as_str(), at.line, at.column),
            ("mychart/templates/deployment.yaml", 42, Some(37))
        );
        assert!(
            nil.message
                .ends_with("nil pointer evaluating interface {}.deeper"),
            "{}",
            nil.message
        );
        let required = parse_error(
            "level=DEBUG msg=x\nError: execution error at (mychart/templates/deployment.yaml:42:30): set image.x\n",
        );
        assert_eq!(required.location.unwrap().line, 42);
        let parse = parse_error(
            "Error: parse error at (mychart/templates/service.yaml:16): missing value for if\n",
        );
        assert_eq!(parse.location.unwrap().column, None);
        let yaml = parse_error(
            "Error: YAML parse error on mychart/templates/deployment.yaml: error converting YAML to JSON: yaml: line 3: mapping values are not allowed in this context\n",
        );
        let at = yaml.location.unwrap();
        assert!(at.rendered && at.line == 3);
        let deps = parse_error(
            "Error: an error occurred while checking for chart dependencies. You may need to run 'helm dependency build' to fetch missing dependencies: found in Chart.yaml, but missing in charts/ directory: pg\n",
        );
        assert!(deps.missing_dependencies && deps.location.is_none());
        let step =
            "template: c/templates/_loop.tpl:1:24: executing \"loop\" at <include \"loop\" .>";
        let nested = format!(
            "Error: template: c/templates/s.yaml:8:11: executing \"c/templates/s.yaml\" at <include \"loop\" .>: error calling include: {}rendering template has a nested reference name: loop: unable to execute template\n",
            format!("{step}: error calling include: ").repeat(1000)
        );
        let looped = parse_error(&nested);
        assert_eq!(
            looped.message,
            format!(
                "template: c/templates/s.yaml:8:11: executing \"c/templates/s.yaml\" at <include \"loop\" .>: error calling include: {step} (the same include 1000 times): error calling include: rendering template has a nested reference name: loop: unable to execute template"
            )
        );
        assert_eq!(looped.location.unwrap().line, 8);
        let long = parse_error(&format!("Error: {}the cause\n", "word ".repeat(2000)));
        assert!(long.message.len() < 2_100 && long.message.ends_with("the cause"));
        assert_eq!(
            source_path(
                Path::new("/w/mychart"),
                "mychart/charts/db/templates/s.yaml"
            ),
            Path::new("/w/mychart/charts/db/templates/s.yaml")
        );
    }
}

//! The architecture, enforced: each module of `src/` may use only the layers below its own
//! (docs/architecture.md), the server and the CLI are siblings that never use each other, and no
//! source file grows past what a reader can hold.

use std::path::{Path, PathBuf};

/// Layers from the bottom up; a module may use its own layer and those before it.
const LAYERS: &[&[&str]] = &[
    &["text", "files"],
    &["diagnostic"],
    &["yaml"],
    &["schema"],
    &["cluster", "render", "net"],
    &["workspace"],
    &["features"],
    &["server", "cli"],
];

fn rank(layer: &str) -> Option<usize> {
    LAYERS.iter().position(|names| names.contains(&layer))
}

fn sources() -> Vec<PathBuf> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut found = Vec::new();
    let mut pending = vec![src];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

/// The layer a source file belongs to: its first folder (or file name) under `src/`.
fn layer_of(path: &Path) -> String {
    let relative = path
        .strip_prefix(Path::new(env!("CARGO_MANIFEST_DIR")).join("src"))
        .unwrap();
    let first = relative.components().next().unwrap().as_os_str();
    first.to_string_lossy().trim_end_matches(".rs").to_string()
}

/// Every layer a file names through `crate::<layer>`, with the line it is on (comments skipped).
fn layers_used(text: &str) -> Vec<(usize, String)> {
    let mut used = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let code = line.split("//").next().unwrap_or_default();
        let mut rest = code;
        while let Some(at) = rest.find("crate::") {
            let after = &rest[at + "crate::".len()..];
            let name: String = after
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            // `use crate::{a, b}` names several layers at once.
            if name.is_empty() && after.starts_with('{') {
                let group = &after[1..after.find('}').unwrap_or(after.len())];
                for part in group.split(',') {
                    let part = part.trim().split("::").next().unwrap_or_default();
                    used.push((number + 1, part.to_string()));
                }
            } else {
                used.push((number + 1, name));
            }
            rest = after;
        }
    }
    used
}

#[test]
fn every_module_uses_only_the_layers_below_it() {
    let mut violations = Vec::new();
    for path in sources() {
        let layer = layer_of(&path);
        let Some(own) = rank(&layer) else {
            // lib.rs and main.rs sit above every layer.
            assert!(
                matches!(layer.as_str(), "lib" | "main"),
                "{} is in no layer: add `{layer}` to LAYERS and docs/architecture.md",
                path.display()
            );
            continue;
        };
        let text = std::fs::read_to_string(&path).unwrap();
        for (line, used) in layers_used(&text) {
            let Some(theirs) = rank(&used) else { continue };
            if theirs > own || (theirs == own && used != layer) {
                violations.push(format!("{}:{line}: {layer} uses {used}", path.display()));
            }
        }
    }
    assert!(
        violations.is_empty(),
        "layering broken:\n{}",
        violations.join("\n")
    );
}

/// Longest a source file may be.
const MAX_LINES: usize = 1_000;

#[test]
fn no_source_file_is_over_a_thousand_lines() {
    let long: Vec<String> = sources()
        .into_iter()
        .filter_map(|path| {
            let lines = std::fs::read_to_string(&path).unwrap().lines().count();
            (lines > MAX_LINES).then(|| format!("{}: {lines} lines", path.display()))
        })
        .collect();
    assert!(
        long.is_empty(),
        "split these by concern:\n{}",
        long.join("\n")
    );
}

#[test]
fn the_check_reads_use_lines() {
    let used = layers_used(
        "use crate::yaml::path;\nuse crate::{schema::Store, text};\n// crate::server\n",
    );
    assert_eq!(
        used,
        [
            (1, "yaml".to_string()),
            (2, "schema".to_string()),
            (2, "text".to_string())
        ]
    );
}

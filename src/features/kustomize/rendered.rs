//! A rendered kustomization (kustomize's output, with `buildMetadata: [originAnnotations,
//! transformerAnnotations]`) validated against the schema, each finding mapped back to the file
//! and line that produced the value: the patch that set the field if one did (the last one
//! applied), else the resource in the file it came from (`config.kubernetes.io/origin`), else,
//! for a generated resource, its generator in the kustomization. Render errors land on the
//! kustomization entry they name.

use std::collections::HashMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

use super::entries::{self, PatchRef};
use super::patches::is_json6902;
use super::transformers::Rendered;
use crate::diagnostic::{Diagnostic, Severity, codes};
use crate::schema::Catalog;
use crate::schema::validate::validate_spans;
use crate::workspace::kustomize::{Files, normalize};
use crate::yaml::key_path::Segment;
use crate::yaml::lint;
use crate::yaml::spans::{SpanKind, SpanRef, SpanTree};
use crate::yaml::split;

const ORIGIN: &str = "config.kubernetes.io/origin";
const TRANSFORMATIONS: &str = "alpha.config.kubernetes.io/transformations";
/// At most this many findings are mapped per render (a broken base in a 500-resource overlay).
const MAX_FINDINGS: usize = 500;

/// A finding mapped to a file.
#[derive(Clone, Debug, PartialEq)]
pub struct Finding {
    pub path: PathBuf,
    pub diagnostic: Diagnostic,
}

/// What the rendered document says of itself.
struct Resource<'t> {
    kind: String,
    name: String,
    origin: Option<Origin>,
    /// The transformers that ran on it, in the order they ran: the kustomization that
    /// configured each, and its kind (`PatchTransformer`, `LabelTransformer`…).
    transformations: Vec<(PathBuf, String)>,
    root: SpanRef<'t>,
}

enum Origin {
    File(PathBuf),
    /// A generated resource: the kustomization whose generator made it.
    Generated(PathBuf),
}

/// The findings of a rendered `output` of the kustomization `kustomization`; origin paths in
/// it are relative to `base` (the folder kustomize was run on). `skip` tells findings the
/// file's own validation reports already (same file, range and message).
pub fn findings(
    kustomization: &Path,
    base: &Path,
    output: &str,
    catalog: &Catalog,
    files: &dyn Files,
    skip: &mut dyn FnMut(&Path, &Diagnostic) -> bool,
) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut cache = TextCache::new(files);
    for range in split::split(output).documents {
        let text = &output[range];
        let Some(tree) = lint::check(text).tree else {
            continue;
        };
        let validation = validate_spans(catalog, &tree);
        if validation.diagnostics.is_empty() {
            continue;
        }
        let Some(resource) = tree.root().and_then(|root| resource(root, base)) else {
            continue;
        };
        for diagnostic in validation.diagnostics {
            if diagnostic.severity > Severity::Warning || diagnostic.code == codes::UNKNOWN_KIND {
                continue;
            }
            let Some(source) = map_one(&resource, &diagnostic, &mut cache) else {
                continue;
            };
            let own = Diagnostic {
                range: source.range.clone(),
                fix: None,
                ..diagnostic.clone()
            };
            if skip(&source.file, &own) {
                continue;
            }
            out.push(labelled(kustomization, &resource, &diagnostic, source, ""));
            if out.len() >= MAX_FINDINGS {
                return out;
            }
        }
    }
    out
}

/// The cluster's findings on a rendered `output` (`found`: diagnostics in its offsets, from the
/// dry-run and diff of its documents) mapped back like [`findings`], their messages saying so.
pub fn cluster_findings(
    kustomization: &Path,
    base: &Path,
    output: &str,
    found: &[Diagnostic],
    files: &dyn Files,
) -> Vec<Finding> {
    let mut cache = TextCache::new(files);
    let mut out = Vec::new();
    for range in split::split(output).documents {
        let within: Vec<&Diagnostic> = found
            .iter()
            .filter(|d| range.contains(&d.range.start) || d.range.start == range.end)
            .collect();
        if within.is_empty() {
            continue;
        }
        let (tree, _) = SpanTree::parse(&output[range.clone()]);
        let Some(resource) = tree.root().and_then(|root| resource(root, base)) else {
            continue;
        };
        for diagnostic in within {
            let local = Diagnostic {
                range: diagnostic.range.start - range.start..diagnostic.range.end - range.start,
                ..diagnostic.clone()
            };
            let Some(source) = map_one(&resource, &local, &mut cache) else {
                continue;
            };
            out.push(labelled(
                kustomization,
                &resource,
                diagnostic,
                source,
                "rendered, dry-run: ",
            ));
            if out.len() >= MAX_FINDINGS {
                return out;
            }
        }
    }
    out
}

/// Where a finding on a rendered document comes from.
struct Source {
    file: PathBuf,
    range: Range<usize>,
    /// The field of the rendered resource, dotted.
    field: String,
}

/// Where `diagnostic` (a range in the rendered document of `resource`) comes from.
fn map_one(
    resource: &Resource<'_>,
    diagnostic: &Diagnostic,
    cache: &mut TextCache<'_>,
) -> Option<Source> {
    let mut path = path_to(resource.root, diagnostic.range.start)?;
    let mut on_key = is_on_key(resource.root, diagnostic.range.start);
    if diagnostic.code == codes::REQUIRED && on_key {
        // Reported on the first key of the mapping that misses a field: that mapping
        // (its first key where it is found).
        path.pop();
        on_key = matches!(path.last(), Some(Segment::Index(_))) || path.is_empty();
    }
    let (file, range) = locate(resource, &path, on_key, cache)?;
    Some(Source {
        file,
        range,
        field: dotted(&path),
    })
}

/// `diagnostic` on its source, with the rendered code and a message that names the render:
/// `lead` first, then the rendered message, the kustomization, the resource and the field.
fn labelled(
    kustomization: &Path,
    resource: &Resource<'_>,
    diagnostic: &Diagnostic,
    source: Source,
    lead: &str,
) -> Finding {
    let overlay = kustomization.parent().unwrap_or(Path::new(""));
    let by = super::paths::display_relative(overlay, source.file.parent().unwrap_or(overlay));
    let message = format!(
        "{lead}{} (rendered by {}: {} {} at {})",
        diagnostic.message,
        Path::new(&by)
            .join(kustomization.file_name().unwrap_or_default())
            .display(),
        resource.kind,
        resource.name,
        source.field,
    );
    Finding {
        path: source.file,
        diagnostic: Diagnostic {
            range: source.range,
            severity: diagnostic.severity,
            code: codes::KUSTOMIZE_RENDERED,
            message,
            fix: None,
        },
    }
}

/// The diagnostic for a failed render of `kustomization` (its `text`): on the entry kustomize's
/// message names, else on the file's first key.
pub fn render_error(kustomization: &Path, text: &str, message: &str) -> Diagnostic {
    let found = entries::read(kustomization, text);
    let named = found.paths.iter().find(|p| {
        let quoted =
            |s: &str| message.contains(&format!("'{s}'")) || message.contains(&format!("\"{s}\""));
        quoted(&p.text)
            || p.resolved
                .as_ref()
                .is_some_and(|r| message.contains(&*r.to_string_lossy()))
    });
    // kustomize decodes kustomization files strictly: `unknown field "resourcs"` (quotes
    // escaped in kubectl's log line) names a key of the file.
    let unknown = message.split("unknown field ").nth(1).map(|rest| {
        rest.trim_start_matches(['\\', '"'])
            .split(['\\', '"'])
            .next()
            .unwrap_or_default()
    });
    let unknown_key = unknown.and_then(|name| found.keys.iter().find(|(k, _, _)| k == name));
    let range = named
        .map(|p| p.range.clone())
        .or_else(|| unknown_key.map(|(_, key, _)| key.clone()))
        .or_else(|| found.keys.first().map(|(_, key, _)| key.clone()))
        .unwrap_or(0..0);
    let message = message.trim();
    let short: String = message.chars().take(2_000).collect();
    Diagnostic::error(
        range,
        codes::KUSTOMIZE_RENDER,
        format!("kustomize build failed: {short}"),
    )
}

fn dotted(path: &[Segment]) -> String {
    let mut out = String::new();
    for segment in path {
        match segment {
            Segment::Key(key) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(key);
            }
            Segment::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

fn resource<'t>(root: SpanRef<'t>, base: &Path) -> Option<Resource<'t>> {
    let kind = root.get("kind")?.value()?.to_string();
    let metadata = root.get("metadata");
    let name = metadata
        .and_then(|m| m.get("name"))
        .and_then(|n| n.value())
        .unwrap_or_default();
    let annotations = metadata.and_then(|m| m.get("annotations"));
    let annotation = |key| annotations.and_then(|a| a.get(key)).and_then(|v| v.value());
    let origin = annotation(ORIGIN).and_then(|text| {
        let value = |key: &str| {
            text.lines().find_map(|l| {
                l.strip_prefix(key)?
                    .strip_prefix(':')
                    .map(|v| v.trim().to_string())
            })
        };
        if let Some(path) = value("path") {
            return Some(Origin::File(normalize(&base.join(path))));
        }
        value("configuredIn").map(|k| Origin::Generated(normalize(&base.join(k))))
    });
    let mut transformations: Vec<(PathBuf, String)> = Vec::new();
    if let Some(text) = annotation(TRANSFORMATIONS) {
        let mut configured = None;
        for line in text.lines() {
            let line = line.trim_start_matches([' ', '-']);
            if let Some(path) = line.strip_prefix("configuredIn:") {
                configured = Some(normalize(&base.join(path.trim())));
            }
            if let Some(kind) = line.strip_prefix("kind:")
                && let Some(path) = configured.take()
            {
                let entry = (path, kind.trim().to_string());
                if transformations.last() != Some(&entry) {
                    transformations.push(entry);
                }
            }
        }
    }
    Some(Resource {
        kind,
        name: name.to_string(),
        origin,
        transformations,
        root,
    })
}

/// The key path to the deepest node of `root` holding `offset`.
fn path_to(root: SpanRef<'_>, offset: usize) -> Option<Vec<Segment>> {
    let mut path = Vec::new();
    let mut node = root;
    'down: loop {
        match node.kind() {
            SpanKind::Mapping => {
                for (key, value) in node.pairs() {
                    let holds = |n: SpanRef<'_>| {
                        n.range().start <= offset && offset < n.range().end.max(n.range().start + 1)
                    };
                    if holds(key) {
                        path.push(Segment::Key(key.value()?.to_string()));
                        return Some(path);
                    }
                    if let Some(value) = value.filter(|v| holds(*v)) {
                        path.push(Segment::Key(key.value()?.to_string()));
                        node = value;
                        continue 'down;
                    }
                }
                return Some(path);
            }
            SpanKind::Sequence => {
                for (i, item) in node.children().enumerate() {
                    if item.range().start <= offset
                        && offset < item.range().end.max(item.range().start + 1)
                    {
                        path.push(Segment::Index(i));
                        node = item;
                        continue 'down;
                    }
                }
                return Some(path);
            }
            _ => return Some(path),
        }
    }
}

fn is_on_key(root: SpanRef<'_>, offset: usize) -> bool {
    let mut node = root;
    loop {
        let next = match node.kind() {
            SpanKind::Mapping => {
                let mut next = None;
                for (key, value) in node.pairs() {
                    if key.range().contains(&offset) {
                        return true;
                    }
                    if let Some(v) = value.filter(|v| v.range().contains(&offset)) {
                        next = Some(v);
                    }
                }
                next
            }
            SpanKind::Sequence => node.children().find(|i| i.range().contains(&offset)),
            _ => None,
        };
        match next {
            Some(n) => node = n,
            None => return false,
        }
    }
}

/// Texts read for one render, each parsed once.
struct TextCache<'f> {
    files: &'f dyn Files,
    texts: HashMap<PathBuf, Option<String>>,
}

impl<'f> TextCache<'f> {
    fn new(files: &'f dyn Files) -> Self {
        TextCache {
            files,
            texts: HashMap::new(),
        }
    }

    fn text(&mut self, path: &Path) -> Option<&str> {
        let files = self.files;
        self.texts
            .entry(path.to_path_buf())
            .or_insert_with(|| files.read(path))
            .as_deref()
    }
}

/// Where a finding at `path` of `resource` comes from: (file, range).
fn locate(
    resource: &Resource<'_>,
    path: &[Segment],
    on_key: bool,
    cache: &mut TextCache<'_>,
) -> Option<(PathBuf, Range<usize>)> {
    // The last transformer that set the field: a patch, or a field of a kustomization.
    let mut tried: Vec<&(PathBuf, String)> = Vec::new();
    for entry in resource.transformations.iter().rev() {
        if tried.contains(&entry) {
            continue;
        }
        tried.push(entry);
        let (kustomization, kind) = entry;
        let found = if kind == "PatchTransformer" {
            from_patches(resource, kustomization, path, on_key, cache)
        } else {
            cache.text(kustomization).and_then(|text| {
                let rendered = Rendered {
                    name: &resource.name,
                    root: resource.root,
                };
                super::transformers::source(text, kind, &rendered, path, on_key)
                    .map(|range| (kustomization.clone(), range))
            })
        };
        if found.is_some() {
            return found;
        }
    }
    match resource.origin.as_ref()? {
        Origin::File(file) => {
            let text = cache.text(file)?.to_string();
            let range = in_documents(&text, resource, path, on_key, true)?;
            Some((file.clone(), range))
        }
        Origin::Generated(kustomization) => {
            let text = cache.text(kustomization)?;
            let found = entries::read(kustomization, text);
            let key = if resource.kind == "Secret" {
                "secretGenerator"
            } else {
                "configMapGenerator"
            };
            let range = found
                .keys
                .iter()
                .find(|(k, _, _)| k == key)
                .map(|(_, r, _)| r.clone())?;
            Some((kustomization.clone(), range))
        }
    }
}

/// The range of `path` in the document of `text` that is `resource` (same kind, name within
/// the rendered one): its node, or with `fallback` the deepest part that exists.
fn in_documents(
    text: &str,
    resource: &Resource<'_>,
    path: &[Segment],
    on_key: bool,
    fallback: bool,
) -> Option<Range<usize>> {
    let mut best: Option<(usize, Range<usize>)> = None;
    for range in split::split(text).documents {
        let (tree, _) = SpanTree::parse(&text[range.clone()]);
        let Some(root) = tree.root() else { continue };
        if root.get("kind").and_then(|k| k.value()) != Some(resource.kind.as_str()) {
            continue;
        }
        let name = root
            .get("metadata")
            .and_then(|m| m.get("name"))
            .and_then(|n| n.value())
            .unwrap_or_default();
        let score = if name == resource.name {
            3
        } else if !name.is_empty() && resource.name.contains(name) {
            2
        } else if name.is_empty() {
            1
        } else {
            0
        };
        if score == 0 {
            continue;
        }
        let Some(found) = follow(resource.root, root, path, on_key, fallback) else {
            continue;
        };
        let found = found.start + range.start..found.end + range.start;
        if best.as_ref().is_none_or(|(s, _)| score > *s) {
            best = Some((score, found));
        }
    }
    best.map(|(_, range)| range)
}

/// Follows `path` of the rendered document in another tree (a base or a patch), matching list
/// items by their `name` when they have one (as strategic merges do), else by index.
fn follow(
    rendered: SpanRef<'_>,
    other: SpanRef<'_>,
    path: &[Segment],
    on_key: bool,
    fallback: bool,
) -> Option<Range<usize>> {
    let (mut here, mut there) = (Some(rendered), other);
    let mut last_key: Option<Range<usize>> = None;
    for (i, segment) in path.iter().enumerate() {
        let last = i + 1 == path.len();
        match segment {
            Segment::Key(key) => {
                let pair = (there.kind() == SpanKind::Mapping)
                    .then(|| there.pairs().find(|(k, _)| k.value() == Some(key.as_str())))
                    .flatten();
                let Some((k, v)) = pair else {
                    return fallback.then_some(last_key).flatten();
                };
                if last && on_key {
                    return Some(k.range());
                }
                last_key = Some(k.range());
                here = here.and_then(|h| h.get(key));
                match v {
                    Some(v) => there = v,
                    None => return Some(k.range()),
                }
            }
            Segment::Index(index) => {
                let item = here.and_then(|h| h.children().nth(*index));
                let name = item.and_then(|i| i.get("name")).and_then(|n| n.value());
                let matched = match name {
                    Some(name) => there
                        .children()
                        .find(|c| c.get("name").and_then(|n| n.value()) == Some(name)),
                    None => there.children().nth(*index),
                };
                let Some(matched) = matched else {
                    return fallback.then_some(last_key).flatten();
                };
                here = item;
                there = matched;
            }
        }
    }
    if on_key && there.kind() == SpanKind::Mapping {
        return there
            .pairs()
            .next()
            .map(|(k, _)| k.range())
            .or(Some(there.range()));
    }
    Some(there.range())
}

/// The range in the patches `kustomization` applies to `resource` that set `path`.
fn from_patches(
    resource: &Resource<'_>,
    kustomization: &Path,
    path: &[Segment],
    on_key: bool,
    cache: &mut TextCache<'_>,
) -> Option<(PathBuf, Range<usize>)> {
    let text = cache.text(kustomization)?.to_string();
    let found = entries::read(kustomization, &text);
    for patch in found.patches.iter().rev() {
        if !targets(patch, resource) {
            continue;
        }
        let (file, body, offset) = match (&patch.path, &patch.inline) {
            (Some(file), _) => (file.clone(), cache.text(file)?.to_string(), None),
            (None, Some(inline)) => (
                kustomization.to_path_buf(),
                inline.value.clone(),
                Some(inline),
            ),
            _ => continue,
        };
        let range = if is_json6902(&body) {
            in_json6902(&body, resource, path)
        } else {
            in_documents(&body, resource, path, on_key, false)
        };
        let Some(range) = range else { continue };
        let range = match offset {
            Some(inline) => super::patches::inline_range(&text, inline, range),
            None => range,
        };
        return Some((file, range));
    }
    None
}

/// Whether a patch entry's target (when it has one) selects `resource`.
fn targets(patch: &PatchRef, resource: &Resource<'_>) -> bool {
    let Some(target) = &patch.target else {
        return true;
    };
    target.kind.as_deref().is_none_or(|k| k == resource.kind)
        && target
            .name
            .as_deref()
            .is_none_or(|n| resource.name.contains(n))
}

/// The JSON 6902 operation that sets `path` (or a parent of it): the part of its value at the
/// rest of the path, else its `path`.
fn in_json6902(text: &str, resource: &Resource<'_>, path: &[Segment]) -> Option<Range<usize>> {
    let (tree, _) = SpanTree::parse(text);
    let root = tree.root()?;
    let pointer: Vec<String> = path
        .iter()
        .map(|s| match s {
            Segment::Key(k) => k.replace('~', "~0").replace('/', "~1"),
            Segment::Index(i) => i.to_string(),
        })
        .collect();
    for op in root.children().collect::<Vec<_>>().into_iter().rev() {
        let Some(op_path) = op
            .get("path")
            .and_then(|p| p.value().map(|v| (v, p.range())))
        else {
            continue;
        };
        let parts: Vec<&str> = op_path.0.trim_start_matches('/').split('/').collect();
        if parts.len() > pointer.len()
            || parts
                .iter()
                .zip(&pointer)
                .any(|(a, b)| *a != b && *a != "-")
        {
            continue;
        }
        let rest = &path[parts.len()..];
        if let Some(value) = op.get("value") {
            // The value is the rendered node at the op's path, as the patch wrote it.
            let rendered = rest_root(resource.root, &path[..parts.len()]);
            let found = match rendered {
                Some(rendered) => follow(rendered, value, rest, false, true),
                None => None,
            };
            return Some(found.unwrap_or(value.range()));
        }
        return Some(op_path.1);
    }
    None
}

fn rest_root<'t>(root: SpanRef<'t>, path: &[Segment]) -> Option<SpanRef<'t>> {
    let mut node = root;
    for segment in path {
        node = match segment {
            Segment::Key(k) => node.get(k)?,
            Segment::Index(i) => node.children().nth(*i)?,
        };
    }
    Some(node)
}

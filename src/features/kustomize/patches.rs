//! Patches checked as patches. A JSON 6902 patch (RFC 6902 as kustomize applies it): each
//! operation's `op`, `path`, `from` and `value`, and its `path` followed through the target
//! kind's schema (a path that cannot exist is flagged, with a did-you-mean), its `value`
//! validated against the schema there (as a patch: no required fields). An inline `patch: |`
//! block of a kustomization is checked the same way (or, when it is a strategic-merge patch,
//! validated as one), with positions inside the block scalar.

use std::ops::Range;

use ropey::Rope;

use super::entries::{Inline, Target};
use crate::diagnostic::{Diagnostic, codes};
use crate::features::diagnostics::text_diagnostics_as;
use crate::schema::validate::{Role, suggest, validate_patch_value};
use crate::schema::{Catalog, SchemaNode, ValueKind};
use crate::yaml::scalar::ScalarStyle;
use crate::yaml::spans::{SpanKind, SpanRef, SpanTree};

const OPS: [&str; 6] = ["add", "remove", "replace", "move", "copy", "test"];

/// Whether a patch's text is a JSON 6902 patch (a list of operations) rather than a
/// strategic-merge patch (kustomize tells them apart the same way: by the shape).
pub fn is_json6902(text: &str) -> bool {
    let (tree, _) = SpanTree::parse(text);
    tree.root()
        .is_some_and(|root| root.kind() == SpanKind::Sequence)
}

/// The schema of the kind a patch targets, when the catalog knows it: `version` and `group`
/// as written, else the first apiVersion serving the kind.
fn target_schema(
    catalog: &Catalog,
    target: &Target,
) -> Option<(String, std::sync::Arc<crate::schema::GroupVersionSchemas>)> {
    let kind = target.kind.as_deref()?;
    let api_version = match (&target.group, &target.version) {
        (Some(group), Some(version)) if !group.is_empty() => format!("{group}/{version}"),
        (_, Some(version)) => version.clone(),
        _ => {
            let served = catalog.api_versions_of_kind(kind);
            let group = target.group.as_deref();
            served
                .into_iter()
                .find(|v| group.is_none_or(|g| crate::schema::store::split_api_version(v).0 == g))?
        }
    };
    let found = catalog.schemas_for(&api_version, kind)?;
    Some((kind.to_string(), found.schemas))
}

/// The diagnostics of a JSON 6902 patch `text` (offsets into `text`) for `target`.
pub fn check_json6902(text: &str, target: Option<&Target>, catalog: &Catalog) -> Vec<Diagnostic> {
    let (tree, _) = SpanTree::parse(text);
    let mut out = Vec::new();
    let Some(root) = tree.root() else { return out };
    if root.kind() != SpanKind::Sequence {
        out.push(Diagnostic::error(
            root.range(),
            codes::KUSTOMIZE_PATCH,
            "a JSON 6902 patch is a list of operations".to_string(),
        ));
        return out;
    }
    let schema = target.and_then(|t| target_schema(catalog, t));
    for op in root.children() {
        check_op(op, schema.as_ref(), catalog, &mut out);
    }
    out
}

fn check_op(
    op: SpanRef<'_>,
    schema: Option<&(String, std::sync::Arc<crate::schema::GroupVersionSchemas>)>,
    catalog: &Catalog,
    out: &mut Vec<Diagnostic>,
) {
    let error = |range: Range<usize>, message: String| {
        Diagnostic::error(range, codes::KUSTOMIZE_PATCH, message)
    };
    if op.kind() != SpanKind::Mapping {
        out.push(error(
            op.range(),
            "an operation is a mapping with `op` and `path` (and `value` or `from`)".to_string(),
        ));
        return;
    }
    let field = |name: &str| op.pairs().find(|(k, _)| k.value() == Some(name));
    for (key, _) in op.pairs() {
        let name = key.value().unwrap_or_default();
        if !matches!(name, "op" | "path" | "value" | "from") {
            out.push(error(
                key.range(),
                format!("unknown field `{name}` in a JSON 6902 operation (op, path, value, from)"),
            ));
        }
    }
    let anchor = op.pairs().next().map_or(op.range(), |(k, _)| k.range());
    let Some((op_key, op_value)) = field("op") else {
        out.push(error(
            anchor,
            "missing `op` (add, remove, replace, move, copy or test)".to_string(),
        ));
        return;
    };
    let name = op_value.and_then(|v| v.value()).unwrap_or_default();
    if !OPS.contains(&name) {
        let range = op_value.map_or(op_key.range(), |v| v.range());
        out.push(error(
            range,
            format!(
                "unsupported op `{name}`: expected one of add, remove, replace, move, copy, test"
            ),
        ));
        return;
    }
    let needs_value = matches!(name, "add" | "replace" | "test");
    let needs_from = matches!(name, "move" | "copy");
    if needs_value && field("value").is_none() {
        out.push(error(op_key.range(), format!("`{name}` needs a `value`")));
    }
    if needs_from && field("from").is_none() {
        out.push(error(
            op_key.range(),
            format!("`{name}` needs a `from` path"),
        ));
    }
    let mut at_path = None;
    for (key_name, required) in [("path", true), ("from", needs_from)] {
        let Some((key, value)) = field(key_name) else {
            if required && key_name == "path" {
                out.push(error(op_key.range(), format!("`{name}` needs a `path`")));
            }
            continue;
        };
        let Some((pointer, range)) = value.and_then(|v| Some((v.value()?, v.range()))) else {
            out.push(error(
                key.range(),
                format!("`{key_name}` must be a JSON pointer like /spec/replicas"),
            ));
            continue;
        };
        if !pointer.is_empty() && !pointer.starts_with('/') {
            out.push(error(
                range,
                format!("`{pointer}` is not a JSON pointer: it must start with `/` (like /spec/replicas)"),
            ));
            continue;
        }
        let Some((kind, gv)) = schema else { continue };
        let Some(root) = gv.kind(kind) else { continue };
        match resolve_pointer(root, pointer) {
            Ok(node) => {
                if key_name == "path" {
                    at_path = Some(node);
                }
            }
            Err(message) => out.push(error(
                range,
                format!("`{pointer}` cannot exist in {kind}: {message}"),
            )),
        }
    }
    if let (Some(schema), true, Some((_, Some(value)))) = (at_path, needs_value, field("value")) {
        out.extend(validate_patch_value(catalog, value, schema));
    }
}

/// Follows a JSON pointer through a schema: properties, map values, list items (an index or
/// `-`). `Err` says where it stops.
fn resolve_pointer<'g>(root: SchemaNode<'g>, pointer: &str) -> Result<SchemaNode<'g>, String> {
    let mut node = root;
    if pointer.is_empty() {
        return Ok(node);
    }
    for raw in pointer[1..].split('/') {
        let segment = raw.replace("~1", "/").replace("~0", "~");
        node = match node.kind() {
            ValueKind::Any => return Ok(node),
            ValueKind::Object => match (node.property(&segment), node.additional()) {
                (Some(property), _) => property,
                (None, Some(Some(values))) => values,
                (None, Some(None)) => return Ok(node),
                (None, None) => {
                    let mut message = format!("{} has no field `{segment}`", node.type_label());
                    if let Some(close) =
                        suggest::did_you_mean(&segment, node.properties().map(|(n, _)| n))
                    {
                        message.push_str(&format!("; did you mean `{close}`?"));
                    }
                    return Err(message);
                }
            },
            ValueKind::Array => {
                let index = segment == "-"
                    || (!segment.is_empty() && segment.bytes().all(|b| b.is_ascii_digit()));
                if !index {
                    return Err(format!(
                        "{} is a list: `{segment}` must be an index or `-`",
                        node.type_label()
                    ));
                }
                match node.items() {
                    Some(items) => items,
                    None => return Ok(node),
                }
            }
            _ => {
                return Err(format!(
                    "{} holds no fields (at `{segment}`)",
                    node.type_label()
                ));
            }
        };
    }
    Ok(node)
}

/// The diagnostics of an inline patch of a kustomization (the value of `patch:` or an item of
/// `patchesStrategicMerge`), in file offsets: inside a literal block scalar each lands on its own
/// text, otherwise on the whole value.
pub fn check_inline(
    inline: &Inline,
    target: Option<&Target>,
    file_text: &str,
    catalog: &Catalog,
) -> Vec<Diagnostic> {
    let value = &inline.value;
    let found = if is_json6902(value) {
        check_json6902(value, target, catalog)
    } else {
        text_diagnostics_as(&Rope::from_str(value), catalog, Role::Patch)
    };
    let map = BlockMap::new(file_text, inline);
    found
        .into_iter()
        .map(|mut d| {
            let start = map.file_offset(d.range.start);
            let end = map.file_offset(d.range.end).max(start);
            d.range = start..end;
            // An edit inside the block would need its indentation: not offered.
            d.fix = None;
            d
        })
        .collect()
}

/// A range of an inline patch's value as a range of the file.
pub(super) fn inline_range(file_text: &str, inline: &Inline, range: Range<usize>) -> Range<usize> {
    let map = BlockMap::new(file_text, inline);
    let start = map.file_offset(range.start);
    start..map.file_offset(range.end).max(start)
}

/// Where a literal block scalar's value sits in the file: each value line is a file line with
/// the block's indentation removed.
struct BlockMap<'v> {
    value: &'v str,
    /// File offset of each value line's first character.
    lines: Vec<usize>,
    /// The whole scalar, for values that are not literal blocks.
    whole: Range<usize>,
}

impl<'v> BlockMap<'v> {
    fn new(file: &str, inline: &'v Inline) -> BlockMap<'v> {
        let whole = inline.range.clone();
        let value = inline.value.as_str();
        let literal = inline.style == Some(ScalarStyle::Literal);
        let Some(newline) = file
            .get(whole.start..)
            .and_then(|rest| rest.find('\n'))
            .filter(|_| literal)
        else {
            return BlockMap {
                value,
                lines: Vec::new(),
                whole,
            };
        };
        let body = whole.start + newline + 1;
        let indent = file[body..]
            .lines()
            .find(|l| !l.trim().is_empty())
            .map_or(0, |l| l.len() - l.trim_start_matches(' ').len());
        let mut lines = Vec::new();
        let mut at = body;
        for _ in 0..=value.matches('\n').count() {
            let line_end = file[at..].find('\n').map_or(file.len(), |n| at + n);
            lines.push((at + indent).min(line_end));
            if line_end >= file.len() {
                break;
            }
            at = line_end + 1;
        }
        BlockMap {
            value,
            lines,
            whole,
        }
    }

    /// The file offset of a value offset.
    fn file_offset(&self, offset: usize) -> usize {
        if self.lines.is_empty() {
            return if offset == 0 {
                self.whole.start
            } else {
                self.whole.end
            };
        }
        let Some(before) = self.value.get(..offset) else {
            return self.whole.end;
        };
        let line = before.matches('\n').count();
        let column = offset - before.rfind('\n').map_or(0, |n| n + 1);
        self.lines
            .get(line)
            .map_or(self.whole.end, |start| start + column)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::kustomize::entries;
    use std::path::Path;

    fn target(kind: &str) -> Target {
        Target {
            kind: Some(kind.to_string()),
            ..Target::default()
        }
    }

    fn found(text: &str, kind: &str) -> Vec<(String, String)> {
        check_json6902(text, Some(&target(kind)), &Catalog::builtin())
            .into_iter()
            .map(|d| (text[d.range].to_string(), d.message))
            .collect()
    }

    #[test]
    fn operations_are_checked_and_paths_resolved_against_the_target() {
        let text = "- op: replace\n  path: /spec/replicas\n  value: 3\n- op: add\n  path: /spec/template/spec/containers/0/env/-\n  value: {name: A, value: b}\n- op: add\n  path: /metadata/labels/app.kubernetes.io~1name\n  value: web\n- op: remove\n  path: /spec/replicaz\n- op: replace\n  path: /spec/template/spec/containers/first/image\n  value: x\n- op: upsert\n  path: /spec\n- op: move\n  path: /spec/paused\n- op: replace\n  path: spec/replicas\n  value: 1\n- op: replace\n  path: /spec/replicas\n  value: three\n  extra: 1\n";
        let found = found(text, "Deployment");
        let summary: Vec<&str> = found.iter().map(|(t, _)| t.as_str()).collect();
        assert_eq!(
            summary,
            [
                "/spec/replicaz",
                "/spec/template/spec/containers/first/image",
                "upsert",
                "op",
                "spec/replicas",
                "extra",
                "three"
            ],
            "{found:#?}"
        );
        assert!(
            found[0].1.contains("did you mean `replicas`?"),
            "{}",
            found[0].1
        );
        assert!(
            found[3].1.contains("`move` needs a `from`"),
            "{}",
            found[3].1
        );
        // Unknown targets: structure only.
        assert!(
            check_json6902(
                "- op: remove\n  path: /x/y\n",
                Some(&target("Widget")),
                &Catalog::builtin()
            )
            .is_empty()
        );
    }

    #[test]
    fn inline_patches_land_inside_the_block() {
        let text = "resources: [d.yaml]\npatches:\n- target: {kind: Deployment}\n  patch: |-\n    - op: replace\n      path: /spec/replicaz\n      value: 2\n- patch: |\n    apiVersion: apps/v1\n    kind: Deployment\n    metadata:\n      name: web\n    spec:\n      replicas: two\n";
        let entries = entries::read(Path::new("/k/kustomization.yaml"), text);
        let catalog = Catalog::builtin();
        let mut all = Vec::new();
        for patch in &entries.patches {
            let inline = patch.inline.as_ref().unwrap();
            all.extend(check_inline(inline, patch.target.as_ref(), text, &catalog));
        }
        let texts: Vec<&str> = all.iter().map(|d| &text[d.range.clone()]).collect();
        assert_eq!(texts, ["/spec/replicaz", "two"], "{all:#?}");
        assert!(is_json6902("- op: add\n") && !is_json6902("kind: X\n"));
    }
}

//! The kustomization field that set a value of a rendered resource, for the built-in
//! transformers kustomize names in `alpha.config.kubernetes.io/transformations`: a finding on a
//! name made by `namePrefix`/`nameSuffix`, a namespace set by `namespace`, a label or annotation
//! added by `labels`/`commonLabels`/`commonAnnotations`, a replica count from `replicas` or an
//! image from `images` is reported on that entry of the kustomization, not on the resource.

use std::ops::Range;

use crate::yaml::key_path::{self, Segment};
use crate::yaml::spans::{SpanKind, SpanRef, SpanTree};

/// The rendered resource a finding is on.
pub struct Rendered<'r, 't> {
    /// Its `metadata.name` as rendered.
    pub name: &'r str,
    pub root: SpanRef<'t>,
}

/// The range in the kustomization `text` of the entry through which the transformer `kind`
/// set `path` of `rendered` (its key with `on_key`, else its value); `None` when that
/// transformer did not set it.
pub fn source(
    text: &str,
    kind: &str,
    rendered: &Rendered<'_, '_>,
    path: &[Segment],
    on_key: bool,
) -> Option<Range<usize>> {
    let (tree, _) = SpanTree::parse(text);
    let root = tree.root()?;
    let keys = key_path::pattern(path);
    let pick = |key: SpanRef<'_>, value: Option<SpanRef<'_>>| {
        if on_key {
            Some(key.range())
        } else {
            Some(value.unwrap_or(key).range())
        }
    };
    match (kind, keys.as_slice()) {
        ("PrefixTransformer", ["metadata", "name"]) => name_part(root, "namePrefix", true),
        ("SuffixTransformer", ["metadata", "name"]) => name_part(root, "nameSuffix", false),
        ("NamespaceTransformer", ["metadata", "namespace"]) => {
            let (key, value) = pair(root, "namespace")?;
            pick(key, value)
        }
        ("LabelTransformer", [.., "labels" | "matchLabels", label]) => {
            let common = pair(root, "commonLabels").and_then(|(_, map)| pair(map?, label));
            let from_labels = || {
                let items = pair(root, "labels")?.1?;
                items
                    .children()
                    .filter_map(|item| pair(item.get("pairs")?, label))
                    .last()
            };
            let (key, value) = common.or_else(from_labels)?;
            pick(key, value)
        }
        ("AnnotationsTransformer", [.., "annotations", annotation]) => {
            let (key, value) = pair(pair(root, "commonAnnotations")?.1?, annotation)?;
            pick(key, value)
        }
        ("ReplicaCountTransformer", ["spec", "replicas"]) => {
            let item = pair(root, "replicas")?.1?.children().find(|item| {
                item.get("name")
                    .and_then(|n| n.value())
                    .is_some_and(|n| !n.is_empty() && rendered.name.contains(n))
            })?;
            let (key, value) = pair(item, "count")?;
            pick(key, value)
        }
        (
            "ImageTagTransformer",
            [
                ..,
                "containers" | "initContainers" | "ephemeralContainers",
                "[]",
                "image",
            ],
        ) => {
            let image = value_at(rendered.root, path)?;
            let repository = repository_of(image);
            let item = pair(root, "images")?.1?.children().find(|item| {
                ["newName", "name"]
                    .iter()
                    .any(|field| item.get(field).and_then(|n| n.value()) == Some(repository))
            })?;
            let (key, value) = ["newTag", "digest", "newName", "name"]
                .iter()
                .find_map(|field| pair(item, field))?;
            pick(key, value)
        }
        _ => None,
    }
}

/// `key` of a mapping, and its value.
fn pair<'t>(mapping: SpanRef<'t>, key: &str) -> Option<(SpanRef<'t>, Option<SpanRef<'t>>)> {
    if mapping.kind() != SpanKind::Mapping {
        return None;
    }
    mapping.pairs().find(|(k, _)| k.value() == Some(key))
}

/// The value of `namePrefix` or `nameSuffix`, when it could be what makes a name invalid (a
/// character names cannot hold, or a dash where the name starts or ends); else the resource's
/// own name is the one to blame.
fn name_part(root: SpanRef<'_>, key: &str, prefix: bool) -> Option<Range<usize>> {
    let value = pair(root, key)?.1?;
    let text = value.value()?;
    let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.';
    let outer = if prefix {
        text.chars().next()
    } else {
        text.chars().last()
    };
    let suspect =
        text.chars().any(|c| !allowed(c)) || outer.is_some_and(|c| !c.is_ascii_alphanumeric());
    suspect.then(|| value.range())
}

fn value_at<'t>(root: SpanRef<'t>, path: &[Segment]) -> Option<&'t str> {
    let mut node = root;
    for segment in path {
        node = match segment {
            Segment::Key(k) => node.get(k)?,
            Segment::Index(i) => node.children().nth(*i)?,
        };
    }
    node.value()
}

/// An image reference without its tag or digest.
fn repository_of(image: &str) -> &str {
    let image = image.split('@').next().unwrap_or(image);
    match image.rsplit_once(':') {
        Some((repository, tag)) if !tag.contains('/') => repository,
        _ => image,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KUSTOMIZATION: &str = "namePrefix: prod-\nnameSuffix: -X\nnamespace: Prod\nlabels:\n- pairs:\n    tier: bad value!\ncommonLabels:\n  team: core\ncommonAnnotations:\n  note: x\nreplicas:\n- name: web\n  count: -1\nimages:\n- name: nginx\n  newTag: \"1.26\"\n";
    const RENDERED: &str = "metadata:\n  name: prod-web-X\nspec:\n  template:\n    spec:\n      containers:\n      - name: web\n        image: nginx:1.26\n";

    fn found(kind: &str, path: &[Segment], on_key: bool) -> Option<String> {
        let (tree, _) = SpanTree::parse(RENDERED);
        let rendered = Rendered {
            name: "prod-web-X",
            root: tree.root().unwrap(),
        };
        source(KUSTOMIZATION, kind, &rendered, path, on_key).map(|r| KUSTOMIZATION[r].to_string())
    }

    fn keys(path: &str) -> Vec<Segment> {
        path.split('.')
            .map(|p| match p.parse::<usize>() {
                Ok(i) => Segment::Index(i),
                Err(_) => Segment::Key(p.to_string()),
            })
            .collect()
    }

    #[test]
    fn each_transformer_points_at_its_entry() {
        let at = |kind, path, on_key| found(kind, &keys(path), on_key);
        assert_eq!(
            at("SuffixTransformer", "metadata.name", false).as_deref(),
            Some("-X")
        );
        // A prefix names may hold is not blamed for an invalid name.
        assert_eq!(at("PrefixTransformer", "metadata.name", false), None);
        assert_eq!(
            at("NamespaceTransformer", "metadata.namespace", false).as_deref(),
            Some("Prod")
        );
        assert_eq!(
            at("LabelTransformer", "metadata.labels.tier", false).as_deref(),
            Some("bad value!")
        );
        assert_eq!(
            at(
                "LabelTransformer",
                "spec.template.metadata.labels.team",
                true
            )
            .as_deref(),
            Some("team")
        );
        assert_eq!(at("LabelTransformer", "metadata.labels.app", false), None);
        assert_eq!(
            at("AnnotationsTransformer", "metadata.annotations.note", false).as_deref(),
            Some("x")
        );
        assert_eq!(
            at("ReplicaCountTransformer", "spec.replicas", false).as_deref(),
            Some("-1")
        );
        assert_eq!(
            at(
                "ImageTagTransformer",
                "spec.template.spec.containers.0.image",
                false
            )
            .as_deref(),
            Some("\"1.26\"")
        );
        // A transformer that sets other fields.
        assert_eq!(at("NamespaceTransformer", "metadata.name", false), None);
    }

    #[test]
    fn repositories_lose_tags_and_digests_but_not_ports() {
        assert_eq!(repository_of("nginx:1.25"), "nginx");
        assert_eq!(repository_of("registry:5000/app"), "registry:5000/app");
        assert_eq!(
            repository_of("registry:5000/app:v1@sha256:ab"),
            "registry:5000/app"
        );
    }
}

//! Dry-run and diff of every Kubernetes document of a file's text (the server's background work
//! and `kube-lsp check --cluster`).

use std::ops::Range;

use serde_json::Value;

use super::ClusterError;
use super::connection::Connection;
use super::dry_run::{DryRun, dry_run};
use crate::yaml::value::{Limits, document_to_json};
use crate::yaml::{detect, split};

/// One document that was dry-run.
#[derive(Clone, Debug)]
pub struct CheckedDocument {
    /// The document's byte range in the file.
    pub range: Range<usize>,
    pub manifest: Value,
    pub result: DryRun,
}

/// The documents of `text` worth sending: valid YAML mappings with `apiVersion` and `kind`, and
/// no Helm template action, each with its range and JSON.
pub fn kubernetes_documents(text: &str) -> Vec<(Range<usize>, Value)> {
    let mut found = Vec::new();
    for range in split::split(text).documents {
        let Some(document) = text.get(range.clone()) else {
            continue;
        };
        if detect::template_action_in(document).is_some() {
            continue;
        }
        let Ok(Some(manifest)) = document_to_json(document, &Limits::default()) else {
            continue;
        };
        let has = |key: &str| {
            manifest
                .get(key)
                .and_then(Value::as_str)
                .is_some_and(|s| !s.is_empty())
        };
        // Kustomization files are read by kustomize, never sent to an apiserver.
        let tool = manifest
            .get("apiVersion")
            .and_then(Value::as_str)
            .is_some_and(crate::schema::kustomize::is_kustomize_group);
        if has("apiVersion") && has("kind") && !tool {
            found.push((range, manifest));
        }
    }
    found
}

/// Whether a manifest is a Secret, or a list holding one: the language server sends neither
/// unless the user allows Secrets.
pub fn holds_secret(manifest: &Value) -> bool {
    let is_secret = |object: &Value| {
        object.get("kind").and_then(Value::as_str) == Some("Secret")
            && object.get("apiVersion").and_then(Value::as_str) == Some("v1")
    };
    is_secret(manifest)
        || manifest
            .get("items")
            .and_then(Value::as_array)
            .is_some_and(|items| items.iter().any(holds_secret))
}

/// The annotations kustomize adds to a render when asked for build metadata (kube-lsp asks, to
/// map findings back to their files): never sent, as `kubectl apply -k` would not send them.
const BUILD_ANNOTATIONS: [&str; 3] = [
    "config.kubernetes.io/origin",
    "alpha.config.kubernetes.io/transformations",
    "alpha.config.kubernetes.io/patches",
];

/// Removes kustomize's build annotations (and kustomize's internal ones) from a rendered
/// manifest, and `metadata.annotations` when nothing else is left in it.
pub fn without_build_annotations(manifest: &mut Value) {
    let Some(metadata) = manifest.get_mut("metadata").and_then(Value::as_object_mut) else {
        return;
    };
    let Some(annotations) = metadata
        .get_mut("annotations")
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    annotations.retain(|key, _| {
        !BUILD_ANNOTATIONS.contains(&key.as_str())
            && !key.starts_with("internal.config.kubernetes.io/")
    });
    if annotations.is_empty() {
        metadata.remove("annotations");
    }
}

/// Dry-runs every Kubernetes document of `text`, one after the other. Stops at the first
/// connection-level error (the cluster is unreachable: no use trying the others).
pub async fn check_text(
    connection: &Connection,
    text: &str,
) -> Result<Vec<CheckedDocument>, ClusterError> {
    check_documents(connection, kubernetes_documents(text)).await
}

/// [`check_text`] for documents found by [`kubernetes_documents`].
pub async fn check_documents(
    connection: &Connection,
    documents: Vec<(Range<usize>, Value)>,
) -> Result<Vec<CheckedDocument>, ClusterError> {
    let mut checked = Vec::new();
    for (range, manifest) in documents {
        match dry_run(connection, &manifest).await {
            Ok(result) => checked.push(CheckedDocument {
                range,
                manifest,
                result,
            }),
            Err(error) if error.is_connection() => return Err(error),
            Err(error) => tracing::warn!("dry-run of the document at {range:?}: {error}"),
        }
    }
    Ok(checked)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_and_lists_of_them_are_told_apart() {
        let secret = serde_json::json!({"apiVersion": "v1", "kind": "Secret"});
        assert!(holds_secret(&secret));
        assert!(holds_secret(
            &serde_json::json!({"apiVersion": "v1", "kind": "List", "items": [{"kind": "ConfigMap"}, secret]})
        ));
        assert!(!holds_secret(
            &serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap"})
        ));
        assert!(!holds_secret(
            &serde_json::json!({"apiVersion": "bitnami.com/v1alpha1", "kind": "SealedSecret"})
        ));
    }

    #[test]
    fn build_annotations_are_not_sent() {
        let mut rendered = serde_json::json!({"kind": "Service", "metadata": {"name": "a", "annotations": {
            "config.kubernetes.io/origin": "path: a.yaml\n",
            "alpha.config.kubernetes.io/transformations": "- configuredIn: k.yaml\n",
            "internal.config.kubernetes.io/id": "1",
            "team": "core",
        }}});
        without_build_annotations(&mut rendered);
        assert_eq!(
            rendered["metadata"],
            serde_json::json!({"name": "a", "annotations": {"team": "core"}})
        );
        let mut only = serde_json::json!({"metadata": {"name": "a", "annotations": {"config.kubernetes.io/origin": "x"}}});
        without_build_annotations(&mut only);
        assert_eq!(only["metadata"], serde_json::json!({"name": "a"}));
    }

    #[test]
    fn only_kubernetes_documents_without_templates() {
        let text = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n---\nfoo: bar\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Values.name }}\n---\n[broken\n---\napiVersion: v1\nkind: Service\n";
        let found = kubernetes_documents(text);
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].1["kind"], "Pod");
        assert_eq!(found[1].1["kind"], "Service");
        assert!(text[found[1].0.clone()].contains("apiVersion: v1\nkind: Service"));
        // Braces that open no template action are data, as schema validation takes them too.
        let braces = "apiVersion: v1\nkind: ConfigMap\ndata:\n  message: \"{{ not a template\"\n";
        assert_eq!(kubernetes_documents(braces).len(), 1);
    }
}

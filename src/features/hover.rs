//! Hover at a position of a file, from the schema (markdown): a field's type, whether it is
//! required, its default, enum values and description; on `apiVersion`/`kind` values, the
//! resource as discovery describes it and where its schema came from. In an item of a List,
//! against the item's own apiVersion and kind. Text only, like completion (no syntax tree);
//! ranges in file offsets.

use std::ops::Range;

use ropey::Rope;

use super::completion::context::{cursor_in_object, root_key};
use super::completion::with_document_text;
use crate::schema::lookup::{SchemaLookup, is_list, resolve};
use crate::schema::{ResourceInfo, SchemaNode, Scope, ValueKind};
use crate::text::shift_range;
use crate::yaml::key_path::{KeyPath, Segment};
use crate::yaml::path::{Cursor, CursorTarget};

/// The hover at `offset`, if the schema has something to say there.
pub fn hover_at(
    rope: &Rope,
    documents: &[Range<usize>],
    offset: usize,
    lookup: &impl SchemaLookup,
) -> Option<Hover> {
    with_document_text(rope, documents, offset, |start, text| {
        let found = hover_in_text(lookup, text, offset - start)?;
        Some(Hover {
            markdown: found.markdown,
            range: shift_range(&found.range, start as isize),
        })
    })?
}

/// What hover shows, and the text it is about (document-relative).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hover {
    pub markdown: String,
    pub range: Range<usize>,
}

/// The hover at `offset` of one document's `text`: reads the cursor's path and the
/// `apiVersion`/`kind` of the object it is in (the document, or an item of a List).
pub fn hover_in_text(lookup: &impl SchemaLookup, text: &str, offset: usize) -> Option<Hover> {
    let (cursor, object) = cursor_in_object(lookup, text, offset);
    hover(
        lookup,
        &cursor,
        object.api_version.as_deref(),
        object.kind.as_deref(),
    )
}

/// The hover at the cursor of an object with the given `apiVersion` and `kind`.
pub fn hover(
    lookup: &impl SchemaLookup,
    cursor: &Cursor,
    api_version: Option<&str>,
    kind: Option<&str>,
) -> Option<Hover> {
    let path = match &cursor.target {
        CursorTarget::Nothing => return None,
        CursorTarget::Value { value, .. } if value.is_empty() => return None,
        CursorTarget::Value { .. } => cursor.path.clone(),
        CursorTarget::Key { key, .. } if key.is_empty() => return None,
        CursorTarget::Key { key, .. } => {
            let mut path = cursor.path.clone();
            path.push_key(key.clone());
            path
        }
    };
    let on_value = matches!(cursor.target, CursorTarget::Value { .. });
    let markdown = match (root_key(&path), on_value) {
        (Some("kind" | "apiVersion"), true) => type_hover(lookup, api_version, kind?)?,
        _ => field_hover(lookup, api_version?, kind?, &path)?,
    };
    Some(Hover {
        markdown,
        range: cursor.range.clone(),
    })
}

/// The resource on `kind:`/`apiVersion:` values; without a known apiVersion, the versions that
/// serve the kind.
fn type_hover(lookup: &impl SchemaLookup, api_version: Option<&str>, kind: &str) -> Option<String> {
    if is_list(lookup, api_version, Some(kind)) {
        let of = match kind.strip_suffix("List").filter(|k| !k.is_empty()) {
            Some(item) => format!("`{item}` objects"),
            None => "objects".to_string(),
        };
        return Some(format!(
            "**{kind}** `{}` · a list of {of}: each item of `items` names its own apiVersion and kind, and is checked, completed and explained as that object",
            api_version.unwrap_or_default()
        ));
    }
    if let Some((resource, gv, source)) = api_version.and_then(|v| lookup.schemas(v, kind)) {
        let description = gv
            .kind(kind)
            .and_then(|node| node.description().map(str::to_string));
        return Some(resource_markdown(resource, description.as_deref(), source));
    }
    let serving: Vec<String> = lookup
        .resources()
        .into_iter()
        .filter(|(r, _)| r.kind == kind)
        .map(|(r, source)| format!("`{}` ({source})", r.api_version()))
        .collect();
    let asked = api_version.map_or(String::new(), |v| format!(" in `{v}`"));
    Some(if serving.is_empty() {
        format!("**{kind}**: no such kind{asked} in the schema")
    } else {
        format!(
            "**{kind}**: not served{asked}; served as {}",
            serving.join(", ")
        )
    })
}

fn field_hover(
    lookup: &impl SchemaLookup,
    api_version: &str,
    kind: &str,
    path: &KeyPath,
) -> Option<String> {
    let (_, gv, source) = lookup.schemas(api_version, kind)?;
    let (node, required) = resolve(gv.kind(kind)?, path)?;
    let name = match path.0.last()? {
        Segment::Key(key) => key.clone(),
        Segment::Index(_) => "item".to_string(),
    };
    Some(format!(
        "{}\n\n---\n`{path}` of {api_version} {kind} · {source}",
        field_markdown(&name, node, required)
    ))
}

/// A field as completion documentation and hover show it.
pub(crate) fn field_markdown(name: &str, node: SchemaNode<'_>, required: bool) -> String {
    let mut text = format!(
        "**{name}** `{}` · {}",
        node.type_label(),
        if required { "required" } else { "optional" }
    );
    if let Some(default) = node.default() {
        text.push_str(&format!(" · default `{default}`"));
    }
    if let Some(values) = node.enum_values() {
        let values: Vec<String> = values.iter().map(|v| format!("`{}`", plain(v))).collect();
        text.push_str(&format!("\n\nValues: {}", values.join(", ")));
    }
    match node.kind() {
        ValueKind::IntOrString => text.push_str(
            "\n\nAn integer or a string: `8080`, `\"http\"` or `\"25%\"` as the field allows.",
        ),
        ValueKind::Quantity => text.push_str("\n\nA quantity: `500m`, `2`, `128Mi`, `1Gi`."),
        _ => {}
    }
    if let Some(description) = node.description() {
        text.push_str("\n\n");
        text.push_str(description);
    }
    text
}

fn plain(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A resource as `kubectl api-resources` and `kubectl explain` describe it.
pub(crate) fn resource_markdown(
    resource: &ResourceInfo,
    description: Option<&str>,
    source: &str,
) -> String {
    let scope = match resource.scope {
        Scope::Namespaced => "namespaced",
        Scope::Cluster => "cluster-scoped",
    };
    let mut text = format!(
        "**{}** `{}` · resource `{}` · {scope}",
        resource.kind,
        resource.api_version(),
        resource.plural
    );
    if !resource.short_names.is_empty() {
        text.push_str(&format!(
            " · short names `{}`",
            resource.short_names.join("`, `")
        ));
    }
    if !resource.verbs.is_empty() {
        text.push_str(&format!("\n\nVerbs: {}", resource.verbs.join(", ")));
    }
    if !resource.categories.is_empty() {
        text.push_str(&format!(
            " · categories: {}",
            resource.categories.join(", ")
        ));
    }
    if let Some(description) = description {
        text.push_str("\n\n");
        text.push_str(description);
    }
    text.push_str(&format!("\n\n---\nSchema: {source}"));
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::Store;
    use crate::text::fixture;
    use crate::yaml::file::YamlFile;

    /// The hover at `$0` in one document's `text`, with the text it is about.
    fn hover_at_cursor(text: &str) -> Option<(String, String)> {
        let (text, offset) = fixture::cursor(text);
        let found = hover_in_text(Store::builtin(), &text, offset)?;
        Some((found.markdown, text[found.range].to_string()))
    }

    #[test]
    fn a_field_shows_type_requiredness_default_and_description() {
        let (markdown, over) = hover_at_cursor(
            "apiVersion: apps/v1\nkind: Deployment\nspec:\n  repl$0icas: 2\n  selector: {}\n",
        )
        .unwrap();
        assert_eq!(over, "replicas");
        assert!(
            markdown.starts_with("**replicas** `integer (int32)` · optional"),
            "{markdown}"
        );
        assert!(markdown.contains("Number of desired pods"), "{markdown}");
        assert!(
            markdown.contains("`spec.replicas` of apps/v1 Deployment · built-in Kubernetes 1.37")
        );
        let (markdown, _) =
            hover_at_cursor("apiVersion: apps/v1\nkind: Deployment\nspec:\n  sel$0ector: {}\n")
                .unwrap();
        assert!(
            markdown.contains("`LabelSelector` · required"),
            "{markdown}"
        );
    }

    #[test]
    fn enums_and_values() {
        let (markdown, over) = hover_at_cursor(
            "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - name: a\n    imagePullPolicy: Alw$0ays\n",
        )
        .unwrap();
        assert_eq!(over, "Always");
        assert!(
            markdown.contains("Values: `Always`, `IfNotPresent`, `Never`"),
            "{markdown}"
        );
        let (markdown, _) = hover_at_cursor(
            "apiVersion: apps/v1\nkind: Deployment\nspec:\n  strategy:\n    rollingUpdate:\n      maxSur$0ge: 1\n",
        )
        .unwrap();
        assert!(markdown.contains("`integer or string`"), "{markdown}");
    }

    #[test]
    fn kind_and_api_version_values_show_the_resource() {
        let (markdown, over) =
            hover_at_cursor("apiVersion: apps/v1\nkind: Deploy$0ment\n").unwrap();
        assert_eq!(over, "Deployment");
        assert!(markdown.contains("**Deployment** `apps/v1` · resource `deployments` · namespaced · short names `deploy`"), "{markdown}");
        assert!(markdown.contains("Verbs: create"), "{markdown}");
        assert!(
            markdown.contains("Schema: built-in Kubernetes 1.37"),
            "{markdown}"
        );
        let (markdown, _) = hover_at_cursor("apiVersion: v1$0\nkind: Deployment\n").unwrap();
        assert!(markdown.contains("served as `apps/v1`"), "{markdown}");
        let (markdown, _) = hover_at_cursor("apiVersion: v1\nkind: Na$0mespace\n").unwrap();
        assert!(
            markdown.contains("cluster-scoped · short names `ns`"),
            "{markdown}"
        );
    }

    #[test]
    fn list_items_by_their_own_kind() {
        let list = "apiVersion: v1\nkind: List\nitems:\n";
        let (markdown, over) = hover_at_cursor(&format!(
            "{list}- apiVersion: v1\n  kind: ConfigMap\n- apiVersion: apps/v1\n  kind: Deployment\n  spec:\n    repl$0icas: 2\n"
        ))
        .unwrap();
        assert_eq!(over, "replicas");
        assert!(
            markdown.starts_with("**replicas** `integer (int32)` · optional"),
            "{markdown}"
        );
        assert!(
            markdown.contains("`spec.replicas` of apps/v1 Deployment"),
            "{markdown}"
        );
        // The item's kind and apiVersion (below the cursor too), half-typed lines around.
        let (markdown, over) = hover_at_cursor(&format!(
            "{list}  - metadata:\n      name: {{\n    kind: Serv$0ice\n    spec:\n      ports:\n      - port: 80\n    apiVersion: v1\n"
        ))
        .unwrap();
        assert_eq!(over, "Service");
        assert!(
            markdown.starts_with("**Service** `v1` · resource `services`"),
            "{markdown}"
        );
        let (markdown, _) = hover_at_cursor(&format!(
            "{list}- apiVersion: apps/v1$0\n  kind: Deployment\n"
        ))
        .unwrap();
        assert!(markdown.contains("resource `deployments`"), "{markdown}");
        // A List in a List.
        let (markdown, _) = hover_at_cursor(&format!(
            "{list}- apiVersion: v1\n  kind: List\n  items:\n  - apiVersion: batch/v1\n    kind: Job\n    spec:\n      backoff$0Limit: 6\n"
        ))
        .unwrap();
        assert!(
            markdown.contains("`spec.backoffLimit` of batch/v1 Job"),
            "{markdown}"
        );
        // An item without a kind has no schema; the List's own kind explains itself.
        assert_eq!(
            hover_at_cursor(&format!("{list}- metadata:\n    na$0me: x\n")),
            None
        );
        let (markdown, _) = hover_at_cursor("apiVersion: v1\nkind: Li$0st\nitems: []\n").unwrap();
        assert!(
            markdown.starts_with("**List** `v1` · a list of objects"),
            "{markdown}"
        );
        let (markdown, _) =
            hover_at_cursor("apiVersion: apps/v1\nkind: Deployment$0List\nitems: []\n").unwrap();
        assert!(
            markdown.contains("a list of `Deployment` objects"),
            "{markdown}"
        );
        // Outside a List, `items` is an ordinary field.
        let (markdown, _) = hover_at_cursor(
            "apiVersion: v1\nkind: Pod\nspec:\n  volumes:\n  - name: a\n    configMap:\n      items:\n      - ke$0y: a\n",
        )
        .unwrap();
        assert!(
            markdown.contains("`spec.volumes[0].configMap.items[0].key` of v1 Pod"),
            "{markdown}"
        );
    }

    #[test]
    fn nothing_without_a_schema() {
        assert_eq!(hover_at_cursor("foo: ba$0r\n"), None);
        assert_eq!(
            hover_at_cursor("apiVersion: v1\nkind: Pod\nspec:\n  bog$0us: 1\n"),
            None
        );
        assert_eq!(
            hover_at_cursor("apiVersion: v1\nkind: Pod\n# comm$0ent\n"),
            None
        );
    }

    #[test]
    fn hover_in_the_second_document() {
        let text = "apiVersion: v1\nkind: Pod\n---\napiVersion: apps/v1\nkind: Deployment\nspec:\n  replicas: 2\n";
        let rope = Rope::from_str(text);
        let file = YamlFile::open(&rope);
        let documents: Vec<_> = file.documents().iter().map(|d| d.range()).collect();
        let at = text.find("replicas").unwrap() + 2;
        let found = hover_at(&rope, &documents, at, Store::builtin()).unwrap();
        assert_eq!(&text[found.range], "replicas");
        assert!(
            found.markdown.contains("apps/v1 Deployment"),
            "{}",
            found.markdown
        );
        let on_kind = text.find("Pod").unwrap();
        let found = hover_at(&rope, &documents, on_kind, Store::builtin()).unwrap();
        assert!(
            found.markdown.contains("resource `pods`"),
            "{}",
            found.markdown
        );
    }
}

//! What completion and hover read around the cursor: the cursor's path and the object it is in
//! (the document, or an item of a List, with the apiVersion and kind that object names), and
//! the schema at a path of that object.

use crate::schema::SchemaNode;
use crate::schema::lookup::{SchemaLookup, is_list, resolve};
use crate::yaml::key_path::{KeyPath, Segment};
use crate::yaml::path::{Cursor, cursor_at, item_type_meta, top_level_scalar};

/// The document around the cursor, as completion needs it.
pub struct Context<'a> {
    pub cursor: &'a Cursor,
    pub api_version: Option<&'a str>,
    pub kind: Option<&'a str>,
    /// Where a missing `apiVersion: …` line goes when a kind is chosen: where the `kind` key
    /// starts, whose column the line after it keeps.
    pub api_version_insert_at: usize,
    /// That column.
    pub api_version_column: usize,
    /// Whether the client expands snippets (tab stops); plain text otherwise.
    pub snippets: bool,
}

impl Context<'_> {
    /// Whether the object names an apiVersion or a kind.
    pub fn names_type(&self) -> bool {
        self.api_version.is_some() || self.kind.is_some()
    }
}

pub(super) fn floor_char_boundary(text: &str, mut offset: usize) -> usize {
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

/// The object the cursor is in, as completion and hover read it: the document, or the item of a
/// List the cursor is in, which is a Kubernetes object of its own (as validation reads it).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Object {
    pub api_version: Option<String>,
    pub kind: Option<String>,
    /// How many segments of the cursor's path lead to it: 0 for the document, 2 for `items[i]`,
    /// 4 for `items[i].items[j]` (a List in a List).
    pub depth: usize,
}

/// The object the cursor is in: while the object is a List and the cursor's path goes on into
/// `items[i]`, that item, with the apiVersion and kind it names itself (read from its lines
/// around the cursor, [`item_type_meta`]).
pub fn object_at(lookup: &impl SchemaLookup, text: &str, cursor: &Cursor) -> Object {
    let mut object = Object {
        api_version: top_level_scalar(text, "apiVersion").map(|(v, _)| v),
        kind: top_level_scalar(text, "kind").map(|(v, _)| v),
        depth: 0,
    };
    while is_list(
        lookup,
        object.api_version.as_deref(),
        object.kind.as_deref(),
    ) {
        let into_item = matches!(
            &cursor.path.0[object.depth..],
            [Segment::Key(items), Segment::Index(_), ..] if items == "items"
        );
        let depth = object.depth + 2;
        let item = cursor.items.iter().find(|i| i.depth == depth);
        let Some(item) = item.filter(|_| into_item) else {
            break;
        };
        let meta = item_type_meta(text, item);
        object = Object {
            api_version: meta.api_version.map(|(v, _)| v),
            kind: meta.kind.map(|(v, _)| v),
            depth,
        };
    }
    object
}

/// The cursor at `offset` of a document's `text` and the object it is in, with the cursor's
/// path made relative to that object.
pub(crate) fn cursor_in_object(
    lookup: &impl SchemaLookup,
    text: &str,
    offset: usize,
) -> (Cursor, Object) {
    let mut cursor = cursor_at(text, offset);
    let object = object_at(lookup, text, &cursor);
    cursor.path.0.drain(..object.depth);
    cursor.items.retain(|i| i.depth > object.depth);
    for item in &mut cursor.items {
        item.depth -= object.depth;
    }
    (cursor, object)
}

/// The top-level key a one-segment path names.
pub(crate) fn root_key(path: &KeyPath) -> Option<&str> {
    match path.0.as_slice() {
        [Segment::Key(key)] => Some(key),
        _ => None,
    }
}

/// Runs `f` on the schema at `path` of the document's kind (and whether its last key is required).
pub(crate) fn with_node<T>(
    lookup: &impl SchemaLookup,
    context: &Context<'_>,
    path: &KeyPath,
    f: impl FnOnce(SchemaNode<'_>, bool) -> T,
) -> Option<T> {
    let (api_version, kind) = (context.api_version?, context.kind?);
    let (_, gv, _) = lookup.schemas(api_version, kind)?;
    let (node, required) = resolve(gv.kind(kind)?, path)?;
    Some(f(node, required))
}

#[cfg(test)]
mod tests {
    use super::super::tests::{apply, complete_at, item, labels};
    use super::*;
    use crate::features::completion::ItemKind;
    use crate::schema::Store;
    use crate::text::fixture;

    const LIST: &str = "apiVersion: v1\nkind: List\nitems:\n";

    #[test]
    fn list_items_complete_by_their_own_kind() {
        // Keys below the item, against its own kind; the List's other items do not matter.
        let text = format!(
            "{LIST}- apiVersion: v1\n  kind: Service\n  spec:\n    type: ClusterIP\n- apiVersion: apps/v1\n  kind: Deployment\n  spec:\n    $0\n    replicas: 2\n"
        );
        let keys = labels(&text);
        assert_eq!(keys[..3], ["selector", "template", "minReadySeconds"]);
        assert!(!keys.contains(&"replicas".to_string()));
        assert!(!keys.contains(&"clusterIP".to_string()));
        let (_, items) = complete_at(&text, true);
        assert_eq!(item(&items, "strategy").insert_text, "strategy:\n      $0");
        // Half-typed, the kind below the cursor, lines that do not parse yet, values.
        let keys = labels(&format!(
            "{LIST}  - metadata:\n      labels: {{\n    spec:\n      contai$0\n    kind: Pod\n    apiVersion: v1\n"
        ));
        assert!(keys.contains(&"containers".to_string()), "{keys:?}");
        let values = labels(&format!(
            "{LIST}- apiVersion: v1\n  kind: Pod\n  spec:\n    containers:\n    - name: a\n      imagePullPolicy: $0\n"
        ));
        assert_eq!(values, ["Always", "IfNotPresent", "Never"]);
        // A List in a List.
        let keys = labels(&format!(
            "{LIST}- apiVersion: v1\n  kind: List\n  items:\n  - apiVersion: batch/v1\n    kind: Job\n    spec:\n      backoff$0\n"
        ));
        assert!(keys.contains(&"backoffLimit".to_string()), "{keys:?}");
        // `<Kind>List` of a known kind: its items are objects too.
        let keys = labels(
            "apiVersion: apps/v1\nkind: DeploymentList\nitems:\n- apiVersion: apps/v1\n  kind: Deployment\n  spec:\n    rep$0\n",
        );
        assert!(keys.contains(&"replicas".to_string()), "{keys:?}");
    }

    #[test]
    fn list_item_root_keys_kinds_and_skeletons() {
        // Root keys of the item's kind, without those it has.
        let keys = labels(&format!(
            "{LIST}- apiVersion: v1\n  kind: ConfigMap\n  $0\n  data: {{}}\n"
        ));
        assert!(keys.contains(&"binaryData".to_string()), "{keys:?}");
        assert!(keys.contains(&"metadata".to_string()));
        for present in ["apiVersion", "kind", "data", "items"] {
            assert!(!keys.contains(&present.to_string()), "{keys:?}");
        }
        // The item's kind follows its apiVersion, and the other way round.
        let kinds = labels(&format!(
            "{LIST}- apiVersion: v1\n  kind: ConfigMap\n- apiVersion: apps/v1\n  kind: $0\n"
        ));
        assert!(kinds.contains(&"Deployment".to_string()), "{kinds:?}");
        assert!(!kinds.contains(&"ConfigMap".to_string()), "{kinds:?}");
        let versions = labels(&format!(
            "{LIST}- apiVersion: $0\n  kind: HorizontalPodAutoscaler\n"
        ));
        assert_eq!(versions, ["autoscaling/v2", "autoscaling/v1"]);
        // A kind chosen in an item without apiVersion brings it, at the item's column.
        let (text, items) = complete_at(&format!("{LIST}- kind: Deplo$0\n  spec: {{}}\n"), true);
        assert_eq!(
            apply(&text, item(&items, "Deployment")),
            format!("{LIST}- apiVersion: apps/v1\n  kind: Deployment\n  spec: {{}}\n")
        );
        let (text, items) = complete_at(&format!("{LIST}  - metadata: {{}}\n    kind:$0\n"), true);
        assert_eq!(
            apply(&text, item(&items, "Service")),
            format!("{LIST}  - metadata: {{}}\n    apiVersion: v1\n    kind: Service\n")
        );
        // An empty item: generic root keys and a skeleton per kind, indented as the item.
        let (text, items) =
            complete_at(&format!("{LIST}- apiVersion: v1\n  kind: Pod\n- $0"), false);
        assert!(items.iter().any(|i| i.label == "kind"));
        let configmap = items
            .iter()
            .find(|i| i.kind == ItemKind::Skeleton && i.label == "ConfigMap")
            .unwrap();
        assert_eq!(
            apply(&text, configmap),
            format!(
                "{LIST}- apiVersion: v1\n  kind: Pod\n- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: name\n  "
            )
        );
        // An item with keys already gets no skeletons.
        let (_, items) = complete_at(&format!("{LIST}- metadata: {{}}\n  $0\n"), true);
        assert!(items.iter().all(|i| i.kind != ItemKind::Skeleton));
    }

    #[test]
    fn a_lists_own_keys() {
        let keys = labels(&format!("{LIST}- apiVersion: v1\n  kind: Pod\n$0\n"));
        assert_eq!(keys, ["metadata"]);
        let (text, items) = complete_at("apiVersion: v1\nkind: List\n$0", true);
        assert_eq!(
            items.iter().map(|i| i.label.as_str()).collect::<Vec<_>>(),
            ["metadata", "items"]
        );
        assert_eq!(
            apply(&text, item(&items, "items")),
            "apiVersion: v1\nkind: List\nitems:\n  - "
        );
        // `items` is no key of other unknown kinds.
        let keys = labels("apiVersion: example.com/v1\nkind: Widget\n$0");
        assert!(!keys.contains(&"items".to_string()), "{keys:?}");
        // Outside a List, `items[0]` is an ordinary path.
        let keys = labels(
            "apiVersion: v1\nkind: Pod\nspec:\n  volumes:\n  - name: a\n    configMap:\n      items:\n      - $0\n",
        );
        assert!(keys.contains(&"key".to_string()), "{keys:?}");
    }

    #[test]
    fn the_object_at_the_cursor() {
        let at = |text: &str| {
            let (text, offset) = fixture::cursor(text);
            let cursor = cursor_at(&text, offset);
            let object = object_at(Store::builtin(), &text, &cursor);
            (object.api_version, object.kind, object.depth)
        };
        let some = |a: &str, k: &str, d| (Some(a.to_string()), Some(k.to_string()), d);
        assert_eq!(at("apiVersion: v1\nkind: Pod\n$0"), some("v1", "Pod", 0));
        assert_eq!(at(&format!("{LIST}$0")), some("v1", "List", 0));
        assert_eq!(at(&format!("{LIST}- $0")), (None, None, 2));
        assert_eq!(
            at(&format!(
                "{LIST}- kind: Pod\n  apiVersion: v1\n- kind: Service\n  $0\n"
            )),
            (None, Some("Service".to_string()), 2)
        );
        // Not a List: `v2 List`, an unknown `<Kind>List`.
        assert_eq!(at("apiVersion: v2\nkind: List\nitems:\n- $0").2, 0);
        assert_eq!(at("apiVersion: v1\nkind: WidgetList\nitems:\n- $0").2, 0);
    }
}

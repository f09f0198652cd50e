//! Keys: an object schema's properties, required first, without those already present, and
//! the generic top-level keys of a document whose kind is unknown.

use std::collections::HashSet;

use super::context::{Context, with_node};
use super::{Item, ItemKind};
use crate::features::hover::field_markdown;
use crate::schema::lookup::{SchemaLookup, is_list};
use crate::schema::placeholder::escape_snippet;
use crate::schema::{SchemaNode, ValueKind};
use crate::yaml::key_path::KeyPath;
use crate::yaml::path::CursorTarget;
use crate::yaml::scalar;

/// Keys of an object schema, required first, without those already present.
pub(super) fn key_items(node: SchemaNode<'_>, context: &Context<'_>) -> Vec<Item> {
    let cursor = context.cursor;
    let has_colon = matches!(
        cursor.target,
        CursorTarget::Key {
            has_colon: true,
            ..
        }
    );
    let present: HashSet<&str> = cursor.siblings.iter().map(String::as_str).collect();
    node.properties()
        .filter(|(name, _)| !present.contains(name))
        .map(|(name, property)| {
            let required = node.required().iter().any(|r| &**r == name);
            key_item(name, property, required, context, has_colon)
        })
        .collect()
}

fn key_item(
    name: &str,
    property: SchemaNode<'_>,
    required: bool,
    context: &Context<'_>,
    has_colon: bool,
) -> Item {
    let cursor = context.cursor;
    let snippet = if has_colon {
        escape_snippet(name)
    } else {
        key_snippet(name, property, cursor.column)
    };
    let mut item =
        Item::new(name, ItemKind::Field, cursor.range.clone()).insert(&snippet, context.snippets);
    item.sort_text = format!("{}{name}", if required { 0 } else { 1 });
    item.detail = Some(if required {
        format!("{} (required)", property.type_label())
    } else {
        property.type_label()
    });
    item.label_description = Some(property.type_label());
    item.documentation = Some(field_markdown(name, property, required));
    item
}

/// `key: $0`, `key:\n  $0`, `key:\n  - $0`, or a choice of enum/boolean values, indented for a
/// key at `column`.
fn key_snippet(name: &str, property: SchemaNode<'_>, column: usize) -> String {
    let name = escape_snippet(name);
    let below = " ".repeat(column + 2);
    match property.kind() {
        ValueKind::Object => format!("{name}:\n{below}$0"),
        ValueKind::Array => format!("{name}:\n{below}- $0"),
        ValueKind::Boolean => format!("{name}: ${{1|true,false|}}"),
        _ => match scalar_choices(property) {
            Some(choices) => format!("{name}: ${{1|{}|}}", choices.join(",")),
            None => format!("{name}: $0"),
        },
    }
}

/// Enum values as snippet choices (escaped), when there are a few.
fn scalar_choices(property: SchemaNode<'_>) -> Option<Vec<String>> {
    let values = property.enum_values()?;
    let choices: Vec<String> = values
        .iter()
        .map(|v| {
            scalar::from_json(v)
                .replace('\\', "\\\\")
                .replace(',', "\\,")
                .replace('|', "\\|")
        })
        .collect();
    (!choices.is_empty() && choices.len() <= 20).then_some(choices)
}

/// Top-level keys: the kind's properties when it is known, else apiVersion, kind and metadata
/// (and a List's items).
pub(super) fn root_key_items(lookup: &impl SchemaLookup, context: &Context<'_>) -> Vec<Item> {
    let known = with_node(lookup, context, &KeyPath::default(), |node, _| {
        key_items(node, context)
    });
    if let Some(items) = known {
        return items;
    }
    let cursor = context.cursor;
    let has_colon = matches!(
        cursor.target,
        CursorTarget::Key {
            has_colon: true,
            ..
        }
    );
    let generic = [
        (
            "apiVersion",
            "The group/version of the object's schema (`apps/v1`, `v1`).",
        ),
        ("kind", "The kind of object (`Deployment`, `Service`)."),
        (
            "metadata",
            "Standard object metadata: name, namespace, labels, annotations.",
        ),
        (
            "items",
            "The list's objects, each with its own apiVersion and kind.",
        ),
    ];
    let list = is_list(lookup, context.api_version, context.kind);
    generic
        .into_iter()
        .filter(|(name, _)| list || *name != "items")
        .filter(|(name, _)| !cursor.siblings.iter().any(|s| s == name))
        .enumerate()
        .map(|(i, (name, doc))| {
            let snippet = match (has_colon, name) {
                (true, _) => name.to_string(),
                // A list's metadata (`ListMeta`) has no name.
                (false, "metadata") if list => {
                    format!("metadata:\n{}$0", " ".repeat(cursor.column + 2))
                }
                (false, "metadata") => {
                    format!("metadata:\n{}name: $0", " ".repeat(cursor.column + 2))
                }
                (false, "items") => format!("items:\n{}- $0", " ".repeat(cursor.column + 2)),
                (false, _) => format!("{name}: $0"),
            };
            let mut item = Item::new(name, ItemKind::Field, cursor.range.clone())
                .insert(&snippet, context.snippets);
            item.sort_text = format!("0{i}");
            item.documentation = Some(doc.to_string());
            item
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::tests::{apply, complete_at, item, labels};

    #[test]
    fn keys_required_first_without_present_ones() {
        let text = "apiVersion: apps/v1\nkind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n      - name: web\n        $0\n        image: nginx\n";
        let keys = labels(text);
        assert!(!keys.contains(&"name".to_string()));
        assert!(!keys.contains(&"image".to_string()));
        assert!(keys.contains(&"imagePullPolicy".to_string()));
        let (_, items) = complete_at(text, true);
        let ports = item(&items, "ports");
        assert_eq!(ports.insert_text, "ports:\n          - $0");
        assert!(ports.snippet);
        let policy = item(&items, "imagePullPolicy");
        assert_eq!(
            policy.insert_text,
            "imagePullPolicy: ${1|Always,IfNotPresent,Never|}"
        );
        assert!(policy.documentation.as_deref().unwrap().contains("Always"));
        let (_, plain) = complete_at(text, false);
        assert_eq!(item(&plain, "ports").insert_text, "ports:\n          - ");
        assert_eq!(
            item(&plain, "imagePullPolicy").insert_text,
            "imagePullPolicy: "
        );
        // Required keys sort first: `containers` in a PodSpec.
        let pod = labels("apiVersion: v1\nkind: Pod\nspec:\n  $0\n");
        assert_eq!(pod[0], "containers");
        let (_, items) = complete_at("apiVersion: v1\nkind: Pod\nspec:\n  $0\n", true);
        assert_eq!(
            item(&items, "securityContext").insert_text,
            "securityContext:\n    $0"
        );
    }

    #[test]
    fn crd_schemas_complete_through_items_and_additional_properties() {
        let text = "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nspec:\n  versions:\n  - schema:\n      openAPIV3Schema:\n        properties:\n          spec:\n            items:\n              $0\n            type: array\n";
        let keys = labels(text);
        assert!(keys.contains(&"properties".to_string()), "{keys:?}");
        assert!(keys.contains(&"x-kubernetes-preserve-unknown-fields".to_string()));
    }

    #[test]
    fn half_typed_keys() {
        let keys = labels("apiVersion: v1\nkind: Pod\nspec:\n  contai$0");
        assert!(keys.contains(&"containers".to_string()));
        let keys =
            labels("apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - name: x\n    ima$0");
        assert!(keys.contains(&"image".to_string()));
        // Renaming a key that has a value: only the name is replaced.
        let (text, items) = complete_at("apiVersion: v1\nkind: Pod\nspec:\n  host$0: x\n", true);
        assert_eq!(
            apply(&text, item(&items, "hostname")),
            "apiVersion: v1\nkind: Pod\nspec:\n  hostname: x\n"
        );
    }
}

//! Values: enum values, booleans and the default of a scalar schema.

use std::ops::Range;

use super::{Item, ItemKind};
use crate::schema::{SchemaNode, ValueKind};
use crate::yaml::scalar;

/// Enum values, booleans and the default of a scalar schema.
pub(super) fn value_items(node: SchemaNode<'_>, range: Range<usize>, space: &str) -> Vec<Item> {
    let mut items = Vec::new();
    let default = node.default().map(scalar::from_json);
    let mut push = |text: String, kind: ItemKind, order: usize| {
        if items.iter().any(|i: &Item| i.label == text) {
            return;
        }
        let mut item = Item::new(text.clone(), kind, range.clone());
        item.insert_text = format!("{space}{text}");
        item.filter_text = Some(text.clone());
        item.sort_text = format!("{order:04}");
        if default.as_deref() == Some(text.as_str()) {
            item.detail = Some("default".to_string());
        }
        item.documentation = node.description().map(str::to_string);
        items.push(item);
    };
    if let Some(default) = &default {
        push(default.clone(), ItemKind::Value, 0);
    }
    if let Some(values) = node.enum_values() {
        for (i, value) in values.iter().enumerate() {
            push(scalar::from_json(value), ItemKind::EnumMember, i + 1);
        }
    } else if node.kind() == ValueKind::Boolean {
        push("true".to_string(), ItemKind::Value, 1);
        push("false".to_string(), ItemKind::Value, 2);
    }
    items
}

#[cfg(test)]
mod tests {
    use super::super::tests::labels;

    #[test]
    fn enum_boolean_and_default_values() {
        let values = labels(
            "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - name: a\n    imagePullPolicy: $0\n",
        );
        assert_eq!(values, ["Always", "IfNotPresent", "Never"]);
        let values = labels("apiVersion: v1\nkind: Pod\nspec:\n  hostNetwork: $0\n");
        assert_eq!(values, ["true", "false"]);
        let values = labels(
            "apiVersion: v1\nkind: Service\nspec:\n  ports:\n  - port: 80\n    protocol: $0\n",
        );
        assert!(values.contains(&"TCP".to_string()), "{values:?}");
    }
}

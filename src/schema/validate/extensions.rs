//! The Kubernetes extensions of OpenAPI that constrain values beyond their type:
//! `x-kubernetes-list-type` (`map` items unique by their keys, `set` items unique) and
//! `x-kubernetes-validations` (CEL rules, [`cel_rules`]).

use std::collections::HashSet;
use std::ops::Range;

use serde_json::Value;

use super::walk::{Validator, first_key_range, key_range, value_range};
use super::{MAX_DEPTH, cel_rules, values};
use crate::diagnostic::codes;
use crate::schema::openapi::SchemaNode;
use crate::yaml::key_path::{KeyPath, Segment};
use crate::yaml::node::YamlNode;
use crate::yaml::syntax::NodeShape;

impl Validator<'_> {
    /// `x-kubernetes-list-type: map` (items unique by their keys, defaults applied) and `set`
    /// (scalar items unique).
    pub(super) fn unique_items<N: YamlNode>(&mut self, list: N, schema: SchemaNode<'_>) {
        for (range, key) in self.duplicates(list, schema) {
            self.error(range, codes::DUPLICATE, format!("Duplicate value: {key}"));
        }
    }

    fn duplicates<N: YamlNode>(
        &self,
        list: N,
        schema: SchemaNode<'_>,
    ) -> Vec<(Range<usize>, Value)> {
        // One item has no duplicate: most lists (a Pod's one container, its one port) are
        // checked without working out their items' keys.
        if list.items().into_iter().flatten().nth(1).is_none() {
            return Vec::new();
        }
        let unique_by: Box<dyn Fn(N) -> Option<Value>> = match schema.list_type() {
            Some("map") if !schema.list_map_keys().is_empty() => {
                let keys = schema.list_map_keys();
                let items = schema.items();
                Box::new(move |item| self.map_key_of(item, keys, items))
            }
            Some("set") => Box::new(|item| match item.shape() {
                NodeShape::Scalar => self.resolve(item).map(values::json_of_scalar),
                _ => None,
            }),
            _ => return Vec::new(),
        };
        // Keyed by the JSON text of each item's key, so long lists stay linear.
        let mut seen: HashSet<String> = HashSet::new();
        let mut duplicates = Vec::new();
        for item in list.items().into_iter().flatten() {
            count_work!(LIST_KEYS_WORKED_OUT);
            let Some(key) = unique_by(item) else { continue };
            if !seen.insert(key.to_string()) {
                let at = first_key_range(item).unwrap_or_else(|| value_range(item));
                duplicates.push((at, key));
            }
        }
        duplicates
    }

    /// The map-key object of a list-map item: each key's value, else its schema default.
    fn map_key_of<N: YamlNode>(
        &self,
        item: N,
        keys: &[Box<str>],
        items: Option<SchemaNode<'_>>,
    ) -> Option<Value> {
        if item.shape() != NodeShape::Mapping {
            return None;
        }
        let mut object = serde_json::Map::new();
        for key in keys {
            let value = match item.pair_of(key) {
                Some((_, Some(value))) if value.shape() == NodeShape::Scalar => {
                    self.resolve(value).map(values::json_of_scalar)
                }
                Some((_, Some(_))) => return None,
                _ => items
                    .and_then(|s| s.property(key))
                    .and_then(|p| p.default().cloned()),
            };
            if let Some(value) = value.filter(|v| !v.is_null()) {
                object.insert(key.to_string(), value);
            }
        }
        Some(Value::Object(object))
    }

    /// Evaluates the CRD rules on `node`; failures go on `anchor` (the key holding the value).
    pub(super) fn rules<N: YamlNode>(
        &mut self,
        node: N,
        schema: SchemaNode<'_>,
        anchor: &Range<usize>,
    ) {
        let Some(value) = self.json_of(node, 0) else {
            return;
        };
        for rule in &schema.schema.validations {
            if let cel_rules::Outcome::Failed(message) = cel_rules::evaluate(rule, &value) {
                // `fieldPath` points below the value (`.spec.replicas`); else the value's key.
                let at = rule
                    .field_path
                    .as_deref()
                    .and_then(|path| self.key_at(node, &KeyPath::parse(path)))
                    .unwrap_or_else(|| anchor.clone());
                self.error(at, codes::RULE, message);
            }
        }
    }

    /// The range of the key (or item) `path` leads to below `node`.
    fn key_at<N: YamlNode>(&self, node: N, path: &KeyPath) -> Option<Range<usize>> {
        let (mut current, mut range) = (node, None);
        for segment in &path.0 {
            let next = match segment {
                Segment::Key(name) => {
                    let (key, value) = current.pair_of(name)?;
                    range = Some(key_range(key));
                    value
                }
                Segment::Index(index) => {
                    let item = current.items().get(*index).copied().flatten()?;
                    range = Some(first_key_range(item).unwrap_or_else(|| value_range(item)));
                    Some(item)
                }
            };
            match next {
                Some(next) => current = next,
                None => break,
            }
        }
        range
    }

    /// The JSON value of a subtree (None when it holds aliases or nests too deep).
    fn json_of<N: YamlNode>(&self, node: N, depth: usize) -> Option<Value> {
        if depth > MAX_DEPTH {
            return None;
        }
        match node.shape() {
            NodeShape::Mapping => {
                let mut object = serde_json::Map::new();
                for pair in node.pairs() {
                    let key = pair.key?.text()?;
                    let value = match pair.value {
                        Some(value) => self.json_of(value, depth + 1)?,
                        None => Value::Null,
                    };
                    object.insert(key.into_owned(), value);
                }
                Some(Value::Object(object))
            }
            NodeShape::Sequence => node
                .items()
                .into_iter()
                .map(|item| item.map_or(Some(Value::Null), |i| self.json_of(i, depth + 1)))
                .collect::<Option<Vec<_>>>()
                .map(Value::Array),
            NodeShape::Scalar => self.resolve(node).map(values::json_of_scalar),
            NodeShape::Empty => Some(Value::Null),
            NodeShape::Alias => None,
        }
    }
}

work_counter!(
    /// How many list items this thread worked out a uniqueness key of so far.
    pub fn list_keys_worked_out() => LIST_KEYS_WORKED_OUT
);

#[cfg(test)]
mod tests {
    use ropey::Rope;

    use super::super::tests::{POD, check};
    use crate::diagnostic::codes;
    use crate::schema::catalog::Catalog;
    use crate::schema::validate::validate_document;
    use crate::yaml::syntax;

    #[test]
    fn list_keys_are_unique() {
        let text = POD.replace("    - containerPort: 80\n", "    - containerPort: 80\n    - containerPort: 80\n      protocol: TCP\n    - {containerPort: 80, protocol: UDP}\n");
        let found = check(&text);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(
            (found[0].0.as_str(), found[0].1),
            ("containerPort", codes::DUPLICATE)
        );
        assert_eq!(
            found[0].2,
            "Duplicate value: {\"containerPort\":80,\"protocol\":\"TCP\"}"
        );
        // `set` lists (here a CRD's): scalar items unique.
        let crd = "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: tags.example.com}\nspec:\n  group: example.com\n  names: {kind: Tagged, plural: tags}\n  scope: Namespaced\n  versions:\n  - name: v1\n    served: true\n    storage: true\n    schema:\n      openAPIV3Schema:\n        type: object\n        properties:\n          tags: {type: array, x-kubernetes-list-type: set, items: {type: string}}\n";
        let store = crate::schema::crd::store_from_text("CRD in test", crd).unwrap();
        let catalog = Catalog::with_builtin([std::sync::Arc::new(store)]);
        let text =
            "apiVersion: example.com/v1\nkind: Tagged\nmetadata: {name: t}\ntags: [a, b, a]\n";
        let tree = syntax::parse(&Rope::from_str(text), 0..text.len(), None);
        let found = validate_document(&catalog, &tree, text);
        assert_eq!(found.len(), 1, "{found:?}");
        let last_a = text.rfind("a]").unwrap();
        assert_eq!(
            (found[0].range.clone(), found[0].code),
            (last_a..last_a + 1, codes::DUPLICATE)
        );
        assert_eq!(found[0].message, "Duplicate value: \"a\"");
    }

    /// A list of one item has no duplicate: its key is not worked out (a Pod's one container,
    /// its one port); two items are compared (`check` validates on both trees: twice each).
    #[test]
    fn a_list_of_one_item_is_not_keyed() {
        let keyed = |text: &str| {
            let before = super::list_keys_worked_out();
            let found = check(text);
            (super::list_keys_worked_out() - before, found.len())
        };
        assert!(POD.matches("- ").count() >= 2, "one container, one port");
        assert_eq!(keyed(POD), (0, 0));
        let two_ports = POD.replace(
            "    - containerPort: 80\n",
            "    - containerPort: 80\n    - containerPort: 81\n",
        );
        assert_eq!(keyed(&two_ports), (4, 0));
    }
}

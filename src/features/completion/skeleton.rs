//! Skeletons: at the start of a document (or of a List's item), a manifest per creatable kind
//! with apiVersion, kind, metadata.name and the required fields, recursively.

use std::collections::HashSet;

use super::context::Context;
use super::kinds::resource_item;
use super::snippet::snippet_to_plain;
use super::{Item, ItemKind};
use crate::schema::lookup::SchemaLookup;
use crate::schema::placeholder::{Writer, escape_snippet};
use crate::schema::{ResourceInfo, SchemaNode};

/// A skeleton manifest per creatable kind, for the start of a document.
pub(super) fn skeleton_items(lookup: &impl SchemaLookup, context: &Context<'_>) -> Vec<Item> {
    let mut seen = HashSet::new();
    lookup
        .resources()
        .into_iter()
        .filter(|(r, _)| r.verbs.iter().any(|v| v == "create"))
        .filter(|(r, _)| seen.insert((r.api_version(), r.kind.clone())))
        .enumerate()
        .filter_map(|(order, (resource, source))| {
            let (_, gv, _) = lookup.schemas(&resource.api_version(), &resource.kind)?;
            let root = gv.kind(&resource.kind)?;
            let snippet = indent_lines(&skeleton(resource, root), context.cursor.column);
            let mut item = resource_item(
                resource,
                source,
                ItemKind::Skeleton,
                context.cursor.range.clone(),
            )
            .insert(&snippet, context.snippets);
            item.sort_text = format!("1{order:04}");
            item.detail = Some(format!(
                "{} {} manifest",
                resource.api_version(),
                resource.kind
            ));
            item.documentation = Some(format!("```yaml\n{}```", snippet_to_plain(&snippet)));
            Some(item)
        })
        .collect()
}

/// `text` with the lines after its first indented by `column` (a skeleton in a List's item).
fn indent_lines(text: &str, column: usize) -> String {
    if column == 0 {
        return text.to_string();
    }
    text.replace('\n', &format!("\n{}", " ".repeat(column)))
}

/// `apiVersion`, `kind`, `metadata.name` and the required fields (following required objects and
/// the first item of required arrays), with tab stops on the values to fill in.
fn skeleton(resource: &ResourceInfo, root: SchemaNode<'_>) -> String {
    let mut text = format!(
        "apiVersion: {}\nkind: {}\nmetadata:\n  name: ${{1:name}}\n",
        escape_snippet(&resource.api_version()),
        escape_snippet(&resource.kind)
    );
    let mut writer = Writer::tab_stops(2);
    let mut lines = Vec::new();
    for (name, property) in root.properties() {
        if matches!(name, "apiVersion" | "kind" | "metadata" | "status") {
            continue;
        }
        let required = root.required().iter().any(|r| &**r == name);
        if required || name == "spec" {
            writer.field(&mut lines, name, Some(property), 0);
        }
    }
    for line in lines {
        text.push_str(&line);
        text.push('\n');
    }
    text.push_str("$0");
    text
}

#[cfg(test)]
mod tests {
    use super::super::tests::{apply, complete_at, labels};
    use super::*;

    #[test]
    fn root_keys_and_skeletons() {
        let keys = labels("apiVersion: apps/v1\nkind: Deployment\n$0\n");
        assert!(keys.contains(&"spec".to_string()));
        assert!(!keys.contains(&"kind".to_string()));
        let (text, items) = complete_at("$0", true);
        assert!(items.iter().any(|i| i.label == "apiVersion"));
        let deployment = items
            .iter()
            .find(|i| i.kind == ItemKind::Skeleton && i.label == "Deployment")
            .unwrap();
        assert!(deployment.snippet);
        assert!(deployment.insert_text.contains("name: ${1:name}"));
        assert_eq!(
            apply(&text, deployment),
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: name\nspec:\n  selector:\n    \n  template:\n    \n"
        );
        let (text, items) = complete_at("$0", false);
        let pod = items
            .iter()
            .find(|i| i.kind == ItemKind::Skeleton && i.label == "Pod")
            .unwrap();
        assert!(!pod.snippet);
        assert_eq!(
            apply(&text, pod),
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: name\nspec:\n  containers:\n    - name: \n"
        );
        // A document that already has keys gets no skeletons.
        let (_, items) = complete_at("metadata: {}\n$0", true);
        assert!(items.iter().all(|i| i.kind != ItemKind::Skeleton));
    }
}

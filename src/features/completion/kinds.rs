//! `kind:` and `apiVersion:` values from discovery, consistent with each other; a kind chosen
//! without an apiVersion adds it.

use std::collections::HashSet;
use std::ops::Range;

use super::context::Context;
use super::{Item, ItemKind};
use crate::features::hover::resource_markdown;
use crate::schema::lookup::SchemaLookup;
use crate::schema::{ResourceInfo, Scope};

/// `kind:` values: the kinds of the document's apiVersion (all kinds when it has none or an
/// unknown one). Choosing one where apiVersion is missing adds it.
pub(super) fn kind_items(
    lookup: &impl SchemaLookup,
    context: &Context<'_>,
    space: &str,
) -> Vec<Item> {
    let resources = lookup.resources();
    let api_version = context.api_version;
    let consistent = |r: &ResourceInfo| api_version.is_none_or(|v| r.api_version() == v);
    let any_consistent = resources.iter().any(|(r, _)| consistent(r));
    let mut seen = HashSet::new();
    resources
        .iter()
        .enumerate()
        .filter(|(_, (r, _))| !any_consistent || consistent(r))
        .filter(|(_, (r, _))| seen.insert((r.api_version(), r.kind.clone())))
        .map(|(order, (resource, source))| {
            let mut item = resource_item(
                resource,
                source,
                ItemKind::Kind,
                context.cursor.range.clone(),
            );
            item.insert_text = format!("{space}{}", resource.kind);
            item.sort_text = format!("{order:04}");
            if api_version.is_none() {
                let at = context.api_version_insert_at;
                let indent = " ".repeat(context.api_version_column);
                item.additional_edits = vec![(
                    at..at,
                    format!("apiVersion: {}\n{indent}", resource.api_version()),
                )];
            }
            item
        })
        .collect()
}

/// `apiVersion:` values: those serving the document's kind (all when it has none or an unknown
/// one).
pub(super) fn api_version_items(
    lookup: &impl SchemaLookup,
    context: &Context<'_>,
    space: &str,
) -> Vec<Item> {
    let resources = lookup.resources();
    let kind = context.kind;
    let serves_kind = resources.iter().any(|(r, _)| Some(r.kind.as_str()) == kind);
    let mut versions: Vec<(String, Vec<&str>, &str)> = Vec::new();
    for (resource, source) in &resources {
        if serves_kind && Some(resource.kind.as_str()) != kind {
            continue;
        }
        let api_version = resource.api_version();
        match versions.iter_mut().find(|(v, _, _)| *v == api_version) {
            Some((_, kinds, _)) => kinds.push(&resource.kind),
            None => versions.push((api_version, vec![&resource.kind], source)),
        }
    }
    versions
        .into_iter()
        .enumerate()
        .map(|(order, (api_version, kinds, source))| {
            let mut item = Item::new(
                api_version.clone(),
                ItemKind::ApiVersion,
                context.cursor.range.clone(),
            );
            item.insert_text = format!("{space}{api_version}");
            item.filter_text = Some(api_version.clone());
            item.sort_text = format!("{order:04}");
            let listed: Vec<&str> = kinds.iter().take(6).copied().collect();
            let more = if kinds.len() > listed.len() {
                ", …"
            } else {
                ""
            };
            item.detail = Some(format!("{}{more}", listed.join(", ")));
            item.documentation = Some(format!(
                "`{api_version}` serves {}.\n\n*Schema: {source}*",
                kinds
                    .iter()
                    .map(|k| format!("`{k}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
            item
        })
        .collect()
}

/// An item naming a resource as `kubectl api-resources` shows it: kind, group/version,
/// namespaced or not, short names.
pub(super) fn resource_item(
    resource: &ResourceInfo,
    source: &str,
    kind: ItemKind,
    range: Range<usize>,
) -> Item {
    let mut item = Item::new(resource.kind.clone(), kind, range);
    let scope = match resource.scope {
        Scope::Namespaced => "namespaced",
        Scope::Cluster => "cluster-scoped",
    };
    let mut description = scope.to_string();
    if !resource.short_names.is_empty() {
        description = format!("{} · {scope}", resource.short_names.join(","));
    }
    item.label_detail = Some(format!(" {}", resource.api_version()));
    item.label_description = Some(description);
    item.detail = Some(format!(
        "{} {} ({}, {scope})",
        resource.api_version(),
        resource.kind,
        resource.plural
    ));
    // Clients match what is typed against this: the kind, its short names and its plural.
    let mut filter = vec![resource.kind.clone()];
    filter.extend(resource.short_names.iter().cloned());
    filter.push(resource.plural.clone());
    item.filter_text = Some(filter.join(" "));
    item.documentation = Some(resource_markdown(resource, None, source));
    item
}

#[cfg(test)]
mod tests {
    use super::super::tests::{apply, complete_at, item, labels};

    #[test]
    fn kinds_of_the_documents_api_version() {
        let kinds = labels("apiVersion: apps/v1\nkind: $0\n");
        assert!(kinds.contains(&"Deployment".to_string()), "{kinds:?}");
        assert!(kinds.contains(&"StatefulSet".to_string()));
        assert!(!kinds.contains(&"Service".to_string()));
    }

    #[test]
    fn a_kind_without_api_version_adds_it() {
        let (text, items) = complete_at("metadata:\n  name: x\nkind: Dep$0\n", true);
        let deployment = item(&items, "Deployment");
        assert_eq!(deployment.label_detail.as_deref(), Some(" apps/v1"));
        assert_eq!(
            deployment.label_description.as_deref(),
            Some("deploy · namespaced")
        );
        assert!(
            deployment
                .filter_text
                .as_deref()
                .unwrap()
                .contains("deploy")
        );
        assert_eq!(
            apply(&text, deployment),
            "metadata:\n  name: x\napiVersion: apps/v1\nkind: Deployment\n"
        );
        let service = item(&items, "Service");
        assert!(service.filter_text.as_deref().unwrap().contains("svc"));
        let namespace = item(&items, "Namespace");
        assert_eq!(
            namespace.label_description.as_deref(),
            Some("ns · cluster-scoped")
        );
        // Right after the colon, a space goes first.
        let (text, items) = complete_at("apiVersion: v1\nkind:$0", true);
        assert_eq!(
            apply(&text, item(&items, "Pod")),
            "apiVersion: v1\nkind: Pod"
        );
    }

    #[test]
    fn api_versions_of_the_documents_kind() {
        let versions = labels("apiVersion: $0\nkind: HorizontalPodAutoscaler\n");
        assert_eq!(versions, ["autoscaling/v2", "autoscaling/v1"]);
        let all = labels("apiVersion: $0\n");
        assert!(all.len() > 20, "{all:?}");
        assert!(all.contains(&"networking.k8s.io/v1".to_string()));
    }
}

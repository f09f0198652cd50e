//! The objects a rule can look at besides its own: every document of the workspace index except
//! those of the file being checked, plus that file's documents as they are now (the index takes
//! an open file's text only after typing pauses). Namespaces match as the index matches them:
//! an object that names none lands in whichever namespace it is applied to, so it can be the one
//! asked for; a referrer that names none finds targets in any namespace.

use std::collections::HashMap;
use std::path::Path;

use crate::workspace::document::{Document, group_of};
use crate::workspace::index::{Index, Namespace, ScanStatus};

pub struct Universe<'a> {
    index: Option<&'a Index>,
    path: Option<&'a Path>,
    /// The file's own documents, by kind.
    local: HashMap<&'a str, Vec<&'a Document>>,
}

impl<'a> Universe<'a> {
    /// `local`: the documents of the file at `path` (whose entries in `index` are left out).
    pub fn new(
        index: Option<&'a Index>,
        path: Option<&'a Path>,
        local: impl IntoIterator<Item = &'a Document>,
    ) -> Self {
        let mut by_kind: HashMap<&'a str, Vec<&'a Document>> = HashMap::new();
        for document in local {
            if let Some(kind) = document.kind.as_deref() {
                by_kind.entry(kind).or_default().push(document);
            }
        }
        Universe {
            index,
            path,
            local: by_kind,
        }
    }

    fn local_of<'q>(&'q self, kind: &str) -> impl Iterator<Item = &'q Document> + use<'a, 'q> {
        self.local.get(kind).into_iter().flatten().copied()
    }

    /// Whether the workspace is still being read: "not found" would be premature.
    pub fn is_filling(&self) -> bool {
        self.index
            .is_some_and(|index| index.status() == ScanStatus::Running)
    }

    /// The documents of `kind` (in `group` when given) named `name`, in `namespace`.
    pub fn named<'q>(
        &'q self,
        kind: &'q str,
        group: Option<&'q str>,
        namespace: Option<&'q str>,
        name: &'q str,
    ) -> impl Iterator<Item = &'q Document> + use<'a, 'q> {
        let indexed = self.index.into_iter().flat_map(move |index| {
            index
                .named(kind, group, scope(namespace), name)
                .filter(|found| Some(found.path) != self.path)
                .map(|found| found.document)
        });
        let local = self.local_of(kind).filter(move |d| {
            d.name.as_deref() == Some(name) && of_kind(d, kind, group) && admits(namespace, d)
        });
        local.chain(indexed)
    }

    /// The documents of `kind` in `namespace`.
    pub fn of_kind<'q>(
        &'q self,
        kind: &'q str,
        namespace: Option<&'q str>,
    ) -> impl Iterator<Item = &'q Document> + use<'a, 'q> {
        let indexed = self.index.into_iter().flat_map(move |index| {
            index
                .of_kind(kind, None, scope(namespace))
                .filter(|found| Some(found.path) != self.path)
                .map(|found| found.document)
        });
        let local = self.local_of(kind).filter(move |d| admits(namespace, d));
        local.chain(indexed)
    }

    /// The documents with Pods (workloads, CronJobs, Pods) in `namespace`.
    pub fn workloads<'q>(
        &'q self,
        namespace: Option<&'q str>,
    ) -> impl Iterator<Item = &'q Document> + use<'a, 'q> {
        crate::workspace::document::WORKLOAD_KINDS
            .iter()
            .flat_map(move |kind| self.of_kind(kind, namespace))
    }
}

fn scope(namespace: Option<&str>) -> Namespace<'_> {
    namespace.map_or(Namespace::Any, Namespace::In)
}

fn admits(namespace: Option<&str>, document: &Document) -> bool {
    match (namespace, document.namespace.as_deref()) {
        (Some(wanted), Some(has)) => wanted == has,
        _ => true,
    }
}

fn of_kind(document: &Document, kind: &str, group: Option<&str>) -> bool {
    document.kind.as_deref() == Some(kind)
        && group.is_none_or(|group| document.api_version.as_deref().map(group_of) == Some(group))
}

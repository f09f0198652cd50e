//! Best-practice and security rules: kube-linter's checks, reported as you type on the exact
//! field, under kube-linter's check names (docs/rules.md).
//!
//! A document is checked from its span tree: every rule runs on every Kubernetes object of it
//! (a List's items too) and gives [`Finding`]s, plus [`Need`]s, questions to other objects ("is
//! there a ServiceAccount `x`?") that are answered later against the [`Universe`] (the workspace
//! index and the file's own documents), so that an object defined elsewhere changes the answer
//! without checking this document again. Which rules are on and how severe is [`Config`]: only
//! the rules that are on are checked and kept (a big file has findings of every rule on most
//! objects); suppressions (annotations, comments) are applied here too.
//! [`RuleDiagnostics`] keeps the results per document of an open file, in step with edits.

pub mod catalog;
pub mod config;
mod conventions;
mod document;
mod fix;
mod object;
mod references;
mod reliability;
mod security;
pub mod suppress;
mod universe;

use std::ops::Range;

pub use config::Config;
pub use document::{Context, RuleDiagnostics, check_opened};
#[cfg(test)]
pub use document::{findings_walked, shown_chosen};
pub use universe::{ClusterLookup, Universe};

use crate::diagnostic::{Code, Fix};
use crate::workspace::document::{Document, Selector, read_tree};
use crate::yaml::spans::SpanTree;
use object::{Node, Object};
use suppress::Suppressions;

/// A rule's finding in a document (offsets relative to it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    pub code: Code,
    pub range: Range<usize>,
    pub message: String,
    pub fix: Option<Fix>,
}

/// A question to other objects, and where its answer is reported.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Need {
    pub code: Code,
    pub range: Range<usize>,
    /// The asking object's namespace (`None`: it names none).
    pub namespace: Option<Box<str>>,
    pub ask: references::Ask,
}

/// What checking one document found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Checked {
    pub findings: Vec<Finding>,
    pub needs: Vec<Need>,
    /// The document's objects as the workspace index reads them (for the other documents'
    /// questions), when they were read (see [`check_tree`]).
    pub objects: Vec<Document>,
}

/// Checks one document's span tree with the rules `config` turns on. CustomResourceDefinitions
/// are not checked. Its objects are read, and its questions to other objects asked, only when
/// `with_objects` (the documents' questions are answered with the objects).
pub fn check_tree(tree: &SpanTree, config: &Config, with_objects: bool) -> Checked {
    check_tree_reading(tree, config, with_objects, read_tree)
}

/// [`check_tree`] with the objects, when they are read, given by `read` (what [`read_tree`]
/// gives of `tree`): an open hands in those the workspace index read of the same tree.
pub(crate) fn check_tree_reading(
    tree: &SpanTree,
    config: &Config,
    with_objects: bool,
    read: impl FnOnce(&SpanTree) -> Vec<Document>,
) -> Checked {
    let mut checked = Checked::default();
    let Some(text) = tree.root().map(|root| root.source()) else {
        return checked;
    };
    let comments = Suppressions::new(text);
    for root in tree.roots() {
        for object in objects_of(Node(root)) {
            if crate::schema::crd::is_crd(object.api_version, object.kind) {
                continue;
            }
            let annotations = object.map("annotations");
            let ignored = suppress::by_annotations(&annotations);
            let mut ctx = Ctx {
                object,
                config,
                findings: Vec::new(),
                needs: Vec::new(),
            };
            security::check(&mut ctx);
            reliability::check(&mut ctx);
            conventions::check(&mut ctx);
            // Questions to other objects are answered only where the objects are read: a file
            // too big for that asks none (it is checked again if it gets small enough).
            if with_objects {
                references::collect(&mut ctx);
            }
            let keep = |code: Code, at: usize| {
                !ignored.iter().any(|name| *name == "all" || code == *name)
                    && !comments.by_comment(code.as_str(), at)
            };
            checked.findings.extend(
                ctx.findings
                    .into_iter()
                    .filter(|f| keep(f.code, f.range.start)),
            );
            checked.needs.extend(
                ctx.needs
                    .into_iter()
                    .filter(|n| keep(n.code, n.range.start)),
            );
        }
    }
    if with_objects {
        checked.objects = read(tree);
    }
    // Kept per document for as long as the file is open: no room to grow.
    checked.findings.shrink_to_fit();
    checked.needs.shrink_to_fit();
    checked
}

/// The objects of a document's root: itself, or a `v1 List`'s items.
fn objects_of(root: Node<'_>) -> Vec<Object<'_>> {
    let Some(object) = Object::new(root) else {
        return Vec::new();
    };
    if object.kind == "List" && object.api_version == "v1" {
        return root
            .get("items")
            .iter()
            .flat_map(Node::items)
            .filter_map(Object::new)
            .collect();
    }
    vec![object]
}

/// What the checks of one object write to.
pub(crate) struct Ctx<'t> {
    object: Object<'t>,
    /// What is reported of a rule that is off is dropped.
    config: &'t Config,
    findings: Vec<Finding>,
    needs: Vec<Need>,
}

impl<'t> Ctx<'t> {
    /// Whether `code`'s rule is on (a check whose work is costly asks before it starts).
    fn on(&self, code: Code) -> bool {
        self.config.is_on(code)
    }

    fn report(&mut self, code: Code, range: Range<usize>, message: impl Into<String>) {
        if !self.on(code) {
            return;
        }
        self.findings.push(Finding {
            code,
            range,
            message: message.into(),
            fix: None,
        });
    }

    /// A finding with a quick fix (when `edits` gives one: worked out only for a rule that is
    /// on).
    fn report_fix(
        &mut self,
        code: Code,
        range: Range<usize>,
        message: impl Into<String>,
        title: &str,
        edits: impl FnOnce() -> Option<fix::Edits>,
    ) {
        if !self.on(code) {
            return;
        }
        self.findings.push(Finding {
            code,
            range,
            message: message.into(),
            fix: edits().map(|edits| Fix {
                title: title.to_string(),
                edits,
            }),
        });
    }

    fn need(&mut self, code: Code, range: Range<usize>, ask: references::Ask) {
        if !self.on(code) {
            return;
        }
        self.needs.push(Need {
            code,
            range,
            namespace: self.object.namespace().map(Into::into),
            ask,
        });
    }
}

/// A LabelSelector (`matchLabels`, `matchExpressions`) of a node.
fn label_selector(node: Node<'_>) -> Option<Selector> {
    Selector::from_label_selector(node.0)
}

/// A selector written as a plain map (a Service's), `None` when empty.
fn map_selector(node: Node<'_>) -> Option<Selector> {
    Selector::from_map(node.0)
}

#[cfg(test)]
mod tests;

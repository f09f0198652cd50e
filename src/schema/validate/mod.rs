//! Validation of one document's syntax tree against the schema of its kind, with the apiserver's
//! semantics where they differ from plain JSON Schema: go-yaml v2 scalar resolution (what kubectl
//! sends), `null` accepted for any field (Go's JSON decoder leaves the zero value), strict unknown
//! fields, int-or-string, `resource.Quantity` syntax, and a container's `image` being required.
//!
//! Diagnostics sit on exact ranges: the key for unknown and missing fields, the value for type,
//! enum and format errors. Offsets are relative to the tree's document.
//!
//! One concern per file: `walk` (the generic schema walk), `values` (scalars as the apiserver
//! decodes them: types, formats, quantities), `extensions` (list types and CEL rules, with
//! `cel_rules`), `metadata` and `core_rules` (the apiserver's own rules: names, labels,
//! annotations, core types), `required` (the fields an object must have, and the fix that adds
//! them), `crd_structure` (a CRD's own schemas), `suggest` (did-you-mean), and `scoped`
//! (validation redone around an edit).

mod cel_rules;
mod core_rules;
mod crd_structure;
mod extensions;
mod metadata;
pub mod required;
mod scoped;
pub mod suggest;
pub mod values;
mod walk;

use tree_sitter::Tree;

use crate::diagnostic::{Diagnostic, codes};
use crate::schema::catalog::Catalog;
use crate::schema::store::split_api_version;
use crate::yaml::node::{TsNode, YamlNode};
use crate::yaml::spans::SpanTree;
use crate::yaml::syntax::{self, Source};
use crate::yaml::template::DocumentActions;
pub use scoped::revalidate;
use walk::Validator;

/// How a file's documents are read. Manifests are validated as objects; the other roles come
/// from where a file sits (its name, or the kustomization that names it).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Role {
    #[default]
    Manifest,
    /// A kustomization file: a document without apiVersion or kind is what kustomize makes of
    /// it (a `Kustomization`, kustomize.config.k8s.io/v1beta1).
    Kustomization,
    /// A strategic-merge patch: fields and types are checked against the target kind, required
    /// fields and whole-object rules never (a patch sets only what it changes). Documents that
    /// hold a `$patch`-style directive key are read this way in any role.
    Patch,
}

/// Nesting deeper than this is not validated (the YAML layer reports what is wrong with it).
const MAX_DEPTH: usize = 200;

/// The schema diagnostics of one document.
pub fn validate_document<S: Source + ?Sized>(
    catalog: &Catalog,
    tree: &Tree,
    source: &S,
) -> Vec<Diagnostic> {
    validate(catalog, tree, source).diagnostics
}

/// A document's schema diagnostics and the kinds it was validated as, with the catalog layer
/// that answered for each: under another catalog the result still holds if they answer alike.
#[derive(Debug, Default, Clone)]
pub struct Validation {
    pub diagnostics: Vec<Diagnostic>,
    /// Which part of validation produced each diagnostic (parallel to `diagnostics`): after an
    /// edit, [`revalidate`] redoes each part only where the edit can have changed its answer.
    origins: Vec<Origin>,
    /// Kept with every document of an open file: boxed, no spare capacity.
    kinds: Box<[ValidatedKind]>,
    /// Validated as something else than a plain manifest (a kustomization, a patch): an edit
    /// validates it whole again ([`revalidate`] knows manifests only).
    whole_only: bool,
}

/// An `apiVersion` and `kind` a document was validated as, and the catalog layer that answered.
type ValidatedKind = (Box<str>, Box<str>, Option<u64>);

/// The parts of a document's validation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Origin {
    /// The walk of the document against its kind's schema.
    Walk,
    /// Rules about a whole object (its name, selectors, ConfigMap keys, size).
    Object,
    /// A CRD's structural checks of its own schemas (`crd_structure`).
    Structure,
}

impl Validation {
    /// Whether `catalog` answers every kind this document uses from the same layers.
    pub fn holds_under(&self, catalog: &Catalog) -> bool {
        // An unknown kind's message lists the sources and what else serves the kind.
        let names_sources = self
            .diagnostics
            .iter()
            .any(|d| d.code == codes::UNKNOWN_KIND);
        !names_sources
            && self.kinds.iter().all(|(api_version, kind, layer)| {
                catalog.answering_layer(api_version, kind) == *layer
            })
    }
}

impl Validation {
    /// Moves the diagnostics (and their fixes) along with an edit of the file; the document
    /// starts at `base`.
    pub fn follow_edit(&mut self, edit: &crate::text::TextEdit, base: usize) {
        for diagnostic in &mut self.diagnostics {
            diagnostic.follow_edit(edit, base);
        }
    }
}

/// Like [`validate_document`], remembering which layers answered.
pub fn validate<S: Source + ?Sized>(catalog: &Catalog, tree: &Tree, source: &S) -> Validation {
    validate_as(catalog, tree, source, Role::Manifest)
}

/// [`validate`] on the span tree saphyr's pass built (a document without syntax errors).
pub fn validate_spans(catalog: &Catalog, tree: &SpanTree) -> Validation {
    validate_spans_as(catalog, tree, Role::Manifest)
}

/// [`validate_spans`] for a document of a file with `role`.
pub fn validate_spans_as(catalog: &Catalog, tree: &SpanTree, role: Role) -> Validation {
    match tree.root() {
        Some(root) => validate_root(catalog, root, role, None),
        None => Validation::default(),
    }
}

/// [`validate`] for a document of a file with `role`.
pub fn validate_as<S: Source + ?Sized>(
    catalog: &Catalog,
    tree: &Tree,
    source: &S,
    role: Role,
) -> Validation {
    // A document with syntax errors gets those from the YAML layer; a recovered tree would only
    // add guesses.
    if tree.root_node().has_error() {
        return Validation::default();
    }
    match syntax::document_root(tree) {
        Some(root) => validate_root(catalog, TsNode::new(root, source), role, None),
        None => Validation::default(),
    }
}

/// [`validate_spans`] of a Helm template's document (the span tree of its masked text): values
/// that are actions are not judged, required fields an action may print are not asked for, and
/// nothing is reported on an action.
pub fn validate_template(
    catalog: &Catalog,
    tree: &SpanTree,
    actions: &DocumentActions<'_>,
) -> Validation {
    match tree.root() {
        Some(root) => validate_root(catalog, root, Role::Manifest, Some(actions)),
        None => Validation::default(),
    }
}

fn validate_root<N: YamlNode>(
    catalog: &Catalog,
    root: N,
    role: Role,
    template: Option<&DocumentActions<'_>>,
) -> Validation {
    let mut validator = Validator::new(catalog);
    validator.role = role;
    validator.template = template;
    validator.object(root, 0);
    let whole_only = role != Role::Manifest || validator.patch;
    validator.mark(Origin::Walk);
    let (mut out, mut origins) = (validator.out, validator.origins);
    if let Some(template) = template {
        let keep: Vec<bool> = out.iter().map(|d| !template.overlaps(&d.range)).collect();
        let mut flags = keep.iter();
        out.retain(|_| *flags.next().unwrap_or(&true));
        let mut flags = keep.iter();
        origins.retain(|_| *flags.next().unwrap_or(&true));
    }
    let (diagnostics, origins) = sorted(out, origins);
    let mut kinds: Vec<ValidatedKind> = Vec::new();
    for (api_version, kind) in validator.consulted {
        if !kinds
            .iter()
            .any(|(a, k, _)| **a == api_version && **k == kind)
        {
            let layer = catalog.answering_layer(&api_version, &kind);
            kinds.push((api_version.into(), kind.into(), layer));
        }
    }
    Validation {
        diagnostics,
        origins,
        kinds: kinds.into_boxed_slice(),
        whole_only,
    }
}

/// The diagnostics of a value against `schema`, read as part of a patch (no required fields):
/// a JSON 6902 operation's `value`. `anchor` is where a shape error of the value itself goes.
pub fn validate_patch_value<N: YamlNode>(
    catalog: &Catalog,
    value: N,
    schema: crate::schema::SchemaNode<'_>,
) -> Vec<Diagnostic> {
    let mut validator = Validator::new(catalog);
    validator.role = Role::Patch;
    validator.patch = true;
    let anchor = value.range();
    validator.check(value, schema, anchor, 0);
    validator.out
}

/// Diagnostics in document order, each with its origin.
fn sorted(diagnostics: Vec<Diagnostic>, origins: Vec<Origin>) -> (Vec<Diagnostic>, Vec<Origin>) {
    let mut tagged: Vec<(Diagnostic, Origin)> = diagnostics.into_iter().zip(origins).collect();
    tagged.sort_by_key(|(d, _)| (d.range.start, d.range.end));
    tagged.into_iter().unzip()
}

/// Groups whose documents are configuration for tools, not API objects, and have no schema
/// here (kustomization files do: `schema::kustomize`).
fn is_tool_config(api_version: &str, kind: &str) -> bool {
    let (group, _) = split_api_version(api_version);
    (api_version == "v1" && kind == "Config")
        || group.ends_with(".x-k8s.io") && kind == "Cluster" && group.starts_with("kind.")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::Code;
    use ropey::Rope;

    /// Validates `text` on both trees; they must agree.
    pub(super) fn check(text: &str) -> Vec<(String, Code, String)> {
        let catalog = Catalog::builtin();
        let found = on_both_trees(&catalog, text);
        found
            .into_iter()
            .map(|d| (text[d.range.clone()].to_string(), d.code, d.message))
            .collect()
    }

    /// The diagnostics of one document from its tree-sitter tree, checked to equal those from
    /// its span tree.
    pub(super) fn on_both_trees(catalog: &Catalog, text: &str) -> Vec<Diagnostic> {
        let rope = Rope::from_str(text);
        let tree = syntax::parse(&rope, 0..text.len(), None);
        let found = validate_document(catalog, &tree, text);
        if let Some(spans) = crate::yaml::lint::check(text).tree {
            let on_spans = validate_spans(catalog, &spans).diagnostics;
            assert_eq!(found, on_spans, "span tree vs tree-sitter on:\n{text}");
        }
        found
    }

    #[test]
    fn both_trees_give_the_same_diagnostics_on_the_corpus() {
        let catalog = Catalog::builtin();
        let documents = crate::yaml::corpus::documents();
        for (_, doc) in &documents {
            on_both_trees(&catalog, doc);
        }
        let documents = documents.len();
        assert!(documents > 100, "compared {documents} documents");
    }

    pub(super) fn codes_at(text: &str) -> Vec<(String, Code)> {
        check(text).into_iter().map(|(t, c, _)| (t, c)).collect()
    }

    pub(super) const POD: &str = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  labels:\n    app: web\nspec:\n  containers:\n  - name: web\n    image: nginx\n    ports:\n    - containerPort: 80\n    resources:\n      limits:\n        cpu: 500m\n        memory: 128Mi\n";

    #[test]
    fn the_fix_for_a_removed_api_version_says_how_the_object_fits_there() {
        let title = |text: &str| {
            let found = on_both_trees(&Catalog::builtin(), text);
            assert_eq!(found.len(), 1, "{found:?}");
            found[0].fix.as_ref().map(|f| f.title.clone())
        };
        let old_style = "apiVersion: extensions/v1beta1\nkind: Ingress\nmetadata:\n  name: web\nspec:\n  rules:\n  - http:\n      paths:\n      - path: /\n        backend:\n          serviceName: web\n          servicePort: 80\n";
        assert_eq!(
            title(old_style).as_deref(),
            Some(
                "Use apiVersion networking.k8s.io/v1 for Ingress (then fix 3 fields its schema there does not accept)"
            )
        );
        let fits = "apiVersion: extensions/v1beta1\nkind: Ingress\nmetadata:\n  name: web\nspec:\n  ingressClassName: nginx\n";
        assert_eq!(
            title(fits).as_deref(),
            Some(
                "Use apiVersion networking.k8s.io/v1 for Ingress (its schema there fits this object as is)"
            )
        );
        let nowhere = "apiVersion: example.com/v1\nkind: Nothing\nmetadata:\n  name: x\n";
        assert_eq!(title(nowhere), None);
    }

    #[test]
    fn a_valid_pod_is_clean() {
        assert_eq!(check(POD), []);
    }

    #[test]
    fn unknown_fields_are_reported_on_the_key_with_a_suggestion() {
        let text = POD.replace("    image: nginx", "    imagee: nginx");
        let found = check(&text);
        assert_eq!(found.len(), 2, "{found:?}");
        assert_eq!(
            found[0].0, "name",
            "the missing image is reported at the item"
        );
        assert_eq!(found[0].1, codes::REQUIRED);
        assert_eq!(found[1].0, "imagee");
        assert_eq!(found[1].1, codes::UNKNOWN_FIELD);
        assert!(
            found[1].2.contains("did you mean `image`?"),
            "{}",
            found[1].2
        );
    }

    #[test]
    fn types_follow_kubectl_scalar_resolution() {
        let text = POD
            .replace("containerPort: 80", "containerPort: \"80\"")
            .replace("app: web", "app: yes");
        assert_eq!(
            codes_at(&text),
            [
                ("yes".to_string(), codes::TYPE),
                ("\"80\"".to_string(), codes::TYPE)
            ]
        );
        // `1.0` is the integer 1 once it is JSON; `null` is accepted anywhere.
        let text = POD
            .replace("containerPort: 80", "containerPort: 80.0")
            .replace(
                "  name: web\n  labels",
                "  name: web\n  creationTimestamp: null\n  labels",
            );
        assert_eq!(check(&text), []);
    }

    #[test]
    fn shapes_are_checked() {
        let text = POD.replace("  labels:\n    app: web\n", "  labels: [a]\n");
        assert_eq!(codes_at(&text), [("[a]".to_string(), codes::TYPE)]);
        let text = POD.replace(
            "  - name: web\n    image: nginx\n",
            "  - name:\n      x: 1\n    image: nginx\n",
        );
        assert_eq!(codes_at(&text), [("x: 1".to_string(), codes::TYPE)]);
    }

    #[test]
    fn required_fields() {
        let text = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\nspec:\n  selector:\n    matchLabels: {a: b}\n  template:\n    metadata:\n      labels: {a: b}\n    spec:\n      containers:\n      - image: nginx\n";
        assert_eq!(codes_at(text), [("image".to_string(), codes::REQUIRED)]);
        assert!(check(text)[0].2.contains("`name`"));
    }

    #[test]
    fn enums_int_or_string_and_quantities() {
        let text = "apiVersion: v1\nkind: Service\nmetadata:\n  name: s\nspec:\n  type: ClusterIp\n  ports:\n  - port: 80\n    targetPort: http\n  - port: 81\n    targetPort: 8081\n  - port: 82\n    targetPort: true\n";
        assert_eq!(
            codes_at(text),
            [
                ("ClusterIp".to_string(), codes::ENUM),
                ("true".to_string(), codes::TYPE)
            ]
        );
        let text = POD
            .replace("cpu: 500m", "cpu: 500x")
            .replace("memory: 128Mi", "memory: 1.5e3");
        assert_eq!(codes_at(&text), [("500x".to_string(), codes::FORMAT)]);
    }

    #[test]
    fn unknown_kinds_get_one_warning_and_nothing_else() {
        let found = check("apiVersion: example.com/v1\nkind: Foo\nspec:\n  anything: 1\n");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].0, "Foo");
        assert_eq!(
            found[0].2,
            "Foo (example.com/v1) is not in built-in Kubernetes 1.37"
        );
        let found = check("apiVersion: extensions/v1beta1\nkind: Deployment\n");
        assert!(
            found[0].2.ends_with("Deployment is served as apps/v1"),
            "{}",
            found[0].2
        );
    }

    #[test]
    fn documents_that_are_not_objects_are_not_validated() {
        assert_eq!(check("key: value\n"), []);
        assert_eq!(check("- a\n- b\n"), []);
        assert_eq!(
            check(
                "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [a.yaml]\n"
            ),
            []
        );
        assert_eq!(codes_at("kind:\n"), [("kind".to_string(), codes::REQUIRED)]);
        assert_eq!(
            codes_at("kind: Pod\nmetadata: {}\n"),
            [("kind".to_string(), codes::REQUIRED)]
        );
    }

    fn codes_as(text: &str, role: Role) -> Vec<(String, Code)> {
        let spans = crate::yaml::lint::check(text).tree.unwrap();
        validate_spans_as(&Catalog::builtin(), &spans, role)
            .diagnostics
            .into_iter()
            .map(|d| (text[d.range].to_string(), d.code))
            .collect()
    }

    #[test]
    fn kustomization_files_are_validated_against_kustomize_types() {
        let text = "resourcs:\n- a.yaml\nnamePrefix: 3\npatches:\n- path: p.yaml\n  target: {kind: Deployment, nme: x}\nbuildMetadata: [originAnnotations, bogus]\n";
        assert_eq!(
            codes_as(text, Role::Kustomization),
            [
                ("resourcs".to_string(), codes::UNKNOWN_FIELD),
                ("3".to_string(), codes::TYPE),
                ("nme".to_string(), codes::UNKNOWN_FIELD),
                ("bogus".to_string(), codes::ENUM),
            ]
        );
        // As a plain manifest it names no kind: not an object.
        assert_eq!(codes_as(text, Role::Manifest), []);
        let component =
            "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\npatches: {}\n";
        assert_eq!(
            codes_as(component, Role::Manifest),
            [("{}".to_string(), codes::TYPE)]
        );
        let kind_only = "kind: Component\nresources: [a.yaml]\n";
        assert_eq!(codes_as(kind_only, Role::Kustomization), []);
        let good = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nmetadata:\n  name: x\nnamespace: shop\nresources: [a.yaml]\nconfigMapGenerator:\n- name: c\n  files: [a.txt]\n  options: {disableNameSuffixHash: true}\n";
        assert_eq!(codes_as(good, Role::Kustomization), []);
    }

    #[test]
    fn patches_are_checked_for_fields_and_types_never_for_required_ones() {
        let patch = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 3\n  template:\n    spec:\n      containers:\n      - name: web\n        resources: {limits: {cpu: 1x}}\n        imagePolicy: Always\n";
        assert!(
            codes_as(patch, Role::Manifest)
                .iter()
                .any(|(_, c)| *c == codes::REQUIRED)
        );
        assert_eq!(
            codes_as(patch, Role::Patch),
            [
                ("1x".to_string(), codes::FORMAT),
                ("imagePolicy".to_string(), codes::UNKNOWN_FIELD),
            ]
        );
        // A `$patch` directive makes any document a patch.
        let directive = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      containers:\n      - name: sidecar\n        $patch: delete\n      - name: web\n        $patch: remove\n      $setElementOrder/volumes: []\n      $bogus: 1\n";
        assert_eq!(
            codes_as(directive, Role::Manifest),
            [
                ("remove".to_string(), codes::ENUM),
                ("$bogus".to_string(), codes::UNKNOWN_FIELD),
            ]
        );
        // A `$patch` in a value is no directive.
        let value = "apiVersion: v1\nkind: ConfigMap\ndata:\n  a: x $patch y\n";
        assert_eq!(codes_as(value, Role::Manifest).len(), 1, "name required");
    }

    #[test]
    fn list_items_are_validated_each() {
        let text = "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: a\n  dta: {}\n- apiVersion: v1\n  kind: Nope\n";
        assert_eq!(
            codes_at(text),
            [
                ("dta".to_string(), codes::UNKNOWN_FIELD),
                ("Nope".to_string(), codes::UNKNOWN_KIND)
            ]
        );
    }

    #[test]
    fn tags_anchors_and_merge_keys() {
        let text = POD.replace("containerPort: 80", "containerPort: !!int \"80\"");
        assert_eq!(check(&text), []);
        let text = "apiVersion: v1\nkind: ConfigMap\nmetadata: &m\n  name: a\ndata:\n  <<: {x: y}\n  k: !!str 1\n";
        assert_eq!(check(text), []);
    }

    #[test]
    fn crds_validate_against_json_schema_props() {
        let text = "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: foos.example.com\nspec:\n  group: example.com\n  names: {plural: foos, kind: Foo}\n  scope: Namespaced\n  versions:\n  - name: v1\n    served: true\n    storage: true\n    schema:\n      openAPIV3Schema:\n        type: object\n        x-kubernetes-preserve-unknown-fields: true\n        properties:\n          spec:\n            type: object\n            default: {a: 1}\n            typo: 1\n";
        assert_eq!(codes_at(text), [("typo".to_string(), codes::UNKNOWN_FIELD)]);
    }
}

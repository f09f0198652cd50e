//! What the cluster said about one document, as diagnostics on the manifest's ranges: dry-run
//! rejections (`dry-run-*`) and differences from the live object (`diff-*`: created, configured
//! with the changed fields, or an `unchanged` hint, in kubectl's words), plus the diff view
//! of the `kube-lsp.showDiff` command. Pure: the cluster answers are handed in.

use std::ops::Range;

use ropey::Rope;
use serde_json::Value;
use tree_sitter::Tree;

use crate::cluster::diff::{self, Change};
use crate::cluster::dry_run::{ApiStatus, DryRun, Outcome};
use crate::cluster::ssa_path;
use crate::diagnostic::codes::{
    DIFF_CHANGED, DIFF_CREATE, DIFF_SUMMARY, DIFF_UNCHANGED, DRY_RUN_DENIED, DRY_RUN_ERROR,
    DRY_RUN_FORBIDDEN, DRY_RUN_INVALID, DRY_RUN_WARNING,
};
use crate::diagnostic::{Code, Diagnostic, Severity};
use crate::schema::validate::values::is_quantity;
use crate::text::shift_range;
use crate::yaml::key_path::{KeyPath, Segment};
use crate::yaml::path_range::{RangeTarget, range_of};
use crate::yaml::syntax;

/// One document's text (with its offset in the file) and the JSON that was sent.
pub struct DocumentInput<'a> {
    pub text: &'a str,
    pub offset: usize,
    pub manifest: &'a Value,
}

struct Locator<'a> {
    text: &'a str,
    tree: Tree,
    offset: usize,
    manifest: &'a Value,
}

impl Locator<'_> {
    fn shift(&self, range: Range<usize>) -> Range<usize> {
        shift_range(&range, self.offset as isize)
    }

    fn path(&self, path: &KeyPath, target: RangeTarget) -> Range<usize> {
        range_of(&self.tree, self.text, path, target)
            .map(|r| self.shift(r))
            .unwrap_or_else(|| self.header())
    }

    /// Where a document-wide message goes: `metadata.name`'s value, else `kind`'s.
    fn header(&self) -> Range<usize> {
        for path in ["metadata.name", "kind"] {
            if let Some(range) = range_of(
                &self.tree,
                self.text,
                &KeyPath::parse(path),
                RangeTarget::Value,
            ) && self
                .text
                .get(range.clone())
                .is_some_and(|t| !t.contains('\n'))
            {
                return self.shift(range);
            }
        }
        self.whole()
    }

    /// The document's content, without trailing blank lines.
    fn whole(&self) -> Range<usize> {
        let start = self.text.len() - self.text.trim_start().len();
        let end = self.text.trim_end().len().max(start);
        self.shift(start..end)
    }
}

fn diagnostic(range: Range<usize>, severity: Severity, code: Code, message: String) -> Diagnostic {
    Diagnostic {
        range,
        severity,
        code,
        message,
        fix: None,
    }
}

/// The diagnostics of one document's dry-run (and diff, when `with_diff`).
pub fn diagnostics(input: &DocumentInput<'_>, result: &DryRun, with_diff: bool) -> Vec<Diagnostic> {
    let rope = Rope::from_str(input.text);
    let locator = Locator {
        text: input.text,
        tree: syntax::parse(&rope, 0..input.text.len(), None),
        offset: input.offset,
        manifest: input.manifest,
    };
    let scrub = Scrubber::new(input.manifest);
    let mut out = Vec::new();
    for warning in &result.warnings {
        out.push(diagnostic(
            warning_range(&locator, warning),
            Severity::Warning,
            DRY_RUN_WARNING,
            scrub.apply(warning),
        ));
    }
    match &result.outcome {
        Outcome::Skipped(_) => {}
        Outcome::UnknownKind(message) => out.push(diagnostic(
            locator.path(&KeyPath::parse("kind"), RangeTarget::Value),
            Severity::Error,
            DRY_RUN_ERROR,
            message.clone(),
        )),
        Outcome::Rejected(status) => {
            out.extend(rejection(&locator, status, &result.context, &scrub))
        }
        Outcome::Applied { object, live } if with_diff => out.extend(diff_diagnostics(
            &locator,
            object,
            live.as_ref(),
            &result.context,
        )),
        Outcome::Applied { .. } => {}
    }
    out
}

/// A warning naming a field (`unknown field "spec.foo"`) goes on it; others on the header.
fn warning_range(locator: &Locator<'_>, warning: &str) -> Range<usize> {
    if let Some(start) = warning.find("field \"") {
        let rest = &warning[start + 7..];
        if let Some(end) = rest.find('"') {
            let path = ssa_path::resolve(&rest[..end], locator.manifest);
            return locator.path(&path, RangeTarget::Key);
        }
    }
    locator.header()
}

/// Whether a 403/other refusal comes from admission (webhook, policy, quota) rather than RBAC.
fn is_admission_denial(status: &ApiStatus) -> bool {
    let m = &status.message;
    m.contains("admission webhook")
        || m.contains("ValidatingAdmissionPolicy")
        || m.contains("denied request")
        || m.contains("denied the request")
        || m.contains("exceeded quota")
        || m.contains("ResourceQuota")
}

fn rejection(
    locator: &Locator<'_>,
    status: &ApiStatus,
    context: &str,
    scrub: &Scrubber,
) -> Vec<Diagnostic> {
    let message = scrub.apply(&status.message);
    if is_admission_denial(status) {
        return vec![diagnostic(
            locator.header(),
            Severity::Error,
            DRY_RUN_DENIED,
            format!("denied by admission (context {context}): {message}"),
        )];
    }
    if status.code == 403 || status.reason == "Forbidden" {
        return vec![diagnostic(
            locator.header(),
            Severity::Warning,
            DRY_RUN_FORBIDDEN,
            format!("cannot dry-run in context {context} (RBAC): {message}"),
        )];
    }
    let causes: Vec<_> = status
        .causes()
        .iter()
        .filter(|c| !c.field.is_empty())
        .collect();
    if !causes.is_empty() {
        return causes
            .into_iter()
            .map(|cause| {
                let path = ssa_path::resolve(&cause.field, locator.manifest);
                let target = match cause.reason.as_str() {
                    "FieldValueRequired"
                    | "FieldValueForbidden"
                    | "FieldValueDuplicate"
                    | "FieldValueTooMany" => RangeTarget::Key,
                    _ => RangeTarget::Value,
                };
                diagnostic(
                    locator.path(&path, target),
                    Severity::Error,
                    DRY_RUN_INVALID,
                    scrub.apply(&format!("{}: {}", cause.field, cause.message)),
                )
            })
            .collect();
    }
    if status.code == 404 && status.message.starts_with("namespaces ") {
        return vec![diagnostic(
            locator.path(&KeyPath::parse("metadata.namespace"), RangeTarget::Value),
            Severity::Error,
            DRY_RUN_ERROR,
            format!("{message} (context {context})"),
        )];
    }
    if let Some(path) = ssa_path::duplicate_entry(&status.message, locator.manifest) {
        return vec![diagnostic(
            locator.path(&path, RangeTarget::Value),
            Severity::Error,
            DRY_RUN_INVALID,
            message,
        )];
    }
    if status
        .message
        .contains("quantities must match the regular expression")
    {
        let bad = bad_quantities(locator.manifest);
        if !bad.is_empty() {
            return bad
                .iter()
                .map(|path| {
                    diagnostic(
                        locator.path(path, RangeTarget::Value),
                        Severity::Error,
                        DRY_RUN_INVALID,
                        format!("{path}: {message}"),
                    )
                })
                .collect();
        }
    }
    if let Some((field, _)) = ssa_path::path_in_message(&status.message) {
        let path = ssa_path::resolve(&field, locator.manifest);
        if !path.is_empty() {
            return vec![diagnostic(
                locator.path(&path, RangeTarget::Key),
                Severity::Error,
                DRY_RUN_INVALID,
                message,
            )];
        }
    }
    let (range, code) = match status.code {
        400 | 422 => (locator.whole(), DRY_RUN_INVALID),
        _ => (locator.header(), DRY_RUN_ERROR),
    };
    let text = if message.is_empty() {
        format!(
            "the API server answered {} (context {context})",
            status.code
        )
    } else {
        message
    };
    vec![diagnostic(range, Severity::Error, code, text)]
}

/// Maps of resource quantities (`resources.requests`, `limits`, quota `hard`, ...) whose values
/// are not quantities: where the apiserver's "quantities must match" error (which names no
/// field) comes from.
fn bad_quantities(manifest: &Value) -> Vec<KeyPath> {
    const QUANTITY_MAPS: [&str; 6] = [
        "requests",
        "limits",
        "hard",
        "overhead",
        "capacity",
        "allocatable",
    ];
    let mut found = Vec::new();
    let mut stack = vec![(KeyPath::default(), manifest)];
    while let Some((path, value)) = stack.pop() {
        match value {
            Value::Object(map) => {
                for (key, child) in map {
                    let mut child_path = path.clone();
                    child_path.0.push(Segment::Key(key.clone()));
                    match child.as_object() {
                        Some(quantities) if QUANTITY_MAPS.contains(&key.as_str()) => {
                            for (name, quantity) in quantities {
                                let valid = quantity.is_number()
                                    || quantity.as_str().is_some_and(is_quantity);
                                if !valid {
                                    let mut bad = child_path.clone();
                                    bad.0.push(Segment::Key(name.clone()));
                                    found.push(bad);
                                }
                            }
                        }
                        _ => stack.push((child_path, child)),
                    }
                }
            }
            Value::Array(items) => {
                for (index, item) in items.iter().enumerate() {
                    let mut item_path = path.clone();
                    item_path.0.push(Segment::Index(index));
                    stack.push((item_path, item));
                }
            }
            _ => {}
        }
    }
    found
}

/// Both sides of the diff, cleaned and masked: (live, dry-run result).
pub fn masked_sides(object: &Value, live: Option<&Value>) -> (Option<Value>, Value) {
    let mut after = diff::clean(object);
    let mut before = live.map(diff::clean);
    diff::mask_secrets(before.as_mut(), Some(&mut after));
    (before, after)
}

fn diff_diagnostics(
    locator: &Locator<'_>,
    object: &Value,
    live: Option<&Value>,
    context: &str,
) -> Vec<Diagnostic> {
    let (before, after) = masked_sides(object, live);
    let Some(before) = before else {
        return vec![diagnostic(
            locator.header(),
            Severity::Information,
            DIFF_CREATE,
            format!("would be created (not in the live cluster, context {context})"),
        )];
    };
    let changes: Vec<Change> = diff::changes(&before, &after);
    if changes.is_empty() {
        return vec![diagnostic(
            locator.header(),
            Severity::Hint,
            DIFF_UNCHANGED,
            format!("unchanged (the live object in context {context} already matches)"),
        )];
    }
    let mut out = vec![diagnostic(
        locator.header(),
        Severity::Information,
        DIFF_SUMMARY,
        format!(
            "would be configured: {} field{} differ{} from the live object in context {context}",
            changes.len(),
            if changes.len() == 1 { "" } else { "s" },
            if changes.len() == 1 { "s" } else { "" },
        ),
    )];
    for change in &changes {
        out.push(diagnostic(
            locator.path(&change.path, RangeTarget::Value),
            Severity::Information,
            DIFF_CHANGED,
            format!(
                "{}: live: {} → {}",
                change.path,
                diff::short(change.before.as_ref()),
                diff::short(change.after.as_ref())
            ),
        ));
    }
    out
}

/// The `kube-lsp.showDiff` answer for one document.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct DiffView {
    pub title: String,
    /// YAML of the live object (empty when it does not exist).
    pub live: String,
    /// YAML of the object as the dry-run would store it.
    pub manifest: String,
    /// Unified diff, `kubectl diff` style.
    pub diff: String,
}

/// The diff view of a successful dry-run.
pub fn diff_view(result: &DryRun) -> Option<DiffView> {
    let Outcome::Applied { object, live } = &result.outcome else {
        return None;
    };
    let (before, after) = masked_sides(object, live.as_ref());
    let s = |p: &str| {
        after
            .pointer(p)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let (api_version, kind, name) = (s("/apiVersion"), s("/kind"), s("/metadata/name"));
    // kubectl diff's file names: live/<group.>version.Kind.namespace.name
    let group_version = match api_version.split_once('/') {
        Some((group, version)) => format!("{group}.{version}"),
        None => api_version.clone(),
    };
    let id = match &result.namespace {
        Some(ns) => format!("{group_version}.{kind}.{ns}.{name}"),
        None => format!("{group_version}.{kind}.{name}"),
    };
    let live_yaml = before.as_ref().map(diff::to_yaml).unwrap_or_default();
    let manifest_yaml = diff::to_yaml(&after);
    Some(DiffView {
        title: format!(
            "{kind} {name}: live ↔ dry-run (context {}){}",
            result.context,
            if before.is_none() {
                " — will be created"
            } else {
                ""
            }
        ),
        diff: diff::unified(
            &live_yaml,
            &manifest_yaml,
            &format!("live/{id}"),
            &format!("merged/{id}"),
        ),
        live: live_yaml,
        manifest: manifest_yaml,
    })
}

/// Replaces Secret values of the manifest inside messages by `***`.
struct Scrubber {
    secrets: Vec<String>,
}

impl Scrubber {
    fn new(manifest: &Value) -> Scrubber {
        let mut secrets = Vec::new();
        if diff::is_secret(manifest) {
            for field in ["data", "stringData"] {
                if let Some(map) = manifest.get(field).and_then(Value::as_object) {
                    secrets.extend(
                        map.values()
                            .filter_map(Value::as_str)
                            .filter(|s| s.len() >= 2)
                            .map(str::to_string),
                    );
                }
            }
            // Longest first, so a value containing another is replaced whole.
            secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        }
        Scrubber { secrets }
    }

    fn apply(&self, text: &str) -> String {
        let mut text = text.to_string();
        for secret in &self.secrets {
            text = text.replace(secret.as_str(), "***");
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::dry_run::{StatusCause, StatusDetails};
    use serde_json::json;
    use std::time::Duration;

    fn run(outcome: Outcome) -> DryRun {
        DryRun {
            outcome,
            warnings: Vec::new(),
            context: "admin".into(),
            namespace: Some("default".into()),
            elapsed: Duration::ZERO,
        }
    }

    const POD: &str = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  labels:\n    demo: test\nspec:\n  containers:\n  - name: web\n    image: nginx\n    foo: bar\n    ports:\n    - containerPort: 99999\n";

    fn manifest() -> Value {
        crate::yaml::value::document_to_json(POD, &Default::default())
            .unwrap()
            .unwrap()
    }

    fn found(result: &DryRun) -> Vec<(String, Code, String)> {
        let manifest = manifest();
        let input = DocumentInput {
            text: POD,
            offset: 0,
            manifest: &manifest,
        };
        diagnostics(&input, result, true)
            .into_iter()
            .map(|d| (POD[d.range].to_string(), d.code, d.message))
            .collect()
    }

    #[test]
    fn causes_land_on_their_fields() {
        let status = ApiStatus {
            code: 422,
            reason: "Invalid".into(),
            message: "Pod \"web\" is invalid".into(),
            details: Some(StatusDetails {
                causes: vec![StatusCause {
                    reason: "FieldValueInvalid".into(),
                    message: "Invalid value: 99999: must be between 1 and 65535, inclusive".into(),
                    field: "spec.containers[0].ports[0].containerPort".into(),
                }],
            }),
        };
        let d = found(&run(Outcome::Rejected(status)));
        assert_eq!((d[0].0.as_str(), d[0].1), ("99999", DRY_RUN_INVALID));
    }

    #[test]
    fn ssa_errors_land_on_the_named_field() {
        let status = ApiStatus {
            code: 500,
            message: "failed to create typed patch object (default/web; /v1, Kind=Pod): .spec.containers[name=\"web\"].foo: field not declared in schema".into(),
            ..Default::default()
        };
        let d = found(&run(Outcome::Rejected(status)));
        assert_eq!((d[0].0.as_str(), d[0].1), ("foo", DRY_RUN_INVALID));
    }

    #[test]
    fn quantity_errors_land_on_the_bad_quantity() {
        let text = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: q\nspec:\n  containers:\n  - name: c\n    image: x\n    resources:\n      requests:\n        cpu: true\n        memory: 1Gi\n";
        let manifest = crate::yaml::value::document_to_json(text, &Default::default())
            .unwrap()
            .unwrap();
        let status = ApiStatus {
            code: 500,
            message: "failed to convert new object (default/q; /v1, Kind=Pod) to proper version: unable to convert unstructured object to /v1, Kind=Pod: quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'".into(),
            ..Default::default()
        };
        let input = DocumentInput {
            text,
            offset: 0,
            manifest: &manifest,
        };
        let found = diagnostics(&input, &run(Outcome::Rejected(status)), false);
        assert_eq!(found.len(), 1);
        assert_eq!(&text[found[0].range.clone()], "true");
        assert!(
            found[0]
                .message
                .starts_with("spec.containers[0].resources.requests.cpu: ")
        );
    }

    #[test]
    fn forbidden_is_one_diagnostic() {
        let status = ApiStatus {
            code: 403,
            reason: "Forbidden".into(),
            message: "pods \"web\" is forbidden: User \"u\" cannot patch resource \"pods\"".into(),
            ..Default::default()
        };
        let d = found(&run(Outcome::Rejected(status)));
        assert_eq!(d.len(), 1);
        assert_eq!((d[0].0.as_str(), d[0].1), ("web", DRY_RUN_FORBIDDEN));
        let webhook = ApiStatus {
            code: 403,
            message: "admission webhook \"x\" denied the request: no".into(),
            ..Default::default()
        };
        assert_eq!(found(&run(Outcome::Rejected(webhook)))[0].1, DRY_RUN_DENIED);
    }

    #[test]
    fn diff_on_changed_fields_and_summary() {
        let mut live = manifest();
        live["metadata"]["labels"] = json!({});
        live["metadata"]["resourceVersion"] = json!("7");
        let d = found(&run(Outcome::Applied {
            object: manifest(),
            live: Some(live),
        }));
        assert_eq!(d[0].1, DIFF_SUMMARY);
        assert_eq!(
            d[0].2,
            "would be configured: 1 field differs from the live object in context admin"
        );
        assert_eq!((d[1].0.as_str(), d[1].1), ("test", DIFF_CHANGED));
        assert_eq!(d[1].2, "metadata.labels.demo: live: (none) → test");
        let created = found(&run(Outcome::Applied {
            object: manifest(),
            live: None,
        }));
        assert_eq!(created[0].1, DIFF_CREATE);
        assert!(
            created[0].2.starts_with("would be created"),
            "{}",
            created[0].2
        );
        let unchanged = found(&run(Outcome::Applied {
            object: manifest(),
            live: Some(manifest()),
        }));
        assert_eq!(unchanged.len(), 1);
        assert_eq!(
            (unchanged[0].0.as_str(), unchanged[0].1),
            ("web", DIFF_UNCHANGED)
        );
        assert!(
            unchanged[0].2.starts_with("unchanged"),
            "{}",
            unchanged[0].2
        );
    }
}

//! The apiserver's ObjectMeta rules (k8s.io/apimachinery `validation`): object names by kind,
//! generateName, namespaces, label keys and values, annotation keys and their total size. Each
//! check returns the apiserver's own messages, so a diagnostic reads like the `kubectl apply`
//! error it prevents. Applied during the walk to every object's `metadata` (and to every other
//! ObjectMeta: a template's labels are checked too).

use std::ops::Range;

use super::walk::{Validator, key_range};
use crate::diagnostic::codes;
use crate::schema::store::ResourceInfo;
use crate::yaml::node::YamlNode;
use crate::yaml::syntax::NodeShape;

/// The schema of ObjectMeta.
pub(super) const OBJECT_META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";

/// How a kind's object names are validated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NameRule {
    /// RFC 1123 subdomain, at most 253 characters (most kinds, custom resources).
    Subdomain,
    /// RFC 1123 label, at most 63 characters (Namespace).
    Label,
    /// RFC 1035 label: starts with a letter (Service).
    Dns1035Label,
    /// Any path segment: not `.` or `..`, no `/` or `%` (RBAC roles and bindings).
    PathSegment,
    /// A subdomain of at most 52 characters (CronJob: its Jobs add 11).
    CronJob,
}

/// The rule the apiserver applies to names of `group` + `kind`.
pub fn name_rule(group: &str, kind: &str) -> NameRule {
    match (group, kind) {
        ("", "Namespace") => NameRule::Label,
        ("", "Service") => NameRule::Dns1035Label,
        (
            "rbac.authorization.k8s.io",
            "Role" | "ClusterRole" | "RoleBinding" | "ClusterRoleBinding",
        ) => NameRule::PathSegment,
        ("batch", "CronJob") => NameRule::CronJob,
        _ => NameRule::Subdomain,
    }
}

const DNS1123_LABEL_MAX: usize = 63;
const DNS1123_SUBDOMAIN_MAX: usize = 253;
const QUALIFIED_NAME_MAX: usize = 63;
const LABEL_VALUE_MAX: usize = 63;
const CRONJOB_NAME_MAX: usize = 52;
/// The apiserver's limit on all annotations of an object together (keys and values).
pub const TOTAL_ANNOTATION_SIZE: usize = 256 * 1024;

/// The messages for `name` (or, with `prefix`, a generateName) under `rule`.
pub fn check_name(rule: NameRule, name: &str, prefix: bool) -> Vec<String> {
    // generateName gets random characters appended: a trailing dash is fine there.
    let masked;
    let name = if prefix && name.len() > 1 && name.ends_with('-') {
        masked = format!("{}a", &name[..name.len() - 1]);
        masked.as_str()
    } else {
        name
    };
    match rule {
        NameRule::Subdomain => dns1123_subdomain(name),
        NameRule::Label => dns1123_label(name),
        NameRule::Dns1035Label => dns1035_label(name),
        NameRule::PathSegment if prefix => path_segment_prefix(name),
        NameRule::PathSegment => path_segment(name),
        NameRule::CronJob => {
            let mut errors = dns1123_subdomain(name);
            if !prefix && name.chars().count() > CRONJOB_NAME_MAX {
                errors.insert(0, max_len(CRONJOB_NAME_MAX));
            }
            errors
        }
    }
}

fn max_len(limit: usize) -> String {
    format!("must be no more than {limit} characters")
}

/// apimachinery's RegexError: the rule, examples and the regex.
fn regex_error(message: &str, regex: &str, examples: &[&str]) -> String {
    let examples: Vec<String> = examples.iter().map(|e| format!("'{e}', ")).collect();
    format!(
        "{message} (e.g. {}regex used for validation is '{regex}')",
        examples.join(" or ")
    )
}

fn is_lower_alnum(c: u8) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit()
}

fn is_alnum(c: u8) -> bool {
    c.is_ascii_alphanumeric()
}

/// `[a-z0-9]([-a-z0-9]*[a-z0-9])?`
fn is_dns1123_label(text: &str) -> bool {
    let bytes = text.as_bytes();
    !bytes.is_empty()
        && is_lower_alnum(bytes[0])
        && is_lower_alnum(bytes[bytes.len() - 1])
        && bytes.iter().all(|&c| is_lower_alnum(c) || c == b'-')
}

pub fn dns1123_label(text: &str) -> Vec<String> {
    let mut errors = Vec::new();
    if text.len() > DNS1123_LABEL_MAX {
        errors.push(max_len(DNS1123_LABEL_MAX));
    }
    if !is_dns1123_label(text) {
        errors.push(regex_error(
            "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character",
            "[a-z0-9]([-a-z0-9]*[a-z0-9])?",
            &["my-name", "123-abc"],
        ));
    }
    errors
}

pub fn dns1123_subdomain(text: &str) -> Vec<String> {
    let mut errors = Vec::new();
    if text.len() > DNS1123_SUBDOMAIN_MAX {
        errors.push(max_len(DNS1123_SUBDOMAIN_MAX));
    }
    if !text.split('.').all(is_dns1123_label) {
        errors.push(regex_error(
            "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character",
            "[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*",
            &["example.com"],
        ));
    }
    errors
}

pub fn dns1035_label(text: &str) -> Vec<String> {
    let mut errors = Vec::new();
    if text.len() > DNS1123_LABEL_MAX {
        errors.push(max_len(DNS1123_LABEL_MAX));
    }
    if !(is_dns1123_label(text) && text.as_bytes()[0].is_ascii_lowercase()) {
        errors.push(regex_error(
            "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character",
            "[a-z]([-a-z0-9]*[a-z0-9])?",
            &["my-name", "abc-123"],
        ));
    }
    errors
}

fn path_segment(text: &str) -> Vec<String> {
    if text == "." || text == ".." {
        return vec![format!("may not be '{text}'")];
    }
    path_segment_prefix(text)
}

fn path_segment_prefix(text: &str) -> Vec<String> {
    ["/", "%"]
        .iter()
        .filter(|illegal| text.contains(*illegal))
        .map(|illegal| format!("may not contain '{illegal}'"))
        .collect()
}

/// `([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]`
fn is_qualified_name_part(text: &str) -> bool {
    let bytes = text.as_bytes();
    !bytes.is_empty()
        && is_alnum(bytes[0])
        && is_alnum(bytes[bytes.len() - 1])
        && bytes
            .iter()
            .all(|&c| is_alnum(c) || matches!(c, b'-' | b'_' | b'.'))
}

const QUALIFIED_NAME_MESSAGE: &str = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const QUALIFIED_NAME_REGEX: &str = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";
const QUALIFIED_NAME_EXAMPLES: [&str; 3] = ["MyName", "my.name", "123-abc"];

/// A label key or annotation key: `[prefix/]name`.
pub fn qualified_name(text: &str) -> Vec<String> {
    let parts: Vec<&str> = text.split('/').collect();
    let mut errors = Vec::new();
    let name = match parts.as_slice() {
        [name] => *name,
        [prefix, name] => {
            if prefix.is_empty() {
                errors.push("prefix part must be non-empty".to_string());
            } else {
                errors.extend(
                    dns1123_subdomain(prefix)
                        .into_iter()
                        .map(|m| format!("prefix part {m}")),
                );
            }
            *name
        }
        _ => {
            return vec![format!(
                "a qualified name {} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
                regex_error(
                    QUALIFIED_NAME_MESSAGE,
                    QUALIFIED_NAME_REGEX,
                    &QUALIFIED_NAME_EXAMPLES
                )
            )];
        }
    };
    if name.is_empty() {
        errors.push("name part must be non-empty".to_string());
    } else {
        if name.len() > QUALIFIED_NAME_MAX {
            errors.push(format!("name part {}", max_len(QUALIFIED_NAME_MAX)));
        }
        if !is_qualified_name_part(name) {
            errors.push(format!(
                "name part {}",
                regex_error(
                    QUALIFIED_NAME_MESSAGE,
                    QUALIFIED_NAME_REGEX,
                    &QUALIFIED_NAME_EXAMPLES
                )
            ));
        }
    }
    errors
}

pub fn label_value(text: &str) -> Vec<String> {
    let mut errors = Vec::new();
    if text.len() > LABEL_VALUE_MAX {
        errors.push(max_len(LABEL_VALUE_MAX));
    }
    if !text.is_empty() && !is_qualified_name_part(text) {
        errors.push(regex_error(
            "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character",
            "(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?",
            &["MyValue", "my_value", "12345"],
        ));
    }
    errors
}

/// `Invalid value: "<value>": <message>`, as the apiserver words a cause.
pub fn invalid(value: &str, message: &str) -> String {
    let shown = serde_json::to_string(value).unwrap_or_default();
    format!("Invalid value: {shown}: {message}")
}

/// The rules of ObjectMeta, applied to an object's `metadata`.
impl Validator<'_> {
    /// `metadata.name` / `generateName` / `namespace` of a top-level object, by the rule of
    /// its kind. Create-only kinds (reviews: no `get` verb) need no name.
    pub(super) fn object_name<N: YamlNode>(
        &mut self,
        object: N,
        resource: &ResourceInfo,
        kind_range: Range<usize>,
    ) {
        let metadata = object.pair_of("metadata");
        let metadata_node = metadata
            .and_then(|(_, v)| v)
            .filter(|v| v.shape() == NodeShape::Mapping);
        let field = |name| metadata_node.and_then(|m| m.pair_of(name));
        let namespace = field("namespace");
        let name = field("name");
        let generate_name = field("generateName");
        let rule = name_rule(&resource.group, &resource.kind);
        let mut found_any = false;
        for (key, prefix) in [(generate_name, true), (name, false)] {
            let Some((_, value)) = key else { continue };
            let Some((text, range)) = self.string_value(value) else {
                continue;
            };
            if text.is_empty() {
                continue;
            }
            found_any = true;
            for message in check_name(rule, &text, prefix) {
                self.error(range.clone(), codes::INVALID, invalid(&text, &message));
            }
        }
        let create_only = !resource.verbs.is_empty() && !resource.verbs.iter().any(|v| v == "get");
        let from_action = match (metadata, metadata_node) {
            (_, Some(node)) => self.may_add_keys(node),
            (Some((key, _)), None) => self.value_from_action(&key_range(key)),
            (None, None) => false,
        };
        if !found_any && !create_only && !from_action {
            let at = name
                .map(|(k, _)| key_range(k))
                .or(metadata.map(|(k, _)| key_range(k)))
                .unwrap_or(kind_range);
            self.error(
                at,
                codes::REQUIRED,
                "Required value: name or generateName is required (metadata.name)".to_string(),
            );
        }
        if let Some((text, range)) = namespace.and_then(|(_, v)| self.string_value(v)) {
            for message in dns1123_label(&text) {
                self.error(range.clone(), codes::INVALID, invalid(&text, &message));
            }
        }
    }

    /// Label keys and values, annotation keys and the annotations' total size.
    pub(super) fn labels_and_annotations<N: YamlNode>(&mut self, metadata_node: N) {
        if let Some((_, Some(labels))) = metadata_node.pair_of("labels") {
            for pair in labels.pairs() {
                let Some(key) = pair.key else { continue };
                let Some(name) = key.text().filter(|n| n != "<<") else {
                    continue;
                };
                for message in qualified_name(&name) {
                    self.error(key_range(key), codes::INVALID, invalid(&name, &message));
                }
                if let Some((text, range)) = self.string_value(pair.value) {
                    for message in label_value(&text) {
                        self.error(range.clone(), codes::INVALID, invalid(&text, &message));
                    }
                }
            }
        }
        if let Some((annotations_key, Some(annotations))) = metadata_node.pair_of("annotations") {
            let mut total = 0;
            for pair in annotations.pairs() {
                let Some(key) = pair.key else { continue };
                let Some(name) = key.text().filter(|n| n != "<<") else {
                    continue;
                };
                total += name.len();
                for message in qualified_name(&name.to_lowercase()) {
                    self.error(key_range(key), codes::INVALID, invalid(&name, &message));
                }
                if let Some(value) = pair.value {
                    total += value.text().map_or(0, |t| t.len());
                }
            }
            if total > TOTAL_ANNOTATION_SIZE {
                self.error(
                    key_range(annotations_key),
                    codes::INVALID,
                    format!(
                        "Too long: may not be more than {} bytes (annotations hold {total})",
                        TOTAL_ANNOTATION_SIZE
                    ),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{POD, check, codes_at};
    use super::*;
    use crate::diagnostic::codes;

    #[test]
    fn names_follow_the_kind_rule() {
        assert!(check_name(NameRule::Subdomain, "web.example-1", false).is_empty());
        assert_eq!(
            check_name(NameRule::Subdomain, "x.com^2", false),
            [
                "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
            ]
        );
        assert_eq!(
            check_name(NameRule::Subdomain, &"a".repeat(254), false),
            ["must be no more than 253 characters"]
        );
        assert_eq!(check_name(NameRule::Label, "a.b", false).len(), 1);
        assert_eq!(check_name(NameRule::Dns1035Label, "1abc", false).len(), 1);
        assert!(check_name(NameRule::Label, "1abc", false).is_empty());
        assert!(check_name(NameRule::PathSegment, "system:Admin", false).is_empty());
        assert_eq!(
            check_name(NameRule::PathSegment, "a/b%", false),
            ["may not contain '/'", "may not contain '%'"]
        );
        assert_eq!(
            check_name(NameRule::PathSegment, "..", false),
            ["may not be '..'"]
        );
        assert_eq!(
            check_name(NameRule::CronJob, &"a".repeat(53), false),
            ["must be no more than 52 characters"]
        );
        // generateName: a trailing dash is allowed.
        assert!(check_name(NameRule::Subdomain, "web-", true).is_empty());
        assert_eq!(check_name(NameRule::Subdomain, "web-", false).len(), 1);
        assert_eq!(name_rule("", "Service"), NameRule::Dns1035Label);
    }

    #[test]
    fn label_keys_and_values() {
        assert!(qualified_name("app.kubernetes.io/name").is_empty());
        assert!(qualified_name("Owner_1").is_empty());
        assert_eq!(qualified_name("/a"), ["prefix part must be non-empty"]);
        assert_eq!(qualified_name("a/"), ["name part must be non-empty"]);
        assert!(qualified_name("Example.com/a")[0].starts_with("prefix part a lowercase RFC 1123"));
        assert!(qualified_name("a/b/c")[0].starts_with("a qualified name must consist"));
        assert!(qualified_name("-a")[0].starts_with("name part must consist"));
        assert!(label_value("").is_empty());
        assert!(label_value("my_value.1").is_empty());
        assert_eq!(
            label_value("_"),
            [
                "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
            ]
        );
        assert_eq!(
            label_value(&"a".repeat(64)),
            ["must be no more than 63 characters"]
        );
        assert_eq!(invalid("x\"y", "m"), "Invalid value: \"x\\\"y\": m");
    }

    #[test]
    fn metadata_rules_by_kind() {
        let found = codes_at(
            "apiVersion: v1\nkind: Service\nmetadata:\n  name: 1web\nspec:\n  ports: [{port: 80}]\n",
        );
        assert_eq!(found, [("1web".to_string(), codes::INVALID)]);
        let role = "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: system:Reader\n";
        assert_eq!(check(role), []);
        let generated = "apiVersion: batch/v1\nkind: Job\nmetadata:\n  generateName: pi-\nspec:\n  template:\n    spec:\n      restartPolicy: Never\n      containers: [{name: pi, image: perl}]\n";
        assert_eq!(check(generated), []);
        // Create-only kinds (reviews) need no name.
        let review = "apiVersion: authorization.k8s.io/v1\nkind: SelfSubjectAccessReview\nspec:\n  resourceAttributes: {verb: get, resource: pods}\n";
        assert_eq!(check(review), []);
        let found = codes_at(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  namespace: Team_A\n  labels:\n    -bad: ok\n  annotations:\n    example.com/a/b: x\n",
        );
        assert_eq!(
            found,
            [
                ("Team_A".to_string(), codes::INVALID),
                ("-bad".to_string(), codes::INVALID),
                ("example.com/a/b".to_string(), codes::INVALID)
            ]
        );
        // Labels of a template are checked too; its name is not required.
        let text = POD.replace("kind: Pod", "kind: PodTemplate").replace("spec:\n  containers", "template:\n  metadata:\n    labels: {app: -x}\n  spec:\n    containers").replace("\n  - name: web\n    image: nginx\n    ports:\n    - containerPort: 80\n    resources:\n      limits:\n        cpu: 500m\n        memory: 128Mi\n", "\n    - {name: web, image: nginx}\n");
        assert_eq!(codes_at(&text), [("-x".to_string(), codes::INVALID)]);
        let big = format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  annotations:\n    a: {}\n",
            "x".repeat(300 * 1024)
        );
        assert_eq!(
            codes_at(&big),
            [("annotations".to_string(), codes::INVALID)]
        );
    }
}

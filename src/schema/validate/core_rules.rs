//! Rules the apiserver applies to core types that their OpenAPI schema does not state: container
//! and port names, a pod's containers, ConfigMap/Secret keys, workload selectors that must match
//! their template's labels, the restart policies controllers allow, a Service's ports, a CRD's
//! name. Messages are the apiserver's.

use std::borrow::Cow;
use std::collections::BTreeMap;

use super::metadata::{self, dns1123_label};
use super::walk::{Validator, key_range};
use crate::diagnostic::codes;
use crate::schema::crd;
use crate::schema::store::ResourceInfo;
use crate::yaml::node::YamlNode;
use crate::yaml::scalar::Resolved;
use crate::yaml::syntax::NodeShape;

const PORT_NAME_MAX: usize = 15;
const CONFIG_KEY_MAX: usize = 253;

/// IANA_SVC_NAME: a container port's name, a Service's string `targetPort`.
pub fn port_name(text: &str) -> Vec<String> {
    let mut errors = Vec::new();
    if text.len() > PORT_NAME_MAX {
        errors.push(format!("must be no more than {PORT_NAME_MAX} characters"));
    }
    if !text
        .bytes()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
    {
        errors.push(
            "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)".to_string(),
        );
    }
    if text.contains("--") {
        errors.push("must not contain consecutive hyphens".to_string());
    }
    if !text.bytes().any(|c| c.is_ascii_alphabetic()) {
        errors.push("must contain at least one letter (a-z)".to_string());
    }
    if text.starts_with('-') || text.ends_with('-') {
        errors.push("must not begin or end with a hyphen".to_string());
    }
    errors
}

/// A container's name is an RFC 1123 label.
pub fn container_name(text: &str) -> Vec<String> {
    dns1123_label(text)
}

/// A key of a ConfigMap's or Secret's `data`, `binaryData` or `stringData`.
pub fn config_key(text: &str) -> Vec<String> {
    let mut errors = Vec::new();
    if text.len() > CONFIG_KEY_MAX {
        errors.push(format!("must be no more than {CONFIG_KEY_MAX} characters"));
    }
    if text.is_empty()
        || !text
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
    {
        errors.push("a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')".to_string());
    }
    if text == "." || text == ".." {
        errors.push(format!("must not be '{text}'"));
    } else if text.starts_with("..") {
        errors.push("must not start with '..'".to_string());
    }
    errors
}

/// The message when a workload's selector does not select its own template.
pub fn selector_mismatch(labels: &BTreeMap<String, String>) -> String {
    let shown: Vec<String> = labels.iter().map(|(k, v)| format!("{k:?}:{v:?}")).collect();
    format!(
        "Invalid value: map[string]string{{{}}}: `selector` does not match template `labels`",
        shown.join(", ")
    )
}

/// Whether a LabelSelector (`matchLabels` + `matchExpressions`) selects `labels`.
pub fn selects(
    match_labels: &BTreeMap<String, String>,
    expressions: &[(String, String, Vec<String>)],
    labels: &BTreeMap<String, String>,
) -> bool {
    let labels_ok = match_labels.iter().all(|(k, v)| labels.get(k) == Some(v));
    labels_ok
        && expressions.iter().all(|(key, operator, values)| {
            let value = labels.get(key);
            match operator.as_str() {
                "In" => value.is_some_and(|v| values.contains(v)),
                "NotIn" => value.is_none_or(|v| !values.contains(v)),
                "Exists" => value.is_some(),
                "DoesNotExist" => value.is_none(),
                // An unknown operator is the schema's business (enum); do not guess here.
                _ => true,
            }
        })
}

/// The restart policies a controller allows in its pod template.
fn restart_policies(resource: &ResourceInfo) -> Option<&'static [&'static str]> {
    match (resource.group.as_str(), resource.kind.as_str()) {
        ("batch", "Job" | "CronJob") => Some(&["OnFailure", "Never"]),
        ("apps", "Deployment" | "ReplicaSet" | "StatefulSet" | "DaemonSet")
        | ("", "ReplicationController") => Some(&["Always"]),
        _ => None,
    }
}

/// Workloads whose `spec.selector` must select `spec.template.metadata.labels`.
fn has_template_selector(resource: &ResourceInfo) -> bool {
    matches!(
        (resource.group.as_str(), resource.kind.as_str()),
        (
            "apps",
            "Deployment" | "ReplicaSet" | "StatefulSet" | "DaemonSet"
        ) | ("", "ReplicationController")
    )
}

/// Rules of core types that their schema does not state.
impl Validator<'_> {
    fn invalid_each<N: YamlNode>(&mut self, node: Option<N>, check: fn(&str) -> Vec<String>) {
        if let Some((text, range)) = self.string_value(node) {
            for message in check(&text) {
                self.error(
                    range.clone(),
                    codes::INVALID,
                    metadata::invalid(&text, &message),
                );
            }
        }
    }

    /// Names of containers and ports, a pod's empty container list.
    pub(super) fn core_type_rules<N: YamlNode>(&mut self, node: N, schema_name: &str) {
        let value = |name| node.pair_of(name).and_then(|(_, v)| v);
        let (name, target_port) = (value("name"), value("targetPort"));
        match schema_name {
            "io.k8s.api.core.v1.Container" | "io.k8s.api.core.v1.EphemeralContainer" => {
                self.invalid_each(name, container_name);
            }
            "io.k8s.api.core.v1.ContainerPort" => {
                self.invalid_each(name, port_name);
            }
            "io.k8s.api.core.v1.ServicePort" => {
                self.invalid_each(name, metadata::dns1123_label);
                self.invalid_each(target_port, port_name);
            }
            "io.k8s.api.core.v1.PodSpec" => {
                if let Some((key, Some(list))) = node.pair_of("containers") {
                    let empty = list.shape() == NodeShape::Sequence && list.items().is_empty();
                    if empty {
                        self.error(
                            key_range(key),
                            codes::REQUIRED,
                            "Required value: a pod needs at least one container".to_string(),
                        );
                    }
                }
            }
            _ => {}
        }
    }

    /// Rules about a whole object: ConfigMap and Secret keys, workload selectors.
    pub(super) fn object_rules<N: YamlNode>(&mut self, object: N, resource: &ResourceInfo) {
        if resource.group.is_empty() && matches!(resource.kind.as_str(), "ConfigMap" | "Secret") {
            for map in ["data", "binaryData", "stringData"] {
                let Some((_, Some(entries))) = object.pair_of(map) else {
                    continue;
                };
                for key in entries.pairs().into_iter().filter_map(|p| p.key) {
                    let Some(name) = key.text().filter(|n| n != "<<") else {
                        continue;
                    };
                    for message in config_key(&name) {
                        self.error(
                            key_range(key),
                            codes::INVALID,
                            metadata::invalid(&name, &message),
                        );
                    }
                }
            }
        }
        if has_template_selector(resource) {
            self.template_selector(object, resource.group.is_empty());
        }
        if crd::is_crd(&resource.api_version(), &resource.kind) {
            self.crd_name(object);
        }
        if let Some(allowed) = restart_policies(resource) {
            let path: &[&str] = if resource.kind == "CronJob" {
                &["spec", "jobTemplate", "spec", "template", "spec"]
            } else {
                &["spec", "template", "spec"]
            };
            self.restart_policy(object, path, allowed);
        }
        if resource.group.is_empty() && resource.kind == "Service" {
            self.service_ports(object);
        }
    }

    /// The mapping at `path` below `node`, with the key that holds it.
    fn mapping_at<N: YamlNode>(&self, node: N, path: &[&str]) -> Option<(N, N)> {
        let mut current = (node, node);
        for key in path {
            let (k, v) = current.1.pair_of(key)?;
            current = (k, v.filter(|v| v.shape() == NodeShape::Mapping)?);
        }
        Some(current)
    }

    /// A pod template's restartPolicy as its controller requires it (default `Always`).
    fn restart_policy<N: YamlNode>(&mut self, object: N, path: &[&str], allowed: &[&str]) {
        let Some((spec_key, pod_spec)) = self.mapping_at(object, path) else {
            return;
        };
        let supported = allowed
            .iter()
            .map(|v| format!("\"{v}\""))
            .collect::<Vec<_>>()
            .join(", ");
        match pod_spec.pair_of("restartPolicy") {
            Some((key, value)) => {
                let Some((text, range)) = self.string_value(value) else {
                    return;
                };
                if !allowed.contains(&text.as_str()) {
                    let at = if text.is_empty() { key_range(key) } else { range };
                    self.error(
                        at,
                        codes::INVALID,
                        format!("Unsupported value: \"{text}\": supported values: {supported}"),
                    );
                }
            }
            None if !allowed.contains(&"Always") => self.error(
                key_range(spec_key),
                codes::REQUIRED,
                format!("Required value: restartPolicy: valid values: {supported} (the default, Always, is not allowed here)"),
            ),
            None => {}
        }
    }

    /// A Service needs ports unless it is ExternalName (which needs externalName) or headless.
    fn service_ports<N: YamlNode>(&mut self, service: N) {
        let Some((spec_key, spec)) = self.mapping_at(service, &["spec"]) else {
            return;
        };
        let text = |name| {
            spec.pair_of(name)
                .and_then(|(_, v)| self.string_value(v))
                .map(|(t, _)| t)
        };
        let (service_type, cluster_ip) = (text("type"), text("clusterIP"));
        if service_type.as_deref() == Some("ExternalName") {
            if text("externalName").is_none_or(|name| name.is_empty()) {
                self.error(
                    key_range(spec_key),
                    codes::REQUIRED,
                    "Required value: spec.externalName (a Service of type ExternalName)"
                        .to_string(),
                );
            }
            return;
        }
        if cluster_ip.as_deref() == Some("None") {
            return;
        }
        let ports = spec.pair_of("ports");
        let empty = match ports {
            None => true,
            Some((_, Some(list))) => list.shape() == NodeShape::Sequence && list.items().is_empty(),
            Some((_, None)) => true,
        };
        if empty {
            let at = ports.map_or_else(|| key_range(spec_key), |(k, _)| key_range(k));
            self.error(
                at,
                codes::REQUIRED,
                "Required value: spec.ports (only headless and ExternalName Services may have none)"
                    .to_string(),
            );
        }
    }

    /// A CRD's name is `<spec.names.plural>.<spec.group>`.
    fn crd_name<N: YamlNode>(&mut self, crd: N) {
        let metadata = crd.pair_of("metadata").and_then(|(_, v)| v);
        let name = metadata
            .and_then(|m| m.pair_of("name"))
            .and_then(|(_, v)| v);
        let Some((name, range)) = self.string_value(name) else {
            return;
        };
        let spec = crd.pair_of("spec").and_then(|(_, v)| v);
        let text_at = |node: Option<N>, key| {
            node.and_then(|n| n.pair_of(key))
                .and_then(|(_, v)| self.string_value(v))
                .map(|(text, _)| text)
        };
        let names = spec.and_then(|s| s.pair_of("names")).and_then(|(_, v)| v);
        let (Some(plural), Some(group)) = (text_at(names, "plural"), text_at(spec, "group")) else {
            return;
        };
        if name != format!("{plural}.{group}") {
            self.error(
                range,
                codes::INVALID,
                metadata::invalid(&name, "must be spec.names.plural+\".\"+spec.group"),
            );
        }
    }

    /// `spec.selector` must select `spec.template.metadata.labels` (the apiserver's
    /// "selector does not match template labels"). ReplicationController's selector is a plain map.
    fn template_selector<N: YamlNode>(&mut self, object: N, plain_map: bool) {
        let Some((_, Some(spec))) = object.pair_of("spec") else {
            return;
        };
        let Some((_, Some(selector))) = spec.pair_of("selector") else {
            return;
        };
        let Some((template_key, Some(template))) = spec.pair_of("template") else {
            return;
        };
        let (match_labels, expressions) = if plain_map {
            (self.string_map(Some(selector)), Vec::new())
        } else {
            let labels = selector.pair_of("matchLabels").and_then(|(_, v)| v);
            let Some(expressions) = self.expressions(selector) else {
                return;
            };
            (self.string_map(labels), expressions)
        };
        let Some(match_labels) = match_labels else {
            return;
        };
        if match_labels.is_empty() && expressions.is_empty() {
            return;
        }
        let metadata = template.pair_of("metadata").and_then(|(_, v)| v);
        let labels_entry = metadata.and_then(|m| m.pair_of("labels"));
        let labels = match labels_entry {
            Some((_, value)) => self.string_map(value),
            None => Some(Default::default()),
        };
        let Some(labels) = labels else { return };
        if !selects(&match_labels, &expressions, &labels) {
            let at = labels_entry.map_or_else(|| key_range(template_key), |(k, _)| key_range(k));
            self.error(at, codes::INVALID, selector_mismatch(&labels));
        }
    }

    /// A mapping of plain strings (None when it holds anything else: no guessing).
    fn string_map<N: YamlNode>(
        &self,
        node: Option<N>,
    ) -> Option<std::collections::BTreeMap<String, String>> {
        let Some(node) = node else {
            return Some(Default::default());
        };
        match node.shape() {
            NodeShape::Empty => return Some(Default::default()),
            NodeShape::Mapping => {}
            _ => return None,
        }
        node.pairs()
            .into_iter()
            .map(|pair| {
                let key = pair.key?.text()?.into_owned();
                let value = match pair.value {
                    None => String::new(),
                    Some(value) => match self.resolve(value)? {
                        Resolved::String(text) => text,
                        _ => return None,
                    },
                };
                Some((key, value))
            })
            .collect()
    }

    /// `matchExpressions` as (key, operator, values); None when any entry is not plain.
    fn expressions<N: YamlNode>(&self, selector: N) -> Option<Vec<(String, String, Vec<String>)>> {
        let Some((_, Some(list))) = selector.pair_of("matchExpressions") else {
            return Some(Vec::new());
        };
        list.items()
            .into_iter()
            .map(|item| {
                let item = item?;
                let text = |name| {
                    item.pair_of(name)
                        .and_then(|(_, v)| v)
                        .and_then(|v| v.text())
                        .map(Cow::into_owned)
                };
                let values = match item.pair_of("values").and_then(|(_, v)| v) {
                    Some(values) => values
                        .items()
                        .into_iter()
                        .map(|v| Some(v?.text()?.into_owned()))
                        .collect::<Option<Vec<_>>>()?,
                    None => Vec::new(),
                };
                Some((text("key")?, text("operator")?, values))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{POD, check, codes_at};
    use super::*;
    use crate::diagnostic::codes;

    #[test]
    fn port_and_container_names() {
        assert!(port_name("http-metrics").is_empty());
        assert_eq!(
            port_name("metrics-endpoint-1"),
            ["must be no more than 15 characters"]
        );
        assert_eq!(
            port_name("8080"),
            ["must contain at least one letter (a-z)"]
        );
        assert_eq!(
            port_name("Http"),
            ["must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)"]
        );
        assert_eq!(port_name("a--b"), ["must not contain consecutive hyphens"]);
        assert!(container_name("web-1").is_empty());
        assert_eq!(container_name("web_1").len(), 1);
    }

    #[test]
    fn config_keys() {
        assert!(config_key("app.properties").is_empty());
        assert!(config_key("KEY_NAME-1").is_empty());
        assert_eq!(config_key("a/b").len(), 1);
        assert_eq!(config_key(".."), ["must not be '..'"]);
        assert_eq!(config_key("..a"), ["must not start with '..'"]);
    }

    #[test]
    fn selectors() {
        let labels: BTreeMap<String, String> = [
            ("app".to_string(), "web".to_string()),
            ("tier".to_string(), "fe".to_string()),
        ]
        .into();
        let wanted: BTreeMap<String, String> = [("app".to_string(), "web".to_string())].into();
        assert!(selects(&wanted, &[], &labels));
        let other: BTreeMap<String, String> = [("app".to_string(), "api".to_string())].into();
        assert!(!selects(&other, &[], &labels));
        let expression = ("tier".to_string(), "In".to_string(), vec!["be".to_string()]);
        assert!(!selects(&wanted, &[expression], &labels));
        assert_eq!(
            selector_mismatch(&labels),
            "Invalid value: map[string]string{\"app\":\"web\", \"tier\":\"fe\"}: `selector` does not match template `labels`"
        );
    }

    #[test]
    fn core_type_rules() {
        let text = POD.replace("  - name: web\n", "  - name: Web_1\n").replace(
            "    - containerPort: 80\n",
            "    - containerPort: 80\n      name: metrics-endpoint-1\n",
        );
        assert_eq!(
            codes_at(&text),
            [
                ("Web_1".to_string(), codes::INVALID),
                ("metrics-endpoint-1".to_string(), codes::INVALID)
            ]
        );
        let empty = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: []\n";
        assert_eq!(
            codes_at(empty),
            [("containers".to_string(), codes::REQUIRED)]
        );
        let secret = "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata:\n  good: aGVsbG8=\n  bad: hello!\n  a/b: eA==\n";
        let found = check(secret);
        assert_eq!(found.len(), 2, "{found:?}");
        assert_eq!((found[0].0.as_str(), found[0].1), ("hello!", codes::FORMAT));
        assert!(found[0].2.ends_with("illegal base64 data at input byte 5"));
        assert_eq!((found[1].0.as_str(), found[1].1), ("a/b", codes::INVALID));
        let deployment = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  selector:\n    matchLabels: {app: web}\n    matchExpressions: [{key: tier, operator: In, values: [fe]}]\n  template:\n    metadata:\n      labels: {app: web, tier: be}\n    spec:\n      containers: [{name: w, image: nginx}]\n";
        let found = check(deployment);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].0, "labels");
        assert!(
            found[0]
                .2
                .ends_with("`selector` does not match template `labels`")
        );
        assert_eq!(check(&deployment.replace("tier: be", "tier: fe")), []);
        let port = POD.replace("containerPort: 80", "containerPort: 99999999999");
        assert_eq!(codes_at(&port), [("99999999999".to_string(), codes::TYPE)]);
        let timestamp = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  creationTimestamp: yesterday\n";
        assert_eq!(
            codes_at(timestamp),
            [("yesterday".to_string(), codes::FORMAT)]
        );
        let crd = "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: widget.example.com}\nspec:\n  group: example.com\n  names: {kind: Widget, plural: widgets}\n  scope: Namespaced\n  versions: [{name: v1, served: true, storage: true, schema: {openAPIV3Schema: {type: object}}}]\n";
        assert_eq!(
            codes_at(crd),
            [("widget.example.com".to_string(), codes::INVALID)]
        );
        assert_eq!(check(&crd.replace("widget.", "widgets.")), []);
    }

    #[test]
    fn controllers_restart_policies_and_service_ports() {
        let job = "apiVersion: batch/v1\nkind: Job\nmetadata: {name: j}\nspec:\n  template:\n    spec:\n      containers: [{name: c, image: busybox}]\n";
        let found = check(job);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!((found[0].0.as_str(), found[0].1), ("spec", codes::REQUIRED));
        assert!(
            found[0].2.contains("\"OnFailure\", \"Never\""),
            "{}",
            found[0].2
        );
        let always = job.replace(
            "    spec:\n      containers",
            "    spec:\n      restartPolicy: Always\n      containers",
        );
        assert_eq!(codes_at(&always), [("Always".to_string(), codes::INVALID)]);
        let deployment = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  selector: {matchLabels: {a: b}}\n  template:\n    metadata: {labels: {a: b}}\n    spec:\n      restartPolicy: Never\n      containers: [{name: c, image: nginx}]\n";
        assert_eq!(
            codes_at(deployment),
            [("Never".to_string(), codes::INVALID)]
        );
        let service =
            "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec:\n  selector: {a: b}\n";
        assert_eq!(codes_at(service), [("spec".to_string(), codes::REQUIRED)]);
        assert_eq!(check(&format!("{service}  clusterIP: None\n")), []);
        let external =
            "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec:\n  type: ExternalName\n";
        assert_eq!(codes_at(external), [("spec".to_string(), codes::REQUIRED)]);
        assert_eq!(
            check(&format!("{external}  externalName: db.example.com\n")),
            []
        );
    }
}

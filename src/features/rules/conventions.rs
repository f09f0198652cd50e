//! Rules about how an object is written: ServiceAccount fields, duplicate variables, port names,
//! selectors against the template's labels, removed API versions, namespaces, required labels and
//! annotations, key order.

use std::sync::LazyLock;

use regex::Regex;

use super::object::Node;
use super::{Ctx, label_selector, map_selector};
use crate::diagnostic::codes;
use crate::workspace::document::Labels;

pub fn check(ctx: &mut Ctx<'_>) {
    let object = ctx.object;
    api_version(ctx);
    if ctx.on(codes::SORTED_KEYS) {
        sorted_keys(ctx, object.root, &mut Vec::new());
    }
    if object.kind == "Service" {
        service_target_ports(ctx);
    }
    if !object.is_deployment_like() {
        if object.kind == "Service" {
            namespace(ctx);
        }
        return;
    }
    namespace(ctx);
    owner_and_email(ctx);
    selector(ctx);
    let Some(pod) = object.pod() else { return };
    let account = pod
        .spec
        .get("serviceAccountName")
        .filter(|n| n.text().is_some());
    let deprecated = pod
        .spec
        .entry("serviceAccount")
        .filter(|(_, v)| v.text().is_some());
    if let Some((key, value)) = deprecated {
        ctx.report(
            codes::DEPRECATED_SERVICE_ACCOUNT_FIELD,
            key.range(),
            format!(
                "serviceAccount ({}) is deprecated: use serviceAccountName",
                value.text().unwrap_or_default()
            ),
        );
    }
    let used = account.or(deprecated.map(|(_, v)| v));
    let name = used.and_then(|n| n.text()).unwrap_or("");
    if name.is_empty() || name == "default" {
        let at = used.map_or_else(|| object.anchor(), |n| n.inner_range());
        ctx.report(
            codes::DEFAULT_SERVICE_ACCOUNT,
            at,
            "the Pods run as the namespace's default ServiceAccount",
        );
    }
    for container in pod.all_containers() {
        let mut seen: Vec<&str> = Vec::new();
        for (item, variable) in container.env() {
            if seen.contains(&variable) {
                let at = item.get("name").map_or(item.range(), |n| n.inner_range());
                ctx.report(
                    codes::DUPLICATE_ENV_VAR,
                    at,
                    format!("environment variable {variable} of container \"{}\" is set twice; the last one wins", container.name()),
                );
            } else {
                seen.push(variable);
            }
        }
        for port in container.ports() {
            let Some(name) = port.node.get("name").filter(|n| n.text().is_some()) else {
                continue;
            };
            for problem in port_name_problems(name.text().unwrap_or_default()) {
                ctx.report(
                    codes::INVALID_TARGET_PORTS,
                    name.inner_range(),
                    format!(
                        "port name \"{}\" of container \"{}\" {problem}",
                        name.text().unwrap_or_default(),
                        container.name()
                    ),
                );
            }
        }
    }
}

fn api_version(ctx: &mut Ctx<'_>) {
    let object = ctx.object;
    let version = object.api_version.rsplit('/').next().unwrap_or("");
    if object.group() == "extensions"
        && version.starts_with("v1beta")
        && version.len() > "v1beta".len()
    {
        let at = object
            .root
            .get("apiVersion")
            .map_or_else(|| object.anchor(), |v| v.inner_range());
        ctx.report(
            codes::NO_EXTENSIONS_V1BETA,
            at,
            format!(
                "{} {}: the extensions/v1beta API group was removed in Kubernetes 1.16 and 1.22",
                object.api_version, object.kind
            ),
        );
    }
}

fn namespace(ctx: &mut Ctx<'_>) {
    let object = ctx.object;
    let namespace = object.metadata.and_then(|m| m.get("namespace"));
    match namespace.and_then(|n| n.text()) {
        Some("default") => {
            let at = namespace.map_or_else(|| object.anchor(), |n| n.inner_range());
            ctx.report(
                codes::USE_NAMESPACE,
                at,
                "the object is in the default namespace",
            );
        }
        None => ctx.report(
            codes::USE_NAMESPACE,
            object.anchor(),
            "the object names no namespace: it lands in the default one unless applied elsewhere",
        ),
        Some(_) => {}
    }
}

fn owner_and_email(ctx: &mut Ctx<'_>) {
    static EMAIL: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^[a-zA-Z0-9_.+-]+@[a-zA-Z0-9-]+\.[a-zA-Z0-9-.]+$").expect("valid")
    });
    let object = ctx.object;
    let at = |field: &str| {
        object
            .metadata
            .and_then(|m| m.key_range(field))
            .unwrap_or_else(|| object.anchor())
    };
    if !object.map("labels").iter().any(|(key, _)| *key == "owner") {
        ctx.report(codes::REQUIRED_LABEL_OWNER, at("labels"), "no owner label");
    }
    let annotations = object.map("annotations");
    if !annotations
        .iter()
        .any(|(key, value)| *key == "email" && EMAIL.is_match(value))
    {
        ctx.report(
            codes::REQUIRED_ANNOTATION_EMAIL,
            at("annotations"),
            "no email annotation with an e-mail address",
        );
    }
}

/// kube-linter's `mismatching-selector`: the selector must select the Pod template's labels.
fn selector(ctx: &mut Ctx<'_>) {
    let object = ctx.object;
    let Some(spec) = object.spec() else { return };
    let node = match object.kind {
        "CronJob" => spec.at(&["jobTemplate", "spec", "selector"]),
        _ => spec.get("selector"),
    };
    let Some(node) = node.filter(|n| n.is_mapping()) else {
        return;
    };
    let selector = match object.kind {
        "DeploymentConfig" | "ReplicationController" => map_selector(node),
        _ => label_selector(node),
    };
    let Some(selector) = selector else { return };
    let labels: Labels = object
        .pod()
        .map(|p| p.labels())
        .unwrap_or_default()
        .into_iter()
        .collect();
    if !selector.matches(&labels) {
        let at = match object.kind {
            "CronJob" => spec
                .at(&["jobTemplate", "spec"])
                .and_then(|s| s.key_range("selector")),
            _ => spec.key_range("selector"),
        };
        ctx.report(
            codes::MISMATCHING_SELECTOR,
            at.unwrap_or_else(|| object.anchor()),
            "the selector does not match the Pod template's labels",
        );
    }
}

fn service_target_ports(ctx: &mut Ctx<'_>) {
    let Some(spec) = ctx.object.spec() else {
        return;
    };
    for port in spec.get("ports").iter().flat_map(Node::items) {
        let Some(target) = port.get("targetPort") else {
            continue;
        };
        let problems = match (target.integer(), target.string()) {
            (Some(0), _) => Vec::new(),
            (Some(n), _) if !(1..=65535).contains(&n) => {
                vec!["must be between 1 and 65535".to_string()]
            }
            (None, Some(name)) => port_name_problems(name),
            _ => Vec::new(),
        };
        for problem in problems {
            ctx.report(
                codes::INVALID_TARGET_PORTS,
                target.inner_range(),
                format!("targetPort {} {problem}", target.text().unwrap_or_default()),
            );
        }
    }
}

/// What breaks the IANA service name rules Kubernetes applies to port names.
pub fn port_name_problems(name: &str) -> Vec<String> {
    let mut problems = Vec::new();
    if name.is_empty() || name.len() > 15 {
        problems.push("must be 1 to 15 characters long".to_string());
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        problems.push("must contain only lowercase letters, digits and '-'".to_string());
    }
    if name.contains("--") {
        problems.push("must not contain two dashes in a row".to_string());
    }
    if name.starts_with('-') || name.ends_with('-') {
        problems.push("must not begin or end with '-'".to_string());
    }
    if !name.bytes().any(|b| b.is_ascii_alphabetic()) {
        problems.push("must contain at least one letter".to_string());
    }
    problems
}

/// A step of the path to a node.
enum Step<'t> {
    Key(&'t str),
    Item(usize),
}

/// kube-linter's `sorted-keys`: every mapping's keys in alphabetical (byte) order.
fn sorted_keys<'t>(ctx: &mut Ctx<'_>, node: Node<'t>, path: &mut Vec<Step<'t>>) {
    if node.is_mapping() {
        let pairs: Vec<(Node<'t>, Node<'t>)> = node.pairs().collect();
        let keys: Vec<&str> = pairs.iter().map(|(k, _)| k.text().unwrap_or("")).collect();
        if let Some(first) = keys.windows(2).position(|w| w[0] > w[1]) {
            let mut sorted = keys.clone();
            sorted.sort_unstable();
            ctx.report(
                codes::SORTED_KEYS,
                pairs[first + 1].0.range(),
                format!(
                    "keys at {} are not sorted: expected [{}], got [{}]",
                    path_text(path),
                    sorted.join(", "),
                    keys.join(", ")
                ),
            );
        }
        for ((_, value), key) in pairs.iter().zip(keys) {
            path.push(Step::Key(key));
            sorted_keys(ctx, *value, path);
            path.pop();
        }
    } else {
        for (index, item) in node.items().enumerate() {
            path.push(Step::Item(index));
            sorted_keys(ctx, item, path);
            path.pop();
        }
    }
}

fn path_text(path: &[Step<'_>]) -> String {
    let mut text = String::new();
    for step in path {
        match step {
            Step::Key(key) if text.is_empty() => text.push_str(key),
            Step::Key(key) => {
                text.push('.');
                text.push_str(key);
            }
            Step::Item(index) => text.push_str(&format!("[{index}]")),
        }
    }
    if text.is_empty() {
        text.push_str("root");
    }
    text
}

//! Reliability rules that read one object: probes and the ports they target, resources,
//! replicas and their spreading, update strategies, autoscaler and disruption budget settings,
//! Jobs' clean-up, restart policies, priority classes, DNS options, node affinity, image tags.

use super::Ctx;
use super::fix::{self, Leaf};
use super::object::{Container, Node, Pod};
use crate::diagnostic::codes::{self, Code};
use crate::workspace::document::{Labels, Selector};

/// kube-linter's `latest-tag` block list, whose patterns are `.*:(latest)$` (a `latest` tag),
/// `^[^:]*$` (no tag at all) and `(.*/[^:]+)$` (a `/` followed by at least one character and
/// no `:` up to the end), matched by hand: compiling those regexes was most of the rules' work
/// on a small file, and brought the regex engine's code into memory.
fn is_blocked_image(image: &str) -> bool {
    let after_last_colon = image.rfind(':').map_or(image, |at| &image[at + 1..]);
    let mut but_its_last_character = after_last_colon.chars();
    but_its_last_character.next_back();
    image.ends_with(":latest")
        || !image.contains(':')
        || but_its_last_character.as_str().contains('/')
}

const ACCEPTED_RESTART_POLICIES: [&str; 2] = ["Always", "OnFailure"];
const ACCEPTED_PRIORITY_CLASSES: [&str; 2] = ["system-cluster-critical", "system-node-critical"];

pub fn check(ctx: &mut Ctx<'_>) {
    let object = ctx.object;
    replicas(ctx);
    if let Some(pod) = object.pod() {
        pod_settings(ctx, pod);
        for container in pod.containers() {
            probes(ctx, container);
            resources(ctx, container);
        }
        for container in pod.all_containers() {
            image(ctx, container);
        }
    }
    match object.kind {
        "HorizontalPodAutoscaler" => autoscaler(ctx),
        "PodDisruptionBudget" => disruption_budget(ctx),
        "Job" | "CronJob" if object.group() == "batch" => job_ttl(ctx),
        _ => {}
    }
}

fn replicas(ctx: &mut Ctx<'_>) {
    let object = ctx.object;
    let Some((replicas, node)) = object.replicas() else {
        return;
    };
    let at = node.map_or_else(|| object.anchor(), |n| n.range());
    if replicas < 3 {
        ctx.report_fix(
            codes::MINIMUM_THREE_REPLICAS,
            at.clone(),
            format!("{replicas} replica(s): fewer than 3 leave no room for a node failure during an update"),
            "Set replicas: 3",
            || object.spec().and_then(|spec| fix::set(spec, &["replicas"], Leaf::Scalar("3"))),
        );
    }
    if replicas >= 2 {
        anti_affinity(ctx, replicas, at);
    }
    let (field, accepted) = match object.kind {
        "Deployment" => ("strategy", "RollingUpdate"),
        "DeploymentConfig" => ("strategy", "Rolling"),
        _ => ("updateStrategy", "RollingUpdate"),
    };
    if let Some(kind) = object.spec().and_then(|s| s.at(&[field, "type"])) {
        let text = kind.text().unwrap_or_default();
        if !matches!(text, "RollingUpdate" | "Rolling") {
            ctx.report(
                codes::NO_ROLLING_UPDATE_STRATEGY,
                kind.inner_range(),
                format!("update strategy {text}: not a rolling update ({accepted})"),
            );
        }
    }
}

/// kube-linter's `no-anti-affinity`: with several replicas, a preferred or required
/// anti-affinity term must cover the Pods' own labels and namespace, by hostname.
fn anti_affinity(ctx: &mut Ctx<'_>, replicas: i64, at: std::ops::Range<usize>) {
    let object = ctx.object;
    let Some(pod) = object.pod() else { return };
    let Some(anti) = pod.spec.at(&["affinity", "podAntiAffinity"]) else {
        ctx.report(
            codes::NO_ANTI_AFFINITY,
            at,
            format!("{replicas} replicas but no pod anti-affinity: they may all land on one node"),
        );
        return;
    };
    let namespace = object.namespace().unwrap_or("");
    let labels: Labels = pod.labels().into_iter().collect();
    let preferred = anti
        .get("preferredDuringSchedulingIgnoredDuringExecution")
        .into_iter()
        .flat_map(|n| n.items())
        .filter_map(|term| term.get("podAffinityTerm"));
    let required = anti
        .get("requiredDuringSchedulingIgnoredDuringExecution")
        .into_iter()
        .flat_map(|n| n.items());
    let mut problems = Vec::new();
    for term in preferred.chain(required) {
        match term_problem(term, namespace, &labels) {
            None => return,
            Some(problem) => problems.push((term.range(), problem)),
        }
    }
    if problems.is_empty() {
        ctx.report(
            codes::NO_ANTI_AFFINITY,
            at,
            format!("{replicas} replicas but podAntiAffinity has no preferred or required term"),
        );
    }
    for (range, problem) in problems {
        ctx.report(codes::NO_ANTI_AFFINITY, range, problem);
    }
}

/// Why an anti-affinity term does not spread these Pods, if it does not.
fn term_problem(term: Node<'_>, namespace: &str, labels: &Labels) -> Option<String> {
    let namespaces: Vec<&str> = term
        .get("namespaces")
        .iter()
        .flat_map(Node::items)
        .filter_map(|n| n.text())
        .collect();
    if !namespaces.is_empty() && !namespaces.contains(&namespace) {
        return Some(format!(
            "the Pods' namespace \"{namespace}\" is not among the anti-affinity term's namespaces [{}]",
            namespaces.join(", ")
        ));
    }
    let topology = term.get("topologyKey").and_then(|t| t.text()).unwrap_or("");
    if topology != "kubernetes.io/hostname" {
        return Some(format!(
            "the anti-affinity term's topologyKey is \"{topology}\", not kubernetes.io/hostname"
        ));
    }
    let selector = term
        .get("labelSelector")
        .and_then(|s| Selector::from_label_selector(s.0));
    match selector {
        Some(selector) if selector.matches(labels) && !selector.is_empty() => None,
        _ => Some(
            "the anti-affinity term's labelSelector does not select the Pods' own labels"
                .to_string(),
        ),
    }
}

fn pod_settings(ctx: &mut Ctx<'_>, pod: Pod<'_>) {
    let anchor = ctx.object.anchor();
    if let Some(policy) = pod.spec.get("restartPolicy").filter(|p| p.text().is_some()) {
        let text = policy.text().unwrap_or_default();
        if !ACCEPTED_RESTART_POLICIES.contains(&text) {
            ctx.report(
                codes::RESTART_POLICY,
                policy.inner_range(),
                format!("restartPolicy {text}: only Always or OnFailure restart failed containers"),
            );
        }
    }
    if let Some(class) = pod
        .spec
        .get("priorityClassName")
        .filter(|p| p.text().is_some())
    {
        let text = class.text().unwrap_or_default();
        if !ACCEPTED_PRIORITY_CLASSES.contains(&text) {
            ctx.report(
                codes::PRIORITY_CLASS_NAME,
                class.inner_range(),
                format!(
                    "priority class \"{text}\" is not one of the accepted ones ({})",
                    ACCEPTED_PRIORITY_CLASSES.join(", ")
                ),
            );
        }
    }
    match pod.spec.entry("dnsConfig") {
        None => ctx.report(
            codes::DNSCONFIG_OPTIONS,
            anchor.clone(),
            "no dnsConfig: the Pods get the cluster's DNS options (ndots: 5)",
        ),
        Some((key, config)) => {
            let options: Vec<Node<'_>> =
                config.get("options").iter().flat_map(Node::items).collect();
            if options.is_empty() {
                ctx.report(
                    codes::DNSCONFIG_OPTIONS,
                    key.range(),
                    "dnsConfig sets no options",
                );
            } else if !options.iter().any(|o| {
                o.get("name").and_then(|n| n.text()) == Some("ndots")
                    && o.get("value").and_then(|v| v.text()) == Some("2")
            }) {
                ctx.report(
                    codes::DNSCONFIG_OPTIONS,
                    key.range(),
                    "dnsConfig does not set the option ndots: \"2\"",
                );
            }
        }
    }
    if pod.spec.at(&["affinity", "nodeAffinity"]).is_none() {
        ctx.report(
            codes::NO_NODE_AFFINITY,
            anchor,
            "no node affinity: the Pods may run on any node",
        );
    }
}

fn probes(ctx: &mut Ctx<'_>, container: Container<'_>) {
    let name = container.name();
    let ports = container.ports();
    // The port a probe skeleton targets: the first named TCP port, else the first TCP port.
    let tcp = ports.iter().filter(|p| p.protocol == "TCP");
    let target = tcp
        .clone()
        .find_map(|p| p.name.map(str::to_string))
        .or_else(|| tcp.clone().find_map(|p| p.number.map(|n| n.to_string())));
    for (field, missing, port_code) in [
        (
            "livenessProbe",
            Some(codes::NO_LIVENESS_PROBE),
            codes::LIVENESS_PORT,
        ),
        (
            "readinessProbe",
            Some(codes::NO_READINESS_PROBE),
            codes::READINESS_PORT,
        ),
        ("startupProbe", None, codes::STARTUP_PORT),
    ] {
        match container.node.get(field) {
            Some(probe) if probe.is_mapping() => probe_port(ctx, container, probe, port_code),
            _ => {
                let Some(code) = missing else { continue };
                let fix = || {
                    target.as_deref().and_then(|port| {
                        let port = format!("  port: {port}");
                        fix::set(
                            container.node,
                            &[field],
                            Leaf::Block(&["tcpSocket:", &port]),
                        )
                    })
                };
                ctx.report_fix(
                    code,
                    container.anchor(),
                    format!("container \"{name}\" has no {field}"),
                    &format!("Add a {field} (TCP check on the container's port)"),
                    fix,
                );
            }
        }
    }
}

/// kube-linter's probe port check: an httpGet, tcpSocket or grpc port must be one of the
/// container's TCP ports, by number or name.
fn probe_port(ctx: &mut Ctx<'_>, container: Container<'_>, probe: Node<'_>, code: Code) {
    let ports = container.ports();
    let exposes_number = |n: i64| {
        ports
            .iter()
            .any(|p| p.protocol == "TCP" && p.number == Some(n))
    };
    let exposes_name = |s: &str| {
        ports
            .iter()
            .any(|p| p.protocol == "TCP" && p.name.unwrap_or("") == s)
    };
    for (handler, what) in [
        ("httpGet", "HTTP GET"),
        ("tcpSocket", "TCP"),
        ("grpc", "gRPC"),
    ] {
        let Some(port) = probe.at(&[handler, "port"]) else {
            continue;
        };
        let exposed = match (port.integer(), port.text()) {
            (Some(n), _) => exposes_number(n),
            (None, Some(s)) if handler != "grpc" => exposes_name(s),
            _ => true,
        };
        if !exposed {
            let text = port.text().unwrap_or_default();
            ctx.report(
                code,
                port.inner_range(),
                format!("the {what} probe of container \"{}\" targets port {text}, which the container does not expose", container.name()),
            );
        }
        return;
    }
}

fn resources(ctx: &mut Ctx<'_>, container: Container<'_>) {
    let name = container.name();
    for (code, path, placeholder, what) in [
        (
            codes::UNSET_CPU_REQUIREMENTS,
            ["resources", "requests", "cpu"],
            "100m",
            "CPU request",
        ),
        (
            codes::UNSET_MEMORY_REQUIREMENTS,
            ["resources", "limits", "memory"],
            "256Mi",
            "memory limit",
        ),
    ] {
        let value = container.node.at(&path);
        if value
            .and_then(|v| v.text())
            .is_some_and(|q| !is_zero_quantity(q))
        {
            continue;
        }
        let at = value.map_or_else(|| container.anchor(), |v| v.range());
        ctx.report_fix(
            code,
            at,
            format!("container \"{name}\" has no {what}"),
            &format!(
                "Set {} to {placeholder} (a placeholder: adjust it)",
                path.join(".")
            ),
            || fix::set(container.node, &path, Leaf::Scalar(placeholder)),
        );
    }
}

/// Whether a quantity is zero (`0`, `0m`, `0.0Gi`).
fn is_zero_quantity(quantity: &str) -> bool {
    let number = quantity.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    number.parse::<f64>().is_ok_and(|n| n == 0.0)
}

fn image(ctx: &mut Ctx<'_>, container: Container<'_>) {
    let Some(image) = container.node.get("image").filter(|i| i.text().is_some()) else {
        return;
    };
    let text = image.text().unwrap_or_default();
    if is_blocked_image(text) {
        ctx.report(
            codes::LATEST_TAG,
            image.inner_range(),
            format!("image \"{text}\" of container \"{}\" is not pinned: it has no tag or the tag latest", container.name()),
        );
    }
}

fn autoscaler(ctx: &mut Ctx<'_>) {
    let object = ctx.object;
    let min = object.spec().and_then(|s| s.get("minReplicas"));
    let replicas = min.map_or(Some(1), |m| m.integer());
    if let Some(replicas) = replicas.filter(|r| *r < 3) {
        let at = min.map_or_else(|| object.anchor(), |m| m.range());
        ctx.report_fix(
            codes::HPA_MINIMUM_THREE_REPLICAS,
            at,
            format!("minReplicas {replicas}: the autoscaler may leave fewer than 3 replicas"),
            "Set minReplicas: 3",
            || {
                object
                    .spec()
                    .and_then(|spec| fix::set(spec, &["minReplicas"], Leaf::Scalar("3")))
            },
        );
    }
}

fn disruption_budget(ctx: &mut Ctx<'_>) {
    let object = ctx.object;
    let Some(spec) = object.spec() else { return };
    if let Some(max) = spec.get("maxUnavailable") {
        let zero = max.integer() == Some(0)
            || max.string().is_some_and(|s| s.trim_end_matches('%') == "0");
        if zero {
            ctx.report(
                codes::PDB_MAX_UNAVAILABLE,
                max.range(),
                "maxUnavailable is 0: no Pod may ever be evicted, so nodes cannot be drained",
            );
        }
    }
    if spec.get("unhealthyPodEvictionPolicy").is_none() {
        ctx.report_fix(
            codes::PDB_UNHEALTHY_POD_EVICTION_POLICY,
            object.anchor(),
            "unhealthyPodEvictionPolicy is not set: Pods that never become ready can block evictions",
            "Set unhealthyPodEvictionPolicy: AlwaysAllow",
            || fix::set(spec, &["unhealthyPodEvictionPolicy"], Leaf::Scalar("AlwaysAllow")),
        );
    }
}

fn job_ttl(ctx: &mut Ctx<'_>) {
    let object = ctx.object;
    let Some(spec) = object.spec() else { return };
    if object.kind == "Job" && spec.get("ttlSecondsAfterFinished").is_none() {
        ctx.report(
            codes::JOB_TTL_SECONDS_AFTER_FINISHED,
            object.anchor(),
            "a standalone Job without ttlSecondsAfterFinished stays after it finishes",
        );
    }
    if object.kind == "CronJob"
        && let Some(ttl) = spec
            .at(&["jobTemplate", "spec"])
            .and_then(|s| s.key_range("ttlSecondsAfterFinished"))
    {
        ctx.report(
            codes::JOB_TTL_SECONDS_AFTER_FINISHED,
            ttl,
            "the CronJob's jobs set ttlSecondsAfterFinished, which competes with the CronJob's history limits",
        );
    }
}

#[cfg(test)]
mod tests {
    use super::is_blocked_image;

    /// Every string of up to six characters from an alphabet that holds what the patterns look
    /// for, with and without the `latest` tag after: the hand matcher agrees with kube-linter's
    /// regexes on each.
    #[test]
    fn blocked_images_are_those_kube_linters_patterns_match() {
        let patterns = [r".*:(latest)$", r"^[^:]*$", r"(.*/[^:]+)$"]
            .map(|r| regex::Regex::new(r).expect("valid"));
        let alphabet = ['a', ':', '/', '\n', 'é'];
        let mut words = vec![String::new()];
        let mut checked = 0;
        for _ in 0..6 {
            words = words
                .iter()
                .flat_map(|w| alphabet.iter().map(move |c| format!("{w}{c}")))
                .collect();
            for word in &words {
                for image in [
                    word.clone(),
                    format!("{word}:latest"),
                    format!("{word}latest"),
                ] {
                    let expected = patterns.iter().any(|r| r.is_match(&image));
                    assert_eq!(is_blocked_image(&image), expected, "{image:?}");
                    checked += 1;
                }
            }
        }
        assert!(checked > 40_000);
        for image in [
            "nginx",
            "nginx:latest",
            "nginx:1.25",
            "registry:5000/app",
            "registry:5000/app:v1",
            "gcr.io/google-samples/microservices-demo/emailservice:v0.10.1",
            "",
            "a/",
            "a//",
        ] {
            let expected = patterns.iter().any(|r| r.is_match(image));
            assert_eq!(is_blocked_image(image), expected, "{image:?}");
        }
    }
}

//! Security rules that read one object: privileges, host namespaces and mounts, capabilities,
//! sysctls, users, secrets in environment variables, ports, RBAC wildcards and bindings.

use super::Ctx;
use super::fix::{self, Leaf};
use super::object::{Container, Node, Pod};
use crate::diagnostic::codes;

/// Host paths kube-linter's `sensitive-host-mounts` names.
const SENSITIVE_DIRS: [&str; 8] = [
    "/", "/boot", "/dev", "/etc", "/lib", "/proc", "/sys", "/usr",
];
/// Sysctl prefixes kube-linter's `unsafe-sysctls` names.
const UNSAFE_SYSCTLS: [&str; 5] = [
    "kernel.msg",
    "kernel.sem",
    "kernel.shm",
    "fs.mqueue.",
    "net.",
];

pub fn check(ctx: &mut Ctx<'_>) {
    let object = ctx.object;
    if let Some(pod) = object.pod() {
        host_namespaces(ctx, pod);
        sysctls(ctx, pod);
        host_mounts(ctx, pod);
        automount(ctx, pod);
        for container in pod.all_containers() {
            container_security(ctx, pod, container);
            environment(ctx, container);
            ports(ctx, container);
        }
    }
    match object.kind {
        "Role" | "ClusterRole" => wildcards(ctx),
        "RoleBinding" | "ClusterRoleBinding" => cluster_admin(ctx),
        "Service" => exposed(ctx),
        "SecurityContextConstraints" => scc(ctx),
        _ => {}
    }
}

fn host_namespaces(ctx: &mut Ctx<'_>, pod: Pod<'_>) {
    for (field, code, what) in [
        ("hostIPC", codes::HOST_IPC, "IPC"),
        ("hostNetwork", codes::HOST_NETWORK, "network"),
        ("hostPID", codes::HOST_PID, "process"),
    ] {
        if let Some(value) = pod.spec.get(field).filter(|v| v.boolean() == Some(true)) {
            let message = format!("the Pods share the host's {what} namespace ({field}: true)");
            ctx.report_fix(
                code,
                value.range(),
                message,
                &format!("Remove {field}: true"),
                || fix::remove_line(pod.spec, field),
            );
        }
    }
}

fn sysctls(ctx: &mut Ctx<'_>, pod: Pod<'_>) {
    for sysctl in pod.security("sysctls").iter().flat_map(Node::items) {
        let Some(name) = sysctl.get("name").filter(|n| n.text().is_some()) else {
            continue;
        };
        let text = name.text().unwrap_or_default();
        if UNSAFE_SYSCTLS.iter().any(|prefix| text.starts_with(prefix)) {
            ctx.report(
                codes::UNSAFE_SYSCTLS,
                name.inner_range(),
                format!(
                    "unsafe sysctl \"{text}\": it is not namespaced or not isolated between Pods"
                ),
            );
        }
    }
}

/// hostPath volumes mounted by containers: docker.sock, sensitive directories, writable.
fn host_mounts(ctx: &mut Ctx<'_>, pod: Pod<'_>) {
    let host_paths: Vec<(&str, &str)> = pod
        .spec
        .get("volumes")
        .iter()
        .flat_map(Node::items)
        .filter_map(|volume| {
            let path = volume.at(&["hostPath", "path"])?.text()?;
            Some((volume.get("name")?.text()?, path))
        })
        .collect();
    if host_paths.is_empty() {
        return;
    }
    for container in pod.all_containers() {
        let name = container.name();
        for mount in container
            .node
            .get("volumeMounts")
            .iter()
            .flat_map(Node::items)
        {
            let Some(volume) = mount.get("name").and_then(|n| n.text()) else {
                continue;
            };
            let Some((_, host)) = host_paths.iter().find(|(v, _)| *v == volume) else {
                continue;
            };
            let at = mount
                .get("mountPath")
                .map_or_else(|| mount.range(), |p| p.inner_range());
            let trimmed = if host.len() > 1 {
                host.trim_end_matches('/')
            } else {
                host
            };
            if trimmed.ends_with("docker.sock") {
                ctx.report(
                    codes::DOCKER_SOCK,
                    at.clone(),
                    format!("the host's Docker socket {host} is mounted in container \"{name}\": it controls every container of the node"),
                );
            }
            if SENSITIVE_DIRS.contains(&trimmed) {
                ctx.report(
                    codes::SENSITIVE_HOST_MOUNTS,
                    at.clone(),
                    format!("the host directory {host} is mounted in container \"{name}\""),
                );
            }
            if mount.get("readOnly").and_then(|r| r.boolean()) != Some(true) {
                ctx.report_fix(
                    codes::WRITABLE_HOST_MOUNT,
                    at,
                    format!("container \"{name}\" mounts the host path {host} writable"),
                    "Mount it read-only (readOnly: true)",
                    || fix::set(mount, &["readOnly"], Leaf::Scalar("true")),
                );
            }
        }
    }
}

fn automount(ctx: &mut Ctx<'_>, pod: Pod<'_>) {
    let value = pod.spec.get("automountServiceAccountToken");
    if value.and_then(|v| v.boolean()) == Some(false) {
        return;
    }
    let at = value.map_or_else(|| ctx.object.anchor(), |v| v.range());
    ctx.report_fix(
        codes::AUTOMOUNT_SERVICE_ACCOUNT_TOKEN,
        at,
        "the ServiceAccount token is mounted into the Pods; set automountServiceAccountToken: false if they do not call the Kubernetes API",
        "Set automountServiceAccountToken: false",
        || fix::set(pod.spec, &["automountServiceAccountToken"], Leaf::Scalar("false")),
    );
}

/// A field of the container's securityContext, else of the pod's.
fn effective<'t>(pod: Pod<'t>, container: Container<'t>, field: &str) -> Option<Node<'t>> {
    container.security(field).or_else(|| pod.security(field))
}

fn container_security(ctx: &mut Ctx<'_>, pod: Pod<'_>, container: Container<'_>) {
    let name = container.name();
    let security = container.node.get("securityContext");
    if let Some(privileged) = container
        .security("privileged")
        .filter(|v| v.boolean() == Some(true))
    {
        ctx.report_fix(
            codes::PRIVILEGED_CONTAINER,
            privileged.range(),
            format!("container \"{name}\" runs privileged: it has every capability and the host's devices"),
            "Remove privileged: true",
            || security.and_then(|s| fix::remove_line(s, "privileged")),
        );
    }
    if let Some(escalation) = container
        .security("allowPrivilegeEscalation")
        .filter(|v| v.boolean() == Some(true))
    {
        ctx.report_fix(
            codes::PRIVILEGE_ESCALATION_CONTAINER,
            escalation.range(),
            format!("container \"{name}\" allows privilege escalation"),
            "Set allowPrivilegeEscalation: false",
            || Some(vec![(escalation.range(), "false".to_string())]),
        );
    }
    if let Some(proc_mount) = container
        .security("procMount")
        .filter(|v| v.text() == Some("Unmasked"))
    {
        ctx.report(
            codes::UNSAFE_PROC_MOUNT,
            proc_mount.inner_range(),
            format!("container \"{name}\" unmasks /proc (procMount: Unmasked)"),
        );
    }
    let read_only = container.security("readOnlyRootFilesystem");
    if read_only.and_then(|v| v.boolean()) != Some(true) {
        let at = read_only.map_or_else(|| container.anchor(), |v| v.range());
        ctx.report_fix(
            codes::NO_READ_ONLY_ROOT_FS,
            at,
            format!("container \"{name}\" has a writable root filesystem"),
            "Set readOnlyRootFilesystem: true",
            || {
                fix::set(
                    container.node,
                    &["securityContext", "readOnlyRootFilesystem"],
                    Leaf::Scalar("true"),
                )
            },
        );
    }
    run_as_non_root(ctx, pod, container);
    capabilities(ctx, container);
}

/// kube-linter's reading: a root group is flagged; a container is fine when `runAsNonRoot` is
/// true (unless `runAsUser` is 0 then) or `runAsUser` is not 0; pod values apply unless the
/// container sets its own.
fn run_as_non_root(ctx: &mut Ctx<'_>, pod: Pod<'_>, container: Container<'_>) {
    let name = container.name();
    let group = effective(pod, container, "runAsGroup");
    if let Some(group) = group.filter(|g| g.integer() == Some(0)) {
        ctx.report(
            codes::RUN_AS_NON_ROOT,
            group.range(),
            format!("container \"{name}\" runs with the root group (runAsGroup: 0)"),
        );
    }
    let user = effective(pod, container, "runAsUser");
    let non_root = effective(pod, container, "runAsNonRoot");
    if non_root.and_then(|n| n.boolean()) == Some(true) {
        if let Some(user) = user.filter(|u| u.integer() == Some(0)) {
            ctx.report(
                codes::RUN_AS_NON_ROOT,
                user.range(),
                format!("container \"{name}\" is set to runAsNonRoot but runAsUser is 0: it will not start"),
            );
        }
        return;
    }
    if user.and_then(|u| u.integer()).is_some_and(|u| u > 0) {
        return;
    }
    let at = non_root
        .or(user)
        .map_or_else(|| container.anchor(), |n| n.range());
    ctx.report_fix(
        codes::RUN_AS_NON_ROOT,
        at,
        format!(
            "container \"{name}\" may run as root: set runAsNonRoot: true or a non-zero runAsUser"
        ),
        "Set runAsNonRoot: true",
        || {
            fix::set(
                container.node,
                &["securityContext", "runAsNonRoot"],
                Leaf::Scalar("true"),
            )
        },
    );
}

/// kube-linter's `drop-net-raw-capability`: checked only where `capabilities` is written.
fn capabilities(ctx: &mut Ctx<'_>, container: Container<'_>) {
    let Some(capabilities) = container.security("capabilities").filter(Node::is_mapping) else {
        return;
    };
    let name = container.name();
    let is = |cap: &Node<'_>, wanted: &str| {
        cap.text()
            .is_some_and(|c| c.eq_ignore_ascii_case(wanted) || c.eq_ignore_ascii_case("all"))
    };
    let add = capabilities.get("add");
    let added = add.iter().flat_map(Node::items).count();
    for cap in add
        .iter()
        .flat_map(Node::items)
        .filter(|c| is(c, "NET_RAW"))
    {
        let text = cap.text().unwrap_or_default();
        // The only one: `add` goes with it.
        let edits = || match added {
            1 => fix::remove_line(capabilities, "add"),
            _ => fix::remove_item(cap),
        };
        ctx.report_fix(
            codes::DROP_NET_RAW_CAPABILITY,
            cap.inner_range(),
            format!(
                "container \"{name}\" adds the capability {text}, which lets it craft raw packets"
            ),
            &format!("Remove {text} from the added capabilities"),
            edits,
        );
    }
    let drop = capabilities.get("drop");
    if !drop.iter().flat_map(Node::items).any(|c| is(&c, "NET_RAW")) {
        let at = capabilities.key_range("drop").or_else(|| {
            container
                .node
                .get("securityContext")?
                .key_range("capabilities")
        });
        let last = drop.and_then(|d| d.items().last());
        let title = match last {
            Some(_) => "Drop NET_RAW",
            None => "Drop all capabilities (drop: [ALL])",
        };
        let fix = || match last {
            Some(last) => fix::append_item(last, "NET_RAW"),
            None => fix::set(capabilities, &["drop"], Leaf::Block(&["- ALL"])),
        };
        ctx.report_fix(
            codes::DROP_NET_RAW_CAPABILITY,
            at.unwrap_or_else(|| container.anchor()),
            format!("container \"{name}\" sets capabilities but does not drop NET_RAW"),
            title,
            fix,
        );
    }
}

/// Whether `name` holds `secret` in any case, as kube-linter's `(?i)secret` matches it: Unicode
/// case folding, so `ſ` (long s) counts as an `s`. By hand: compiling the regex was most of the
/// rules' work on a small file.
fn mentions_secret(name: &str) -> bool {
    let folds_to =
        |c: char, lower: char| c.eq_ignore_ascii_case(&lower) || (lower == 's' && c == '\u{17f}');
    let chars: Vec<char> = name.chars().collect();
    chars.windows(6).any(|window| {
        window
            .iter()
            .zip("secret".chars())
            .all(|(&c, lower)| folds_to(c, lower))
    })
}

fn environment(ctx: &mut Ctx<'_>, container: Container<'_>) {
    let name = container.name();
    for (item, variable) in container.env() {
        if mentions_secret(variable)
            && let Some(value) = item
                .get("value")
                .filter(|v| v.text().is_some_and(|t| !t.is_empty()))
        {
            ctx.report(
                codes::ENV_VAR_SECRET,
                value.range(),
                format!("environment variable {variable} of container \"{name}\" looks like a secret but its value is written here"),
            );
        }
        if let Some(reference) = item.at(&["valueFrom", "secretKeyRef"]) {
            let at = item
                .at(&["valueFrom"])
                .and_then(|v| v.key_range("secretKeyRef"))
                .unwrap_or_else(|| reference.range());
            ctx.report(
                codes::READ_SECRET_FROM_ENV_VAR,
                at,
                format!("environment variable \"{variable}\" of container \"{name}\" reads a Secret; a mounted file is safer"),
            );
        }
    }
}

fn ports(ctx: &mut Ctx<'_>, container: Container<'_>) {
    let name = container.name();
    for port in container.ports() {
        let Some(number) = port.number else { continue };
        let at = port
            .node
            .get("containerPort")
            .map_or(port.node.range(), |n| n.range());
        if (1..1024).contains(&number) {
            ctx.report(
                codes::PRIVILEGED_PORTS,
                at.clone(),
                format!("container \"{name}\" uses the privileged port {number}"),
            );
        }
        if number == 22 && port.protocol == "TCP" {
            ctx.report(
                codes::SSH_PORT,
                at,
                format!("container \"{name}\" exposes TCP port 22 (SSH)"),
            );
        }
    }
}

fn wildcards(ctx: &mut Ctx<'_>) {
    for rule in ctx.object.root.get("rules").iter().flat_map(Node::items) {
        for (field, what) in [("verbs", "verb"), ("resources", "resource")] {
            if let Some(star) = rule
                .get(field)
                .iter()
                .flat_map(Node::items)
                .find(|v| v.text() == Some("*"))
            {
                ctx.report(
                    codes::WILDCARD_IN_RULES,
                    star.range(),
                    format!(
                        "wildcard \"*\" in the {what}s of a rule: it grants whatever is added later"
                    ),
                );
            }
        }
    }
}

fn cluster_admin(ctx: &mut Ctx<'_>) {
    let Some(role) = ctx.object.root.get("roleRef") else {
        return;
    };
    let (kind, name) = (role.get("kind").and_then(|k| k.text()), role.get("name"));
    if let Some(name) =
        name.filter(|n| kind == Some("ClusterRole") && n.text() == Some("cluster-admin"))
    {
        ctx.report(
            codes::CLUSTER_ADMIN_ROLE_BINDING,
            name.inner_range(),
            "the cluster-admin role is bound: its subjects can do anything in the cluster",
        );
    }
}

fn exposed(ctx: &mut Ctx<'_>) {
    let kind = ctx.object.spec().and_then(|s| s.get("type"));
    if let Some(kind) = kind.filter(|k| matches!(k.text(), Some("NodePort" | "LoadBalancer"))) {
        let text = kind.text().unwrap_or_default();
        ctx.report(
            codes::EXPOSED_SERVICES,
            kind.inner_range(),
            format!("a {text} Service exposes its Pods outside the cluster"),
        );
    }
}

fn scc(ctx: &mut Ctx<'_>) {
    let allowed = ctx.object.root.get("allowPrivilegedContainer");
    if let Some(allowed) = allowed.filter(|a| a.boolean() == Some(true)) {
        ctx.report_fix(
            codes::SCC_DENY_PRIVILEGED_CONTAINER,
            allowed.range(),
            "the SecurityContextConstraints allows privileged containers",
            "Set allowPrivilegedContainer: false",
            || Some(vec![(allowed.range(), "false".to_string())]),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::mentions_secret;

    /// `secret` with each of its letters replaced by every character of the basic multilingual
    /// plane, and a few names: the hand matcher agrees with kube-linter's `(?i)secret`.
    #[test]
    fn secret_names_are_those_kube_linters_pattern_matches() {
        let pattern = regex::Regex::new("(?i)secret").expect("valid");
        for at in 0..6 {
            for c in (0..0x1_0000).filter_map(char::from_u32) {
                let mut name: Vec<char> = "xSeCrEtx".chars().collect();
                name[at + 1] = c;
                let name: String = name.into_iter().collect();
                assert_eq!(mentions_secret(&name), pattern.is_match(&name), "{name:?}");
            }
        }
        for name in [
            "SECRET",
            "db_secret_key",
            "secre",
            "ſecret",
            "SECRE",
            "",
            "passwordsecret",
            "sec ret",
        ] {
            assert_eq!(mentions_secret(name), pattern.is_match(name), "{name:?}");
        }
    }
}

//! The table of rules: each is one of kube-linter's checks, under its name (the diagnostic code),
//! with its group, default severity, whether it is on by default, its remediation and the anchor
//! of its entry in docs/rules.md. What it looks for is the code's meaning in the registry
//! (`diagnostic::codes`).

use crate::diagnostic::Severity;
use crate::diagnostic::codes::{self, Code};

/// What a rule is about; settings enable and disable rules by group.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Group {
    /// Privileges, host access, RBAC, secrets.
    Security,
    /// Availability: probes, resources, replicas, disruption budgets, scheduling.
    Reliability,
    /// References between objects and within one (selectors, ports, names, keys).
    References,
    /// House rules: labels, annotations, namespaces, deprecated fields, key order.
    Conventions,
}

impl Group {
    pub const ALL: [Group; 4] = [
        Group::Security,
        Group::Reliability,
        Group::References,
        Group::Conventions,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Group::Security => "security",
            Group::Reliability => "reliability",
            Group::References => "references",
            Group::Conventions => "conventions",
        }
    }

    pub fn parse(name: &str) -> Option<Group> {
        Group::ALL.into_iter().find(|g| g.name() == name)
    }
}

/// One rule.
#[derive(Debug)]
pub struct Rule {
    pub code: Code,
    pub group: Group,
    pub severity: Severity,
    /// On without any configuration (kube-linter's default checks).
    pub default: bool,
    pub remediation: &'static str,
}

impl Rule {
    pub fn name(&self) -> &'static str {
        self.code.as_str()
    }

    /// What it looks for (the registry's meaning of its code).
    pub fn summary(&self) -> &'static str {
        self.code.info().meaning
    }
}

/// The rule named `name`.
pub fn rule(name: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.code == name)
}

/// The rule of a diagnostic code.
pub fn of_code(code: Code) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.code == code)
}

/// The URL of a rule's entry in docs/rules.md, from the repository URL in Cargo.toml.
pub fn docs_url(code: Code) -> Option<String> {
    of_code(code)?;
    Some(format!(
        "{}/blob/main/docs/rules.md#{}",
        env!("CARGO_PKG_REPOSITORY"),
        code.as_str()
    ))
}

use Group::{Conventions, References, Reliability, Security};
use Severity::{Information as Info, Warning};

const fn r(
    code: Code,
    group: Group,
    severity: Severity,
    default: bool,
    remediation: &'static str,
) -> Rule {
    Rule {
        code,
        group,
        severity,
        default,
        remediation,
    }
}

/// Every rule, by name.
pub static RULES: &[Rule] = &[
    r(
        codes::ACCESS_TO_CREATE_PODS,
        Security,
        Warning,
        false,
        "Bind a role that cannot create Pods, Deployments, StatefulSets, ReplicaSets, DaemonSets, Jobs or CronJobs, unless the subject must.",
    ),
    r(
        codes::ACCESS_TO_SECRETS,
        Security,
        Warning,
        false,
        "Bind a role without get, list, watch, create or delete on Secrets, or limit it with resourceNames.",
    ),
    r(
        codes::AUTOMOUNT_SERVICE_ACCOUNT_TOKEN,
        Security,
        Info,
        false,
        "Set `automountServiceAccountToken: false` in the pod spec when the workload does not call the Kubernetes API.",
    ),
    r(
        codes::CLUSTER_ADMIN_ROLE_BINDING,
        Security,
        Warning,
        false,
        "Bind a role that grants only the resources and verbs the subject needs.",
    ),
    r(
        codes::DANGLING_HORIZONTALPODAUTOSCALER,
        References,
        Warning,
        false,
        "Make `scaleTargetRef` (kind, apiVersion, name) name the workload to scale.",
    ),
    r(
        codes::DANGLING_INGRESS,
        References,
        Warning,
        false,
        "Make the backend name an existing Service and one of its ports (number or name).",
    ),
    r(
        codes::DANGLING_NETWORKPOLICY,
        References,
        Warning,
        false,
        "Make `podSelector` match the labels of the Pod templates to isolate.",
    ),
    r(
        codes::DANGLING_NETWORKPOLICYPEER_PODSELECTOR,
        References,
        Warning,
        false,
        "Make the peer's `podSelector` match the labels of the Pods that may connect.",
    ),
    r(
        codes::DANGLING_SERVICE,
        References,
        Warning,
        true,
        "Make the Service's selector match the labels of a Pod template (or remove it for a Service with manual endpoints).",
    ),
    r(
        codes::DANGLING_SERVICEMONITOR,
        References,
        Warning,
        false,
        "Make the selector and namespaceSelector match a Service's labels and namespace.",
    ),
    r(
        codes::DEFAULT_SERVICE_ACCOUNT,
        Security,
        Info,
        false,
        "Create a ServiceAccount for the workload and set `serviceAccountName`.",
    ),
    r(
        codes::DEPRECATED_SERVICE_ACCOUNT_FIELD,
        Conventions,
        Info,
        true,
        "Use `serviceAccountName`; if `serviceAccount` must stay, give both the same value.",
    ),
    r(
        codes::DNSCONFIG_OPTIONS,
        Reliability,
        Info,
        false,
        "Set `dnsConfig.options` with `name: ndots, value: \"2\"`.",
    ),
    r(
        codes::DOCKER_SOCK,
        Security,
        Warning,
        true,
        "Remove the hostPath volume of the Docker socket and its volumeMounts: it gives full control of the host.",
    ),
    r(
        codes::DROP_NET_RAW_CAPABILITY,
        Security,
        Warning,
        true,
        "Drop NET_RAW (or ALL) in `securityContext.capabilities.drop` and do not add it.",
    ),
    r(
        codes::DUPLICATE_ENV_VAR,
        References,
        Warning,
        true,
        "Keep one entry per variable name: the last one wins, which is rarely what was meant.",
    ),
    r(
        codes::ENV_VALUE_FROM,
        References,
        Warning,
        false,
        "Make the reference name an existing ConfigMap or Secret and one of its keys, or mark it `optional: true`.",
    ),
    r(
        codes::ENV_VAR_SECRET,
        Security,
        Warning,
        true,
        "Read the value from a Secret (`valueFrom.secretKeyRef`, or better a mounted file) instead of writing it in the manifest.",
    ),
    r(
        codes::EXPOSED_SERVICES,
        Security,
        Info,
        false,
        "Use a ClusterIP Service (behind an Ingress or a gateway) instead of NodePort or LoadBalancer.",
    ),
    r(
        codes::HOST_IPC,
        Security,
        Warning,
        true,
        "Remove `hostIPC: true`.",
    ),
    r(
        codes::HOST_NETWORK,
        Security,
        Warning,
        true,
        "Remove `hostNetwork: true`; expose the Pods through a Service.",
    ),
    r(
        codes::HOST_PID,
        Security,
        Warning,
        true,
        "Remove `hostPID: true`.",
    ),
    r(
        codes::HPA_MINIMUM_THREE_REPLICAS,
        Reliability,
        Info,
        false,
        "Set `minReplicas` to 3 or more.",
    ),
    r(
        codes::INVALID_TARGET_PORTS,
        References,
        Warning,
        true,
        "Name ports with at most 15 lowercase letters, digits and dashes, with a letter; use numbers from 1 to 65535.",
    ),
    r(
        codes::JOB_TTL_SECONDS_AFTER_FINISHED,
        Reliability,
        Info,
        true,
        "Set `ttlSecondsAfterFinished` on standalone Jobs; leave it out of a CronJob's job template (its history limits apply).",
    ),
    r(
        codes::LATEST_TAG,
        Reliability,
        Info,
        true,
        "Pin the image to a version tag (or a digest).",
    ),
    r(
        codes::LIVENESS_PORT,
        References,
        Warning,
        true,
        "Probe a port the container lists in `ports` (by number or name, TCP).",
    ),
    r(
        codes::MINIMUM_THREE_REPLICAS,
        Reliability,
        Info,
        false,
        "Run at least three replicas.",
    ),
    r(
        codes::MISMATCHING_SELECTOR,
        References,
        Warning,
        true,
        "Make the selector match the Pod template's labels.",
    ),
    r(
        codes::NO_ANTI_AFFINITY,
        Reliability,
        Info,
        true,
        "Add `podAntiAffinity` with a labelSelector matching the Pods and `topologyKey: kubernetes.io/hostname`.",
    ),
    r(
        codes::NO_EXTENSIONS_V1BETA,
        Conventions,
        Warning,
        true,
        "Use the current API version (apps/v1, networking.k8s.io/v1, policy/v1).",
    ),
    r(
        codes::NO_LIVENESS_PROBE,
        Reliability,
        Info,
        false,
        "Add a `livenessProbe`.",
    ),
    r(
        codes::NO_NODE_AFFINITY,
        Reliability,
        Info,
        false,
        "Add `affinity.nodeAffinity` for the nodes the Pods should run on.",
    ),
    r(
        codes::NO_READ_ONLY_ROOT_FS,
        Security,
        Info,
        true,
        "Set `securityContext.readOnlyRootFilesystem: true` and mount volumes where the container writes.",
    ),
    r(
        codes::NO_READINESS_PROBE,
        Reliability,
        Info,
        false,
        "Add a `readinessProbe`.",
    ),
    r(
        codes::NO_ROLLING_UPDATE_STRATEGY,
        Reliability,
        Info,
        false,
        "Use the RollingUpdate strategy (Rolling for a DeploymentConfig).",
    ),
    r(
        codes::NON_EXISTENT_SERVICE_ACCOUNT,
        References,
        Warning,
        true,
        "Create the ServiceAccount, or name one that exists.",
    ),
    r(
        codes::NON_ISOLATED_POD,
        Security,
        Info,
        false,
        "Add a NetworkPolicy whose podSelector matches the workload's Pods.",
    ),
    r(
        codes::PDB_MAX_UNAVAILABLE,
        Reliability,
        Warning,
        true,
        "Set `maxUnavailable` above 0 so that nodes can be drained.",
    ),
    r(
        codes::PDB_MIN_AVAILABLE,
        Reliability,
        Warning,
        true,
        "Set `minAvailable` below the workload's replicas (or raise the replicas).",
    ),
    r(
        codes::PDB_UNHEALTHY_POD_EVICTION_POLICY,
        Reliability,
        Info,
        true,
        "Set `unhealthyPodEvictionPolicy: AlwaysAllow`.",
    ),
    r(
        codes::PRIORITY_CLASS_NAME,
        Conventions,
        Info,
        false,
        "Use one of the accepted priority classes (system-cluster-critical, system-node-critical).",
    ),
    r(
        codes::PRIVILEGE_ESCALATION_CONTAINER,
        Security,
        Warning,
        true,
        "Set `allowPrivilegeEscalation: false`.",
    ),
    r(
        codes::PRIVILEGED_CONTAINER,
        Security,
        Warning,
        true,
        "Remove `privileged: true`; add only the capabilities the container needs.",
    ),
    r(
        codes::PRIVILEGED_PORTS,
        Security,
        Info,
        false,
        "Listen on a port of 1024 or more inside the container and map it in the Service.",
    ),
    r(
        codes::READ_SECRET_FROM_ENV_VAR,
        Security,
        Info,
        false,
        "Mount the Secret as a volume and read the file instead.",
    ),
    r(
        codes::READINESS_PORT,
        References,
        Warning,
        true,
        "Probe a port the container lists in `ports` (by number or name, TCP).",
    ),
    r(
        codes::REQUIRED_ANNOTATION_EMAIL,
        Conventions,
        Info,
        false,
        "Add an `email` annotation with the owner's address.",
    ),
    r(
        codes::REQUIRED_LABEL_OWNER,
        Conventions,
        Info,
        false,
        "Add an `owner` label.",
    ),
    r(
        codes::RESTART_POLICY,
        Reliability,
        Info,
        false,
        "Use `restartPolicy: Always` or `OnFailure`.",
    ),
    r(
        codes::RUN_AS_NON_ROOT,
        Security,
        Info,
        true,
        "Set `runAsNonRoot: true` (and non-zero `runAsUser` and `runAsGroup`) in the pod's or container's securityContext.",
    ),
    r(
        codes::SCC_DENY_PRIVILEGED_CONTAINER,
        Security,
        Warning,
        false,
        "Set `allowPrivilegedContainer: false`; grant capabilities with `allowedCapabilities`.",
    ),
    r(
        codes::SENSITIVE_HOST_MOUNTS,
        Security,
        Warning,
        true,
        "Remove the hostPath volume and its volumeMounts.",
    ),
    r(
        codes::SORTED_KEYS,
        Conventions,
        Info,
        false,
        "Sort the mapping's keys alphabetically.",
    ),
    r(
        codes::SSH_PORT,
        Security,
        Info,
        true,
        "Do not expose port 22 unless the container is a vetted SSH server.",
    ),
    r(
        codes::STARTUP_PORT,
        References,
        Warning,
        true,
        "Probe a port the container lists in `ports` (by number or name, TCP).",
    ),
    r(
        codes::UNSAFE_PROC_MOUNT,
        Security,
        Warning,
        false,
        "Remove `procMount: Unmasked` (use Default).",
    ),
    r(
        codes::UNSAFE_SYSCTLS,
        Security,
        Warning,
        true,
        "Remove the unsafe sysctl from `securityContext.sysctls`.",
    ),
    r(
        codes::UNSET_CPU_REQUIREMENTS,
        Reliability,
        Info,
        true,
        "Set `resources.requests.cpu`.",
    ),
    r(
        codes::UNSET_MEMORY_REQUIREMENTS,
        Reliability,
        Info,
        true,
        "Set `resources.limits.memory`.",
    ),
    r(
        codes::USE_NAMESPACE,
        Conventions,
        Info,
        false,
        "Set `metadata.namespace` to a namespace of the application's own.",
    ),
    r(
        codes::WILDCARD_IN_RULES,
        Security,
        Warning,
        false,
        "List the verbs and resources the role needs instead of `*`.",
    ),
    r(
        codes::WRITABLE_HOST_MOUNT,
        Security,
        Warning,
        false,
        "Mount the host path with `readOnly: true`, or use another volume type.",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::codes::{ALL, Group as CodeGroup};

    #[test]
    fn every_rule_code_has_one_rule_and_kube_linters_defaults_are_on() {
        let rule_codes: Vec<_> = ALL.iter().filter(|i| i.group == CodeGroup::Rule).collect();
        assert_eq!(rule_codes.len(), RULES.len());
        for info in rule_codes {
            assert_eq!(
                RULES.iter().filter(|r| r.code == info.code).count(),
                1,
                "{}",
                info.code
            );
        }
        let defaults: Vec<_> = RULES.iter().filter(|r| r.default).map(Rule::name).collect();
        // kube-linter's 31 default checks (its README).
        let kube_linter = "dangling-service, deprecated-service-account-field, docker-sock, drop-net-raw-capability, duplicate-env-var, env-var-secret, host-ipc, host-network, host-pid, invalid-target-ports, job-ttl-seconds-after-finished, latest-tag, liveness-port, mismatching-selector, no-anti-affinity, no-extensions-v1beta, no-read-only-root-fs, non-existent-service-account, pdb-max-unavailable, pdb-min-available, pdb-unhealthy-pod-eviction-policy, privilege-escalation-container, privileged-container, readiness-port, run-as-non-root, sensitive-host-mounts, ssh-port, startup-port, unsafe-sysctls, unset-cpu-requirements, unset-memory-requirements";
        assert_eq!(defaults, kube_linter.split(", ").collect::<Vec<_>>());
    }

    #[test]
    fn the_docs_url_points_at_the_rules_entry() {
        assert_eq!(
            docs_url(codes::LATEST_TAG).unwrap(),
            format!(
                "{}/blob/main/docs/rules.md#latest-tag",
                env!("CARGO_PKG_REPOSITORY")
            )
        );
        assert_eq!(docs_url(codes::SYNTAX), None);
    }
}

//! Every diagnostic code kube-lsp reports, with its meaning: one registry. Codes are stable
//! (editors, `check --format json` and users' filters rely on them); a [`Code`] can only be one
//! of the constants below, and `docs/diagnostics.md` lists exactly these (a test compares them).

use std::fmt;

/// A registered diagnostic code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Code(&'static str);

impl Code {
    pub fn as_str(self) -> &'static str {
        self.0
    }

    /// The registry entry of this code (looked up by name: a publication asks it of every
    /// finding).
    pub fn info(self) -> &'static CodeInfo {
        static BY_CODE: std::sync::LazyLock<std::collections::HashMap<Code, &'static CodeInfo>> =
            std::sync::LazyLock::new(|| ALL.iter().map(|info| (info.code, info)).collect());
        BY_CODE
            .get(&self)
            .copied()
            .expect("every Code is a registry constant")
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl PartialEq<str> for Code {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for Code {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

/// Which part of kube-lsp reports a code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Group {
    /// The YAML layer: the text itself.
    Yaml,
    /// The schema layer: the document against its kind's OpenAPI schema and Kubernetes' rules.
    Schema,
    /// The cluster's server-side dry-run.
    DryRun,
    /// The difference between the document and the live object.
    Diff,
    /// `kube-lsp check`'s reading of its input files.
    Input,
    /// kube-lsp's own bounds (docs/robustness.md).
    Limit,
    /// Best-practice and security rules (`features::rules`): codes are kube-linter's check names.
    Rule,
    /// Kustomize: kustomization files, their paths and patches, rendered overlays.
    Kustomize,
    /// References between objects (names, keys, ports, selectors) across the workspace and the
    /// cluster.
    Reference,
    /// Helm charts: templates, values, rendering.
    Helm,
}

impl Group {
    pub fn title(self) -> &'static str {
        match self {
            Group::Yaml => "YAML",
            Group::Schema => "Schema",
            Group::DryRun => "Server-side dry-run",
            Group::Diff => "Diff against the live object",
            Group::Input => "Input files (`kube-lsp check`)",
            Group::Limit => "Limits",
            Group::Rule => "Rules ([rules.md](rules.md))",
            Group::Kustomize => "Kustomize",
            Group::Reference => "References between objects",
            Group::Helm => "Helm charts",
        }
    }
}

/// A code and what it means.
#[derive(Debug)]
pub struct CodeInfo {
    pub code: Code,
    pub group: Group,
    pub meaning: &'static str,
}

macro_rules! registry {
    ($($(#[$doc:meta])* $name:ident = $text:literal, $group:ident, $meaning:literal;)*) => {
        $($(#[$doc])* pub const $name: Code = Code($text);)*
        /// Every code, in the order `docs/diagnostics.md` lists them.
        pub const ALL: &[CodeInfo] = &[
            $(CodeInfo { code: $name, group: Group::$group, meaning: $meaning },)*
        ];
    };
}

registry! {
    SYNTAX = "yaml-syntax", Yaml,
        "The text is not valid YAML: the first syntax error of each document, in libyaml's words.";
    DUPLICATE_KEY = "yaml-duplicate-key", Yaml,
        "A mapping repeats a key; every occurrence after the first is flagged.";
    TAB_INDENTATION = "yaml-tab-indentation", Yaml,
        "A tab in indentation, which YAML forbids.";
    UNKNOWN_FIELD = "schema-unknown-field", Schema,
        "A field the kind's schema does not declare; the quick fix renames it to the field it was probably meant to be.";
    TYPE = "schema-type", Schema,
        "A value of the wrong type (a string where an integer is expected, a list where a mapping is).";
    REQUIRED = "schema-required", Schema,
        "A required field is missing; the quick fix adds the missing fields with placeholder values.";
    ENUM = "schema-enum", Schema,
        "A value outside the field's allowed values.";
    FORMAT = "schema-format", Schema,
        "A value that does not match the field's format: quantities, int-or-string, dates, patterns, lengths and bounds.";
    UNKNOWN_KIND = "schema-unknown-kind", Schema,
        "No schema source serves this apiVersion and kind; for a removed or deprecated apiVersion the quick fix switches to the one that serves the kind.";
    /// A value the apiserver's own rules reject (names, labels, annotations, core-type rules).
    INVALID = "schema-invalid", Schema,
        "A value the API server's own rules reject although the OpenAPI schema allows it: object names per kind, labels, annotations, selectors, container images, restart policies.";
    /// Two items of an `x-kubernetes-list-type: map` or `set` list with the same key.
    DUPLICATE = "schema-duplicate", Schema,
        "Two items of a list whose items must be unique (`x-kubernetes-list-type: map` or `set`) have the same key.";
    /// A CRD's `x-kubernetes-validations` rule evaluated to false.
    RULE = "schema-rule", Schema,
        "A custom resource breaks one of its CRD's CEL rules (`x-kubernetes-validations`).";
    /// A CRD's own schema the apiserver would reject.
    CRD = "schema-crd", Schema,
        "A CustomResourceDefinition whose schema the API server would reject (not structural, invalid defaults).";
    /// The JSON schema a `# yaml-language-server: $schema=` modeline names.
    MODELINE_SCHEMA = "schema-modeline", Schema,
        "The document breaks the JSON schema file its `# yaml-language-server: $schema=<file>` modeline names (that schema then replaces kube-lsp's for the document) or a `schemaPaths` entry `{schema, files}` associates with its file, or that file cannot be read; for a URL, which kube-lsp does not download, an information.";
    DRY_RUN_INVALID = "dry-run-invalid", DryRun,
        "The API server's dry-run rejected a field, on that field.";
    DRY_RUN_FORBIDDEN = "dry-run-forbidden", DryRun,
        "Warning: the credentials may not apply this object (RBAC), so it was not checked.";
    DRY_RUN_DENIED = "dry-run-denied", DryRun,
        "An admission webhook, a ValidatingAdmissionPolicy or a quota denied the object.";
    DRY_RUN_WARNING = "dry-run-warning", DryRun,
        "A warning the API server returned for the object (deprecated API, ignored field).";
    DRY_RUN_ERROR = "dry-run-error", DryRun,
        "The dry-run failed for another reason: a kind the cluster does not serve, an unexpected response.";
    DIFF_CHANGED = "diff-changed", Diff,
        "Information on a field whose value would change the live object (`live: old → new`).";
    DIFF_SUMMARY = "diff-summary", Diff,
        "The object would be configured: how many fields differ from the live object.";
    DIFF_CREATE = "diff-create", Diff,
        "The object does not exist in the cluster and would be created.";
    /// A hint that applying would change nothing (kubectl's "unchanged").
    DIFF_UNCHANGED = "diff-unchanged", Diff,
        "Hint: applying the object would change nothing.";
    ENCODING = "encoding", Input,
        "A file given to `kube-lsp check` is not UTF-8 text.";
    /// The last entry of a file with more diagnostics than the cap.
    TOO_MANY = "limit-diagnostics", Limit,
        "Information: the file has more diagnostics than kube-lsp shows (1,000 per file); this last entry says how many more there are.";
    /// A file not read.
    FILE_SKIPPED = "limit-file-skipped", Limit,
        "A file that was not read: not a regular file (a FIFO, a device), or bigger than the size cap (`maxFileBytes`, `--max-file-bytes`, default 64 MB).";
    ACCESS_TO_CREATE_PODS = "access-to-create-pods", Rule,
        "A role binding grants a role that may create Pods or the workloads that make them (CIS 5.1.4).";
    ACCESS_TO_SECRETS = "access-to-secrets", Rule,
        "A role binding grants a role that may read, list, watch, create or delete Secrets (CIS 5.1.2).";
    AUTOMOUNT_SERVICE_ACCOUNT_TOKEN = "automount-service-account-token", Rule,
        "A pod spec does not turn off the automatic mounting of its ServiceAccount token.";
    CLUSTER_ADMIN_ROLE_BINDING = "cluster-admin-role-binding", Rule,
        "A binding grants the `cluster-admin` ClusterRole (CIS 5.1.1).";
    DANGLING_HORIZONTALPODAUTOSCALER = "dangling-horizontalpodautoscaler", Rule,
        "A HorizontalPodAutoscaler's `scaleTargetRef` names an object that does not exist.";
    DANGLING_INGRESS = "dangling-ingress", Rule,
        "An Ingress backend names a Service, or a port of one, that does not exist.";
    DANGLING_NETWORKPOLICY = "dangling-networkpolicy", Rule,
        "A NetworkPolicy's `podSelector` selects no Pod template.";
    DANGLING_NETWORKPOLICYPEER_PODSELECTOR = "dangling-networkpolicypeer-podselector", Rule,
        "A NetworkPolicy rule's peer `podSelector` selects no Pod template.";
    DANGLING_SERVICE = "dangling-service", Rule,
        "A Service's selector matches no Pod template, so it has no endpoints.";
    DANGLING_SERVICEMONITOR = "dangling-servicemonitor", Rule,
        "A Prometheus ServiceMonitor's selectors match no Service.";
    DEFAULT_SERVICE_ACCOUNT = "default-service-account", Rule,
        "Pods run as their namespace's `default` ServiceAccount.";
    DEPRECATED_SERVICE_ACCOUNT_FIELD = "deprecated-service-account-field", Rule,
        "A pod spec uses the deprecated `serviceAccount` field instead of `serviceAccountName`.";
    DNSCONFIG_OPTIONS = "dnsconfig-options", Rule,
        "A pod spec's `dnsConfig` does not set the expected option (`ndots: \"2\"`).";
    DOCKER_SOCK = "docker-sock", Rule,
        "The host's Docker socket is mounted into a container.";
    DROP_NET_RAW_CAPABILITY = "drop-net-raw-capability", Rule,
        "A container that sets capabilities adds `NET_RAW` or does not drop it.";
    DUPLICATE_ENV_VAR = "duplicate-env-var", Rule,
        "A container sets the same environment variable more than once.";
    ENV_VALUE_FROM = "env-value-from", Rule,
        "An environment variable reads a ConfigMap or Secret, or a key of one, that does not exist.";
    ENV_VAR_SECRET = "env-var-secret", Rule,
        "An environment variable whose name says secret has its value written in the manifest.";
    EXPOSED_SERVICES = "exposed-services", Rule,
        "A Service of type NodePort or LoadBalancer exposes Pods outside the cluster.";
    HOST_IPC = "host-ipc", Rule,
        "A pod shares the host's IPC namespace (`hostIPC: true`).";
    HOST_NETWORK = "host-network", Rule,
        "A pod shares the host's network namespace (`hostNetwork: true`).";
    HOST_PID = "host-pid", Rule,
        "A pod shares the host's process namespace (`hostPID: true`).";
    HPA_MINIMUM_THREE_REPLICAS = "hpa-minimum-three-replicas", Rule,
        "A HorizontalPodAutoscaler may scale below three replicas.";
    INVALID_TARGET_PORTS = "invalid-target-ports", Rule,
        "A container port name or a Service `targetPort` breaks the port name or number rules.";
    JOB_TTL_SECONDS_AFTER_FINISHED = "job-ttl-seconds-after-finished", Rule,
        "A standalone Job lacks `ttlSecondsAfterFinished`, or a CronJob's job template sets it.";
    LATEST_TAG = "latest-tag", Rule,
        "A container image has no tag, or the tag `latest`.";
    LIVENESS_PORT = "liveness-port", Rule,
        "A liveness probe targets a port the container does not expose.";
    MINIMUM_THREE_REPLICAS = "minimum-three-replicas", Rule,
        "A workload runs fewer than three replicas.";
    MISMATCHING_SELECTOR = "mismatching-selector", Rule,
        "A workload's selector does not match its Pod template's labels.";
    NO_ANTI_AFFINITY = "no-anti-affinity", Rule,
        "A workload with several replicas does not spread them with pod anti-affinity.";
    NO_EXTENSIONS_V1BETA = "no-extensions-v1beta", Rule,
        "An object uses a removed `extensions/v1beta*` API version.";
    NO_LIVENESS_PROBE = "no-liveness-probe", Rule,
        "A container has no liveness probe.";
    NO_NODE_AFFINITY = "no-node-affinity", Rule,
        "A pod spec sets no node affinity.";
    NO_READ_ONLY_ROOT_FS = "no-read-only-root-fs", Rule,
        "A container's root filesystem is writable (`readOnlyRootFilesystem` is not true).";
    NO_READINESS_PROBE = "no-readiness-probe", Rule,
        "A container has no readiness probe.";
    NO_ROLLING_UPDATE_STRATEGY = "no-rolling-update-strategy", Rule,
        "A workload's update strategy is not a rolling update.";
    NON_EXISTENT_SERVICE_ACCOUNT = "non-existent-service-account", Rule,
        "A pod spec names a ServiceAccount that does not exist.";
    NON_ISOLATED_POD = "non-isolated-pod", Rule,
        "No NetworkPolicy selects a workload's Pods, so they accept any traffic.";
    PDB_MAX_UNAVAILABLE = "pdb-max-unavailable", Rule,
        "A PodDisruptionBudget with `maxUnavailable: 0` allows no voluntary disruption.";
    PDB_MIN_AVAILABLE = "pdb-min-available", Rule,
        "A PodDisruptionBudget's `minAvailable` is at least the replicas of the workload it covers.";
    PDB_UNHEALTHY_POD_EVICTION_POLICY = "pdb-unhealthy-pod-eviction-policy", Rule,
        "A PodDisruptionBudget does not set `unhealthyPodEvictionPolicy`.";
    PRIORITY_CLASS_NAME = "priority-class-name", Rule,
        "A pod spec uses a priority class outside the accepted ones.";
    PRIVILEGE_ESCALATION_CONTAINER = "privilege-escalation-container", Rule,
        "A container allows privilege escalation (`allowPrivilegeEscalation: true`).";
    PRIVILEGED_CONTAINER = "privileged-container", Rule,
        "A container runs privileged (`privileged: true`).";
    PRIVILEGED_PORTS = "privileged-ports", Rule,
        "A container exposes a privileged port (below 1024).";
    READ_SECRET_FROM_ENV_VAR = "read-secret-from-env-var", Rule,
        "An environment variable reads a Secret (`secretKeyRef`) rather than a mounted file (CIS 5.4.1).";
    READINESS_PORT = "readiness-port", Rule,
        "A readiness probe targets a port the container does not expose.";
    REQUIRED_ANNOTATION_EMAIL = "required-annotation-email", Rule,
        "An object has no `email` annotation with an e-mail address.";
    REQUIRED_LABEL_OWNER = "required-label-owner", Rule,
        "An object has no `owner` label.";
    RESTART_POLICY = "restart-policy", Rule,
        "A pod spec's `restartPolicy` is neither Always nor OnFailure.";
    RUN_AS_NON_ROOT = "run-as-non-root", Rule,
        "A container may run as root: neither `runAsNonRoot: true` nor a non-zero `runAsUser`, or `runAsGroup: 0`.";
    SCC_DENY_PRIVILEGED_CONTAINER = "scc-deny-privileged-container", Rule,
        "An OpenShift SecurityContextConstraints allows privileged containers.";
    SENSITIVE_HOST_MOUNTS = "sensitive-host-mounts", Rule,
        "A sensitive host directory (`/`, `/boot`, `/dev`, `/etc`, `/lib`, `/proc`, `/sys`, `/usr`) is mounted into a container.";
    SORTED_KEYS = "sorted-keys", Rule,
        "The keys of a mapping are not in alphabetical order.";
    SSH_PORT = "ssh-port", Rule,
        "A container exposes TCP port 22 (SSH).";
    STARTUP_PORT = "startup-port", Rule,
        "A startup probe targets a port the container does not expose.";
    UNSAFE_PROC_MOUNT = "unsafe-proc-mount", Rule,
        "A container unmasks `/proc` (`procMount: Unmasked`).";
    UNSAFE_SYSCTLS = "unsafe-sysctls", Rule,
        "A pod sets an unsafe sysctl (kernel.msg*, kernel.sem, kernel.shm*, fs.mqueue.*, net.*).";
    UNSET_CPU_REQUIREMENTS = "unset-cpu-requirements", Rule,
        "A container does not request CPU.";
    UNSET_MEMORY_REQUIREMENTS = "unset-memory-requirements", Rule,
        "A container has no memory limit.";
    USE_NAMESPACE = "use-namespace", Rule,
        "A workload or Service is in the default namespace (or names none).";
    WILDCARD_IN_RULES = "wildcard-in-rules", Rule,
        "A Role or ClusterRole rule uses `*` in its verbs or resources (CIS 5.1.3).";
    WRITABLE_HOST_MOUNT = "writable-host-mount", Rule,
        "A host directory is mounted into a container without `readOnly: true`.";
    KUSTOMIZE_DEPRECATED = "kustomize-deprecated", Kustomize,
        "Warning: a kustomization field kustomize deprecated (`bases`, `patchesStrategicMerge`, `patchesJson6902`, `commonLabels`, `imageTags`, `vars`, …); the quick fix moves it to the current form where there is one (`vars` → `replacements` has none).";
    KUSTOMIZE_PATH_MISSING = "kustomize-path-missing", Kustomize,
        "A path a kustomization names (a resource, base, component, patch, generator file, CRD, OpenAPI schema) does not exist.";
    KUSTOMIZE_PATH_INVALID = "kustomize-path-invalid", Kustomize,
        "A path kustomize cannot use: absolute, a file where a folder with a kustomization is needed (a base or component), a folder without a kustomization, a folder where a file is needed, or a file outside the kustomization's folder (kustomize's load restrictor).";
    KUSTOMIZE_PATH_OUTSIDE = "kustomize-path-outside", Kustomize,
        "Warning: a path leads outside the workspace folders; kube-lsp does not follow it.";
    KUSTOMIZE_CYCLE = "kustomize-cycle", Kustomize,
        "Kustomizations include each other in a cycle, which kustomize cannot build.";
    KUSTOMIZE_PATCH = "kustomize-patch", Kustomize,
        "A JSON 6902 patch operation that is malformed (`op`, `path`, `from`, `value`) or whose `path` cannot exist in the target kind's schema.";
    KUSTOMIZE_RENDER = "kustomize-render", Kustomize,
        "Rendering the kustomization failed (kustomize's error, on the entry it concerns) or was stopped (timeout, too much output).";
    KUSTOMIZE_RENDERED = "kustomize-rendered", Kustomize,
        "A problem schema validation, or the cluster's dry-run and diff (messages starting \"rendered, dry-run:\"), finds in the rendered output of a kustomization, on the file and line that produced the value (the patch that set it, else the kustomization entry of the transformer that set it: namePrefix/nameSuffix, namespace, labels/commonLabels, commonAnnotations, replicas, images; else the resource's own file, else its generator).";
    REFERENCE_MISSING = "reference-missing", Reference,
        "A reference (ConfigMap, Secret, ServiceAccount, PVC, Service, Role, StorageClass…) names an object found neither in the workspace nor in the cluster; information when that cannot be known (no cluster configured and a partial workspace: a Helm chart, an overlay whose base is outside it, a cluster-provided kind, a cluster that cannot be asked). The quick fix changes a likely typo to the name that exists.";
    REFERENCE_MISSING_KEY = "reference-missing-key", Reference,
        "A `key` of a ConfigMap or Secret (`configMapKeyRef`, `secretKeyRef`, `items[].key`) that the object found in the workspace does not have.";
    REFERENCE_MISSING_PORT = "reference-missing-port", Reference,
        "An Ingress backend's port that its Service does not have, or a Service's named `targetPort` that no container of the Pods it selects declares.";
    REFERENCE_NO_MATCH = "reference-no-match", Reference,
        "A Service, PodDisruptionBudget or NetworkPolicy selector that matches no workload of the workspace nor any Pod of the cluster.";
    HELM_TEMPLATE = "helm-template", Helm,
        "A Go template action that cannot be read: `{{` without `}}`, an unterminated string or comment, an `end` or `else` with no block open, a block without its `end`.";
    HELM_VALUES_UNDEFINED = "helm-values-undefined", Helm,
        "Warning: a template reads `.Values.x.y` that no values file a render reads defines: the chart's `values.yaml`, the extra files of `kube-lsp.helm.valuesFiles` (`--helm-values` in `check`), and for a subchart its parent's under the subchart's key and `global:`. Another `values-*.yaml` of the chart counts only when it is one of the extra files (Helm reads it only with `-f`).";
    HELM_VALUES_SCHEMA = "helm-values-schema", Helm,
        "A value of `values.yaml` that the chart's `values.schema.json` rejects.";
    HELM_RENDER = "helm-render", Helm,
        "`helm template` failed: Helm's error on the line it names (a nil pointer, a `required` value, YAML broken after rendering, missing dependencies, a render over its time limit).";
    HELM_RENDERED = "helm-rendered", Helm,
        "A finding on the rendered chart (its schema, or the cluster's dry-run) mapped back to the template line, or to `values.yaml` when the value came straight from there.";
}

/// The registry as the Markdown table `docs/diagnostics.md` holds.
pub fn markdown_table() -> String {
    let mut table = String::from("| code | reported by | meaning |\n|---|---|---|\n");
    for info in ALL {
        table.push_str(&format!(
            "| `{}` | {} | {} |\n",
            info.code,
            info.group.title(),
            info.meaning
        ));
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_doc(relative: &str) -> String {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(relative);
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    #[test]
    fn docs_list_exactly_the_registered_codes() {
        let table = markdown_table();
        assert!(
            read_doc("docs/diagnostics.md").contains(&table),
            "docs/diagnostics.md must hold the registry's table:\n{table}"
        );
    }

    /// Every code README and docs name in backticks (`yaml-syntax`, or a family like
    /// `schema-*`) exists.
    #[test]
    fn readme_and_docs_name_only_registered_codes() {
        let prefixes = [
            "yaml-",
            "schema-",
            "dry-run-",
            "diff-",
            "kustomize-",
            "reference-",
            "helm-",
        ];
        let docs = std::fs::read_dir(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs"))
            .unwrap()
            .filter_map(|e| e.ok()?.path().to_str().map(str::to_string))
            .filter(|p| p.ends_with(".md"));
        for path in std::iter::once("README.md".to_string()).chain(docs) {
            let text = read_doc(&path);
            let named = text
                .split('`')
                .skip(1)
                .step_by(2)
                .filter(|word| prefixes.iter().any(|p| word.starts_with(p)))
                .filter(|word| {
                    word.chars()
                        .all(|c| c.is_ascii_lowercase() || c == '-' || c == '*')
                });
            for word in named {
                let known = match word.strip_suffix('*') {
                    Some(family) => ALL.iter().any(|i| i.code.as_str().starts_with(family)),
                    None => ALL.iter().any(|i| i.code == word),
                };
                assert!(
                    known,
                    "{path} names `{word}`, which is not a registered code"
                );
            }
        }
    }

    #[test]
    fn codes_are_unique_and_named_after_their_group() {
        for (i, info) in ALL.iter().enumerate() {
            assert!(
                ALL[..i].iter().all(|other| other.code != info.code),
                "{} twice",
                info.code
            );
            let prefix = match info.group {
                Group::Yaml => "yaml-",
                Group::Schema => "schema-",
                Group::DryRun => "dry-run-",
                Group::Diff => "diff-",
                Group::Limit => "limit-",
                Group::Input | Group::Rule => "",
                Group::Kustomize => "kustomize-",
                Group::Reference => "reference-",
                Group::Helm => "helm-",
            };
            assert!(info.code.as_str().starts_with(prefix), "{}", info.code);
            if info.group == Group::Rule {
                // kube-linter's bare check names: lowercase words joined by dashes, never in
                // another group's namespace.
                let name = info.code.as_str();
                assert!(
                    name.split('-').all(|w| !w.is_empty()
                        && w.chars()
                            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())),
                    "{name}"
                );
                for other in [
                    "yaml-",
                    "schema-",
                    "dry-run-",
                    "diff-",
                    "limit-",
                    "kustomize-",
                ] {
                    assert!(!name.starts_with(other), "{name}");
                }
            }
            assert_eq!(info.code.info().code, info.code);
        }
    }
}

use std::sync::Arc;

use super::*;
use crate::workspace::document::{Document, read_documents};
use crate::yaml::key_path::KeyPath;

fn read(text: &str) -> Vec<Document> {
    read_documents(&Arc::new(text.to_string()))
}

/// (field, part, value, target kind, the text at the range) of a reference.
type Read = (String, Part, String, String, String);

/// Every reference of a document, read.
fn refs(text: &str, document: &Document) -> Vec<Read> {
    document
        .refs
        .iter()
        .map(|r| {
            (
                r.spec().field.to_string(),
                r.part,
                r.value.to_string(),
                r.target().kind.to_string(),
                text[r.range.clone()].to_string(),
            )
        })
        .collect()
}

const DEPLOYMENT: &str = r#"apiVersion: apps/v1
kind: Deployment
metadata: {name: shop, namespace: web}
spec:
  selector:
    matchLabels: {app: shop}
  template:
    metadata:
      labels:
        app: shop
        tier: "front"
    spec:
      serviceAccountName: shop-sa
      priorityClassName: high
      runtimeClassName: gvisor
      imagePullSecrets: [{name: registry}]
      initContainers:
      - name: init
        envFrom:
        - configMapRef: {name: init-env, optional: true}
      containers:
      - name: app
        ports:
        - {name: http, containerPort: 8080}
        - containerPort: 9090
        env:
        - name: MODE
          valueFrom:
            configMapKeyRef: {name: app-config, key: mode}
        - name: PASSWORD
          valueFrom:
            secretKeyRef:
              name: "db"
              key: 'password'
        envFrom:
        - secretRef: {name: env-secret}
      volumes:
      - name: config
        configMap:
          name: files
          items: [{key: a.conf, path: a}, {key: b.conf, path: b}]
      - name: cert
        secret: {secretName: tls, items: [{key: tls.crt, path: c}]}
      - name: data
        persistentVolumeClaim: {claimName: data}
      - name: all
        projected:
          sources:
          - configMap: {name: projected-cm, items: [{key: x, path: x}]}
          - secret: {name: projected-secret}
          - serviceAccountToken: {path: token}
"#;

#[test]
fn every_pod_spec_reference_with_its_range() {
    let documents = read(DEPLOYMENT);
    let found = refs(DEPLOYMENT, &documents[0]);
    let expected: Vec<(&str, Part, &str, &str)> = vec![
        (
            "env[].valueFrom.configMapKeyRef",
            Part::Name,
            "app-config",
            "ConfigMap",
        ),
        (
            "env[].valueFrom.configMapKeyRef",
            Part::Key,
            "mode",
            "ConfigMap",
        ),
        ("env[].valueFrom.secretKeyRef", Part::Name, "db", "Secret"),
        (
            "env[].valueFrom.secretKeyRef",
            Part::Key,
            "password",
            "Secret",
        ),
        (
            "envFrom[].configMapRef",
            Part::Name,
            "init-env",
            "ConfigMap",
        ),
        ("envFrom[].secretRef", Part::Name, "env-secret", "Secret"),
        ("volumes[].configMap", Part::Name, "files", "ConfigMap"),
        ("volumes[].configMap", Part::Key, "a.conf", "ConfigMap"),
        ("volumes[].configMap", Part::Key, "b.conf", "ConfigMap"),
        ("volumes[].secret", Part::Name, "tls", "Secret"),
        ("volumes[].secret", Part::Key, "tls.crt", "Secret"),
        (
            "volumes[].persistentVolumeClaim",
            Part::Name,
            "data",
            "PersistentVolumeClaim",
        ),
        (
            "volumes[].projected.sources[].configMap",
            Part::Name,
            "projected-cm",
            "ConfigMap",
        ),
        (
            "volumes[].projected.sources[].configMap",
            Part::Key,
            "x",
            "ConfigMap",
        ),
        (
            "volumes[].projected.sources[].secret",
            Part::Name,
            "projected-secret",
            "Secret",
        ),
        (
            "serviceAccountName",
            Part::Name,
            "shop-sa",
            "ServiceAccount",
        ),
        ("imagePullSecrets[]", Part::Name, "registry", "Secret"),
        ("priorityClassName", Part::Name, "high", "PriorityClass"),
        ("runtimeClassName", Part::Name, "gvisor", "RuntimeClass"),
    ];
    let mut found_sorted: Vec<_> = found
        .iter()
        .map(|(f, p, v, k, at)| {
            assert_eq!(v, at, "the range holds the value (inside quotes)");
            (f.as_str(), *p, v.as_str(), k.as_str())
        })
        .collect();
    let mut expected_sorted = expected.clone();
    found_sorted.sort();
    expected_sorted.sort();
    assert_eq!(found_sorted, expected_sorted);
    let d = &documents[0];
    let optional: Vec<&str> = d
        .refs
        .iter()
        .filter(|r| r.optional)
        .map(|r| &*r.value)
        .collect();
    assert_eq!(optional, ["init-env"]);
    let key = d.refs.iter().find(|r| &*r.value == "password").unwrap();
    assert_eq!(key.target_name(), "db");
    // Container ports, and where the Pod template labels and the selector are.
    let ports: Vec<(Option<&str>, Option<u32>, &str)> = d
        .ports
        .iter()
        .map(|p| (p.name.as_deref(), p.number, &DEPLOYMENT[p.range.clone()]))
        .collect();
    assert_eq!(
        ports,
        [
            (Some("http"), Some(8080), "http"),
            (None, Some(9090), "9090")
        ]
    );
    let spans = d.label_spans.as_deref().unwrap();
    assert_eq!(&DEPLOYMENT[spans.pod_labels_at.clone().unwrap()], "labels");
    let tier = &spans.pod_labels[1];
    assert_eq!(
        (
            &DEPLOYMENT[tier.key_range.clone()],
            &DEPLOYMENT[tier.value_range.clone()]
        ),
        ("tier", "front")
    );
    assert_eq!(&DEPLOYMENT[spans.selector_at.clone().unwrap()], "selector");
    assert_eq!(&*spans.selector[0].key, "app");
    assert_eq!(d.line, 2, "the line of metadata.name");
}

#[test]
fn objects_that_point_at_others() {
    let text = r#"apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web}
spec:
  ingressClassName: nginx
  defaultBackend:
    service: {name: fallback, port: {number: 80}}
  tls: [{hosts: [a.example], secretName: a-tls}]
  rules:
  - http:
      paths:
      - path: /
        pathType: Prefix
        backend:
          service: {name: web, port: {name: http}}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: web}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: StatefulSet, name: db}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: read, namespace: shop}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}
subjects:
- {kind: ServiceAccount, name: reader, namespace: other}
- {kind: User, name: jane}
- {kind: Group, name: devs}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: admin}
roleRef: {kind: ClusterRole, name: my-admin}
subjects: [{kind: ServiceAccount, name: robot, namespace: ops}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  serviceName: db-headless
  volumeClaimTemplates:
  - metadata: {name: data}
    spec: {storageClassName: fast}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data}
spec: {storageClassName: slow}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports:
  - {name: http, port: 80, targetPort: web-port}
  - {port: 443, targetPort: 8443}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
data: {mode: fast, "level": "3"}
binaryData: {blob: AAEC}
---
apiVersion: v1
kind: Secret
metadata: {name: db}
stringData: {password: hunter2}
data: {user: YWRtaW4=}
"#;
    let documents = read(text);
    let all: Vec<Vec<Read>> = documents.iter().map(|d| refs(text, d)).collect();
    let short = |i: usize| -> Vec<(Part, String, String)> {
        all[i]
            .iter()
            .map(|(_, p, v, k, _)| (*p, v.clone(), k.clone()))
            .collect()
    };
    let p = |part, value: &str, kind: &str| (part, value.to_string(), kind.to_string());
    assert_eq!(
        short(0),
        [
            p(Part::Name, "fallback", "Service"),
            p(Part::PortNumber, "80", "Service"),
            p(Part::Name, "web", "Service"),
            p(Part::PortName, "http", "Service"),
            p(Part::Name, "a-tls", "Secret"),
            p(Part::Name, "nginx", "IngressClass"),
        ]
    );
    assert_eq!(short(1), [p(Part::Name, "db", "StatefulSet")]);
    let hpa = documents[1].refs[0].target();
    assert_eq!(
        (hpa.group, hpa.api_version, hpa.namespaced),
        ("apps", Some("apps/v1"), true)
    );
    assert_eq!(
        short(2),
        [
            p(Part::Name, "view", "ClusterRole"),
            p(Part::Name, "reader", "ServiceAccount")
        ]
    );
    assert_eq!(documents[2].refs[1].namespace(), Some("other"));
    assert!(!documents[2].refs[0].target().namespaced);
    assert_eq!(
        short(3),
        [
            p(Part::Name, "my-admin", "ClusterRole"),
            p(Part::Name, "robot", "ServiceAccount")
        ]
    );
    assert_eq!(
        short(4),
        [
            p(Part::Name, "db-headless", "Service"),
            p(Part::Name, "fast", "StorageClass")
        ]
    );
    assert_eq!(short(5), [p(Part::Name, "slow", "StorageClass")]);
    let service = &documents[6];
    assert!(service.refs.is_empty());
    let ports: Vec<(Option<&str>, Option<u32>, Option<&str>)> = service
        .ports
        .iter()
        .map(|p| {
            (
                p.name.as_deref(),
                p.number,
                p.target_name.as_ref().map(|(t, r)| {
                    assert_eq!(&text[r.clone()], &**t);
                    &**t
                }),
            )
        })
        .collect();
    assert_eq!(
        ports,
        [
            (Some("http"), Some(80), Some("web-port")),
            (None, Some(443), None)
        ]
    );
    let keys = |i: usize| -> Vec<&str> {
        documents[i]
            .keys
            .iter()
            .map(|k| &text[k.range.clone()])
            .collect()
    };
    assert_eq!(keys(7), ["mode", "level", "blob"]);
    assert_eq!(keys(8), ["user", "password"]);
}

#[test]
fn cron_jobs_pods_and_templated_names() {
    let text = "apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: nightly}\nspec:\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          serviceAccountName: batch\n          containers: [{name: c, envFrom: [{configMapRef: {name: nightly-env}}]}]\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: p, labels: {app: p}}\nspec:\n  serviceAccountName: pod-sa\n  volumes: [{name: v, configMap: {name: \"\"}}]\n";
    let documents = read(text);
    let names = |d: &Document| {
        d.refs
            .iter()
            .map(|r| r.value.to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(names(&documents[0]), ["nightly-env", "batch"]);
    assert_eq!(
        names(&documents[1]),
        ["pod-sa"],
        "an empty name is no reference"
    );
    assert_eq!(
        documents[1].label_spans.as_ref().unwrap().pod_labels.len(),
        1
    );

    let chart = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ include \"x.fullname\" . }}\nspec:\n  template:\n    spec:\n      serviceAccountName: {{ .Values.sa }}\n      containers:\n      - name: c\n        envFrom:\n        - configMapRef:\n            name: {{ .Release.Name }}-env\n        - secretRef:\n            name: static-secret\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata:\n  key: {{ .Values.x }}\n  {{ .Values.name }}: y\n";
    let documents = read(chart);
    assert_eq!(
        names(&documents[0]),
        ["static-secret"],
        "templated values are no references"
    );
    let keys: Vec<&str> = documents[1].keys.iter().map(|k| &*k.name).collect();
    assert_eq!(
        keys,
        ["key"],
        "a key whose value is templated counts; a templated key does not"
    );
}

#[test]
fn paths_match_the_table() {
    let path = |text: &str| KeyPath::parse(text);
    let matched = |kind: &str, p: &str| {
        match_path(kind, &path(p)).map(|m| (m.spec.field, m.part, m.anchor.to_string()))
    };
    assert_eq!(
        matched(
            "Deployment",
            "spec.template.spec.containers[0].env[2].valueFrom.configMapKeyRef.key"
        ),
        Some((
            "env[].valueFrom.configMapKeyRef",
            Part::Key,
            "spec.template.spec.containers[0].env[2].valueFrom.configMapKeyRef".into()
        ))
    );
    assert_eq!(
        matched("Pod", "spec.volumes[1].configMap.items[0].key"),
        Some((
            "volumes[].configMap",
            Part::Key,
            "spec.volumes[1].configMap".into()
        ))
    );
    assert_eq!(
        matched(
            "CronJob",
            "spec.jobTemplate.spec.template.spec.serviceAccountName"
        )
        .map(|m| m.1),
        Some(Part::Name)
    );
    assert_eq!(
        matched(
            "Ingress",
            "spec.rules[0].http.paths[0].backend.service.port.name"
        )
        .map(|m| m.1),
        Some(Part::PortName)
    );
    assert_eq!(
        matched("RoleBinding", "subjects[0].name").map(|m| m.0),
        Some("subjects[]")
    );
    assert_eq!(
        matched("Service", "spec.template.spec.serviceAccountName"),
        None
    );
    assert_eq!(
        matched("Deployment", "spec.template.spec.containers[0].image"),
        None
    );
}

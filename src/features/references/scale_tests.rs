//! The reference diagnostics and completion at scale: big workspaces, many copies of one app.

use super::tests::Fixture;
use super::*;

#[test]
fn fifty_thousand_objects_resolve_without_false_warnings() {
    // 50 files of 1,000 ConfigMaps each, and a Pod referring to some of them.
    let mut files = Vec::new();
    for file in 0..50 {
        let mut text = String::new();
        for n in 0..1000 {
            text.push_str(&format!("---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-{file}-{n}\n  namespace: big\ndata:\n  k: v\n"));
        }
        files.push((format!("many/file-{file}.yaml"), text));
    }
    let pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: big}\nspec:\n  containers:\n  - name: c\n    env:\n    - name: A\n      valueFrom:\n        configMapKeyRef:\n          name: cm-49-999\n          key: k\n    - name: B\n      valueFrom:\n        configMapKeyRef:\n          name: cm-50-0\n          key: k\n";
    files.push(("pod.yaml".into(), pod.into()));
    let files: Vec<(&str, String)> = files.iter().map(|(p, t)| (p.as_str(), t.clone())).collect();
    let fixture = Fixture::new(&files);
    fixture.with(None, |scope| {
        assert_eq!(
            scope
                .index
                .of_kind("ConfigMap", None, crate::workspace::index::Namespace::Any)
                .count(),
            50_000
        );
        let found = diagnostics(scope, &fixture.path("pod.yaml"));
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0]
                .message
                .starts_with("ConfigMap `cm-50-0` in namespace `big` not found")
        );
        let text = pod.replace("name: cm-49-999", "name: ");
        let offset = text.find("name: \n").unwrap() + 6;
        let items = completions(scope, &fixture.path("pod.yaml"), &text, 0, offset).items;
        assert_eq!(items.len(), 1000, "bounded");
    });
}

/// `copies` copies of a Service whose target port (`htttp`) no Pod names and of the Deployment
/// it selects, whose Pod spec starts with `spec_line(copy)`.
fn web_copies(copies: usize, spec_line: impl Fn(usize) -> String) -> String {
    let mut text = String::new();
    for n in 0..copies {
        let first = spec_line(n);
        text.push_str(&format!("---\napiVersion: v1\nkind: Service\nmetadata: {{name: web-{n}}}\nspec:\n  selector: {{app: web}}\n  ports:\n  - port: 80\n    targetPort: htttp\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: web-{n}}}\nspec:\n  selector: {{matchLabels: {{app: web}}}}\n  template:\n    metadata: {{labels: {{app: web}}}}\n    spec:\n{first}      containers:\n      - name: web\n        image: nginx\n        ports:\n        - {{name: http, containerPort: 8080}}\n"));
    }
    text
}

#[test]
fn copies_of_one_app_ask_each_question_of_the_workspace_once() {
    // 300 copies of a Service and the Deployment it selects, in one file: each Service's
    // selector and target port are checked against the same selection, computed once, and
    // where the file's objects land is looked up once.
    let text = web_copies(300, |_| String::new());
    let fixture = Fixture::new(&[("app/all.yaml", text)]);
    fixture.with(None, |scope| {
        let (found, work) = diagnostics::diagnostics_counted(scope, &fixture.path("app/all.yaml"));
        assert_eq!(
            found.len(),
            300,
            "one missing target port per Service: {found:?}"
        );
        assert!(
            found[0].message.ends_with(
                "(Deployment `web-0`, Deployment `web-1`, Deployment `web-2`, and 297 more)"
            ),
            "{}",
            found[0].message
        );
        assert_eq!(
            work,
            diagnostics::Work {
                selections: 1,
                kustomization_lookups: 1,
                // The documents of the file come one after the other: its path is hashed once.
                kustomization_paths_hashed: 1,
                name_lists: 0,
            }
        );
    });
}

#[test]
fn a_big_file_checked_in_parts_gets_the_diagnostics_of_one_check() {
    // 1,100 copies of a Service whose target port no Pod names and a Deployment naming a
    // ServiceAccount that does not exist: over the size that is checked in parts.
    let text = web_copies(1100, |n| format!("      serviceAccountName: robott-{n}\n"));
    let fixture = Fixture::new(&[("app/all.yaml", text)]);
    let path = fixture.path("app/all.yaml");
    fixture.with(None, |scope| {
        let documents: Vec<_> = scope.index.documents_of(&path).collect();
        assert!(documents.len() >= diagnostics::PARTS_FROM);
        let (found, work) = diagnostics::diagnostics_counted(scope, &path);
        let (whole, _) = diagnostics::check_part(scope, &path, &documents);
        assert_eq!(found.len(), 2200, "a port and a name per copy");
        assert_eq!(found, whole);
        // Each part selects the Deployments once.
        assert_eq!(work.selections, crate::text::threads::available());
    });
}

#[test]
fn many_missing_names_of_one_kind_gather_its_names_once() {
    // 500 Deployments naming 500 ServiceAccounts that do not exist, beside 500 that do: each
    // missing name gets its typo suggestion from one list of the ServiceAccounts' names.
    let mut text = String::new();
    for n in 0..500 {
        text.push_str(&format!("---\napiVersion: v1\nkind: ServiceAccount\nmetadata: {{name: robot-{n}}}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: web-{n}}}\nspec:\n  selector: {{matchLabels: {{app: web-{n}}}}}\n  template:\n    metadata: {{labels: {{app: web-{n}}}}}\n    spec:\n      serviceAccountName: robott-{n}\n      containers:\n      - name: web\n        image: nginx\n"));
    }
    let fixture = Fixture::new(&[("app/all.yaml", text)]);
    fixture.with(None, |scope| {
        let (found, work) = diagnostics::diagnostics_counted(scope, &fixture.path("app/all.yaml"));
        assert_eq!(found.len(), 500, "{found:?}");
        assert!(
            found[7].message.ends_with("did you mean `robot-7`?"),
            "{}",
            found[7].message
        );
        assert_eq!(work.name_lists, 1);
    });
}

#[test]
fn an_edit_checks_only_the_documents_it_touched() {
    let text = web_copies(300, |_| String::new());
    let fixture = Fixture::new(&[("app/all.yaml", text.clone())]);
    let path = fixture.path("app/all.yaml");
    fixture.with(None, |scope| {
        let whole = diagnostics(scope, &path);
        assert_eq!(whole.len(), 300);
        // A point inside the 150th Service, and the range from it to the next Service's start.
        let service = text.match_indices("kind: Service").nth(150).unwrap().0;
        let next = text.match_indices("kind: Service").nth(151).unwrap().0;
        let (found, part) = diagnostics::diagnostics_within(scope, &path, service..service)
            .expect("the scan is done");
        assert_eq!(found, [whole[150].clone()]);
        assert!(part.start < service && service < part.end && part.end < next);
        // Reaching into the next documents checks them too (the Deployment between has none).
        let (found, _) = diagnostics::diagnostics_within(scope, &path, service..next + 1).unwrap();
        assert_eq!(found, whole[150..152]);
    });
}

//! The rules through `kube-lsp check`: kube-linter's parity on its fixtures (each check alone,
//! as its own tests run it), exit codes, SARIF, kube-linter's configuration file, objects found
//! in other checked files.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::cli::{kube_lsp, kube_lsp_with_input, stdout};

fn corpus(relative: &str) -> PathBuf {
    common::corpus::path(relative)
}

fn json(args: &[&str]) -> (Option<i32>, Vec<serde_json::Value>) {
    let mut all = vec!["check", "--format", "json"];
    all.extend_from_slice(args);
    let output = kube_lsp(&all);
    let reported: Vec<serde_json::Value> = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", stdout(&output)));
    (output.status.code(), reported)
}

/// Every end-to-end test of kube-linter that runs one check alone on its fixture
/// (`--include CHECK --do-not-auto-add-defaults`, as kube-linter's own run): the same number of
/// reports.
#[test]
fn each_check_alone_gives_kube_linters_count() {
    let expected = std::fs::read_to_string(corpus("kube-linter/expected.json")).unwrap();
    let expected: serde_json::Value = serde_json::from_str(&expected).unwrap();
    let mut compared = 0;
    for test in expected.as_object().unwrap().values() {
        let (Some(check), Some(file)) = (test["check"].as_str(), test["file"].as_str()) else {
            continue;
        };
        if check == "schema-validation" {
            continue;
        }
        let fixture = corpus(&format!("kube-linter/checks/{file}"));
        let (_, reported) = json(&[
            "--include",
            check,
            "--do-not-auto-add-defaults",
            fixture.to_str().unwrap(),
        ]);
        let ours = reported.iter().filter(|r| r["code"] == check).count();
        assert_eq!(
            ours,
            test["count"].as_u64().unwrap() as usize,
            "{check} on {file}"
        );
        compared += 1;
    }
    assert_eq!(compared, 62);
}

#[test]
fn warnings_fail_only_with_strict_and_sarif_lists_them() {
    let pod = b"apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\nspec:\n  hostPID: true\n  containers:\n  - name: a\n    image: nginx:1.27\n";
    let output = kube_lsp_with_input(&["check", "-"], pod);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    assert!(stdout(&output).contains("<stdin>:6:12: warning: the Pods share the host's process namespace (hostPID: true) [host-pid]"));
    let output = kube_lsp_with_input(&["check", "--strict", "-"], pod);
    assert_eq!(output.status.code(), Some(1));

    let output = kube_lsp_with_input(&["check", "--format", "sarif", "-"], pod);
    let log: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(log["version"], "2.1.0");
    let run = &log["runs"][0];
    let results = run["results"].as_array().unwrap();
    let host_pid = results
        .iter()
        .find(|r| r["ruleId"] == "host-pid")
        .expect("host-pid");
    assert_eq!(host_pid["level"], "warning");
    let region = &host_pid["locations"][0]["physicalLocation"]["region"];
    assert_eq!(
        (region["startLine"].as_u64(), region["startColumn"].as_u64()),
        (Some(6), Some(12))
    );
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    let rule = &rules[host_pid["ruleIndex"].as_u64().unwrap() as usize];
    assert_eq!(rule["id"], "host-pid");
    assert!(
        rule["helpUri"]
            .as_str()
            .unwrap()
            .ends_with("/docs/rules.md#host-pid")
    );
    // Every result's rule is described.
    for result in results {
        assert_eq!(
            rules[result["ruleIndex"].as_u64().unwrap() as usize]["id"],
            result["ruleId"]
        );
    }
}

/// kube-linter's configuration file in the current directory, or named with `--config`.
#[test]
fn kube_linters_configuration_file_is_honoured() {
    let dir = tempfile::tempdir().unwrap();
    let pod = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\nspec:\n  hostPID: true\n  containers:\n  - name: a\n    image: nginx:1.27\n";
    std::fs::write(dir.path().join("pod.yaml"), pod).unwrap();
    std::fs::write(
        dir.path().join(".kube-linter.yaml"),
        "checks:\n  doNotAutoAddDefaults: true\n  include: [no-liveness-probe]\n",
    )
    .unwrap();
    let run = |args: &[&str]| {
        let output = Command::new(env!("CARGO_BIN_EXE_kube-lsp"))
            .args(args)
            .current_dir(dir.path())
            .output()
            .unwrap();
        let reported: Vec<serde_json::Value> = serde_json::from_slice(&output.stdout).unwrap();
        let mut codes: Vec<String> = reported
            .iter()
            .map(|r| r["code"].as_str().unwrap().to_string())
            .collect();
        codes.dedup();
        codes
    };
    assert_eq!(
        run(&["check", "--format", "json", "pod.yaml"]),
        ["no-liveness-probe"]
    );
    std::fs::write(
        dir.path().join("other.yaml"),
        "checks:\n  addAllBuiltIn: true\n  exclude: [sorted-keys]\n",
    )
    .unwrap();
    let all = run(&[
        "check",
        "--format",
        "json",
        "--config",
        "other.yaml",
        "pod.yaml",
    ]);
    assert!(
        all.len() > 5 && all.contains(&"host-pid".to_string()),
        "{all:?}"
    );
}

/// The rules that look at other objects find them in the other checked files.
#[test]
fn objects_in_other_files_count() {
    let dir = tempfile::tempdir().unwrap();
    let deployment = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: shop\nspec:\n  selector:\n    matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: web}\n    spec:\n      serviceAccountName: web\n      containers:\n      - name: web\n        image: nginx:1.27\n";
    let account =
        "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: web\n  namespace: shop\n";
    let service = "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  namespace: shop\nspec:\n  selector: {app: web}\n  ports: [{port: 80}]\n";
    let write = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path.to_str().unwrap().to_string()
    };
    let (deployment, account, service) = (
        write("deployment.yaml", deployment),
        write("account.yaml", account),
        write("service.yaml", service),
    );
    let codes = |paths: &[&str]| {
        let mut args = vec!["--include", "references", "--do-not-auto-add-defaults"];
        args.extend_from_slice(paths);
        json(&args)
            .1
            .iter()
            .map(|r| r["code"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        codes(&[&deployment, &service]),
        ["non-existent-service-account"]
    );
    assert_eq!(codes(&[&service]), ["dangling-service"]);
    assert!(codes(&[&deployment, &account, &service]).is_empty());
    assert!(Path::new(&account).exists());
}

//! `kube-lsp check` and kustomize, with the real kustomize (`kubectl kustomize`): the fixture
//! (a base with generators, two overlays, a component) is clean, rendered findings are reported
//! on the patch that produced them, a patch file checked alone is read in the context of the
//! kustomization near it, and a render error lands on the kustomization entry it names.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::cli::stdout;
use common::fixture::tree_copy;

/// `kube-lsp check ARGS` run in `cwd`, without the best-practice rules: what is asserted here is
/// kustomize's part (the rules' findings on the fixture are tested with the rules).
fn check_in(cwd: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kube-lsp"))
        .args(["check", "--no-rules"])
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("run kube-lsp")
}

/// A strategic-merge patch that adds a container without an image: valid as a patch, invalid
/// once rendered.
const SIDECAR_PATCH: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      containers:\n      - name: sidecar\n        args: [run]\n";

#[test]
fn the_fixture_is_clean_rendered_and_not() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/kustomize");
    for extra in [&[][..], &["--no-render"][..]] {
        let output = check_in(&root, &[extra, &["."]].concat());
        assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
        assert!(output.stdout.is_empty(), "{}", stdout(&output));
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!stderr.contains("not rendered"), "{stderr}");
    }
    // A patch that sets only `replicas`, checked alone: no required fields asked of it.
    let output = check_in(&root, &["overlays/staging/replicas.yaml"]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    assert!(output.stdout.is_empty(), "{}", stdout(&output));
}

#[test]
fn rendered_findings_are_reported_on_the_patch_alone_or_with_its_overlay() {
    let (_dir, root) = tree_copy("kustomize");
    std::fs::write(root.join("overlays/staging/replicas.yaml"), SIDECAR_PATCH).unwrap();
    for args in [
        &["."][..],
        &["overlays/staging"],
        &["overlays/staging/replicas.yaml"],
    ] {
        let output = check_in(&root, args);
        let text = stdout(&output);
        assert_eq!(output.status.code(), Some(1), "{args:?}: {text}");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 1, "{args:?}: {text}");
        assert!(
            // `.` names the file `./overlays/…`.
            lines[0].contains("overlays/staging/replicas.yaml:9:9: error: ")
                && lines[0].contains("`image`")
                && lines[0].ends_with("[kustomize-rendered]"),
            "{args:?}: {text}"
        );
    }
    // Without rendering, the patch is valid as a patch.
    let output = check_in(&root, &["--no-render", "overlays/staging/replicas.yaml"]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
}

#[test]
fn kustomization_errors_land_on_their_fields_and_entries() {
    let (_dir, root) = tree_copy("kustomize");
    std::fs::write(
        root.join("overlays/staging/kustomization.yaml"),
        "resources:\n- ../../base\n- missing.yaml\nresourcs:\n- extra.yaml\n",
    )
    .unwrap();
    let output = check_in(&root, &["overlays/staging/kustomization.yaml"]);
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    // The missing file and the unknown field, once each: kustomize's failed build is about
    // the same key as the schema's error, so it is not reported again.
    let found: Vec<&str> = text
        .lines()
        .map(|l| l.split(": error: ").next().unwrap())
        .collect();
    assert_eq!(
        found,
        [
            "overlays/staging/kustomization.yaml:4:1",
            "overlays/staging/kustomization.yaml:3:3"
        ],
        "{text}"
    );
    assert!(
        text.contains("`resourcs`") && text.contains("`missing.yaml`"),
        "{text}"
    );
}

#[test]
fn findings_on_values_a_transformer_set_are_reported_on_its_entry() {
    let (_dir, root) = tree_copy("kustomize");
    let staging = root.join("overlays/staging/kustomization.yaml");
    let text = std::fs::read_to_string(&staging).unwrap().replace(
        "namespace: shop-staging\n",
        "namespace: shop-staging\ncommonLabels:\n  tier: not-a-label!\n",
    );
    std::fs::write(&staging, text).unwrap();
    let output = check_in(&root, &["overlays/staging"]);
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    let rendered: Vec<&str> = text
        .lines()
        .filter(|l| l.ends_with("[kustomize-rendered]"))
        .collect();
    // On the label's value in `commonLabels`, once per place it is set (metadata, selector,
    // template), never on the base's files.
    assert!(!rendered.is_empty(), "{text}");
    for line in &rendered {
        assert!(
            line.starts_with(
                "overlays/staging/kustomization.yaml:5:9: error: Invalid value: \"not-a-label!\""
            ),
            "{text}"
        );
    }
}

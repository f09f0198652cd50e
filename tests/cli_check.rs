//! `kube-lsp check` as a user runs it: output format, exit codes, stdin, directories.

mod common;

use std::path::Path;

use common::cli::{kube_lsp, kube_lsp_with_input, stdout};

#[test]
fn the_examples_have_no_errors_and_the_run_says_what_it_found() {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let output = kube_lsp(&["check", examples.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    // Only the rules' findings (YAML and schema are clean), none an error.
    let text = stdout(&output);
    assert!(!text.is_empty());
    for line in text.lines() {
        assert!(
            line.contains(": info: ") || line.contains(": warning: "),
            "{line}"
        );
        assert!(
            !line.contains("[yaml-") && !line.contains("[schema-"),
            "{line}"
        );
    }
    let summary = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        summary.trim(),
        format!(
            "kube-lsp: checked 3 files, 5 documents: 0 errors, {} warning, {} infos, 0 hints",
            text.matches(": warning: ").count(),
            text.matches(": info: ").count()
        )
    );
    // Without the rules they are clean, and the run says so.
    let output = kube_lsp(&["check", "--no-rules", examples.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(0));
    assert!(output.stdout.is_empty());
    assert_eq!(
        String::from_utf8_lossy(&output.stderr).trim(),
        "kube-lsp: checked 3 files, 5 documents: no problems found"
    );
}

#[test]
fn errors_print_like_a_compiler_and_exit_1() {
    let output = kube_lsp_with_input(&["check", "-"], b"kind: Pod\nkind: Service\n");
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        stdout(&output),
        "<stdin>:2:1: error: duplicate key `kind`: a mapping's keys must be unique [yaml-duplicate-key]\n"
    );
}

#[test]
fn json_format() {
    let output = kube_lsp_with_input(&["check", "--format", "json", "-"], b"a:\n\tb: 1\n");
    assert_eq!(output.status.code(), Some(1));
    let reported: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON output");
    assert_eq!(reported[0]["code"], "yaml-tab-indentation");
    assert_eq!(
        (reported[0]["line"].as_u64(), reported[0]["column"].as_u64()),
        (Some(2), Some(1))
    );
}

#[test]
fn directories_are_searched_for_yaml_and_invalid_utf8_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("nested")).unwrap();
    std::fs::write(dir.path().join("nested/bad.yml"), b"a: \xff\xfe\n").unwrap();
    std::fs::write(dir.path().join("good.yaml"), b"a: 1\n").unwrap();
    std::fs::write(dir.path().join("notes.txt"), b"a: 1\na: 2\n").unwrap();
    let output = kube_lsp(&["check", dir.path().to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    assert!(
        text.contains("bad.yml:1:4: error: not UTF-8 text"),
        "{text}"
    );
    assert_eq!(text.lines().count(), 1, "{text}");
}

#[test]
fn a_missing_path_or_bad_usage_exits_2() {
    let output = kube_lsp(&["check", "/nonexistent/kube-lsp.yaml"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(output.stdout.is_empty());
    assert_eq!(kube_lsp(&["check"]).status.code(), Some(2));
    assert_eq!(
        kube_lsp(&["check", "--format", "xml", "-"]).status.code(),
        Some(2)
    );
}

#[test]
fn version_and_help_go_to_stdout_and_logs_never_do() {
    let version = kube_lsp(&["--version"]);
    assert_eq!(
        stdout(&version).trim(),
        format!("kube-lsp {}", env!("CARGO_PKG_VERSION"))
    );
    let help = kube_lsp(&["--help"]);
    assert!(stdout(&help).contains("check"));
    // The option is global: before or after the subcommand, the check runs.
    for args in [
        ["--log-level", "trace", "check", "-"],
        ["check", "--log-level", "trace", "-"],
    ] {
        let checked = kube_lsp_with_input(&args, b"a: 1\n");
        assert_eq!(checked.status.code(), Some(0), "{checked:?}");
        assert!(checked.stdout.is_empty(), "only diagnostics go to stdout");
    }
}

#[test]
fn devices_fifos_and_files_over_the_cap_are_skipped_with_one_line_each() {
    let output = kube_lsp(&["check", "/dev/zero"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("/dev/zero: skipped: not a readable regular file [limit-file-skipped]"),
        "{stderr}"
    );
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.yaml");
    std::fs::write(&big, "a: 1\n".repeat(100)).unwrap();
    let output = kube_lsp(&["check", "--max-file-bytes", "100", big.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("500 bytes, over the size cap of 100 bytes"),
        "{stderr}"
    );
}

//! `kube-lsp check` on several threads: the same report as on one, and the files streamed
//! through (only those being checked are held at once). The times are in the bench
//! (scripts/bench/check-workspace).

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::corpus;

fn check(args: &[&str], log: Option<&str>) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_kube-lsp"));
    command.arg("check").args(args);
    if let Some(filter) = log {
        command.env("KUBE_LSP_LOG", filter);
    }
    command.output().expect("run kube-lsp check")
}

/// The lines of stderr that are not logs (the summary and what could not be read).
fn said(output: &Output) -> Vec<String> {
    String::from_utf8_lossy(&output.stderr)
        .lines()
        .filter(|line| line.starts_with("kube-lsp: "))
        .map(str::to_string)
        .collect()
}

fn assert_same(one: &Output, other: &Output, what: &str) {
    assert_eq!(one.status.code(), other.status.code(), "{what}: exit codes");
    assert!(
        one.stdout == other.stdout,
        "{what}: the reports differ\n--- one thread\n{}\n--- more\n{}",
        String::from_utf8_lossy(&one.stdout),
        String::from_utf8_lossy(&other.stdout)
    );
    assert_eq!(said(one), said(other), "{what}: stderr");
}

#[test]
fn the_report_on_the_corpus_is_the_same_on_any_number_of_threads() {
    let corpus = corpus::root();
    let corpus = corpus.to_str().unwrap();
    let one = check(&["-j", "1", corpus], None);
    assert!(!one.stdout.is_empty(), "the corpus has findings");
    assert!(
        said(&one).last().is_some_and(|l| l.contains("checked")),
        "{:?}",
        said(&one)
    );
    for jobs in ["2", "5"] {
        let more = check(&["-j", jobs, corpus], None);
        assert_same(&one, &more, &format!("-j {jobs}"));
    }
    // The default: one thread per core.
    assert_same(&one, &check(&[corpus], None), "default");
    for format in ["json", "sarif"] {
        let one = check(
            &["-j", "1", "--no-render", "--format", format, corpus],
            None,
        );
        let more = check(
            &["-j", "3", "--no-render", "--format", format, corpus],
            None,
        );
        assert_same(&one, &more, format);
        serde_json::from_slice::<serde_json::Value>(&more.stdout).expect("one JSON document");
    }
}

/// Copies of the corpus' small manifests, `count` files in folders of 50.
fn workspace(root: &Path, count: usize) {
    let mut sources = Vec::new();
    for folder in ["k8s-examples", "seed"] {
        for entry in walkdir::WalkDir::new(corpus::path(folder)).sort_by_file_name() {
            let entry = entry.unwrap();
            if entry.file_type().is_file() {
                sources.push(std::fs::read(entry.path()).unwrap());
            }
        }
    }
    sources.push(corpus::read(corpus::MICROSERVICES).into_bytes());
    for number in 0..count {
        let folder = root.join(format!("copy-{:03}", number / 50));
        std::fs::create_dir_all(&folder).unwrap();
        std::fs::write(
            folder.join(format!("file-{number}.yaml")),
            &sources[number % sources.len()],
        )
        .unwrap();
    }
}

/// How many files' contents the run held at once, at most, from its debug log.
fn most_held(output: &Output) -> usize {
    let stderr = String::from_utf8_lossy(&output.stderr);
    let line = stderr
        .lines()
        .find(|line| line.contains("files' contents held at once"))
        .unwrap_or_else(|| panic!("no count of the files held in\n{stderr}"));
    let (_, after) = line.split_once("at most ").unwrap();
    after.split_whitespace().next().unwrap().parse().unwrap()
}

#[test]
fn only_the_files_being_checked_are_held_at_once() {
    let dir = tempfile::tempdir().unwrap();
    workspace(dir.path(), 400);
    let root = dir.path().to_str().unwrap();
    let debug = Some("kube_lsp=debug");
    for jobs in [1, 2, 4] {
        let output = check(&["-j", &jobs.to_string(), "--no-render", root], debug);
        assert!(
            said(&output)
                .last()
                .is_some_and(|l| l.starts_with("kube-lsp: checked 400 files")),
            "{:?}",
            said(&output)
        );
        let most = most_held(&output);
        // Each thread holds the one file it reads or checks; none is kept for later.
        assert!((1..=jobs).contains(&most), "-j {jobs}: {most} files held");
    }
    // Standard input is read once and kept: one more.
    let mut command = Command::new(env!("CARGO_BIN_EXE_kube-lsp"));
    let output = command
        .args(["check", "-j", "2", "--no-render", "-", root])
        .env("KUBE_LSP_LOG", "kube_lsp=debug")
        .stdin(std::fs::File::open(corpus::path(corpus::MICROSERVICES)).unwrap())
        .output()
        .unwrap();
    assert!(
        (1..=3).contains(&most_held(&output)),
        "{}",
        most_held(&output)
    );
}

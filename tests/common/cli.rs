//! `kube-lsp` run as a command, as a user runs it.
#![allow(dead_code)] // each test binary uses a different subset

use std::io::Write;
use std::process::{Command, Output, Stdio};

/// Runs the built `kube-lsp` with `args` and an empty input; returns what it printed and its
/// exit status.
pub fn kube_lsp(args: &[&str]) -> Output {
    spawn(args, Stdio::null())
        .wait_with_output()
        .expect("wait for kube-lsp")
}

/// [`kube_lsp`] with `input` on its stdin.
pub fn kube_lsp_with_input(args: &[&str], input: &[u8]) -> Output {
    let mut child = spawn(args, Stdio::piped());
    let mut stdin = child.stdin.take().expect("stdin");
    // A run that ends before reading its input (a usage error) has closed the pipe.
    match stdin.write_all(input) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
        written => written.expect("write stdin"),
    }
    drop(stdin);
    child.wait_with_output().expect("wait for kube-lsp")
}

/// What the run printed on stdout.
pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// What `kube-lsp check --exclude all` (no rules) prints for a file `name` holding `text`.
pub fn check_text(name: &str, text: &str) -> String {
    let dir = tempfile::tempdir().expect("temporary folder");
    let path = dir.path().join(name);
    std::fs::write(&path, text).expect("write the file");
    let path = path.to_str().expect("a UTF-8 path");
    stdout(&kube_lsp(&["check", "--exclude", "all", path]))
}

fn spawn(args: &[&str], stdin: Stdio) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_kube-lsp"))
        .args(args)
        .stdin(stdin)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run kube-lsp")
}

//! Helm charts over LSP, the built kube-lsp driven over stdio on a copy of the `helm create`
//! fixture (tests/fixtures/helm/mychart, copied to target/bench/helm/):
//!
//! - edit → diagnostics on a chart template (static checks: the template masked, checked and
//!   validated, `.Values` paths against values.yaml), rendering off: one-character edits to
//!   `deployment.yaml`, each timed until the diagnostics of its version arrive (p50/p95);
//! - rendered diagnostics: didSave → the publication carrying the render's findings, with
//!   rendering on, each save paired with a `helm template` of the chart run directly just
//!   before it: the medians, and the median (p95) of each save's time over its render's.
//!
//! `tests/tools/helm/build && cargo bench --bench helm -- [--helm PATH] [--edits N] [--saves N]
//! [--kube-lsp PATH]`. Nothing is asserted.

#[path = "../tests/common/lsp_client.rs"]
mod lsp_client;

#[path = "../tests/common/helm.rs"]
mod helm_fixtures;
use helm_fixtures::copy_dir;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use lsp_client::{LspClient, ServerStderr, default_server_request_answer, file_uri};
use serde_json::{Value, json};

const TIMEOUT: Duration = Duration::from_secs(60);

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let value = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|at| args.get(at + 1).cloned())
    };
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let helm = value("--helm")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo.join("tests/tools/helm/.bin/helm"));
    let kube_lsp = value("--kube-lsp")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo.join("target/release/kube-lsp"));
    let edits: usize = value("--edits").and_then(|n| n.parse().ok()).unwrap_or(200);
    let saves: usize = value("--saves").and_then(|n| n.parse().ok()).unwrap_or(15);

    let root = repo.join("target/bench/helm");
    let _ = std::fs::remove_dir_all(&root);
    let chart = root.join("mychart");
    copy_dir(&repo.join("tests/fixtures/helm/mychart"), &chart);
    let template = chart.join("templates/deployment.yaml");
    let text = std::fs::read_to_string(&template).expect("the fixture chart");
    println!("kube-lsp {}, helm {}", kube_lsp.display(), helm.display());

    // Static checks, rendering off.
    let mut client = start(&kube_lsp, &root, json!({"helm": {"render": false}}));
    let uri = file_uri(&template);
    client.did_open(&uri, "helm", &text, 1).unwrap();
    client.wait_for_diagnostics(&uri, Some(1), TIMEOUT).unwrap();
    std::thread::sleep(Duration::from_millis(500)); // the chart is read in the background
    client.discard_notifications().unwrap();
    let line = text
        .lines()
        .position(|l| l.contains("imagePullPolicy:"))
        .unwrap();
    let end = text.lines().nth(line).unwrap().len();
    let mut samples = Vec::new();
    for edit in 0..edits {
        let version = 2 + edit as i64;
        let change = if edit % 2 == 0 {
            json!([{"range": range(line, end, line, end), "text": "x"}])
        } else {
            json!([{"range": range(line, end, line, end + 1), "text": ""}])
        };
        client.discard_notifications().unwrap();
        let started = Instant::now();
        client.did_change(&uri, version, change).unwrap();
        client
            .wait_for_diagnostics(&uri, Some(version), TIMEOUT)
            .unwrap();
        samples.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    println!(
        "edit → diagnostics on templates/deployment.yaml ({} edits, static checks): p50 {:.2} ms, p95 {:.2} ms",
        samples.len(),
        percentile(&samples, 50.0),
        percentile(&samples, 95.0)
    );
    let _ = client.shutdown_and_exit();

    // didSave → the publication with the render's findings (a value made a string, so that
    // there is one to wait for).
    let quoted = text.replacen(
        "{{ .Values.replicaCount }}",
        "{{ .Values.replicaCount | quote }}",
        1,
    );
    std::fs::write(&template, &quoted).unwrap();
    let mut client = start(&kube_lsp, &root, json!({"helm": {"path": helm}}));
    client.did_open(&uri, "helm", &quoted, 1).unwrap();
    wait_rendered(&mut client, &uri);
    // Each save is paired with a render of the same chart just before it, so that both see the
    // same machine (it is shared and its load moves).
    let mut render = Vec::new();
    let mut rendered = Vec::new();
    let mut extra = Vec::new();
    for _ in 0..saves {
        std::thread::sleep(Duration::from_millis(300));
        client.discard_notifications().unwrap();
        // A save publishes the same findings again only if they changed: drop them first by
        // writing the value unquoted, then time the save that brings them back.
        std::fs::write(&template, &text).unwrap();
        client
            .notify(
                "textDocument/didSave",
                json!({"textDocument": {"uri": uri}}),
            )
            .unwrap();
        wait_for(&mut client, &uri, |codes| {
            !codes.iter().any(|c| c == "helm-rendered")
        });
        std::fs::write(&template, &quoted).unwrap();
        render.push(render_once(&helm, &chart));
        client.discard_notifications().unwrap();
        let started = Instant::now();
        client
            .notify(
                "textDocument/didSave",
                json!({"textDocument": {"uri": uri}}),
            )
            .unwrap();
        wait_rendered(&mut client, &uri);
        rendered.push(started.elapsed().as_secs_f64() * 1000.0);
        extra.push(rendered.last().unwrap() - render.last().unwrap());
    }
    let _ = client.shutdown_and_exit();
    let (render_p50, rendered_p50) = (percentile(&render, 50.0), percentile(&rendered, 50.0));
    println!("helm template of the chart ({saves} runs): median {render_p50:.1} ms");
    println!(
        "didSave → rendered diagnostics ({saves} saves): median {rendered_p50:.1} ms; each save against the render just before it: median +{:.1} ms, p95 +{:.1} ms",
        percentile(&extra, 50.0),
        percentile(&extra, 95.0)
    );
    let _ = std::fs::remove_dir_all(&root);
}

/// One `helm template` of the chart, as the server runs it: its wall time in ms.
fn render_once(helm: &Path, chart: &Path) -> f64 {
    let started = Instant::now();
    let status = std::process::Command::new(helm)
        .args(["template", "release-name"])
        .arg(chart)
        .arg("--debug")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .expect("run helm");
    assert!(status.success());
    started.elapsed().as_secs_f64() * 1000.0
}

fn start(program: &Path, root: &Path, settings: Value) -> LspClient {
    let mut client = LspClient::spawn_with_stderr(program, &["serve"], ServerStderr::Null)
        .expect("start kube-lsp");
    client.set_request_timeout(TIMEOUT);
    let options = json!({"kube-lsp": settings});
    let answers = options.clone();
    client.set_server_request_handler(move |method, params| {
        default_server_request_answer(method, params, &answers)
    });
    let uri = file_uri(root);
    client
        .initialize(json!({
            "processId": std::process::id(),
            "rootUri": uri,
            "workspaceFolders": [{"uri": uri, "name": "bench"}],
            "capabilities": {},
            "initializationOptions": options,
        }))
        .expect("initialize");
    client
}

fn wait_rendered(client: &mut LspClient, uri: &str) {
    wait_for(client, uri, |codes| {
        codes.iter().any(|c| c == "helm-rendered")
    });
}

fn wait_for(client: &mut LspClient, uri: &str, wanted: impl Fn(&[String]) -> bool) {
    client
        .wait_for_notification(
            "textDocument/publishDiagnostics",
            |p| {
                let codes: Vec<String> = p["diagnostics"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|d| d["code"].as_str().unwrap_or_default().to_string())
                    .collect();
                p["uri"] == uri && wanted(&codes)
            },
            TIMEOUT,
        )
        .expect("the publication awaited");
}

fn range(start_line: usize, start: usize, end_line: usize, end: usize) -> Value {
    json!({"start": {"line": start_line, "character": start}, "end": {"line": end_line, "character": end}})
}

fn percentile(samples: &[f64], percent: f64) -> f64 {
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((percent / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank]
}

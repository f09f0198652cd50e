//! Cluster benchmark: kube-lsp against the test apiserver on loopback (`tests/testenv`).
//!
//! ```text
//! export KUBE_LSP_TEST_KUBECONFIG=$(tests/testenv/start)
//! cargo bench --bench cluster -- [--edits N] [--requests N] [--debounce MS] [--starts N]
//! ```
//!
//! It measures, and prints as a markdown table (nothing is asserted):
//! - the apiserver's own round trips from this process: `GET /version`, and one dry-run as
//!   kube-lsp does it (GET of the live object + server-side apply PATCH with `dryRun=All`);
//! - edit → published dry-run diagnostics of that version (`dryRun: onChange`), against the
//!   issue's target: debounce + one dry-run + 20 ms;
//! - an interactive request (completion when the server offers it, else hover, else
//!   documentSymbol) right after an edit, with dry-runs off and with each edit starting one;
//! - cold start (empty cache) and warm start (disk cache) until the cluster's schema is
//!   installed (`kube-lsp/clusterSchema`), then until a custom resource is validated from it
//!   (and completed, when completion is offered).

#[path = "../tests/common/cluster.rs"]
mod cluster;
#[path = "../tests/common/lsp_client.rs"]
mod lsp_client;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use cluster::TestCluster;
use kube_lsp::cluster::ClusterSettings;
use kube_lsp::cluster::connection::Connection;
use kube_lsp::cluster::dry_run::dry_run;
use lsp_client::{LspClient, ServerStderr};
use serde_json::{Value, json};

const USAGE: &str = "\
usage: cargo bench --bench cluster -- [options]

options:
  --kube-lsp PATH   kube-lsp binary (default: target/release/kube-lsp)
  --edits N         edits timed until their dry-run diagnostics (default 40)
  --requests N      interactive requests per mode (default 60)
  --debounce MS     debounceMs of the onChange dry-run (default 100)
  --starts N        warm starts timed (default 10)

env: KUBE_LSP_TEST_KUBECONFIG  the test cluster's kubeconfig (tests/testenv/start prints it)";

const WAIT: Duration = Duration::from_secs(30);
const CONFIG_MAP: &str =
    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bench-settings\ndata:\n  mode: fast\n";
/// The group of the CRD the warm-start series validates against.
const GROUP: &str = "bench.kube-lsp.test";

struct Options {
    kube_lsp: PathBuf,
    edits: usize,
    requests: usize,
    debounce_ms: u64,
    starts: usize,
}

impl Options {
    fn parse(mut args: impl Iterator<Item = String>) -> Result<Options, String> {
        let mut options = Options {
            kube_lsp: Path::new(env!("CARGO_MANIFEST_DIR")).join("target/release/kube-lsp"),
            edits: 40,
            requests: 60,
            debounce_ms: 100,
            starts: 10,
        };
        while let Some(arg) = args.next() {
            let mut value = || args.next().ok_or(format!("{arg} needs a value"));
            let number = |text: String| text.parse::<u64>().map_err(|e| format!("{text}: {e}"));
            match arg.as_str() {
                "--kube-lsp" => options.kube_lsp = PathBuf::from(value()?),
                "--edits" => options.edits = number(value()?)? as usize,
                "--requests" => options.requests = number(value()?)? as usize,
                "--debounce" => options.debounce_ms = number(value()?)?,
                "--starts" => options.starts = number(value()?)? as usize,
                "--bench" => {}
                other => return Err(format!("unknown option {other}")),
            }
        }
        Ok(options)
    }
}

fn main() {
    let options = match Options::parse(std::env::args().skip(1)) {
        Ok(options) => options,
        Err(message) => {
            eprintln!("{message}\n\n{USAGE}");
            std::process::exit(2);
        }
    };
    let cluster = TestCluster::from_env();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mut rows = Vec::new();

    let (version_rtt, dry_runs) = runtime.block_on(apiserver_round_trips(&cluster));
    rows.push(row(
        "apiserver `GET /version` (from the bench)",
        &version_rtt,
        "",
    ));
    rows.push(row(
        "one dry-run: GET live + PATCH dryRun=All (from the bench)",
        &dry_runs,
        "",
    ));

    let edits = edit_to_dry_run_diagnostics(&options, &cluster);
    let target = options.debounce_ms as f64 + percentile(&dry_runs, 50.0) + 20.0;
    rows.push(row(
        &format!(
            "edit → dry-run diagnostics (debounceMs {})",
            options.debounce_ms
        ),
        &edits,
        &format!("≤ {target:.1} ms (debounce + dry-run p50 + 20)"),
    ));

    let (method, idle, busy) = interactive_while_dry_running(&options, &cluster);
    rows.push(row(&format!("{method}, dry-runs off"), &idle, ""));
    rows.push(row(
        &format!("{method}, a dry-run started by each edit"),
        &busy,
        "p95 unchanged",
    ));

    runtime.block_on(install_widget_crd(&cluster));
    for (label, samples, target) in starts(&options, &cluster) {
        rows.push(row(&label, &samples, target));
    }

    println!("\n| measurement | n | p50 ms | p95 ms | target |\n| --- | --- | --- | --- | --- |");
    for line in rows {
        println!("{line}");
    }
}

fn row(label: &str, samples: &[f64], target: &str) -> String {
    format!(
        "| {label} | {} | {:.1} | {:.1} | {target} |",
        samples.len(),
        percentile(samples, 50.0),
        percentile(samples, 95.0)
    )
}

fn percentile(samples: &[f64], percent: f64) -> f64 {
    if samples.is_empty() {
        return f64::NAN;
    }
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = ((percent / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank]
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

async fn apiserver_round_trips(cluster: &TestCluster) -> (Vec<f64>, Vec<f64>) {
    let settings = ClusterSettings {
        kubeconfig: Some(cluster.kubeconfig_path.to_string_lossy().into_owned()),
        context: Some("admin".into()),
        namespace: Some("default".into()),
        request_timeout: Duration::from_secs(10),
    };
    let connection = Connection::connect(&settings).await.expect("connect");
    let manifest = kube_lsp::yaml::value::document_to_json(CONFIG_MAP, &Default::default())
        .unwrap()
        .unwrap();
    dry_run(&connection, &manifest)
        .await
        .expect("warm-up dry-run");
    let (mut versions, mut dry_runs) = (Vec::new(), Vec::new());
    for _ in 0..30 {
        let started = Instant::now();
        connection.get("/version").await.expect("GET /version");
        versions.push(ms(started.elapsed()));
        let started = Instant::now();
        dry_run(&connection, &manifest).await.expect("dry-run");
        dry_runs.push(ms(started.elapsed()));
    }
    (versions, dry_runs)
}

fn start(options: &Options, cache: &Path, settings: Value) -> (LspClient, Value) {
    let mut client = LspClient::spawn_with_env(
        &options.kube_lsp,
        &["serve"],
        ServerStderr::Null,
        &[("XDG_CACHE_HOME", cache.as_os_str())],
    )
    .expect("spawn kube-lsp");
    let result = client
        .initialize(json!({"capabilities": {}, "initializationOptions": {"kube-lsp": settings}}))
        .expect("initialize");
    (client, result["capabilities"].clone())
}

fn cluster_settings(cluster: &TestCluster, dry_run: &str, debounce_ms: u64) -> Value {
    json!({
        "kubeconfig": cluster.kubeconfig_path,
        "context": "admin",
        "namespace": "default",
        "dryRun": dry_run,
        "debounceMs": debounce_ms,
    })
}

fn has_cluster_diagnostics(params: &Value) -> bool {
    params["diagnostics"].as_array().is_some_and(|all| {
        all.iter().any(|d| {
            d["code"]
                .as_str()
                .is_some_and(|c| c.starts_with("diff-") || c.starts_with("dry-run-"))
        })
    })
}

fn wait_for_cluster_publication(client: &mut LspClient, uri: &str, version: i64) {
    client
        .wait_for_notification(
            "textDocument/publishDiagnostics",
            |p| p["uri"] == uri && p["version"] == version && has_cluster_diagnostics(p),
            WAIT,
        )
        .unwrap_or_else(|e| panic!("dry-run diagnostics of version {version}: {e}"));
}

/// Alternately appends `x` to the value `fast` (line 5) and removes it.
fn edit(client: &mut LspClient, uri: &str, version: i64) {
    let (start, end, text) = if version % 2 == 0 {
        (10, 10, "x")
    } else {
        (10, 11, "")
    };
    let range =
        json!({"start": {"line": 5, "character": start}, "end": {"line": 5, "character": end}});
    client
        .did_change(uri, version, json!([{"range": range, "text": text}]))
        .unwrap();
}

fn edit_to_dry_run_diagnostics(options: &Options, cluster: &TestCluster) -> Vec<f64> {
    let cache = tempfile::tempdir().unwrap();
    let settings = cluster_settings(cluster, "onChange", options.debounce_ms);
    let (mut client, _) = start(options, cache.path(), settings);
    let uri = "file:///bench/settings.yaml";
    client.did_open(uri, "yaml", CONFIG_MAP, 1).unwrap();
    wait_for_cluster_publication(&mut client, uri, 1);
    let mut samples = Vec::new();
    for version in 2..(2 + options.edits as i64) {
        let started = Instant::now();
        edit(&mut client, uri, version);
        wait_for_cluster_publication(&mut client, uri, version);
        samples.push(ms(started.elapsed()));
        client.discard_notifications().unwrap();
    }
    client.shutdown_and_exit().ok();
    samples
}

/// The interactive request to time: completion when offered, else hover, else symbols.
fn interactive_request(capabilities: &Value, uri: &str) -> (&'static str, Value) {
    // On `name` under `metadata`: ObjectMeta's keys complete there, the field hovers.
    let at = json!({"textDocument": {"uri": uri}, "position": {"line": 3, "character": 4}});
    if !capabilities["completionProvider"].is_null() {
        ("textDocument/completion", at)
    } else if !capabilities["hoverProvider"].is_null() {
        ("textDocument/hover", at)
    } else {
        (
            "textDocument/documentSymbol",
            json!({"textDocument": {"uri": uri}}),
        )
    }
}

fn interactive_while_dry_running(
    options: &Options,
    cluster: &TestCluster,
) -> (&'static str, Vec<f64>, Vec<f64>) {
    let mut method = "";
    let mut series = Vec::new();
    for dry_run in ["off", "onChange"] {
        let cache = tempfile::tempdir().unwrap();
        let (mut client, capabilities) =
            start(options, cache.path(), cluster_settings(cluster, dry_run, 0));
        let uri = "file:///bench/interactive.yaml";
        client.did_open(uri, "yaml", CONFIG_MAP, 1).unwrap();
        let (name, params) = interactive_request(&capabilities, uri);
        method = name;
        let mut samples = Vec::new();
        for version in 2..(2 + options.requests as i64) {
            edit(&mut client, uri, version);
            let started = Instant::now();
            client.request(name, params.clone()).expect(name);
            samples.push(ms(started.elapsed()));
            if dry_run == "onChange" {
                wait_for_cluster_publication(&mut client, uri, version);
            }
            client.discard_notifications().unwrap();
        }
        client.shutdown_and_exit().ok();
        series.push(samples);
    }
    let busy = series.pop().unwrap();
    let idle = series.pop().unwrap();
    (method, idle, busy)
}

fn widget_crd() -> String {
    format!(
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: widgets.{GROUP}\nspec:\n  group: {GROUP}\n  scope: Namespaced\n  names: {{plural: widgets, singular: widget, kind: Widget}}\n  versions:\n  - name: v1\n    served: true\n    storage: true\n    schema:\n      openAPIV3Schema:\n        type: object\n        properties:\n          spec:\n            type: object\n            properties:\n              size: {{type: integer}}\n"
    )
}

/// Installs the Widget CRD and waits until the apiserver publishes its OpenAPI document.
async fn install_widget_crd(cluster: &TestCluster) {
    cluster.apply_fixture("default", &widget_crd()).await;
    let admin = cluster.admin().await;
    let wanted = format!("\"apis/{GROUP}/v1\"");
    let started = Instant::now();
    while !cluster::get_text(&admin, "/openapi/v3")
        .await
        .contains(&wanted)
    {
        assert!(started.elapsed() < WAIT, "no OpenAPI document for {GROUP}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Cold start (empty cache, everything downloaded) and warm starts (disk cache): spawn →
/// cluster schema installed → a custom resource validated from it (→ completed, if offered).
fn starts(options: &Options, cluster: &TestCluster) -> Vec<(String, Vec<f64>, &'static str)> {
    let cache = tempfile::tempdir().unwrap();
    let settings = cluster_settings(cluster, "off", 0);
    let widget = format!(
        "apiVersion: {GROUP}/v1\nkind: Widget\nmetadata:\n  name: w\nspec:\n  size: 1\n  colour: red\n"
    );
    let uri = "file:///bench/widget.yaml";
    let (mut cold, mut schema, mut validated, mut completed) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for run in 0..=options.starts {
        let origin = if run == 0 { "cluster" } else { "disk" };
        let started = Instant::now();
        let (mut client, capabilities) = start(options, cache.path(), settings.clone());
        client
            .wait_for_notification("kube-lsp/clusterSchema", |p| p["origin"] == origin, WAIT)
            .expect("cluster schema");
        let installed = ms(started.elapsed());
        client.did_open(uri, "yaml", &widget, 1).unwrap();
        client
            .wait_for_notification(
                "textDocument/publishDiagnostics",
                |p| p["uri"] == uri && p.to_string().contains("schema-unknown-field"),
                WAIT,
            )
            .expect("the Widget validated from the cluster's schema");
        let checked = ms(started.elapsed());
        if !capabilities["completionProvider"].is_null() {
            let at = json!({"textDocument": {"uri": uri}, "position": {"line": 6, "character": 2}});
            client
                .request("textDocument/completion", at)
                .expect("completion");
            if run > 0 {
                completed.push(ms(started.elapsed()));
            }
        }
        if run == 0 {
            cold.push(installed);
        } else {
            schema.push(installed);
            validated.push(checked);
        }
        client.shutdown_and_exit().ok();
    }
    let mut rows = vec![
        (
            "cold start: spawn → cluster schema downloaded and installed".to_string(),
            cold,
            "",
        ),
        (
            "warm start: spawn → cluster schema installed from the disk cache".to_string(),
            schema,
            "≤ 100 ms",
        ),
        (
            "warm start: spawn → a custom resource validated from it".to_string(),
            validated,
            "",
        ),
    ];
    if !completed.is_empty() {
        rows.push((
            "warm start: spawn → completion in a custom resource answered".to_string(),
            completed,
            "≤ 100 ms",
        ));
    }
    rows
}

//! LSP latency benchmark: drives kube-lsp and yaml-language-server over stdio
//! on the same files and prints a comparison table.
//!
//! ```text
//! scripts/bench-setup && cargo bench --bench lsp -- [options]
//! ```
//!
//! For each workload file and server (a fresh server process per pair) it
//! measures didOpen → first publishDiagnostics (the clock starts when the
//! encoded message is written: encoding it is the editor's work), one-character edits →
//! publishDiagnostics for that version (p50/p95), completion and hover round
//! trips (p50/p95, any answer accepted, "n/a" when the capability is not
//! advertised), documentSymbol (the first apart: it outlines every document) and foldingRange
//! round trips, foldingRange right after each of
//! a series of one-character edits (the folds of a document that just changed), process start →
//! first completion answer (on its own fresh process), and the server's peak
//! RSS (VmHWM) before and after the documentSymbol/foldingRange series. Then, on another fresh
//! process, the edit mix (`common/edit_mix.rs`): rounds of edits of every kind spread over the
//! file, started as soon as the open's diagnostics have come (the first edits after an open
//! count), each timed until the publishDiagnostics of its version, reported per kind and over
//! all (p50/p95/p99) in a table of its own. Run with `--help` for the options. Nothing here
//! asserts on timings: it only reports.

#[path = "../tests/common/lsp_client.rs"]
mod lsp_client;

#[path = "common/edit_line.rs"]
mod edit_line;
use edit_line::pick_edit_line;

#[path = "common/edit_mix.rs"]
mod edit_mix;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use lsp_client::{
    LspClient, LspError, ServerStderr, default_server_request_answer, did_open_frame, file_uri,
    peak_rss_kib,
};
use serde_json::{Value, json};

const GENERATED_TARGET_BYTES: usize = 10 * 1024 * 1024;
const KUBERNETES_SCHEMA_VERSION: &str = "v1.37.0";

/// A small Pod with an unknown field: both servers must flag it, which shows
/// that schema validation is really on (and loads the schema before timing).
const WARMUP_MANIFEST: &str = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: warmup\nspec:\n  bogusField: 1\n  containers:\n    - name: web\n      image: nginx\n";

const USAGE: &str = "\
usage: cargo bench --bench lsp -- [options]

options:
  --kube-lsp PATH      kube-lsp binary (default: the one cargo bench built, target/release/kube-lsp)
  --yaml-ls PATH       yaml-language-server launcher (default: target/bench/node_modules/.bin/yaml-language-server)
  --schema PATH        merged Kubernetes JSON schema for yaml-language-server
                       (default: target/bench/kubernetes-v1.37.0.json, built by scripts/bench-setup)
  --servers LIST       comma-separated: kube-lsp,yaml-ls (default: both)
  --workloads LIST     comma-separated: argocd,microservices,generated (default: all)
  --edits N            one-character edits per file (default 30, rounded up to even)
  --edit-mix N         edits of the edit mix per file (default 200, rounded up to whole
                       rounds of 8; 0 skips it)
  --requests N         completion and hover requests per file (default 30)
  --timeout SECS       how long to wait for any one answer (default 120)
  --series-budget SECS stop a series of edits/requests early once it has run this
                       long (default 300; at least 2 samples are always taken)
  --markdown FILE      also write the results table as markdown
  --json FILE          also write the raw results as JSON
  --server-stderr      show the servers' stderr (hidden by default)
  --kube-lsp-options JSON  initializationOptions for kube-lsp, e.g. '{\"kube-lsp\": {\"rules\": false}}'

env: KUBE_LSP_CORPUS  corpus folder (default: ../shared/corpus next to the repo)";

fn main() {
    let options = match Options::parse(std::env::args().skip(1)) {
        Ok(options) => options,
        Err(message) => {
            eprintln!("{message}\n\n{USAGE}");
            std::process::exit(2);
        }
    };
    if let Err(message) = run(&options) {
        eprintln!("error: {message}");
        std::process::exit(1);
    }
}

fn run(options: &Options) -> Result<(), String> {
    let workloads = prepare_workloads(options)?;
    let servers = prepare_servers(options)?;
    let mut results = Vec::new();
    for workload in &workloads {
        for server in &servers {
            eprintln!(
                "== {} on {} ({} lines)",
                server.name,
                workload.name,
                workload.text.lines().count()
            );
            let measurements = measure(server, workload, options);
            results.push(RunResult {
                server: server.name.clone(),
                workload: workload.name.clone(),
                measurements,
            });
        }
    }
    let mut table = results_table(&results, &servers, &workloads);
    if options.edit_mix > 0 {
        table.push('\n');
        table.push_str(&edit_mix_table(&results, &servers, &workloads));
    }
    println!("\n{table}");
    if let Some(path) = &options.markdown {
        std::fs::write(path, &table).map_err(|err| format!("writing {}: {err}", path.display()))?;
    }
    if let Some(path) = &options.json {
        let text =
            serde_json::to_string_pretty(&results_json(&results)).expect("JSON values serialize");
        std::fs::write(path, text).map_err(|err| format!("writing {}: {err}", path.display()))?;
    }
    Ok(())
}

// ---------------------------------------------------------------- options

struct Options {
    kube_lsp: PathBuf,
    yaml_ls: PathBuf,
    schema: PathBuf,
    servers: Vec<String>,
    workloads: Vec<String>,
    edits: usize,
    /// Edits of the edit mix, in whole rounds.
    edit_mix: usize,
    requests: usize,
    timeout: Duration,
    series_budget: Duration,
    markdown: Option<PathBuf>,
    json: Option<PathBuf>,
    show_server_stderr: bool,
    /// initializationOptions sent to kube-lsp.
    kube_lsp_options: Option<Value>,
}

impl Options {
    fn parse(mut args: impl Iterator<Item = String>) -> Result<Options, String> {
        let bench_dir = bench_dir();
        let mut options = Options {
            kube_lsp: option_env!("CARGO_BIN_EXE_kube-lsp").map_or_else(
                || repo_root().join("target/release/kube-lsp"),
                PathBuf::from,
            ),
            yaml_ls: bench_dir.join("node_modules/.bin/yaml-language-server"),
            schema: bench_dir.join(format!("kubernetes-{KUBERNETES_SCHEMA_VERSION}.json")),
            servers: vec!["kube-lsp".into(), "yaml-ls".into()],
            workloads: vec!["argocd".into(), "microservices".into(), "generated".into()],
            edits: 30,
            edit_mix: 200,
            requests: 30,
            timeout: Duration::from_secs(120),
            series_budget: Duration::from_secs(300),
            markdown: None,
            json: None,
            show_server_stderr: false,
            kube_lsp_options: None,
        };
        while let Some(arg) = args.next() {
            let mut value = || args.next().ok_or(format!("{arg} needs a value"));
            match arg.as_str() {
                "--bench" => {} // cargo bench passes this to every bench binary
                "--kube-lsp" => options.kube_lsp = value()?.into(),
                "--yaml-ls" => options.yaml_ls = value()?.into(),
                "--schema" => options.schema = value()?.into(),
                "--servers" => options.servers = split_list(&value()?),
                "--workloads" => options.workloads = split_list(&value()?),
                "--edits" => options.edits = parse_count(&arg, &value()?)?.next_multiple_of(2),
                "--edit-mix" => {
                    let kinds = edit_mix::KINDS.len();
                    options.edit_mix = parse_count(&arg, &value()?)?.next_multiple_of(kinds)
                }
                "--requests" => options.requests = parse_count(&arg, &value()?)?,
                "--timeout" => {
                    options.timeout = Duration::from_secs(parse_count(&arg, &value()?)? as u64)
                }
                "--series-budget" => {
                    options.series_budget =
                        Duration::from_secs(parse_count(&arg, &value()?)? as u64)
                }
                "--markdown" => options.markdown = Some(value()?.into()),
                "--json" => options.json = Some(value()?.into()),
                "--server-stderr" => options.show_server_stderr = true,
                "--kube-lsp-options" => {
                    let text = value()?;
                    let parsed = serde_json::from_str(&text)
                        .map_err(|e| format!("--kube-lsp-options: {e}"))?;
                    options.kube_lsp_options = Some(parsed);
                }
                "-h" | "--help" => return Err("benchmark of LSP servers".into()),
                other => return Err(format!("unknown option {other}")),
            }
        }
        Ok(options)
    }
}

fn split_list(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(String::from)
        .collect()
}

fn parse_count(option: &str, value: &str) -> Result<usize, String> {
    value
        .parse()
        .map_err(|_| format!("{option} expects a number, got {value:?}"))
}

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn bench_dir() -> PathBuf {
    repo_root().join("target/bench")
}

fn corpus_dir() -> PathBuf {
    std::env::var_os("KUBE_LSP_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("../shared/corpus"))
}

// ---------------------------------------------------------------- workloads

struct Workload {
    name: String,
    path: PathBuf,
    text: String,
    /// Line whose mapping value the edits append a character to.
    edit_line: usize,
}

fn prepare_workloads(options: &Options) -> Result<Vec<Workload>, String> {
    let corpus = corpus_dir();
    options
        .workloads
        .iter()
        .map(|name| {
            let path = match name.as_str() {
                "argocd" => corpus.join("real/argocd-install.yaml"),
                "microservices" => corpus.join("real/microservices-demo.yaml"),
                "generated" => generate_large_file(&corpus.join("real/microservices-demo.yaml"))?,
                other => return Err(format!("unknown workload {other}")),
            };
            let text = std::fs::read_to_string(&path)
                .map_err(|err| format!("reading {}: {err}", path.display()))?;
            let edit_line = pick_edit_line(&text)
                .ok_or(format!("no editable mapping value in {}", path.display()))?;
            let label = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or(name.clone());
            Ok(Workload {
                name: label,
                path,
                text,
                edit_line,
            })
        })
        .collect()
}

/// Writes target/bench/generated-10mb.yaml: copies of the microservices-demo
/// documents, each copy's `metadata.name` suffixed with its copy number, until
/// the file reaches 10 MiB. Deterministic, and valid Kubernetes YAML.
fn generate_large_file(source: &Path) -> Result<PathBuf, String> {
    let text = std::fs::read_to_string(source)
        .map_err(|err| format!("reading {}: {err}", source.display()))?;
    let documents: Vec<&str> = text
        .split("\n---\n")
        .filter(|doc| doc.contains("\nkind: ") || doc.starts_with("kind: "))
        .collect();
    if documents.is_empty() {
        return Err(format!("no documents in {}", source.display()));
    }
    let mut generated = String::with_capacity(GENERATED_TARGET_BYTES + text.len());
    let mut copy = 0;
    while generated.len() < GENERATED_TARGET_BYTES {
        for document in &documents {
            generated.push_str("---\n");
            generated.push_str(&rename_metadata_name(document, copy));
            generated.push('\n');
        }
        copy += 1;
    }
    let path = bench_dir().join("generated-10mb.yaml");
    std::fs::create_dir_all(bench_dir()).map_err(|err| err.to_string())?;
    if std::fs::read_to_string(&path).ok().as_deref() != Some(generated.as_str()) {
        std::fs::write(&path, &generated)
            .map_err(|err| format!("writing {}: {err}", path.display()))?;
    }
    Ok(path)
}

/// Suffixes the top-level `metadata.name` with `-{copy}`; leaves the rest alone.
fn rename_metadata_name(document: &str, copy: usize) -> String {
    let mut in_metadata = false;
    let mut renamed = false;
    let lines = document.lines().map(|line| {
        if !renamed
            && in_metadata
            && let Some(name) = line.strip_prefix("  name: ")
        {
            renamed = true;
            return format!("  name: {}-{copy}", name.trim());
        }
        if !line.starts_with(' ') && !line.is_empty() && !line.starts_with('#') {
            in_metadata = line == "metadata:";
        }
        line.to_string()
    });
    lines.collect::<Vec<_>>().join("\n")
}

// ---------------------------------------------------------------- servers

struct ServerSpec {
    name: String,
    program: PathBuf,
    args: Vec<String>,
    /// Present for yaml-language-server: the schema text it is served.
    yaml_ls_schema: Option<Arc<String>>,
    /// `initializationOptions`, when given.
    initialization_options: Option<Value>,
    show_stderr: bool,
}

fn prepare_servers(options: &Options) -> Result<Vec<ServerSpec>, String> {
    let mut servers = Vec::new();
    for name in &options.servers {
        let spec = match name.as_str() {
            "kube-lsp" => ServerSpec {
                name: "kube-lsp".into(),
                program: options.kube_lsp.clone(),
                args: vec!["serve".into()],
                yaml_ls_schema: None,
                initialization_options: options.kube_lsp_options.clone(),
                show_stderr: options.show_server_stderr,
            },
            "yaml-ls" => {
                let schema = std::fs::read_to_string(&options.schema).map_err(|err| {
                    format!(
                        "reading {} (run scripts/bench-setup): {err}",
                        options.schema.display()
                    )
                })?;
                ServerSpec {
                    name: "yaml-language-server".into(),
                    program: options.yaml_ls.clone(),
                    args: vec!["--stdio".into()],
                    yaml_ls_schema: Some(Arc::new(schema)),
                    initialization_options: None,
                    show_stderr: options.show_server_stderr,
                }
            }
            other => {
                return Err(format!(
                    "unknown server {other} (expected kube-lsp or yaml-ls)"
                ));
            }
        };
        if !spec.program.exists() {
            return Err(format!(
                "{} not found at {} (build it / run scripts/bench-setup)",
                spec.name,
                spec.program.display()
            ));
        }
        servers.push(spec);
    }
    Ok(servers)
}

/// yaml-language-server settings: the Kubernetes schema for every file, no network stores.
fn yaml_ls_settings() -> Value {
    json!({
        "yaml": {
            "schemas": {"kubernetes": "*.yaml"},
            "kubernetesVersion": KUBERNETES_SCHEMA_VERSION,
            "validate": true,
            "completion": true,
            "hover": true,
            "kubernetesCRDStore": {"enable": false},
            "schemaStore": {"enable": false}
        }
    })
}

fn client_capabilities() -> Value {
    json!({
        "workspace": {"configuration": true, "didChangeConfiguration": {"dynamicRegistration": true}},
        "textDocument": {
            "synchronization": {"dynamicRegistration": false, "didSave": false},
            "publishDiagnostics": {"versionSupport": true, "relatedInformation": true},
            "completion": {"completionItem": {"snippetSupport": true}},
            "hover": {"contentFormat": ["markdown", "plaintext"]},
            "documentSymbol": {"hierarchicalDocumentSymbolSupport": true},
            // What vscode-languageclient sends.
            "foldingRange": {"rangeLimit": 5000, "lineFoldingOnly": true}
        },
        "window": {"workDoneProgress": false}
    })
}

struct Session {
    client: LspClient,
    capabilities: Value,
}

fn start_session(server: &ServerSpec, timeout: Duration) -> Result<Session, LspError> {
    let args: Vec<&str> = server.args.iter().map(String::as_str).collect();
    let stderr = if server.show_stderr {
        ServerStderr::Inherit
    } else {
        ServerStderr::Null
    };
    let mut client = LspClient::spawn_with_stderr(&server.program, &args, stderr)?;
    client.set_request_timeout(timeout);
    let settings = if server.yaml_ls_schema.is_some() {
        yaml_ls_settings()
    } else {
        json!({})
    };
    let schema = server.yaml_ls_schema.clone();
    client.set_server_request_handler(move |method, params| match (method, &schema) {
        // yaml-language-server asks the editor for http(s) schema contents.
        ("vscode/content" | "custom/schema/content", Some(schema)) => {
            Value::String(schema.to_string())
        }
        _ => default_server_request_answer(method, params, &settings),
    });
    // An empty workspace folder: these figures are the opened file's. Indexing a workspace is
    // benches/workspace.rs's; a folder holding the generated 10 MB file would add its index to
    // every workload's memory and startup.
    let folder = bench_dir().join("workspace");
    std::fs::create_dir_all(&folder).map_err(LspError::Io)?;
    let root = file_uri(&folder);
    let mut params = json!({
        "processId": std::process::id(),
        "rootUri": root,
        "workspaceFolders": [{"uri": root, "name": "bench"}],
        "capabilities": client_capabilities(),
    });
    if let Some(options) = &server.initialization_options {
        params["initializationOptions"] = options.clone();
    }
    let result = client.initialize(params)?;
    if server.yaml_ls_schema.is_some() {
        client.notify("yaml/registerContentRequest", Value::Null)?;
        client.notify(
            "workspace/didChangeConfiguration",
            json!({"settings": yaml_ls_settings()}),
        )?;
    }
    let capabilities = result.get("capabilities").cloned().unwrap_or(Value::Null);
    Ok(Session {
        client,
        capabilities,
    })
}

// ---------------------------------------------------------------- measuring

#[derive(Default)]
struct Measurements {
    warmup_diagnostics: usize,
    open_ms: Option<f64>,
    /// Until the last publication for the opened version (kube-lsp publishes the YAML layer's
    /// diagnostics at once and the schema-validated set after; yaml-language-server once).
    open_complete_ms: Option<f64>,
    open_diagnostics: Option<usize>,
    edit_ms: Vec<f64>,
    /// Process start → the answer to a completion sent right after didOpen.
    first_completion_ms: Option<f64>,
    /// None when the server does not advertise the capability.
    completion_ms: Option<Vec<f64>>,
    hover_ms: Option<Vec<f64>>,
    symbols_ms: Option<Vec<f64>>,
    folding_ms: Option<Vec<f64>>,
    /// Each right after an edit's diagnostics.
    folding_edited_ms: Option<Vec<f64>>,
    /// The same, while the document is one saphyr rejects (after the outline RSS is read).
    folding_broken_ms: Option<Vec<f64>>,
    /// Before the documentSymbol and foldingRange series (open, edits, completion and hover
    /// alone: what the memory targets are about), and at the end.
    peak_rss_kib: Option<u64>,
    peak_rss_outline_kib: Option<u64>,
    /// Why measuring stopped early, if it did.
    failure: Option<String>,
    /// The edit mix's samples: each edit's kind and milliseconds, in the order made.
    edit_mix_ms: Vec<(&'static str, f64)>,
    /// Why the edit mix stopped early, if it did.
    edit_mix_failure: Option<String>,
}

struct RunResult {
    server: String,
    workload: String,
    measurements: Measurements,
}

/// Runs every measurement on a fresh server. Stops at the first failure
/// (e.g. a timeout) and keeps what was measured before it.
fn measure(server: &ServerSpec, workload: &Workload, options: &Options) -> Measurements {
    let mut measurements = Measurements::default();
    match measure_first_completion(server, workload, options) {
        Ok(Some(ms)) => {
            eprintln!("   start → first completion: {ms:.1} ms");
            measurements.first_completion_ms = Some(ms);
        }
        Ok(None) => {}
        Err(err) => eprintln!("   start → first completion failed: {err}"),
    }
    let mut session = None;
    if let Err(err) = measure_into(&mut measurements, &mut session, server, workload, options) {
        eprintln!("   failed: {err}");
        measurements.failure = Some(match err {
            LspError::Timeout(_) => format!("timed out (> {} s)", options.timeout.as_secs()),
            other => other.to_string(),
        });
    }
    if let Some(Session { client, .. }) = session {
        let peak = peak_rss_kib(client.pid());
        measurements.peak_rss_kib = measurements.peak_rss_kib.or(peak);
        measurements.peak_rss_outline_kib = measurements.peak_rss_outline_kib.or(peak);
        if measurements.failure.is_some() {
            let _ = client.kill(); // no point in a polite shutdown of a stuck server
        } else if let Err(err) = client.shutdown_and_exit() {
            eprintln!("   shutdown: {err}");
        }
    }
    // A server that could not open the file in time would not edit it in time either.
    if measurements.failure.is_none() && options.edit_mix > 0 {
        let samples = &mut measurements.edit_mix_ms;
        if let Err(err) = measure_edit_mix(server, workload, options, samples) {
            eprintln!("   edit mix failed: {err}");
            measurements.edit_mix_failure = Some(match err {
                LspError::Timeout(_) => format!("timed out (> {} s)", options.timeout.as_secs()),
                other => other.to_string(),
            });
        }
    }
    measurements
}

/// How long without a publication counts as the open's diagnostics being complete before the
/// edit mix starts typing (short: the first edits after an open count).
const OPEN_PAUSE: Duration = Duration::from_millis(200);

/// On a fresh server process: opens the file, waits until its diagnostics are complete, then
/// makes the edit mix's rounds, timing each edit until the publication of its version.
fn measure_edit_mix(
    server: &ServerSpec,
    workload: &Workload,
    options: &Options,
    samples: &mut Vec<(&'static str, f64)>,
) -> Result<(), LspError> {
    let Session { mut client, .. } = start_session(server, options.timeout)?;
    let made = make_edit_mix(&mut client, workload, options, samples);
    if made.is_ok() {
        if let Err(err) = client.shutdown_and_exit() {
            eprintln!("   shutdown: {err}");
        }
    } else {
        let _ = client.kill();
    }
    made
}

fn make_edit_mix(
    client: &mut LspClient,
    workload: &Workload,
    options: &Options,
    samples: &mut Vec<(&'static str, f64)>,
) -> Result<(), LspError> {
    warm_up(client, options.timeout)?;
    let uri = file_uri(&workload.path);
    client.did_open(&uri, "yaml", &workload.text, 1)?;
    client.wait_for_diagnostics(&uri, Some(1), options.timeout)?;
    while client
        .wait_for_diagnostics(&uri, Some(1), OPEN_PAUSE)
        .is_ok()
    {}
    let rounds = edit_mix::rounds(&workload.text, options.edit_mix / edit_mix::KINDS.len());
    let series_started = Instant::now();
    let mut version = 1;
    for round in rounds {
        // Stop early only between rounds: the text is then the original.
        let so_far: Vec<f64> = samples.iter().map(|(_, ms)| *ms).collect();
        if over_budget(series_started, &so_far, options) {
            break;
        }
        for edit in round {
            version += 1;
            let (start, end) = (edit.start, edit.end);
            let change =
                json!([{"range": range(start.0, start.1, end.0, end.1), "text": edit.text}]);
            client.discard_notifications()?;
            let started = Instant::now();
            client.did_change(&uri, version, change)?;
            client.wait_for_diagnostics(&uri, Some(version), options.timeout)?;
            samples.push((edit.kind, elapsed_ms(started)));
        }
    }
    for kind in edit_mix::KINDS.iter().copied().chain([ALL_KINDS]) {
        let of_kind = mix_samples(samples, kind);
        let [p50, p95, p99] =
            [50.0, 95.0, 99.0].map(|p| percentile(&of_kind, p).unwrap_or(f64::NAN));
        eprintln!(
            "   edit mix, {kind} ({} edits): p50 {p50:.1} ms, p95 {p95:.1} ms, p99 {p99:.1} ms",
            of_kind.len()
        );
    }
    Ok(())
}

/// The edit mix's row over every kind.
const ALL_KINDS: &str = "every kind";

/// The milliseconds of the edit mix's edits of `kind` ([`ALL_KINDS`]: all of them).
fn mix_samples(samples: &[(&'static str, f64)], kind: &str) -> Vec<f64> {
    samples
        .iter()
        .filter(|(of, _)| kind == ALL_KINDS || *of == kind)
        .map(|(_, ms)| *ms)
        .collect()
}

/// On a fresh server process: from spawning it to the answer of a completion request sent right
/// after didOpen (initialize included, no wait for diagnostics). None when completion is not
/// advertised.
fn measure_first_completion(
    server: &ServerSpec,
    workload: &Workload,
    options: &Options,
) -> Result<Option<f64>, LspError> {
    let started = Instant::now();
    let Session {
        mut client,
        capabilities,
    } = start_session(server, options.timeout)?;
    let advertised = capabilities
        .get("completionProvider")
        .is_some_and(is_enabled);
    let mut elapsed = None;
    if advertised {
        let uri = file_uri(&workload.path);
        client.did_open(&uri, "yaml", &workload.text, 1)?;
        let (line, character) = key_position(workload);
        let params = json!({"textDocument": {"uri": uri}, "position": {"line": line, "character": character}});
        match client.request("textDocument/completion", params) {
            Ok(_) | Err(LspError::Response(_)) => elapsed = Some(elapsed_ms(started)),
            Err(err) => {
                let _ = client.kill();
                return Err(err);
            }
        }
    }
    let _ = client.kill(); // the next measurement starts its own process
    Ok(elapsed)
}

fn measure_into(
    measurements: &mut Measurements,
    session: &mut Option<Session>,
    server: &ServerSpec,
    workload: &Workload,
    options: &Options,
) -> Result<(), LspError> {
    let Session {
        client,
        capabilities,
    } = session.insert(start_session(server, options.timeout)?);
    measurements.warmup_diagnostics = warm_up(client, options.timeout)?;
    if measurements.warmup_diagnostics == 0 {
        eprintln!("   WARNING: no diagnostic for an unknown field: schema validation may be off");
    }

    let uri = file_uri(&workload.path);
    let edit_line = workload
        .text
        .lines()
        .nth(workload.edit_line)
        .unwrap_or_default();
    eprintln!(
        "   editing line {}: {}",
        workload.edit_line + 1,
        edit_line.trim()
    );
    // The clock starts when the message goes out: encoding it is the editor's work.
    let did_open = did_open_frame(&uri, "yaml", &workload.text, 1)?;
    let started = Instant::now();
    client.send_raw(&did_open)?;
    let diagnostics = client.wait_for_diagnostics(&uri, Some(1), options.timeout)?;
    let open_ms = elapsed_ms(started);
    measurements.open_ms = Some(open_ms);
    eprintln!(
        "   didOpen → diagnostics: {open_ms:.1} ms ({} diagnostics)",
        diagnostic_count(&diagnostics)
    );
    let (complete_ms, diagnostics) = last_publication(client, &uri, started, open_ms, diagnostics)?;
    measurements.open_complete_ms = Some(complete_ms);
    measurements.open_diagnostics = Some(diagnostic_count(&diagnostics));
    eprintln!(
        "   didOpen → complete diagnostics: {complete_ms:.1} ms ({} diagnostics)",
        diagnostic_count(&diagnostics)
    );

    settle(client)?;
    measure_edits(client, &uri, workload, options, &mut measurements.edit_ms)?;
    let (line, character) = key_position(workload);
    if capabilities
        .get("completionProvider")
        .is_some_and(is_enabled)
    {
        let samples = measurements.completion_ms.insert(Vec::new());
        let params = at_position(&uri, line, character);
        measure_requests(client, "textDocument/completion", params, options, samples)?;
    }
    if capabilities.get("hoverProvider").is_some_and(is_enabled) {
        let samples = measurements.hover_ms.insert(Vec::new());
        let params = at_position(&uri, line, character + 1);
        measure_requests(client, "textDocument/hover", params, options, samples)?;
    }
    // What an editor asks after each change for its outline and folds.
    measurements.peak_rss_kib = peak_rss_kib(client.pid());
    let document = json!({"textDocument": {"uri": uri}});
    if capabilities
        .get("documentSymbolProvider")
        .is_some_and(is_enabled)
    {
        let samples = measurements.symbols_ms.insert(Vec::new());
        let params = document.clone();
        measure_requests(
            client,
            "textDocument/documentSymbol",
            params,
            options,
            samples,
        )?;
    }
    if capabilities
        .get("foldingRangeProvider")
        .is_some_and(is_enabled)
    {
        let samples = measurements.folding_ms.insert(Vec::new());
        measure_requests(
            client,
            "textDocument/foldingRange",
            document,
            options,
            samples,
        )?;
        let samples = measurements.folding_edited_ms.insert(Vec::new());
        let next_version = 2 + measurements.edit_ms.len() as i64;
        let label = "foldingRange after an edit";
        let next_version = measure_folds_after_edits(
            client,
            &uri,
            workload,
            options,
            next_version,
            label,
            samples,
        )?;
        // Read before the broken document's series: the memory target is about the ones above.
        measurements.peak_rss_outline_kib = peak_rss_kib(client.pid());
        let samples = measurements.folding_broken_ms.insert(Vec::new());
        measure_folds_of_broken_yaml(client, &uri, workload, options, next_version, samples)?;
    }
    Ok(())
}

/// Opens the warm-up manifest and waits for its diagnostics, so that schema
/// loading is not billed to the first workload open. Returns how many it got.
fn warm_up(client: &mut LspClient, timeout: Duration) -> Result<usize, LspError> {
    let uri = file_uri(&bench_dir().join("warmup.yaml"));
    client.did_open(&uri, "yaml", WARMUP_MANIFEST, 1)?;
    let first = client.wait_for_diagnostics(&uri, Some(1), timeout)?;
    let (_, diagnostics) = last_publication(client, &uri, Instant::now(), 0.0, first)?;
    client.did_close(&uri)?;
    settle(client)?;
    if let Some(first) = diagnostics.get("diagnostics").and_then(|all| all.get(0)) {
        eprintln!(
            "   warm-up (unknown field) flagged: {}",
            first.get("message").unwrap_or(&Value::Null)
        );
    }
    Ok(diagnostic_count(&diagnostics))
}

/// How long without a further publication counts as "done" after didOpen.
const QUIET: Duration = Duration::from_millis(1000);

/// Collects further publications for version 1 of `uri` until none comes for `QUIET`; returns the
/// time of the last one (ms since `started`) and its params.
fn last_publication(
    client: &mut LspClient,
    uri: &str,
    started: Instant,
    first_ms: f64,
    first: Value,
) -> Result<(f64, Value), LspError> {
    let (mut last_ms, mut last) = (first_ms, first);
    loop {
        match client.wait_for_diagnostics(uri, Some(1), QUIET) {
            Ok(next) => (last_ms, last) = (elapsed_ms(started), next),
            Err(LspError::Timeout(_)) => return Ok((last_ms, last)),
            Err(other) => return Err(other),
        }
    }
}

/// Lets late publications (e.g. a re-validation after a settings change) come
/// in and drops them, so the next wait sees only the answer to its own action.
fn settle(client: &mut LspClient) -> Result<(), LspError> {
    std::thread::sleep(Duration::from_millis(500));
    client.discard_notifications()?;
    Ok(())
}

/// Alternately appends a character to the edit line's value and deletes it,
/// timing each change until the diagnostics for its version arrive.
fn measure_edits(
    client: &mut LspClient,
    uri: &str,
    workload: &Workload,
    options: &Options,
    samples: &mut Vec<f64>,
) -> Result<(), LspError> {
    let series_started = Instant::now();
    for edit in 0..options.edits {
        // Stop early only after an even number of edits: the text is then back to the original.
        if edit % 2 == 0 && over_budget(series_started, samples, options) {
            break;
        }
        let version = 2 + edit as i64;
        client.discard_notifications()?; // servers without versions: only a new publication counts
        let started = Instant::now();
        client.did_change(uri, version, one_character_edit(workload, edit))?;
        client.wait_for_diagnostics(uri, Some(version), options.timeout)?;
        samples.push(elapsed_ms(started));
    }
    let (p50, p95) = (
        percentile(samples, 50.0).unwrap_or(f64::NAN),
        percentile(samples, 95.0).unwrap_or(f64::NAN),
    );
    eprintln!(
        "   edit → diagnostics ({} edits): p50 {p50:.1} ms, p95 {p95:.1} ms",
        samples.len()
    );
    Ok(())
}

/// The `edit`th change of the one-character series: even ones append an `x` to the edit line,
/// odd ones delete it again.
fn one_character_edit(workload: &Workload, edit: usize) -> Value {
    let line = workload.edit_line;
    let end = utf16_len(workload.text.lines().nth(line).unwrap_or_default());
    match edit % 2 {
        0 => json!([{"range": range(line, end, line, end), "text": "x"}]),
        _ => json!([{"range": range(line, end, line, end + 1), "text": ""}]),
    }
}

/// A foldingRange request right after each one-character edit's diagnostics have come: the
/// folds of a document that just changed (an editor asks again after every change). Returns
/// the next version.
fn measure_folds_after_edits(
    client: &mut LspClient,
    uri: &str,
    workload: &Workload,
    options: &Options,
    first_version: i64,
    label: &str,
    samples: &mut Vec<f64>,
) -> Result<i64, LspError> {
    let mut next_version = first_version;
    let document = json!({"textDocument": {"uri": uri}});
    let series_started = Instant::now();
    for edit in 0..options.requests.div_ceil(2) * 2 {
        if edit % 2 == 0 && over_budget(series_started, samples, options) {
            break;
        }
        let version = first_version + edit as i64;
        next_version = version + 1;
        client.discard_notifications()?;
        client.did_change(uri, version, one_character_edit(workload, edit))?;
        client.wait_for_diagnostics(uri, Some(version), options.timeout)?;
        let started = Instant::now();
        match client.request("textDocument/foldingRange", document.clone()) {
            Ok(_) | Err(LspError::Response(_)) => samples.push(elapsed_ms(started)),
            Err(err) => return Err(err),
        }
    }
    eprintln!(
        "   {label} ({} requests): p50 {:.1} ms",
        samples.len(),
        percentile(samples, 50.0).unwrap_or(f64::NAN)
    );
    Ok(next_version)
}

/// [`measure_folds_after_edits`] while an opening quote before the edit line's value breaks the
/// document (a quote or key being typed: saphyr rejects the rest, tree-sitter recovers); the
/// quote is deleted after. Returns the next version.
fn measure_folds_of_broken_yaml(
    client: &mut LspClient,
    uri: &str,
    workload: &Workload,
    options: &Options,
    first_version: i64,
    samples: &mut Vec<f64>,
) -> Result<i64, LspError> {
    let line = workload.edit_line;
    let text = workload.text.lines().nth(line).unwrap_or_default();
    let Some(colon) = text.find(": ") else {
        return Ok(first_version);
    };
    let value = utf16_len(&text[..colon + 2]);
    let quote = |new: &str, end| json!([{"range": range(line, value, line, end), "text": new}]);
    client.did_change(uri, first_version, quote("\"", value))?;
    client.wait_for_diagnostics(uri, Some(first_version), options.timeout)?;
    let label = "foldingRange after an edit of broken YAML";
    let version = measure_folds_after_edits(
        client,
        uri,
        workload,
        options,
        first_version + 1,
        label,
        samples,
    )?;
    client.discard_notifications()?;
    client.did_change(uri, version, quote("", value + 1))?;
    client.wait_for_diagnostics(uri, Some(version), options.timeout)?;
    Ok(version + 1)
}

fn at_position(uri: &str, line: usize, character: usize) -> Value {
    json!({"textDocument": {"uri": uri}, "position": {"line": line, "character": character}})
}

fn measure_requests(
    client: &mut LspClient,
    method: &str,
    params: Value,
    options: &Options,
    samples: &mut Vec<f64>,
) -> Result<(), LspError> {
    let series_started = Instant::now();
    for _ in 0..options.requests {
        if over_budget(series_started, samples, options) {
            break;
        }
        let started = Instant::now();
        match client.request(method, params.clone()) {
            Ok(_) | Err(LspError::Response(_)) => samples.push(elapsed_ms(started)),
            Err(err) => return Err(err),
        }
    }
    let (p50, p95) = (
        percentile(samples, 50.0).unwrap_or(f64::NAN),
        percentile(samples, 95.0).unwrap_or(f64::NAN),
    );
    eprintln!(
        "   {method} ({} requests): p50 {p50:.1} ms, p95 {p95:.1} ms",
        samples.len()
    );
    Ok(())
}

/// Whether a series has used up its time budget (it always gets 2 samples).
fn over_budget(series_started: Instant, samples: &[f64], options: &Options) -> bool {
    samples.len() >= 2 && series_started.elapsed() > options.series_budget
}

/// Start of the key on the edit line: a key position inside a mapping.
fn key_position(workload: &Workload) -> (usize, usize) {
    let line = workload
        .text
        .lines()
        .nth(workload.edit_line)
        .unwrap_or_default();
    let indent = line.len() - line.trim_start().trim_start_matches("- ").len();
    (workload.edit_line, indent)
}

fn is_enabled(capability: &Value) -> bool {
    !matches!(capability, Value::Null | Value::Bool(false))
}

fn range(start_line: usize, start_char: usize, end_line: usize, end_char: usize) -> Value {
    json!({"start": {"line": start_line, "character": start_char}, "end": {"line": end_line, "character": end_char}})
}

fn utf16_len(text: &str) -> usize {
    text.encode_utf16().count()
}

fn diagnostic_count(params: &Value) -> usize {
    params
        .get("diagnostics")
        .and_then(Value::as_array)
        .map_or(0, Vec::len)
}

fn elapsed_ms(started: Instant) -> f64 {
    started.elapsed().as_secs_f64() * 1000.0
}

/// Nearest-rank percentile; None for no samples.
fn percentile(samples: &[f64], percent: f64) -> Option<f64> {
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = ((percent / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted.get(rank.clamp(1, sorted.len().max(1)) - 1).copied()
}

// ---------------------------------------------------------------- reporting

/// One table row: a metric's label and how to read it from measurements.
struct Metric {
    label: &'static str,
    unit: &'static str,
    value: fn(&Measurements) -> Option<f64>,
}

const fn metric(
    label: &'static str,
    unit: &'static str,
    value: fn(&Measurements) -> Option<f64>,
) -> Metric {
    Metric { label, unit, value }
}

/// The median of an optional series (a request the server does not offer has none).
fn p50(samples: &Option<Vec<f64>>) -> Option<f64> {
    samples.as_deref().and_then(|s| percentile(s, 50.0))
}

fn p95(samples: &Option<Vec<f64>>) -> Option<f64> {
    samples.as_deref().and_then(|s| percentile(s, 95.0))
}

const METRICS: &[Metric] = &[
    metric("didOpen → diagnostics", "ms", |m| m.open_ms),
    metric("didOpen → complete diagnostics", "ms", |m| {
        m.open_complete_ms
    }),
    metric("edit → diagnostics p50", "ms", |m| {
        percentile(&m.edit_ms, 50.0)
    }),
    metric("edit → diagnostics p95", "ms", |m| {
        percentile(&m.edit_ms, 95.0)
    }),
    metric("start → first completion", "ms", |m| {
        m.first_completion_ms
    }),
    metric("completion p50", "ms", |m| p50(&m.completion_ms)),
    metric("completion p95", "ms", |m| p95(&m.completion_ms)),
    metric("hover p50", "ms", |m| p50(&m.hover_ms)),
    metric("hover p95", "ms", |m| p95(&m.hover_ms)),
    // The first one outlines every document (nothing asked for an outline before it): what an
    // editor waits for after opening a file.
    metric("first documentSymbol", "ms", |m| {
        m.symbols_ms
            .as_ref()
            .and_then(|samples| samples.first().copied())
    }),
    metric("documentSymbol p50", "ms", |m| p50(&m.symbols_ms)),
    metric("foldingRange p50", "ms", |m| p50(&m.folding_ms)),
    metric("foldingRange after an edit p50", "ms", |m| {
        p50(&m.folding_edited_ms)
    }),
    metric("foldingRange after an edit of broken YAML p50", "ms", |m| {
        p50(&m.folding_broken_ms)
    }),
    metric("peak RSS", "MiB", |m| {
        m.peak_rss_kib.map(|kib| kib as f64 / 1024.0)
    }),
    metric("peak RSS with outline requests", "MiB", |m| {
        m.peak_rss_outline_kib.map(|kib| kib as f64 / 1024.0)
    }),
    metric("diagnostics on open", "count", |m| {
        m.open_diagnostics.map(|n| n as f64)
    }),
    metric("edits measured", "count", |m| Some(m.edit_ms.len() as f64)),
    metric("completions measured", "count", |m| {
        m.completion_ms.as_ref().map(|s| s.len() as f64)
    }),
];

/// Markdown table: one row per workload × metric, one column per server, and
/// the ratio yaml-language-server / kube-lsp when both ran.
fn results_table(results: &[RunResult], servers: &[ServerSpec], workloads: &[Workload]) -> String {
    let with_ratio = servers.len() == 2 && servers[0].name == "kube-lsp";
    let mut table = String::from("| file | metric |");
    for server in servers {
        let _ = write!(table, " {} |", server.name);
    }
    table.push_str(if with_ratio {
        " ratio (yaml-ls / kube-lsp) |\n|---|---|"
    } else {
        "\n|---|---|"
    });
    table.push_str(&"---:|".repeat(servers.len() + usize::from(with_ratio)));
    table.push('\n');
    for workload in workloads {
        for metric in METRICS {
            let values: Vec<Cell> = servers
                .iter()
                .map(|server| cell(results, &server.name, &workload.name, metric))
                .collect();
            let _ = write!(
                table,
                "| {} | {} ({}) |",
                workload.name, metric.label, metric.unit
            );
            for value in &values {
                let _ = write!(table, " {} |", value.text(metric.unit));
            }
            if with_ratio {
                let _ = write!(table, " {} |", ratio(&values[1], &values[0], metric.unit));
            }
            table.push('\n');
        }
    }
    for run in results {
        if let Some(failure) = &run.measurements.failure {
            let _ = write!(
                table,
                "\n{} on {}: stopped early: {failure}.\n",
                run.server, run.workload
            );
        }
    }
    table
}

/// Markdown table of the edit mix: one row per workload × kind (and over every kind), one column
/// per server with p50 / p95 / p99 in ms and the number of edits.
fn edit_mix_table(results: &[RunResult], servers: &[ServerSpec], workloads: &[Workload]) -> String {
    let mut table = String::from(
        "Edit mix, edit → diagnostics of its version, p50 / p95 / p99 (ms) and edits measured:\n\n| file | edit |",
    );
    for server in servers {
        let _ = write!(table, " {} |", server.name);
    }
    table.push_str("\n|---|---|");
    table.push_str(&"---:|".repeat(servers.len()));
    table.push('\n');
    for workload in workloads {
        for kind in edit_mix::KINDS.iter().copied().chain([ALL_KINDS]) {
            let _ = write!(table, "| {} | {kind} |", workload.name);
            for server in servers {
                let run = results
                    .iter()
                    .find(|run| run.server == server.name && run.workload == workload.name);
                let text = match run.map(|run| &run.measurements) {
                    None => "failed".to_string(),
                    Some(m) => {
                        let samples = mix_samples(&m.edit_mix_ms, kind);
                        let [p50, p95, p99] = [50.0, 95.0, 99.0]
                            .map(|p| percentile(&samples, p).map(|v| Cell::Value(v).text("ms")));
                        match (p50, p95, p99, &m.edit_mix_failure, &m.failure) {
                            (Some(p50), Some(p95), Some(p99), _, _) => {
                                format!("{p50} / {p95} / {p99} ({})", samples.len())
                            }
                            (_, _, _, Some(failure), _) | (_, _, _, None, Some(failure)) => {
                                failure.clone()
                            }
                            _ => "n/a".to_string(),
                        }
                    }
                };
                let _ = write!(table, " {text} |");
            }
            table.push('\n');
        }
    }
    table
}

enum Cell {
    Value(f64),
    NotAvailable,
    TimedOut,
    Failed,
}

impl Cell {
    fn text(&self, unit: &str) -> String {
        match self {
            Cell::Value(value) if unit == "count" => format!("{value:.0}"),
            Cell::Value(value) if *value < 10.0 => format!("{value:.2}"),
            Cell::Value(value) => format!("{value:.1}"),
            Cell::NotAvailable => "n/a".into(),
            Cell::TimedOut => "timed out".into(),
            Cell::Failed => "failed".into(),
        }
    }
}

fn cell(results: &[RunResult], server: &str, workload: &str, metric: &Metric) -> Cell {
    let run = results
        .iter()
        .find(|run| run.server == server && run.workload == workload);
    let Some(measurements) = run.map(|run| &run.measurements) else {
        return Cell::Failed;
    };
    match ((metric.value)(measurements), &measurements.failure) {
        (Some(value), _) => Cell::Value(value),
        (None, None) => Cell::NotAvailable,
        (None, Some(failure)) if failure.starts_with("timed out") => Cell::TimedOut,
        (None, Some(_)) => Cell::Failed,
    }
}

fn ratio(numerator: &Cell, denominator: &Cell, unit: &str) -> String {
    match (numerator, denominator) {
        (_, _) if unit == "count" => String::new(),
        (Cell::Value(top), Cell::Value(bottom)) if *bottom > 0.0 => format!("{:.1}×", top / bottom),
        _ => "–".into(),
    }
}

fn results_json(results: &[RunResult]) -> Value {
    let runs = results.iter().map(|run| {
        let m = &run.measurements;
        json!({
            "server": run.server,
            "workload": run.workload,
            "warmup_diagnostics": m.warmup_diagnostics,
            "open_ms": m.open_ms,
            "open_complete_ms": m.open_complete_ms,
            "open_diagnostics": m.open_diagnostics,
            "edit_ms": m.edit_ms,
            "first_completion_ms": m.first_completion_ms,
            "completion_ms": m.completion_ms,
            "hover_ms": m.hover_ms,
            "symbols_ms": m.symbols_ms,
            "folding_ms": m.folding_ms,
            "folding_edited_ms": m.folding_edited_ms,
            "folding_broken_ms": m.folding_broken_ms,
            "peak_rss_kib": m.peak_rss_kib,
            "peak_rss_outline_kib": m.peak_rss_outline_kib,
            "failure": m.failure,
            "edit_mix_ms": m.edit_mix_ms.iter().map(|(kind, ms)| json!({"kind": kind, "ms": ms})).collect::<Vec<_>>(),
            "edit_mix_failure": m.edit_mix_failure,
        })
    });
    Value::Array(runs.collect())
}

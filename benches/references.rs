//! References between objects at scale (issue 19), on the 5,000-file workspace that
//! benches/workspace.rs generates (copies of the corpus' manifests, one kustomization per
//! folder) with the shop of tests/fixtures/references added, so that references both resolve
//! and dangle:
//!
//! - in process, on the index: definition, hover, find references and completion at 1,000
//!   reference sites of every kind, the reference diagnostics and code lenses of 1,000 files
//!   (p50 / p95);
//! - over LSP (the release binary, `--kube-lsp PATH`): definition and completion round trips at
//!   reference sites of opened files, once the workspace is indexed;
//! - 50,000 objects (50 files of 1,000 ConfigMaps, 100 Pods referring to them): index time and
//!   memory, diagnostics, definition and completion, and how many warnings are false.
//!
//! `cargo build --release && cargo bench --bench references [-- --files N] [--objects N]
//! [--kube-lsp PATH | --no-lsp] [--keep]`. Generated under target/bench/references/ (removed at
//! the end unless `--keep`). Nothing is asserted but what makes the numbers meaningful.

#[path = "common/generated.rs"]
mod generated;
#[path = "../tests/common/lsp_client.rs"]
mod lsp_client;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use generated::{generate, mib, ms, pair, reset_peak, status};
use kube_lsp::features::references::{self as references, NoCluster, Scope};
use kube_lsp::workspace::index::Index;
use kube_lsp::workspace::references::{Part, Ref};
use kube_lsp::workspace::{Limits, Workspace};
use lsp_client::{LspClient, ServerStderr, file_uri};
use serde_json::{Value, json};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const SITES: usize = 1_000;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let number = |flag: &str, default: usize| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|at| args.get(at + 1)?.parse().ok())
            .unwrap_or(default)
    };
    let files = number("--files", 5_000);
    let objects = number("--objects", 50_000);
    let keep = args.iter().any(|a| a == "--keep");
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let binary = args
        .iter()
        .position(|a| a == "--kube-lsp")
        .and_then(|at| args.get(at + 1))
        .map(PathBuf::from)
        .unwrap_or_else(|| repo.join("target/release/kube-lsp"));
    let lsp = !args.iter().any(|a| a == "--no-lsp");
    let corpus = std::env::var_os("KUBE_LSP_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo.join("../shared/corpus"));
    let base = repo.join("target/bench/references");
    std::fs::remove_dir_all(&base).ok();

    // ------------------------------------------------------------ the 5,000-file workspace
    let root = base.join("workspace");
    let (bytes, documents) = generate(&corpus, &root.join("generated"), files);
    copy_dir(
        &repo.join("tests/fixtures/references/shop"),
        &root.join("shop"),
    );
    let workspace = scanned(&root);
    let index = workspace.read();
    let all_sites = sites(&index);
    println!(
        "{}: {} files ({files} generated, {:.1} MiB, {documents} documents, and the shop), {} references\n",
        root.display(),
        index.len(),
        bytes as f64 / generated::MIB,
        all_sites.len()
    );
    let sample = spread(&all_sites, SITES);
    let texts = texts(&sample);
    let roots = vec![root.clone()];
    let scope = Scope {
        index: &index,
        default_namespace: "default",
        cluster: &NoCluster,
        roots: &roots,
    };
    let mut hits = 0;
    let definition = timed(&sample, |(path, r)| {
        let found = references::definition(&scope, path, r.range.start);
        hits += usize::from(!found.is_empty());
    });
    let hover = timed(&sample, |(path, r)| {
        std::hint::black_box(references::hover(&scope, path, r.range.start));
    });
    let refs = timed(&sample, |(path, r)| {
        std::hint::black_box(references::references(&scope, path, r.range.start, true));
    });
    let mut items = 0;
    let completion = timed(&sample, |(path, r)| {
        let (start, document) = document_at(&texts[path], r.range.start);
        let found = references::completions(&scope, path, document, start, r.range.end);
        items += found.items.len();
    });
    let files_with_refs: Vec<PathBuf> = {
        let mut paths: Vec<PathBuf> = all_sites.iter().map(|(p, _)| p.clone()).collect();
        paths.dedup();
        spread(&paths, SITES)
    };
    let mut warnings = 0;
    let diagnostics = timed(&files_with_refs, |path| {
        warnings += references::diagnostics(&scope, path).len();
    });
    let lenses = timed(&files_with_refs, |path| {
        std::hint::black_box(references::lenses(&scope, path));
    });
    println!(
        "{:<72} {:>16}",
        "in process, 5,000-file workspace", "p50 / p95 (µs)"
    );
    let row = |metric: &str, value: String| println!("{metric:<72} {value:>16}");
    row(
        &format!("definition ({} sites, {hits} found a target)", sample.len()),
        pair(&definition, 0.95),
    );
    row("hover", pair(&hover, 0.95));
    row("find references (with declarations)", pair(&refs, 0.95));
    row(
        &format!("completion at the value ({items} items in all)"),
        pair(&completion, 0.95),
    );
    row(
        &format!(
            "diagnostics of a file ({} files, {warnings} diagnostics)",
            files_with_refs.len()
        ),
        pair(&diagnostics, 0.95),
    );
    row("code lenses of a file", pair(&lenses, 0.95));
    drop(index);

    if lsp {
        if binary.exists() {
            println!();
            over_lsp(&binary, &root, &sample);
        } else {
            println!(
                "\n(no {}: `cargo build --release` for the LSP round trips)",
                binary.display()
            );
        }
    }
    drop(workspace);

    // ------------------------------------------------------------ 50,000 objects
    println!();
    fifty_thousand(&base.join("many"), objects);
    if !keep {
        std::fs::remove_dir_all(&base).ok();
    }
}

fn scanned(root: &Path) -> Workspace {
    let workspace = Workspace::new(Limits::default());
    workspace.set_roots(vec![root.to_path_buf()]);
    workspace.scan();
    workspace
}

/// Every reference of the index, by file (names, keys and ports).
fn sites(index: &Index) -> Vec<(PathBuf, Ref)> {
    let mut out = Vec::new();
    for (path, file) in index.files() {
        for document in &file.documents {
            out.extend(
                document
                    .refs
                    .iter()
                    .map(|r| (path.to_path_buf(), r.clone())),
            );
        }
    }
    out
}

/// At most `count` items, evenly spread over `items`.
fn spread<T: Clone>(items: &[T], count: usize) -> Vec<T> {
    let step = (items.len() / count.max(1)).max(1);
    items.iter().step_by(step).take(count).cloned().collect()
}

fn texts(sites: &[(PathBuf, Ref)]) -> HashMap<PathBuf, String> {
    let mut texts = HashMap::new();
    for (path, _) in sites {
        if !texts.contains_key(path) {
            texts.insert(path.clone(), std::fs::read_to_string(path).unwrap());
        }
    }
    texts
}

/// The start and text of the YAML document of `text` holding `offset`.
fn document_at(text: &str, offset: usize) -> (usize, &str) {
    let split = kube_lsp::yaml::split::split(text);
    let range = split
        .documents
        .into_iter()
        .find(|d| d.start <= offset && offset <= d.end)
        .unwrap_or(0..text.len());
    (range.start, &text[range])
}

fn timed<T>(items: &[T], mut run: impl FnMut(&T)) -> Vec<Duration> {
    items
        .iter()
        .map(|item| {
            let started = Instant::now();
            run(item);
            started.elapsed()
        })
        .collect()
}

fn copy_dir(from: &Path, to: &Path) {
    for entry in walkdir::WalkDir::new(from) {
        let entry = entry.unwrap();
        let target = to.join(entry.path().strip_prefix(from).unwrap());
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Definition and completion round trips over stdio, at the reference sites of 50 opened files.
fn over_lsp(binary: &Path, root: &Path, sites: &[(PathBuf, Ref)]) {
    let cache = tempfile::tempdir().unwrap();
    let env = [
        ("XDG_CACHE_HOME", cache.path().as_os_str()),
        ("KUBECONFIG", std::ffi::OsStr::new("/nonexistent")),
    ];
    let mut client =
        LspClient::spawn_with_env(binary, &[], ServerStderr::Null, &env).expect("spawn kube-lsp");
    client.set_request_timeout(Duration::from_secs(120));
    let started = Instant::now();
    client
        .initialize(json!({
            "processId": null,
            "rootUri": file_uri(root),
            "capabilities": {"textDocument": {"completion": {"completionItem": {"labelDetailsSupport": true}}}},
            "workspaceFolders": [{"uri": file_uri(root), "name": "bench"}],
        }))
        .expect("initialize");
    let mut opened: Vec<&Path> = Vec::new();
    let mut chosen: Vec<&(PathBuf, Ref)> = Vec::new();
    for site in sites {
        if !opened.contains(&site.0.as_path()) {
            if opened.len() == 50 {
                continue;
            }
            opened.push(&site.0);
            let text = std::fs::read_to_string(&site.0).unwrap();
            client
                .did_open(&file_uri(&site.0), "yaml", &text, 1)
                .unwrap();
        }
        chosen.push(site);
    }
    // The shop's ConfigMap reference resolves once the scan has read the workspace.
    let shop = root.join("shop/app/deployment.yaml");
    let shop_text = std::fs::read_to_string(&shop).unwrap();
    client
        .did_open(&file_uri(&shop), "yaml", &shop_text, 1)
        .unwrap();
    let at = position(&shop_text, shop_text.find("app-config").unwrap());
    loop {
        let answer = client
            .request(
                "textDocument/definition",
                json!({"textDocument": {"uri": file_uri(&shop)}, "position": at}),
            )
            .unwrap();
        if answer.as_array().is_some_and(|a| !a.is_empty()) {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let indexed = started.elapsed();
    let texts: HashMap<&Path, String> = opened
        .iter()
        .map(|p| (*p, std::fs::read_to_string(p).unwrap()))
        .collect();
    let round_trips = |client: &mut LspClient, method: &str, end: bool| -> Vec<Duration> {
        chosen
            .iter()
            .map(|(path, r)| {
                let offset = if end { r.range.end } else { r.range.start };
                let params = json!({
                    "textDocument": {"uri": file_uri(path)},
                    "position": position(&texts[path.as_path()], offset),
                });
                let started = Instant::now();
                client.request(method, params).unwrap();
                started.elapsed()
            })
            .collect()
    };
    let definition = round_trips(&mut client, "textDocument/definition", false);
    let completion = round_trips(&mut client, "textDocument/completion", true);
    let hover = round_trips(&mut client, "textDocument/hover", false);
    println!(
        "{:<72} {:>16}",
        format!(
            "over LSP ({} sites in {} open files)",
            chosen.len(),
            opened.len()
        ),
        "p50 / p95 (µs)"
    );
    let row = |metric: &str, value: String| println!("{metric:<72} {value:>16}");
    row(
        "start → workspace indexed (first definition found) (ms)",
        ms(indexed),
    );
    row("definition round trip", pair(&definition, 0.95));
    row(
        "completion round trip (schema and references)",
        pair(&completion, 0.95),
    );
    row(
        "hover round trip (references and schema)",
        pair(&hover, 0.95),
    );
    client.shutdown_and_exit().ok();
}

/// The LSP position of `offset` (UTF-16 columns).
fn position(text: &str, offset: usize) -> Value {
    let before = &text[..offset];
    let line = before.matches('\n').count();
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let character: usize = before[line_start..].chars().map(char::len_utf16).sum();
    json!({"line": line, "character": character})
}

/// `objects` ConfigMaps in files of 1,000, and 100 Pods each naming 5 that exist and 5 that do
/// not.
fn fifty_thousand(root: &Path, objects: usize) {
    std::fs::create_dir_all(root).unwrap();
    let per_file = 1_000;
    let config_files = objects.div_ceil(per_file);
    for file in 0..config_files {
        let mut text = String::new();
        for n in 0..per_file.min(objects - file * per_file) {
            text.push_str(&format!("---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-{file}-{n}\n  namespace: big\ndata:\n  key: v\n"));
        }
        std::fs::write(root.join(format!("config-{file}.yaml")), text).unwrap();
    }
    let mut pods = Vec::new();
    for pod in 0..100 {
        let mut env = String::new();
        for k in 0..10 {
            let name = if k < 5 {
                format!("cm-{}-{}", (pod + k) % config_files, k)
            } else {
                format!("missing-{pod}-{k}")
            };
            env.push_str(&format!("    - name: V{k}\n      valueFrom:\n        configMapKeyRef:\n          name: {name}\n          key: key\n"));
        }
        let text = format!(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: pod-{pod}\n  namespace: big\nspec:\n  containers:\n  - name: c\n    image: x\n    env:\n{env}"
        );
        let path = root.join(format!("pod-{pod}.yaml"));
        std::fs::write(&path, text).unwrap();
        pods.push(path);
    }
    let before = status("VmRSS");
    reset_peak();
    let started = Instant::now();
    let workspace = scanned(root);
    let took = started.elapsed();
    let (after, peak) = (status("VmRSS"), status("VmHWM"));
    let index = workspace.read();
    let roots = vec![root.to_path_buf()];
    let scope = Scope {
        index: &index,
        default_namespace: "default",
        cluster: &NoCluster,
        roots: &roots,
    };
    let (mut reported, mut false_warnings) = (0, 0);
    let diagnostics = timed(&pods, |path| {
        for d in references::diagnostics(&scope, path) {
            reported += 1;
            false_warnings += usize::from(!d.message.contains("`missing-"));
        }
    });
    let sites: Vec<(PathBuf, Ref)> = pods
        .iter()
        .flat_map(|p| {
            index
                .documents_of(p)
                .flat_map(|f| f.document.refs.clone())
                .map(|r| (p.clone(), r))
                .collect::<Vec<_>>()
        })
        .filter(|(_, r)| r.part == Part::Name)
        .collect();
    let definition = timed(&sites, |(path, r)| {
        std::hint::black_box(references::definition(&scope, path, r.range.start));
    });
    let texts: HashMap<PathBuf, Arc<String>> = pods
        .iter()
        .map(|p| (p.clone(), Arc::new(std::fs::read_to_string(p).unwrap())))
        .collect();
    let mut items = 0;
    let completion = timed(&sites[..100], |(path, r)| {
        items += references::completions(&scope, path, &texts[path], 0, r.range.end)
            .items
            .len();
    });
    println!(
        "{:<72} {:>16}",
        format!("{objects} ConfigMaps in {config_files} files, 100 Pods"),
        "value"
    );
    let row = |metric: &str, value: String| println!("{metric:<72} {value:>16}");
    row("index (scan) time (ms)", ms(took));
    row(
        "VmRSS with the index held, minus before (MiB)",
        mib(after.saturating_sub(before)),
    );
    row(
        "peak while indexing, VmHWM - VmRSS before (MiB)",
        mib(peak.saturating_sub(before)),
    );
    row(
        "diagnostics of a Pod: p50 / p95 (µs)",
        pair(&diagnostics, 0.95),
    );
    row(
        "diagnostics reported (500 expected) / false warnings",
        format!("{reported} / {false_warnings}"),
    );
    row("definition: p50 / p95 (µs)", pair(&definition, 0.95));
    row(
        &format!(
            "completion of a name ({} items each): p50 / p95 (µs)",
            items / 100
        ),
        pair(&completion, 0.95),
    );
}

//! The workspace index at scale: a reproducible 5,000-file workspace (copies of the corpus'
//! manifests with renamed objects, one kustomization per folder) is generated into
//! target/bench/workspace/, then measured in process:
//!
//! - full index time (a fresh index each run, 5 runs, median; with the default workers and
//!   with one),
//! - memory: VmRSS before and after the first index (held), and the peak (VmHWM) while it was
//!   built, from /proc/self/status,
//! - queries while the scan runs (how long a reader waits for the lock),
//! - query latency p50/p95: by kind and name, and workloads matching a Service's selector,
//! - an update of one file: an open document's new text, and a file changed on disk.
//!
//! `cargo bench --bench workspace [-- --files N] [-- --keep]`. The generated folder is removed
//! at the end unless `--keep` (benches/lsp.rs uses target/bench/ as its workspace folder).
//! Nothing is asserted.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

#[path = "common/generated.rs"]
mod generated;
use generated::{MIB, generate, mib, ms, pair, reset_peak, status};

use kube_lsp::workspace::document::Selector;
use kube_lsp::workspace::index::Namespace;
use kube_lsp::workspace::{Limits, Workspace};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const RUNS: usize = 5;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let files = args
        .iter()
        .position(|a| a == "--files")
        .and_then(|at| args.get(at + 1)?.parse().ok())
        .unwrap_or(5_000);
    let keep = args.iter().any(|a| a == "--keep");
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let corpus = std::env::var_os("KUBE_LSP_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo.join("../shared/corpus"));
    let root = repo.join("target/bench/workspace");

    let (bytes, documents) = generate(&corpus, &root, files);
    println!(
        "{}: {files} files, {:.1} MiB, {documents} documents; {} workers by default\n",
        root.display(),
        bytes as f64 / MIB,
        Limits::default().workers
    );

    // Memory: a fresh index, held.
    let before = status("VmRSS");
    reset_peak();
    let started = Instant::now();
    let workspace = scanned(&root, Limits::default());
    let first = started.elapsed();
    let after = status("VmRSS");
    let peak = status("VmHWM");
    let indexed = workspace.read().len();
    assert_eq!(indexed, files, "every generated file is indexed");

    let timing = |limits: Limits| {
        let mut runs: Vec<Duration> = (0..RUNS)
            .map(|_| {
                let started = Instant::now();
                drop(scanned(&root, limits.clone()));
                started.elapsed()
            })
            .collect();
        runs.sort();
        runs[RUNS / 2]
    };
    let median = timing(Limits::default());
    let single = timing(Limits {
        workers: 1,
        ..Limits::default()
    });

    let during = reads_during_scan(&root);
    let by_name = by_name_latencies(&workspace);
    let by_selector = selector_latencies(&workspace);
    let (open_update, disk_update) = update_latencies(&workspace, &root);
    let big = corpus.join("real/argocd-install.yaml");
    let big_update = big_open_latencies(&workspace, &big);

    println!("{:<70} {:>14}", "metric", "value");
    let row = |metric: &str, value: String| println!("{metric:<70} {value:>14}");
    row("full index, first run (ms)", ms(first));
    row(&format!("full index, median of {RUNS} (ms)"), ms(median));
    row(
        &format!("full index, 1 worker, median of {RUNS} (ms)"),
        ms(single),
    );
    row("VmRSS before (MiB)", mib(before));
    row("VmRSS with the index held (MiB)", mib(after));
    row("  difference (MiB)", mib(after.saturating_sub(before)));
    row(
        "  peak while indexing, VmHWM - VmRSS before (MiB)",
        mib(peak.saturating_sub(before)),
    );
    row(
        "query while the scan runs: p50 / p99 (µs)",
        pair(&during, 0.99),
    );
    row(
        "query while the scan runs: max (µs)",
        pair(&during, 1.0)
            .split(" / ")
            .last()
            .unwrap_or_default()
            .to_string(),
    );
    row(
        "query by kind and name: p50 / p95 (µs)",
        pair(&by_name, 0.95),
    );
    row(
        "workloads matching a selector: p50 / p95 (µs)",
        pair(&by_selector, 0.95),
    );
    row(
        "update, an open document's text: p50 / p95 (µs)",
        pair(&open_update, 0.95),
    );
    row(
        "update, a file changed on disk: p50 / p95 (µs)",
        pair(&disk_update, 0.95),
    );
    row(
        "update, argocd install.yaml (1.9 MB) as an open text: p50 / p95 (µs)",
        pair(&big_update, 0.95),
    );

    drop(workspace);
    if !keep {
        std::fs::remove_dir_all(&root).ok();
    }
}

fn scanned(root: &Path, limits: Limits) -> Workspace {
    let workspace = Workspace::new(limits);
    workspace.set_roots(vec![root.to_path_buf()]);
    workspace.scan();
    workspace
}

/// How long queries wait while a scan fills the index.
fn reads_during_scan(root: &Path) -> Vec<Duration> {
    let workspace = Workspace::new(Limits::default());
    workspace.set_roots(vec![root.to_path_buf()]);
    let mut waits = Vec::new();
    std::thread::scope(|scope| {
        let scan = scope.spawn(|| workspace.scan());
        while !scan.is_finished() {
            let started = Instant::now();
            let index = workspace.read();
            let found = index
                .named("ConfigMap", None, Namespace::Any, "redis-config-7")
                .count();
            drop(index);
            waits.push(started.elapsed());
            std::hint::black_box(found);
            std::thread::sleep(Duration::from_micros(200));
        }
    });
    waits
}

fn by_name_latencies(workspace: &Workspace) -> Vec<Duration> {
    let targets: Vec<(String, String, Option<String>)> = {
        let index = workspace.read();
        index
            .files()
            .flat_map(|(_, file)| file.documents.iter())
            .filter_map(|d| {
                Some((
                    d.kind.as_deref()?.to_string(),
                    d.name.as_deref()?.to_string(),
                    d.namespace.as_deref().map(str::to_string),
                ))
            })
            .step_by(7)
            .take(1_000)
            .collect()
    };
    targets
        .iter()
        .map(|(kind, name, namespace)| {
            let namespace = namespace.as_deref().map_or(Namespace::Any, Namespace::In);
            let started = Instant::now();
            let index = workspace.read();
            let found = index.named(kind, None, namespace, name).count();
            drop(index);
            let elapsed = started.elapsed();
            assert!(found >= 1);
            elapsed
        })
        .collect()
}

fn selector_latencies(workspace: &Workspace) -> Vec<Duration> {
    let selectors: Vec<Selector> = {
        let index = workspace.read();
        index
            .of_kind("Service", None, Namespace::Any)
            .filter_map(|found| found.document.selector.as_deref().cloned())
            .take(1_000)
            .collect()
    };
    selectors
        .iter()
        .map(|selector| {
            let started = Instant::now();
            let index = workspace.read();
            let found = index.workloads_matching(Namespace::Any, selector).count();
            drop(index);
            std::hint::black_box(found);
            started.elapsed()
        })
        .collect()
}

/// An open document's text set 100 times (alternating two versions), then a file re-read from
/// disk 100 times.
fn update_latencies(workspace: &Workspace, root: &Path) -> (Vec<Duration>, Vec<Duration>) {
    let path = {
        let index = workspace.read();
        let (path, _) = index
            .files()
            .max_by_key(|(_, file)| file.documents.len())
            .expect("files");
        path.to_path_buf()
    };
    let text = std::fs::read_to_string(&path).unwrap();
    let edited = text.replacen("name: ", "name: x", 1);
    let open = (0..100)
        .map(|i| {
            let started = Instant::now();
            workspace.open_text(&path, if i % 2 == 0 { &edited } else { &text });
            started.elapsed()
        })
        .collect();
    workspace.close(&path, None);
    let changed = root.join("folder-000").join("kustomization.yaml");
    let disk = (0..100)
        .map(|_| {
            let started = Instant::now();
            workspace.files_changed(std::slice::from_ref(&path));
            workspace.files_changed(std::slice::from_ref(&changed));
            started.elapsed() / 2
        })
        .collect();
    (open, disk)
}

/// The corpus' biggest file set as an open document's text, 10 times.
fn big_open_latencies(workspace: &Workspace, path: &Path) -> Vec<Duration> {
    let text = std::fs::read_to_string(path).unwrap();
    let latencies = (0..10)
        .map(|_| {
            let started = Instant::now();
            workspace.open_text(path, &text);
            started.elapsed()
        })
        .collect();
    workspace.close(path, None);
    latencies
}

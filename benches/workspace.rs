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

use kube_lsp::workspace::document::Selector;
use kube_lsp::workspace::index::Namespace;
use kube_lsp::workspace::{Limits, Workspace};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const MIB: f64 = 1024.0 * 1024.0;
const FILES_PER_FOLDER: usize = 100;
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
    workspace.close(&path);
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
    workspace.close(path);
    latencies
}

// ---------------------------------------------------------------- the generated workspace

/// Writes `count` files under `root` (removed first): folders of [`FILES_PER_FOLDER`], each a
/// kustomization naming the copies of corpus manifests beside it. Returns the bytes and the
/// number of YAML documents written.
fn generate(corpus: &Path, root: &Path, count: usize) -> (usize, usize) {
    let sources = sources(corpus);
    assert!(!sources.is_empty(), "no corpus under {}", corpus.display());
    std::fs::remove_dir_all(root).ok();
    let (mut bytes, mut documents) = (0, 0);
    let mut written = 0;
    let mut copy = 0;
    for folder_number in 0.. {
        if written == count {
            break;
        }
        let folder = root.join(format!("folder-{folder_number:03}"));
        std::fs::create_dir_all(&folder).unwrap();
        let in_folder = FILES_PER_FOLDER.min(count - written);
        let mut names = Vec::new();
        for _ in 0..in_folder.saturating_sub(1) {
            let (stem, text) = &sources[copy % sources.len()];
            let name = format!("{stem}-{copy}.yaml");
            let text = renamed(text, copy);
            bytes += text.len();
            documents += kube_lsp::yaml::split::split(&text).documents.len();
            std::fs::write(folder.join(&name), text).unwrap();
            names.push(name);
            copy += 1;
        }
        let kustomization = format!(
            "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: ns-{folder_number}\nresources:\n{}",
            names.iter().map(|n| format!("- {n}\n")).collect::<String>()
        );
        bytes += kustomization.len();
        documents += 1;
        std::fs::write(folder.join("kustomization.yaml"), kustomization).unwrap();
        written += in_folder;
    }
    (bytes, documents)
}

/// The corpus' manifests: k8s-examples, seed and kube-linter's checks as files, and
/// microservices-demo one file per document. Sorted, so the workspace is the same every time.
fn sources(corpus: &Path) -> Vec<(String, String)> {
    let mut sources = Vec::new();
    for folder in ["k8s-examples", "seed", "kube-linter/checks"] {
        let mut paths: Vec<PathBuf> = walkdir::WalkDir::new(corpus.join(folder))
            .sort_by_file_name()
            .into_iter()
            .filter_map(Result::ok)
            .map(|e| e.into_path())
            .filter(|p| matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml")))
            .collect();
        paths.sort();
        for path in paths {
            if let Ok(text) = std::fs::read_to_string(&path) {
                let stem = path.file_stem().unwrap().to_string_lossy().to_string();
                sources.push((stem, text));
            }
        }
    }
    let demo = std::fs::read_to_string(corpus.join("real/microservices-demo.yaml")).unwrap();
    for (number, range) in kube_lsp::yaml::split::split(&demo)
        .documents
        .into_iter()
        .enumerate()
    {
        let document = demo[range].trim_start_matches("---\n");
        if document.contains("kind:") {
            sources.push((format!("microservices-{number}"), document.to_string()));
        }
    }
    sources
}

/// `text` with each top-level `metadata.name` (block style) suffixed with `-copy`.
fn renamed(text: &str, copy: usize) -> String {
    let mut out = String::with_capacity(text.len() + 64);
    let mut in_metadata = false;
    for line in text.split_inclusive('\n') {
        if line.trim_end() == "metadata:" {
            in_metadata = true;
        } else if in_metadata && !line.starts_with(' ') && !line.trim().is_empty() {
            in_metadata = false;
        }
        match line.strip_prefix("  name: ").filter(|_| in_metadata) {
            Some(value) => {
                let value = value.trim_end().trim_matches('"');
                out.push_str(&format!("  name: {value}-{copy}\n"));
            }
            None => out.push_str(line),
        }
    }
    out
}

// ---------------------------------------------------------------- measures

/// A field of /proc/self/status, in bytes.
fn status(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|rest| {
            rest.trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<u64>()
                .ok()
        })
        .map_or(0, |kib| kib * 1024)
}

/// Resets VmHWM to the current RSS (Linux: `5` to /proc/self/clear_refs).
fn reset_peak() {
    if std::fs::write("/proc/self/clear_refs", "5").is_err() {
        eprintln!("cannot reset VmHWM: the peak includes the generation");
    }
}

fn ms(duration: Duration) -> String {
    format!("{:.0}", duration.as_secs_f64() * 1e3)
}

fn mib(bytes: u64) -> String {
    format!("{:.1}", bytes as f64 / MIB)
}

/// The median and the `high` quantile of `samples`, in µs.
fn pair(samples: &[Duration], high: f64) -> String {
    let mut sorted = samples.to_vec();
    sorted.sort();
    if sorted.is_empty() {
        return "n/a".into();
    }
    let at = |q: f64| sorted[((sorted.len() - 1) as f64 * q).round() as usize].as_secs_f64() * 1e6;
    format!("{:.1} / {:.1}", at(0.5), at(high))
}

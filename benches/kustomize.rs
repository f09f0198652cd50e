//! Kustomize, in process, on tests/fixtures/kustomize (copied to a temporary folder):
//!
//! - edit → diagnostics of a kustomization (static checks): one keystroke applied to the open
//!   document of overlays/prod/kustomization.yaml, its schema validation (role Kustomization)
//!   and kustomize's checks (deprecations, paths against the disk, inline patches), then the
//!   merged diagnostics: p50/p95 over 500 edits;
//! - rendered diagnostics: `kubectl kustomize` on the wrapper of overlays/prod, then the rendered
//!   objects validated and their findings mapped back (overlays/staging with a patch that adds
//!   a container without an image, so one finding is mapped): render time and the time after
//!   it, 10 runs, median;
//! - the same on a 500-resource overlay (500 ConfigMaps in a base, an overlay with a prefix).
//!
//! `cargo bench --bench kustomize`. Nothing is asserted.

use std::path::Path;
use std::time::{Duration, Instant};

use kube_lsp::features::document::{Change, Layer, OpenDocument};
use kube_lsp::features::kustomize::{self, Context, rendered};
use kube_lsp::render::kustomize::{Settings, render};
use kube_lsp::schema::Catalog;
use kube_lsp::schema::validate::Role;
use kube_lsp::text::{Position, PositionEncoding};
use kube_lsp::workspace::Workspace;
use kube_lsp::workspace::kustomize::Disk;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn copy(from: &Path, to: &Path) {
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

fn percentile(samples: &mut [Duration], p: f64) -> Duration {
    samples.sort();
    samples[((samples.len() - 1) as f64 * p).round() as usize]
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let root = std::fs::canonicalize(dir.path()).unwrap();
    copy(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/kustomize"),
        &root,
    );
    let workspace = Workspace::default();
    workspace.set_roots(vec![root.clone()]);
    workspace.scan();
    let catalog = Catalog::builtin();
    let roots = vec![root.clone()];
    let context = Context {
        files: &Disk,
        roots: &roots,
        catalog: &catalog,
    };

    // Edit → diagnostics on a kustomization.
    let path = root.join("overlays/prod/kustomization.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    let mut document = OpenDocument::open_split_as(
        text.clone(),
        kube_lsp::yaml::split::split(&text),
        1,
        &catalog,
        Role::Kustomization,
        &std::sync::Arc::new(kube_lsp::features::rules::Config::default()),
        |_| {},
    );
    let line = text
        .lines()
        .position(|l| l.starts_with("namespace:"))
        .unwrap() as u32;
    let mut samples = Vec::new();
    for i in 0..500 {
        let started = Instant::now();
        let insert = if i % 2 == 0 { "x" } else { "" };
        let end = if i % 2 == 0 { 20 } else { 21 };
        document.change(
            i + 2,
            [Change {
                range: Some(Position::new(line, 20)..Position::new(line, end)),
                text: insert,
            }],
            PositionEncoding::Utf8,
        );
        document.validate(&catalog);
        let current = document.text().rope().to_string();
        let found = kustomize::check_file(&path, &current, &workspace.read(), &context);
        document.set_layer(Layer::Kustomize, found);
        let diagnostics = document.diagnostics();
        std::hint::black_box(diagnostics);
        samples.push(started.elapsed());
    }
    println!(
        "edit → diagnostics, overlays/prod/kustomization.yaml (static checks): p50 {:.3} ms, p95 {:.3} ms (500 edits)",
        percentile(&mut samples, 0.5).as_secs_f64() * 1e3,
        percentile(&mut samples, 0.95).as_secs_f64() * 1e3
    );

    // Rendered diagnostics.
    std::fs::write(
        root.join("overlays/staging/replicas.yaml"),
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      containers:\n      - name: sidecar\n        args: [run]\n",
    )
    .unwrap();
    measure_render(&root.join("overlays/prod"), &catalog, "overlays/prod");
    measure_render(
        &root.join("overlays/staging"),
        &catalog,
        "overlays/staging (1 finding)",
    );

    // 500 resources.
    let big = root.join("big");
    std::fs::create_dir_all(big.join("base")).unwrap();
    std::fs::create_dir_all(big.join("overlay")).unwrap();
    let mut resources = String::from("resources:\n");
    for i in 0..500 {
        let name = format!("cm-{i}.yaml");
        std::fs::write(
            big.join("base").join(&name),
            format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-{i}\ndata:\n  key: value-{i}\n"),
        )
        .unwrap();
        resources.push_str(&format!("- {name}\n"));
    }
    std::fs::write(big.join("base/kustomization.yaml"), resources).unwrap();
    std::fs::write(
        big.join("overlay/kustomization.yaml"),
        "namePrefix: prod-\nresources:\n- ../base\n",
    )
    .unwrap();
    measure_render(&big.join("overlay"), &catalog, "500-resource overlay");
    let base = big.join("base/kustomization.yaml");
    let text = std::fs::read_to_string(&base).unwrap();
    let started = Instant::now();
    let found = kustomize::check_kustomization(&base, &text, &context);
    println!(
        "static checks of the 500-entry base kustomization: {:.2} ms, {} diagnostics",
        started.elapsed().as_secs_f64() * 1e3,
        found.len()
    );
}

fn measure_render(folder: &Path, catalog: &Catalog, label: &str) {
    let mut renders = Vec::new();
    let mut after = Vec::new();
    let mut count = 0;
    for _ in 0..10 {
        let started = Instant::now();
        let output = render(folder, &Settings::default()).expect("kubectl kustomize renders");
        let rendered_at = started.elapsed();
        let findings = rendered::findings(
            &folder.join("kustomization.yaml"),
            &output.base,
            &output.output,
            catalog,
            &Disk,
            &mut |_, _| false,
        );
        count = findings.len();
        after.push(started.elapsed() - rendered_at);
        renders.push(rendered_at);
    }
    println!(
        "{label}: render (kubectl kustomize + wrapper) median {:.1} ms, then validation + mapping median {:.2} ms, {count} findings",
        percentile(&mut renders, 0.5).as_secs_f64() * 1e3,
        percentile(&mut after, 0.5).as_secs_f64() * 1e3,
    );
}

//! Printed timings and memory of schema validation on argocd's install.yaml (no timed
//! assertions: run with `--nocapture` to read them).

mod common;

use std::time::Instant;

use common::corpus::{self, ARGOCD, MICROSERVICES};

use kube_lsp::features::schema_diagnostics::SchemaDiagnostics;
use kube_lsp::schema::Catalog;
use kube_lsp::text::{Position, PositionEncoding, TextDocument};
use kube_lsp::yaml::file::YamlFile;

fn vm_hwm_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[test]
fn argocd_open_and_edit_timings() {
    let text = corpus::read(ARGOCD);
    let catalog = Catalog::builtin();

    let started = Instant::now();
    let mut document = TextDocument::new(&text, 1);
    let mut file = YamlFile::open(document.rope());
    let yaml_open = started.elapsed();
    let mut schema = SchemaDiagnostics::default();
    let started = Instant::now();
    schema.refresh(&mut file, document.rope(), &catalog);
    let schema_open = started.elapsed();
    let validated = schema.last_validated;
    assert_eq!(
        schema
            .diagnostics()
            .filter(|d| d.severity == kube_lsp::diagnostic::Severity::Error)
            .count(),
        0
    );

    // Edit in the middle of the file: inside the big ApplicationSet CRD document.
    let line = (text.lines().count() / 2) as u32;
    let mut edit_times = Vec::new();
    for (i, insert) in ["x", "", "y"].iter().enumerate() {
        let range = if insert.is_empty() {
            Position::new(line, 0)..Position::new(line, 1)
        } else {
            Position::new(line, 0)..Position::new(line, 0)
        };
        let started = Instant::now();
        let edit = document.apply_change(Some(range), insert, PositionEncoding::Utf8);
        file.apply_edit(document.rope(), &edit);
        let yaml_edit = started.elapsed();
        schema.note_edit(&edit);
        let started = Instant::now();
        schema.refresh(&mut file, document.rope(), &catalog);
        edit_times.push((i, yaml_edit, started.elapsed(), schema.last_validated));
    }
    println!(
        "argocd-install.yaml ({} bytes, {} documents)",
        text.len(),
        file.documents().len()
    );
    println!(
        "  open: yaml {yaml_open:?}, schema validation {schema_open:?} ({validated} documents)"
    );
    for (i, yaml, schema, count) in edit_times {
        println!("  edit {i}: yaml {yaml:?}, schema re-validation {schema:?} ({count} document)");
    }
    println!("  VmHWM {} KiB", vm_hwm_kib().unwrap_or(0));
}

#[test]
fn fifty_megabytes_open_skips_whole_file_validation() {
    let text = corpus::repeated(MICROSERVICES, 50 << 20);
    let document = TextDocument::new(&text, 1);
    let started = Instant::now();
    let mut file = YamlFile::open(document.rope());
    let yaml_open = started.elapsed();
    let mut schema = SchemaDiagnostics::default();
    let started = Instant::now();
    schema.refresh(&mut file, document.rope(), &Catalog::builtin());
    println!(
        "50 MB: yaml open {yaml_open:?}, schema refresh {:?} ({} documents validated)",
        started.elapsed(),
        schema.last_validated
    );
    assert_eq!(schema.last_validated, 0);
}

#[test]
fn argocd_crds_become_a_catalog_layer() {
    let text = corpus::read(ARGOCD);
    let started = Instant::now();
    let scan = kube_lsp::schema::crd::crds_in_text(&text);
    let elapsed = started.elapsed();
    assert!(scan.problems.is_empty(), "{:?}", scan.problems);
    let kinds: Vec<&str> = scan.entries.iter().map(|(r, _)| r.kind.as_str()).collect();
    println!(
        "argocd-install.yaml: {} CRD versions ({}) read in {elapsed:?}",
        kinds.len(),
        kinds.join(", ")
    );
    assert!(kinds.contains(&"Application"), "{kinds:?}");
}

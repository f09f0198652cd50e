//! What opening a big file costs in memory, structure by structure (no LSP): for each, the time
//! to build it once, the peak of Rust heap bytes while it is built, and what it still holds
//! afterwards (Rust bytes, and malloc's count, which includes C allocations such as
//! tree-sitter's).
//!
//! `cargo bench --bench open_memory [-- FILE]` (default: the corpus' argocd install.yaml). One run
//! per structure, in a fixed order; nothing is asserted.

use std::sync::atomic::Ordering;
use std::time::Instant;

use kube_lsp::features::schema_diagnostics::SchemaDiagnostics;
use kube_lsp::schema::{Catalog, crd};
use kube_lsp::text::TextDocument;
use kube_lsp::yaml::{lint, split, syntax};

const MIB: f64 = 1024.0 * 1024.0;

#[path = "common/input.rs"]
mod input;

fn main() {
    let (path, text) = input::file_argument();
    let biggest = split::split(&text)
        .documents
        .into_iter()
        .max_by_key(|r| r.len())
        .expect("at least one document");
    let big = &text[biggest];
    println!(
        "{path}: {} bytes, biggest document {} bytes\n",
        text.len(),
        big.len()
    );
    println!(
        "{:<52} {:>9} {:>10} {:>10} {:>10}",
        "structure", "ms", "peak MiB", "held MiB", "malloc MiB"
    );

    let catalog = Catalog::builtin();
    let document = memory("rope of the file (TextDocument::new)", || {
        TextDocument::new(&text, 1)
    });
    // The built-in group-versions the file's kinds use, parsed on first use.
    let warm = memory("built-in schemas the file uses (first open)", || {
        SchemaDiagnostics::open(document.rope(), &catalog)
    });
    drop(warm);
    let opened = memory("SchemaDiagnostics::open (from the rope)", || {
        SchemaDiagnostics::open(document.rope(), &catalog)
    });
    drop(opened);
    let shared = std::sync::Arc::new(text.clone());
    let opened = memory(
        "SchemaDiagnostics::open_text (the server's didOpen)",
        || SchemaDiagnostics::open_text(&shared, split::split(&shared), &catalog),
    );
    drop(opened);
    let spans = memory("span tree of the biggest document", || {
        lint::check(big).tree
    });
    drop(spans);
    let big_rope = ropey::Rope::from_str(big);
    let tree = memory("tree-sitter tree of the biggest document", || {
        syntax::parse(&big_rope, 0..big.len(), None)
    });
    drop(tree);
    let layer = memory("CRD layer of the file (crd::store_from_text)", || {
        crd::store_from_text("CRD in bench", &text)
    });
    if let Some(layer) = &layer {
        let loaded = memory("  its schemas, every kind loaded", || {
            layer
                .resources()
                .iter()
                .filter_map(|r| layer.schemas_for(&r.api_version(), &r.kind))
                .count()
        });
        println!("  ({loaded} kinds)");
    }
    drop(layer);
}

/// Runs `build` once and prints its cost in memory.
fn memory<T>(label: &str, build: impl FnOnce() -> T) -> T {
    let before_malloc = malloc_in_use();
    let before = counting::reset_peak();
    let started = Instant::now();
    let value = build();
    let elapsed = started.elapsed();
    let peak = counting::PEAK
        .load(Ordering::Relaxed)
        .saturating_sub(before);
    let held = counting::CURRENT
        .load(Ordering::Relaxed)
        .saturating_sub(before);
    let malloc = malloc_in_use()
        .zip(before_malloc)
        .map_or("n/a".to_string(), |(after, before)| {
            format!("{:.1}", after.saturating_sub(before) as f64 / MIB)
        });
    println!(
        "{label:<52} {:>9.2} {:>10.1} {:>10.1} {malloc:>10}",
        elapsed.as_secs_f64() * 1000.0,
        peak as f64 / MIB,
        held as f64 / MIB,
    );
    value
}

/// Bytes in use in glibc's malloc (Rust and C allocations alike).
fn malloc_in_use() -> Option<usize> {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: mallinfo2 only reads the allocator's statistics.
        let info = unsafe { libc::mallinfo2() };
        Some(info.uordblks + info.hblkhd)
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    None
}

/// Tracks the bytes Rust code holds (now and at the peak since the last reset).
mod counting {
    use std::alloc::{GlobalAlloc, Layout, System};
    use std::sync::atomic::{AtomicUsize, Ordering};

    pub static CURRENT: AtomicUsize = AtomicUsize::new(0);
    pub static PEAK: AtomicUsize = AtomicUsize::new(0);

    pub struct Counting;

    fn grew(by: usize) {
        let now = CURRENT.fetch_add(by, Ordering::Relaxed) + by;
        PEAK.fetch_max(now, Ordering::Relaxed);
    }

    /// Starts a new peak at the bytes held now, and returns them.
    pub fn reset_peak() -> usize {
        let now = CURRENT.load(Ordering::Relaxed);
        PEAK.store(now, Ordering::Relaxed);
        now
    }

    // SAFETY: forwards to the system allocator unchanged.
    unsafe impl GlobalAlloc for Counting {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            grew(layout.size());
            unsafe { System.alloc(layout) }
        }
        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            CURRENT.fetch_sub(layout.size(), Ordering::Relaxed);
            unsafe { System.dealloc(ptr, layout) }
        }
        unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            if new_size >= layout.size() {
                grew(new_size - layout.size());
            } else {
                CURRENT.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
            }
            unsafe { System.realloc(ptr, layout, new_size) }
        }
    }

    #[global_allocator]
    static GLOBAL: Counting = Counting;
}

//! What a big file's open holds, counted by an allocator of this test binary's own (bytes asked
//! for, so the figures do not depend on the allocator's pages): from `ROPE_FIRST_MIN`, the
//! client's string is let go of once the rope is built, before the documents are checked, so the
//! text is not held twice while the open makes what it keeps (its peak of memory).

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use kube_lsp::features::document::{OpenDocument, ROPE_FIRST_MIN};
use kube_lsp::schema::Catalog;
use kube_lsp::yaml::split;

/// The system allocator, counting the bytes allocated now.
struct Counting;

static NOW: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is passed on to the system allocator as it came.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        NOW.fetch_add(layout.size(), Ordering::Relaxed);
        // SAFETY: the caller's layout, as `GlobalAlloc::alloc` requires.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, pointer: *mut u8, layout: Layout) {
        NOW.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: a block this allocator gave, with its layout.
        unsafe { System.dealloc(pointer, layout) }
    }

    unsafe fn realloc(&self, pointer: *mut u8, layout: Layout, size: usize) -> *mut u8 {
        if size > layout.size() {
            NOW.fetch_add(size - layout.size(), Ordering::Relaxed);
        } else {
            NOW.fetch_sub(layout.size() - size, Ordering::Relaxed);
        }
        // SAFETY: a block this allocator gave, with its layout and a non-zero new size.
        unsafe { System.realloc(pointer, layout, size) }
    }
}

#[global_allocator]
static COUNTING: Counting = Counting;

#[test]
fn a_big_open_lets_go_of_the_client_s_text_before_the_check() {
    let text = common::corpus::repeated(common::corpus::MICROSERVICES, ROPE_FIRST_MIN);
    let length = text.len();
    let catalog = Catalog::with_builtin(std::iter::empty());
    let split = split::split(&text);
    let documents = split.documents.len();
    // Only this test runs in this binary: the counts are the open's.
    let before = NOW.load(Ordering::SeqCst);
    let when_the_rope_is_ready = AtomicUsize::new(0);
    let document = OpenDocument::open_split(text, split, 1, &catalog, |_| {
        when_the_rope_is_ready.store(NOW.load(Ordering::SeqCst), Ordering::SeqCst);
    });
    assert_eq!(document.yaml_stats().full, documents);
    // The rope (about the text's size) is held, the text is not: held twice, it would be
    // `length` more.
    let held = when_the_rope_is_ready.load(Ordering::SeqCst);
    assert!(
        held < before + length / 2,
        "{} bytes more than before the open when the rope was ready, with a {length}-byte text",
        held.saturating_sub(before)
    );
}

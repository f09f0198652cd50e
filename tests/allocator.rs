//! mimalloc's purge delay as `text::memory` reads and sets it, in a process of its own: the
//! library's tests hold `KeepFreedMemory` on other threads (big files' checks) and would change
//! it meanwhile.

use kube_lsp::text::memory::{KEPT_MILLISECONDS, KeepFreedMemory, purge_delay, set_purge_delay};

#[test]
fn the_purge_delay_is_mimalloc_s_and_kept_freed_memory_sets_it_back() {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_some() {
        return;
    }
    // mimalloc 3's default (its src/options.c: 1,000 ms for `purge_delay`): the option read is
    // that one, not a neighbour.
    assert_eq!(purge_delay(), 1000);
    set_purge_delay(0);
    assert_eq!(purge_delay(), 0);
    let held = KeepFreedMemory::hold();
    assert_eq!(purge_delay(), KEPT_MILLISECONDS);
    drop(held);
    assert_eq!(purge_delay(), 0, "the delay set before comes back");
}

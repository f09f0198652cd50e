//! When the allocator (mimalloc) gives freed memory back to the OS.
//!
//! mimalloc returns a page it has emptied after its purge delay. The server sets no delay, so
//! requests on the two tokio workers do not hold each other's garbage at once (a lower peak
//! RSS at the same speed). Work spread over every core, such as checking a big file's
//! documents, frees each document's trees before the next: with no delay, the pages emptied go
//! back to the OS (`madvise`, which interrupts the other core to flush its TLB) and are faulted
//! in again for the next document. [`KeepFreedMemory`] keeps them a millisecond meanwhile, so
//! they are used again. Figures: docs/benchmarks.md.

use std::ffi::{c_int, c_long};
use std::sync::Mutex;

/// `mi_option_purge_delay` in mimalloc 2 and 3 (mimalloc.h; libmimalloc-sys's bindings name 14
/// and 16 around it, and declare these functions only with its `extended` feature).
const PURGE_DELAY: c_int = 15;

/// The delay, in milliseconds, while work on every core runs.
pub const KEPT_MILLISECONDS: c_long = 1;

// Links mimalloc's C library where nothing else names it (the library's tests).
use libmimalloc_sys as _;

unsafe extern "C" {
    fn mi_option_get(option: c_int) -> c_long;
    fn mi_option_set(option: c_int, value: c_long);
}

/// mimalloc's purge delay in milliseconds.
pub fn purge_delay() -> c_long {
    // SAFETY: reads one of mimalloc's options.
    unsafe { mi_option_get(PURGE_DELAY) }
}

/// Sets mimalloc's purge delay, unless `MIMALLOC_PURGE_DELAY` in the environment chose it.
pub fn set_purge_delay(milliseconds: c_long) {
    if !chosen_by_environment() {
        // SAFETY: sets one of mimalloc's options, which it reads on each purge.
        unsafe { mi_option_set(PURGE_DELAY, milliseconds) };
    }
}

fn chosen_by_environment() -> bool {
    std::env::var_os("MIMALLOC_PURGE_DELAY").is_some()
}

/// How many [`KeepFreedMemory`] are held, and the delay to set again when none is.
#[derive(Debug, Default)]
struct Holders {
    count: usize,
    restore: Option<c_long>,
}

impl Holders {
    /// One more holder, the delay being `current`: the delay to set, if it changes.
    fn enter(&mut self, current: c_long) -> Option<c_long> {
        self.count += 1;
        if self.count == 1 && current < KEPT_MILLISECONDS {
            self.restore = Some(current);
            return Some(KEPT_MILLISECONDS);
        }
        None
    }

    /// One holder less: the delay to set again, when it was the last.
    fn leave(&mut self) -> Option<c_long> {
        self.count -= 1;
        if self.count == 0 {
            return self.restore.take();
        }
        None
    }
}

static HOLDERS: Mutex<Holders> = Mutex::new(Holders {
    count: 0,
    restore: None,
});

/// While one is held, freed memory is kept [`KEPT_MILLISECONDS`] before it goes back to the OS
/// (or as long as the delay set before, if longer); the delay before comes back when the last
/// one is dropped.
pub struct KeepFreedMemory(());

impl KeepFreedMemory {
    pub fn hold() -> Self {
        let mut holders = HOLDERS.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(delay) = holders.enter(purge_delay()) {
            set_purge_delay(delay);
        }
        KeepFreedMemory(())
    }
}

impl Drop for KeepFreedMemory {
    fn drop(&mut self) {
        let mut holders = HOLDERS.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(delay) = holders.leave() {
            set_purge_delay(delay);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_holder_raises_the_delay_and_the_last_sets_it_back() {
        let mut holders = Holders::default();
        assert_eq!(holders.enter(0), Some(KEPT_MILLISECONDS));
        assert_eq!(holders.enter(KEPT_MILLISECONDS), None);
        assert_eq!(holders.leave(), None, "one is still held");
        assert_eq!(holders.leave(), Some(0));
        // A longer delay set before stays.
        assert_eq!(holders.enter(10), None);
        assert_eq!(holders.leave(), None);
    }
}

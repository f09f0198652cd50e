//! A request's cancellation as long per-document work sees it: the server sets it when the
//! client cancels the request (`$/cancelRequest` drops the request's future, and with it a
//! [`CancelOnDrop`]), and the work checks it between the items of its loops and stops early.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Whether the work's request was cancelled. The default is never cancelled.
#[derive(Clone, Debug, Default)]
pub struct Cancel(Arc<AtomicBool>);

/// The work was stopped because its request was cancelled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cancelled;

impl Cancel {
    pub fn cancel(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }

    /// `Err` once cancelled, for `?` in the work's loops.
    pub fn check(&self) -> Result<(), Cancelled> {
        if self.is_cancelled() {
            Err(Cancelled)
        } else {
            Ok(())
        }
    }

    /// A guard that cancels when dropped (held by the request's future).
    pub fn on_drop(&self) -> CancelOnDrop {
        CancelOnDrop(self.clone())
    }
}

/// Cancels its [`Cancel`] when dropped.
#[derive(Debug)]
pub struct CancelOnDrop(Cancel);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.cancel();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dropped_guard_cancels() {
        let cancel = Cancel::default();
        assert_eq!(cancel.check(), Ok(()));
        let seen_by_work = cancel.clone();
        drop(cancel.on_drop());
        assert_eq!(seen_by_work.check(), Err(Cancelled));
    }
}

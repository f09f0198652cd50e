//! What formatting each document gave, kept by the document's text: formatting a file again
//! after an edit (format on save, a range format) formats only the documents that changed.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};

use super::FormatOptions;
use super::guard::{self, Outcome};

/// Document texts and outcomes kept at most, in bytes; past that the cache starts again.
const MAX_BYTES: usize = 32 * 1024 * 1024;

/// The outcomes of documents formatted with one set of options, by the document's whole text
/// (a text, not a hash, is the key: a hash collision must not put one document's text in
/// another's place).
#[derive(Default)]
pub struct Cache {
    kept: Mutex<Kept>,
    formatted: AtomicUsize,
}

#[derive(Default)]
struct Kept {
    options: Option<FormatOptions>,
    outcomes: HashMap<Box<str>, Outcome>,
    bytes: usize,
}

fn lock(kept: &Mutex<Kept>) -> MutexGuard<'_, Kept> {
    kept.lock().unwrap_or_else(|p| p.into_inner())
}

impl Cache {
    /// The outcome of formatting `document`: kept from before when the same text was formatted
    /// with the same options, else formatted now (outside the lock) and kept.
    pub(super) fn outcome(&self, document: &str, options: &FormatOptions) -> Outcome {
        {
            let mut kept = lock(&self.kept);
            if kept.options.as_ref() != Some(options) {
                *kept = Kept {
                    options: Some(options.clone()),
                    ..Default::default()
                };
            }
            if let Some(outcome) = kept.outcomes.get(document) {
                return outcome.clone();
            }
        }
        let outcome = guard::format_document(document, options);
        self.formatted.fetch_add(1, Ordering::Relaxed);
        let mut kept = lock(&self.kept);
        if kept.options.as_ref() == Some(options) {
            let size = document.len() + outcome.bytes();
            if kept.bytes + size > MAX_BYTES {
                kept.outcomes.clear();
                kept.bytes = 0;
            }
            if size <= MAX_BYTES
                && kept
                    .outcomes
                    .insert(document.into(), outcome.clone())
                    .is_none()
            {
                kept.bytes += size;
            }
        }
        outcome
    }

    /// How many documents were formatted (not found kept) so far.
    pub fn documents_formatted(&self) -> usize {
        self.formatted.load(Ordering::Relaxed)
    }
}

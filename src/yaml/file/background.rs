//! The first tree-sitter tree of a big document that keeps no span tree for its edits (see
//! `file/kept.rs`: one with an alias, a tab or a directive, or one validation does not read),
//! parsed on its own thread: a full parse of a big document takes long enough that the first
//! keystroke in it would otherwise wait visibly for it. Until the tree is there, edits re-check
//! the whole document with saphyr (a fraction of a tree-sitter parse); the edits made meanwhile
//! are replayed on the tree when it comes, and one incremental parse brings it up to date. The
//! parse stops when the tree is no longer wanted.

use std::ops::Range;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, TryRecvError};

use ropey::Rope;
use tree_sitter::Tree;

use crate::text::TextEdit;
use crate::text::cancel::{Cancel, CancelOnDrop};
use crate::yaml::syntax;

/// Documents at least this big get their first tree in the background: from this size on, a full
/// tree-sitter parse would delay a keystroke noticeably, and it costs several times saphyr's
/// check of the same text.
pub(super) const BACKGROUND_TREE_MIN: usize = 256 * 1024;

/// Background parses stopped because their tree was no longer wanted (tests count them).
static STOPPED: AtomicUsize = AtomicUsize::new(0);

/// A tree being parsed from the text of an earlier version, and the edits made since.
#[derive(Debug)]
pub(super) struct TreeInProgress {
    pub(super) parsed: Receiver<Tree>,
    /// Each edit with where its document started then (byte offset and line).
    pub(super) edits: Vec<(TextEdit, usize, usize)>,
    /// Stops the parse once the tree is no longer wanted (dropped).
    _stop_when_dropped: CancelOnDrop,
}

impl TreeInProgress {
    /// Starts parsing `range` of `rope` (the rope is a cheap copy that shares its text). None
    /// when no thread can be started.
    pub(super) fn start(rope: &Rope, range: Range<usize>) -> Option<Self> {
        let (send, parsed) = mpsc::sync_channel(1);
        let rope = rope.clone();
        let cancel = Cancel::default();
        let stop_when_dropped = cancel.on_drop();
        std::thread::Builder::new()
            .name("yaml-tree".into())
            .spawn(
                move || match syntax::parse_unless(&rope, range, None, &cancel) {
                    Ok(tree) => {
                        let _ = send.send(tree);
                    }
                    Err(_) => {
                        STOPPED.fetch_add(1, Ordering::Relaxed);
                    }
                },
            )
            .ok()?;
        Some(Self {
            parsed,
            edits: Vec::new(),
            _stop_when_dropped: stop_when_dropped,
        })
    }

    /// One whose parse is done (tests hold a finished parse back this way).
    #[cfg(test)]
    pub(super) fn ready(tree: Tree, edits: Vec<(TextEdit, usize, usize)>) -> Self {
        let (send, parsed) = mpsc::sync_channel(1);
        send.send(tree).expect("the channel has room");
        Self {
            parsed,
            edits,
            _stop_when_dropped: Cancel::default().on_drop(),
        }
    }

    /// Notes an edit made while the tree is being parsed.
    pub(super) fn record(&mut self, edit: &TextEdit, doc_start: usize, doc_line: usize) {
        self.edits.push((*edit, doc_start, doc_line));
    }

    /// The tree for the document now at `range` of `rope`, if it is parsed; `Err(self)` while
    /// it is not, and `Ok(None)` when its thread died (the caller parses it then).
    pub(super) fn try_finish(self, rope: &Rope, range: Range<usize>) -> Result<Option<Tree>, Self> {
        match self.parsed.try_recv() {
            Ok(tree) => Ok(Some(Self::catch_up(tree, &self.edits, rope, range))),
            Err(TryRecvError::Empty) => Err(self),
            Err(TryRecvError::Disconnected) => Ok(None),
        }
    }

    /// The tree for the document now at `range` of `rope`, waiting for it; None when its thread
    /// died.
    pub(super) fn finish(self, rope: &Rope, range: Range<usize>) -> Option<Tree> {
        let tree = self.parsed.recv().ok()?;
        Some(Self::catch_up(tree, &self.edits, rope, range))
    }

    fn catch_up(
        mut tree: Tree,
        edits: &[(TextEdit, usize, usize)],
        rope: &Rope,
        range: Range<usize>,
    ) -> Tree {
        if edits.is_empty() {
            return tree;
        }
        for (edit, doc_start, doc_line) in edits {
            syntax::edit_tree(&mut tree, edit, *doc_start, *doc_line);
        }
        syntax::parse(rope, range, Some(&tree))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_parse_no_longer_wanted_stops() {
        let text = "key: value\n".repeat(500_000);
        let rope = Rope::from_str(&text);
        let stopped = STOPPED.load(Ordering::Relaxed);
        drop(TreeInProgress::start(&rope, 0..text.len()).expect("a thread"));
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while STOPPED.load(Ordering::Relaxed) == stopped {
            assert!(std::time::Instant::now() < deadline, "the parse went on");
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
    }
}

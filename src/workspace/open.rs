//! An open file's entry in the index, kept current per YAML document: after an edit only the
//! documents whose text changed are read again; the others keep what was read of them, moved by
//! the edit. The editor's text is read from its rope, one document at a time, never copied
//! whole: an edit of a 10 MB file reads the document it touched, not the file.

use std::hash::Hasher;
use std::ops::Range;

use ropey::Rope;

use super::document::{self, Document, Shared, read_document};
use crate::yaml::spans::SpanTree;

/// One YAML document of an open file as the index last read it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Slot {
    range: Range<usize>,
    /// The zero-based line it starts on.
    line: u32,
    /// Of its text: equal hashes, equal texts.
    hash: u64,
}

/// What an open read of one YAML document for the index, on the span tree its check built
/// (on the open's threads, so the index does not parse the file again): the hash of its text,
/// its Kubernetes documents (in the file's byte offsets, lines relative to the YAML document),
/// its line breaks and whether it holds template actions.
#[derive(Debug)]
pub struct DocumentRead {
    hash: u64,
    documents: Vec<Document>,
    /// Where the YAML document starts in its file.
    start: usize,
    /// Whether its span tree was read (its text holds a `kind`).
    tree_read: bool,
    newlines: usize,
    actions: bool,
}

impl DocumentRead {
    /// Its documents as [`document::read_tree`] gives them (ranges relative to the YAML
    /// document, line 0), when the tree was read: so that the rules do not read it again.
    pub fn as_read_from_tree(&self) -> Option<Vec<Document>> {
        self.tree_read.then(|| {
            let mut documents = self.documents.clone();
            for document in &mut documents {
                document.shift(-(self.start as isize), 0);
                document.line = 0;
            }
            documents
        })
    }
}

/// Reads one YAML document of a file being opened, `text` (at byte `start` of the file), from
/// `tree`, its span tree.
pub fn read_spans(text: &str, start: usize, tree: &SpanTree) -> DocumentRead {
    let read = document::read_spans(tree);
    let tree_read = read.is_some();
    let mut documents = read.unwrap_or_default();
    for document in &mut documents {
        document.shift(start as isize, 0);
    }
    DocumentRead {
        hash: hash_of(text),
        documents,
        start,
        tree_read,
        newlines: newlines_in(text),
        actions: holds_actions(text),
    }
}

/// An open file's entry as its open read it: what [`update`] reads from nothing, built from the
/// documents' [`DocumentRead`]s. Taken in by [`Workspace::open_read`](super::Workspace::open_read).
#[derive(Debug)]
pub struct OpenedEntry {
    pub(super) slots: Vec<Slot>,
    pub(super) documents: Vec<Document>,
    /// Whether a YAML document holds template actions (see [`has_actions`]).
    pub(super) actions: bool,
}

impl OpenedEntry {
    pub fn slots(&self) -> &[Slot] {
        &self.slots
    }

    pub fn documents(&self) -> &[Document] {
        &self.documents
    }

    /// Whether a YAML document holds template actions (the index then reads the file whole).
    pub fn has_actions(&self) -> bool {
        self.actions
    }

    /// The entry of `rope` split into YAML documents at `ranges`, from what the open read of
    /// each (`None`: a document without a span tree, after a syntax error: read from its text
    /// here).
    pub fn new(rope: &Rope, ranges: &[Range<usize>], mut reads: Vec<Option<DocumentRead>>) -> Self {
        let read: usize = reads.iter().flatten().map(|r| r.documents.len()).sum();
        let mut documents = Vec::with_capacity(read);
        let mut actions = false;
        let shared = Shared::default();
        let slots = walk(rope, ranges, |index, line, own| match reads[index].take() {
            Some(mut read) => {
                for document in &mut read.documents {
                    document.line = document.line.saturating_add(line);
                }
                shared.share(&mut read.documents);
                documents.append(&mut read.documents);
                actions |= read.actions;
                (read.hash, read.newlines)
            }
            None => {
                let text = own.slice().to_string();
                let (hash, newlines, has_actions) = own.read();
                actions |= has_actions;
                let start = ranges[index].start;
                documents.extend(read_document(text, start, line, &shared));
                (hash, newlines)
            }
        });
        documents.shrink_to_fit();
        OpenedEntry {
            slots,
            documents,
            actions,
        }
    }
}

/// Whether a YAML document's text holds a template action's opening braces.
fn holds_actions(text: &str) -> bool {
    memchr::memmem::find(text.as_bytes(), b"{{").is_some()
}

/// What [`crate::text::hash_of_slice`] gives for a slice of this text.
fn hash_of(text: &str) -> u64 {
    let mut hasher = std::hash::DefaultHasher::new();
    hasher.write(text.as_bytes());
    hasher.finish()
}

/// The YAML documents of `rope` at `ranges` (in order), as [`Slot`]s, and whether one holds
/// template actions (see [`has_actions`]): one pass over the text. Lines are counted in `\n`s,
/// as the index numbers them.
pub fn slots_and_actions(rope: &Rope, ranges: &[Range<usize>]) -> (Vec<Slot>, bool) {
    let mut actions = false;
    let slots = walk(rope, ranges, |_, _, text| {
        count_work!(SCANNED_FOR_ACTIONS);
        let (hash, newlines, has) = text.read();
        actions |= has;
        (hash, newlines)
    });
    (slots, actions)
}

/// The [`Slot`]s of the YAML documents of `rope` at `ranges`, in order: `count` gives the hash
/// and the line breaks of each (its index in `ranges`, its first line, its text). One pass over
/// the rope's chunks, however many documents: slicing the rope for each would look each up
/// from its root.
fn walk(
    rope: &Rope,
    ranges: &[Range<usize>],
    mut count: impl FnMut(usize, u32, OwnText<'_, '_>) -> (u64, usize),
) -> Vec<Slot> {
    let (mut at, mut line) = (0, 0usize);
    let mut bytes = Bytes::new(rope);
    let mut slots = Vec::with_capacity(ranges.len());
    for (index, range) in ranges.iter().enumerate() {
        if range.start > range.end || range.end > rope.len_bytes() {
            continue;
        }
        bytes.feed(at.min(range.start)..range.start, |gap| {
            line += newlines_in(gap)
        });
        let first_line = u32::try_from(line).unwrap_or(u32::MAX);
        let own = OwnText {
            rope,
            range: range.clone(),
            bytes: &mut bytes,
        };
        let (hash, newlines) = count(index, first_line, own);
        slots.push(Slot {
            range: range.clone(),
            line: first_line,
            hash,
        });
        line += newlines;
        at = range.end;
    }
    slots
}

/// A YAML document's text as [`walk`] hands it over: read in the pass, or sliced.
struct OwnText<'r, 'b> {
    rope: &'r Rope,
    range: Range<usize>,
    bytes: &'b mut Bytes<'r>,
}

impl OwnText<'_, '_> {
    /// Its hash (what [`crate::text::hash_of_slice`] gives), its line breaks and whether it
    /// holds `{{`.
    fn read(self) -> (u64, usize, bool) {
        let mut hasher = std::hash::DefaultHasher::new();
        let (mut newlines, mut found, mut brace_before) = (0, false, false);
        self.bytes.feed(self.range, |piece| {
            hasher.write(piece);
            newlines += newlines_in(piece);
            if !found {
                found = (brace_before && piece.first() == Some(&b'{'))
                    || memchr::memmem::find(piece, b"{{").is_some();
                brace_before = piece.last() == Some(&b'{');
            }
        });
        (hasher.finish(), newlines, found)
    }

    fn slice(&self) -> ropey::RopeSlice<'_> {
        self.rope.byte_slice(self.range.clone())
    }
}

/// The bytes of a rope, read forward chunk by chunk.
struct Bytes<'r> {
    rope: &'r Rope,
    chunks: ropey::iter::Chunks<'r>,
    /// The current chunk, and the offset of its first byte.
    chunk: &'r [u8],
    start: usize,
}

impl<'r> Bytes<'r> {
    fn new(rope: &'r Rope) -> Self {
        Bytes {
            rope,
            chunks: rope.chunks(),
            chunk: &[],
            start: 0,
        }
    }

    /// Hands the bytes of `range` to `each`, a chunk's part at a time.
    fn feed(&mut self, range: Range<usize>, mut each: impl FnMut(&[u8])) {
        let mut from = range.start;
        if from < self.start {
            // Behind the chunk read last (ranges that overlap): from the rope's root again.
            let (chunks, start, _, _) = self.rope.chunks_at_byte(from);
            (self.chunks, self.chunk, self.start) = (chunks, &[], start);
        }
        while from < range.end {
            while self.start + self.chunk.len() <= from {
                self.start += self.chunk.len();
                let Some(next) = self.chunks.next() else {
                    return;
                };
                self.chunk = next.as_bytes();
            }
            let end = (range.end - self.start).min(self.chunk.len());
            each(&self.chunk[from - self.start..end]);
            from = self.start + end;
        }
    }
}

fn newlines_in(text: impl AsRef<[u8]>) -> usize {
    memchr::memchr_iter(b'\n', text.as_ref()).count()
}

/// Whether a document holds template actions: those are read with the whole file (a block may
/// span documents), not one document at a time.
#[cfg(test)]
pub fn has_actions(rope: &Rope, ranges: &[Range<usize>]) -> bool {
    slots_and_actions(rope, ranges).1
}

work_counter!(
    /// How many YAML documents this thread looked through for template actions so far.
    pub fn scanned_for_actions() => SCANNED_FOR_ACTIONS
);

/// What [`update`] made of an open file's documents.
#[derive(Debug)]
pub struct Updated {
    pub documents: Vec<Document>,
    /// Whether the documents read again are, for other documents, those they replace
    /// ([`Document::same_for_others`]): the edit changed nothing another document's answers read.
    pub same_for_others: bool,
}

/// The documents of the text `new` describes (`rope`, its YAML documents `new`), from what was
/// read of its previous text (`old` and the documents read then, in order): documents whose
/// text is unchanged at the start and at the end keep theirs (those at the end moved), the ones
/// between are read from the rope.
pub fn update(old: &[Slot], mut documents: Vec<Document>, new: &[Slot], rope: &Rope) -> Updated {
    let same_at_start = old
        .iter()
        .zip(new)
        .take_while(|(old, new)| old == new)
        .count();
    let room = old.len().min(new.len()) - same_at_start;
    let (bytes, lines) = match (old.last(), new.last()) {
        (Some(old), Some(new)) => moved(old, new),
        _ => (0, 0),
    };
    let same_at_end = old
        .iter()
        .rev()
        .zip(new.iter().rev())
        .take(room)
        .take_while(|(old, new)| old.hash == new.hash && moved(old, new) == (bytes, lines))
        .count();
    let kept_until = old.get(same_at_start).map_or(usize::MAX, |s| s.range.start);
    let kept_from = match same_at_end {
        0 => usize::MAX,
        n => old[old.len() - n].range.start,
    };
    let (mut after, mut replaced): (Vec<Document>, Vec<Document>) = Default::default();
    documents.retain_mut(|document| {
        let start = document.range.start;
        if start >= kept_from {
            let mut moved_document = std::mem::take(document);
            moved_document.shift(bytes, lines);
            after.push(moved_document);
        } else if start >= kept_until {
            replaced.push(std::mem::take(document));
        }
        start < kept_until
    });
    let shared = Shared::from_documents(documents.iter().chain(&after));
    let read_from = documents.len();
    for slot in &new[same_at_start..new.len() - same_at_end] {
        let text = rope.byte_slice(slot.range.clone()).to_string();
        documents.extend(read_document(text, slot.range.start, slot.line, &shared));
    }
    let read = &documents[read_from..];
    let same_for_others = read.len() == replaced.len()
        && read
            .iter()
            .zip(&replaced)
            .all(|(new, old)| new.same_for_others(old));
    drop(replaced);
    documents.append(&mut after);
    documents.shrink_to_fit();
    Updated {
        documents,
        same_for_others,
    }
}

/// How far a document moved from `old` to `new`: bytes and lines.
fn moved(old: &Slot, new: &Slot) -> (isize, i64) {
    (
        new.range.start as isize - old.range.start as isize,
        i64::from(new.line) - i64::from(old.line),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workspace::document::read_documents;
    use crate::yaml::split;
    use std::sync::Arc;

    fn ranges(text: &str) -> Vec<Range<usize>> {
        split::split(text).documents
    }

    /// Reads `before`, applies the edit, updates: the result equals a fresh read of the text.
    fn check_edit(before: &str, at: Range<usize>, insert: &str) {
        let rope = Rope::from_str(before);
        let old = slots_and_actions(&rope, &ranges(before)).0;
        let documents = read_documents(&Arc::new(before.to_string()));
        let mut after = before.to_string();
        after.replace_range(at.clone(), insert);
        let rope = Rope::from_str(&after);
        let new = slots_and_actions(&rope, &ranges(&after)).0;
        let updated = update(&old, documents, &new, &rope).documents;
        let fresh = read_documents(&Arc::new(after.clone()));
        assert_eq!(
            updated, fresh,
            "edit {at:?} → {insert:?} of\n{before}\ngave\n{after}"
        );
    }

    fn manifest(i: usize) -> String {
        format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-{i}\n  labels:\n    app: a{i}\ndata:\n  key: v{i}\n---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: p-{i}\n  labels: {{app: a{i}}}\nspec:\n  containers:\n  - name: c\n    image: nginx\n    ports:\n    - name: http\n      containerPort: 80\n    envFrom:\n    - configMapRef:\n        name: cm-{i}\n"
        )
    }

    fn file(n: usize) -> String {
        (0..n).map(manifest).collect::<Vec<_>>().join("---\n")
    }

    #[test]
    fn hashes_do_not_depend_on_chunks() {
        let text = file(200);
        let whole = slots_and_actions(&Rope::from_str(&text), &ranges(&text)).0;
        let mut built = Rope::new();
        for (i, piece) in text.as_bytes().chunks(97).enumerate() {
            built.insert(built.len_chars(), std::str::from_utf8(piece).unwrap());
            if i % 3 == 0 {
                built.insert(0, "");
            }
        }
        assert_eq!(whole, slots_and_actions(&built, &ranges(&text)).0);
    }

    #[test]
    fn one_pass_over_the_chunks_reads_each_document_as_its_own_slice() {
        // Documents with `{{` at every offset, in a rope of small chunks: some pairs of braces
        // straddle two chunks. Ranges that overlap go back in the rope.
        let documents: Vec<String> = (0..300)
            .map(|n| {
                format!(
                    "a: {}\nb: {}\n",
                    "x".repeat(n % 37),
                    ["{{ .v }}", "{ {", "{"][n % 3]
                )
            })
            .collect();
        let straddles = |rope: &Rope| {
            let chunks: Vec<&str> = rope.chunks().collect();
            chunks
                .windows(2)
                .any(|w| w[0].ends_with('{') && w[1].starts_with('{'))
        };
        // A comment before the documents moves the chunks' ends until a `{{` straddles two.
        let (text, rope) = (0..2000)
            .map(|pad| {
                let text = format!("#{}\n{}", "x".repeat(pad), documents.join("---\n"));
                let rope = Rope::from_str(&text);
                (text, rope)
            })
            .find(|(_, rope)| straddles(rope))
            .expect("a `{{` across two chunks");
        let mut ranges = ranges(&text);
        ranges.insert(7, ranges[5].start..ranges[6].end);
        ranges.push(text.len() - 3..text.len() + 1);
        let mut found = Vec::new();
        let walked = walk(&rope, &ranges, |index, _, own| {
            let (hash, newlines, actions) = own.read();
            found.push((index, actions));
            (hash, newlines)
        });
        let valid: Vec<&Range<usize>> = ranges.iter().filter(|r| r.end <= text.len()).collect();
        assert_eq!(
            walked.len(),
            valid.len(),
            "a range past the end is left out"
        );
        for (index, (slot, range)) in walked.iter().zip(valid).enumerate() {
            let slice = rope.byte_slice(range.clone());
            assert_eq!(slot.hash, crate::text::hash_of_slice(slice), "{range:?}");
            // Lines are counted along the ranges: right until one goes back.
            if index < 7 {
                let line = text[..range.start].matches('\n').count();
                assert_eq!(slot.line as usize, line, "{range:?}");
            }
        }
        for (index, actions) in found {
            assert_eq!(
                actions,
                text[ranges[index].clone()].contains("{{"),
                "{index}"
            );
        }
        assert!(slots_and_actions(&rope, &ranges).1);
    }

    #[test]
    fn an_edit_in_one_document_equals_a_fresh_read() {
        let text = file(20);
        let middle = text.find("name: cm-10").unwrap() + "name: ".len();
        check_edit(&text, middle..middle + 5, "renamed");
        check_edit(&text, middle..middle, "x\n  namespace: ns\n");
    }

    #[test]
    fn edits_that_move_lines_and_markers_equal_a_fresh_read() {
        let text = file(6);
        let second = text.find("---\n").unwrap();
        check_edit(&text, second..second + 4, "");
        check_edit(&text, second..second, "---\n# comment\n\n");
        check_edit(&text, 0..0, "\n\n");
        check_edit(
            &text,
            text.len()..text.len(),
            "---\nkind: Service\nmetadata:\n  name: s\n",
        );
        let last = text.rfind("name: c\n").unwrap();
        check_edit(&text, last..text.len(), "");
    }

    #[test]
    fn random_edits_equal_a_fresh_read() {
        let mut text = file(8);
        let mut rope = Rope::from_str(&text);
        let mut old = slots_and_actions(&rope, &ranges(&text)).0;
        let mut documents = read_documents(&Arc::new(text.clone()));
        let pieces = [
            "\n",
            "---\n",
            "  name: z\n",
            "x",
            "",
            "kind: Secret\n",
            ": ",
            "- ",
        ];
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        for step in 0..400 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let start = (seed as usize) % (text.len() + 1);
            let end = (start + (seed >> 20) as usize % 40).min(text.len());
            let insert = pieces[(seed >> 40) as usize % pieces.len()];
            if !text.is_char_boundary(start) || !text.is_char_boundary(end) {
                continue;
            }
            text.replace_range(start..end, insert);
            rope = Rope::from_str(&text);
            let new = slots_and_actions(&rope, &ranges(&text)).0;
            documents = update(&old, documents, &new, &rope).documents;
            old = new;
            let fresh = read_documents(&Arc::new(text.clone()));
            assert_eq!(documents, fresh, "step {step}: text\n{text}");
        }
    }
}

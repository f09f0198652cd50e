//! Schema diagnostics of a file, cached per document: an edit invalidates only the documents it
//! touches, and `refresh` re-validates just those.
//!
//! Validation walks the span tree saphyr's check builds (`yaml::spans`): on open, each document
//! is validated right after its check, on the same thread; after an edit, the edited document is
//! checked and validated again. Trees are dropped after use, so an open file keeps none of them.

use std::ops::Range;
use std::sync::Arc;

use ropey::Rope;

use crate::diagnostic::{Diagnostic, Severity};
use crate::schema::Catalog;
use crate::schema::validate::{self, Role, Validation};
use crate::text::{TextEdit, retain_following_touching, shift_range};
use crate::yaml::detect::TypeKeys;
use crate::yaml::file::{Changes, FileText, YamlDocument, YamlFile};
use crate::yaml::lint;
use crate::yaml::node::TsNode;
use crate::yaml::spans::SpanTree;
use crate::yaml::split;
use crate::yaml::syntax::{self, RopeSource};
use crate::yaml::template::Template;

#[derive(Debug)]
struct Entry {
    range: Range<usize>,
    /// Diagnostics relative to the document's start, and the catalog layers that answered.
    validation: Validation,
    /// Whether `validation` is a real one (not skipped for YAML errors or size), which an edit
    /// can patch instead of validating the whole document again.
    walked: bool,
    /// Whether the document was edited since it was validated (`validation` moved along).
    edited: bool,
    /// While an edit left the document broken (not validated): its last real validation, moved
    /// along the edits since, which the edit that mends it patches instead of validating the
    /// whole document again (the YAML layer reports the changes since that state then).
    last_good: Option<Box<Validation>>,
}

impl Entry {
    fn unvalidated(range: Range<usize>) -> Self {
        Entry {
            range,
            validation: Validation::default(),
            walked: false,
            edited: false,
            last_good: None,
        }
    }

    /// The validation an edit can patch: the current one, or the last good one while the
    /// document is broken.
    fn patchable(&self) -> Option<&Validation> {
        match (self.walked, &self.last_good) {
            (true, _) => Some(&self.validation),
            (false, last_good) => last_good.as_deref(),
        }
    }
}

/// Per-document schema diagnostics, kept in step with edits.
#[derive(Debug, Default)]
pub struct SchemaDiagnostics {
    /// Valid entries, by document range (file offsets, already shifted by later edits).
    entries: Vec<Entry>,
    /// Where edits since the last refresh landed (new text offsets).
    edited: Vec<Range<usize>>,
    /// A Helm template's actions and masked text, when the file is one: its documents are
    /// validated as templates (`validate::validate_template`).
    template: Option<(Arc<Template>, Arc<String>)>,
    /// Documents validated by the last refresh (for tests and timing).
    pub last_validated: usize,
    /// Of those, the ones validated only around their edits (`validate::revalidate`).
    pub last_patched: usize,
    /// Whether the last refresh matched its entries to the documents again (an edit added or
    /// removed a document) instead of keeping them in place.
    pub last_rematched: bool,
    /// The catalog the entries were validated against: another one invalidates them all.
    catalog_id: u64,
    /// How the file's documents are read (a kustomization, a patch): set by the owner.
    role: Role,
}

impl SchemaDiagnostics {
    /// Opens a file and validates each document on the thread that checked it, on the span tree
    /// that check built, which is dropped right after: complete diagnostics in one pass, without
    /// holding every document's tree at once. Helm templates and files over the open limit are
    /// left to `refresh`, which knows what to do with them.
    pub fn open(rope: &Rope, catalog: &Catalog) -> (YamlFile, SchemaDiagnostics) {
        let text = Arc::new(rope.to_string());
        let split = split::split(&text);
        Self::open_text(&text, split, catalog)
    }

    /// [`open`](Self::open) from the file's text as one string and its document split (the
    /// server has both from `didOpen`, before the rope): documents are checked on slices of it.
    pub fn open_text(
        text: &Arc<String>,
        split: split::Split,
        catalog: &Catalog,
    ) -> (YamlFile, SchemaDiagnostics) {
        Self::open_text_as(text, split, catalog, Role::Manifest)
    }

    /// [`open_text`](Self::open_text) for a file with `role`.
    pub fn open_text_as(
        text: &Arc<String>,
        split: split::Split,
        catalog: &Catalog,
        role: Role,
    ) -> (YamlFile, SchemaDiagnostics) {
        let (file, schema, _) =
            Self::open_text_with(FileText::Whole(text), split, catalog, role, &|_, _| ());
        (file, schema)
    }

    /// [`open_text_as`](Self::open_text_as), also handing each document's span tree to `also`
    /// before validation drops it (other layers read the same tree instead of parsing the
    /// document again): what it gave per document, `None` where there was no tree.
    pub fn open_text_with<R: Send>(
        text: FileText<'_>,
        split: split::Split,
        catalog: &Catalog,
        role: Role,
        also: &(dyn Fn(&YamlDocument, &SpanTree) -> R + Sync),
    ) -> (YamlFile, SchemaDiagnostics, Vec<Option<R>>) {
        if text.len() > OPEN_VALIDATION_LIMIT {
            let (file, _) = YamlFile::open_split_with(text, split, &|_| ());
            let none = file.documents().iter().map(|_| None).collect();
            return (file, SchemaDiagnostics::default(), none);
        }
        let validate_one = |document: &mut YamlDocument| -> (Option<Validation>, Option<R>) {
            let spans = document.take_spans();
            let other = spans.as_ref().map(|spans| also(document, spans));
            let rejected = document
                .diagnostics()
                .any(|d| d.severity == Severity::Error);
            // Without a span tree there is nothing to validate.
            let typed = role == Role::Kustomization
                || spans
                    .as_ref()
                    .is_some_and(|spans| TypeKeys::in_text(spans.text().as_bytes()).any());
            if rejected || !typed {
                return (None, other);
            }
            let validation = spans.map(|spans| {
                let validation = validate::validate_spans_as(catalog, &spans, role);
                document.keep_spans(spans);
                validation
            });
            (validation, other)
        };
        let (mut file, visited) = YamlFile::open_split_with(text, split, &validate_one);
        // Validation read every document as it is: an edit changes them only where it lands.
        for index in 0..file.documents().len() {
            file.take_changes(index);
        }
        // One pass: what validation gave goes to the entries, the rest to the caller.
        let mut others = Vec::with_capacity(visited.len());
        let entries = file
            .documents()
            .iter()
            .zip(visited)
            .map(|(document, (validation, other))| {
                others.push(other);
                Entry {
                    range: document.range(),
                    walked: validation.is_some(),
                    validation: validation.unwrap_or_default(),
                    edited: false,
                    last_good: None,
                }
            })
            .collect();
        let schema = SchemaDiagnostics {
            entries,
            catalog_id: catalog.id(),
            role,
            ..SchemaDiagnostics::default()
        };
        (file, schema, others)
    }

    /// Notes an edit already applied to the text: documents it touches are validated again,
    /// around the edit when it stays inside one document.
    pub fn note_edit(&mut self, edit: &TextEdit) {
        let delta = edit.delta();
        // Entries are matched again by exact range in `refresh`: a neighbour the edit only
        // touches keeps its validation when its document stayed as it was.
        retain_following_touching(
            &mut self.entries,
            edit,
            |entry| &mut entry.range,
            |entry, start| {
                entry.validation.follow_edit(edit, start);
                if let Some(last_good) = &mut entry.last_good {
                    last_good.follow_edit(edit, start);
                }
                entry.edited = true;
            },
        );
        for range in &mut self.edited {
            if range.start > edit.old_end {
                *range = shift_range(range, delta);
            } else if range.end >= edit.start {
                range.end = range.end.max(edit.new_end);
            }
        }
        self.edited.push(edit.start..edit.new_end);
    }

    /// Forgets everything (after the whole text was replaced); the role stays.
    pub fn reset(&mut self) {
        *self = SchemaDiagnostics {
            role: self.role,
            ..Self::default()
        };
    }

    pub fn role(&self) -> Role {
        self.role
    }

    /// Reads the file's documents as `role` from now on: `true` when that changed (every
    /// document is validated again on the next refresh).
    pub fn set_role(&mut self, role: Role) -> bool {
        if self.role == role {
            return false;
        }
        self.reset();
        self.role = role;
        true
    }

    /// Validates every document without an up-to-date entry.
    pub fn refresh(&mut self, file: &mut YamlFile, rope: &Rope, catalog: &Catalog) {
        self.last_validated = 0;
        self.last_patched = 0;
        if self.catalog_id != catalog.id() {
            // A new catalog (a CRD changed): keep what the same layers would answer again.
            self.entries
                .retain(|entry| entry.validation.holds_under(catalog));
            for entry in &mut self.entries {
                if entry
                    .last_good
                    .as_ref()
                    .is_some_and(|v| !v.holds_under(catalog))
                {
                    entry.last_good = None;
                }
            }
            self.catalog_id = catalog.id();
        }
        let edited = std::mem::take(&mut self.edited);
        let (mut entries, stale) = self.matched_entries(file);
        for index in stale {
            let was_edited = edited.iter().any(|e| {
                let range = &entries[index].range;
                e.start <= range.end && range.start <= e.end
            });
            let validation = self.validate(file, index, &entries[index], rope, catalog, was_edited);
            let entry = &mut entries[index];
            // A document an edit broke keeps its last validation for the edit that mends it.
            let last_good = match validation {
                Some(_) => None,
                None if file.is_broken(index) => match std::mem::take(&mut entry.last_good) {
                    Some(last_good) => Some(last_good),
                    None if entry.walked => Some(Box::new(std::mem::take(&mut entry.validation))),
                    None => None,
                },
                None => None,
            };
            *entry = Entry {
                walked: validation.is_some(),
                validation: validation.unwrap_or_default(),
                edited: false,
                range: entry.range.clone(),
                last_good,
            };
        }
        self.entries = entries;
        file.discard_spans();
    }

    /// The entries of `file`'s documents, matched by range (a new entry where none matches),
    /// and the indexes of those to validate again. When an edit kept every document (the
    /// common case), the entries are kept in place: nothing is moved.
    fn matched_entries(&mut self, file: &YamlFile) -> (Vec<Entry>, Vec<usize>) {
        let documents = file.documents();
        let aligned = file.has_ranges(self.entries.iter().map(|e| &e.range));
        self.last_rematched = !aligned;
        if aligned {
            let stale = (self.entries.iter().enumerate())
                .filter_map(|(index, entry)| entry.edited.then_some(index))
                .collect();
            return (std::mem::take(&mut self.entries), stale);
        }
        let (entries, mut stale) = file.rematch(
            std::mem::take(&mut self.entries),
            |e| &e.range,
            |_| true,
            |index, _| Entry::unvalidated(documents[index].range()),
            drop,
        );
        stale.extend((entries.iter().enumerate()).filter_map(|(i, e)| e.edited.then_some(i)));
        stale.sort_unstable();
        (entries, stale)
    }

    /// Validates document `index` again: around its edits when `entry` allows, else whole.
    /// `None` when it is not validated (YAML errors, no kind, a big file not edited there).
    fn validate(
        &mut self,
        file: &mut YamlFile,
        index: usize,
        entry: &Entry,
        rope: &Rope,
        catalog: &Catalog,
        was_edited: bool,
    ) -> Option<Validation> {
        let changes = file.take_changes(index);
        let range = entry.range.clone();

        // A document the YAML layer already rejects (syntax, duplicate keys) is not read
        // further: that error comes first, and guesses on top of it would only be noise.
        // In a template a key may repeat in another branch of an `if`: it still has its tree.
        let templated = self.template.is_some();
        if file.documents()[index].diagnostics().any(|d| {
            d.severity == Severity::Error
                && !(templated && d.code == crate::diagnostic::codes::DUPLICATE_KEY)
        }) {
            return None;
        }
        // Files over the limit are validated only where they are edited; documents that
        // name no kind are no Kubernetes objects and need no tree.
        let typed = self.role == Role::Kustomization
            || rope
                .get_byte_slice(range.clone())
                .is_some_and(|slice| TypeKeys::in_rope(slice).any());
        if (!was_edited && rope.len_bytes() > OPEN_VALIDATION_LIMIT) || !typed {
            return None;
        }
        self.last_validated += 1;
        // On open the YAML layer kept saphyr's span tree; small documents get a new one after
        // each edit. Walking tree-sitter's tree gives the same result (tested) but costs many
        // times more on big documents (benches/yaml_open), so it is walked only around an edit.
        if let Some((template, masked)) = &self.template {
            let spans = match file.take_spans(index) {
                Some(spans) => spans,
                None => lint::check(masked.get(range.clone())?).tree?,
            };
            let actions = template.document(masked, range);
            return Some(validate::validate_template(catalog, &spans, &actions));
        }
        if let Some(spans) = file.take_spans(index) {
            let validation = validate::validate_spans_as(catalog, &spans, self.role);
            file.keep_spans(index, spans);
            return Some(validation);
        }
        if let (true, Some(old), Changes::Within(changed)) =
            (entry.edited, entry.patchable(), changes)
        {
            let source = RopeSource::new(rope, range.clone());
            // The tree-sitter tree, else the span tree a big document keeps until it comes.
            let patched = match file.existing_tree(index) {
                Some(tree) => Some(tree)
                    .filter(|tree| !tree.root_node().has_error())
                    .and_then(syntax::document_root)
                    .and_then(|root| {
                        validate::revalidate(catalog, TsNode::new(root, &source), old, changed)
                    }),
                None => (file.kept_spans(index))
                    .and_then(SpanTree::root)
                    .and_then(|root| validate::revalidate(catalog, root, old, changed)),
            };
            if patched.is_some() {
                self.last_patched += 1;
                return patched;
            }
        }
        let text = rope.get_byte_slice(range)?.to_string();
        let spans = lint::check(&text).tree?;
        Some(validate::validate_spans_as(catalog, &spans, self.role))
    }

    /// The schema diagnostics of the file, in file offsets.
    pub fn diagnostics(&self) -> impl Iterator<Item = Diagnostic> + '_ {
        self.diagnostics_kept().map(|(d, by)| d.clone().shifted(by))
    }

    /// The schema diagnostics as kept (document offsets), each with what shifts it to file
    /// offsets (nothing cloned).
    pub fn diagnostics_kept(&self) -> impl Iterator<Item = (&Diagnostic, isize)> + '_ {
        self.entries.iter().flat_map(|entry| {
            let start = entry.range.start as isize;
            entry.validation.diagnostics.iter().map(move |d| (d, start))
        })
    }

    /// For a Helm template: validation of its masked text (`rope` passed to `refresh` is that
    /// text) knowing where its actions are. Forgets what was validated before.
    pub fn set_template(&mut self, template: Arc<Template>, masked: Arc<String>) {
        self.entries.clear();
        self.edited.clear();
        self.template = Some((template, masked));
    }
}

/// Files bigger than this are not validated whole when opened (their diagnostics would keep the
/// editor waiting too long): only the documents that get edited are.
const OPEN_VALIDATION_LIMIT: usize = 16 << 20;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::codes;
    use crate::text::{Position, PositionEncoding, TextDocument};
    use crate::yaml::corpus;

    /// One catalog for the whole test, so cached entries stay valid between refreshes.
    fn catalog() -> Catalog {
        static CATALOG: std::sync::OnceLock<Catalog> = std::sync::OnceLock::new();
        CATALOG.get_or_init(Catalog::builtin).clone()
    }

    fn manifest(i: usize) -> String {
        format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-{i}\ndata:\n  key: value-{i}\n"
        )
    }

    struct Fixture {
        text: TextDocument,
        file: YamlFile,
        schema: SchemaDiagnostics,
        catalog: Catalog,
    }

    impl Fixture {
        fn new(text: &str) -> Self {
            Self::with_catalog(text, catalog())
        }

        fn with_catalog(text: &str, catalog: Catalog) -> Self {
            let text = TextDocument::new(text, 0);
            let mut file = YamlFile::open(text.rope());
            let mut schema = SchemaDiagnostics::default();
            schema.refresh(&mut file, text.rope(), &catalog);
            Self {
                text,
                file,
                schema,
                catalog,
            }
        }

        /// Opened as the server opens a file (`open_text`: each document validated on the
        /// span tree of its check).
        fn opened(text: &str) -> Self {
            let text = TextDocument::new(text, 0);
            let catalog = catalog();
            let (file, schema) = SchemaDiagnostics::open(text.rope(), &catalog);
            Self {
                text,
                file,
                schema,
                catalog,
            }
        }

        /// Opened with every document keeping its span tree and never getting a tree-sitter
        /// tree: edits take the path of a big document's first edits.
        fn keeping_spans(text: &str, catalog: Catalog) -> Self {
            let text = TextDocument::new(text, 0);
            let mut file = YamlFile::open(text.rope());
            file.keep_spans_without_trees(0);
            let mut schema = SchemaDiagnostics::default();
            schema.refresh(&mut file, text.rope(), &catalog);
            Self {
                text,
                file,
                schema,
                catalog,
            }
        }

        /// Opened with its tree built: checked whole, then a first edit (which builds the
        /// document's tree) undone, so later edits are incremental.
        fn with_tree(text: &str, catalog: Catalog) -> Self {
            let mut fx = Self::with_catalog(text, catalog);
            fx.file.recheck_whole_up_to(0);
            fx.edit_bytes(0..0, " ");
            fx.edit_bytes(0..1, "");
            fx
        }

        /// Replaces a byte range of the text, as a client's edit would.
        fn edit_bytes(&mut self, range: Range<usize>, insert: &str) {
            let rope = self.text.rope();
            let position = |offset: usize| {
                let line = rope.byte_to_line(offset);
                Position::new(line as u32, (offset - rope.line_to_byte(line)) as u32)
            };
            self.apply(position(range.start)..position(range.end), insert);
        }

        /// The diagnostics in a stable order (several can share a range).
        fn sorted(&self) -> Vec<Diagnostic> {
            let mut found: Vec<Diagnostic> = self.schema.diagnostics().collect();
            found.sort_by(|a, b| {
                (a.range.start, a.range.end, a.code, &a.message).cmp(&(
                    b.range.start,
                    b.range.end,
                    b.code,
                    &b.message,
                ))
            });
            found
        }

        fn fresh_sorted(&self) -> Vec<Diagnostic> {
            Fixture::with_catalog(&self.text.rope().to_string(), self.catalog.clone()).sorted()
        }

        fn edit(&mut self, line: u32, from: u32, to: u32, insert: &str) {
            self.apply(Position::new(line, from)..Position::new(line, to), insert);
        }

        /// Applies a client's edit, then brings the diagnostics up to date as the server does.
        fn apply(&mut self, range: Range<Position>, insert: &str) {
            let edit = self
                .text
                .apply_change(Some(range), insert, PositionEncoding::Utf8);
            self.file.apply_edit(self.text.rope(), &edit);
            self.schema.note_edit(&edit);
            self.schema
                .refresh(&mut self.file, self.text.rope(), &self.catalog);
        }

        fn found(&self) -> Vec<(String, crate::diagnostic::Code)> {
            let text = self.text.rope().to_string();
            self.schema
                .diagnostics()
                .map(|d| (text[d.range.clone()].to_string(), d.code))
                .collect()
        }

        fn fresh(&self) -> Vec<(String, crate::diagnostic::Code)> {
            Fixture::new(&self.text.rope().to_string()).found()
        }
    }

    #[test]
    fn an_edit_revalidates_only_its_document() {
        let text = (0..10).map(manifest).collect::<Vec<_>>().join("---\n");
        let mut fx = Fixture::new(&text);
        assert_eq!(fx.schema.last_validated, 10);
        assert!(fx.found().is_empty());
        // `data:` of document 3 becomes `dta:`.
        fx.edit(3 * 7 + 4, 1, 2, "");
        assert_eq!(fx.schema.last_validated, 1);
        assert_eq!(fx.found(), [("dta".to_string(), codes::UNKNOWN_FIELD)]);
        // An edit in document 1 shifts document 3's diagnostic; the entries, one per document
        // as before, are kept where they are, not matched to the documents again.
        fx.edit(7 + 3, 8, 8, "longer-");
        assert_eq!(fx.schema.last_validated, 1);
        assert!(!fx.schema.last_rematched);
        assert_eq!(fx.found(), fx.fresh());
        // A new marker splits a document: the halves are validated.
        fx.edit(5 * 7 + 4, 0, 0, "---\n");
        assert_eq!(fx.found(), fx.fresh());
        fx.edit(3 * 7 + 4, 1, 1, "a");
        assert!(fx.found().is_empty());
    }

    #[test]
    fn a_document_pasted_or_cut_between_two_validates_only_itself() {
        let text = (0..4).map(manifest).collect::<Vec<_>>().join("---\n");
        let mut fx = Fixture::new(&text);
        // At the start of document 2's `---` line: after document 1, before document 2.
        let boundary = text
            .match_indices("---\n")
            .nth(1)
            .map(|(at, _)| at)
            .unwrap();
        let pasted = format!("---\n{}", manifest(9).replace("data:", "dta:"));
        fx.edit_bytes(boundary..boundary, &pasted);
        assert_eq!(fx.schema.last_validated, 1, "only the pasted document");
        assert!(fx.schema.last_rematched);
        assert_eq!(fx.sorted(), fx.fresh_sorted());
        fx.edit_bytes(boundary..boundary + pasted.len(), "");
        assert_eq!(
            fx.schema.last_validated, 0,
            "its neighbours are as they were"
        );
        assert_eq!(fx.sorted(), fx.fresh_sorted());
        assert!(fx.found().is_empty());
        // Text typed at the boundary joins the document before: that one is validated again.
        fx.edit_bytes(boundary..boundary, "dta: 1\n");
        assert_eq!(fx.schema.last_validated, 1);
        assert_eq!(fx.sorted(), fx.fresh_sorted());
        fx.edit_bytes(boundary..boundary + "dta: 1\n".len(), "");
        assert_eq!(fx.sorted(), fx.fresh_sorted());
    }

    /// The built-in schema plus the CRDs of kubectl-validate's corpus (CEL rules, list maps).
    fn corpus_catalog() -> Catalog {
        static CATALOG: std::sync::OnceLock<Catalog> = std::sync::OnceLock::new();
        CATALOG
            .get_or_init(|| {
                let crds = corpus::yaml_files(&corpus::root().join("kubectl-validate/crds"));
                let layers = crds
                    .iter()
                    .filter_map(|path| {
                        let text = std::fs::read_to_string(path).ok()?;
                        crate::schema::crd::store_from_text("corpus CRD", &text)
                    })
                    .map(std::sync::Arc::new);
                Catalog::with_builtin(layers.collect::<Vec<_>>())
            })
            .clone()
    }

    /// Edits to try at `key: value` lines: the value's range and replacements for it (types,
    /// names that break DNS and label rules, a value copied from an earlier line with the same
    /// key, which makes list-map keys collide).
    fn value_edits(text: &str) -> Vec<(Range<usize>, String)> {
        let mut edits = Vec::new();
        let mut earlier: std::collections::HashMap<&str, &str> = Default::default();
        let mut offset = 0;
        for line in text.split_inclusive('\n') {
            let content = line.trim_end_matches(['\n', '\r']);
            if let Some(colon) = content.find(": ") {
                let (key, value) = (&content[..colon], &content[colon + 2..]);
                let plain = value.starts_with(|c: char| c.is_ascii_alphanumeric())
                    && !value.contains(" #")
                    && !value.contains(": ");
                if plain {
                    let start = offset + colon + 2;
                    let end = offset + content.len();
                    edits.push((end..end, "x".to_string()));
                    for replacement in ["0", "[]", "a-b", "Bad_Name", "_x-"] {
                        edits.push((start..end, replacement.to_string()));
                    }
                    edits.push((start..start, "z".to_string()));
                    let key = key.trim_start_matches([' ', '-']);
                    if let Some(previous) = earlier.insert(key, value).filter(|p| *p != value) {
                        edits.push((start..end, previous.to_string()));
                    }
                }
            }
            offset += line.len();
        }
        edits
    }

    /// The corpus's documents of at most 64 KB (where and text).
    fn small_corpus_documents() -> impl Iterator<Item = (String, String)> {
        (corpus::documents().into_iter()).filter(|(_, document)| document.len() <= 64 * 1024)
    }

    #[test]
    fn validation_around_an_edit_matches_a_fresh_one_on_the_corpus() {
        let catalog = corpus_catalog();
        let (mut edits_tried, mut patched) = (0, 0);
        for (at, document) in small_corpus_documents() {
            let edits = value_edits(&document);
            // Spread at most 40 edits over the document.
            let step = edits.len().div_ceil(40).max(1);
            let mut fx = Fixture::with_tree(&document, catalog.clone());
            for (range, replacement) in edits.into_iter().step_by(step) {
                let before = fx.text.rope().byte_slice(range.clone()).to_string();
                for (range, insert) in [
                    (range.clone(), replacement.as_str()),
                    (
                        range.start..range.start + replacement.len(),
                        before.as_str(),
                    ),
                ] {
                    fx.edit_bytes(range, insert);
                    edits_tried += 1;
                    patched += fx.schema.last_patched;
                    let (found, fresh) = (fx.sorted(), fx.fresh_sorted());
                    assert_eq!(
                        found, fresh,
                        "{at}: after replacing {before:?} with {insert:?}"
                    );
                }
            }
        }
        assert!(edits_tried > 1000, "{edits_tried} edits tried");
        assert!(
            patched * 2 > edits_tried,
            "{patched} of {edits_tried} edits were validated around the edit"
        );
    }

    #[test]
    fn a_pair_without_a_key_is_validated_around_an_edit_as_a_fresh_open_does() {
        // `: ry: 256Mi` (a key's name cut away while typing) has no key: the span tree of a fresh
        // open and the tree-sitter tree an edit is validated on must both leave it out.
        let text = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  \
                    - name: c\n    image: i\n    resources:\n      requests:\n        cpu: 300m\n      \
                    : ry: 256Mi\n";
        let mut fx = Fixture::with_tree(text, catalog());
        let cpu = text.find("300m").unwrap();
        fx.edit_bytes(cpu..cpu + 1, "4");
        assert_eq!(fx.schema.last_patched, 1, "validated around the edit");
        assert_eq!(fx.sorted(), fx.fresh_sorted());
    }

    #[test]
    fn breaking_and_mending_match_fresh_checks_on_the_corpus() {
        let catalog = corpus_catalog();
        let (mut breaks, mut patched) = (0, 0);
        for (at, document) in small_corpus_documents() {
            // Values to put an opening quote (or bracket) before, at most 8 per document.
            let starts: Vec<usize> = value_edits(&document)
                .into_iter()
                .filter(|(range, replacement)| replacement == "z" && range.is_empty())
                .map(|(range, _)| range.start)
                .collect();
            let step = starts.len().div_ceil(8).max(1);
            let mut fx = Fixture::with_tree(&document, catalog.clone());
            for (round, start) in starts.into_iter().step_by(step).enumerate() {
                let opener = ["\"", "'", "[", "{"][round % 4];
                fx.edit_bytes(start..start, opener);
                breaks += 1;
                assert_eq!(fx.sorted(), fx.fresh_sorted(), "{at}: {opener} at {start}");
                fx.edit_bytes(start..start + opener.len(), "");
                patched += fx.schema.last_patched;
                assert_eq!(
                    fx.sorted(),
                    fx.fresh_sorted(),
                    "{at}: {opener} at {start} deleted"
                );
            }
        }
        assert!(breaks > 500, "{breaks} breaks");
        assert!(patched * 2 > breaks, "{patched} of {breaks} mends patched");
    }

    /// Where the first `type: string` line after line 17,000 of argocd's install.yaml ends:
    /// deep inside its 1.4 MB ApplicationSet CRD.
    fn deep_type_string_end(text: &str) -> usize {
        let mut start = 0;
        for (index, line) in text.split_inclusive('\n').enumerate() {
            if index >= 17_000 && line.trim() == "type: string" {
                return start + line.trim_end_matches(['\n', '\r']).len();
            }
            start += line.len();
        }
        panic!("a `type: string` line")
    }

    #[test]
    fn an_edit_deep_in_a_big_crd_is_validated_around_it() {
        let text = corpus::read("real/argocd-install.yaml");
        let mut fx = Fixture::new(&text);
        // `type: string` deep inside the 1.4 MB ApplicationSet CRD, below `items:` (any value
        // in JSONSchemaProps): the first edit starts its tree (in the background), and once it
        // is there the next ones are patched.
        let end = deep_type_string_end(&text);
        fx.edit_bytes(end..end, "x");
        let document = fx.file.document_index_at(end);
        fx.file.tree(fx.text.rope(), document);
        fx.edit_bytes(end + 1..end + 1, "y");
        assert_eq!(fx.schema.last_patched, 1);
        let found = fx.sorted();
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].code, codes::CRD);
        assert_eq!(found, fx.fresh_sorted());
        fx.edit_bytes(end..end + 2, "");
        assert_eq!(fx.schema.last_patched, 1);
        assert_eq!(fx.sorted(), []);
    }

    #[test]
    fn the_first_edit_of_a_big_crd_is_checked_and_validated_around_it() {
        let text = corpus::read("real/argocd-install.yaml");
        let mut fx = Fixture::opened(&text);
        // `type: string` deep inside the 1.4 MB ApplicationSet CRD, which has no tree yet.
        let end = deep_type_string_end(&text);
        let document = fx.file.document_index_at(end);
        assert!(fx.file.existing_tree(document).is_none());
        let before = fx.file.stats();
        fx.edit_bytes(end..end, "x");
        let after = fx.file.stats();
        assert_eq!(after.full, before.full, "no document checked whole");
        assert_eq!(after.spliced, before.spliced + 1);
        assert!(after.spliced_bytes - before.spliced_bytes < 16 * 1024);
        assert_eq!(fx.schema.last_validated, 1);
        assert_eq!(fx.schema.last_patched, 1, "validated around the edit");
        let found = fx.sorted();
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found, fx.fresh_sorted());
    }

    #[test]
    fn the_type_of_a_big_schema_node_of_a_big_crd_is_checked_around_it() {
        let text = corpus::read("real/argocd-install.yaml");
        let lines: Vec<&str> = text.lines().collect();
        let indent = |line: &str| line.len() - line.trim_start().len();
        // `template:` of the ApplicationSet CRD's `scmProvider` generator: a schema node of
        // about 49 KB, and its `type: object`, whose edit its structural checks read.
        let template = (28_000..lines.len())
            .find(|&i| lines[i].trim() == "template:")
            .expect("a `template:` line");
        let type_line = (template + 1..lines.len())
            .find(|&i| {
                indent(lines[i]) == indent(lines[template]) + 2 && lines[i].trim() == "type: object"
            })
            .expect("its `type: object`");
        let mut fx = Fixture::opened(&text);
        let end = fx.text.rope().line_to_byte(type_line) + lines[type_line].len();
        for (range, insert) in [(end..end, "x"), (end..end + 1, "")] {
            fx.edit_bytes(range, insert);
            assert_eq!(fx.schema.last_validated, 1);
            assert_eq!(fx.schema.last_patched, 1, "validated around the edit");
            assert_eq!(fx.sorted(), fx.fresh_sorted());
        }
    }

    #[test]
    fn edits_on_kept_span_trees_match_fresh_validations_on_the_corpus() {
        let catalog = corpus_catalog();
        let (mut tried, mut patched, mut spliced) = (0, 0, 0);
        for (at, document) in small_corpus_documents() {
            let edits = value_edits(&document);
            // At most 12 edits spread over the document, each undone; and a quote opened
            // before a value and deleted again.
            let step = edits.len().div_ceil(12).max(1);
            let mut fx = Fixture::keeping_spans(&document, catalog.clone());
            for (round, (range, replacement)) in edits.into_iter().step_by(step).enumerate() {
                let replacement = match round % 4 {
                    3 => "\"".to_string(),
                    _ => replacement,
                };
                let range = if round % 4 == 3 {
                    range.start..range.start
                } else {
                    range
                };
                let before = fx.text.rope().byte_slice(range.clone()).to_string();
                for (range, insert) in [
                    (range.clone(), replacement.as_str()),
                    (
                        range.start..range.start + replacement.len(),
                        before.as_str(),
                    ),
                ] {
                    let spliced_before = fx.file.stats().spliced;
                    fx.edit_bytes(range, insert);
                    spliced += fx.file.stats().spliced - spliced_before;
                    tried += 1;
                    patched += fx.schema.last_patched;
                    assert_eq!(
                        fx.sorted(),
                        fx.fresh_sorted(),
                        "{at}: after replacing {before:?} with {insert:?}"
                    );
                }
            }
        }
        assert!(tried > 1000, "{tried} edits tried");
        assert!(spliced * 2 > tried, "{spliced} of {tried} edits spliced");
        assert!(
            patched * 2 > spliced,
            "{patched} of {spliced} spliced edits were validated around the edit"
        );
    }

    #[test]
    fn a_mended_document_is_validated_around_the_edit_not_whole() {
        let text = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: many\n  selector:\n    matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: web}\n    spec:\n      containers:\n      - name: web\n        image: nginx\n        imagePullPolicy: Sometimes\n";
        let mut fx = Fixture::new(text);
        let expected = [
            ("many".to_string(), codes::TYPE),
            ("Sometimes".to_string(), codes::ENUM),
        ];
        assert_eq!(fx.found(), expected);
        // As for a big document: the first edit builds its tree, later ones are incremental.
        fx.file.recheck_whole_up_to(0);
        let name = text.find("web").unwrap();
        fx.edit_bytes(name..name, "a");
        fx.edit_bytes(name..name + 1, "");
        // An opening quote before `web`: the rest of the document reads as a string.
        fx.edit_bytes(name..name, "\"");
        assert!(fx.file.is_broken(0));
        assert_eq!(
            fx.schema.last_validated, 0,
            "a broken document is not validated"
        );
        assert_eq!(fx.sorted(), fx.fresh_sorted());
        fx.edit_bytes(name + 1..name + 1, "x");
        fx.edit_bytes(name..name + 1, "");
        assert!(!fx.file.is_broken(0));
        assert_eq!(fx.schema.last_validated, 1);
        assert_eq!(fx.schema.last_patched, 1, "validated around the edit");
        assert_eq!(fx.found(), expected);
        assert_eq!(fx.sorted(), fx.fresh_sorted());
        // Broken and mended at the wrong value: its diagnostic is gone, the other one stays.
        let many = fx.text.rope().to_string().find("many").unwrap();
        fx.edit_bytes(many..many, "\"");
        fx.edit_bytes(many + 1..many + 5, "3");
        fx.edit_bytes(many..many + 1, "");
        assert_eq!(fx.schema.last_patched, 1);
        assert_eq!(fx.found(), [expected[1].clone()]);
        assert_eq!(fx.sorted(), fx.fresh_sorted());
    }

    #[test]
    fn breaking_and_mending_deep_in_a_big_crd_checks_and_validates_only_around_it() {
        let text = corpus::read("real/argocd-install.yaml");
        let mut fx = Fixture::new(&text);
        // `type: string` deep inside the 1.4 MB ApplicationSet CRD; its tree first.
        let value = deep_type_string_end(&text) - "string".len();
        let document = fx.file.document_index_at(value);
        fx.file.tree(fx.text.rope(), document);
        let before = fx.file.stats();
        fx.edit_bytes(value..value, "\"");
        let broken = fx.file.stats();
        assert!(fx.file.is_broken(document));
        assert_eq!(broken.checked_around, before.checked_around + 1);
        assert_eq!(
            broken.whole_rechecks, before.whole_rechecks,
            "not checked whole"
        );
        assert_eq!(fx.sorted(), fx.fresh_sorted());
        fx.edit_bytes(value..value + 1, "");
        let mended = fx.file.stats();
        assert_eq!(mended.mended, broken.mended + 1);
        assert_eq!(
            mended.whole_rechecks, broken.whole_rechecks,
            "not checked whole"
        );
        assert_eq!(mended.full, before.full);
        assert_eq!(fx.schema.last_patched, 1, "validated around the edit");
        assert_eq!(fx.sorted(), fx.fresh_sorted());
    }

    #[test]
    fn a_required_fields_fix_follows_an_edit_of_the_mappings_last_value() {
        // An Ingress path item without its `backend`: the fix goes after the item's last line.
        let text = "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: web\nspec:\n  rules:\n  - http:\n      paths:\n      - pathType: Prefix\n        path: |\n          /x\n\n";
        let mut fx = Fixture::new(text);
        let fix_of = |fx: &Fixture| {
            let found = fx.sorted();
            assert_eq!(found.len(), 1, "{found:?}");
            found[0].fix.clone()
        };
        assert!(fix_of(&fx).is_some());
        // As for a big document: the first edit builds its tree, later ones are validated
        // around them.
        fx.file.recheck_whole_up_to(0);
        let name = text.find("web").unwrap();
        fx.edit_bytes(name..name, "a");
        fx.edit_bytes(name..name + 1, "");
        let bar = text.find("path: |").unwrap() + "path: |".len();
        // `|+` keeps the blank line: lines inserted before or after it would change the path.
        fx.edit_bytes(bar..bar, "+");
        assert_eq!(fx.schema.last_patched, 1);
        assert_eq!(fix_of(&fx), None);
        fx.edit_bytes(bar..bar + 1, "");
        assert_eq!(fx.schema.last_patched, 1);
        assert!(fix_of(&fx).is_some());
        assert_eq!(fx.sorted(), fx.fresh_sorted());
        // A line added to the block scalar moves where the fields go.
        let end = text.find("/x\n").unwrap() + 3;
        fx.edit_bytes(end..end, "          /y\n");
        assert_eq!(fx.schema.last_patched, 1);
        assert_eq!(fx.sorted(), fx.fresh_sorted());
    }

    #[test]
    fn a_new_catalog_revalidates_only_the_documents_it_answers_differently() {
        let crd = "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: widgets.example.com}\nspec:\n  group: example.com\n  names: {kind: Widget, plural: widgets}\n  scope: Namespaced\n  versions: [{name: v1, served: true, storage: true, schema: {openAPIV3Schema: {type: object, properties: {size: {type: integer}}}}}]\n";
        let text = format!(
            "{}---\napiVersion: example.com/v1\nkind: Widget\nmetadata: {{name: w}}\nsize: big\n",
            manifest(0)
        );
        let mut fx = Fixture::new(&text);
        assert_eq!(fx.schema.last_validated, 2);
        assert_eq!(fx.found(), [("Widget".to_string(), codes::UNKNOWN_KIND)]);
        let store = crate::schema::crd::store_from_text("CRD in test", crd).unwrap();
        let with_crd = Catalog::with_builtin([std::sync::Arc::new(store)]);
        fx.schema.refresh(&mut fx.file, fx.text.rope(), &with_crd);
        assert_eq!(fx.schema.last_validated, 1, "the ConfigMap is kept");
        assert_eq!(fx.found(), [("big".to_string(), codes::TYPE)]);
        // The same layers again: nothing to do.
        let rebuilt = Catalog::from_layers(with_crd.layers().iter().cloned());
        fx.schema.refresh(&mut fx.file, fx.text.rope(), &rebuilt);
        assert_eq!(fx.schema.last_validated, 0);
    }
}

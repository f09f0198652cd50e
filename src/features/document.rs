//! One open document: its text, its parsed YAML, its schema diagnostics, its outline and the
//! cluster's findings for one version, with what the editor asks of it (diagnostics from every
//! layer merged, quick fixes, symbols, folds). Pure: byte ranges and `diagnostic` types in and
//! out, no locking, no LSP types; the server keeps one per open file behind a mutex.

use std::ops::Range;
use std::sync::Arc;

use ropey::Rope;

use super::diagnostics::{self, Found};
use super::folding::{self, Fold};
use super::helm::template::{ChartRole, TemplateText};
use super::markers::Markers;
use super::outline::{MAX_ITEMS, OutlineCache};
use super::rules::{self, RuleDiagnostics};
use super::schema_diagnostics::SchemaDiagnostics;
use super::symbols::{self, Symbol, SymbolAnswer};
use crate::diagnostic::{Diagnostic, Fix};
use crate::schema::Catalog;
use crate::schema::validate::Role;
use crate::text::cancel::{Cancel, Cancelled};
use crate::text::{Position, PositionEncoding, TextDocument};
use crate::workspace::open::OpenedEntry;
use crate::yaml::file::{FileText, YamlDocument, YamlFile};
use crate::yaml::spans::SpanTree;
use crate::yaml::split;

pub struct OpenDocument {
    text: TextDocument,
    yaml: YamlFile,
    /// Schema diagnostics per document, re-validated after edits.
    schema: SchemaDiagnostics,
    /// The rules' findings per document, checked again after edits.
    rules: RuleDiagnostics,
    /// Symbols and folds of the documents without a tree-sitter tree, between requests.
    outlines: OutlineCache,
    /// What the cluster (dry-run, diff) found, for the version it checked.
    cluster: Option<ClusterFindings>,
    /// Findings of the layers that compute outside the document and follow its edits until they
    /// are replaced, by [`Layer`]: references, kustomize's checks, a rendered overlay's findings,
    /// modeline schemas.
    layers: [Vec<Diagnostic>; Layer::ALL.len()],
    /// By layer, the text edits changed since it was last set or spliced.
    touched: [Touched; Layer::ALL.len()],
    /// Helm: the file's part in a chart, its template (when it holds actions or is a chart
    /// template), the chart, and what rendering it and checking its values found.
    helm: HelmState,
    /// Which comments that switch findings off the text may hold, kept along edits.
    markers: Markers,
    /// The workspace index's entry of the file, read by the open until the index takes it.
    index_entry: Option<OpenedEntry>,
}

/// The layers an [`OpenDocument`] keeps beside its own (see [`OpenDocument::set_layer`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layer {
    /// What references found (targets missing, selectors matching nothing), computed from the
    /// workspace index for one version.
    References = 0,
    /// kustomize's checks of a kustomization or patch file (`features::kustomize`).
    Kustomize = 1,
    /// What a rendered kustomization found, mapped back to this file.
    Rendered = 2,
    /// The documents against the JSON schemas their modelines name (`features::modeline`).
    Modeline = 3,
}

impl Layer {
    const ALL: [Layer; 4] = [
        Layer::References,
        Layer::Kustomize,
        Layer::Rendered,
        Layer::Modeline,
    ];

    /// Whether a finding an edit touches is dropped (no longer known to hold) rather than moved.
    fn drops_touched(self) -> bool {
        self == Layer::References
    }
}

/// What edits changed of a text since a layer computed from it was last set: the layer's findings
/// elsewhere still hold, moved along.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Touched {
    Nothing,
    /// This part of the current text (ends included: an insertion's, a deletion's point).
    Within(Range<usize>),
    /// Everything: the layer was never set, or the whole text was replaced.
    Everything,
}

impl Touched {
    /// What is touched once `edit` is made too.
    fn with(self, edit: &crate::text::TextEdit) -> Touched {
        let made = edit.start..edit.new_end;
        match self {
            Touched::Nothing => Touched::Within(made),
            Touched::Within(before) => {
                let before = edit.map_range(&before, 0);
                Touched::Within(before.start.min(made.start)..before.end.max(made.end))
            }
            Touched::Everything => Touched::Everything,
        }
    }
}

#[derive(Default)]
struct HelmState {
    role: ChartRole,
    template: Option<TemplateText>,
    chart: Option<Arc<crate::workspace::chart::ChartModel>>,
    /// Findings on the rendered chart, mapped to this file (moved along with edits).
    rendered: Vec<Diagnostic>,
    /// A values file against the chart's `values.schema.json` (at the last validation).
    values: Vec<Diagnostic>,
}

struct ClusterFindings {
    version: i32,
    diagnostics: Vec<Diagnostic>,
}

/// A document's text and document split at one version: cheap to clone (ropes share), read by
/// completion and hover without the document.
#[derive(Clone)]
pub struct TextSnapshot {
    pub rope: Rope,
    pub version: i32,
    pub documents: Arc<[Range<usize>]>,
    /// Read as a Helm template (a chart's template or helper, or a text with template actions):
    /// requests inside its actions are answered from the chart. Requests on other texts need
    /// not look for actions in the whole text.
    pub templated: bool,
}

/// One change of the text: `range` replaced by `text`, or the whole text when `range` is `None`.
#[derive(Clone, Debug)]
pub struct Change<'a> {
    pub range: Option<Range<Position>>,
    pub text: &'a str,
}

/// A fix and every diagnostic it resolves (diagnostics can share one: each missing field of a
/// mapping offers to add them all).
#[derive(Debug, PartialEq)]
pub struct QuickFix {
    pub fix: Fix,
    pub resolves: Vec<Diagnostic>,
    /// The fix of the problem itself (not one that only silences it).
    pub preferred: bool,
}

/// From this much text an open builds the rope before it checks the documents, and lets go of
/// the client's string first: the text is not held twice (the open's peak of memory, megabytes
/// for such a file). Below it, the rope is built beside the check, which starts a few
/// milliseconds sooner (docs/benchmarks.md).
pub const ROPE_FIRST_MIN: usize = 4 << 20;

/// Below this much text an open does all its work on the calling thread: starting a thread (its
/// stack, the allocator's pages for it) costs more than building the rope or putting the
/// index's entry together there.
const OPEN_THREADS_MIN: usize = 256 << 10;

work_counter!(
    /// How many threads this thread's opens have started so far (besides those of the check).
    pub(crate) fn open_threads() => OPEN_THREADS
);

impl OpenDocument {
    /// Opens a document in one go, on this thread.
    pub fn open(text: &str, version: i32, catalog: &Catalog) -> Self {
        if crate::yaml::detect::template_action_in(text).is_some() {
            return Self::open_template(TextDocument::new(text, version), catalog);
        }
        let text = TextDocument::new(text, version);
        let (yaml, schema) = SchemaDiagnostics::open(text.rope(), catalog);
        Self::new(text, yaml, schema)
    }

    /// Opens a Helm template (a text with template actions): its masked text is checked and
    /// validated.
    fn open_template(text: TextDocument, catalog: &Catalog) -> Self {
        let mut document = Self::new(
            text,
            YamlFile::open(&Rope::new()),
            SchemaDiagnostics::default(),
        );
        document.build_template();
        document.validate(catalog);
        document
    }

    /// Opens a document from the string a client sent and its document split (the slow part of
    /// opening a big file): the YAML check, the rules and schema validation of every document
    /// run on slices of `source` while another thread builds the rope, which `text_ready` gets
    /// as soon as it is built (completion and hover can answer from it before the check is
    /// done). From [`ROPE_FIRST_MIN`], the rope is built first (on two threads), `source` let
    /// go of, and each document checked on its own copy out of the rope.
    pub fn open_split(
        source: String,
        split: split::Split,
        version: i32,
        catalog: &Catalog,
        text_ready: impl FnOnce(TextSnapshot) + Send,
    ) -> Self {
        Self::open_split_as(
            source,
            split,
            version,
            catalog,
            Role::Manifest,
            &Arc::new(rules::Config::default()),
            text_ready,
        )
    }

    /// [`open_split`](Self::open_split) for a file with `role` (a kustomization, a patch),
    /// checked with the rules `rule_config` turns on (none at all when it turns on none).
    pub fn open_split_as(
        source: String,
        split: split::Split,
        version: i32,
        catalog: &Catalog,
        role: Role,
        rule_config: &Arc<rules::Config>,
        text_ready: impl FnOnce(TextSnapshot) + Send,
    ) -> Self {
        if crate::yaml::detect::template_action_in(&source).is_some() {
            let text = TextDocument::new(&source, version);
            text_ready(TextSnapshot {
                rope: text.rope().clone(),
                version,
                documents: split.documents.into(),
                templated: true,
            });
            return Self::open_template(text, catalog);
        }
        let documents: Arc<[Range<usize>]> = split.documents.clone().into();
        // The rules read the span trees the open builds (validation drops them after).
        let with_objects = RuleDiagnostics::reads_objects(documents.len());
        let rules_on = rule_config.any();
        // So does the workspace index: it does not parse the file again. The rules take the
        // objects the index read rather than reading the tree a second time.
        let read_trees = |document: &YamlDocument, spans: &SpanTree| {
            let index_read =
                crate::workspace::open::read_spans(spans.text(), document.range().start, spans);
            let read_objects = |tree: &_| {
                index_read
                    .as_read_from_tree()
                    .unwrap_or_else(|| crate::workspace::document::read_tree(tree))
            };
            let checked = rules_on.then(|| {
                rules::check_opened(document, spans, rule_config, with_objects, read_objects)
            });
            (checked, index_read)
        };
        let ranges = documents.clone();
        let on_threads = source.len() >= OPEN_THREADS_MIN;
        let check = |text: FileText<'_>| {
            SchemaDiagnostics::open_text_with(text, split, catalog, role, &read_trees)
        };
        // The snapshot: completion and hover answer from it while the check runs.
        let snapshot = |text: &TextDocument| {
            text_ready(TextSnapshot {
                rope: text.rope().clone(),
                version,
                documents,
                templated: false,
            });
            Markers::of(text.rope())
        };
        let ((text, markers), (yaml, schema, read)) = if source.len() >= ROPE_FIRST_MIN {
            // The rope first, and the client's string let go of: the documents are checked from
            // the rope, each from its own copy, so the file's text is not held twice while the
            // open makes what it keeps (its peak of memory).
            count_work!(OPEN_THREADS);
            let text = TextDocument::new_on_threads(&source, version);
            drop(source);
            let markers = snapshot(&text);
            let opened = check(FileText::Rope(text.rope()));
            ((text, markers), opened)
        } else {
            // The documents are checked on slices of the client's string.
            let source = Arc::new(source);
            let build_rope = || {
                let text = TextDocument::new(&source, version);
                let markers = snapshot(&text);
                (text, markers)
            };
            let opened = if on_threads {
                // The rope is built beside the check.
                std::thread::scope(|scope| {
                    count_work!(OPEN_THREADS);
                    let rope = scope.spawn(build_rope);
                    let opened = check(FileText::Whole(&source));
                    let text = rope
                        .join()
                        .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
                    (text, opened)
                })
            } else {
                let text = build_rope();
                (text, check(FileText::Whole(&source)))
            };
            // What follows reads the rope.
            drop(source);
            opened
        };
        // A file over the open's validation limit has no trees read: the index reads it later.
        let any_read = read.iter().any(Option::is_some);
        let mut checked = Vec::with_capacity(read.len());
        let mut index_reads = Vec::with_capacity(read.len());
        for one in read {
            let (rules, index) = one.unzip();
            checked.push(rules.flatten());
            index_reads.push(index);
        }
        let entry = |index_reads| OpenedEntry::new(text.rope(), &ranges, index_reads);
        let rules = |checked| RuleDiagnostics::opened(&yaml, checked, rule_config.clone());
        let (index_entry, rules) = if any_read && on_threads {
            // The index's entry is put together beside the rules' entries.
            std::thread::scope(|scope| {
                count_work!(OPEN_THREADS);
                let index_entry = scope.spawn(move || entry(index_reads));
                let rules = rules(checked);
                let index_entry = index_entry
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
                (Some(index_entry), rules)
            })
        } else {
            (any_read.then(|| entry(index_reads)), rules(checked))
        };
        Self {
            rules,
            index_entry,
            markers,
            ..Self::new_without_markers(text, yaml, schema)
        }
    }

    /// How its YAML documents were parsed so far (for tests and benchmarks).
    pub fn yaml_stats(&self) -> crate::yaml::file::ParseStats {
        self.yaml.stats()
    }

    /// The workspace index's entry of the file as its open read it from the span trees it
    /// built (once: the index takes it), when it read one.
    pub fn take_index_entry(&mut self) -> Option<OpenedEntry> {
        self.index_entry.take()
    }

    fn new(text: TextDocument, yaml: YamlFile, schema: SchemaDiagnostics) -> Self {
        OpenDocument {
            markers: Markers::of(text.rope()),
            ..Self::new_without_markers(text, yaml, schema)
        }
    }

    /// [`new`](Self::new) before the comments that switch findings off are looked for.
    fn new_without_markers(text: TextDocument, yaml: YamlFile, schema: SchemaDiagnostics) -> Self {
        OpenDocument {
            markers: Markers::default(),
            text,
            yaml,
            schema,
            rules: RuleDiagnostics::default(),
            outlines: OutlineCache::default(),
            cluster: None,
            helm: HelmState::default(),
            layers: Default::default(),
            touched: std::array::from_fn(|_| Touched::Everything),
            index_entry: None,
        }
    }

    /// How the file's documents are read.
    pub fn role(&self) -> Role {
        self.schema.role()
    }

    /// Reads the file as `role` from now on; `true` when that changed (validate and publish).
    pub fn set_role(&mut self, role: Role) -> bool {
        self.schema.set_role(role)
    }

    /// Replaces a layer's findings (in byte ranges of the current text); `true` when they
    /// changed. Findings computed from a snapshot elsewhere are handed over by the server's
    /// store, which knows which text they were computed from.
    pub fn set_layer(&mut self, layer: Layer, diagnostics: Vec<Diagnostic>) -> bool {
        self.touched[layer as usize] = Touched::Nothing;
        let slot = &mut self.layers[layer as usize];
        let changed = *slot != diagnostics;
        *slot = diagnostics;
        changed
    }

    /// What edits changed since `layer` was last set or spliced.
    pub fn touched(&self, layer: Layer) -> &Touched {
        &self.touched[layer as usize]
    }

    /// Replaces `layer`'s findings that start in `part` of the text (ends included) with
    /// `diagnostics`, kept in document order like the rest: the references' findings of the
    /// documents read again after an edit that changed nothing the others read. `true` when
    /// they changed.
    pub fn splice_layer(
        &mut self,
        layer: Layer,
        part: Range<usize>,
        diagnostics: Vec<Diagnostic>,
    ) -> bool {
        self.touched[layer as usize] = Touched::Nothing;
        let found = &mut self.layers[layer as usize];
        let within = |d: &mut Diagnostic| part.start <= d.range.start && d.range.start <= part.end;
        let replaced: Vec<Diagnostic> = found.extract_if(.., within).collect();
        let at = found.partition_point(|d| d.range.start < part.start);
        let changed = replaced != diagnostics;
        found.splice(at..at, diagnostics);
        changed
    }

    /// Reads the text as a Helm template again (after any change of a template: templates are
    /// small, and one action can change how every line after it reads).
    fn build_template(&mut self) {
        let template = TemplateText::new(&self.text.rope().to_string());
        self.yaml = YamlFile::open(&template.masked_rope);
        self.outlines.reset();
        self.schema = SchemaDiagnostics::default();
        self.schema
            .set_template(template.template.clone(), template.masked.clone());
        self.helm.template = Some(template);
    }

    /// Whether the text is read as a template: a chart's template or helper, or any text with
    /// template actions.
    fn wants_template(&self) -> bool {
        matches!(self.helm.role, ChartRole::Template | ChartRole::Helper)
            || crate::yaml::detect::template_action(self.text.rope()).is_some()
    }

    /// What the file is to its chart, and the chart (the server knows both from its path).
    pub fn set_chart(
        &mut self,
        role: ChartRole,
        chart: Option<Arc<crate::workspace::chart::ChartModel>>,
    ) {
        let was = self.helm.role;
        self.helm.role = role;
        self.helm.chart = chart;
        if role != was && self.wants_template() != self.helm.template.is_some() {
            self.rebuild();
        }
    }

    /// The chart the file belongs to, if the server said.
    pub fn chart(&self) -> Option<&Arc<crate::workspace::chart::ChartModel>> {
        self.helm.chart.as_ref()
    }

    pub fn chart_role(&self) -> ChartRole {
        self.helm.role
    }

    /// The template's actions, when the file is read as one.
    pub fn template(&self) -> Option<&crate::yaml::template::Template> {
        self.helm.template.as_ref().map(|t| &*t.template)
    }

    /// Keeps what rendering the chart found in this file (replacing what it found before).
    pub fn set_rendered(&mut self, diagnostics: Vec<Diagnostic>) {
        self.helm.rendered = diagnostics;
    }

    pub fn text(&self) -> &TextDocument {
        &self.text
    }

    pub fn version(&self) -> i32 {
        self.text.version()
    }

    /// Which comments that switch findings off the text may hold.
    pub fn markers(&self) -> Markers {
        self.markers
    }

    /// The byte ranges of the file's YAML documents.
    pub fn document_ranges(&self) -> impl Iterator<Item = Range<usize>> + '_ {
        self.yaml.documents().iter().map(|d| d.range())
    }

    /// The text and document split as they are now.
    pub fn snapshot(&self) -> TextSnapshot {
        TextSnapshot {
            rope: self.text.rope().clone(),
            version: self.text.version(),
            documents: self.document_ranges().collect(),
            templated: self.helm.template.is_some(),
        }
    }

    /// Applies `changes` in order (positions in `encoding`, each relative to the text the ones
    /// before it left) and makes the result `version`. The parsed YAML follows each edit; schema
    /// diagnostics are validated again on the next [`validate`](Self::validate).
    pub fn change<'a>(
        &mut self,
        version: i32,
        changes: impl IntoIterator<Item = Change<'a>>,
        encoding: PositionEncoding,
    ) {
        let templated = self.helm.template.is_some();
        // A text with no action gets one only from an edit: look near each, not at the whole.
        let mut new_action = false;
        for change in changes {
            let full = change.range.is_none();
            let edit = self.text.apply_change(change.range, change.text, encoding);
            if full {
                self.markers = Markers::of(self.text.rope());
            } else {
                self.markers.follow_edit(self.text.rope(), &edit);
            }
            for finding in &mut self.helm.rendered {
                finding.follow_edit(&edit, 0);
            }
            if templated {
                continue;
            }
            new_action = new_action
                || crate::yaml::detect::template_action_near(
                    self.text.rope(),
                    edit.start,
                    edit.new_end,
                );
            if full {
                self.yaml = YamlFile::open(self.text.rope());
                self.schema.reset();
                self.rules.reset();
                self.outlines.reset();
            } else {
                self.yaml.apply_edit(self.text.rope(), &edit);
                self.schema.note_edit(&edit);
                self.rules.note_edit(&edit);
                self.outlines.note_edit(&edit, self.text.rope());
            }
            for layer in Layer::ALL {
                let touched = &mut self.touched[layer as usize];
                *touched = match full {
                    true => Touched::Everything,
                    false => std::mem::replace(touched, Touched::Nothing).with(&edit),
                };
                let found = &mut self.layers[layer as usize];
                if full {
                    found.clear();
                } else if layer.drops_touched() {
                    found.retain(|d| d.range.end < edit.start || edit.old_end < d.range.start);
                }
                for diagnostic in found.iter_mut() {
                    diagnostic.follow_edit(&edit, 0);
                }
            }
        }
        self.text.set_version(version);
        if (templated || new_action) && self.wants_template() {
            self.build_template();
        } else if templated {
            self.rebuild();
        }
    }

    /// Parses the document again from its text (after a panic left its parsed state in doubt).
    pub fn rebuild(&mut self) {
        if self.wants_template() {
            self.build_template();
            return;
        }
        self.helm.template = None;
        self.yaml = YamlFile::open(self.text.rope());
        self.schema.reset();
        self.rules.reset();
        self.outlines.reset();
    }

    /// Checks the rules on the documents that changed since the last check and answers what
    /// they ask of other objects again when those may have changed. Call it before
    /// [`validate`](Self::validate), which drops the span trees the rules read too.
    pub fn check_rules(&mut self, context: &rules::Context<'_>) {
        self.rules.refresh(&self.yaml, self.text.rope(), context);
    }

    /// The rules' findings as kept (for tests).
    #[cfg(test)]
    pub(crate) fn rule_diagnostics(&self) -> &RuleDiagnostics {
        &self.rules
    }

    /// Whether the rules' answers that depended on the cluster were computed with another of
    /// its generations: [`check_rules`](Self::check_rules) would redo them.
    pub fn rules_await_cluster(&self, generation: Option<u64>) -> bool {
        self.rules.awaits_cluster(generation)
    }

    /// Validates the documents whose schema diagnostics are out of date (edited, or validated
    /// against another catalog).
    pub fn validate(&mut self, catalog: &Catalog) {
        let rope = match &self.helm.template {
            Some(template) => &template.masked_rope,
            None => self.text.rope(),
        };
        self.schema.refresh(&mut self.yaml, rope, catalog);
        if self.helm.role == ChartRole::Values {
            let schema = self.helm.chart.as_ref().and_then(|c| c.schema.clone());
            self.helm.values = match schema {
                Some((_, schema)) => {
                    super::helm::values_schema::check(&self.text.rope().to_string(), &schema)
                }
                None => Vec::new(),
            };
        }
    }

    /// Keeps the cluster's diagnostics of `version`; `false` (and nothing kept) when the
    /// document is at another version now.
    pub fn set_cluster_findings(&mut self, version: i32, diagnostics: Vec<Diagnostic>) -> bool {
        if version != self.text.version() {
            return false;
        }
        self.cluster = Some(ClusterFindings {
            version,
            diagnostics,
        });
        true
    }

    /// Every diagnostic known now, in file byte offsets: the YAML layer's and the schema's
    /// (sorted by position), the rules', the references' and the other layers', then the
    /// cluster's when they are for the current version. At most [`diagnostics::MAX_SHOWN`], then
    /// one entry saying how many more there are: merged, filtered and counted where the layers
    /// keep them, and only those shown copied.
    pub fn diagnostics(&self) -> Vec<Diagnostic> {
        let cluster = self
            .cluster
            .as_ref()
            .filter(|found| found.version == self.text.version())
            .map_or(&[][..], |found| &found.diagnostics);
        let made = self.template_diagnostics();
        let mut found: Vec<Found<'_>> = Vec::new();
        let mut rules = None;
        if self.helm.template.is_none() {
            found.extend(
                self.yaml
                    .diagnostics_kept()
                    .map(|(d, by)| Found::kept(d, by)),
            );
            if self.helm.role.has_manifests() {
                found.extend(
                    self.schema
                        .diagnostics_kept()
                        .map(|(d, by)| Found::kept(d, by)),
                );
                rules = Some(&self.rules).filter(|rules| rules.shown_len() > 0);
            }
        }
        let at_once = |d| Found::kept(d, 0);
        found.extend(made.iter().map(at_once));
        found.extend(self.helm.values.iter().map(at_once));
        // Stable, and the layers come in position order each: little more than a merge. The
        // rules' findings are kept in position order: merged as they are taken, not walked.
        found.sort_by_key(|d| {
            let range = d.range();
            (range.start, range.end)
        });
        let sorted = Sorted { found, rules };
        // What rendering found, unless the file's own checks say the same there.
        let mut after: Vec<Found<'_>> = Vec::new();
        for rendered in &self.helm.rendered {
            let said = sorted.any_at(&rendered.range, |d| rendered.message.ends_with(d.message()));
            if !said {
                after.push(at_once(rendered));
            }
        }
        let rendered = after.len();
        let references: Vec<Found<'_>> = self.layers[Layer::References as usize]
            .iter()
            .filter(|d| {
                !(sorted.any_at(&d.range, is_rule)
                    || after[..rendered]
                        .iter()
                        .any(|r| r.range() == d.range && is_rule(r)))
            })
            .map(at_once)
            .collect();
        for layer in Layer::ALL {
            if layer == Layer::References {
                after.extend(references.iter().copied());
            } else {
                after.extend(self.layers[layer as usize].iter().map(at_once));
            }
        }
        after.extend(cluster.iter().map(at_once));
        let total = sorted.len() + after.len();
        self.shown(sorted.iter().chain(after), total)
    }

    /// The diagnostics a Helm template's text gives (computed here, not kept): its YAML layer's
    /// that hold for a template, its schema's, the chart's values it reads but does not define,
    /// and, in a chart's files, its actions' errors.
    fn template_diagnostics(&self) -> Vec<Diagnostic> {
        let Some(template) = &self.helm.template else {
            return Vec::new();
        };
        let mut made = Vec::new();
        if self.helm.role != ChartRole::Helper {
            let yaml = self.yaml.diagnostics().filter(|d| template.keeps_yaml(d));
            made.extend(yaml.chain(self.schema.diagnostics()));
            if let Some(chart) = &self.helm.chart {
                made.extend(template.undefined_values(chart));
            }
        }
        // Action errors in chart files only: elsewhere `{{` may be another tool's syntax.
        if matches!(self.helm.role, ChartRole::Template | ChartRole::Helper) {
            made.extend(template.errors());
        }
        made
    }

    /// `found` (`total` diagnostics) without what modelines and ignore comments switch off
    /// (read only when the text has such comments), capped at [`diagnostics::MAX_SHOWN`]:
    /// walked only as far as shown, unless such comments must be read for every one.
    fn shown<'a>(&self, found: impl Iterator<Item = Found<'a>>, total: usize) -> Vec<Diagnostic> {
        let markers = self.markers;
        if !(markers.modeline || markers.ignore || markers.disable) {
            return diagnostics::capped_counted(found, total);
        }
        let rope = self.text.rope();
        let documents: Vec<Range<usize>> = self.document_ranges().collect();
        let mut switched_off = super::modeline::SchemaSwitchedOff::new(rope, &documents);
        let mut ignored =
            rules::suppress::Ignored::new(rope, &documents, markers.ignore, markers.disable);
        let kept = found.filter(|d| {
            let at = d.range().start;
            !(markers.modeline && switched_off.hides(at, d.code())
                || ignored.hides(at, d.code().as_str(), d.message()))
        });
        diagnostics::capped_found(kept)
    }

    /// The fixes of the diagnostics that touch `range`, one per distinct fix. Nothing is
    /// validated: the diagnostics the client was sent are the ones fixed.
    pub fn quick_fixes(&self, range: Range<usize>) -> Vec<QuickFix> {
        self.quick_fixes_unless(range, &Cancel::default())
            .unwrap_or_default()
    }

    /// [`quick_fixes`](Self::quick_fixes), stopped when `cancel` is set.
    pub fn quick_fixes_unless(
        &self,
        range: Range<usize>,
        cancel: &Cancel,
    ) -> Result<Vec<QuickFix>, Cancelled> {
        let mut fixes = Grouped::default();
        let mut silencing = Grouped::default();
        for d in self
            .diagnostics()
            .into_iter()
            .filter(|d| d.range.start <= range.end && range.start <= d.range.end)
        {
            cancel.check()?;
            if rules::catalog::of_code(d.code).is_some() {
                let index = self.yaml.document_index_at(d.range.start);
                let document = self.yaml.documents()[index].range();
                for fix in rules::suppress::fixes(self.text.rope(), document, &d) {
                    silencing.add(fix, &d, false);
                }
            }
            if let Some(fix) = d.fix.as_deref() {
                fixes.add(fix.clone(), &d, true);
            }
        }
        let mut fixes = fixes.list;
        fixes.extend(silencing.list);
        Ok(fixes)
    }

    /// The file's symbols, at most [`MAX_ITEMS`] (the outermost first).
    pub fn symbols(&mut self) -> Vec<Symbol> {
        self.symbols_unless(&Cancel::default()).unwrap_or_default()
    }

    /// [`symbols`](Self::symbols), stopped when `cancel` is set.
    pub fn symbols_unless(&mut self, cancel: &Cancel) -> Result<Vec<Symbol>, Cancelled> {
        let rope = match &self.helm.template {
            Some(template) => &template.masked_rope,
            None => self.text.rope(),
        };
        symbols::document_symbols(&mut self.yaml, rope, &mut self.outlines, MAX_ITEMS, cancel)
    }

    /// [`symbols_unless`](Self::symbols_unless) as a [`SymbolAnswer`] (read in place). Its kept
    /// lines are left out for a Helm template, whose outline is of its masked text (columns
    /// after an action can differ from the text's).
    pub fn symbol_answer_unless(&mut self, cancel: &Cancel) -> Result<SymbolAnswer, Cancelled> {
        let (rope, masked) = match &self.helm.template {
            Some(template) => (&template.masked_rope, true),
            None => (self.text.rope(), false),
        };
        let answer =
            symbols::answer_symbols(&mut self.yaml, rope, &mut self.outlines, MAX_ITEMS, cancel)?;
        Ok(match masked {
            true => answer.without_kept_lines(),
            false => answer,
        })
    }

    /// The file's folding ranges, at most `limit` or [`MAX_ITEMS`] (see `folding::within_limit`).
    pub fn folds(&mut self, limit: usize) -> Vec<Fold> {
        self.folds_unless(limit, &Cancel::default())
            .unwrap_or_default()
    }

    /// [`folds`](Self::folds), stopped when `cancel` is set.
    pub fn folds_unless(&mut self, limit: usize, cancel: &Cancel) -> Result<Vec<Fold>, Cancelled> {
        let rope = match &self.helm.template {
            Some(template) => &template.masked_rope,
            None => self.text.rope(),
        };
        let limit = limit.min(MAX_ITEMS);
        folding::folding_ranges_within(&mut self.yaml, rope, &mut self.outlines, limit, cancel)
    }
}

/// Adds `fix` for `d`, or `d` to the same fix already there.
/// Quick fixes grouped by their edit, through a map: a search of the fixes so far per
/// diagnostic was quadratic.
#[derive(Default)]
struct Grouped {
    list: Vec<QuickFix>,
    at: std::collections::HashMap<Fix, usize>,
}

impl Grouped {
    fn add(&mut self, fix: Fix, d: &Diagnostic, preferred: bool) {
        match self.at.get(&fix) {
            Some(&at) => self.list[at].resolves.push(d.clone()),
            None => {
                self.at.insert(fix.clone(), self.list.len());
                self.list.push(QuickFix {
                    fix,
                    resolves: vec![d.clone()],
                    preferred,
                });
            }
        }
    }
}

/// The diagnostics of a publication kept in position order: the file's own layers' (sorted
/// for it) and the rules' (kept sorted).
struct Sorted<'a> {
    found: Vec<Found<'a>>,
    rules: Option<&'a RuleDiagnostics>,
}

impl<'a> Sorted<'a> {
    fn len(&self) -> usize {
        self.found.len() + self.rules.map_or(0, RuleDiagnostics::shown_len)
    }

    /// In position order: the rules' after the others' at the same place.
    fn iter(&self) -> impl Iterator<Item = Found<'a>> + '_ {
        let rules = self.rules.into_iter().flat_map(RuleDiagnostics::shown);
        diagnostics::merge_by_position(self.found.iter().copied(), rules)
    }

    /// Whether one of them with range `range` is `wanted` (looked up, not walked).
    fn any_at(&self, range: &Range<usize>, wanted: impl Fn(&Found<'a>) -> bool) -> bool {
        let key = (range.start, range.end);
        let first = self.found.partition_point(|d| {
            let at = d.range();
            (at.start, at.end) < key
        });
        self.found[first..]
            .iter()
            .take_while(|d| d.range() == *range)
            .any(&wanted)
            || self
                .rules
                .is_some_and(|rules| rules.shown_at(range.clone()).any(|d| wanted(&d)))
    }
}

/// Whether `d` is a rule's finding. A reference finding at the same place as one says it again
/// (kube-linter's `non-existent-service-account`, `dangling-service`…), so it is left out; the
/// rule's keeps kube-linter's name and is silenced by its annotation.
fn is_rule(d: &Found<'_>) -> bool {
    d.code().info().group == crate::diagnostic::codes::Group::Rule
}

#[cfg(test)]
#[path = "document_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "document_props.rs"]
mod props;

//! Unit tests of `document.rs`.

use super::*;
use crate::diagnostic::{Severity, codes};

const POD: &str = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\nspec:\n  containers:\n  - name: web\n    image: nginx\n";

fn catalog() -> Catalog {
    Catalog::with_builtin(std::iter::empty())
}

fn codes_of(document: &OpenDocument) -> Vec<String> {
    document
        .diagnostics()
        .iter()
        .map(|d| d.code.to_string())
        .collect()
}

fn at(text: &str, needle: &str) -> Range<usize> {
    let start = text.find(needle).unwrap();
    start..start + needle.len()
}

/// The position of byte `offset` of `text` (ASCII: columns are bytes).
fn position(text: &str, offset: usize) -> Position {
    let before = &text[..offset];
    let line = before.matches('\n').count() as u32;
    let column = before.len() - before.rfind('\n').map_or(0, |n| n + 1);
    Position::new(line, column as u32)
}

fn replace<'a>(text: &str, range: Range<usize>, with: &'a str) -> Change<'a> {
    Change {
        range: Some(position(text, range.start)..position(text, range.end)),
        text: with,
    }
}

#[test]
fn both_opens_give_the_same_document() {
    let text = format!("{POD}---\na: 1\na: 2\n---\nkind: Pod\napiVersion: v1\nspec:\n  bogus: 1\n");
    let catalog = catalog();
    let one_go = OpenDocument::open(&text, 3, &catalog);
    let mut ready = None;
    let split =
        OpenDocument::open_split(text.clone(), split::split(&text), 3, &catalog, |snapshot| {
            ready = Some(snapshot)
        });
    let ready = ready.expect("the text was handed over");
    assert_eq!(ready.rope.to_string(), text);
    assert_eq!(ready.version, 3);
    assert_eq!(&*ready.documents, &*split.snapshot().documents);
    assert_eq!(split.version(), 3);
    assert_eq!(one_go.diagnostics(), split.diagnostics());
    assert!(!one_go.diagnostics().is_empty());
    assert_eq!(split.document_ranges().count(), 3);
}

#[test]
fn an_edit_is_checked_and_validated() {
    let catalog = catalog();
    let mut document = OpenDocument::open(POD, 1, &catalog);
    assert!(document.diagnostics().is_empty());
    let image = at(POD, "image");
    document.change(2, [replace(POD, image, "imagez")], PositionEncoding::Utf16);
    assert_eq!(document.version(), 2);
    assert!(document.text().rope().to_string().contains("imagez: nginx"));
    // Not validated yet: the schema layer still has what it had, moved along.
    assert!(document.diagnostics().is_empty());
    document.validate(&catalog);
    let found = document.diagnostics();
    let edited = document.text().rope().to_string();
    let unknown = found
        .iter()
        .find(|d| d.code == codes::UNKNOWN_FIELD)
        .expect("the renamed key is unknown");
    assert_eq!(unknown.range, at(&edited, "imagez"));

    // A tab is a YAML error, found without validating.
    let name = at(&edited, "  name: a");
    document.change(
        3,
        [replace(&edited, name.start..name.start + 2, "\t")],
        PositionEncoding::Utf16,
    );
    assert!(
        codes_of(&document)
            .iter()
            .any(|c| c == codes::TAB_INDENTATION.as_str())
    );

    // The whole text replaced.
    document.change(
        4,
        [Change {
            range: None,
            text: "a: 1\na: 2\n",
        }],
        PositionEncoding::Utf16,
    );
    document.validate(&catalog);
    assert_eq!(codes_of(&document), [codes::DUPLICATE_KEY.as_str()]);
    assert_eq!(document.snapshot().rope.to_string(), "a: 1\na: 2\n");
}

#[test]
fn a_rebuild_gives_what_a_fresh_open_gives() {
    let catalog = catalog();
    let mut document = OpenDocument::open(POD, 1, &catalog);
    let image = at(POD, "image");
    document.change(2, [replace(POD, image, "imagez")], PositionEncoding::Utf8);
    document.rebuild();
    document.validate(&catalog);
    let fresh = OpenDocument::open(&document.text().rope().to_string(), 2, &catalog);
    assert_eq!(document.diagnostics(), fresh.diagnostics());
    assert_eq!(document.version(), 2);
}

#[test]
fn an_edit_that_makes_or_removes_an_action_switches_how_the_text_is_read() {
    let catalog = catalog();
    let mut document = OpenDocument::open(POD, 1, &catalog);
    let image = at(POD, "nginx");
    // Braces that are no action: YAML (a flow mapping where a string belongs).
    document.change(2, [replace(POD, image, "{{ x }}")], PositionEncoding::Utf8);
    document.validate(&catalog);
    assert!(document.template().is_none());
    assert!(!document.snapshot().templated);
    assert!(!document.diagnostics().is_empty());
    // The edit inside them makes an action: a template, and nothing to say.
    let text = document.text().rope().to_string();
    document.change(
        3,
        [replace(&text, at(&text, "x"), ".Values.image")],
        PositionEncoding::Utf8,
    );
    document.validate(&catalog);
    assert!(document.template().is_some());
    assert!(document.snapshot().templated);
    assert_eq!(document.diagnostics(), []);
    let text = document.text().rope().to_string();
    let action = at(&text, "{{ .Values.image }}");
    document.change(4, [replace(&text, action, "nginx")], PositionEncoding::Utf8);
    document.validate(&catalog);
    assert!(document.template().is_none());
    assert!(!document.snapshot().templated);
    assert_eq!(document.text().rope().to_string(), POD);
}

fn finding(range: Range<usize>) -> Diagnostic {
    Diagnostic {
        severity: Severity::Warning,
        ..Diagnostic::error(range, codes::DRY_RUN_WARNING, "from the cluster")
    }
}

/// A text whose YAML layer finds `count` duplicate keys.
fn duplicate_keys(count: usize) -> String {
    format!("a: 1\n{}", "a: 2\n".repeat(count))
}

#[test]
fn a_publication_copies_only_the_diagnostics_it_shows() {
    let mut document = OpenDocument::open(&duplicate_keys(20_000), 1, &catalog());
    let layer: Vec<Diagnostic> = (0..30_000).map(|i| finding(i..i + 1)).collect();
    document.set_layer(Layer::Kustomize, layer);
    let copied = diagnostics::copies();
    let shown = document.diagnostics();
    assert_eq!(shown.len(), diagnostics::MAX_SHOWN + 1);
    let more = 50_000 - diagnostics::MAX_SHOWN;
    let last = shown.last().unwrap();
    assert_eq!(last.code, codes::TOO_MANY);
    assert!(
        last.message.starts_with(&format!("{more} more")),
        "{}",
        last.message
    );
    assert_eq!(diagnostics::copies() - copied, diagnostics::MAX_SHOWN);
    // The YAML layer's come first, by position.
    assert!(
        shown[..diagnostics::MAX_SHOWN]
            .iter()
            .all(|d| d.code == codes::DUPLICATE_KEY)
    );
}

#[test]
fn ignored_findings_are_counted_out_and_only_the_shown_copied() {
    let text = format!(
        "# kube-lsp-ignore: {}\n{}",
        codes::DRY_RUN_WARNING,
        duplicate_keys(3_000)
    );
    let mut document = OpenDocument::open(&text, 1, &catalog());
    let layer: Vec<Diagnostic> = (0..30_000).map(|i| finding(i..i + 1)).collect();
    document.set_layer(Layer::Kustomize, layer);
    let copied = diagnostics::copies();
    let shown = document.diagnostics();
    let more = 3_000 - diagnostics::MAX_SHOWN;
    assert!(
        shown
            .last()
            .unwrap()
            .message
            .starts_with(&format!("{more} more"))
    );
    assert_eq!(diagnostics::copies() - copied, diagnostics::MAX_SHOWN);
}

#[test]
fn edits_of_a_text_without_markers_do_not_read_it_whole_again() {
    let text = duplicate_keys(20_000);
    let mut document = OpenDocument::open(&text, 1, &catalog());
    for (version, at) in [(2, 10), (3, 50_000), (4, 90_000)] {
        let current = document.text().rope().to_string();
        document.change(
            version,
            [replace(&current, at..at, "b")],
            PositionEncoding::Utf16,
        );
        document.diagnostics();
    }
    assert_eq!(document.markers().full_scans, 1);
    // A marker an edit writes is seen.
    let current = document.text().rope().to_string();
    let comment = "# kube-lsp-ignore: yaml-duplicate-key\n";
    document.change(
        5,
        [replace(&current, 0..0, comment)],
        PositionEncoding::Utf16,
    );
    assert!(document.markers().ignore);
    assert_eq!(document.markers().full_scans, 1);
}

#[test]
fn the_cluster_findings_of_the_current_version_are_merged_last() {
    let catalog = catalog();
    let text = format!("{POD}  bogus: 1\n");
    let mut document = OpenDocument::open(&text, 1, &catalog);
    let schema = document.diagnostics();
    assert_eq!(schema.len(), 1);
    assert!(document.set_cluster_findings(1, vec![finding(0..10)]));
    let merged = document.diagnostics();
    assert_eq!(merged.len(), 2);
    assert_eq!(merged[0], schema[0]);
    assert_eq!(merged[1], finding(0..10));
}

#[test]
fn a_cluster_result_for_an_old_version_is_not_merged() {
    let catalog = catalog();
    let mut document = OpenDocument::open(POD, 1, &catalog);
    assert!(document.set_cluster_findings(1, vec![finding(0..10)]));
    document.change(2, [replace(POD, 0..0, "# x\n")], PositionEncoding::Utf16);
    assert!(document.diagnostics().is_empty());
    // A result computed for version 1 that arrives after the edit is not kept either.
    assert!(!document.set_cluster_findings(1, vec![finding(0..10)]));
    assert!(document.diagnostics().is_empty());
    assert!(document.set_cluster_findings(2, vec![finding(4..14)]));
    assert_eq!(document.diagnostics(), [finding(4..14)]);
}

#[test]
fn a_reference_a_rule_reports_at_the_same_place_is_said_once() {
    let catalog = catalog();
    let text = POD.replace("spec:\n", "spec:\n  serviceAccountName: robot\n");
    let mut document = OpenDocument::open(&text, 1, &catalog);
    let config = std::sync::Arc::new(rules::Config::only("non-existent-service-account"));
    document.check_rules(&rules::Context::alone(config));
    let robot = at(&text, "robot");
    let missing = |range: Range<usize>| Diagnostic {
        severity: Severity::Warning,
        ..Diagnostic::error(range, codes::REFERENCE_MISSING, "missing")
    };
    let name = at(&text, "name: a");
    document.set_layer(
        Layer::References,
        vec![missing(robot.clone()), missing(name)],
    );
    let found: Vec<(&str, Range<usize>)> = document
        .diagnostics()
        .iter()
        .map(|d| (d.code.as_str(), d.range.clone()))
        .collect();
    // Rules come before the layers; the name's finding stays, the account's is the rule's.
    assert_eq!(
        found,
        [
            ("non-existent-service-account", robot),
            ("reference-missing", at(&text, "name: a")),
        ]
    );
}

#[test]
fn reference_findings_follow_edits_until_they_are_computed_again() {
    let catalog = catalog();
    let mut document = OpenDocument::open(POD, 1, &catalog);
    let name = at(POD, "name: a");
    let missing = Diagnostic {
        severity: Severity::Warning,
        ..Diagnostic::error(name.clone(), codes::REFERENCE_MISSING, "missing")
    };
    assert!(document.set_layer(Layer::References, vec![missing.clone()]));
    assert!(document.set_cluster_findings(1, vec![finding(0..1)]));
    assert_eq!(document.diagnostics()[0], missing, "before the cluster's");
    // An edit above moves it along.
    document.change(2, [replace(POD, 0..0, "# x\n")], PositionEncoding::Utf16);
    let moved = document.diagnostics();
    assert_eq!(moved.len(), 1, "the cluster's were for version 1");
    assert_eq!(moved[0].range, name.start + 4..name.end + 4);
    // An edit inside it drops it.
    let text = document.text().rope().to_string();
    let inside = at(&text, "name: a");
    document.change(
        3,
        [replace(&text, inside.end - 1..inside.end, "b")],
        PositionEncoding::Utf16,
    );
    assert!(document.diagnostics().is_empty());
}

#[test]
fn edits_since_the_references_were_set_are_touched_and_a_splice_replaces_only_there() {
    let catalog = catalog();
    let text = format!("{POD}---\n{}", POD.replace("name: a", "name: b"));
    let mut document = OpenDocument::open(&text, 1, &catalog);
    assert_eq!(document.touched(Layer::References), &Touched::Everything);
    let missing = |range: Range<usize>, message: &str| Diagnostic {
        severity: Severity::Warning,
        ..Diagnostic::error(range, codes::REFERENCE_MISSING, message)
    };
    let second = text.find("name: b").unwrap();
    let (first_image, second_image) = (at(&text, "nginx"), text.rfind("nginx").unwrap());
    document.set_layer(
        Layer::References,
        vec![
            missing(first_image.clone(), "first"),
            missing(second_image..second_image + 5, "second"),
        ],
    );
    assert_eq!(document.touched(Layer::References), &Touched::Nothing);
    // Two edits of the second document: one inserts, the other, before it, moves it on.
    document.change(
        2,
        [replace(&text, second..second, "x")],
        PositionEncoding::Utf8,
    );
    let edited = document.text().rope().to_string();
    document.change(
        3,
        [replace(&edited, second - 1..second - 1, "yz")],
        PositionEncoding::Utf8,
    );
    assert_eq!(
        document.touched(Layer::References),
        &Touched::Within(second - 1..second + 3)
    );
    // The second document's findings come again; the first's stay.
    let now = document.text().rope().to_string();
    let image = now.rfind("nginx").unwrap();
    let second_document = now.find("---").unwrap() + 4..now.len();
    let part = second_document.start..second_document.end;
    assert!(document.splice_layer(
        Layer::References,
        part.clone(),
        vec![missing(image..image + 5, "again")]
    ));
    assert_eq!(document.touched(Layer::References), &Touched::Nothing);
    let messages: Vec<(String, Range<usize>)> = document
        .diagnostics()
        .iter()
        .map(|d| (d.message.clone(), d.range.clone()))
        .collect();
    assert_eq!(
        messages,
        [
            ("first".to_string(), first_image),
            ("again".to_string(), image..image + 5)
        ]
    );
    assert!(!document.splice_layer(
        Layer::References,
        part,
        vec![missing(image..image + 5, "again")]
    ));
    // A whole new text touches everything.
    document.change(
        4,
        [Change {
            range: None,
            text: POD,
        }],
        PositionEncoding::Utf8,
    );
    assert_eq!(document.touched(Layer::References), &Touched::Everything);
}

#[test]
fn diagnostics_sharing_a_fix_make_one_quick_fix() {
    let catalog = catalog();
    // A Deployment without `selector` and `template`: one fix adds both.
    let text = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: a\nspec:\n  replicas: 1\n  imagePullPolicy: x\n";
    let document = OpenDocument::open(text, 1, &catalog);
    let found = document.diagnostics();
    let missing: Vec<_> = found.iter().filter(|d| d.code == codes::REQUIRED).collect();
    assert!(missing.len() >= 2, "{found:?}");
    let fixes = document.quick_fixes(0..text.len());
    let add = fixes
        .iter()
        .find(|f| f.resolves.iter().any(|d| d.code == codes::REQUIRED))
        .expect("a fix adding the missing fields");
    assert_eq!(add.resolves.len(), missing.len());
    assert_eq!(Some(&add.fix), missing[0].fix.as_deref());
    assert_eq!(
        fixes.len(),
        found
            .iter()
            .filter_map(|d| d.fix.as_deref())
            .fold(Vec::new(), |mut distinct, fix| {
                if !distinct.contains(&fix) {
                    distinct.push(fix);
                }
                distinct
            })
            .len()
    );
    // Only the diagnostics touching the range are fixed.
    let unknown = at(text, "imagePullPolicy");
    let here = document.quick_fixes(unknown.clone());
    assert!(here.iter().all(|f| {
        f.resolves
            .iter()
            .all(|d| d.range.start <= unknown.end && unknown.start <= d.range.end)
    }));
}

#[test]
fn symbols_and_folds() {
    let catalog = catalog();
    let text = format!("{POD}---\nkind: ConfigMap\ndata:\n  a: b\n  c: d\n");
    let mut document = OpenDocument::open(&text, 1, &catalog);
    let symbols = document.symbols();
    assert_eq!(symbols.len(), 2);
    assert_eq!(&*symbols[0].name, "Pod a");
    let folds = document.folds(usize::MAX);
    assert!(folds.contains(&Fold {
        start_line: 0,
        end_line: 7
    }));
    assert_eq!(document.folds(1).len(), 1);
}

#[test]
fn cancelled_work_stops_and_leaves_the_outlines_as_they_were() {
    let catalog = catalog();
    let text = format!("{POD}---\nkind: ConfigMap\ndata:\n  a: b\n  c: d\n");
    let mut document = OpenDocument::open(&text, 1, &catalog);
    document.validate(&catalog);
    let folds = document.folds(usize::MAX);
    let symbols = document.symbols();
    assert!(!document.diagnostics().is_empty());
    let cancelled = Cancel::default();
    cancelled.cancel();
    assert_eq!(document.symbols_unless(&cancelled), Err(Cancelled));
    assert_eq!(
        document.folds_unless(usize::MAX, &cancelled),
        Err(Cancelled)
    );
    assert_eq!(
        document.quick_fixes_unless(0..text.len(), &cancelled),
        Err(Cancelled)
    );
    // The stopped passes dropped no outline: the next answers are the same.
    assert_eq!(document.folds(usize::MAX), folds);
    assert_eq!(document.symbols(), symbols);
}

#[test]
fn an_open_checks_the_rules_on_the_span_trees_it_built() {
    let catalog = catalog();
    let pod = POD.replace("spec:\n", "spec:\n  serviceAccountName: robot\n");
    let text = format!("{pod}---\n{POD}---\na: [1\n");
    let config = std::sync::Arc::new(rules::Config::default());
    let mut opened =
        OpenDocument::open_split(text.clone(), split::split(&text), 1, &catalog, |_| ());
    opened.check_rules(&rules::Context::alone(config.clone()));
    // The two Pods were checked by the open; the broken document has no span tree.
    assert_eq!(opened.rules.last_checked, 1);
    let mut checked_later = OpenDocument::open(&text, 1, &catalog);
    checked_later.check_rules(&rules::Context::alone(config));
    assert_eq!(checked_later.rules.last_checked, 3);
    let found = opened.diagnostics();
    assert!(
        found
            .iter()
            .any(|d| d.code.as_str() == "non-existent-service-account")
    );
    assert_eq!(found, checked_later.diagnostics());
}

/// `count` Pods, each with findings of the default rules (a host PID, a missing account…) and
/// an unknown field.
fn pods(count: usize) -> String {
    (0..count)
        .map(|i| {
            format!(
                "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p{i}\nspec:\n  hostPID: true\n  serviceAccountName: robot\n  bogus: 1\n  containers:\n  - name: web\n    image: nginx\n---\n"
            )
        })
        .collect()
}

fn rule_codes(found: &[Diagnostic]) -> usize {
    found
        .iter()
        .filter(|d| rules::catalog::of_code(d.code).is_some())
        .count()
}

/// The publication as a stable sort of every layer's findings, capped, gives it.
fn sorted_and_capped(document: &OpenDocument) -> Vec<Diagnostic> {
    diagnostics::capped(diagnostics::merged_with_rules(
        &document.yaml,
        &document.schema,
        &document.rules,
        &[],
    ))
}

#[test]
fn a_publication_walks_only_the_rule_findings_it_shows() {
    let text = pods(2_000);
    let catalog = catalog();
    let mut document =
        OpenDocument::open_split(text.clone(), split::split(&text), 1, &catalog, |_| ());
    let on = Arc::new(rules::Config::default());
    document.check_rules(&rules::Context::alone(on.clone()));
    document.validate(&catalog);
    assert!(document.rules.shown_len() > 10 * diagnostics::MAX_SHOWN);
    let walked = rules::findings_walked();
    let shown = document.diagnostics();
    assert!(rules::findings_walked() - walked <= diagnostics::MAX_SHOWN + 1);
    assert_eq!(shown, sorted_and_capped(&document));
    assert!(shown.iter().any(|d| d.code == codes::UNKNOWN_FIELD));
    assert!(rule_codes(&shown) > 0);

    // An edit in the middle: its document alone is checked again, and the publication still
    // walks only what it shows.
    let name = at(&text, "name: p1000\n");
    let changed = replace(&text, name.end - 2..name.end - 1, "x");
    document.change(2, [changed], PositionEncoding::Utf8);
    document.check_rules(&rules::Context::alone(on.clone()));
    document.validate(&catalog);
    assert_eq!(document.rules.last_checked, 1);
    assert!(!document.rules.last_rematched, "the entries stay in place");
    let walked = rules::findings_walked();
    let shown = document.diagnostics();
    assert!(rules::findings_walked() - walked <= diagnostics::MAX_SHOWN + 1);
    assert_eq!(shown, sorted_and_capped(&document));

    // A new document: the entries are matched to the documents again by where they start, and
    // only it and the document it pushed down are checked.
    let text = format!("{}x{}", &text[..name.end - 2], &text[name.end - 1..]);
    let pod = at(
        &text,
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p1500\n",
    );
    let added = pods(1).replace("p0", "new");
    document.change(
        3,
        [replace(&text, pod.start..pod.start, &added)],
        PositionEncoding::Utf8,
    );
    document.check_rules(&rules::Context::alone(on.clone()));
    document.validate(&catalog);
    assert_eq!(document.rules.last_checked, 2);
    assert!(document.rules.last_rematched);
    let text = format!("{}{added}{}", &text[..pod.start], &text[pod.start..]);
    let mut fresh = OpenDocument::open(&text, 3, &catalog);
    fresh.check_rules(&rules::Context::alone(on));
    fresh.validate(&catalog);
    assert_eq!(document.diagnostics(), fresh.diagnostics());
}

/// A file too big for the questions about other objects shows the rules' findings from its
/// open: its first publication is complete, and the first refresh changes nothing. A smaller
/// file waits for the refresh, which answers the questions too.
#[test]
fn a_file_too_big_for_questions_shows_its_rule_findings_from_the_open() {
    let catalog = catalog();
    let on = Arc::new(rules::Config::default());
    let open = |count| {
        let text = pods(count);
        let document = OpenDocument::open_split_as(
            text.clone(),
            split::split(&text),
            1,
            &catalog,
            Role::Manifest,
            &on,
            |_| (),
        );
        (document, text)
    };
    let big = 2_001;
    assert!(!RuleDiagnostics::reads_objects(big));
    let (mut document, _) = open(big);
    let at_open = document.diagnostics();
    assert!(rule_codes(&at_open) > 0);
    let chosen = rules::shown_chosen();
    document.check_rules(&rules::Context::alone(on.clone()));
    assert_eq!(document.rules.last_checked, 0);
    assert_eq!(rules::shown_chosen(), chosen);
    assert_eq!(document.diagnostics(), at_open);

    let (mut document, _) = open(50);
    assert_eq!(rule_codes(&document.diagnostics()), 0);
    document.check_rules(&rules::Context::alone(on.clone()));
    assert!(rule_codes(&document.diagnostics()) > 50);
}

#[test]
fn only_the_rules_that_are_on_are_checked_and_kept() {
    let text = pods(50);
    let catalog = catalog();
    let host_pid = Arc::new(rules::Config::only("host-pid"));
    let mut document = OpenDocument::open_split_as(
        text.clone(),
        split::split(&text),
        1,
        &catalog,
        Role::Manifest,
        &host_pid,
        |_| (),
    );
    // Room reserved once for the file's YAML documents (the last one empty), not doubled while
    // the entries came in: the list stays as long as the file is open.
    assert_eq!(
        document.rules.entries_room(),
        document.document_ranges().count()
    );
    document.check_rules(&rules::Context::alone(host_pid.clone()));
    // The open's check is the one: one finding a Pod, of the one rule on.
    assert_eq!(document.rules.last_checked, 0);
    assert_eq!(document.rules.findings_kept(), (50, 0));
    assert_eq!(document.rules.shown_len(), 50);

    // Another configuration checks every document again and keeps only its rules' findings.
    let documents = document.document_ranges().count();
    let defaults = Arc::new(rules::Config::default());
    document.check_rules(&rules::Context::alone(defaults.clone()));
    assert_eq!(document.rules.last_checked, documents);
    // Every Pod asks whether ServiceAccount `robot` exists.
    let shown = document.rules.shown_len();
    assert_eq!(document.rules.findings_kept(), (shown, 50));
    document.validate(&catalog);
    let mut fresh = OpenDocument::open(&text, 1, &catalog);
    fresh.check_rules(&rules::Context::alone(defaults));
    fresh.validate(&catalog);
    assert_eq!(document.diagnostics(), fresh.diagnostics());
    assert!(rule_codes(&document.diagnostics()) > 50);

    document.check_rules(&rules::Context::alone(host_pid));
    assert_eq!(document.rules.last_checked, documents);
    assert_eq!(document.rules.findings_kept(), (50, 0));
}

#[test]
fn no_rule_on_means_nothing_checked_kept_or_walked() {
    let text = pods(50);
    let catalog = catalog();
    let on = Arc::new(rules::Config::default());
    let off = Arc::new(rules::Config::none());
    let mut document = OpenDocument::open_split_as(
        text.clone(),
        split::split(&text),
        1,
        &catalog,
        Role::Manifest,
        &off,
        |_| (),
    );
    assert_eq!(document.rules.documents_kept(), 0);
    document.check_rules(&rules::Context::alone(off.clone()));
    assert_eq!(document.rules.last_checked, 0);
    let name = at(&text, "name: p10\n");
    document.change(
        2,
        [replace(&text, name.end - 1..name.end - 1, "x")],
        PositionEncoding::Utf8,
    );
    document.check_rules(&rules::Context::alone(off.clone()));
    document.validate(&catalog);
    assert_eq!(document.rules.last_checked, 0);
    assert_eq!(document.rules.documents_kept(), 0);
    let walked = rules::findings_walked();
    assert_eq!(rule_codes(&document.diagnostics()), 0);
    assert_eq!(rules::findings_walked(), walked);

    // Turned on: every document is checked then, as an open with the rules on finds them.
    document.check_rules(&rules::Context::alone(on.clone()));
    assert_eq!(
        document.rules.last_checked,
        document.document_ranges().count()
    );
    let edited = document.text().rope().to_string();
    let mut fresh =
        OpenDocument::open_split(edited.clone(), split::split(&edited), 2, &catalog, |_| ());
    fresh.check_rules(&rules::Context::alone(on.clone()));
    fresh.validate(&catalog);
    assert!(rule_codes(&document.diagnostics()) > 50);
    assert_eq!(document.diagnostics(), fresh.diagnostics());

    // Every rule's severity off is the same as no rule: the findings are dropped.
    let mut severities_off = rules::Config::default();
    severities_off.set_severity("all", None);
    document.check_rules(&rules::Context::alone(Arc::new(severities_off)));
    assert_eq!(document.rules.last_checked, 0);
    assert_eq!(document.rules.documents_kept(), 0);
    assert_eq!(rule_codes(&document.diagnostics()), 0);
}

/// An open reads each document's span tree once, for the workspace index and the rules both,
/// and the rules get the objects a read of each document's tree gives, over the corpus too.
#[test]
fn an_open_reads_each_span_tree_once_for_the_index_and_the_rules() {
    use crate::workspace::document::{read_tree, trees_read};
    use crate::yaml::spans::SpanTree;
    let catalog = catalog();
    let on = Arc::new(rules::Config::default());
    let open = |text: &str| {
        let split = split::split(text);
        OpenDocument::open_split_as(
            text.to_string(),
            split,
            1,
            &catalog,
            Role::Manifest,
            &on,
            |_| (),
        )
    };
    // What the rules read of a document: its objects, not where they are.
    let objects_of = |text: &str| {
        let mut objects = read_tree(&SpanTree::parse_owned(text.to_string()).0);
        for object in &mut objects {
            object.range = 0..0;
            object.name_range = None;
        }
        objects
    };
    let compare = |text: &str, opened: &OpenDocument, what: &str| {
        let mut compared = 0;
        for (range, objects) in opened.rules.objects() {
            // Documents with errors keep no objects.
            if !objects.is_empty() {
                assert_eq!(objects, objects_of(&text[range]), "{what}");
                compared += 1;
            }
        }
        compared
    };
    // Three Pods, a List of a ConfigMap, and a document without a kind (its tree is read for
    // the rules alone: a kind may be written with escapes).
    let list = "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: c}\n  data: {k: v}\n";
    let escaped = "\"ki\\x6ed\": Secret\nmetadata: {name: s}\n";
    let text = format!("{}{list}---\n{escaped}", pods(3));
    let before = trees_read();
    let opened = open(&text);
    assert_eq!(trees_read() - before, 5);
    assert_eq!(compare(&text, &opened, "pods"), 5);

    let corpus = crate::yaml::corpus::yaml_files(&crate::yaml::corpus::root());
    let mut compared = 0;
    for path in corpus {
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        if text.len() <= 256 << 10 {
            compared += compare(&text, &open(&text), &path.display().to_string());
        }
    }
    assert!(compared > 200, "{compared} documents compared");
}

/// A small file's open starts no thread of its own (the rope, the index's entry); a big one
/// builds the rope and the index's entry beside the check and the rules' entries, with the same
/// result as on one thread.
#[test]
fn only_a_big_open_starts_threads() {
    let catalog = catalog();
    let text = format!("{}{POD}", pods(20));
    let before = open_threads();
    let small = OpenDocument::open_split(text.clone(), split::split(&text), 1, &catalog, |_| ());
    assert_eq!(open_threads() - before, 0);
    assert!(small.index_entry.is_some());

    let big = format!(
        "{text}---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: big\ndata:\n  k: |\n{}",
        "    line\n".repeat(40_000)
    );
    assert!(big.len() >= OPEN_THREADS_MIN);
    let before = open_threads();
    let mut opened = OpenDocument::open_split(big.clone(), split::split(&big), 1, &catalog, |_| ());
    assert_eq!(open_threads() - before, 2);
    let mut fresh = OpenDocument::open(&big, 1, &catalog);
    let config = Arc::new(rules::Config::default());
    for document in [&mut opened, &mut fresh] {
        document.check_rules(&rules::Context::alone(config.clone()));
        document.validate(&catalog);
    }
    assert_eq!(opened.diagnostics(), fresh.diagnostics());
    let entry = opened.take_index_entry().expect("read by the open");
    assert_eq!(entry.documents().len(), 22);
}

/// The index's entry an open reads from its span trees equals the one the index reads from the
/// text alone, over the corpus (argocd's big CRD is checked in two parts and grafted).
#[test]
fn the_index_entry_an_open_reads_equals_a_read_of_the_text() {
    use crate::workspace::open;
    let catalog = catalog();
    let (mut compared, mut actions) = (0, 0);
    let corpus = crate::yaml::corpus::yaml_files(&crate::yaml::corpus::root());
    // Braces in a value and after a syntax error, which are not read as a template.
    let braces = std::env::temp_dir().join(format!("kube-lsp-braces-{}.yaml", std::process::id()));
    std::fs::write(
        &braces,
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata:\n  k: \"{{\"\n---\nkind: [\n  {{\n",
    )
    .unwrap();
    for path in corpus.into_iter().chain([braces.clone()]) {
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let split = split::split(&text);
        let ranges = split.documents.clone();
        let mut document = OpenDocument::open_split(text.clone(), split, 1, &catalog, |_| ());
        let Some(entry) = document.take_index_entry() else {
            // Templates are read whole by the index, as the server does.
            assert!(
                crate::yaml::detect::template_action_in(&text).is_some(),
                "{path:?}"
            );
            continue;
        };
        let rope = Rope::from_str(&text);
        let slots = open::slots_and_actions(&rope, &ranges).0;
        let read = open::update(&[], Vec::new(), &slots, &rope).documents;
        assert_eq!(entry.slots(), &slots[..], "{path:?}");
        assert_eq!(entry.documents(), &read[..], "{path:?}");
        assert_eq!(
            entry.has_actions(),
            open::has_actions(&rope, &ranges),
            "{path:?}"
        );
        actions += usize::from(entry.has_actions());
        compared += 1;
    }
    std::fs::remove_file(&braces).ok();
    assert!(compared > 100, "{compared} files compared");
    assert!(actions > 0, "braces outside template actions");
}

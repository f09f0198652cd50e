use std::sync::Arc;

use ropey::Rope;

use super::*;
use crate::diagnostic::{Diagnostic, codes};
use crate::yaml::corpus;
use crate::yaml::file::YamlFile;

/// The rules' diagnostics of a text checked alone, with `config`.
pub(super) fn check(text: &str, config: Config) -> Vec<Diagnostic> {
    let rope = Rope::from_str(text);
    let file = YamlFile::open(&rope);
    let mut rules = RuleDiagnostics::default();
    rules.refresh(&file, &rope, &Context::alone(Arc::new(config)));
    rules.diagnostics().collect()
}

/// kube-linter's end-to-end tests (its `expected.json`) that run one check alone.
fn kube_linter_tests() -> Vec<(String, String, usize, Vec<String>)> {
    let expected = corpus::read("kube-linter/expected.json");
    let expected: serde_json::Value = serde_json::from_str(&expected).unwrap();
    expected
        .as_object()
        .unwrap()
        .values()
        .filter(|test| test["config"].is_null())
        .filter_map(|test| {
            Some((
                test["check"].as_str()?.to_string(),
                test["file"].as_str()?.to_string(),
                test["count"].as_u64()? as usize,
                test["messages"]
                    .as_array()?
                    .iter()
                    .filter_map(|m| m.as_str().map(str::to_string))
                    .collect(),
            ))
        })
        .collect()
}

/// Parity: every check we implement gives kube-linter's count on its fixture, run alone.
#[test]
fn each_check_alone_gives_kube_linters_count_on_its_fixture() {
    let mut compared = 0;
    let mut wrong = Vec::new();
    for (check_name, file, count, messages) in kube_linter_tests() {
        let Some(rule) = catalog::rule(&check_name) else {
            continue;
        };
        let text = corpus::read(&format!("kube-linter/checks/{file}"));
        let found = check(&text, Config::only(rule.name()));
        assert!(found.iter().all(|d| d.code == rule.code));
        if found.len() != count {
            wrong.push(format!(
                "{check_name}: kube-linter {count}, kube-lsp {}: {:#?}",
                found.len(),
                found
                    .iter()
                    .map(|d| (&text[d.range.clone()], &d.message))
                    .collect::<Vec<_>>()
            ));
        }
        // The same objects: the kinds kube-linter names in its messages (when it lists them
        // all), and the names where it gives them ("Job bad-job: …").
        if messages.len() == count {
            let mut theirs: Vec<String> = messages
                .iter()
                .map(|m| m.split(':').next().unwrap().to_string())
                .collect();
            let mut ours: Vec<String> = found
                .iter()
                .map(|d| {
                    let document = crate::yaml::split::split(&text)
                        .documents
                        .into_iter()
                        .find(|r| r.contains(&d.range.start))
                        .unwrap();
                    let objects = crate::workspace::document::read_documents(&Arc::new(
                        text[document].to_string(),
                    ));
                    let kind = objects[0].kind.as_deref().unwrap_or_default().to_string();
                    match (
                        theirs.iter().any(|m| m.contains(' ')),
                        objects[0].name.as_deref(),
                    ) {
                        (true, Some(name)) => format!("{kind} {name}"),
                        _ => kind,
                    }
                })
                .collect();
            theirs.sort();
            ours.sort();
            if theirs != ours {
                wrong.push(format!(
                    "{check_name}: kube-linter reports on {theirs:?}, kube-lsp on {ours:?}"
                ));
            }
        }
        compared += 1;
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    assert!(compared >= 55, "{compared} checks compared");
}

/// Every rule on (`priority-class-name` aside: its accepted classes are kube-linter's system
/// ones, which an application should not take).
fn every_rule() -> Config {
    let mut config = Config::none();
    config.set("all", true);
    config.set("priority-class-name", false);
    config
}

fn fixture(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/rules")
        .join(name);
    std::fs::read_to_string(path).unwrap()
}

/// The rules that are off work out no quick fix for what they would find (on the 10 MB file,
/// most of what they did).
#[test]
fn quick_fixes_are_worked_out_only_for_rules_that_are_on() {
    // One rule on, which offers no fix: the file is checked, and the rules that are off
    // would each have had a fix for it.
    let before = fix::worked_out();
    let found = check(UNHARDENED, Config::only("latest-tag"));
    assert!(found.iter().all(|d| d.code == codes::LATEST_TAG));
    assert_eq!(fix::worked_out() - before, 0, "the others are off");
    let before = fix::worked_out();
    let found = check(UNHARDENED, every_rule());
    let fixed = found.iter().filter(|d| d.fix.is_some()).count();
    let worked_out = fix::worked_out() - before;
    assert!(
        worked_out > 0 && worked_out <= fixed,
        "{worked_out}: {found:#?}"
    );
}

#[test]
fn a_hardened_deployment_gets_no_finding() {
    let text = fixture("hardened.yaml");
    let found = check(&text, every_rule());
    let shown: Vec<_> = found
        .iter()
        .map(|d| (d.code.as_str(), &text[d.range.clone()], &d.message))
        .collect();
    assert!(found.is_empty(), "{shown:#?}");
    // And the schema has nothing to say either.
    let everything = crate::features::diagnostics::text_diagnostics(
        &Rope::from_str(&text),
        &crate::schema::Catalog::builtin(),
    );
    assert!(everything.is_empty(), "{everything:#?}");
}

const UNHARDENED: &str = "\
# The storefront.
apiVersion: apps/v1
kind: Deployment
metadata:
    name: web   # keep this name
spec:
    replicas: 1
    selector:
        matchLabels:
            app: web
    template:
        metadata:
            labels:
                app: web
        spec:
            hostPID: true
            containers:
                # the main container
                -   name: web
                    image: nginx:1.27
                    ports:
                        -   containerPort: 8080
                            name: http
                    securityContext:
                        privileged: true
                        allowPrivilegeEscalation: true
                        capabilities:
                            add:
                                - NET_RAW
";

fn open(text: &str, config: &Arc<Config>) -> crate::features::document::OpenDocument {
    let catalog = crate::schema::Catalog::builtin();
    let mut document = crate::features::document::OpenDocument::open(text, 1, &catalog);
    document.check_rules(&Context::alone(config.clone()));
    document.validate(&catalog);
    document
}

/// `text` with `edits` (byte ranges of it) applied.
pub(super) fn apply(text: &str, edits: &[(std::ops::Range<usize>, String)]) -> String {
    let mut out = text.to_string();
    let mut edits = edits.to_vec();
    edits.sort_by_key(|(range, _)| std::cmp::Reverse(range.start));
    for (range, with) in edits {
        out.replace_range(range, &with);
    }
    out
}

/// Each quick fix, applied alone: the finding it fixes is gone, nothing new appears (no YAML or
/// schema problem, no other finding), and the file keeps its comments and indentation.
#[test]
fn each_quick_fix_resolves_its_finding_and_keeps_the_file_as_written() {
    let config = Arc::new(every_rule());
    let document = open(UNHARDENED, &config);
    let before = document.diagnostics();
    let fixes = document.quick_fixes(0..UNHARDENED.len());
    let fixes: Vec<_> = fixes.into_iter().filter(|f| f.preferred).collect();
    let titles: Vec<&str> = fixes.iter().map(|f| f.fix.title.as_str()).collect();
    for expected in [
        "Remove hostPID: true",
        "Remove privileged: true",
        "Set allowPrivilegeEscalation: false",
        "Remove NET_RAW from the added capabilities",
        "Drop all capabilities (drop: [ALL])",
        "Set readOnlyRootFilesystem: true",
        "Set runAsNonRoot: true",
        "Set resources.requests.cpu to 100m (a placeholder: adjust it)",
        "Set resources.limits.memory to 256Mi (a placeholder: adjust it)",
        "Add a livenessProbe (TCP check on the container's port)",
        "Add a readinessProbe (TCP check on the container's port)",
        "Set automountServiceAccountToken: false",
        "Set replicas: 3",
    ] {
        assert!(titles.contains(&expected), "{expected} not in {titles:#?}");
    }
    let count =
        |diagnostics: &[Diagnostic], code| diagnostics.iter().filter(|d| d.code == code).count();
    for fix in &fixes {
        let fixed = apply(UNHARDENED, &fix.fix.edits);
        let after = open(&fixed, &config).diagnostics();
        let title = &fix.fix.title;
        for d in &fix.resolves {
            assert!(
                count(&after, d.code) < count(&before, d.code),
                "{title}: {} still there\n{fixed}",
                d.code
            );
        }
        for d in &after {
            // More replicas rightly ask for anti-affinity.
            let expected = title == "Set replicas: 3" && d.code == codes::NO_ANTI_AFFINITY;
            let new = count(&after, d.code) > count(&before, d.code);
            assert!(
                !new || expected,
                "{title} brought {}: {}\n{fixed}",
                d.code,
                d.message
            );
        }
        for line in UNHARDENED
            .lines()
            .filter(|l| l.trim_start().starts_with('#') || l.contains(" # "))
        {
            assert!(fixed.contains(line), "{title} lost {line:?}");
        }
        // Lines it adds are indented in the file's steps of 4 spaces.
        for line in fixed.lines().filter(|l| !UNHARDENED.contains(*l)) {
            let indent = line.len() - line.trim_start().len();
            assert!(indent >= 4 && indent % 4 == 0, "{title}: {line:?}");
        }
    }
}

/// All fixes, one after the other (asking again after each, as an editor does), leave a file
/// that validates and has no finding a fix could resolve.
#[test]
fn applying_every_fix_in_turn_hardens_the_file() {
    let config = Arc::new(every_rule());
    let mut text = UNHARDENED.to_string();
    for _ in 0..40 {
        let document = open(&text, &config);
        let fixes = document.quick_fixes(0..text.len());
        let Some(fix) = fixes.into_iter().find(|f| f.preferred) else {
            break;
        };
        text = apply(&text, &fix.fix.edits);
    }
    let document = open(&text, &config);
    let left = document.diagnostics();
    assert!(left.iter().all(|d| d.fix.is_none()), "{left:#?}\n{text}");
    assert!(
        left.iter().all(|d| catalog::of_code(d.code).is_some()),
        "{left:#?}\n{text}"
    );
    for code in [
        codes::PRIVILEGED_CONTAINER,
        codes::HOST_PID,
        codes::RUN_AS_NON_ROOT,
        codes::NO_READ_ONLY_ROOT_FS,
        codes::DROP_NET_RAW_CAPABILITY,
    ] {
        assert!(left.iter().all(|d| d.code != code), "{code} left:\n{text}");
    }
    insta::assert_snapshot!(text);
}

#[test]
fn suppression_comments_and_annotations() {
    let text = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n  annotations:\n    ignore-check.kube-linter.io/latest-tag: reviewed\nspec:\n  # kube-lsp-ignore: host-pid\n  hostPID: true\n  hostIPC: true\n  containers:\n  - name: a\n    image: nginx\n";
    let mut config = Config::none();
    for name in ["host-pid", "host-ipc", "latest-tag"] {
        config.set(name, true);
    }
    let codes_of = |text: &str| {
        check(text, config.clone())
            .into_iter()
            .map(|d| d.code.as_str())
            .collect::<Vec<_>>()
    };
    assert_eq!(codes_of(text), ["host-ipc"]);
    // The quick fixes that silence it, applied, leave nothing.
    let shared = Arc::new(config.clone());
    let document = open(text, &shared);
    let silencing: Vec<_> = document
        .quick_fixes(0..text.len())
        .into_iter()
        .filter(|f| !f.preferred)
        .collect();
    let titles: Vec<&str> = silencing.iter().map(|f| f.fix.title.as_str()).collect();
    assert_eq!(
        titles,
        [
            "Ignore host-ipc here (# kube-lsp-ignore: comment)",
            "Ignore host-ipc in this whole document"
        ]
    );
    for fix in &silencing {
        let silenced = apply(text, &fix.fix.edits);
        assert!(codes_of(&silenced).is_empty(), "{silenced}");
    }
    assert!(apply(text, &silencing[0].fix.edits).contains("  # kube-lsp-ignore: host-pid\n  hostPID: true\n  # kube-lsp-ignore: host-ipc\n  hostIPC: true\n"));
    // A comment right above gets the check added to its list.
    let below = text
        .replace(
            "  hostPID: true\n  hostIPC: true\n",
            "  hostIPC: true\n  hostPID: true\n",
        )
        .replace("host-pid\n", "latest-tag\n");
    let document = open(&below, &shared);
    let fix = document
        .quick_fixes(0..below.len())
        .into_iter()
        .find(|f| f.fix.title.contains("here"))
        .unwrap();
    assert!(
        apply(&below, &fix.fix.edits)
            .contains("# kube-lsp-ignore: latest-tag, host-ipc\n  hostIPC: true")
    );
}

/// docs/rules.md describes every rule, and its parity table says what expected.json and the
/// parity test say.
#[test]
fn the_rules_docs_describe_every_rule_and_the_parity_table_is_right() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/rules.md");
    let docs = std::fs::read_to_string(path).unwrap();
    for rule in catalog::RULES {
        assert!(
            docs.contains(&format!("\n### {}\n", rule.name())),
            "docs/rules.md lacks {}",
            rule.name()
        );
    }
    for (check_name, file, count, _) in kube_linter_tests() {
        if catalog::rule(&check_name).is_none() {
            continue;
        }
        let row = format!("| `{check_name}` | `{file}` | {count} | {count} |");
        assert!(docs.contains(&row), "docs/rules.md lacks {row}");
    }
}

/// After each edit, the rules' findings of the open document (only the edited document checked
/// again, answers redone as needed) equal those of a fresh open of the same text.
#[test]
fn findings_after_edits_equal_a_fresh_check() {
    let config = Arc::new(every_rule());
    let mut files: Vec<String> = corpus::yaml_files(&corpus::root().join("kube-linter/checks"))
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect();
    files.push(corpus::read("real/microservices-demo.yaml"));
    files.push(fixture("hardened.yaml"));
    let fresh = |text: &str| {
        let mut found = open(text, &config).diagnostics();
        found.retain(|d| catalog::of_code(d.code).is_some());
        found.sort_by(|a, b| {
            (a.range.start, a.code, &a.message).cmp(&(b.range.start, b.code, &b.message))
        });
        found
    };
    let mut tried = 0;
    for text in files {
        let catalog = crate::schema::Catalog::builtin();
        let mut document = crate::features::document::OpenDocument::open(&text, 1, &catalog);
        document.check_rules(&Context::alone(config.clone()));
        let lines: Vec<&str> = text.lines().collect();
        let step = (lines.len() / 12).max(1);
        let mut version = 1;
        for line in (0..lines.len()).step_by(step) {
            let length = lines[line].len() as u32;
            let at = crate::text::Position::new(line as u32, length);
            let line_start = crate::text::Position::new(line as u32, 0);
            let next = crate::text::Position::new(line as u32 + 1, 0);
            // Append to a value, remove a line (a key, an item, a marker), split the document.
            for (range, insert) in [
                (at..at, "x"),
                (line_start..next, ""),
                (line_start..line_start, "---\n"),
            ] {
                version += 1;
                let change = crate::features::document::Change {
                    range: Some(range),
                    text: insert,
                };
                document.change(version, [change], crate::text::PositionEncoding::Utf8);
                document.check_rules(&Context::alone(config.clone()));
                let edited = document.text().rope().to_string();
                let mut found = document.diagnostics();
                found.retain(|d| catalog::of_code(d.code).is_some());
                found.sort_by(|a, b| {
                    (a.range.start, a.code, &a.message).cmp(&(b.range.start, b.code, &b.message))
                });
                assert_eq!(
                    found,
                    fresh(&edited),
                    "after {insert:?} at line {line}:\n{edited}"
                );
                tried += 1;
            }
        }
    }
    assert!(tried > 1000, "{tried} edits");
}

/// A reference to a name held by many files is answered by the first copy that has what it
/// asks for, not by reading every copy.
#[test]
fn a_reference_stops_at_the_first_copy_of_its_name_that_answers() {
    use super::references::{Ask, Detail, answer};
    use super::universe::Universe;
    use crate::workspace::Workspace;
    let workspace = Workspace::default();
    for number in 0..300 {
        workspace.open_text(
            std::path::Path::new(&format!("/w/copy-{number:03}/config.yaml")),
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  level: info\n",
        );
    }
    let index = workspace.read();
    let asking = |detail: Detail| Need {
        code: codes::REFERENCE_MISSING_KEY,
        range: 0..1,
        namespace: None,
        ask: Ask::Object {
            kind: "ConfigMap".into(),
            group: Some("".into()),
            api_version: Some("v1".into()),
            name: "settings".into(),
            detail,
            missing: "missing".to_string(),
        },
    };
    let universe = Universe::new(Some(&index), Some(std::path::Path::new("/w/pod.yaml")), []);
    assert_eq!(answer(&asking(Detail::Nothing), &universe), None);
    assert_eq!(universe.named_given(), 1);
    let key = |key: &str| Detail::Key(key.into(), format!("no key {key}"));
    assert_eq!(answer(&asking(key("level")), &universe), None);
    assert_eq!(universe.named_given(), 2);
    // A key no copy has: every copy is read, and the finding says so.
    let missing = answer(&asking(key("colour")), &universe).unwrap();
    assert_eq!(missing.message, "no key colour");
    assert_eq!(universe.named_given(), 2 + 300);
}

/// A Pod whose service account no object of the file defines.
const POD_WITH_ACCOUNT: &str = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  serviceAccountName: robot\n  containers:\n  - name: c\n    image: nginx\n";

#[test]
fn objects_are_read_only_for_files_whose_questions_are_answered() {
    let config = Arc::new(Config::only("non-existent-service-account"));
    let refresh = |copies: usize| {
        let text = vec![POD_WITH_ACCOUNT; copies].join("---\n");
        let rope = Rope::from_str(&text);
        let file = YamlFile::open(&rope);
        let mut rules = RuleDiagnostics::default();
        rules.refresh(&file, &rope, &Context::alone(config.clone()));
        let found = rules.diagnostics().count();
        let (_, asked) = rules.findings_kept();
        (rules.last_checked, rules.last_objects_read, asked, found)
    };
    // Answered: each Pod's account is looked for among the file's objects.
    assert_eq!(refresh(3), (3, 3, 3, 3));
    // Too many documents to answer: checked, but no object read, no question asked and
    // nothing answered.
    let many = document::MAX_ANSWERED_OBJECTS + 1;
    assert_eq!(refresh(many), (many, 0, 0, 0));
}

/// The questions to other objects are asked only with the objects read: without them, the
/// same findings and no question.
#[test]
fn questions_are_asked_only_where_objects_are_read() {
    for file in ["real/microservices-demo.yaml", "real/argocd-install.yaml"] {
        let (tree, _) = SpanTree::parse_owned(corpus::read(file));
        let asked = check_tree(&tree, &every_rule(), true);
        let alone = check_tree(&tree, &every_rule(), false);
        assert!(!asked.needs.is_empty(), "{file}");
        assert!(alone.needs.is_empty() && alone.objects.is_empty(), "{file}");
        assert_eq!(alone.findings, asked.findings, "{file}");
    }
}

/// An edit that changes an object answers again only the questions that read objects of its
/// kind (and those of the edited document).
#[test]
fn an_edited_object_answers_again_only_the_questions_about_its_kind() {
    let pods: String = (0..20)
        .map(|i| format!("apiVersion: v1\nkind: Pod\nmetadata:\n  name: p{i}\nspec:\n  serviceAccountName: robot\n  containers:\n  - name: web\n    image: nginx\n---\n"))
        .collect();
    let text = format!(
        "{pods}apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: robot\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  a: b\n"
    );
    let config = Arc::new(Config::default());
    let mut document = open(&text, &config);
    let missing_accounts = |document: &crate::features::document::OpenDocument| {
        document
            .diagnostics()
            .iter()
            .filter(|d| d.code.as_str() == "non-existent-service-account")
            .count()
    };
    assert_eq!(missing_accounts(&document), 0);
    let mut version = 1;
    let mut rename = |document: &mut crate::features::document::OpenDocument, from: &str| {
        let current = document.text().rope().to_string();
        let at = current.find(from).unwrap() + from.len();
        let position = crate::text::position_at(
            document.text().rope(),
            at,
            crate::text::PositionEncoding::Utf8,
        );
        version += 1;
        let change = crate::features::document::Change {
            range: Some(position..position),
            text: "x",
        };
        document.change(version, [change], crate::text::PositionEncoding::Utf8);
        document.check_rules(&Context::alone(config.clone()));
        let rules = document.rule_diagnostics();
        (rules.last_checked, rules.last_answered)
    };
    // No Pod asks about ConfigMaps.
    assert_eq!(rename(&mut document, "name: settings"), (1, 1));
    // Every Pod asks about the ServiceAccount.
    let account = "kind: ServiceAccount\nmetadata:\n  name: robot";
    assert_eq!(rename(&mut document, account), (1, 21));
    assert_eq!(missing_accounts(&document), 20);
    let edited = document.text().rope().to_string();
    let fresh = open(&edited, &config);
    let rule_findings = |found: Vec<Diagnostic>| -> Vec<Diagnostic> {
        found
            .into_iter()
            .filter(|d| catalog::of_code(d.code).is_some())
            .collect()
    };
    assert_eq!(
        rule_findings(document.diagnostics()),
        rule_findings(fresh.diagnostics())
    );
}

#[test]
fn a_service_monitor_looks_up_the_services_of_its_labels() {
    use super::references::{Ask, answer};
    use super::universe::Universe;
    use crate::workspace::Workspace;
    use crate::workspace::document::{Labels, Selector};
    let workspace = Workspace::default();
    for number in 0..300 {
        workspace.open_text(
            std::path::Path::new(&format!("/w/copy-{number:03}/service.yaml")),
            &format!(
                "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  namespace: shop\n  labels:\n    app: web-{}\n    tier: front\nspec:\n  ports:\n  - port: 80\n",
                number % 100
            ),
        );
    }
    let index = workspace.read();
    let monitor = |labels: &[(&str, &str)], namespaces: &[&str], any_namespace: bool| Need {
        code: codes::DANGLING_SERVICEMONITOR,
        range: 0..1,
        namespace: None,
        ask: Ask::Services {
            labels: Selector {
                match_labels: labels.iter().copied().collect::<Labels>(),
                match_expressions: Vec::new(),
            },
            namespaces: namespaces.iter().map(|n| (*n).into()).collect(),
            any_namespace,
        },
    };
    let universe = || {
        Universe::new(
            Some(&index),
            Some(std::path::Path::new("/w/monitor.yaml")),
            [],
        )
    };
    // Labels no Service has: the Services are read once for that label, and the finding
    // says so; asked again, they are not read again.
    for _ in 0..3 {
        let asking = universe();
        assert!(answer(&monitor(&[("app", "db")], &[], false), &asking).is_some());
        assert_eq!(asking.services_given(), 0);
    }
    assert_eq!(index.services_scanned(), 300);
    // Only the copies of the label asked for are read, up to the first that answers.
    let asking = universe();
    assert_eq!(
        answer(&monitor(&[("app", "web-7")], &[], false), &asking),
        None
    );
    assert_eq!(asking.services_given(), 1);
    let asking = universe();
    assert!(
        answer(
            &monitor(&[("app", "web-7")], &["elsewhere"], false),
            &asking
        )
        .is_some()
    );
    assert_eq!(asking.services_given(), 3);
    assert_eq!(index.services_scanned(), 2 * 300);
    // Without labels, any Service of the namespaces answers.
    let asking = universe();
    assert_eq!(answer(&monitor(&[], &["shop"], false), &asking), None);
    assert_eq!(asking.services_given(), 1);
}

#[test]
fn a_checked_document_keeps_no_spare_room() {
    // Kept per document while the file is open: a 16,730-document file kept four times the
    // questions' room it used.
    let text = corpus::read("real/microservices-demo.yaml");
    let (tree, _) = SpanTree::parse_owned(text);
    let checked = check_tree(&tree, &every_rule(), true);
    assert!(!checked.needs.is_empty() || !checked.findings.is_empty());
    assert_eq!(checked.needs.capacity(), checked.needs.len());
    assert_eq!(checked.findings.capacity(), checked.findings.len());
}

/// Every rule family asks an object for its Pod template: it is looked up once per object,
/// whatever the rules that are on, and the findings are those of every rule.
#[test]
fn an_object_s_pod_template_is_looked_up_once_for_all_rules() {
    let deployment = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\nspec:\n  template:\n    metadata:\n      labels: {app: d}\n    spec:\n      serviceAccountName: robot\n      containers:\n      - name: c\n        image: nginx:latest\n        ports: [{containerPort: 80}]\n";
    let text = [
        deployment,
        POD_WITH_ACCOUNT,
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: m\n",
    ]
    .join("---\n");
    let (tree, error) = crate::yaml::spans::SpanTree::parse(&text);
    assert!(error.is_none());
    for config in [Config::default(), every_rule()] {
        let before = object::pod_lookups();
        let checked = check_tree(&tree, &config, true);
        assert_eq!(object::pod_lookups() - before, 3, "one per object");
        assert!(!checked.findings.is_empty());
    }
}

/// A node's text and string as resolving the scalar gives them, for every scalar of the corpus
/// and tricky ones, read without resolving where the style and first byte decide.
#[test]
fn texts_and_strings_are_those_of_the_resolved_scalars() {
    use crate::yaml::scalar::{Resolved, resolve_scalar};
    let tricky = "a: [~, null, Null, NULL, '', \"\", '~', y, no, 0x1F, 1_000, .5, .inf, -.inf, +1, 2001-12-14, 1e3, 0o17, 'null', !!str 3, !!null x, !!int 7, !!int x, !!float 1, !custom v, ! 12, !!binary aGk=, |\n    block\n  , web, Deployment, 8080, '8080', tRue, on, 'on']\n";
    let mut texts: Vec<String> = corpus::documents().into_iter().map(|(_, t)| t).collect();
    texts.push(tricky.to_string());
    use crate::yaml::spans::SpanKind;
    let mut compared = 0;
    for text in &texts {
        let (tree, _) = SpanTree::parse(text);
        for node in tree
            .all()
            .filter(|n| matches!(n.kind(), SpanKind::Scalar(_)))
        {
            let node = Node(node);
            let SpanKind::Scalar(style) = node.0.kind() else {
                continue;
            };
            let resolved = node
                .0
                .value()
                .and_then(|v| resolve_scalar(v, style, node.0.tag()).ok());
            let value = node.0.value();
            let text = match &resolved {
                Some(Resolved::Null) | None => None,
                Some(_) => value,
            };
            let string = matches!(resolved, Some(Resolved::String(_)))
                .then_some(value)
                .flatten();
            assert_eq!(node.text(), text, "{:?}", node.0);
            assert_eq!(node.string(), string, "{:?}", node.0);
            compared += 1;
        }
    }
    assert!(compared > 50_000, "{compared}");
    // Untagged scalars whose style or first byte decide are not resolved.
    let (tree, _) =
        SpanTree::parse("kind: Deployment\nname: \"8080\"\nimage: busybox\nport: 8080\n");
    let root = Node(tree.root().unwrap());
    let before = crate::yaml::scalar::resolved_untagged();
    for key in ["kind", "name", "image"] {
        assert!(
            root.get(key).unwrap().text().is_some() && root.get(key).unwrap().string().is_some()
        );
    }
    assert_eq!(crate::yaml::scalar::resolved_untagged() - before, 0);
    assert_eq!(root.get("port").unwrap().string(), None);
    assert_eq!(crate::yaml::scalar::resolved_untagged() - before, 1);
}

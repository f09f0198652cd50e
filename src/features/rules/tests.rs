use std::sync::Arc;

use ropey::Rope;

use super::*;
use crate::diagnostic::Diagnostic;
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
                found.iter().map(|d| (&text[d.range.clone()], &d.message)).collect::<Vec<_>>()
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
                    let objects = crate::workspace::document::read_documents(&Arc::new(text[document].to_string()));
                    let kind = objects[0].kind.as_deref().unwrap_or_default().to_string();
                    match (theirs.iter().any(|m| m.contains(' ')), objects[0].name.as_deref()) {
                        (true, Some(name)) => format!("{kind} {name}"),
                        _ => kind,
                    }
                })
                .collect();
            theirs.sort();
            ours.sort();
            if theirs != ours {
                wrong.push(format!("{check_name}: kube-linter reports on {theirs:?}, kube-lsp on {ours:?}"));
            }
        }
        compared += 1;
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    assert!(compared >= 55, "{compared} checks compared");
}

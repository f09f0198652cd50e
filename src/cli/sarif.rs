//! `kube-lsp check --format sarif`: the report as SARIF 2.1.0, the format code-scanning pages
//! and CI systems read. One run; its tool lists the codes the results use (rules link to their
//! entry in docs/rules.md, other codes to docs/diagnostics.md); columns count characters.

use serde_json::{Value, json};

use super::check::Reported;
use crate::diagnostic::codes::ALL;
use crate::features::rules::catalog;

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// The SARIF log of `reported`.
pub fn log(reported: &[Reported]) -> Value {
    let mut used: Vec<&str> = reported.iter().map(|r| r.code).collect();
    used.sort_unstable();
    used.dedup();
    let rules: Vec<Value> = used.iter().map(|code| rule(code)).collect();
    let results: Vec<Value> = reported
        .iter()
        .map(|r| {
            json!({
                "ruleId": r.code,
                "ruleIndex": used.binary_search(&r.code).unwrap_or_default(),
                "level": level(r.severity),
                "message": {"text": r.message},
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": {"uri": uri(&r.path)},
                        "region": {
                            "startLine": r.line,
                            "startColumn": r.column,
                            "endLine": r.end_line,
                            "endColumn": r.end_column,
                        }
                    }
                }]
            })
        })
        .collect();
    json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "kube-lsp",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": env!("CARGO_PKG_REPOSITORY"),
                "rules": rules,
            }},
            "columnKind": "unicodeCodePoints",
            "results": results,
        }]
    })
}

/// A code's `reportingDescriptor`.
fn rule(code: &str) -> Value {
    let info = ALL.iter().find(|info| info.code == code);
    let meaning = info.map_or("", |info| info.meaning);
    let found = catalog::rule(code);
    let help = match found {
        Some(rule) => catalog::docs_url(rule.code).unwrap_or_default(),
        None => format!(
            "{}/blob/main/docs/diagnostics.md",
            env!("CARGO_PKG_REPOSITORY")
        ),
    };
    let mut descriptor = json!({
        "id": code,
        "shortDescription": {"text": meaning},
        "helpUri": help,
    });
    if let Some(rule) = found {
        descriptor["name"] = json!(code);
        descriptor["help"] = json!({"text": rule.remediation});
        descriptor["defaultConfiguration"] = json!({"level": level(rule.severity.as_str())});
        descriptor["properties"] = json!({"tags": [rule.group.name()]});
    }
    descriptor
}

/// SARIF's level for a severity word of `kube-lsp check`.
fn level(severity: &str) -> &'static str {
    match severity {
        "error" => "error",
        "warning" => "warning",
        _ => "note",
    }
}

/// A path as a relative URI reference (percent-encoding what a URI cannot hold).
fn uri(path: &str) -> String {
    let mut out = String::new();
    for byte in path.replace('\\', "/").bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' | b':' => {
                out.push(byte as char)
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_point_at_their_rule() {
        let reported = vec![Reported {
            path: "deploy/my app.yaml".to_string(),
            line: 3,
            column: 5,
            end_line: 3,
            end_column: 9,
            severity: "info",
            code: "latest-tag",
            source: "kube-lsp",
            message: "not pinned".to_string(),
        }];
        let log = log(&reported);
        let run = &log["runs"][0];
        assert_eq!(log["version"], "2.1.0");
        assert_eq!(run["tool"]["driver"]["rules"][0]["id"], "latest-tag");
        assert!(
            run["tool"]["driver"]["rules"][0]["helpUri"]
                .as_str()
                .unwrap()
                .ends_with("docs/rules.md#latest-tag")
        );
        let result = &run["results"][0];
        assert_eq!(
            (result["ruleIndex"].as_u64(), result["level"].as_str()),
            (Some(0), Some("note"))
        );
        let location = &result["locations"][0]["physicalLocation"];
        assert_eq!(location["artifactLocation"]["uri"], "deploy/my%20app.yaml");
        assert_eq!(location["region"]["startColumn"], 5);
    }
}

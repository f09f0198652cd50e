//! Required fields: the fields an object must have, and the quick fix that adds those missing.
//! Every "missing required field" diagnostic of a mapping carries the same fix, which adds all
//! of that mapping's missing fields (the server offers it once): at the end of the block mapping
//! ([`insert`]), with placeholder values ([`Writer::values`]).

use crate::diagnostic::Fix;
use crate::schema::openapi::SchemaNode;
use crate::schema::placeholder::Writer;
use crate::yaml::insert;
use crate::yaml::node::YamlNode;

/// Types whose objects the apiserver requires an `image` in (the OpenAPI schema does not say so).
const CONTAINERS: [&str; 2] = [
    "io.k8s.api.core.v1.Container",
    "io.k8s.api.core.v1.EphemeralContainer",
];

/// The fields an object of `schema` must have: the schema's `required`, and a container's image.
pub fn required_fields<'a>(schema: SchemaNode<'a>) -> Vec<&'a str> {
    let mut fields: Vec<&'a str> = schema.required().iter().map(|r| &**r).collect();
    if schema.name.is_some_and(|name| CONTAINERS.contains(&name)) && !fields.contains(&"image") {
        fields.push("image");
    }
    fields
}

/// The fix that adds `missing` fields to `mapping` (a block mapping whose schema is `schema`), if
/// its layout is plain enough to insert lines into.
pub fn fix<N: YamlNode>(mapping: N, schema: SchemaNode<'_>, missing: &[&str]) -> Option<Fix> {
    if missing.is_empty() {
        return None;
    }
    let place = insert::end_of_block_mapping(mapping)?;
    let lines = Writer::values().fields(schema, missing, place.column);
    let names = missing
        .iter()
        .map(|f| format!("`{f}`"))
        .collect::<Vec<_>>()
        .join(", ");
    let title = match missing {
        [_] => format!("Add missing required field {names}"),
        _ => format!("Add missing required fields {names}"),
    };
    Some(Fix {
        title,
        edits: vec![(place.at..place.at, place.text(&lines))],
    })
}

#[cfg(test)]
mod tests {
    use ropey::Rope;

    use crate::diagnostic::{Diagnostic, Fix, codes};
    use crate::schema::Catalog;
    use crate::schema::validate::{validate_document, validate_spans};
    use crate::yaml::lint;
    use crate::yaml::syntax::{self, RopeSource};

    /// The missing-field diagnostics of `text`, identical on the span tree and on tree-sitter's
    /// tree read from a `&str` and from a rope.
    fn required(text: &str) -> Vec<Diagnostic> {
        let catalog = Catalog::builtin();
        let rope = Rope::from_str(text);
        let tree = syntax::parse(&rope, 0..text.len(), None);
        let found = validate_document(&catalog, &tree, text);
        let on_rope = validate_document(&catalog, &tree, &RopeSource::new(&rope, 0..text.len()));
        assert_eq!(found, on_rope, "str vs rope source on:\n{text}");
        let spans = lint::check(text).tree.expect("the text parses");
        let on_spans = validate_spans(&catalog, &spans).diagnostics;
        assert_eq!(found, on_spans, "span tree vs tree-sitter on:\n{text}");
        found
            .into_iter()
            .filter(|d| d.code == codes::REQUIRED)
            .collect()
    }

    /// The fix `text`'s missing fields offer (every one of them the same), if any.
    fn the_fix(text: &str) -> Option<Fix> {
        let found = required(text);
        assert!(!found.is_empty(), "nothing missing in:\n{text}");
        let fix = found[0].fix.as_deref().cloned();
        for d in &found {
            assert_eq!(
                d.fix.as_deref(),
                fix.as_ref(),
                "one fix for all of {found:?}"
            );
        }
        fix
    }

    /// The title of the fix and the text after it, checked to be clean YAML with no field missing.
    fn fixed(text: &str) -> (String, String) {
        let fix = the_fix(text).unwrap_or_else(|| panic!("no fix for:\n{text}"));
        let mut out = text.to_string();
        let mut edits = fix.edits.clone();
        edits.sort_by_key(|(range, _)| std::cmp::Reverse(range.start));
        for (range, new_text) in edits {
            out.replace_range(range, &new_text);
        }
        assert_eq!(lint::check(&out).diagnostics, [], "YAML errors in:\n{out}");
        let still: Vec<String> = required(&out).into_iter().map(|d| d.message).collect();
        assert!(still.is_empty(), "{still:?} in:\n{out}");
        (fix.title, out)
    }

    const DEPLOYMENT: &str =
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 2\n";

    #[test]
    fn a_deployment_gets_its_selector_and_template() {
        let (title, out) = fixed(DEPLOYMENT);
        assert_eq!(title, "Add missing required fields `selector`, `template`");
        assert_eq!(
            out,
            format!("{DEPLOYMENT}  selector: {{}}\n  template: {{}}\n")
        );
        // Both diagnostics carry that one fix.
        assert_eq!(required(DEPLOYMENT).len(), 2);
    }

    const POD: &str = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n";

    #[test]
    fn a_container_gets_its_name_and_image_at_its_keys_column() {
        let text = format!(
            "{POD}  containers:\n  - ports:\n    - containerPort: 80\n  restartPolicy: Always\n"
        );
        let (title, out) = fixed(&text);
        assert_eq!(title, "Add missing required fields `name`, `image`");
        assert_eq!(
            out,
            text.replace("80\n", "80\n    name: \"\"\n    image: \"\"\n")
        );
    }

    #[test]
    fn the_image_the_apiserver_requires_is_added_too() {
        let text = format!("{POD}  containers:\n    - name: web\n");
        let (title, out) = fixed(&text);
        assert_eq!(title, "Add missing required field `image`");
        assert_eq!(out, format!("{text}      image: \"\"\n"));
    }

    #[test]
    fn required_objects_and_lists_are_spelled_out() {
        let (title, out) = fixed(&format!("{POD}  restartPolicy: Always\n"));
        assert_eq!(title, "Add missing required field `containers`");
        assert_eq!(
            out,
            format!(
                "{POD}  restartPolicy: Always\n  containers:\n  - name: \"\"\n    image: \"\"\n"
            )
        );
        let hpa = "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata:\n  name: web\nspec:\n  minReplicas: 1\n";
        let (_, out) = fixed(hpa);
        assert_eq!(
            out,
            format!("{hpa}  scaleTargetRef:\n    kind: \"\"\n    name: \"\"\n  maxReplicas: 0\n")
        );
    }

    #[test]
    fn int_or_string_ports_get_a_number() {
        let text = format!(
            "{POD}  containers:\n  - name: web\n    image: nginx\n    livenessProbe:\n      httpGet:\n        path: /healthz\n"
        );
        let (title, out) = fixed(&text);
        assert_eq!(title, "Add missing required field `port`");
        assert_eq!(out, format!("{text}        port: 0\n"));
    }

    #[test]
    fn the_root_object_gets_fields_at_column_zero() {
        let text = "apiVersion: certificates.k8s.io/v1\nkind: CertificateSigningRequest\nmetadata:\n  name: csr\n";
        let found = required(text);
        assert_eq!(
            found
                .iter()
                .map(|d| &text[d.range.clone()])
                .collect::<Vec<_>>(),
            ["CertificateSigningRequest"],
            "anchored on the kind"
        );
        let (title, out) = fixed(text);
        assert_eq!(title, "Add missing required field `spec`");
        assert_eq!(
            out,
            format!("{text}spec:\n  request: \"\"\n  signerName: \"\"\n")
        );
    }

    #[test]
    fn crlf_documents_stay_crlf() {
        let text = format!("{POD}  containers:\n  - name: web\n").replace('\n', "\r\n");
        let (_, out) = fixed(&text);
        assert_eq!(out, format!("{text}    image: \"\"\r\n"));
        // Without a final line break, the previous line's break is used.
        let text = text.trim_end_matches("\r\n");
        let (_, out) = fixed(text);
        assert_eq!(out, format!("{text}\r\n    image: \"\""));
    }

    #[test]
    fn a_text_without_final_line_break_gets_one_before_the_fields() {
        let text = format!("{POD}  containers:\n  - name: web");
        let (_, out) = fixed(&text);
        assert_eq!(out, format!("{text}\n    image: \"\""));
    }

    #[test]
    fn comments_and_the_rest_of_the_document_stay_in_place() {
        let text = format!(
            "{POD}  containers:\n  - name: web # café ☕\n    # more\n  restartPolicy: Always\n"
        );
        let (_, out) = fixed(&text);
        assert_eq!(out, text.replace("☕\n", "☕\n    image: \"\"\n"));
    }

    #[test]
    fn the_last_value_may_be_a_block_a_block_scalar_or_nothing() {
        let block = format!(
            "{POD}  containers:\n  - name: web\n    command:\n    - sh\n    - -c\n    - |\n      echo hi\n\n  restartPolicy: Always\n"
        );
        let (_, out) = fixed(&block);
        assert_eq!(
            out,
            block.replace("echo hi\n", "echo hi\n    image: \"\"\n"),
            "after the scalar's last line, before the blank line"
        );
        let kept = block.replace("- |", "- |+");
        assert_eq!(the_fix(&kept), None, "the blank line is the scalar's");
        let empty = format!("{POD}  containers:\n  - name: web\n    ports:\n");
        let (_, out) = fixed(&empty);
        assert_eq!(out, format!("{empty}    image: \"\"\n"));
        let crlf_scalar =
            format!("{POD}  containers:\n  - name: web\n    workingDir: |\n      /srv\n")
                .replace('\n', "\r\n");
        let (_, out) = fixed(&crlf_scalar);
        assert_eq!(out, format!("{crlf_scalar}    image: \"\"\r\n"));
    }

    #[test]
    fn the_last_value_may_be_a_flow_collection() {
        for value in [
            "{}",
            "[]",
            "[\"a\", b]",
            "{limits: {cpu: 1}} # flow",
            "[\n      \"x]\", # ] in a comment\n      'it''s ]', it's,\n      {a: [b]}\n    ]",
        ] {
            let key = if value.starts_with('{') {
                "resources"
            } else {
                "args"
            };
            let text = format!("{POD}  containers:\n  - name: web\n    {key}: {value}\n");
            let (_, out) = fixed(&text);
            assert_eq!(out, format!("{text}    image: \"\"\n"), "{value}");
        }
    }

    #[test]
    fn a_key_with_properties_sets_the_column() {
        let text = format!("{POD}  containers:\n  - &web name: web\n");
        let (_, out) = fixed(&text);
        assert_eq!(out, format!("{text}    image: \"\"\n"));
    }

    #[test]
    fn flow_mappings_and_unusual_layouts_get_no_fix() {
        for text in [
            format!("{POD}  containers:\n  - {{name: web}}\n"),
            format!("{POD}  containers:\n  - {{\n    name: web\n    }}\n"),
            format!("{POD}  containers:\n  - ? name\n    : web\n"),
        ] {
            assert_eq!(the_fix(&text), None, "{text}");
        }
    }

    #[test]
    fn empty_values_with_properties_end_the_mapping_on_their_line() {
        for value in ["!!null", "&ports", "!!null # none"] {
            let text = format!("{POD}  containers:\n  - name: web\n    ports: {value}\n");
            let (_, out) = fixed(&text);
            assert_eq!(out, format!("{text}    image: \"\"\n"));
        }
    }

    /// Every fix the corpus gets applies cleanly: the text stays valid YAML, the fields are no
    /// longer missing there, and no other schema error appears.
    #[test]
    fn fixes_on_the_corpus_leave_no_field_missing() {
        let catalog = Catalog::builtin();
        let mut applied = 0;
        for (at, text) in crate::yaml::corpus::documents() {
            let rope = Rope::from_str(&text);
            let tree = syntax::parse(&rope, 0..text.len(), None);
            let before = validate_document(&catalog, &tree, text.as_str());
            let mut fixes: Vec<&Fix> = Vec::new();
            for fix in before.iter().filter_map(|d| d.fix.as_deref()) {
                if fix.title.starts_with("Add missing") && !fixes.contains(&fix) {
                    fixes.push(fix);
                }
            }
            for fix in fixes {
                let mut out = text.clone();
                for (range, new_text) in fix.edits.iter().rev() {
                    out.replace_range(range.clone(), new_text);
                }
                assert_eq!(
                    lint::check(&out).diagnostics,
                    [],
                    "{at}: {}\n{out}",
                    fix.title
                );
                let rope = Rope::from_str(&out);
                let tree = syntax::parse(&rope, 0..out.len(), None);
                let after = validate_document(&catalog, &tree, out.as_str());
                let count =
                    |found: &[Diagnostic], code| found.iter().filter(|d| d.code == code).count();
                for code in [
                    codes::TYPE,
                    codes::ENUM,
                    codes::FORMAT,
                    codes::UNKNOWN_FIELD,
                ] {
                    assert!(
                        count(&after, code) <= count(&before, code),
                        "{at}: {code} after {}\n{out}",
                        fix.title
                    );
                }
                assert!(
                    count(&after, codes::REQUIRED) < count(&before, codes::REQUIRED),
                    "{at}: {}\n{out}",
                    fix.title
                );
                applied += 1;
            }
        }
        assert!(applied > 0, "the corpus has missing fields");
    }
}

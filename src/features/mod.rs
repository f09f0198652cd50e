//! Features: what an editor shows, computed from the parsed state, independent of the LSP wire
//! types (ranges are byte offsets into the file; the server converts them).

pub mod anchors;
pub mod cluster_diagnostics;
pub mod completion;
pub mod diagnostics;
pub mod document;
pub mod folding;
pub mod format;
pub mod helm;
pub mod hover;
pub mod kustomize;
pub mod links;
pub mod markers;
pub mod modeline;
pub mod outline;
pub mod references;
pub mod rules;
pub mod schema_diagnostics;
pub mod symbols;

/// Runs `feature` on every corpus document twice, first without tree-sitter trees (span trees
/// built for the call), then with every document's tree, and checks both answers agree once
/// `normalize`d. Returns how many items were compared.
#[cfg(test)]
fn same_on_both_trees<T: PartialEq + std::fmt::Debug>(
    feature: impl Fn(&mut crate::yaml::file::YamlFile, &ropey::Rope) -> Vec<T>,
    normalize: impl Fn(&str, Vec<T>) -> Vec<T>,
) -> usize {
    let mut compared = 0;
    for (_, text) in crate::yaml::corpus::documents() {
        let rope = ropey::Rope::from_str(&text);
        let mut file = crate::yaml::file::YamlFile::open(&rope);
        let from_spans = normalize(&text, feature(&mut file, &rope));
        for index in 0..file.documents().len() {
            file.tree(&rope, index);
        }
        let from_trees = normalize(&text, feature(&mut file, &rope));
        assert_eq!(from_spans, from_trees, "{text}");
        compared += from_spans.len();
    }
    compared
}

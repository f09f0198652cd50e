//! Unit tests of `index.rs`.

use super::*;
use crate::workspace::document::read_documents;

/// One file of many ConfigMaps and one Deployment that refers to one of them.
fn big_file() -> File {
    let mut text = String::new();
    for n in 0..500 {
        text.push_str(&format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: config-{n}}}\n---\n"
        ));
    }
    text.push_str("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  template:\n    spec:\n      containers:\n      - name: web\n        envFrom:\n        - configMapRef: {name: config-7}\n");
    File::new(Origin::Disk, read_documents(&Arc::new(text)))
}

#[test]
fn lookups_visit_only_the_documents_of_their_key() {
    let mut index = Index::default();
    let path = Path::new("/w/all.yaml");
    let before = postings_written();
    index.insert(path, big_file());
    // Two kinds and one target: each key's documents are posted at once.
    assert_eq!(postings_written() - before, 3);
    let postings = |map: &HashMap<Box<str>, Postings>, key: &str| {
        map[key].values().map(|p| p.documents.len()).sum::<usize>()
    };
    assert_eq!(postings(&index.by_kind, "Deployment"), 1);
    assert_eq!(postings(&index.by_kind, "ConfigMap"), 500);
    assert_eq!(postings(&index.by_target, "config-7"), 1);
    let named: usize = index.by_name["config-7"]
        .iter()
        .map(|(_, p)| p.documents.len())
        .sum();
    assert_eq!(named, 1);
    // A name in one file holds room for one file, not the four a first insert reserves.
    assert_eq!(index.by_name["config-7"].capacity(), 1);

    let deployments: Vec<_> = index.of_kind("Deployment", None, Namespace::Any).collect();
    assert_eq!(deployments.len(), 1);
    assert_eq!(deployments[0].document.name.as_deref(), Some("web"));
    let config = index.named("ConfigMap", Some(""), Namespace::Any, "config-7");
    assert_eq!(config.count(), 1);
    assert_eq!(index.referring("config-7").count(), 1);

    // Written again, the file's postings are replaced, not added to.
    index.insert(path, big_file());
    assert_eq!(postings(&index.by_kind, "Deployment"), 1);
    index.remove(path);
    assert!(index.by_kind.is_empty() && index.by_name.is_empty());
}

#[test]
fn a_file_taken_for_update_hands_its_documents_over_without_a_copy() {
    let mut index = Index::default();
    let path = Path::new("/w/all.yaml");
    index.insert(path, big_file());
    let held = index.file(path).unwrap().documents.as_ptr();
    let taken = index.take_for_update(path).expect("the file was indexed");
    // The postings let go of the file: its documents are the ones the index held.
    assert_eq!(taken.documents.as_ptr(), held);
    assert!(index.file(path).is_none() && index.by_kind.is_empty());
    assert_eq!(
        index
            .named("ConfigMap", None, Namespace::Any, "config-7")
            .count(),
        0
    );
}

#[test]
fn services_are_looked_up_by_their_labels() {
    let mut index = Index::default();
    let file = |app: &str| {
        let text = format!(
            "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  labels: {{app: {app}}}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  labels: {{app: {app}}}\n"
        );
        File::new(Origin::Disk, read_documents(&Arc::new(text)))
    };
    for number in 0..50 {
        index.insert(
            Path::new(&format!("/w/{number}.yaml")),
            file(&format!("a{number}")),
        );
    }
    let labelled = |index: &Index, app: &str| index.services_labelled("app", app).count();
    // The Service of that label alone, not the ConfigMap beside it.
    assert_eq!(labelled(&index, "a7"), 1);
    assert_eq!(labelled(&index, "b"), 0);
    // Written again with another label, the file's Service is found by the new one only.
    index.insert(Path::new("/w/7.yaml"), file("b"));
    assert_eq!((labelled(&index, "a7"), labelled(&index, "b")), (0, 1));
    for number in 0..50 {
        index.remove(Path::new(&format!("/w/{number}.yaml")));
    }
    assert_eq!(index.services_labelled("app", "b").count(), 0);
}

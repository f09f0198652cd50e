//! The file a benchmark reads: its first argument that is not an option, else the corpus'
//! argocd install.yaml.

/// The path and text of the file to measure.
pub fn file_argument() -> (String, String) {
    let path = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-'))
        .unwrap_or_else(|| {
            concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../shared/corpus/real/argocd-install.yaml"
            )
            .into()
        });
    let text = std::fs::read_to_string(&path).expect("read the file");
    (path, text)
}

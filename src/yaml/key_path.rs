//! Key paths: a node's place in a document, from its root (`spec.containers[0].image`), and
//! their dotted form as the API server writes it in field errors.

use std::fmt;

/// One step of a path.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Segment {
    Key(String),
    Index(usize),
}

/// Path segments as a pattern of keys, any item of a sequence being `[]`
/// (`["spec", "ports", "[]", "targetPort"]`): what checks about a field compare with.
pub fn pattern(segments: &[Segment]) -> Vec<&str> {
    segments
        .iter()
        .map(|segment| match segment {
            Segment::Key(key) => key.as_str(),
            Segment::Index(_) => "[]",
        })
        .collect()
}

/// A path from a document's root.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct KeyPath(pub Vec<Segment>);

impl KeyPath {
    pub fn push_key(&mut self, key: impl Into<String>) {
        self.0.push(Segment::Key(key.into()));
    }

    pub fn push_index(&mut self, index: usize) {
        self.0.push(Segment::Index(index));
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Parses the dotted form used by the API server's field errors: `spec.containers[0].image`,
    /// `metadata.labels[app.kubernetes.io/name]`, `metadata.annotations['a.b/c']`.
    pub fn parse(text: &str) -> Self {
        let mut path = KeyPath::default();
        let mut rest = text.trim().trim_start_matches('.');
        while !rest.is_empty() {
            if let Some(inner) = rest.strip_prefix('[') {
                let close = inner.find(']').unwrap_or(inner.len());
                let item = inner[..close].trim_matches(['\'', '"']);
                match item.parse::<usize>() {
                    Ok(index) => path.push_index(index),
                    Err(_) => path.push_key(item),
                }
                rest = inner.get(close + 1..).unwrap_or("").trim_start_matches('.');
            } else {
                let end = rest.find(['.', '[']).unwrap_or(rest.len());
                path.push_key(&rest[..end]);
                rest = rest[end..].trim_start_matches('.');
            }
        }
        path
    }
}

impl fmt::Display for KeyPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, segment) in self.0.iter().enumerate() {
            match segment {
                Segment::Key(key) if key.contains(['.', '[', ']']) => write!(f, "[{key}]")?,
                Segment::Key(key) if i == 0 => write!(f, "{key}")?,
                Segment::Key(key) => write!(f, ".{key}")?,
                Segment::Index(index) => write!(f, "[{index}]")?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_display_api_server_paths() {
        let p = KeyPath::parse("spec.template.spec.containers[0].image");
        assert_eq!(p.to_string(), "spec.template.spec.containers[0].image");
        let p = KeyPath::parse("metadata.labels[app.kubernetes.io/name]");
        assert_eq!(
            p.0.last(),
            Some(&Segment::Key("app.kubernetes.io/name".into()))
        );
    }
}

//! Big results written as JSON text by their handler, handed around tower-lsp-server's response
//! path.
//!
//! tower-lsp-server makes a handler's result a `serde_json::Value` tree (a map per object, a
//! string per key), serializes the response, and drops the tree: for a big file's outline
//! (5,000 symbols, 13 objects each) that costs more than finding the symbols. A handler that
//! writes its result's JSON itself returns a placeholder instead ([`ResultHandoff::hand_off`]:
//! a value of the result's type holding a marker no client text can look like); the output
//! task swaps the placeholder's JSON for the text as it cuts tower-lsp-server's frames
//! ([`ResultHandoff::swap_in`]).
//!
//! tower-lsp-server writes a successful response as `{"jsonrpc":"2.0","result":…,"id":…}`
//! (fields in that order, compact): the placeholder is looked for right after `"result":`.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde::Serialize;

use super::handoff::Markers;

/// How a successful response's body starts, up to its result.
const RESULT_AT: &[u8] = br#"{"jsonrpc":"2.0","result":"#;

/// Results handed off and not written yet beyond this many are dropped, oldest first (their
/// responses never came: cancelled requests).
const KEPT: usize = 16;

#[derive(Debug)]
pub struct ResultHandoff {
    markers: Markers,
    /// Each placeholder's JSON (as tower-lsp-server writes it) and the result's JSON text.
    results: Mutex<Vec<(Vec<u8>, Vec<u8>)>>,
    waiting: AtomicUsize,
}

impl Default for ResultHandoff {
    fn default() -> Self {
        Self {
            markers: Markers::new("result"),
            results: Mutex::default(),
            waiting: AtomicUsize::new(0),
        }
    }
}

impl ResultHandoff {
    /// Keeps `json` (a result's JSON text) and returns the placeholder `placeholder` makes
    /// from a marker, which the handler returns as its result.
    pub fn hand_off<T: Serialize>(
        &self,
        json: Vec<u8>,
        placeholder: impl FnOnce(String) -> T,
    ) -> T {
        let value = placeholder(self.markers.next().1);
        let written = serde_json::to_value(&value)
            .and_then(|value| serde_json::to_vec(&value))
            .unwrap_or_default();
        let mut results = self.results.lock().unwrap_or_else(|e| e.into_inner());
        if results.len() >= KEPT {
            results.remove(0);
        }
        results.push((written, json));
        self.waiting.store(results.len(), Ordering::SeqCst);
        value
    }

    /// `frame` (a whole frame, header and body, as tower-lsp-server wrote it) with a handed-off
    /// result in place of its placeholder, if it holds one.
    pub fn swap_in(&self, frame: Vec<u8>) -> Vec<u8> {
        if self.waiting.load(Ordering::SeqCst) == 0 {
            return frame;
        }
        let Some(body_at) = frame
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .map(|at| at + 4)
        else {
            return frame;
        };
        let Some(after) = frame[body_at..].strip_prefix(RESULT_AT) else {
            return frame;
        };
        let mut results = self.results.lock().unwrap_or_else(|e| e.into_inner());
        let Some(index) = results
            .iter()
            .position(|(placeholder, _)| after.starts_with(placeholder))
        else {
            return frame;
        };
        let (placeholder, json) = results.remove(index);
        self.waiting.store(results.len(), Ordering::SeqCst);
        drop(results);
        let rest = &after[placeholder.len()..];
        let length = RESULT_AT.len() + json.len() + rest.len();
        let mut swapped = format!("Content-Length: {length}\r\n\r\n").into_bytes();
        swapped.reserve(length);
        swapped.extend_from_slice(RESULT_AT);
        swapped.extend_from_slice(&json);
        swapped.extend_from_slice(rest);
        swapped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(body: &str) -> Vec<u8> {
        format!("Content-Length: {}\r\n\r\n{body}", body.len()).into_bytes()
    }

    #[test]
    fn a_placeholder_in_a_response_becomes_the_handed_off_text() {
        let results = ResultHandoff::default();
        let untouched = frame(r#"{"jsonrpc":"2.0","result":["a"],"id":1}"#);
        assert_eq!(results.swap_in(untouched.clone()), untouched);
        let placeholder = results.hand_off(br#"[{"x":1}]"#.to_vec(), |marker| vec![marker]);
        let written = serde_json::to_string(&placeholder).unwrap();
        let body = format!(r#"{{"jsonrpc":"2.0","result":{written},"id":7}}"#);
        // Another response goes through as it is.
        assert_eq!(results.swap_in(untouched.clone()), untouched);
        assert_eq!(
            results.swap_in(frame(&body)),
            frame(r#"{"jsonrpc":"2.0","result":[{"x":1}],"id":7}"#)
        );
        // Swapped once: the same frame again is left alone.
        assert_eq!(results.swap_in(frame(&body)), frame(&body));
    }

    #[test]
    fn results_whose_response_never_came_are_not_kept_forever() {
        let results = ResultHandoff::default();
        for _ in 0..KEPT * 3 {
            results.hand_off(vec![b'1'; 1000], |marker| marker);
        }
        assert_eq!(results.results.lock().unwrap().len(), KEPT);
    }
}

//! Big results and publications written as JSON text by the server, handed around
//! tower-lsp-server's message path.
//!
//! tower-lsp-server makes a handler's result, and a notification's parameters, a
//! `serde_json::Value` tree (a map per object, a string per key), serializes the message, and
//! drops the tree: for a big file's outline (5,000 symbols, 13 objects each) or its 1,000
//! diagnostics that costs more than finding them. The server writes their JSON itself and gives
//! tower-lsp-server a placeholder instead ([`ResultHandoff::hand_off`],
//! [`ResultHandoff::hand_off_publication`]: a value of the right type holding a marker no client
//! text can look like); the output task swaps the placeholder's JSON for the text as it cuts
//! tower-lsp-server's frames ([`ResultHandoff::swap_in`]).
//!
//! tower-lsp-server writes a successful response as `{"jsonrpc":"2.0","result":…,"id":…}` and
//! a notification as `{"jsonrpc":"2.0","method":…,"params":…}` (fields in that order, compact):
//! the placeholder is looked for right after `"result":` or the publication's `"params":`.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde::Serialize;

use super::handoff::Markers;

/// How a successful response's body starts, up to its result.
const RESULT_AT: &[u8] = br#"{"jsonrpc":"2.0","result":"#;

/// How a diagnostics publication's body starts, up to its parameters.
const PUBLICATION_AT: &[u8] =
    br#"{"jsonrpc":"2.0","method":"textDocument/publishDiagnostics","params":"#;

/// Room a result's JSON keeps after its text for the frame around it (header, the response's
/// start and end): [`ResultHandoff::swap_in`] then writes the frame in the JSON's own buffer
/// instead of a copy of it (a big outline's is hundreds of KB).
pub const FRAME_ROOM: usize = 128;

/// Results handed off and not written yet beyond this many are dropped, oldest first (their
/// responses never came: cancelled requests).
const KEPT: usize = 16;

/// Publications are always written (one at a time, in order): more than this many waiting means
/// tower-lsp-server dropped some (the server is exiting); the oldest are forgotten.
const KEPT_PUBLICATIONS: usize = 64;

/// Each placeholder's JSON (as tower-lsp-server writes it) and the JSON text to write instead.
type Handed = Vec<(Vec<u8>, Vec<u8>)>;

#[derive(Debug)]
pub struct ResultHandoff {
    markers: Markers,
    results: Mutex<Handed>,
    publications: Mutex<Handed>,
    waiting: AtomicUsize,
}

impl Default for ResultHandoff {
    fn default() -> Self {
        Self {
            markers: Markers::new("result"),
            results: Mutex::default(),
            publications: Mutex::default(),
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
        self.keep(&self.results, KEPT, json, placeholder)
    }

    /// [`hand_off`](Self::hand_off) for the parameters of a `textDocument/publishDiagnostics`
    /// notification.
    pub fn hand_off_publication<T: Serialize>(
        &self,
        json: Vec<u8>,
        placeholder: impl FnOnce(String) -> T,
    ) -> T {
        self.keep(&self.publications, KEPT_PUBLICATIONS, json, placeholder)
    }

    fn keep<T: Serialize>(
        &self,
        handed: &Mutex<Handed>,
        kept: usize,
        json: Vec<u8>,
        placeholder: impl FnOnce(String) -> T,
    ) -> T {
        let value = placeholder(self.markers.next().1);
        let written = serde_json::to_value(&value)
            .and_then(|value| serde_json::to_vec(&value))
            .unwrap_or_default();
        let mut handed = lock(handed);
        if handed.len() >= kept {
            handed.remove(0);
            self.waiting.fetch_sub(1, Ordering::SeqCst);
        }
        handed.push((written, json));
        self.waiting.fetch_add(1, Ordering::SeqCst);
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
        let body = &frame[body_at..];
        let (start, handed) = if body.starts_with(RESULT_AT) {
            (RESULT_AT, &self.results)
        } else if body.starts_with(PUBLICATION_AT) {
            (PUBLICATION_AT, &self.publications)
        } else {
            return frame;
        };
        let after = &body[start.len()..];
        let mut handed = lock(handed);
        let Some(index) = handed
            .iter()
            .position(|(placeholder, _)| after.starts_with(placeholder))
        else {
            return frame;
        };
        let (placeholder, json) = handed.remove(index);
        self.waiting.fetch_sub(1, Ordering::SeqCst);
        drop(handed);
        let rest = &after[placeholder.len()..];
        let length = start.len() + json.len() + rest.len();
        let header = format!("Content-Length: {length}\r\n\r\n");
        // In the JSON's buffer: moved up in its room (grown only when the room is short).
        let mut swapped = json;
        let text = swapped.len();
        let before = header.len() + start.len();
        swapped.reserve_exact(before + rest.len());
        swapped.resize(before + text, 0);
        swapped.copy_within(..text, before);
        swapped[..header.len()].copy_from_slice(header.as_bytes());
        swapped[header.len()..before].copy_from_slice(start);
        swapped.extend_from_slice(rest);
        swapped
    }
}

fn lock(handed: &Mutex<Handed>) -> std::sync::MutexGuard<'_, Handed> {
    handed.lock().unwrap_or_else(|e| e.into_inner())
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
    fn a_result_with_room_becomes_its_frame_in_its_own_buffer() {
        let results = ResultHandoff::default();
        let mut json = Vec::with_capacity(9 + FRAME_ROOM);
        json.extend_from_slice(br#"[{"x":1}]"#);
        let buffer = json.as_ptr();
        let placeholder = results.hand_off(json, |marker| vec![marker]);
        let written = serde_json::to_string(&placeholder).unwrap();
        let body = format!(r#"{{"jsonrpc":"2.0","result":{written},"id":"request 7"}}"#);
        let swapped = results.swap_in(frame(&body));
        assert_eq!(
            swapped,
            frame(r#"{"jsonrpc":"2.0","result":[{"x":1}],"id":"request 7"}"#)
        );
        assert_eq!(swapped.as_ptr(), buffer, "not copied");
    }

    #[test]
    fn results_whose_response_never_came_are_not_kept_forever() {
        let results = ResultHandoff::default();
        for _ in 0..KEPT * 3 {
            results.hand_off(vec![b'1'; 1000], |marker| marker);
        }
        assert_eq!(results.results.lock().unwrap().len(), KEPT);
        assert_eq!(results.waiting.load(Ordering::SeqCst), KEPT);
    }

    #[test]
    fn a_placeholder_publication_becomes_the_handed_off_text() {
        let results = ResultHandoff::default();
        let placeholder = results.hand_off_publication(
            br#"{"uri":"file:///a","diagnostics":[1]}"#.to_vec(),
            |marker| vec![marker],
        );
        let written = serde_json::to_string(&placeholder).unwrap();
        let method = r#""method":"textDocument/publishDiagnostics""#;
        let body = format!(r#"{{"jsonrpc":"2.0",{method},"params":{written}}}"#);
        // A response holding the same placeholder is not a publication.
        let response = frame(&format!(r#"{{"jsonrpc":"2.0","result":{written},"id":7}}"#));
        assert_eq!(results.swap_in(response.clone()), response);
        assert_eq!(
            results.swap_in(frame(&body)),
            frame(&format!(
                r#"{{"jsonrpc":"2.0",{method},"params":{{"uri":"file:///a","diagnostics":[1]}}}}"#
            ))
        );
        assert_eq!(results.waiting.load(Ordering::SeqCst), 0);
    }
}

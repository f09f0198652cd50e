//! The built `kube-lsp` binary driven over stdio as an editor drives it, for end-to-end tests.
//!
//! [`TestServer::builder`] says what the client offers (position encodings, snippets, folding
//! range limit, file watching, workspace folders, `initializationOptions`); `start` spawns the
//! server and initializes it. The server then opens and edits documents, waits for their
//! diagnostics, and asks for completion, hover, code actions, symbols and folds, at a position
//! or at a `$0` cursor (see `fixture`). Every call panics with what it waited for when the server
//! does not answer: a test reads as the editor's side of the conversation.
//!
//! Dropped (or [`TestServer::shutdown`]), it sends `shutdown` and `exit` and asserts that the
//! server exits successfully; dropped while the test panics, it kills the server.
//!
//! Each server gets its own cluster-schema disk cache (`XDG_CACHE_HOME`, a temporary folder unless
//! [`TestServerBuilder::cache_dir`] names one): tests never write to the user's `~/.cache`. Its
//! stderr is discarded unless `KUBE_LSP_TEST_STDERR` is set; its log level is `warn` unless
//! `KUBE_LSP_LOG` says otherwise.
//!
//! ```ignore
//! let mut server = TestServer::builder().snippet_support(true).start();
//! let diagnostics = server.open_and_wait(&uri("pod.yaml"), "apiVersion: v1\nkind: Pod\n");
//! let items = server.completion_at_cursor("apiVersion: v1\nkind: $0\n");
//! server.shutdown();
//! ```
#![allow(dead_code)] // each test binary uses a different subset

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};

use super::fixture::{self, Encoding};
use super::lsp_client::{
    LspClient, LspError, ServerStderr, default_server_request_answer, file_uri,
};

/// How long a wait for the server lasts before the test fails.
pub const WAIT: Duration = Duration::from_secs(60);

/// The URI of a document `name` that exists only in the editor (`file:///work/<name>`).
pub fn uri(name: &str) -> String {
    format!("file:///work/{name}")
}

/// The codes of the diagnostics of a `publishDiagnostics` (its params).
pub fn codes(publication: &Value) -> Vec<String> {
    publication["diagnostics"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|d| d["code"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// What the client offers and how the server is started.
pub struct TestServerBuilder {
    args: Vec<String>,
    capabilities: Value,
    initialization_options: Option<Value>,
    workspace_folders: Vec<PathBuf>,
    cache_dir: Option<PathBuf>,
    message_answer: Option<String>,
    env: Vec<(String, std::ffi::OsString)>,
    stderr: Option<PathBuf>,
}

impl TestServerBuilder {
    /// An environment variable for the server process.
    pub fn env(mut self, key: &str, value: impl Into<std::ffi::OsString>) -> Self {
        self.env.push((key.to_string(), value.into()));
        self
    }

    /// Appends the server's log (stderr) to `path` instead of discarding it.
    pub fn stderr_to(mut self, path: &Path) -> Self {
        self.stderr = Some(path.to_path_buf());
        self
    }

    /// Answers every `window/showMessageRequest` with the action titled `title` (by default a
    /// plain editor's answer: none, as when the user dismisses it).
    pub fn answer_message_requests(mut self, title: &str) -> Self {
        self.message_answer = Some(title.to_string());
        self
    }

    /// Command-line arguments instead of `--stdio`.
    pub fn args(mut self, args: &[&str]) -> Self {
        self.args = args.iter().map(|a| a.to_string()).collect();
        self
    }

    /// `general.positionEncodings`: the encodings offered, preferred first.
    pub fn position_encodings(self, encodings: &[&str]) -> Self {
        self.capability(&["general", "positionEncodings"], json!(encodings))
    }

    /// `completionItem.snippetSupport`.
    pub fn snippet_support(self, snippets: bool) -> Self {
        self.capability(
            &[
                "textDocument",
                "completion",
                "completionItem",
                "snippetSupport",
            ],
            json!(snippets),
        )
    }

    /// `completionItem.labelDetailsSupport`.
    pub fn label_details_support(self) -> Self {
        self.capability(
            &[
                "textDocument",
                "completion",
                "completionItem",
                "labelDetailsSupport",
            ],
            json!(true),
        )
    }

    /// Hover contents in markdown.
    pub fn markdown_hover(self) -> Self {
        self.capability(
            &["textDocument", "hover", "contentFormat"],
            json!(["markdown"]),
        )
    }

    /// `foldingRange.rangeLimit`: at most this many folds per file.
    pub fn folding_range_limit(self, limit: u32) -> Self {
        self.capability(
            &["textDocument", "foldingRange", "rangeLimit"],
            json!(limit),
        )
    }

    /// `workspace/didChangeWatchedFiles` with dynamic registration: the server registers the
    /// files it wants to hear about (see [`TestServer::server_requests`]).
    pub fn watch_files(self) -> Self {
        self.capability(
            &["workspace", "didChangeWatchedFiles", "dynamicRegistration"],
            json!(true),
        )
    }

    /// A workspace folder (`workspaceFolders`).
    pub fn workspace_folder(mut self, folder: &Path) -> Self {
        self.workspace_folders.push(folder.to_path_buf());
        self
    }

    /// `initializationOptions` (the settings, e.g. `{"kube-lsp": {...}}`).
    pub fn initialization_options(mut self, options: Value) -> Self {
        self.initialization_options = Some(options);
        self
    }

    /// Keeps the cluster schema's disk cache in `dir` (to start a second server on it).
    pub fn cache_dir(mut self, dir: &Path) -> Self {
        self.cache_dir = Some(dir.to_path_buf());
        self
    }

    /// Spawns the server and initializes it (`initialize`, then `initialized`).
    pub fn start(self) -> TestServer {
        let own_cache = match self.cache_dir {
            Some(_) => None,
            None => Some(tempfile::tempdir().expect("a cache folder")),
        };
        let cache = (self.cache_dir.as_deref())
            .or(own_cache.as_ref().map(tempfile::TempDir::path))
            .unwrap();
        let mut env = vec![("XDG_CACHE_HOME", cache.as_os_str())];
        env.extend(self.env.iter().map(|(k, v)| (k.as_str(), v.as_os_str())));
        let log_level_given = self.env.iter().any(|(key, _)| key == "KUBE_LSP_LOG");
        if std::env::var_os("KUBE_LSP_LOG").is_none() && !log_level_given {
            env.push(("KUBE_LSP_LOG", OsStr::new("warn")));
        }
        let stderr = if let Some(path) = &self.stderr {
            ServerStderr::File(path.clone())
        } else if std::env::var_os("KUBE_LSP_TEST_STDERR").is_some() {
            ServerStderr::Inherit
        } else {
            ServerStderr::Null
        };
        let args: Vec<&str> = self.args.iter().map(String::as_str).collect();
        let mut client = LspClient::spawn_with_env(
            Path::new(env!("CARGO_BIN_EXE_kube-lsp")),
            &args,
            stderr,
            &env,
        )
        .expect("spawn kube-lsp");
        let server_requests = Arc::new(Mutex::new(Vec::new()));
        let recorded = server_requests.clone();
        let message_answer = self.message_answer;
        client.set_server_request_handler(move |method, params| {
            recorded
                .lock()
                .unwrap()
                .push((method.to_string(), params.clone()));
            match (&message_answer, method) {
                (Some(title), "window/showMessageRequest") => json!({"title": title}),
                _ => default_server_request_answer(method, params, &Value::Null),
            }
        });
        let mut params =
            json!({"processId": null, "rootUri": null, "capabilities": self.capabilities});
        if !self.workspace_folders.is_empty() {
            let folders: Vec<Value> = self
                .workspace_folders
                .iter()
                .map(|folder| {
                    let name = folder.file_name().unwrap_or_default().to_string_lossy();
                    json!({"uri": file_uri(folder), "name": name})
                })
                .collect();
            params["workspaceFolders"] = json!(folders);
        }
        if let Some(options) = self.initialization_options {
            params["initializationOptions"] = options;
        }
        let initialize_result = client.initialize(params).expect("initialize");
        TestServer {
            encoding: Encoding::of_capabilities(&initialize_result["capabilities"]),
            client: Some(client),
            initialize_result,
            server_requests,
            documents: 0,
            _own_cache: own_cache,
        }
    }

    /// Sets the capability at `path` (objects on the way are created).
    fn capability(mut self, path: &[&str], value: Value) -> Self {
        let (last, parents) = path.split_last().expect("a capability path");
        let mut node = &mut self.capabilities;
        for key in parents {
            node = node
                .as_object_mut()
                .expect("capabilities are objects")
                .entry(*key)
                .or_insert_with(|| json!({}));
        }
        node[*last] = value;
        self
    }
}

/// A running, initialized kube-lsp and the editor's side of its connection.
pub struct TestServer {
    /// None once shut down or handed out by [`TestServer::into_client`].
    client: Option<LspClient>,
    initialize_result: Value,
    encoding: Encoding,
    /// The requests the server sent the client (method, params), in order.
    server_requests: Arc<Mutex<Vec<(String, Value)>>>,
    /// Documents opened by [`TestServer::open_cursor`], to name the next one.
    documents: usize,
    _own_cache: Option<tempfile::TempDir>,
}

impl TestServer {
    /// A server initialized with no client capabilities.
    pub fn start() -> TestServer {
        Self::builder().start()
    }

    pub fn builder() -> TestServerBuilder {
        TestServerBuilder {
            args: vec!["--stdio".to_string()],
            capabilities: json!({}),
            initialization_options: None,
            workspace_folders: Vec::new(),
            cache_dir: None,
            message_answer: None,
            env: Vec::new(),
            stderr: None,
        }
    }

    /// The result of `initialize`.
    pub fn initialize_result(&self) -> &Value {
        &self.initialize_result
    }

    /// The server's capabilities.
    pub fn capabilities(&self) -> &Value {
        &self.initialize_result["capabilities"]
    }

    /// The position encoding negotiated.
    pub fn encoding(&self) -> Encoding {
        self.encoding
    }

    /// The connection itself, for what an editor would not send (malformed frames, …).
    pub fn client(&mut self) -> &mut LspClient {
        self.client.as_mut().expect("the server is running")
    }

    /// The connection, to end it some other way than `shutdown` (nothing is sent on drop then).
    pub fn into_client(mut self) -> LspClient {
        self.client.take().expect("the server is running")
    }

    /// `textDocument/didOpen` of `text` at version 1.
    pub fn open(&mut self, uri: &str, text: &str) {
        self.client()
            .did_open(uri, "yaml", text, 1)
            .unwrap_or_else(|e| panic!("didOpen {uri}: {e}"));
    }

    /// Opens `text` and waits for its diagnostics; returns them (the `diagnostics` array).
    pub fn open_and_wait(&mut self, uri: &str, text: &str) -> Value {
        self.open(uri, text);
        self.diagnostics(uri, 1)
    }

    /// Opens `text` with its `$0` cursor taken out, as a new document; returns its URI and the
    /// cursor's position.
    pub fn open_cursor(&mut self, text: &str) -> (String, Value) {
        let (text, offset) = fixture::cursor(text);
        self.documents += 1;
        let uri = uri(&format!("doc{}.yaml", self.documents));
        self.open(&uri, &text);
        (uri, fixture::position(&text, offset, self.encoding))
    }

    /// `textDocument/didChange`; `changes` is the `contentChanges` array (see
    /// `fixture::range_change`).
    pub fn change(&mut self, uri: &str, version: i64, changes: Value) {
        self.client()
            .did_change(uri, version, changes)
            .unwrap_or_else(|e| panic!("didChange {uri}: {e}"));
    }

    /// Changes the document and waits for the diagnostics of `version`; returns them.
    pub fn change_and_wait(&mut self, uri: &str, version: i64, changes: Value) -> Value {
        self.change(uri, version, changes);
        self.diagnostics(uri, version)
    }

    /// `textDocument/didClose`.
    pub fn close(&mut self, uri: &str) {
        self.client()
            .did_close(uri)
            .unwrap_or_else(|e| panic!("didClose {uri}: {e}"));
    }

    /// Waits for the diagnostics published for `version` of `uri`; returns them (the
    /// `diagnostics` array).
    pub fn diagnostics(&mut self, uri: &str, version: i64) -> Value {
        let published = self
            .client()
            .wait_for_diagnostics(uri, Some(version), WAIT)
            .unwrap_or_else(|e| panic!("diagnostics of {uri} v{version}: {e}"));
        published["diagnostics"].clone()
    }

    /// Waits for a `publishDiagnostics` of `uri` whose params satisfy `wanted`; returns them.
    pub fn wait_for_publication(&mut self, uri: &str, wanted: impl Fn(&Value) -> bool) -> Value {
        self.client()
            .wait_for_notification(
                "textDocument/publishDiagnostics",
                |p| p["uri"] == uri && wanted(p),
                WAIT,
            )
            .unwrap_or_else(|e| panic!("the publication of {uri} awaited: {e}"))
    }

    /// Waits for a publication of `uri` (of `version`, when given) holding a diagnostic with
    /// `code`; returns the params.
    pub fn wait_for_code(&mut self, uri: &str, version: Option<i64>, code: &str) -> Value {
        self.wait_for_publication(uri, |p| {
            version.is_none_or(|v| p["version"] == v) && codes(p).iter().any(|c| c == code)
        })
    }

    /// Waits until `uri` is published with exactly these diagnostic codes; returns the params.
    pub fn wait_for_codes(&mut self, uri: &str, wanted: &[&str]) -> Value {
        self.client()
            .wait_for_notification(
                "textDocument/publishDiagnostics",
                |p| p["uri"] == uri && codes(p) == wanted,
                WAIT,
            )
            .unwrap_or_else(|e| panic!("{uri} never published {wanted:?}: {e}"))
    }

    /// Waits for a notification `method` whose params satisfy `wanted`; returns its params.
    pub fn wait_for_notification(
        &mut self,
        method: &str,
        wanted: impl FnMut(&Value) -> bool,
    ) -> Value {
        self.client()
            .wait_for_notification(method, wanted, WAIT)
            .unwrap_or_else(|e| panic!("{method}: {e}"))
    }

    /// Keeps every notification that arrives within `duration` for
    /// [`TestServer::queued_notifications`].
    pub fn gather_notifications(&mut self, duration: Duration) {
        match self.client().wait_for_notification("", |_| false, duration) {
            Err(LspError::Timeout(_)) => {}
            other => panic!("while gathering notifications: {other:?}"),
        }
    }

    /// Notifications received but not waited for.
    pub fn queued_notifications(&self) -> impl Iterator<Item = &Value> {
        self.client
            .as_ref()
            .expect("the server is running")
            .queued_notifications()
    }

    /// Forgets the notifications received so far: later waits see only newer ones.
    pub fn discard_notifications(&mut self) {
        self.client()
            .discard_notifications()
            .unwrap_or_else(|e| panic!("discarding notifications: {e}"));
    }

    /// The params of the requests `method` the server sent the client so far.
    pub fn server_requests(&self, method: &str) -> Vec<Value> {
        self.server_requests
            .lock()
            .unwrap()
            .iter()
            .filter(|(m, _)| m == method)
            .map(|(_, params)| params.clone())
            .collect()
    }

    /// Sends a notification.
    pub fn notify(&mut self, method: &str, params: Value) {
        self.client()
            .notify(method, params)
            .unwrap_or_else(|e| panic!("{method}: {e}"));
    }

    /// Tells the server a file changed on disk, as a file watcher does (`kind`: 1 created,
    /// 2 changed, 3 deleted).
    pub fn file_changed_on_disk(&mut self, uri: &str, kind: u8) {
        let change = json!({"uri": uri, "type": kind});
        self.notify(
            "workspace/didChangeWatchedFiles",
            json!({"changes": [change]}),
        );
    }

    /// Sends a request and returns its result; panics on an error response.
    pub fn request(&mut self, method: &str, params: Value) -> Value {
        self.try_request(method, params)
            .unwrap_or_else(|e| panic!("{method}: {e}"))
    }

    /// Sends a request and returns its result or its error.
    pub fn try_request(&mut self, method: &str, params: Value) -> Result<Value, LspError> {
        self.client().request(method, params)
    }

    /// `textDocument/completion` at `position`.
    pub fn completion(&mut self, uri: &str, position: Value) -> Value {
        self.request(
            "textDocument/completion",
            json!({"textDocument": {"uri": uri}, "position": position}),
        )
    }

    /// `textDocument/hover` at `position`.
    pub fn hover(&mut self, uri: &str, position: Value) -> Value {
        self.request(
            "textDocument/hover",
            json!({"textDocument": {"uri": uri}, "position": position}),
        )
    }

    /// Opens `text` as a new document and asks for completion at its `$0` cursor.
    pub fn completion_at_cursor(&mut self, text: &str) -> Value {
        let (uri, position) = self.open_cursor(text);
        self.completion(&uri, position)
    }

    /// Opens `text` as a new document and asks for hover at its `$0` cursor.
    pub fn hover_at_cursor(&mut self, text: &str) -> Value {
        let (uri, position) = self.open_cursor(text);
        self.hover(&uri, position)
    }

    /// `textDocument/codeAction` over `range` for these diagnostics.
    pub fn code_actions(&mut self, uri: &str, range: Value, diagnostics: Value) -> Value {
        self.request(
            "textDocument/codeAction",
            json!({
                "textDocument": {"uri": uri},
                "range": range,
                "context": {"diagnostics": diagnostics},
            }),
        )
    }

    /// `textDocument/documentSymbol`.
    pub fn document_symbols(&mut self, uri: &str) -> Value {
        self.request(
            "textDocument/documentSymbol",
            json!({"textDocument": {"uri": uri}}),
        )
    }

    /// `textDocument/foldingRange`.
    pub fn folding_ranges(&mut self, uri: &str) -> Value {
        self.request(
            "textDocument/foldingRange",
            json!({"textDocument": {"uri": uri}}),
        )
    }

    /// `workspace/executeCommand`.
    pub fn execute_command(&mut self, command: &str, arguments: Value) -> Value {
        self.request(
            "workspace/executeCommand",
            json!({"command": command, "arguments": arguments}),
        )
    }

    /// Sends `shutdown` and `exit`, and asserts that the server exits successfully.
    pub fn shutdown(mut self) {
        self.shut_down();
    }

    fn shut_down(&mut self) {
        let Some(client) = self.client.take() else {
            return;
        };
        let status = client.shutdown_and_exit().expect("clean shutdown");
        assert!(status.success(), "server exit status {status:?}");
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        // A failing test has said what went wrong: the client's own drop kills the server.
        if !std::thread::panicking() {
            self.shut_down();
        }
    }
}

/// The diagnostics of a publication's params with `code`.
pub fn with_code<'p>(published: &'p Value, code: &str) -> Vec<&'p Value> {
    published["diagnostics"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|d| d["code"] == code)
        .collect()
}

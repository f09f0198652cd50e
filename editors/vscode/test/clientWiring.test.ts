// The extension's wiring against the real server, without VS Code: the client capabilities that
// the extension's own KubeLspClient (vscode-languageclient) computes, the settings in the shape the
// extension forwards them, a manifest with a duplicate key, an incremental fix, and the requests
// that light up as the server advertises them.
import { VSCODE_VERSION } from './vscodeStub'; // first: makes `vscode` loadable
import assert from 'node:assert/strict';
import * as fs from 'fs';
import { after, before, test } from 'node:test';
import * as path from 'path';
import { pathToFileURL } from 'url';
import { baseClientOptions, SECTION, SERVER_COMMANDS } from '../src/clientOptions';
import { interpretDiffResult } from '../src/diff';
import { KubeLspClient } from '../src/kubeLspClient';
import { findServerBinary, REPO, ServerUnderTest } from './lspClient';

const binary = findServerBinary();
const settings = { kubeconfig: null, context: null, namespace: 'demo', dryRun: 'off', diff: false, debounceMs: 300, requestTimeoutMs: 2000, schemaPaths: [], exclude: [] };
const uri = pathToFileURL(path.join(REPO, 'editors', 'vscode', 'test', 'web.yaml')).toString(); // never written: the editor's buffer
// Complete apart from the duplicate key, so schema checks (as the server gains them) find nothing else.
const manifest = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  name: again
spec:
  replicas: 1
  selector:
    matchLabels: { app: web }
  template:
    metadata:
      labels: { app: web }
    spec:
      containers:
        - name: web
          image: nginx:1.27
`;
const DUPLICATE_KEY = 'yaml-duplicate-key';

let server: ServerUnderTest;
let capabilities: Record<string, any>;

/** What vscode-languageclient 9 sends in `initialize`, from the extension's client class. */
function vscodeInitializeParams() {
  const client = new KubeLspClient(SECTION, 'kube-lsp', { command: 'kube-lsp' }, baseClientOptions(settings));
  const clientCapabilities = (client as unknown as { computeClientCapabilities(): Record<string, any> }).computeClientCapabilities();
  return {
    processId: process.pid,
    clientInfo: { name: 'Visual Studio Code', version: VSCODE_VERSION },
    locale: 'en',
    rootPath: REPO,
    rootUri: pathToFileURL(REPO).toString(),
    capabilities: clientCapabilities,
    initializationOptions: baseClientOptions(settings).initializationOptions,
    trace: 'off',
    workspaceFolders: [{ uri: pathToFileURL(REPO).toString(), name: 'kube-lsp' }],
  };
}

test('the client sends VS Code\'s capabilities, minus executeCommand auto-registration', () => {
  const params = vscodeInitializeParams();
  assert.deepEqual(params.capabilities.general.positionEncodings, ['utf-16']);
  assert.equal(params.capabilities.textDocument.publishDiagnostics.relatedInformation, true);
  assert.equal(params.capabilities.workspace.configuration, true);
  assert.equal(params.capabilities.workspace.executeCommand, undefined);
});

before(async () => {
  if (!binary) {
    return;
  }
  server = new ServerUnderTest(binary, settings);
  const result = await server.connection.sendRequest<{ capabilities: Record<string, any>; serverInfo?: { name: string } }>('initialize', vscodeInitializeParams());
  capabilities = result.capabilities;
  assert.equal(result.serverInfo?.name, 'kube-lsp');
  await server.connection.sendNotification('initialized', {});
  // synchronize.configurationSection makes the client send the section as it changes.
  await server.connection.sendNotification('workspace/didChangeConfiguration', { settings: { [SECTION]: settings } });
});

after(async () => {
  if (server) {
    assert.equal(await server.stop(), 0, 'kube-lsp exits 0 after shutdown + exit');
    if (server.lingeredAfterExit) {
      console.log('# note: kube-lsp was still running 2 s after `exit` and stopped once stdin closed (the client ends it then)');
    }
  }
});

test('kube-lsp binary is built', { skip: binary ? false : 'no kube-lsp built (cargo build, or set KUBE_LSP_BIN)' }, () => {
  assert.ok(fs.existsSync(binary!), `${binary} exists`);
});

test('negotiates UTF-16 (VS Code offers nothing else) and full/incremental sync', { skip: !binary }, () => {
  assert.equal(capabilities.positionEncoding ?? 'utf-16', 'utf-16');
  const sync = capabilities.textDocumentSync;
  assert.equal(typeof sync === 'number' ? sync : sync.change, 2);
});

test('a duplicate key is reported on its exact range, for the opened version', { skip: !binary }, async () => {
  await server.connection.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'yaml', version: 1, text: manifest } });
  const published = await server.waitForDiagnostics((p) => p.uri === uri && p.diagnostics.some((d) => d.code === DUPLICATE_KEY));
  assert.equal(published.version, 1);
  const duplicates = published.diagnostics.filter((d) => d.code === DUPLICATE_KEY);
  assert.equal(duplicates.length, 1, JSON.stringify(published.diagnostics));
  const [diagnostic] = duplicates;
  assert.equal(diagnostic.source, 'kube-lsp');
  assert.equal(diagnostic.severity, 1);
  assert.match(diagnostic.message, /duplicate key `name`/);
  assert.deepEqual(diagnostic.range, { start: { line: 4, character: 2 }, end: { line: 4, character: 6 } });
});

test('an incremental edit removing the duplicate clears the diagnostics', { skip: !binary }, async () => {
  await server.connection.sendNotification('textDocument/didChange', {
    textDocument: { uri, version: 2 },
    contentChanges: [{ range: { start: { line: 4, character: 0 }, end: { line: 5, character: 0 } }, rangeLength: 14, text: '' }],
  });
  const published = await server.waitForDiagnostics((p) => p.uri === uri && p.version === 2);
  assert.deepEqual(published.diagnostics.filter((d) => d.code === DUPLICATE_KEY), []);
  const others = published.diagnostics.filter((d) => d.severity === 1);
  assert.deepEqual(others, [], 'the complete manifest has no other errors');
});

test('the outline names the manifest', { skip: !binary }, async () => {
  const symbols = await server.connection.sendRequest<Array<{ name: string }>>('textDocument/documentSymbol', { textDocument: { uri } });
  assert.deepEqual(symbols.map((symbol) => symbol.name), ['Deployment web']);
});

test('completion after `kind: `', { skip: !binary }, async () => {
  assert.ok(capabilities.completionProvider, 'completionProvider advertised');
  const result = await server.connection.sendRequest<any>('textDocument/completion', { textDocument: { uri }, position: { line: 1, character: 6 } });
  const items: Array<{ label: string }> = Array.isArray(result) ? result : result?.items ?? [];
  assert.ok(items.some((item) => item.label === 'Deployment'), `Deployment among ${items.length} items`);
  assert.ok(!items.some((item) => item.label === 'Service'), 'only the kinds of apps/v1');
});

test('hover on `replicas`', { skip: !binary }, async () => {
  assert.ok(capabilities.hoverProvider, 'hoverProvider advertised');
  const hover = await server.connection.sendRequest<any>('textDocument/hover', { textDocument: { uri }, position: { line: 5, character: 4 } });
  assert.ok(hover?.contents?.value?.includes('**replicas** `integer (int32)`'), JSON.stringify(hover));
});

test('Show diff: the server command answers something the extension can show', { skip: !binary }, async () => {
  const commands: string[] = capabilities.executeCommandProvider?.commands ?? [];
  assert.ok(commands.includes(SERVER_COMMANDS.showDiff), `${SERVER_COMMANDS.showDiff} advertised`);
  try {
    const result = await server.connection.sendRequest('workspace/executeCommand', { command: SERVER_COMMANDS.showDiff, arguments: [uri] });
    assert.ok(['diff', 'message'].includes(interpretDiffResult(result, 'web.yaml').kind));
  } catch (error) {
    // No cluster here: an error response with a message is fine, the extension shows it.
    assert.ok((error as Error).message.length > 0);
  }
});

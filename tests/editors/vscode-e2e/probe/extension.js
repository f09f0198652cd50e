// Test-only extension for tests/editors/vscode-e2e/run.js. Its commands ask VS Code's language
// features, which the kube-lsp extension serves through vscode-languageclient, for their answers
// on the workspace (a copy of tests/editors/fixtures) and check them: real positions, expected
// contents, edits applied through VS Code. Each command writes `{done, results: [{name, ok, error}]}`
// to $KUBE_LSP_PROBE_OUT/<command>.json, which run.js reads.
const assert = require('assert');
const fs = require('fs');
const path = require('path');
const vscode = require('vscode');

// How long to wait for an answer of the server: generous, the machine may be busy.
const WAIT_MS = 60_000;
const FIX = 'Change to `app-config`';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(what, fn) {
  const deadline = Date.now() + WAIT_MS;
  const started = Date.now();
  let last;
  while (Date.now() < deadline) {
    try {
      last = await fn();
      if (last) return last;
    } catch (error) {
      last = error;
    }
    await sleep(200);
  }
  const said = typeof what === 'function' ? what() : what;
  throw new Error(`timed out after ${Date.now() - started} ms waiting for ${said} (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`);
}

const fileUri = (relative) => vscode.Uri.joinPath(vscode.workspace.workspaceFolders[0].uri, relative);

async function open(relative) {
  const document = await vscode.workspace.openTextDocument(fileUri(relative));
  await vscode.window.showTextDocument(document, { preview: false });
  return document;
}

/** The position `into` characters into the `nth` (1-based) occurrence of `needle`. */
function at(document, needle, into = 0, nth = 1) {
  let index = -1;
  for (let seen = 0; seen < nth; seen++) {
    index = document.getText().indexOf(needle, index + 1);
    if (index < 0) throw new Error(`not in ${document.uri.path}: ${needle}`);
  }
  return document.positionAt(index + into);
}

const codeOf = (d) => (d.code && typeof d.code === 'object' ? d.code.value : d.code);
const withCode = (uri, code) => vscode.languages.getDiagnostics(uri).filter((d) => codeOf(d) === code);
/** For a timeout's message: what the document has instead. */
const published = (uri) => () => `a diagnostic; the document has ${JSON.stringify(vscode.languages.getDiagnostics(uri).map((d) => `${codeOf(d)}: ${d.message}`))}`;
const plain = (range) => [range.start.line, range.start.character, range.end.line, range.end.character];
const labelOf = (item) => (typeof item.label === 'string' ? item.label : item.label.label);
const relativeOf = (uri) => path.relative(vscode.workspace.workspaceFolders[0].uri.fsPath, uri.fsPath);

async function completionLabels(document, position) {
  const list = await vscode.commands.executeCommand('vscode.executeCompletionItemProvider', document.uri, position);
  return list.items.map(labelOf);
}

async function capabilities(check) {
  const web = await open('app/web.yaml');
  await check('diagnostics: the duplicate key with its message, range, severity, source and code', async () => {
    const d = await until(published(web.uri), () => withCode(web.uri, 'yaml-duplicate-key')[0]);
    assert.match(d.message, /duplicate key `name`/);
    assert.deepStrictEqual(plain(d.range), [4, 2, 4, 6]);
    assert.strictEqual(d.severity, vscode.DiagnosticSeverity.Error);
    assert.strictEqual(d.source, 'kube-lsp');
  });

  await check('completion: the kinds of apps/v1 after `kind: `', async () => {
    const labels = await completionLabels(web, at(web, 'kind: ', 'kind: '.length));
    for (const kind of ['Deployment', 'StatefulSet']) assert.ok(labels.includes(kind), `${kind} not among ${labels}`);
    assert.ok(!labels.includes('Service'), `Service offered for apps/v1: ${labels}`);
  });

  await check('hover: the schema of `replicas`', async () => {
    const hovers = await vscode.commands.executeCommand('vscode.executeHoverProvider', web.uri, at(web, 'replicas', 2));
    const text = hovers.flatMap((hover) => hover.contents.map((content) => content.value ?? String(content))).join('\n');
    assert.ok(text.includes('**replicas** `integer (int32)`'), text);
  });

  await check('document symbols: the Deployment with its fields', async () => {
    const symbols = await vscode.commands.executeCommand('vscode.executeDocumentSymbolProvider', web.uri);
    assert.strictEqual(symbols.length, 1);
    assert.match(symbols[0].name, /^Deployment /);
    assert.strictEqual(symbols[0].range.start.line, 0);
    const children = symbols[0].children.map((symbol) => symbol.name);
    for (const field of ['metadata', 'spec']) assert.ok(children.includes(field), `${field} not among ${children}`);
  });

  await check('folding: spec and the pod template fold to the last line', async () => {
    const ranges = await vscode.commands.executeCommand('vscode.executeFoldingRangeProvider', web.uri);
    const folds = Object.fromEntries(ranges.map((range) => [range.start, range.end]));
    assert.strictEqual(folds[5], 15, `spec: ${JSON.stringify(ranges)}`);
    assert.strictEqual(folds[9], 15, `template: ${JSON.stringify(ranges)}`);
  });

  const kustomization = await open('app/kustomization.yaml');
  await check('document links: each resource of the kustomization', async () => {
    const links = await until('three links', async () => {
      const found = await vscode.commands.executeCommand('vscode.executeLinkProvider', kustomization.uri);
      return found.length === 3 && found;
    });
    assert.deepStrictEqual(
      links.map((link) => [link.range.start.line, relativeOf(link.target)]),
      [[1, 'app/web.yaml'], [2, 'app/config.yaml'], [3, 'app/api.yaml']],
    );
    assert.deepStrictEqual(plain(links[0].range), [1, 4, 1, 12]);
  });

  const api = await open('app/api.yaml');
  const originalApi = api.getText();
  await check('diagnostics: the misspelt ConfigMap is reported with a suggestion', async () => {
    const d = await until(published(api.uri), () => withCode(api.uri, 'reference-missing')[0]);
    if (process.env.KUBE_LSP_PROBE_CLUSTER) {
      // Neither in the workspace nor in the test cluster.
      assert.match(d.message, /^ConfigMap `app-confg` .*not found: not in the workspace, nor in the cluster/);
      assert.strictEqual(d.severity, vscode.DiagnosticSeverity.Warning);
    } else {
      // The cluster of the kubeconfig is down: it may hold it, so only information.
      assert.match(d.message, /^ConfigMap `app-confg` .*is not in the workspace; the cluster \(context cluster-down\) could not be asked/);
      assert.strictEqual(d.severity, vscode.DiagnosticSeverity.Information);
    }
    assert.match(d.message, /did you mean `app-config`\?/);
    const start = at(api, 'app-confg');
    assert.deepStrictEqual(plain(d.range), [start.line, start.character, start.line, start.character + 'app-confg'.length]);
  });

  await check('code action: the quick fix is applied, the document is fixed, the warning goes', async () => {
    const d = withCode(api.uri, 'reference-missing')[0];
    const actions = await vscode.commands.executeCommand('vscode.executeCodeActionProvider', api.uri, d.range);
    const fix = actions.find((action) => action.title === FIX);
    assert.ok(fix, `no "${FIX}" among ${actions.map((action) => action.title)}`);
    assert.strictEqual(fix.kind.value, 'quickfix');
    assert.ok(await vscode.workspace.applyEdit(fix.edit), 'the edit was not applied');
    assert.strictEqual(api.getText(), originalApi.replace('app-confg', 'app-config'));
    await until('the warning to go', () => withCode(api.uri, 'reference-missing').length === 0);
  });

  await check('definition: from the ConfigMap reference to its name in config.yaml', async () => {
    const found = await until('a definition', async () => {
      const locations = await vscode.commands.executeCommand('vscode.executeDefinitionProvider', api.uri, at(api, 'name: app-config', 'name: a'.length));
      return locations.length > 0 && locations;
    });
    assert.strictEqual(found.length, 1);
    const target = found[0].targetUri ?? found[0].uri;
    const range = found[0].targetSelectionRange ?? found[0].targetRange ?? found[0].range;
    assert.deepStrictEqual([relativeOf(target), ...plain(range)], ['app/config.yaml', 3, 8, 3, 18]);
  });

  await check('code lens: the Service shows the Deployment it selects', async () => {
    const selectorLine = at(api, 'selector:', 0, 2).line;
    const lenses = await until('code lenses', async () => {
      const found = await vscode.commands.executeCommand('vscode.executeCodeLensProvider', api.uri);
      return found.length > 0 && found;
    });
    assert.deepStrictEqual(lenses.map((lens) => [lens.range.start.line, lens.command.title]), [[selectorLine, '1 Deployment: api']]);
  });

  const config = await open('app/config.yaml');
  const name = at(config, 'app-config', 1);
  await check('references: the ConfigMap and the Deployment that reads it', async () => {
    const found = await until('references in api.yaml', async () => {
      const locations = await vscode.commands.executeCommand('vscode.executeReferenceProvider', config.uri, name);
      return locations.some((location) => relativeOf(location.uri) === 'app/api.yaml') && locations;
    });
    const reader = at(api, 'name: app-config', 'name: '.length);
    assert.deepStrictEqual(
      found.map((location) => [relativeOf(location.uri), location.range.start.line, location.range.start.character]).sort(),
      [['app/api.yaml', reader.line, reader.character], ['app/config.yaml', 3, 8]],
    );
  });

  await check('rename: the ConfigMap renamed in config.yaml and in api.yaml', async () => {
    const [configBefore, apiBefore] = [config.getText(), api.getText()];
    const edit = await vscode.commands.executeCommand('vscode.executeDocumentRenameProvider', config.uri, name, 'settings');
    assert.deepStrictEqual(edit.entries().map(([uri]) => relativeOf(uri)).sort(), ['app/api.yaml', 'app/config.yaml']);
    assert.ok(await vscode.workspace.applyEdit(edit), 'the edit was not applied');
    assert.strictEqual(config.getText(), configBefore.replaceAll('app-config', 'settings'));
    assert.strictEqual(api.getText(), apiBefore.replaceAll('app-config', 'settings'));
  });

  await check('rule groups: Disable rule group `all` clears the rules\' findings, Enable brings them back', async () => {
    const RULE = 'no-read-only-root-fs';
    const config = vscode.workspace.getConfiguration('kube-lsp');
    assert.ok(withCode(api.uri, RULE).length > 0, 'a finding of kube-linter\'s defaults to begin with');
    await vscode.commands.executeCommand('kube-lsp.disableRuleGroup', 'all');
    assert.deepStrictEqual(vscode.workspace.getConfiguration('kube-lsp').get('rules'), { disable: ['all'], enable: [] });
    await until(`${RULE} to go`, () => withCode(api.uri, RULE).length === 0);
    await vscode.commands.executeCommand('kube-lsp.enableRuleGroup', 'all');
    assert.deepStrictEqual(vscode.workspace.getConfiguration('kube-lsp').get('rules'), { enable: ['all'], disable: [] });
    await until(`${RULE} to come back`, () => withCode(api.uri, RULE).length > 0);
    await config.update('rules', undefined, vscode.ConfigurationTarget.Workspace);
  });

  const formatting = await open('app/formatting.yaml');
  await check('formatting: two-space indentation, spacing fixed, quotes and comments kept', async () => {
    const options = { tabSize: 2, insertSpaces: true };
    const edits = await until('formatting edits', async () => {
      const found = await vscode.commands.executeCommand('vscode.executeFormatDocumentProvider', formatting.uri, options);
      return found && found.length > 0 && found;
    });
    const edit = new vscode.WorkspaceEdit();
    edit.set(formatting.uri, edits);
    assert.ok(await vscode.workspace.applyEdit(edit), 'the edit was not applied');
    assert.strictEqual(
      formatting.getText(),
      'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: formatting\ndata:\n  mode: "fast"\n  # kept\n  level: \'3\'\n',
    );
    const again = await vscode.commands.executeCommand('vscode.executeFormatDocumentProvider', formatting.uri, options);
    assert.deepStrictEqual(again ?? [], [], 'edits when formatted again');
  });

  // anchors.yaml: `&shared` (line 6) with the aliases `*shared` on lines 8 and 10, a URL in a comment.
  const anchors = await open('app/anchors.yaml');
  const alias = at(anchors, '*shared', 2, 2);
  const anchor = at(anchors, '&shared', 1);
  await check('anchors: hover on an alias shows what it expands to', async () => {
    const hovers = await until('a hover', async () => {
      const found = await vscode.commands.executeCommand('vscode.executeHoverProvider', anchors.uri, alias);
      return found.length > 0 && found;
    });
    const text = hovers.flatMap((hover) => hover.contents.map((content) => content.value ?? String(content))).join('\n');
    assert.ok(text.includes('Alias `*shared`') && text.includes('app: anchors'), text);
  });

  await check('anchors: definition from the alias is its anchor', async () => {
    const found = await vscode.commands.executeCommand('vscode.executeDefinitionProvider', anchors.uri, alias);
    assert.strictEqual(found.length, 1);
    const range = found[0].targetSelectionRange ?? found[0].targetRange ?? found[0].range;
    assert.deepStrictEqual(plain(range), [5, 11, 5, 17]);
  });

  await check('anchors: references of the anchor are itself and its two aliases', async () => {
    const found = await vscode.commands.executeCommand('vscode.executeReferenceProvider', anchors.uri, anchor);
    assert.deepStrictEqual(
      found.map((location) => [location.range.start.line, location.range.start.character]).sort((a, b) => a[0] - b[0]),
      [[5, 11], [7, 16], [9, 13]],
    );
  });

  await check('anchors: rename changes the anchor and its aliases', async () => {
    const before = anchors.getText();
    const edit = await vscode.commands.executeCommand('vscode.executeDocumentRenameProvider', anchors.uri, anchor, 'common');
    assert.ok(await vscode.workspace.applyEdit(edit), 'the edit was not applied');
    assert.strictEqual(anchors.getText(), before.replaceAll('&shared', '&common').replaceAll('*shared', '*common'));
  });

  await check('document links: the URL in a comment', async () => {
    const links = await vscode.commands.executeCommand('vscode.executeLinkProvider', anchors.uri);
    assert.deepStrictEqual(
      links.map((link) => [link.range.start.line, link.target.toString(true)]),
      [[0, 'https://kubernetes.io/docs/concepts/services-networking/service/']],
    );
  });

  // modeline.yaml: its modeline names settings.schema.json, which `replicas: many` breaks.
  const modeline = await open('app/modeline.yaml');
  await check('modeline: the document is checked against the schema file it names, and only that', async () => {
    const d = await until(published(modeline.uri), () => withCode(modeline.uri, 'schema-modeline')[0]);
    assert.ok(d.message.includes('settings.schema.json at `replicas`'), d.message);
    assert.deepStrictEqual(plain(d.range), [2, 10, 2, 14]);
    assert.strictEqual(vscode.languages.getDiagnostics(modeline.uri).length, 1, published(modeline.uri)());
  });

  // docker-compose.yml: YAML of another tool: a syntax error is reported, nothing of Kubernetes.
  const compose = await open('app/docker-compose.yml');
  await check('other YAML (Compose): a syntax error only, no Kubernetes diagnostics or completion', async () => {
    const original = compose.getText();
    const line = compose.lineAt(2).range;
    const broken = new vscode.WorkspaceEdit();
    broken.replace(compose.uri, line, '    image: [nginx:latest');
    assert.ok(await vscode.workspace.applyEdit(broken), 'the edit was not applied');
    await until(published(compose.uri), () => withCode(compose.uri, 'yaml-syntax').length > 0);
    assert.deepStrictEqual(vscode.languages.getDiagnostics(compose.uri).map(codeOf), ['yaml-syntax']);
    const fixed = new vscode.WorkspaceEdit();
    fixed.replace(compose.uri, new vscode.Range(0, 0, compose.lineCount, 0), original);
    assert.ok(await vscode.workspace.applyEdit(fixed), 'the fix was not applied');
    await until(published(compose.uri), () => vscode.languages.getDiagnostics(compose.uri).length === 0);
    const labels = await completionLabels(compose, new vscode.Position(5, 0));
    for (const label of ['apiVersion', 'kind', 'Deployment']) assert.ok(!labels.includes(label), `${label} offered: ${labels}`);
  });

  const template = await open('chart/templates/deployment.yaml');
  await check('helm: a chart template (language helm) gets `.Values` completion', async () => {
    assert.strictEqual(template.languageId, 'helm');
    const position = at(template, '.Values.image.repository', '.Values.image.'.length);
    const labels = await until('values completion', async () => {
      const found = await completionLabels(template, position);
      return found.includes('repository') && found;
    });
    assert.deepStrictEqual(labels.slice().sort(), ['repository', 'tag']);
  });
}

/** Opens config.yaml's diff: VS Code's diff editor between the live object and the dry-run. */
async function diff(check) {
  const config = await open('app/config.yaml');
  await check('kube-lsp.showDiff opens VS Code\'s diff editor (live ↔ dry-run)', async () => {
    const input = await until('a diff editor', async () => {
      await vscode.commands.executeCommand('kube-lsp.showDiff', config.uri);
      const tab = vscode.window.tabGroups.activeTabGroup.activeTab;
      return tab && tab.input instanceof vscode.TabInputTextDiff && tab;
    });
    assert.strictEqual(input.input.original.scheme, 'kube-lsp-diff');
    assert.match(input.label, /^ConfigMap settings: live ↔ dry-run \(context /);
    const live = await vscode.workspace.openTextDocument(input.input.original);
    assert.match(live.getText(), /mode: slow/);
  });
}

/** Points kube-lsp at a kubeconfig whose cluster is down; run.js then reads the status bar. */
async function clusterDown(check) {
  await check('the kubeconfig setting points at a cluster that is down', async () => {
    const file = process.env.KUBE_LSP_PROBE_DOWN_KUBECONFIG;
    assert.ok(file, 'KUBE_LSP_PROBE_DOWN_KUBECONFIG is not set');
    await vscode.workspace.getConfiguration('kube-lsp').update('kubeconfig', file, vscode.ConfigurationTarget.Global);
  });
}

function register(context, name, body) {
  context.subscriptions.push(
    vscode.commands.registerCommand(`kube-lsp-e2e.${name}`, async () => {
      const out = path.join(process.env.KUBE_LSP_PROBE_OUT || '', `${name}.json`);
      const results = [];
      const write = (done) => fs.writeFileSync(out, JSON.stringify({ done, results }, null, 2));
      const check = async (checkName, fn) => {
        try {
          await fn();
          results.push({ name: checkName, ok: true });
        } catch (error) {
          results.push({ name: checkName, ok: false, error: error instanceof Error ? error.message : String(error) });
        }
        write(false);
      };
      try {
        await vscode.extensions.getExtension('kube-lsp.kube-lsp').activate();
        await body(check);
      } catch (error) {
        results.push({ name: `${name} (setup)`, ok: false, error: error instanceof Error ? error.stack : String(error) });
      }
      write(true);
    }),
  );
}

exports.activate = (context) => {
  register(context, 'run', capabilities);
  register(context, 'diff', diff);
  register(context, 'clusterDown', clusterDown);
};

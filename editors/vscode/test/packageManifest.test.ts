// package.json is the extension's interface to VS Code: activation, commands and settings.
import assert from 'node:assert/strict';
import * as fs from 'fs';
import { test } from 'node:test';
import * as path from 'path';
import { DOCUMENT_SELECTOR, SECTION, baseClientOptions } from '../src/clientOptions';

const manifest = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8'));

/** The server's settings (docs/editors.md); `path` and `trace.server` are the client's own. */
export const SERVER_SETTINGS = ['kubeconfig', 'context', 'namespace', 'dryRun', 'diff', 'debounceMs', 'requestTimeoutMs', 'schemaPaths', 'dryRunContexts', 'dryRunSecrets', 'schemaDownload', 'maxFileBytes', 'rules', 'kustomize.path', 'kustomize.render', 'kustomize.timeoutMs', 'exclude', 'helm.path', 'helm.valuesFiles', 'helm.timeoutMs', 'helm.render', 'format.enable', 'format.indent', 'format.indentSequences', 'format.quoteStyle', 'format.lineWidth', 'format.keepBlankLines'];

test('activates on YAML and Helm templates and registers the five commands', () => {
  assert.deepEqual(manifest.activationEvents, ['onLanguage:yaml', 'onLanguage:helm', 'onLanguage:dockercompose', 'onLanguage:github-actions-workflow']);
  assert.deepEqual(manifest.contributes.languages.map((language: { id: string }) => language.id), ['helm']);
  const commands = manifest.contributes.commands.map((command: { command: string }) => command.command);
  assert.deepEqual(commands, ['kube-lsp.showDiff', 'kube-lsp.refreshCluster', 'kube-lsp.selectContext', 'kube-lsp.enableRuleGroup', 'kube-lsp.disableRuleGroup']);
});

test('declares every server setting with a type, a default and a description', () => {
  const properties = manifest.contributes.configuration.properties;
  const declared = Object.keys(properties).map((key) => key.slice(`${SECTION}.`.length));
  assert.deepEqual(declared.sort(), [...SERVER_SETTINGS, 'path', 'trace.server'].sort());
  for (const [key, property] of Object.entries<Record<string, unknown>>(properties)) {
    assert.ok(property.type, `${key} has a type`);
    assert.ok('default' in property, `${key} has a default`);
    assert.ok(typeof property.description === 'string' && property.description.length > 10, `${key} has a description`);
  }
  assert.deepEqual(properties['kube-lsp.dryRun'].enum, ['onChange', 'onSave', 'off']);
});

test('client options: YAML files and Helm templates, settings forwarded under the kube-lsp section', () => {
  const options = baseClientOptions({ context: 'kind-kind' });
  assert.deepEqual(options.documentSelector, DOCUMENT_SELECTOR);
  assert.deepEqual([...new Set(options.documentSelector.map((selector) => selector.language))], ['yaml', 'helm', 'dockercompose', 'github-actions-workflow']);
  const activated = manifest.activationEvents.map((event: string) => event.replace('onLanguage:', ''));
  assert.deepEqual(activated, ['yaml', 'helm', 'dockercompose', 'github-actions-workflow'], 'activation follows the selector');
  assert.deepEqual(options.synchronize, { configurationSection: 'kube-lsp' });
  assert.deepEqual(options.initializationOptions, { 'kube-lsp': { context: 'kind-kind' } });
});

test('the .vsix carries a license, a repository and the bundled server folder', () => {
  assert.equal(manifest.license, 'Apache-2.0');
  assert.ok(fs.existsSync(path.join(__dirname, '..', '..', 'LICENSE')));
  assert.ok(manifest.repository.url);
  const ignored = fs.readFileSync(path.join(__dirname, '..', '..', '.vscodeignore'), 'utf8');
  assert.doesNotMatch(ignored, /^server/m);
});

import assert from 'node:assert/strict';
import * as fs from 'fs';
import { test } from 'node:test';
import * as os from 'os';
import * as path from 'path';
import { contextsFromTexts, kubeconfigFiles, readContexts } from '../src/kubeconfig';

const first = `
apiVersion: v1
kind: Config
current-context: dev
contexts:
  - name: dev
    context: { cluster: dev-cluster, user: me, namespace: shop }
  - name: prod
    context: { cluster: prod-cluster, user: me }
`;
const second = `
current-context: other
contexts:
  - name: prod
    context: { cluster: shadowed }
  - name: kind-kind
    context: { cluster: kind-kind, user: kind-kind }
`;

test('which kubeconfig files: setting, then $KUBECONFIG (all of them), then ~/.kube/config', () => {
  assert.deepEqual(kubeconfigFiles('~/k.yaml', { KUBECONFIG: '/a' }, '/home/me'), [path.join('/home/me', 'k.yaml')]);
  assert.deepEqual(kubeconfigFiles(null, { KUBECONFIG: '/a::/b' }, '/home/me', 'linux'), ['/a', '/b']);
  assert.deepEqual(kubeconfigFiles('', { KUBECONFIG: 'C:\\a;C:\\b' }, 'C:\\me', 'win32'), ['C:\\a', 'C:\\b']);
  assert.deepEqual(kubeconfigFiles(undefined, {}, '/home/me'), [path.join('/home/me', '.kube', 'config')]);
});

test('contexts merge like kubectl: the first file naming a context or current-context wins', () => {
  const listed = contextsFromTexts([first, second]);
  assert.equal(listed.currentContext, 'dev');
  assert.deepEqual(listed.contexts, [
    { name: 'dev', cluster: 'dev-cluster', user: 'me', namespace: 'shop' },
    { name: 'prod', cluster: 'prod-cluster', user: 'me', namespace: undefined },
    { name: 'kind-kind', cluster: 'kind-kind', user: 'kind-kind', namespace: undefined },
  ]);
});

test('empty and odd kubeconfigs list nothing', () => {
  assert.deepEqual(contextsFromTexts(['', 'contexts: 3', 'contexts: [{context: {}}]']), { contexts: [], currentContext: undefined });
});

test('missing files are skipped, others are read', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kube-lsp-kubeconfig-'));
  const file = path.join(dir, 'config');
  fs.writeFileSync(file, second);
  const listed = readContexts([path.join(dir, 'missing'), file]);
  assert.equal(listed.currentContext, 'other');
  assert.deepEqual(listed.contexts.map((context) => context.name), ['prod', 'kind-kind']);
  fs.rmSync(dir, { recursive: true });
});

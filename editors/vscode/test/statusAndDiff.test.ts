import assert from 'node:assert/strict';
import { test } from 'node:test';
import { interpretDiffResult, serverSupportsCommand } from '../src/diff';
import { mergeStatus, NO_CLUSTER, statusView } from '../src/status';

test('status bar: "no cluster" until the server reports, then context and reachability', () => {
  assert.equal(statusView(undefined).text, 'kube-lsp: no cluster');
  assert.deepEqual(statusView({} as never), NO_CLUSTER);
  assert.equal(statusView({ context: 'kind-kind', reachable: true }).text, '$(check) kube-lsp: kind-kind');
  const down = statusView({ context: 'prod', reachable: false, message: 'connection refused' });
  assert.equal(down.text, '$(warning) kube-lsp: prod (unreachable)');
  assert.match(down.tooltip, /connection refused/);
  assert.equal(down.warning, true);
});

test('status bar: context/namespace, and the consent notification keeps the reachability', () => {
  const up = statusView({ context: 'kind-kind', reachable: true, server: 'https://127.0.0.1:6443' }, 'demo');
  assert.equal(up.text, '$(check) kube-lsp: kind-kind/demo');
  assert.match(up.tooltip, /API server https:\/\/127\.0\.0\.1:6443/);
  assert.match(up.tooltip, /namespace demo/);
  let status = mergeStatus(undefined, { context: 'kind-kind', reachable: true, message: 'version 1.33' });
  status = mergeStatus(status, { context: 'kind-kind', server: 'https://x', sendsDocuments: false, message: 'not sent' });
  assert.deepEqual(status, { context: 'kind-kind', reachable: true, server: 'https://x', sendsDocuments: false, message: 'not sent' });
  assert.equal(statusView(mergeStatus(undefined, { context: 'a', sendsDocuments: true })).text, NO_CLUSTER.text, 'consent alone says nothing of reachability');
  status = mergeStatus(status, { context: 'prod', reachable: false, message: 'connection refused' });
  assert.deepEqual(status, { context: 'prod', reachable: false, message: 'connection refused' }, 'another context starts afresh');
  assert.equal(statusView(status, 'default').text, '$(warning) kube-lsp: prod/default (unreachable)');
});

test('diff result: live + manifest, live only, nothing, or a message', () => {
  assert.deepEqual(interpretDiffResult({ live: 'a: 1\n', manifest: 'a: 2\n', title: 'Deployment web' }, 'web.yaml'), {
    kind: 'diff',
    diff: { live: 'a: 1\n', manifest: 'a: 2\n', title: 'Deployment web' },
  });
  const liveOnly = interpretDiffResult({ live: 'a: 1\n' }, 'web.yaml');
  assert.equal(liveOnly.kind === 'diff' && liveOnly.diff.manifest, undefined);
  assert.equal(liveOnly.kind === 'diff' && liveOnly.diff.title, 'web.yaml: cluster ↔ manifest');
  assert.deepEqual(interpretDiffResult(null, 'web.yaml'), { kind: 'message', message: 'kube-lsp: no live object to compare with web.yaml.' });
  assert.deepEqual(interpretDiffResult({ message: 'Deployment web does not exist' }, 'web.yaml'), {
    kind: 'message',
    message: 'kube-lsp: Deployment web does not exist',
  });
});

test('server commands are used only when the server advertises them', () => {
  assert.equal(serverSupportsCommand({ executeCommandProvider: { commands: ['kube-lsp.showDiff'] } }, 'kube-lsp.showDiff'), true);
  assert.equal(serverSupportsCommand({ executeCommandProvider: { commands: [] } }, 'kube-lsp.showDiff'), false);
  assert.equal(serverSupportsCommand({}, 'kube-lsp.refreshCluster'), false);
  assert.equal(serverSupportsCommand(undefined, 'kube-lsp.refreshCluster'), false);
});

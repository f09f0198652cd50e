import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as path from 'path';
import { bundledServerPath, resolveServerCommand } from '../src/serverPath';

const base = { extensionPath: '/ext', platform: 'linux', arch: 'x64', home: '/home/me' };

test('the kube-lsp.path setting wins, with ~ expanded', () => {
  const server = resolveServerCommand({ ...base, configured: '~/bin/kube-lsp', isFile: () => true });
  assert.deepEqual(server, { command: path.join('/home/me', 'bin/kube-lsp'), args: ['serve'], origin: 'setting' });
});

test('the binary shipped in the .vsix is next', () => {
  const shipped = bundledServerPath('/ext', 'linux', 'x64');
  assert.equal(shipped, path.join('/ext', 'server', 'linux-x64', 'kube-lsp'));
  const server = resolveServerCommand({ ...base, configured: '  ', isFile: (file) => file === shipped });
  assert.deepEqual(server, { command: shipped, args: ['serve'], origin: 'bundled' });
});

test('PATH is the fallback, with .exe on Windows', () => {
  assert.equal(resolveServerCommand({ ...base, configured: null, isFile: () => false }).command, 'kube-lsp');
  const windows = resolveServerCommand({ ...base, platform: 'win32', isFile: () => false });
  assert.deepEqual(windows, { command: 'kube-lsp.exe', args: ['serve'], origin: 'PATH' });
});

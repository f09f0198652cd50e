// Copies the built kube-lsp into server/<platform>-<arch>/ so `vsce package` ships it, when one exists.
// KUBE_LSP_BIN overrides the source; otherwise target/release, then target/debug of the repository.
const fs = require('fs');
const path = require('path');

const repo = path.resolve(__dirname, '..', '..', '..');
const name = process.platform === 'win32' ? 'kube-lsp.exe' : 'kube-lsp';
const candidates = [process.env.KUBE_LSP_BIN, path.join(repo, 'target', 'release', name), path.join(repo, 'target', 'debug', name)];
const source = candidates.find((file) => file && fs.existsSync(file));
const targetDir = path.join(__dirname, '..', 'server', `${process.platform}-${process.arch}`);
if (!source) {
  console.log('bundle-server: no kube-lsp binary built; the .vsix will use kube-lsp.path or PATH');
  process.exit(0);
}
fs.mkdirSync(targetDir, { recursive: true });
fs.copyFileSync(source, path.join(targetDir, name));
fs.chmodSync(path.join(targetDir, name), 0o755);
console.log(`bundle-server: ${source} -> ${path.relative(process.cwd(), path.join(targetDir, name))}`);

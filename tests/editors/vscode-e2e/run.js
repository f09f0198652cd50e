// The kube-lsp extension (.vsix) inside a real VS Code: code-server on loopback, driven by Debian's
// headless Chromium through playwright-core, on a copy of tests/editors/fixtures. In the window:
// the squiggle, the Problems panel, the status bar item, the Outline and the completion list. Then
// the test-only probe extension (probe/) checks every language feature the server offers through
// VS Code's own commands (vscode.execute*Provider, edits applied with workspace.applyEdit). With
// KUBE_LSP_TEST_KUBECONFIG (tests/testenv/start): the status bar shows the context/namespace,
// kube-lsp.showDiff opens VS Code's diff editor (screenshot), and a cluster that goes down shows
// in the status bar; without it, a cluster that is down from the start.
//   node tests/editors/vscode-e2e/run.js <extension.vsix> <kube-lsp binary> [screenshot.png] [diff-screenshot.png]
// Prints `N passed, M failed` last; exits non-zero on failure.
const { spawn, spawnSync } = require('child_process');
const fs = require('fs');
const net = require('net');
const os = require('os');
const path = require('path');
const { chromium } = require('playwright-core');

const [vsix, binary, screenshot, diffScreenshot] = process.argv.slice(2).map((arg) => arg && path.resolve(arg));
const codeServer = path.join(__dirname, 'node_modules', '.bin', 'code-server');
const chromiumPath = process.env.CHROMIUM || '/usr/bin/chromium';
const results = { passed: 0, failed: 0 };

async function check(name, fn) {
  try {
    await fn();
    results.passed++;
    console.log(`ok   ${name}`);
  } catch (error) {
    results.failed++;
    console.log(`FAIL ${name}: ${error.message.replace(/\s*\n\s*/g, ' ')}`);
  }
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

async function waitForHttp(url, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {}
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`code-server did not answer on ${url} within ${timeoutMs} ms`);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const cluster = process.env.KUBE_LSP_TEST_KUBECONFIG || '';
const NAMESPACE = 'kube-lsp-editors-e2e';

function copyTree(from, to) {
  fs.mkdirSync(to, { recursive: true });
  for (const entry of fs.readdirSync(from, { withFileTypes: true })) {
    const [source, target] = [path.join(from, entry.name), path.join(to, entry.name)];
    if (entry.isDirectory()) copyTree(source, target);
    else fs.copyFileSync(source, target);
  }
}

/** A kubeconfig whose API server is a loopback port nothing listens on. */
async function downKubeconfig(file) {
  const port = await freePort();
  fs.writeFileSync(file, `apiVersion: v1
kind: Config
clusters: [{name: down, cluster: {server: "https://127.0.0.1:${port}", insecure-skip-tls-verify: true}}]
users: [{name: nobody, user: {token: none}}]
contexts: [{name: cluster-down, context: {cluster: down, user: nobody}}]
current-context: cluster-down
`);
  return file;
}

function currentContext(kubeconfig) {
  return /^current-context:\s*"?([^"\s]+)"?/m.exec(fs.readFileSync(kubeconfig, 'utf8'))[1];
}

/** The live ConfigMap that config.yaml (renamed to `settings` by the probe) is compared with. */
function createLiveObject() {
  const kubectl = (args, input) => {
    const run = spawnSync('kubectl', ['--kubeconfig', cluster, ...args], { input, encoding: 'utf8', timeout: 60_000 });
    if (run.status !== 0) throw new Error(`kubectl ${args.join(' ')}: ${run.stderr}`);
  };
  // Server-side apply: no last-applied annotation to show in the diff.
  const apply = ['apply', '--server-side', '--force-conflicts', '--field-manager', 'kube-lsp-e2e', '-f', '-'];
  kubectl(apply, `apiVersion: v1\nkind: Namespace\nmetadata: {name: ${NAMESPACE}}\n`);
  kubectl(apply, `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings, namespace: ${NAMESPACE}}\ndata: {mode: slow}\n`);
}

function packageProbe(out) {
  const vsce = path.join(__dirname, '..', '..', '..', 'editors', 'vscode', 'node_modules', '@vscode', 'vsce', 'vsce');
  const packed = spawnSync(process.execPath, [vsce, 'package', '--out', out, '--allow-missing-repository', '--skip-license'], {
    cwd: path.join(__dirname, 'probe'),
    encoding: 'utf8',
  });
  if (packed.status !== 0) throw new Error(`vsce package (probe): ${packed.stdout} ${packed.stderr}`);
  return out;
}

async function prepareProfile(root) {
  const dirs = {
    userData: path.join(root, 'user-data'),
    extensions: path.join(root, 'extensions'),
    workspace: path.join(root, 'workspace'),
    probeOut: path.join(root, 'probe-out'),
  };
  Object.values(dirs).forEach((dir) => fs.mkdirSync(dir, { recursive: true }));
  fs.mkdirSync(path.join(dirs.userData, 'User'), { recursive: true });
  dirs.down = await downKubeconfig(path.join(root, 'down-kubeconfig'));
  fs.writeFileSync(path.join(dirs.userData, 'User', 'settings.json'), JSON.stringify({
    'kube-lsp.path': binary,
    'kube-lsp.dryRun': 'off',
    'kube-lsp.kubeconfig': cluster || dirs.down,
    'kube-lsp.namespace': NAMESPACE,
    'kube-lsp.dryRunContexts': cluster ? [currentContext(cluster)] : [],
    'kube-lsp.kustomize.render': false,
    'kube-lsp.helm.render': false,
    // A chart's templates are Helm (what the Kubernetes extension would say).
    'files.associations': { '**/chart/templates/*.yaml': 'helm' },
    'workbench.startupEditor': 'none',
    'workbench.tips.enabled': false,
    'security.workspace.trust.enabled': false,
    'extensions.autoCheckUpdates': false,
    'telemetry.telemetryLevel': 'off',
    'editor.quickSuggestions': { other: false, comments: false, strings: false },
    'editor.wordBasedSuggestions': 'off',
  }, null, 2));
  // Shared with the Neovim e2e test; the probe's edits change only this copy.
  copyTree(path.join(__dirname, '..', 'fixtures'), dirs.workspace);
  fs.writeFileSync(path.join(root, 'config.yaml'), 'auth: none\ncert: false\n');
  return dirs;
}

/** Runs a command from the command palette. */
async function runCommand(page, title) {
  await page.keyboard.press('Escape');
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ timeout: 30_000 });
  await input.fill(`>${title}`);
  await page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first().waitFor({ timeout: 30_000 });
  await page.keyboard.press('Enter');
}

/** Opens a file of the explorer's `app` folder (expanded at the start) and waits for its tab. */
async function openFile(page, name) {
  await page.keyboard.press('Escape');
  await page.locator('.explorer-folders-view .monaco-list-row', { hasText: new RegExp(`^${name.replace('.', '\\.')}$`) }).first().click();
  await page.locator('.tab.active', { hasText: name }).first().waitFor({ timeout: 30_000 });
}

/** Runs a probe command and reports each of its checks. */
async function runProbe(page, dirs, name, title) {
  const out = path.join(dirs.probeOut, `${name}.json`);
  fs.rmSync(out, { force: true });
  await runCommand(page, title);
  const deadline = Date.now() + 600_000;
  let report;
  while (Date.now() < deadline) {
    try {
      report = JSON.parse(fs.readFileSync(out, 'utf8'));
      if (report.done) break;
    } catch {}
    await sleep(250);
  }
  if (!report || !report.done) throw new Error(`probe ${name} did not finish: ${JSON.stringify(report)}`);
  for (const result of report.results) {
    await check(`[probe] ${result.name}`, () => {
      if (!result.ok) throw new Error(result.error);
    });
  }
}

async function statusBar(page, text) {
  await page.locator('.statusbar-item', { hasText: text }).first().waitFor({ timeout: 60_000 });
}

async function main() {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'kube-lsp-code-server-'));
  const dirs = await prepareProfile(root);
  const common = ['--config', path.join(root, 'config.yaml'), '--user-data-dir', dirs.userData, '--extensions-dir', dirs.extensions];
  for (const [what, file] of [['the .vsix', vsix], ['the probe', () => packageProbe(path.join(root, 'probe.vsix'))]]) {
    await check(`code-server --install-extension installs ${what}`, () => {
      const installed = spawnSync(codeServer, [...common, '--install-extension', typeof file === 'function' ? file() : file], { encoding: 'utf8' });
      if (installed.status !== 0 || !/successfully installed/.test(installed.stdout)) {
        throw new Error(`exit ${installed.status}: ${installed.stdout} ${installed.stderr}`);
      }
    });
  }
  if (cluster) {
    await check('the live ConfigMap is created in the test cluster', () => createLiveObject());
  }

  const port = await freePort();
  const server = spawn(codeServer, [...common, '--bind-addr', `127.0.0.1:${port}`, '--disable-telemetry', '--disable-update-check',
    '--disable-workspace-trust', '--disable-getting-started-override', dirs.workspace], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, KUBE_LSP_PROBE_OUT: dirs.probeOut, KUBE_LSP_PROBE_DOWN_KUBECONFIG: dirs.down, KUBE_LSP_PROBE_CLUSTER: cluster ? '1' : '' },
  });
  let serverLog = '';
  server.stdout.on('data', (chunk) => (serverLog += chunk));
  server.stderr.on('data', (chunk) => (serverLog += chunk));
  let browser;
  try {
    await waitForHttp(`http://127.0.0.1:${port}/healthz`, 60_000);
    browser = await chromium.launch({
      executablePath: chromiumPath,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
    });
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(`http://127.0.0.1:${port}/?folder=${encodeURIComponent(dirs.workspace)}`);
    await page.waitForSelector('.monaco-workbench', { timeout: 90_000 });

    await check('the manifest opens from the explorer', async () => {
      const folder = page.locator('.explorer-folders-view .monaco-list-row', { hasText: /^app$/ });
      await folder.waitFor({ timeout: 60_000 });
      await folder.click();
      const entry = page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'web.yaml' });
      await entry.waitFor({ timeout: 60_000 });
      await entry.click();
      await page.locator('.monaco-editor .view-lines', { hasText: 'apiVersion' }).first().waitFor({ timeout: 30_000 });
    });

    if (cluster) {
      await check('the status bar shows the context and namespace of the cluster', async () => {
        await statusBar(page, `kube-lsp: ${currentContext(cluster)}/${NAMESPACE}`);
      });
    } else {
      await check('the status bar shows that the cluster is down', async () => {
        await statusBar(page, `kube-lsp: cluster-down/${NAMESPACE} (unreachable)`);
      });
    }

    await check('the duplicate key is squiggled', async () => {
      await page.locator('.monaco-editor .squiggly-error').first().waitFor({ timeout: 60_000 });
    });

    await check('the Problems panel lists the duplicate key from kube-lsp', async () => {
      await page.keyboard.press('Control+Shift+M');
      const row = page.locator('.markers-panel .monaco-list-row', { hasText: 'duplicate key `name`' });
      await row.first().waitFor({ timeout: 30_000 });
      const text = await row.first().innerText();
      if (!/kube-lsp/.test(text) || !/Ln 5, Col 3/.test(text)) throw new Error(`unexpected row: ${text}`);
    });

    await check('the Outline shows the manifest (kind and name) from kube-lsp', async () => {
      await page.locator('.pane-header', { hasText: 'Outline' }).click();
      // `name` is duplicated here, so the server may name it after either value.
      await page.locator('.monaco-list-row', { hasText: /^Deployment (web|again)/ }).first().waitFor({ timeout: 30_000 });
    });

    if (screenshot) {
      await page.locator('.monaco-editor .view-line', { hasText: 'name: again' }).first().click();
      await page.screenshot({ path: screenshot });
      console.log(`screenshot: ${screenshot}`);
    }

    await runProbe(page, dirs, 'run', 'kube-lsp e2e: run the capability checks');

    await check('the code lens over the Service selector shows in the editor', async () => {
      await openFile(page, 'api.yaml');
      // The Service is at the end of the file, below the fold.
      await page.locator('.monaco-editor .view-line', { hasText: 'apiVersion: apps/v1' }).first().click();
      await page.keyboard.press('Control+End');
      await page.locator('.monaco-editor .codelens-decoration', { hasText: '1 Deployment: api' }).first().waitFor({ timeout: 60_000 });
    });

    await check('a completion list with the kinds of apps/v1 opens after `kind: `', async () => {
      await openFile(page, 'web.yaml');
      await page.locator('.monaco-editor .view-line', { hasText: 'kind: Deployment' }).first().click();
      await page.keyboard.press('End');
      await page.keyboard.press('Shift+Home');
      await page.keyboard.type('kind: ');
      await page.keyboard.press('Control+Space');
      const widget = page.locator('.editor-widget.suggest-widget.visible');
      await widget.waitFor({ timeout: 30_000 });
      // The widget opens before the server's answer arrives (it says "Loading..." meanwhile).
      const deployment = widget.locator('.monaco-list-row .label-name', { hasText: /^Deployment$/ });
      const arrived = await deployment.first().waitFor({ timeout: 30_000 }).then(() => true, () => false);
      const labels = await widget.locator('.monaco-list-row .label-name').allInnerTexts();
      if (!arrived) throw new Error(`Deployment not among ${labels.join(', ')}`);
      await page.keyboard.press('Escape');
    });

    if (cluster) {
      await runProbe(page, dirs, 'diff', 'kube-lsp e2e: show the diff of config.yaml');
      await check('the diff editor shows both sides', async () => {
        const editor = page.locator('.monaco-diff-editor');
        await editor.first().waitFor({ timeout: 30_000 });
        await editor.locator('.view-line', { hasText: 'mode: slow' }).first().waitFor({ timeout: 30_000 });
        await editor.locator('.view-line', { hasText: 'mode: fast' }).first().waitFor({ timeout: 30_000 });
        if (diffScreenshot) {
          await page.screenshot({ path: diffScreenshot });
          console.log(`screenshot: ${diffScreenshot}`);
        }
      });
      await runProbe(page, dirs, 'clusterDown', 'kube-lsp e2e: point kube-lsp at a cluster that is down');
      await check('the status bar shows that the cluster went down', async () => {
        await statusBar(page, `kube-lsp: cluster-down/${NAMESPACE} (unreachable)`);
      });
    }
  } catch (error) {
    results.failed++;
    console.log(`FAIL code-server session: ${error.message.split('\n')[0]}\n${serverLog.slice(-2000)}`);
  } finally {
    if (browser) await browser.close();
    server.kill('SIGTERM');
    fs.rmSync(root, { recursive: true, force: true });
  }
  console.log(`${results.passed} passed, ${results.failed} failed`);
  process.exit(results.failed === 0 ? 0 : 1);
}

main();

// A JSON-RPC client on vscode-jsonrpc (the transport vscode-languageclient uses) around the real
// kube-lsp binary, answering the server's requests as VS Code would.
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { createMessageConnection, MessageConnection, StreamMessageReader, StreamMessageWriter } from 'vscode-jsonrpc/node';

export const REPO = path.resolve(__dirname, '..', '..', '..', '..');

/** KUBE_LSP_BIN, else the newest of target/release and target/debug; undefined when none is built. */
export function findServerBinary(): string | undefined {
  if (process.env.KUBE_LSP_BIN) {
    return process.env.KUBE_LSP_BIN;
  }
  const built = ['release', 'debug']
    .map((profile) => path.join(REPO, 'target', profile, 'kube-lsp'))
    .filter((file) => fs.existsSync(file))
    .sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs);
  return built[0];
}

export interface PublishedDiagnostics {
  uri: string;
  version?: number;
  diagnostics: Array<{ range: { start: { line: number; character: number }; end: { line: number; character: number } }; message: string; code?: string | number; source?: string; severity?: number }>;
}

export class ServerUnderTest {
  readonly process: ChildProcess;
  readonly connection: MessageConnection;
  readonly published: PublishedDiagnostics[] = [];
  readonly notifications: Array<{ method: string; params: unknown }> = [];
  readonly configurationRequests: unknown[] = [];
  stderr = '';
  private waiters: Array<() => void> = [];

  constructor(binary: string, private settings: Record<string, unknown>) {
    this.process = spawn(binary, ['serve'], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, KUBE_LSP_LOG: 'warn' } });
    this.process.stderr!.on('data', (chunk) => (this.stderr += chunk));
    this.connection = createMessageConnection(new StreamMessageReader(this.process.stdout!), new StreamMessageWriter(this.process.stdin!));
    this.connection.onNotification('textDocument/publishDiagnostics', (params: PublishedDiagnostics) => {
      this.published.push(params);
      this.wake();
    });
    this.connection.onNotification((method, params) => {
      this.notifications.push({ method, params });
      this.wake();
    });
    // What vscode-languageclient answers: the `kube-lsp` section of the settings for workspace/configuration.
    this.connection.onRequest('workspace/configuration', (params: { items: Array<{ section?: string }> }) => {
      this.configurationRequests.push(params);
      return params.items.map((item) => (item.section === 'kube-lsp' ? this.settings : item.section?.startsWith('kube-lsp.') ? this.settings[item.section.slice(9)] ?? null : null));
    });
    this.connection.onRequest('client/registerCapability', () => null);
    this.connection.onRequest('client/unregisterCapability', () => null);
    this.connection.onRequest('window/workDoneProgress/create', () => null);
    this.connection.onRequest('workspace/diagnostic/refresh', () => null);
    this.connection.listen();
  }

  private wake() {
    const waiters = this.waiters;
    this.waiters = [];
    waiters.forEach((wake) => wake());
  }

  /** Resolves with the first published diagnostics matching `accept`, or rejects after `timeoutMs`. */
  async waitForDiagnostics(accept: (published: PublishedDiagnostics) => boolean, timeoutMs = 10_000): Promise<PublishedDiagnostics> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.published.find(accept);
      if (found) {
        return found;
      }
      if (Date.now() > deadline) {
        throw new Error(`no matching diagnostics within ${timeoutMs} ms; got ${JSON.stringify(this.published)}; stderr: ${this.stderr}`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 200);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** True when the server was still running 2 s after `exit`. */
  lingeredAfterExit = false;

  /**
   * shutdown + exit as VS Code does. Like vscode-languageclient, which ends a server still alive
   * 2 s after `exit`, this closes stdin then (and records it); resolves with the exit code.
   */
  async stop(): Promise<number | null> {
    const exited = new Promise<number | null>((resolve) => this.process.on('exit', (code) => resolve(code)));
    await this.connection.sendRequest('shutdown');
    await this.connection.sendNotification('exit');
    const late = setTimeout(() => {
      this.lingeredAfterExit = true;
      this.process.stdin!.end();
    }, 2000);
    const code = await exited;
    clearTimeout(late);
    this.connection.dispose();
    return code;
  }
}

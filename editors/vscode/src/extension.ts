// VS Code entry point: starts kube-lsp over stdio, forwards the `kube-lsp.*` settings, shows the
// cluster status and registers the commands.
import * as fs from 'fs';
import * as vscode from 'vscode';
import { ExecuteCommandRequest, LanguageClientOptions, ServerOptions } from 'vscode-languageclient/node';
import { SECTION, SERVER_COMMANDS, STATUS_NOTIFICATION, baseClientOptions } from './clientOptions';
import { interpretDiffResult, serverSupportsCommand } from './diff';
import { kubeconfigFiles, readContexts } from './kubeconfig';
import { KubeLspClient } from './kubeLspClient';
import { resolveServerCommand } from './serverPath';
import { describeRules, RULE_GROUPS, withRuleGroup } from './rules';
import { ClusterStatus, mergeStatus, NO_CLUSTER, statusView } from './status';

const DIFF_SCHEME = 'kube-lsp-diff';

let client: KubeLspClient | undefined;

function settingsObject(): Record<string, unknown> {
  const config = vscode.workspace.getConfiguration(SECTION);
  return JSON.parse(JSON.stringify(config)) as Record<string, unknown>;
}

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const output = vscode.window.createOutputChannel('kube-lsp');
  const server = resolveServerCommand({
    configured: vscode.workspace.getConfiguration(SECTION).get<string | null>('path'),
    extensionPath: context.extensionPath,
    platform: process.platform,
    arch: process.arch,
    isFile: (file) => fs.existsSync(file) && fs.statSync(file).isFile(),
  });
  output.appendLine(`kube-lsp: starting ${server.command} ${server.args.join(' ')} (from ${server.origin})`);

  const serverOptions: ServerOptions = { command: server.command, args: server.args };
  const clientOptions: LanguageClientOptions = { ...baseClientOptions(settingsObject()), outputChannel: output };
  client = new KubeLspClient(SECTION, 'kube-lsp', serverOptions, clientOptions);

  const status = vscode.window.createStatusBarItem(vscode.StatusBarAlignment.Left, 0);
  status.command = 'kube-lsp.selectContext';
  let clusterStatus: ClusterStatus | undefined;
  const showStatus = () => {
    const view = clusterStatus ? statusView(clusterStatus, namespaceOf(clusterStatus.context)) : NO_CLUSTER;
    status.text = view.text;
    status.tooltip = view.tooltip;
    status.backgroundColor = view.warning ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
  };
  showStatus();
  status.show();

  const diffDocuments = new Map<string, string>();
  const diffChanged = new vscode.EventEmitter<vscode.Uri>();
  context.subscriptions.push(
    output,
    status,
    diffChanged,
    vscode.workspace.registerTextDocumentContentProvider(DIFF_SCHEME, {
      onDidChange: diffChanged.event,
      provideTextDocumentContent: (uri) => diffDocuments.get(uri.toString()) ?? '',
    }),
    vscode.commands.registerCommand('kube-lsp.showDiff', async (target?: vscode.Uri) => {
      const uri = target ?? vscode.window.activeTextEditor?.document.uri;
      if (!uri) {
        return void vscode.window.showInformationMessage('kube-lsp: open a manifest to compare it with the cluster.');
      }
      const result = await runServerCommand(SERVER_COMMANDS.showDiff, [uri.toString()]);
      if (result === NOT_SUPPORTED) {
        return;
      }
      const name = uri.path.split('/').pop() ?? uri.toString();
      const outcome = interpretDiffResult(result, name);
      if (outcome.kind === 'message') {
        return void vscode.window.showInformationMessage(outcome.message);
      }
      const live = vscode.Uri.from({ scheme: DIFF_SCHEME, path: `/live/${name}`, query: uri.toString() });
      diffDocuments.set(live.toString(), outcome.diff.live);
      diffChanged.fire(live);
      let manifest = uri;
      if (outcome.diff.manifest !== undefined) {
        manifest = vscode.Uri.from({ scheme: DIFF_SCHEME, path: `/manifest/${name}`, query: uri.toString() });
        diffDocuments.set(manifest.toString(), outcome.diff.manifest);
        diffChanged.fire(manifest);
      }
      await vscode.commands.executeCommand('vscode.diff', live, manifest, outcome.diff.title);
    }),
    vscode.commands.registerCommand('kube-lsp.refreshCluster', async () => {
      const result = await runServerCommand(SERVER_COMMANDS.refreshCluster, []);
      if (result !== NOT_SUPPORTED) {
        vscode.window.setStatusBarMessage('kube-lsp: cluster state refreshed', 3000);
      }
    }),
    vscode.commands.registerCommand('kube-lsp.selectContext', selectContext),
    vscode.commands.registerCommand('kube-lsp.enableRuleGroup', (group?: string) => setRuleGroup(true, group)),
    vscode.commands.registerCommand('kube-lsp.disableRuleGroup', (group?: string) => setRuleGroup(false, group)),
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (event.affectsConfiguration(`${SECTION}.namespace`) || event.affectsConfiguration(`${SECTION}.kubeconfig`)) {
        showStatus();
      }
    }),
  );

  client.onNotification(STATUS_NOTIFICATION, (params: ClusterStatus) => {
    clusterStatus = mergeStatus(clusterStatus, params);
    showStatus();
  });
  try {
    await client.start();
  } catch (error) {
    const message = `kube-lsp: could not start ${server.command}: ${error instanceof Error ? error.message : String(error)}. Set "kube-lsp.path" to the kube-lsp binary.`;
    output.appendLine(message);
    void vscode.window.showErrorMessage(message);
  }
}

const NOT_SUPPORTED = Symbol('not supported');

/** Sends workspace/executeCommand, telling the user (instead of failing) when the server lacks it. */
async function runServerCommand(command: string, args: unknown[]): Promise<unknown> {
  if (!client || !client.isRunning()) {
    void vscode.window.showWarningMessage('kube-lsp: the language server is not running.');
    return NOT_SUPPORTED;
  }
  if (!serverSupportsCommand(client.initializeResult?.capabilities, command)) {
    void vscode.window.showInformationMessage(`kube-lsp: this version of the server does not support ${command} yet.`);
    return NOT_SUPPORTED;
  }
  try {
    return await client.sendRequest(ExecuteCommandRequest.type, { command, arguments: args });
  } catch (error) {
    void vscode.window.showErrorMessage(`kube-lsp: ${command} failed: ${error instanceof Error ? error.message : String(error)}`);
    return NOT_SUPPORTED;
  }
}

/** The namespace manifests without one go to: the setting, else the context's, else `default`. */
function namespaceOf(context: string | undefined): string {
  const config = vscode.workspace.getConfiguration(SECTION);
  const configured = config.get<string | null>('namespace');
  if (configured) {
    return configured;
  }
  try {
    const listed = readContexts(kubeconfigFiles(config.get<string | null>('kubeconfig')));
    const name = context ?? listed.currentContext;
    return listed.contexts.find((each) => each.name === name)?.namespace || 'default';
  } catch {
    return 'default';
  }
}

/** Turns a rule group on or off in `kube-lsp.rules` (asks which one when not given). */
async function setRuleGroup(on: boolean, group?: string): Promise<void> {
  const config = vscode.workspace.getConfiguration(SECTION);
  const rules = config.get<unknown>('rules');
  const chosen =
    group ??
    (await vscode.window.showQuickPick([...RULE_GROUPS], {
      placeHolder: `Rule group to ${on ? 'enable' : 'disable'} (now: ${describeRules(rules)})`,
    }));
  if (!chosen) {
    return;
  }
  const target = vscode.workspace.workspaceFolders ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global;
  await config.update('rules', withRuleGroup(rules, chosen, on), target);
  vscode.window.setStatusBarMessage(`kube-lsp: rule group ${chosen} ${on ? 'enabled' : 'disabled'}`, 3000);
}

async function selectContext(): Promise<void> {
  const config = vscode.workspace.getConfiguration(SECTION);
  const files = kubeconfigFiles(config.get<string | null>('kubeconfig'));
  let listed;
  try {
    listed = readContexts(files);
  } catch (error) {
    return void vscode.window.showErrorMessage(`kube-lsp: cannot read ${files.join(', ')}: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (listed.contexts.length === 0) {
    return void vscode.window.showInformationMessage(`kube-lsp: no contexts in ${files.join(', ')}.`);
  }
  const selected = config.get<string | null>('context') || listed.currentContext;
  const picked = await vscode.window.showQuickPick(
    listed.contexts.map((context) => ({
      label: context.name,
      description: [context.cluster, context.namespace && `ns ${context.namespace}`].filter(Boolean).join(' · '),
      detail: context.name === listed.currentContext ? 'current-context of the kubeconfig' : undefined,
      picked: context.name === selected,
    })),
    { placeHolder: `Kubernetes context for kube-lsp (now: ${selected ?? 'none'})` },
  );
  if (picked) {
    const target = vscode.workspace.workspaceFolders ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global;
    await config.update('context', picked.label, target);
  }
}

export async function deactivate(): Promise<void> {
  await client?.stop();
  client = undefined;
}

import { DynamicFeature, ExecuteCommandRequest, LanguageClient, StaticFeature } from 'vscode-languageclient/node';

/**
 * vscode-languageclient registers every command the server lists in executeCommandProvider as a VS
 * Code command of the same id, which would collide with our own `kube-lsp.showDiff` (it opens a
 * diff editor instead of just running the server command). We send workspace/executeCommand ourselves.
 */
export class KubeLspClient extends LanguageClient {
  registerFeature(feature: StaticFeature | DynamicFeature<unknown>): void {
    const method = (feature as { registrationType?: { method?: string } }).registrationType?.method;
    if (method === ExecuteCommandRequest.method) {
      return;
    }
    super.registerFeature(feature);
  }
}

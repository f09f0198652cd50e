// The language client's options, kept free of the `vscode` module so tests can check the wiring.

export const SECTION = 'kube-lsp';
export const STATUS_NOTIFICATION = 'kube-lsp/status';
export const LANGUAGES = ['yaml', 'helm', 'dockercompose', 'github-actions-workflow'] as const;
export const SERVER_COMMANDS = { showDiff: 'kube-lsp.showDiff', refreshCluster: 'kube-lsp.refreshCluster' } as const;

/**
 * YAML files on disk and unsaved ones, Helm chart templates: the language id `helm` (set by
 * the Kubernetes extension, or by `files.associations`), where the server offers `.Values`
 * completion, hover and definition, Compose files (VS Code's own language id `dockercompose`)
 * and GitHub workflows (`github-actions-workflow`, set by GitHub's Actions extension), which get
 * syntax checks and formatting, and a JSON schema where the settings or a modeline name one.
 */
export const DOCUMENT_SELECTOR = [
  { scheme: 'file', language: 'yaml' },
  { scheme: 'untitled', language: 'yaml' },
  { scheme: 'file', language: 'helm' },
  { scheme: 'file', language: 'dockercompose' },
  { scheme: 'file', language: 'github-actions-workflow' },
];

export function baseClientOptions(settings: Record<string, unknown>) {
  return {
    documentSelector: DOCUMENT_SELECTOR,
    // The server reads its settings from initializationOptions, then from
    // workspace/didChangeConfiguration ({"kube-lsp": {...}}) and workspace/configuration.
    initializationOptions: { [SECTION]: settings },
    synchronize: { configurationSection: SECTION },
  };
}

// Interprets the result of the server command `kube-lsp.showDiff`. The server returns the live
// object's YAML and the manifest as it would be applied; anything else becomes a message for the user.

export interface DiffContents {
  live: string;
  /** The manifest side; when absent the editor's own document is shown. */
  manifest?: string;
  title: string;
}

export type DiffOutcome = { kind: 'diff'; diff: DiffContents } | { kind: 'message'; message: string };

export function interpretDiffResult(result: unknown, documentName: string): DiffOutcome {
  if (result === null || result === undefined) {
    return { kind: 'message', message: `kube-lsp: no live object to compare with ${documentName}.` };
  }
  if (typeof result !== 'object') {
    return { kind: 'message', message: `kube-lsp: unexpected diff result: ${JSON.stringify(result)}` };
  }
  const value = result as Record<string, unknown>;
  if (typeof value.live !== 'string') {
    const message = typeof value.message === 'string' ? value.message : `no live object to compare with ${documentName}.`;
    return { kind: 'message', message: `kube-lsp: ${message}` };
  }
  return {
    kind: 'diff',
    diff: {
      live: value.live,
      manifest: typeof value.manifest === 'string' ? value.manifest : undefined,
      title: typeof value.title === 'string' && value.title ? value.title : `${documentName}: cluster ↔ manifest`,
    },
  };
}

/** Whether the server advertised a command in `executeCommandProvider.commands`. */
export function serverSupportsCommand(capabilities: unknown, command: string): boolean {
  const provider = (capabilities as { executeCommandProvider?: { commands?: unknown } } | undefined)?.executeCommandProvider;
  return Array.isArray(provider?.commands) && provider.commands.includes(command);
}

// The status bar text for the `kube-lsp/status` notification. Pure, so it is unit-tested.

/**
 * Params of the server's `kube-lsp/status` notification: reachability (`reachable`, `message`), or
 * the dry-run consent for a context (`sendsDocuments`, `server`, `message`). Each notification
 * updates what it carries; `mergeStatus` keeps the rest.
 */
export interface ClusterStatus {
  context?: string;
  reachable?: boolean;
  message?: string;
  server?: string;
  sendsDocuments?: boolean;
}

export interface StatusView {
  text: string;
  tooltip: string;
  warning: boolean;
}

export const NO_CLUSTER: StatusView = {
  text: 'kube-lsp: no cluster',
  tooltip: 'kube-lsp has not reported a cluster yet. Click to select a context.',
  warning: false,
};

/** The status after a notification: a new context starts afresh; the same one keeps what is not said again. */
export function mergeStatus(previous: ClusterStatus | undefined, update: ClusterStatus): ClusterStatus {
  if (!previous || (update.context !== undefined && update.context !== previous.context)) {
    return { ...update };
  }
  const merged: ClusterStatus = { ...previous };
  for (const [key, value] of Object.entries(update)) {
    if (value !== undefined && value !== null) {
      (merged as Record<string, unknown>)[key] = value;
    }
  }
  return merged;
}

/** `namespace`: the one manifests without a namespace go to (the setting, else the context's). */
export function statusView(status: ClusterStatus | undefined | null, namespace?: string): StatusView {
  if (!status || typeof status.reachable !== 'boolean') {
    return NO_CLUSTER;
  }
  const context = status.context || 'no context';
  const where = namespace ? `${context}/${namespace}` : context;
  const lines = [status.server && `API server ${status.server}`, namespace && `namespace ${namespace}`, status.message].filter(Boolean);
  const detail = lines.length ? `\n${lines.join('\n')}` : '';
  if (status.reachable) {
    return { text: `$(check) kube-lsp: ${where}`, tooltip: `Cluster reachable (${context})${detail}`, warning: false };
  }
  return { text: `$(warning) kube-lsp: ${where} (unreachable)`, tooltip: `Cluster not reachable (${context})${detail}`, warning: true };
}

// The status bar text for the `kube-lsp/status` notification. Pure, so it is unit-tested.

/** Params of the server's `kube-lsp/status` notification. */
export interface ClusterStatus {
  context?: string;
  reachable: boolean;
  message?: string;
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

export function statusView(status: ClusterStatus | undefined | null): StatusView {
  if (!status || typeof status.reachable !== 'boolean') {
    return NO_CLUSTER;
  }
  const context = status.context || 'no context';
  const detail = status.message ? `\n${status.message}` : '';
  if (status.reachable) {
    return { text: `$(check) kube-lsp: ${context}`, tooltip: `Cluster reachable (${context})${detail}`, warning: false };
  }
  return { text: `$(warning) kube-lsp: ${context} (unreachable)`, tooltip: `Cluster not reachable (${context})${detail}`, warning: true };
}

// Lists the contexts of the kubeconfig the server will use, for the context quick pick. Follows
// kubectl's rules: the setting, else every file of $KUBECONFIG merged (first one wins), else
// ~/.kube/config. Pure except for reading files.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parse } from 'yaml';
import { expandHome } from './serverPath';

export interface KubeContext {
  name: string;
  cluster?: string;
  user?: string;
  namespace?: string;
}

export interface KubeconfigContexts {
  contexts: KubeContext[];
  currentContext?: string;
}

export function kubeconfigFiles(
  setting: string | null | undefined,
  env: NodeJS.ProcessEnv = process.env,
  home: string = os.homedir(),
  platform: string = process.platform,
): string[] {
  if (setting && setting.trim()) {
    return [expandHome(setting.trim(), home)];
  }
  const fromEnv = env.KUBECONFIG;
  if (fromEnv && fromEnv.trim()) {
    const separator = platform === 'win32' ? ';' : ':';
    return fromEnv.split(separator).filter((file) => file.length > 0).map((file) => expandHome(file, home));
  }
  return [path.join(home, '.kube', 'config')];
}

/** Merges parsed kubeconfig texts in order: the first file naming a context or current-context wins. */
export function contextsFromTexts(texts: string[]): KubeconfigContexts {
  const byName = new Map<string, KubeContext>();
  let currentContext: string | undefined;
  for (const text of texts) {
    const config = parse(text) as Record<string, unknown> | null;
    if (!config || typeof config !== 'object') {
      continue;
    }
    const current = config['current-context'];
    if (currentContext === undefined && typeof current === 'string' && current) {
      currentContext = current;
    }
    const entries = Array.isArray(config.contexts) ? config.contexts : [];
    for (const entry of entries) {
      const name = entry?.name;
      if (typeof name !== 'string' || byName.has(name)) {
        continue;
      }
      const context = entry.context ?? {};
      byName.set(name, { name, cluster: context.cluster, user: context.user, namespace: context.namespace });
    }
  }
  return { contexts: [...byName.values()], currentContext };
}

/** Reads the files that exist (missing ones are skipped, as kubectl does) and merges them. */
export function readContexts(files: string[], readFile = (file: string) => fs.readFileSync(file, 'utf8')): KubeconfigContexts {
  const texts: string[] = [];
  for (const file of files) {
    try {
      texts.push(readFile(file));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
        throw error;
      }
    }
  }
  return contextsFromTexts(texts);
}

// Where the kube-lsp binary comes from: the `kube-lsp.path` setting, else the binary shipped in the
// .vsix (server/<platform>-<arch>/), else `kube-lsp` on PATH. Pure, so it is unit-tested without VS Code.
import * as os from 'os';
import * as path from 'path';

export interface ServerPathInputs {
  configured?: string | null;
  extensionPath: string;
  platform: string; // process.platform
  arch: string; // process.arch
  isFile: (file: string) => boolean;
  home?: string;
}

export interface ServerCommand {
  command: string;
  args: string[];
  origin: 'setting' | 'bundled' | 'PATH';
}

export function executableName(platform: string): string {
  return platform === 'win32' ? 'kube-lsp.exe' : 'kube-lsp';
}

export function bundledServerPath(extensionPath: string, platform: string, arch: string): string {
  return path.join(extensionPath, 'server', `${platform}-${arch}`, executableName(platform));
}

export function expandHome(file: string, home: string = os.homedir()): string {
  return file === '~' || file.startsWith('~/') ? path.join(home, file.slice(1)) : file;
}

export function resolveServerCommand(inputs: ServerPathInputs): ServerCommand {
  const args = ['serve'];
  const configured = inputs.configured?.trim();
  if (configured) {
    return { command: expandHome(configured, inputs.home), args, origin: 'setting' };
  }
  const bundled = bundledServerPath(inputs.extensionPath, inputs.platform, inputs.arch);
  if (inputs.isFile(bundled)) {
    return { command: bundled, args, origin: 'bundled' };
  }
  return { command: executableName(inputs.platform), args, origin: 'PATH' };
}

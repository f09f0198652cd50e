// Lets vscode-languageclient load outside VS Code: `require('vscode')` gets a permissive stub, so
// the client computes the same capabilities it sends from VS Code. Import this module first.
import Module = require('module');

export const VSCODE_VERSION = '1.100.0';

function stub(): any {
  const handler: ProxyHandler<any> = {
    get: (target, property) => {
      if (property === 'then' || property === Symbol.toPrimitive || property === '__esModule') {
        return undefined;
      }
      if (!(property in target)) {
        target[property] = stub();
      }
      return target[property];
    },
    apply: () => stub(),
    construct: () => stub(),
  };
  return new Proxy(function () {}, handler);
}

const vscode = stub();
vscode.version = VSCODE_VERSION;
vscode.env.appName = 'Visual Studio Code';
vscode.env.language = 'en';

const moduleWithLoad = Module as unknown as { _load: (request: string, ...rest: unknown[]) => unknown };
const load = moduleWithLoad._load;
moduleWithLoad._load = function (request: string, ...rest: unknown[]) {
  return request === 'vscode' ? vscode : load.call(this, request, ...rest);
};

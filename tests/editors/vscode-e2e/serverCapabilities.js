// Asks the built kube-lsp what it advertises, with a bare initialize handshake over stdio, so the
// VS Code run knows whether to expect server completions or VS Code's word suggestions.
const { spawn } = require('child_process');

function serverCapabilities(binary) {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, ['serve'], { stdio: ['pipe', 'pipe', 'ignore'] });
    let buffer = Buffer.alloc(0);
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error('no initialize answer within 10 s'));
    }, 10_000);
    child.stdout.on('data', (chunk) => {
      buffer = Buffer.concat([buffer, chunk]);
      const header = buffer.indexOf('\r\n\r\n');
      if (header < 0) return;
      const length = Number(/Content-Length: (\d+)/i.exec(buffer.subarray(0, header).toString())[1]);
      if (buffer.length < header + 4 + length) return;
      clearTimeout(timer);
      const message = JSON.parse(buffer.subarray(header + 4, header + 4 + length).toString());
      child.kill();
      resolve(message.result.capabilities);
    });
    const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { processId: null, rootUri: null, capabilities: {} } });
    child.stdin.write(`Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  });
}

async function serverAdvertises(binary, capability) {
  return Boolean((await serverCapabilities(binary))[capability]);
}

module.exports = { serverCapabilities, serverAdvertises };

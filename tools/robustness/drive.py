import json, subprocess, sys, time, os
BIN = os.environ.get("BIN", "/work/wt/reliability/target/debug/kube-lsp")
class S:
    def __init__(self):
        self.p = subprocess.Popen([BIN], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env={**os.environ, "KUBE_LSP_LOG": "error"})
        self.id = 0
        self.req("initialize", {"capabilities": {}, "processId": None, "rootUri": None})
        self.notify("initialized", {})
    def send(self, m):
        b = json.dumps(m).encode()
        self.p.stdin.write(b"Content-Length: %d\r\n\r\n" % len(b) + b); self.p.stdin.flush()
    def read(self):
        l = None
        while True:
            line = self.p.stdout.readline()
            if line in (b"\r\n", b"\n"):
                if l is not None: break
                continue
            if line.lower().startswith(b"content-length:"): l = int(line.split(b":")[1])
        return json.loads(self.p.stdout.read(l))
    def notify(self, method, params): self.send({"jsonrpc": "2.0", "method": method, "params": params})
    def req(self, method, params):
        self.id += 1; i = self.id
        self.send({"jsonrpc": "2.0", "id": i, "method": method, "params": params})
        while True:
            m = self.read()
            if m.get("id") == i and "method" not in m: return m
    def wait_diag(self, uri):
        while True:
            m = self.read()
            if m.get("method") == "textDocument/publishDiagnostics" and m["params"]["uri"] == uri: return m
    def rss(self):
        for l in open(f"/proc/{self.p.pid}/status"):
            if l.startswith("VmHWM"): return l.strip()

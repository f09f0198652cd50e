"""The cases of docs/robustness.md against a built kube-lsp (BIN, default target/debug/kube-lsp):
python3 tools/robustness/cases.py CASE [N]; CASE one of check-zero, kubeconfig-zero, watched-zero,
header N (MiB), diagnostics N, codeaction N, isolate N (documents), deep-seq N, deep-flow N."""
import sys, time, os, subprocess, json, tempfile
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__))); from drive import S
BIN = os.environ.get("BIN", os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../target/debug/kube-lsp"))
def hwm(pid):
    for l in open(f"/proc/{pid}/status"):
        if l.startswith("VmHWM"): return l.split()[1] + " kB"
case = sys.argv[1]
if case == "check-zero":
    t = time.time(); r = subprocess.run(["/usr/bin/time", "-f", "%M kB max RSS", BIN, "check", "/dev/zero"], capture_output=True, text=True)
    print("check /dev/zero: exit", r.returncode, "%.2fs" % (time.time()-t), r.stderr.strip().replace("\n", " | "))
elif case == "kubeconfig-zero":
    s = S()
    s.notify("workspace/didChangeConfiguration", {"settings": {"kube-lsp": {"kubeconfig": "/dev/zero", "dryRunContexts": ["*"]}}})
    s.notify("textDocument/didOpen", {"textDocument": {"uri": "file:///w/a.yaml", "languageId": "yaml", "version": 1, "text": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n"}})
    t = time.time()
    while time.time() - t < 8:
        m = s.read()
        if m.get("method") == "kube-lsp/status": print("status:", m["params"]); break
    print("kubeconfig=/dev/zero: peak", hwm(s.p.pid)); s.p.kill()
elif case == "watched-zero":
    d = tempfile.mkdtemp(); os.symlink("/dev/zero", d + "/zero.yaml"); os.mkfifo(d + "/fifo.yaml")
    open(d + "/crd.yaml", "w").write("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n")
    s = S.__new__(S); s.p = subprocess.Popen([BIN], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL); s.id = 0
    s.req("initialize", {"capabilities": {"workspace": {"didChangeWatchedFiles": {"dynamicRegistration": True}}}, "processId": None, "rootUri": None, "workspaceFolders": [{"uri": "file://" + d, "name": "w"}]})
    s.notify("initialized", {})
    time.sleep(1)
    s.notify("workspace/didChangeWatchedFiles", {"params": None, "changes": [{"uri": "file://" + d + "/zero.yaml", "type": 1}, {"uri": "file://" + d + "/fifo.yaml", "type": 1}]})
    time.sleep(3)
    s.notify("textDocument/didOpen", {"textDocument": {"uri": "file:///w/b.yaml", "languageId": "yaml", "version": 1, "text": "a: 1\na: 2\n"}})
    m = s.wait_diag("file:///w/b.yaml"); print("watched symlink to /dev/zero + FIFO: diagnostics still published:", len(m["params"]["diagnostics"]), "peak", hwm(s.p.pid)); s.p.kill()
elif case == "header":
    s = S(); n = int(sys.argv[2])
    chunk = b"x" * (1 << 20); t = time.time()
    for _ in range(n): s.p.stdin.write(chunk)
    s.p.stdin.write(b"\r\n"); s.p.stdin.flush()
    r = s.req("textDocument/documentSymbol", {"textDocument": {"uri": "file:///none.yaml"}})
    print(f"header line of {n} MiB: answered after, %.1fs, peak" % (time.time() - t), hwm(s.p.pid)); s.p.kill()
elif case == "diagnostics":
    s = S(); n = int(sys.argv[2]); text = "a: 1\n" * n
    t = time.time(); s.notify("textDocument/didOpen", {"textDocument": {"uri": "file:///w/m.yaml", "languageId": "yaml", "version": 1, "text": text}})
    m = s.wait_diag("file:///w/m.yaml")
    print(f"{n} duplicate keys ({len(text)} bytes): {len(m['params']['diagnostics'])} diagnostics published after %.1fs, peak" % (time.time() - t), hwm(s.p.pid)); s.p.kill()
elif case == "codeaction":
    # N containers with a misspelled key each: N diagnostics with a quick fix (did-you-mean).
    s = S(); n = int(sys.argv[2])
    text = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\nspec:\n  containers:\n" + "".join(f"  - name: c{i}\n    imagee: x\n" for i in range(n))
    uri = "file:///w/ca.yaml"
    s.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "yaml", "version": 1, "text": text}}); s.wait_diag(uri)
    t = time.time(); r = s.req("textDocument/codeAction", {"textDocument": {"uri": uri}, "range": {"start": {"line": 0, "character": 0}, "end": {"line": 2 * n + 10, "character": 0}}, "context": {"diagnostics": []}})
    print(f"codeAction over {2 * n + 6} lines: %.2fs, {len(r.get('result') or [])} actions, peak" % (time.time() - t), hwm(s.p.pid)); s.p.kill()
elif case == "isolate":
    s = S(); n = int(sys.argv[2])
    s.notify("textDocument/didOpen", {"textDocument": {"uri": "file:///w/big.yaml", "languageId": "yaml", "version": 1, "text": "a: [\n---\n" * n}})
    time.sleep(0.3); t = time.time()
    s.notify("textDocument/didOpen", {"textDocument": {"uri": "file:///w/small.yaml", "languageId": "yaml", "version": 1, "text": "a: 1\na: 2\n"}})
    s.wait_diag("file:///w/small.yaml"); print(f"{n} invalid documents open: another document's diagnostics after %.2fs" % (time.time() - t))
    t = time.time(); s.req("textDocument/documentSymbol", {"textDocument": {"uri": "file:///w/small.yaml"}}); print("  its symbols after %.2fs" % (time.time() - t))
    s.wait_diag("file:///w/big.yaml"); print("  the big file's diagnostics after %.2fs, peak" % (time.time() - t), hwm(s.p.pid)); s.p.kill()
elif case in ("deep-seq", "deep-flow"):
    s = S(); n = int(sys.argv[2])
    text = "- " * n + "a\n" if case == "deep-seq" else "a: " + "{b: " * n + "1" + "}" * n + "\n"
    uri = "file:///w/deep.yaml"
    s.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "yaml", "version": 1, "text": text}}); s.wait_diag(uri)
    t = time.time(); s.req("textDocument/documentSymbol", {"textDocument": {"uri": uri}}); ts = time.time() - t
    t = time.time(); s.req("textDocument/foldingRange", {"textDocument": {"uri": uri}}); tf = time.time() - t
    print(f"{case} {n}: documentSymbol %.2fs, foldingRange %.2fs, peak" % (ts, tf), hwm(s.p.pid)); s.p.kill()

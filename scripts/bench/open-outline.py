#!/usr/bin/env python3
"""One language server process, one file: didOpen and every diagnostics publication until none
comes for QUIET seconds (the last one is the complete set), then N documentSymbol and
foldingRange requests (VS Code's capabilities: rangeLimit 5,000), then, with EDIT_LINE, EDITS
one-character edits at its end each followed by a foldingRange, and the requests again. Prints
VmHWM / VmRSS / RssAnon / RssFile and the process' CPU time after each step, and the server's CPU
time per request of each kind (in clock ticks of 10 ms: average over N).

Usage: scripts/bench/open-outline.py BIN FILE [EDIT_LINE]
Environment: N (20; 0: no requests), EDITS (10), QUIET (1.5), EDITS_FIRST=1 (edits before the outline requests),
NOFOLD_EDITS=1 (no foldingRange after each edit), PAUSE=seconds (a pause after each edit's
diagnostics, as typing pauses: the server's work after the pause, index and references, is in the
CPU per edit printed), BREAK=1 (an
opening quote before EDIT_LINE's value first: the edits are made to broken YAML), PERF=out.data (run under perf record),
HEAP=out (run under heaptrack), KILL=1 (the server killed once the open is done, nothing after:
with HEAP, what it holds then is what `heaptrack_print` calls leaked), KILL=outline (killed after
the outline requests), KILL=edits (killed after the edits).
"""
import atexit, json, subprocess, sys, time, os, tempfile, re, shutil
bin, path = sys.argv[1], sys.argv[2]
edit_line = int(sys.argv[3]) if len(sys.argv) > 3 else None
n = int(os.environ.get('N', '20'))
quiet = float(os.environ.get('QUIET', '1.5'))
text = open(path).read()
home = tempfile.mkdtemp(prefix='open-outline-')
atexit.register(shutil.rmtree, home, True)
ws = os.path.join(home, 'workspace')
os.makedirs(ws, exist_ok=True)
env = {**{k: v for k, v in os.environ.items() if k.startswith('MIMALLOC')}, 'PATH': '/usr/bin:/bin', 'HOME': home, 'XDG_CACHE_HOME': os.path.join(home, 'cache'), 'KUBE_LSP_LOG': os.environ.get('LOGLEVEL', 'warn')}
cmd = [bin, '--stdio']
if os.environ.get('PERF'): cmd = ['perf', 'record', '-F', os.environ.get('FREQ', '999'), '--call-graph', 'dwarf,16384', '-o', os.environ['PERF']] + cmd
def quiet_heaptrack():
    """A copy of heaptrack's launcher that prints its own messages on stderr: on stdout they
    would land in the server's LSP channel."""
    original = os.path.realpath(shutil.which('heaptrack'))
    script = re.sub(r'^(\s*)echo "', r'\1echo >&2 "', open(original).read(), flags=re.M)
    script = script.replace('EXE_PATH=$(readlink -f "$SCRIPT_DIR")', 'EXE_PATH=' + os.path.dirname(original))
    launcher = os.path.join(home, 'heaptrack')
    open(launcher, 'w').write(script)
    os.chmod(launcher, 0o755)
    return launcher
if os.environ.get('HEAP'): cmd = [quiet_heaptrack(), '-o', os.environ['HEAP']] + cmd
p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=open(os.path.join(home, 'server.log'), 'w'), env=env)
def send(m):
    b = json.dumps(m).encode(); p.stdin.write(b'Content-Length: %d\r\n\r\n' % len(b) + b); p.stdin.flush()
import select
buf = b''
def read(timeout=None):
    global buf
    deadline = None if timeout is None else time.perf_counter() + timeout
    while True:
        i = buf.find(b'\r\n\r\n')
        if i >= 0:
            h = buf[:i]
            k = int([l for l in h.split(b'\r\n') if l.lower().startswith(b'content-length')][0].split(b':')[1])
            if len(buf) >= i + 4 + k:
                m = json.loads(buf[i + 4:i + 4 + k]); buf = buf[i + 4 + k:]
                return m
        left = None if deadline is None else deadline - time.perf_counter()
        if left is not None and left <= 0: return None
        r, _, _ = select.select([p.stdout], [], [], left)
        if not r: return None
        c = os.read(p.stdout.fileno(), 1 << 20)
        if not c: raise SystemExit('closed')
        buf += c
def wait(pred, timeout=None):
    while True:
        m = read(timeout)
        if m is None: return None
        if 'id' in m and 'method' in m:
            send({'jsonrpc': '2.0', 'id': m['id'], 'result': [{}] if m['method'] == 'workspace/configuration' else None}); continue
        if pred(m): return m
caps = {"workspace": {"configuration": True}, "textDocument": {"publishDiagnostics": {"versionSupport": True}, "documentSymbol": {"hierarchicalDocumentSymbolSupport": True}, "foldingRange": {"rangeLimit": 5000, "lineFoldingOnly": True}}}
root = 'file://' + ws
send({'jsonrpc': '2.0', 'id': 1, 'method': 'initialize', 'params': {'processId': None, 'rootUri': root, 'workspaceFolders': [{'uri': root, 'name': 'b'}], 'capabilities': caps}})
wait(lambda m: m.get('id') == 1)
send({'jsonrpc': '2.0', 'method': 'initialized', 'params': {}})
time.sleep(float(os.environ.get('START', '0.5')))
uri = 'file://' + os.path.join(home, 'open', os.path.basename(path))
msg = json.dumps({'jsonrpc': '2.0', 'method': 'textDocument/didOpen', 'params': {'textDocument': {'uri': uri, 'languageId': 'yaml', 'version': 1, 'text': text}}}).encode()
t = time.perf_counter()
p.stdin.write(b'Content-Length: %d\r\n\r\n' % len(msg) + msg); p.stdin.flush()
pubs = []
while True:
    m = wait(lambda m: m.get('method') == 'textDocument/publishDiagnostics', None if not pubs else quiet)
    if m is None: break
    pubs.append(((time.perf_counter() - t) * 1000, len(m['params']['diagnostics'])))
print('publications (ms, count):', ' '.join('%.1f/%d' % x for x in pubs))
def cpu_seconds():
    """The server's CPU time (user and system, all threads) so far, in seconds."""
    if os.environ.get('PERF') or os.environ.get('HEAP'): return 0
    st = open('/proc/%d/stat' % p.pid).read().rsplit(')', 1)[1].split()
    return (int(st[11]) + int(st[12])) / os.sysconf('SC_CLK_TCK')
def status(tag):
    if os.environ.get('PERF') or os.environ.get('HEAP'): return
    vals = {}
    for l in open('/proc/%d/status' % p.pid):
        if l.split(':')[0] in ('VmHWM', 'VmRSS', 'RssAnon', 'RssFile'): vals[l.split(':')[0]] = int(l.split()[1]) / 1024
    st = open('/proc/%d/stat' % p.pid).read().rsplit(')', 1)[1].split()
    cpu = (int(st[11]) + int(st[12])) / os.sysconf('SC_CLK_TCK')
    print('  %s: %s cpu %.2fs' % (tag, ' '.join('%s %.1f' % kv for kv in vals.items()), cpu))
status('after open')
def kill():
    time.sleep(1)
    if os.environ.get('HEAP'):
        # The server runs under heaptrack's launcher, beside heaptrack's own reader of its data.
        subprocess.run(['pkill', '-KILL', '-P', str(p.pid), '-f', '--', ' --stdio$'])
    else:
        p.kill()
    p.wait()
    raise SystemExit(0)
if os.environ.get('KILL') == '1': kill()
rid = 10
def timed(label, params, count):
    method = label.split(' ')[0]
    global rid
    xs = []; size = 0
    cpu_before = cpu_seconds()
    for i in range(count):
        rid += 1
        t = time.perf_counter()
        send({'jsonrpc': '2.0', 'id': rid, 'method': method, 'params': params})
        r = wait(lambda m, r=rid: m.get('id') == r)
        xs.append((time.perf_counter() - t) * 1000)
        size = len(r.get('result') or []) if 'error' not in r else ('error', r['error'])
    if not xs: return
    s = sorted(xs)
    cpu = (cpu_seconds() - cpu_before) * 1000 / count
    print('%s first %.1f p50 %.2f ms max %.1f (%s items), server CPU %.1f ms per request' % (label, xs[0], s[len(s) // 2], s[-1], size, cpu))
doc = {'textDocument': {'uri': uri}}
def outline():
    timed('textDocument/documentSymbol', doc, n)
    timed('textDocument/foldingRange', doc, n)
    status('after outline')
    if os.environ.get('KILL') == 'outline': kill()
if not os.environ.get('EDITS_FIRST'): outline()
if edit_line is not None:
    lines = text.split('\n'); l = lines[edit_line]
    first = 2
    edit_ms = []
    pause = float(os.environ.get('PAUSE', '0'))
    cpu_before_edits = cpu_seconds()
    if os.environ.get('BREAK') and ': ' in l:
        # An opening quote before the line's value: saphyr rejects the rest of the document.
        value = len(l[:l.index(': ') + 2].encode('utf-16-le')) // 2
        send({'jsonrpc': '2.0', 'method': 'textDocument/didChange', 'params': {'textDocument': {'uri': uri, 'version': 2}, 'contentChanges': [{'range': {'start': {'line': edit_line, 'character': value}, 'end': {'line': edit_line, 'character': value}}, 'text': '"'}]}})
        wait(lambda m: m.get('method') == 'textDocument/publishDiagnostics' and m['params'].get('version') == 2)
        l = l[:value] + '"' + l[value:]; first = 3
    for v in range(first, first + int(os.environ.get('EDITS', '10'))):
        t = time.perf_counter()
        send({'jsonrpc': '2.0', 'method': 'textDocument/didChange', 'params': {'textDocument': {'uri': uri, 'version': v}, 'contentChanges': [{'range': {'start': {'line': edit_line, 'character': len(l)}, 'end': {'line': edit_line, 'character': len(l)}}, 'text': 'x'}]}})
        wait(lambda m, v=v: m.get('method') == 'textDocument/publishDiagnostics' and m['params'].get('version') == v)
        edit_ms.append((time.perf_counter() - t) * 1000)
        l += 'x'
        if pause: time.sleep(pause)
        if not os.environ.get('NOFOLD_EDITS'): timed('textDocument/foldingRange (edited)', doc, 1)
    print('edit -> diagnostics (ms):', ' '.join('%.1f' % x for x in edit_ms))
    print('server CPU per edit: %.1f ms' % ((cpu_seconds() - cpu_before_edits) * 1000 / len(edit_ms)))
    timed('textDocument/foldingRange (edited, again)', doc, n)
    timed('textDocument/documentSymbol (edited)', doc, n)
    status('after edits')
    if os.environ.get('KILL') == 'edits': kill()
    if os.environ.get('EDITS_FIRST'): outline()
send({'jsonrpc': '2.0', 'id': 3, 'method': 'shutdown'}); wait(lambda m: m.get('id') == 3)
send({'jsonrpc': '2.0', 'method': 'exit'}); p.wait()

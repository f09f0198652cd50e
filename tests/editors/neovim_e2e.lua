-- End-to-end test of editors/neovim with the real kube-lsp, in headless Neovim:
--   nvim --headless -u NONE -c 'luafile tests/editors/neovim_e2e.lua'
-- (from the repository root; KUBE_LSP_BIN overrides the server binary). Exits non-zero on failure;
-- the last line is `N passed, M failed`.
local repo = vim.fn.fnamemodify(debug.getinfo(1, 'S').source:sub(2), ':p:h:h:h')
vim.opt.runtimepath:prepend(repo .. '/editors/neovim')
vim.cmd('filetype on')

local passed, failed = 0, 0
-- print() in headless Neovim goes to stderr without a final newline; the summary must be a line.
local function say(text)
  io.stdout:write(text .. '\n')
  io.stdout:flush()
end
local function check(name, fn)
  local ok, err = pcall(fn)
  if not ok and type(err) ~= 'string' then
    err = vim.inspect(err)
  end
  if ok then
    passed = passed + 1
    say('ok   ' .. name)
  else
    failed = failed + 1
    say('FAIL ' .. name .. ': ' .. tostring(err))
  end
end
local function note(text)
  say('note ' .. text)
end
local function eq(actual, expected, what)
  if not vim.deep_equal(actual, expected) then
    error(string.format('%s: expected %s, got %s', what or 'value', vim.inspect(expected), vim.inspect(actual)), 2)
  end
end
local function finish()
  say(string.format('%d passed, %d failed', passed, failed))
  vim.cmd(failed == 0 and 'qall!' or 'cquit! 1')
end

local function find_binary()
  local from_env = os.getenv('KUBE_LSP_BIN')
  if from_env and from_env ~= '' then
    return from_env
  end
  for _, profile in ipairs({ 'debug', 'release' }) do
    local path = repo .. '/target/' .. profile .. '/kube-lsp'
    if vim.fn.executable(path) == 1 then
      return path
    end
  end
end

local binary = find_binary()
if not binary or vim.fn.executable(binary) ~= 1 then
  say('FAIL kube-lsp binary not found (cargo build, or set KUBE_LSP_BIN)')
  failed = failed + 1
  return finish()
end
say(string.format('Neovim %s, server %s', tostring(vim.version and vim.version().major .. '.' .. vim.version().minor or '?'), binary))

-- A kustomize project with a manifest that has a duplicate key, and a Helm chart beside it.
local work = vim.fn.tempname()
local function write(path, lines)
  vim.fn.mkdir(vim.fn.fnamemodify(work .. '/' .. path, ':h'), 'p')
  vim.fn.writefile(lines, work .. '/' .. path)
  return work .. '/' .. path
end
write('app/kustomization.yaml', { 'resources: [web.yaml]' })
-- Shared with the VS Code e2e test: complete apart from the duplicate key, so schema checks add nothing.
local manifest = write('app/web.yaml', vim.fn.readfile(repo .. '/tests/editors/fixtures/web.yaml'))
write('chart/Chart.yaml', { 'apiVersion: v2', 'name: demo', 'version: 0.1.0' })
local template = write('chart/templates/deployment.yaml', { 'apiVersion: apps/v1', 'kind: Deployment', 'metadata:', '  name: {{ .Release.Name }}' })

local kube_lsp = require('kube_lsp')
local settings = { ['kube-lsp'] = { namespace = 'demo', dryRun = 'off', diff = false } }

check('lsp/kube_lsp.lua returns a config for the 0.11 runtime-path convention', function()
  local config = dofile(repo .. '/editors/neovim/lsp/kube_lsp.lua')
  eq(config.cmd, { 'kube-lsp', 'serve' }, 'cmd')
  eq(config.filetypes, { 'yaml' }, 'filetypes')
  eq(type(config.root_dir), 'function', 'root_dir')
end)

check('Helm templates and roots are recognised', function()
  eq(kube_lsp.is_helm_template(template), true, 'template')
  eq(kube_lsp.is_helm_template(manifest), false, 'manifest')
  eq(kube_lsp.find_root(manifest, kube_lsp.defaults.root_markers), work .. '/app', 'root')
end)

check('setup on Neovim >= 0.11 goes through vim.lsp.config + vim.lsp.enable', function()
  -- Stubbed here when this Neovim is older; a real 0.11 runs the real path below.
  local real_config, real_enable = vim.lsp.config, vim.lsp.enable
  local configured, enabled = {}, {}
  vim.lsp.config = function(name, config)
    configured[name] = config
  end
  vim.lsp.enable = function(name)
    enabled[#enabled + 1] = name
  end
  local ok, result = pcall(kube_lsp.setup, { cmd = { binary, 'serve' }, settings = settings })
  vim.lsp.config, vim.lsp.enable = real_config, real_enable
  assert(ok, result)
  eq(result, 'lsp.config', 'path taken')
  eq(enabled, { 'kube_lsp' }, 'enabled')
  eq(configured.kube_lsp.cmd, { binary, 'serve' }, 'cmd')
  eq(configured.kube_lsp.settings, settings, 'settings')
  local roots = {}
  configured.kube_lsp.root_dir(vim.fn.bufadd(manifest), function(dir) roots[#roots + 1] = dir end)
  configured.kube_lsp.root_dir(vim.fn.bufadd(template), function(dir) roots[#roots + 1] = dir end)
  eq(roots, { work .. '/app' }, 'root_dir skips the Helm template')
end)

local native = vim.lsp.config ~= nil and vim.lsp.enable ~= nil
local path_taken = kube_lsp.setup({ cmd = { binary, 'serve' }, settings = settings })
say('setup path: ' .. path_taken .. (native and '' or ' (this Neovim has no vim.lsp.config)'))

local function kube_client(bufnr)
  -- get_clients is 0.10+; buf_get_clients (a map by id) is what 0.7 has.
  local clients = vim.lsp.get_clients and vim.lsp.get_clients({ bufnr = bufnr }) or vim.lsp.buf_get_clients(bufnr)
  for _, client in pairs(clients) do
    if client.name == 'kube_lsp' then
      return client
    end
  end
end

vim.cmd('edit ' .. vim.fn.fnameescape(manifest))
local buf = vim.api.nvim_get_current_buf()
local client
check('kube-lsp attaches to the manifest, rooted at the kustomization', function()
  eq(vim.bo[buf].filetype, 'yaml', 'filetype')
  assert(vim.wait(10000, function()
    client = kube_client(buf)
    return client ~= nil and client.initialized ~= false
  end, 50), 'no kube_lsp client attached')
  eq(client.config.root_dir, work .. '/app', 'root_dir')
  eq(client.config.settings, settings, 'settings')
end)

local function code_of(d)
  return d.code or (d.user_data and d.user_data.lsp and d.user_data.lsp.code)
end
local function duplicate_keys()
  return vim.tbl_filter(function(d) return code_of(d) == 'yaml-duplicate-key' end, vim.diagnostic.get(buf))
end

check('the duplicate key is reported with its message and range', function()
  assert(vim.wait(10000, function()
    return #duplicate_keys() > 0
  end, 50), 'no duplicate-key diagnostic: ' .. vim.inspect(vim.diagnostic.get(buf)))
  local diagnostics = duplicate_keys()
  eq(#diagnostics, 1, 'count')
  local d = diagnostics[1]
  assert(d.message:find('duplicate key `name`', 1, true), d.message)
  eq({ d.lnum, d.col, d.end_lnum, d.end_col }, { 4, 2, 4, 6 }, 'range (0-based)')
  eq(d.severity, vim.diagnostic.severity.ERROR, 'severity')
  eq(d.source, 'kube-lsp', 'source')
  eq(code_of(d), 'yaml-duplicate-key', 'code')
end)

-- A request the server may not have yet: with the capability it must answer with results; without
-- it, the server must still answer (no hang, no crash).
local function request(method, position, capability, assert_result)
  check(method, function()
    assert(client, 'no client')
    local params = { textDocument = { uri = vim.uri_from_bufnr(buf) }, position = position }
    local response = client.request_sync(method, params, 5000, buf)
    assert(response, method .. ' timed out')
    if not client.server_capabilities[capability] then
      note(string.format('server does not advertise %s: checked only that %s is answered (%s)', capability, method,
        response.err and ('error ' .. tostring(response.err.code)) or 'no error'))
      assert(response.err == nil or response.err.code == -32601, vim.inspect(response.err))
      return
    end
    assert(response.err == nil, vim.inspect(response.err))
    assert_result(response.result)
  end)
end

request('textDocument/completion', { line = 1, character = 6 }, 'completionProvider', function(result)
  local items = result and (result.items or result) or {}
  local labels = vim.tbl_map(function(item) return item.label end, items)
  assert(vim.tbl_contains(labels, 'Deployment'), 'Deployment not among ' .. vim.inspect(labels))
  -- apiVersion is apps/v1: only its kinds are offered.
  assert(not vim.tbl_contains(labels, 'Service'), 'Service offered for apps/v1: ' .. vim.inspect(labels))
end)

request('textDocument/hover', { line = 6, character = 4 }, 'hoverProvider', function(result)
  assert(result and result.contents, 'empty hover')
  local text = result.contents.value or vim.inspect(result.contents)
  assert(text:find('**replicas** `integer (int32)`', 1, true), 'hover on replicas: ' .. text)
end)

check('an edit that removes the duplicate clears the diagnostic', function()
  vim.api.nvim_buf_set_lines(buf, 4, 5, false, {})
  assert(vim.wait(10000, function()
    return #duplicate_keys() == 0
  end, 50), 'diagnostic still there: ' .. vim.inspect(vim.diagnostic.get(buf)))
  eq(vim.diagnostic.get(buf, { severity = vim.diagnostic.severity.ERROR }), {}, 'other errors')
end)

check('Helm chart templates get no kube-lsp client', function()
  vim.cmd('edit ' .. vim.fn.fnameescape(template))
  local template_buf = vim.api.nvim_get_current_buf()
  eq(vim.bo[template_buf].filetype, 'yaml', 'filetype')
  vim.wait(500)
  eq(kube_client(template_buf), nil, 'client on the template')
end)

check('the server answers shutdown and stops', function()
  local response = client.request_sync('shutdown', nil, 5000, buf)
  assert(response and response.err == nil, 'shutdown: ' .. vim.inspect(response))
  client.notify('exit')
  if not vim.wait(3000, function() return client.is_stopped() end, 50) then
    -- Known server issue: after `exit` kube-lsp may wait for stdin to close, which Neovim does
    -- when it quits. Say so, then stop it the way Neovim does on quit.
    note('kube-lsp was still running 3 s after `exit` (it waits for stdin to close)')
    client.stop(true)
  end
  assert(vim.wait(5000, function() return client.is_stopped() end, 50), 'server still running')
end)

vim.fn.delete(work, 'rf')
finish()

-- End-to-end test of editors/neovim with the real kube-lsp, in headless Neovim (0.7 and 0.11):
--   nvim --headless -u NONE -c 'luafile tests/editors/neovim_e2e.lua'
-- (from the repository root; KUBE_LSP_BIN overrides the server binary). Works on a copy of
-- tests/editors/fixtures and asserts every capability the server offers with real positions and
-- expected contents, through Neovim's own LSP functions where the release has them. Exits non-zero
-- on failure; the last line is `N passed, M failed`.
local repo = vim.fn.fnamemodify(debug.getinfo(1, 'S').source:sub(2), ':p:h:h:h')
vim.opt.runtimepath:prepend(repo .. '/editors/neovim')
vim.cmd('filetype on')
vim.o.swapfile = false
vim.o.hidden = true

local has_011 = vim.fn.has('nvim-0.11') == 1
-- How long to wait for an answer of the server: generous, the machine may be busy.
local WAIT_MS = 30000

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
local function eq(actual, expected, what)
  if not vim.deep_equal(actual, expected) then
    error(string.format('%s: expected %s, got %s', what or 'value', vim.inspect(expected), vim.inspect(actual)), 2)
  end
end
local function finish()
  say(string.format('%d passed, %d failed', passed, failed))
  vim.cmd(failed == 0 and 'qall!' or 'cquit! 1')
end
-- Waits until `condition()` returns a truthy value and returns it; fails with `what` otherwise.
local function wait_for(what, condition)
  local value
  local ok = vim.wait(WAIT_MS, function()
    value = condition()
    return value ~= nil and value ~= false
  end, 50)
  if not ok then
    error('timed out waiting for ' .. (type(what) == 'function' and what() or what), 2)
  end
  return value
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
local version = vim.version()
say(string.format('Neovim %d.%d.%d, server %s', version.major, version.minor, version.patch, binary))

-- The fixtures, copied: code actions and renames edit the copy.
local work = vim.fn.resolve(vim.fn.tempname())
local fixtures = repo .. '/tests/editors/fixtures'
for _, source in ipairs(vim.fn.globpath(fixtures, '**/*', true, true)) do
  if vim.fn.isdirectory(source) == 0 then
    local target = work .. source:sub(#fixtures + 1)
    vim.fn.mkdir(vim.fn.fnamemodify(target, ':h'), 'p')
    vim.fn.writefile(vim.fn.readfile(source, 'b'), target, 'b')
  end
end
local function path_of(relative)
  return work .. '/' .. relative
end

local settings = {
  ['kube-lsp'] = { namespace = 'demo', dryRun = 'off', diff = false, kustomize = { render = false }, helm = { render = false } },
}
local kube_lsp = require('kube_lsp')

-- Version-independent calls on a client (0.11 wants method calls, 0.7 has plain functions).
local function call(client, name, ...)
  if has_011 then
    return client[name](client, ...)
  end
  return client[name](...)
end

local function kube_client(bufnr)
  -- get_clients is 0.10+; buf_get_clients (a map by id) is what 0.7 has.
  local clients = vim.lsp.get_clients and vim.lsp.get_clients({ bufnr = bufnr }) or vim.lsp.buf_get_clients(bufnr)
  for _, client in pairs(clients) do
    if client.name == 'kube_lsp' and client.initialized ~= false then
      return client
    end
  end
end

check('lsp/kube_lsp.lua is an nvim-lspconfig-style config (a plain table, no require)', function()
  local source = table.concat(vim.fn.readfile(repo .. '/editors/neovim/lsp/kube_lsp.lua'), '\n')
  assert(not source:find('require', 1, true), 'lsp/kube_lsp.lua requires a module')
  local config = dofile(repo .. '/editors/neovim/lsp/kube_lsp.lua')
  eq(config.cmd, { 'kube-lsp', 'serve' }, 'cmd')
  eq(config.filetypes, { 'yaml', 'helm' }, 'filetypes')
  eq(config.root_markers, { 'kustomization.yaml', 'Chart.yaml', '.git' }, 'root_markers')
end)

check('chart templates are recognised (filetype helm) and roots found', function()
  eq(kube_lsp.is_helm_template(path_of('chart/templates/deployment.yaml')), true, 'template')
  eq(kube_lsp.is_helm_template(path_of('app/web.yaml')), false, 'manifest')
  eq(kube_lsp.find_root(path_of('app/web.yaml'), kube_lsp.defaults.root_markers), path_of('app'), 'root')
end)

local path_taken
if has_011 then
  -- The documented setup for 0.11: lsp/kube_lsp.lua from 'runtimepath', overridden here only by
  -- the binary under test and the settings.
  vim.lsp.config('kube_lsp', { cmd = { binary, 'serve' }, settings = settings })
  vim.lsp.enable('kube_lsp')
  path_taken = 'vim.lsp.config + vim.lsp.enable over lsp/kube_lsp.lua'
else
  path_taken = kube_lsp.setup({ cmd = { binary, 'serve' }, settings = settings })
end
say('setup path: ' .. path_taken)

if has_011 then
  check('setup() on 0.11 takes the vim.lsp.config path and keeps lsp/kube_lsp.lua', function()
    eq(kube_lsp.setup({ cmd = { binary, 'serve' }, settings = settings }), 'lsp.config', 'path')
    local resolved = vim.lsp.config.kube_lsp
    eq(resolved.cmd, { binary, 'serve' }, 'cmd')
    eq(resolved.filetypes, { 'yaml', 'helm' }, 'filetypes')
    eq(resolved.root_markers, { 'kustomization.yaml', 'Chart.yaml', '.git' }, 'root_markers')
    eq(resolved.settings, settings, 'settings')
  end)
end

local buffers = {}
local function open(relative)
  vim.cmd('edit ' .. vim.fn.fnameescape(path_of(relative)))
  buffers[relative] = vim.api.nvim_get_current_buf()
  return buffers[relative]
end
local function lines(relative)
  return vim.api.nvim_buf_get_lines(buffers[relative] or vim.fn.bufadd(path_of(relative)), 0, -1, false)
end
-- The position of the `nth` (1-based) `needle` in the buffer, `into` characters into it (ASCII).
local function at(bufnr, needle, into, nth)
  local seen = 0
  for index, line in ipairs(vim.api.nvim_buf_get_lines(bufnr, 0, -1, false)) do
    local column = line:find(needle, 1, true)
    if column then
      seen = seen + 1
      if seen == (nth or 1) then
        return { line = index - 1, character = column - 1 + (into or 0) }
      end
    end
  end
  error('not in the buffer: ' .. needle)
end
local function set_cursor(position)
  vim.api.nvim_win_set_cursor(0, { position.line + 1, position.character })
end
local function request(bufnr, method, params)
  local client = wait_for('a kube_lsp client on buffer ' .. bufnr, function() return kube_client(bufnr) end)
  params.textDocument = params.textDocument or { uri = vim.uri_from_bufnr(bufnr) }
  local response, err = call(client, 'request_sync', method, params, WAIT_MS, bufnr)
  assert(response, method .. ': ' .. tostring(err))
  assert(response.err == nil, method .. ': ' .. vim.inspect(response.err))
  return response.result
end
-- Asks again until `accept(result)`: answers that depend on the workspace scan come once it is done.
local function request_until(bufnr, method, params, accept)
  local last
  return wait_for(function() return method .. ' to satisfy the test, last answer: ' .. vim.inspect(last) end, function()
    last = request(bufnr, method, vim.deepcopy(params))
    return accept(last) and last
  end)
end
local function code_of(d)
  return d.code or (d.user_data and d.user_data.lsp and d.user_data.lsp.code)
end
local function with_code(bufnr, code)
  return vim.tbl_filter(function(d) return code_of(d) == code end, vim.diagnostic.get(bufnr))
end
local function labels(result)
  return vim.tbl_map(function(item) return item.label end, result and (result.items or result) or {})
end

-- web.yaml: a Deployment whose only problem is a duplicate key.
local web = open('app/web.yaml')
local client
check('kube-lsp attaches to the manifest, rooted at the kustomization', function()
  eq(vim.bo[web].filetype, 'yaml', 'filetype')
  client = wait_for('a kube_lsp client', function() return kube_client(web) end)
  eq(client.config.root_dir, path_of('app'), 'root_dir')
  eq(client.config.settings, settings, 'settings')
end)

check('diagnostics: the duplicate key with its message, range, severity, source and code', function()
  wait_for('the duplicate-key diagnostic', function() return #with_code(web, 'yaml-duplicate-key') > 0 end)
  local diagnostics = with_code(web, 'yaml-duplicate-key')
  eq(#diagnostics, 1, 'count')
  local d = diagnostics[1]
  assert(d.message:find('duplicate key `name`', 1, true), d.message)
  eq({ d.lnum, d.col, d.end_lnum, d.end_col }, { 4, 2, 4, 6 }, 'range (0-based)')
  eq(d.severity, vim.diagnostic.severity.ERROR, 'severity')
  eq(d.source, 'kube-lsp', 'source')
end)

check('completion: the kinds of apps/v1 after `kind: `', function()
  local result = request(web, 'textDocument/completion', { position = at(web, 'kind: ', #'kind: ') })
  local offered = labels(result)
  assert(vim.tbl_contains(offered, 'Deployment'), 'Deployment not among ' .. vim.inspect(offered))
  assert(vim.tbl_contains(offered, 'StatefulSet'), 'StatefulSet not among ' .. vim.inspect(offered))
  assert(not vim.tbl_contains(offered, 'Service'), 'Service offered for apps/v1: ' .. vim.inspect(offered))
end)

check('hover: the schema of `replicas` in the float of vim.lsp.buf.hover()', function()
  vim.api.nvim_set_current_buf(web)
  set_cursor(at(web, 'replicas', 2))
  local function floats()
    return vim.tbl_filter(function(win) return vim.api.nvim_win_get_config(win).relative ~= '' end, vim.api.nvim_list_wins())
  end
  vim.lsp.buf.hover()
  local float = wait_for('the hover float', function() return floats()[1] end)
  local shown = vim.api.nvim_buf_get_lines(vim.api.nvim_win_get_buf(float), 0, -1, false)
  vim.api.nvim_win_close(float, true)
  eq(shown[1], '**replicas** `integer (int32)` · optional', 'first line')
  assert(table.concat(shown, '\n'):find('Number of desired pods.', 1, true), vim.inspect(shown))
end)

check('document symbols: the Deployment with its fields', function()
  local result = request(web, 'textDocument/documentSymbol', {})
  eq(#result, 1, 'one top-level symbol')
  assert(result[1].name:find('^Deployment '), 'name: ' .. result[1].name)
  eq(result[1].range.start, { line = 0, character = 0 }, 'start')
  local children = vim.tbl_map(function(s) return s.name end, result[1].children or {})
  for _, field in ipairs({ 'metadata', 'spec' }) do
    assert(vim.tbl_contains(children, field), field .. ' not among ' .. vim.inspect(children))
  end
end)

check('folding: spec and the pod template fold' .. (has_011 and ' (vim.lsp.foldexpr)' or ''), function()
  local result = request(web, 'textDocument/foldingRange', {})
  local folds = {}
  for _, range in ipairs(result) do
    folds[range.startLine] = range.endLine
  end
  eq(folds[5], 15, '`spec:` (line 6) folds to the last line')
  eq(folds[9], 15, '`template:` (line 10) folds to the last line')
  if has_011 then
    vim.wo.foldmethod = 'expr'
    vim.wo.foldexpr = 'v:lua.vim.lsp.foldexpr()'
    vim.wo.foldlevel = 99
    wait_for('folds from vim.lsp.foldexpr', function()
      vim.cmd('normal! zx')
      return vim.fn.foldlevel(7) > 0
    end)
    eq(vim.fn.foldlevel(1), 0, 'foldlevel of apiVersion')
    assert(vim.fn.foldlevel(16) >= 2, 'image line is inside spec and template: ' .. vim.fn.foldlevel(16))
  end
end)

-- kustomization.yaml: a link per resource.
local kustomization = open('app/kustomization.yaml')
check('document links: each resource of the kustomization', function()
  local result = request_until(kustomization, 'textDocument/documentLink', {}, function(r) return r and #r == 3 end)
  local targets = vim.tbl_map(function(link) return { link.range.start.line, vim.uri_to_fname(link.target) } end, result)
  eq(targets, { { 1, path_of('app/web.yaml') }, { 2, path_of('app/config.yaml') }, { 3, path_of('app/api.yaml') } }, 'links')
  eq(result[1].range, { start = { line = 1, character = 4 }, ['end'] = { line = 1, character = 12 } }, 'range of web.yaml')
end)

-- api.yaml: a misspelt ConfigMap name and a Service selecting the Deployment.
local api = open('app/api.yaml')
local original_api = lines('app/api.yaml')
check('diagnostics: the misspelt ConfigMap is reported with a suggestion', function()
  wait_for('the reference-missing diagnostic', function() return #with_code(api, 'reference-missing') > 0 end)
  local d = with_code(api, 'reference-missing')[1]
  eq(d.severity, vim.diagnostic.severity.WARN, 'severity')
  assert(d.message:find('ConfigMap `app-confg`', 1, true) and d.message:find('did you mean `app-config`?', 1, true), d.message)
  local position = at(api, 'app-confg')
  eq({ d.lnum, d.col, d.end_col }, { position.line, position.character, position.character + #'app-confg' }, 'range')
end)

local FIX = 'Change to `app-config`'
check('code action: the quick fix is offered and applied, the buffer is fixed, the warning goes', function()
  local d = with_code(api, 'reference-missing')[1]
  set_cursor({ line = d.lnum, character = d.col })
  if vim.fn.has('nvim-0.8') == 1 then
    -- Neovim's own code action: requests, filters, applies the workspace edit.
    vim.lsp.buf.code_action({ apply = true, filter = function(action) return action.title == FIX end })
  else
    local range = { start = { line = d.lnum, character = d.col }, ['end'] = { line = d.end_lnum, character = d.end_col } }
    local actions = request(api, 'textDocument/codeAction', {
      range = range,
      context = { diagnostics = vim.lsp.diagnostic.get_line_diagnostics(api, d.lnum) },
    })
    local chosen = vim.tbl_filter(function(action) return action.title == FIX end, actions)
    eq(#chosen, 1, 'actions titled ' .. FIX .. ' among ' .. vim.inspect(vim.tbl_map(function(a) return a.title end, actions)))
    vim.lsp.util.apply_workspace_edit(chosen[1].edit, client.offset_encoding)
  end
  local expected = vim.tbl_map(function(line) return (line:gsub('app%-confg', 'app-config')) end, original_api)
  wait_for('the fix in the buffer', function() return vim.deep_equal(lines('app/api.yaml'), expected) end)
  wait_for('the warning to go', function() return #with_code(api, 'reference-missing') == 0 end)
end)

check('definition: from the ConfigMap reference to its name in config.yaml', function()
  vim.api.nvim_set_current_buf(api)
  set_cursor(at(api, 'name: app-config', #'name: a'))
  local config_path = path_of('app/config.yaml')
  -- The workspace scan may still be on its way: ask until Neovim jumps.
  wait_for('a jump to config.yaml', function()
    vim.lsp.buf.definition()
    return vim.wait(2000, function() return vim.api.nvim_buf_get_name(0) == config_path end, 50)
  end)
  eq(vim.api.nvim_win_get_cursor(0), { 4, 8 }, 'cursor on `app-config` in config.yaml')
  buffers['app/config.yaml'] = vim.api.nvim_get_current_buf()
end)

check('code lens: the Service shows the Deployment it selects', function()
  vim.api.nvim_set_current_buf(api)
  local selector_line = at(api, 'selector:', 0, 2).line
  local lenses = wait_for('code lenses', function()
    vim.lsp.codelens.refresh({ bufnr = api })
    local found = vim.lsp.codelens.get(api)
    return #found > 0 and found
  end)
  local titles = vim.tbl_map(function(lens) return { lens.range.start.line, lens.command.title } end, lenses)
  eq(titles, { { selector_line, '1 Deployment: api' } }, 'lenses (line, title)')
end)

-- config.yaml: who points at the ConfigMap, then a rename across both files.
local config = open('app/config.yaml')
check('references: from the ConfigMap to the Deployment that reads it (quickfix list)', function()
  set_cursor(at(config, 'app-config', 1))
  vim.fn.setqflist({}, 'r')
  vim.lsp.buf.references({ includeDeclaration = false })
  local items = wait_for('the quickfix list', function()
    local list = vim.fn.getqflist()
    return #list > 0 and list
  end)
  vim.cmd('cclose')
  vim.api.nvim_set_current_buf(config)
  eq(#items, 1, 'references: ' .. vim.inspect(items))
  eq(vim.api.nvim_buf_get_name(items[1].bufnr), path_of('app/api.yaml'), 'file')
  local position = at(api, 'name: app-config', #'name: ')
  eq({ items[1].lnum, items[1].col }, { position.line + 1, position.character + 1 }, 'line and column')
end)

check('rename: the ConfigMap renamed in config.yaml and in api.yaml', function()
  vim.api.nvim_set_current_buf(config)
  set_cursor(at(config, 'app-config', 1))
  local config_before, api_before = lines('app/config.yaml'), lines('app/api.yaml')
  vim.lsp.buf.rename('settings')
  local function renamed(before)
    return vim.tbl_map(function(line) return (line:gsub('app%-config', 'settings')) end, before)
  end
  wait_for('the rename in config.yaml', function() return vim.deep_equal(lines('app/config.yaml'), renamed(config_before)) end)
  wait_for('the rename in api.yaml', function() return vim.deep_equal(lines('app/api.yaml'), renamed(api_before)) end)
  eq(lines('app/config.yaml')[4], '  name: settings', 'config.yaml')
end)

-- Formatting: formatting.yaml is indented with four spaces; Neovim's own format function.
local FORMATTED = { 'apiVersion: v1', 'kind: ConfigMap', 'metadata:', '  name: formatting', 'data:',
  '  mode: "fast"', '  # kept', "  level: '3'" }
local formatting = open('app/formatting.yaml')
check('formatting: two-space indentation, spacing fixed, quotes and comments kept', function()
  wait_for('a kube_lsp client on formatting.yaml', function() return kube_client(formatting) end)
  if vim.lsp.buf.format then
    vim.lsp.buf.format({ bufnr = formatting, async = false, timeout_ms = WAIT_MS })
  else
    vim.lsp.buf.formatting_sync(nil, WAIT_MS)
  end
  eq(lines('app/formatting.yaml'), FORMATTED, 'lines')
  local again = request(formatting, 'textDocument/formatting', { options = { tabSize = 2, insertSpaces = true } })
  eq(again or {}, {}, 'edits when formatted again')
end)

-- anchors.yaml: `&shared` (line 6) with the aliases `*shared` on lines 8 and 10, a URL in a comment.
local anchors = open('app/anchors.yaml')
check('anchors: hover on an alias shows what it expands to', function()
  local result = request_until(anchors, 'textDocument/hover', { position = at(anchors, '*shared', 2, 2) }, function(r)
    return r ~= nil
  end)
  local text = type(result.contents) == 'table' and (result.contents.value or result.contents[1]) or result.contents
  assert(text:find('Alias `*shared`', 1, true), text)
  assert(text:find('app: anchors', 1, true), text)
end)

check('anchors: definition jumps from the alias to its anchor', function()
  vim.api.nvim_set_current_buf(anchors)
  set_cursor(at(anchors, '*shared', 2, 2))
  vim.lsp.buf.definition()
  wait_for('the cursor on the anchor', function()
    return vim.deep_equal(vim.api.nvim_win_get_cursor(0), { 6, 11 })
  end)
end)

check('anchors: references of the anchor are its two aliases', function()
  local result = request(anchors, 'textDocument/references', {
    position = at(anchors, '&shared', 1),
    context = { includeDeclaration = false },
  })
  local found = vim.tbl_map(function(l) return { l.range.start.line, l.range.start.character } end, result)
  eq(found, { { 7, 16 }, { 9, 13 } }, 'alias positions (0-based)')
end)

check('anchors: rename changes the anchor and its aliases (vim.lsp.buf.rename)', function()
  vim.api.nvim_set_current_buf(anchors)
  set_cursor(at(anchors, '&shared', 1))
  local before = lines('app/anchors.yaml')
  vim.lsp.buf.rename('common')
  local expected = vim.tbl_map(function(line) return (line:gsub('([&*])shared', '%1common')) end, before)
  wait_for('the rename in anchors.yaml', function() return vim.deep_equal(lines('app/anchors.yaml'), expected) end)
end)

check('document links: the URL in a comment', function()
  local result = request(anchors, 'textDocument/documentLink', {})
  local links = vim.tbl_map(function(link) return { link.range.start.line, link.target } end, result)
  eq(links, { { 0, 'https://kubernetes.io/docs/concepts/services-networking/service/' } }, 'links')
end)

-- modeline.yaml: its modeline names settings.schema.json, which `replicas: many` breaks.
local modeline = open('app/modeline.yaml')
check('modeline: the document is checked against the schema file it names, and only that', function()
  wait_for('the schema-modeline diagnostic', function() return #with_code(modeline, 'schema-modeline') > 0 end)
  local d = with_code(modeline, 'schema-modeline')[1]
  assert(d.message:find('settings.schema.json at `replicas`', 1, true), d.message)
  eq({ d.lnum, d.col }, { 2, 10 }, 'on the value (0-based)')
  eq(#vim.diagnostic.get(modeline), 1, 'diagnostics: ' .. vim.inspect(vim.diagnostic.get(modeline)))
end)

-- docker-compose.yml: YAML of another tool: a syntax error is reported, nothing of Kubernetes.
local compose = open('app/docker-compose.yml')
check('other YAML (Compose): a syntax error only, no Kubernetes diagnostics or completion', function()
  wait_for('a kube_lsp client on docker-compose.yml', function() return kube_client(compose) end)
  local original = lines('app/docker-compose.yml')
  vim.api.nvim_buf_set_lines(compose, 2, 3, false, { '    image: [nginx:latest' })
  wait_for('the syntax error', function() return #with_code(compose, 'yaml-syntax') > 0 end)
  local codes = vim.tbl_map(code_of, vim.diagnostic.get(compose))
  eq(codes, { 'yaml-syntax' }, 'codes')
  vim.api.nvim_buf_set_lines(compose, 2, 3, false, { original[3] })
  wait_for('no diagnostics', function() return #vim.diagnostic.get(compose) == 0 end)
  local offered = labels(request(compose, 'textDocument/completion', { position = { line = 5, character = 0 } }))
  for _, label in ipairs({ 'apiVersion', 'kind', 'Deployment' }) do
    assert(not vim.tbl_contains(offered, label), label .. ' offered: ' .. vim.inspect(offered))
  end
end)

-- The chart template: filetype helm, kube-lsp attached, `.Values` completion.
local template = open('chart/templates/deployment.yaml')
check('a chart template gets filetype helm, a kube-lsp client rooted at the chart', function()
  eq(vim.bo[template].filetype, 'helm', 'filetype')
  local template_client = wait_for('a kube_lsp client on the template', function() return kube_client(template) end)
  eq(template_client.config.root_dir, path_of('chart'), 'root_dir')
end)

check('helm: `.Values.image.` completes the keys of values.yaml', function()
  local position = at(template, '.Values.image.repository', #'.Values.image.')
  local result = request_until(template, 'textDocument/completion', { position = position }, function(r)
    return #labels(r) > 0
  end)
  eq(labels(result), { 'repository', 'tag' }, 'labels')
end)

check('an edit that removes the duplicate key clears its diagnostic', function()
  vim.api.nvim_set_current_buf(web)
  vim.api.nvim_buf_set_lines(web, 4, 5, false, {})
  wait_for('the diagnostic to go', function() return #with_code(web, 'yaml-duplicate-key') == 0 end)
  eq(vim.diagnostic.get(web, { severity = vim.diagnostic.severity.ERROR }), {}, 'other errors')
end)

check('the servers answer shutdown and stop', function()
  local clients = vim.lsp.get_clients and vim.lsp.get_clients({ name = 'kube_lsp' }) or vim.lsp.get_active_clients()
  assert(#clients > 0, 'no clients')
  for _, each in ipairs(clients) do
    local response = call(each, 'request_sync', 'shutdown', nil, WAIT_MS, nil)
    assert(response and response.err == nil, 'shutdown: ' .. vim.inspect(response))
    call(each, 'notify', 'exit', nil)
    wait_for('the server to exit', function() return call(each, 'is_stopped') end)
  end
end)

vim.fn.delete(work, 'rf')
finish()

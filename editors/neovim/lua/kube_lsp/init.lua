-- kube-lsp for Neovim: `require('kube_lsp').setup(opts)`.
-- Neovim >= 0.11: vim.lsp.config + vim.lsp.enable (over lsp/kube_lsp.lua; `vim.lsp.enable('kube_lsp')`
-- alone is enough there). Older releases (0.7+): a FileType autocmd that starts or reuses a client
-- per root directory. Filetypes `yaml` and `helm` (chart templates: see ftdetect/helm.vim).
local M = {}

local uv = vim.uv or vim.loop

M.defaults = {
  cmd = { 'kube-lsp', 'serve' },
  filetypes = { 'yaml', 'helm' },
  root_markers = { 'kustomization.yaml', 'Chart.yaml', '.git' },
  -- Sent as workspace/didChangeConfiguration and answered to workspace/configuration (section
  -- `kube-lsp`): every key of docs/editors.md's settings table.
  settings = { ['kube-lsp'] = {} },
}

local function exists(path)
  return uv.fs_stat(path) ~= nil
end

local function parent(path)
  return vim.fn.fnamemodify(path, ':h')
end

--- True for files under a `templates/` directory that sits next to a Chart.yaml.
function M.is_helm_template(path)
  local dir = parent(path)
  while dir ~= parent(dir) do
    if vim.fn.fnamemodify(dir, ':t') == 'templates' and exists(parent(dir) .. '/Chart.yaml') then
      return true
    end
    dir = parent(dir)
  end
  return false
end

--- The nearest ancestor holding one of `markers` (checked in order per directory), else the file's directory.
function M.find_root(path, markers)
  local start = parent(path)
  local dir = start
  while true do
    for _, marker in ipairs(markers) do
      if exists(dir .. '/' .. marker) then
        return dir
      end
    end
    if dir == parent(dir) then
      return start
    end
    dir = parent(dir)
  end
end

local function buffer_path(bufnr)
  local name = vim.api.nvim_buf_get_name(bufnr)
  if name == '' then
    return nil
  end
  return vim.fn.fnamemodify(name, ':p')
end

--- The merged configuration; `opts` overrides the defaults (tables merge deeply).
function M.config(opts)
  local config = vim.tbl_deep_extend('force', {}, M.defaults, opts or {})
  if opts and opts.cmd then
    config.cmd = opts.cmd -- a list replaces, it does not merge index by index
  end
  if opts and opts.filetypes then
    config.filetypes = opts.filetypes
  end
  config.init_options = config.init_options or config.settings
  return config
end

--- Configuration in the shape of Neovim 0.11's vim.lsp.config (merged over lsp/kube_lsp.lua).
function M.lsp_config(opts)
  local config = M.config(opts)
  return {
    cmd = config.cmd,
    filetypes = config.filetypes,
    root_markers = config.root_markers,
    settings = config.settings,
    init_options = config.init_options,
    on_attach = config.on_attach,
    capabilities = config.capabilities,
  }
end

--- Sets the filetype `helm` on a chart template (ftdetect/helm.vim calls it for the buffer).
function M.detect_helm(bufnr)
  local path = buffer_path(bufnr)
  if path and M.is_helm_template(path) then
    vim.bo[bufnr].filetype = 'helm'
  end
end

local clients_by_root = {} -- older Neovim: one client per root directory

local function attach_legacy(bufnr, config)
  local path = buffer_path(bufnr)
  if not path then
    return
  end
  local root = M.find_root(path, config.root_markers)
  local client_config = {
    name = 'kube_lsp',
    cmd = config.cmd,
    root_dir = root,
    workspace_folders = { { uri = vim.uri_from_fname(root), name = root } },
    settings = config.settings,
    init_options = config.init_options,
    on_attach = config.on_attach,
    capabilities = config.capabilities,
    on_init = function(client)
      -- Neovim < 0.8 does not send the settings by itself.
      client.notify('workspace/didChangeConfiguration', { settings = config.settings })
    end,
  }
  if vim.lsp.start then -- 0.8 .. 0.10: reuses a client with the same name and root
    vim.lsp.start(client_config, { bufnr = bufnr })
    return
  end
  local id = clients_by_root[root]
  if not id or not vim.lsp.get_client_by_id(id) or vim.lsp.get_client_by_id(id).is_stopped() then
    id = vim.lsp.start_client(client_config)
    clients_by_root[root] = id
  end
  if id then
    vim.lsp.buf_attach_client(bufnr, id)
  end
end

function M.setup(opts)
  if vim.lsp.config and vim.lsp.enable then
    vim.lsp.config('kube_lsp', M.lsp_config(opts))
    vim.lsp.enable('kube_lsp')
    return 'lsp.config'
  end
  local config = M.config(opts)
  local group = vim.api.nvim_create_augroup('kube_lsp', { clear = true })
  vim.api.nvim_create_autocmd('FileType', {
    group = group,
    pattern = config.filetypes,
    callback = function(args)
      attach_legacy(args.buf, config)
    end,
  })
  -- Buffers already open when setup runs.
  for _, bufnr in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_is_loaded(bufnr) and vim.tbl_contains(config.filetypes, vim.bo[bufnr].filetype) then
      attach_legacy(bufnr, config)
    end
  end
  return 'autocmd'
end

return M

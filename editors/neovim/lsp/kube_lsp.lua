---@brief
--- https://github.com/kube-lsp/kube-lsp
---
--- kube-lsp, a language server for Kubernetes YAML: diagnostics (schema, best-practice rules,
--- references between objects, server-side dry-run), completion, hover, code actions, symbols,
--- folding, definition, references, rename, document links and code lenses. Also attaches to
--- Helm chart templates (filetype `helm`, e.g. from vim-helm or kube-lsp's ftdetect).
---
--- Neovim >= 0.11, with this directory on 'runtimepath':
--- ```lua
--- vim.lsp.enable('kube_lsp')
--- ```
--- Settings (all optional) go under `kube-lsp`, e.g.
--- ```lua
--- vim.lsp.config('kube_lsp', { settings = { ['kube-lsp'] = { context = 'kind-kind' } } })
--- ```

---@type vim.lsp.Config
return {
  cmd = { 'kube-lsp', 'serve' },
  filetypes = { 'yaml', 'helm' },
  root_markers = { 'kustomization.yaml', 'Chart.yaml', '.git' },
  settings = { ['kube-lsp'] = {} },
}

-- Neovim >= 0.11 picks this file up from the runtime path: with editors/neovim on 'runtimepath',
-- `vim.lsp.enable('kube_lsp')` is enough. Override with vim.lsp.config('kube_lsp', {...}).
return require('kube_lsp').lsp_config()

-- Minimal init for trying kube-lsp in Neovim from this repository (also used for the tmux capture
-- in docs/editors.md): nvim -u tests/editors/neovim_minimal_init.lua manifest.yaml
local repo = vim.fn.fnamemodify(debug.getinfo(1, 'S').source:sub(2), ':p:h:h:h')
vim.opt.runtimepath:prepend(repo .. '/editors/neovim')
vim.cmd('filetype on')
vim.opt.signcolumn = 'yes'
local binary = os.getenv('KUBE_LSP_BIN') or (repo .. '/target/release/kube-lsp')
require('kube_lsp').setup({ cmd = { binary, 'serve' }, settings = { ['kube-lsp'] = { dryRun = 'off' } } })

" Helm chart templates get the filetype `helm` (as vim-helm gives them), so YAML tools stay away
" from Go templates and kube-lsp attaches with its Helm support: files under a `templates/`
" directory next to a Chart.yaml.
autocmd BufNewFile,BufRead */templates/*.yaml,*/templates/*.yml,*/templates/*.tpl,*/templates/*.txt
      \ lua require('kube_lsp').detect_helm(tonumber(vim.fn.expand('<abuf>')))

#!/usr/bin/env bash
# Installs code-server (VS Code 1.100 for the browser; the last release on Node 20) and
# playwright-core here. code-server builds its native modules from source (Debian packages:
# build-essential pkg-config libkrb5-dev libx11-dev libxkbfile-dev libsecret-1-dev) and fetches
# ripgrep from GitHub in a postinstall step; this machine reaches no GitHub, so Debian's ripgrep
# (same 13.0.0) is put in the download cache that @vscode/ripgrep checks first.
set -euo pipefail
cd "$(dirname "$0")"
[ -x node_modules/.bin/code-server ] && [ -d node_modules/playwright-core ] && exit 0

rg_bin=$(command -v rg) || { echo "install.sh: needs ripgrep (apt-get install -y ripgrep)" >&2; exit 1; }
tmp=$PWD/.tmp
mkdir -p "$tmp/vscode-ripgrep-cache-1.15.11"
tar czf "$tmp/vscode-ripgrep-cache-1.15.11/ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz" -C "$(dirname "$rg_bin")" rg

# code-server refuses root installs without unsafe-perm; node-pty runs `npx node-gyp` (needs --yes).
TMPDIR=$tmp npm_config_unsafe_perm=true npm_config_yes=true npm ci --no-audit --no-fund

#!/usr/bin/env bash
# Regenerates the k8s.io/kubernetes requirement and the `replace` directives of
# this module's go.mod from k8s.io/kubernetes's own go.mod.
#
# k8s.io/kubernetes requires its staging modules (k8s.io/api, k8s.io/apiserver,
# ...) at the placeholder version v0.0.0 and replaces them with ./staging/...
# directories that are not part of the published module. A module that imports
# k8s.io/kubernetes must therefore replace every such module with its published
# release: k8s.io/kubernetes v1.M.P  ->  k8s.io/<staging> v0.M.P.
#
# Usage: tests/testenv/gen-replaces.sh [v1.M.P]   (default: the version in go.mod)
set -euo pipefail
cd "$(dirname "$0")"

version="${1:-}"
if [[ -z "$version" ]]; then
  version="$(go mod edit -json | python3 -c 'import json,sys; print(next(r["Version"] for r in json.load(sys.stdin)["Require"] if r["Path"]=="k8s.io/kubernetes"))')"
fi
[[ "$version" =~ ^v1\.([0-9]+)\.([0-9]+)$ ]] || { echo "unexpected version: $version" >&2; exit 1; }
staging_version="v0.${BASH_REMATCH[1]}.${BASH_REMATCH[2]}"

# Fetch k8s.io/kubernetes's go.mod through the module proxy (go mod download).
gomod="$(GOFLAGS=-mod=mod go mod download -json "k8s.io/kubernetes@${version}" \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["GoMod"])')"

# Every requirement at exactly v0.0.0 is a staging module.
mapfile -t staging < <(awk '
  /^require[[:space:]]*\(/ {inreq=1; next}
  inreq && /^\)/ {inreq=0; next}
  inreq && $2 == "v0.0.0" {print $1}
  /^require[[:space:]]+[^(]/ && $3 == "v0.0.0" {print $2}
' "$gomod" | sort -u)

[[ ${#staging[@]} -gt 0 ]] || { echo "no v0.0.0 requirements found in $gomod" >&2; exit 1; }

# Drop old k8s.io replaces, then write the new ones.
for old in $(go mod edit -json | python3 -c 'import json,sys; [print(r["Old"]["Path"]) for r in (json.load(sys.stdin).get("Replace") or []) if r["Old"]["Path"].startswith("k8s.io/")]'); do
  go mod edit -dropreplace="$old"
done
go mod edit -require="k8s.io/kubernetes@${version}"
args=()
for m in "${staging[@]}"; do
  args+=("-replace=${m}=${m}@${staging_version}")
done
go mod edit "${args[@]}"
echo "k8s.io/kubernetes ${version}: ${#staging[@]} staging modules replaced at ${staging_version}" >&2

#!/usr/bin/env python3
"""Merge kubernetes-validate's `all.json` and `_definitions.json` into one
self-contained JSON schema, so yaml-language-server can validate Kubernetes
manifests without fetching anything.

`all.json` is a `oneOf` of refs like `/api/_definitions.json#/$defs/X`; the
merged file embeds every definition under `$defs` and rewrites those refs to
local `#/$defs/X` pointers.

usage: merge-k8s-schema.py SCHEMA_DIR OUT_FILE
"""
import json
import re
import sys

EXTERNAL_REF = re.compile(r"^[^#]*_definitions\.json#")


def localize_refs(node):
    """Rewrite every `$ref` into _definitions.json as a pointer into this file."""
    if isinstance(node, dict):
        return {
            key: (EXTERNAL_REF.sub("#", value) if key == "$ref" and isinstance(value, str) else localize_refs(value))
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [localize_refs(item) for item in node]
    return node


def main():
    schema_dir, out_file = sys.argv[1], sys.argv[2]
    with open(f"{schema_dir}/all.json") as f:
        root = json.load(f)
    with open(f"{schema_dir}/_definitions.json") as f:
        definitions = json.load(f)

    merged = {
        "$schema": definitions.get("$schema", "http://json-schema.org/draft-07/schema#"),
        "$id": "https://kubernetes.io/api/all.json",
        "oneOf": localize_refs(root["oneOf"]),
        "$defs": localize_refs(definitions["$defs"]),
    }
    text = json.dumps(merged, separators=(",", ":"))
    leftover = re.findall(r'"\$ref":"(?!#)[^"]*"', text)
    if leftover:
        sys.exit(f"unresolved external refs remain, e.g. {leftover[:3]}")
    with open(out_file, "w") as f:
        f.write(text)
    print(f"wrote {out_file}: {len(merged['oneOf'])} kinds, {len(merged['$defs'])} definitions, {len(text)} bytes")


if __name__ == "__main__":
    main()

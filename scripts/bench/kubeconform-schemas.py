#!/usr/bin/env python3
"""Build kubeconform's offline schemas from kubernetes-validate's per-kind files.

kubernetes-validate ships `<kind>-<group>-<version>.json` files (kubeconform's own naming:
`{{ .ResourceKind }}{{ .KindSuffix }}.json`) whose refs point into a shared
`/api/_definitions.json#/$defs/X`. kubeconform reads one file per kind, so each file written
here carries the definitions it reaches under its own `definitions`, refs rewritten to
`#/definitions/X` (kubeconform compiles schemas without `$schema` as draft 4, which has no `$defs`).

usage: kubeconform-schemas.py SCHEMA_DIR OUT_DIR
"""
import json
import os
import re
import sys

# A ref into _definitions.json, from a per-kind file or from within _definitions.json itself.
DEFINITION_REF = re.compile(r"^(?:[^#]*_definitions\.json)?#/\$defs/")


def localize_refs(node, reached):
    """`node` with every ref into _definitions.json made local; the names it refers to go to `reached`."""
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str) and DEFINITION_REF.match(value):
                name = DEFINITION_REF.sub("", value)
                reached.append(name)
                out[key] = "#/definitions/" + name
            else:
                out[key] = localize_refs(value, reached)
        return out
    if isinstance(node, list):
        return [localize_refs(item, reached) for item in node]
    return node


def inlined(schema, definitions):
    """`schema` with the definitions it reaches, transitively, under `definitions`."""
    pending = []
    root = localize_refs(schema, pending)
    defs = {}
    while pending:
        name = pending.pop()
        if name in defs:
            continue
        if name not in definitions:
            sys.exit(f"unknown definition {name}")
        defs[name] = localize_refs(definitions[name], pending)
    if defs:
        root["definitions"] = defs
    return root


def main():
    schema_dir, out_dir = sys.argv[1], sys.argv[2]
    with open(os.path.join(schema_dir, "_definitions.json")) as f:
        definitions = json.load(f)["$defs"]
    os.makedirs(out_dir, exist_ok=True)
    written = 0
    for name in sorted(os.listdir(schema_dir)):
        if not name.endswith(".json") or name in ("_definitions.json", "all.json"):
            continue
        with open(os.path.join(schema_dir, name)) as f:
            schema = json.load(f)
        text = json.dumps(inlined(schema, definitions), separators=(",", ":"))
        if re.search(r'"\$ref":"(?!#/definitions/)', text):
            sys.exit(f"{name}: unresolved external refs remain")
        with open(os.path.join(out_dir, name), "w") as f:
            f.write(text)
        written += 1
    print(f"wrote {written} kubeconform schemas to {out_dir}")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Checks editors/helix/*.toml as far as a machine without Helix allows: valid TOML, a command and
subcommand the built kube-lsp really has, YAML and Helm templates wired to kube-lsp (beside or
instead of yaml-language-server and helm_ls), config keys that are exactly the server's documented
settings (the table in docs/editors.md, which must agree with the VS Code extension's package.json)
with the documented defaults, and the way to the server log (`:log-open`) said in the snippet and docs.

Run from anywhere: python3 tests/editors/helix_config_test.py (KUBE_LSP_BIN overrides the binary).
Prints `N passed, M failed` last; exits non-zero on failure."""

import json
import os
import re
import subprocess
import sys
import tomllib
import unittest
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
HELIX = REPO / "editors" / "helix"
# For each snippet: the language servers of `yaml` and of `helm`.
VARIANTS = {
    "languages.toml": {"yaml": ["yaml-language-server", "kube-lsp"], "helm": ["helm_ls", "kube-lsp"]},
    "languages-kube-lsp-only.toml": {"yaml": ["kube-lsp"], "helm": ["kube-lsp"]},
}


def server_binary() -> Path:
    if os.environ.get("KUBE_LSP_BIN"):
        return Path(os.environ["KUBE_LSP_BIN"])
    built = [REPO / "target" / p / "kube-lsp" for p in ("release", "debug")]
    built = [b for b in built if b.exists()]
    if not built:
        raise unittest.SkipTest("no kube-lsp built (cargo build, or set KUBE_LSP_BIN)")
    return max(built, key=lambda b: b.stat().st_mtime)


def documented_settings() -> dict[str, str]:
    """Rows `| `key` | type | default | meaning |` of the settings table in docs/editors.md."""
    text = (REPO / "docs" / "editors.md").read_text()
    section = text.split("## Settings", 1)[1].split("\n## ", 1)[0]
    return {m.group(1): m.group(2).strip() for m in re.finditer(r"^\| `([A-Za-z][A-Za-z.]*)` \| ([^|]+)\|", section, re.M)}


def documented_defaults() -> dict[str, str]:
    """The default column of the same table."""
    text = (REPO / "docs" / "editors.md").read_text()
    section = text.split("## Settings", 1)[1].split("\n## ", 1)[0]
    rows = re.finditer(r"^\| `([A-Za-z][A-Za-z.]*)` \|(.*)\|\s*$", section, re.M)
    # Columns after the key: type | default | meaning (`\|` inside a cell is an escaped bar).
    return {m.group(1): re.split(r"(?<!\\)\|", m.group(2))[1].strip() for m in rows}


class HelixConfig(unittest.TestCase):
    def load(self, name: str) -> dict:
        with open(HELIX / name, "rb") as f:
            return tomllib.load(f)

    def test_parses_and_wires_yaml_and_helm(self):
        for name, servers in VARIANTS.items():
            with self.subTest(name):
                config = self.load(name)
                wired = {lang["name"]: lang["language-servers"] for lang in config["language"]}
                self.assertEqual(len(config["language"]), len(wired), "each language once")
                self.assertEqual(wired, servers)

    def test_command_is_a_real_subcommand(self):
        binary = server_binary()
        for name in VARIANTS:
            with self.subTest(name):
                server = self.load(name)["language-server"]["kube-lsp"]
                self.assertEqual(server["command"], "kube-lsp")
                self.assertEqual(server["args"], ["serve"])
                listed = subprocess.run([binary, "--help"], capture_output=True, text=True, check=True).stdout
                self.assertRegex(listed, rf"(?m)^\s+{server['args'][0]}\s")
                help_run = subprocess.run([binary, *server["args"], "--help"], capture_output=True, text=True)
                self.assertEqual(help_run.returncode, 0, help_run.stderr)

    def test_config_keys_are_the_documented_settings(self):
        documented = documented_settings()
        self.assertGreater(len(documented), 5, "settings table found in docs/editors.md")
        for name in VARIANTS:
            with self.subTest(name):
                config = self.load(name)["language-server"]["kube-lsp"]["config"]
                self.assertEqual(list(config), ["kube-lsp"], "settings live under the section `kube-lsp`")
                # `helm.path` is the key `path` of the table `helm`.
                self.assertEqual(sorted(config["kube-lsp"]), sorted({key.split(".")[0] for key in documented}))
                self.assertIn(config["kube-lsp"]["dryRun"], ["onChange", "onSave", "off"])

    def test_config_values_are_the_documented_defaults(self):
        """Each value set (not `""`, "not set") is the first `literal` of its default in the docs."""
        documented = documented_defaults()
        self.assertEqual(sorted(documented), sorted(documented_settings()))
        for name in VARIANTS:
            config = self.load(name)["language-server"]["kube-lsp"]["config"]["kube-lsp"]
            for key, default in documented.items():
                value = config
                for part in key.split("."):
                    value = value[part]
                if value in ("", {}):
                    continue
                with self.subTest(name, key=key):
                    literal = re.search(r"`([^`]*)`", default)
                    self.assertIsNotNone(literal, f"{key}: default {default!r} names no value")
                    self.assertEqual(value if isinstance(value, str) else json.dumps(value), literal.group(1))

    def test_the_server_log_is_explained(self):
        docs = (REPO / "docs" / "editors.md").read_text().split("## Helix", 1)[1].split("\n## ", 1)[0]
        for text in [docs, *((HELIX / name).read_text() for name in VARIANTS)]:
            self.assertIn(":log-open", text)
            self.assertIn("KUBE_LSP_LOG", text)

    def test_docs_agree_with_the_vscode_extension(self):
        manifest = json.loads((REPO / "editors" / "vscode" / "package.json").read_text())
        declared = {key.removeprefix("kube-lsp.") for key in manifest["contributes"]["configuration"]["properties"]}
        self.assertEqual(sorted(declared - {"path", "trace.server"}), sorted(documented_settings()))




if __name__ == "__main__":
    # The report goes to stdout so the summary below is really the last line.
    runner = unittest.TextTestRunner(stream=sys.stdout, verbosity=2)
    result = unittest.main(exit=False, testRunner=runner).result
    # A test with failing subtests is listed once per subtest: count tests.
    failed = len({id(test) for test, _ in result.failures + result.errors})
    skipped = len(result.skipped)
    passed = result.testsRun - failed - skipped
    print(f"{passed} passed, {failed} failed" + (f", {skipped} skipped" if skipped else ""))
    sys.exit(1 if failed else 0)

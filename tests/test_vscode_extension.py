"""The VS Code extension in editors/vscode: a valid manifest whose contributions exist, the
project's own grammar, and a client that starts ``nndsl lsp``. (Node is not needed.)"""

from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXTENSION = ROOT / "editors" / "vscode"
GRAMMAR = ROOT / "nndsl" / "editors" / "nn.tmLanguage.json"


def manifest() -> dict:
    return json.loads((EXTENSION / "package.json").read_text(encoding="utf-8"))


def test_manifest_is_an_extension_manifest():
    m = manifest()
    for field in ("name", "displayName", "version", "publisher", "engines", "main", "contributes"):
        assert field in m, field
    assert re.fullmatch(r"[a-z0-9][a-z0-9-]*", m["name"])
    assert re.fullmatch(r"\d+\.\d+\.\d+", m["version"])
    assert m["engines"]["vscode"].startswith("^1.")
    assert (EXTENSION / m["main"]).is_file()
    assert "vscode-languageclient" in m["dependencies"]


def test_the_nn_language_and_its_configuration():
    (language,) = manifest()["contributes"]["languages"]
    assert language["id"] == "nn" and language["extensions"] == [".nn"]
    config = json.loads((EXTENSION / language["configuration"]).read_text(encoding="utf-8"))
    assert config["comments"] == {"lineComment": "#"}
    assert config["brackets"] == [["{", "}"], ["[", "]"], ["(", ")"]]
    closing = {pair["open"]: pair["close"] for pair in config["autoClosingPairs"]}
    assert closing == {"{": "}", "[": "]", "(": ")", '"': '"'}
    for pattern in config["indentationRules"].values():
        re.compile(pattern)
    assert re.compile(config["indentationRules"]["increaseIndentPattern"]).search("model m {")
    assert re.compile(config["indentationRules"]["decreaseIndentPattern"]).search("}")


def test_the_grammar_is_the_one_the_package_ships():
    (grammar,) = manifest()["contributes"]["grammars"]
    path = EXTENSION / grammar["path"]
    assert path.read_bytes() == GRAMMAR.read_bytes(), (
        "editors/vscode/syntaxes/nn.tmLanguage.json must be a copy of nndsl/editors/nn.tmLanguage.json")
    assert grammar["language"] == "nn"
    assert grammar["scopeName"] == json.loads(GRAMMAR.read_text(encoding="utf-8"))["scopeName"] == "source.nn"
    # the docs point at the same grammar
    assert "nndsl/editors/nn.tmLanguage.json" in (ROOT / "docs" / "editors.md").read_text(encoding="utf-8")


def test_the_client_starts_nndsl_lsp_over_stdio():
    settings = manifest()["contributes"]["configuration"]["properties"]
    assert settings["nndsl.server.command"]["default"] == "nndsl"
    assert settings["nndsl.server.args"]["default"] == ["lsp"]
    source = (EXTENSION / "extension.js").read_text(encoding="utf-8")
    assert 'require("vscode-languageclient/node")' in source
    assert "TransportKind.stdio" in source
    assert 'getConfiguration("nndsl.server")' in source
    assert 'language: "nn"' in source
    for name in ("activate", "deactivate"):
        assert re.search(rf"module\.exports = \{{[^}}]*\b{name}\b", source)
    commands = {c["command"] for c in manifest()["contributes"]["commands"]}
    assert commands <= set(re.findall(r'registerCommand\("([^"]+)"', source))

"""A ``.nn`` file is untrusted input: what it may not do, refused at check time (docs/security.md).

No code and no network from a file: names that run code or load an opaque graph are refused;
names that open a connection need ``--allow-network``. The catalogue marks the Keras names, a
plugin's spec marks its own. The command-line cases run the real ``nndsl`` and assert that the
program's folder and a sibling folder are unchanged.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

import nndsl
from nndsl.builtins.keras import spec_for
from nndsl.errors import NndslCheckError
from nndsl.paths import Grants
from nndsl.plugins.registry import registry
from nndsl.plugins.spec import RISK_CODE, RISK_GRAPH, RISK_NETWORK, RISKS, LayerSpec, param
from nndsl.tools import gen_catalogue

ROOT = Path(__file__).resolve().parent.parent
ENV = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "PYTHONPATH")}
ENV.update(NO_COLOR="1", PYTHONDONTWRITEBYTECODE="1", PYTHONPATH=str(ROOT))

DATA = 'data d = csv("d.csv", target="y")\n'
MODEL = "model m {{\n    Input(shape=(2,))\n{layers}    Dense(1)\n    loss mse\n}}\n"


def program(layers: str = "", callbacks: str = "") -> str:
    text = DATA + MODEL.format(layers="".join(f"    {line}\n" for line in layers.splitlines()))
    return text + (f"train m on d callbacks=[{callbacks}]\n" if callbacks else "train m on d\n")


def codes(text: str, **kwargs) -> list[tuple[str, int, int]]:
    """(code, line, column) of every diagnostic checking ``text`` reports; [] when it passes."""
    try:
        nndsl.check(text, filename="model.nn", **kwargs)
    except NndslCheckError as exc:
        return [(d.code, d.span.line, d.span.column) for d in exc.diagnostics]
    return []


# ---------------------------------------------------------------- the catalogue's marks


@pytest.mark.parametrize("kind,name,risk", [
    ("layers", "Lambda", RISK_CODE), ("layers", "TorchModuleWrapper", RISK_CODE), ("layers", "JaxLayer", RISK_CODE),
    ("layers", "FlaxLayer", RISK_CODE), ("layers", "TFSMLayer", RISK_GRAPH), ("callbacks", "LambdaCallback", RISK_CODE),
    ("callbacks", "RemoteMonitor", RISK_NETWORK),
])
def test_the_catalogue_marks_names_that_run_code_or_open_connections(kind, name, risk):
    assert spec_for(kind, name).risk == risk


def test_marks_name_only_known_risks_and_existing_parameters():
    committed = json.loads((ROOT / "nndsl" / "catalogue" / "keras.json").read_text(encoding="utf-8"))
    kinds = committed["kinds"]
    assert all(risk in RISKS for names in gen_catalogue.RISKS.values() for risk in names.values())
    # marking the committed catalogue again changes nothing: the marks are in it, and every
    # parameter a mark names exists (mark raises KeyError otherwise)
    assert gen_catalogue.render({**committed, "kinds": gen_catalogue.mark(json.loads(json.dumps(kinds)))}) == \
        gen_catalogue.render(committed)
    assert spec_for("callbacks", "LearningRateScheduler").param("schedule").callable
    assert spec_for("callbacks", "CSVLogger").param("filename").path == "write"
    assert spec_for("callbacks", "BackupAndRestore").param("backup_dir").path == "scratch_dir"
    assert not spec_for("layers", "Dense").risk


# ---------------------------------------------------------------- check refuses them


@pytest.mark.parametrize("layer", [
    "Lambda(relu)", 'TFSMLayer("evil_sm", call_endpoint="serve")', "TorchModuleWrapper(module=net)",
    "JaxLayer(call_fn=f)", "FlaxLayer(module=net)",
])
def test_layers_that_run_code_are_refused_at_the_layer(layer):
    assert codes(program(layer)) == [("runs-code", 4, 5)]


def test_lambda_callback_is_refused_and_the_network_needs_its_flag():
    text = program(callbacks='LambdaCallback(), RemoteMonitor(root="http://example.com")')
    assert codes(text) == [("runs-code", 7, 25), ("needs-network", 7, 43)]
    assert codes(text, grants=Grants(network=True)) == [("runs-code", 7, 25)]


def test_a_bare_name_where_keras_wants_a_function_is_refused():
    assert codes(program(callbacks="LearningRateScheduler(my_schedule)")) == [("runs-code", 7, 47)]
    assert codes(program(callbacks='LearningRateScheduler("my_schedule")')) == [("runs-code", 7, 47)]


def test_names_inside_a_sequential_group_and_a_block_are_refused_too():
    text = DATA + "block b() {\n    Lambda(relu)\n}\n" + MODEL.format(layers="    Sequential(TFSMLayer(\"x\"))\n    b()\n")
    assert sorted(c for c, _, _ in codes(text)) == ["runs-code", "runs-code"]


def test_a_plugin_marks_its_own_names_the_same_way():
    registry("callbacks").register("Webhook", LayerSpec(name="Webhook", doc="Posts each epoch's logs.", impl="somewhere:Webhook",
                                                        params=(param("url", "str"),), risk=RISK_NETWORK))
    registry("layers").register("Evaluate", LayerSpec(name="Evaluate", doc="Runs an expression.", impl="somewhere:Evaluate",
                                                      params=(param("expression", "str"),), risk=RISK_CODE))
    text = program(callbacks='Webhook("http://example.com")')
    assert codes(text) == [("needs-network", 7, 25)]
    assert codes(text, grants=Grants(network=True)) == []
    assert codes(program('Evaluate("x * 2")')) == [("runs-code", 4, 5)]


def test_a_plugin_spec_without_a_mark_is_allowed():
    registry("callbacks").register("Quiet", LayerSpec(name="Quiet", doc="Does nothing.", impl="somewhere:Quiet"))
    assert codes(program(callbacks="Quiet()")) == []


# ---------------------------------------------------------------- through the command line


def snapshot(*folders: Path) -> dict[str, bytes | None]:
    """Every path under the folders, with its bytes (None for a folder)."""
    out = {}
    for folder in folders:
        for p in sorted(folder.rglob("*")):
            out[str(p)] = None if p.is_dir() else p.read_bytes()
    return out


def nndsl_cli(*argv: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "nndsl", *argv], cwd=cwd, env=ENV, capture_output=True, text=True, timeout=120)


@pytest.fixture
def project(tmp_path):
    """A program's folder (with data) and a sibling folder holding someone's unrelated file."""
    folder, sibling = tmp_path / "project", tmp_path / "sibling"
    folder.mkdir()
    sibling.mkdir()
    (folder / "d.csv").write_text("a,b,y\n1,2,3\n4,5,6\n", encoding="utf-8")
    (sibling / "notes.txt").write_text("not the program's\n", encoding="utf-8")
    return folder, sibling


@pytest.mark.parametrize("command", ["check", "run"])
def test_the_cli_refuses_code_and_network_before_anything_runs(project, command):
    folder, sibling = project
    (folder / "model.nn").write_text(program("Lambda(relu)", 'RemoteMonitor(root="http://example.com")'), encoding="utf-8")
    before = snapshot(folder.parent)
    proc = nndsl_cli(command, "model.nn", cwd=folder)
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "model.nn:4:5: error: expected a name a .nn file may use; received 'Lambda', which runs Python code [runs-code]" in proc.stderr
    assert "[needs-network]" in proc.stderr
    after = snapshot(folder.parent)
    # run writes its record even when checking fails; nothing else changes, here or next door
    assert {k: v for k, v in after.items() if not k.endswith("model.run.json")} == before


def test_the_cli_grants_the_network_with_its_flag(project):
    folder, _ = project
    (folder / "model.nn").write_text(program(callbacks='RemoteMonitor(root="http://example.com")'), encoding="utf-8")
    assert nndsl_cli("check", "model.nn", cwd=folder).returncode == 1
    proc = nndsl_cli("check", "--allow-network", "model.nn", cwd=folder)
    assert proc.returncode == 0, proc.stderr


def test_allow_write_wants_an_existing_folder(project):
    folder, _ = project
    (folder / "model.nn").write_text(program(), encoding="utf-8")
    proc = nndsl_cli("check", "--allow-write", "nowhere", "model.nn", cwd=folder)
    assert proc.returncode == 2
    assert proc.stderr.strip() == "nndsl check: error: --allow-write nowhere: expected an existing folder; received a path that does not exist"


# ---------------------------------------------------------------- budgets hold at run time


BUDGET = "model m {\n    Input(shape=(10,))\n    RMSNormalization()\n    Dense(1000)\n    Dense(1)\n    loss mse\n}\n"


def test_a_layer_without_a_shape_rule_leaves_the_static_count_unknown():
    checked = nndsl.check(BUDGET, max_params=5000)  # the static count stops at RMSNormalization
    assert checked.models["m"].shapes[1][2] is None


@pytest.mark.keras
def test_the_parameter_budget_is_held_on_the_built_model():
    from nndsl.compile.keras import build_model

    with pytest.raises(NndslCheckError) as info:
        build_model(nndsl.check(BUDGET, filename="model.nn", max_params=5000))
    (d,) = info.value.diagnostics
    assert (d.code, d.span.line, d.span.column) == ("parameter-budget", 1, 7)
    assert d.message == "expected at most 5,000 parameters; received 12,011 in model 'm'"
    assert build_model(nndsl.check(BUDGET, max_params=12_011)).count_params() == 12_011


# ---------------------------------------------------------------- generated text is escaped

# Names a saved model may hold: anything Keras accepts (no '/', which it refuses in a name) and
# that its config.json can store (no lone surrogates).
NAMES = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="/"), min_size=1, max_size=24)
FILE_STEMS = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="/\0"), min_size=1, max_size=16).filter(
    lambda s: s not in (".", "..") and len(s.encode("utf-8")) < 200)


def _literal(text: str) -> str:
    """The value of a .nn string literal."""
    return nndsl.parse(f"let x = {text}\n").statements[0].value.value


@pytest.mark.keras
# Each example saves and loads a model: no shrinking, which would take minutes (the example is printed as found).
@settings(max_examples=25, deadline=None, phases=(Phase.explicit, Phase.reuse, Phase.generate))
@given(model_name=NAMES, layer_name=NAMES, stem=FILE_STEMS)
def test_any_model_layer_or_file_name_imports_to_one_model_block(model_name, layer_name, stem):
    import tempfile

    import keras

    from nndsl.interop.importer import import_model

    with tempfile.TemporaryDirectory() as folder:
        model = keras.Sequential([keras.Input(shape=(2,)), keras.layers.Dense(1, name=layer_name)], name=model_name)
        path = Path(folder) / f"{stem}.keras"
        model.save(path)
        text = import_model(path)
    program = nndsl.parse(text)
    (decl,) = program.statements  # nothing but the model block: no statement smuggled in by a name
    assert isinstance(decl, nndsl.ast.ModelDecl)
    # the names come back exactly, from their literals in the head comment and the layer
    first = program.comments[0].text
    assert _literal(first[first.index(" model ") + 7:first.rindex(", imported from")]) == model_name
    assert _literal(program.comments[1].text[2:program.comments[1].text.rindex(". Its trained")]) == f"{stem}.keras"
    dense = decl.body[1].call
    written = {k.name: k.value for k in dense.kwargs}
    if "name" in written:
        assert written["name"].value == layer_name if hasattr(written["name"], "value") else str(written["name"].id) == layer_name
    else:  # a name Keras would make up itself is left out
        assert layer_name.lower().startswith("dense")

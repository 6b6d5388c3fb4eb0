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
    assert proc.stderr.strip() == ("nndsl check: error: --allow-write nowhere: expected an existing folder; "
                                   "received a path that does not exist")


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
# that its files can store (no lone surrogates, no NUL).
NAMES = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="/\0"), min_size=1, max_size=24)  # h5py refuses NUL
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


# ---------------------------------------------------------------- one gate for every path: check time

TRAIN_PROGRAM = DATA + 'data t = csv("t.csv")\n' + MODEL.format(layers="")  # lines 1-2 data, 3-7 the model


def project_with(folder: Path, steps: str) -> Path:
    (folder / "t.csv").write_text("a,b\n7,8\n", encoding="utf-8")
    nn = folder / "model.nn"
    nn.write_text(TRAIN_PROGRAM + "train m on d\n" + steps, encoding="utf-8")
    return nn


def checked_cli(folder: Path, *extra: str) -> tuple[int, str, str]:
    proc = nndsl_cli("check", *extra, "model.nn", cwd=folder)
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc.returncode, proc.stdout, proc.stderr


def first_error(stderr: str) -> str:
    return stderr.splitlines()[0]


@pytest.mark.parametrize("steps,expected", [
    ('predict m on d to "../../home/.bashrc" keep=["a"]\n',
     "model.nn:9:19: error: expected a path inside the folder of the .nn file or a folder given with --allow-write; received "
     "'../../home/.bashrc', a path outside them [write-outside]"),
    ('save m to "/tmp/elsewhere.keras"\n',
     "model.nn:9:11: error: expected a path inside the folder of the .nn file or a folder given with --allow-write; received "
     "'/tmp/elsewhere.keras', a path outside them [write-outside]"),
    ('predict m on d to "t.csv"\n',  # t is only read by a later step, or by none: still an input
     "model.nn:9:19: error: expected an output path that is not an input; received 't.csv', the file of data "
     "source 't' [bad-output]"),
    ('train m on d callbacks=[CSVLogger(filename="model.nn")]\n',
     "model.nn:9:44: error: expected an output path that is not an input; received 'model.nn', the .nn file "
     "itself [bad-output]"),
    ('train m on d callbacks=[BackupAndRestore(backup_dir=".")]\n',
     "model.nn:9:53: error: expected a folder of its own (new or empty), which is deleted after training; received '.', which "
     "holds the .nn file itself [write-conflict]"),
    ('save m to "model.resume.keras"\n',
     "model.nn:9:11: error: expected a path nndsl does not keep for itself; received 'model.resume.keras', the checkpoint nndsl "
     "keeps for run --resume [write-conflict]"),
    ('train m on d callbacks=[ModelCheckpoint("../sibling/m.keras")]\n',
     "model.nn:9:41: error: expected a path inside the folder of the .nn file or a folder given with --allow-write; received "
     "'../sibling/m.keras', a path outside them [write-outside]"),
    ('load old from "old.keras"\nsave m to "old.keras"\n',
     "model.nn:10:11: error: expected an output path that is not an input; received 'old.keras', the model file "
     "'load old' reads [bad-output]"),
])
def test_check_refuses_a_write_that_breaks_a_rule(project, steps, expected):
    folder, sibling = project
    project_with(folder, steps)
    before = snapshot(folder.parent)
    code, _, err = checked_cli(folder)
    assert (code, first_error(err)) == (1, expected), err
    assert snapshot(folder.parent) == before


def test_a_link_that_leads_outside_is_refused_and_one_inside_is_followed(project):
    folder, sibling = project
    (folder / "out").symlink_to(sibling)
    (folder / "inside").mkdir()
    (folder / "here").symlink_to(folder / "inside")
    project_with(folder, 'predict m on d to "out/p.csv"\npredict m on d to "here/p.csv"\n')
    code, _, err = checked_cli(folder)
    assert first_error(err) == ("model.nn:9:19: error: expected a path inside the folder of the .nn file or a folder given with "
                                "--allow-write; received 'out/p.csv', a link that leads outside them [write-outside]")
    assert err.count("error:") == 1  # here/p.csv stays inside


def test_a_link_to_an_input_is_refused(project):
    folder, _ = project
    (folder / "alias.csv").symlink_to(folder / "d.csv")
    project_with(folder, 'predict m on t to "alias.csv"\n')
    code, _, err = checked_cli(folder)
    assert first_error(err).endswith("received 'alias.csv', the file of data source 'd' [bad-output]")


def test_a_fifo_or_device_is_never_a_target(project):
    folder, _ = project
    os.mkfifo(folder / "pipe")
    project_with(folder, 'predict m on d to "pipe"\n')
    code, _, err = checked_cli(folder)
    assert first_error(err) == ("model.nn:9:19: error: expected a regular file to write; received 'pipe', a device or other "
                                "special file [bad-output]")


def test_a_backup_folder_must_be_new_empty_or_its_own(project):
    folder, _ = project
    (folder / "busy").mkdir()
    (folder / "busy" / "thesis.tex").write_text("years of work\n", encoding="utf-8")
    (folder / "left").mkdir()
    (folder / "left" / "latest.weights.h5").write_bytes(b"an interrupted run's backup")
    project_with(folder, 'train m on d callbacks=[BackupAndRestore(backup_dir="busy")]\n'
                         'train m on d callbacks=[BackupAndRestore(backup_dir="left"), BackupAndRestore("new")]\n')
    code, _, err = checked_cli(folder)
    assert first_error(err) == ("model.nn:9:53: error: expected a folder of its own (new or empty), which is deleted after "
                                "training; received 'busy', which holds other files (thesis.tex) [write-conflict]")
    assert err.count("error:") == 1


def test_nothing_else_is_written_into_a_backup_folder(project):
    folder, _ = project
    project_with(folder, 'train m on d callbacks=[ModelCheckpoint("out/best.keras"), BackupAndRestore(backup_dir="out")]\n')
    code, _, err = checked_cli(folder)
    assert (code, first_error(err)) == (1, "model.nn:9:41: error: expected an output outside 'out' (the backup_dir of "
                                           "BackupAndRestore), a folder deleted after training; received 'out/best.keras' "
                                           "(the filepath of ModelCheckpoint) [write-conflict]"), err


@pytest.mark.keras
def test_an_empty_backup_folder_of_the_users_is_still_there_after_training(project):
    from nndsl.cli import main

    folder, _ = project
    (folder / "mine").mkdir()
    project_with(folder, 'train m on d epochs=1 callbacks=[BackupAndRestore(backup_dir="mine")]\n')
    assert main(["run", str(folder / "model.nn"), "--progress", "none"]) == 0
    assert (folder / "mine").is_dir() and not any((folder / "mine").iterdir())


def test_allow_write_grants_a_folder_and_nothing_else(project):
    folder, sibling = project
    project_with(folder, 'save m to "../sibling/m.keras"\nsave m to "../other/m.keras"\n')
    (folder.parent / "other").mkdir()
    code, _, err = checked_cli(folder, "--allow-write", "../sibling")
    assert code == 1
    assert first_error(err).startswith("model.nn:10:11: error:") and err.count("[write-outside]") == 1


def test_check_json_lists_reads_and_writes(project):
    folder, _ = project
    project_with(folder, 'train m on d callbacks=[CSVLogger("log.csv"), TensorBoard()]\nsave m to "m.keras"\n'
                         'load again from "m.keras"\npredict again on t to "p.csv"\n')
    code, out, err = checked_cli(folder, "--json")
    assert code == 0, err
    report = json.loads(out)
    reads = {(a["path"], a["by"]) for a in report["reads"]}
    writes = {(a["kind"], a["path"], a["by"]) for a in report["writes"]}
    assert reads == {("model.nn", "the .nn file itself"), ("d.csv", "the file of data source 'd'"),
                     ("t.csv", "the file of data source 't'"), ("m.keras", "the file 'load again' reads")}
    assert writes == {("write", "m.keras", "save m"), ("write", "p.csv", "predict again"),
                      ("write", "log.csv", "the filename of CSVLogger"), ("write_dir", "logs", "the log_dir of TensorBoard")}
    assert all(Path(a["resolved"]).parent == folder.resolve() for a in report["reads"] + report["writes"])


def test_check_json_reports_errors_as_json_too(project):
    folder, _ = project
    project_with(folder, 'save m to "../x.keras"\n')
    code, out, err = checked_cli(folder, "--json")
    assert code == 1 and "[write-outside]" in err
    (line,) = out.splitlines()
    report = json.loads(line)
    assert report["ok"] is False and [(e["code"], e["line"], e["column"]) for e in report["errors"]] == [("write-outside", 9, 11)]


def test_text_without_a_file_lists_paths_but_holds_none():
    checked = nndsl.check(program() + 'save m to "/anywhere/m.keras"\n', filename="<string>")
    assert [(a.kind, a.path) for a in checked.files if a.kind != "read"] == [("write", "/anywhere/m.keras")]


# A program's folder for the property below: data, a sub-folder, a link out to a sibling, and a
# folder holding someone's file. Made once: checking never changes it.
@pytest.fixture(scope="module")
def maze(tmp_path_factory):
    root = tmp_path_factory.mktemp("maze")
    folder, sibling = root / "project", root / "sibling"
    for f in (folder, sibling, folder / "sub", folder / "busy"):
        f.mkdir()
    (folder / "d.csv").write_text("a,b,y\n1,2,3\n", encoding="utf-8")
    (folder / "t.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    (folder / "busy" / "notes.txt").write_text("mine\n", encoding="utf-8")
    (folder / "link").symlink_to(sibling)
    (folder / "sub" / "up").symlink_to(folder)
    nn = folder / "model.nn"
    nn.write_text("", encoding="utf-8")
    return nn


SEGMENT = st.sampled_from(["..", ".", "d.csv", "t.csv", "model.nn", "sub", "up", "busy", "link", "p.csv", "x.keras",
                           "model.resume.keras", "model.run.json", "new", "/", "/tmp"])
PATHS = st.lists(SEGMENT, min_size=1, max_size=4).map(lambda parts: os.path.join(*parts))
CALLBACKS = st.sampled_from(["CSVLogger(filename={})", "ModelCheckpoint({})", "TensorBoard(log_dir={})",
                             "BackupAndRestore(backup_dir={})"])


def _inside(path: Path, folder: Path) -> bool:
    path, folder = Path(os.path.realpath(path)), Path(os.path.realpath(folder))
    return path == folder or folder in path.parents


@settings(max_examples=300, deadline=None)
@given(callback=CALLBACKS, callback_path=PATHS, predict_path=PATHS, save_path=PATHS)
def test_whatever_check_accepts_writes_only_what_the_program_owns(maze, callback, callback_path, predict_path, save_path):
    folder = maze.parent
    text = (program(callbacks=callback.format(json.dumps(callback_path)))
            + f"predict m on d to {json.dumps(predict_path)}\nsave m to {json.dumps(save_path)}\n")
    try:
        checked = nndsl.check(text, nn_file=maze)
    except NndslCheckError as exc:
        assert {d.code for d in exc.diagnostics} <= {"write-outside", "write-conflict", "bad-output"}, exc.render()
        return
    inputs = [folder / "d.csv", maze, folder / "model.resume.keras", folder / "model.run.json"]
    for access in checked.files:
        if access.kind == "read":
            continue
        target = Path(os.path.join(folder, access.path))
        assert _inside(target, folder), access
        real_target = Path(os.path.realpath(target))
        if access.kind == "write":
            assert not real_target.is_dir() or True  # a folder target is the step's own error at run time
            assert all(real_target != Path(os.path.realpath(i)) for i in inputs), access
        if access.kind == "scratch_dir" and real_target.exists():
            assert set(os.listdir(real_target)) <= {"latest.weights.h5", "training_metadata.json"}, access


# ---------------------------------------------------------------- the run's gate


def test_the_gate_holds_the_rules_again_when_the_files_have_changed(tmp_path):
    from nndsl.run.gate import Gate, Refused

    folder = tmp_path / "p"
    folder.mkdir()
    (folder / "d.csv").write_text("a,y\n1,2\n", encoding="utf-8")
    nn = folder / "model.nn"
    nn.write_text(program(), encoding="utf-8")
    checked = nndsl.check(nn.read_text(encoding="utf-8"), nn_file=nn)
    gate = Gate.for_program(checked)
    assert gate.check("out.csv") == folder / "out.csv"
    (folder / "out.csv").symlink_to(tmp_path)  # made after the check: a link that now leads out
    with pytest.raises(Refused) as info:
        gate.check("out.csv")
    assert info.value.refusal.code == "write-outside"
    for name, code in (("d.csv", "bad-output"), ("model.nn", "bad-output"), ("model.resume.keras", "write-conflict"),
                       ("../x", "write-outside")):
        with pytest.raises(Refused) as info:
            gate.check(name)
        assert info.value.refusal.code == code, name
    assert gate.check("model.resume.keras", own=True) == folder / "model.resume.keras"


def test_the_gate_deletes_only_what_the_run_created(tmp_path):
    from nndsl.run.gate import Gate, Refused

    (tmp_path / "theirs.txt").write_text("not the run's\n", encoding="utf-8")
    gate = Gate(tmp_path)
    backup = gate.scratch_folder("backup")
    (backup / "latest.weights.h5").write_bytes(b"w")
    assert gate.owns(backup / "latest.weights.h5")
    assert not gate.remove("theirs.txt") and (tmp_path / "theirs.txt").exists()
    assert gate.remove("backup") and not backup.exists()
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("mine\n", encoding="utf-8")
    with pytest.raises(Refused):
        gate.scratch_folder("busy")
    assert not gate.remove("busy") and (tmp_path / "busy" / "notes.txt").exists()


EXPORTED = (DATA + "let width = 4\nseed 7\n" + MODEL.format(layers="Dense(width)\n")
            + 'train m on d epochs=2\nsave m to "m.keras"\npredict m on d to "p.csv"\n')


def _shape(script: str) -> str:
    """The script's syntax tree with every string constant blanked: its statements and expressions."""
    import ast as pyast

    tree = pyast.parse(script)
    for node in pyast.walk(tree):
        if isinstance(node, pyast.Constant) and isinstance(node.value, str):
            node.value = ""
    return pyast.dump(tree)


@settings(max_examples=200, deadline=None)
@given(stem=FILE_STEMS)
def test_any_file_name_exports_to_the_same_statements(tmp_path_factory, stem):
    from nndsl.interop.eject import eject

    folder = tmp_path_factory.mktemp("export")
    name = f"{stem}.nn"
    reference = eject(nndsl.check(EXPORTED, filename="model.nn"), source_path=folder / "model.nn", output_path=folder / "s.py")
    script = eject(nndsl.check(EXPORTED, filename=name), source_path=folder / name, output_path=folder / "s.py")
    # a name holding quotes, line breaks or '#' changes the text of comments and docstrings, never the code
    assert _shape(script) == _shape(reference)
    assert len(script.splitlines()) == len(reference.splitlines())


# ---------------------------------------------------------------- the gate at run time, through the CLI

ROWS = "a,b,y\n" + "".join(f"{i},{i % 3},{2 * i + 1}\n" for i in range(12))


def _changes(before: dict, after: dict) -> tuple[set, set]:
    """(paths added or changed, paths removed) between two snapshots."""
    changed = {k for k, v in after.items() if k not in before or before[k] != v}
    return changed, set(before) - set(after)


def _allowed(folder: Path, report: dict) -> list[Path]:
    out = [folder / "model.run.json", folder / "runs"]  # nndsl's own: the run record and the run history
    out += [Path(w["resolved"]) for w in report["writes"]]
    return out


def _within_declared(path: str, allowed: list[Path]) -> bool:
    """A declared write, a file in a declared folder, or a folder made to hold one."""
    p = Path(os.path.realpath(path))
    return any(p == a or a in p.parents or (Path(path).is_dir() and p in a.parents) for a in allowed)


def run_and_compare(folder: Path, sibling: Path, text: str) -> None:
    """Check the program, run it, and assert that only what check declared changed, nothing was
    deleted that the run did not create, and the sibling folder is as it was."""
    from nndsl.cli import main

    (folder / "model.nn").write_text(text, encoding="utf-8")
    proc = nndsl_cli("check", "--json", "model.nn", cwd=folder)
    before = snapshot(folder.parent)
    status = main(["run", str(folder / "model.nn"), "--progress", "none"])
    changed, removed = _changes(before, snapshot(folder.parent))
    if proc.returncode != 0:
        assert status == 1 and not changed and not removed, (proc.stderr, changed, removed)
        return
    report = json.loads(proc.stdout)
    assert status == 0
    assert not removed, removed
    allowed = _allowed(folder, report)
    assert not [c for c in changed if not _within_declared(c, allowed)], (changed, allowed)
    assert not [c for c in changed if c.startswith(str(sibling))]


@pytest.mark.keras
def test_a_run_writes_only_what_check_declares(project):
    folder, sibling = project
    (folder / "d.csv").write_text(ROWS, encoding="utf-8")
    (folder / "t.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    text = (DATA + 'data t = csv("t.csv")\n' + MODEL.format(layers="")
            + 'train m on d epochs=2 callbacks=[CSVLogger("log.csv"), BackupAndRestore("backup"), ModelCheckpoint("best.keras")]\n'
            + 'save m to "m.keras"\npredict m on t to "p.csv"\n')
    run_and_compare(folder, sibling, text)
    assert (folder / "log.csv").is_file() and (folder / "best.keras").is_file() and (folder / "p.csv").is_file()
    assert not (folder / "backup").exists()  # made by the run for BackupAndRestore, removed by Keras after training


OUTPUTS = st.sampled_from(["p.csv", "out/p.csv", "d.csv", "t.csv", "model.nn", "../sibling/p.csv", "link/p.csv", "model.run.json",
                           "model.resume.keras", "/tmp/p.csv"])
FOLDERS = st.sampled_from(["backup", ".", "out", "..", "link", "busy", "new/inner"])
RUN_CALLBACKS = st.sampled_from(['CSVLogger({p})', 'BackupAndRestore(backup_dir={f})', 'ModelCheckpoint({k})', 'EarlyStopping()'])


@pytest.mark.keras
@settings(max_examples=12, deadline=None, phases=(Phase.explicit, Phase.reuse, Phase.generate))
@given(callbacks=st.lists(RUN_CALLBACKS, max_size=2), csv_path=OUTPUTS, folder_path=FOLDERS, predict_path=OUTPUTS)
def test_random_outputs_and_callbacks_never_touch_what_the_program_does_not_own(tmp_path_factory, callbacks, csv_path,
                                                                               folder_path, predict_path):
    root = tmp_path_factory.mktemp("run")
    folder, sibling = root / "project", root / "sibling"
    for f in (folder, sibling, folder / "out", folder / "busy"):
        f.mkdir()
    (folder / "d.csv").write_text(ROWS, encoding="utf-8")
    (folder / "t.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    (folder / "busy" / "notes.txt").write_text("mine\n", encoding="utf-8")
    (sibling / "notes.txt").write_text("not the program's\n", encoding="utf-8")
    (folder / "link").symlink_to(sibling)
    keras_path = csv_path.rsplit(".", 1)[0] + ".keras"
    items = ", ".join(c.format(p=json.dumps(csv_path), f=json.dumps(folder_path), k=json.dumps(keras_path)) for c in callbacks)
    text = (DATA + 'data t = csv("t.csv")\n' + MODEL.format(layers="")
            + f"train m on d epochs=1{f' callbacks=[{items}]' if items else ''}\n"
            + f"predict m on t to {json.dumps(predict_path)}\n")
    run_and_compare(folder, sibling, text)


# ---------------------------------------------------------------- numbers


def test_the_run_record_is_strict_json_whatever_the_numbers(tmp_path):
    import numpy as np

    from nndsl.run.record import RunRecord

    record = RunRecord("text", "model.nn", 1, {})
    record.data["history"] = {"m": {"loss": [1.5, float("nan"), float("inf")], "mae": [np.float32(2.5), np.float64("-inf")]}}
    record.data["metrics"] = {"m:d": {"loss": np.float32("nan")}, "shape": (1, 2), "path": tmp_path}
    record.write(tmp_path / "r.json")

    def refuse(constant):
        raise AssertionError(f"not JSON: {constant}")

    data = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"), parse_constant=refuse)
    assert data["history"]["m"] == {"loss": [1.5, None, None], "mae": [2.5, None]}
    assert data["metrics"] == {"m:d": {"loss": None}, "shape": [1, 2], "path": str(tmp_path)}


def test_scaling_statistics_past_float32_are_refused_not_lost():
    import numpy as np

    from nndsl.run.preprocess import ScalingError, fit_minmax, fit_standard

    x = np.array([[0.0, 1.0], [1e20, 2.0]], dtype="float32")
    with pytest.raises(ScalingError) as info:
        fit_minmax(x)
    assert info.value.column == 0 and "squared range is 1e+40" in info.value.detail
    with pytest.raises(ScalingError):
        fit_standard(np.array([[0.0], [1e20], [-1e20]], dtype="float32"))
    scaler = fit_minmax(np.array([[0.0, 1.0], [1e18, 2.0]], dtype="float32"))  # a range of 1e18 fits
    assert np.isfinite(scaler.variance).all() and scaler.apply(np.array([[1e18, 2.0]], dtype="float32"))[0, 0] == pytest.approx(1.0)


# ---------------------------------------------------------------- --resume knows its program

RESUMED = DATA + MODEL.format(layers="Dense(4)\n") + "train m on d epochs=3\n"


def _checkpoint(folder: Path, program_text: str) -> Path:
    """A resume checkpoint of ``program_text`` stopped after epoch 1, as Ctrl-C writes it."""
    from nndsl.compile.keras import build_model
    from nndsl.run import interrupt
    from nndsl.run.modelmeta import add_to_archive

    checked = nndsl.check(program_text)
    model = build_model(checked, "m")
    ckpt = folder / "model.resume.keras"
    model.save(ckpt)
    add_to_archive(ckpt, {"resume": {"step": 0, "model": "m", "epoch": 1, "epochs": 3, "history": {"loss": [1.0]},
                                     "epoch_seconds": [0.1], "feature_scaler": None, "target_scaler": None,
                                     "fingerprint": {**interrupt.fingerprint(checked.models["m"], None), "data": None}}})
    return ckpt


@pytest.mark.keras
@pytest.mark.parametrize("changed,what", [
    (RESUMED.replace("Dense(4)", "Dense(5)"), "its layers"),
    (RESUMED.replace("loss mse", "loss mae"), "its loss, optimizer, metrics or preprocessing"),
])
def test_resume_refuses_a_changed_program(project, capsys, changed, what):
    from nndsl.cli import main

    folder, _ = project
    (folder / "d.csv").write_text(ROWS, encoding="utf-8")
    ckpt = _checkpoint(folder, RESUMED)
    (folder / "model.nn").write_text(changed, encoding="utf-8")
    assert main(["run", str(folder / "model.nn"), "--progress", "none", "--resume"]) == 2
    err = capsys.readouterr().err
    assert err.strip() == (f"nndsl run: error: --resume: expected the program that model.resume.keras was written by; received one "
                           f"whose model 'm' (line 8) differs in {what}; run without --resume to train from the start (the next "
                           "Ctrl-C replaces model.resume.keras), or undo the change")
    assert ckpt.is_file()  # kept: the unchanged program may still resume from it


@pytest.mark.keras
def test_resume_continues_the_same_program_and_refuses_changed_steps(project, capsys):
    from nndsl.cli import main

    folder, _ = project
    (folder / "d.csv").write_text(ROWS, encoding="utf-8")
    ckpt = _checkpoint(folder, RESUMED)
    (folder / "model.nn").write_text(RESUMED + 'save m to "x.keras"\n', encoding="utf-8")
    assert main(["run", str(folder / "model.nn"), "--progress", "none", "--resume"]) == 0, capsys.readouterr().err
    history = json.loads((folder / "model.run.json").read_text(encoding="utf-8"))["history"]["m"]["loss"]
    assert len(history) == 3 and history[0] == 1.0  # the checkpoint's first epoch, then epochs 2 and 3
    assert not ckpt.exists()  # the run it belonged to is finished
    ckpt = _checkpoint(folder, RESUMED)
    (folder / "model.nn").write_text(RESUMED.replace("train m on d epochs=3\n", "load n from \"x.keras\"\ntrain m on d epochs=3\n"),
                                     encoding="utf-8")
    assert main(["run", str(folder / "model.nn"), "--progress", "none", "--resume"]) == 2
    assert "received a program whose steps changed; run without --resume to start again" in capsys.readouterr().err
    assert ckpt.is_file()


# ---------------------------------------------------------------- --log-format json means JSON


def _json_lines(out: str) -> list[dict]:
    def refuse(constant):
        raise AssertionError(f"not JSON: {constant}")

    return [json.loads(line, parse_constant=refuse) for line in out.splitlines()]


@pytest.mark.keras
def test_json_log_format_prints_only_json_objects(project, capsys):
    from nndsl.cli import main

    folder, _ = project
    (folder / "d.csv").write_text(ROWS, encoding="utf-8")
    (folder / "model.nn").write_text(DATA + MODEL.format(layers="") + "summary m\ntrain m on d epochs=1\nsummary m\npredict m on d rows=2\n"
                                     "test m on d\n", encoding="utf-8")
    assert main(["run", str(folder / "model.nn"), "--log-format", "json"]) == 0
    events = _json_lines(capsys.readouterr().out)
    kinds = [e["event"] for e in events]
    assert kinds.count("summary") == 2 and "predictions" in kinds and "metrics" in kinds
    predictions = next(e for e in events if e["event"] == "predictions")
    assert predictions["columns"] == ["y"] and len(predictions["rows"]) == 2 and predictions["total"] == 12


@pytest.mark.keras
def test_json_log_format_reports_an_error_as_an_event_too(project, capsys):
    from nndsl.cli import main

    folder, _ = project
    (folder / "model.nn").write_text(DATA + MODEL.format(layers="") + 'train m on d\npredict m on d to "../x.csv"\n', encoding="utf-8")
    assert main(["run", str(folder / "model.nn"), "--log-format", "json"]) == 1
    captured = capsys.readouterr()
    (event,) = _json_lines(captured.out)
    assert event["event"] == "error" and event["exit_code"] == 1
    assert [(e["code"], e["line"], e["column"]) for e in event["errors"]] == [("write-outside", 8, 19)]
    assert "[write-outside]" in captured.err  # the human message stays on stderr
    assert main(["run", str(folder / "missing.nn"), "--log-format", "json"]) == 2
    (event,) = _json_lines(capsys.readouterr().out)
    assert event["exit_code"] == 2 and "expected an existing .nn file" in event["message"]


def test_progress_events_write_a_diverged_loss_as_null():
    import io

    from nndsl.run.progress import Events

    out = io.StringIO()
    Events("json", out).emit("epoch_end", loss=float("nan"), mae=float("inf"))
    Events("json", out).note("a message")
    Events("json", out).line("progress text, for people only")
    assert _json_lines(out.getvalue()) == [{"event": "epoch_end", "loss": None, "mae": None}, {"event": "message", "text": "a message"}]


# ---------------------------------------------------------------- predictions by column name


@pytest.mark.keras
def test_predictions_pick_columns_by_name_in_the_step_and_the_cli(project, capsys):
    from nndsl.cli import main

    folder, _ = project
    (folder / "d.csv").write_text(ROWS, encoding="utf-8")
    (folder / "same.csv").write_text("a,b\n3,0\n10,1\n", encoding="utf-8")
    (folder / "swapped.csv").write_text("extra,b,a\n7,0,3\n7,1,10\n", encoding="utf-8")
    (folder / "model.nn").write_text(
        DATA + 'data same = csv("same.csv")\ndata swapped = csv("swapped.csv")\n' + MODEL.format(layers="")
        + 'train m on d epochs=2\nsave m to "m.keras"\npredict m on same to "p1.csv"\npredict m on swapped to "p2.csv"\n',
        encoding="utf-8")
    assert main(["run", str(folder / "model.nn"), "--progress", "plain"]) == 0
    out = capsys.readouterr().out
    assert out.count("note: 'swapped' has columns model 'm' was not trained on, left out: extra") == 1
    p1 = (folder / "p1.csv").read_text(encoding="utf-8")
    assert p1 == (folder / "p2.csv").read_text(encoding="utf-8")
    # the saved model carries the names: the CLI matches by name too
    assert main(["predict", str(folder / "m.keras"), str(folder / "swapped.csv"), "-o", str(folder / "p3.csv")]) == 0
    assert "left out: extra" in capsys.readouterr().err
    assert (folder / "p3.csv").read_text(encoding="utf-8") == p1
    (folder / "lacking.csv").write_text("b\n1\n", encoding="utf-8")
    assert main(["predict", str(folder / "m.keras"), str(folder / "lacking.csv")]) == 1
    assert "expected the feature column 'a' the model was trained on; received a file without it" in capsys.readouterr().err


@pytest.mark.keras
def test_a_second_train_picks_columns_by_name(project, capsys):
    """Training a built model again on data whose columns come in another order (and one more)
    trains on the same features as the first data, not on whatever column stands in their place."""
    from nndsl.cli import main

    folder, _ = project
    (folder / "d.csv").write_text(ROWS, encoding="utf-8")
    # the rows of d.csv, with the columns in another order (and, in wide.csv, one more)
    (folder / "swapped.csv").write_text("y,b,a\n" + "".join(f"{2 * i + 1},{i % 3},{i}\n" for i in range(12)), encoding="utf-8")
    (folder / "wide.csv").write_text("extra,b,y,a\n" + "".join(f"7,{i % 3},{2 * i + 1},{i}\n" for i in range(12)), encoding="utf-8")
    head = "seed 3\n" + DATA + 'data swapped = csv("swapped.csv", target="y")\ndata wide = csv("wide.csv", target="y")\n'
    losses = {}
    for second in ("d", "swapped", "wide"):
        (folder / "model.nn").write_text(head + MODEL.format(layers="") + f"train m on d epochs=2\ntrain m on {second} epochs=3\n",
                                         encoding="utf-8")
        assert main(["run", str(folder / "model.nn"), "--progress", "plain"]) == 0
        out = capsys.readouterr().out
        assert out.count("note: 'wide' has columns model 'm' was not trained on, left out: extra") == (second == "wide")
        losses[second] = json.loads((folder / "model.run.json").read_text(encoding="utf-8"))["history"]["m"]["loss"]
        assert len(losses[second]) == 5
        assert losses[second] == pytest.approx(losses["d"], rel=1e-6), second
    (folder / "lacking.csv").write_text("b,y\n1,3\n", encoding="utf-8")
    (folder / "model.nn").write_text(DATA + 'data lacking = csv("lacking.csv", target="y")\n' + MODEL.format(layers="")
                                     + "train m on d epochs=1\ntrain m on lacking epochs=1\n", encoding="utf-8")
    assert main(["run", str(folder / "model.nn"), "--progress", "none"]) == 1
    err = capsys.readouterr().err
    assert "model.nn:9:12: error: expected the feature column 'a' model 'm' was trained on; received data without it " \
           "[missing-column]" in err, err


@pytest.mark.keras
def test_the_cli_predict_never_writes_over_its_input(project, capsys):
    from nndsl.cli import main

    folder, _ = project
    (folder / "d.csv").write_text(ROWS, encoding="utf-8")
    (folder / "model.nn").write_text(DATA + MODEL.format(layers="") + 'train m on d epochs=1\nsave m to "m.keras"\n', encoding="utf-8")
    assert main(["run", str(folder / "model.nn"), "--progress", "none"]) == 0
    (folder / "new.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    before = snapshot(folder)
    for out, what in (("new.csv", "the data file"), ("m.keras", "the model file")):
        assert main(["predict", str(folder / "m.keras"), str(folder / "new.csv"), "-o", str(folder / out)]) == 2
        assert f"expected an output path that is not an input; received '{out}', {what}" in capsys.readouterr().err
    os.mkfifo(folder / "pipe")
    assert main(["predict", str(folder / "m.keras"), str(folder / "new.csv"), "-o", str(folder / "pipe")]) == 2
    assert "a device or other special file" in capsys.readouterr().err
    (folder / "pipe").unlink()
    assert snapshot(folder) == before


@pytest.mark.keras
def test_a_layer_reads_its_file_relative_to_the_nn_file(tmp_path, monkeypatch):
    from nndsl.compile.keras import build_model

    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "v.txt").write_text("a\nb\nc\n", encoding="utf-8")
    nn = folder / "model.nn"
    nn.write_text('model m {\n    Input(shape=(1,), dtype=string)\n    StringLookup(vocabulary="v.txt")\n}\n', encoding="utf-8")
    checked = nndsl.check(nn.read_text(encoding="utf-8"), nn_file=nn)
    assert [(a.kind, a.path) for a in checked.files] == [("read", "model.nn"), ("read", "v.txt")]
    monkeypatch.chdir(tmp_path)  # not the .nn file's folder
    lookup = build_model(checked).layers[0]
    assert lookup.vocabulary_size() == 4  # the three words and the out-of-vocabulary index


def test_plugins_show_says_what_a_name_may_not_do(tmp_path):
    shown = {name: nndsl_cli("plugins", "show", name, cwd=tmp_path).stdout for name in ("RemoteMonitor", "Lambda", "CSVLogger")}
    assert "opens network connections: needs --allow-network" in shown["RemoteMonitor"]
    assert "runs Python code: refused in a .nn file (write a plugin instead)" in shown["Lambda"]
    assert "filename: any [write]" in shown["CSVLogger"]


def test_fmt_on_a_link_formats_the_file_it_points_to(tmp_path):
    real_file = tmp_path / "real.nn"
    real_file.write_text("let  a=1\n", encoding="utf-8")
    (tmp_path / "link.nn").symlink_to(real_file)
    proc = nndsl_cli("fmt", "link.nn", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "link.nn").is_symlink()
    assert real_file.read_text(encoding="utf-8") == "let a = 1\n"

"""Checking and formatting stay light: no TensorFlow, Keras, NumPy, rich or pyarrow is imported.

Each check runs in a fresh interpreter, so modules imported by other tests do not count. The
programs include the example plugin's, with the plugin found from its source folder whether it is
installed or not: its specs must not import TensorFlow either.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from nncases import EXAMPLES, ROOT, VALID, example_plugin_path

PROGRAMS = [p for p in VALID if p.stem == "sales"] + EXAMPLES

API_SCRIPT = """
import json, sys
import nndsl
for path in sys.argv[1:]:
    text = open(path, encoding="utf-8-sig").read()
    nndsl.check(text, filename=path, keras=False)
    nndsl.format(nndsl.parse(text))
print(json.dumps(sorted({m.split(".")[0] for m in sys.modules} & {"tensorflow", "keras", "numpy", "rich", "pyarrow"})))
"""

CLI_SCRIPT = """
import json, sys
from nndsl.cli import main
status = main(["check", "--language-only", *sys.argv[1:]])
print(json.dumps([status, sorted({m.split(".")[0] for m in sys.modules} & {"tensorflow", "keras", "numpy", "rich", "pyarrow"})]))
"""


@pytest.fixture(scope="module")
def plugin_path(tmp_path_factory) -> list[str]:
    return example_plugin_path(tmp_path_factory.mktemp("example-plugin"))


def _run(args, plugin_path=()) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *plugin_path, *([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])])
    env.pop("PYTHONSTARTUP", None)
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, env=env, cwd=str(ROOT), timeout=120)


def _last_json(result):
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_check_and_format_import_nothing_heavy(plugin_path):
    result = _run(["-c", API_SCRIPT, *map(str, PROGRAMS)], plugin_path)
    assert result.returncode == 0, result.stderr
    assert _last_json(result) == []


def test_cli_language_check_imports_no_tensorflow(plugin_path):
    result = _run(["-c", CLI_SCRIPT, *map(str, PROGRAMS)], plugin_path)
    assert result.returncode == 0, result.stderr
    status, heavy = _last_json(result)
    assert status == 0, result.stderr
    assert "tensorflow" not in heavy and "keras" not in heavy


def test_python_m_nndsl_language_check_imports_no_tensorflow(plugin_path):
    """The real entry point, with the interpreter's own import log."""
    path = PROGRAMS[0]
    result = _run(["-X", "importtime", "-m", "nndsl", "check", "--language-only", str(path)], plugin_path)
    assert result.returncode == 0, result.stderr
    imported = {
        line.rsplit("|", 1)[-1].strip().split(".")[0]
        for line in result.stderr.splitlines()
        if line.startswith("import time:")
    }
    assert "nndsl" in imported
    assert not imported & {"tensorflow", "keras", "pyarrow"}, sorted(imported & {"tensorflow", "keras", "pyarrow"})
    assert result.stdout.strip() == f"{path}: ok"


TABLE_SOURCES = """\
data a = csv("parts/*.csv", target="y")
data b = parquet("table.parquet", target="y", exclude=["id"])
data c = json("rows.jsonl", target="y")

model m {
    Input(shape=(2,))
    Dense(1)
    loss mse
}

train m on a epochs=1
test m on b
test m on c
"""


def test_checking_table_sources_imports_no_pyarrow(tmp_path):
    """Arrow reads the files when the program runs; checking the program only binds arguments."""
    program = tmp_path / "tables.nn"
    program.write_text(TABLE_SOURCES, encoding="utf-8")
    result = _run(["-c", API_SCRIPT, str(program)])
    assert result.returncode == 0, result.stderr
    assert _last_json(result) == []


DATA_CHECK_SCRIPT = """
import json, sys
from nndsl.cli import main
status = main(["check", "--data", *sys.argv[1:]])
print(json.dumps([status, sorted({m.split(".")[0] for m in sys.modules} & {"tensorflow", "keras", "numpy", "pyarrow"})]))
"""

TABLES_WITHOUT_INPUT = """\
data a = csv("a.csv", target="y", categorical=["kind"])
data b = parquet("b.parquet", target="y", categorical=["kind"])

model m {
    Dense(4, activation=relu)
    Dense(1)
    loss mse
}

train m on a epochs=1
test m on b
"""


def test_check_data_reads_tables_without_tensorflow(tmp_path):
    """``check --data`` reads the files with Arrow and fits the schemas, but builds nothing."""
    pq = pytest.importorskip("pyarrow.parquet")
    pa = pytest.importorskip("pyarrow")
    (tmp_path / "a.csv").write_text("x,kind,y\n1,red,2\n3,blue,4\n", encoding="utf-8")
    pq.write_table(pa.table({"x": [5.0], "kind": ["red"], "y": [6.0]}), tmp_path / "b.parquet")
    program = tmp_path / "tables.nn"
    program.write_text(TABLES_WITHOUT_INPUT, encoding="utf-8")
    result = _run(["-c", DATA_CHECK_SCRIPT, str(program)])
    assert result.returncode == 0, result.stderr
    status, imported = _last_json(result)
    assert status == 0, result.stderr
    assert "model m: input 4 from a.csv" in result.stdout
    assert "tensorflow" not in imported and "keras" not in imported
    assert "pyarrow" in imported  # the Parquet file was read, by Arrow

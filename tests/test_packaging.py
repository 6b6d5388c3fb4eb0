"""The wheel ships the grammar, its parse tables, the Keras catalogue and the export templates, and works from an installed copy."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def start_early(folder: Path, tests) -> subprocess.Popen:
    """Build the wheel in the background from the start of the session (see conftest); it takes seconds."""
    return subprocess.Popen([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(folder), str(ROOT)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


@pytest.fixture(scope="module")
def wheel(early) -> Path:
    proc, out = early
    _, stderr = proc.communicate(timeout=600)
    if proc.returncode != 0:
        pytest.fail(stderr[-2000:])
    return next(out.glob("nndsl-*.whl"))


def test_wheel_contents(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    assert "nndsl/grammars/nn.lark" in names
    assert "nndsl/catalogue/keras.json" in names
    assert "nndsl/syntax/tables.json" in names
    assert "nndsl/interop/templates/helpers.py" in names
    eps = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith("entry_points.txt"))).decode()
    assert "[nndsl.steps]" in eps and "train = nndsl.builtins.steps:TRAIN" in eps
    assert "Dense = nndsl.builtins.keras:layers.Dense" in eps


def test_installed_copy_finds_its_grammar(wheel, tmp_path):
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    code = ("import nndsl, nndsl.syntax.grammar as g\n"
            "p = g.grammar_path()\n"
            f"assert str(p).startswith({str(site)!r}), p\n"
            "print(len(nndsl.parse('seed 1\\n').statements))\n"
            "from nndsl.interop import script_helpers\n"
            "print(len(script_helpers.helpers()['read_csv'].needs))\n")
    env = dict(os.environ, PYTHONPATH=str(site))
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["1", "3"]  # read_csv needs Table, table_files and table_columns

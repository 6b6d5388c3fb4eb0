"""The committed parse tables: current with ``grammars/nn.lark``, and the only thing parsing reads."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from nndsl.syntax.tables import TABLES_PATH, TABLES_VERSION, load_tables

ROOT = Path(__file__).resolve().parents[1]


def test_committed_tables_match_the_grammar():
    pytest.importorskip("lark")
    from nndsl.tools import gen_tables

    assert TABLES_PATH.read_text(encoding="utf-8") == gen_tables.generate(), (
        "nndsl/syntax/tables.json is out of date for grammars/nn.lark. Run: python -m nndsl.tools.gen_tables"
    )


def test_generation_does_not_depend_on_string_hashing():
    # lark numbers its states in an order that follows the hash seed; the generator must not
    outputs = set()
    for seed in ("1", "2"):
        code = "from nndsl.tools.gen_tables import generate; import sys; sys.stdout.write(generate())"
        env = dict(os.environ, PYTHONHASHSEED=seed, PYTHONPATH=str(ROOT))
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
        assert proc.returncode == 0, proc.stderr
        outputs.add(proc.stdout)
    assert len(outputs) == 1


def test_check_mode_names_the_command_to_run_when_stale(tmp_path, monkeypatch, capsys):
    pytest.importorskip("lark")
    from nndsl.tools import gen_tables

    stale = tmp_path / "tables.json"
    stale.write_text("{}\n", encoding="utf-8")
    monkeypatch.setattr(gen_tables, "TABLES_PATH", stale)
    assert gen_tables.main(["--check"]) == 1
    assert "python -m nndsl.tools.gen_tables" in capsys.readouterr().out
    assert stale.read_text(encoding="utf-8") == "{}\n"  # --check writes nothing


def test_tables_are_plain_json_of_the_current_layout():
    tables = json.loads(TABLES_PATH.read_text(encoding="utf-8"))
    assert tables["version"] == TABLES_VERSION
    assert load_tables()["states"] == tables["states"]


def test_parsing_neither_imports_lark_nor_writes_files(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    code = (
        "import sys, nndsl\n"
        "nndsl.parse('seed 1\\nmodel m {\\n    Dense(1)\\n}\\n')\n"
        "try:\n    nndsl.parse('model m {\\n    Dense(\\n}\\n')\nexcept nndsl.NndslSyntaxError:\n    pass\n"
        "assert 'lark' not in sys.modules, sorted(m for m in sys.modules if 'lark' in m)\n"
    )
    env = dict(os.environ, HOME=str(home), XDG_CACHE_HOME=str(home / ".cache"), PYTHONPATH=str(ROOT),
               PYTHONDONTWRITEBYTECODE="1")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert list(home.rglob("*")) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["home"]

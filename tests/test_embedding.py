"""The embedding API: ``nndsl.run_file`` any number of times in one process, and what
``nndsl.run`` is (the runner package, whatever was imported before)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import nndsl

ROOT = Path(__file__).resolve().parent.parent

PROGRAM = """\
let epochs = 1
let hidden = 3
seed 3
data d = csv("d.csv", target="y")
model m {
    Input(shape=(2,))
    Dense(hidden, activation=relu)
    Dense(1)
    loss mse
    metrics [mae]
}
train m on d epochs=epochs
test m on d
"""


def test_nndsl_run_is_the_runner_package_before_and_after_it_is_imported():
    code = textwrap.dedent("""\
        import sys, types
        import nndsl
        first = nndsl.run
        assert isinstance(first, types.ModuleType) and first.__name__ == "nndsl.run", first
        import nndsl.run.api
        import nndsl.run.runner
        assert nndsl.run is first and nndsl.run.api is sys.modules["nndsl.run.api"]
        assert callable(nndsl.run_file)
        assert "tensorflow" not in sys.modules and "keras" not in sys.modules
        """)
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, env={"PYTHONPATH": str(ROOT), "PATH": ""})


def test_run_file_is_in_the_facade():
    assert "run_file" in nndsl.__all__
    assert "run" not in nndsl.__all__  # the runner package, not part of the function API


@pytest.mark.parametrize("value, text", [(128, "128"), (1e-4, "0.0001"), (True, "true"), (None, "none"), ("tanh", "tanh"),
                                         ('"run 2"', '"run 2"'), ([1, 2], "[1, 2]"), ((9,), "(9,)"), ((3, 3), "(3, 3)")])
def test_set_values_become_nn_text(value, text):
    from nndsl.run.api import _override_text

    assert _override_text(value) == text
    nndsl.parse(f"let x = {text}\n")


def test_set_refuses_values_without_nn_text():
    from nndsl.run.api import _override_text

    with pytest.raises(TypeError, match="set=: expected text"):
        _override_text({"a": 1})


@pytest.mark.keras
def test_run_file_three_times_in_one_process(tmp_path):
    (tmp_path / "model.nn").write_text(PROGRAM)
    (tmp_path / "d.csv").write_text("a,b,y\n" + "".join(f"{i},{i % 3},{i * 0.5}\n" for i in range(12)))
    results = [nndsl.run_file(tmp_path / "model.nn", set={"epochs": 2, "hidden": h}, progress="none") for h in (2, 3, 4)]
    for hidden, result in zip((2, 3, 4), results):
        assert set(result.models) == {"m"} and result.models["m"].count_params() == 2 * hidden + hidden + hidden + 1
        assert len(result.histories["m"]["loss"]) == 2 and "mae" in result.histories["m"]
        assert set(result.metrics) == {"m:d"} and set(result.metrics["m:d"]) == {"loss", "mae"}
        assert result.state.record.data["overrides"] == {"epochs": "2", "hidden": str(hidden)}
    assert results[0].models["m"] is not results[1].models["m"]
    # the same seed and settings give the same run again
    again = nndsl.run_file(tmp_path / "model.nn", set={"epochs": 2, "hidden": 2}, progress="none")
    assert again.histories["m"]["loss"] == results[0].histories["m"]["loss"]


@pytest.mark.keras
def test_run_file_raises_located_errors(tmp_path):
    (tmp_path / "model.nn").write_text(PROGRAM.replace('"d.csv"', '"missing.csv"'))
    with pytest.raises(nndsl.RunError) as e:
        nndsl.run_file(tmp_path / "model.nn", progress="none")
    assert e.value.diagnostics[0].code == "bad-data"
    assert "model.nn:4:" in e.value.render()

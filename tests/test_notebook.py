"""``%load_ext nndsl`` and ``%%nn`` cells, in a real notebook executed by a Jupyter kernel
(nbclient and ipykernel), and the stable run API they use."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")


def execute(cells: list[str], folder: Path):
    """Run a notebook of ``cells`` in ``folder``; its executed cells."""
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(textwrap.dedent(c).strip("\n")) for c in cells])
    nbclient.NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(folder)}}).execute()
    return nb.cells


def text_of(cell, name: str | None = None) -> str:
    """The cell's stream output (``stdout``, ``stderr`` or both)."""
    return "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream" and name in (None, o.name))


def test_a_cell_with_mistakes_shows_the_diagnostics_with_carets(tmp_path: Path):
    cells = execute([
        "%load_ext nndsl",
        """
        %%nn
        model m {
            Input(shape=(2,))
            Dense(1, activaton=relu)
        }
        """,
        """
        %%nn --check --set units=4
        let units = 2
        model m {
            Input(shape=(2,))
            Dense(units)
        }
        """,
        "%%nn --set nosuch=1\nlet a = 1\n",
        "import sys; print(sorted(m for m in ('tensorflow', 'keras') if m in sys.modules))",
    ], tmp_path)
    err = text_of(cells[1], "stderr")
    assert "<cell>:3:14: error: expected an argument of Dense" in err
    assert "3 |     Dense(1, activaton=relu)" in err
    assert "^^^^^^^^^ did you mean 'activation'?" in err
    assert not [o for o in cells[1].outputs if o.output_type == "error"]  # no traceback
    assert text_of(cells[2], "stdout").strip() == "ok"
    assert "expected the name of a let variable; received 'nosuch'" in text_of(cells[3], "stderr")
    assert text_of(cells[4]).strip() == "[]"  # checking never imports TensorFlow


PROGRAM = """
    %%nn --set epochs=3 --out result --progress plain
    seed 1
    let epochs = 1
    data rows = csv("rows.csv", target="y")
    model m {
        Input(shape=(2,))
        Dense(4, activation=relu)
        Dense(1)
        loss mse
        optimizer Adam(learning_rate=0.01)
    }
    train m on rows epochs=epochs batch_size=8
    test m on rows
    plot m to "curves.png"
"""


@pytest.mark.keras
def test_a_cell_runs_its_program_and_returns_the_result(tmp_path: Path):
    rows = "x1,x2,y\n" + "".join(f"{i % 7},{i % 5},{(i % 7) + 2 * (i % 5)}\n" for i in range(64))
    (tmp_path / "rows.csv").write_text(rows, encoding="utf-8")
    cells = execute([
        "%load_ext nndsl",
        PROGRAM,
        "print(len(result.histories['m']['loss']), sorted(result.metrics), type(result.models['m']).__name__)",
        PROGRAM.replace("--set epochs=3 --out result", "--set epochs=2"),
        "print(len(_.histories['m']['loss']), result is not _)",
    ], tmp_path)
    run = cells[1]
    assert "epoch 3/3" in text_of(run, "stdout").lower() or "3/3" in text_of(run, "stdout")
    assert any(o.output_type == "display_data" and "image/png" in o.data for o in run.outputs)  # the plot, inline
    assert any(o.output_type == "execute_result" and "RunResult(" in o.data["text/plain"] for o in run.outputs)
    assert (tmp_path / "curves.png").is_file()  # written beside the notebook
    assert text_of(cells[2]).split() == ["3", "['m:rows']", "Sequential"]
    assert text_of(cells[4]).split() == ["2", "True"]  # a second run, in the same kernel


@pytest.mark.keras
def test_run_file_can_be_called_again(tmp_path: Path):
    import nndsl

    (tmp_path / "rows.csv").write_text("x,y\n" + "".join(f"{i},{2 * i}\n" for i in range(32)), encoding="utf-8")
    program = tmp_path / "p.nn"
    program.write_text(textwrap.dedent("""
        let epochs = 1
        data rows = csv("rows.csv", target="y")
        model m {
            Input(shape=(1,))
            Dense(1)
            loss mse
        }
        train m on rows epochs=epochs
        test m on rows
    """), encoding="utf-8")
    first = nndsl.run_file(program, progress="none")
    second = nndsl.run_file(program, set={"epochs": 2}, progress="none")
    assert len(first.histories["m"]["loss"]) == 1 and len(second.histories["m"]["loss"]) == 2
    assert set(second.metrics) == {"m:rows"} and "loss" in second.metrics["m:rows"]
    assert second.models["m"].predict(__import__("numpy").zeros((1, 1)), verbose=0).shape == (1, 1)
    assert callable(nndsl.run_file)  # still the function after nndsl.run (the subpackage) was imported

"""The run history: each run's folder under runs/, and `nndsl runs` listing, showing, comparing and removing them.

The first half writes run records the way the runner does (``RunRecord.keep``) and reads them
back through the command line, without TensorFlow. The second half runs real programs: two runs
with different ``--set`` values are listed and compared, and a run stopped by Ctrl-C is listed as
interrupted.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from nndsl.cli import main
from nndsl.run import history
from nndsl.run.record import RunRecord

ROOT = Path(__file__).resolve().parent.parent


def keep_run(folder: Path, *, overrides=None, status="finished", loss=(1.0, 0.5), test=None, program="let epochs = 2\n",
             stem="prog", steps=()) -> Path:
    """A run kept as the runner keeps one (through RunRecord), with a made-up history."""
    nn = folder / f"{stem}.nn"
    nn.write_text(program, encoding="utf-8")
    record = RunRecord(program, str(nn), 1, dict(overrides or {}))
    record.data["history"] = {"m": {"loss": list(loss), "val_loss": [v * 1.1 for v in loss]}} if loss else {}
    record.data["metrics"] = {"m:test": test} if test else {}
    for step in steps:
        record.add_step(**step)
    record.finish(status)
    return record.keep(nn)


def test_each_run_keeps_a_folder_with_record_and_program(tmp_path):
    first = keep_run(tmp_path)
    second = keep_run(tmp_path, overrides={"epochs": "3"}, program="let epochs = 3\n")
    assert (first.name, second.name) == ("prog-1", "prog-2")
    assert first.parent == tmp_path / "runs"
    rec = json.loads((second / "record.json").read_text())
    assert rec["id"] == "prog-2" and rec["status"] == "finished" and rec["overrides"] == {"epochs": "3"}
    assert isinstance(rec["seconds"], float)
    assert (second / "program.nn").read_text() == "let epochs = 3\n"


def test_numbers_go_on_after_the_highest_and_per_file(tmp_path):
    keep_run(tmp_path)
    keep_run(tmp_path)
    (tmp_path / "runs" / "prog-7").mkdir()  # a folder left by hand counts too: never reused
    assert keep_run(tmp_path).name == "prog-8"
    assert keep_run(tmp_path, stem="other").name == "other-1"


def test_artefacts_are_pointed_at_and_pictures_copied(tmp_path):
    (tmp_path / "curves.png").write_bytes(b"\x89PNG picture")
    (tmp_path / "model.keras").write_bytes(b"PK model")
    folder = keep_run(tmp_path, steps=[{"step": "plot", "model": "m", "path": "curves.png"},
                                       {"step": "save", "model": "m", "path": "model.keras"},
                                       {"step": "predict", "model": "m", "path": "gone.csv"}])
    arts = json.loads((folder / "record.json").read_text())["artefacts"]
    assert arts[0] == {"kind": "plot", "model": "m", "path": "curves.png", "bytes": 12, "copy": "plots/curves.png"}
    assert arts[1] == {"kind": "model", "model": "m", "path": "model.keras", "bytes": 8}
    assert arts[2]["missing"] is True
    # the copy survives the next run overwriting the picture
    (tmp_path / "curves.png").write_bytes(b"new")
    assert (folder / "plots" / "curves.png").read_bytes() == b"\x89PNG picture"


def test_outcome_of_a_run():
    from nndsl.errors import RunError
    from nndsl.run.interrupt import Interrupted

    assert history.outcome(None) == "finished"
    assert history.outcome(Interrupted("stopped")) == "interrupted"
    assert history.outcome(KeyboardInterrupt()) == "interrupted"
    assert history.outcome(RunError("bad")) == "failed"
    assert history.outcome(ValueError("bug")) == "failed"


def test_list_shows_when_sets_status_duration_metrics(tmp_path, capsys):
    keep_run(tmp_path, test={"loss": 0.25, "mae": 0.125})
    keep_run(tmp_path, overrides={"epochs": "3", "lr": "0.1"}, status="interrupted", loss=(2.0, 1.0, 0.75))
    keep_run(tmp_path, stem="other")
    assert main(["runs", str(tmp_path / "prog.nn")]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["id", "started", "(UTC)", "--set", "status", "duration", "last", "metrics"]
    assert len(lines) == 3  # the other file's run is not listed
    assert lines[1].split()[0] == "prog-1" and "finished" in lines[1] and "loss 0.25  mae 0.125" in lines[1]
    assert lines[2].split()[0] == "prog-2" and "epochs=3 lr=0.1" in lines[2] and "interrupted" in lines[2]
    assert "loss 0.75  val_loss 0.825" in lines[2]
    # without a file: every run of the folder
    assert main(["runs", "--dir", str(tmp_path)]) == 0
    assert [ln.split()[0] for ln in capsys.readouterr().out.splitlines()[1:]] == ["prog-1", "prog-2", "other-1"]


def test_list_with_no_runs(tmp_path, capsys):
    assert main(["runs", str(tmp_path / "prog.nn")]) == 0
    assert "no runs of prog.nn kept in" in capsys.readouterr().out


def test_show(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    keep_run(tmp_path, overrides={"epochs": "3"}, test={"loss": 0.25}, program="let epochs = 3\ntrain m on d\n")
    assert main(["runs", "show", "prog-1"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("run prog-1 of ")
    for text in ("status    finished", "--set     epochs=3", "test m on test: loss = 0.25", "train m: val_loss = 0.55",
                 "  let epochs = 3\n  train m on d"):
        assert text in out, out
    # a run's folder given as a path works from anywhere
    monkeypatch.chdir(ROOT)
    assert main(["runs", "show", str(tmp_path / "runs" / "prog-1")]) == 0


def test_compare_diffs_programs_tables_metrics_and_draws_curves(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    keep_run(tmp_path, program="let epochs = 2\nlet lr = 0.1\n", test={"loss": 0.5})
    keep_run(tmp_path, program="let epochs = 3\nlet lr = 0.1\n", overrides={"epochs": "3"}, loss=(3.0, 2.0, 1.0), test={"loss": 0.25})
    out_png = tmp_path / "both.png"
    assert main(["runs", "compare", "prog-1", "prog-2", "--dir", str(tmp_path), "-o", str(out_png)]) == 0
    out = capsys.readouterr().out
    assert "-let epochs = 2\n  +let epochs = 3" in out
    rows = {ln.split("  ")[0]: ln.split() for ln in out.splitlines() if ln.startswith(("test ", "--set", "status"))}
    assert rows["test m on test: loss"][-2:] == ["0.5", "0.25"]
    assert rows["--set"][-1] == "epochs=3"
    assert f"wrote the curves of prog-1, prog-2 to {out_png}" in out
    assert out_png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_compare_the_same_program(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    keep_run(tmp_path)
    keep_run(tmp_path)
    assert main(["runs", "compare", "prog-1", "prog-2", "--dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "prog-1 and prog-2 ran the same program" in out
    assert (tmp_path / "runs" / "compare-prog-1-prog-2.png").is_file()


def test_rm_removes_the_folder_not_the_artefacts(tmp_path, capsys):
    (tmp_path / "model.keras").write_bytes(b"PK")
    keep_run(tmp_path, steps=[{"step": "save", "model": "m", "path": "model.keras"}])
    keep_run(tmp_path)
    assert main(["runs", "rm", "prog-1", "--dir", str(tmp_path)]) == 0
    assert "removed run prog-1" in capsys.readouterr().out
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == ["prog-2"]
    assert (tmp_path / "model.keras").is_file()


@pytest.mark.parametrize("argv, words", [
    (["runs", "show", "prog-9"], "expected the ID of a run kept in"),
    (["runs", "show", "prog-l"], "did you mean 'prog-1'"),
    (["runs", "show"], "expected one run ID; received 0"),
    (["runs", "compare", "prog-1"], "expected two or more run IDs; received 1"),
    (["runs", "rm", "prog-1", "nope"], "received 'nope'"),  # nothing removed when one ID is wrong
    (["runs", "a.nn", "b.nn"], "expected at most one .nn file"),
    (["runs", "compare", "prog-1", "prog-1", "-o", "x.gif"], ".png, .svg or .pdf"),
    (["runs", "compare", "prog-1", "prog-1", "--metric", "los"], "did you mean 'loss'"),
])
def test_usage_errors(tmp_path, capsys, monkeypatch, argv, words):
    pytest.importorskip("matplotlib")
    monkeypatch.chdir(tmp_path)
    keep_run(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("nndsl runs: error: ") and words in err, err
    assert (tmp_path / "runs" / "prog-1").is_dir()


def test_unreadable_runs_are_left_out_of_the_list(tmp_path, capsys):
    keep_run(tmp_path)
    bad = tmp_path / "runs" / "prog-2"
    bad.mkdir()
    (bad / "record.json").write_text("{not json", encoding="utf-8")
    assert [r.id for r in history.list_runs(tmp_path / "runs")] == ["prog-1"]


def test_plot_accepts_several_runs(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    a = keep_run(tmp_path)
    b = keep_run(tmp_path, loss=(3.0, 2.0, 1.0))
    out_png = tmp_path / "two.png"
    assert main(["plot", str(a), str(b / "record.json"), "-o", str(out_png), "--metric", "loss"]) == 0
    assert "wrote the training curves of 2 runs" in capsys.readouterr().out
    from nndsl import plots

    with open(out_png, "rb") as fh:
        head = fh.read(24)
    width, height = int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")
    assert (width, height) == plots.curves_size(1)


# ---------------------------------------------------------------- real runs

PROGRAM = """\
seed 1
let epochs = 2
let lr = 0.01
data d = csv("d.csv", target="y")
model m {
    Input(shape=(2,))
    Dense(4, activation=relu)
    Dense(1)
    loss mse
    optimizer Adam(learning_rate=lr)
    metrics [mae]
}
train m on d epochs=epochs batch_size=4
test m on d
"""


def _project(folder: Path) -> Path:
    rows = "".join(f"{i % 7},{i % 5},{(i % 7) + 2 * (i % 5)}\n" for i in range(64))
    (folder / "d.csv").write_text("a,b,y\n" + rows, encoding="utf-8")
    nn = folder / "p.nn"
    nn.write_text(PROGRAM, encoding="utf-8")
    return nn


@pytest.mark.keras
def test_two_runs_with_different_sets_are_listed_and_compared(tmp_path, capsys):
    nn = _project(tmp_path)
    assert main(["run", str(nn), "--progress", "none"]) == 0
    assert main(["run", str(nn), "--progress", "none", "--set", "epochs=3", "--set", "lr=0.05"]) == 0
    capsys.readouterr()
    assert main(["runs", str(nn)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [ln.split()[0] for ln in lines[1:]] == ["p-1", "p-2"]
    assert "epochs=3 lr=0.05" in lines[2] and "finished" in lines[1] and "finished" in lines[2]
    latest = json.loads((tmp_path / "p.run.json").read_text())
    assert latest["id"] == "p-2"  # FILE.run.json stays the latest run's record
    assert main(["runs", "compare", "p-1", "p-2", "--dir", str(tmp_path), "-o", str(tmp_path / "c.png")]) == 0
    out = capsys.readouterr().out
    assert "-let epochs = 2" in out and "+let epochs = 3" in out and "+let lr     = 0.05" in out
    assert "test m on d: mae" in out and "train m: loss" in out
    assert (tmp_path / "c.png").is_file()
    first = json.loads((tmp_path / "runs" / "p-1" / "record.json").read_text())
    assert len(first["history"]["m"]["loss"]) == 2


@pytest.mark.keras
def test_a_failed_run_is_listed_as_failed(tmp_path, capsys):
    nn = _project(tmp_path)
    nn.write_text(PROGRAM + 'save m to "missing-folder/m.keras"\n', encoding="utf-8")
    assert main(["run", str(nn), "--progress", "none"]) == 1
    capsys.readouterr()
    assert main(["runs", str(nn)]) == 0
    assert "failed" in capsys.readouterr().out.splitlines()[1]


@pytest.mark.keras
def test_a_run_stopped_by_ctrl_c_is_listed_as_interrupted(tmp_path):
    nn = _project(tmp_path)
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONUNBUFFERED="1", PYTHONPATH=str(ROOT))
    cmd = [sys.executable, "-m", "nndsl", "run", str(nn), "--set", "epochs=500", "--log-format", "json"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path)
    deadline = time.monotonic() + 240
    for line in proc.stdout:
        if json.loads(line)["event"] == "epoch_end":
            proc.send_signal(signal.SIGINT)
            break
        assert time.monotonic() < deadline
    proc.stdout.read()
    err = proc.stderr.read()
    assert proc.wait(timeout=120) == 130, err
    listing = subprocess.run([sys.executable, "-m", "nndsl", "runs", str(nn)], capture_output=True, text=True, env=env, timeout=60)
    assert listing.returncode == 0, listing.stderr
    row = listing.stdout.splitlines()[1].split()
    assert row[0] == "p-1" and "interrupted" in row and "epochs=500" in row
    record = json.loads((tmp_path / "runs" / "p-1" / "record.json").read_text())
    assert record["status"] == "interrupted" and 1 <= len(record["history"]["m"]["loss"]) < 500


def test_the_history_commands_import_no_tensorflow(tmp_path):
    keep_run(tmp_path)
    keep_run(tmp_path)
    code = ("import sys\nfrom nndsl.cli import main\n"
            f"for argv in (['runs', '--dir', {str(tmp_path)!r}], ['runs', 'show', 'prog-1', '--dir', {str(tmp_path)!r}],"
            f" ['runs', 'rm', 'prog-2', '--dir', {str(tmp_path)!r}]):\n"
            "    assert main(argv) == 0\n"
            "print(sorted(m for m in ('tensorflow', 'keras', 'jax') if m in sys.modules))\n")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "[]"

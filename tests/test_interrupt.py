"""Ctrl-C during training writes a checkpoint of the last completed epoch; --resume continues it."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.keras

ROOT = Path(__file__).resolve().parent.parent


def test_sigint_checkpoints_and_resume_continues(tmp_path):
    for f in (ROOT / "examples" / "sales").iterdir():
        if f.suffix in (".nn", ".csv"):
            shutil.copy(f, tmp_path / f.name)
    nn = tmp_path / "sales.nn"
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONUNBUFFERED="1")
    cmd = [sys.executable, "-m", "nndsl", "run", str(nn), "--set", "epochs=40", "--log-format", "json"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path)
    first = []
    deadline = time.monotonic() + 240
    for line in proc.stdout:
        event = json.loads(line)
        if event["event"] == "epoch_end":
            first.append(event["loss"])
            if len(first) == 5:
                proc.send_signal(signal.SIGINT)
        assert time.monotonic() < deadline
    err = proc.stderr.read()
    assert proc.wait(timeout=120) == 130, err
    assert "Traceback" not in err
    assert "to continue: nndsl run sales.nn --resume" in err
    ckpt = tmp_path / "sales.resume.keras"
    assert ckpt.is_file()
    done = len(json.loads((tmp_path / "sales.run.json").read_text())["history"]["sales"]["loss"])
    assert 5 <= done < 40
    assert not (tmp_path / "trained_model.keras").exists()  # later steps did not run

    proc = subprocess.run(cmd + ["--resume"], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert proc.returncode == 0, proc.stderr
    resumed = [json.loads(x) for x in proc.stdout.splitlines() if '"epoch_end"' in x]
    assert [e["epoch"] for e in resumed] == list(range(done + 1, 41))
    history = json.loads((tmp_path / "sales.run.json").read_text())["history"]["sales"]["loss"]
    assert len(history) == 40
    assert history[:done] == pytest.approx(first[:done])
    # continuous: the first resumed epoch continues the trend, it does not start over
    assert history[done] < 3 * history[done - 1]
    assert not ckpt.exists()
    assert (tmp_path / "trained_model.keras").is_file()


def test_resume_without_checkpoint_is_a_usage_error(tmp_path, capsys):
    from nndsl.cli import main

    shutil.copy(ROOT / "examples" / "sales" / "sales.nn", tmp_path / "sales.nn")
    assert main(["run", str(tmp_path / "sales.nn"), "--resume"]) == 2
    assert "expected a checkpoint sales.resume.keras" in capsys.readouterr().err

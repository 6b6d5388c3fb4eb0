"""Progress output: rich on a terminal (throttled), plain lines elsewhere, JSON for machines; TF noise hidden."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from nndsl.run.progress import Events, choose_mode, format_logs

ROOT = Path(__file__).resolve().parent.parent


def test_mode_follows_the_stream():
    class Tty(io.StringIO):
        def isatty(self):
            return True

    assert choose_mode(None, Tty()) == "rich"
    assert choose_mode(None, io.StringIO()) == "plain"
    assert choose_mode("json", Tty()) == "json"


def test_format_logs():
    assert format_logs({"loss": 0.123456789, "mae": 12}) == "loss=0.1235 mae=12"


def test_json_events_are_one_object_per_line():
    out = io.StringIO()
    ev = Events("json", out)
    ev.emit("epoch_end", epoch=1, loss=0.5)
    ev.line("not shown in json mode")
    assert [json.loads(x) for x in out.getvalue().splitlines()] == [{"event": "epoch_end", "epoch": 1, "loss": 0.5}]


@pytest.mark.keras
def test_rich_progress_is_throttled_and_renders():
    import keras
    import numpy as np
    from rich.console import Console

    from nndsl.run.progress import make_callback

    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=100)
    t = [0.0]
    ev = Events("rich", out, console, clock=lambda: t[0])
    cb = make_callback(ev, "m")
    updates = []
    model = keras.Sequential([keras.Input(shape=(2,)), keras.layers.Dense(1)])
    model.compile(loss="mse", optimizer="sgd")

    class Spy(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if cb.progress is not None:
                updates.append(cb.progress.tasks[-1].completed)

    x = np.zeros((64, 2), "float32")
    model.fit(x, x[:, :1], batch_size=4, epochs=2, verbose=0, callbacks=[cb, Spy()])
    # the clock never advanced, so no batch forced an update: only epoch ends did
    assert set(updates) <= {0, 16}
    text = out.getvalue()
    assert "m epoch 2/2" in text and "16/16" in text


@pytest.mark.keras
def test_tensorflow_noise_is_hidden(tmp_path):
    shutil.copytree(ROOT / "examples" / "sales", tmp_path / "sales")
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    env.pop("TF_CPP_MIN_LOG_LEVEL", None)
    proc = subprocess.run(
        [sys.executable, "-m", "nndsl", "run", str(tmp_path / "sales" / "sales.nn"), "--set", "epochs=1"],
        capture_output=True, text=True, timeout=300, env=env,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.strip() == "", proc.stderr
    assert "sales epoch 1/1" in proc.stdout

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


def _reporter(width: int = 80, **kw):
    """A rich progress callback on a fake clock, rendering into a string of ``width`` columns."""
    from rich.console import Console

    from nndsl.run.progress import make_callback

    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=width, color_system=None)
    clock = [0.0]
    cb = make_callback(Events("rich", out, console, clock=lambda: clock[0]), "sales", **kw)
    return cb, out, clock


def _screen(out: io.StringIO) -> list[str]:
    import re

    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", out.getvalue())
    return [line for line in text.replace("\r", "\n").splitlines() if line.strip()]


LOGS = {"loss": 0.012345, "mae": 0.087654, "val_loss": 0.013456, "val_mae": 0.098765, "rmse": 1.2345, "val_rmse": 1.3456}


@pytest.mark.keras
def test_batch_counter_never_passes_the_epochs_size():
    cb, out, clock = _reporter(ticker=False)
    cb.set_params({"epochs": 60, "steps": 29})
    cb.on_train_begin()
    cb.on_epoch_begin(0)
    clock[0] = 1.0
    cb.on_train_batch_end(29, LOGS)  # the last batch of a compiled call that ran past the epoch's end
    assert cb.progress.tasks[1].completed == 29
    cb.on_train_end()
    assert "30/29" not in out.getvalue()


@pytest.mark.keras
def test_on_80_columns_the_bar_counts_and_times_stay_and_metrics_are_shortened():
    cb, out, clock = _reporter(width=80, ticker=False)
    cb.set_params({"epochs": 60, "steps": 29})
    cb.on_train_begin()
    cb.on_epoch_begin(11)
    clock[0] = 3.0
    cb.on_train_batch_end(13, LOGS)
    cb.on_train_end()
    rows = [line for line in _screen(out) if line.startswith("sales epoch 12/60")]
    assert rows, _screen(out)
    row = rows[-1]
    assert len(row) <= 80
    assert "━" in row and "14/29" in row and "0:00:03" in row  # the bar, the count, the elapsed time
    assert "loss=0.01235" in row and row.rstrip().endswith("…")  # metrics shortened, not the rest


@pytest.mark.keras
def test_a_line_per_finished_epoch_stays_above_the_bars():
    cb, out, clock = _reporter(width=100, ticker=False)
    cb.set_params({"epochs": 2, "steps": 4})
    cb.on_train_begin()
    for epoch in range(2):
        cb.on_epoch_begin(epoch)
        clock[0] += 1.5
        cb.on_train_batch_end(3, {"loss": 0.5 - epoch / 10})
        cb.on_epoch_end(epoch, {"loss": 0.5 - epoch / 10})
    cb.on_train_end()
    screen = _screen(out)
    assert "sales epoch 1/2 loss=0.5 (1.50s)" in screen and "sales epoch 2/2 loss=0.4 (1.50s)" in screen
    # the live rows come after the epoch lines: the final frame ends with the two bars
    assert screen[-2].startswith("sales epochs") and screen[-1].startswith("sales epoch 2/2 ━")


@pytest.mark.keras
def test_ctrl_c_reports_no_epoch_it_cut_short():
    from types import SimpleNamespace

    stop = SimpleNamespace(requested=False)
    cb, out, clock = _reporter(width=100, stop=stop, ticker=False)
    cb.set_params({"epochs": 60, "steps": 4})
    cb.on_train_begin()
    cb.on_epoch_begin(0)
    cb.on_epoch_end(0, {"accuracy": 0.5, "loss": 0.7})
    cb.on_epoch_begin(1)
    stop.requested = True  # Ctrl-C: the rest of the epoch's batches are passed over
    cb.on_epoch_end(1, {"accuracy": 0.0, "loss": 0.0})
    cb.on_train_end()
    text = "\n".join(_screen(out))
    assert "sales epoch 1/60 accuracy=0.5 loss=0.7" in text
    assert "accuracy=0 loss=0" not in text and "sales epoch 2/60 accuracy" not in text


@pytest.mark.keras
def test_a_long_compiled_call_is_redrawn_twice_a_second():
    import time

    cb, out, clock = _reporter(width=100)
    cb.set_params({"epochs": 1, "steps": 100})
    cb.on_train_begin()
    cb.on_epoch_begin(0)
    refreshes = []
    original = cb.progress.refresh
    cb.progress.refresh = lambda: (refreshes.append(time.monotonic()), original())[1]
    time.sleep(1.6)  # no callback for 1.6 s, as in one compiled call of many batches
    cb.on_train_end()
    assert len(refreshes) >= 2

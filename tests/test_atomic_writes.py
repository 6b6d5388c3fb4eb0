"""Writes are atomic: a process killed in the middle of a save never damages the previous file."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from nndsl.run.files import atomic_path, atomic_write_text

SAVER = r"""
import os, sys
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import keras
from nndsl.run.files import atomic_path
model = keras.Sequential([keras.Input(shape=(64,)), keras.layers.Dense(512), keras.layers.Dense(512), keras.layers.Dense(1)])
model.compile(loss="mse", optimizer="adam")
target = sys.argv[1]
print("ready", flush=True)
while True:
    with atomic_path(__import__("pathlib").Path(target)) as tmp:
        model.save(tmp)
"""


@pytest.mark.keras
def test_sigkill_during_save_keeps_the_previous_file(tmp_path):
    import keras

    target = tmp_path / "m.keras"
    first = keras.Sequential([keras.Input(shape=(64,)), keras.layers.Dense(3)])
    first.save(target)
    before = target.read_bytes()
    proc = subprocess.Popen([sys.executable, "-c", SAVER, str(target)], stdout=subprocess.PIPE, text=True,
                            env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
    assert proc.stdout.readline().strip() == "ready"
    time.sleep(1.5)  # several saves are under way by now
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    model = keras.models.load_model(target)  # old or new, never half
    assert model.count_params() in (first.count_params(), 64 * 512 + 512 + 512 * 512 + 512 + 513)
    assert target.read_bytes() == before or model.count_params() != first.count_params()


def test_failed_write_leaves_target_and_no_temp_file(tmp_path):
    target = tmp_path / "p.csv"
    atomic_write_text(target, "old\n")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("disk full")
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["p.csv"]


def test_atomic_write_keeps_mode(tmp_path):
    target = tmp_path / "f.txt"
    atomic_write_text(target, "a")
    umask = os.umask(0)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask  # as open() would make it, not mkstemp's 0600
    os.chmod(target, 0o640)
    atomic_write_text(target, "b")
    assert target.stat().st_mode & 0o777 == 0o640

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


def _guarded_model(flag, rows=400, batch=8, steps_per_execution=64):
    import keras
    import numpy as np
    import tensorflow as tf

    rng = np.random.default_rng(0)
    x = rng.random((rows, 4), dtype="float32")
    y = rng.random((rows, 1), dtype="float32")
    ds = tf.data.Dataset.from_tensor_slices((x, y)).batch(batch).prefetch(2)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse", steps_per_execution=steps_per_execution)
    flag.guard(model)
    return model, ds


def test_guarded_step_trains_as_usual_until_stopped_then_changes_nothing():
    from nndsl.run.interrupt import StopFlag

    flag = StopFlag()
    model, ds = _guarded_model(flag)
    history = model.fit(ds, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2
    assert int(model.optimizer.iterations.numpy()) == 100
    weights = [w.numpy().copy() for w in model.weights]
    flag._close()
    model.fit(ds, epochs=1, verbose=0)
    assert int(model.optimizer.iterations.numpy()) == 100
    assert all((w.numpy() == before).all() for w, before in zip(model.weights, weights))


def test_sigint_inside_a_compiled_call_stops_after_the_batch_in_flight():
    """One compiled call trains 1,000 batches; Ctrl-C after the 10th stops the training
    within a batch or two (the loop may already hold the next one), not at the call's end."""
    import threading

    import keras

    from nndsl.run import interrupt

    flag = interrupt.StopFlag()
    model, ds = _guarded_model(flag, rows=8000, steps_per_execution=1000)
    model.fit(ds.take(1), epochs=1, verbose=0)  # compile outside the measured part
    start = int(model.optimizer.iterations.numpy())
    sent = {}

    def press_ctrl_c():
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            done = int(model.optimizer.iterations.numpy()) - start
            if done >= 10:
                sent["at"] = done
                os.kill(os.getpid(), signal.SIGINT)
                return
            time.sleep(0.0005)

    presser = threading.Thread(target=press_ctrl_c)
    calls = []
    with flag.installed():
        presser.start()
        model.fit(ds, epochs=5, verbose=0, callbacks=[interrupt.callback(flag, {}), keras.callbacks.LambdaCallback(
            on_train_batch_end=lambda batch, logs: calls.append(batch))])
        presser.join()
    assert flag.requested
    done = int(model.optimizer.iterations.numpy()) - start
    assert sent["at"] <= done <= sent["at"] + 20 < 1000  # well before the call's 1,000 batches
    assert len(calls) == 1  # the Python-level stop ended fit after that one call
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


FULL_DISK_PROGRAM = """\
data d = csv("d.csv", target="y")
model m {
    Input(shape=(2,))
    Dense(64, activation=relu)
    Dense(1)
    loss mse
    optimizer Adam(learning_rate=0.001)
}
train m on d epochs=100000 batch_size=2
save m to "m.keras"
"""


@pytest.fixture
def small_disk(tmp_path):
    """A folder on a 4 MB tmpfs of its own, unmounted afterwards (skips where mounting is refused)."""
    folder = tmp_path / "disk"
    folder.mkdir()
    try:
        mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(folder)], capture_output=True, text=True,
                                 timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        pytest.skip(f"cannot mount a small tmpfs here ({exc})")
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here (mount: {mounted.stderr.strip() or mounted.returncode})")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True, timeout=30)


def _fill(folder: Path) -> Path:
    """Write a file until the file system is full; returns it."""
    filler = folder / "filler.bin"
    chunk = b"\0" * 65536
    with open(filler, "wb", buffering=0) as fh:
        try:
            while True:
                fh.write(chunk)
        except OSError:
            pass
        try:  # the last bytes of the last page
            while True:
                fh.write(b"\0")
        except OSError:
            pass
    return filler


def test_sigint_on_a_full_disk_says_what_was_lost(small_disk):
    """Ctrl-C when the resume checkpoint cannot be written: exit 130, a message that names the
    lost epochs and the reason, no traceback, no half-written checkpoint, earlier files intact."""
    folder = small_disk
    (folder / "model.nn").write_text(FULL_DISK_PROGRAM)
    (folder / "d.csv").write_text("a,b,y\n" + "".join(f"{i},{i % 7},{2 * i}\n" for i in range(64)))
    earlier = {"m.keras": b"PK\x03\x04 an earlier model that must survive", "model.resume.keras": b"an earlier checkpoint"}
    for name, content in earlier.items():
        (folder / name).write_bytes(content)
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONUNBUFFERED="1", NO_COLOR="1")
    cmd = [sys.executable, "-m", "nndsl", "run", "model.nn", "--log-format", "json"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=folder)
    epochs = 0
    deadline = time.monotonic() + 240
    try:
        for line in proc.stdout:
            if json.loads(line)["event"] == "epoch_end":
                epochs += 1
                if epochs == 2:
                    _fill(folder)
                    proc.send_signal(signal.SIGINT)
            assert time.monotonic() < deadline
        err = proc.stderr.read()
        code = proc.wait(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert code == 130, err
    assert "Traceback" not in err, err
    assert "but the checkpoint could not be written to model.resume.keras (No space left on device)" in err, err
    assert "those epochs are lost, and an earlier checkpoint, if any, is unchanged" in err, err
    assert "to start again: nndsl run model.nn" in err, err
    for name, content in earlier.items():
        assert (folder / name).read_bytes() == content, name
    # nothing half-written: the run record and history may or may not have found room
    left = {p.name for p in folder.iterdir()} - {"filler.bin", "model.run.json", "runs"}
    assert left == {"model.nn", "d.csv", *earlier}, sorted(left)

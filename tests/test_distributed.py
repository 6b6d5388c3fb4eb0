"""The JAX backend, several processes training together on loopback, and what happens when one dies.

Every process is bounded by a timeout; the processes are real ``nndsl`` commands.
"""

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

pytest.importorskip("jax", reason="the JAX backend is an optional extra: pip install 'nndsl[jax]'")

ROOT = Path(__file__).resolve().parent.parent
PLUGINS = Path(__file__).resolve().parent / "plugins"
LIMIT = 240  # seconds any one command may take here


def _sales(folder: Path, extra: str = "", epochs: int = 3) -> Path:
    for f in (ROOT / "examples" / "sales").iterdir():
        if f.suffix == ".csv":
            shutil.copy(f, folder / f.name)
    text = (ROOT / "examples" / "sales" / "sales.nn").read_text()
    text = text.replace("let epochs = 50", f"let epochs = {epochs}")
    (folder / "sales.nn").write_text(text + extra)
    return folder / "sales.nn"


def _env(**more) -> dict:
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONUNBUFFERED="1", **more)
    env["PYTHONPATH"] = os.pathsep.join([str(PLUGINS), str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return env


def _nndsl(*args, cwd, env=None, timeout=LIMIT):
    return subprocess.run([sys.executable, "-m", "nndsl", *args], capture_output=True, text=True, cwd=cwd,
                          env=env or _env(), timeout=timeout)


def _weights(path: Path):
    import numpy as np

    with np.load(path) as f:
        return [f[k] for k in sorted(f.files, key=lambda k: int(k.split("_")[1]))]


def _free_port() -> int:
    from nndsl.run.launch import free_port

    return free_port()


DUMP = '\ndump_weights sales to "weights"\n'


def _wait_for_epoch(stream, epoch: int) -> None:
    """Read a run's JSON events until epoch ``epoch`` has ended."""
    deadline = time.monotonic() + LIMIT
    for line in stream:
        if '"epoch_end"' in line and json.loads(line)["epoch"] >= epoch:
            return
        assert time.monotonic() < deadline
    raise AssertionError(f"the run ended before epoch {epoch}")


def test_two_processes_train_as_one(tmp_path):
    """Two processes on 127.0.0.1 hold the same weights after training, equal to one process
    trained on the same global batches; only process 0 writes the artefacts."""
    import numpy as np

    nn = _sales(tmp_path, DUMP)
    proc = _nndsl("--plugin", "dump_weights", "launch", "-n", "2", "--timeout", "60", str(nn), "--progress", "plain", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "note: 4 of 900 rows do not fill a last batch of 32" in proc.stdout
    assert proc.stdout.count("saved sales to trained_model.keras") == 1  # process 0 speaks for the group
    w0, w1 = _weights(tmp_path / "weights-0.npz"), _weights(tmp_path / "weights-1.npz")
    for a, b in zip(w0, w1):
        np.testing.assert_array_equal(a, b)
    record = json.loads((tmp_path / "sales.run.json").read_text())
    assert record["distribute"] == {"devices": 2, "processes": 2} and len(record["history"]["sales"]["loss"]) == 3
    assert "training as 2 processes, 2 devices in all" in proc.stdout
    assert (tmp_path / "trained_model.keras").is_file() and (tmp_path / "predictions.csv").is_file()

    # the same global batches on one process: a group of one
    one = tmp_path / "one"
    one.mkdir()
    nn1 = _sales(one, DUMP)
    proc = _nndsl("--plugin", "dump_weights", "run", str(nn1), "--num-processes", "1", "--process-id", "0",
                  "--coordinator", f"127.0.0.1:{_free_port()}", "--timeout", "60", cwd=one)
    assert proc.returncode == 0, proc.stderr
    single = _weights(one / "weights-0.npz")
    for a, b in zip(w0, single):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    first = np.load(tmp_path / "weights-0.npz")
    assert any(np.abs(w).sum() > 0 for w in first.values())
    history = json.loads((one / "sales.run.json").read_text())["history"]["sales"]["loss"]
    assert history == pytest.approx(record["history"]["sales"]["loss"], rel=1e-4)


def test_a_peer_killed_mid_run_ends_the_other_with_a_clear_error(tmp_path):
    nn = _sales(tmp_path, epochs=2000)
    port = _free_port()
    common = ["run", str(nn), "--num-processes", "2", "--coordinator", f"127.0.0.1:{port}", "--timeout", "20", "--log-format", "json"]
    env = _env()
    p0 = subprocess.Popen([sys.executable, "-m", "nndsl", *common, "--process-id", "0"], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path)
    p1 = subprocess.Popen([sys.executable, "-m", "nndsl", *common, "--process-id", "1"], stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL, env=env, cwd=tmp_path)
    try:
        _wait_for_epoch(p0.stdout, 2)
        p1.kill()
        killed = time.monotonic()
        code = p0.wait(timeout=60)
        waited = time.monotonic() - killed
        err = p0.stderr.read()
    finally:
        for p in (p0, p1):
            if p.poll() is None:
                p.kill()
                p.wait()
    assert code == 1, err
    assert waited < 20 + 10
    assert "error: process 0 of 2: another process of the group stopped or cannot be reached during 'train' at line" in err
    assert "Traceback" not in err
    assert not (tmp_path / "trained_model.keras").exists()


def test_ctrl_c_stops_the_group_together_and_resume_continues_it(tmp_path):
    nn = _sales(tmp_path, epochs=8)
    cmd = [sys.executable, "-m", "nndsl", "launch", "-n", "2", "--timeout", "60", str(nn), "--log-format", "json"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(), cwd=tmp_path)
    first = []
    deadline = time.monotonic() + LIMIT
    for line in proc.stdout:
        event = json.loads(line)
        if event["event"] == "epoch_end":
            first.append(event["loss"])
            if len(first) == 2:
                proc.send_signal(signal.SIGINT)
        assert time.monotonic() < deadline
    err = proc.stderr.read()
    assert proc.wait(timeout=120) == 130, err
    assert "to continue: nndsl run sales.nn --resume" in err
    assert "Traceback" not in err
    assert (tmp_path / "sales.resume.keras").is_file()
    done = len(json.loads((tmp_path / "sales.run.json").read_text())["history"]["sales"]["loss"])
    assert 2 <= done < 8

    proc = subprocess.run(cmd + ["--resume"], capture_output=True, text=True, env=_env(), cwd=tmp_path, timeout=LIMIT)
    assert proc.returncode == 0, proc.stderr
    resumed = [json.loads(x) for x in proc.stdout.splitlines() if '"epoch_end"' in x]
    assert [e["epoch"] for e in resumed] == list(range(done + 1, 9))
    history = json.loads((tmp_path / "sales.run.json").read_text())["history"]["sales"]["loss"]
    assert len(history) == 8
    assert history[:done] == pytest.approx(first[:done])
    assert history[done] < 3 * history[done - 1]
    assert not (tmp_path / "sales.resume.keras").exists()


def test_launch_reports_a_user_error_once(tmp_path):
    nn = _sales(tmp_path)
    nn.write_text(nn.read_text().replace("batch_size=32", "batch_size=33"))
    proc = _nndsl("launch", "-n", "2", "--timeout", "60", str(nn), cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.count("error: expected a batch_size divisible by the 2 processes of the run; received batch_size=33") == 1
    assert "Traceback" not in proc.stderr
    assert "training as 2 processes" not in proc.stdout  # refused before the processes started JAX and formed the group


def test_distribute_mirrored_on_two_local_devices_matches_one(tmp_path):
    """JAX with two CPU devices: the batch is split between them; the result is the same.

    The one-device run names its backend in the file (``backend jax``) rather than on the command
    line, and its saved model, plain Keras, is loaded on the TensorFlow backend and predicts alike.
    That run (train, test, save, load, predict) never imports TensorFlow: Keras's saving and loading
    would import it on any backend, for nothing, and nndsl keeps them from it."""
    import numpy as np

    results, outs = [], []
    for devices, extra in ((1, "backend jax\n"), (2, "distribute mirrored\n")):
        folder = tmp_path / f"d{devices}"
        folder.mkdir()
        nn = _sales(folder, DUMP, epochs=2)
        nn.write_text(extra + nn.read_text())
        env = _env(XLA_FLAGS=f"--xla_force_host_platform_device_count={devices}")
        backend = ["--backend", "jax"] if devices > 1 else []
        proc = _nndsl("--plugin", "dump_weights", "--plugin", "modules_at_exit", "run", str(nn), *backend, "--progress", "plain",
                      cwd=folder, env=env)
        assert proc.returncode == 0, proc.stderr
        outs.append(proc.stdout)
        assert json.loads((folder / "modules-at-exit.json").read_text()) == ["jax"]
        record = json.loads((folder / "sales.run.json").read_text())
        assert record["backend"] == "jax" and len(record["history"]["sales"]["loss"]) == 2
        if devices > 1:
            assert record["distribute"] == {"devices": 2, "mirrored": True}
        results.append(_weights(folder / "weights-0.npz"))
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)

    one = tmp_path / "d1"
    assert "wrote 1 prediction to predictions.csv" in outs[0]
    check = subprocess.run([sys.executable, "-c", (
        "import keras, numpy as np, csv;"
        "m = keras.models.load_model('trained_model.keras');"
        "rows = list(csv.reader(open('proposed_new_product.csv')));"
        "x = {name: np.array([float(r[j]) for r in rows[1:]]) for j, name in enumerate(rows[0])};"
        "p = float(m.predict(x, verbose=0)[0, 0]);"
        "q = float(list(csv.reader(open('predictions.csv')))[1][-1]);"
        "assert abs(p - q) <= 1e-3 * abs(q), (p, q); print('ok')")], capture_output=True, text=True, cwd=one,
        env=_env(KERAS_BACKEND="tensorflow"), timeout=LIMIT)
    assert check.stdout.strip().endswith("ok"), check.stderr


def test_distribute_mirrored_on_tensorflow(tmp_path, capsys):
    from nndsl.cli import main

    nn = _sales(tmp_path, epochs=2)
    nn.write_text("distribute mirrored\n" + nn.read_text())
    assert main(["run", str(nn), "--progress", "plain"]) == 0
    out = capsys.readouterr().out
    assert "distribute mirrored: 1 device (with one device it only adds overhead)" in out
    assert "saved sales to trained_model.keras" in out


def test_group_options_must_come_together(tmp_path, capsys):
    from nndsl.cli import main

    nn = _sales(tmp_path)
    assert main(["run", str(nn), "--num-processes", "2"]) == 2
    assert "expected all three for a multi-process run; received --num-processes only" in capsys.readouterr().err
    assert main(["run", str(nn), "--num-processes", "2", "--process-id", "2", "--coordinator", "h:1"]) == 2
    assert "--process-id: expected 0 to 1 for 2 processes; received 2" in capsys.readouterr().err
    assert main(["run", str(nn), "--num-processes", "2", "--process-id", "0", "--coordinator", "nohost"]) == 2
    assert "--coordinator: expected HOST:PORT" in capsys.readouterr().err


def test_a_group_needs_the_jax_backend(tmp_path, capsys):
    from nndsl.cli import main

    nn = _sales(tmp_path)
    code = main(["run", str(nn), "--backend", "tensorflow", "--num-processes", "2", "--process-id", "0", "--coordinator", "h:1"])
    assert code == 2
    assert "--num-processes: expected the jax backend for a multi-process run; received tensorflow" in capsys.readouterr().err


def test_backend_jax_after_keras_was_imported_on_tensorflow(tmp_path, capsys):
    import keras

    assert keras.backend.backend() == "tensorflow"  # as this test process runs it

    from nndsl.cli import main

    nn = _sales(tmp_path)
    nn.write_text("backend jax\n" + nn.read_text())
    assert main(["run", str(nn)]) == 1
    err = capsys.readouterr().err
    assert ("sales.nn:1:9: error: expected Keras on the jax backend; received Keras already imported on tensorflow in this process "
            "[bad-setting]") in err


def test_a_backend_that_is_not_installed(tmp_path, capsys, monkeypatch):
    import importlib.util

    from nndsl.cli import main

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "jax" else real(name, *a))
    nn = _sales(tmp_path)
    assert main(["run", str(nn), "--backend", "jax"]) == 2
    assert ("--backend jax: expected jax to be installed for the jax backend; received an environment without it "
            '(install it: pip install "nndsl[jax]")') in capsys.readouterr().err
    nn.write_text("backend jax\n" + nn.read_text())
    assert main(["run", str(nn)]) == 1
    err = capsys.readouterr().err
    assert "sales.nn:1:9: error: expected jax to be installed for the jax backend; received an environment without it [bad-setting]" in err
    assert 'install it: pip install "nndsl[jax]"' in err


def _without_tensorflow(monkeypatch):
    """Our own checks see no TensorFlow (as on a JAX-only install); Keras, already imported here, keeps working."""
    import importlib.util

    import nndsl.run.backend

    real = importlib.util.find_spec
    monkeypatch.setattr(nndsl.run.backend, "activate", lambda *a, **k: None)
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "tensorflow" else real(name, *a))


def test_a_serving_export_without_tensorflow_is_a_clear_error(tmp_path, capsys, monkeypatch):
    from nndsl.cli import main

    nn = _sales(tmp_path, epochs=1)
    nn.write_text(nn.read_text().replace('save sales to "trained_model.keras"', 'save sales to "served" format=export'))
    _without_tensorflow(monkeypatch)
    assert main(["run", str(nn), "--progress", "none"]) == 1
    err = capsys.readouterr().err
    assert ("error: expected TensorFlow to write a serving export (a TensorFlow SavedModel); received an environment without it "
            "[unsupported-option]") in err
    assert not (tmp_path / "served").exists()


def test_a_folder_source_without_tensorflow_is_a_clear_error(tmp_path, capsys, monkeypatch):
    from nndsl.cli import main

    (tmp_path / "pics" / "cat").mkdir(parents=True)
    (tmp_path / "pics" / "cat" / "a.png").write_bytes(b"")
    (tmp_path / "m.nn").write_text('data pics = image_folder("pics", image_size=(8, 8))\nmodel m {\n    Input(shape=(8, 8, 3))\n'
                                   '    Flatten()\n    Dense(1)\n    loss mse\n    optimizer adam\n}\ntrain m on pics\n')
    _without_tensorflow(monkeypatch)
    assert main(["run", str(tmp_path / "m.nn"), "--progress", "none"]) == 1
    err = capsys.readouterr().err
    assert "expected TensorFlow to stream a folder of images (through tf.data); received an environment without it" in err
    assert 'install it: pip install "nndsl[keras]"' in err


def _pids_of(marker: str) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if marker.encode() in cmdline and b"--process-id" in cmdline:
                i = cmdline.index(b"--process-id")
                if cmdline[i + 1] == b"1":
                    pids.append(int(entry.name))
    return pids


@pytest.mark.skipif(not Path("/proc/self/cmdline").exists(), reason="finds the launched process through /proc")
def test_launch_says_which_process_died_and_stops_the_group(tmp_path):
    nn = _sales(tmp_path, epochs=2000)
    proc = subprocess.Popen([sys.executable, "-m", "nndsl", "launch", "-n", "2", "--timeout", "60", str(nn), "--log-format", "json"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(), cwd=tmp_path)
    try:
        _wait_for_epoch(proc.stdout, 2)
        (victim,) = _pids_of(str(nn))
        os.kill(victim, signal.SIGKILL)
        code = proc.wait(timeout=60)
        err = proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert code == 128 + signal.SIGKILL, err
    assert "nndsl launch: process 1 was killed by SIGKILL (process 0 exited with status 1)" in err
    assert "error: process 0 of 2: another process of the group stopped or cannot be reached during 'train'" in err
    assert "Traceback" not in err


def test_a_group_that_does_not_form_is_a_clear_error_not_a_hang(tmp_path):
    nn = _sales(tmp_path)
    port = _free_port()
    started = time.monotonic()
    proc = _nndsl("run", str(nn), "--num-processes", "2", "--process-id", "0", "--coordinator", f"127.0.0.1:{port}",
                  "--timeout", "3", cwd=tmp_path, timeout=120)
    assert proc.returncode == 1, proc.stderr
    assert time.monotonic() - started < 60
    assert f"error: process 0 of 2: the group at 127.0.0.1:{port} did not form within 3 s" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "trained_model.keras").exists()

"""The ``tune`` step on Optuna: trials, failed trials, pruning, resuming a study after a killed
process, two processes sharing one study, and the best model reproduced by the printed ``--set`` flags."""

from __future__ import annotations

import io
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import nndsl
from nndsl.errors import NndslCheckError

pytestmark = pytest.mark.keras
optuna = pytest.importorskip("optuna")

ROOT = Path(__file__).resolve().parents[1]

PROGRAM = """\
seed 7
let units = choice(4, 8)
let lr = {lr}
let epochs = {epochs}

data train = csv("train.csv", target="y")

model m {{
    Input(shape=(3,))
    Dense(units, activation=relu)
    Dense(1)
    loss mse
    optimizer SGD(learning_rate=lr)
}}

tune m on train trials={trials} epochs=epochs batch_size=32 validation_split=0.25{options}
save m to "best.keras"
"""


def write_program(folder: Path, *, lr="loguniform(0.001, 0.1)", epochs=2, trials=3, options="") -> Path:
    import numpy as np

    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, size=(160, 3))
    y = x @ np.array([0.5, -0.25, 0.1]) + 0.05 * rng.normal(size=160)
    lines = ["a,b,c,y"] + [f"{r[0]:.5f},{r[1]:.5f},{r[2]:.5f},{t:.5f}" for r, t in zip(x, y)]
    (folder / "train.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    path = folder / "model.nn"
    path.write_text(PROGRAM.format(lr=lr, epochs=epochs, trials=trials, options=options), encoding="utf-8")
    return path


def run_here(path: Path, **kwargs):
    from nndsl.run.runner import run

    out = io.StringIO()
    state = run(path, progress="plain", out=out, err=out, **kwargs)
    return state, out.getvalue()


def study_of(path: Path):
    storage = f"sqlite:///{path.with_suffix('.tune.db')}"
    (summary,) = optuna.get_all_study_summaries(storage)
    return optuna.load_study(study_name=summary.study_name, storage=storage)


def env() -> dict:
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)}


def test_a_search_records_its_trials_and_the_best_model_is_the_one_the_flags_reproduce(tmp_path):
    path = write_program(tmp_path)
    state, out = run_here(path)
    record = json.loads(path.with_suffix(".run.json").read_text())["tune"]["m"]
    assert [t["state"] for t in record["trials"]] == ["complete"] * 3
    assert all(set(t["values"]) == {"units", "lr"} for t in record["trials"])
    best = record["best"]
    assert best["objective"] == min(t["objective"] for t in record["trials"])
    assert re.search(rf"best trial {best['number']}: val_loss=", out)
    # the model after the step is the best trial's, trained again from the same seed
    assert state.models["m"].history["val_loss"][-1] == pytest.approx(best["objective"], rel=1e-6)
    assert (tmp_path / "best.keras").is_file()

    flags = re.search(r"nndsl run model\.nn (.*)", out).group(1)
    words = shlex.split(flags)
    overrides = dict(w.split("=", 1) for w in words[1::2])
    assert words[0::2] == ["--set"] * len(overrides) and set(overrides) == {"units", "lr"}
    again, out_again = run_here(path, overrides=overrides)
    assert "no search spaces left to search" in out_again
    assert again.models["m"].history == state.models["m"].history
    import numpy as np

    for mine, theirs in zip(state.models["m"].keras_model.get_weights(), again.models["m"].keras_model.get_weights()):
        np.testing.assert_array_equal(mine, theirs)


def test_a_finished_search_is_reused_and_fresh_starts_over(tmp_path):
    from nndsl.run.search import TuneOptions

    path = write_program(tmp_path, trials=2)
    run_here(path)
    _, out = run_here(path)
    assert "2 of 2 trials done already" in out and "trial 0:" in out
    assert len(study_of(path).trials) == 2
    _, out = run_here(path, tune=TuneOptions(fresh=True))
    assert "done already" not in out
    assert len(study_of(path).trials) == 2  # the old study deleted, a new one made


def test_failed_trials_are_recorded_with_their_reason_and_the_search_goes_on(tmp_path):
    path = write_program(tmp_path, lr="choice(0.05, 1e30)", trials=4, options=" sampler=grid")
    _, out = run_here(path)
    trials = json.loads(path.with_suffix(".run.json").read_text())["tune"]["m"]["trials"]
    failed = [t for t in trials if t["state"] == "fail"]
    assert failed and all(t["values"]["lr"] == "1e+30" for t in failed)
    assert all("finite training loss" in t["reason"] for t in failed)
    assert any(t["state"] == "complete" for t in trials)
    assert "failed: line" in out


def test_every_trial_failing_is_a_located_error(tmp_path):
    path = write_program(tmp_path, lr="choice(1e30, 1e31)", trials=2, options=" sampler=grid")
    with pytest.raises(nndsl.errors.RunError) as info:
        run_here(path)
    (d,) = info.value.diagnostics
    assert "expected at least one trial of the search to complete" in d.message and d.span.line == 16
    assert "finite training loss" in d.hint


def test_pruning_stops_bad_trials_between_epochs(tmp_path):
    lr = "choice(0.2, 0.15, 0.1, 0.08, 0.06, 0.05, 1e-9, 2e-9, 3e-9, 4e-9)"
    path = write_program(tmp_path, lr=lr, epochs=4, trials=12, options=" sampler=grid pruner=median")
    run_here(path)
    trials = json.loads(path.with_suffix(".run.json").read_text())["tune"]["m"]["trials"]
    pruned = [t for t in trials if t["state"] == "pruned"]
    assert pruned, [(t["values"], t["state"]) for t in trials]
    assert any(float(t["values"]["lr"]) < 1e-8 for t in pruned)  # a hopeless one among them
    assert all(len(t["intermediate"]) == t["epochs"] < 4 for t in pruned)  # stopped before the last epoch
    assert all(len(t["intermediate"]) == t["epochs"] == 4 for t in trials if t["state"] == "complete")
    best = json.loads(path.with_suffix(".run.json").read_text())["tune"]["m"]["best"]
    assert float(best["values"]["lr"]) >= 0.05


def test_grid_search_needs_discrete_spaces():
    program = PROGRAM.format(lr="loguniform(0.001, 0.1)", epochs=1, trials=2, options=" sampler=grid")
    with pytest.raises(NndslCheckError) as info:
        nndsl.check(program)
    (d,) = info.value.diagnostics
    assert d.code == "bad-space" and "sampler=grid" in d.message and "'lr'" in d.message


def test_an_unknown_objective_is_a_located_error(tmp_path):
    path = write_program(tmp_path, trials=1, options=" objective=val_accuracy")
    with pytest.raises(nndsl.errors.RunError) as info:
        run_here(path)
    (d,) = info.value.diagnostics
    assert "expected objective to be a metric the training logs" in d.message and "val_loss" in d.message


def test_a_search_resumes_after_its_process_is_killed(tmp_path):
    # the process's second trial is held (tests/plugins/hold_later_trainings.py) while the file
    # "hold" exists: the process is killed with one trial done and one in flight, however short
    path = write_program(tmp_path, epochs=2, trials=3, options=" callbacks=[HoldLaterTrainings()]")
    run_env = env()
    run_env["PYTHONPATH"] = os.pathsep.join([str(Path(__file__).resolve().parent / "plugins"), run_env["PYTHONPATH"]])
    command = [sys.executable, "-m", "nndsl", "--plugin", "hold_later_trainings", "run", path.name, "--progress", "none"]
    (tmp_path / "hold").touch()
    proc = subprocess.Popen(command, cwd=tmp_path, env=run_env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    db = path.with_suffix(".tune.db")
    deadline = time.monotonic() + 240
    try:
        while time.monotonic() < deadline:
            time.sleep(0.2)
            if db.exists():
                try:
                    states = [t.state.name for t in study_of(path).trials]
                except Exception:  # noqa: BLE001 -- the study is being created
                    continue
                if states.count("COMPLETE") >= 1 and "RUNNING" in states:
                    break
        else:
            pytest.fail("the search did not get one trial done in time")
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=60)
    states = [t.state.name for t in study_of(path).trials]
    assert states == ["COMPLETE", "RUNNING"]  # the trial in flight when the process died
    (tmp_path / "hold").unlink()
    done = subprocess.run(command[:-2] + ["--progress", "plain"], cwd=tmp_path, env=run_env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    out = done.stdout
    assert "trials done already; resuming" in out
    trials = study_of(path).trials
    counted = [t for t in trials if t.state.name == "COMPLETE"]
    assert len(counted) == 3
    lost = [t for t in trials if t.state.name == "FAIL"]
    assert len(lost) == 1 and "failure" not in lost[0].user_attrs  # done again, not counted
    assert "failed: stopped before it finished" in out


def test_two_processes_share_one_study(tmp_path):
    # each process holds its first trial until the other has started one (tests/plugins/wait_for_peers.py),
    # so both train trials however long the second takes to import TensorFlow; the --plugin reaches the worker
    path = write_program(tmp_path, epochs=3, trials=4, options=" callbacks=[WaitForPeers(count=2)]")
    plugins = str(Path(__file__).resolve().parent / "plugins")
    run_env = env()
    run_env["PYTHONPATH"] = os.pathsep.join([plugins, run_env["PYTHONPATH"]])
    done = subprocess.run([sys.executable, "-m", "nndsl", "--plugin", "wait_for_peers", "run", path.name, "--workers", "2"],
                          cwd=tmp_path, env=run_env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "searching with 2 processes" in done.stdout
    assert "warning" not in done.stderr, done.stderr[-3000:]  # the worker ran to its end
    trials = study_of(path).trials
    finished = [t for t in trials if t.state.name == "COMPLETE"]
    assert 4 <= len(finished) <= 5  # a worker may start one more while the last ones finish
    assert len({t.user_attrs["process"]["pid"] for t in finished}) == 2
    assert len(list(tmp_path.glob("peer-*"))) == 2
    assert (tmp_path / "best.keras").is_file()


def test_spaces_without_a_tune_step_run_with_their_defaults_and_say_so(tmp_path):
    path = write_program(tmp_path)
    text = path.read_text().replace("tune m on train trials=3", "train m on train")
    path.write_text(text)
    state, out = run_here(path)
    assert "search spaces without a tune step: running with their defaults units=4, lr=0.01" in out
    assert not path.with_suffix(".tune.db").exists()
    assert json.loads(path.with_suffix(".run.json").read_text())["space_defaults"] == {"units": "4", "lr": "0.01"}


def test_plot_after_tune_draws_the_search(tmp_path):
    pytest.importorskip("matplotlib")
    path = write_program(tmp_path, trials=3)
    path.write_text(path.read_text() + 'plot m to "curves.png"\n')
    _, out = run_here(path)
    for name in ("curves.png", "curves-history.png", "curves-importance.png"):
        picture = tmp_path / name
        assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name
        assert f"to {name}" in out


def test_ctrl_c_stops_the_search_and_the_trial_in_flight_is_done_again(tmp_path):
    path = write_program(tmp_path, epochs=5000, trials=2)  # a trial far longer than the test waits
    proc = subprocess.Popen([sys.executable, "-m", "nndsl", "run", path.name, "--progress", "none"], cwd=tmp_path, env=env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    db = path.with_suffix(".tune.db")
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.5)
        try:
            if db.exists() and any(t.state.name == "RUNNING" and t.intermediate_values for t in study_of(path).trials):
                break
        except Exception:  # noqa: BLE001 -- the study is being created
            continue
    running = proc.poll() is None
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    said = f"running when signalled: {running}\nstdout: {out[-2000:]}\nstderr: {err[-3000:]}"
    assert proc.returncode == 130, said
    assert "interrupted: 0 of 2 trials of the search are done and kept in model.tune.db" in out + err, said
    assert "to continue: nndsl run model.nn" in out + err, said
    trials = study_of(path).trials
    assert len(trials) == 1, [(t.state.name, t.user_attrs) for t in trials]
    assert trials[0].state.name == "FAIL" and "failure" not in trials[0].user_attrs  # not counted: done again next time
    assert 0 < len(trials[0].intermediate_values) < 5000
    assert not list(tmp_path.glob("*.resume.keras"))  # no train checkpoint left beside the file


def test_trials_as_json_events_and_as_a_live_table(tmp_path):
    from nndsl.run.runner import run

    path = write_program(tmp_path, epochs=1, trials=2)
    out = io.StringIO()
    run(path, progress="json", out=out, err=out)
    events = [json.loads(line) for line in out.getvalue().splitlines() if line.startswith("{")]
    trials = [e for e in events if e["event"] == "trial"]
    assert [t["number"] for t in trials] == [0, 1]
    assert all(t["state"] == "complete" and set(t["values"]) == {"units", "lr"} and t["objective"] > 0 for t in trials)
    # run again: the finished study is reused, and its trials are shown in the table
    out = io.StringIO()
    run(path, progress="rich", out=out, err=out)
    text = out.getvalue()
    assert "trials (val_loss)" in text and "2 of 2 trials done already" in text
    assert text.count("complete") >= 2


def test_a_storage_that_does_not_open_is_a_usage_error_without_its_password(tmp_path):
    from nndsl.errors import UsageError
    from nndsl.run.search import TuneOptions, shown_url

    assert shown_url("postgresql://bob:s3cret@db-host/nndsl") == "postgresql://bob:***@db-host/nndsl"
    assert shown_url("sqlite:////srv/model.tune.db") == "sqlite:////srv/model.tune.db"
    path = write_program(tmp_path, trials=1)
    with pytest.raises(UsageError) as info:
        run_here(path, tune=TuneOptions(storage="nosuchdb://bob:s3cret@nowhere/x"))
    assert "--storage: expected an Optuna storage that opens" in str(info.value) and "s3cret" not in str(info.value)

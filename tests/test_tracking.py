"""Experiment tracking: a run logged to a real local MLflow store and read back with MLflow's own
API; TensorBoard logs in the run's folder; missing packages as located errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nndsl.cli import main

pytestmark = pytest.mark.keras

PROGRAM = """\
seed 1
{track}let epochs = 2
let units = 4
data d = csv("d.csv", target="y")
model m {{
    Input(shape=(2,))
    Dense(units, activation=relu)
    Dense(1)
    loss mse
    optimizer Adam(learning_rate=0.01)
    metrics [mae]
}}
train m on d epochs=epochs batch_size=8 validation_split=0.25
test m on d
save m to "m.keras"
"""


def _project(folder: Path, track: str = "") -> Path:
    rows = "".join(f"{i % 7},{i % 5},{(i % 7) + 2 * (i % 5)}\n" for i in range(64))
    (folder / "d.csv").write_text("a,b,y\n" + rows, encoding="utf-8")
    nn = folder / "p.nn"
    nn.write_text(PROGRAM.format(track=f"track {track}\n" if track else ""), encoding="utf-8")
    return nn


def test_mlflow_round_trip(tmp_path, capsys):
    pytest.importorskip("mlflow")
    pytest.importorskip("sqlalchemy")
    pytest.importorskip("alembic")
    from mlflow.tracking import MlflowClient

    nn = _project(tmp_path, "mlflow")
    assert main(["run", str(nn), "--set", "epochs=3", "--progress", "plain"]) == 0
    assert "logged the run to the local MLflow store" in capsys.readouterr().out
    store = tmp_path / "mlruns"
    assert (store / "mlflow.db").is_file()
    client = MlflowClient(tracking_uri=f"sqlite:///{store / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("p")
    (run,) = client.search_runs([experiment.experiment_id])
    assert run.info.status == "FINISHED"
    params = run.data.params
    assert params["epochs"] == "3" and params["units"] == "4"  # the let values after --set
    assert params["train.batch_size"] == "8" and params["train.validation_split"] == "0.25" and params["setting.seed"] == "1"
    tags = run.data.tags
    assert tags["nndsl.file"] == "p.nn" and tags["nndsl.models"] == "m" and tags["nndsl.run"] == "p-1"
    from nndsl.version import __version__

    assert tags["nndsl.version"] == __version__
    losses = client.get_metric_history(run.info.run_id, "loss")
    assert [m.step for m in losses] == [1, 2, 3]
    assert len(client.get_metric_history(run.info.run_id, "val_mae")) == 3
    assert {"d_loss", "d_mae", "d_rmse", "d_r2"} <= set(run.data.metrics)
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert {"program", "models", "record.json"} <= artifacts
    assert {a.path for a in client.list_artifacts(run.info.run_id, "program")} == {"program/p.nn", "program/program.nn"}
    assert {a.path for a in client.list_artifacts(run.info.run_id, "models")} == {"models/m.keras"}
    local = Path(client.download_artifacts(run.info.run_id, "program/program.nn", str(tmp_path / "down")))
    assert "let epochs = 3" in local.read_text()

    # a second run is a second MLflow run of the same experiment
    assert main(["run", str(nn), "--progress", "none"]) == 0
    assert len(client.search_runs([experiment.experiment_id])) == 2


def test_tracking_uri_sends_the_run_elsewhere(tmp_path):
    pytest.importorskip("mlflow")
    pytest.importorskip("sqlalchemy")
    from mlflow.tracking import MlflowClient

    nn = _project(tmp_path)
    uri = f"sqlite:///{tmp_path / 'elsewhere.db'}"
    assert main(["run", str(nn), "--track", "mlflow", "--tracking-uri", uri, "--progress", "none"]) == 0
    assert not (tmp_path / "mlruns").exists()
    client = MlflowClient(tracking_uri=uri)
    (run,) = client.search_runs([client.get_experiment_by_name("p").experiment_id])
    assert run.data.params["epochs"] == "2"


def test_tensorboard_logs_in_the_run_folder(tmp_path):
    pytest.importorskip("tensorboard")
    nn = _project(tmp_path, "tensorboard")
    assert main(["run", str(nn), "--progress", "none"]) == 0
    events = list((tmp_path / "runs" / "p-1" / "tensorboard" / "m" / "train").glob("events.out.tfevents.*"))
    assert events and events[0].stat().st_size > 0
    assert (tmp_path / "runs" / "p-1" / "record.json").is_file()  # the same folder as the run's record


def test_a_missing_package_is_a_located_error(tmp_path, capsys, monkeypatch):
    from nndsl.run import tracking

    monkeypatch.setattr(tracking, "missing", lambda tracker, local_store=True: ["mlflow"])
    nn = _project(tmp_path, "mlflow")
    assert main(["run", str(nn), "--progress", "none"]) == 1
    err = capsys.readouterr().err
    assert "p.nn:2:7: error: expected mlflow installed to track the run with mlflow" in err
    assert 'pip install "nndsl[mlflow]"' in err
    assert not (tmp_path / "m.keras").exists()  # nothing ran
    # from the command line: a usage error
    nn.write_text(PROGRAM.format(track=""), encoding="utf-8")
    assert main(["run", str(nn), "--track", "mlflow", "--progress", "none"]) == 2
    assert "--track mlflow: expected mlflow installed" in capsys.readouterr().err


def test_tracking_uri_without_mlflow_tracking_is_a_usage_error(tmp_path, capsys):
    nn = _project(tmp_path)
    assert main(["run", str(nn), "--tracking-uri", "sqlite:///x.db", "--progress", "none"]) == 2
    assert "--tracking-uri: expected it with MLflow tracking" in capsys.readouterr().err


TUNE_PROGRAM = """\
seed 3
track mlflow
let units = choice(4, 8)
let lr = choice(0.05, 1e30)
data d = csv("d.csv", target="y")
model m {
    Input(shape=(2,))
    Dense(units, activation=relu)
    Dense(1)
    loss mse
    optimizer SGD(learning_rate=lr)
}
tune m on d trials=3 epochs=1 batch_size=16 validation_split=0.25 sampler=grid pruner=none
"""


def test_tune_trials_are_nested_runs_under_the_run(tmp_path):
    pytest.importorskip("mlflow")
    pytest.importorskip("sqlalchemy")
    pytest.importorskip("optuna")
    from mlflow.tracking import MlflowClient

    _project(tmp_path)
    nn = tmp_path / "t.nn"
    nn.write_text(TUNE_PROGRAM, encoding="utf-8")
    assert main(["run", str(nn), "--progress", "none"]) == 0
    client = MlflowClient(tracking_uri=f"sqlite:///{tmp_path / 'mlruns' / 'mlflow.db'}")
    runs = client.search_runs([client.get_experiment_by_name("t").experiment_id])
    (parent,) = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    trials = sorted((r for r in runs if "mlflow.parentRunId" in r.data.tags), key=lambda r: int(r.data.tags["nndsl.trial"]))
    assert len(trials) == 3 and len(runs) == 4
    record = json.loads(nn.with_suffix(".run.json").read_text())["tune"]["m"]["trials"]
    for run, kept in zip(trials, record, strict=True):
        tags = run.data.tags
        assert tags["mlflow.parentRunId"] == parent.info.run_id
        assert tags["nndsl.trial"] == str(kept["number"]) and tags["mlflow.runName"] == f"trial {kept['number']}"
        assert run.data.params == kept["values"]  # the sampled values, as --set takes them
        assert tags["nndsl.objective"] == "val_loss"
        if kept["state"] == "complete":
            assert (tags["nndsl.trial.state"], run.info.status) == ("complete", "FINISHED")
            assert run.data.metrics["objective"] == pytest.approx(kept["objective"])
            assert [m.step for m in client.get_metric_history(run.info.run_id, "val_loss")] == [1]
        else:
            assert (kept["state"], tags["nndsl.trial.state"], run.info.status) == ("fail", "failed", "FAILED")
            assert "finite training loss" in tags["nndsl.failure"] and "objective" not in run.data.metrics
    states = {r.data.tags["nndsl.trial.state"] for r in trials}
    assert states == {"complete", "failed"}  # three of the grid's four points: both learning rates
    # the best model's training logs to the parent, as a train step's does; the trials' epochs do not
    assert parent.info.status == "FINISHED"
    assert [m.step for m in client.get_metric_history(parent.info.run_id, "loss")] == [1]
    assert "objective" not in parent.data.metrics


def test_a_pruned_trial_keeps_its_last_objective(tmp_path):
    pytest.importorskip("mlflow")
    pytest.importorskip("sqlalchemy")
    import io

    from mlflow.tracking import MlflowClient

    from nndsl.run.tracking import TrialRuns

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=uri)
    parent = client.create_run(client.create_experiment("x")).info.run_id
    runs = TrialRuns(uri, parent, io.StringIO())
    trial = runs.start(4, {"lr": "0.1"}, "val_loss")
    trial.log({"val_loss": 0.9, "loss": 0.8}, step=1)
    trial.log({"val_loss": 0.7, "loss": 0.6}, step=2)
    trial.end("pruned")
    run = client.get_run(trial.run_id)
    assert run.info.status == "FINISHED" and run.data.tags["nndsl.trial.state"] == "pruned"
    assert run.data.metrics["objective"] == 0.7 and run.data.params == {"lr": "0.1"}
    assert run.data.tags["mlflow.parentRunId"] == parent


def test_a_store_that_fails_during_the_search_is_one_warning(tmp_path):
    pytest.importorskip("mlflow")
    pytest.importorskip("sqlalchemy")
    import io

    from nndsl.run.tracking import TrialRuns

    err = io.StringIO()
    runs = TrialRuns(f"sqlite:///{tmp_path / 'mlflow.db'}", "no-such-run", err)
    assert runs.start(0, {"lr": "0.1"}, "loss") is None
    assert runs.start(1, {"lr": "0.2"}, "loss") is None
    assert err.getvalue().count("warning: could not log the search's trials to MLflow") == 1


def test_two_processes_each_log_the_trials_they_train(tmp_path):
    pytest.importorskip("mlflow")
    pytest.importorskip("sqlalchemy")
    optuna = pytest.importorskip("optuna")
    import os
    import subprocess
    import sys

    from mlflow.tracking import MlflowClient

    _project(tmp_path)
    nn = tmp_path / "t.nn"
    # each process holds its first trial until the other has started one (tests/plugins/wait_for_peers.py)
    nn.write_text(TUNE_PROGRAM.replace("trials=3 epochs=1", "trials=4 epochs=2 callbacks=[WaitForPeers(count=2)]")
                  .replace("1e30", "0.01"), encoding="utf-8")
    tests = Path(__file__).resolve().parent
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        str(p) for p in [tests / "plugins", tests.parent, os.environ.get("PYTHONPATH")] if p)}
    done = subprocess.run([sys.executable, "-m", "nndsl", "--plugin", "wait_for_peers", "run", nn.name, "--workers", "2"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    storage = f"sqlite:///{nn.with_suffix('.tune.db')}"
    (summary,) = optuna.get_all_study_summaries(storage)
    study = optuna.load_study(study_name=summary.study_name, storage=storage)
    pids = {t.number: t.user_attrs["process"]["pid"] for t in study.trials if t.state.name == "COMPLETE"}
    assert len(set(pids.values())) == 2  # both processes trained trials
    client = MlflowClient(tracking_uri=f"sqlite:///{tmp_path / 'mlruns' / 'mlflow.db'}")
    runs = client.search_runs([client.get_experiment_by_name("t").experiment_id])
    (parent,) = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    nested = {int(r.data.tags["nndsl.trial"]): r for r in runs if r.data.tags.get("mlflow.parentRunId") == parent.info.run_id}
    assert set(nested) == set(pids)  # every trial, whichever process trained it
    assert all(r.info.status == "FINISHED" and len(client.get_metric_history(r.info.run_id, "loss")) == 2
               for r in nested.values())

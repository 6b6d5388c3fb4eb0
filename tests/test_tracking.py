"""Experiment tracking: a run logged to a real local MLflow store and read back with MLflow's own
API; TensorBoard logs in the run's folder; missing packages as located errors."""

from __future__ import annotations

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

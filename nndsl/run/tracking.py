"""Experiment tracking: ``track mlflow`` and ``track tensorboard`` (or ``nndsl run --track``).

**MLflow** (``pip install "nndsl[mlflow]"``) logs each run as an MLflow run: its parameters
(every ``let`` value after ``--set``, and the options of each step), the metrics of every epoch
as training goes, the test metrics, the artefacts (the ``.nn`` file, the program as run, the run
record, the saved models, the pictures and the predictions) and tags (the file, the models, the
nndsl version, the run's ID in the history). Each trial of a ``tune`` step is a nested run under it
(:class:`TrialRuns`), logged by whichever process trains it. The default store is local, beside the ``.nn`` file:
``mlruns/mlflow.db`` (SQLite) with the artefacts in ``mlruns/artifacts``, one experiment per
``.nn`` file; ``--tracking-uri`` sends the run to another store or a server. The client API is
used throughout, never MLflow's process-wide "active run", so a program that embeds nndsl keeps
its own.

**TensorBoard** (``pip install "nndsl[tensorboard]"``) adds Keras's ``TensorBoard`` callback
to every ``train`` step, writing into ``tensorboard/`` in the run's folder of the history
(``runs/STEM-N/tensorboard``): ``tensorboard --logdir runs`` shows every run side by side.
"""

from __future__ import annotations

import importlib.util
import logging
from pathlib import Path
from typing import Any

from .. import ast
from ..version import __version__

TRACKERS = ("mlflow", "tensorboard")
INSTALL = {"mlflow": 'pip install "nndsl[mlflow]"', "tensorboard": 'pip install "nndsl[tensorboard]"'}
MODULES = {"mlflow": ("mlflow", "sqlalchemy", "alembic"), "tensorboard": ("tensorboard",)}
STORE = "mlruns"  # beside the .nn file


def missing(tracker: str, *, local_store: bool = True) -> list[str]:
    """The packages ``tracker`` needs that are not installed (found without importing them)."""
    needed = MODULES[tracker] if tracker != "mlflow" or local_store else ("mlflow",)
    return [m for m in needed if importlib.util.find_spec(m) is None]


def default_uri(folder: Path) -> str:
    """The local MLflow store in ``folder`` (the ``.nn`` file's, or a notebook's)."""
    return "sqlite:///" + (Path(folder).resolve() / STORE / "mlflow.db").as_posix()


def begin(state, program, track: str | None, uri: str | None):
    """Start tracking a run about to execute its steps: a tracker (with ``finish``), or None.

    ``track`` (the command line's ``--track``) overrides the file's ``track`` setting. A missing
    package is a located error at the setting (or a usage error for ``--track``), before any step runs.
    """
    from ..errors import UsageError

    chosen = track or state.checked.settings.get("track") or "none"
    if chosen == "none":
        if uri is not None:
            raise UsageError("--tracking-uri: expected it with MLflow tracking (track mlflow, or --track mlflow); received no tracking")
        return None
    if uri is not None and chosen != "mlflow":
        raise UsageError(f"--tracking-uri: expected it with MLflow tracking; received track {chosen}")
    absent = missing(chosen, local_store=uri is None or uri.startswith("sqlite:"))
    if absent:
        message = f"expected {', '.join(absent)} installed to track the run with {chosen}; received an environment without " + (
            "it" if len(absent) == 1 else "them")
        setting = next((s for s in program.statements if isinstance(s, ast.Setting) and s.name == "track"), None)
        if track is not None or setting is None:
            raise UsageError(f"--track {chosen}: {message}; install it: {INSTALL[chosen]}")
        raise state.error(message, code="unsupported-option", span=setting.value.span, hint=f"install it: {INSTALL[chosen]}")
    if chosen == "tensorboard":
        return TensorBoardTracker(state)
    return MlflowTracker(state, uri)


def params(checked) -> dict[str, str]:
    """The run's parameters: every variable (``let``, after ``--set``) and every step's options."""
    out = {str(k): _text(v) for k, v in checked.variables.items()}
    seen: dict[str, int] = {}
    for step in checked.steps:
        verb = step.verb
        seen[verb] = seen.get(verb, 0) + 1
        prefix = verb if seen[verb] == 1 else f"{verb}{seen[verb]}"
        if step.target:
            out[f"{prefix}.model"] = str(step.target)
        if step.on is not None:
            out[f"{prefix}.on"] = str(step.on)
        for key, value in step.kwargs.items():
            if value is not None:
                out[f"{prefix}.{key}"] = _text(value)
    for key, value in checked.settings.items():
        out[f"setting.{key}"] = _text(value)
    return {k[:250]: v[:6000] for k, v in out.items()}  # MLflow's limits on keys and values


def _text(value: Any) -> str:
    return value if isinstance(value, str) else repr(value) if isinstance(value, float) else str(value)


class TensorBoardTracker:
    """Keras's TensorBoard callback on every ``train`` step, logging into the run's folder."""

    def __init__(self, state) -> None:
        self.log_dir = state.record.folder(state.nn_file) / "tensorboard"
        state.train_callbacks.append(self.callback)

    def callback(self, model_name: str):
        import keras

        return keras.callbacks.TensorBoard(log_dir=str(self.log_dir / model_name))

    def finish(self, state, status: str) -> None:
        state.events.line(f"TensorBoard logs in {self.log_dir} (tensorboard --logdir {self.log_dir.parent.parent})")


class MlflowTracker:
    """One MLflow run per nndsl run, through ``MlflowClient``."""

    def __init__(self, state, uri: str | None) -> None:
        from mlflow.tracking import MlflowClient

        _quiet()
        nn = Path(state.nn_file).resolve()
        home = Path(state.base_dir).resolve()  # the .nn file's folder; a notebook's for a notebook cell
        self.local = uri is None
        self.uri = uri or default_uri(home)
        if self.local:
            (home / STORE).mkdir(exist_ok=True)
        self.client = MlflowClient(tracking_uri=self.uri)
        name = nn.stem
        experiment = self.client.get_experiment_by_name(name)
        if experiment is not None:
            experiment_id = experiment.experiment_id
        else:
            location = (home / STORE / "artifacts").as_uri() if self.local else None
            experiment_id = self.client.create_experiment(name, artifact_location=location)
        models = ",".join(state.checked.models) or "-"
        tags = {"nndsl.file": nn.name, "nndsl.models": models, "nndsl.version": __version__, "mlflow.source.name": str(nn)}
        self.run_id = self.client.create_run(experiment_id, tags=tags).info.run_id
        self.client.log_batch(self.run_id, params=_params(params(state.checked)))
        self.single = len(state.checked.models) <= 1
        state.train_callbacks.append(self.callback)

    def trial_runs(self, err) -> TrialRuns:
        """Nested runs for a ``tune`` step's trials, under this run."""
        return TrialRuns(self.uri, self.run_id, err, client=self.client)

    def callback(self, model_name: str):
        """Logs each epoch's metrics as training goes (``val_`` ones included)."""
        import keras

        tracker = self

        class LogEpochs(keras.callbacks.Callback):
            def on_epoch_end(self, epoch, logs=None):
                tracker.log_metrics({k: v for k, v in (logs or {}).items()}, step=epoch + 1, model=model_name)

        return LogEpochs()

    def log_metrics(self, values: dict, *, step: int, model: str | None = None) -> None:
        prefix = "" if self.single or model is None else f"{model}."
        metrics = _metrics(values, step, prefix)
        if metrics:
            self.client.log_batch(self.run_id, metrics=metrics)

    def finish(self, state, status: str) -> None:
        """Test metrics, artefacts, the final tags, and the run's end. A store that fails now is a
        warning: the run itself is done and kept in the history."""
        try:
            self._finish(state, status)
        except Exception as exc:  # MLflow raises many types (HTTP, database, files); all mean the same here
            state.err.write(f"warning: could not finish logging the run to MLflow ({self.uri}): {type(exc).__name__}: {exc}\n")

    def _finish(self, state, status: str) -> None:
        for key, results in state.results.items():
            model, _, data = key.partition(":")
            prefix = data if self.single else f"{model}.{data}"
            self.log_metrics({f"{prefix}_{k}": v for k, v in results.items()}, step=0)
        for key, ev in getattr(state, "evaluations", {}).items():
            if ev is not None:
                model, _, data = key.partition(":")
                prefix = data if self.single else f"{model}.{data}"
                self.log_metrics({f"{prefix}_{k}": v for k, v in ev.summary.items()}, step=0)
        record = state.record
        folder = record.data.get("id")
        if folder:
            self.client.set_tag(self.run_id, "nndsl.run", folder)
        nn = Path(state.nn_file).resolve()
        self._artifact(nn, "program")
        run_folder = record.run_folder
        if run_folder is not None:
            self._artifact(run_folder / "program.nn", "program")  # as run, with the --set values
            self._artifact(run_folder / "record.json", None)
        for art in record.data.get("artefacts") or []:
            path = Path(art["path"])
            path = path if path.is_absolute() else Path(state.base_dir) / path
            where = {"model": "models", "predictions": "predictions", "plot": "plots", "evaluation": "evaluation"}.get(art["kind"])
            if path.exists():
                self._artifact(path, where)
        self.client.set_terminated(self.run_id, {"finished": "FINISHED", "interrupted": "KILLED"}.get(status, "FAILED"))
        where = f"the local MLflow store {Path(self.uri[len('sqlite:///'):]).parent}" if self.local else self.uri
        state.events.line(f"logged the run to {where} (MLflow run {self.run_id})")

    def _artifact(self, path: Path, folder: str | None) -> None:
        if path.is_dir():  # a serving export
            self.client.log_artifacts(self.run_id, str(path), f"{folder}/{path.name}" if folder else path.name)
        elif path.is_file():
            self.client.log_artifact(self.run_id, str(path), folder)


class TrialRuns:
    """A ``tune`` step's trials as nested MLflow runs under the run's own (tag ``mlflow.parentRunId``).

    Made in the process that started the run, and in each ``--workers`` process from the store's
    URI and the parent's ID, so every trial is logged by the process that trains it. A store that
    fails during the search is one warning and no more trial runs: the search itself goes on.
    """

    def __init__(self, uri: str, parent_run_id: str, err, *, client=None) -> None:
        from mlflow.tracking import MlflowClient

        _quiet()
        self.uri = uri
        self.parent_run_id = parent_run_id
        self.err = err
        self.client = client or MlflowClient(tracking_uri=uri)
        self.experiment_id = None
        self.broken = False

    def start(self, number: int, values: dict[str, str], objective: str) -> TrialRun | None:
        """A nested run for trial ``number``, its params the sampled ``values`` (as ``--set`` takes them)."""
        def create():
            if self.experiment_id is None:
                self.experiment_id = self.client.get_run(self.parent_run_id).info.experiment_id
            tags = {"mlflow.parentRunId": self.parent_run_id, "mlflow.runName": f"trial {number}",
                    "nndsl.trial": str(number), "nndsl.objective": objective}
            run_id = self.client.create_run(self.experiment_id, tags=tags).info.run_id
            self.client.log_batch(run_id, params=_params({k[:250]: v[:6000] for k, v in values.items()}))
            return TrialRun(self, run_id, objective)

        return self.guard(create)

    def guard(self, action):
        """``action()``, or None once the store has failed (said once)."""
        if self.broken:
            return None
        try:
            return action()
        except Exception as exc:  # MLflow raises many types (HTTP, database, files); all mean the same here
            self.broken = True
            self.err.write(f"warning: could not log the search's trials to MLflow ({self.uri}): {type(exc).__name__}: {exc}\n")
            return None


class TrialRun:
    """One trial's nested run: its epochs as they end, then its state and objective."""

    STATUS = {"complete": "FINISHED", "pruned": "FINISHED", "failed": "FAILED", "interrupted": "KILLED"}

    def __init__(self, runs: TrialRuns, run_id: str, objective: str) -> None:
        self.runs = runs
        self.run_id = run_id
        self.objective = objective
        self.last: float | None = None  # the objective at the last epoch: a pruned trial's

    def callback(self, model_name: str):
        """Logs each epoch's metrics to the trial's run."""
        import keras

        owner = self

        class LogTrialEpochs(keras.callbacks.Callback):
            def on_epoch_end(self, epoch, logs=None):
                owner.log({k: v for k, v in (logs or {}).items()}, step=epoch + 1)

        return LogTrialEpochs()

    def log(self, values: dict, *, step: int) -> None:
        metrics = _metrics(values, step)
        for metric in metrics:
            if metric.key == self.objective:
                self.last = metric.value
        if metrics:
            self.runs.guard(lambda: self.runs.client.log_batch(self.run_id, metrics=metrics))

    def end(self, state: str, *, value: float | None = None, reason: str | None = None) -> None:
        """The trial's ``state`` (complete, pruned, failed, interrupted) and objective; the run ended."""
        import math

        objective = value if value is not None else self.last if state == "pruned" else None
        if objective is not None and math.isfinite(objective):
            self.log({"objective": objective}, step=0)

        def close():
            self.runs.client.set_tag(self.run_id, "nndsl.trial.state", state)
            if reason:
                self.runs.client.set_tag(self.run_id, "nndsl.failure", reason[:5000])
            self.runs.client.set_terminated(self.run_id, self.STATUS[state])

        self.runs.guard(close)


def _quiet() -> None:
    # MLflow announces each database migration of a new store at INFO (its loggers are set up on import)
    for name in ("mlflow", "mlflow.store.db.utils", "alembic", "alembic.runtime.migration"):
        logging.getLogger(name).setLevel(logging.WARNING)


def _params(values: dict[str, str]):
    from mlflow.entities import Param

    return [Param(k, v) for k, v in values.items()]


def _metrics(values: dict, step: int, prefix: str = "") -> list:
    """MLflow metrics of the finite numbers among ``values`` at ``step``, each key after ``prefix``;
    a value that is no number (a schedule's text) or not finite is left out, as MLflow refuses it."""
    import math
    import time

    from mlflow.entities import Metric

    now = int(time.time() * 1000)
    metrics = []
    for key, value in values.items():
        try:
            number = float(value)
        except (TypeError, ValueError):
            continue
        if math.isfinite(number):
            metrics.append(Metric(f"{prefix}{key}", number, now, step))
    return metrics

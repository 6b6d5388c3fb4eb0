"""A ``tune`` step's search: its Optuna study, and one trial trained with the ``train`` step.

Each trial checks the program again with that trial's values in place of the spaces (exactly
what ``nndsl run --set NAME=VALUE ...`` does), builds the model from it and trains it with the
``train`` step itself, silently, on the data the run already loaded. A callback reports the
objective to Optuna after every epoch, and stops the trial when the pruner says so. A trial
that fails (a NaN loss, a shape Keras refuses for some values) is recorded as failed with its
reason, and the search goes on.

The study lives in Optuna storage: ``FILE.tune.db`` (SQLite) beside the ``.nn`` file unless
``--storage URL`` names another, under a name made from the model and what the search is
(its spaces, objective, direction and training options), so a changed program starts a new
study rather than resuming one that does not match it. Run again, the study resumes: the trials
still to do are those the budget (``trials=``) has not spent. A trial counts once it is complete,
pruned or failed for a reason of its own; one cut short by Ctrl-C, or by a process that died
(SIGKILL), does not count and is done again.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import socket
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import NndslCheckError, NndslError, UsageError
from ..semantics.check import CheckedStep
from ..semantics.evaluate import is_number, render_value
from ..semantics.spaces import Space
from .runner import RunState

INSTALL = 'pip install "nndsl[tune]"'
SEARCH_OPTIONS = ("trials", "objective", "direction", "timeout", "sampler", "pruner")
"""The options ``tune`` adds to ``train``'s."""

HEARTBEAT_SECONDS = 30  # a trial of a process on another host that stops beating this long ...
GRACE_SECONDS = 120  # ... and then this long is failed, and done again by whoever comes next


@dataclass(frozen=True)
class TuneOptions:
    """How the command line runs a search: where the study is kept, how many processes share it.

    Attributes:
        storage: an Optuna storage URL; None for ``FILE.tune.db`` beside the ``.nn`` file.
        workers: processes on this machine, this one included.
        fresh: delete the study first and start the search over.
        worker_index: 0 for the process the user started; 1.. for those it started.
        plugins: the ``--plugin`` modules of the command line, imported by every worker too.
    """

    storage: str | None = None
    workers: int = 1
    fresh: bool = False
    worker_index: int = 0
    plugins: tuple[str, ...] = ()



# ---------------------------------------------------------------- spaces and Optuna


def suggest(trial, space: Space):
    """The value of ``space`` for an Optuna ``trial`` (any object with Optuna's ``suggest_*`` methods).

    A choice of numbers is a categorical of those numbers; any other choice (names, strings,
    tuples, calls) is a categorical of the options written in ``.nn`` syntax, which is what
    Optuna stores and plots and what ``--set`` takes.
    """
    name = space.variable
    if space.kind == "choice":
        if all(is_number(o) for o in space.options):
            return trial.suggest_categorical(name, list(space.options))
        texts = [render_value(o) for o in space.options]
        return space.options[texts.index(trial.suggest_categorical(name, texts))]
    if space.kind == "integer":
        return trial.suggest_int(name, space.low, space.top, step=space.step)
    return trial.suggest_float(name, space.low, space.high, log=space.kind == "loguniform")


def grid_of(space: Space) -> list:
    """Every value of a choice or an integer range, as :func:`suggest` gives them to Optuna."""
    if space.kind == "choice":
        if all(is_number(o) for o in space.options):
            return list(space.options)
        return [render_value(o) for o in space.options]
    return list(range(space.low, space.top + 1, space.step))


def optuna_for(state: RunState, step: CheckedStep):
    """Optuna, quiet; a located error with the install command when it is missing."""
    try:
        import optuna
    except ImportError:
        raise state.error("expected Optuna for the 'tune' step; received a Python without it", step,
                          span=step.node.verb_span, hint=f"install it: {INSTALL}") from None
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    return optuna


def shown_url(url: str) -> str:
    """A storage URL as messages and the run record show it: without its password."""
    return re.sub(r"(//[^:/@]*:)[^@/]*@", r"\1***@", url)


# ---------------------------------------------------------------- the search


@dataclass
class Search:
    """One ``tune`` step's search: its options, spaces and study."""

    state: RunState
    step: CheckedStep
    spaces: dict[str, Space]
    trials: int
    objective: str
    direction: str
    timeout: float | None
    sampler: str
    pruner: str
    options: TuneOptions
    study: Any = None
    storage_url: str = ""
    study_name: str = ""
    seen: set = field(default_factory=set)
    runs: Any = None  # tracking's TrialRuns: each trial a nested MLflow run (track mlflow), or None

    @classmethod
    def of(cls, state: RunState, step: CheckedStep, options: TuneOptions) -> Search:
        kw = step.kwargs
        validation = kw.get("validation_split") or kw.get("validation_data") is not None
        return cls(state, step, dict(state.checked.spaces), trials=kw.get("trials") or 20,
                   objective=str(kw.get("objective") or ("val_loss" if validation else "loss")),
                   direction=str(kw.get("direction") or "minimize"), timeout=kw.get("timeout"),
                   sampler=str(kw.get("sampler") or "tpe"),
                   pruner="none" if "pruner" in kw and kw["pruner"] is None else str(kw.get("pruner") or "median"), options=options)

    # ------------------------------------------------------------ the study
    def fingerprint(self) -> str:
        """What makes two searches the same one: the spaces, the objective, the model, its data and training options.

        Made from values as the checks evaluated them (the spaces at their defaults), so a
        ``--set`` that changes only the budget (``trials=``) resumes the same study, and one that
        changes the model or its training starts another.
        """
        checked = self.state.checked
        model = checked.models.get(self.step.target)
        layers = [[layer.name, render_value(layer.args), render_value(layer.kwargs)] for layer in model.layers] if model else []
        properties = {k: render_value(v[0]) for k, v in sorted(model.properties.items())} if model else {}
        on = self.step.on
        data = checked.data.get(str(on)) if not hasattr(on, "decl") else on
        train = {k: render_value(v) for k, v in sorted(self.step.kwargs.items()) if k not in SEARCH_OPTIONS and k != "progress"}
        what = {"model": self.step.target, "layers": layers, "properties": properties,
                "data": [data.spec.name, render_value(data.args)] if data is not None else str(on),
                "spaces": {n: s.describe() for n, s in sorted(self.spaces.items())},
                "objective": self.objective, "direction": self.direction, "train": train, "seed": self.state.seed}
        return hashlib.sha256(json.dumps(what, sort_keys=True, default=str).encode()).hexdigest()[:12]

    def open(self, optuna) -> None:
        """Create the study, or load it to resume; with ``--fresh``, delete it first."""
        nn_file = self.state.nn_file
        self.storage_url = self.options.storage or f"sqlite:///{nn_file.resolve().with_suffix('.tune.db')}"
        self.study_name = f"{nn_file.stem}-{self.step.target}-{self.fingerprint()}"
        try:
            storage = self._storage(optuna)
            if self.options.fresh and self.options.worker_index == 0:
                try:
                    optuna.delete_study(study_name=self.study_name, storage=storage)
                except KeyError:
                    pass  # nothing to delete
            self.study = optuna.create_study(study_name=self.study_name, storage=storage, load_if_exists=True,
                                             direction=self.direction, pruner=self._pruner(optuna))
        except Exception as exc:  # noqa: BLE001 -- Optuna and its database drivers raise many kinds for a storage that fails
            url = self.storage_url
            reason = str(exc).replace(url, shown_url(url)).splitlines()[0] if str(exc) else ""
            raise UsageError(f"--storage: expected an Optuna storage that opens; received {shown_url(url)!r} "
                             f"({type(exc).__name__}: {reason})") from None
        # Seeded by the seed, this process's place among the workers and the trials already made: a
        # resumed search or another worker draws new values, not the first process's again.
        self.study.sampler = self._sampler(optuna, len(self.study.get_trials(deepcopy=False)))
        self.study.set_user_attr("program", self.state.nn_file.name)

    def _storage(self, optuna):
        url = self.storage_url
        if url.startswith(("sqlite:", "postgresql", "mysql")):
            engine = {"connect_args": {"timeout": 60}} if url.startswith("sqlite:") else {}
            for attempt in range(3):
                try:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")  # heartbeats are marked experimental in Optuna 4 and 5
                        return optuna.storages.RDBStorage(url, engine_kwargs=engine, heartbeat_interval=HEARTBEAT_SECONDS,
                                                          grace_period=GRACE_SECONDS)
                except Exception as exc:  # noqa: BLE001 -- the driver's own IntegrityError class
                    # two workers opening a new database at once both create its tables: the
                    # second finds them made while it was writing; opening again finds them made
                    if type(exc).__name__ != "IntegrityError" or attempt == 2:
                        raise
                    time.sleep(0.2 * (attempt + 1))
        if url.startswith("journal:"):
            path = url.removeprefix("journal:").removeprefix("//")
            return optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(str(self.state.path(path))))
        return optuna.storages.get_storage(url)  # any other storage Optuna opens by URL

    def _sampler(self, optuna, made: int):
        seed = None if self.state.seed is None else int(self.state.seed) + 1_000_003 * self.options.worker_index + made
        if self.sampler == "random":
            return optuna.samplers.RandomSampler(seed=seed)
        if self.sampler == "grid":
            return optuna.samplers.GridSampler({n: grid_of(s) for n, s in self.spaces.items()}, seed=seed)
        return optuna.samplers.TPESampler(seed=seed)

    def _pruner(self, optuna):
        if self.pruner == "none":
            return optuna.pruners.NopPruner()
        if self.pruner == "hyperband":
            return optuna.pruners.HyperbandPruner(min_resource=1, max_resource=self.step.kwargs.get("epochs") or 1)
        return optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=1)

    # ------------------------------------------------------------ the budget
    def counted(self) -> list:
        """The trials that spend the budget: complete, pruned, or failed for a reason of their own."""
        from optuna.trial import TrialState

        return [t for t in self.study.get_trials(deepcopy=False)
                if t.state in (TrialState.COMPLETE, TrialState.PRUNED)
                or (t.state == TrialState.FAIL and "failure" in t.user_attrs)]

    def release_dead_trials(self) -> None:
        """Fail the running trials of processes of this host that no longer exist (a SIGKILL): they are done again."""
        from optuna.trial import TrialState

        host = socket.gethostname()
        for t in self.study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
            owner = t.user_attrs.get("process") or {}
            if owner.get("host") == host and owner.get("pid") != os.getpid() and not _alive(owner.get("pid")):
                try:
                    self.study._storage.set_trial_state_values(t._trial_id, state=TrialState.FAIL)
                except Exception:  # noqa: BLE001 -- another process released it first
                    pass

    # ------------------------------------------------------------ trials
    def run(self, optuna, table) -> None:
        """Trials until the budget is spent (or ``timeout`` seconds have passed in this process)."""
        self.release_dead_trials()

        def enough(study, trial) -> None:
            table.update(self)
            if len(self.counted()) >= self.trials:
                study.stop()

        if len(self.counted()) >= self.trials:
            return
        self.study.optimize(self.objective_of, timeout=self.timeout, callbacks=[enough], catch=())

    def objective_of(self, trial) -> float:
        """One trial: its values, its program checked with them, the model trained; the objective returned."""
        import optuna

        trial.set_user_attr("process", {"host": socket.gethostname(), "pid": os.getpid()})
        started = time.perf_counter()
        values = {name: suggest(trial, space) for name, space in self.spaces.items()}
        texts = {name: self.spaces[name].text(v) for name, v in values.items()}
        trial.set_user_attr("set", texts)
        run = self.runs.start(trial.number, texts, self.objective) if self.runs is not None else None
        try:
            value, epochs = self.train_trial(trial, texts, run)
        except optuna.TrialPruned:
            trial.set_user_attr("seconds", round(time.perf_counter() - started, 3))
            _end(run, "pruned")
            raise
        except TrialFailed as failure:
            trial.set_user_attr("failure", failure.reason)
            trial.set_user_attr("seconds", round(time.perf_counter() - started, 3))
            _end(run, "failed", reason=failure.reason)
            return float("nan")  # Optuna records a NaN objective as a failed trial
        except BaseException as exc:  # Ctrl-C, or a mistake that ends the run (an unknown objective)
            _end(run, "failed" if isinstance(exc, NndslError) else "interrupted")
            raise
        trial.set_user_attr("seconds", round(time.perf_counter() - started, 3))
        trial.set_user_attr("epochs", epochs)
        if not math.isfinite(value):
            trial.set_user_attr("failure", f"{self.objective} was {value}")
            _end(run, "failed", reason=f"{self.objective} was {value}")
            return float("nan")
        _end(run, "complete", value=value)
        return value

    def train_trial(self, trial, texts: dict[str, str], run=None) -> tuple[float, int]:
        """Train the model with one trial's values; its last ``objective`` and the epochs it ran.

        ``run``, the trial's nested MLflow run (or None), gets each epoch's metrics.
        """
        import optuna

        from ..semantics.check import check
        from .interrupt import Interrupted

        state = self.state
        overrides = {**(state.record.data.get("overrides") or {}), **texts}
        try:
            checked = check(state.checked.program, overrides=overrides, max_params=state.checked.max_params,
                            grants=state.checked.grants, nn_file=state.checked.nn_file)
        except NndslCheckError as exc:
            raise TrialFailed(_first_line(exc)) from None
        step = next(s for s in checked.steps if s.node is self.step.node)
        trial_state = _trial_state(state, checked)
        pruning = _PruningCallback(trial, self.objective)
        # without a pruner nothing reads the objective between epochs: not storing it saves a write
        # to the study per epoch (a transaction each, in a database)
        if self.pruner != "none":
            trial_state.train_callbacks.append(lambda _model: pruning.callback())
        if run is not None:
            trial_state.train_callbacks.append(run.callback)
        reseed(state)
        try:
            train_step(trial_state, step)
        except Interrupted:
            raise  # Ctrl-C: the search stops, and this trial is done again next time
        except NndslError as exc:
            raise TrialFailed(_first_line(exc)) from None
        except Exception as exc:  # noqa: BLE001 -- Keras refusing some values is a failed trial, not a failed search
            raise TrialFailed(f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}".rstrip(": ")) from None
        finally:
            ckpt = _checkpoint_of(trial_state)
            if ckpt.exists():
                ckpt.unlink()
        history = trial_state.models[step.target].history
        if self.objective not in history:
            raise state.error(
                f"expected objective to be a metric the training logs ({', '.join(history) or 'none'}); received '{self.objective}'",
                self.step, code="bad-argument", span=_option_span(self.step, "objective"),
                hint="metrics with val_ need validation data: validation_split=0.2" if self.objective.startswith("val_") else None)
        if pruning.pruned:
            trial.set_user_attr("epochs", len(history[self.objective]))
            raise optuna.TrialPruned()
        return float(history[self.objective][-1]), len(history[self.objective])


class TrialFailed(Exception):
    """A trial that could not be trained with its values; ``reason`` is recorded with it."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _PruningCallback:
    """Reports the objective to Optuna after each epoch; stops training when the trial should be pruned."""

    def __init__(self, trial, objective: str) -> None:
        self.trial = trial
        self.objective = objective
        self.pruned = False

    def callback(self):
        import keras

        owner = self

        class Pruning(keras.callbacks.Callback):
            def on_epoch_end(self, epoch, logs=None):
                value = (logs or {}).get(owner.objective)
                if value is None or not math.isfinite(float(value)):
                    return
                owner.trial.report(float(value), epoch)
                if owner.trial.should_prune():
                    owner.pruned = True
                    self.model.stop_training = True

        return Pruning()


def _end(run, state: str, *, value: float | None = None, reason: str | None = None) -> None:
    if run is not None:
        run.end(state, value=value, reason=reason)


def _first_line(exc: Exception) -> str:
    diagnostics = getattr(exc, "diagnostics", None)
    if diagnostics:
        d = diagnostics[0]
        where = f"line {d.span.line}: " if d.span is not None else ""
        return f"{where}{d.message} [{d.code}]"
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def _option_span(step: CheckedStep, name: str):
    node = next((k for k in step.node.kwargs if k.name == name), None)
    return node.span if node is not None else step.node.span


def _alive(pid) -> bool:
    if not isinstance(pid, int):
        return True  # not ours to judge
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def reseed(state: RunState) -> None:
    """The seed set again, so each trial (and the final training) starts where a fresh run would."""
    if state.seed is not None:
        from ..compile.keras import set_random_seed

        set_random_seed(int(state.seed))


def _trial_state(state: RunState, checked) -> RunState:
    """A silent run state for one trial, sharing the data the run has loaded."""
    from .record import RunRecord

    # a Ctrl-C during a trial writes train's resume checkpoint beside nn_file: a temporary folder's
    nn_file = Path(tempfile.gettempdir()) / f"nndsl-trial-{os.getpid()}.nn"
    trial = RunState(checked, base_dir=state.base_dir, out=state.out, err=state.err, progress="none",
                     record=RunRecord("", str(state.nn_file), state.seed, {}), verbose=state.verbose, nn_file=nn_file,
                     backend=state.backend, data_seed=state.data_seed)
    trial.datasets = state.datasets
    trial.stop = state.stop
    return trial


def _checkpoint_of(state: RunState) -> Path:
    from .interrupt import checkpoint_path

    return checkpoint_path(state.nn_file)


def train_step(state: RunState, step: CheckedStep) -> None:
    """Run ``train`` for a ``tune`` step: the same model, data and options, without the search's."""
    from dataclasses import replace

    from ..plugins.registry import registry
    from .steps import train

    spec = registry("steps").get("train")
    kwargs = {k: v for k, v in step.kwargs.items() if k not in SEARCH_OPTIONS}
    train(state, replace(step, spec=spec, kwargs=kwargs))


def best_trial(search: Search):
    """The study's best complete trial, or None."""
    try:
        return search.study.best_trial
    except ValueError:  # no complete trial
        return None

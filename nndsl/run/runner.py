"""``run(file)``: executes a checked program's steps in file order.

The :class:`RunState` is what every step (built-in or plugin) receives: loaded data sets,
built models, the output streams and the run record. Keras is imported when a run starts.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from ..errors import Diagnostic, RunError
from ..paths import DEFAULT_GRANTS, Grants
from ..plugins.spec import load_impl
from ..semantics.check import CheckedData, CheckedModel, CheckedProgram, CheckedStep
from .progress import Events, choose_mode
from .record import RunRecord


@dataclass
class ModelState:
    """A model during a run: the Keras model it trains, and the preprocessing fitted for it."""

    name: str
    checked: CheckedModel | None
    keras_model: Any = None
    feature_scaler: Any = None
    target_scaler: Any = None
    trained: bool = False
    loaded: bool = False
    history: dict = field(default_factory=dict)
    epoch_seconds: list = field(default_factory=list)
    schema: Any = None  # how it takes a table (nndsl.data.schema.TableSchema), fitted on the training data
    target_names: list = field(default_factory=list)
    feature_names: list = field(default_factory=list)  # the training data's feature columns, before encoding
    class_names: list = field(default_factory=list)  # the classes of a folder source it was trained on
    reported_epoch: int | None = None  # index into the history of the weights kept, when not the last epoch's
    _export: Any = None

    def export_model(self):
        """The model as saved: raw features in, raw targets out (target scaling undone by a layer)."""
        if self.target_scaler is None:
            return self.keras_model
        if self._export is None:
            import keras

            km = self.keras_model
            self._export = keras.Sequential([keras.Input(shape=km.input_shape[1:]), *km.layers, self.target_scaler.layer(invert=True)],
                                            name=km.name)
            if self.checked is not None and self.checked.compile.get("loss") is not None:
                from ..compile.keras import compile_arguments

                self._export.compile(**compile_arguments(self.checked))
        return self._export


class RunState:
    """Everything a step can use. Plugin steps receive it too: ``def my_step(state, step): ...``."""

    def __init__(self, checked: CheckedProgram, *, base_dir: Path, out: TextIO, err: TextIO, progress: str | None,
                 record: RunRecord, verbose: bool = False, nn_file: Path = Path("program.nn"), backend: str = "tensorflow",
                 data_seed=None, group=None, strategy=None, watchdog=None, resume: dict | None = None, gate=None,
                 tune_options=None, memory_budget: int | None = None) -> None:
        from .gate import Gate

        self.checked = checked
        self.base_dir = base_dir
        # every write of a step or callback goes through the gate (the path rules, docs/security.md)
        self.gate = gate if gate is not None else Gate.for_program(checked, base=base_dir)
        self.out = out
        self.err = err
        self.verbose = verbose
        mode = choose_mode(progress, out)
        console = None
        if mode == "rich":
            from rich.console import Console

            # asked for by name: render even when the stream does not look like a terminal
            console = Console(file=out, force_terminal=True if progress == "rich" else None)
        self.console = console
        self.events = Events(mode, out, console)
        self.record = record
        self.models: dict[str, ModelState] = {}
        self.datasets: dict[str, Any] = {}
        self.results: dict[str, dict] = {}
        self.evaluations: dict[str, Any] = {}  # "model:data" -> the test step's Evaluation (run/evaluation.py)
        self.train_callbacks: list = []  # model name -> a Keras callback, added to every train step (tracking, tune's pruning)
        self.tracker = None  # run/tracking.py's, while the run is tracked
        self.saved_targets: dict[str, list] = {}
        self.encoded: dict[str, dict] = {}  # model -> id(data set) -> encoded data set
        # (model, id(data set)) -> the data set with its columns in the model's order; kept, so the
        # encoded cache (keyed by id) never meets an id reused by a data set made and dropped
        self.by_name: dict[tuple, Any] = {}
        from .interrupt import StopFlag

        self.stop = StopFlag()
        self.step_index = -1
        self.resume = resume  # where an interrupted run stopped (--resume), or None
        self.nn_file = nn_file
        self.seed = checked.settings.get("seed")
        self.data_seed = self.seed if data_seed is None else data_seed  # the seed of shuffling; a multi-process group agrees on one
        self.backend = backend
        self.group = group  # a multi-process run's Group, or None
        self.strategy = strategy  # tf.distribute.MirroredStrategy with `distribute mirrored` on TensorFlow
        self.watchdog = watchdog  # a multi-process run's distributed.Watchdog, or None
        from ..data.budget import default_budget

        # tables estimated larger stream in record batches (nndsl.data.stream): the command line's, the file's, the machine's
        self.memory_budget = memory_budget or checked.settings.get("memory_budget") or default_budget()
        self.tune_options = tune_options  # how tune steps keep and share their studies (nndsl.run.search.TuneOptions), or None

    @property
    def chief(self) -> bool:
        """Whether this process writes files and shows progress (always, unless one of a group)."""
        return self.group is None or self.group.chief

    def scope(self):
        """Where models are built: inside the distribution strategy's scope when there is one."""
        import contextlib

        return self.strategy.scope() if self.strategy is not None else contextlib.nullcontext()

    def watching(self, what: str):
        """A collective phase (training, evaluation): a peer that stops answering ends the run clearly."""
        import contextlib

        return self.watchdog.watching(what) if self.watchdog is not None else contextlib.nullcontext()

    def barrier(self, what: str) -> None:
        """Every process of the group waits here for the others."""
        from jax.experimental import multihost_utils

        with self.watching(f"waiting for process 0 to finish {what}"):
            multihost_utils.sync_global_devices(what)

    @property
    def source(self):
        return self.checked.source

    # ------------------------------------------------------------ paths, data, models
    def path(self, value: str) -> Path:
        """A path written in the .nn file, relative to the file's folder."""
        p = Path(value)
        return p if p.is_absolute() else (self.base_dir / p)

    def data(self, ref) -> Any:
        """The data set for a data name (or an inline data source), loaded once."""
        if isinstance(ref, CheckedData):
            return self._load(ref.decl.name, ref)
        name = str(ref)
        if name not in self.datasets:
            self._load(name, self.checked.data[name])
        return self.datasets[name]

    def _load(self, name: str, cd: CheckedData):
        spec = cd.spec
        loader = load_impl(spec.impl)
        kwargs: dict[str, Any] = dict(name=name, base=self.base_dir, decl=cd.decl, source=self.source)
        import inspect

        params = inspect.signature(loader).parameters
        if "resolve" in params:
            kwargs["resolve"] = self.data
        if "seed" in params:
            kwargs["seed"] = self.seed
        if "memory_budget" in params:
            kwargs["memory_budget"] = self.memory_budget
        ds = loader(cd.args, **kwargs)
        if getattr(ds, "stream", None) is not None:
            from ..data.stream import over_budget_line

            self.events.line(over_budget_line(ds))
        if ds.dropped:
            from ..data.missing import dropped_line

            self.events.line(dropped_line(ds))
        self.datasets[name] = ds
        self.record.data["data"][name] = {"source": spec.name, "path": str(ds.path) if ds.path else None,
                                          "rows": ds.rows, "fingerprint": ds.fingerprint,
                                          **({"streamed": True} if getattr(ds, "stream", None) is not None else {})}
        return ds

    def model(self, name: str) -> ModelState:
        if name not in self.models:
            self.models[name] = ModelState(name, self.checked.models.get(name))
        return self.models[name]

    def error(self, message: str, step: CheckedStep | None = None, *, hint: str | None = None, notes=(), code: str = "run-error",
              span=None) -> RunError:
        """A located run-time error for a user mistake (pointing at the step by default)."""
        if span is None and step is not None:
            span = step.node.span
        return RunError(diagnostics=[Diagnostic(code=code, message=message, span=span, source=self.source, hint=hint, notes=tuple(notes))])


# In a multi-process run, steps that only show or draw things run on process 0 alone. Every
# other step runs on all processes, since Keras's work on shared weights is collective, but
# only process 0 writes files; after a `save` the others wait for it (a later `load` reads it).
CHIEF_ONLY = frozenset({"plot", "summary"})
WAIT_AFTER = frozenset({"save"})


def _refuse_unshared_batches(checked, processes: int) -> None:
    """A ``train`` step whose batches the processes of a group cannot share equally, refused before
    any process starts its backend, not after every process has imported JAX and Keras and joined
    the group (each process trains an equal share of every batch: see steps._shared_batches)."""
    from .defaults import batch_size_of

    for step in checked.steps:
        if step.verb != "train":
            continue
        batch = batch_size_of(step.kwargs)
        if batch % processes:
            raise RunError(diagnostics=[Diagnostic(
                code="bad-argument", span=step.node.span, source=checked.source,
                message=f"expected a batch_size divisible by the {processes} processes of the run; received batch_size={batch}",
                hint=f"each process takes an equal share of every batch: try batch_size={max(processes, batch // processes * processes)}")])


def run(file, *, overrides: dict[str, str] | None = None, out: TextIO | None = None, err: TextIO | None = None,
        progress: str | None = None, verbose: bool = False, record_path: Path | None = None, max_params: int | None = None,
        resume: bool = False, backend: str | None = None, group=None, base_dir: Path | None = None, track: str | None = None,
        tracking_uri: str | None = None, grants: Grants | None = None, tune=None, memory_budget: int | None = None) -> RunState:
    """Parse, check and run a ``.nn`` file; returns the final state (metrics in ``state.results``).

    Args:
        backend: ``"tensorflow"`` or ``"jax"``; overrides the file's ``backend`` setting.
        group: a :class:`nndsl.run.distributed.Group` to train as one process of several (JAX).
        base_dir: the folder the program's relative paths are read from and written to
            (default: the file's folder; a notebook cell's program uses the notebook's).
        track: ``"mlflow"``, ``"tensorboard"`` or ``"none"``; overrides the file's ``track`` setting.
        tracking_uri: the MLflow store or server (default: ``mlruns/`` beside the file).
        grants: what the command line allows beyond the defaults (``--allow-write``,
            ``--allow-network``); by default nothing (docs/security.md).
        tune: a :class:`nndsl.run.search.TuneOptions`: where ``tune`` steps keep their studies, how many
            processes search.
        memory_budget: bytes; a table estimated larger streams in record batches (overrides the
            file's ``memory_budget`` setting; default a quarter of the machine's memory).

    Raises:
        NndslError: for every user mistake, located.
    """
    from ..formatter import format_program
    from ..semantics.check import check
    from ..syntax.parser import parse_file
    from .interrupt import checkpoint_path

    out = out or sys.stdout
    err = err or sys.stderr
    path = Path(file)
    program = parse_file(path)
    # the path rules hold at check time against the .nn file's folder; a program whose paths are
    # relative to another folder (a notebook's) is held to them by the gate, at run time
    checked = check(program, overrides=overrides, max_params=max_params, grants=grants or DEFAULT_GRANTS,
                    nn_file=path if base_dir is None else None)
    if group is not None:
        _refuse_unshared_batches(checked, group.num_processes)
    name = _start_backend(checked, backend, group, verbose)
    data_seed = _seed(checked, name, group)
    seed = checked.settings.get("seed")
    record = RunRecord(_resolved_text(program, overrides, format_program), str(path), seed, dict(overrides or {}))
    record.data["backend"] = name
    ckpt = checkpoint_path(path)
    chief = group is None or group.chief
    base = Path(base_dir).resolve() if base_dir is not None else path.resolve().parent
    state = RunState(checked, base_dir=base, out=out, err=err, progress=progress if chief else "none", record=record,
                     verbose=verbose, nn_file=path, backend=name, data_seed=data_seed, group=group, strategy=_strategy(checked, name),
                     watchdog=_watchdog(group), resume=_read_resume(ckpt, path) if resume else None,
                     tune_options=tune, memory_budget=memory_budget)
    if state.resume is not None:
        _check_resume_step(checked, state.resume, ckpt)
    _describe_distribution(state, checked.settings.get("distribute"))
    _say_space_defaults(state)
    from .history import outcome
    from .tracking import begin

    tracker = begin(state, program, track, tracking_uri) if state.chief else None
    state.tracker = tracker  # a tune step logs its trials as nested runs of it
    # --record PATH is relative to where nndsl runs; the default sits next to the .nn file
    record_file = Path(record_path).resolve() if record_path else path.resolve().with_suffix(".run.json")
    try:
        _run_steps(state)
    except BaseException as exc:
        record.finish(outcome(exc))  # failed, or interrupted by Ctrl-C
        raise
    finally:
        _close(state, record_file, tracker)
    if state.chief and state.resume is not None and ckpt.exists():
        ckpt.unlink()  # the run it resumed is finished: nothing left to resume (a checkpoint it did not use stays)
    if state.chief:
        from .report import final_table

        final_table(state)
    return state


def _start_backend(checked: CheckedProgram, backend: str | None, group, verbose: bool) -> str:
    """Choose the backend, activate it and import Keras on it; returns its name."""
    from .backend import activate, choose
    from .quiet import prepare

    if group is not None and backend is None and not checked.settings.get("backend"):
        backend = "jax"  # several processes train through keras.distribution, on JAX
    name = choose(checked, backend)
    if group is not None and name != "jax":
        from ..errors import UsageError

        raise UsageError(f"--num-processes: expected the jax backend for a multi-process run; received {name} "
                         "(TensorFlow's multi-worker training does not work with Keras 3's fit); use --backend jax")
    activate(name, checked, from_cli=backend is not None)
    prepare(verbose)  # imports Keras on the chosen backend
    return name


def _seed(checked: CheckedProgram, backend: str, group):
    """Seed Python, NumPy and the backend with the file's seed, and join the group or share out
    the local devices; returns the seed of shuffling (a group agrees on one)."""
    seed = checked.settings.get("seed")
    if seed is not None:
        from ..compile.keras import set_random_seed

        set_random_seed(int(seed))
    if group is not None:
        from .distributed import join

        return join(group, seed)
    if checked.settings.get("distribute") == "mirrored" and backend == "jax":
        from .distributed import local_data_parallel

        local_data_parallel()
    return seed


def _strategy(checked: CheckedProgram, backend: str):
    """TensorFlow's MirroredStrategy for ``distribute mirrored`` on TensorFlow, else None."""
    if checked.settings.get("distribute") == "mirrored" and backend == "tensorflow":
        import tensorflow as tf

        return tf.distribute.MirroredStrategy()
    return None


def _watchdog(group):
    """For one process of a group: what ends the run clearly when a peer stops answering."""
    if group is None:
        return None
    from .distributed import Watchdog

    return Watchdog(group)


def _run_steps(state: RunState) -> None:
    """The steps in file order (on process 0 alone for those that only show things)."""
    group = state.group
    for index, step in enumerate(state.checked.steps):
        state.step_index = index
        fn = load_impl(step.spec.impl)
        state.events.emit("step_begin", step=step.verb, model=step.target, line=step.node.span.line)
        if state.chief or step.verb not in CHIEF_ONLY:
            try:
                fn(state, step)
            except Exception as exc:
                from .distributed import die_lost, lost_peer

                if group is not None and lost_peer(exc):
                    die_lost(group, f"'{step.verb}' at line {step.node.span.line}", exc)
                raise
        if group is not None and step.verb in WAIT_AFTER:
            state.barrier(f"{step.verb} at line {step.node.span.line}")
        state.events.emit("step_end", step=step.verb, model=step.target)


def _close(state: RunState, record_file: Path, tracker=None) -> None:
    """However the steps ended: stop the watchdog, and (on process 0) keep the run in the history,
    write the run record and finish tracking."""
    if state.watchdog is not None:
        state.watchdog.close()
    if not state.chief:
        return
    record = state.record
    record.data["history"] = {n: m.history for n, m in state.models.items() if m.history}
    record.data["epoch_seconds"] = {n: m.epoch_seconds for n, m in state.models.items() if m.epoch_seconds}
    record.data["metrics"] = state.results
    record.finish("finished")
    try:
        record.keep(state.nn_file, state.base_dir)  # runs/STEM-N beside the .nn file; the record below stays the latest
    except OSError as exc:
        state.err.write(f"warning: could not keep the run in the history: {exc.strerror or exc}\n")
    try:
        record.write(record_file)
    except OSError as exc:
        state.err.write(f"warning: could not write the run record {record_file}: {exc.strerror or exc}\n")
    if tracker is not None:
        tracker.finish(state, record.data["status"])


def _say_space_defaults(state: RunState) -> None:
    """Search spaces without a ``tune`` step: the run uses each space's default, and says which."""
    spaces = state.checked.spaces
    if not spaces or any(step.verb == "tune" for step in state.checked.steps):
        return
    values = ", ".join(f"{name}={space.text(space.default)}" for name, space in spaces.items())
    state.events.line(f"search spaces without a tune step: running with their defaults {values}")
    state.record.data["space_defaults"] = {name: space.text(space.default) for name, space in spaces.items()}


def _describe_distribution(state: RunState, distribute) -> None:
    """Say (and record) where training runs, when it is more than one device of one process."""
    if state.group is None and distribute != "mirrored":
        return
    if state.strategy is not None:
        devices = int(state.strategy.num_replicas_in_sync)
    else:
        import jax

        devices = jax.device_count() if state.group is not None else len(jax.local_devices())
    info = {"devices": devices}
    if state.group is not None:
        info["processes"] = state.group.num_processes
        state.events.line(f"training as {state.group.num_processes} processes, {devices} devices in all")
    else:
        info["mirrored"] = True
        state.events.line(f"distribute mirrored: {devices} device{'s' if devices != 1 else ''}"
                          + (" (with one device it only adds overhead)" if devices == 1 else ""))
    state.record.data["distribute"] = info


def _read_resume(ckpt: Path, nn_file: Path) -> dict:
    from ..errors import UsageError
    from .modelmeta import read

    if not ckpt.is_file():
        raise UsageError(f"--resume: expected a checkpoint {ckpt.name} from an interrupted run of {nn_file.name}; received none")
    meta = read(ckpt)
    resume = meta.get("resume")
    if not resume:
        raise UsageError(f"--resume: expected {ckpt.name} to be an nndsl resume checkpoint; received a file without its metadata")
    return {**resume, "path": str(ckpt), "table": meta.get("table"), "target_names": meta.get("target_names"),
            "feature_names": meta.get("feature_names")}


def _check_resume_step(checked: CheckedProgram, resume: dict, ckpt: Path) -> None:
    """The step the checkpoint stopped in is still a ``train`` of the same model: otherwise the
    run would start from scratch and then delete the checkpoint as if it had resumed it."""
    from ..errors import UsageError

    i, model = resume.get("step"), resume.get("model")
    steps = checked.steps
    if isinstance(i, int) and 0 <= i < len(steps) and steps[i].spec.trains and steps[i].target == model:
        return
    raise UsageError(f"--resume: expected the program whose run {ckpt.name} interrupted (step {i + 1 if isinstance(i, int) else '?'}: "
                     f"train {model}); received a program whose steps changed; run without --resume to start again")


def _resolved_text(program, overrides, format_program) -> str:
    """The program as run: formatted, with --set values written into the let lines."""
    if not overrides:
        return format_program(program)
    from dataclasses import replace

    from .. import ast
    from ..syntax.parser import parse

    stmts = []
    for s in program.statements:
        if isinstance(s, ast.Let) and s.name in overrides:
            value = parse(f"let {s.name} = {overrides[s.name]}").statements[0].value
            s = replace(s, value=value)
        stmts.append(s)
    return format_program(replace(program, statements=tuple(stmts), comments=()))

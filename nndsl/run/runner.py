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
    vocab: dict | None = None  # categories of categorical columns, fitted on the training data
    target_names: list = field(default_factory=list)
    _export: Any = None

    def export_model(self):
        """The model as saved: raw features in, raw targets out (target scaling undone by a layer)."""
        if self.target_scaler is None:
            return self.keras_model
        if self._export is None:
            import keras

            km = self.keras_model
            self._export = keras.Sequential([keras.Input(shape=km.input_shape[1:]), *km.layers, self.target_scaler.layer(invert=True)], name=km.name)
            if self.checked is not None and self.checked.compile.get("loss") is not None:
                from ..compile.keras import compile_arguments

                self._export.compile(**compile_arguments(self.checked))
        return self._export


class RunState:
    """Everything a step can use. Plugin steps receive it too: ``def my_step(state, step): ...``."""

    def __init__(self, checked: CheckedProgram, *, base_dir: Path, out: TextIO, err: TextIO, progress: str | None,
                 record: RunRecord, verbose: bool = False) -> None:
        self.checked = checked
        self.base_dir = base_dir
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
        self.saved_targets: dict[str, list] = {}
        self.encoded: dict[str, dict] = {}  # model -> id(data set) -> encoded data set
        from .interrupt import StopFlag

        self.stop = StopFlag()
        self.step_index = -1
        self.resume: dict | None = None
        self.nn_file = Path("program.nn")
        self.seed = checked.settings.get("seed")
        self.data_seed = self.seed  # the seed of shuffling; a multi-process group agrees on one
        self.backend = "tensorflow"
        self.group = None  # a multi-process run's Group, or None
        self.strategy = None  # tf.distribute.MirroredStrategy with `distribute mirrored` on TensorFlow
        self.watchdog = None
        self.extra_callbacks: list = []  # more Keras callbacks for the train step (the tune step's pruning)
        self.tune_options = None  # how the tune step keeps and shares its study (nndsl.run.tune.TuneOptions)

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
        ds = loader(cd.args, **kwargs)
        self.datasets[name] = ds
        self.record.data["data"][name] = {"source": spec.name, "path": str(ds.path) if ds.path else None,
                                          "rows": ds.rows, "fingerprint": ds.fingerprint}
        return ds

    def model(self, name: str) -> ModelState:
        if name not in self.models:
            self.models[name] = ModelState(name, self.checked.models.get(name))
        return self.models[name]

    def error(self, message: str, step: CheckedStep | None = None, *, hint: str | None = None, notes=(), code: str = "run-error", span=None) -> RunError:
        """A located run-time error for a user mistake (pointing at the step by default)."""
        if span is None and step is not None:
            span = step.node.span
        return RunError(diagnostics=[Diagnostic(code=code, message=message, span=span, source=self.source, hint=hint, notes=tuple(notes))])


# In a multi-process run, steps that only show or draw things run on process 0 alone. Every
# other step runs on all processes, since Keras's work on shared weights is collective, but
# only process 0 writes files; after a `save` the others wait for it (a later `load` reads it).
CHIEF_ONLY = frozenset({"plot", "summary"})
WAIT_AFTER = frozenset({"save"})


def run(file, *, overrides: dict[str, str] | None = None, out: TextIO | None = None, err: TextIO | None = None,
        progress: str | None = None, verbose: bool = False, record_path: Path | None = None, max_params: int | None = None,
        resume: bool = False, backend: str | None = None, group=None, tune=None) -> RunState:
    """Parse, check and run a ``.nn`` file; returns the final state (metrics in ``state.results``).

    Args:
        backend: ``"tensorflow"`` or ``"jax"``; overrides the file's ``backend`` setting.
        group: a :class:`nndsl.run.distributed.Group` to train as one process of several (JAX).
        tune: a :class:`nndsl.run.tune.TuneOptions`: where ``tune`` steps keep their studies, how many
            processes search.

    Raises:
        NndslError: for every user mistake, located.
    """
    from ..semantics.check import check
    from ..formatter import format_program
    from ..syntax.parser import parse_file

    out = out or sys.stdout
    err = err or sys.stderr
    path = Path(file)
    program = parse_file(path)
    checked = check(program, overrides=overrides, max_params=max_params)
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
    seed = checked.settings.get("seed")
    if seed is not None:
        from ..compile.keras import set_random_seed

        set_random_seed(int(seed))
    data_seed = seed
    if group is not None:
        from .distributed import join

        data_seed = join(group, seed)
    elif checked.settings.get("distribute") == "mirrored" and name == "jax":
        from .distributed import local_data_parallel

        local_data_parallel()
    chief = group is None or group.chief
    record = RunRecord(_resolved_text(program, overrides, format_program), str(path), seed, dict(overrides or {}))
    state = RunState(checked, base_dir=path.resolve().parent, out=out, err=err, progress=progress if chief else "none",
                     record=record, verbose=verbose)
    state.nn_file = path
    state.tune_options = tune
    _say_space_defaults(state)
    state.backend = record.data["backend"] = name
    state.group = group
    state.data_seed = data_seed
    if checked.settings.get("distribute") == "mirrored" and name == "tensorflow":
        import tensorflow as tf

        state.strategy = tf.distribute.MirroredStrategy()
    if group is not None:
        from .distributed import Watchdog

        state.watchdog = Watchdog(group)
    _describe_distribution(state, checked.settings.get("distribute"))
    from .interrupt import checkpoint_path

    ckpt = checkpoint_path(path)
    if resume:
        state.resume = _read_resume(ckpt, path)
    # --record PATH is relative to where nndsl runs; the default sits next to the .nn file
    record_file = Path(record_path).resolve() if record_path else path.resolve().with_suffix(".run.json")
    try:
        for index, step in enumerate(checked.steps):
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
    finally:
        if state.watchdog is not None:
            state.watchdog.close()
        if state.chief:
            record.data["history"] = {n: m.history for n, m in state.models.items() if m.history}
            record.data["epoch_seconds"] = {n: m.epoch_seconds for n, m in state.models.items() if m.epoch_seconds}
            record.data["metrics"] = state.results
            try:
                record.write(record_file)
            except OSError as exc:
                err.write(f"warning: could not write the run record {record_file}: {exc.strerror or exc}\n")
    if state.chief and ckpt.exists():
        ckpt.unlink()  # the run finished: nothing left to resume
    if state.chief:
        from .report import final_table

        final_table(state)
    return state


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
    return {**resume, "path": str(ckpt), "categorical": meta.get("categorical"), "target_names": meta.get("target_names")}


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

"""``nndsl.run_file``: a ``.nn`` file run from Python, its results as plain values.

The embedding entry point of the runner. It runs the file's steps as ``nndsl run`` does, without
a progress display unless asked for, and returns what an application wants afterwards: the
trained Keras models, each model's history, and the metrics of every ``test`` step. It may be
called any number of times in one process; each call is a run of its own.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO


@dataclass(frozen=True)
class RunResult:
    """What a run of a ``.nn`` file leaves behind.

    Attributes:
        models: each model the steps trained or loaded, by name: the ``keras.Model`` as saved
            (raw features in, raw targets out).
        histories: each trained model's metrics per epoch, by model name:
            ``{"loss": [...], "val_loss": [...], ...}``.
        metrics: the metrics of each ``test``/``evaluate`` step, keyed ``"MODEL:DATA"``, in
            the target's raw units.
        record: the run record (the program as run, data fingerprints, fitted preprocessing,
            histories, versions), as written to ``FILE.run.json``.
        output: what the run printed (its tables, predictions shown, notes).
    """

    models: dict[str, Any] = field(default_factory=dict)
    histories: dict[str, dict[str, list]] = field(default_factory=dict)
    metrics: dict[str, dict[str, float]] = field(default_factory=dict)
    record: dict = field(default_factory=dict)
    output: str = ""


def _override_text(value: Any) -> str:
    """A Python value as the ``.nn`` text ``--set`` takes; a string is that text already."""
    if isinstance(value, str):
        return value
    if value is None or isinstance(value, bool):
        return {None: "none", True: "true", False: "false"}[value]
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (list, tuple)):
        items = ", ".join(_override_text(v) for v in value)
        return f"[{items}]" if isinstance(value, list) else f"({items}{',' if len(value) == 1 else ''})"
    from ..errors import UsageError

    raise UsageError(f"set: expected numbers, booleans, none, lists, tuples or .nn text; received {type(value).__name__} {value!r}")


def run_file(path: str | Path, *, set: dict[str, Any] | None = None, progress: str = "none", out: TextIO | None = None,
             err: TextIO | None = None, record: str | Path | None = None, backend: str | None = None,
             max_params: int | None = None) -> RunResult:
    """Run a ``.nn`` file's steps and return its trained models, histories and metrics.

    Args:
        path: the ``.nn`` file; paths inside it are relative to its folder.
        set: values replacing ``let`` variables, as ``--set`` does: ``{"hidden": 128, "lr": 1e-4}``.
            A string is ``.nn`` text (``{"act": "tanh"}`` is the name ``tanh``; write
            ``{"title": '"run 2"'}`` for a string).
        progress: ``"none"`` (the default), ``"plain"``, ``"json"`` or ``"rich"``, written to ``out``.
        out: where the run's tables and notes go; by default they are kept in ``RunResult.output``.
        err: where warnings go; by default they are kept in ``RunResult.output`` too.
        record: where to write the run record (default: ``FILE.run.json`` next to the file).
        backend: ``"tensorflow"`` or ``"jax"``, instead of the file's ``backend`` setting.
        max_params: the parameter budget of a model (default 1e9).

    Returns:
        A :class:`RunResult`.

    Raises:
        NndslError: a located mistake in the file or its data (``NndslSyntaxError``,
            ``NndslCheckError``, ``RunError``); ``UsageError`` for a ``set`` naming no variable.
    """
    from .runner import run

    buffer = io.StringIO()
    overrides = {name: _override_text(value) for name, value in (set or {}).items()}
    state = run(Path(path), overrides=overrides, out=out or buffer, err=err or buffer, progress=progress,
                record_path=Path(record) if record is not None else None, max_params=max_params, backend=backend)
    return RunResult(
        models={name: ms.export_model() for name, ms in state.models.items() if ms.keras_model is not None},
        histories={name: {k: list(v) for k, v in ms.history.items()} for name, ms in state.models.items() if ms.history},
        metrics={key: dict(values) for key, values in state.results.items()},
        record=dict(state.record.data),
        output=buffer.getvalue(),
    )

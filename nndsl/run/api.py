"""The stable run API for code that embeds nndsl: :func:`run_file` and its :class:`RunResult`.

``nndsl.run_file`` is this module's function, re-exported by the package; unlike the older
``nndsl.run`` (a name the subpackage ``nndsl.run`` takes over once it is imported) it can be
called any number of times in one process, as a notebook does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO


@dataclass
class RunResult:
    """What a run produced.

    Attributes:
        histories: each trained model's training history, ``{model: {metric: [value per epoch]}}``.
        metrics: the metrics of each ``test`` (or ``evaluate``) step, ``{"model:data": {metric: value}}``.
        models: each model trained or loaded by the run, as a Keras model that takes raw rows and
            gives predictions in the target's own units (the model ``save`` writes).
        plots: the files the run's ``plot`` steps wrote, in order.
        state: the runner's final state, for everything else.
    """

    histories: dict[str, dict[str, list[float]]]
    metrics: dict[str, dict[str, float]]
    models: dict[str, Any]
    plots: list[Path] = field(default_factory=list)
    state: Any = field(default=None, repr=False)

    def __repr__(self) -> str:
        parts = [f"models={sorted(self.models)}"]
        for name, history in self.histories.items():
            last = ", ".join(f"{k}={v[-1]:.4g}" for k, v in history.items() if v)
            parts.append(f"{name}: {len(next(iter(history.values()), []))} epochs ({last})")
        for where, values in self.metrics.items():
            parts.append(f"{where}: " + ", ".join(f"{k}={v:.4g}" for k, v in values.items()))
        return "RunResult(" + "; ".join(parts) + ")"


def _override_text(value: Any) -> str:
    """A ``set=`` value as the ``.nn`` text of a value: text is taken as written (``"relu"``
    is the name relu; quote it, ``'"data.csv"'``, for a string), Python values are converted."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "none"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (list, tuple)):
        inner = ", ".join(_override_text(v) for v in value)
        return f"[{inner}]" if isinstance(value, list) else (f"({inner},)" if len(value) == 1 else f"({inner})")
    raise TypeError(f"set=: expected text, a number, a bool, None, a list or a tuple; received {type(value).__name__}")


def run_file(path, *, set: dict[str, Any] | None = None, progress: str | None = None, out: TextIO | None = None,
             err: TextIO | None = None, base_dir=None, backend: str | None = None, record_path=None) -> RunResult:
    """Check and run a ``.nn`` file: every step, in order.

    Args:
        path: the ``.nn`` file.
        set: values for ``let`` variables, as ``--set`` gives them: ``{"epochs": 5, "activation": "relu"}``.
        progress: ``"rich"``, ``"plain"``, ``"json"`` or ``"none"`` (default: rich on a terminal, plain otherwise).
        out: where progress and tables go (default: standard output).
        err: where warnings go (default: standard error).
        base_dir: the folder relative paths in the program are read from and written to
            (default: the file's folder).
        backend: ``"tensorflow"`` or ``"jax"``, over the file's ``backend`` setting.
        record_path: where the run record is written (default: beside the file, ``NAME.run.json``).

    Returns:
        The histories, test metrics, trained models and plots of the run.

    Raises:
        NndslError: a mistake in the program, its data or its files, located.
    """
    from .runner import run

    overrides = {name: _override_text(value) for name, value in (set or {}).items()}
    state = run(path, overrides=overrides, out=out, err=err, progress=progress, base_dir=base_dir, backend=backend,
                record_path=Path(record_path) if record_path is not None else None)
    models = {name: ms.export_model() for name, ms in state.models.items() if ms.keras_model is not None}
    plots = [state.path(str(step.to)) for step in state.checked.steps if step.verb == "plot" and step.to is not None]
    return RunResult(
        histories={name: dict(ms.history) for name, ms in state.models.items() if ms.history},
        metrics=dict(state.results), models=models, plots=plots, state=state,
    )

"""The ``test`` step (alias ``evaluate``): Keras's metrics, then a per-class table for a classifier
or MAE, RMSE and R² for a regression, and with ``report=true`` the evaluation pictures.

It stands above :mod:`nndsl.plots` because a report draws; the measuring is
:func:`nndsl.run.steps.test` and :func:`nndsl.run.evaluation.evaluate_step`.
"""

from __future__ import annotations

from ..run import steps
from .figures import INSTALL, MissingReportLibrary, draw_report, require


def report_folder(state) -> object:
    """``FILE.report/`` beside the ``.nn`` file: where ``report=true`` draws."""
    nn = state.nn_file
    return state.path(nn.stem + ".report")


def test(state, step) -> None:
    """``test MODEL on DATA [report=true]``."""
    report = bool(step.kwargs.get("report"))
    if report:
        try:
            require()  # before the evaluation: a missing library is reported before any work
        except MissingReportLibrary as exc:
            node = next((k for k in step.node.kwargs if k.name == "report"), None)
            raise state.error(str(exc), step, code="unsupported-option", span=node.span if node is not None else None,
                              hint=f"install it: {INSTALL}") from None
    steps.test(state, step)
    ms = state.model(step.target)
    ev = state.evaluations.get(f"{ms.name}:{step.on}")
    if not report or ev is None or not state.chief:
        return
    folder = report_folder(state)
    try:
        written = draw_report(ev, folder, prefix=f"{ms.name}-{step.on}")
    except OSError as exc:
        raise state.error(f"expected to write the evaluation report in '{folder}'; received {exc.strerror or exc}", step,
                          code="write-failed") from None
    base = state.base_dir
    paths = [str(p.relative_to(base)) if p.is_relative_to(base) else str(p) for p in written]
    state.events.line(f"wrote the evaluation report of {ms.name} on {step.on} to {folder.name}/ ({len(written)} pictures)")
    state.record.add_step(step="report", model=ms.name, data=str(step.on), paths=paths)

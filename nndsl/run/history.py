"""The run history: every run keeps a folder of its own under ``runs/`` beside the ``.nn`` file.

A run's folder, ``runs/STEM-N`` (``sales-1``, ``sales-2``, ...), holds:

- ``record.json``: the run record (the same as ``FILE.run.json``, which stays the latest run's),
  with the run's ``id``, its ``status`` (finished, failed or interrupted), its duration and
  ``artefacts``, a pointer to each file the run wrote;
- ``program.nn``: the program as run, with the ``--set`` values written into its ``let`` lines;
- ``plots/``: a copy of each picture the run drew, so that it survives the next run.

Saved models and predictions are not copied (they can be large): the record points at them, with
their size when the run ended. Nothing here imports TensorFlow: ``nndsl runs`` reads the history
as fast as ``nndsl check`` reads a program.
"""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import UsageError, did_you_mean
from .files import atomic_write_text

RUNS_DIR = "runs"
RECORD = "record.json"
PROGRAM = "program.nn"
PLOTS = "plots"

STATUSES = ("finished", "failed", "interrupted")
# The artefacts that a step's "path" is: the step's verb -> the kind of artefact
ARTEFACT_KINDS = {"save": "model", "predict": "predictions", "plot": "plot", "report": "evaluation"}
PICTURE_SUFFIXES = (".png", ".svg", ".pdf")


def runs_folder(nn_file: Path) -> Path:
    """``runs/`` beside the ``.nn`` file."""
    return Path(nn_file).resolve().parent / RUNS_DIR


def outcome(exc: BaseException | None) -> str:
    """The status of a run that ended with ``exc`` (None: it finished)."""
    if exc is None:
        return "finished"
    # Ctrl-C: either the checkpoint-and-stop of training (exit 130) or a KeyboardInterrupt elsewhere
    if isinstance(exc, KeyboardInterrupt) or getattr(exc, "exit_code", None) == 130:
        return "interrupted"
    return "failed"


# ---------------------------------------------------------------- writing a run's folder


def allocate(nn_file: Path) -> Path:
    """A new run's folder under ``runs/`` beside ``nn_file``, made now (``runs/STEM-N``)."""
    return _new_folder(runs_folder(nn_file), Path(nn_file).stem)


def keep(data: dict[str, Any], nn_file: Path, encode, folder: Path | None = None, base: Path | None = None) -> Path:
    """Write a finished run's folder under ``runs/`` beside ``nn_file``; returns the folder.

    ``data`` is the run record's content; it gains the run's ``id`` and ``artefacts``.
    ``encode`` turns the record into its JSON text (the record's own, so both copies agree).
    ``folder``: the run's folder when it was made as the run started (see :func:`allocate`).
    ``base``: the folder the steps' paths are relative to (default: the ``.nn`` file's).
    """
    nn_file = Path(nn_file)
    base = Path(base).resolve() if base is not None else nn_file.resolve().parent
    folder = folder or allocate(nn_file)
    data["id"] = folder.name
    data["artefacts"] = _artefacts(data.get("steps") or [], base, folder)
    atomic_write_text(folder / PROGRAM, str(data.get("program", "")))
    atomic_write_text(folder / RECORD, encode(data))
    return folder


def _new_folder(runs: Path, stem: str) -> Path:
    """``runs/STEM-N`` with N one more than the highest so far; made here, so two runs never share one."""
    runs.mkdir(exist_ok=True)
    n = max((_number(p.name, stem) for p in runs.iterdir()), default=0)
    while True:
        n += 1
        folder = runs / f"{stem}-{n}"
        try:
            folder.mkdir()
            return folder
        except FileExistsError:  # another run of the same file took this number first
            continue


def _number(name: str, stem: str) -> int:
    m = re.fullmatch(re.escape(stem) + r"-(\d+)", name)
    return int(m.group(1)) if m else 0


def _artefacts(steps: list[dict], base: Path, folder: Path) -> list[dict]:
    """A pointer to each file the run's steps wrote; pictures are copied into the run's folder."""
    out = []
    for step in steps:
        kind = ARTEFACT_KINDS.get(str(step.get("step")))
        paths = step.get("paths") or ([step["path"]] if step.get("path") else [])
        for path in paths if kind is not None else ():
            out.append(_artefact(kind, step.get("model"), str(path), base, folder))
    return out


def _artefact(kind: str, model, path: str, base: Path, folder: Path) -> dict:
    written = Path(path)
    source = written if written.is_absolute() else base / written
    entry: dict[str, Any] = {"kind": kind, "model": model, "path": path}
    if source.is_file():
        entry["bytes"] = source.stat().st_size
        if kind in ("plot", "evaluation") and source.suffix.lower() in PICTURE_SUFFIXES:
            (folder / PLOTS).mkdir(exist_ok=True)
            copy = folder / PLOTS / _unique(folder / PLOTS, source.name)
            shutil.copyfile(source, copy)
            entry["copy"] = copy.relative_to(folder).as_posix()
    elif not source.exists():
        entry["missing"] = True
    return entry


def _unique(folder: Path, name: str) -> str:
    if not (folder / name).exists():
        return name
    stem, suffix = Path(name).stem, Path(name).suffix
    n = 2
    while (folder / f"{stem}-{n}{suffix}").exists():
        n += 1
    return f"{stem}-{n}{suffix}"


# ---------------------------------------------------------------- reading the history


@dataclass(frozen=True)
class Run:
    """One run of the history, as read from its folder."""

    id: str
    folder: Path
    record: dict

    @property
    def status(self) -> str:
        return str(self.record.get("status") or "finished")

    @property
    def program(self) -> str:
        path = self.folder / PROGRAM
        return path.read_text(encoding="utf-8") if path.is_file() else str(self.record.get("program", ""))

    @property
    def overrides(self) -> dict[str, str]:
        value = self.record.get("overrides")
        return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}

    @property
    def seconds(self) -> float | None:
        value = self.record.get("seconds")
        return float(value) if isinstance(value, (int, float)) else None

    @property
    def histories(self) -> dict[str, dict]:
        """Model name -> its training history (metric -> one value per epoch)."""
        history = self.record.get("history")
        if not isinstance(history, dict):
            return {}
        return {str(k): v for k, v in history.items() if isinstance(v, dict) and any(isinstance(x, list) and x for x in v.values())}

    def metrics(self) -> dict[str, float]:
        """The run's last metrics by name: each test's (``test m on d: loss``), then the last epoch's
        of each model's training (``train m: val_loss``)."""
        out: dict[str, float] = {}
        results = self.record.get("metrics")
        for key, values in (results.items() if isinstance(results, dict) else ()):
            model, _, data = str(key).partition(":")
            for name, value in (values.items() if isinstance(values, dict) else ()):
                if _is_number(value):
                    out[f"test {model} on {data}: {name}"] = float(value)
        for model, history in self.histories.items():
            for name, values in history.items():
                if isinstance(values, list) and values and _is_number(values[-1]):
                    out[f"train {model}: {name}"] = float(values[-1])
        return out


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def read_run(folder: Path) -> Run:
    """The run kept in ``folder``; a usage error when it holds no readable record."""
    path = Path(folder) / RECORD
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"cannot read '{folder}': expected a run's folder holding {RECORD}; received a folder without one") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UsageError(f"cannot read '{path}': expected a run record (JSON); received text that is not ({exc})") from None
    if not isinstance(data, dict):
        raise UsageError(f"cannot read '{path}': expected a run record (a JSON object); received {type(data).__name__}")
    return Run(str(data.get("id") or Path(folder).name), Path(folder), data)


def list_runs(runs: Path, stem: str | None = None) -> list[Run]:
    """Every run kept in ``runs`` (of the ``.nn`` file named ``stem``, when given), oldest first.
    A folder whose record cannot be read is left out."""
    if not runs.is_dir():
        return []
    found = []
    for folder in runs.iterdir():
        if not (folder / RECORD).is_file():
            continue
        if stem is not None and not _number(folder.name, stem):
            continue
        try:
            found.append(read_run(folder))
        except UsageError:
            continue
    # started is to the second: runs of one second go by when their record was written
    return sorted(found, key=lambda r: (str(r.record.get("started", "")), (r.folder / RECORD).stat().st_mtime_ns))


def find_run(ref: str, runs: Path) -> Run:
    """The run named ``ref``: an ID in ``runs`` (``sales-3``), or the path of a run's folder."""
    path = Path(ref)
    if path.is_dir() and (path / RECORD).is_file():
        return read_run(path)
    folder = runs / ref
    if folder.is_dir() and (folder / RECORD).is_file():
        return read_run(folder)
    known = [r.id for r in list_runs(runs)]
    if not known:
        raise UsageError(f"run {ref}: expected the ID of a run kept in {runs}; received '{ref}', and there are no runs there"
                         " (nndsl run keeps each run there; use --dir for another folder)")
    hint = did_you_mean(ref, known)
    shown = ", ".join(known[-8:]) + (", ..." if len(known) > 8 else "")
    raise UsageError(f"run {ref}: expected the ID of a run kept in {runs} ({shown}); received '{ref}'" + (f"; {hint}" if hint else ""))


def remove(run: Run) -> None:
    """Delete a run's folder (its record, program and copied pictures; never the artefacts it points at)."""
    shutil.rmtree(run.folder)


# ---------------------------------------------------------------- showing it


def duration_text(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, sec = divmod(int(round(seconds)), 60)
    if minutes < 60:
        return f"{minutes} min {sec} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"


def when_text(started: str) -> str:
    """``2026-12-06T06:50:12+00:00`` as ``2026-12-06 06:50:12``."""
    return str(started).replace("T", " ").split("+")[0] if started else "?"


def sets_text(overrides: dict[str, str]) -> str:
    return " ".join(f"{k}={v}" for k, v in overrides.items()) or "-"


def short_metrics(run: Run, limit: int = 3) -> str:
    """A few of the run's last metrics, tests first: ``loss 0.0123  mae 0.0812``."""
    metrics = run.metrics()
    shown = []
    for key, value in metrics.items():
        name = key.split(": ", 1)[1]
        if key.startswith("train ") and any(k.startswith("test ") for k in metrics):
            break
        shown.append(f"{name} {value:.4g}")
        if len(shown) == limit:
            break
    return "  ".join(shown) or "-"

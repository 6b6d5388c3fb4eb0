"""Helpers shared by the test modules: the golden cases and the example programs."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CASES = Path(__file__).resolve().parent / "cases"
VALID = sorted((CASES / "valid").glob("*.nn"))
INVALID = sorted((CASES / "invalid").glob("*.nn"))
EXAMPLES = sorted((ROOT / "examples").rglob("*.nn"))


def read_nn(path: Path) -> str:
    """A .nn file's text as the CLI reads it (UTF-8, a byte order mark dropped)."""
    return path.read_bytes().decode("utf-8-sig")


def ids(paths) -> list[str]:
    return [p.stem for p in paths]


def spans_of(diagnostic):
    """The diagnostic's own span and those of its notes."""
    out = [diagnostic.span] if diagnostic.span is not None else []
    out.extend(n.span for n in diagnostic.notes if n.span is not None)
    return out


def width_from_table(model) -> bool:
    """Whether a checked model leaves out ``Input`` and takes its input width from the table it
    trains on: its shapes are unknown until the data is read, so its text alone cannot build it."""
    first = model.resolved[0] if model.resolved else None
    return first is not None and first.name not in ("Input", "InputLayer") and first.output_shape is None


def program_outputs(path: Path) -> dict[str, list[str]]:
    """The files a program's save and predict steps write, relative to its folder."""
    import nndsl

    checked = nndsl.check(path.read_text(encoding="utf-8"), filename=str(path), keras=False)
    found: dict[str, list[str]] = {"save": [], "predict": []}
    for step in checked.steps:
        if step.verb in found and step.to is not None:
            found[step.verb].append(str(step.to))
    return found


def copy_program(path: Path, folder: Path) -> Path:
    """A copy of the program's folder, without the files its steps write, at ``folder``."""
    import shutil

    shutil.copytree(path.parent, folder, ignore=shutil.ignore_patterns("__pycache__", "*.run.json"))
    for names in program_outputs(path).values():
        for name in names:
            target = folder / name
            if target.is_dir():
                shutil.rmtree(target)
            elif target.exists():
                target.unlink()
    return folder / path.name


EXAMPLE_PLUGIN = ROOT / "examples" / "plugin"


def example_plugin_path(folder: Path) -> list[str]:
    """Folders to put first on ``PYTHONPATH`` so the example plugin is found as if it were installed.

    The plugin's source is imported from ``examples/plugin``; its entry points, copied from its
    ``pyproject.toml``, go into a ``.dist-info`` folder written under ``folder``, which is where
    the registries look for them. On the path first, this copy wins over an installed one.
    """
    try:
        import tomllib
    except ImportError:  # Python 3.10
        import pytest

        tomllib = pytest.importorskip("tomli", reason="reading examples/plugin/pyproject.toml needs tomllib or tomli")
    project = tomllib.loads((EXAMPLE_PLUGIN / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    info = folder / f"{project['name'].replace('-', '_')}-{project['version']}.dist-info"
    info.mkdir(parents=True, exist_ok=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {project['name']}\nVersion: {project['version']}\n",
                                   encoding="utf-8")
    groups = "".join(f"[{group}]\n" + "".join(f"{name} = {value}\n" for name, value in points.items()) + "\n"
                     for group, points in project["entry-points"].items())
    (info / "entry_points.txt").write_text(groups, encoding="utf-8")
    return [str(folder), str(EXAMPLE_PLUGIN)]


# The examples the export test runs (test_eject.py: with ``nndsl run``, then as exported scripts),
# and so the ones test_examples.py need not run again: a plugin's names and a search cannot be exported.
NOT_EXPORTED_FOLDERS = {"plugin"}
NOT_EXPORTED_FILES = {"sales_tune.nn"}


def exported_examples() -> list[Path]:
    return sorted(p for p in (ROOT / "examples").glob("*/*.nn")
                  if p.parent.name not in NOT_EXPORTED_FOLDERS and p.name not in NOT_EXPORTED_FILES)


def check_example_run(path: Path, copy: Path, state) -> None:
    """What every example's run must leave: metrics without NaN, its saved models, predictions of
    equal rows, and the run record (``copy``: the copy of ``path`` that ran, ``state``: the run's)."""
    import csv

    assert state.results, "the test step reports metrics"
    for metrics in state.results.values():
        assert metrics and all(v == v for v in metrics.values()), metrics  # no NaN
    written = program_outputs(path)
    for name in written["save"]:
        saved = copy.parent / name
        assert saved.exists() and (saved.is_dir() or saved.stat().st_size > 0), name
    for name in written["predict"]:
        predictions = copy.parent / name
        assert predictions.is_file(), name
        if predictions.suffix == ".csv":
            with open(predictions, newline="", encoding="utf-8") as fh:
                rows = list(csv.reader(fh))
            assert len(rows) >= 2 and all(len(r) == len(rows[0]) for r in rows), name
            assert all(float(v) == float(v) for r in rows[1:] for v in r[-1:]), name
    assert copy.with_suffix(".run.json").is_file()

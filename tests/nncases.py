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

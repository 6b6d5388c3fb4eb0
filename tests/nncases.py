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

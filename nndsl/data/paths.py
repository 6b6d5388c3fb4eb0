"""The files a table source reads: one file, a glob pattern, or a folder of part files.

Several files are read as one table, in sorted order, so that a run sees its rows in the same
order on every machine. Each file keeps the name the ``.nn`` file gives it (the pattern's folder
plus the file's name), which is how errors about its rows name it.
"""

from __future__ import annotations

import glob
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from .table import data_error

_GLOB_CHARS = frozenset("*?[")


@dataclass(frozen=True)
class Part:
    """One file of a table: where it is and how messages name it."""

    path: Path
    shown: str


@dataclass(frozen=True)
class Parts:
    """The files of one data source; ``path`` is the single file, else the folder or pattern."""

    path: Path
    files: tuple[Part, ...]

    @property
    def single(self) -> bool:
        return len(self.files) == 1 and self.files[0].path == self.path


def is_pattern(value: str) -> bool:
    """Whether a path written in the .nn file is a glob pattern."""
    return any(c in _GLOB_CHARS for c in value)


def resolve_parts(value: str, *, base: Path, what: str, suffixes: tuple[str, ...], decl=None, source=None) -> Parts:
    """The files ``value`` names (relative to ``base``), sorted.

    Args:
        value: the path as written: a file, a folder of part files, or a glob pattern.
        what: the format's name for messages ("CSV", "Parquet", "JSON lines").
        suffixes: the file endings a folder's part files have (".csv").

    Raises:
        RunError: a path that does not exist, a pattern that matches no file, a folder without
            part files.
    """
    path = Path(value) if Path(value).is_absolute() else (base / value).resolve()
    shown_dir = value[: len(value) - len(value.rsplit("/", 1)[-1])] if "/" in value else ""

    def fail(msg, hint=None):
        return data_error(msg, where=value, hint=hint, decl=decl, source=source)

    if is_pattern(value) and not path.exists():  # a file may be named data[1].csv
        pattern = value if Path(value).is_absolute() else str(base / value)
        found = sorted(Path(p) for p in glob.glob(pattern) if Path(p).is_file())
        if not found:
            raise fail(f"expected {what} files matching the pattern; received no match",
                       hint="paths in a .nn file are relative to the .nn file's folder")
        return Parts(path, tuple(Part(p.resolve(), shown_dir + p.name) for p in found))
    if not path.exists():
        raise fail(f"expected an existing {what} file; received a path that does not exist ({path})",
                   hint="paths in a .nn file are relative to the .nn file's folder")
    if path.is_dir():
        found = sorted(p for p in path.iterdir() if p.is_file() and p.name.lower().endswith(suffixes) and not p.name.startswith("."))
        if not found:
            raise fail(f"expected a {what} file; received a folder",
                       hint=f"a folder is read as one table when it holds part files ({', '.join(suffixes)})")
        folder = value if value.endswith("/") else value + "/"
        return Parts(path, tuple(Part(p, folder + p.name) for p in found))
    return Parts(path, (Part(path, value),))


def fingerprint_parts(parts: Parts, known: Mapping[Path, str] | None = None) -> str:
    """The fingerprint of one file, or of several files' names and contents together.

    ``known`` holds the fingerprints of files already hashed while they were read (by path);
    the other files are hashed here.
    """
    from .table import fingerprint_file, fingerprint_of, new_hash

    def of(path: Path) -> str:
        return (known or {}).get(path) or fingerprint_file(path)

    if parts.single:
        return of(parts.path)
    h = new_hash()
    for part in parts.files:
        h.update(part.path.name.encode() + b"\0" + of(part.path).encode() + b"\n")
    return fingerprint_of(h)

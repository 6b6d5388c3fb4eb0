"""What a program may touch: the grants of the command line and the rules every path obeys.

A ``.nn`` file is untrusted input: someone else may have written it. By default a program may
write only inside the folder tree of its own ``.nn`` file, never onto a file it reads, never
onto a device, fifo or socket, never through a link that leads elsewhere, and may not open
connections. The command line grants more (``--allow-write DIR``, ``--allow-network``);
:class:`Grants` carries what it granted to the checker and the runner.

The rules are pure: they look at the file system and never change it, so ``nndsl check``
applies them to every path the program names (:class:`Access`), and the run applies them again
(:mod:`nndsl.run.gate`) just before each write, when the file system may have changed.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from .source import Span

# What an access does with its path.
READ = "read"  # a file or folder the program reads
WRITE = "write"  # a file the program writes, replacing it
WRITE_DIR = "write_dir"  # a folder the program writes files into (TensorBoard's log_dir)
SCRATCH_DIR = "scratch_dir"  # a folder the program owns and deletes afterwards (BackupAndRestore)
ACCESS_KINDS = (READ, WRITE, WRITE_DIR, SCRATCH_DIR)

# The files Keras's BackupAndRestore keeps in its folder: a folder holding only these is one an
# earlier (interrupted) run left behind, and may be used, then deleted, again.
BACKUP_FILES = frozenset({"latest.weights.h5", "training_metadata.json"})

# Suffixes of the files nndsl keeps next to the .nn file, which no step may write.
RESUME_SUFFIX = ".resume.keras"
RECORD_SUFFIX = ".run.json"


@dataclass(frozen=True)
class Grants:
    """What the command line grants a program beyond the defaults.

    Attributes:
        network: names that open connections (``RemoteMonitor``) may be used.
        write: folders, besides the ``.nn`` file's own folder tree, the program may write in.
    """

    network: bool = False
    write: tuple[Path, ...] = ()


DEFAULT_GRANTS = Grants()
"""Nothing granted: the rules a program obeys unless the command line says otherwise."""


@dataclass(frozen=True)
class Access:
    """One path the program reads or writes, as written, with who does it and where.

    Attributes:
        kind: one of :data:`ACCESS_KINDS`.
        path: the path as the program writes it (relative to the ``.nn`` file's folder).
        what: who reads or writes it, in words: ``"data source 'd'"``, ``"save m"``,
            ``"CSVLogger's filename"``.
        span: where the path (or the call holding it) is written; None for the command line's.
    """

    kind: str
    path: str
    what: str
    span: Span | None = field(default=None, compare=False)

    def to_json(self, base: Path | None) -> dict:
        """The access as JSON for ``nndsl check --json``: the path resolved when the base is known."""
        out = {"kind": self.kind, "path": self.path, "by": self.what}
        if base is not None:
            out["resolved"] = str(real(absolute(self.path, base)))
        if self.span is not None:
            out["line"], out["column"] = self.span.line, self.span.column
        return out


@dataclass(frozen=True)
class Refusal:
    """Why a write is refused: a diagnostic code, the ``received ...`` part of the message, a hint."""

    code: str
    expected: str
    received: str
    hint: str | None = None

    @property
    def message(self) -> str:
        return f"expected {self.expected}; received {self.received}"


def absolute(path: str | Path, base: Path) -> Path:
    """``path`` relative to ``base`` (absolute paths stay). Nothing is folded: ``link/..`` is the
    parent of where the link leads, as the system reads it, so only :func:`real` may resolve it."""
    return Path(os.path.join(base, path))


def real(path: str | Path) -> Path:
    """``path`` with every link followed, as far as it exists."""
    return Path(os.path.realpath(path))


def inside(path: Path, folders) -> bool:
    """Whether ``path`` is one of ``folders`` or lies below one (compared as given: pass real paths)."""
    return any(path == f or f in path.parents for f in folders)


def same_file(a: Path, b: Path) -> bool:
    """Whether two paths name one file: the same real path, or (both existing) the same inode."""
    if real(a) == real(b):
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def reserved(nn_file: Path) -> dict[Path, str]:
    """The files nndsl keeps next to a ``.nn`` file, which no step may write: path -> what it is."""
    nn_file = Path(os.path.abspath(nn_file))
    return {
        nn_file.with_name(nn_file.stem + RESUME_SUFFIX): "the checkpoint nndsl keeps for run --resume",
        nn_file.with_name(nn_file.stem + RECORD_SUFFIX): "the run record nndsl writes",
    }


def allowed_folders(base: Path, grants: Grants) -> tuple[Path, ...]:
    """The real paths of the folders a program may write in: its own and the granted ones."""
    return (real(base), *(real(f) for f in grants.write))


def check_write(written: str | Path, kind: str, *, base: Path, grants: Grants, inputs: dict[Path, str],
                reserved_names: dict[Path, str] | None = None, granted: tuple[Path, ...] = ()) -> Refusal | None:
    """Whether a write of ``kind`` to ``written`` obeys the rules; None when it does.

    Args:
        written: the path as written (relative to ``base``).
        kind: :data:`WRITE`, :data:`WRITE_DIR` or :data:`SCRATCH_DIR`.
        base: the folder of the ``.nn`` file (for the command line's ``-o``, the current folder).
        grants: what the command line granted.
        inputs: every file the program reads: path -> what it is (``"the file of data source 'd'"``).
        reserved_names: files nndsl keeps (:func:`reserved`): path -> what it is.
        granted: targets the command line names itself (``-o``), allowed wherever they are.

    Returns:
        The :class:`Refusal`, or None.
    """
    target = absolute(written, base)
    real_target = real(target)
    folders = allowed_folders(base, grants)
    if not any(same_file(target, g) for g in granted) and not inside(real_target, folders):
        link = inside(Path(os.path.abspath(target)), folders)  # as written it stays inside: a link leads out
        what = "a link that leads outside them" if link else "a path outside them"
        return Refusal(code="write-outside", expected="a path inside the folder of the .nn file or a folder given with --allow-write",
                       received=f"'{written}', {what}",
                       hint="the program may write only in its own folder: give another folder with --allow-write DIR if you trust it")
    try:
        st = os.stat(real_target)
    except (FileNotFoundError, NotADirectoryError):
        st = None  # a new file (the step says so when its folder is missing or a file)
    except OSError as exc:
        return Refusal(code="bad-output", expected="a usable output path", received=f"'{written}' ({exc.strerror or exc})")
    if st is not None:
        if kind == WRITE and not stat.S_ISREG(st.st_mode) and not stat.S_ISDIR(st.st_mode):
            return Refusal(code="bad-output", expected="a regular file to write",
                           received=f"'{written}', a device or other special file", hint="write to a file in a folder of your own")
        if kind != WRITE and not stat.S_ISDIR(st.st_mode):
            return Refusal(code="bad-output", expected="a folder to write in", received=f"'{written}', which is a file")
    for path, what in inputs.items():
        if kind == WRITE and same_file(real_target, path):
            return Refusal(code="bad-output", expected="an output path that is not an input",
                           received=f"'{written}', {what}", hint="write to another file: the program would replace what it reads")
        if kind == SCRATCH_DIR and inside(real(path), (real_target,)):
            return Refusal(code="write-conflict", expected="a folder of its own (new or empty), which is deleted after training",
                           received=f"'{written}', which holds {what}", hint='name a new folder, e.g. backup_dir="backup"')
    for path, what in (reserved_names or {}).items():
        if (kind == WRITE and same_file(real_target, path)) or (kind == SCRATCH_DIR and inside(real(path), (real_target,))):
            return Refusal(code="write-conflict", expected="a path nndsl does not keep for itself",
                           received=f"'{written}', {what}", hint="choose another name")
    if kind == SCRATCH_DIR and st is not None:
        try:
            others = sorted(e for e in os.listdir(real_target) if e not in BACKUP_FILES)
        except OSError as exc:
            return Refusal(code="bad-output", expected="a usable folder", received=f"'{written}' ({exc.strerror or exc})")
        if others:
            return Refusal(code="write-conflict", expected="a folder of its own (new or empty), which is deleted after training",
                           received=f"'{written}', which holds other files ({', '.join(others[:3])}{', ...' if len(others) > 3 else ''})",
                           hint='name a new folder, e.g. backup_dir="backup"')
    return None

"""What every command reads from its command line: ``.nn`` files, ``--set`` values, output paths, grants."""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import UsageError
from ..paths import Grants
from ..source import read_text


def read_source(path: str) -> str:
    """The text of the ``.nn`` file a command was given; a usage error when it cannot be read."""
    p = Path(path)
    if not p.exists():
        raise UsageError(f"cannot read '{path}': expected an existing .nn file; received a path that does not exist")
    if p.is_dir():
        raise UsageError(f"cannot read '{path}': expected a .nn file; received a folder")
    try:
        return read_text(p)
    except UnicodeDecodeError as exc:
        raise UsageError(f"cannot read '{path}': expected UTF-8 text; received bytes that are not (at offset {exc.start})") from None


def parse_sets(items) -> dict[str, str]:
    """``--set NAME=VALUE`` options as ``{NAME: VALUE}``; the values are parsed by ``check``."""
    out = {}
    for item in items or ():
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise UsageError(f"--set {item}: expected NAME=VALUE; received no '='")
        out[name.strip()] = value.strip()
    return out


def add_grant_arguments(parser) -> None:
    """``--allow-write DIR`` and ``--allow-network``: what a command grants the program it runs or checks."""
    g = parser.add_argument_group("what the program may do beyond the defaults (docs/security.md)")
    g.add_argument("--allow-write", action="append", default=[], metavar="DIR",
                   help="let the program write in DIR too, not only in the folder of its .nn file (repeatable)")
    g.add_argument("--allow-network", action="store_true", help="let the program use names that open connections (RemoteMonitor)")


def grants(args) -> Grants:
    """The :class:`~nndsl.paths.Grants` of the options :func:`add_grant_arguments` added."""
    folders = []
    for value in getattr(args, "allow_write", None) or ():
        folder = Path(value)
        if not folder.is_dir():
            received = "a file" if folder.exists() else "a path that does not exist"
            raise UsageError(f"--allow-write {value}: expected an existing folder; received {received}")
        folders.append(folder.resolve())
    return Grants(network=bool(getattr(args, "allow_network", False)), write=tuple(folders))


def parameter_count(text: str) -> int:
    """The argparse type of ``--max-params``: a whole number of parameters, 0 or more."""
    import argparse

    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number of parameters; received {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a number of parameters of 0 or more; received {value}")
    return value


def require_folder(option: str, path: Path) -> None:
    """A usage error, worded for ``option``, when the folder ``path`` would be written in does not exist."""
    if str(path.parent) and not path.parent.is_dir():
        raise UsageError(f"{option}: expected a path in an existing folder; received a folder that does not exist ({path.parent})")


def output_file(value: str | None, what: str, reads: dict | None = None) -> Path | None:
    """The file ``-o VALUE`` names for the ``what`` a command writes, or None without ``-o``.

    ``reads`` are the files the command reads (path -> what it is): ``-o`` never names one.
    """
    if value is None:
        return None
    out = Path(value)
    if out.is_dir():
        raise UsageError(f"-o {value}: expected a file path for the {what}; received a folder")
    require_folder(f"-o {value}", out)
    command_target(f"-o {value}", out, reads or {})
    return out


def program_reads(checked) -> dict:
    """The files a checked program reads, absolute: path -> what it is (for :func:`command_target`)."""
    from ..paths import READ, absolute

    base = checked.nn_file.parent if checked.nn_file is not None else Path.cwd()
    return {absolute(a.path, base): a.what for a in checked.files if a.kind == READ}


def command_target(option: str, target: Path, reads: dict) -> None:
    """The rules of :mod:`nndsl.paths` for a file the command line names itself (``-o``, ``--record``).

    Naming the file grants it, wherever it is; but not a file the command reads (path -> what it
    is), not a device, fifo or socket, and not a link that leads out of the target's folder.
    """
    from ..paths import WRITE, check_write

    folder = Path(os.path.abspath(target)).parent
    refusal = check_write(Path(os.path.abspath(target)).name, WRITE, base=folder, grants=Grants(),
                          inputs={Path(os.path.abspath(p)): what for p, what in reads.items()})
    if refusal is not None:
        hint = "; the command would replace what it reads" if refusal.expected.endswith("not an input") else ""
        raise UsageError(f"{option}: {refusal.message.replace('the program', 'the command')}{hint}")


def parse_source(text: str, path: str):
    """Parse a command's ``.nn`` text. The command owns its process, so it takes the collector
    policy of :func:`nndsl.collector.parsing_phase` (the library's ``parse`` leaves it alone)."""
    from ..collector import parsing_phase
    from ..syntax.parser import parse

    with parsing_phase():
        return parse(text, filename=path)

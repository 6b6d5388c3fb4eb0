"""What every command reads from its command line: ``.nn`` files, ``--set`` values, output paths."""

from __future__ import annotations

from pathlib import Path

from ..errors import UsageError
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


def require_folder(option: str, path: Path) -> None:
    """A usage error, worded for ``option``, when the folder ``path`` would be written in does not exist."""
    if str(path.parent) and not path.parent.is_dir():
        raise UsageError(f"{option}: expected a path in an existing folder; received a folder that does not exist ({path.parent})")


def output_file(value: str | None, what: str) -> Path | None:
    """The file ``-o VALUE`` names for the ``what`` a command writes, or None without ``-o``."""
    if value is None:
        return None
    out = Path(value)
    if out.is_dir():
        raise UsageError(f"-o {value}: expected a file path for the {what}; received a folder")
    require_folder(f"-o {value}", out)
    return out


def parse_source(text: str, path: str):
    """Parse a command's ``.nn`` text. The command owns its process, so it takes the collector
    policy of :func:`nndsl.collector.parsing_phase` (the library's ``parse`` leaves it alone)."""
    from ..collector import parsing_phase
    from ..syntax.parser import parse

    with parsing_phase():
        return parse(text, filename=path)

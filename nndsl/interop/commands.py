"""The CLI commands that cross over to plain Keras: ``export`` (a .nn file as a Python script)
and ``import`` (a saved Keras model as a .nn model block)."""

from __future__ import annotations

import sys
from pathlib import Path

from ..errors import UsageError


def add_parsers(sub) -> None:
    e = sub.add_parser("export", help="write a .nn file as a plain Keras Python script")
    e.add_argument("file", metavar="FILE")
    e.add_argument("--to", required=True, choices=("python",), help="what to write: python (a script using only Keras, TensorFlow and NumPy)")
    e.add_argument("-o", "--output", metavar="SCRIPT", help="the script to write (default: print it)")
    e.add_argument("--set", action="append", metavar="NAME=VALUE", help="override a let variable")
    e.set_defaults(func=cmd_export)

    i = sub.add_parser("import", help="write a saved Keras Sequential model (.keras, .h5) as a .nn model block")
    i.add_argument("model", metavar="MODEL", help="a .keras or .h5 file")
    i.add_argument("-o", "--output", metavar="OUT", help="the .nn file to write (default: print it)")
    i.set_defaults(func=cmd_import)


def _output(value: str | None, what: str) -> Path | None:
    if value is None:
        return None
    out = Path(value)
    if out.is_dir():
        raise UsageError(f"-o {value}: expected a file path for the {what}; received a folder")
    if not out.parent.is_dir() and str(out.parent) not in ("", "."):
        raise UsageError(f"-o {value}: expected a path in an existing folder; received a folder that does not exist ({out.parent})")
    return out


def cmd_export(args) -> int:
    from ..cli import _parse_sets, _read
    from ..semantics.check import check
    from ..syntax.parser import parse
    from .eject import eject

    path = Path(args.file)
    text = _read(args.file)
    out = _output(args.output, "script")
    if out is not None and out.resolve() == path.resolve():
        raise UsageError(f"-o {args.output}: expected a path other than the .nn file itself")
    checked = check(parse(text, filename=str(path)), overrides=_parse_sets(args.set))
    # Printed, the script is most likely redirected into a file in the current folder.
    script = eject(checked, source_path=path, output_path=out if out is not None else Path.cwd() / "script.py")
    if out is None:
        sys.stdout.write(script)
        return 0
    from ..run.files import atomic_write_text

    atomic_write_text(out, script)
    print(f"wrote {out}", file=sys.stderr)
    return 0


def cmd_import(args) -> int:
    from .importer import import_model

    text = import_model(args.model)
    out = _output(args.output, ".nn file")
    if out is None:
        sys.stdout.write(text)
        return 0
    if out.resolve() == Path(args.model).resolve():
        raise UsageError(f"-o {args.output}: expected a path other than the model file itself")
    from ..run.files import atomic_write_text

    atomic_write_text(out, text)
    print(f"wrote {out}", file=sys.stderr)
    return 0

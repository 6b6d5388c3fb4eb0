"""The commands that cross over to plain Keras: ``export`` (a .nn file as a Python script)
and ``import`` (a saved Keras model as a .nn model block)."""

from __future__ import annotations

import sys
from pathlib import Path

from ..errors import UsageError
from .source import output_file, parse_sets, parse_source, program_reads, read_source


def add_parsers(sub) -> None:
    e = sub.add_parser("export", help="write a .nn file as a plain Keras Python script")
    e.add_argument("file", metavar="FILE", help="the .nn file to export")
    e.add_argument("--to", required=True, choices=("python",),
                   help="what to write: python (a script using only Keras, TensorFlow and NumPy)")
    e.add_argument("-o", "--output", metavar="SCRIPT", help="the script to write (default: print it)")
    e.add_argument("--set", action="append", metavar="NAME=VALUE", help="override a let variable")
    e.set_defaults(func=cmd_export)

    i = sub.add_parser("import", help="write a saved Keras Sequential model (.keras, .h5) as a .nn model block")
    i.add_argument("model", metavar="MODEL", help="a .keras or .h5 file")
    i.add_argument("-o", "--output", metavar="OUT", help="the .nn file to write (default: print it)")
    i.set_defaults(func=cmd_import)


def cmd_export(args) -> int:
    """Write the file as a Python script that uses only Keras, TensorFlow and NumPy."""
    from ..interop.eject import eject
    from ..semantics.check import check

    path = Path(args.file)
    text = read_source(args.file)
    if args.output is not None and Path(args.output).resolve() == path.resolve():
        raise UsageError(f"-o {args.output}: expected a path other than the .nn file itself")
    out = output_file(args.output, "script", reads={path: "the .nn file itself"})
    checked = check(parse_source(text, str(path)), overrides=parse_sets(args.set), nn_file=path)
    if out is not None:  # nor any file the program reads
        output_file(args.output, "script", reads=program_reads(checked))
    # Printed, the script is most likely redirected into a file in the current folder.
    script = eject(checked, source_path=path, output_path=out if out is not None else Path.cwd() / "script.py")
    return _deliver(script, out)


def cmd_import(args) -> int:
    """Write a saved Keras Sequential model as a ``.nn`` model block."""
    from ..interop.importer import import_model

    text = import_model(args.model)
    if args.output is not None and Path(args.output).resolve() == Path(args.model).resolve():
        raise UsageError(f"-o {args.output}: expected a path other than the model file itself")
    out = output_file(args.output, ".nn file", reads={Path(args.model): "the model file itself"})
    return _deliver(text, out)


def _deliver(text: str, out: Path | None) -> int:
    """Print ``text``, or write it atomically to ``out`` and say so on stderr."""
    if out is None:
        sys.stdout.write(text)
        return 0
    from ..run.files import atomic_write_text

    atomic_write_text(out, text)
    print(f"wrote {out}", file=sys.stderr)
    return 0

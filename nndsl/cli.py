"""The ``nndsl`` command line: check, fmt, parse, run, summary, predict, plugins.

``main(argv) -> int``. A user's mistake prints a located diagnostic and exits 1; a wrong
command line exits 2; anything else is a bug in nndsl and shows its traceback.
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import sys
from pathlib import Path

from . import __version__
from .errors import NndslError, UsageError


def _use_color(stream) -> bool:
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return hasattr(stream, "isatty") and stream.isatty()


def _report(exc: NndslError) -> int:
    print(exc.render(color=_use_color(sys.stderr)), file=sys.stderr)
    return exc.exit_code


def _read(path: str) -> str:
    p = Path(path)
    if not p.exists():
        raise UsageError(f"cannot read '{path}': expected an existing .nn file; received a path that does not exist")
    if p.is_dir():
        raise UsageError(f"cannot read '{path}': expected a .nn file; received a folder")
    data = p.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UsageError(f"cannot read '{path}': expected UTF-8 text; received bytes that are not (at offset {exc.start})") from None


def _parse_sets(items) -> dict[str, str]:
    out = {}
    for item in items or ():
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise UsageError(f"--set {item}: expected NAME=VALUE; received no '='")
        out[name.strip()] = value.strip()
    return out


# ---------------------------------------------------------------- commands


def cmd_check(args) -> int:
    from .semantics.check import check
    from .syntax.parser import parse

    status = 0
    for path in args.files:
        try:
            program = parse(_read(path), filename=path)
            checked = check(program, overrides=_parse_sets(args.set), keras=not args.language_only, max_params=args.max_params)
        except NndslError as exc:
            status = max(status, _report(exc))
            continue
        for w in getattr(checked, "warnings", ()):
            print(w.render(color=_use_color(sys.stderr)), file=sys.stderr)
        if not args.quiet:
            print(f"{path}: ok")
    return status


def cmd_fmt(args) -> int:
    from .formatter import format_program
    from .syntax.parser import parse

    status = 0
    for path in args.files:
        try:
            text = _read(path)
            program = parse(text, filename=path)
        except NndslError as exc:
            status = max(status, _report(exc))
            continue
        formatted = format_program(program)
        if formatted == text:
            continue
        if args.check or args.diff:
            diff = "".join(difflib.unified_diff(text.splitlines(True), formatted.splitlines(True), f"{path}", f"{path} (formatted)"))
            if _use_color(sys.stdout):
                from .highlight import print_diff

                print_diff(diff)
            else:
                print(diff, end="" if diff.endswith("\n") else "\n")
            if args.check:
                print(f"{path}: not formatted", file=sys.stderr)
                status = max(status, 1)
            continue
        from .run.files import atomic_write_text

        atomic_write_text(Path(path), formatted)
        print(f"formatted {path}")
    return status


def cmd_parse(args) -> int:
    from .syntax.json import to_json
    from .syntax.parser import parse

    try:
        program = parse(_read(args.file), filename=args.file)
    except NndslError as exc:
        return _report(exc)
    if args.json:
        json.dump(to_json(program), sys.stdout, indent=1 if args.indent else None)
        print()
    else:
        for stmt in program.statements:
            print(stmt)
    return 0


def cmd_plugins(args) -> int:
    from .plugins.registry import KINDS, registry

    if args.kind == "show":
        if not args.name:
            raise UsageError("plugins show: expected a NAME; received none")
        return _show_plugin(args.name)
    kinds = [args.kind] if args.kind else list(KINDS)
    for kind in kinds:
        if kind not in KINDS:
            from .errors import closest

            best = closest(kind, KINDS)
            raise UsageError(f"plugins {kind}: expected one of {', '.join(KINDS)}; received '{kind}'" + (f"; did you mean '{best}'?" if best else ""))
    from rich.console import Console
    from rich.table import Table

    console = Console()
    for kind in kinds:
        reg = registry(kind)
        table = Table(title=f"{kind} ({len(reg.names())})", show_lines=False)
        table.add_column("name")
        table.add_column("from")
        table.add_column("entry point")
        for e in reg.entries():
            origin = e.origin + (" (also " + ", ".join(r.origin for r in e.rivals) + ": conflict)" if e.rivals else "")
            table.add_row(e.name, origin, e.value)
        console.print(table)
    return 0


def _show_plugin(name: str) -> int:
    from .plugins.registry import KINDS, registry

    found = []
    for kind in KINDS:
        reg = registry(kind)
        resolved = reg.resolve(name)
        if resolved is not None:
            found.append((kind, reg.entry(resolved)))
    if not found:
        from .errors import closest

        every = [n for k in KINDS for n in registry(k).names()]
        best = closest(name, every, normalize=lambda s: s.replace("_", "").lower())
        raise UsageError(f"plugins show {name}: expected a registered name; received '{name}'" + (f"; did you mean '{best}'?" if best else ""))
    from .plugins.describe import describe_entry

    for kind, entry in found:
        print(describe_entry(kind, entry))
        print()
    return 0


# ---------------------------------------------------------------- argument parsing


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="nndsl", description="Define, train and ship Keras models from .nn files.")
    p.add_argument("--version", action="version", version=f"nndsl {__version__}")
    p.add_argument("--plugin", action="append", metavar="MODULE", default=[],
                   help="import MODULE first, so it can register names (plugins are never loaded from a .nn file)")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    c = sub.add_parser("check", help="check .nn files without running them (no TensorFlow needed)")
    c.add_argument("files", nargs="+", metavar="FILE")
    c.add_argument("--set", action="append", metavar="NAME=VALUE", help="override a let variable")
    c.add_argument("--language-only", action="store_true", help="skip the Keras checks (names, arguments, shapes)")
    c.add_argument("--max-params", type=int, default=None, metavar="N", help="refuse models with more parameters (default 1e9)")
    c.add_argument("-q", "--quiet", action="store_true", help="print nothing for files that pass")
    c.set_defaults(func=cmd_check)

    f = sub.add_parser("fmt", help="rewrite .nn files in the canonical layout")
    f.add_argument("files", nargs="+", metavar="FILE")
    f.add_argument("--check", action="store_true", help="change nothing; exit 1 and show a diff when a file is not formatted")
    f.add_argument("--diff", action="store_true", help="change nothing; show what would change")
    f.set_defaults(func=cmd_fmt)

    pa = sub.add_parser("parse", help="print the syntax tree")
    pa.add_argument("file", metavar="FILE")
    pa.add_argument("--json", action="store_true", help="as JSON (format documented in docs/language.md)")
    pa.add_argument("--indent", action="store_true", help="indent the JSON")
    pa.set_defaults(func=cmd_parse)

    pl = sub.add_parser("plugins", help="list registered names: plugins [KIND] or plugins show NAME")
    pl.add_argument("kind", nargs="?", metavar="KIND|show")
    pl.add_argument("name", nargs="?", metavar="NAME")
    pl.set_defaults(func=cmd_plugins)

    _add_run_commands(sub)
    from . import plot_command

    plot_command.add_parsers(sub)
    return p


def _add_run_commands(sub) -> None:
    from .interop import commands as interop_commands
    from .run import commands

    commands.add_parsers(sub)
    interop_commands.add_parsers(sub)


def _load_plugins(modules) -> None:
    import importlib

    for name in modules:
        try:
            importlib.import_module(name)
        except ImportError as exc:
            raise UsageError(f"--plugin {name}: expected an importable Python module; received {type(exc).__name__}: {exc}") from None


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help(sys.stderr)
        return 2
    try:
        _load_plugins(args.plugin)
        return args.func(args)
    except UsageError as exc:
        print(f"nndsl {args.command}: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except NndslError as exc:
        return _report(exc)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

"""The commands for writing ``.nn`` files: ``check``, ``fmt`` and ``parse``. None needs TensorFlow."""

from __future__ import annotations

import functools
import json
import os
import sys
from pathlib import Path

from ..errors import NndslError, UsageError
from .output import report, use_color, warn
from .running import memory_size
from .source import add_grant_arguments, grants, parameter_count, parse_sets, parse_source, read_source


def add_parsers(sub) -> None:
    c = sub.add_parser("check", help="check .nn files without running them (no TensorFlow needed)")
    c.add_argument("files", nargs="+", metavar="FILE", help="the .nn files to check")
    c.add_argument("--set", action="append", metavar="NAME=VALUE", help="override a let variable")
    c.add_argument("--language-only", action="store_true", help="skip the Keras checks (names, arguments, shapes)")
    c.add_argument("--max-params", type=parameter_count, default=None, metavar="N", help="refuse models with more parameters (default 1e9)")
    c.add_argument("-q", "--quiet", action="store_true", help="print nothing for files that pass")
    c.add_argument("--json", action="store_true",
                   help="print one JSON object per file: ok or its errors, and every path the program reads and writes")
    c.add_argument("--data", action="store_true",
                   help="also read the program's tables (csv, parquet, json) and check them against its models: input "
                        "widths, classes, the columns of later data (reads the files; no TensorFlow needed)")
    c.add_argument("--memory-budget", type=memory_size, default=None, metavar="SIZE",
                   help="with --data: tables estimated larger than SIZE (512MB, 2GiB) are read in record batches, never "
                        "whole (default: the file's `memory_budget` setting, else a quarter of this machine's memory)")
    add_grant_arguments(c)
    c.set_defaults(func=cmd_check)

    f = sub.add_parser("fmt", help="rewrite .nn files in the canonical layout")
    f.add_argument("files", nargs="+", metavar="FILE", help="the .nn files to format in place")
    f.add_argument("--check", action="store_true", help="change nothing; exit 1 and show a diff when a file is not formatted")
    f.add_argument("--diff", action="store_true", help="change nothing; show what would change")
    f.set_defaults(func=cmd_fmt)

    pa = sub.add_parser("parse", help="print the syntax tree")
    pa.add_argument("file", metavar="FILE", help="the .nn file to parse")
    pa.add_argument("--json", action="store_true", help="as JSON (format documented in docs/language.md)")
    pa.add_argument("--indent", action="store_true", help="indent the JSON")
    pa.set_defaults(func=cmd_parse)


def cmd_check(args) -> int:
    """Check each file in turn; every file is reported, the worst status is returned."""
    from ..semantics.check import check

    if args.data and args.language_only:
        raise UsageError("--data: expected the Keras checks, which the data is checked against; received --language-only")
    if args.memory_budget is not None and not args.data:
        raise UsageError("--memory-budget: expected --data, which reads the tables; received it alone")
    status = 0
    granted = grants(args)
    for path in args.files:
        facts = None
        try:
            program = parse_source(read_source(path), path)
            run_check = functools.partial(check, program, overrides=parse_sets(args.set), keras=not args.language_only,
                                          max_params=args.max_params, grants=granted, nn_file=path)
            if args.data:
                from ..data.check import check_with_data

                checked, facts = check_with_data(run_check, memory_budget=args.memory_budget)
            else:
                checked = run_check()
        except NndslError as exc:
            status = max(status, report(exc))
            if args.json:
                _print_json({"file": path, "ok": False, "errors": [_diagnostic_json(d) for d in exc.diagnostics]})
            continue
        warn(checked.warnings)
        if args.json:
            _print_json(_checked_json(path, checked, facts))
        elif not args.quiet:
            print(f"{path}: ok")
            for f in facts or ():
                print(f"  {f.line()}")
    return status


def _diagnostic_json(d) -> dict:
    out = {"code": d.code, "severity": d.severity, "message": d.message}
    if d.span is not None:
        out["line"], out["column"] = d.span.line, d.span.column
    if d.hint:
        out["hint"] = d.hint
    return out


def _checked_json(path: str, checked, facts=None) -> dict:
    """What ``check --json`` says of a file that passes: its reads and writes, resolved, and its
    warnings; with ``--data``, what each model takes from its table."""
    from ..paths import READ

    base = checked.nn_file.parent if checked.nn_file is not None else None
    out = {
        "file": path, "ok": True,
        "reads": [a.to_json(base) for a in checked.files if a.kind == READ],
        "writes": [a.to_json(base) for a in checked.files if a.kind != READ],
        "warnings": [_diagnostic_json(d) for d in checked.warnings],
    }
    if facts is not None:
        out["models"] = [f.to_json() for f in facts]
    return out


def _print_json(obj: dict) -> None:
    print(json.dumps(obj, ensure_ascii=False))


def cmd_fmt(args) -> int:
    """Rewrite each file in the canonical layout, or (``--check``, ``--diff``) show what would change."""
    from ..formatter import format_program

    status = 0
    for path in args.files:
        try:
            text = read_source(path)
            program = parse_source(text, path)
        except NndslError as exc:
            status = max(status, report(exc))
            continue
        formatted = format_program(program)
        if formatted == text:
            continue
        if args.check or args.diff:
            _show_diff(path, text, formatted)
            if args.check:
                print(f"{path}: not formatted", file=sys.stderr)
                status = max(status, 1)
            continue
        from ..run.files import atomic_write_text

        # a link is followed: the file it points to is formatted, and the link stays a link
        atomic_write_text(Path(os.path.realpath(path)), formatted)
        print(f"formatted {path}")
    return status


def _show_diff(path: str, text: str, formatted: str) -> None:
    import difflib

    diff = "".join(difflib.unified_diff(text.splitlines(True), formatted.splitlines(True), f"{path}", f"{path} (formatted)"))
    if use_color(sys.stdout):
        from ..highlight import print_diff

        print_diff(diff)
    else:
        print(diff, end="" if diff.endswith("\n") else "\n")


def cmd_parse(args) -> int:
    """Print the syntax tree of one file, as statements or as JSON."""
    from ..syntax.json import to_json

    try:
        program = parse_source(read_source(args.file), args.file)
    except NndslError as exc:
        return report(exc)
    if args.json:
        json.dump(to_json(program), sys.stdout, indent=1 if args.indent else None)
        print()
    else:
        for stmt in program.statements:
            print(stmt)
    return 0

"""The entry point: the argument parser of every command, ``--plugin`` modules, and ``main``."""

from __future__ import annotations

import argparse
import re
import sys

from ..errors import UsageError
from ..version import __version__
from . import authoring, evaluate, interop, lsp, plot, plugins, report, running, runs
from .output import exit_status

# A dotted module name: a path or an empty name would reach importlib, which raises its own errors.
_MODULE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*\Z")

# Each module adds its commands' parsers; the order is the order of `nndsl --help`.
COMMAND_MODULES = (authoring, plugins, running, evaluate, runs, report, interop, plot, lsp)


def build_parser() -> argparse.ArgumentParser:
    """The parser of the whole command line: global options, then one sub-parser per command."""
    p = argparse.ArgumentParser(prog="nndsl", description="Define, train and ship Keras models from .nn files.")
    p.add_argument("--version", action="version", version=f"nndsl {__version__}")
    p.add_argument("--plugin", action="append", metavar="MODULE", default=[],
                   help="import MODULE first, so it can register names (plugins are never loaded from a .nn file)")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    for module in COMMAND_MODULES:
        module.add_parsers(sub)
    return p


def load_plugins(modules) -> None:
    """Import each ``--plugin`` module, so that it can register names."""
    import importlib

    for name in modules:
        if not _MODULE_NAME.match(name):
            received = ("an empty name" if not name.strip() else
                        f"the path '{name}'" if "/" in name or "\\" in name or name.endswith(".py") else f"'{name}'")
            raise UsageError(f"--plugin {name}: expected the name of an importable module, such as my_plugin or package.module; "
                             f"received {received}")
        try:
            importlib.import_module(name)
        except ImportError as exc:
            raise UsageError(f"--plugin {name}: expected an importable Python module; received {type(exc).__name__}: {exc}") from None


def main(argv=None) -> int:
    """Run the command line ``argv`` (default: ``sys.argv[1:]``); its exit status.

    Args:
        argv: the arguments after the program's name.

    Returns:
        0 on success, 1 for a mistake in the user's files or data, 2 for a wrong command line,
        130 when interrupted.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help(sys.stderr)
        return 2

    def call() -> int:
        load_plugins(args.plugin)
        return args.func(args)

    return exit_status(args.command, call)

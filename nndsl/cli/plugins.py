"""``nndsl plugins``: the registered names of every kind, and ``plugins show NAME``."""

from __future__ import annotations

from ..errors import UsageError
from .output import suggestion


def add_parsers(sub) -> None:
    pl = sub.add_parser("plugins", help="list registered names: plugins [KIND] or plugins show NAME")
    pl.add_argument("kind", nargs="?", metavar="KIND|show")
    pl.add_argument("name", nargs="?", metavar="NAME")
    pl.set_defaults(func=cmd_plugins)


def cmd_plugins(args) -> int:
    """List the names of one kind, or of every kind, as tables."""
    from ..plugins.registry import KINDS, registry

    if args.kind == "show":
        if not args.name:
            raise UsageError("plugins show: expected a NAME; received none")
        return show_plugin(args.name)
    kinds = [args.kind] if args.kind else list(KINDS)
    for kind in kinds:
        if kind not in KINDS:
            raise UsageError(f"plugins {kind}: expected one of {', '.join(KINDS)}; received '{kind}'" + suggestion(kind, KINDS))
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


def show_plugin(name: str) -> int:
    """Describe every registered object called ``name``, whatever its kind."""
    from ..plugins.registry import KINDS, registry

    found = []
    for kind in KINDS:
        reg = registry(kind)
        resolved = reg.resolve(name)
        if resolved is not None:
            found.append((kind, reg.entry(resolved)))
    if not found:
        every = [n for k in KINDS for n in registry(k).names()]
        raise UsageError(f"plugins show {name}: expected a registered name; received '{name}'"
                         + suggestion(name, every, normalize=lambda s: s.replace("_", "").lower()))
    from ..plugins.describe import describe_entry

    for kind, entry in found:
        print(describe_entry(kind, entry))
        print()
    return 0

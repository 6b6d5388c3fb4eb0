"""``nndsl plugins``: the registered names of every kind, and ``plugins show NAME``."""

from __future__ import annotations

from ..errors import UsageError
from .output import suggestion


def add_parsers(sub) -> None:
    pl = sub.add_parser("plugins", help="list registered names: plugins [KIND] or plugins show NAME")
    pl.add_argument("kind", nargs="?", metavar="KIND|show", help="list one kind of names (layers, losses, ...), or 'show' one name")
    pl.add_argument("name", nargs="?", metavar="NAME", help="with 'show': the name to describe, with its parameters")
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
        rows = named_rows(reg)
        table = Table(title=f"{kind} ({len(rows)} names, {len(reg.names())} with aliases)", show_lines=False)
        # cells fold rather than end in '…': a name or entry point cut short is no use
        table.add_column("name", overflow="fold")
        table.add_column("aliases", overflow="fold")
        table.add_column("from", overflow="fold")
        table.add_column("entry point", overflow="fold")
        for e, aliases in rows:
            origin = e.origin + (" (also " + ", ".join(r.origin for r in e.rivals) + ": conflict)" if e.rivals else "")
            table.add_row(e.name, ", ".join(aliases), origin, e.value)
        console.print(table)
    return 0


def named_rows(reg) -> list:
    """One ``(entry, aliases)`` per object: the names standing for the same object (``AvgPool1D``
    for ``AveragePooling1D``) beside the name it is registered under as its own."""
    from ..errors import NndslError

    groups: dict = {}
    for e in reg.entries():
        try:
            canonical = reg.get(e.name).name
        except (NndslError, AttributeError):
            canonical = e.name  # a plugin that fails to load is listed, on a row of its own
        if canonical not in reg.names():
            canonical = e.name
        groups.setdefault(canonical, []).append(e)
    rows = []
    for canonical, entries in groups.items():
        head = next((e for e in entries if e.name == canonical), entries[0])
        rows.append((head, [e.name for e in entries if e is not head]))
    return sorted(rows, key=lambda row: row[0].name.lower())


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

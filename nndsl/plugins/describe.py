"""Human descriptions of registered names, for ``nndsl plugins show NAME``."""

from __future__ import annotations

from ..errors import NndslError
from .registry import Entry


def _fmt_default(p) -> str:
    if getattr(p, "required", False):
        return ""
    d = p.default
    return f" = {d!r}"


def describe_entry(kind: str, entry: Entry) -> str:
    lines = [f"{entry.name}  ({kind[:-1].replace('_', ' ')}, from {entry.origin}: {entry.value})"]
    try:
        obj = entry.obj if entry.loaded else _load(kind, entry)
    except NndslError as exc:
        return lines[0] + f"\n  cannot load: {exc}"
    doc = getattr(obj, "doc", None) or (getattr(obj, "__doc__", None) or "").strip().splitlines()[0:1]
    if isinstance(doc, list):
        doc = doc[0] if doc else ""
    if doc:
        lines.append(f"  {doc}")
    risk = getattr(obj, "risk", "")
    if risk:
        lines.append(f"  {_RISK_NOTES.get(risk, f'marked {risk!r}: refused in a .nn file')}")
    params = getattr(obj, "params", None)
    if params:
        lines.append("  parameters:")
        for p in params:
            typ = getattr(p, "type", "any")
            pdoc = getattr(p, "doc", "")
            marks = "".join(f" [{m}]" for m in (("function" if getattr(p, "callable", False) else ""), getattr(p, "path", "")) if m)
            lines.append(f"    {p.name}: {typ}{marks}{_fmt_default(p)}" + (f"  # {pdoc}" if pdoc else ""))
    return "\n".join(lines)


# What a marked name's description says (docs/security.md).
_RISK_NOTES = {
    "code": "runs Python code: refused in a .nn file (write a plugin instead)",
    "graph": "loads and runs a saved graph: refused in a .nn file (write a plugin instead)",
    "network": "opens network connections: needs --allow-network",
}


def _load(kind: str, entry: Entry):
    from .registry import registry

    return registry(kind).get(entry.name)

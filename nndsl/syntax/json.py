"""The AST as JSON, for other tools: ``nndsl parse FILE --json``.

Every node is an object ``{"type": "<NodeClass>", <fields>..., "span": {...}}`` where the
span holds ``start``/``end`` character offsets and 1-based ``line``/``column``/``end_line``/
``end_column``. Field names are those of :mod:`nndsl.ast` (``from_`` is written ``from``);
sequences are arrays; numbers keep their int/float type. ``from_json`` reads it back.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from .. import ast
from ..source import Span

_SPAN_FIELDS = ("span", "name_span", "verb_span")
_NODES = {cls.__name__: cls for cls in ast.ALL_NODES}
FORMAT_VERSION = 1


def _span_json(s: Span) -> dict:
    return {"start": s.start, "end": s.end, "line": s.line, "column": s.column, "end_line": s.end_line, "end_column": s.end_column}


def to_json(node: Any) -> Any:
    """A JSON-compatible structure for a node (or a tuple of nodes, or a plain value)."""
    if isinstance(node, tuple):
        return [to_json(x) for x in node]
    if not hasattr(node, "__dataclass_fields__"):
        return node
    out: dict[str, Any] = {"type": type(node).__name__}
    for f in fields(node):
        if f.name == "source" and isinstance(node, ast.Program):
            continue  # the Source object; a DataDecl's `source` is its call and is written
        value = getattr(node, f.name)
        key = "from" if f.name == "from_" else f.name
        if f.name in _SPAN_FIELDS:
            out[key] = _span_json(value)
        else:
            out[key] = to_json(value)
    for name in _SPAN_FIELDS:  # spans computed from other fields (a call's name_span) are written too
        if name not in out and hasattr(type(node), name):
            out[name] = _span_json(getattr(node, name))
    if isinstance(node, ast.Program):
        out["format_version"] = FORMAT_VERSION
    return out


def from_json(data: Any) -> Any:
    """The node that :func:`to_json` wrote."""
    if isinstance(data, list):
        return tuple(from_json(x) for x in data)
    if not isinstance(data, dict) or "type" not in data:
        return data
    cls = _NODES[data["type"]]
    kwargs = {}
    for f in fields(cls):
        key = "from" if f.name == "from_" else f.name
        if (f.name == "source" and cls is ast.Program) or key not in data:
            continue
        value = data[key]
        kwargs[f.name] = Span(**value) if f.name in _SPAN_FIELDS else from_json(value)
    return cls(**kwargs)

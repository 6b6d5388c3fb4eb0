"""Canonical spellings of plugin names, for the formatter (``dense`` -> ``Dense``)."""

from __future__ import annotations

from .. import ast
from .registry import registry

# Where an unqualified call name is looked up when its context is unknown, in order.
_CALL_KINDS = (
    "layers", "optimizers", "losses", "metrics", "callbacks", "initializers", "regularizers",
    "constraints", "schedules", "data_sources", "preprocessors",
)


def canonical_name(name: str, kinds=_CALL_KINDS) -> str:
    """The registered spelling of ``name`` in the first registry that knows it; ``name`` when none does."""
    for kind in kinds:
        if registry(kind).has(name):
            return name
    for kind in kinds:
        resolved = registry(kind).resolve(name)
        if resolved is not None:
            return resolved
    return name


def call_canonicalizer(program: ast.Program):
    """A function giving each call's canonical name; uses of the program's own blocks are left alone."""
    blocks = {s.name for s in program.statements if isinstance(s, ast.BlockDecl)}

    def canon(call: ast.Call) -> str:
        return call.name if call.name in blocks else canonical_name(call.name)

    return canon

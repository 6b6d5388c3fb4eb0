"""Canonical spellings of plugin names, for the formatter (``dense`` -> ``Dense``)."""

from __future__ import annotations

from .. import ast
from .registry import normalize, registry

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


# Parameter types whose bare names are looked up among registered names, and the kind of each.
_TYPE_KINDS = {
    "activation": "activations", "initializer": "initializers", "regularizer": "regularizers", "constraint": "constraints",
    "loss": "losses", "metric": "metrics", "metrics": "metrics", "optimizer": "optimizers",
}
#: The model properties whose value is a registered name (or a list of them), and the kind of each.
PROPERTY_KINDS = {"loss": "losses", "optimizer": "optimizers", "metrics": "metrics", "weighted_metrics": "metrics"}


class Canonicalizer:
    """Canonical spellings for a program: ``canon(call)`` gives a call's name (``dense`` -> ``Dense``);
    ``canon.symbol(kind, name)`` a bare name where a registered name of ``kind`` is expected
    (``Relu`` -> ``relu``); ``canon.argument_kind(call, index_or_keyword)`` which kind that is, for
    an argument of a call. Uses of the program's own blocks, and names its variables and block
    parameters hold, are left alone."""

    def __init__(self, program: ast.Program) -> None:
        self.blocks = {s.name for s in program.statements if isinstance(s, ast.BlockDecl)}
        self.variables = {s.name for s in program.statements if isinstance(s, ast.Let)}
        for s in program.statements:
            if isinstance(s, ast.BlockDecl):
                self.variables.update(p.name for p in s.params)

    def __call__(self, call: ast.Call) -> str:
        return call.name if call.name in self.blocks else canonical_name(call.name)

    def symbol(self, kind: str, name: str) -> str:
        reg = registry(kind)
        if name in self.variables or reg.has(name):
            return name
        # a bare name stands for Keras's string spelling (``he_normal``, ``adam``): the lower-case
        # registered name when there is one, else whatever the name resolves to
        key = normalize(name)
        lower = sorted(n for n in reg.names() if normalize(n) == key and n == n.lower())
        if lower:
            return lower[0]
        return reg.resolve(name) or name

    def property_kind(self, name: str) -> str | None:
        return PROPERTY_KINDS.get(name)

    def argument_kind(self, call: ast.Call, where) -> str | None:
        if call.name in self.blocks:
            return None
        for kind in _CALL_KINDS:
            resolved = registry(kind).resolve(call.name)
            if resolved is None:
                continue
            try:
                spec = registry(kind).get(resolved)
            except Exception:  # a plugin that fails to load: its arguments are left as written
                return None
            params = list(getattr(spec, "params", ()))
            if isinstance(where, int):
                param = params[where] if where < len(params) else None
            else:
                param = next((p for p in params if p.name == where), None)
            return _TYPE_KINDS.get(param.type) if param is not None else None
        return None


def call_canonicalizer(program: ast.Program) -> Canonicalizer:
    """Canonical spellings of the program's calls and registered names (see :class:`Canonicalizer`)."""
    return Canonicalizer(program)

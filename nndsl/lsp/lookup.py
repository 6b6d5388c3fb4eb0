"""What a name in a program stands for: which registry a call or bare name is looked up in,
given where it is written, and how its spec is shown (signature, documentation, parameters).

Hover and completion share these answers; both read registries and the catalogue, never Keras.
"""

from __future__ import annotations

from typing import Any

from .. import ast
from ..catalogue import catalogue
from ..errors import NndslError
from ..plugins.registry import registry
from ..plugins.spec import MISSING
from ..semantics.keras_check import COMPILE_ARGS
from ..semantics.types import describe_type

# Parameter types naming a registry kind: the value written there is looked up in it.
TYPE_KINDS = {
    "activation": "activations", "initializer": "initializers", "regularizer": "regularizers",
    "constraint": "constraints", "layer": "layers", "loss": "losses", "metric": "metrics",
    "optimizer": "optimizers", "schedule": "schedules", "callback": "callbacks", "metrics": "metrics",
    "callbacks": "callbacks",
}

# Model properties whose value is looked up in a registry; compile arguments come from COMPILE_ARGS.
PROPERTY_KINDS = {
    **{name: TYPE_KINDS[t] for name, t in COMPILE_ARGS.items() if t in TYPE_KINDS},
    "scale_features": "preprocessors", "scale_target": "preprocessors",
}

# Where a name of unknown purpose is looked for, most likely first.
GUESS_KINDS = ("layers", "optimizers", "losses", "metrics", "callbacks", "activations", "initializers",
               "regularizers", "constraints", "schedules", "data_sources", "preprocessors")

# The catalogue's kinds (the Keras ones): the others are nndsl's own registries.
_CATALOGUE_KINDS = ("activations", "callbacks", "constraints", "initializers", "layers", "losses", "metrics",
                    "optimizers", "regularizers", "schedules")


def singular(kind: str) -> str:
    """``"losses"`` -> ``"loss"``, ``"data_sources"`` -> ``"data source"``: one name of a kind, in words."""
    word = kind.replace("_", " ")
    if word.endswith("sses"):
        return word[:-2]
    return word.removesuffix("s")


def spec_of(kind: str, name: str):
    """The registered spec of ``name`` among ``kind`` (resolved as the checker does), or None."""
    reg = registry(kind)
    resolved = reg.resolve(name)
    if resolved is None:
        return None
    try:
        return reg.get(resolved)
    except NndslError:  # a broken plugin: the diagnostics say so; hover shows nothing
        return None


def guess(name: str, kinds=GUESS_KINDS) -> tuple[str, Any] | tuple[None, None]:
    """The first of ``kinds`` that has ``name``, and its spec."""
    for kind in kinds:
        spec = spec_of(kind, name)
        if spec is not None:
            return kind, spec
    return None, None


def render_default(value: Any) -> str:
    """A parameter's default as it would be written in a program."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value if value.isidentifier() else '"' + value.replace('"', '\\"') + '"'
    if isinstance(value, tuple):
        inner = ", ".join(render_default(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if isinstance(value, list):
        return "[" + ", ".join(render_default(v) for v in value) + "]"
    return repr(value)


def type_words(type_name: str, nullable: bool = False) -> str:
    """A parameter type in words: ``an activation or none``, ``a positive integer``."""
    if type_name in TYPE_KINDS:
        word = singular(TYPE_KINDS[type_name]) + ("s" if type_name in ("metrics", "callbacks") else "")
        text = f"{'an' if word[0] in 'aeiou' else 'a'} {word}" if not word.endswith("s") else f"a list of {word}"
        return f"{text} or none" if nullable else text
    return describe_type(type_name, nullable)


def describe_param(p) -> str:
    """``units: a positive integer = 32``: a parameter's type and default, on one line."""
    text = f"{p.name}: {type_words(p.type, p.nullable)}"
    if p.default is not MISSING:
        text += f" = {render_default(p.default)}"
    return text


def signature(spec, *, call: bool = True) -> str:
    """The spec's signature as a program would call it: ``Dense(units, activation=none, ...)``."""
    params = getattr(spec, "params", ())
    parts = []
    for p in params:
        parts.append(p.name if p.default is MISSING else f"{p.name}={render_default(p.default)}")
    if getattr(spec, "var_positional", None):
        parts.append("*args")
    return f"{spec.name}({', '.join(parts)})" if call else spec.name


def documentation(kind: str | None, spec) -> str:
    """A name's documentation: the catalogue's description of a Keras name, else its spec's summary."""
    if kind in _CATALOGUE_KINDS:
        entry = catalogue()["kinds"].get(kind, {}).get(spec.name, {})
        if entry.get("description"):
            return entry["description"]
    return getattr(spec, "doc", "") or ""


def catalogue_summary(kind: str, name: str) -> str:
    """The one-sentence summary the catalogue holds for a Keras name, or ``""`` (cheap: no spec is built)."""
    if kind not in _CATALOGUE_KINDS:
        return ""
    return catalogue()["kinds"].get(kind, {}).get(name, {}).get("doc", "")


def kind_at(path: list) -> str | None:
    """The registry a call or name ending ``path`` (statement first, node last) is looked up in,
    or None when its place does not say."""
    node = path[-1]
    i = len(path) - 2
    # a list, tuple or dict holds items of the same kind as itself (``metrics [mae, mse]``)
    while i >= 0 and isinstance(path[i], (ast.List, ast.Tuple, ast.Dict, ast.Pair)):
        node = path[i]
        i -= 1
    if i < 0:
        return None
    parent = path[i]
    if isinstance(parent, ast.Layer):
        return "layers"
    if isinstance(parent, ast.DataDecl):
        return "data_sources"
    if isinstance(parent, ast.Property):
        return PROPERTY_KINDS.get(parent.name)
    if isinstance(parent, ast.Keyword) and i >= 1:
        owner = path[i - 1]
        p = param_of(path[: i], parent.name)
        if p is not None:
            if p.type == "data":
                return "data"
            return TYPE_KINDS.get(p.type)
        if isinstance(owner, ast.Call) and owner.name == "Sequential":
            return "layers"
    if isinstance(parent, ast.Call) and parent.name == "Sequential":
        return "layers"
    if isinstance(parent, ast.Step) and node is parent.on:
        return "data"
    return None


def spec_at(path: list):
    """The spec of the call or step ending ``path``, or None."""
    node = path[-1]
    if isinstance(node, ast.Step):
        return spec_of("steps", node.verb)
    if not isinstance(node, ast.Call):
        return None
    kind = kind_at(path)
    if kind is not None and kind != "data":
        return spec_of(kind, node.name)
    return guess(node.name)[1]


def param_of(path: list, name: str):
    """The parameter ``name`` of the call or step ending ``path``, or None."""
    spec = spec_at(path)
    return spec.param(name) if spec is not None and hasattr(spec, "param") else None

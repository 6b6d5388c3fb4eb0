"""Every public Keras name as a spec, read from the committed catalogue (``nndsl/catalogue/keras.json``).

Entry points name objects such as ``nndsl.builtins.keras:layers.Dense``; the namespaces below
build the :class:`~nndsl.plugins.spec.LayerSpec` on first access. Nothing here imports Keras:
the catalogue was generated from it by ``python -m nndsl.tools.gen_catalogue``.
"""

from __future__ import annotations

import functools
from typing import Any

from ..catalogue import catalogue
from ..plugins.spec import LAYER_BASE_PARAMS, MISSING, LayerSpec, ParamSpec


def _default(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"tuple"}:
            return tuple(_default(v) for v in value["tuple"])
        if set(value) == {"repr"}:
            return value["repr"]
        return {k: _default(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_default(v) for v in value]
    return value


_MODULES = {
    "layers": "keras.layers", "activations": "keras.activations", "losses": "keras.losses",
    "optimizers": "keras.optimizers", "schedules": "keras.optimizers.schedules", "metrics": "keras.metrics",
    "initializers": "keras.initializers", "regularizers": "keras.regularizers", "constraints": "keras.constraints",
    "callbacks": "keras.callbacks",
}


def spec_for(kind: str, name: str) -> LayerSpec:
    """The spec of a catalogue name (aliases resolve to their canonical spec, under the canonical name)."""
    entries = catalogue()["kinds"][kind]
    entry = entries[name]
    seen = {name}
    while "alias_of" in entry:
        name = entry["alias_of"]
        if name in seen:
            break
        seen.add(name)
        entry = entries[name]
    return _build_spec(kind, name)


@functools.cache
def _build_spec(kind: str, name: str) -> LayerSpec:
    entry = catalogue()["kinds"][kind][name]
    params = []
    for p in entry.get("params", ()):
        if p.get("kind") in ("var_positional", "var_keyword"):
            continue
        default = _default(p["default"]) if not p.get("required") and "default" in p else MISSING
        params.append(ParamSpec(p["name"], p.get("type", "any"), default, p.get("doc", ""), bool(p.get("nullable")),
                                bool(p.get("callable")), p.get("path", "")))
    var_kw = bool(entry.get("var_keyword"))
    if kind == "layers" and entry.get("kind") == "class" and var_kw:
        have = {p.name for p in params}
        params.extend(bp for bp in LAYER_BASE_PARAMS if bp.name not in have)
    qual = entry.get("qualname") or f"{_MODULES[kind]}.{name}"
    module, _, attr = qual.rpartition(".")
    infer = count = None
    if kind == "layers":
        infer, count = _shape_rules(name)
    return LayerSpec(
        name=name, doc=entry.get("doc", ""), impl=f"{module}:{attr}", params=tuple(params),
        var_keyword=var_kw, var_positional=bool(entry.get("var_positional")), kind=entry.get("kind", "class"),
        infer_shape=infer, count_params=count, compile_special=bool(entry.get("compile_special")), risk=entry.get("risk", ""),
    )


def _shape_rules(name: str):
    """The static shape rule and parameter count of a Keras layer, when :mod:`nndsl.semantics.shapes` has one."""
    from ..semantics import shapes

    if name not in shapes.RULES:
        return None, None

    def infer(args, input_shape, _name=name):
        return shapes.infer_shape(_name, args, input_shape)

    def count(args, input_shape, output_shape, _name=name):
        return shapes.count_params(_name, args, input_shape, output_shape)

    return infer, count


class _Namespace:
    """``layers.Dense`` -> the spec of Dense, built on first access."""

    def __init__(self, kind: str) -> None:
        self._kind = kind

    def __getattr__(self, name: str) -> LayerSpec:
        if name.startswith("__"):
            raise AttributeError(name)
        try:
            return spec_for(self._kind, name)
        except KeyError:
            raise AttributeError(f"Keras {self._kind} has no '{name}' in the catalogue") from None


layers = _Namespace("layers")
activations = _Namespace("activations")
losses = _Namespace("losses")
optimizers = _Namespace("optimizers")
schedules = _Namespace("schedules")
metrics = _Namespace("metrics")
initializers = _Namespace("initializers")
regularizers = _Namespace("regularizers")
constraints = _Namespace("constraints")
callbacks = _Namespace("callbacks")

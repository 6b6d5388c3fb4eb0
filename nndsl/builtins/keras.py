"""Every public Keras name as a spec, read from the committed catalogue (``nndsl/catalogue/keras.json``).

Entry points name objects such as ``nndsl.builtins.keras:layers.Dense``; the namespaces below
build the :class:`~nndsl.plugins.spec.LayerSpec` on first access. Nothing here imports Keras:
the catalogue was generated from it by ``python -m nndsl.tools.gen_catalogue``.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from ..plugins.spec import _MISSING, LayerSpec, ParamSpec

CATALOGUE = Path(__file__).resolve().parent.parent / "catalogue" / "keras.json"

# Keyword arguments every Keras layer takes through **kwargs (keras.layers.Layer and its input helpers).
LAYER_BASE_PARAMS = (
    ParamSpec("name", "str", None, "The layer's name.", True),
    ParamSpec("dtype", "any", None, "The layer's dtype policy, e.g. float32 or mixed_float16.", True),
    ParamSpec("trainable", "bool", True, "Whether the layer's weights are updated by training."),
    ParamSpec("autocast", "bool", True, "Cast inputs to the layer's compute dtype."),
    ParamSpec("activity_regularizer", "regularizer", None, "Regularizer on the layer's output.", True),
    ParamSpec("input_shape", "shape", None, "Keras-2 style input shape of the first layer.", True),
    ParamSpec("input_dim", "positive_int", None, "Keras-2 style input width of the first layer.", True),
    ParamSpec("batch_size", "positive_int", None, "Fixed batch size of the first layer.", True),
)


@functools.lru_cache(maxsize=None)
def catalogue() -> dict:
    """The parsed catalogue: ``{"keras_version": ..., "kinds": {kind: {name: entry}}}``."""
    return json.loads(CATALOGUE.read_text(encoding="utf-8"))


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


@functools.lru_cache(maxsize=None)
def _build_spec(kind: str, name: str) -> LayerSpec:
    entry = catalogue()["kinds"][kind][name]
    params = []
    for p in entry.get("params", ()):
        if p.get("kind") in ("var_positional", "var_keyword"):
            continue
        default = _default(p["default"]) if not p.get("required") and "default" in p else _MISSING
        params.append(ParamSpec(p["name"], p.get("type", "any"), default, p.get("doc", ""), bool(p.get("nullable"))))
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
        infer_shape=infer, count_params=count, compile_special=bool(entry.get("compile_special")),
    )


def _shape_rules(name: str):
    try:
        from ..semantics import shapes
    except ImportError:  # pragma: no cover
        return None, None
    if name not in getattr(shapes, "RULES", {}):
        return None, None

    def infer(args, input_shape, _name=name):
        return shapes.infer_shape(_name, args, input_shape)

    def count(args, input_shape, output_shape, _name=name):
        fn = getattr(shapes, "count_params", None)
        return fn(_name, args, input_shape, output_shape) if fn else None

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

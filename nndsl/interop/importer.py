"""``import_model(path) -> str``: a saved Keras ``Sequential`` model as a ``.nn`` model block.

The block rebuilds the model: ``Input(shape=...)``, then each layer as a call with only the
arguments that differ from a freshly constructed layer of the same class (so ``Dense(50,
activation=relu)``, not its twenty defaults), and the compile settings the file holds (loss,
optimizer with its non-default arguments, metrics). Nested objects become nested calls:
``Bidirectional(LSTM(64))``, ``kernel_initializer=HeNormal(seed=1)``.

The text is formatted canonically and checked with ``nndsl.check``; then it is built and each
layer's configuration compared with the file's, so an import is never silently different.
Weights are not part of a ``.nn`` file: they stay in the saved file (``load M from "file"``).

Only ``Sequential`` models can be imported: a ``.nn`` model is a stack of layers, each feeding
the next. Layers nndsl's preprocessing added (a first ``Normalization`` with fixed mean and
variance, a last ``Normalization(invert=true)``) are imported as ordinary layers with their
values. A model nndsl trained on a table is saved behind the layers that encode its named raw
columns (:mod:`nndsl.run.tablemodel`); that encoding is fitted on the training data, not
written in a ``.nn`` file, so the ``Sequential`` it feeds is what is imported.
"""

from __future__ import annotations

import inspect
import math
import re
import warnings
from pathlib import Path

from ..errors import NndslError, RunError, UsageError
from ..formatter import quote
from ..plugins.registry import normalize, registry
from ..vocabulary import RESERVED

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
# The language's reserved words, and Python's constants (which would read as names, not values).
_RESERVED = {*RESERVED, "True", "False", "None"}

# Where a serialized Keras object's "module" puts it among nndsl's kinds of names.
_MODULE_KINDS = {
    "keras.layers": "layers", "keras.initializers": "initializers", "keras.regularizers": "regularizers",
    "keras.constraints": "constraints", "keras.optimizers": "optimizers", "keras.optimizers.schedules": "schedules",
    "keras.losses": "losses", "keras.metrics": "metrics", "keras.activations": "activations",
}
# Compile arguments written as properties, with the value Keras uses when they are not given.
_COMPILE_DEFAULTS = {"loss_weights": None, "run_eagerly": False, "steps_per_execution": 1, "auto_scale_loss": True}


def import_model(path) -> str:
    """The ``.nn`` text of a model block that rebuilds the saved Keras model at ``path``.

    Raises:
        UsageError: ``path`` is missing or a folder.
        RunError: Keras cannot load the file, the model is not Sequential, or it holds
            something a ``.nn`` file cannot write.
    """
    path = Path(path)
    if not path.exists():
        raise UsageError(f"cannot read '{path}': expected a saved .keras or .h5 model file; received a path that does not exist")
    if path.is_dir():
        raise UsageError(f"cannot read '{path}': expected a saved .keras or .h5 model file; received a folder "
                         "(a serving export holds a traced graph, not layers to import)")
    from ..run.quiet import prepare

    prepare(False)
    import keras

    from ..run.modelmeta import BadMeta, read_checked

    try:
        meta = read_checked(path)
    except BadMeta as exc:
        raise RunError(f"{path.name}: {exc.refusal()}; {exc.hint}") from None
    model = _table_core(_load(path), meta)
    if not isinstance(model, keras.Sequential):
        kind = "functional" if type(model).__name__ == "Functional" else f"subclassed ({type(model).__name__})"
        raise RunError(
            f"{path.name}: expected a Sequential model; received a {kind} model. Only Sequential models can be imported: "
            "a .nn model is a stack of layers, each feeding the next, while the layers of a functional model form a graph "
            "that may branch and merge, and a subclassed model's forward pass is Python code"
        )
    importer = _Importer(keras, path)
    text = importer.model_text(model)
    from ..formatter import format_program
    from ..semantics.check import check
    from ..syntax.parser import parse

    formatted = format_program(parse(text, filename=f"<import of {path.name}>"))
    try:
        checked = check(formatted, filename=f"<import of {path.name}>")
    except NndslError as exc:
        raise RunError(f"{path.name}: the imported model does not pass nndsl check, so it cannot be written as a .nn file:\n"
                       f"{exc.render()}\n\n{formatted}") from None
    importer.verify(model, checked)
    return formatted


def _load(path: Path):
    import keras

    from ..run.steps import import_plugin_objects

    import_plugin_objects()  # plugin layers register their classes with Keras when imported
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return keras.models.load_model(path, safe_mode=True)
        except Exception:
            pass
        try:  # the compile settings may be what fails (a loss Keras cannot rebuild): the layers alone
            return keras.models.load_model(path, safe_mode=True, compile=False)
        except Exception as exc:
            text = str(exc)
            detail = (text.strip().splitlines() or [""])[0][:200]
            if "safe_mode" in text or "arbitrary code" in text:
                why = ("Keras's safe mode refuses code stored in a model file, such as a Lambda layer's function, "
                       "and a .nn model cannot hold code either")
            else:
                why = "it may be truncated, corrupted, not a model, saved by a newer Keras, or use a class no plugin provides"
            raise RunError(f"{path.name}: expected a Keras model file; received a file Keras cannot load "
                           f"({type(exc).__name__}: {detail}); {why}") from None


def _table_core(model, meta: dict):
    """The ``Sequential`` a saved table model wraps, compiled as the file's model is; any other
    model as it is. Only a file whose ``nndsl.json`` holds a table is unwrapped: a functional
    model of someone else's with a model inside is refused as functional, not cut apart."""
    from ..run.tablemodel import core_of

    if not meta.get("table"):
        return model
    core = core_of(model)
    if core is not model:
        config = model.get_compile_config() if model.compiled else None
        if config:
            core.compile_from_config(config)
    return core


def model_name(path: Path) -> str:
    """The model block's name: the file's stem as an identifier."""
    name = re.sub(r"[^A-Za-z0-9_]", "_", path.stem)
    if not name or name[0].isdigit():
        name = f"m_{name}"
    if name in _RESERVED:
        name = f"{name}_model"
    return name


class _Importer:
    def __init__(self, keras, path: Path) -> None:
        self.keras = keras
        self.path = path

    # ------------------------------------------------------------ the model block
    def model_text(self, model) -> str:
        config = model.get_config()
        layers = config.get("layers") or []
        if not layers or layers[0].get("class_name") != "InputLayer":
            raise RunError(f"{self.path.name}: expected a model with a known input shape; received a Sequential model that was never built")
        lines = [self.input_call(layers[0]["config"])]
        for layer in model.layers:
            lines.append(self.object_call(layer, "layers", top=True))
        if len(lines) == 1:
            raise RunError(f"{self.path.name}: expected a model with at least one layer; received an empty Sequential model")
        compile_lines = self.compile_lines(model)
        if not _NAME.match(model.name) or model.name in _RESERVED:
            # a Keras name no model block can have ("2024-prices"): kept by the name property
            compile_lines.append(f"name {self.value(model.name)}")
        name = model_name(self.path)
        # The model's and the file's names come from the input: written as string literals, which
        # hold no line break, they stay inside their comment whatever characters they hold.
        head = [
            f"# The layers and compile settings of the Keras Sequential model {quote(str(model.name))}, imported from",
            f"# {quote(self.path.name)}. Its trained weights stay in that file; to use them:",
            f"#     load {name} from {quote(self.path.name)}",
            f"model {name} {{",
        ]
        body = [f"    {line}" for line in lines]
        if compile_lines:
            body.append("")
            body.extend(f"    {line}" for line in compile_lines)
        return "\n".join(head + body + ["}", ""])

    def input_call(self, cfg: dict) -> str:
        shape = tuple(cfg.get("batch_shape") or ())
        if not shape:
            raise RunError(f"{self.path.name}: expected an input shape; received an InputLayer without one")
        args = [f"shape={self.value(tuple(shape[1:]))}"]
        if shape[0] is not None:
            args.append(f"batch_size={self.value(shape[0])}")
        dtype = cfg.get("dtype")
        if isinstance(dtype, dict):
            dtype = (dtype.get("config") or {}).get("name")
        if dtype and dtype != self.keras.config.floatx():
            args.append(f"dtype={self.value(dtype)}")
        for flag in ("sparse", "ragged", "optional"):
            if cfg.get(flag):
                args.append(f"{flag}=true")
        return f"Input({', '.join(args)})"

    # ------------------------------------------------------------ objects as calls
    def registered(self, kind: str, cls) -> str:
        """The nndsl name of a Keras (or plugin) class, checked to stand for that very class."""
        from ..plugins.spec import load_impl

        reg = registry(kind)
        name = reg.resolve(cls.__name__)
        if name is not None:
            try:
                if load_impl(reg.get(name).impl) is cls:
                    return reg.get(name).name
            except Exception:
                pass
        raise RunError(f"{self.path.name}: expected Keras {kind} (or a plugin's) that nndsl knows; received the class "
                       f"{cls.__module__}.{cls.__qualname__}, which is not registered as a .nn name")

    def default_config(self, cls, config: dict) -> dict | None:
        """The configuration of a freshly constructed ``cls``, its required arguments taken from ``config``."""
        try:
            sig = inspect.signature(cls.__init__)
        except (TypeError, ValueError):
            return None
        required = {}
        for p in list(sig.parameters.values())[1:]:
            if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) or p.default is not p.empty:
                continue
            if p.name not in config:
                return None
            required[p.name] = self.live(config[p.name])
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return cls(**required).get_config()
        except Exception:
            return None

    def live(self, value):
        """A configuration value as the constructor takes it: serialized objects deserialized."""
        if _serialized(value):
            return self.keras.saving.deserialize_keras_object(value, safe_mode=True)
        return value

    def object_call(self, obj, kind: str, top: bool = False) -> str:
        """``Name(args...)`` for a Keras object, with only the arguments that differ from its defaults."""
        keras = self.keras
        if isinstance(obj, keras.Sequential):
            inner = [self.object_call(layer, "layers") for layer in obj.layers]
            extra = [] if obj.trainable else ["trainable=false"]
            return f"Sequential({', '.join(inner + extra)})"
        cls = type(obj)
        name = self.registered(kind, cls)
        spec = registry(kind).get(name)
        config = without_adapted_state(obj.get_config(), cls.__name__)
        default = self.default_config(cls, config) or {}
        params = [p for p in spec.params]
        known = {p.name for p in params}
        args: dict[str, str] = {}
        for key, value in config.items():
            if key == "name":
                if top and isinstance(value, str) and not _auto_name(value, cls):
                    args[key] = self.value(value)
                continue
            if key in default and _same(value, default[key]):
                continue
            if key not in known:
                continue  # not a constructor argument (set by Keras itself, e.g. by a wrapper): checked by rebuilding
            args[key] = self.argument(key, value, kind)
        required = [p.name for p in params if p.required]
        for key in required:
            if key not in args and key in config:
                args[key] = self.argument(key, config[key], kind)
        parts = []
        positional = True
        for p in params:
            if p.name not in args:
                positional = False
                continue
            if positional and p.required and _positional(kind, spec.name, p.name):
                parts.append(args.pop(p.name))
            else:
                positional = False
        parts.extend(f"{k}={v}" for k, v in sorted(args.items(), key=lambda kv: _order(params, kv[0])))
        return f"{name}({', '.join(parts)})"

    def argument(self, key: str, value, kind: str) -> str:
        if (key == "dtype" and isinstance(value, dict)
                and value.get("class_name") in ("DTypePolicy", "FloatDTypePolicy", "QuantizedDTypePolicy")):
            return self.value((value.get("config") or {}).get("name"))
        return self.value(value)

    def value(self, value) -> str:
        """A configuration value in .nn syntax."""
        if _serialized(value):
            obj = self.live(value)
            if not hasattr(obj, "get_config"):
                return self.value(value.get("config"))
            kind = _MODULE_KINDS.get(value.get("module") or "") or self.kind_of(obj)
            return self.object_call(obj, kind)
        if hasattr(value, "get_config") and not isinstance(value, (dict, list, tuple, str)):
            return self.object_call(value, self.kind_of(value))
        if hasattr(value, "tolist"):  # NumPy scalars and arrays
            value = value.tolist()
        if value is None:
            return "none"
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int):
            return str(value)
        if isinstance(value, float):
            if not math.isfinite(value):
                raise RunError(f"{self.path.name}: expected finite numbers; received {value}, which a .nn file cannot write")
            return repr(value)
        if isinstance(value, str):
            if ">" in value and registry("activations").resolve(value.rsplit(">", 1)[1]) is not None:
                value = value.rsplit(">", 1)[1]  # a plugin's activation, registered with Keras as "package>name"
            if _NAME.match(value) and value not in _RESERVED and value.isascii():
                return value
            return quote(value)
        if isinstance(value, tuple):
            items = [self.value(v) for v in value]
            return f"({items[0]},)" if len(items) == 1 else f"({', '.join(items)})"
        if isinstance(value, list):
            return f"[{', '.join(self.value(v) for v in value)}]"
        if isinstance(value, dict):
            return "{" + ", ".join(f"{self.value(k)}: {self.value(v)}" for k, v in value.items()) + "}"
        raise RunError(f"{self.path.name}: expected values a .nn file can write; received {type(value).__name__} {value!r}")

    def kind_of(self, obj) -> str:
        keras = self.keras
        for kind, base in (("layers", keras.layers.Layer), ("initializers", keras.initializers.Initializer),
                           ("regularizers", keras.regularizers.Regularizer), ("constraints", keras.constraints.Constraint),
                           ("schedules", keras.optimizers.schedules.LearningRateSchedule), ("optimizers", keras.optimizers.Optimizer),
                           ("losses", keras.losses.Loss), ("metrics", keras.metrics.Metric)):
            if isinstance(obj, base):
                return kind
        raise RunError(f"{self.path.name}: expected a Keras layer, initializer, regularizer, constraint, schedule, optimizer, loss "
                       f"or metric; received {type(obj).__name__}")

    # ------------------------------------------------------------ compile settings
    def compile_lines(self, model) -> list[str]:
        try:
            cc = model.get_compile_config() if getattr(model, "compiled", False) else None
        except Exception:
            cc = None
        if not cc:
            return []
        lines = []
        if cc.get("loss") is not None:
            lines.append(f"loss {self.loss(cc['loss'])}")
        if cc.get("optimizer") is not None:
            lines.append(f"optimizer {self.optimizer(cc['optimizer'])}")
        for key in ("metrics", "weighted_metrics"):
            if cc.get(key):
                items = cc[key] if isinstance(cc[key], (list, tuple)) else [cc[key]]
                lines.append(f"{key} [{', '.join(self.metric(m) for m in items)}]")
        for key, default in _COMPILE_DEFAULTS.items():
            if key in cc and cc[key] is not None and not _same(cc[key], default):
                lines.append(f"{key} {self.value(cc[key])}")
        if cc.get("jit_compile") is True:
            lines.append("jit_compile true")
        return lines

    def loss(self, value) -> str:
        if isinstance(value, (list, tuple)):
            return f"[{', '.join(self.loss(v) for v in value)}]"
        if isinstance(value, dict) and not _serialized(value):
            return "{" + ", ".join(f"{self.value(k)}: {self.loss(v)}" for k, v in value.items()) + "}"
        if _serialized(value) and value.get("class_name") == "function":
            return self.value(value.get("config"))
        obj = self.live(value)
        if isinstance(obj, str) or obj is None:
            return self.value(obj)
        if not isinstance(obj, self.keras.losses.Loss):
            return self.value(getattr(obj, "__name__", str(obj)))
        return self.named_object(obj, "losses", keep_name=False)

    def optimizer(self, value) -> str:
        obj = self.live(value)
        if isinstance(obj, str):
            return self.value(obj)
        return self.named_object(obj, "optimizers", keep_name=False, float32=True)

    def metric(self, value) -> str:
        if _serialized(value) and value.get("class_name") == "function":
            return self.value(value.get("config"))
        obj = self.live(value)
        if isinstance(obj, str) or obj is None:
            return self.value(obj)
        if not isinstance(obj, self.keras.metrics.Metric):
            return self.value(getattr(obj, "__name__", str(obj)))
        cls = type(obj)
        config = obj.get_config()
        default = self.default_config(cls, config) or {}
        rest = {k: v for k, v in config.items() if k != "name" and not (k in default and _same(v, default[k]))}
        reg = registry("metrics")
        written = config.get("name")
        resolved = reg.resolve(written) if isinstance(written, str) and _NAME.match(written) else None
        if not rest and resolved is not None and not _compile_special("metrics", written):
            from ..plugins.spec import load_impl

            try:
                if load_impl(reg.get(resolved).impl) is cls:
                    return written  # nndsl compiles `mae` as MeanAbsoluteError(name="mae")
            except Exception:
                pass
        return self.named_object(obj, "metrics", keep_name=True)

    def named_object(self, obj, kind: str, keep_name: bool, float32: bool = False) -> str:
        """A loss, optimizer or metric: its lower-case registered name when every argument is the default,
        else a call with the arguments that are not."""
        cls = type(obj)
        name = self.registered(kind, cls)
        config = obj.get_config()
        default = self.default_config(cls, config) or {}
        spec = registry(kind).get(name)
        known = {p.name for p in spec.params}
        args = []
        for key, value in config.items():
            if key == "name" and not keep_name:
                continue
            if key in default and _same(value, default[key]):
                continue
            if key not in known:
                continue
            if float32 and isinstance(value, float):
                value = _short_float32(value)
            args.append(f"{key}={self.value(value)}")
        if not args:
            lower = [n for n in registry(kind).names() if not n[:1].isupper() and normalize(n) == normalize(name)
                     and not _compile_special(kind, n)]
            if lower:
                return sorted(lower)[0]
        return f"{name}({', '.join(args)})"

    # ------------------------------------------------------------ the safety net
    def verify(self, original, checked) -> None:
        """Build the imported text and compare it, layer by layer, with the saved model."""
        from ..compile.keras import build_model

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            rebuilt = build_model(checked, compile=False)
        a, b = list(original.layers), list(rebuilt.layers)
        if [type(x) for x in a] != [type(x) for x in b]:
            raise RunError(f"{self.path.name}: the imported layers rebuild as {[type(x).__name__ for x in b]}; "
                           f"expected {[type(x).__name__ for x in a]}")
        for i, (x, y) in enumerate(zip(a, b), start=1):
            cx = without_names(without_adapted_state(x.get_config(), type(x).__name__))
            cy = without_names(without_adapted_state(y.get_config(), type(y).__name__))
            if _auto_name(str(cx.get("name")), type(x)) and _auto_name(str(cy.get("name")), type(y)):
                cx.pop("name", None)  # a layer whose config has no `trainable` (Discretization) keeps its made-up name
                cy.pop("name", None)
            if cx != cy:
                keys = sorted(k for k in set(cx) | set(cy) if not _same(cx.get(k), cy.get(k)))
                detail = ", ".join(f"{k}={cx.get(k)!r}" for k in keys[:6])
                raise RunError(f"{self.path.name}: layer {i} ({type(x).__name__}) has settings a .nn file cannot write: {detail}")
        if tuple(original.input_shape) != tuple(rebuilt.input_shape):
            raise RunError(f"{self.path.name}: the imported input shape {rebuilt.input_shape} "
                           f"differs from the model's {original.input_shape}")


# ---------------------------------------------------------------- small helpers


def _serialized(value) -> bool:
    return isinstance(value, dict) and "class_name" in value and "config" in value


def _same(a, b) -> bool:
    """Equal as configurations: tuples and lists alike, layer names ignored."""
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        layer = "trainable" in a or "trainable" in b
        keys = (set(a) | set(b)) - ({"name"} if layer else set())
        return all(k in a and k in b and _same(a[k], b[k]) for k in keys)
    if type(a) is bool or type(b) is bool:
        return type(a) is type(b) and a == b
    return a == b


def without_adapted_state(config: dict, class_name: str) -> dict:
    """A layer's configuration without what ``adapt()`` learnt: a vocabulary's size, the bins of a
    ``Discretization`` written with ``num_bins``. Like weights, it stays in the saved file: the
    ``.nn`` layer is written as it was before adapting (and ``nndsl run`` adapts it again)."""
    if class_name in ("TextVectorization", "StringLookup", "IntegerLookup") and config.get("vocabulary") is None:
        return {k: v for k, v in config.items() if k != "vocabulary_size"}
    if class_name == "Discretization" and config.get("num_bins") is not None:
        return {k: v for k, v in config.items() if k != "bin_boundaries"}
    return config


def without_names(config):
    """A model or layer config without the layer names Keras makes unique per instance (``dense_3``).

    A name is dropped only from layer configs (the dicts with a ``trainable`` key, and the
    InputLayer configs a nested Sequential holds, with a ``batch_shape``), so names that carry
    meaning, such as a dtype policy's ``float32``, are still compared.
    """
    if isinstance(config, dict):
        layer = "trainable" in config or "batch_shape" in config
        return {k: without_names(v) for k, v in config.items() if not (k == "name" and layer)}
    if isinstance(config, (list, tuple)):
        return [without_names(v) for v in config]
    return config


def _auto_name(name: str, cls) -> bool:
    """Whether a layer name is one Keras made up (``dense``, ``dense_3``, ``forward_lstm``)."""
    snake = re.sub(r"(?<!^)(?=[A-Z][a-z])|(?<=[a-z0-9])(?=[A-Z])", "_", cls.__name__).lower()
    base = re.sub(r"_\d+$", "", name)
    return base in (snake, cls.__name__.lower(), f"forward_{snake}", f"backward_{snake}") or normalize(base) == normalize(cls.__name__)


def _positional(kind: str, name: str, param: str) -> bool:
    from ..builtins.keras import catalogue

    entry = catalogue()["kinds"].get(kind, {}).get(name)
    if entry is None:
        return False
    return any(p["name"] == param and p.get("kind") == "positional_or_keyword" for p in entry.get("params", ()))


def _compile_special(kind: str, name: str) -> bool:
    from ..builtins.keras import catalogue

    return bool(catalogue()["kinds"].get(kind, {}).get(str(name).lower(), {}).get("compile_special"))


def _order(params, key: str) -> int:
    for i, p in enumerate(params):
        if p.name == key:
            return i
    return len(params)


def _short_float32(value: float) -> float:
    """A float32 hyperparameter (0.0010000000474974513) as the shortest decimal with the same float32 (0.001)."""
    import numpy as np

    f32 = np.float32(value)
    if float(f32) != value:
        return value
    short = float(str(f32))
    return short if np.float32(short) == f32 else value


__all__ = ["import_model", "model_name"]

"""What a plugin declares: its parameters (checked without running it) and where its code lives.

A spec is data. Its ``impl`` is a ``"module:function"`` string imported only when the program
runs, so checking a program never imports TensorFlow.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any

# Clause requirements of a step.
REQUIRED, OPTIONAL, FORBIDDEN = "required", "optional", "forbidden"

# What a name does beyond computing (``LayerSpec.risk``). A ``.nn`` file is data a user may not
# have written: names that run code or load an opaque graph are refused at check time, names
# that open a connection need ``--allow-network``.
RISK_CODE = "code"  # runs Python code the program names (Lambda, LambdaCallback...)
RISK_GRAPH = "graph"  # loads and runs a saved graph (TFSMLayer)
RISK_NETWORK = "network"  # sends data over the network (RemoteMonitor)
RISKS = (RISK_CODE, RISK_GRAPH, RISK_NETWORK)

# What a parameter does with a path it is given (``ParamSpec.path``), for the path rules that
# decide at check time what a run may read and write (see :mod:`nndsl.paths`).
PATH_READ = "read"  # a file the object reads (a vocabulary file)
PATH_WRITE = "write"  # a file the object writes, replacing it (CSVLogger, ModelCheckpoint)
PATH_WRITE_DIR = "write_dir"  # a folder the object writes files into (TensorBoard)
PATH_SCRATCH_DIR = "scratch_dir"  # a folder the object owns and deletes (BackupAndRestore)
PATH_ROLES = (PATH_READ, PATH_WRITE, PATH_WRITE_DIR, PATH_SCRATCH_DIR)


class _Missing:
    """The default of a parameter that has none: it must be given."""

    def __repr__(self) -> str:
        return "<required>"

    def __reduce__(self) -> str:
        return "MISSING"  # unpickles as the one instance, so `default is MISSING` still holds


MISSING = _Missing()
"""The default of a required :class:`ParamSpec`."""


@dataclass(frozen=True)
class ParamSpec:
    """One named parameter: its type (see :mod:`nndsl.semantics.types`), default and one-line doc.

    ``callable`` marks a parameter Keras wants a Python function for: a ``.nn`` file holds no
    code, so a bare name there is refused. ``path`` is one of :data:`PATH_ROLES` when the
    parameter is a file or folder the object reads or writes. ``choices``, when given, are the
    only values a data source's or step's argument may take.
    """

    name: str
    type: str = "any"
    default: Any = MISSING
    doc: str = ""
    nullable: bool = False
    callable: bool = False
    path: str = ""
    choices: tuple = ()

    @property
    def required(self) -> bool:
        return self.default is MISSING


def param(name: str, type: str = "any", default: Any = MISSING, doc: str = "", nullable: bool = False, *,
          callable: bool = False, path: str = "", choices: tuple = ()) -> ParamSpec:
    return ParamSpec(name, type, default, doc, nullable or default is None, callable, path, tuple(choices))


class _HasParams:
    """``spec.param(name)``: one of the spec's ``params`` by name, or None."""

    params: tuple[ParamSpec, ...]

    def param(self, name: str) -> ParamSpec | None:
        return next((p for p in self.params if p.name == name), None)


def load_impl(path: str):
    """Import ``"module:attr"``; a plugin whose code is missing is a PluginError naming it."""
    module, _, attr = path.partition(":")
    try:
        obj = importlib.import_module(module)
        for part in attr.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError) as exc:
        from ..errors import PluginError

        raise PluginError(f"expected the code of a plugin at '{path}' to import; received {type(exc).__name__}: {exc}") from exc
    return obj


@dataclass(frozen=True)
class StepSpec(_HasParams):
    """A step verb such as ``train``.

    Attributes:
        target: "model" (an existing model), "new_model" (the step defines it, as ``load`` does),
            or "none".
        on / to / from_: whether each clause is required, optional or forbidden, and what it
            names ("data" for a data source, "path" for a file path).
        params: the ``key=value`` options; ``open_params`` lets unknown keys through to ``impl``.
        needs_weights: the model must have been trained or loaded by an earlier step.
    """

    name: str
    doc: str
    impl: str
    target: str = "model"
    on: str = FORBIDDEN
    to: str = FORBIDDEN
    from_: str = FORBIDDEN
    params: tuple[ParamSpec, ...] = ()
    open_params: bool = False
    needs_weights: bool = False
    trains: bool = False


@dataclass(frozen=True)
class DataSourceSpec(_HasParams):
    """A data source such as ``csv(...)``: positional and keyword parameters, and its loader."""

    name: str
    doc: str
    impl: str
    params: tuple[ParamSpec, ...] = ()
    var_positional: str | None = None  # name of a *args parameter, e.g. split's fractions


@dataclass(frozen=True)
class PreprocessorSpec(_HasParams):
    """A preprocessing method (``scale minmax``): fitted on training data, saved as Keras layers."""

    name: str
    doc: str
    impl: str
    params: tuple[ParamSpec, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class LayerSpec(_HasParams):
    """A layer, or any Keras-style object (activation, loss, optimizer, initializer, callback...).

    ``impl`` is ``"module:attr"`` of the class or function; it is imported only to build the model.
    ``infer_shape(args, input_shape)`` and ``count_params(args, input_shape, output_shape)`` are
    optional, for static shape inference; ``args`` are bound by parameter name, defaults not filled.
    ``risk`` is one of :data:`RISKS` for a name that runs code, loads a graph or opens a
    connection (checking refuses the first two, and the last without ``--allow-network``).
    """

    name: str
    doc: str
    impl: str
    params: tuple[ParamSpec, ...] = ()
    var_keyword: bool = False
    var_positional: bool = False
    kind: str = "class"  # "class" or "function"
    infer_shape: Any = None
    count_params: Any = None
    compile_special: bool = False
    risk: str = ""


# Keyword arguments every Keras layer takes through **kwargs (keras.layers.Layer and its input
# helpers): the catalogue's layers get them, and the checker treats them as keyword-only.
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

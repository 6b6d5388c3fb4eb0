"""What a successful check returns: the program with every name resolved, every argument
bound, every block expanded and every shape inferred, as plain data for the compiler, the
runner and the exporter.

The language passes fill :class:`CheckedProgram`, :class:`CheckedData`, :class:`CheckedStep`
and the layers of :class:`CheckedModel`; the Keras passes add the :class:`ResolvedLayer`,
compile arguments, :class:`ModelOptions` and shapes of each model.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import ast
from ..errors import Diagnostic
from ..paths import DEFAULT_GRANTS, Access, Grants
from ..plugins.spec import StepSpec
from ..source import Source

DEFAULT_MAX_PARAMS = 1_000_000_000  # a model's parameter budget unless --max-params says otherwise

# nndsl's own model properties (not keras.Model.compile's): preprocessing fitted on the training
# data and saved in the model, each naming a registered preprocessor or "none".
MODEL_OPTIONS = {"scale_features": "scaling", "scale_target": "scaling"}


@dataclass
class ExpandedLayer:
    """One layer of a model after blocks and ``repeat`` are expanded, arguments evaluated."""

    call: ast.Call
    args: tuple
    kwargs: dict
    via: tuple[ast.Call, ...] = ()  # the block uses it came through, outermost first

    @property
    def name(self) -> str:
        return self.call.name


@dataclass
class ResolvedCall:
    """A call resolved to a registered spec, its arguments bound by parameter name."""

    kind: str
    spec: Any
    args: dict
    node: Any = field(default=None, compare=False, repr=False)

    @property
    def name(self) -> str:
        return self.spec.name


@dataclass
class ResolvedName:
    """A bare name resolved in a registry (``relu``, ``mse``): Keras gets the canonical string."""

    kind: str
    name: str
    spec: Any = field(default=None, compare=False, repr=False)
    written: str = ""  # as the program spells it: metrics keep this as their display name


@dataclass
class ResolvedLayer:
    """An expanded layer resolved to its spec, with the shapes and parameter count inferred for it."""

    layer: ExpandedLayer
    call: ResolvedCall
    input_shape: tuple | None = None
    output_shape: tuple | None = None
    params: int | None = None

    @property
    def name(self) -> str:
        return self.call.spec.name


@dataclass(frozen=True)
class ModelOptions:
    """A model's preprocessing: the registered preprocessor (or ``"none"``) fitted on the
    training features and on the training target."""

    scale_features: str = "none"
    scale_target: str = "none"


@dataclass
class CheckedModel:
    """One model: its layers after expansion, its properties as written, and what the Keras passes found."""

    decl: ast.ModelDecl
    layers: list[ExpandedLayer]
    properties: dict[str, tuple[Any, ast.Property]]
    # Filled by the Keras passes:
    resolved: list[ResolvedLayer] = field(default_factory=list)
    compile: dict = field(default_factory=dict)  # keras.Model.compile's arguments, resolved
    options: ModelOptions = field(default_factory=ModelOptions)
    shapes: list = field(default_factory=list)
    keras_name: str | None = None  # the `name` property: the Keras model's name, when not the model's own

    @property
    def name(self) -> str:
        return self.decl.name


@dataclass
class CheckedData:
    """A data source bound to its registered spec."""

    decl: ast.DataDecl
    spec: Any
    args: dict  # bound by parameter name


@dataclass
class CheckedStep:
    """A step bound to its verb's spec, its clauses and options evaluated."""

    node: ast.Step
    spec: StepSpec
    kwargs: dict
    on: Any = None
    to: Any = None
    from_: Any = None

    @property
    def verb(self) -> str:
        return self.spec.name

    @property
    def target(self) -> str | None:
        return self.node.target.id if self.node.target is not None else None


@dataclass
class CheckedProgram:
    """A program that passed every check, with everything later stages need already worked out.

    Attributes:
        warnings: the warning diagnostics the passes reported, in the order reported.
        max_params: the parameter budget the program was checked against.
        grants: what the command line allowed the program beyond the defaults.
        files: every path the program reads or writes, found at check time.
        inputs: the files no write may land on (absolute path -> what it is): every file the program
            reads, but a model file an earlier step of the program wrote.
        nn_file: the ``.nn`` file the program was read from, when it is one.
        spaces: the search spaces of the program's variables (:class:`~nndsl.semantics.spaces.Space`),
            by variable; each variable holds its space's default in ``variables``.
    """

    program: ast.Program
    variables: dict[str, Any]
    settings: dict[str, Any]
    data: dict[str, CheckedData]
    models: dict[str, CheckedModel]
    steps: list[CheckedStep]
    loaded_models: set[str] = field(default_factory=set)
    warnings: tuple[Diagnostic, ...] = ()
    max_params: int = DEFAULT_MAX_PARAMS
    grants: Grants = DEFAULT_GRANTS
    files: tuple[Access, ...] = ()
    nn_file: Path | None = None
    inputs: dict = field(default_factory=dict)
    spaces: dict[str, Any] = field(default_factory=dict)  # variable -> Space, for the tune step

    @property
    def source(self) -> Source | None:
        return self.program.source

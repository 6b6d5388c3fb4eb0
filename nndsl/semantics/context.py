"""What the check passes share: the :class:`Context` they read and report into, and the
helpers every pass uses (the failed-value marker, the did-you-mean hint, the quoting hint).

The passes live in :mod:`nndsl.semantics.check` (the language) and
:mod:`nndsl.semantics.keras_check` (Keras names, arguments and shapes); both import from here,
neither from the other's privates.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .. import ast
from ..errors import Diagnostic, did_you_mean
from ..paths import DEFAULT_GRANTS, Access, Grants
from ..source import Span
from .evaluate import EvalProblem, evaluate, free_names
from .result import DEFAULT_MAX_PARAMS, CheckedData, CheckedModel, CheckedStep
from .values import Symbol


class Failed:
    """Marker for a value whose evaluation already produced a diagnostic."""

    def __repr__(self) -> str:
        return "<failed>"


FAILED = Failed()
"""The one :class:`Failed` value: a pass that meets it says nothing more about the value."""


def hint_for(name: str, candidates) -> str | None:
    """``did you mean 'x'?`` for a misspelt name, ignoring case and underscores; None when nothing is close."""
    return did_you_mean(name, candidates, normalize=lambda s: s.replace("_", "").lower())


def type_hint(value: Any, type_name: str, variables=()) -> str | None:
    """A hint for a bare name written where text, a boolean or a number was wanted, or None.

    A name close to one of ``variables`` is most likely that variable misspelt (``Dense(hiden)``).
    """
    if isinstance(value, Symbol) and type_name in ("str", "path", "str_list", "str_or_list"):
        return f'put text in quotes: "{value}"'
    if isinstance(value, Symbol) and value in ("True", "False", "None"):
        return f"write {value.lower()}"
    if isinstance(value, Symbol) and variables:
        return hint_for(str(value), variables)
    return None


class Context:
    """What the passes share: the program, the diagnostics so far, and their findings.

    Args:
        program: the parsed program.
        overrides: ``--set`` values, already parsed as expressions.
        max_params: the parameter budget of a model, checked once its shapes are known.
        grants: what the command line allows beyond the defaults (the network, folders to write in).
        nn_file: the ``.nn`` file the program was read from, when it is one; its folder is where
            the program's relative paths start and where it may write.
        input_widths: model -> the encoded width of the table it trains on, for a model without
            ``Input`` (read from the data by ``nndsl check --data``); its shapes are then known.
    """

    def __init__(self, program: ast.Program, overrides: dict[str, ast.Expr], *, max_params: int = DEFAULT_MAX_PARAMS,
                 grants: Grants = DEFAULT_GRANTS, nn_file: Path | None = None, input_widths: dict[str, int] | None = None) -> None:
        self.program = program
        self.source = program.source
        self.overrides = overrides
        self.max_params = max_params
        self.grants = grants
        self.nn_file = nn_file
        self.base = nn_file.parent if nn_file is not None else None
        self.input_widths = dict(input_widths or {})
        self.files: list[Access] = []  # every path the program reads or writes, in the order found
        self.inputs: dict[Path, str] = {}  # the files it reads, absolute: what each is
        self.diagnostics: list[Diagnostic] = []
        self.decls: dict[str, Any] = {}
        self.variables: dict[str, Any] = {}
        self.spaces: dict[str, Any] = {}  # variable -> its search space (nndsl.semantics.spaces.Space)
        self.settings: dict[str, Any] = {}
        self.blocks: dict[str, ast.BlockDecl] = {}
        self.data: dict[str, CheckedData] = {}
        self.models: dict[str, CheckedModel] = {}
        self.steps: list[CheckedStep] = []
        self.loaded_models: set[str] = set()
        # models trained on a table source, when a check of models alone is told them (the language server)
        self.table_fed: frozenset[str] = frozenset()
        self._seen: set[Diagnostic] = set()
        self.reported_cycles: set[frozenset] = set()
        self.reported_too_deep = False

    def error(self, code: str, message: str, span: Span | None, hint: str | None = None, notes=()) -> None:
        d = Diagnostic(code=code, message=message, span=span, source=self.source, notes=tuple(notes), hint=hint)
        if d in self._seen:
            return  # the same problem reached twice (a block checked on its own and through a model)
        self._seen.add(d)
        self.diagnostics.append(d)

    def warn(self, code: str, message: str, span: Span | None, hint: str | None = None) -> None:
        self.diagnostics.append(
            Diagnostic(code=code, message=message, span=span, source=self.source, hint=hint, severity="warning")
        )

    def eval(self, e, env=None):
        """Evaluate, reporting a type error (and returning :data:`FAILED`) instead of raising.

        An expression using a variable whose own value failed is not reported again.
        """
        env = self.variables if env is None else env
        if any(env.get(n.id) is FAILED for n in free_names(e)):
            return FAILED
        try:
            return evaluate(e, env)
        except EvalProblem as p:
            self.error(p.code, p.message, p.span, hint=p.hint)
            return FAILED

    @property
    def failed(self) -> bool:
        return any(d.severity == "error" for d in self.diagnostics)

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "warning"]

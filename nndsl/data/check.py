"""``nndsl check --data``: the program's tables read and each model's table schema fitted as a run
would, so that what only training used to find is reported first, at its place in the ``.nn`` file.

A run reads a table when a step first needs it, fits the schema of a model on the data of the
step that trains it (:mod:`nndsl.data.schema`) and builds the model to the table's encoded
width. Here the same loaders read every table source the program declares, the same fit runs on
each trained model's training source (through ``split``), and the findings are checked against
the program: an ``Input`` whose width is not the table's, a class count the last layer or the
loss cannot take, and a later source (``test``, ``predict``, ``validation_data``, another
``train``) without a column the model takes. A model without ``Input`` is checked again with its
width known, so that its shapes and parameter count are too. Arrow reads the files; TensorFlow
is never imported.

A table estimated larger than the memory budget (``--memory-budget``, else the program's
``memory_budget`` setting, else a quarter of the machine's memory) is read as a run reads it: in
record batches, never whole (:mod:`nndsl.data.stream`). Its one pass gives the schema and what
encoding would refuse (:mod:`nndsl.data.refusals`); the findings are those of the table read whole.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import Diagnostic, NndslCheckError, NndslError, Note
from ..plugins.spec import load_impl
from ..semantics.keras_check import TABLE_SOURCES, has_input_arguments, table_source
from ..semantics.result import CheckedData, CheckedModel, CheckedProgram, CheckedStep
from .table import data_error

# Steps that feed a model a table it must already know the columns of (the training steps also
# fit its schema when they come first).
_FEEDING = ("train", "tune", "test", "evaluate", "predict")


@dataclass(frozen=True)
class TableFacts:
    """What a model takes from the table it trains on.

    Attributes:
        model: the model's name.
        data: the data source it trains on, as the step names it.
        file: the table's file, as shown (its name).
        schema: the :class:`~nndsl.data.schema.TableSchema` fitted on the training data.
        declared: the input shape the model declares (without the batch axis), or None when it
            takes the table's width.
    """

    model: str
    data: str
    file: str
    schema: Any
    declared: tuple | None = None

    @property
    def width(self) -> int:
        return self.schema.width

    def line(self) -> str:
        """``model churn: input 12 from customers.csv (age: 1, plan: 5 (...)); classes no, yes``."""
        text = f"model {self.model}: input {self.width} from {self.file} ({self.schema.contributions()})"
        if self.schema.classes:
            text += f"; classes {', '.join(self.schema.classes)}"
        elif self.schema.targets:
            text += f"; target{'s' if len(self.schema.targets) > 1 else ''} {', '.join(t.name for t in self.schema.targets)} (numbers)"
        return text

    def to_json(self) -> dict:
        return {
            "model": self.model, "data": self.data, "file": self.file, "input": self.width,
            "declared_input": list(self.declared) if self.declared is not None else None,
            "columns": [{"name": f.name, "kind": f.kind, "width": f.width, "encoded": f.encoded_names()}
                        for f in self.schema.features],
            "targets": [{"name": t.name, "classes": list(t.classes)} for t in self.schema.targets],
        }


def failure(ds, decl, source) -> Callable[..., Exception]:
    """``fail(message, row=None, column=None, hint=None)``: a data error located in ``ds``'s file
    (``customers.csv:row 7, column 'plan'``, ``events.jsonl:line 7, column 'kind'``, the part file
    ``parts/p2.csv:row 3`` of a folder) and at ``decl``, the ``data`` line that declares it."""
    shown = ds.path.name if ds.path is not None else ds.name
    if getattr(ds, "origin", None) is not None:
        # the row's own file and row, whatever rows were dropped, picked or joined before (see nndsl.data.rows)
        from .parts import part_failure
        from .rows import located

        return located(ds.origin, lambda file: part_failure(file, decl, source, ds.origin.word), whole=shown)
    word, first_row = _counting(ds.path)

    def fail(message: str, row: int | None = None, column: str | None = None, hint: str | None = None) -> Exception:
        where = shown
        if row is not None:
            where += f":{word} {row + first_row}" + (f", column '{column}'" if column else "")
        elif column is not None:
            where += f":column '{column}'"
        return data_error(message, where=where, hint=hint, decl=decl, source=source)

    return fail


def _counting(path: Path | None) -> tuple[str, int]:
    """How a location counts the rows of a table's file, as its loader and a streamed table count
    them: a CSV's rows from 2 (its header is row 1), a JSON lines file's lines from 1, other rows from 1."""
    from .jsonl import SUFFIXES

    suffix = path.suffix.lower() if path is not None else ""
    if suffix == ".csv":
        return "row", 2
    return ("line" if suffix in SUFFIXES else "row"), 1


def declared_input(model: CheckedModel) -> tuple | None:
    """The input shape a model declares (``Input(shape=...)``, ``input_shape=``), without the batch axis; None without one."""
    if not model.resolved:
        return None
    first = model.resolved[0]
    shape = first.output_shape if first.input_shape is None else first.input_shape
    return None if shape is None else tuple(shape[1:])


def takes_table_width(model: CheckedModel) -> bool:
    """Whether a model leaves its input to the table it trains on: no ``Input``, no ``input_shape=``."""
    if not model.resolved:
        return False
    first = model.resolved[0]
    return first.call.spec.name not in ("Input", "InputLayer", "Sequential") and not has_input_arguments(first)


def is_table_ref(checked: CheckedProgram, ref) -> bool:
    """Whether a step's data is a table source (csv, parquet, json), directly or through ``split``."""
    if isinstance(ref, CheckedData):
        return ref.spec.name in TABLE_SOURCES
    return ref is not None and table_source(checked, ref) is not None


def check_with_data(check_program: Callable[..., CheckedProgram],
                    memory_budget: int | None = None) -> tuple[CheckedProgram, list[TableFacts]]:
    """Check a program, read its tables, and check what they hold against it.

    Args:
        check_program: checks the program (:func:`nndsl.semantics.check.check` with the command
            line's options), given ``input_widths=`` the second time: the widths of the models
            without ``Input``, read from their tables.
        memory_budget: bytes; a table estimated larger streams in record batches (overrides the
            program's ``memory_budget`` setting; default a quarter of the machine's memory).

    Returns:
        The checked program (with the shapes of models without ``Input`` inferred) and what each
        model trained on a table takes from it, in the order the models are trained.

    Raises:
        NndslError: a program that does not check; data that cannot be read or fitted (the run's
            located ``bad-data`` errors); and, every one found, the mistakes the run would report
            before or when training starts (``data-shape``, ``class-count``, ``missing-column``,
            ``missing-target``).
    """
    checked = check_program()
    from .budget import default_budget

    # as the run chooses it: the command line's, the file's, the machine's
    reader = _Reader(checked, memory_budget or checked.settings.get("memory_budget") or default_budget())
    diagnostics: list[Diagnostic] = []
    for name in checked.data:
        if is_table_ref(checked, name):
            reader.read(name, diagnostics)
    facts = reader.fit_models(diagnostics)
    widths = {name: f.width for name, f in facts.items() if takes_table_width(checked.models[name])}
    shaped = True
    if widths:
        try:
            checked = check_program(input_widths=widths)
        except NndslCheckError as exc:  # a layer that cannot take the table's width, or too many parameters
            diagnostics.extend(exc.diagnostics)
            shaped = False
    if shaped:
        reader.checked = checked
        for name, f in facts.items():
            diagnostics.extend(_model_problems(checked, f, reader.fitted_by[name]))
        diagnostics.extend(reader.later_sources(facts))
    if diagnostics:
        ordered = sorted(dict.fromkeys(diagnostics), key=lambda d: d.span.start if d.span is not None else -1)
        raise NndslCheckError(diagnostics=ordered)
    return checked, list(facts.values())


class _Reader:
    """The program's tables, each read once with the run's own loaders."""

    def __init__(self, checked: CheckedProgram, memory_budget: int | None = None) -> None:
        self.checked = checked
        self.memory_budget = memory_budget  # tables estimated larger are streamed, as the run streams them
        self.base = checked.nn_file.parent if checked.nn_file is not None else Path.cwd()
        self.datasets: dict[str, Any] = {}
        self.failed: dict[str, NndslError] = {}  # data name -> why it cannot be read
        self.fitted_by: dict[str, CheckedStep] = {}  # model -> the step whose data its schema is fitted on

    @property
    def source(self):
        return self.checked.source

    def decl(self, ref):
        return _decl_of(self.checked, ref)

    def read(self, ref, diagnostics: list) -> Any:
        """The data set of a data name (or an inline source); None when it cannot be read (its error noted)."""
        name = ref.decl.name if isinstance(ref, CheckedData) else str(ref)
        if name in self.datasets:
            return self.datasets[name]
        if name in self.failed:
            return None
        try:
            return self._read(ref if isinstance(ref, CheckedData) else self.checked.data[name], name)
        except NndslError as exc:
            self.failed[name] = exc
            diagnostics.extend(exc.diagnostics)
            return None

    def _read(self, cd: CheckedData, name: str):
        if name in self.failed:
            raise self.failed[name]
        if name not in self.datasets:
            self.datasets[name] = self._load(cd, name)
        return self.datasets[name]

    def _load(self, cd: CheckedData, name: str):
        loader = load_impl(cd.spec.impl)
        kwargs: dict[str, Any] = dict(name=name, base=self.base, decl=cd.decl, source=self.source)
        params = inspect.signature(loader).parameters
        if "resolve" in params:
            kwargs["resolve"] = self._parent
        if "seed" in params:
            kwargs["seed"] = self.checked.settings.get("seed")
        if "memory_budget" in params:
            kwargs["memory_budget"] = self.memory_budget
        return loader(cd.args, **kwargs)

    def _parent(self, ref):
        """A ``split``'s source, read once as the run reads it; its error raised to the split's loader."""
        try:
            return self._read(self.checked.data[str(ref)], str(ref))
        except NndslError as exc:
            self.failed[str(ref)] = exc
            raise

    def fit_models(self, diagnostics: list) -> dict[str, TableFacts]:
        """Each model's schema, fitted on the data of the step that first trains it, when that is a
        table (a model loaded from a file first brings its own)."""
        from .classes import loss_kind
        from .schema import fit

        facts: dict[str, TableFacts] = {}
        seen: set[str] = set()
        for step in self.checked.steps:
            model = step.target
            if model is None or model in seen or model not in self.checked.models or step.verb not in (*_FEEDING, "load"):
                continue  # (summary, plot, save: the model is neither built nor fed there)
            seen.add(model)
            if not step.spec.trains or not is_table_ref(self.checked, step.on):
                continue
            ds = self.read(step.on, diagnostics)
            if ds is None:
                continue
            fail = failure(ds, self.decl(step.on), self.source)
            checked_model = self.checked.models[model]
            try:
                schema = fit(ds, loss_kind=loss_kind(checked_model), fail=fail)
                encodes(ds, schema, fail)  # as the run encodes it before training
            except NndslError as exc:
                diagnostics.extend(exc.diagnostics)
                continue
            shown = ds.path.name if ds.path is not None else ds.name
            facts[model] = TableFacts(model, _ref_name(step.on), shown, schema, declared_input(checked_model))
            self.fitted_by[model] = step
        return facts

    def later_sources(self, facts: dict[str, TableFacts]) -> list[Diagnostic]:
        """The tables a model meets after the one it was fitted on: each must hold the model's
        columns and encode with its schema, as the run requires."""
        out: list[Diagnostic] = []
        current: dict[str, TableFacts] = {}
        for step in self.checked.steps:
            model = step.target
            if model is None:
                continue
            if step.verb == "load":
                current.pop(model, None)  # the loaded file brings its own schema
                continue
            fitting = model in facts and self.fitted_by[model].node is step.node
            if fitting:
                current[model] = facts[model]
            f = current.get(model)
            if f is None or step.verb not in _FEEDING:
                continue
            sources = [] if fitting else [(step.on, _on_span(step))]
            validation = next((k.value for k in step.node.kwargs if k.name == "validation_data"), None)
            if step.kwargs.get("validation_data") is not None and validation is not None:
                sources.append((step.kwargs["validation_data"], validation.span))
            for ref, span in sources:
                if is_table_ref(self.checked, ref):
                    out.extend(self._fits(step, f, ref, span))
        return out

    def _fits(self, step: CheckedStep, f: TableFacts, ref, span) -> list[Diagnostic]:
        problems: list[Diagnostic] = []
        ds = self.read(ref, problems)
        if ds is None:
            return problems
        notes = _model_note(self.checked, f.model) + _data_note(self.decl(ref), ref)
        # a streamed table keeps no columns: its text columns are those of its roles
        have = set(ds.feature_names) | set(ds.columns) | (set(ds.stream.roles.text) | set(ds.labels) if ds.streamed else set())
        missing = [c for c in f.schema.columns if c not in have]
        if missing:
            return [Diagnostic(code="missing-column", source=self.source, span=span, notes=tuple(notes),
                               message=f"expected the feature column '{missing[0]}' model '{f.model}' was trained on; "
                                       "received data without it",
                               hint=f"the model's feature columns are: {', '.join(f.schema.columns)}")]
        untargeted = not ds.target_names if ds.streamed else ds.y is None and not ds.labels
        if step.verb in ("test", "evaluate", "train", "tune") and untargeted:
            return [Diagnostic(code="missing-target", source=self.source, span=span, notes=tuple(notes[1:]),
                               message=f"expected data with a target column to {step.verb} model '{f.model}'; "
                                       f"received '{_ref_name(ref)}' without one",
                               hint="name the column to predict: csv(\"file.csv\", target=\"column\")")]
        try:
            encodes(ds, f.schema, failure(ds, self.decl(ref), self.source))
        except NndslError as exc:
            return list(exc.diagnostics)
        return []


def encodes(ds, schema, fail) -> None:
    """Encode ``ds`` with ``schema`` as the run does, for the located error it may raise.

    A streamed table is read again only where its summary shows a refusal, and then only the
    refusing part of the schema is encoded (:func:`nndsl.data.refusals.first_refusal`); its
    record batches locate the bad cell in its file.
    """
    if not ds.streamed:
        from .schema import encode

        encode(ds, schema, fail)
        return
    from .refusals import first_refusal

    found = first_refusal(ds, schema)
    if found is not None:
        part, with_targets = found
        for _ in ds.stream.encoded_with(part).arrays(with_targets=with_targets):
            pass


def _model_problems(checked: CheckedProgram, f: TableFacts, step: CheckedStep) -> list[Diagnostic]:
    """The table's width against the model's ``Input``, its classes against the last layer and the loss."""
    from .classes import class_problem, loss_name, loss_span

    model = checked.models[f.model]
    source = checked.source
    on = [Note(f"model '{f.model}' trains on '{f.data}' here", _on_span(step))]
    out = []
    if f.declared is not None and f.declared != (f.width,):
        first = model.resolved[0]
        out.append(Diagnostic(
            code="data-shape", source=source, span=_shape_span(first.layer.call), notes=tuple(on),
            message=f"expected input shape {(f.width,)} for model '{f.model}', the encoded width of table '{f.data}'; "
                    f"received {f.declared}",
            hint=f"the table's columns give {f.width} inputs: {f.schema.contributions()}; "
                 "leave out Input and the model takes the table's width"))
    if not f.schema.targets:
        notes = _data_note(_decl_of(checked, step.on), step.on)
        out.append(Diagnostic(code="missing-target", source=source, span=_on_span(step), notes=tuple(notes),
                              message=f"expected data with a target column to {step.verb} model '{f.model}'; "
                                      f"received '{f.data}' without one",
                              hint="name the column to predict: csv(\"file.csv\", target=\"column\")"))
    last = model.resolved[-1] if model.resolved else None
    out_shape = last.output_shape if last is not None else None
    units = out_shape[-1] if out_shape else None
    if f.schema.targets:
        problem = class_problem(f.schema.targets[0].name, f.schema.classes, loss_name(model), units)
        if problem is not None:
            span = loss_span(model) if problem.at_loss else None
            span = span or (last.layer.call.span if last is not None else step.node.span)
            out.append(Diagnostic(code="class-count", source=source, span=span, hint=problem.hint, notes=tuple(on),
                                  message=problem.message))
        elif not f.schema.classes and units is not None and len(f.schema.targets) != units:
            names = ", ".join(t.name for t in f.schema.targets)
            out.append(Diagnostic(code="data-shape", source=source, span=_on_span(step), notes=tuple(_model_note(checked, f.model)),
                                  message=f"expected {units} target column(s) for the output of model '{f.model}'; "
                                          f"received {len(f.schema.targets)} ({names})"))
    return out


def _decl_of(checked: CheckedProgram, ref):
    if isinstance(ref, CheckedData):
        return ref.decl
    cd = checked.data.get(str(ref))
    return cd.decl if cd is not None else None


def _ref_name(ref) -> str:
    return ref.decl.name if isinstance(ref, CheckedData) else str(ref)


def _on_span(step: CheckedStep):
    return step.node.on.span if step.node.on is not None else step.node.span


def _model_note(checked: CheckedProgram, model: str) -> list[Note]:
    m = checked.models.get(model)
    return [Note(f"model '{model}' is defined here", m.decl.name_span)] if m is not None else []


def _data_note(decl, ref) -> list[Note]:
    if decl is None or isinstance(ref, CheckedData):
        return []
    return [Note(f"data source '{_ref_name(ref)}' is declared here", decl.name_span)]


def _shape_span(call):
    """Where a first layer writes its input shape (``shape=(2,)``, ``input_shape=``), else the layer."""
    for k in call.kwargs:
        if k.name in ("shape", "input_shape", "input_dim", "batch_input_shape", "batch_shape"):
            return k.value.span
    if call.name in ("Input", "InputLayer") and call.args:
        return call.args[0].span
    return call.span


"""``eject(checked) -> str``: a ``.nn`` program as a self-contained plain-Keras Python script.

The script does what ``nndsl run`` does, step by step, with nothing but Keras, TensorFlow,
NumPy and the standard library (and pyarrow, for Parquet and JSON lines tables): it reads the
data sources the same way (a glob pattern or a folder of part files too), fits the same
preprocessing on the training rows, builds and compiles the same ``keras.Sequential`` models
(each layer written as its literal Keras call), trains them through the same ``tf.data``
pipeline with the same seed and ``steps_per_execution``, so the weights it trains are the
weights ``nndsl run`` trains, then evaluates, saves, loads and predicts, writing the same files.

``let`` variables become module constants, and arguments written with them use the constant,
so a value is edited in one place. A name that is neither Keras's nor one of nndsl's own
(a plugin's layer, activation, data source, preprocessor or step) is refused with an error
naming each use: a script that silently did something else would be worse than none.

Generating the script never imports TensorFlow.
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from .. import ast
from ..data.classes import loss_kind
from ..errors import UsageError
from ..plugins.registry import registry
from ..run.adapt import ADAPTED_WITHOUT
from ..run.defaults import BATCH_SIZE, MIN_VALIDATION_BATCH, PREDICT_BATCH
from ..semantics.check import CheckedData, CheckedModel, CheckedProgram, CheckedStep
from ..semantics.keras_check import has_input_arguments, keras2_input, sequential_input, sequential_spec
from ..semantics.result import MODEL_OPTIONS, ResolvedCall
from .pycode import PythonCode, Unsupported, argument_nodes, origin_of, shown_name
from .script_helpers import helpers

# The implementations of the steps and data sources the script can reproduce.
_STEPS = {
    "nndsl.run.steps:train": "train", "nndsl.run.steps:test": "test", "nndsl.run.steps:save": "save",
    "nndsl.run.steps:load": "load", "nndsl.run.steps:predict": "predict", "nndsl.run.steps:summary": "summary",
    "nndsl.reports.steps:test": "test",
}
_SOURCES = {
    "nndsl.data.csv:load": "csv", "nndsl.data.parquet:load": "parquet", "nndsl.data.jsonl:load": "json",
    "nndsl.data.arrays:load_npz": "npz", "nndsl.data.arrays:load_npy": "npy",
    "nndsl.data.folders:load_images": "image_folder", "nndsl.data.folders:load_texts": "text_folder",
    "nndsl.data.split:load": "split",
}
# Sources of named columns: csv with the csv module, Parquet and JSON lines with pyarrow.
_TABLES = {"csv", "parquet", "json"}
_STREAMED = {"image_folder", "text_folder"}
_PREPROCESSORS = {"minmax": "fit_minmax", "standard": "fit_standard"}
# The script's own names besides its helpers': they are never given to a model, data or constant.
_FIXED_NAMES = {"main", "HERE", "BASE", "SEED", "keras", "np", "tf", "csv", "json", "math", "os", "pathlib", "zipfile",
                "rows", "x", "y", "val_x", "val_y", "pipeline", "validation", "callbacks", "results", "predictions", "names",
                "meta", "inline_rows", "stream", "annotations", "saved", "labels", "values"}


def eject(checked: CheckedProgram, *, source_path, output_path=None) -> str:
    """The program as a plain-Keras Python script.

    Args:
        checked: the checked program (``nndsl.check``, with ``--set`` overrides already applied).
        source_path: the ``.nn`` file; its paths are relative to its folder.
        output_path: where the script will be written. The script finds the ``.nn`` file's folder
            relative to its own; by default it is assumed to live beside the ``.nn`` file.

    Raises:
        UsageError: the program uses names a plain Keras script cannot reproduce (plugin layers,
            activations, data sources, preprocessors or steps), listing every one of them.
    """
    return _Writer(checked, Path(source_path), Path(output_path) if output_path is not None else None).script()


# ---------------------------------------------------------------- the writer


@dataclass
class _ModelVars:
    """What the script knows, at one point of its steps, about one model name."""

    name: str
    checked: CheckedModel | None
    var: str = ""
    built: bool = False  # a Keras model is in `var` (built by training, or loaded)
    scaled_target: bool = False  # `var` trains on the scaled target: save/test/predict use its export
    export_ready: bool = False
    targets_set: bool = False
    schema_set: bool = False  # `<var>_schema` holds the table encoding the model takes (fitted in training, or loaded)
    classes_set: bool = False  # `<var>_classes` holds the class names of the folder source it trained on


@dataclass(frozen=True)
class _Pipeline:
    """How a training step feeds its rows, as Python source."""

    batch: str
    val_batch: str
    shuffle: bool
    seed: str
    prefetch: str  # "" or ", prefetch=False"


@dataclass(frozen=True)
class _SourceArgs:
    """A data source's arguments, each written as Python where the file wrote it."""

    writer: PythonCode
    values: dict
    nodes: dict
    call: ast.Call

    def get(self, name: str):
        return self.values.get(name)

    def code(self, name: str) -> str:
        return self.writer.code(self.values[name], self.nodes.get(name))

    def path(self, name: str) -> str:
        return f"BASE / {self.code(name)}"


@dataclass
class _DataInfo:
    kind: str  # csv, parquet, json, npz, npy, image_folder, text_folder, split
    streamed: bool
    table: bool  # a table (csv, parquet, json, or a split of one): its columns have names, and a model encodes them


class _Writer(PythonCode):
    """The script of one checked program, written step by step."""

    def __init__(self, checked: CheckedProgram, source_path: Path, output_path: Path | None) -> None:
        reserved = {name for helper in helpers().values() for name in helper.defines} | _FIXED_NAMES
        reserved |= {_bound_name(module) for helper in helpers().values() for module in helper.imports}
        # the file's name reaches comments and docstrings: only escaped (docs/security.md)
        super().__init__(shown_name(source_path.name), reserved)
        self.checked = checked
        self.source_path = source_path
        self.output_path = output_path
        self.helpers: set[str] = set()
        self.imports: set[str] = set()
        self.loaded_data: set[str] = set()
        inline = [v for step in self.checked.steps for v in (step.on, step.kwargs.get("validation_data")) if isinstance(v, CheckedData)]
        self.uses_tables = any(self._data_info(cd).table for cd in [*self.checked.data.values(), *inline])
        self._models: dict[str, _ModelVars] = {}

    def need(self, *names: str) -> None:
        """Copy these helpers (and those they call) into the script."""
        catalogue = helpers()
        for h in names:
            if h in self.helpers:
                continue
            self.helpers.add(h)
            self.imports.update(catalogue[h].imports)
            self.need(*catalogue[h].needs)

    # ------------------------------------------------------------ let constants
    def let_constants(self) -> list[str]:
        lines = []
        for stmt in self.checked.program.statements:
            if not isinstance(stmt, ast.Let) or stmt.name not in self.checked.variables:
                continue
            value = self.checked.variables[stmt.name]
            if not self.plain(value):
                continue  # a call (an optimizer, a layer): written out where it is used
            const = self.allocate(("let", stmt.name), re.sub(r"\W", "_", stmt.name.upper()))
            literal = self.literal(self.python_value(value))
            expr = self.expression(stmt.value)
            text = expr if expr is not None and expr != literal and self.same(expr, value) else literal
            self.constants[stmt.name] = const
            self.constant_values[const] = self.python_value(value)
            lines.append(f"{const} = {text}")
        return lines

    # ------------------------------------------------------------ models
    def model_vars(self, name: str) -> _ModelVars:
        key = ("model", name)
        if key not in self.names:
            mv = _ModelVars(name, self.checked.models.get(name))
            mv.var = self.allocate(key, name)
            self._models[name] = mv
        return self._models[name]

    def var(self, mv: _ModelVars, what: str) -> str:
        return self.allocate((what, mv.name), f"{mv.name}_{what}")

    def builder(self, model: CheckedModel) -> list[str]:
        """``build_NAME(after_input)``: the model's layers, as nndsl's build_model makes them."""
        fn = self.allocate(("build", model.name), f"build_{model.name}")
        takes_preprocessing = model.options.scale_features != "none"
        seed = self.checked.settings.get("seed")
        doc = f"Model `{model.name}` of {self.file}{', compiled' if model.compile.get('loss') is not None else ''}."
        params = (["width"] if needs_width(model) else []) + (["after_input=()"] if takes_preprocessing else [])
        lines = [f"def {fn}({', '.join(params)}):"]
        notes = []
        if needs_width(model):
            notes.append("    `width` is the number of inputs its training table's columns give (it has no Input).")
        if takes_preprocessing:
            notes.append("    `after_input` are the fitted preprocessing layers, placed right after the input.")
        if notes:
            lines += [f'    """{doc}', "", *notes, '    """']
        else:
            lines.append(f'    """{doc}"""')
        if seed is not None:
            lines.append("    keras.utils.set_random_seed(SEED)  # as nndsl does before it builds a model: the same initial weights")
        layers = self.layer_lines(model, takes_preprocessing)
        lines.append("    model = keras.Sequential(")
        lines.append("        [")
        lines.extend(f"            {item}," for item in layers)
        lines.append("        ],")
        lines.append(f"        name={self.literal(model.keras_name or model.name)},")
        lines.append("    )")
        if model.compile.get("loss") is not None:
            lines.append(f"    model.compile(**{self.compile_args_name(model)}())")
        lines.append("    return model")
        return lines

    def layer_lines(self, model: CheckedModel, takes_preprocessing: bool) -> list[str]:
        resolved = list(model.resolved)
        out = []
        first = resolved[0]
        blocks = {s.name: s for s in self.checked.program.statements if isinstance(s, ast.BlockDecl)}

        def shadow_of(rl) -> frozenset:
            names: set[str] = set()
            for use in rl.layer.via:
                block = blocks.get(use.name)
                if block is not None:
                    names.update(p.name for p in block.params)
            return frozenset(names)

        group_input = sequential_input(first.call)
        if group_input is not None:
            # a first Sequential(Input(...), ...) group: the model's input is the group's
            out.append(self.call(group_input, shadow_of(first)))
        elif first.call.spec.name in ("Input", "InputLayer"):
            out.append(self.call(first.call, shadow_of(first)))
            resolved = resolved[1:]
        elif needs_width(model):
            out.append("keras.Input(shape=(width,))")  # the table's encoded width, as nndsl builds it
        else:
            # Keras-2 style input_shape= / input_dim= on the first layer: an Input, then the layer without them
            shape, batch, resolved[0] = keras2_input(first)
            batch_arg = f", batch_size={self.literal(batch)}" if batch is not None else ""
            out.append(f"keras.Input(shape={self.literal(tuple(self.python_value(shape)))}{batch_arg})")
        if takes_preprocessing:
            out.append("*after_input")
        out.extend(self.call(rl.call, shadow_of(rl)) for rl in resolved)
        return out

    def compile_args_name(self, model: CheckedModel) -> str:
        return self.allocate(("compile", model.name), f"{model.name}_compile_args")

    def compile_function(self, model: CheckedModel) -> list[str]:
        fn = self.compile_args_name(model)
        args = {k: v for k, v in model.compile.items() if not k.startswith("_")}
        lines = [f"def {fn}():",
                 f'    """The arguments of model.compile for `{model.name}`: new loss, optimizer and metric objects on each call."""',
                 "    return dict("]
        for k, v in args.items():
            prop = model.properties.get(k)
            node = prop[1].value if prop is not None else None
            lines.append(f"        {k}={self.code(v, node)},")
        if "optimizer" not in args:
            lines.append('        optimizer="rmsprop",  # Keras\'s own default')
        lines.append("    )")
        return lines

    def preprocessing_check(self, model: CheckedModel) -> None:
        for option in model.properties:
            value = getattr(model.options, option) if option in MODEL_OPTIONS else "none"
            if value == "none":
                continue
            try:
                origin = registry("preprocessors").entry(value).origin
            except KeyError:
                origin = "<unknown>"
            if value not in _PREPROCESSORS or origin != "nndsl":
                prop = model.properties.get(option)
                self.unsupported(prop[1].value.span if prop else model.decl.name_span, f"preprocessor '{value}' (from {origin})")

    # ------------------------------------------------------------ data
    def _data_info(self, cd: CheckedData) -> _DataInfo:
        kind = _SOURCES.get(cd.spec.impl)
        if kind is None:
            return _DataInfo("?", False, False)
        if kind == "split":
            parent = self.checked.data.get(str(cd.args["source"]))
            info = self._data_info(parent) if parent is not None else _DataInfo("?", False, False)
            return _DataInfo("split", info.streamed, info.table)
        return _DataInfo(kind, kind in _STREAMED, kind in _TABLES)

    def data_ref(self, ref) -> tuple[CheckedData, str | None]:
        """The checked data source a step names, and its declared name (None for an inline source)."""
        if isinstance(ref, CheckedData):
            return ref, None
        return self.checked.data[str(ref)], str(ref)

    def load_data(self, body: list[str], ref) -> tuple[str, _DataInfo]:
        """Code that loads a data source (once, for a declared one); returns its variable."""
        cd, name = self.data_ref(ref)
        info = self._data_info(cd)
        if name is None:
            body.append(f"    inline_rows = {self.source_call(cd)}")
            return "inline_rows", info
        var = self.allocate(("data", name), f"{name}_data")
        if name not in self.loaded_data:
            if info.kind == "split":
                self.load_data(body, cd.args["source"])
            body.append(f"    {var} = {self.source_call(cd)}")
            self.loaded_data.add(name)
        return var, info

    def source_call(self, cd: CheckedData) -> str:
        """The call of the helper that reads a data source as nndsl reads it."""
        kind = _SOURCES.get(cd.spec.impl)
        if kind is None:
            self.unsupported(cd.decl.source.name_span, f"data source '{cd.spec.name}' (from {origin_of('data_sources', cd.spec.name)})")
            return "None"
        self.need(f"read_{kind}" if kind != "split" else "split_rows")
        args = _SourceArgs(self, cd.args, argument_nodes(cd.decl.source, [p.name for p in cd.spec.params]), cd.decl.source)
        if kind in ("image_folder", "text_folder"):
            return f"read_{kind}({', '.join(self.folder_arguments(kind, args))})"
        return getattr(self, f"source_{kind}")(args)

    def source_csv(self, a: _SourceArgs) -> str:
        return f"read_csv({', '.join(self.table_arguments(a, delimiter=True))})"

    def source_parquet(self, a: _SourceArgs) -> str:
        return f"read_parquet({', '.join(self.table_arguments(a))})"

    def source_json(self, a: _SourceArgs) -> str:
        return f"read_json({', '.join(self.table_arguments(a))})"

    def table_arguments(self, a: _SourceArgs, *, delimiter: bool = False) -> list[str]:
        """The arguments of a table reader: the path (a file, a glob pattern or a folder of part
        files, as nndsl reads it) and the column roles, as the file wrote them."""
        parts = [a.path("path")]
        for p in ("target", "features", "exclude", "categorical", *(("delimiter",) if delimiter else ())):
            if a.get(p) is not None:
                parts.append(f"{p}={a.code(p)}")
        if a.get("numeric") is not None and a.get("features") is None:
            # numeric= names the numeric features: with the categorical columns, the only ones
            parts.append(f"features={a.code('numeric')}")
        if a.get("id") is not None:
            parts.append(f"ids={a.code('id')}")
        for p in ("missing", "unknown", "text"):
            if a.get(p) is not None and not (p == "unknown" and a.get(p) == "oov"):
                parts.append(f"{p}={a.code(p)}")
        return parts

    def source_npz(self, a: _SourceArgs) -> str:
        parts = [a.path("path")]
        if a.get("x"):
            parts.append(f"x={a.code('x')}")
        if a.get("y") is not None:
            parts.append(f"y={a.code('y')}")
        return f"read_npz({', '.join(parts)})"

    def source_npy(self, a: _SourceArgs) -> str:
        return f"read_npy({a.path('path')}" + (f", target={a.path('target')})" if a.get("target") else ")")

    def folder_arguments(self, kind: str, a: _SourceArgs) -> list[str]:
        parts = [a.path("path")]
        if kind == "image_folder":
            if a.get("image_size"):
                parts.append(f"image_size={a.code('image_size')}")
            if a.get("color_mode"):
                parts.append(f"color_mode={a.code('color_mode')}")
        if "label_mode" in a.values and a.values["label_mode"] is None:
            mode = None
        else:
            mode = a.get("label_mode") or "int"
            mode = None if mode == "none" else str(mode)
        if mode != "int":
            parts.append(f"label_mode={self.literal(mode)}")
        return parts

    def source_split(self, a: _SourceArgs) -> str:
        source = a.values["source"]
        parent = self.allocate(("data", str(source)), f"{source}_data")
        fractions = self.literal([float(f) if not isinstance(f, bool) else f for f in self.python_value(a.values["fractions"])])
        if a.get("seed") is not None:
            seed = a.code("seed")
        elif self.checked.settings.get("seed") is not None:
            seed = "SEED"
        else:
            seed = "0"
        part = a.code("part") if "part" in a.values else "0"
        return f"split_rows({parent}, {fractions}, part={part}, seed={seed})"

    # ------------------------------------------------------------ steps
    def step_code(self, step: CheckedStep) -> list[str]:
        verb = _STEPS.get(step.spec.impl)
        text = self.checked.source.text[step.node.span.start:step.node.span.end] if self.checked.source is not None else step.verb
        body = [f"    # {line.rstrip()}" for line in text.splitlines() or [step.verb]]
        if verb is None:
            self.unsupported(step.node.verb_span, f"step '{step.spec.name}' (from {origin_of('steps', step.spec.name)})")
            return body
        getattr(self, f"step_{verb}")(step, body)
        return body

    def kwarg_code(self, step: CheckedStep, name: str, default=None) -> str:
        node = next((k.value for k in step.node.kwargs if k.name == name), None)
        value = step.kwargs.get(name, default)
        return self.code(value, node)

    def uses_export(self, mv: _ModelVars, body: list[str]) -> str:
        """The model as nndsl saves, tests and predicts with it (target scaling undone)."""
        if not mv.scaled_target:
            return mv.var
        export = self.var(mv, "export")
        if not mv.export_ready:
            self.need("with_raw_target")
            compile_args = f", {self.compile_args_name(mv.checked)}()" if mv.checked.compile.get("loss") is not None else ""
            body.append(f"    {export} = with_raw_target({mv.var}, *{self.var(mv, 'target_scaling')}{compile_args})")
            mv.export_ready = True
        return export

    def encoded(self, body: list[str], mv: _ModelVars, var: str, info: _DataInfo) -> str:
        """A table as the model takes it: encoded with the model's table encoding, fitted on the
        first table it sees (its training data), as nndsl does."""
        if not info.table:
            return var
        self.need("encode_table")
        schema = self.var(mv, "schema")
        if not mv.schema_set:
            self.need("fit_table")
            kind = loss_kind(mv.checked) if mv.checked is not None else None
            body.append(f"    {schema} = fit_table({var}, loss_kind={self.literal(kind)})  # fitted on the training rows")
            mv.schema_set = True
        body.append(f"    rows = encode_table({var}, {schema})")
        return "rows"

    def step_train(self, step: CheckedStep, body: list[str]) -> None:
        mv = self.model_vars(step.target)
        var, info = self.load_data(body, step.on)
        kw = step.kwargs
        batch = self.kwarg_code(step, "batch_size") if kw.get("batch_size") else str(BATCH_SIZE)
        val_batch = (self.kwarg_code(step, "validation_batch_size") if kw.get("validation_batch_size")
                     else (self.literal(max(int(kw.get("batch_size") or BATCH_SIZE), MIN_VALIDATION_BATCH)) if batch.isdigit()
                           else f"max({batch}, {MIN_VALIDATION_BATCH})"))
        pipeline = _Pipeline(
            batch=batch, val_batch=val_batch, shuffle=kw.get("shuffle", True) is not False,
            seed="SEED" if self.checked.settings.get("seed") is not None else "None",
            prefetch="" if kw.get("prefetch", True) is not False else ", prefetch=False",
        )
        fit_args = [f"epochs={self.kwarg_code(step, 'epochs') if kw.get('epochs') else '1'}"]
        for k in ("class_weight", "initial_epoch", "steps_per_epoch", "validation_steps", "validation_freq"):
            if kw.get(k) is not None:
                fit_args.append(f"{k}={self.kwarg_code(step, k)}")
        if info.streamed:
            validation = self.streamed_training(step, mv, var, pipeline, body)
        else:
            validation = self.in_memory_training(step, mv, var, info, pipeline, body)
        if validation:
            fit_args.append("validation_data=validation")
        self.fit(step, mv, fit_args, body)

    def streamed_training(self, step: CheckedStep, mv: _ModelVars, var: str, pipeline: _Pipeline, body: list[str]) -> bool:
        """The pipelines of a folder source; whether there is validation data."""
        kw = step.kwargs
        self.need("stream_pipeline")
        if kw.get("validation_split"):
            raise UsageError(f"{self.where(step.node.span)}: expected no validation_split for the streamed folder source '{step.on}'; "
                             "received validation_split (nndsl run refuses it too: give validation data as its own source)")
        if not mv.built:
            model = self.defined_model(step, mv)
            if needs_width(model):
                self.unsupported(model.decl.name_span, "a model without Input that does not train on a table")
            fn = self.allocate(("build", model.name), f"build_{model.name}")
            takes = model.options.scale_features != "none"
            body.append(f"    {mv.var} = {fn}({'after_input=[keras.layers.Normalization()]' if takes else ''})")
            if adapts_layers(model):
                self.need("adapt_layers")
                body.append(f"    adapt_layers({mv.var}, {var})  # {_ADAPT_NOTE}")
            body.append(f"    {self.var(mv, 'classes')} = list({var}.class_names)  # names the prediction columns")
            mv.classes_set = True
            mv.built = True
        cache = "" if kw.get("cache", True) is not False else ", cache=False"
        body.append(f"    pipeline = stream_pipeline({var}, batch_size={pipeline.batch}, shuffle={pipeline.shuffle}, "
                    f"seed={pipeline.seed}{cache}{pipeline.prefetch})")
        if kw.get("validation_data") is None:
            return False
        vvar, _ = self.load_data(body, kw["validation_data"])
        body.append(f"    validation = stream_pipeline({vvar}, batch_size={pipeline.val_batch}, shuffle=False, "
                    f"seed=None{pipeline.prefetch})")
        return True

    def in_memory_training(self, step: CheckedStep, mv: _ModelVars, var: str, info: _DataInfo, pipeline: _Pipeline,
                           body: list[str]) -> bool:
        """The pipelines of rows in memory (the model built and its preprocessing fitted on the
        first training); whether there is validation data."""
        kw = step.kwargs
        first = not mv.built
        if first:
            self.defined_model(step, mv)
        rows = self.encoded(body, mv, var, info)
        if first:
            self.first_build(mv, rows, body, table=info.table)
        body.append(f"    x, y = {self.xy(mv, rows)}" + ("  # training uses the scaled target" if mv.scaled_target else ""))
        validation = False
        if kw.get("validation_data") is not None:
            vvar, vinfo = self.load_data(body, kw["validation_data"])
            body.append(f"    val_x, val_y = {self.xy(mv, self.encoded(body, mv, vvar, vinfo))}")
            validation = True
        elif kw.get("validation_split"):
            self.need("split_validation")
            body.append(f"    (x, y), (val_x, val_y) = split_validation(x, y, {self.kwarg_code(step, 'validation_split')})")
            validation = True
        self.need("array_pipeline")
        body.append(f"    pipeline = array_pipeline(x, y, batch_size={pipeline.batch}, shuffle={pipeline.shuffle}, "
                    f"seed={pipeline.seed}{pipeline.prefetch})")
        if validation:
            body.append(f"    validation = array_pipeline(val_x, val_y, batch_size={pipeline.val_batch}, shuffle=False, "
                        f"seed=None{pipeline.prefetch})")
        return validation

    def defined_model(self, step: CheckedStep, mv: _ModelVars) -> CheckedModel:
        """The model a step trains first, which the file must define."""
        if mv.checked is None:
            raise UsageError(f"{self.where(step.node.span)}: expected a model defined in the file; received '{step.target}'")
        return mv.checked

    def first_build(self, mv: _ModelVars, rows: str, body: list[str], *, table: bool) -> None:
        """Before the first training: the target names kept, the scaling fitted, the model built."""
        model = mv.checked
        features, target = model.options.scale_features, model.options.scale_target
        after = ""
        body.append(f"    {self.var(mv, 'targets')} = {rows}.target_names")
        mv.targets_set = True
        if features != "none" and features in _PREPROCESSORS:
            self.need(_PREPROCESSORS[features], "normalization")
            stats = self.var(mv, "feature_scaling")
            body.append(f"    {stats} = {_PREPROCESSORS[features]}({rows}.x)  # fitted on the training features")
            after = f"after_input=[normalization(*{stats})]"
        if target != "none" and target in _PREPROCESSORS:
            self.need(_PREPROCESSORS[target])
            body.append(f"    {self.var(mv, 'target_scaling')} = {_PREPROCESSORS[target]}({rows}.y)  # fitted on the training target")
            mv.scaled_target = True
            mv.export_ready = False
        fn = self.allocate(("build", model.name), f"build_{model.name}")
        if needs_width(model):
            if not table:
                self.unsupported(model.decl.name_span, "a model without Input that does not train on a table")
            width = f"{rows}.x.shape[1]"  # the table's encoded width
            after = f"{width}, {after}" if after else width
        body.append(f"    {mv.var} = {fn}({after})")
        if adapts_layers(model):
            self.need("adapt_layers")
            body.append(f"    adapt_layers({mv.var}, {rows}.x)  # {_ADAPT_NOTE}")
        mv.built = True

    def xy(self, mv: _ModelVars, rows: str) -> str:
        """The features and the target of ``rows`` as the model trains on them (the target scaled)."""
        if not mv.scaled_target:
            return f"{rows}.x, {rows}.y"
        self.need("scale")
        return f"{rows}.x, scale({rows}.y, *{self.var(mv, 'target_scaling')})"

    def fit(self, step: CheckedStep, mv: _ModelVars, fit_args: list[str], body: list[str]) -> None:
        """The call of ``fit``, with the callbacks nndsl adds and its steps per execution."""
        kw = step.kwargs
        if kw.get("steps_per_epoch") is not None:
            body.append("    pipeline = pipeline.repeat()")
        if mv.checked is None or "steps_per_execution" not in mv.checked.compile:
            self.need("one_call_per_epoch")
            body.append(f"    one_call_per_epoch({mv.var}, pipeline)")
        callbacks = []
        for cb in kw.get("callbacks") or []:
            self.need("with_paths_here")
            callbacks.append(f"with_paths_here({self.code(cb)})")
        callbacks.append("keras.callbacks.TerminateOnNaN()")  # nndsl stops at the first NaN loss too
        if len(callbacks) > 1:
            body.append(f"    callbacks = [{', '.join(callbacks)}]")
            fit_args.append("callbacks=callbacks")
        else:
            fit_args.append(f"callbacks=[{callbacks[0]}]")
        body.append(f"    {mv.var}.fit(pipeline, {', '.join(fit_args)}, verbose=2)")

    def step_test(self, step: CheckedStep, body: list[str]) -> None:
        mv = self.model_vars(step.target)
        var, info = self.load_data(body, step.on)
        model = self.uses_export(mv, body)
        self.need("report")
        title = self.literal(f"{step.verb} {step.target} on {step.on if not isinstance(step.on, CheckedData) else step.on.spec.name}")
        if info.streamed:
            batch = self.kwarg_code(step, "batch_size") if step.kwargs.get("batch_size") else str(BATCH_SIZE)
            body.append(f"    results = {model}.evaluate({var}.batch({batch}), verbose=0, return_dict=True)")
        else:
            rows = self.encoded(body, mv, var, info)
            extra = "".join(f", {k}={self.kwarg_code(step, k)}" for k in ("batch_size", "steps") if step.kwargs.get(k) is not None)
            raw = "  # in raw units" if mv.scaled_target else ""
            body.append(f"    results = {model}.evaluate({rows}.x, {rows}.y, verbose=0, return_dict=True{extra}){raw}")
        body.append(f"    report({title}, results)")

    def step_save(self, step: CheckedStep, body: list[str]) -> None:
        mv = self.model_vars(step.target)
        model = self.uses_export(mv, body)
        target = str(step.to)
        suffix = Path(target).suffix
        fmt = step.kwargs.get("format") or ("h5" if suffix.lower() in (".h5", ".hdf5") else "export" if suffix == "" else "keras")
        if fmt == "keras" and suffix != ".keras":
            raise UsageError(f"{self.where(step.node.to.span)}: expected a path ending in .keras for the Keras format; received '{target}' "
                             "(nndsl run refuses it too)")
        if fmt == "export" and suffix != "":
            raise UsageError(f"{self.where(step.node.to.span)}: expected a folder path without an extension for format=export; "
                             f"received '{target}'")
        if fmt == "h5" and suffix.lower() not in (".h5", ".hdf5"):
            raise UsageError(f"{self.where(step.node.to.span)}: expected a path ending in .h5 for format=h5; received '{target}'")
        self.need("save_keras_file")
        targets = self.var(mv, "targets") if mv.targets_set else "[]"
        if mv.schema_set:
            schema = self.var(mv, "schema")
            meta = f'{{"target_names": {targets}, "table": {schema}, "core": {model}.name}}'
            if fmt == "keras":
                # as nndsl saves a model trained on a table: named raw columns in, encoded by its first layers
                self.need("table_model")
                compiled = (f", {self.compile_args_name(mv.checked)}(), {mv.var}.optimizer"
                            if mv.checked is not None and mv.checked.compile.get("loss") is not None else "")
                body.append(f"    saved = table_model({model}, {schema}{compiled})")
                model = "saved"
        else:
            meta = f'{{"target_names": {targets}}}'
        node = step.node.to
        body.append(f"    save_keras_file({model}, BASE / {self.code(step.to, node)}, {meta})")

    def step_load(self, step: CheckedStep, body: list[str]) -> None:
        mv = self.model_vars(step.target)
        self.need("load_keras_file")
        body.append(f"    {mv.var}, meta = load_keras_file(BASE / {self.code(step.from_, step.node.from_)})")
        body.append(f"    {self.var(mv, 'targets')} = meta.get(\"target_names\") or []")
        mv.targets_set = True
        body.append(f"    {self.var(mv, 'classes')} = meta.get(\"class_names\") or []")
        mv.classes_set = True
        if self.uses_tables:
            body.append(f"    {self.var(mv, 'schema')} = meta.get(\"table\")  # the table encoding it was trained with")
            mv.schema_set = True
        mv.built = True
        mv.scaled_target = False
        mv.export_ready = False

    def step_predict(self, step: CheckedStep, body: list[str]) -> None:
        mv = self.model_vars(step.target)
        var, info = self.load_data(body, step.on)
        model = self.uses_export(mv, body)
        keep = step.kwargs.get("keep")
        keep_list = [keep] if isinstance(keep, str) else list(keep or [])
        if info.streamed:
            if [k for k in keep_list if k != "file"]:
                raise UsageError(f"{self.where(step.node.span)}: expected no keep= columns for the streamed folder source "
                                 f"'{step.on}'; received {keep_list}")
            body.append(f"    predictions = np.asarray({model}.predict({var}.batch({PREDICT_BATCH}), verbose=0))")
            self.need("file_table")
            body.append(f"    files = file_table({var})  # each row's file, as nndsl writes it beside the predictions")
            table = "files"
            keep_list = ["file"]
        else:
            rows = self.encoded(body, mv, var, info)
            self.need("predict_rows")
            batch = f", batch_size={self.kwarg_code(step, 'batch_size')}" if step.kwargs.get("batch_size") else ""
            body.append(f"    predictions = predict_rows({model}, {rows}.x{batch})")
            table = rows
        targets = self.var(mv, "targets") if mv.targets_set else "[]"
        column = f", column={self.kwarg_code(step, 'column')}" if step.kwargs.get("column") else ""
        classes = f", classes={self.var(mv, 'classes')}" if mv.classes_set else ""
        # as nndsl does: the data's id= columns first, then the kept ones, never twice
        keep_list = list(dict.fromkeys([*self.id_columns(step.on), *keep_list]))
        keep_code = self.literal(keep_list) if keep_list else "()"
        keep_arg = f", keep={keep_code}" if keep_list else ""
        by_class = info.table and mv.schema_set
        if by_class:
            # a model trained on class names: the class of each row (and each class's probability)
            self.need("class_predictions")
            probabilities = ", probabilities=True" if step.kwargs.get("probabilities") else ""
            body.append(f"    names, labels, values = class_predictions(predictions, {targets}, {self.var(mv, 'schema')}"
                        f"{column}{probabilities}{keep_arg})")
        else:
            self.need("prediction_names")
            body.append(f"    names = prediction_names(predictions, {targets}{column}{classes}{keep_arg})")
        if step.to is None:
            self.need("print_predictions")
            rows_code = self.kwarg_code(step, "rows") if step.kwargs.get("rows") else "10"
            if by_class:
                body.append(f"    print_predictions(values, names, {table}, keep={keep_code}, rows={rows_code}, labels=labels)")
            else:
                body.append(f"    print_predictions(predictions, names, {table}, keep={keep_code}, rows={rows_code})")
            return
        suffix = Path(str(step.to)).suffix.lower()
        if suffix not in (".npy", ".csv", ".txt", ""):
            raise UsageError(f"{self.where(step.node.to.span)}: expected a .csv or .npy path for predictions; received '{step.to}' "
                             "(nndsl run refuses it too)")
        self.need("write_predictions")
        labelled = ", labels=labels, values=values" if by_class else ""
        body.append(f"    write_predictions(BASE / {self.code(step.to, step.node.to)}, predictions, names, {table}, keep={keep_code}"
                    f"{labelled})")

    def id_columns(self, ref) -> list[str]:
        """The ``id=`` columns of a data source (through ``split`` to the source it cuts)."""
        cd = ref if isinstance(ref, CheckedData) else self.checked.data.get(str(ref))
        for _ in range(len(self.checked.data) + 1):
            if cd is None or cd.spec.name != "split":
                break
            cd = self.checked.data.get(str(cd.args.get("source")))
        ids = cd.args.get("id") if cd is not None else None
        return [ids] if isinstance(ids, str) else [str(i) for i in ids or ()]

    def step_summary(self, step: CheckedStep, body: list[str]) -> None:
        mv = self.model_vars(step.target)
        if mv.built:
            body.append(f"    {mv.var}.summary()")
            return
        model = mv.checked
        if needs_width(model):
            text = f"model {model.name}: its input width comes from the table it trains on, so its layers are built by training"
            body.append(f"    print({self.literal(text)})")
            return
        fn = self.allocate(("build", model.name), f"build_{model.name}")
        takes = model.options.scale_features != "none"
        body.append(f"    {fn}({'after_input=[keras.layers.Normalization()]' if takes else ''}).summary()  # before training: its layers")

    # ------------------------------------------------------------ the script
    def script(self) -> str:
        for model in self.checked.models.values():
            self.preprocessing_check(model)
        seed = self.checked.settings.get("seed")
        constants = self.let_constants()
        for name in self.checked.models:
            self.model_vars(name)
        try:
            builders = []
            for model in self.checked.models.values():
                if model.compile.get("loss") is not None:
                    builders.append(self.compile_function(model))
                builders.append(self.builder(model))
            main = ["def main():", f'    """The steps of {self.file}, in order."""']
            if seed is not None:
                main.append(f"    keras.utils.set_random_seed(SEED)  # seed {seed}: Python, NumPy and TensorFlow, as nndsl run seeds them")
            for step in self.checked.steps:
                main.extend(self.step_code(step))
        except Unsupported as exc:
            raise UsageError(f"cannot export {self.file} to Python: {exc} has no plain-Keras form") from None
        if self.problems:
            listed = "\n".join(f"  {p}" for _, p in sorted(self.problems))
            raise UsageError(
                f"cannot export {self.file} to Python: expected only Keras names and nndsl's built-in data sources, preprocessing "
                f"and steps; received names a plain Keras script cannot reproduce:\n{listed}\n"
                f"  ({'their code lives in a plugin; ' if self.plugin_problems() else ''}"
                "run the file with nndsl run instead)"
            )
        return self.assemble(constants, builders, main)

    def plugin_problems(self) -> bool:
        """Whether some name refused comes from a plugin (rather than being a part of nndsl the script cannot follow)."""
        return any(" (from " in p and " (from nndsl)" not in p for _, p in self.problems)

    def base_line(self) -> str:
        folder = self.source_path.resolve().parent
        if self.output_path is None:
            return f"BASE = HERE  # the folder of {self.file}: the paths below are relative to it"
        out_folder = self.output_path.resolve().parent
        try:
            rel = os.path.relpath(folder, out_folder)
        except ValueError:  # another drive: only an absolute path reaches it
            return f"BASE = pathlib.Path({self.literal(str(folder))})  # the folder of {self.file}: the paths below are relative to it"
        if rel == ".":
            return f"BASE = HERE  # the folder of {self.file}: the paths below are relative to it"
        rel = Path(rel).as_posix()
        return f"BASE = (HERE / {self.literal(rel)}).resolve()  # the folder of {self.file}: the paths below are relative to it"

    def header(self, constants: list[str]) -> list[str]:
        """The docstring, the imports, the paths, the seed and the let constants."""
        seed = self.checked.settings.get("seed")
        imports = set(self.imports) | {"os", "pathlib", "warnings"}
        standard = sorted(m for m in imports if _top_module(m) in sys.stdlib_module_names)
        others = sorted(m for m in imports if m not in standard)  # pyarrow's, for Parquet and JSON lines
        if others:  # the lines never depend on the file's name (docs/security.md)
            needs = ["only Keras, TensorFlow and NumPy (and pyarrow, to read its tables), and runs from any folder:",
                     "the files it reads and writes are found relative to this script. The `let` variables of",
                     f"{self.file} are the constants below."]
        else:
            needs = ["only Keras, TensorFlow and NumPy, and runs from any folder: the files it reads and writes are",
                     f"found relative to this script. The `let` variables of {self.file} are the constants below."]
        out = [
            "#!/usr/bin/env python3",
            f'"""{self.file} as a plain Keras script.',
            "",
            f"Written by `nndsl export {self.file} --to python`: the same data, preprocessing, model, training",
            "and outputs as `nndsl run`, with the same seed, so the trained weights are the same. It needs",
            *needs,
            '"""',
            "",
        ]
        out.extend(f"import {m}" for m in standard)
        out += [
            "",
            'os.environ.setdefault("KERAS_BACKEND", "tensorflow")',
            "",
            "import keras  # noqa: E402",
            "import numpy as np  # noqa: E402",
            *(f"import {m}  # noqa: E402" for m in others),
            "import tensorflow as tf  # noqa: E402",
            "",
            "# Expected here, as in nndsl run: fit's shuffle does not apply to a tf.data pipeline (the pipeline",
            "# shuffles), and a model saved before it ever trained has no optimizer state to load.",
            'warnings.filterwarnings("ignore", message=".*`shuffle=True` was passed")',
            'warnings.filterwarnings("ignore", message="Skipping variable loading for optimizer")',
            "",
            "HERE = pathlib.Path(__file__).resolve().parent",
            self.base_line(),
        ]
        if seed is not None:
            out.append(f"SEED = {self.literal(seed)}")
        if constants:
            out += ["", f"# The let variables of {self.file}."]
            out.extend(constants)
        return out

    def assemble(self, constants: list[str], builders: list[list[str]], main: list[str]) -> str:
        """The script: its header, the helpers it uses, the model builders, then ``main``."""
        out = self.header(constants)
        used = [helper for name, helper in helpers().items() if name in self.helpers]
        if used:
            out += ["", ""]
            out.append("# " + "-" * 40 + " data: read, scaled, fed and written as nndsl does")
            for helper in used:
                out += ["", ""]
                out.append(helper.source.rstrip("\n"))
        out += ["", ""]
        out.append("# " + "-" * 40 + " the models")
        for block in builders:
            out += ["", ""]
            out.extend(block)
        out += ["", ""]
        out.append("# " + "-" * 40 + " the steps")
        out += ["", ""]
        out.extend(main)
        out += ["", "", 'if __name__ == "__main__":', "    main()", ""]
        return "\n".join(out)



# ---------------------------------------------------------------- small helpers


def _top_module(imported: str) -> str:
    """The package an import names: "pyarrow" for "pyarrow.parquet as pq"."""
    return imported.split(" as ")[0].split(".")[0].strip()


def _bound_name(imported: str) -> str:
    """The name an import binds in the script: "pq" for "pyarrow.parquet as pq", "csv" for "csv"."""
    return imported.split(" as ")[1].strip() if " as " in imported else _top_module(imported)


_ADAPT_NOTE = "preprocessing layers without statistics or vocabulary, as nndsl adapts them"


def needs_width(model: CheckedModel) -> bool:
    """Whether the model leaves out ``Input``: it takes the encoded width of the table it trains on."""
    first = model.resolved[0]
    return first.call.spec.name not in ("Input", "InputLayer", "Sequential") and not has_input_arguments(first)


def adapts_layers(model: CheckedModel) -> bool:
    """Whether nndsl adapts some layer of the model on the training data (see :mod:`nndsl.run.adapt`)."""
    calls = [rl.call for rl in model.resolved]
    while calls:
        call = calls.pop()
        if call.spec is sequential_spec():
            calls.extend(c for c in call.args.get("layers") or () if isinstance(c, ResolvedCall))
        elif call.spec.name in ADAPTED_WITHOUT and call.args.get(ADAPTED_WITHOUT[call.spec.name]) is None \
                and not call.args.get("invert"):
            return True
    return False


__all__ = ["eject"]

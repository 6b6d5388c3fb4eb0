"""The Keras passes: every name resolved in the registry of the place it stands in, every
argument bound to its parameter and type-checked, compile properties checked, and shapes
inferred layer by layer. Uses the committed catalogue of Keras signatures; never imports Keras.
"""

from __future__ import annotations

import functools
from dataclasses import replace
from typing import Any

from .. import ast
from ..errors import NndslError, Note
from ..plugins.registry import normalize, registry
from ..plugins.spec import LAYER_BASE_PARAMS, RISK_CODE, RISK_GRAPH, RISK_NETWORK, LayerSpec, ParamSpec
from ..vocabulary import MODEL_NAME
from .context import FAILED, Context, hint_for, type_hint
from .evaluate import Invocation, describe_value, is_number
from .files import check_object_files
from .result import MODEL_OPTIONS, CheckedData, CheckedModel, CheckedProgram, ExpandedLayer, ResolvedCall, ResolvedLayer, ResolvedName
from .types import describe_type, fits
from .values import CallValue, Symbol

# Parameter types that name a registry kind: a bare name or a call there is looked up in it.
_KIND_OF_TYPE = {
    "activation": "activations", "initializer": "initializers", "regularizer": "regularizers",
    "constraint": "constraints", "layer": "layers", "loss": "losses", "metric": "metrics",
    "optimizer": "optimizers", "schedule": "schedules", "callback": "callbacks", "metrics": "metrics",
}
# Where a call of unknown purpose (a parameter typed "any") is looked up, in order.
_GUESS_KINDS = ("schedules", "initializers", "regularizers", "constraints", "layers", "losses", "metrics", "optimizers", "callbacks")

# keras.Model.compile's arguments (Keras 3), written `name value` in a model body.
COMPILE_ARGS = {
    "loss": "loss", "optimizer": "optimizer", "metrics": "metrics", "loss_weights": "any",
    "weighted_metrics": "metrics", "run_eagerly": "bool", "steps_per_execution": "positive_int",
    "jit_compile": "any", "auto_scale_loss": "bool",
}

# What each refused risk does, in the words of the error.
_RISK_WORDS = {RISK_CODE: "runs Python code", RISK_GRAPH: "loads and runs a saved graph"}
PLUGIN_HINT = ("a .nn file never runs code: put the code in a plugin (a Python module that registers the name, "
               "see docs/plugins.md) and load it with --plugin")
# Layer arguments that Keras also reads as a file path (TextVectorization(vocabulary="vocab.txt")):
# the compiler and the exporter make them relative to the .nn file, as data sources' paths are.
LAYER_PATH_ARGS = ("vocabulary",)

# Integer parameters of 1-D layers that Keras also takes, and serializes, as a one-element tuple.
_ONE_TUPLE_PARAMS = frozenset({"pool_size", "strides"})

_ARTICLE = {"activations": "an activation", "initializers": "an initializer", "regularizers": "a regularizer",
            "constraints": "a constraint", "layers": "a layer", "losses": "a loss", "metrics": "a metric",
            "optimizers": "an optimizer", "schedules": "a learning-rate schedule", "callbacks": "a callback"}


def _node_span(node):
    return node.span if node is not None else None


class _Resolver:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.ok = True

    def error(self, *a, **k):
        self.ok = False
        self.ctx.error(*a, **k)

    # ------------------------------------------------------------ names and calls
    def lookup(self, kind: str, name: str, span, extra_names=()):
        reg = registry(kind)
        resolved = reg.resolve(name)
        if resolved is None and kind == "layers" and normalize(name) == "sequential":
            return sequential_spec()
        if resolved is None:
            what = _ARTICLE.get(kind, kind)
            cands = reg.names() + list(extra_names)
            self.error("unknown-name", f"expected {what} name; received '{name}'", span, hint=hint_for(name, cands))
            return None
        try:
            return reg.get(resolved)
        except NndslError as exc:
            self.error("plugin-error", str(exc), span)
            return None

    def call(self, kind: str, inv: Invocation, extra_names=()) -> ResolvedCall | None:
        spec = self.lookup(kind, inv.name, inv.node.name_span, extra_names)
        if spec is None:
            return None
        if spec is sequential_spec():
            return self.sequential(spec, inv)
        if not self.allowed(spec, inv.node.name_span):
            return None
        args = self.bind(spec, inv, f"{spec.name}")
        if args is None:
            return None
        return ResolvedCall(kind, spec, args, inv.node)

    def allowed(self, spec, span) -> bool:
        """A name that runs code or loads a graph is refused; one that opens a connection needs
        ``--allow-network``. The marks come from the catalogue or from the plugin's spec."""
        risk = getattr(spec, "risk", "")
        if not risk:
            return True
        if risk == RISK_NETWORK:
            if self.ctx.grants.network:
                return True
            self.error("needs-network", f"expected no network access without --allow-network; received '{spec.name}', which sends "
                       "data to a server", span,
                       hint="pass --allow-network to nndsl check and run if you trust this file and the address it names")
            return False
        what = _RISK_WORDS.get(risk, f"does more than compute ({risk})")
        self.error("runs-code", f"expected a name a .nn file may use; received '{spec.name}', which {what}", span, hint=PLUGIN_HINT)
        return False

    def sequential(self, spec, inv: Invocation) -> ResolvedCall | None:
        """``Sequential(A(...), B(...))`` or ``Sequential([A(...), B(...)])``: a group of layers used as one."""
        node = inv.node
        items: list = []
        item_nodes: list = []
        if len(inv.args) == 1 and isinstance(inv.args[0], list):
            items = list(inv.args[0])
            item_nodes = _item_nodes(node.args[0], len(items))
        else:
            for v, n in zip(inv.args, node.args):
                if isinstance(v, list):
                    self.error("bad-argument-type", "expected the layers of Sequential as one list or as separate arguments; received both",
                               n.span, hint="write Sequential(A(...), B(...)) or Sequential([A(...), B(...)])")
                    return None
                items.append(v)
                item_nodes.append(n)
        args: dict[str, Any] = {}
        ok = True
        for k in node.kwargs:
            value = inv.kwargs[k.name]
            if k.name == "layers":
                if items:
                    self.error("duplicate-argument", "expected 'layers' once for Sequential; received it again", k.name_span,
                               hint="the layers are already given as positional arguments")
                    return None
                if not isinstance(value, list):
                    self.error("bad-argument-type", f"expected a list of layers for 'layers'; received {describe_value(value)}",
                               k.value.span)
                    return None
                items, item_nodes = list(value), _item_nodes(k.value, len(value))
            elif k.name in ("trainable", "name"):
                converted = self.value(value, "bool" if k.name == "trainable" else "str", k.name == "name", k.value, k.name)
                if converted is FAILED:
                    ok = False
                args[k.name] = converted
            else:
                self.error("unknown-argument", f"expected an argument of Sequential; received '{k.name}'", k.name_span,
                           hint="Sequential takes its layers, then trainable= and name=")
                ok = False
        if not items:
            self.error("missing-argument", "expected at least one layer for Sequential; received none", node.span,
                       hint="for example Sequential(RandomFlip(horizontal), RandomRotation(0.1))")
            return None
        layers = [self.named("layers", v, n, "layers") for v, n in zip(items, item_nodes)]
        if not ok or any(v is FAILED for v in layers):
            return None
        args["layers"] = layers
        return ResolvedCall("layers", spec, args, node)

    def bind(self, spec, inv: Invocation, what: str) -> dict | None:
        node = inv.node
        params = list(spec.params)
        positional = [p for p in params]
        bound: dict[str, Any] = {}
        nodes: dict[str, Any] = {}
        ok = True
        for i, (v, n) in enumerate(zip(inv.args, node.args)):
            if i >= len(positional) or _keyword_only(spec, positional[i]):
                limit = sum(1 for p in positional if not _keyword_only(spec, p))
                if getattr(spec, "var_positional", False):
                    bound.setdefault("*args", []).append(v)
                    continue
                self.error("too-many-arguments",
                           f"expected at most {limit} positional argument{'s' if limit != 1 else ''} for {what}; received {len(inv.args)}",
                           n.span,
                           hint=f"{what}'s parameters are: {', '.join(p.name for p in params[:8])}{', ...' if len(params) > 8 else ''}")
                ok = False
                break
            bound[positional[i].name] = v
            nodes[positional[i].name] = n
        names = {p.name: p for p in params}
        for k in node.kwargs:
            if k.name not in names:
                self.error("unknown-argument", f"expected an argument of {what}; received '{k.name}'", k.name_span,
                           hint=hint_for(k.name, names) or f"{what} takes: {', '.join(list(names)[:10])}")
                ok = False
                continue
            if k.name in bound:
                self.error("duplicate-argument", f"expected '{k.name}' once for {what}; received it again", k.name_span,
                           hint=("it is already given as a positional argument"
                                 if k.name in nodes and nodes[k.name] is not k.value else None))
                ok = False
                continue
            bound[k.name] = inv.kwargs[k.name]
            nodes[k.name] = k.value
        for p in params:
            if p.required and p.name not in bound:
                self.error("missing-argument", f"expected argument '{p.name}' for {what} ({describe_type(p.type)}); received none",
                           node.span, hint=f"for example {spec.name}({p.name}=...)" )
                ok = False
        if not ok:
            return None
        out = {}
        for name, value in bound.items():
            if name == "*args":
                out[name] = value
                continue
            p = names[name]
            if p.callable and value is not None and value is not FAILED and not isinstance(value, Invocation):
                # Keras wants a Python function here; a name in a .nn file would reach it as a string.
                self.error("runs-code", f"expected a Python function for '{name}', which a .nn file cannot hold; received "
                           f"{describe_value(value)}", _node_span(nodes.get(name)), hint=PLUGIN_HINT)
                ok = False
                continue
            converted = self.value(value, p.type, p.nullable, nodes.get(name), name)
            if converted is FAILED:
                ok = False
            out[name] = converted
        return out if ok else None

    def value(self, value, type_name: str, nullable: bool, node, pname: str):
        """Check one argument value against its type; resolve the names and calls it holds."""
        if value is FAILED:
            return FAILED
        span = _node_span(node)
        kind = _KIND_OF_TYPE.get(type_name)
        if value is None:
            if nullable or type_name == "any" or kind is not None:
                return None
            self.error("bad-argument-type", f"expected {describe_type(type_name)} for '{pname}'; received none", span)
            return FAILED
        if kind is not None:
            return self.named(kind, value, node, pname)
        if pname == "learning_rate" and type_name == "any" and not is_number(value) and not isinstance(value, Invocation):
            # The catalogue types it "any" (a float, a schedule or a callable); Keras refuses anything else.
            self.error("bad-argument-type", f"expected a number or a schedule such as ExponentialDecay(...) for 'learning_rate'; "
                       f"received {describe_value(value)}", span, hint="for example learning_rate=0.001")
            return FAILED
        if isinstance(value, Invocation):
            if type_name in ("any", "number", "float", "list", "dict"):
                for guess in _GUESS_KINDS:
                    if registry(guess).resolve(value.name) is not None:
                        r = self.call(guess, value)
                        return FAILED if r is None else r
                self.error("unknown-name", f"expected a Keras object such as a schedule, initializer or layer; received '{value.name}'",
                           value.node.name_span, hint=hint_for(value.name, [n for k in _GUESS_KINDS for n in registry(k).names()]))
                return FAILED
            self.error("bad-argument-type",
                       f"expected {describe_type(type_name, nullable)} for '{pname}'; received {describe_value(value)}", span)
            return FAILED
        if isinstance(value, list) and type_name in ("any", "list"):
            return [self.value(v, "any", True, None, pname) for v in value]
        if type_name == "int" and pname in _ONE_TUPLE_PARAMS and isinstance(value, (tuple, list)) and len(value) == 1 \
                and isinstance(value[0], int) and not isinstance(value[0], bool):
            # MaxPooling1D(pool_size=(3,)): Keras takes (n,) wherever it takes n, and its configs write (n,)
            return tuple(value)
        if type_name in ("int", "float", "number") and isinstance(value, Symbol):
            self.error("bad-argument-type",
                       f"expected {describe_type(type_name, nullable)} for '{pname}'; received {describe_value(value)}", span,
                       hint=type_hint(value, type_name, self.ctx.variables))
            return FAILED
        if type_name == "int" and is_number(value) and not isinstance(value, int):
            self.error("bad-argument-type", f"expected an integer for '{pname}'; received {describe_value(value)}", span)
            return FAILED
        if type_name in ("bool",) and not isinstance(value, bool):
            self.error("bad-argument-type", f"expected true or false for '{pname}'; received {describe_value(value)}", span,
                       hint=type_hint(value, type_name, self.ctx.variables))
            return FAILED
        if type_name in ("str",) and not isinstance(value, str):
            self.error("bad-argument-type", f"expected a string or name for '{pname}'; received {describe_value(value)}", span)
            return FAILED
        if (type_name in ("shape", "tuple", "list", "dict", "float", "number", "int", "positive_int", "str")
                and not fits(value, type_name, nullable)):
            self.error("bad-argument-type",
                       f"expected {describe_type(type_name, nullable)} for '{pname}'; received {describe_value(value)}", span)
            return FAILED
        return value

    def named(self, kind: str, value, node, pname: str):
        span = _node_span(node)
        if isinstance(value, Invocation) and kind == "activations" and registry("layers").resolve(value.name) is not None:
            # Dense(..., activation=LeakyReLU(0.2)): Keras takes a layer object as the activation;
            # an activation function is never called with arguments of its own
            r = self.call("layers", value)
            return FAILED if r is None else r
        if isinstance(value, Invocation):
            r = self.call(kind, value)
            return FAILED if r is None else r
        if isinstance(value, str):
            spec = self.lookup(kind, str(value), span)
            if spec is None:
                return FAILED
            if kind in ("layers", "callbacks", "schedules"):
                self.error("bad-argument-type", f"expected a call such as {spec.name}(...) for '{pname}'; received the name '{value}'",
                           span,
                           hint=f"write {spec.name}(...) with its arguments")
                return FAILED
            return ResolvedName(kind, spec.name, spec, str(value))
        if isinstance(value, list) and kind in ("metrics", "callbacks", "losses"):
            items = node.items if isinstance(node, (ast.List, ast.Tuple)) else [None] * len(value)
            out = [self.named(kind, v, n, pname) for v, n in zip(value, items)]
            return FAILED if any(v is FAILED for v in out) else out
        if isinstance(value, dict) and kind in ("losses", "metrics"):
            nodes = {}
            if isinstance(node, ast.Dict):
                nodes = {i: p.value for i, p in enumerate(node.items)}
            out = {k: self.named(kind, v, nodes.get(i), pname) for i, (k, v) in enumerate(value.items())}
            return FAILED if any(v is FAILED for v in out.values()) else out
        self.error("bad-argument-type", f"expected {_ARTICLE.get(kind, kind)} name or call for '{pname}'; received {describe_value(value)}",
                   span)
        return FAILED


def _item_nodes(node, count: int) -> list:
    return list(node.items) if isinstance(node, (ast.List, ast.Tuple)) else [None] * count


@functools.cache
def sequential_spec():
    """``keras.Sequential`` as a layer: a group of layers (not in ``keras.layers``, so not in the catalogue)."""
    return LayerSpec(
        name="Sequential",
        doc="A group of layers used as one layer (keras.Sequential): Sequential(RandomFlip(horizontal), RandomRotation(0.1)).",
        impl="keras:Sequential",
        params=(ParamSpec("layers", "list", None, "The layers, in order.", True),
                ParamSpec("trainable", "bool", True, "Whether the group's weights are updated by training."),
                ParamSpec("name", "str", None, "The group's name.", True)),
        var_positional=True,
        infer_shape=_sequential_shape,
        count_params=_sequential_params,
    )


def _sequential_shapes(args, shape):
    """(layer, input shape, output shape) of each layer of a Sequential group, stopping at an unknown shape."""
    from .shapes import ShapeError, format_shape, infer_shape

    out = []
    layers = list(args.get("layers") or ())
    if layers and isinstance(layers[0], CallValue) and layers[0].name in ("Input", "InputLayer"):
        # Sequential(Input(shape=...), ...): the group's own input, which must fit what it receives
        first = layers.pop(0)
        own = infer_shape(first.name, first.args, None)
        if shape is None:
            shape = own
        elif own is not None and not _compatible(own, shape):
            raise ShapeError(f"inside Sequential, its Input expects {format_shape(own)}; received {format_shape(shape)} "
                             "from the layer before it")
    for inner in layers:
        if not isinstance(inner, CallValue) or shape is None:
            return out, None
        try:
            after = infer_shape(inner.name, inner.args, shape)
        except ShapeError as exc:
            raise ShapeError(f"inside Sequential, at {inner.name}: {exc}") from None
        out.append((inner, shape, after))
        shape = after
    return out, shape


def _compatible(declared: tuple, received: tuple) -> bool:
    """Whether two shapes (batch axis first) agree wherever both are known."""
    return len(declared) == len(received) and all(a is None or b is None or a == b for a, b in zip(declared[1:], received[1:]))


def sequential_input(call: ResolvedCall):
    """The ``Input`` a ``Sequential(...)`` group starts with, or None."""
    if call.spec is not sequential_spec():
        return None
    layers = call.args.get("layers") or ()
    first = layers[0] if layers else None
    if isinstance(first, ResolvedCall) and first.spec.name in ("Input", "InputLayer"):
        return first
    return None


def _sequential_shape(args, shape):
    return _sequential_shapes(args, shape)[1]


def _sequential_params(args, shape, output_shape):
    from .shapes import count_params

    parts, out = _sequential_shapes(args, shape)
    if out is None:
        return None
    total = 0
    for inner, before, after in parts:
        n = count_params(inner.name, inner.args, before, after)
        if n is None:
            return None
        total += n
    return total


def _keyword_only(spec, p) -> bool:
    # Keras's base-layer keywords (name, dtype, input_shape...) come through **kwargs: keyword-only.
    return any(p is bp for bp in LAYER_BASE_PARAMS)


def _shape_value(v):
    """Argument values as the shape rules want them: nested layers as CallValue."""
    if isinstance(v, ResolvedCall):
        return CallValue(v.spec.name, {k: _shape_value(x) for k, x in v.args.items()})
    if isinstance(v, ResolvedName):
        return Symbol(v.name)
    if isinstance(v, list):
        return [_shape_value(x) for x in v]
    if isinstance(v, tuple):
        return tuple(_shape_value(x) for x in v)
    return v


# ---------------------------------------------------------------- passes


# Keras's merge layers: each combines several inputs, which a Sequential model never has.
MERGE_LAYERS = frozenset({"Add", "Average", "Concatenate", "Dot", "Maximum", "Minimum", "Multiply", "Subtract"})


def resolve_layers(ctx: Context) -> None:
    """Each layer names a registered layer; its arguments bind and fit the layer's parameters."""
    blocks = list(ctx.blocks)
    for model in ctx.models.values():
        r = _Resolver(ctx)
        for layer in model.layers:
            inv = Invocation(layer.call.name, layer.args, layer.kwargs, layer.call)
            call = r.call("layers", inv, extra_names=blocks)
            if call is not None and _merge_layer(ctx, call, layer.call):
                call = None
            if call is None:
                if layer.via:
                    ctx.diagnostics[-1] = _with_via(ctx.diagnostics[-1], layer)
                continue
            model.resolved.append(ResolvedLayer(layer, call))


def _merge_layer(ctx: Context, call: ResolvedCall, node) -> bool:
    """A merge layer (or a Sequential group holding one) in a model: reported, since each layer of a
    Sequential model takes the one output of the layer before it."""
    inner = [call]
    while inner:
        c = inner.pop()
        if c.spec.name in MERGE_LAYERS:
            span = c.node.span if c.node is not None else node.span
            ctx.error("merge-layer", f"expected layers that take one input in a Sequential model; received {c.spec.name}, "
                      "which combines several inputs", span,
                      hint="each layer of a model takes the output of the layer before it; "
                           "combining branches needs Keras's functional API")
            return True
        if c.spec is sequential_spec():
            inner.extend(x for x in c.args.get("layers", ()) if isinstance(x, ResolvedCall))
    return False


def _with_via(diag, layer: ExpandedLayer):
    notes = diag.notes + tuple(Note(f"from the use of block '{c.name}' here", c.name_span) for c in layer.via)
    return replace(diag, notes=notes)


def resolve_compile(ctx: Context) -> None:
    """``loss``, ``optimizer``, ``metrics`` and the other compile arguments of each model, and its preprocessing."""
    for model in ctx.models.values():
        r = _Resolver(ctx)
        for name, (value, prop) in model.properties.items():
            if value is FAILED:
                continue
            if name == MODEL_NAME:
                model.keras_name = _keras_name(r, value, prop)
                continue
            if name in MODEL_OPTIONS:
                preprocessor = _preprocessor(r, name, value, prop)
                if preprocessor is not None:
                    model.options = replace(model.options, **{name: preprocessor})
                continue
            if name not in COMPILE_ARGS:
                hint = hint_for(name, list(COMPILE_ARGS) + list(MODEL_OPTIONS) + [MODEL_NAME])
                if registry("layers").resolve(name) is not None and isinstance(prop.value, (ast.Tuple, ast.Number, ast.Name)):
                    hint = f"a call has no space before its '(': write {registry('layers').resolve(name)}(...)"
                r.error("unknown-argument", f"expected a compile argument ({', '.join(COMPILE_ARGS)}) or {', '.join(MODEL_OPTIONS)}; "
                        f"received '{name}'",
                        prop.name_span, hint=hint)
                continue
            converted = r.value(value, COMPILE_ARGS[name], True, prop.value, name)
            if converted is FAILED:
                continue
            if name in ("metrics", "weighted_metrics") and not isinstance(converted, (list, dict)):
                converted = [converted]
            model.compile[name] = converted


def _keras_name(r: _Resolver, value, prop: ast.Property) -> str | None:
    """``name "..."``: the name Keras gives the model (any text, where a model name is an identifier)."""
    if not isinstance(value, str):
        r.error("bad-argument-type", f"expected a string for the model's name; received {describe_value(value)}", prop.value.span,
                hint='for example name "2024-prices"')
        return None
    if not str(value) or "/" in str(value):
        r.error("bad-argument-type", f"expected a model name Keras accepts (not empty, without '/'); received {describe_value(value)}",
                prop.value.span)
        return None
    return str(value)


def _preprocessor(r: _Resolver, name: str, value, prop: ast.Property) -> str | None:
    """``scale_features`` / ``scale_target``: the registered preprocessor it names, or ``"none"``;
    None when it names neither (reported)."""
    if value is None or (isinstance(value, str) and str(value) == "none"):
        return "none"
    pre = registry("preprocessors")
    resolved = pre.resolve(str(value)) if isinstance(value, str) else None
    if resolved is None:
        r.error("unknown-name" if isinstance(value, str) else "bad-argument-type",
                f"expected a preprocessor ({', '.join(pre.names())} or none) for '{name}'; received {describe_value(value)}",
                prop.value.span, hint=hint_for(str(value), pre.names()) if isinstance(value, str) else None)
        return None
    try:
        pre.get(resolved)
    except NndslError as exc:
        r.error("plugin-error", str(exc), prop.value.span)
        return None
    return resolved


def infer_shapes(ctx: Context) -> None:
    """Output shapes layer by layer, without TensorFlow; a mismatch is reported at the offending layer."""
    from .shapes import ShapeError, format_shape

    limit = ctx.max_params
    for model in ctx.models.values():
        if not model.resolved or len(model.resolved) != len(model.layers):
            continue
        shape = None
        prev: ResolvedLayer | None = None
        total = 0
        unknown = False
        for i, rl in enumerate(model.resolved):
            args = {k: _shape_value(v) for k, v in rl.call.args.items() if k != "*args"}
            spec = rl.call.spec
            if i == 0 and spec.name not in ("Input", "InputLayer"):
                first = _input_from_first_layer(spec, args)
                if first is None and model.name in ctx.input_widths and fed_by_table(ctx, model.name):
                    first = (None, ctx.input_widths[model.name])
                if first is None and fed_by_table(ctx, model.name):
                    # the width is the encoded width of the table it trains on, known once read
                    # (nndsl check --data computes it)
                    unknown = True
                    for later in model.resolved:
                        later.input_shape = later.output_shape = None
                    break
                if first is None:
                    ctx.error("missing-input-shape", f"expected the model's input shape; received a first layer ({spec.name}) without one",
                              rl.layer.call.name_span,
                              hint="start the model with Input(shape=(N,)), e.g. Input(shape=(9,)) for nine feature columns")
                    break
                shape = first
            elif i > 0 and spec.name in ("Input", "InputLayer"):
                ctx.error("misplaced-input", "expected Input only as the first layer; received it later", rl.layer.call.name_span)
                break
            rl.input_shape = shape
            if spec.infer_shape is None or (shape is None and spec.name not in ("Input", "InputLayer")):
                unknown = True
                rl.output_shape = None
                shape = None
                prev = rl
                continue
            try:
                out = spec.infer_shape(args, shape)
            except ShapeError as exc:
                notes = ()
                if prev is not None:
                    notes = (Note(f"{format_shape(shape)} comes from {prev.name} at line {prev.layer.call.span.line}",
                                  prev.layer.call.name_span),)
                ctx.error("shape-mismatch", str(exc), rl.layer.call.span, notes=notes)
                break
            except Exception as exc:  # a plugin's shape rule failing is reported, not fatal
                ctx.warn("shape-rule-failed", f"the shape rule of {spec.name} failed ({type(exc).__name__}: {exc}); "
                         "the shape is checked when the model is built", rl.layer.call.name_span)
                out = None
            rl.output_shape = out
            if out is not None and spec.count_params is not None:
                try:
                    rl.params = spec.count_params(args, shape, out)
                except Exception:
                    rl.params = None
            if rl.params is not None:
                total += rl.params
            shape = out
            prev = rl
        model.shapes = [(rl.name, rl.output_shape, rl.params) for rl in model.resolved]
        if not unknown and total > limit:
            ctx.error("parameter-budget", f"expected at most {limit:,} parameters; received {total:,} in model '{model.name}'",
                      model.decl.name_span, hint="raise the limit with --max-params if this is intended")


TABLE_SOURCES = ("csv", "parquet", "json")


def table_source(ctx: Context, ref) -> CheckedData | None:
    """The table source (csv, parquet, json) a data name reads, through ``split(...)``; else None."""
    seen = set()
    while ref is not None and str(ref) in ctx.data and str(ref) not in seen:
        seen.add(str(ref))
        cd = ctx.data[str(ref)]
        if cd.spec.name in TABLE_SOURCES:
            return cd
        ref = cd.args.get("source") if cd.spec.name == "split" else None
    return None


def fed_by_table(ctx: Context | CheckedProgram, model: str) -> bool:
    """Whether a step trains (or tunes) ``model`` on a table source: its input width comes from the table.

    Read from the program's step statements, not from the checked steps: a check of one model
    alone (the language server's) runs before the steps are checked.
    """
    return model in table_fed_models(ctx)


def table_fed_models(ctx: Context | CheckedProgram) -> frozenset[str]:
    """The models some ``train`` or ``tune`` statement trains on a declared table source (of a
    check in progress, or of a checked program)."""
    out = set()
    for stmt in ctx.program.statements:
        if isinstance(stmt, ast.Step) and stmt.verb in ("train", "tune") and stmt.target is not None \
                and isinstance(stmt.on, ast.Name) and table_source(ctx, stmt.on.id) is not None:
            out.add(stmt.target.id)
    return frozenset(out) | getattr(ctx, "table_fed", frozenset())


def keras2_input(first: ResolvedLayer) -> tuple[tuple, Any, ResolvedLayer]:
    """A first layer that declares its input the Keras 2 way (``input_shape=``, ``input_dim=``):
    the input's shape and batch size, and the layer without those arguments. Keras 3 wants an
    ``Input`` in front of the layer instead (the compiler builds one, the exporter writes one)."""
    args = dict(first.call.args)
    shape = args.pop("input_shape", None)
    # a layer's own input_dim (Embedding's vocabulary size) stays with the layer
    dim = args.pop("input_dim", None) if _base_param(first.call.spec, "input_dim") else None
    batch = args.pop("batch_size", None)
    if shape is None and dim is not None:
        shape = (dim,)
    return tuple(shape), batch, replace(first, call=replace(first.call, args=args))


def _base_param(spec, name: str) -> bool:
    """Whether ``name`` is one of the base-layer keywords of ``spec`` rather than its own parameter."""
    p = spec.param(name) if hasattr(spec, "param") else None
    return p is not None and _keyword_only(spec, p)


def has_input_arguments(first: ResolvedLayer) -> bool:
    """Whether a first layer declares the model's input the Keras 2 way (input_shape=, input_dim=, batch_input_shape=)."""
    args = first.call.args
    return (args.get("input_shape") is not None or args.get("batch_input_shape") is not None
            or (args.get("input_dim") is not None and _base_param(first.call.spec, "input_dim")))


def _input_from_first_layer(spec, args) -> tuple | None:
    if spec is sequential_spec():
        layers = args.get("layers") or ()
        if layers and isinstance(layers[0], CallValue) and layers[0].name in ("Input", "InputLayer"):
            from .shapes import infer_shape

            return infer_shape(layers[0].name, layers[0].args, None)
        return None
    if "input_shape" in args and args["input_shape"] is not None:
        return (None, *tuple(args["input_shape"]))
    if args.get("input_dim") is not None and _base_param(spec, "input_dim"):
        return (None, args["input_dim"])
    if "batch_input_shape" in args and args["batch_input_shape"] is not None:
        return tuple(args["batch_input_shape"])
    return None


def check_step_objects(ctx: Context) -> None:
    """Callbacks in ``train`` steps resolve in the callbacks registry; trained models have a loss."""
    for step in ctx.steps:
        r = _Resolver(ctx)
        cbs = step.kwargs.get("callbacks")
        if cbs is not None:
            items = cbs if isinstance(cbs, list) else [cbs]
            resolved = []
            for inv in items:
                rc = r.call("callbacks", inv)
                if rc is not None:
                    resolved.append(rc)
            step.kwargs["callbacks"] = resolved
        if step.spec.trains and step.target in ctx.models:
            model: CheckedModel = ctx.models[step.target]
            if "loss" not in model.properties:
                ctx.error("missing-loss", f"expected a loss in model '{step.target}' to train it; received none",
                          step.node.verb_span, notes=[Note(f"model '{step.target}' is defined here", model.decl.name_span)],
                          hint="add a line such as 'loss mean_squared_error' to the model")


KERAS_PASSES = (resolve_layers, resolve_compile, infer_shapes, check_step_objects, check_object_files)
"""The Keras passes, in order; :data:`nndsl.semantics.check.PASSES` runs them after the language passes."""

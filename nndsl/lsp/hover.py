"""Hover: what the name under the cursor is.

A Keras (or plugin) name shows its signature and the first paragraph of its documentation; a
keyword its parameter's type, default and documentation; a variable its value; a data source
its call; a model its layers' output shape and parameter count; a layer in a model its static
output shape and parameter count; a step verb its documentation and options.
"""

from __future__ import annotations

from .. import ast
from ..semantics.context import FAILED
from ..semantics.evaluate import render_value
from ..semantics.shapes import format_shape
from ..vocabulary import COMPILE_PROPERTIES
from .analysis import Analysis, span_contains
from .lookup import (
    describe_param,
    documentation,
    kind_at,
    param_of,
    signature,
    singular,
    spec_at,
    spec_of,
)


def path_at(program: ast.Program, offset: int) -> list:
    """The nodes containing ``offset``, outermost (a statement) first; empty between statements."""
    path: list = []
    nodes = program.statements
    while True:
        found = None
        for n in nodes:
            if span_contains(n.span, offset):
                found = n
                break
        if found is None:
            return path
        path.append(found)
        # ast.children leaves out fields named `source` (meant for Program's): a data source's call is one
        nodes = [found.source] if isinstance(found, ast.DataDecl) else ast.children(found)


def hover(analysis: Analysis, offset: int) -> tuple[str, object] | None:
    """Markdown describing what is at ``offset``, and the span it describes; None for nothing."""
    if analysis.program is None:
        return None
    occ = analysis.symbols.at(offset) if analysis.symbols is not None else None
    if occ is not None and not (occ.kind == "block" and not occ.definition):  # a block's use: shown as a layer
        text = _declared(analysis, occ)
        if text:
            return text, occ.span
    path = path_at(analysis.program, offset)
    if not path:
        return None
    node = path[-1]
    if isinstance(node, ast.Step) and span_contains(node.verb_span, offset):
        spec = spec_of("steps", node.verb)
        if spec is not None:
            return _step(spec), node.verb_span
    if isinstance(node, (ast.Property, ast.Setting)) and span_contains(node.name_span, offset):
        return _word(node), node.name_span
    if isinstance(node, ast.Keyword) and span_contains(node.name_span, offset):
        p = param_of(path[:-1], node.name)
        if p is not None:
            return _code(describe_param(p)) + (f"\n\n{p.doc}" if p.doc else ""), node.name_span
        return None
    if isinstance(node, ast.Call) and span_contains(node.name_span, offset):
        return _call(analysis, path), node.name_span
    if isinstance(node, ast.Name):
        kind = kind_at(path)
        if kind is not None and kind != "data":
            spec = spec_of(kind, node.id)
            if spec is not None:
                return _spec(kind, spec), node.span
    return None


def _code(text: str) -> str:
    return f"```nn\n{text}\n```"


def _spec(kind: str | None, spec) -> str:
    call = bool(getattr(spec, "params", ())) or getattr(spec, "kind", "class") == "class"
    parts = [_code(signature(spec, call=call))]
    doc = documentation(kind, spec)
    if doc:
        parts.append(doc)
    if kind:
        parts.append(f"*{singular(kind)}*")
    return "\n\n".join(parts)


def _step(spec) -> str:
    parts = [_code(spec.name), spec.doc]
    if spec.params:
        parts.append("Options:\n" + "\n".join(f"- `{describe_param(p)}`" + (f": {p.doc}" if p.doc else "") for p in spec.params))
    return "\n\n".join(p for p in parts if p)


def _word(node) -> str:
    if isinstance(node, ast.Property):
        what = "compile argument of keras.Model.compile" if node.name in COMPILE_PROPERTIES else "model property"
        return _code(f"{node.name} ...") + f"\n\n{what}"
    return _code(f"{node.name} ...") + "\n\nfile-wide setting"


def _call(analysis: Analysis, path: list) -> str:
    node = path[-1]
    block = analysis.names.get(node.name)
    if isinstance(block, ast.BlockDecl):
        text = _block(block)
    else:
        kind = kind_at(path)
        spec = spec_at(path)
        if spec is None:
            return _code(f"{node.name}(...)") + "\n\nnot a registered name"
        text = _spec(kind, spec)
    shape = _layer_shape(analysis, node)
    return f"{text}\n\n---\n\n{shape}" if shape else text


def _layer_shape(analysis: Analysis, call: ast.Call) -> str | None:
    """The output shape and parameter count of the layer (or block use) ``call`` in a model."""
    ctx = analysis.context
    if ctx is None:
        return None
    for model in ctx.models.values():
        # a model kept from an earlier version has its nodes where they stood then
        shift = analysis.model_shift.get(model.name, 0)
        own = [rl for rl in model.resolved if (rl.layer.via[0] if rl.layer.via else rl.layer.call).span.start + shift == call.span.start]
        if not own:
            continue
        out = own[-1].output_shape
        params = [rl.params for rl in own]
        count = sum(params) if all(p is not None for p in params) else None
        lines = [f"output shape `{format_shape(out)}`" if out is not None else "output shape unknown before Keras builds it"]
        lines.append(f"{count:,} parameters" if count is not None else "parameter count unknown")
        if len(own) > 1:
            lines.append(f"({len(own)} layers)")
        return f"in model `{model.name}`: " + ", ".join(lines)
    return None


def _block(decl: ast.BlockDecl) -> str:
    from ..formatter import format_expr

    params = ", ".join(p.name if p.default is None else f"{p.name}={format_expr(p.default)}" for p in decl.params)
    return _code(f"block {decl.name}({params})") + f"\n\n{_count(decl.body)} layer{'s' if _count(decl.body) != 1 else ''} in its body"


def _count(body) -> int:
    return sum(1 for item in body if isinstance(item, ast.Layer)) + sum(_count(item.body) for item in body if isinstance(item, ast.Repeat))


def _declared(analysis: Analysis, occ) -> str | None:
    ctx = analysis.context
    decl = analysis.symbols.declared.get(occ.name, (None, None))[1] if occ.scope is None else None
    if occ.kind == "parameter":
        block = analysis.names.get(occ.scope)
        p = next((p for p in block.params if p.name == occ.name), None) if isinstance(block, ast.BlockDecl) else None
        if p is None:
            return None
        from ..formatter import format_expr

        default = f" = {format_expr(p.default)}" if p.default is not None else ""
        return _code(f"{occ.name}{default}") + f"\n\nparameter of block `{occ.scope}`"
    if occ.kind == "variable" and isinstance(decl, ast.Let):
        value = ctx.variables.get(occ.name, FAILED) if ctx is not None else FAILED
        shown = render_value(value) if value is not FAILED else "(its value has an error)"
        return _code(f"let {occ.name} = {shown}")
    if occ.kind == "data" and isinstance(decl, ast.DataDecl):
        from ..formatter import format_expr

        text = _code(f"data {occ.name} = {format_expr(decl.source)}")
        spec = spec_of("data_sources", decl.source.name)
        return text + (f"\n\n{spec.doc}" if spec is not None and spec.doc else "")
    if occ.kind == "model":
        return _model(analysis, occ.name, decl)
    if occ.kind == "block" and isinstance(decl, ast.BlockDecl):
        return _block(decl)
    return None


def _model(analysis: Analysis, name: str, decl) -> str:
    ctx = analysis.context
    model = ctx.models.get(name) if ctx is not None else None
    if model is None:
        if isinstance(decl, ast.Step):
            return _code(f"model {name}") + f"\n\nloaded by `{decl.verb}`"
        return _code(f"model {name}")
    lines = [_code(f"model {name}"), f"{len(model.layers)} layer{'s' if len(model.layers) != 1 else ''}"]
    if model.resolved and len(model.resolved) == len(model.layers) and model.resolved[-1].output_shape is not None:
        lines[-1] += f", output shape `{format_shape(model.resolved[-1].output_shape)}`"
        params = [rl.params for rl in model.resolved]
        if all(p is not None for p in params):
            lines[-1] += f", {sum(params):,} parameters"
    return "\n\n".join(lines)
